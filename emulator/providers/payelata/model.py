"""Payelata payment invoices, card-gate sales with 3-DS and payment retry, card tokens, refunds and payout
invoices (docs/providers/payelata.md).

Plain Python: every method takes `now` (virtual Unix seconds) and raises `PayelataError`s. Status
changes are queued as events (object id + wire snapshot); the routes turn them into callbacks.
Only masked card data is ever stored: the test-card outcome is re-derived from first six, last four
and expiry, which identify the four documented test cards uniquely.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.core.cards import TestCard, TestCards, luhn_valid, mask_pan
from emulator.core.tenants import Tenant
from emulator.providers.payelata import errors, signing

ALNUM = string.ascii_letters + string.digits

# (doc) docs/providers/payelata.md#statuses payment-invoice statuses.
CREATED = "created"
PROCESS_PENDING = "process_pending"
PROCESSED = "processed"
PROCESS_FAILED = "process_failed"
PROCESS_ERROR = "process_error"  # (doc) "an error occurred … waiting for the next attempt" (payment requests)
EXPIRED = "expired"
REFUNDING = "refunding"
REFUNDED = "refunded"
PARTIALLY_REFUNDED = "partially_refunded"
PAYABLE = (CREATED, PROCESS_PENDING, PROCESS_ERROR)
REFUNDABLE = (PROCESSED, PARTIALLY_REFUNDED)
FINAL = frozenset({PROCESSED, PROCESS_FAILED, EXPIRED, "terminated", REFUNDED, PARTIALLY_REFUNDED, "refund_failed"})
# (doc) payout-invoice.md: the payout statuses that end a payout; processed counts (inferred: as for payments,
# though the docs say a processed payout may still be canceled, and payemu emulates no cancellation)
PAYOUT_FINAL = frozenset(
    {PROCESSED, PROCESS_FAILED, EXPIRED, "terminated", "canceled", "partially_canceled", "cancel_failed"}
)
OK = "ok"
AUTH_3DS_REQUIRED = "auth_3ds_required"

# (doc) docs/providers/payelata.md#statuses, test-card-numbers.md: the test connector's cards, with brand and 3-DS
# enrolment.
TEST_CARDS = TestCards.load(Path(__file__).with_name("cards.yaml"))
# (doc) docs/providers/payelata.md#callbacks payload example; others (inferred)
ISSUERS = {"512381": "FIRST DATA CORPORATION"}
PENDING_EXPIRY = "0777"  # (doc) pending; auth_3ds_required on a 3-DS card
# (doc) test-card-numbers.md: MMYY on a failing card selects the resolution; anything else general_fatal_error.
FAIL_EXPIRY = {
    "0856": "access_denied",
    "0755": "error",
    "0654": "provider_error",
    "0553": "unknown",
    "0452": "duplicated_transaction",
    "0351": "auth_fatal_error",
    "0250": "unable_to_determine_3ds_enrolment",
    "0149": "card_is_3ds_enrolled",
    "1248": "card_is_not_3ds_enrolled",
    "1147": "issuer_decline",
    "1046": "client_auth_failed",
    "0945": "provider_fatal_error",
    "0844": "invalid_details",
    "0743": "invalid_pin",
    "0642": "antifraud_error",
    "0541": "invalid_card",
    "0440": "fatal_error",
    "0339": "unable_to_reconcile",
    "0238": "invalid_amount",
    "0137": "limit_violation",
    "1236": "functionality_is_not_permitted",
    "1135": "invalid_request",
    "1034": "lost_or_stolen_card",
    "0933": "declined",
    "0832": "invalid_otp",
    "0731": "invalid_3ds_code",
    "0630": "invalid_card_status",
    "0529": "insufficient_funds",
    "0428": "card_expired",
    "0327": "invalid_cvv",
    "0226": "invalid_pan",
    "0125": "invalid_credentials",
}
GENERAL_FAILURE = "general_fatal_error"
_SERVICE_CCY = re.compile(r"^(?P<method>[a-z0-9_]+?)_(?P<ccy>[a-z]{3})(?:_hpp)?$")


def service_method(service: str) -> str:
    """The payment method a service name carries (`payment_card_usd_hpp` -> `payment_card`), else the name itself."""
    match = _SERVICE_CCY.match(service)
    return match.group("method") if match else service


def random_id(fake: Any, length: int = 16) -> str:
    return "".join(fake.random_element(ALNUM) for _ in range(length))


@dataclass
class Card:
    """A masked card: what the payload shows, plus what the outcome rules need (never the PAN)."""

    first: str
    last: str
    mask: str
    brand: str
    holder: str
    expiry_month: str  # "07"
    expiry_year: str  # "77"
    issuer_name: str
    issuer_country: str = "US"

    @classmethod
    def from_pan(cls, pan: str, holder: str, month: int, year: int) -> Card:
        known = TEST_CARDS.find(pan)
        brand = (
            known.brand
            if known
            else {"4": "visa", "5": "mastercard", "2": "mastercard", "3": "amex"}.get(pan[0], "unknown")
        )
        return cls(
            pan[:6],
            pan[-4:],
            mask_pan(pan),
            brand,
            holder,
            f"{month:02d}",
            f"{year % 100:02d}",
            ISSUERS.get(pan[:6], "TEST BANK"),
        )

    @property
    def test_card(self) -> TestCard | None:
        return TEST_CARDS.find_masked(self.first, self.last)

    def to_wire(self) -> dict[str, Any]:
        """(doc) docs/providers/payelata.md#callbacks `payment_card`, in the documented key order."""
        return {
            "last": self.last,
            "mask": self.mask,
            "brand": self.brand,
            "first": self.first,
            "holder": self.holder,
            "expiry_year": self.expiry_year,
            "issuer_name": self.issuer_name,
            "expiry_month": self.expiry_month,
            "issuer_country": self.issuer_country,
        }


