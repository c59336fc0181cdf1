"""Izipay's rules in plain Python: session tokens, installments by BIN, deposits (docs/providers/izipay.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from emulator.core import tokens
from emulator.core.tenants import Tenant
from emulator.providers.izipay import errors

TOKEN_LIFETIME = 900  # (code, recorded) docs/providers/izipay.md#token-generate: exp = iat + 900
USER_ORG = "1snn5n9w"  # (code, recorded) docs/providers/izipay.md#token-generate: the same in DEV, QA and SANDBOX


@dataclass(frozen=True)
class BinInfo:
    issuer: str
    installments: int  # highest installment count; the list runs 0..installments, not zero-padded
    deferred: str

    @property
    def installment_list(self) -> list[str]:
        """`["0", "1", …]` as recorded: strings, not zero-padded."""
        return list(_COUNTS[: self.installments + 1])


_COUNTS = tuple(str(n) for n in range(100))


# (code, recorded) docs/providers/izipay.md#installments-search: sample BIN data. SANDBOX values where both were seen.
BINS: dict[str, BinInfo] = {
    "545545": BinInfo("SCOTIABANK ", 35, "0"),  # trailing space as recorded
    "400917": BinInfo("SCOTIABANK VISA", 36, "0"),
    "377893": BinInfo("BCP", 36, "3"),
    "553650": BinInfo("BBVA MC Platinum", 36, "0"),
    "511578": BinInfo("BBVA MC Platinum", 36, "0"),
}


@dataclass
class Deposit:
    order_number: str
    amount: str
    currency: str
    unique_id: str
    authorization_code: str
    batch_number: str
    deposited_at: float


@dataclass
class IzipayState:
    """One merchant's session-token bookkeeping and deposits.

    A token is self-contained (its signed claims carry TokenId, iat and exp), so the state keeps no
    row per token: a long run does not grow it. It keeps what the claims cannot say: since when this
    state issues tokens (older ones, e.g. from before a reset, are unknown here), which tokens were
    used in single-use mode, and scenario-made expiry and revocation cut-offs.
    """

    tenant: Tenant
    issued: int = 0
    valid_from: int | None = None
    used: set[str] = field(default_factory=set)
    expired_before: int = 0  # tokens issued before this second are expired (scenario expire_tokens)
    revoked_before: int = 0  # tokens issued before this second are refused (scenario revoke_tokens)
    deposits: dict[str, Deposit] = field(default_factory=dict)
    next_batch: int = 1243

    def _take_batch(self) -> int:
        """The next deposit batch number."""
        number, self.next_batch = self.next_batch, self.next_batch + 1
        return number

    @property
    def signing_key(self) -> str:
        return str(self.tenant.get("token_secret") or self.tenant["publicKey"])

    def issue_token(
        self, body: dict[str, Any], transaction_id: str, token_id: str, *, now: float, facilitator: str
    ) -> str:
        """Sign a session token with the recorded claims (note the capitalised OrderNumber/Amount/TokenId)."""
        issued = int(now)
        claims = {
            "merchantCode": body["merchantCode"],
            "facilitatorCode": facilitator,
            "transactionId": transaction_id,
            "OrderNumber": body["orderNumber"],
            "Amount": body["amount"],
            "TokenId": token_id,
            "nbf": issued,
            "exp": issued + TOKEN_LIFETIME,
            "iat": issued,
        }
        if self.valid_from is None:
            self.valid_from = issued
        self.issued += 1
        return tokens.encode(claims, self.signing_key)

    def check_token(self, claims: dict[str, Any], *, now: float, single_use: bool) -> str:
        """Accept a verified token's claims for one call (known here, unexpired, unrevoked, unused if
        single-use); return its TokenId. The use is counted by `consume` once the call has succeeded."""
        issued_at = claims.get("iat")
        expires_at = claims.get("exp")
        token_id = str(claims.get("TokenId"))
        if not isinstance(issued_at, int) or not isinstance(expires_at, (int, float)):
            raise errors.TokenRejected()
        if self.valid_from is None or issued_at < self.valid_from or issued_at < self.revoked_before:
            raise errors.TokenRejected()
        if now >= expires_at or issued_at < self.expired_before:
            raise errors.TokenRejected(errors.MSG_TOKEN_EXPIRED)
        if single_use and token_id in self.used:
            # (code, recorded) docs/providers/izipay.md#token-lifetime: SANDBOX answered TN on a second use
            raise errors.TokenMissing()
        return token_id

    def consume(self, token_id: str, *, single_use: bool) -> None:
        """Count a successful use (only single-use mode needs to remember it)."""
        if single_use:
            self.used.add(token_id)

    def installments(self, bin_number: str, bins: dict[str, BinInfo]) -> BinInfo:
        info = bins.get(bin_number)
        if info is None:
            raise errors.BinNotConfigured()
        return info

    def deposit(self, order: dict[str, Any], *, now: float) -> Deposit:
        """Capture an authorised order once; the second deposit of an order is refused."""
        number = str(order["orderNumber"])
        if number in self.deposits:
            raise errors.AlreadyDeposited()
        record = Deposit(
            order_number=number,
            amount=str(order["amount"]),
            currency=str(order["currency"]),
            unique_id=str(order["uniqueId"]),
            authorization_code=str(order["authorizationCode"]),
            batch_number=str(self._take_batch()),
            deposited_at=now,
        )
        self.deposits[number] = record
        return record

    # -- scenario actions (set_state) ---------------------------------------------------------

    def scenario_expire_tokens(self, *, now: float) -> None:
        """Make every token issued so far expire now (a token that expires mid-flow)."""
        self.expired_before = int(now) + 1

    def scenario_revoke_tokens(self, *, now: float) -> None:
        """Refuse every token issued so far (the platform forgets its sessions)."""
        self.revoked_before = int(now) + 1


def read_claims(token: str) -> dict[str, Any]:
    """Decode a bearer token's claims without verifying it (to find the merchant whose key verifies it)."""
    try:
        claims = tokens.claims(token)
    except tokens.TokenError as exc:
        raise errors.TokenRejected() from exc
    if not isinstance(claims, dict) or not claims.get("merchantCode"):
        raise errors.TokenRejected()
    return claims


def verify_claims(token: str, key: str, claims: dict[str, Any] | None = None) -> dict[str, Any]:
    """Verify the signature with the merchant's key; expiry is checked on the virtual clock instead."""
    try:
        if claims is None:
            return tokens.decode(token, key)
        tokens.verify(token, key)
        return claims
    except tokens.TokenError as exc:
        raise errors.TokenRejected() from exc
