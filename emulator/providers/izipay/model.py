"""Izipay's rules in plain Python: session tokens, installments by BIN, deposits (provider-spec §2.2–§2.6)."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass, field
from typing import Any

from emulator.core import tokens
from emulator.core.tenants import Tenant
from emulator.providers.izipay import errors

TOKEN_LIFETIME = 900  # (code, recorded) §2.2: exp = iat + 900
USER_ORG = "1snn5n9w"  # (code, recorded) §2.2: the same in DEV, QA and SANDBOX


@dataclass(frozen=True)
class BinInfo:
    issuer: str
    installments: int  # highest installment count; the list runs 0..installments, not zero-padded
    deferred: str


# (code, recorded) §2.3: sample BIN data. SANDBOX values where both were seen.
BINS: dict[str, BinInfo] = {
    "545545": BinInfo("SCOTIABANK ", 35, "0"),  # trailing space as recorded
    "400917": BinInfo("SCOTIABANK VISA", 36, "0"),
    "377893": BinInfo("BCP", 36, "3"),
    "553650": BinInfo("BBVA MC Platinum", 36, "0"),
    "511578": BinInfo("BBVA MC Platinum", 36, "0"),
}


@dataclass(slots=True)  # one per Token/Generate call: slots halve the state's memory
class IssuedToken:
    token_id: str
    transaction_id: str
    order_number: str
    amount: str
    issued_at: int
    expires_at: int
    uses: int = 0
    revoked: bool = False


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
    """One merchant's tokens and deposits."""

    tenant: Tenant
    tokens: dict[str, IssuedToken] = field(default_factory=dict)
    deposits: dict[str, Deposit] = field(default_factory=dict)
    batches: itertools.count = field(default_factory=lambda: itertools.count(1243))

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
        self.tokens[token_id] = IssuedToken(
            token_id, transaction_id, body["orderNumber"], body["amount"], issued, issued + TOKEN_LIFETIME
        )
        return tokens.encode(claims, self.signing_key)

    def use_token(self, claims: dict[str, Any], *, now: float, single_use: bool, consume: bool = True) -> IssuedToken:
        """Accept a verified token's claims for one call: known, unexpired, unrevoked, unused if single-use.

        With `consume=False` the caller counts the use itself once the whole call has succeeded.
        """
        issued = self.tokens.get(str(claims.get("TokenId")))
        if issued is None or issued.revoked:
            raise errors.TokenRejected()
        if now >= issued.expires_at:
            raise errors.TokenRejected(errors.MSG_TOKEN_EXPIRED)
        if single_use and issued.uses:
            raise errors.TokenMissing()  # (code, recorded) §2.6: SANDBOX answered TN on a second use
        if consume:
            issued.uses += 1
        return issued

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
            batch_number=str(next(self.batches)),
            deposited_at=now,
        )
        self.deposits[number] = record
        return record

    # -- scenario actions (set_state) ---------------------------------------------------------

    def scenario_expire_tokens(self, *, now: float) -> None:
        """Make every issued token expire now (a token that expires mid-flow)."""
        for token in self.tokens.values():
            token.expires_at = min(token.expires_at, int(now))

    def scenario_revoke_tokens(self, *, now: float) -> None:
        """Revoke every issued token (the platform forgets its sessions)."""
        for token in self.tokens.values():
            token.revoked = True

    def to_json(self) -> dict[str, Any]:
        return {
            "merchantCode": self.tenant.id,
            "tokens": [asdict(t) for t in self.tokens.values()],
            "deposits": [asdict(d) for d in self.deposits.values()],
        }


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
