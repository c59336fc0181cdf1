"""Zai's rules in plain Python: users, token auths, the webhook secret
(docs/providers/zai.md#token-auths, #users, #token-auth-lifecycle, #webhooks)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.core.cards import TestCards, luhn_valid
from emulator.core.clock import iso, to_datetime
from emulator.core.tenants import Tenant
from emulator.providers.zai import errors

# (code: gem docs) docs/providers/zai.md#token-auth-lifecycle: "typically 1 hour"; unverified server-side
TOKEN_AUTH_LIFETIME = 3600
TOKEN_TYPES = ("bank", "card")  # (doc) docs/providers/zai.md#token-auths; the 2016 SDK's "eui" and "4" are refused
DEFAULT_TOKEN_TYPE = "bank"  # (doc) docs/providers/zai.md#token-auths
USER_TYPES = ("payin", "payout")  # (code) the gem's VALID_USER_TYPES
DEFAULT_LIMIT = 10  # (code, recorded) users_empty.yml: meta.limit 10
MAX_LIMIT = 200  # (code) promisepay-ruby: "Can ask for up to 200 users"
MIN_SECRET_BYTES = 32  # (code) docs/providers/zai.md#webhooks
TEST_WEBHOOK = {"message": "Zai callback test"}  # (doc) the webhooks test payload

# What a user create may carry (the gem's FIELD_MAPPING); anything else is ignored, as Rails does.
USER_FIELDS = (
    "id",
    "user_type",
    "email",
    "first_name",
    "last_name",
    "mobile",
    "phone",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "zip",
    "country",
    "dob",
    "government_number",
    "drivers_license_number",
    "drivers_license_state",
    "logo_url",
    "color_1",
    "color_2",
    "custom_descriptor",
    "authorized_signer_title",
    "device_id",
    "ip_address",
)
ADDRESS_FIELDS = ("address_line1", "address_line2", "city", "state", "zip", "country")
ENCRYPTED = "encrypted"  # (doc) docs/providers/zai.md#users: the 2019 OpenAPI example returns `dob: "encrypted"`
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COUNTRY = re.compile(r"^[A-Z]{3}$")  # (doc) ISO 3166-1 alpha-3 ("AUS", "USA")
DOB = re.compile(r"^\d{2}/\d{2}/\d{4}$")  # (code) the gem's DD/MM/YYYY


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def user_link_paths(user_id: str) -> dict[str, str]:
    """The sub-resource links of a user, in the recorded order (minus `self`)."""
    base = f"/users/{user_id}"
    return {
        "items": f"{base}/items",
        "card_accounts": f"{base}/card_accounts",
        "paypal_accounts": f"{base}/paypal_accounts",
        "bank_accounts": f"{base}/bank_accounts",
        "wallet_accounts": f"{base}/wallet_accounts",
    }


@dataclass
class User:
    id: str
    email: str
    first_name: str
    last_name: str | None
    country: str
    created_at: float
    address_id: str
    fields: dict[str, Any] = field(default_factory=dict)
    updated_at: float = 0.0
    wallet_account_id: str = ""
    disbursement_account_id: str | None = None

    @property
    def full_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)

    def to_wire(self, *, self_link: str | None = None) -> dict[str, Any]:
        """The full user object, keys in the recorded order (code, recorded) docs/providers/zai.md#users."""
        protected = {
            name: (ENCRYPTED if not _blank(self.fields.get(source)) else None)
            for name, source in (
                ("dob", "dob"),
                ("government_number", "government_number"),
                ("drivers_license", "drivers_license_number"),
            )
        }
        return {
            "created_at": iso(self.created_at, millis=True),
            "updated_at": iso(self.updated_at or self.created_at, millis=True),
            "full_name": self.full_name,
            "email": self.email,
            "mobile": self.fields.get("mobile"),
            "phone": self.fields.get("phone"),
            "logo_url": self.fields.get("logo_url"),
            "color_1": self.fields.get("color_1"),
            "color_2": self.fields.get("color_2"),
            "first_name": self.first_name,
            "last_name": self.last_name,
            "id": self.id,
            "location": self.country,
            "verification_state": "pending",
            "held_state": False,
            **protected,
            "flags": {},
            "related": {"addresses": self.address_id},
            # (code, recorded) the create response links `self` to "/users", a read to "/users/<id>"
            "links": {"self": self_link or f"/users/{self.id}", **user_link_paths(self.id)},
        }

    def summary(self) -> dict[str, Any]:
        """The list entry, keys in the recorded order (code, recorded: users_multiple.yml)."""
        return {
            "id": self.id,
            "full_name": self.full_name,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "created_at": iso(self.created_at, millis=True),
            "updated_at": iso(self.updated_at or self.created_at, millis=True),
            "email": self.email,
            "mobile": self.fields.get("mobile"),
            "phone": self.fields.get("phone"),
            "location": self.country,
            "links": {"self": f"/users/{self.id}", **user_link_paths(self.id)},
        }

    def matches(self, text: str) -> bool:
        needle = text.lower()
        return any(needle in (value or "").lower() for value in (self.id, self.email, self.full_name))


@dataclass
class TokenAuth:
    token: str
    token_type: str  # as echoed on the wire
    user_id: str
    created_at: float
    expires_at: float
    uses: int = 0

    def to_wire(self, *, timestamps: bool = False) -> dict[str, Any]:
        """(code, recorded) docs/providers/zai.md#token-auths: exactly token_type, token, user_id; the gem docs'
        timestamps on request."""
        body: dict[str, Any] = {"token_type": self.token_type, "token": self.token, "user_id": self.user_id}
        # (inferred) docs/providers/zai.md#token-auths: examples/token_auths.md shows them; no recording does
        if timestamps:
            body["created_at"] = iso(self.created_at)
            body["expires_at"] = iso(self.expires_at)
        return body


@dataclass
class PendingWebhook:
    """A webhook a scenario asked for; the next call of the tenant signs and sends it."""

    event: str
    body: Any
    url: str | None = None


# -- accounts, items, transactions, webhooks (docs/providers/zai.md#card-accounts … #webhook-subscriptions) ------------

IdFactory = Callable[[], str]
TEST_CARDS = TestCards.load(Path(__file__).with_name("cards.yaml"))  # docs/providers/zai.md#test-cards
CURRENCY = "AUD"  # (code, recorded) every recorded account and item
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
MAX_AMOUNT = 10**15  # (inferred) any larger amount is refused like a malformed one: it fits every state store
MIN_ITEM_AMOUNT = 100  # (code, recorded) items_updated_error.yml: "cost must be greater than or equal to 100"
PAYMENT_TYPES = (1, 2, 3, 4, 5, 6, 7)  # (code) the gem's validate_payment_type!
# (doc) 1 Escrow, 3 Escrow Partial Release and 4 Approve keep the funds until release (recorded: payment_type 1 ->
# payment_deposited); (doc) make_payment "will transition to … completed for an Express … payment type". (inferred)
# 5-7 complete as Express does.
HELD_PAYMENT_TYPES = (1, 3, 4)
# (doc) developer.hellozai.com/docs/statuses: item states and their codes.
ITEM_STATUS = {
    "pending": 22000,
    "payment_required": 22100,
    "wire_pending": 22110,
    "payment_pending": 22150,
    "payment_held": 22175,
    "payment_authorized": 22180,
    "void_pending": 22185,
    "fraud_hold": 22190,
    "voided": 22195,
    "payment_deposited": 22200,
    "work_completed": 22300,
    "problem_flagged": 22400,
    "problem_resolve_requested": 22410,
    "problem_escalated": 22420,
    "completed": 22500,
    "cancelled": 22575,
    "refunded": 22600,
    "refund_pending": 22610,
    "refund_flagged": 22650,
    "off_platform_refunded": 22670,
    "off_platform_chargedback": 22680,
    "partial_completed": 22700,
    "partial_paid": 22800,
}
PAYABLE = ("pending", "payment_required")  # (doc) states a payment may start from
CANCELLABLE = ("pending", "payment_required")  # (doc) "only … if they haven't been actioned in any other way"
# (inferred) funds received; (code, recorded) items_request_refund.yml: a flagged refund can still be refunded
REFUNDABLE = ("payment_deposited", "work_completed", "completed", "partial_completed", "refund_flagged")
ACCOUNT_TYPES = ("savings", "checking")  # (code) the gem's VALID_ACCOUNT_TYPES
HOLDER_TYPES = ("personal", "business")  # (code) the gem's VALID_HOLDER_TYPES
WEBHOOK_OBJECT_TYPES = (  # (doc) developer.hellozai.com/docs/webhooks, "Types of webhooks"
    "items",
    "users",
    "batch_transactions",
    "accounts",
    "transactions",
    "disbursements",
    "companies",
    "virtual_accounts",
    "pay_ids",
)
# (code, recorded) bank_accounts_validate_valid_number.yml: the one routing number the recording looked up.
ROUTING_NUMBERS = {
    "122235821": {
        "routing_number": "122235821",
        "customer_name": "US BANK NA",
        "address": "EP-MN-WN1A",
        "city": "ST. PAUL",
        "state_code": "MN",
        "zip": "55107",
        "zip_extension": "1419",
        "phone_area_code": "800",
        "phone_prefix": "937",
        "phone_suffix": "6310",
    }
}
MAX_JOBS = 1000  # (inferred) the jobs a webhook keeps, newest; older ones are forgotten as the outbox forgets
THREE_DS_PREFERENCES = ("automatic", "challenge", "any")  # (doc) make_payment_async request_three_d_secure


