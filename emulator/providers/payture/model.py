"""Payture EWallet rules in plain Python: customers, cards, sessions, orders (docs/providers/payture.md).

One state per merchant: its Add and Pay terminals share customers, cards and OrderIds, as the two
terminals of one Payture merchant contract do. Methods take `now` (virtual Unix seconds) and raise
`PaytureError` with the ErrCode (docs/providers/payture.md#errcodes).
"""

from __future__ import annotations

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

# Order statuses as PayStatus reports them: (code, recorded) "Authorized"; the others (inferred) from
# Payture's documented transaction states.
NEW, PRE_3DS, AUTHORIZED, CHARGED, VOIDED, REFUNDED, REJECTED = (
    "New",
    "PreAuthorized3DS",
    "Authorized",
    "Charged",
    "Voided",
    "Refunded",
    "Rejected",
)

TEST_CARDS = TestCards.load(Path(__file__).with_name("cards.yaml"))
# (inferred) docs/providers/payture.md#add-page: what a test card's outcome (cards.yaml) becomes in Payture's
# vocabulary.
OUTCOME_ERRCODES = {
    "decline": "ISSUER_FAIL",
    "insufficient_funds": "AMOUNT_EXCEED",
    "expired": "WRONG_CARD_INFO",
    "invalid_cvv": "WRONG_CARD_INFO",
    "invalid_number": "WRONG_PAN",
    "3ds_fail": "THREE_DS_FAIL",
}


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
    three_ds: bool = False  # a 3-DS test card: saved-card payments answer Success="3DS"
    status: str = CARD_ACTIVE
    last_used_at: float | None = None
    removed: bool = False

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
    """Card data typed on the hosted page or sent with FreePay; only used to decide, never stored."""

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
class PaytureState:
    """One merchant (both terminals): customers by login, sessions by id, orders by OrderId."""

    tenant: Tenant
    customers: dict[str, Customer] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    get_list_failure: str = ""  # ErrCode the next GetList answers with (scenario action), "" when healthy

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
        return order_id in self.orders or any(s.order_id == order_id for s in self.sessions.values())

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

    def submit_card(
        self,
        session_id: str,
        card: CardInput,
        *,
        now: float,
        new_id: IdFactory,
        outcome: str | None = None,
        no_cvv: bool = False,
    ) -> HostedResult:
        """Apply a card typed on the hosted page: validate it, then let the test card decide
        (docs/providers/payture.md#add-page)."""
        session = self.open_session(session_id, now=now)
        problem = validate_card(card, now)
        decided = outcome or TEST_CARDS.outcome(card.pan)
        if problem is None and decided in OUTCOME_ERRCODES:
            problem = OUTCOME_ERRCODES[decided]
        if problem is not None:
            return self._attempt_failed(session, problem, now)
        masked = masked_card(card, now=now, new_id=new_id, no_cvv=no_cvv, three_ds=decided == "3ds")
        if decided == "3ds":
            key = new_id()
            session.pending_3ds = {"key": key, "card": asdict(masked)}
            return HostedResult(False, needs_3ds=True, three_ds_key=key)
        return self._attempt_succeeded(session, masked, now)

    def confirm_3ds(self, session_id: str, key: str, passed: bool, *, now: float) -> HostedResult:
        """The emulated ACS answered for the card waiting on this session."""
        session = self.open_session(session_id, now=now)
        pending = session.pending_3ds
        if pending is None or pending["key"] != key:
            raise PaytureError("WRONG_PARAMS")
        session.pending_3ds = None
        if not passed:
            return self._attempt_failed(session, OUTCOME_ERRCODES["3ds_fail"], now)
        return self._attempt_succeeded(session, Card(**pending["card"]), now)

    def _attempt_failed(self, session: Session, code: str, now: float) -> HostedResult:
        session.attempts_left -= 1
        if session.attempts_left <= 0:
            session.status = "Failed"
            order = self.orders.get(session.order_id)
            if order is not None:
                order.status = REJECTED
        return HostedResult(False, err_code=code)

    def _attempt_succeeded(self, session: Session, card: Card, now: float) -> HostedResult:
        session.status = "Done"
        if session.session_type == "Add":
            customer = self.customers.get(session.login)
            if customer is None:  # deleted while the page was open
                return self._attempt_failed(session, "USER_NOT_FOUND", now)
            customer.cards[card.card_id] = card
            session.card_id = card.card_id
            return HostedResult(True, card=card)
        # (inferred) docs/providers/payture.md#pay: a card typed on the Pay page pays the order and is not saved.
        order = self.orders[session.order_id]
        order.status = CHARGED if session.session_type == "Pay" else AUTHORIZED
        order.charged = order.amount if order.status == CHARGED else 0
        return HostedResult(True, card=card, order=order)

    # -- cards (docs/providers/payture.md#getlist, #remove) ------------------------------------------------------------

    def get_list(self, login: str, password: str, *, now: float) -> list[Card]:
        """Active, unremoved, unexpired cards, at most 20, last used (or added) first
        (docs/providers/payture.md#getlist)."""
        if self.get_list_failure:
            code, self.get_list_failure = self.get_list_failure, ""  # one call fails per scenario action
            raise PaytureError(code)
        customer = self.customer(login, password)
        cards = [c for c in customer.cards.values() if not c.removed and not c.expired(now)]
        cards.sort(key=lambda c: c.last_used_at or c.added_at, reverse=True)  # (inferred) most recent first
        return cards[:MAX_LIST]

    def remove(self, login: str, password: str, card_id: str, *, now: float) -> Card:
        customer = self.customer(login, password)
        card = customer.cards.get(card_id)
        if card is None or card.removed:
            raise PaytureError("WRONG_CARD")  # (inferred) "bad card or card state"
        card.removed = True
        return card

    # -- merchant-side payments (docs/providers/payture.md#pay, #order-level-commands) ---------------------------------

    def pay(self, data: dict[str, str], *, now: float, new_id: IdFactory, card: CardInput | None = None) -> Order:
        """Pay or block with a saved card (CVV unless NoCVV) or with FreePay card data."""
        customer = self.customer(data["VWUserLgn"], data["VWUserPsw"])
        order_id, amount = data["OrderId"], int(data["Amount"])
        if amount <= 0:
            raise PaytureError("WRONG_AMOUNT")
        if self.order_id_taken(order_id):
            raise PaytureError("DUPLICATE_ORDER_ID")
        session_type = data.get("SessionType") or "Pay"
        three_ds = False
        card_id = data["CardId"]
        if card_id == FREE_PAY:
            if card is None:
                raise PaytureError("WRONG_PARAMS")
            problem = validate_card(card, now)
            decided = TEST_CARDS.outcome(card.pan)
            if problem is None and decided in OUTCOME_ERRCODES:
                problem = OUTCOME_ERRCODES[decided]
            if problem:
                raise PaytureError(problem)
            three_ds, card_id = decided == "3ds", ""
        else:
            saved = customer.cards.get(card_id)
            if saved is None or saved.removed:
                raise PaytureError("WRONG_CARD")
            if saved.expired(now):
                raise PaytureError("WRONG_CARD_INFO")
            if not saved.no_cvv and not data.get("SecureCode"):
                # (inferred) docs/providers/payture.md#pay: CVV may be omitted only when NoCVV
                raise PaytureError("WRONG_CARD_INFO")
            three_ds = saved.three_ds
            saved.last_used_at = now
        order = Order(order_id, customer.login, amount, session_type, now, card_id=card_id)
        final = CHARGED if session_type == "Pay" else AUTHORIZED
        if three_ds:
            order.status, order.pending_status, order.three_ds_key = PRE_3DS, final, new_id()
        else:
            order.status = final
            order.charged = amount if final == CHARGED else 0
        self.orders[order_id] = order
        return order

    def submit_3ds(self, key: str, pa_res: str, *, now: float) -> Order:
        """(inferred) PaySubmit3DS: `MD` is the ThreeDSKey, any PaRes but "fail" passes the emulated ACS."""
        order = next((o for o in self.orders.values() if o.three_ds_key and o.three_ds_key == key), None)
        if order is None:
            raise PaytureError("ORDER_NOT_FOUND")
        if order.status != PRE_3DS:
            raise PaytureError("ILLEGAL_ORDER_STATE")
        if pa_res.strip().lower() == "fail":
            order.status = REJECTED
            raise PaytureError("THREE_DS_FAIL")
        order.status = order.pending_status
        order.charged = order.amount if order.status == CHARGED else 0
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

    def charge(self, order_id: str, amount: int, password: str | None, *, now: float) -> Order:
        """Complete a two-step payment for at most the authorised amount
        (docs/providers/payture.md#order-level-commands)."""
        self.check_merchant_password(password)
        order = self.order(order_id, now=now)
        if order.status != AUTHORIZED:
            raise PaytureError("ILLEGAL_ORDER_STATE")
        if amount <= 0 or amount > order.current_amount:
            raise PaytureError("AMOUNT_ERROR")  # (code, recorded) docs/providers/payture.md#order-level-commands
        order.status, order.charged = CHARGED, amount
        return order

    def unblock(self, order_id: str, amount: int, password: str | None, *, now: float) -> Order:
        """Release all or part of a hold; the order is voided when nothing stays held
        (docs/providers/payture.md#order-level-commands)."""
        self.check_merchant_password(password)
        order = self.order(order_id, now=now)
        if order.status != AUTHORIZED:
            raise PaytureError("ILLEGAL_ORDER_STATE")
        if amount <= 0 or amount > order.current_amount:
            raise PaytureError("AMOUNT_ERROR")
        order.unblocked += amount
        if order.current_amount == 0:
            order.status = VOIDED
        return order

    def refund(self, order_id: str, amount: int, password: str | None, *, now: float) -> Order:
        """Refund all or part of a charged order; `NewAmount` is what stays charged
        (docs/providers/payture.md#order-level-commands)."""
        self.check_merchant_password(password)
        order = self.order(order_id, now=now)
        if order.status != CHARGED:
            raise PaytureError("ILLEGAL_ORDER_STATE")
        if amount <= 0 or amount > order.current_amount:
            raise PaytureError("AMOUNT_ERROR")
        order.refunded += amount
        if order.current_amount == 0:
            order.status = REFUNDED
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


def validate_card(card: CardInput, now: float) -> str | None:
    """The ErrCode for card data Payture would refuse before asking the issuer, or None (inferred)."""
    pan = card.pan.replace(" ", "")
    if not (13 <= len(pan) <= 19) or not luhn_valid(pan):
        return "WRONG_PAN"
    month, year = _expiry(card)
    if month is None or year is None:
        return "WRONG_CARD_INFO"
    if now > card_expiry(month, year):
        return "WRONG_CARD_INFO"
    if not card.holder.strip():
        return "WRONG_CARDHOLDER_NAME"
    if not card.cvv.isdigit() or len(card.cvv) not in (3, 4):
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
