"""Izipay's rules in plain Python: session tokens, installments by BIN, deposits, card tokens,
authorizations, cancels, refunds and the order search (docs/providers/izipay.md)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from emulator.core import tokens
from emulator.core.cards import luhn_valid, mask_pan
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


# Order states (inferred) docs/providers/izipay.md#authorize: what Search reports as `state` / `stateMessage`.
APPROVED, DECLINED, CANCELLED = "approved", "declined", "cancelled"
AUTHORIZE, PREAUTHORIZE = "autorize", "preautorize"  # (doc) order.processType, as Izipay spells them


@dataclass
class CardToken:
    """A buyer's saved card: only its masked number, brand and expiry, and a keyed fingerprint."""

    card_token: str
    buyer_id: str  # merchantBuyerId
    buyer_token: str
    fingerprint: str
    masked_pan: str
    brand: str
    expiration_month: str
    expiration_year: str
    alias: str
    created_at: float
    deleted_at: float | None = None

    @property
    def active(self) -> bool:
        return self.deleted_at is None


@dataclass
class Order:
    """One authorization (approved or declined) and what happened to it since; amounts in cents."""

    order_number: str
    amount: int
    currency: str
    process_type: str
    status: str
    code: str  # "00" or the decline code
    unique_id: str
    authorization_code: str
    reference_number: str
    brand: str
    masked_pan: str
    pay_method: str
    channel: str
    authorized_at: float
    captured: int = 0
    refunded: int = 0
    card_token: str = ""
    billing: dict[str, str] = field(default_factory=dict)


def cents(amount: str) -> int:
    """`"15.00"` -> 1500 (the contract has checked the format)."""
    whole, _, part = amount.partition(".")
    return int(whole) * 100 + int((part + "00")[:2])


def decimal_text(value: int) -> str:
    """1500 -> `"15.00"`, as Izipay writes amounts."""
    return f"{value // 100}.{value % 100:02d}"


def brand_of(pan: str) -> str:
    """Izipay's brand codes (doc: `MC`, `VS`, `AE`, `DN`) from the card number's prefix."""
    if pan.startswith(("34", "37")):
        return "AE"
    if pan.startswith(("36", "38", "30")):
        return "DN"
    if pan.startswith("4"):
        return "VS"
    return "MC"


def fingerprint(secret: str, pan: str) -> str:
    """Recognise a card again without keeping its number: keyed, as a plain hash of a PAN is reversible."""
    return hmac.new(secret.encode("ascii"), pan.encode(), hashlib.sha256).hexdigest()


