"""Zai's rules in plain Python: users, token auths, the webhook secret
(docs/providers/zai.md#token-auths, #users, #token-auth-lifecycle, #webhooks)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from emulator.core.clock import iso
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

    # -- users (docs/providers/zai.md#users) ---------------------------------------------------------------------------

    def create_user(self, body: dict[str, Any], *, now: float, new_id: str, address_id: str) -> User:
        """Create a user; the id is the caller's (if given) or `new_id`; 422 on bad fields or a taken id."""
        problems = validate_user(body)
        if problems:
            raise errors.ValidationFailed(problems)
        user_id = str(body["id"]) if "id" in body else new_id
        if user_id in self.users:
            raise errors.ValidationFailed.one("base", errors.MSG_DUPLICATE_USER)
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
        self.users[user_id] = user
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

    def redeem_token_auth(self, token: str, token_type: str, *, now: float, strict: bool) -> TokenAuth:
        """Use a token as PromisePay.js would: bound to its type; expiry and single use only when strict."""
        issued = self.token_auths.get(token)
        if issued is None or issued.token_type.lower() != token_type.lower():
            raise errors.RecordNotAuthorized()
        if strict and (now >= issued.expires_at or issued.uses):
            # (inferred) docs/providers/zai.md#token-auth-lifecycle: unverified; only in strict mode
            raise errors.RecordNotAuthorized()
        issued.uses += 1
        return issued

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
        self, *, now: float, event: str = "status_updated", body: Any = None, url: str | None = None
    ) -> None:
        """Queue a signed webhook (default body `{"event": <event>}`, the test vector's (docs/providers/zai.md#webhooks)
        shape)."""
        self.pending_webhooks.append(PendingWebhook(event, body if body is not None else {"event": event}, url))

    def scenario_expire_token_auths(self, *, now: float) -> None:
        """Make every issued token auth expire now (matters in strict mode)."""
        for issued in self.token_auths.values():
            issued.expires_at = min(issued.expires_at, now)