def card_brand(pan: str) -> str:
    """The card `type` by number prefix; (code, recorded) `visa`, `american_express`: ActiveMerchant's brand names."""
    if pan.startswith("4"):
        return "visa"
    if pan[:2] in ("34", "37"):
        return "american_express"
    if pan[:2] in {"51", "52", "53", "54", "55"} or 2221 <= int(pan[:4] or 0) <= 2720:
        return "master"
    if pan.startswith(("6011", "65")):
        return "discover"
    if pan[:2] in ("36", "38") or pan[:3] in {"300", "301", "302", "303", "304", "305"}:
        return "diners_club"
    if pan.startswith("35"):
        return "jcb"
    return "unknown"


def _masked_tail(value: str, keep: int, *, fixed: int | None = None) -> str:
    """(code, recorded) bank numbers as Zai shows them: `X`s and the last digits ("123123" -> "XXXXX3")."""
    hidden = fixed if fixed is not None else max(len(value) - keep, 0)
    return "X" * hidden + value[-keep:]


@dataclass
class CardAccount:
    """A card of one user: the masked last four digits and the test-card outcome, never the number or CVV."""

    id: str
    user_id: str
    full_name: str
    brand: str
    last4: str
    expiry_month: int
    expiry_year: int
    outcome: str  # cards.yaml outcome of the number it was made from
    three_ds: bool
    created_at: float
    updated_at: float
    active: bool = True

    def to_wire(self, *, self_link: str | None = None, with_card: bool = True) -> dict[str, Any]:
        """(code, recorded) card_accounts_created.yml (no `card`) and card_accounts_single.yml, keys in order."""
        body: dict[str, Any] = {
            "active": self.active,
            "created_at": iso(self.created_at, millis=True),
            "updated_at": iso(self.updated_at, millis=True),
            "id": self.id,
            "currency": CURRENCY,
        }
        if with_card:
            body["card"] = {
                "type": self.brand,
                "full_name": self.full_name,
                "number": f"XXXX-XXXX-XXXX-{self.last4}",  # (code, recorded) even for a 15-digit Amex
                "expiry_month": str(self.expiry_month),
                "expiry_year": str(self.expiry_year),
            }
        body["links"] = {"self": self_link or f"/card_accounts/{self.id}", "users": f"/card_accounts/{self.id}/users"}
        return body


@dataclass
class BankAccount:
    """A bank account of one user; the numbers are kept for `include_decrypted_fields` and shown masked."""

    id: str
    user_id: str
    bank_name: str
    country: str
    account_name: str
    routing_number: str
    account_number: str
    holder_type: str
    account_type: str
    created_at: float
    updated_at: float
    currency: str = CURRENCY
    iban: str | None = None
    swift_code: str | None = None
    active: bool = True

    def to_wire(
        self, *, self_link: str | None = None, created: bool = False, decrypted: bool = False
    ) -> dict[str, Any]:
        """(code, recorded) bank_accounts_created.yml (create) and bank_account_single.yml (reads), keys in order."""
        bank: dict[str, Any] = {
            "bank_name": self.bank_name,
            "country": self.country,
            "account_name": self.account_name,
            "routing_number": self.routing_number if decrypted else _masked_tail(self.routing_number, 1),
            "account_number": self.account_number if decrypted else _masked_tail(self.account_number, 3, fixed=3),
            "holder_type": self.holder_type,
            "account_type": self.account_type,
        }
        if self.iban is not None:  # (inferred) the UK field set echoes what it was given, masked like the number
            bank["iban"] = self.iban if decrypted else _masked_tail(self.iban, 4)
            bank["swift_code"] = self.swift_code
        links = {"self": self_link or f"/bank_accounts/{self.id}", "users": f"/bank_accounts/{self.id}/users"}
        if not created:
            bank["direct_debit_authority_status"] = None
            links["direct_debit_authorities"] = f"/bank_accounts/{self.id}/direct_debit_authorities"
        head = {"active": self.active, "created_at": iso(self.created_at, millis=True)}
        head["updated_at"] = iso(self.updated_at, millis=True)
        if created:
            return {**head, "id": self.id, "currency": self.currency, "bank": bank, "links": links}
        return {"id": self.id, **head, "currency": self.currency, "bank": bank, "links": links}


@dataclass
class WalletAccount:
    """A user's wallet: created with the user (code, recorded: users_wallet_account.yml), balance in cents."""

    id: str
    user_id: str
    created_at: float
    updated_at: float
    balance: int = 0
    active: bool = True

    def to_wire(self, *, self_link: str | None = None) -> dict[str, Any]:
        """(code, recorded) wallet_accounts_single.yml, keys in order."""
        base = f"/wallet_accounts/{self.id}"
        return {
            "id": self.id,
            "active": self.active,
            "created_at": iso(self.created_at, millis=True),
            "updated_at": iso(self.updated_at, millis=True),
            "balance": self.balance,
            "currency": CURRENCY,
            "links": {
                "self": self_link or base,
                "users": f"{base}/users",
                "batch_transactions": f"{base}/batch_transactions",
                "transactions": f"{base}/transactions",
            },
        }


@dataclass
class Transaction:
    """One money movement (doc: the 2.3 Transactions API example shape)."""

    id: str
    item_id: str | None
    description: str
    type: str  # payment | refund | release | deposit (doc)
    type_method: str  # credit_card | direct_debit | wallet_account_transfer | misc (doc)
    state: str  # successful | pending | failed (doc)
    user_id: str
    user_name: str
    account_id: str
    account_type: str  # card_account | bank_account | wallet_account | item (doc)
    amount: int
    debit_credit: str  # debit | credit (doc)
    created_at: float
    updated_at: float
    related: list[str] = field(default_factory=list)

    def to_wire(self, *, self_link: str | None = None) -> dict[str, Any]:
        base = f"/transactions/{self.id}"
        return {
            "id": self.id,
            "reference_id": self.item_id,
            "created_at": iso(self.created_at, millis=True),
            "updated_at": iso(self.updated_at, millis=True),
            "description": self.description,
            "type": self.type,
            "type_method": self.type_method,
            "state": self.state,
            "user_id": self.user_id,
            "user_name": self.user_name,
            "account_id": self.account_id,
            "account_type": self.account_type,
            "amount": self.amount,
            "currency": CURRENCY,
            "debit_credit": self.debit_credit,
            "related": {"transactions": list(self.related)},
            "links": {"self": self_link or base, "users": f"{base}/users"},
        }