@dataclass
class Outcome:
    """What a card does at the gate: processed, failed (with resolution), pending, or 3-DS first and then
    `then`."""

    kind: str  # processed | failed | pending | 3ds
    resolution: str = OK
    then: Outcome | None = None  # after a passed 3-DS challenge


def _expired(card: Card, now_year: int, now_month: int) -> bool:
    return (2000 + int(card.expiry_year), int(card.expiry_month)) < (now_year, now_month)


def card_outcome(card: Card, now_year: int, now_month: int) -> Outcome:
    """The test connector's table (doc) docs/providers/payelata.md#test-cards: the card picks success or failure
    and 3-DS enrolment; on the success cards 07/77 leaves the payment pending (`auth_3ds_required` on the
    enrolled one); on the failing cards the expiry picks the resolution, any other expiry `general_fatal_error`.
    An enrolled card passes the 3-DS challenge before its outcome. The table keys on card and expiry only (the
    docs name no amount rule). Other valid cards succeed unless past their expiry (inferred)."""
    expiry = card.expiry_month + card.expiry_year
    info = card.test_card
    if info is None:
        return Outcome("failed", "card_expired") if _expired(card, now_year, now_month) else Outcome("processed")
    if info.outcome == "success":
        if expiry == PENDING_EXPIRY:
            return Outcome("pending", AUTH_3DS_REQUIRED if info.three_ds else OK)
        # (doc) "any valid expiry date": a past one is not valid (inferred: the card_expired resolution)
        result = Outcome("failed", "card_expired") if _expired(card, now_year, now_month) else Outcome("processed")
    else:
        result = Outcome("failed", FAIL_EXPIRY.get(expiry, GENERAL_FAILURE))
    return Outcome("3ds", AUTH_3DS_REQUIRED, then=result) if info.three_ds else result


def payout_outcome(card: Card) -> Outcome:
    """(inferred) a card payout on the test connector follows the same table, without 3-DS: the success cards
    are paid out (07/77 stays pending), the failing cards fail with the resolution of their expiry."""
    info = card.test_card
    if info is None:
        return Outcome("processed")
    expiry = card.expiry_month + card.expiry_year
    if info.outcome == "success":
        return Outcome("pending") if expiry == PENDING_EXPIRY else Outcome("processed")
    return Outcome("failed", FAIL_EXPIRY.get(expiry, GENERAL_FAILURE))


@dataclass
class CardToken:
    token: str
    customer_reference_id: str
    card: Card
    created: float


@dataclass
class Refund:
    """One refund of a payment invoice (docs/providers/payelata.md#refunds)."""

    id: str  # ref_…
    reference_id: str
    amount: float
    currency: str
    created: float
    description: str | None = None
    status: str = PROCESS_PENDING
    settle_at: float | None = None

    def to_wire(self) -> dict[str, Any]:
        """(doc) docs/providers/payelata.md#refunds: the `refunds` resource of the new refund model."""
        return {
            "data": {
                "type": "refunds",
                "id": self.id,
                "attributes": {
                    "reference_id": self.reference_id,
                    "original_id": None,
                    "description": self.description,
                    "status": self.status,
                    "amount": self.amount,
                    "fee": 0,
                    "currency": self.currency,
                    "created": int(self.created),
                },
                "links": {"self": f"/refunds/{self.id}"},
            }
        }