def clean_pan(value: Any) -> str:
    return re.sub(r"[ -]", "", str(value or ""))


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
    refund_tokens: set[str] = field(default_factory=set)  # TokenIds issued with requestSource REFUND
    card_tokens: dict[str, CardToken] = field(default_factory=dict)
    buyer_tokens: dict[str, str] = field(default_factory=dict)  # merchantBuyerId -> buyerToken
    by_card: dict[str, str] = field(default_factory=dict)  # "<merchantBuyerId>:<fingerprint>" -> active cardToken
    orders: dict[str, Order] = field(default_factory=dict)
    next_unique_id: int = 1546800  # (code, recorded) docs/providers/izipay.md#authorize: uniqueIds 1546800, 1546802
    # The merchant's fingerprint key, kept with its state: one token per card holds across restarts and replicas.
    fingerprint_secret: str = field(default_factory=lambda: secrets.token_hex(32))

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
        if body.get("requestSource") == "REFUND":
            self.refund_tokens.add(token_id)
        return tokens.encode(claims, self.signing_key)

    def require_refund_token(self, claims: dict[str, Any]) -> None:
        """(doc) docs/providers/izipay.md#cancel-and-refund: a refund needs a session token generated for REFUND."""
        if str(claims.get("TokenId")) not in self.refund_tokens:
            raise errors.RefundTokenRequired()

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
        """Capture an authorised order once; the second deposit of an order is refused. An order this
        merchant pre-authorized here must be approved, uncancelled, and deposited for its amount at most."""
        number = str(order["orderNumber"])
        if number in self.deposits:
            raise errors.AlreadyDeposited()
        known = self.orders.get(number)
        if known is not None:
            if known.status != APPROVED or known.captured:
                raise errors.OperationNotAllowed(errors.MSG_NOT_DEPOSITABLE)
            if cents(str(order["amount"])) > known.amount:
                raise errors.OperationNotAllowed(errors.MSG_AMOUNT_EXCEEDS)
            known.captured = cents(str(order["amount"]))
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

    # -- card tokens (docs/providers/izipay.md#tokenization) -----------------------------------

    def tokenize(
        self,
        card: dict[str, Any],
        buyer_id: str,
        *,
        alias: str,
        new_token: str,
        new_buyer_token: str,
        now: float,
        duplicates: str,
    ) -> tuple[CardToken, bool]:
        """Save a buyer's card; one active token per card and buyer. Returns the token and whether it is new.

        `duplicates`: `existing` answers the card's active token again, `error` refuses the second one.
        """
        pan = clean_pan(card.get("pan"))
        if not luhn_valid(pan):
            raise errors.CardNumberInvalid()
        month, year = str(card.get("expirationMonth", "")), str(card.get("expirationYear", ""))
        if not (month.isdigit() and 1 <= int(month) <= 12 and year.isdigit() and len(year) in (2, 4)):
            raise errors.CardExpiryInvalid()
        key = f"{buyer_id}:{fingerprint(self.fingerprint_secret, pan)}"
        existing = self.card_tokens.get(self.by_card.get(key, ""))
        if existing is not None and existing.active:
            if duplicates == "error":
                raise errors.CardAlreadyTokenized()
            return existing, False
        buyer_token = self.buyer_tokens.setdefault(buyer_id, new_buyer_token)
        record = CardToken(
            card_token=new_token,
            buyer_id=buyer_id,
            buyer_token=buyer_token,
            fingerprint=key.split(":", 1)[1],
            masked_pan=mask_pan(pan),
            brand=str(card.get("brand") or brand_of(pan)),
            expiration_month=month.zfill(2),
            expiration_year=year,
            alias=alias,
            created_at=now,
        )
        self.card_tokens[new_token] = record
        self.by_card[key] = new_token
        return record, True

    def card_token(self, value: str, buyer_id: str | None = None) -> CardToken:
        """An active token of this merchant (of this buyer, when one is named)."""
        record = self.card_tokens.get(value)
        if record is None or (buyer_id and record.buyer_id != buyer_id):
            raise errors.CardTokenNotFound()
        if not record.active:
            raise errors.CardTokenDeleted()
        return record

    def buyer_cards(self, buyer_id: str) -> list[CardToken]:
        """A buyer's active tokens, oldest first; an unknown buyer has none."""
        return [t for t in self.card_tokens.values() if t.buyer_id == buyer_id and t.active]

    def delete_token(self, value: str, buyer_id: str | None, *, now: float) -> CardToken:
        """Delete an active token; it cannot be used, looked up or deleted again."""
        record = self.card_token(value, buyer_id)
        record.deleted_at = now
        self.by_card.pop(f"{record.buyer_id}:{record.fingerprint}", None)
        return record

    # -- authorizations and what follows (docs/providers/izipay.md#authorize) -------------------

    def _take_unique_id(self) -> int:
        number, self.next_unique_id = self.next_unique_id, self.next_unique_id + 1
        return number

    def authorize(
        self,
        order: dict[str, Any],
        *,
        code: str,
        masked: str,
        brand: str,
        card_token: str,
        billing: dict[str, Any],
        now: float,
    ) -> Order:
        """Record an authorization with the card's outcome `code`; an order number is used once."""
        number = str(order["orderNumber"])
        if number in self.orders:
            raise errors.DuplicateOrder()
        unique = self._take_unique_id()
        approved = code == "00"
        amount = cents(str(order["amount"]))
        process_type = str(order.get("processType") or AUTHORIZE)
        record = Order(
            order_number=number,
            amount=amount,
            currency=str(order["currency"]),
            process_type=process_type,
            status=APPROVED if approved else DECLINED,
            code=code,
            unique_id=str(unique),
            # (inferred) the recorded shapes: "S" + five digits, seven-digit reference numbers
            authorization_code=f"S{unique * 7919 % 100000:05d}" if approved else "",
            reference_number=f"{unique * 104729 % 10000000:07d}" if approved else "",
            brand=brand,
            masked_pan=masked,
            pay_method=str(order.get("payMethod") or "card").upper(),
            channel=str(order.get("channel") or "ecommerce"),
            authorized_at=now,
            captured=amount if approved and process_type != PREAUTHORIZE else 0,
            card_token=card_token,
            billing={k: str(v) for k, v in billing.items() if isinstance(v, (str, int, float))},
        )
        self.orders[number] = record
        return record

    def order(self, number: str) -> Order:
        record = self.orders.get(number)
        if record is None:
            raise errors.OrderNotFound()
        return record

    def cancel(
        self, number: str, *, unique_id: str | None, authorization_code: str | None, amount: str | None
    ) -> Order:
        """Void an approved order not refunded yet; its identifiers, where sent, must be the order's."""
        record = self.order(number)
        if (unique_id and unique_id != record.unique_id) or (
            authorization_code and authorization_code != record.authorization_code
        ):
            raise errors.OrderNotFound()
        if record.status != APPROVED or record.refunded:
            raise errors.OperationNotAllowed(errors.MSG_NOT_CANCELLABLE)
        if amount is not None and cents(amount) != record.amount:
            raise errors.OperationNotAllowed(errors.MSG_AMOUNT_MISMATCH)
        record.status = CANCELLED
        return record

    def find_for_refund(self, unique_id: str | None, number: str | None) -> Order:
        """The order a refund names by `idUnique` (the authorization's uniqueId) or by order number."""
        for record in self.orders.values():
            if unique_id and record.unique_id == unique_id:
                return record
        if number:
            return self.order(number)
        raise errors.OrderNotFound()

    def refund(self, record: Order, amount: int) -> int:
        """Give back part or all of what was captured; never more than is left. Returns the refunded total."""
        if record.status != APPROVED or not record.captured:
            raise errors.OperationNotAllowed(errors.MSG_NOT_REFUNDABLE)
        if amount <= 0 or amount > record.captured - record.refunded:
            raise errors.OperationNotAllowed(errors.MSG_AMOUNT_EXCEEDS)
        record.refunded += amount
        return record.refunded

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
