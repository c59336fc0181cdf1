"""Payture EWallet rules in plain Python: customers, cards, sessions, orders (docs/providers/payture.md).

One state per merchant: its Add and Pay terminals share customers, cards and OrderIds, as the two
terminals of one Payture merchant contract do. Methods take `now` (virtual Unix seconds) and raise
`PaytureError` with the ErrCode (docs/providers/payture.md#errcodes).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from calendar import monthrange
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from emulator.core.cards import TestCards, luhn_valid, mask_pan
from emulator.core.tenants import Tenant
from emulator.providers.payture.errors import PaytureError

IdFactory = Callable[[], str]

SESSION_TYPES = ("Add", "Pay", "Block")
CARD_ACTIVE = "IsActive"  # (code: wrapper) docs/providers/payture.md#getlist: the only Status value seen
MAX_LIST = 20  # (doc) docs/providers/payture.md#getlist: GetList returns at most 20 cards
MASK_FILL = "x"  # (doc)(code) docs/providers/payture.md#getlist: `411111xxxxxx1112`
# (code)(doc) docs/providers/payture.md#pay: CardId=FreePay pays with card data instead of a saved card
FREE_PAY = "FreePay"

# Order statuses as PayStatus reports them (doc) docs/providers/payture.md#order-statuses: (code, recorded)
# "Authorized"; the rest from Payture's status table.
NEW, PRE_3DS, AUTHORIZED, CHARGED, VOIDED, REFUNDED, REJECTED, ERROR, OBSOLETE = (
    "New",
    "PreAuthorized3DS",
    "Authorized",
    "Charged",
    "Voided",
    "Refunded",
    "Rejected",
    "Error",
    "Obsolete",
)
# (inferred) docs/providers/payture.md#order-statuses: the Pending group, named as the recorded GetState
# `PendingRefund` and the Engine*Pending notifications name their operations.
PENDING = {"block": "PendingBlock", "charge": "PendingCharge", "unblock": "PendingUnblock", "refund": "PendingRefund"}
CARD_NOT_ACTIVE = "NotActive"  # (inferred) docs/providers/payture.md#q4: a card waiting for Activate

TEST_CARDS = TestCards.load(Path(__file__).with_name("cards.yaml"))
# (inferred) docs/providers/payture.md#add-page: what a test card's outcome (cards.yaml) becomes in Payture's
# vocabulary.
OUTCOME_ERRCODES = {
    "decline": "ISSUER_FAIL",
    "amount_exceed": "AMOUNT_EXCEED",
    "issuer_blocked_card": "ISSUER_BLOCKED_CARD",
    "issuer_card_fail": "ISSUER_CARD_FAIL",
    "fraud": "FRAUD_ERROR_CRITICAL_CARD",
    "expired": "WRONG_CARD_INFO",
    "invalid_number": "WRONG_PAN",
    "3ds_fail": "THREE_DS_FAIL",
}
# A card's outcome that acts later, on an order it paid: the operation that times out or fails.
OPS = ("block", "charge", "unblock", "refund")
TIMEOUT_OPS = {f"timeout_{op}": op for op in OPS}
PROCESSING_ERROR_OPS = {f"processing_error_{op}": op for op in OPS}


def fingerprint(secret: str, pan: str) -> str:
    """Recognise a card again without keeping its number: keyed, since a plain hash of a PAN is reversible."""
    return hmac.new(secret.encode("ascii"), pan.encode(), hashlib.sha256).hexdigest()


def cvv_optional(pan: str) -> bool:
    """(doc) docs/providers/payture.md#test-cards: the documented cards without 3-D Secure take no CVV, except the
    one marked "CVV required"; every other card needs one (inferred)."""
    card = TEST_CARDS.find(pan)
    return card is not None and card.outcome == "success" and not card.three_ds


def card_expiry(month: int, year: int) -> float:
    """A card is valid through the last second of its expiry month (UTC)."""
    last_day = monthrange(year, month)[1]
    return datetime(year, month, last_day, 23, 59, 59, tzinfo=UTC).timestamp()


@dataclass
class Card:
    card_id: str
    card_name: str  # masked with 'x'; the full PAN is never kept
    holder: str
    exp_month: int
    exp_year: int
    added_at: float
    no_cvv: bool = False
    three_ds: bool = False  # enrolled in 3-D Secure; (doc) a saved-card payment takes none
    status: str = CARD_ACTIVE
    last_used_at: float | None = None
    removed: bool = False
    fingerprint: str = ""  # keyed (PaytureState.fingerprint_secret): DUPLICATE_CARD without keeping the PAN
    outcome: str = "success"  # the test card's outcome (cards.yaml): its time-outs and errors act on later orders
    activation_amount: int = 0  # kopecks held when the card was added, for Activate (option activation=hold)

    def expired(self, now: float) -> bool:
        return now > card_expiry(self.exp_month, self.exp_year)


@dataclass
class Customer:
    login: str
    password: str
    phone: str = ""
    email: str = ""
    registered_at: float = 0.0
    cards: dict[str, Card] = field(default_factory=dict)

    def live_cards(self) -> list[Card]:
        return [c for c in self.cards.values() if not c.removed]


@dataclass
class Session:
    session_id: str
    session_type: str
    login: str
    order_id: str
    amount: int
    url: str
    created_at: float
    expires_at: float
    attempts_left: int
    terminal: str
    ip: str = ""
    status: str = "New"  # New | Done | Failed
    pending_3ds: dict[str, Any] | None = None  # masked card awaiting the emulated ACS answer
    card_id: str = ""
    language: str = ""  # (doc) Init `Language`: RU | EN, the hosted page's language
    template_tag: str = ""  # (doc) Init `TemplateTag`: the merchant's page template
    offered_card_id: str = ""  # (doc) Init `CardId`: the saved card the Pay page offers first

    def expired(self, now: float) -> bool:
        return now >= self.expires_at


@dataclass
class Order:
    order_id: str
    login: str
    amount: int  # authorised (or paid) amount, kopecks
    session_type: str  # Pay (one step) | Block (two steps)
    created_at: float
    status: str = NEW
    card_id: str = ""
    session_id: str = ""
    charged: int = 0
    refunded: int = 0
    unblocked: int = 0
    three_ds_key: str = ""
    pending_status: str = ""  # the status a 3-DS order reaches once PaySubmit3DS confirms it
    card_outcome: str = "success"  # the paying card's test outcome: a time-out or error on a later operation
    card_name: str = ""  # masked
    busy_status: str = ""  # a Pending* status shown until busy_until (a time-out card's operation)
    busy_until: float = 0.0
    last_error: str = ""  # the ErrCode of the last operation on the order, "" when it succeeded
    # (doc) docs/providers/payture.md#order-statuses: earlier payment attempts on the hosted page; one left in
    # 3-D Secure when a new card is tried becomes Obsolete
    attempts: list[str] = field(default_factory=list)

    def status_at(self, now: float) -> str:
        """PayStatus's Status: a time-out card's operation stays Pending for its documented seconds."""
        return self.busy_status if self.busy_status and now < self.busy_until else self.status

    @property
    def current_amount(self) -> int:
        if self.status == CHARGED:
            return self.charged - self.refunded
        if self.status == AUTHORIZED:
            return self.amount - self.unblocked
        if self.status in (REFUNDED, VOIDED):
            return 0
        return self.amount


@dataclass
class CardInput:
    """Card data typed on the hosted page or sent with FreePay / Add; only used to decide, never stored."""

    pan: str
    month: str
    year: str
    holder: str
    cvv: str


@dataclass
class HostedResult:
    success: bool
    err_code: str = ""
    card: Card | None = None
    order: Order | None = None
    needs_3ds: bool = False
    three_ds_key: str = ""


@dataclass
class AddResult:
    """The merchant-side Add (or AddSubmit3DS): the saved card, a 3-DS step, or an ErrCode."""

    login: str
    card: Card | None = None
    err_code: str = ""
    three_ds_key: str = ""


@dataclass
class PaytureState:
    """One merchant (both terminals): customers by login, sessions by id, orders by OrderId."""

    tenant: Tenant
    customers: dict[str, Customer] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    pending_adds: dict[str, dict[str, Any]] = field(default_factory=dict)  # ThreeDSKey -> {login, card}
    confirm_codes: dict[str, str] = field(default_factory=dict)  # "<login>|<CardId>|<OrderId>" -> SendCode's code
    get_list_failure: str = ""  # ErrCode the next GetList answers with (scenario action), "" when healthy
    # The merchant's fingerprint key, kept with its state so a card is recognised across restarts and replicas.
    fingerprint_secret: str = field(default_factory=lambda: secrets.token_hex(32))

    # -- merchant-level checks -----------------------------------------------------------------

    def check_merchant_password(self, password: str | None) -> None:
        """(inferred) docs/providers/payture.md#check-update-delete, #order-level-commands: a wrong merchant password is
        refused as ACCESS_DENIED.

        A terminal admitted by --open-tenants has no known password: any one is accepted.
        """
        if self.tenant.admitted and password is not None:
            return
        if password is None or password != str(self.tenant.get("password", "")):
            raise PaytureError("ACCESS_DENIED")

    def customer(self, login: str, password: str) -> Customer:
        """The customer with these credentials; (code: enum, usage inferred) docs/providers/payture.md#getlist
        WRONG_USER_PARAMS."""
        customer = self.customers.get(login)
        if customer is None or customer.password != password:
            raise PaytureError("WRONG_USER_PARAMS")
        return customer

    # -- customers (docs/providers/payture.md#register, #check-update-delete) ------------------------------------------

    def register(self, login: str, password: str, *, now: float, phone: str = "", email: str = "") -> Customer:
        if login in self.customers:
            raise PaytureError("DUPLICATE_USER")  # (code: enum) docs/providers/payture.md#register
        customer = Customer(login, password, phone, email, now)
        self.customers[login] = customer
        return customer

    def check(self, login: str, password: str, *, now: float) -> Customer:
        if login not in self.customers:
            # (inferred) docs/providers/payture.md#check-update-delete: which code is unknown
            raise PaytureError("USER_NOT_FOUND")
        return self.customer(login, password)

    def update(
        self, login: str, password: str, *, now: float, phone: str | None = None, email: str | None = None
    ) -> Customer:
        customer = self.check(login, password, now=now)
        if phone is not None:
            customer.phone = phone
        if email is not None:
            customer.email = email
        return customer

    def delete(self, login: str, merchant_password: str | None, *, now: float) -> None:
        """(code: C# ExpandTransaction) docs/providers/payture.md#check-update-delete: Delete takes the merchant
        password, not the customer's."""
        self.check_merchant_password(merchant_password)
        if login not in self.customers:
            raise PaytureError("USER_NOT_FOUND")
        del self.customers[login]

    # -- sessions (docs/providers/payture.md#init, #add-page) ----------------------------------------------------------

    def order_id_taken(self, order_id: str) -> bool:
        """Every session opened with an OrderId has its order here from `init` on (orders are never removed),
        so one lookup answers it; a scan of the sessions made each Init slower as they piled up."""
        return order_id in self.orders

    def init(
        self,
        data: dict[str, str],
        *,
        now: float,
        new_id: IdFactory,
        terminal: str,
        lifetime_minutes: int,
        attempts: int,
        auto_register: bool = False,
    ) -> Session:
        """Open a payment page session: Add (card registration), Pay (one step) or Block (two steps)."""
        session_type = data["SessionType"]
        login, password = data["VWUserLgn"], data["VWUserPsw"]
        if login not in self.customers and auto_register and session_type == "Add":
            # (doc) docs/providers/payture.md#register: support can enable auto-registration
            self.register(login, password, now=now)
        self.customer(login, password)
        order_id, amount = "", 0
        if session_type != "Add":
            order_id = data["OrderId"]
            amount = int(data["Amount"])
            if amount <= 0:
                raise PaytureError("WRONG_AMOUNT")  # (inferred) outside min/max
            if self.order_id_taken(order_id):
                raise PaytureError("DUPLICATE_ORDER_ID")  # (code, recorded) docs/providers/payture.md#init
        session_id = new_id()
        while session_id in self.sessions:  # never hand out one SessionId twice
            session_id = new_id()
        session = Session(
            session_id=session_id,
            session_type=session_type,
            login=login,
            order_id=order_id,
            amount=amount,
            url=data.get("Url", ""),
            created_at=now,
            expires_at=now + lifetime_minutes * 60,
            attempts_left=attempts,
            terminal=terminal,
            ip=data.get("IP", ""),
            language=data.get("Language", ""),
            template_tag=data.get("TemplateTag", ""),
            offered_card_id=data.get("CardId", ""),
        )
        self.sessions[session_id] = session
        if order_id:
            self.orders[order_id] = Order(order_id, login, amount, session_type, now, session_id=session_id)
        return session

    def open_session(self, session_id: str, *, now: float) -> Session:
        """The session a hosted page serves; expired, used or exhausted sessions are refused."""
        session = self.sessions.get(session_id)
        if session is None:
            raise PaytureError("ORDER_NOT_FOUND")
        if session.expired(now):
            raise PaytureError("ORDER_TIME_OUT")  # (doc) docs/providers/payture.md#init: 60-minute sessions
        if session.status == "Done":
            raise PaytureError("OPERATION_NOT_ALLOWED")
        if session.attempts_left <= 0:
            raise PaytureError("LIMIT_EXCHAUST")
        return session

    def saved_cards(self, session: Session, now: float) -> list[Card]:
        """The cards a hosted Pay page offers (docs/providers/payture.md#hosted-pages): the customer's active ones, the
        card Init named first."""
        customer = self.customers.get(session.login)
        if customer is None or session.session_type == "Add":
            return []
        cards = [c for c in customer.live_cards() if c.status == CARD_ACTIVE and not c.expired(now)]
        cards.sort(key=lambda c: (c.card_id != session.offered_card_id, -(c.last_used_at or c.added_at)))
        return cards[:MAX_LIST]

    # -- test cards (docs/providers/payture.md#test-cards) -------------------------------------------------------------

    def judge(self, card: CardInput, now: float, forced: str | None = None) -> tuple[str | None, str, bool]:
        """(ErrCode or None, the card's outcome, whether it goes through 3-D Secure)."""
        problem = validate_card(card, now)
        test = TEST_CARDS.find(card.pan)
        if forced == "3ds":
            decided, three_ds = "success", True
        else:
            decided = forced or TEST_CARDS.outcome(card.pan)
            three_ds = forced is None and test is not None and test.three_ds
        if problem is None and decided in OUTCOME_ERRCODES:
            problem = OUTCOME_ERRCODES[decided]
        if problem is None and not card.cvv and not cvv_optional(card.pan):
            problem = "WRONG_CARD_INFO"  # (doc) the "CVV required" card, and (inferred) any card not documented
        return problem, decided, three_ds

    def new_card(
        self, card: CardInput, *, now: float, new_id: IdFactory, no_cvv: bool, three_ds: bool, outcome: str
    ) -> Card:
        saved = masked_card(card, now=now, new_id=new_id, no_cvv=no_cvv, three_ds=three_ds)
        saved.fingerprint = fingerprint(self.fingerprint_secret, card.pan.replace(" ", ""))
        saved.outcome = outcome
        return saved

    @staticmethod
    def duplicate(customer: Customer | None, card: Card) -> Card | None:
        """The customer's live card with the same fingerprint (docs/providers/payture.md#add: DUPLICATE_CARD)."""
        if customer is None:
            return None
        return next((c for c in customer.live_cards() if c.fingerprint and c.fingerprint == card.fingerprint), None)

    def _store_card(self, customer: Customer, card: Card, activation: str) -> None:
        if activation == "hold":
            # (doc) docs/providers/payture.md#activate: a small amount is held; Activate must name it.
            card.status = CARD_NOT_ACTIVE
            card.activation_amount = 100 + int(card.fingerprint[:4] or "0", 16) % 100
        customer.cards[card.card_id] = card

    # -- the hosted pages (docs/providers/payture.md#add-page, #pay) ---------------------------------------------------

    def submit_card(
        self,
        session_id: str,
        card: CardInput,
        *,
        now: float,
        new_id: IdFactory,
        outcome: str | None = None,
        no_cvv: bool = False,
        save: bool = False,
        activation: str = "none",
        timeout_seconds: float = 0,
    ) -> HostedResult:
        """Apply a card typed on the hosted page: validate it, then let the test card decide
        (docs/providers/payture.md#add-page)."""
        session = self.open_session(session_id, now=now)
        order = self.orders.get(session.order_id)
        if session.pending_3ds is not None and order is not None and order.status == PRE_3DS:
            order.attempts.append(OBSOLETE)  # the customer left the ACS page and tried again
            order.status, session.pending_3ds = NEW, None
        problem, decided, three_ds = self.judge(card, now, outcome)
        if problem is not None:
            return self._attempt_failed(session, problem, now)
        masked = self.new_card(card, now=now, new_id=new_id, no_cvv=no_cvv, three_ds=three_ds, outcome=decided)
        if session.session_type == "Add" and self.duplicate(self.customers.get(session.login), masked):
            return self._attempt_failed(session, "DUPLICATE_CARD", now)
        if three_ds:
            key = new_id()
            session.pending_3ds = {"key": key, "card": asdict(masked), "save": save}
            order = self.orders.get(session.order_id)
            if order is not None:
                order.status = PRE_3DS  # (doc) docs/providers/payture.md#order-statuses
            return HostedResult(False, needs_3ds=True, three_ds_key=key)
        return self._attempt_succeeded(session, masked, now, save, activation, timeout_seconds)

    def confirm_3ds(
        self,
        session_id: str,
        key: str,
        passed: bool,
        *,
        now: float,
        activation: str = "none",
        timeout_seconds: float = 0,
    ) -> HostedResult:
        """The emulated ACS answered for the card waiting on this session."""
        session = self.open_session(session_id, now=now)
        pending = session.pending_3ds
        if pending is None or pending["key"] != key:
            raise PaytureError("WRONG_PARAMS")
        session.pending_3ds = None
        if not passed:
            return self._attempt_failed(session, OUTCOME_ERRCODES["3ds_fail"], now)
        card = Card(**pending["card"])
        return self._attempt_succeeded(session, card, now, bool(pending.get("save")), activation, timeout_seconds)

    def pay_saved_on_page(
        self, session_id: str, card_id: str, *, now: float, timeout_seconds: float = 0
    ) -> HostedResult:
        """The hosted Pay page's saved card: one click, no CVV, no 3-D Secure (docs/providers/payture.md#pay)."""
        session = self.open_session(session_id, now=now)
        card = next((c for c in self.saved_cards(session, now) if c.card_id == card_id), None)
        if card is None:
            return self._attempt_failed(session, "WRONG_CARD", now)
        card.last_used_at = now
        return self._pay_order(session, card, now, timeout_seconds)

    def _attempt_failed(self, session: Session, code: str, now: float) -> HostedResult:
        session.attempts_left -= 1
        order = self.orders.get(session.order_id)
        if order is not None:
            order.last_error = code
            if order.status == PRE_3DS:
                order.status = NEW
        if session.attempts_left <= 0:
            session.status = "Failed"
            if order is not None:
                order.status = REJECTED
        return HostedResult(False, err_code=code, order=order)

    def _attempt_succeeded(
        self, session: Session, card: Card, now: float, save: bool, activation: str, timeout_seconds: float
    ) -> HostedResult:
        customer = self.customers.get(session.login)
        if session.session_type == "Add":
            if customer is None:  # deleted while the page was open
                return self._attempt_failed(session, "USER_NOT_FOUND", now)
            if self.duplicate(customer, card):
                return self._attempt_failed(session, "DUPLICATE_CARD", now)
            session.status = "Done"
            self._store_card(customer, card, activation)
            session.card_id = card.card_id
            return HostedResult(True, card=card)
        if save and customer is not None:
            # (doc) docs/providers/payture.md#add: "a card can be added ... while making a payment"; the same
            # card twice is kept once (inferred).
            existing = self.duplicate(customer, card)
            if existing is None:
                self._store_card(customer, card, "none")
            else:
                card = existing
            card.last_used_at = now
            session.card_id = card.card_id
        return self._pay_order(session, card, now, timeout_seconds, saved=save)

    def _pay_order(
        self, session: Session, card: Card, now: float, timeout_seconds: float, *, saved: bool = True
    ) -> HostedResult:
        order = self.orders[session.order_id]
        order.card_outcome, order.card_name = card.outcome, card.card_name
        order.card_id = card.card_id if saved else ""
        final = CHARGED if session.session_type == "Pay" else AUTHORIZED
        code = self._complete(order, "block" if final == AUTHORIZED else "pay", final, now, timeout_seconds)
        if code:
            session.attempts_left -= 1
            session.status = "Failed"
            return HostedResult(False, err_code=code, card=card, order=order)
        session.status = "Done"
        return HostedResult(True, card=card, order=order)

    # -- cards (docs/providers/payture.md#getlist, #remove, #add, #activate) -------------------------------------------

    def get_list(self, login: str, password: str, *, now: float) -> list[Card]:
        """Active, unremoved, unexpired cards, at most 20, last used (or added) first
        (docs/providers/payture.md#getlist)."""
        if self.get_list_failure:
            code, self.get_list_failure = self.get_list_failure, ""  # one call fails per scenario action
            raise PaytureError(code)
        customer = self.customer(login, password)
        cards = [c for c in customer.live_cards() if not c.expired(now)]
        cards.sort(key=lambda c: c.last_used_at or c.added_at, reverse=True)  # (inferred) most recent first
        return cards[:MAX_LIST]

    def remove(self, login: str, password: str, card_id: str, *, now: float) -> Card:
        customer = self.customer(login, password)
        card = customer.cards.get(card_id)
        if card is None or card.removed:
            raise PaytureError("WRONG_CARD")  # (inferred) "bad card or card state"
        card.removed = True
        return card

    def add_card(
        self,
        data: dict[str, str],
        card: CardInput,
        *,
        now: float,
        new_id: IdFactory,
        no_cvv: bool = False,
        activation: str = "none",
    ) -> AddResult:
        """The merchant-side Add (docs/providers/payture.md#add): card data in DATA, 3-D Secure for enrolled cards."""
        customer = self.customer(data["VWUserLgn"], data["VWUserPsw"])
        problem, decided, three_ds = self.judge(card, now)
        if problem is not None:
            return AddResult(customer.login, err_code=problem)
        saved = self.new_card(card, now=now, new_id=new_id, no_cvv=no_cvv, three_ds=three_ds, outcome=decided)
        if self.duplicate(customer, saved):
            return AddResult(customer.login, err_code="DUPLICATE_CARD")
        if three_ds:
            key = new_id()
            self.pending_adds[key] = {"login": customer.login, "card": asdict(saved)}
            return AddResult(customer.login, three_ds_key=key)
        self._store_card(customer, saved, activation)
        return AddResult(customer.login, card=saved)

    def add_submit_3ds(self, key: str, pa_res: str, *, now: float, activation: str = "none") -> AddResult:
        """(doc) docs/providers/payture.md#add: AddSubmit3DS finishes a 3-D Secure Add; PaRes "fail" fails it."""
        pending = self.pending_adds.pop(key, None)
        if pending is None:
            raise PaytureError("ORDER_NOT_FOUND")  # (inferred) an unknown or used MD
        customer = self.customers.get(pending["login"])
        if customer is None:
            return AddResult(pending["login"], err_code="USER_NOT_FOUND")
        if pa_res.strip().lower() == "fail":
            return AddResult(customer.login, err_code="THREE_DS_FAIL")
        card = Card(**pending["card"])
        if self.duplicate(customer, card):
            return AddResult(customer.login, err_code="DUPLICATE_CARD")
        self._store_card(customer, card, activation)
        return AddResult(customer.login, card=card)

    def activate(self, login: str, password: str, card_id: str, amount: int, *, now: float) -> Card:
        """(doc) docs/providers/payture.md#activate: name the amount held when the card was added."""
        card = self._live_card(login, password, card_id)
        if card.status == CARD_ACTIVE:
            raise PaytureError("WRONG_CARD")  # (inferred) nothing to activate
        if amount != card.activation_amount:
            raise PaytureError("WRONG_AUTH_CODE")  # (code: enum) "bad activation code"
        card.status = CARD_ACTIVE
        return card

    def send_code(self, login: str, password: str, card_id: str, order_id: str, *, code: str) -> Card:
        """(code: C# SDK, Necronru CustomerSendCode) docs/providers/payture.md#sendcode: a confirmation code for a
        payment with this card; Pay then needs it as ConfirmCode."""
        card = self._live_card(login, password, card_id)
        self.confirm_codes[f"{login}|{card_id}|{order_id}"] = code
        return card

    def _live_card(self, login: str, password: str, card_id: str) -> Card:
        card = self.customer(login, password).cards.get(card_id)
        if card is None or card.removed:
            raise PaytureError("WRONG_CARD")
        return card

    # -- merchant-side payments (docs/providers/payture.md#pay, #order-level-commands) ---------------------------------

    def pay(
        self,
        data: dict[str, str],
        *,
        now: float,
        new_id: IdFactory,
        card: CardInput | None = None,
        timeout_seconds: float = 0,
    ) -> Order:
        """Pay or block with a saved card (recurring: no CVV, no 3-D Secure) or with FreePay card data. A decline
        is kept on the order (Rejected, `last_error`); bad parameters raise and change nothing."""
        customer = self.customer(data["VWUserLgn"], data["VWUserPsw"])
        order_id, amount = data["OrderId"], int(data["Amount"])
        if amount <= 0:
            raise PaytureError("WRONG_AMOUNT")
        if self.order_id_taken(order_id):
            raise PaytureError("DUPLICATE_ORDER_ID")
        session_type = data.get("SessionType") or "Pay"
        if session_type not in ("Pay", "Block"):
            raise PaytureError("WRONG_PARAMS")
        order = Order(order_id, customer.login, amount, session_type, now)
        final = CHARGED if session_type == "Pay" else AUTHORIZED
        if data["CardId"] == FREE_PAY:
            if card is None:
                raise PaytureError("WRONG_PARAMS")
            problem, decided, three_ds = self.judge(card, now)
            if problem in ("WRONG_PAN", "WRONG_CARD_INFO", "WRONG_CARDHOLDER_NAME"):
                raise PaytureError(problem)  # card data Payture refuses before asking the issuer
            order.card_outcome, order.card_name = decided, mask_pan(card.pan, fill=MASK_FILL)
            self.orders[order_id] = order
            if problem:
                order.status, order.last_error = REJECTED, problem
                return order
            if three_ds:
                order.status, order.pending_status, order.three_ds_key = PRE_3DS, final, new_id()
                return order
        else:
            saved = customer.cards.get(data["CardId"])
            if saved is None or saved.removed or saved.status != CARD_ACTIVE:
                # (doc) docs/providers/payture.md#pay: the card must be IsActive
                raise PaytureError("WRONG_CARD")
            if saved.expired(now):
                raise PaytureError("WRONG_CARD_INFO")
            code_key = f"{customer.login}|{saved.card_id}|{order_id}"
            expected = self.confirm_codes.get(code_key)
            if expected is not None and data.get("ConfirmCode") != expected:
                raise PaytureError("WRONG_CONFIRM_CODE")  # (code: enum) docs/providers/payture.md#sendcode
            self.confirm_codes.pop(code_key, None)
            saved.last_used_at = now
            order.card_id, order.card_outcome, order.card_name = saved.card_id, saved.outcome, saved.card_name
            self.orders[order_id] = order
        self._complete(order, "block" if final == AUTHORIZED else "pay", final, now, timeout_seconds)
        return order

    def _complete(self, order: Order, op: str, final: str, now: float, timeout_seconds: float) -> str:
        """Finish `op` on the order as its card's test outcome says: a PROCESSING_ERROR card fails it (status Error),
        a time-out card leaves it Pending for `timeout_seconds` of virtual time (docs/providers/payture.md#test-cards).
        Returns the ErrCode, "" on success."""
        order.last_error = ""
        if PROCESSING_ERROR_OPS.get(order.card_outcome) == op:
            order.status = ERROR if op != "block" else REJECTED
            order.last_error = "PROCESSING_ERROR"
            return order.last_error
        order.status = final
        if op == "pay":
            order.charged = order.amount
        if TIMEOUT_OPS.get(order.card_outcome) == op and timeout_seconds > 0:
            order.busy_status, order.busy_until = PENDING[op], now + timeout_seconds
        return ""

    def submit_3ds(self, key: str, pa_res: str, *, now: float, timeout_seconds: float = 0) -> Order:
        """(doc) PaySubmit3DS: `MD` is the ThreeDSKey; any PaRes but "fail" passes the emulated ACS."""
        order = next((o for o in self.orders.values() if o.three_ds_key and o.three_ds_key == key), None)
        if order is None:
            raise PaytureError("ORDER_NOT_FOUND")
        if order.status != PRE_3DS:
            raise PaytureError("ILLEGAL_ORDER_STATE")
        if pa_res.strip().lower() == "fail":
            order.status, order.last_error = REJECTED, "THREE_DS_FAIL"
            return order
        final = order.pending_status
        self._complete(order, "block" if final == AUTHORIZED else "pay", final, now, timeout_seconds)
        return order

    def order(self, order_id: str, *, now: float) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise PaytureError("ORDER_NOT_FOUND")
        if order.status == NEW and order.session_id:
            session = self.sessions.get(order.session_id)
            if session is not None and session.expired(now):
                raise PaytureError("ORDER_TIME_OUT")  # (code, recorded) docs/providers/payture.md#order-level-commands
        return order

    def _ready(self, order_id: str, password: str | None, status: str, now: float) -> Order:
        self.check_merchant_password(password)
        order = self.order(order_id, now=now)
        if order.status_at(now) != status:
            raise PaytureError("ILLEGAL_ORDER_STATE")  # (doc) the order must be `status` (Pending ones are busy)
        return order

    def charge(
        self, order_id: str, amount: int | None, password: str | None, *, now: float, timeout_seconds: float = 0
    ) -> Order:
        """Capture a Block: the whole hold without `Amount` (doc), else at most the held amount
        (docs/providers/payture.md#order-level-commands)."""
        order = self._ready(order_id, password, AUTHORIZED, now)
        amount = order.current_amount if amount is None else amount
        if amount <= 0 or amount > order.current_amount:
            raise PaytureError("AMOUNT_ERROR")  # (code, recorded) docs/providers/payture.md#order-level-commands
        if self._complete(order, "charge", CHARGED, now, timeout_seconds) == "":
            order.charged = amount
        return order

    def unblock(self, order_id: str, password: str | None, *, now: float, timeout_seconds: float = 0) -> Order:
        """(doc) docs/providers/payture.md#order-level-commands: Unblock releases the whole hold; NewAmount is 0."""
        order = self._ready(order_id, password, AUTHORIZED, now)
        held = order.current_amount
        if self._complete(order, "unblock", VOIDED, now, timeout_seconds) == "":
            order.unblocked += held
        return order

    def refund(
        self, order_id: str, amount: int | None, password: str | None, *, now: float, timeout_seconds: float = 0
    ) -> Order:
        """Refund all (no `Amount`, inferred as for Charge) or part of a charged order; `NewAmount` is what stays
        charged, and a partial refund keeps the order Charged (doc) (docs/providers/payture.md#order-level-commands)."""
        order = self._ready(order_id, password, CHARGED, now)
        amount = order.current_amount if amount is None else amount
        if amount <= 0 or amount > order.current_amount:
            raise PaytureError("AMOUNT_ERROR")
        refunded = order.refunded + amount
        final = REFUNDED if refunded == order.charged else CHARGED
        if self._complete(order, "refund", final, now, timeout_seconds) == "":
            order.refunded = refunded
        return order

    def find_session(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)

    # -- scenario actions (set_state) ---------------------------------------------------------

    def scenario_expire_sessions(self, *, now: float) -> None:
        """Make every open session expire now (the customer took longer than SessionLifeTime)."""
        for session in self.sessions.values():
            session.expires_at = min(session.expires_at, now)

    def scenario_fail_get_list(self, *, now: float, err_code: str = "PROCESSING_ERROR") -> None:
        """Make the next GetList (or the wrapper's finalise) fail with `err_code`."""
        self.get_list_failure = err_code


HOLDER = re.compile(r"[A-Za-z][A-Za-z .'-]{2,}")  # (doc) docs/providers/payture.md#test-cards: Latin, 3+ characters


def validate_card(card: CardInput, now: float) -> str | None:
    """The ErrCode for card data Payture would refuse before asking the issuer, or None (inferred)."""
    pan = card.pan.replace(" ", "")
    documented = TEST_CARDS.find(pan) is not None  # two documented cards fail the Luhn check
    if not pan.isdigit() or not (13 <= len(pan) <= 19) or not (documented or luhn_valid(pan)):
        return "WRONG_PAN"
    month, year = _expiry(card)
    if month is None or year is None:
        return "WRONG_CARD_INFO"
    if now > card_expiry(month, year):
        return "WRONG_CARD_INFO"
    if not HOLDER.fullmatch(card.holder.strip()):
        return "WRONG_CARDHOLDER_NAME"
    if card.cvv and (not card.cvv.isdigit() or len(card.cvv) not in (3, 4)):
        return "WRONG_CARD_INFO"
    return None


def _expiry(card: CardInput) -> tuple[int | None, int | None]:
    month = int(card.month) if card.month.strip().isdigit() else None
    year = int(card.year) if card.year.strip().isdigit() else None
    if month is None or not 1 <= month <= 12:
        return None, None
    if year is not None and year < 100:
        year += 2000
    if year is None or year > 2100:
        return None, None
    return month, year


def masked_card(card: CardInput, *, now: float, new_id: IdFactory, no_cvv: bool, three_ds: bool) -> Card:
    """The card as Payture keeps it: masked number, holder, expiry, never the PAN or CVV."""
    month, year = _expiry(card)
    assert month is not None and year is not None
    pan = card.pan.replace(" ", "")
    return Card(
        card_id=new_id(),
        card_name=mask_pan(pan, fill=MASK_FILL),
        holder=card.holder.strip(),
        exp_month=month,
        exp_year=year,
        added_at=now,
        no_cvv=no_cvv,
        three_ds=three_ds,
    )