@dataclass
class Item:
    """A payment between a buyer and a seller, and where it is in its state machine (doc: statuses)."""

    id: str
    name: str
    amount: int
    payment_type: int
    buyer_id: str
    seller_id: str
    deposit_reference: str
    created_at: float
    updated_at: float
    description: str | None = None
    currency: str = CURRENCY
    buyer_url: str = ""
    seller_url: str = ""
    fee_ids: list[str] = field(default_factory=list)
    state: str = "pending"
    payment_method: str = "pending"
    account_id: str | None = None  # the account that paid (or is authorized)
    paid_amount: int = 0
    refunded_amount: int = 0
    released_amount: int = 0
    pending_release_amount: int = 0
    refund_message: str | None = None
    last_refund_amount: int | None = None
    transaction_ids: list[str] = field(default_factory=list)
    flagged_from: str | None = None  # the state a request_refund left (decline_refund returns to it)
    payment_id: str | None = None  # make_payment_async
    payment_token: str | None = None

    @property
    def status(self) -> int:
        return ITEM_STATUS[self.state]

    def links(self, self_link: str) -> dict[str, str]:
        base = f"/items/{self.id}"
        return {
            "self": self_link,
            "buyers": f"{base}/buyers",
            "sellers": f"{base}/sellers",
            "status": f"{base}/status",
            "fees": f"{base}/fees",
            "transactions": f"{base}/transactions",
            "wire_details": f"{base}/wire_details",
            "bpay_details": f"{base}/bpay_details",
        }

    def to_wire(self, users: dict[str, User], *, self_link: str | None = None) -> dict[str, Any]:
        """(code, recorded) items_make_payment.yml / items_refund.yml (May 2016), keys in order."""
        buyer, seller = users[self.buyer_id], users[self.seller_id]
        settled = self.state in ("completed", "refunded")
        body: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "created_at": iso(self.created_at, millis=True),
            "updated_at": iso(self.updated_at, millis=True),
            "state": self.state,
            "net_amount": self.amount - self.refunded_amount,
            "refunded_amount": self.refunded_amount,
            "released_amount": self.released_amount,
            "buyer_fees": 0,
            "seller_fees": 0,
            "credit_card_fee": 0,
            "paypal_fee": 0,
            "seller_url": self.seller_url,
            "buyer_url": self.buyer_url,
            "direct_debit_fee": 0,
            "status": self.status,
            "amount": self.amount,
            "payment_type_id": self.payment_type,
            "due_date": None,
            "pending_release_amount": self.pending_release_amount,
            "deposit_reference": self.deposit_reference,
            "promisepay_fee": 0,  # (inferred) no fee schedule is emulated
            "total_outstanding": 0 if settled else self.amount - self.refunded_amount,
            "total_amount": self.amount,
            "currency": self.currency,
            "payment_method": self.payment_method,
        }
        if self.refund_message is not None or self.last_refund_amount is not None:
            body["refund_message"] = self.refund_message  # (code, recorded) items_refund.yml
            body["refund_amount"] = self.last_refund_amount
        body.update(
            {
                "buyer_name": buyer.full_name,
                "buyer_email": buyer.email,
                "buyer_country": buyer.country,
                "seller_name": seller.full_name,
                "seller_email": seller.email,
                "seller_country": seller.country,
                "payment_credit_card_enabled": True,
                "payment_direct_debit_enabled": True,
                "related": {"buyers": self.buyer_id, "sellers": self.seller_id},
                "links": self.links(self_link or f"/items/{self.id}"),
            }
        )
        return body

    def summary(self, users: dict[str, User]) -> dict[str, Any]:
        """(code, recorded) items_multiple.yml: the list entry, keys in order."""
        buyer, seller = users[self.buyer_id], users[self.seller_id]
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "created_at": iso(self.created_at, millis=True),
            "updated_at": iso(self.updated_at, millis=True),
            "state": self.state,
            "deposit_reference": self.deposit_reference,
            "payment_type_id": self.payment_type,
            "status": self.status,
            "amount": self.amount,
            "buyer_name": buyer.full_name,
            "buyer_country": buyer.country,
            "buyer_email": buyer.email,
            "seller_name": seller.full_name,
            "seller_country": seller.country,
            "seller_email": seller.email,
            "currency": self.currency,
            "links": self.links(f"/items/{self.id}"),
        }

    def wire_details(self) -> dict[str, Any]:
        """(code, recorded) items_wire_details.yml: where a buyer wires the funds."""
        return {
            "id": self.id,
            "wire_details": {
                "beneficiary": "PromisePay",
                "address_line1": "500 Bourke Street",
                "city": "Melbourne",
                "state": "VIC",
                "zip": "3000",
                "routing_number": "083001",
                "account_number": "844144573",
                "bank_name": "National Australia Bank",
                "swift": "NATAAU3303M",
                "reference": self.deposit_reference,
                "amount": f"${self.amount / 100:,.2f}",
                "currency": self.currency,
                "country": "Australia",
            },
        }


@dataclass
class Webhook:
    """A webhook subscription: one object type's changes POSTed to `url` (doc: developer.hellozai.com/docs/webhooks)."""

    id: str
    url: str
    object_type: str
    enabled: bool
    description: str | None
    created_at: float
    updated_at: float
    jobs: list[WebhookJob] = field(default_factory=list)

    def to_wire(self) -> dict[str, Any]:
        """(inferred) the Callbacks API object (doc), which webhooks replace: id, description, url, object_type…"""
        return {
            "id": self.id,
            "description": self.description,
            "url": self.url,
            "object_type": self.object_type,
            "enabled": self.enabled,
            "created_at": iso(self.created_at, millis=True),
            "updated_at": iso(self.updated_at, millis=True),
            "links": {"self": f"/webhooks/{self.id}", "jobs": f"/webhooks/{self.id}/jobs"},
        }


@dataclass
class WebhookJob:
    """One delivery of a webhook: the outbox message that carries it (its attempts are in /__admin/callbacks)."""

    id: str
    object_id: str
    delivery_id: str
    payload: Any
    created_at: float

    def to_wire(self, webhook: Webhook, status: str) -> dict[str, Any]:
        """(code) the gem's spec: id, status (success|failed), object_id, created_at; (inferred) the rest."""
        return {
            "id": self.id,
            "webhook_id": webhook.id,
            "object_id": self.object_id,
            "object_type": webhook.object_type,
            "status": status,
            "url": webhook.url,
            "payload": self.payload,
            "created_at": iso(self.created_at, millis=True),
            "links": {"self": f"/webhooks/{webhook.id}/jobs/{self.id}", "webhook": f"/webhooks/{webhook.id}"},
        }


@dataclass
class Notice:
    """A change the model reports for webhooks: the object type and its `Show` body (doc)."""

    object_type: str
    object_id: str
    body: dict[str, Any]


