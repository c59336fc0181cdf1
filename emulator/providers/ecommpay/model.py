"""Ecommpay's rules in plain Python (docs/providers/ecommpay.md): card tokens (tokenize, card by token, revoke,
expiry) and card payments (sale and auth by card or token, 3-D Secure, capture, cancel, refund, payout, status).

A token is unique per card within a project (this state) and a customer. The state never holds a full
PAN: cards are recognised by a keyed fingerprint and shown by their masked number.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from emulator.core.cards import luhn_valid, mask_pan
from emulator.core.clock import to_datetime
from emulator.core.tenants import Tenant
from emulator.providers.ecommpay import errors

ACTIVE = "active"  # (doc) docs/providers/ecommpay.md#callbacks, #tokens token statuses
REVOKED = "revoke"
EXPIRED = "expiry"
# (doc) docs/providers/ecommpay.md#card-by-token: the published account id; ours count up from it
FIRST_ACCOUNT_ID = 2932


@dataclass
class CardToken:
    """One card token of one customer, with the masked card data `bytoken` returns."""

    token: str
    customer_id: str
    fingerprint: str
    number: str  # masked PAN, 6 + 4 digits
    card_type: str
    holder: str
    year: int
    month: int
    account_id: int
    created_at: float
    expires_at: float
    status: str = ACTIVE
    status_changed_at: float | None = None
    country: str | None = None
    phone: str | None = None
    email: str | None = None

    @property
    def expiry(self) -> str:
        """`MM/YY`, as in the published `account.additional.card.expiry` (doc,
        docs/providers/ecommpay.md#card-by-token)."""
        return f"{self.month:02d}/{self.year % 100:02d}"


def card_expires_at(year: int, month: int) -> float:
    """A card is valid through the last day of its expiry month (inferred, UTC): the first instant after it."""
    if month == 12:
        year, month = year + 1, 1
    else:
        month += 1
    return datetime(year, month, 1, tzinfo=UTC).timestamp()


def card_type(pan: str) -> str:
    """Name the card scheme from the BIN (inferred; the doc shows `visa`)."""
    if pan.startswith("4"):
        return "visa"
    if pan[:2] in {"51", "52", "53", "54", "55"} or "2221" <= pan[:4] <= "2720":
        return "mastercard"
    if "2200" <= pan[:4] <= "2204":
        return "mir"
    if pan[:2] in {"34", "37"}:
        return "amex"
    if pan[:2] == "35":
        return "jcb"
    if pan[:2] == "62":
        return "unionpay"
    if pan.startswith(("6011", "65")):
        return "discover"
    if pan.startswith(("50", "56", "57", "58", "6")):
        return "maestro"
    return "unknown"


def check_card(card: dict[str, Any], *, now: float) -> errors.EcommpayError | None:
    """Return the error the Gate gives for this card data, or None if it can be tokenized."""
    holder = card.get("card_holder")
    if holder is None:
        # (doc, secondary) docs/providers/ecommpay.md#response-codes 3162
        return errors.HolderRequired("card.card_holder")
    if not isinstance(holder, str) or not holder.strip():
        # (doc, secondary) docs/providers/ecommpay.md#response-codes 3161
        return errors.InvalidHolder("card.card_holder")
    pan = card["pan"]
    if not (12 <= len(pan) <= 19) or not luhn_valid(pan):
        # (inferred) docs/providers/ecommpay.md#response-codes 502: no dedicated PAN code in the registry
        return errors.ValidationError("card.pan")
    month, year = card["month"], card["year"]
    if not 1 <= month <= 12:
        return errors.ValidationError("card.month")
    if not 1000 <= year <= 9999:
        return errors.ValidationError("card.year")  # (doc) docs/providers/ecommpay.md#tokenize: 4-digit year
    if card_expires_at(year, month) <= now:
        return errors.CardExpired("card.year")  # (doc, secondary) docs/providers/ecommpay.md#response-codes 3021
    return None


def fingerprint(secret: str, pan: str) -> str:
    """Recognise a card without keeping its number (or anything it can be recovered from): keyed, because a
    plain hash of a PAN is reversible in seconds (BIN and last four are public in the masked form)."""
    return hmac.new(secret.encode("ascii"), pan.encode(), hashlib.sha256).hexdigest()


# -- payments -------------------------------------------------------------------------------------

# (code) docs/providers/ecommpay.md#payment-statuses: woocommerce-ecommpay EcpGatewayPaymentStatus, the SDKs' Callback
PAY_SUCCESS = "success"
PAY_DECLINE = "decline"
PAY_AWAITING_3DS = "awaiting 3ds result"
PAY_AWAITING_CAPTURE = "awaiting capture"
PAY_CANCELLED = "cancelled"
PAY_REFUNDED = "refunded"
PAY_PARTIALLY_REFUNDED = "partially refunded"
# (code) docs/providers/ecommpay.md#payment-statuses: EcpGatewayOperationStatus
OP_SUCCESS = "success"
OP_DECLINE = "decline"
OP_AWAITING_3DS = "awaiting 3ds result"
# (code) docs/providers/ecommpay.md#payment-statuses: EcpGatewayOperationType
SALE, AUTH, CAPTURE, CANCEL, REFUND, PAYOUT = "sale", "auth", "capture", "cancel", "refund", "payout"
PURCHASE = "purchase"  # (inferred) payment.type of a sale or auth; a payout's is "payout"
FIRST_OPERATION_ID = 470000000001  # (inferred) large integers; 12 digits, so the journal never takes one for a PAN
# (doc, secondary) docs/providers/ecommpay.md#response-codes: the outcome codes the emulator reports
OUTCOME_MESSAGES = {
    "0": "Success",
    "104": "Declined by 3DS check",
    "10105": "Insufficient funds on card",
    "10201": "Refer to card issuer",
    "10203": "Pick-up card",
    "10402": "Suspicious operation",
}


@dataclass
class CardData:
    """The card a payment uses, as much of it as may be kept: masked number, scheme, holder, expiry."""

    number: str
    card_type: str
    holder: str
    month: int
    year: int
    fingerprint: str

    @classmethod
    def from_token(cls, record: CardToken) -> CardData:
        return cls(record.number, record.card_type, record.holder, record.month, record.year, record.fingerprint)

    @classmethod
    def from_request(cls, card: dict[str, Any], fingerprint_secret: str) -> CardData:
        """What may be kept of a request's checked `card` object: never the PAN itself, never the CVV."""
        pan = card["pan"]
        return cls(
            number=mask_pan(pan),
            card_type=card_type(pan),
            holder=card["card_holder"],
            month=int(card["month"]),
            year=int(card["year"]),
            fingerprint=fingerprint(fingerprint_secret, pan),
        )


@dataclass
class Operation:
    """One operation of a payment (sale, auth, capture, cancel, refund, payout) with its result code."""

    id: int
    type: str
    status: str
    request_id: str
    created_at: float
    updated_at: float
    amount: int
    currency: str
    code: str = "0"
    message: str = "Success"
    auth_code: str | None = None


@dataclass
class Payment:
    """One merchant payment (its `payment_id`): the card, the amounts and every operation on it."""

    id: str
    type: str  # purchase | payout
    status: str
    customer_id: str
    amount: int
    currency: str
    card: CardData
    created_at: float
    updated_at: float
    description: str | None = None
    token: str | None = None  # the token it was paid with, or the one born from it (auto tokens)
    token_created: bool = False  # the token was generated by this payment
    captured: int = 0
    refunded: int = 0
    refund_ids: list[str] = field(default_factory=list)  # merchant_refund_id values already used
    operations: list[Operation] = field(default_factory=list)
    acs_md: str | None = None  # while awaiting 3-D Secure: the MD the ACS page carries
    acs_term_url: str | None = None
    pending_code: str | None = None  # the card's outcome once 3-D Secure succeeds

    @property
    def last(self) -> Operation:
        return self.operations[-1]


def decline_code(outcome: str) -> str:
    """The response code of a test card's outcome (`success`, `decline-10105`, cards.yaml)."""
    if outcome.startswith("decline"):
        _, _, code = outcome.partition("-")
        return code or "10201"
    return "0"


@dataclass
class EcommpayState:
    """One project's card tokens."""

    tenant: Tenant
    tokens: dict[str, CardToken] = field(default_factory=dict)
    by_card: dict[str, str] = field(default_factory=dict)  # "<customer id>:<fingerprint>" -> token
    next_account_id: int = FIRST_ACCOUNT_ID
    # The project's fingerprint key: kept with its state, so one token per card holds across restarts and replicas.
    fingerprint_secret: str = field(default_factory=lambda: secrets.token_hex(32))

    def _take_account_id(self) -> int:
        number, self.next_account_id = self.next_account_id, self.next_account_id + 1
        return number

    callback_url: str | None = None  # a runtime override of the project's callback URL (set_state)
    payments: dict[str, Payment] = field(default_factory=dict)  # by the merchant's payment_id
    next_operation_id: int = FIRST_OPERATION_ID

    def tokenize(
        self, customer: dict[str, Any], card: dict[str, Any], *, now: float, new_token: Callable[[], str]
    ) -> tuple[CardToken, bool]:
        """Return the card's valid token (its expiry updated) or a new one; True when issued now
        (docs/providers/ecommpay.md#tokens)."""
        data = CardData.from_request(card, self.fingerprint_secret)
        return self.token_for_card(str(customer["id"]), data, now=now, new_token=new_token, customer=customer)

    def token_for_card(
        self,
        customer_id: str,
        card: CardData,
        *,
        now: float,
        new_token: Callable[[], str],
        customer: dict[str, Any] | None = None,
    ) -> tuple[CardToken, bool]:
        """The token of this customer's card, by its fingerprint: the valid one (expiry updated) or a new one."""
        key = f"{customer_id}:{card.fingerprint}"
        existing = self.tokens.get(self.by_card.get(key, ""))
        if existing is not None and existing.status == ACTIVE and existing.expires_at > now:
            # (doc) docs/providers/ecommpay.md#tokens: a valid token is returned again; a different expiry updates it,
            # no new token
            existing.year, existing.month = card.year, card.month
            existing.expires_at = card_expires_at(card.year, card.month)
            existing.holder = card.holder
            self._contact(existing, customer or {})
            return existing, False
        token = new_token()
        while token in self.tokens:  # a 64-hex collision is astronomically unlikely; never reuse anyway
            token = new_token()
        record = CardToken(
            token=token,
            customer_id=customer_id,
            fingerprint=card.fingerprint,
            number=card.number,
            card_type=card.card_type,
            holder=card.holder,
            year=card.year,
            month=card.month,
            account_id=self._take_account_id(),
            created_at=now,
            expires_at=card_expires_at(card.year, card.month),
        )
        self._contact(record, customer or {})
        self.tokens[token] = record
        self.by_card[key] = token
        return record, True

    @staticmethod
    def _contact(record: CardToken, customer: dict[str, Any]) -> None:
        for name in ("country", "phone", "email"):
            if isinstance(customer.get(name), str):
                setattr(record, name, customer[name])

    def usable(self, customer_id: str, token: str, *, now: float) -> CardToken:
        """Return an active token of this customer, or raise the Gate's refusal."""
        record = self.tokens.get(token)
        if record is None:
            raise errors.TokenNotFound("token")  # (doc, secondary) docs/providers/ecommpay.md#response-codes 3221
        if record.customer_id != customer_id:
            raise errors.CustomerNotFound("customer.id")  # (doc, secondary) docs/providers/ecommpay.md#tokens 3241
        if record.status == EXPIRED or (record.status == ACTIVE and record.expires_at <= now):
            # (inferred) docs/providers/ecommpay.md#tokens: expired tokens cannot be used
            raise errors.CardExpired("token")
        if record.status == REVOKED:
            # (inferred) docs/providers/ecommpay.md#tokens: revoked tokens cannot be used
            raise errors.InvalidToken("token")
        return record

    def card_by_token(self, customer_id: str, token: str, *, now: float) -> CardToken:
        return self.usable(customer_id, token, now=now)

    def revoke(self, customer_id: str, token: str, *, now: float) -> CardToken:
        """Revoke an active token (docs/providers/ecommpay.md#revoke); a revoked or expired one is refused like any
        other use."""
        record = self.usable(customer_id, token, now=now)
        record.status = REVOKED
        record.status_changed_at = now
        return record

    def expire_due(self, now: float) -> list[CardToken]:
        """Move active tokens whose card expired to `expiry`; return them (each owes an action-less callback)."""
        expired = []
        for record in self.tokens.values():
            if record.status == ACTIVE and record.expires_at <= now:
                record.status = EXPIRED
                record.status_changed_at = now
                expired.append(record)
        return expired

    # -- payments -------------------------------------------------------------------------------

    def _operation(
        self, kind: str, *, request_id: str, amount: int, currency: str, now: float, code: str, status: str
    ) -> Operation:
        number, self.next_operation_id = self.next_operation_id, self.next_operation_id + 1
        message = OUTCOME_MESSAGES.get(code, "General decline") if status != OP_AWAITING_3DS else "Awaiting 3DS result"
        return Operation(number, kind, status, request_id, now, now, amount, currency, code, message)

    def payment(self, payment_id: str) -> Payment:
        """The project's payment with this id, or the Gate's 3061."""
        found = self.payments.get(payment_id)
        if found is None:
            raise errors.TransactionNotFound("general.payment_id")  # (doc, secondary) 3061
        return found

    def check_new_payment(self, payment_id: str) -> None:
        """(doc, secondary) docs/providers/ecommpay.md#idempotency: a payment_id is used once per project."""
        if payment_id in self.payments:
            raise errors.PaymentIdExists("general.payment_id")  # 3041

    def start_payment(
        self,
        *,
        kind: str,
        payment_id: str,
        customer_id: str,
        amount: int,
        currency: str,
        description: str | None,
        card: CardData,
        token: str | None,
        outcome: str,
        three_ds: bool,
        request_id: str,
        now: float,
        md: str,
        term_url: str | None,
    ) -> Payment:
        """Register a sale, auth or payout and run its first operation: the card's outcome at once, or
        `awaiting 3ds result` when the card is enrolled (a payout never asks for 3-D Secure)."""
        self.check_new_payment(payment_id)
        code = decline_code(outcome)
        payment = Payment(
            id=payment_id,
            type="payout" if kind == PAYOUT else PURCHASE,
            status=PAY_AWAITING_3DS,
            customer_id=customer_id,
            amount=amount,
            currency=currency,
            card=card,
            created_at=now,
            updated_at=now,
            description=description,
            token=token,
        )
        if three_ds and kind != PAYOUT:
            operation = self._operation(
                kind, request_id=request_id, amount=amount, currency=currency, now=now, code="0", status=OP_AWAITING_3DS
            )
            payment.acs_md, payment.acs_term_url, payment.pending_code = md, term_url, code
            payment.operations.append(operation)
        else:
            payment.operations.append(
                self._operation(
                    kind,
                    request_id=request_id,
                    amount=amount,
                    currency=currency,
                    now=now,
                    code=code,
                    status=OP_SUCCESS if code == "0" else OP_DECLINE,
                )
            )
            self._settle(payment, now)
        self.payments[payment_id] = payment
        return payment

    @staticmethod
    def _settle(payment: Payment, now: float) -> None:
        """The payment's status after its first operation finished."""
        operation = payment.last
        if operation.status != OP_SUCCESS:
            payment.status = PAY_DECLINE
        elif operation.type == AUTH:
            payment.status = PAY_AWAITING_CAPTURE
        else:
            payment.status = PAY_SUCCESS
            payment.captured = payment.amount if operation.type == SALE else 0
        if operation.status == OP_SUCCESS:
            operation.auth_code = f"{operation.id % 1000000:06d}"
        payment.updated_at = operation.updated_at = now

    def complete_3ds(self, payment_id: str, md: str, authenticated: bool, *, now: float) -> Payment:
        """The ACS answered (`/v2/payment/card/3ds_result`): the card's own outcome, or 104 when authentication
        failed."""
        payment = self.payment(payment_id)
        if payment.status != PAY_AWAITING_3DS:
            raise errors.StatusForbidsAction("general.payment_id")  # (doc, secondary) 3060
        if md != payment.acs_md:
            raise errors.ValidationError("md")  # (inferred) an MD of another payment
        operation = payment.last
        code = (payment.pending_code or "0") if authenticated else "104"
        operation.code, operation.message = code, OUTCOME_MESSAGES.get(code, "General decline")
        operation.status = OP_SUCCESS if code == "0" else OP_DECLINE
        payment.acs_md = payment.acs_term_url = payment.pending_code = None
        self._settle(payment, now)
        return payment

    def by_md(self, md: str) -> Payment | None:
        """The payment awaiting 3-D Secure with this MD (the ACS page is reached by it alone)."""
        return next((p for p in self.payments.values() if p.acs_md == md and p.status == PAY_AWAITING_3DS), None)

    def capture(self, payment_id: str, amount: int, currency: str, *, request_id: str, now: float) -> Payment:
        """Capture a hold, fully or partly (doc, docs/providers/ecommpay.md#two-step-purchases)."""
        payment = self.payment(payment_id)
        if payment.status != PAY_AWAITING_CAPTURE:
            raise errors.StatusForbidsAction("general.payment_id")  # (doc, secondary) 3060
        if currency != payment.currency:
            raise errors.InvalidCurrency("payment.currency")  # (doc, secondary) 3121
        if not 0 < amount <= payment.amount:
            raise errors.ValidationError("payment.amount")  # (inferred) more than the hold
        payment.operations.append(
            self._operation(
                CAPTURE, request_id=request_id, amount=amount, currency=currency, now=now, code="0", status=OP_SUCCESS
            )
        )
        payment.captured, payment.status, payment.updated_at = amount, PAY_SUCCESS, now
        return payment

    def cancel(self, payment_id: str, *, request_id: str, now: float) -> Payment:
        """Release a hold (doc, docs/providers/ecommpay.md#two-step-purchases)."""
        payment = self.payment(payment_id)
        if payment.status != PAY_AWAITING_CAPTURE:
            raise errors.StatusForbidsAction("general.payment_id")  # (doc, secondary) 3060
        payment.operations.append(
            self._operation(
                CANCEL,
                request_id=request_id,
                amount=payment.amount,
                currency=payment.currency,
                now=now,
                code="0",
                status=OP_SUCCESS,
            )
        )
        payment.status, payment.updated_at = PAY_CANCELLED, now
        return payment

    def refund(
        self,
        payment_id: str,
        amount: int | None,
        currency: str | None,
        *,
        merchant_refund_id: str | None,
        request_id: str,
        now: float,
    ) -> Payment:
        """Refund a successful purchase, fully (no amount) or partly, never beyond what was charged."""
        payment = self.payment(payment_id)
        if payment.type != PURCHASE or payment.status not in (PAY_SUCCESS, PAY_PARTIALLY_REFUNDED):
            raise errors.StatusForbidsAction("general.payment_id")  # (doc, secondary) 3060
        if merchant_refund_id is not None and merchant_refund_id in payment.refund_ids:
            raise errors.RefundIdExists("payment.merchant_refund_id")  # (doc, secondary) 3230
        if amount is not None and currency is None:
            raise errors.CurrencyRequired("payment.currency")  # (doc, secondary) 3287
        if currency is not None and amount is None:
            raise errors.AmountRequired("payment.amount")  # (doc, secondary) 3286
        if currency is not None and currency != payment.currency:
            raise errors.RefundCurrencyMismatch("payment.currency")  # (doc, secondary) 3284
        left = payment.captured - payment.refunded
        amount = left if amount is None else amount
        if amount <= 0 or amount > left:
            raise errors.RefundTooLarge("payment.amount")  # (doc, secondary) 3283
        payment.operations.append(
            self._operation(
                REFUND,
                request_id=request_id,
                amount=amount,
                currency=payment.currency,
                now=now,
                code="0",
                status=OP_SUCCESS,
            )
        )
        payment.refunded += amount
        if merchant_refund_id is not None:
            payment.refund_ids.append(merchant_refund_id)
        payment.status = PAY_REFUNDED if payment.refunded == payment.captured else PAY_PARTIALLY_REFUNDED
        payment.updated_at = now
        return payment

    # -- scenario actions (set_state) ---------------------------------------------------------

    def scenario_expire_tokens(self, *, now: float) -> None:
        """Make every active token's card expire now (the next sweep sends the expiry callbacks)."""
        for record in self.tokens.values():
            if record.status == ACTIVE:
                record.expires_at = min(record.expires_at, now)

    def scenario_revoke_tokens(self, *, now: float) -> None:
        """Revoke every active token, as if revoked in the dashboard (no callback)."""
        for record in self.tokens.values():
            if record.status == ACTIVE:
                record.status = REVOKED
                record.status_changed_at = now

    def scenario_set_callback_url(self, *, now: float, url: str | None = None) -> None:
        """Override the project's callback URL at run time (None restores the configured one)."""
        self.callback_url = url


def created_at_text(epoch: float, style: str) -> str:
    """`token_created_at` in the chosen layout (docs/providers/ecommpay.md#q4)."""
    moment = to_datetime(epoch)
    if style == "iso":
        return moment.strftime("%Y-%m-%dT%H:%M:%S+0000")  # (doc) docs/providers/ecommpay.md#callbacks table
    return moment.strftime("%Y-%m-%d %H:%M:%S")  # (doc) docs/providers/ecommpay.md#callbacks both examples