def money(value: float) -> float:
    """Amounts are major units with at most two decimals; an integral amount stays an int on the wire."""
    rounded = round(float(value), 2)
    return int(rounded) if rounded.is_integer() else rounded


@dataclass
class Invoice:
    id: str
    tenant_id: str
    reference_id: str
    amount: int | float
    currency: str
    service: str
    test_mode: bool
    created: float
    expires_at: float
    session_id: str  # cgi_…
    action: str  # the hosted page URL (flow_data.action)
    jwt: str
    status: str = CREATED
    resolution: str = OK
    updated: float = 0.0
    description: str | None = None
    metadata: Any = None
    customer: dict[str, Any] | None = None
    customer_id: str | None = None
    callback_url: str | None = None
    return_url: str | None = None
    return_urls: dict[str, Any] | None = None
    descriptor: str = ""
    tokenize: bool = False
    instant: bool = False
    token: str | None = None  # the card token this invoice charges
    card: Card | None = None
    payload: dict[str, Any] | None = None
    processed: int | None = None
    rrn: str | None = None
    approval_code: str | None = None
    sale_started: bool = False
    awaiting_3ds: Outcome | None = None  # the outcome once 3-DS completes
    settle_at: float | None = None
    settle_outcome: Outcome | None = None
    attempts: int = 0  # failed payment attempts so far (docs/providers/payelata.md#retries)
    attempts_limit: int = 5  # (doc) the account's "Attempts limit", default 5
    refunded_amount: float | None = None
    refunded: int | None = None  # (doc) white-label refund example: when the last refund completed
    refunds: list[Refund] = field(default_factory=list)

    @property
    def serial_number(self) -> str:
        return self.id.removeprefix("cpi_")

    @property
    def payment_method(self) -> str:
        return service_method(self.service)

    def to_wire(self) -> dict[str, Any]:
        """The JSON:API invoice, keys in the documented order (doc) docs/providers/payelata.md#payment-invoices."""
        done = self.processed is not None
        relationships: dict[str, Any] = {
            "payment-service": {"data": {"type": "payment-services", "id": self.service}},
            "payment-method": {"data": {"type": "payment-methods", "id": self.payment_method}},
        }
        if self.customer_id:
            relationships["customer"] = {"data": {"type": "customers", "id": self.customer_id}}
        attributes = {
            "serial_number": self.serial_number,
            "status": self.status,
            "resolution": self.resolution,
            "moderation_required": False,
            "amount": self.amount,
            "payment_amount": self.amount,
            "currency": self.currency,
            "service_currency": self.currency,
            "reference_id": self.reference_id,
            "test_mode": self.test_mode,
            "fee": 0,
            "deposit": self.amount,  # (doc) callbacks.md example: deposit = amount when fee is 0
            "processed": self.processed,
            "processed_amount": self.amount if done else None,
            "refunded_amount": self.refunded_amount,
            # (doc) docs/providers/payelata.md#refunds: the white-label's refunded invoice adds these two
            "refunded_fee": 0 if self.refunded_amount is not None else None,
            "refunded": self.refunded,
            "processed_fee": 0 if done else None,
            "processed_deposit": self.amount if done else None,
            "metadata": self.metadata if self.metadata else [],  # (doc) PHP empty array
            "flow_data": {
                "action": self.action,
                "method": "GET",
                "params": [],
                "metadata": {"sid": self.session_id, "token": self.jwt},
            },
            "flow": "hpp",
            "payment_flow": "charge",
            "created": int(self.created),
            "updated": int(self.updated),
            "payload": self.payload,
            "description": self.description,
            "descriptor": self.descriptor,
            "callback_url": self.callback_url,
            "return_url": self.return_url,
            # (doc) docs/providers/payelata.md#return-urls: always present, with null values when not set
            "return_urls": {key: (self.return_urls or {}).get(key) for key in ("success", "pending", "fail")},
            "original_data": None,
            "rrn": self.rrn,
            "approval_code": self.approval_code,
        }
        return {
            "data": {
                "type": "payment-invoices",
                "id": self.id,
                "attributes": attributes,
                "relationships": relationships,
                "links": {"self": f"/api/payment-invoices/{self.id}"},
            }
        }


def _payout_expiry(context_card: dict[str, Any]) -> tuple[int, int]:
    """(doc) release notes v1.6.12: a card payout may carry `context.card.exp_month/exp_year`; without them the
    test table's default row applies (inferred: 12/99, an expiry no test row names)."""
    try:
        month, year = int(context_card.get("exp_month")), int(context_card.get("exp_year"))
    except (TypeError, ValueError):
        return 12, 99
    if not 1 <= month <= 12:
        raise errors.Invalid("context.card.exp_month", errors.MSG_INVALID)
    return month, year


