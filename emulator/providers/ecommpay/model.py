"""Ecommpay's token rules in plain Python: tokenize, card by token, revoke, expiry (docs/providers/ecommpay.md).

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

    def tokenize(
        self, customer: dict[str, Any], card: dict[str, Any], *, now: float, new_token: Callable[[], str]
    ) -> tuple[CardToken, bool]:
        """Return the card's valid token (its expiry updated) or a new one; True when issued now
        (docs/providers/ecommpay.md#tokens)."""
        customer_id = str(customer["id"])
        print_ = fingerprint(self.fingerprint_secret, card["pan"])
        year, month = int(card["year"]), int(card["month"])
        existing = self.tokens.get(self.by_card.get(f"{customer_id}:{print_}", ""))
        if existing is not None and existing.status == ACTIVE and existing.expires_at > now:
            # (doc) docs/providers/ecommpay.md#tokens: a valid token is returned again; a different expiry updates it,
            # no new token
            existing.year, existing.month = year, month
            existing.expires_at = card_expires_at(year, month)
            existing.holder = card["card_holder"]
            self._contact(existing, customer)
            return existing, False
        token = new_token()
        while token in self.tokens:  # a 64-hex collision is astronomically unlikely; never reuse anyway
            token = new_token()
        record = CardToken(
            token=token,
            customer_id=customer_id,
            fingerprint=print_,
            number=mask_pan(card["pan"]),
            card_type=card_type(card["pan"]),
            holder=card["card_holder"],
            year=year,
            month=month,
            account_id=self._take_account_id(),
            created_at=now,
            expires_at=card_expires_at(year, month),
        )
        self._contact(record, customer)
        self.tokens[token] = record
        self.by_card[f"{customer_id}:{print_}"] = token
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