def _int(value: Any) -> int | None:
    """An integer the way Rails casts one (`"500"` -> 500); None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if abs(value) < MAX_AMOUNT else None
    if isinstance(value, str) and re.fullmatch(r"-?\d{1,15}", value.strip()):
        return int(value)
    return None


def _dollars(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [part for part in str(value).split(",") if part]  # (inferred) the gem also sends "id1,id2"


def _required(body: dict[str, Any], names: tuple[str, ...]) -> dict[str, list[str]]:
    """(code, recorded) `{"field": ["required field missing"]}` for each blank field, in order."""
    return {name: [errors.MSG_REQUIRED] for name in names if _blank(body.get(name))}


def validate_user(body: dict[str, Any]) -> dict[str, list[str]]:
    """Check a user create; keys and order as the recorded 422 (`address.country`, `firstname`, `email`)."""
    found: dict[str, list[str]] = {}
    if "id" in body and (_blank(body["id"]) or "." in str(body["id"])):
        found["id"] = [errors.MSG_INVALID_FORMAT]  # (code, recorded) wording; (code) gem: no "." allowed
    country = body.get("country")
    if _blank(country):
        found["address.country"] = [errors.MSG_BLANK]  # (code, recorded)
    elif not COUNTRY.match(str(country)):
        found["address.country"] = [errors.MSG_INVALID]  # (inferred)
    if _blank(body.get("first_name")):
        found["firstname"] = [errors.MSG_BLANK]  # (code, recorded): the model's attribute name
    email = body.get("email")
    if _blank(email):
        found["email"] = [errors.MSG_BLANK]  # (inferred) Rails' blank message
    elif not EMAIL.match(str(email)):
        found["email"] = [errors.MSG_INVALID]  # (code, recorded)
    if not _blank(body.get("user_type")) and str(body["user_type"]) not in USER_TYPES:
        found["user_type"] = [errors.MSG_NOT_IN_LIST]  # (inferred)
    if not _blank(body.get("dob")) and not DOB.match(str(body["dob"])):
        found["dob"] = [errors.MSG_INVALID]  # (inferred) the gem's DD/MM/YYYY
    return found


def token_type_for_wire(raw: Any, case: str) -> str:
    """Resolve the requested token type (docs/providers/zai.md#token-auths notes, docs/providers/zai.md#q3): default
    bank; case per the option."""
    if raw is None:
        return DEFAULT_TOKEN_TYPE
    text = str(raw)
    if case == "strict":
        if text not in TOKEN_TYPES:
            raise errors.ValidationFailed.one("token_type", errors.MSG_NOT_IN_LIST)
        return text
    if text.lower() not in TOKEN_TYPES:
        raise errors.ValidationFailed.one("token_type", errors.MSG_NOT_IN_LIST)
    return text if case == "as_sent" else text.lower()


@dataclass
class ZaiState:
    """One marketplace's users, token auths and webhook secret."""

    tenant: Tenant
    users: dict[str, User] = field(default_factory=dict)  # insertion order = creation order, as recorded
    token_auths: dict[str, TokenAuth] = field(default_factory=dict)
    webhook_secret: str | None = None
    pending_webhooks: list[PendingWebhook] = field(default_factory=list)
    access_tokens_issued: int = 0
    card_accounts: dict[str, CardAccount] = field(default_factory=dict)
    bank_accounts: dict[str, BankAccount] = field(default_factory=dict)
    wallet_accounts: dict[str, WalletAccount] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    transactions: dict[str, Transaction] = field(default_factory=dict)
    webhooks: dict[str, Webhook] = field(default_factory=dict)
    deposit_references: int = 0
    # Every user's email, lower-cased: a create checks it in one lookup (a walk of every user cost ~10 ms
    # a create with 10^5 users: `make bench ARGS=--scale`). Filled again for a state stored without it.
    user_emails: set[str] = field(default_factory=set)

    # -- users (docs/providers/zai.md#users) ---------------------------------------------------------------------------

    def create_user(
        self, body: dict[str, Any], *, now: float, new_id: str, address_id: str, wallet_id: str | None = None
    ) -> User:
        """Create a user; the id is the caller's (if given) or `new_id`; 422 on bad fields or a taken id."""
        problems = validate_user(body)
        if problems:
            raise errors.ValidationFailed(problems)
        user_id = str(body["id"]) if "id" in body else new_id
        if user_id in self.users:
            raise errors.ValidationFailed.one("base", errors.MSG_DUPLICATE_USER)
        email = str(body["email"])
        if len(self.user_emails) != len(self.users):  # a state stored before the index existed
            self.user_emails = {u.email.lower() for u in self.users.values()}
        if email.lower() in self.user_emails:
            raise errors.ValidationFailed.one("email", errors.MSG_TAKEN)  # (inferred) Rails' uniqueness message
        kept = {name: body[name] for name in USER_FIELDS if name in body}
        user = User(
            id=user_id,
            email=str(body["email"]),
            first_name=str(body["first_name"]),
            last_name=None if _blank(body.get("last_name")) else str(body["last_name"]),
            country=str(body["country"]),
            created_at=now,
            updated_at=now,
            address_id=address_id,
            fields=kept,
        )
        # (code, recorded) users_wallet_account.yml: a wallet exists (balance 0) right after the user is created
        wallet = WalletAccount(wallet_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"wallet:{user_id}")), user_id, now, now)
        user.wallet_account_id = wallet.id
        self.wallet_accounts[wallet.id] = wallet
        self.users[user_id] = user
        self.user_emails.add(email.lower())
        return user

    def get_user(self, user_id: str, *, unknown_user_style: str, field: str = "id") -> User:
        """Return a user of this marketplace; an unknown (or another marketplace's) id is refused."""
        user = self.users.get(user_id)
        if user is None:
            if unknown_user_style == "not_found":
                raise errors.RecordNotFound(field)  # (inferred) docs/providers/zai.md#errors candidate 2, opt-in
            raise errors.RecordNotAuthorized()  # (code, recorded) docs/providers/zai.md#errors
        return user

    def list_users(self, *, limit: int, offset: int, search: str | None) -> tuple[list[User], int]:
        """A page of users in creation order, and the total that matched."""
        users = list(self.users.values())
        if search:
            users = [u for u in users if u.matches(search)]  # (inferred) free text over id, email and name
        return users[offset : offset + limit], len(users)

    # -- token auths (docs/providers/zai.md#token-auths, #token-auth-lifecycle) ----------------------------------------

    def issue_token_auth(
        self, user_id: str, token_type: str, *, token: str, now: float, unknown_user_style: str
    ) -> TokenAuth:
        """Issue a fresh token for one of this marketplace's users; every call gives a new token
        (docs/providers/zai.md#token-auth-lifecycle)."""
        if _blank(user_id):
            raise errors.ValidationFailed.one("user_id", errors.MSG_REQUIRED)  # (code, recorded)
        self.get_user(user_id, unknown_user_style=unknown_user_style, field="user_id")
        issued = TokenAuth(token, token_type, user_id, now, now + TOKEN_AUTH_LIFETIME)
        self.token_auths[token] = issued
        return issued

    def redeem_token_auth(
        self, token: Any, token_type: str, *, now: float, strict: bool, field: str, claims_user: Any = None
    ) -> TokenAuth:
        """Use a token as PromisePay.js / hosted fields do: bound to its type (and user); when strict (the default
        option) it expires after an hour on the virtual clock and works once. Changes nothing when refused."""
        if _blank(token):
            raise errors.ValidationFailed.one(field, errors.MSG_REQUIRED)
        issued = self.token_auths.get(str(token))
        if issued is None or issued.token_type.lower() != token_type:
            raise errors.ValidationFailed.one(field, errors.MSG_TOKEN_INVALID)
        if not _blank(claims_user) and str(claims_user) != issued.user_id:
            raise errors.ValidationFailed.one(field, errors.MSG_TOKEN_INVALID)  # (inferred) bound to its user
        if strict and now >= issued.expires_at:
            raise errors.ValidationFailed.one(field, errors.MSG_TOKEN_EXPIRED)
        if strict and issued.uses:
            raise errors.ValidationFailed.one(field, errors.MSG_TOKEN_USED)
        return issued

    # -- accounts: shared lookups --------------------------------------------------------------------------------------

    def _user_for(self, user_id: Any, *, unknown_user_style: str) -> User:
        if _blank(user_id):
            raise errors.ValidationFailed.one("user_id", errors.MSG_REQUIRED)  # (code, recorded)
        return self.get_user(str(user_id), unknown_user_style=unknown_user_style, field="user_id")

    @staticmethod
    def _account_id(account_id: str) -> None:
        """(code, recorded) card_accounts_invalid.yml: an id that is not a UUID is refused before any lookup."""
        if not UUID.match(account_id):
            raise errors.ValidationFailed.one("id", errors.MSG_INVALID_FORMAT)

    def wallet_of(self, user_id: str) -> WalletAccount:
        """The user's wallet; one is made if the user predates wallets (state kept by an older payemu)."""
        user = self.users[user_id]
        wallet = self.wallet_accounts.get(user.wallet_account_id)
        if wallet is None:
            wallet = WalletAccount(str(uuid.uuid5(uuid.NAMESPACE_URL, f"wallet:{user_id}")), user_id, 0.0, 0.0)
            user.wallet_account_id = wallet.id
            self.wallet_accounts[wallet.id] = wallet
        return wallet

    # -- card accounts (docs/providers/zai.md#card-accounts) ---------------------------------------------------------

    def create_card_account(
        self, body: dict[str, Any], *, now: float, new_id: str, unknown_user_style: str
    ) -> CardAccount:
        """Validate a card (number, expiry on the virtual clock, CVV) and keep only its masked form and outcome."""
        user = self._user_for(body.get("user_id"), unknown_user_style=unknown_user_style)
        problems = _required(body, ("full_name", "number", "expiry_month", "expiry_year", "cvv"))
        pan = re.sub(r"[ -]", "", str(body.get("number") or ""))
        if "number" not in problems and not luhn_valid(pan):
            problems["number"] = [errors.MSG_CARD_NUMBER]
        month, year = _int(body.get("expiry_month")), _int(body.get("expiry_year"))
        if "expiry_month" not in problems and (month is None or not 1 <= month <= 12):
            problems["expiry_month"] = [errors.MSG_INVALID]
        if "expiry_year" not in problems and (year is None or not 1000 <= year <= 9999):
            problems["expiry_year"] = [errors.MSG_INVALID]
        if "cvv" not in problems and not re.fullmatch(r"\d{3,4}", str(body["cvv"])):
            problems["cvv"] = [errors.MSG_INVALID]
        if "full_name" not in problems and " " not in str(body["full_name"]).strip():
            problems["full_name"] = [errors.MSG_FULL_NAME]
        if month is not None and year is not None and not problems:
            today = to_datetime(now)
            if (year, month) < (today.year, today.month):
                problems["card"] = [errors.MSG_EXPIRED]
        if problems:
            raise errors.ValidationFailed(problems)
        assert month is not None and year is not None
        card = TEST_CARDS.find(pan)
        account = CardAccount(
            id=new_id,
            user_id=user.id,
            full_name=str(body["full_name"]).strip(),
            brand=card_brand(pan),
            last4=pan[-4:],
            expiry_month=month,
            expiry_year=year,
            outcome=TEST_CARDS.outcome(pan),
            three_ds=bool(card and card.three_ds),
            created_at=now,
            updated_at=now,
        )
        self.card_accounts[account.id] = account
        return account

    def card_account(self, account_id: str) -> CardAccount:
        """(code, recorded) card_accounts_unknown.yml: an unknown id is "not authorized"."""
        return self._account_in(self.card_accounts, account_id)

    def redact_card_account(self, account_id: str, *, now: float) -> CardAccount:
        """(code, recorded) card_accounts_deactivated.yml: DELETE redacts; the account can no longer pay."""
        return _redacted(self.card_account(account_id), now)

    def user_card_account(self, user_id: str, *, unknown_user_style: str) -> CardAccount:
        """(code, recorded) users_card_account.yml: the user's (newest active) card account, as one object."""
        return self._newest_active(self.card_accounts, user_id, unknown_user_style)

    def _account_in(self, accounts: dict[str, Any], account_id: str) -> Any:
        self._account_id(account_id)
        account = accounts.get(account_id)
        if account is None:
            raise errors.RecordNotAuthorized()
        return account

    def _newest_active(self, accounts: dict[str, Any], user_id: str, unknown_user_style: str) -> Any:
        self.get_user(user_id, unknown_user_style=unknown_user_style)
        found = [a for a in accounts.values() if a.user_id == user_id and a.active]
        if not found:
            raise errors.ValidationFailed.one("account", errors.MSG_NO_ACCOUNT)  # (code, recorded)
        return found[-1]

    # -- bank accounts (docs/providers/zai.md#bank-accounts) ---------------------------------------------------------

    def create_bank_account(
        self, body: dict[str, Any], *, now: float, new_id: str, unknown_user_style: str
    ) -> BankAccount:
        """The AU / US field set, or the UK one (iban + swift_code) for country GBR (code: the gem's create_uk)."""
        user = self._user_for(body.get("user_id"), unknown_user_style=unknown_user_style)
        names = ("bank_name", "account_name", "routing_number", "account_number", "account_type", "holder_type")
        uk = str(body.get("country") or "").upper() == "GBR"
        problems = _required(body, names + ("country",) + (("iban", "swift_code") if uk else ()))
        if "account_type" not in problems and str(body["account_type"]).lower() not in ACCOUNT_TYPES:
            problems["account_type"] = [errors.MSG_NOT_IN_LIST]
        if "holder_type" not in problems and str(body["holder_type"]).lower() not in HOLDER_TYPES:
            problems["holder_type"] = [errors.MSG_NOT_IN_LIST]
        if "country" not in problems and not COUNTRY.match(str(body["country"]).upper()):
            problems["country"] = [errors.MSG_INVALID]
        for name in ("routing_number", "account_number"):
            if name not in problems and not re.fullmatch(r"[0-9A-Za-z-]{1,34}", str(body[name])):
                problems[name] = [errors.MSG_INVALID]
        country = str(body.get("country") or "").upper()
        if (
            "routing_number" not in problems
            and country == "USA"
            and not re.fullmatch(r"\d{9}", str(body["routing_number"]))
        ):
            problems["routing_number"] = [errors.MSG_INVALID]  # (doc) a US ABA routing number has 9 digits
        if problems:
            raise errors.ValidationFailed(problems)
        account = BankAccount(
            id=new_id,
            user_id=user.id,
            bank_name=str(body["bank_name"]),
            country=country,
            account_name=str(body["account_name"]),
            routing_number=str(body["routing_number"]),
            account_number=str(body["account_number"]),
            holder_type=str(body["holder_type"]).lower(),
            account_type=str(body["account_type"]).lower(),
            created_at=now,
            updated_at=now,
            currency=str(body.get("currency") or ("GBP" if uk else "USD" if country == "USA" else CURRENCY)),
            iban=str(body["iban"]) if uk else None,
            swift_code=str(body["swift_code"]) if uk else None,
        )
        self.bank_accounts[account.id] = account
        return account

    def bank_account(self, account_id: str) -> BankAccount:
        """(code, recorded) bank_accounts_unknown.yml: as for card accounts."""
        return self._account_in(self.bank_accounts, account_id)

    def redact_bank_account(self, account_id: str, *, now: float) -> BankAccount:
        return _redacted(self.bank_account(account_id), now)

    def user_bank_account(self, user_id: str, *, unknown_user_style: str) -> BankAccount:
        return self._newest_active(self.bank_accounts, user_id, unknown_user_style)

    def set_disbursement_account(self, user_id: str, account_id: Any, *, unknown_user_style: str, now: float) -> User:
        """(code, recorded) users_disbursement_account.yml: the user's own active bank account receives payouts."""
        user = self.get_user(user_id, unknown_user_style=unknown_user_style)
        if _blank(account_id):
            raise errors.ValidationFailed.one("account_id", errors.MSG_REQUIRED)
        account = self.bank_accounts.get(str(account_id))
        if account is None or account.user_id != user.id:
            raise errors.ValidationFailed.one("account_id", errors.MSG_INVALID)  # (inferred)
        if not account.active:
            raise errors.ValidationFailed.one("account_id", errors.MSG_NOT_ACTIVE)
        user.disbursement_account_id, user.updated_at = account.id, now
        return user

    # -- wallet accounts (docs/providers/zai.md#wallet-accounts) -----------------------------------------------------

    def wallet_account(self, account_id: str) -> WalletAccount:
        self._account_id(account_id)
        wallet = self.wallet_accounts.get(account_id)
        if wallet is None:
            raise errors.WalletNotAuthorized()  # (code, recorded) wallet_accounts_unknown.yml
        return wallet

    def deposit(self, wallet_id: str, amount: int, *, now: float, ids: IdFactory) -> Transaction:
        """Credit a wallet (the admin action standing in for a bank transfer or PayID deposit)."""
        wallet = self.wallet_account(wallet_id)
        if not 0 < amount < MAX_AMOUNT:
            raise errors.ValidationFailed.one("amount", errors.MSG_INVALID)
        wallet.balance += amount
        wallet.updated_at = now
        user = self.users[wallet.user_id]
        return self._record(
            None,
            "deposit",
            "misc",
            "successful",
            user,
            wallet.id,
            "wallet_account",
            amount,
            "credit",
            f"Credit of {_dollars(amount)} to Wallet Account",
            now=now,
            ids=ids,
        )

    # -- items (docs/providers/zai.md#items) -------------------------------------------------------------------------

    def create_item(self, body: dict[str, Any], *, now: float, new_id: str, unknown_user_style: str) -> Item:
        """Validate and create an item in `pending`; a taken id is the recorded 422."""
        item_id = str(body["id"]) if not _blank(body.get("id")) else new_id
        if item_id in self.items:
            raise errors.ValidationFailed.one("base", errors.MSG_DUPLICATE_ITEM)  # (code, recorded)
        problems = _required(body, ("name", "amount", "payment_type", "buyer_id", "seller_id"))
        if "id" in body and (_blank(body["id"]) or "." in str(body["id"])):
            problems = {"id": [errors.MSG_INVALID_FORMAT], **problems}  # (code, recorded) wording
        amount, payment_type = _int(body.get("amount")), _int(body.get("payment_type"))
        if "amount" not in problems and (amount is None or amount < MIN_ITEM_AMOUNT):
            problems["cost"] = [errors.MSG_MIN_COST]  # (code, recorded) the model names it `cost`
        if "payment_type" not in problems and payment_type not in PAYMENT_TYPES:
            problems["payment_type"] = [errors.MSG_NOT_IN_LIST]  # (inferred)
        if problems:
            raise errors.ValidationFailed(problems)
        buyer = self.get_user(str(body["buyer_id"]), unknown_user_style=unknown_user_style, field="buyer_id")
        seller = self.get_user(str(body["seller_id"]), unknown_user_style=unknown_user_style, field="seller_id")
        if buyer.id == seller.id:
            raise errors.ValidationFailed.one("base", errors.MSG_SAME_PARTIES)
        assert amount is not None and payment_type is not None
        self.deposit_references += 1
        item = Item(
            id=item_id,
            name=str(body["name"]),
            amount=amount,
            payment_type=payment_type,
            buyer_id=buyer.id,
            seller_id=seller.id,
            # (code, recorded) 15 digits, e.g. "100014014266650"
            deposit_reference=f"1000140{14266650 + self.deposit_references:08d}",
            created_at=now,
            updated_at=now,
            description=None if body.get("description") is None else str(body["description"]),
            currency=str(body.get("currency") or CURRENCY).upper(),
            buyer_url=str(body.get("buyer_url") or ""),
            seller_url=str(body.get("seller_url") or ""),
            fee_ids=[str(f) for f in _as_list(body.get("fee_ids"))],
        )
        self.items[item.id] = item
        return item

    def get_item(self, item_id: str) -> Item:
        item = self.items.get(item_id)
        if item is None:
            raise errors.RecordNotAuthorized()  # (code, recorded) items_unknown.yml
        return item

    def update_item(self, item_id: str, body: dict[str, Any], *, now: float) -> Item:
        """Change name, description, urls, amount (only while pending; at least 100: the recorded `cost`)."""
        item = self.get_item(item_id)
        amount = _int(body["amount"]) if "amount" in body else item.amount
        if amount is None or amount < MIN_ITEM_AMOUNT:
            raise errors.ValidationFailed.one("cost", errors.MSG_MIN_COST)  # (code, recorded)
        if amount != item.amount and item.state not in PAYABLE:
            raise errors.invalid_transition("change the amount of", item.state)
        if "name" in body and _blank(body["name"]):
            raise errors.ValidationFailed.one("name", errors.MSG_BLANK)
        item.amount = amount
        for name in ("name", "description", "buyer_url", "seller_url"):
            if name in body and body[name] is not None:
                setattr(item, name, str(body[name]))
        item.updated_at = now
        return item

    def delete_item(self, item_id: str) -> None:
        """(inferred) only an item no money has touched can go."""
        item = self.get_item(item_id)
        if item.state not in ("pending", "cancelled"):
            raise errors.invalid_transition("delete", item.state)
        del self.items[item_id]

    def list_items(
        self, *, limit: int, offset: int, search: str | None, user_id: str | None = None
    ) -> tuple[list[Item], int]:
        found = [i for i in self.items.values() if user_id is None or user_id in (i.buyer_id, i.seller_id)]
        if search:
            needle = search.lower()
            found = [i for i in found if needle in f"{i.id} {i.name} {i.description or ''}".lower()]
        return found[offset : offset + limit], len(found)

    def item_transactions(self, item_id: str) -> list[Transaction]:
        return [self.transactions[t] for t in self.get_item(item_id).transaction_ids]

    # -- item actions: the state machine (doc: statuses, item actions) -----------------------------------------------

    def _paying_account(self, item: Item, account_id: Any) -> CardAccount | BankAccount | WalletAccount:
        """The buyer's own active card, bank or wallet account named by `account_id`."""
        if _blank(account_id):
            raise errors.ValidationFailed.one("account_id", errors.MSG_REQUIRED)
        key = str(account_id)
        account = self.card_accounts.get(key) or self.bank_accounts.get(key) or self.wallet_accounts.get(key)
        if account is None:
            raise errors.ValidationFailed.one("account_id", errors.MSG_INVALID)  # (inferred)
        if account.user_id != item.buyer_id:
            raise errors.ValidationFailed.one("account_id", errors.MSG_NOT_BUYERS)  # (inferred)
        if not account.active:
            raise errors.ValidationFailed.one("account_id", errors.MSG_NOT_ACTIVE)  # (inferred)
        return account

    @staticmethod
    def _check_card(account: CardAccount, cvv: Any) -> None:
        if cvv is not None and not re.fullmatch(r"\d{3,4}", str(cvv)):
            raise errors.ValidationFailed.one("cvv", errors.MSG_INVALID)
        if account.outcome in ("decline", "invalid_number"):
            raise errors.ValidationFailed.one("base", errors.MSG_DECLINED)
        if account.outcome == "insufficient_funds":
            raise errors.ValidationFailed.one("base", errors.MSG_NO_FUNDS_CARD)

    def make_payment(self, item_id: str, body: dict[str, Any], *, now: float, ids: IdFactory) -> Item:
        """Pay an item from the buyer's card (at once), bank account (direct debit: `payment_pending`) or wallet."""
        item = self.get_item(item_id)
        if item.state not in PAYABLE:
            raise errors.invalid_transition("make a payment on", item.state)
        account = self._paying_account(item, body.get("account_id"))
        if isinstance(account, CardAccount):
            self._check_card(account, body.get("cvv"))
            if account.three_ds:
                raise errors.ValidationFailed.one("base", errors.MSG_THREE_DS)  # (inferred) use make_payment_async
            self._funds_received(item, account, item.amount, now=now, ids=ids)
        elif isinstance(account, WalletAccount):
            if account.balance < item.amount:
                raise errors.ValidationFailed.one("base", errors.MSG_WALLET_FUNDS)
            account.balance -= item.amount
            account.updated_at = now
            self._funds_received(item, account, item.amount, now=now, ids=ids)
        else:
            # (doc) make_payment: "will transition to one of payment_held, payment_pending or completed"; a direct
            # debit waits for its funds to clear (admin action clear_direct_debit).
            item.state, item.payment_method, item.account_id = "payment_pending", "direct debit", account.id
            item.updated_at = now
            buyer = self.users[item.buyer_id]
            self._record(
                item,
                "payment",
                "direct_debit",
                "pending",
                buyer,
                account.id,
                "bank_account",
                item.amount,
                "debit",
                f"Debit of {_dollars(item.amount)} from Bank Account",
                now=now,
                ids=ids,
            )
        return item

    def make_payment_async(self, item_id: str, body: dict[str, Any], *, now: float, ids: IdFactory) -> Item:
        """(doc) make_payment_async: a card payment with 3-D Secure 2; the item waits in `pending` with a
        `payment_token` until the 3DS step ends (admin action three_d_secure), unless no challenge is needed."""
        item = self.get_item(item_id)
        if item.state not in PAYABLE:
            raise errors.invalid_transition("make a payment on", item.state)
        preference = body.get("request_three_d_secure", "automatic")
        if preference not in THREE_DS_PREFERENCES:
            raise errors.ValidationFailed.one("request_three_d_secure", errors.MSG_NOT_IN_LIST)
        account = self._paying_account(item, body.get("account_id"))
        if not isinstance(account, CardAccount):
            raise errors.ValidationFailed.one("account_id", errors.MSG_NOT_CARD)
        self._check_card(account, body.get("cvv"))
        item.payment_id = f"1000014{len(self.transactions) + 12533486:09d}"  # (doc) e.g. "1000014012533486"
        item.payment_token = ids().replace("-", "")
        item.account_id, item.updated_at = account.id, now
        if not account.three_ds and preference == "automatic":
            self._funds_received(item, account, item.amount, now=now, ids=ids)  # frictionless
        return item

    def complete_three_d_secure(self, item_id: str, *, approved: bool, now: float, ids: IdFactory) -> Item:
        """The 3DS2 challenge of a make_payment_async ends: approved pays the item; declined leaves it unpaid."""
        item = self.get_item(item_id)
        if item.payment_token is None or item.state not in PAYABLE or item.account_id is None:
            raise errors.invalid_transition("complete 3D Secure on", item.state)
        account = self.card_accounts[item.account_id]
        if approved:
            self._funds_received(item, account, item.amount, now=now, ids=ids)
        else:
            item.payment_token, item.account_id, item.updated_at = None, None, now
        return item

    def clear_direct_debit(self, item_id: str, *, now: float, ids: IdFactory) -> Item:
        """The direct debit of a `payment_pending` item clears: its funds arrive as a card payment's would."""
        item = self.get_item(item_id)
        if item.state != "payment_pending" or item.account_id is None:
            raise errors.invalid_transition("clear the direct debit of", item.state)
        for tid in item.transaction_ids:
            if self.transactions[tid].state == "pending":
                self.transactions[tid].state, self.transactions[tid].updated_at = "successful", now
        self._funds_received(item, self.bank_accounts[item.account_id], item.amount, now=now, ids=ids, debit=False)
        return item

    def authorize_payment(self, item_id: str, body: dict[str, Any], *, now: float) -> Item:
        """(doc) authorize_payment: hold the item amount on the buyer's card (`payment_authorized`)."""
        item = self.get_item(item_id)
        if item.state not in PAYABLE:
            raise errors.invalid_transition("authorize a payment on", item.state)
        account = self._paying_account(item, body.get("account_id"))
        if not isinstance(account, CardAccount):
            raise errors.ValidationFailed.one("account_id", errors.MSG_NOT_CARD)
        self._check_card(account, body.get("cvv"))
        item.state, item.account_id, item.payment_method, item.updated_at = (
            "payment_authorized",
            account.id,
            "credit card",
            now,
        )
        return item

    def capture_payment(self, item_id: str, body: dict[str, Any], *, now: float, ids: IdFactory) -> Item:
        """(doc) capture_payment: take the authorized amount, or part of it (`amount`)."""
        item = self.get_item(item_id)
        if item.state != "payment_authorized" or item.account_id is None:
            raise errors.invalid_transition("capture a payment on", item.state)
        amount = _int(body.get("amount")) if body.get("amount") is not None else item.amount
        if amount is None or amount <= 0:
            raise errors.ValidationFailed.one("amount", errors.MSG_INVALID)
        if amount > item.amount:
            raise errors.at_most("amount", item.amount)
        self._funds_received(item, self.card_accounts[item.account_id], amount, now=now, ids=ids)
        return item

    def void_payment(self, item_id: str, *, now: float) -> Item:
        """(doc) void_payment: release an authorization (`voided`)."""
        item = self.get_item(item_id)
        if item.state != "payment_authorized":
            raise errors.invalid_transition("void the payment of", item.state)
        item.state, item.updated_at = "voided", now
        return item

    def cancel_item(self, item_id: str, *, now: float) -> Item:
        """(code, recorded) items_cancel.yml: `pending` -> `cancelled` (22575)."""
        item = self.get_item(item_id)
        if item.state not in CANCELLABLE:
            raise errors.invalid_transition("cancel", item.state)
        item.state, item.updated_at = "cancelled", now
        return item

    def release_payment(self, item_id: str, *, now: float, ids: IdFactory) -> Item:
        """(code, recorded) items_release_payment.yml: escrowed funds go to the seller's wallet (`completed`)."""
        item = self.get_item(item_id)
        if item.state not in ("payment_deposited", "work_completed"):
            raise errors.invalid_transition("release the payment of", item.state)
        self._complete(item, now=now, ids=ids)
        return item

    def refund(self, item_id: str, body: dict[str, Any], *, now: float, ids: IdFactory) -> Item:
        """Refund all or part (`refund_amount`) of what was paid; money the seller already has comes back out of
        the seller's wallet, and a wallet payment goes back to the buyer's wallet."""
        item = self.get_item(item_id)
        if item.state not in REFUNDABLE:
            raise errors.invalid_transition("refund", item.state)
        refundable = item.paid_amount - item.refunded_amount
        amount = _int(body.get("refund_amount")) if body.get("refund_amount") is not None else refundable
        if amount is None or amount <= 0:
            raise errors.ValidationFailed.one("refund_amount", errors.MSG_INVALID)
        if amount > refundable:
            raise errors.at_most("refund_amount", refundable)
        base = (item.flagged_from or "payment_deposited") if item.state == "refund_flagged" else item.state
        seller_wallet = self.wallet_of(item.seller_id)
        if base == "completed" and seller_wallet.balance < amount:
            raise errors.ValidationFailed.one("base", errors.MSG_WALLET_FUNDS)
        item.state, item.flagged_from = base, None  # a flagged refund is resolved by this one
        buyer, seller = self.users[item.buyer_id], self.users[item.seller_id]
        if item.state == "completed":
            seller_wallet.balance -= amount
            seller_wallet.updated_at = now
            self._record(
                item,
                "refund",
                "wallet_account_transfer",
                "successful",
                seller,
                seller_wallet.id,
                "wallet_account",
                amount,
                "debit",
                f"Debit of {_dollars(amount)} from Wallet Account",
                now=now,
                ids=ids,
            )
        paid_from = item.account_id or ""
        if paid_from in self.wallet_accounts:
            self.wallet_accounts[paid_from].balance += amount
            self.wallet_accounts[paid_from].updated_at = now
            method, account_type = "wallet_account_transfer", "wallet_account"
        else:
            method = "credit_card" if paid_from in self.card_accounts else "direct_debit"
            account_type = "card_account" if paid_from in self.card_accounts else "bank_account"
        self._record(
            item,
            "refund",
            method,
            "successful",
            buyer,
            paid_from,
            account_type,
            amount,
            "credit",
            f"Refund of {_dollars(amount)} to the buyer",
            now=now,
            ids=ids,
        )
        item.refunded_amount += amount
        item.last_refund_amount = amount
        item.refund_message = None if body.get("refund_message") is None else str(body["refund_message"])
        if item.refunded_amount == item.paid_amount:
            item.state = "refunded"  # (code, recorded) items_refund.yml: 22600, net_amount 0
        item.updated_at = now
        return item

    def request_refund(self, item_id: str, body: dict[str, Any], *, now: float) -> Item:
        """(code, recorded) items_request_refund.yml: the buyer asks; the item waits in `refund_flagged` (22650)."""
        item = self.get_item(item_id)
        if item.state not in REFUNDABLE or item.state == "refund_flagged":
            raise errors.invalid_transition("request a refund of", item.state)
        refundable = item.paid_amount - item.refunded_amount
        amount = _int(body.get("refund_amount")) if body.get("refund_amount") is not None else refundable
        if amount is None or amount <= 0:
            raise errors.ValidationFailed.one("refund_amount", errors.MSG_INVALID)
        if amount > refundable:
            raise errors.at_most("refund_amount", refundable)
        item.flagged_from, item.state = item.state, "refund_flagged"
        item.last_refund_amount = amount
        item.refund_message = None if body.get("refund_message") is None else str(body["refund_message"])
        item.updated_at = now
        return item

    def decline_refund(self, item_id: str, *, now: float) -> Item:
        """(code, recorded) items_decline_refund.yml: back to the state before the request."""
        item = self.get_item(item_id)
        if item.state != "refund_flagged" or item.flagged_from is None:
            raise errors.invalid_transition("decline a refund of", item.state)
        item.state, item.flagged_from = item.flagged_from, None
        item.refund_message = item.last_refund_amount = None
        item.updated_at = now
        return item

    def _funds_received(
        self,
        item: Item,
        account: CardAccount | BankAccount | WalletAccount,
        amount: int,
        *,
        now: float,
        ids: IdFactory,
        debit: bool = True,
    ) -> None:
        """Money for the item has arrived: `payment_deposited` for the held payment types, else `completed`."""
        buyer = self.users[item.buyer_id]
        if isinstance(account, CardAccount):
            method, account_type, item.payment_method = "credit_card", "card_account", "credit card"
        elif isinstance(account, WalletAccount):
            method, account_type, item.payment_method = "wallet_account_transfer", "wallet_account", "wallet account"
        else:
            method, account_type, item.payment_method = "direct_debit", "bank_account", "direct debit"
        if debit:
            self._record(
                item,
                "payment",
                method,
                "successful",
                buyer,
                account.id,
                account_type,
                amount,
                "debit",
                f"Debit of {_dollars(amount)} from {account_type.replace('_', ' ').title()}",
                now=now,
                ids=ids,
            )
        item.account_id, item.paid_amount, item.updated_at = account.id, amount, now
        item.state = "payment_deposited"  # (code, recorded) items_make_payment.yml: payment_type 1 -> 22200
        if item.payment_type not in HELD_PAYMENT_TYPES:
            self._complete(item, now=now, ids=ids)

    def _complete(self, item: Item, *, now: float, ids: IdFactory) -> None:
        """Funds go to the seller's wallet: `completed` (22500)."""
        amount = item.paid_amount - item.refunded_amount
        wallet = self.wallet_of(item.seller_id)
        wallet.balance += amount
        wallet.updated_at = now
        seller = self.users[item.seller_id]
        self._record(
            item,
            "release",
            "wallet_account_transfer",
            "successful",
            seller,
            wallet.id,
            "wallet_account",
            amount,
            "credit",
            f"Credit of {_dollars(amount)} to Wallet Account by Debit from Item",
            now=now,
            ids=ids,
        )
        # (code, recorded) items_release_payment.yml: after release pending_release_amount is the amount, released 0
        item.state, item.pending_release_amount, item.updated_at = "completed", amount, now

    def _record(
        self,
        item: Item | None,
        kind: str,
        method: str,
        state: str,
        user: User,
        account_id: str,
        account_type: str,
        amount: int,
        debit_credit: str,
        description: str,
        *,
        now: float,
        ids: IdFactory,
    ) -> Transaction:
        transaction = Transaction(
            id=ids(),
            item_id=item.id if item else None,
            description=description,
            type=kind,
            type_method=method,
            state=state,
            user_id=user.id,
            user_name=user.full_name,
            account_id=account_id,
            account_type=account_type,
            amount=amount,
            debit_credit=debit_credit,
            created_at=now,
            updated_at=now,
        )
        self.transactions[transaction.id] = transaction
        if item is not None:
            item.transaction_ids.append(transaction.id)
        return transaction

    def get_transaction(self, transaction_id: str) -> Transaction:
        transaction = self.transactions.get(transaction_id)
        if transaction is None:
            raise errors.RecordNotAuthorized()  # (code, recorded) transactions_unknown.yml
        return transaction

    # -- webhook subscriptions (docs/providers/zai.md#webhook-subscriptions) -----------------------------------------

    def create_webhook(self, body: dict[str, Any], *, now: float, new_id: str) -> Webhook:
        problems = _required(body, ("url", "object_type"))
        if "url" not in problems and not re.match(r"^https?://[^\s/]+", str(body["url"])):
            problems["url"] = [errors.MSG_INVALID]
        if "object_type" not in problems and body["object_type"] not in WEBHOOK_OBJECT_TYPES:
            problems["object_type"] = [errors.MSG_NOT_IN_LIST]
        enabled = body.get("enabled", True)
        if not isinstance(enabled, bool):
            problems["enabled"] = [errors.MSG_INVALID]
        if problems:
            raise errors.ValidationFailed(problems)
        self._one_enabled(str(body["object_type"]), enabled, None)
        hook = Webhook(
            id=new_id,
            url=str(body["url"]),
            object_type=str(body["object_type"]),
            enabled=enabled,
            description=None if body.get("description") is None else str(body["description"]),
            created_at=now,
            updated_at=now,
        )
        self.webhooks[hook.id] = hook
        return hook

    def _one_enabled(self, object_type: str, enabled: bool, except_id: str | None) -> None:
        """(doc) "Only one webhook can be enabled for an object type"."""
        if enabled and any(
            h.enabled and h.object_type == object_type and h.id != except_id for h in self.webhooks.values()
        ):
            raise errors.ValidationFailed.one("object_type", errors.MSG_TAKEN)

    def get_webhook(self, webhook_id: str) -> Webhook:
        hook = self.webhooks.get(webhook_id)
        if hook is None:
            raise errors.RecordNotFound("id")  # (inferred) the webhooks API's answer is unrecorded
        return hook

    def update_webhook(self, webhook_id: str, body: dict[str, Any], *, now: float) -> Webhook:
        hook = self.get_webhook(webhook_id)
        merged = {"url": hook.url, "object_type": hook.object_type, "enabled": hook.enabled, **body}
        problems: dict[str, list[str]] = {}
        if _blank(merged["url"]) or not re.match(r"^https?://[^\s/]+", str(merged["url"])):
            problems["url"] = [errors.MSG_INVALID]
        if merged["object_type"] not in WEBHOOK_OBJECT_TYPES:
            problems["object_type"] = [errors.MSG_NOT_IN_LIST]
        if not isinstance(merged["enabled"], bool):
            problems["enabled"] = [errors.MSG_INVALID]
        if problems:
            raise errors.ValidationFailed(problems)
        self._one_enabled(str(merged["object_type"]), merged["enabled"], hook.id)
        hook.url, hook.object_type, hook.enabled = str(merged["url"]), str(merged["object_type"]), merged["enabled"]
        if "description" in body:
            hook.description = None if body["description"] is None else str(body["description"])
        hook.updated_at = now
        return hook

    def delete_webhook(self, webhook_id: str) -> None:
        self.get_webhook(webhook_id)
        del self.webhooks[webhook_id]

    def subscribers(self, object_type: str) -> list[Webhook]:
        return [h for h in self.webhooks.values() if h.enabled and h.object_type == object_type]

    # -- webhooks (docs/providers/zai.md#webhooks) ---------------------------------------------------------------------

    def set_webhook_secret(self, secret: Any) -> str:
        """Store the signing secret: ASCII, at least 32 bytes (code) docs/providers/zai.md#webhooks."""
        if _blank(secret):
            raise errors.ValidationFailed.one("secret_key", errors.MSG_REQUIRED)
        text = str(secret)
        if not text.isascii():
            raise errors.ValidationFailed.one("secret_key", errors.MSG_NOT_ASCII)
        if len(text.encode("ascii")) < MIN_SECRET_BYTES:
            raise errors.ValidationFailed.one("secret_key", errors.MSG_TOO_SHORT_SECRET)
        self.webhook_secret = text
        return text

    def drain_webhooks(self) -> list[PendingWebhook]:
        pending, self.pending_webhooks = self.pending_webhooks, []
        return pending

    # -- scenario actions (set_state) -----------------------------------------------------------------

    def scenario_send_webhook(
        self, *, now: float, event: str = "test", body: Any = None, url: str | None = None
    ) -> None:
        """Queue a signed webhook; by default Zai's test body `{"message": "Zai callback test"}` (doc, as
        summarised in api-evangelist/zai asyncapi/zai-webhooks.yml)."""
        self.pending_webhooks.append(PendingWebhook(event, body if body is not None else dict(TEST_WEBHOOK), url))

    def scenario_expire_token_auths(self, *, now: float) -> None:
        """Make every issued token auth expire now (matters in strict mode)."""
        for issued in self.token_auths.values():
            issued.expires_at = min(issued.expires_at, now)


def _redacted(account: Any, now: float) -> Any:
    """DELETE on an account redacts it: it stays readable and can no longer pay."""
    account.active, account.updated_at = False, now
    return account