@dataclass
class PayoutInvoice:
    """A payout invoice to a card or a card token (docs/providers/payelata.md#payouts). Only the masked card."""

    id: str  # cpoi_…
    reference_id: str
    amount: int | float
    currency: str
    service: str
    test_mode: bool
    created: float
    updated: float
    expires_at: float
    card: Card | None
    token: str | None = None
    status: str = CREATED
    resolution: str = OK
    description: str | None = None
    metadata: Any = None
    customer_id: str | None = None
    callback_url: str | None = None
    auto_process: bool = False
    processed: int | None = None
    failed: int | None = None

    @property
    def payout_method(self) -> str:
        return service_method(self.service)

    def to_wire(self) -> dict[str, Any]:
        """(doc) docs/providers/payelata.md#payouts: the white-label's payout-invoice document, in its key order."""
        done = self.processed is not None
        customer = {"type": "customers", "id": self.customer_id} if self.customer_id else None
        return {
            "data": {
                "type": "payout-invoices",
                "id": self.id,
                "attributes": {
                    "status": self.status,
                    "resolution": self.resolution,
                    "amount": self.amount,
                    "payout_amount": self.amount,
                    "currency": self.currency,
                    "service_currency": self.currency,
                    "service_amount": self.amount,
                    "service_payout_amount": self.amount,
                    "reference_id": self.reference_id,
                    "test_mode": self.test_mode,
                    "description": self.description,
                    "fee": 0,
                    "writeoff": self.amount,
                    "exchange_rate": 1,
                    "failed": self.failed,
                    "processed": self.processed,
                    "processed_amount": self.amount if done else None,
                    "processed_fee": 0 if done else None,
                    "processed_writeoff": self.amount if done else None,
                    "metadata": self.metadata if self.metadata else [],
                    "created": int(self.created),
                    "updated": int(self.updated),
                    # only the masked number, never the PAN (inferred: the docs echo the fields as sent)
                    "fields": {"card_number": self.card.mask} if self.card and not self.token else {},
                    "callback_url": self.callback_url,
                    "source": "merchant_api",
                    "callback_logs": [],
                    "moderation_required": False,
                    "payouts": [],
                },
                "relationships": {
                    "payout-service": {"data": {"type": "payout-services", "id": self.service}},
                    "payout-method": {"data": {"type": "payout-methods", "id": self.payout_method}},
                    "customer": {"data": customer},
                },
                "links": {"self": f"/api/payout-invoices/{self.id}"},
            }
        }


@dataclass
class Event:
    """One status change, with the invoice as it was right then (for its callback)."""

    invoice_id: str
    status: str
    callback_url: str | None
    test_mode: bool
    wire: dict[str, Any]
    kind: str = "payment-invoice"  # or payout-invoice


@dataclass
class PayelataState:
    """One commerce account: its invoices, card sessions, customers and card tokens."""

    tenant: Tenant
    invoices: dict[str, Invoice] = field(default_factory=dict)
    by_reference: dict[str, str] = field(default_factory=dict)
    sessions: dict[str, str] = field(default_factory=dict)  # cgi_… -> cpi_…
    customers: dict[str, str] = field(default_factory=dict)  # customer reference_id -> cus_…
    tokens: dict[str, CardToken] = field(default_factory=dict)
    payouts: dict[str, PayoutInvoice] = field(default_factory=dict)
    payout_references: dict[str, str] = field(default_factory=dict)
    refund_invoices: dict[str, str] = field(default_factory=dict)  # ref_… -> cpi_…
    events: list[Event] = field(default_factory=list)
    forced: list[Outcome] = field(default_factory=list)  # scenario overrides for the next sales

    # -- invoices ------------------------------------------------------------------------------

    def create_invoice(
        self,
        attributes: dict[str, Any],
        *,
        now: float,
        fake: Any,
        live: bool,
        action_base: str,
        ttl: float,
        duplicate_status: int | None,
        token_requires_customer: bool,
        callback_url: str | None,
        jwt_algorithm: str = "RS512",
        attempts_limit: int = 5,
    ) -> Invoice:
        """Create a payment invoice (docs/providers/payelata.md#payment-invoices); 422 on a bad service, token or
        reference."""
        reference = attributes["reference_id"]
        if duplicate_status is not None and reference in self.by_reference:
            raise errors.DuplicateReference(duplicate_status)
        currency = attributes["currency"]
        service = attributes["service"]
        match = _SERVICE_CCY.match(service)
        if not service.startswith("payment_card") or (match and match.group("ccy").upper() != currency):
            raise errors.Invalid("service", "Service is not available.")  # (inferred) card services only
        customer = attributes.get("customer") or None
        customer_ref = (customer or {}).get("reference_id")
        cardgate = (attributes.get("gateway_options") or {}).get("cardgate") or {}
        tokenize, instant = bool(cardgate.get("tokenize")), bool(cardgate.get("instant"))
        token = attributes.get("token")
        if tokenize and not customer_ref:
            raise errors.Invalid("customer.reference_id", errors.MSG_BLANK)  # (doc) required for tokenization
        card_token: CardToken | None = None
        if token is not None:
            if not customer_ref and (token_requires_customer or not instant):
                raise errors.Invalid("customer.reference_id", errors.MSG_BLANK)  # (doc) token needs its customer
            card_token = self.tokens.get(token)
            if card_token is None:
                raise errors.Invalid("token", errors.MSG_TOKEN_UNKNOWN)  # another account's token lands here too
            if customer_ref and card_token.customer_reference_id != customer_ref:
                raise errors.Invalid("token", errors.MSG_TOKEN_CUSTOMER)  # (doc) same customer.reference_id
        serial = random_id(fake)
        session = "cgi_" + random_id(fake)
        invoice_id = "cpi_" + serial
        claims = {
            "sid": session,
            "invoice": invoice_id,
            "account": self.tenant.id,
            "iat": int(now),
            "exp": int(now + ttl),
        }
        invoice = Invoice(
            id=invoice_id,
            tenant_id=self.tenant.id,
            reference_id=reference,
            amount=attributes["amount"],
            currency=currency,
            service=service,
            test_mode=not live or bool(attributes.get("test_mode")),  # (doc) the key's mode decides
            created=now,
            updated=now,
            expires_at=now + ttl,
            session_id=session,
            action=action_base + session,
            jwt=signing.issue_token(claims, self.tenant, jwt_algorithm),
            attempts_limit=max(1, attempts_limit),
            description=attributes.get("description"),
            metadata=attributes.get("metadata"),
            customer=customer,
            callback_url=callback_url,
            return_url=attributes.get("return_url"),
            return_urls=attributes.get("return_urls"),
            # (doc) docs/providers/payelata.md#payment-invoices example
            descriptor=f"{self.tenant.get('descriptor', 'DEMO ACC')}:Заказ №:{reference}",
            tokenize=tokenize,
            instant=instant,
        )
        if customer_ref:
            invoice.customer_id = self.customers.setdefault(customer_ref, "cus_" + random_id(fake))
        if card_token is not None:
            invoice.token = card_token.token
            invoice.card = card_token.card
            invoice.status = PROCESS_PENDING  # (doc) both token examples answer process_pending
        self.invoices[invoice.id] = invoice
        self.by_reference.setdefault(reference, invoice.id)
        self.sessions[session] = invoice.id
        return invoice

    def get(self, invoice_id: str, now: float) -> Invoice:
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            raise errors.NotFound()
        return invoice

    def by_session(self, session_id: str, now: float) -> Invoice:
        invoice_id = self.sessions.get(session_id)
        if invoice_id is None:
            raise errors.NotFound()
        return self.get(invoice_id, now)

    def verify_jwt(self, token: str, now: float) -> Invoice:
        """Check a card-gate bearer token against this account's key and the virtual clock."""
        try:
            claims = signing.read_token(token, self.tenant)
        except signing.CardGateTokenError as exc:
            raise errors.BearerRejected() from exc
        if claims.get("exp", 0) <= now:
            raise errors.BearerRejected("Token expired.")
        invoice = self.invoices.get(str(claims.get("invoice")))
        if invoice is None or invoice.session_id != claims.get("sid") or invoice.jwt != token:
            raise errors.BearerRejected()
        return invoice

    # -- the card gate -------------------------------------------------------------------------

    def sale(
        self,
        invoice: Invoice,
        card_fields: dict[str, Any] | None,
        *,
        now: float,
        fake: Any,
        year_month: tuple[int, int],
        settle_delay: float,
        attempts_limit: int | None = None,
    ) -> Invoice:
        """Charge the invoice with a raw card or its token (docs/providers/payelata.md#card-gate) and apply the
        test-card outcome (docs/providers/payelata.md#test-cards). After a failed attempt below the account's
        attempts limit the invoice waits in `process_error` for the next one (docs/providers/payelata.md#retries)."""
        if invoice.status not in PAYABLE or invoice.sale_started:
            raise errors.PayelataError(errors.MSG_NOT_PAYABLE, pointer="/data")
        if invoice.token is None:
            invoice.card = self._card(card_fields or {}, year_month)
        if attempts_limit is not None:  # the account's setting when the attempt is made
            invoice.attempts_limit = max(1, attempts_limit)
        card = invoice.card
        assert card is not None
        natural = card_outcome(card, *year_month)
        if invoice.token is not None and natural.kind == "3ds" and natural.then is not None:
            natural = natural.then  # (inferred) a charge by token is merchant-initiated: no 3-DS challenge again
        outcome = self.forced.pop(0) if self.forced else natural
        if outcome.kind == "3ds" and outcome.then is None:  # a scenario's forced challenge: then the card's own
            outcome = Outcome("3ds", AUTH_3DS_REQUIRED, then=natural.then if natural.kind == "3ds" else natural)
        invoice.sale_started = True
        invoice.payload = {"client_ip": "", "payment_card": card.to_wire()}
        self._move(invoice, PROCESS_PENDING, OK, now)
        if outcome.kind == "3ds":
            then = outcome.then
            invoice.awaiting_3ds = then if then is not None and then.kind != "pending" else Outcome("processed")
            self._move(invoice, PROCESS_PENDING, AUTH_3DS_REQUIRED, now)
        elif outcome.kind == "pending":
            # (doc) 07/77 on a success card: stays pending on reconciliation (`auth_3ds_required` if enrolled)
            self._move(invoice, PROCESS_PENDING, outcome.resolution, now)
        elif settle_delay > 0:
            invoice.settle_at, invoice.settle_outcome = now + settle_delay, outcome
        else:
            self._settle(invoice, outcome, now, fake)
        return invoice

    def complete_3ds(self, invoice: Invoice, success: bool, *, now: float, fake: Any) -> Invoice:
        """Finish the emulator-hosted 3-DS challenge: the card's outcome, or `invalid_3ds_code` on failure."""
        if invoice.awaiting_3ds is None or invoice.status != PROCESS_PENDING:
            raise errors.PayelataError(errors.MSG_NOT_PAYABLE, pointer="/data")
        outcome = invoice.awaiting_3ds if success else Outcome("failed", "invalid_3ds_code")
        invoice.awaiting_3ds = None
        self._settle(invoice, outcome, now, fake)
        return invoice

    # -- refunds -------------------------------------------------------------------------------

    def refund(self, invoice: Invoice, attributes: dict[str, Any], *, now: float, fake: Any, delay: float) -> Refund:
        """Refund all or part of a paid invoice (docs/providers/payelata.md#refunds): `refunding`, then
        `partially_refunded` or `refunded` with `refunded_amount`. Refused, changing nothing: an unpaid or already
        fully refunded invoice, a refund while one is running, more than what is left, a reused reference_id."""
        if invoice.status not in REFUNDABLE:
            raise errors.PayelataError(errors.MSG_NOT_REFUNDABLE, pointer="/data")
        amount = money(attributes["amount"])
        left = money(invoice.amount - (invoice.refunded_amount or 0))
        if amount <= 0:
            raise errors.Invalid("amount", errors.MSG_INVALID)
        if amount > left:
            raise errors.Invalid("amount", errors.MSG_REFUND_EXCEEDS.format(left=left, currency=invoice.currency))
        reference = str(attributes["reference_id"])
        if any(r.reference_id == reference for r in invoice.refunds):
            raise errors.Invalid("reference_id", errors.MSG_USED)
        refund = Refund(
            "ref_" + random_id(fake), reference, amount, invoice.currency, now, attributes.get("description")
        )
        invoice.refunds.append(refund)
        self.refund_invoices[refund.id] = invoice.id
        self._move(invoice, REFUNDING, OK, now)
        if delay > 0:
            refund.settle_at = now + delay
        else:
            self._finish_refund(invoice, refund, now)
        return refund

    def get_refund(self, refund_id: str) -> Refund:
        """(doc) the refund resource's `links.self`: `/refunds/ref_…`."""
        invoice = self.invoices.get(self.refund_invoices.get(refund_id, ""))
        refund = next((r for r in invoice.refunds if r.id == refund_id), None) if invoice else None
        if refund is None:
            raise errors.NotFound()
        return refund

    def _finish_refund(self, invoice: Invoice, refund: Refund, now: float) -> None:
        refund.status, refund.settle_at = PROCESSED, None
        invoice.refunded_amount = money((invoice.refunded_amount or 0) + refund.amount)
        invoice.refunded = int(now)
        full = invoice.refunded_amount >= money(invoice.amount)
        self._move(invoice, REFUNDED if full else PARTIALLY_REFUNDED, OK, now)

    # -- payouts -------------------------------------------------------------------------------

    def create_payout(
        self,
        attributes: dict[str, Any],
        *,
        now: float,
        fake: Any,
        live: bool,
        ttl: float,
        duplicate_status: int | None,
        callback_url: str | None,
    ) -> PayoutInvoice:
        """Create a payout invoice to a card (`fields.card_number`) or a card token
        (docs/providers/payelata.md#payouts); with `options.auto_process` it is processed at once."""
        reference = attributes["reference_id"]
        if duplicate_status is not None and reference in self.payout_references:
            raise errors.DuplicateReference(duplicate_status)
        currency, service = attributes["currency"], attributes["service"]
        match = _SERVICE_CCY.match(service)
        if not service.startswith("payment_card") or (match and match.group("ccy").upper() != currency):
            raise errors.Invalid("service", "Service is not available.")  # (inferred) card payouts only
        customer = attributes.get("customer") or None
        customer_ref = (customer or {}).get("reference_id")
        fields = attributes.get("fields") or {}
        context_card = (attributes.get("context") or {}).get("card") or {}
        pan = re.sub(r"[\s-]", "", str(fields.get("card_number") or ""))
        token = attributes.get("token")
        card: Card | None = None
        if pan:  # (doc) "service fields have priority over the token"
            if not luhn_valid(pan):
                raise errors.Invalid("fields.card_number", errors.MSG_CARD_NUMBER)
            month, year = _payout_expiry(context_card)
            card = Card.from_pan(pan, str(context_card.get("holder") or ""), month, year)
            token = None
        elif token:
            card_token = self.tokens.get(str(token))
            if card_token is None:
                raise errors.Invalid("token", errors.MSG_TOKEN_UNKNOWN)
            if customer_ref and card_token.customer_reference_id != customer_ref:
                raise errors.Invalid("token", errors.MSG_TOKEN_CUSTOMER)
            card = card_token.card
        else:
            raise errors.Invalid("fields.card_number", errors.MSG_BLANK)
        payout = PayoutInvoice(
            id="cpoi_" + random_id(fake),
            reference_id=reference,
            amount=money(attributes["amount"]),
            currency=currency,
            service=service,
            test_mode=not live or bool(attributes.get("test_mode")),
            created=now,
            updated=now,
            expires_at=now + ttl,
            card=card,
            token=str(token) if token else None,
            description=attributes.get("description"),
            metadata=attributes.get("metadata"),
            callback_url=callback_url,
            auto_process=bool((attributes.get("options") or {}).get("auto_process")),
        )
        if customer_ref:
            payout.customer_id = self.customers.setdefault(customer_ref, "cus_" + random_id(fake))
        self.payouts[payout.id] = payout
        self.payout_references.setdefault(reference, payout.id)
        if payout.auto_process:
            self.process_payout(payout, now=now)
        return payout

    def get_payout(self, payout_id: str) -> PayoutInvoice:
        payout = self.payouts.get(payout_id)
        if payout is None:
            raise errors.NotFound()
        return payout

    def process_payout(self, payout: PayoutInvoice, *, now: float) -> PayoutInvoice:
        """Send a `created` payout to the provider: `process_pending`, then its card's outcome
        (docs/providers/payelata.md#payouts); any other status is refused."""
        if payout.status != CREATED:
            raise errors.PayelataError(errors.MSG_NOT_PROCESSABLE, pointer="/data")
        self._move_payout(payout, PROCESS_PENDING, OK, now)
        assert payout.card is not None
        outcome = self.forced.pop(0) if self.forced else payout_outcome(payout.card)
        if outcome.kind == "processed":
            payout.processed = int(now)
            self._move_payout(payout, PROCESSED, OK, now)
        elif outcome.kind == "failed":
            # (doc) release notes v1.11: payouts' attempts limit defaults to 0, so the first failure is final
            payout.failed = int(now)
            self._move_payout(payout, PROCESS_FAILED, outcome.resolution, now)
        return payout

    def _move_payout(self, payout: PayoutInvoice, status: str, resolution: str, now: float) -> None:
        payout.status, payout.resolution, payout.updated = status, resolution, now
        self.events.append(
            Event(payout.id, status, payout.callback_url, payout.test_mode, payout.to_wire(), kind="payout-invoice")
        )

    def _card(self, fields: dict[str, Any], year_month: tuple[int, int]) -> Card:
        pan = re.sub(r"[\s-]", "", str(fields.get("card_number") or ""))
        if not pan:
            raise errors.Invalid("card_number", errors.MSG_BLANK)
        if not luhn_valid(pan):
            raise errors.Invalid("card_number", errors.MSG_CARD_NUMBER)  # (inferred)
        try:
            month, year = int(fields.get("exp_month")), int(fields.get("exp_year"))
        except (TypeError, ValueError) as exc:
            raise errors.Invalid("exp_month", errors.MSG_INVALID) from exc
        if not 1 <= month <= 12:
            raise errors.Invalid("exp_month", errors.MSG_INVALID)
        cvv = str(fields.get("cvv") or "")
        if not re.fullmatch(r"[0-9]{3,4}", cvv):
            raise errors.Invalid("cvv", errors.MSG_INVALID)
        return Card.from_pan(pan, str(fields.get("card_holder") or ""), month, year)

    def _settle(self, invoice: Invoice, outcome: Outcome, now: float, fake: Any) -> None:
        invoice.settle_at = invoice.settle_outcome = None
        if outcome.kind == "processed":
            invoice.processed = int(now)
            invoice.rrn = fake.numerify("############")
            invoice.approval_code = fake.numerify("######")
            if invoice.tokenize or invoice.token:
                invoice.payload = {**(invoice.payload or {}), "token": self._token_for(invoice, now, fake)}
            self._move(invoice, PROCESSED, OK, now)
            return
        invoice.attempts += 1
        if invoice.attempts >= invoice.attempts_limit:
            # (doc) process_failed is final "due to the maximum number of attempts has been reached (default – 5)"
            self._move(invoice, PROCESS_FAILED, outcome.resolution, now)
            return
        # (doc) payment-request-workflow.md: process_error, "waiting for the next attempt": the payer may retry
        invoice.sale_started = False
        if invoice.token is None:
            invoice.card = None
        self._move(invoice, PROCESS_ERROR, outcome.resolution, now)

    def _token_for(self, invoice: Invoice, now: float, fake: Any) -> str:
        """(doc) docs/providers/payelata.md#callbacks: a successful tokenized payment yields a 32-character card
        token."""
        if invoice.token:
            return invoice.token
        assert invoice.card is not None and invoice.customer is not None
        token = random_id(fake, 32)
        self.tokens[token] = CardToken(token, invoice.customer["reference_id"], invoice.card, now)
        return token

    def _move(self, invoice: Invoice, status: str, resolution: str, now: float) -> None:
        if invoice.status == status and invoice.resolution == resolution:
            return
        invoice.status, invoice.resolution, invoice.updated = status, resolution, now
        self.events.append(Event(invoice.id, status, invoice.callback_url, invoice.test_mode, invoice.to_wire()))

    # -- time ----------------------------------------------------------------------------------

    def sweep(self, now: float, fake: Any) -> None:
        """Expire unpaid invoices; settle delayed sales whose time has come (called before every operation)."""
        for invoice in self.invoices.values():
            if invoice.settle_at is not None and invoice.settle_outcome is not None:
                if invoice.settle_at <= now:
                    self._settle(invoice, invoice.settle_outcome, now, fake)
            elif invoice.status in PAYABLE and not invoice.sale_started and invoice.expires_at <= now:
                self._move(invoice, EXPIRED, OK, now)  # (inferred) unpaid invoices expire with their session
            for refund in invoice.refunds:
                if refund.settle_at is not None and refund.settle_at <= now:
                    self._finish_refund(invoice, refund, now)
        for payout in self.payouts.values():
            if payout.status == CREATED and payout.expires_at <= now:
                self._move_payout(payout, EXPIRED, OK, now)  # (doc) payout-invoice.md: hit its lifetime

    def drain_events(self) -> list[Event]:
        events, self.events = self.events, []
        return events

    # -- scenario actions ----------------------------------------------------------------------

    def scenario_force_resolution(self, *, now: float, resolution: str = "issuer_decline") -> None:
        """Make the next sale fail with `resolution`, whatever the card."""
        self.forced.append(Outcome("failed", resolution))

    def scenario_force_3ds(self, *, now: float) -> None:
        """Make the next sale ask for 3-DS, whatever the card."""
        self.forced.append(Outcome("3ds", AUTH_3DS_REQUIRED))

    def scenario_expire_invoices(self, *, now: float) -> None:
        """Expire every unpaid invoice now."""
        for invoice in self.invoices.values():
            if invoice.status in PAYABLE and not invoice.sale_started:
                self._move(invoice, EXPIRED, OK, now)
