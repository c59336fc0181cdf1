"""EcommpayClient: Gate v2 card tokens (tokenize, card by token, revoke), card payments (sale, auth, capture,
cancel, refund, payout by card or token, 3-D Secure result, status) and callback verification.

It signs with its own implementation of the Gate signature (the Python port of the official PHP
`SignatureHandler`), never the emulator's: a shared bug would hide exactly what payemu exists to catch.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
from typing import Any

import requests


class EcommpayApiError(Exception):
    """The Gate rejected a request: HTTP status plus the Gate's `code` and `message`."""

    def __init__(self, status: int, code: str | None, message: str, body: Any = None) -> None:
        super().__init__(f"{status} {code or ''} {message}".strip())
        self.status = status
        self.code = code
        self.message = message
        self.body = body


class InvalidCallbackSignature(ValueError):
    """A callback whose signature does not verify with the project's secret."""


def _without_signatures(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _without_signatures(v) for k, v in data.items() if k not in ("signature", "frame_mode")}
    if isinstance(data, list):
        return [_without_signatures(v) for v in data]
    return data


def _php_text(value: Any) -> str:
    """A leaf as PHP's `(string)` casts it: booleans 1/0, null empty, floats to 14 significant digits."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if value is None:
        return ""
    if isinstance(value, float):
        text = f"{value:.14G}"
        if "E" in text:
            mantissa, exponent = text.split("E")
            mantissa = mantissa if "." in mantissa else mantissa + ".0"
            return f"{mantissa}E{exponent[0]}{int(exponent[1:])}"
        return text
    return str(value)


def _flatten(data: Any, prefix: str = "", *, escape: bool = True) -> dict[str, str]:
    flat: dict[str, str] = {}
    pairs = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in pairs:
        name = str(key).replace(":", "::") if escape else str(key)
        path = f"{prefix}:{name}" if prefix else name
        if isinstance(value, (dict, list)):
            flat.update(_flatten(value, path, escape=escape))
        else:
            flat[path] = _php_text(value) if escape else ("" if value is None else str(value))
    return flat


def _natural(key: str) -> tuple[Any, ...]:
    return tuple(int(chunk) if chunk.isdigit() else chunk for chunk in re.split(r"(\d+)", key))


def signature_of(params: dict[str, Any], secret: str, *, natural: bool = True) -> str:
    """Sign a request or callback body as the Gate does (all `signature` and `frame_mode` keys ignored): the
    official PHP SDK's form by default; `natural=False` gives the Python SDK's (lexicographic, no escaping)."""
    flat = _flatten(_without_signatures(params), escape=natural)
    keys = sorted(flat, key=_natural) if natural else sorted(flat)
    text = ";".join(f"{key}:{flat[key]}" for key in keys)
    mac = hmac.new(secret.encode(), text.encode(), hashlib.sha512).digest()
    return base64.b64encode(mac).decode()


class EcommpayClient:
    """One Ecommpay project (project_id + secret) talking to the Gate or to payemu."""

    def __init__(
        self,
        base_url: str,
        project_id: int,
        secret: str,
        *,
        timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.project_id = int(project_id)
        self.secret = secret
        self.timeout = timeout
        self.session = session or requests.Session()

    # -- requests --------------------------------------------------------------------------------

    def _post(self, path: str, body: dict[str, Any], *, holder: str = "customer", ack: bool = True) -> dict[str, Any]:
        body[holder]["signature"] = signature_of(body, self.secret)
        response = self.session.post(
            self.base_url + path,
            data=json.dumps(body),
            headers={"Content-Type": "application/json"},
            timeout=self.timeout,
        )
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code == 200 and isinstance(data, dict) and (data.get("status") == "success" or not ack):
            return data
        code = message = None
        if isinstance(data, dict):
            code, message = data.get("code"), data.get("message")
        raise EcommpayApiError(response.status_code, code, message or response.reason or "", data)

    def _customer(self, customer_id: str, **extra: Any) -> dict[str, Any]:
        return {"id": customer_id, "project_id": self.project_id, **extra}

    def tokenize(
        self,
        customer_id: str,
        pan: str,
        year: int,
        month: int,
        card_holder: str,
        *,
        ip_address: str = "127.0.0.1",
        **customer_extra: Any,
    ) -> dict[str, Any]:
        """Ask for a card token; returns the acknowledgement (`request_id`); the token comes in a callback."""
        body = {
            "customer": self._customer(customer_id, ip_address=ip_address, **customer_extra),
            "card": {"pan": pan, "year": year, "month": month, "card_holder": card_holder},
        }
        return self._post("/v2/customer/card/tokenize", body)

    def card_by_token(self, customer_id: str, token: str) -> dict[str, Any]:
        """Ask for the masked card behind a token; the account comes in a callback."""
        return self._post("/v2/customer/card/bytoken", {"customer": self._customer(customer_id), "token": token})

    def revoke_token(self, customer_id: str, token: str) -> dict[str, Any]:
        """Revoke a token; the result comes in a `token_revoke` callback."""
        return self._post("/v2/customer/card/token/revoke", {"customer": self._customer(customer_id), "token": token})

    # -- payments --------------------------------------------------------------------------------

    def _general(self, payment_id: str) -> dict[str, Any]:
        return {"project_id": self.project_id, "payment_id": payment_id}

    def _pay(
        self,
        path: str,
        payment_id: str,
        customer_id: str,
        amount: int,
        currency: str,
        *,
        ip_address: str,
        return_url: str | None,
        **source: Any,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "general": self._general(payment_id),
            "customer": {"id": customer_id, "ip_address": ip_address},
            "payment": {"amount": amount, "currency": currency},
            **source,
        }
        if return_url:
            body["acs_return_url"] = {"return_url": return_url}
        return self._post(path, body, holder="general")

    def sale(
        self,
        payment_id: str,
        customer_id: str,
        amount: int,
        currency: str,
        card: dict[str, Any],
        *,
        ip_address: str = "127.0.0.1",
        return_url: str | None = None,
    ) -> dict[str, Any]:
        """One-step purchase with card data (`pan`, `year`, `month`, `card_holder`, `cvv`); the result is a callback."""
        return self._pay(
            "/v2/payment/card/sale", payment_id, customer_id, amount, currency,
            ip_address=ip_address, return_url=return_url, card=card,
        )  # fmt: skip

    def sale_by_token(
        self,
        payment_id: str,
        customer_id: str,
        amount: int,
        currency: str,
        token: str,
        *,
        ip_address: str = "127.0.0.1",
        return_url: str | None = None,
    ) -> dict[str, Any]:
        """One-step purchase with a card token."""
        return self._pay(
            "/v2/payment/card/sale/token", payment_id, customer_id, amount, currency,
            ip_address=ip_address, return_url=return_url, token=token,
        )  # fmt: skip

    def auth(
        self,
        payment_id: str,
        customer_id: str,
        amount: int,
        currency: str,
        card: dict[str, Any],
        *,
        ip_address: str = "127.0.0.1",
        return_url: str | None = None,
    ) -> dict[str, Any]:
        """Hold funds on a card (card data as for `sale`); capture or cancel it later."""
        return self._pay(
            "/v2/payment/card/auth", payment_id, customer_id, amount, currency,
            ip_address=ip_address, return_url=return_url, card=card,
        )  # fmt: skip

    def payout(
        self,
        payment_id: str,
        customer_id: str,
        amount: int,
        currency: str,
        card: dict[str, Any],
        *,
        ip_address: str = "127.0.0.1",
    ) -> dict[str, Any]:
        """Pay out to a card (`pan`, `year`, `month`, `card_holder`)."""
        return self._pay(
            "/v2/payment/card/payout", payment_id, customer_id, amount, currency,
            ip_address=ip_address, return_url=None, card=card,
        )  # fmt: skip

    def auth_by_token(
        self,
        payment_id: str,
        customer_id: str,
        amount: int,
        currency: str,
        token: str,
        *,
        ip_address: str = "127.0.0.1",
        return_url: str | None = None,
    ) -> dict[str, Any]:
        """Hold funds with a card token; capture or cancel it later."""
        return self._pay(
            "/v2/payment/card/auth/token", payment_id, customer_id, amount, currency,
            ip_address=ip_address, return_url=return_url, token=token,
        )  # fmt: skip

    def payout_by_token(
        self,
        payment_id: str,
        customer_id: str,
        amount: int,
        currency: str,
        token: str,
        *,
        ip_address: str = "127.0.0.1",
    ) -> dict[str, Any]:
        """Pay out to the card behind a token."""
        return self._pay(
            "/v2/payment/card/payout/token", payment_id, customer_id, amount, currency,
            ip_address=ip_address, return_url=None, token=token,
        )  # fmt: skip

    def capture(self, payment_id: str, amount: int, currency: str) -> dict[str, Any]:
        """Capture a hold (all of it or less)."""
        body = {"general": self._general(payment_id), "payment": {"amount": amount, "currency": currency}}
        return self._post("/v2/payment/card/capture", body, holder="general")

    def cancel(self, payment_id: str) -> dict[str, Any]:
        """Release a hold."""
        return self._post("/v2/payment/card/cancel", {"general": self._general(payment_id)}, holder="general")

    def refund(
        self,
        payment_id: str,
        description: str,
        *,
        amount: int | None = None,
        currency: str | None = None,
        merchant_refund_id: str | None = None,
    ) -> dict[str, Any]:
        """Refund a purchase: all of what is left, or `amount` of `currency`."""
        payment: dict[str, Any] = {"description": description}
        if amount is not None:
            payment["amount"] = amount
        if currency is not None:
            payment["currency"] = currency
        if merchant_refund_id is not None:
            payment["merchant_refund_id"] = merchant_refund_id
        body = {"general": self._general(payment_id), "payment": payment}
        return self._post("/v2/payment/card/refund", body, holder="general")

    def three_ds_result(self, payment_id: str, pares: str, md: str) -> dict[str, Any]:
        """Pass the ACS answer (`PaRes` and `MD` posted to the TermUrl) on to the Gate."""
        body = {"general": self._general(payment_id), "pares": pares, "md": md}
        return self._post("/v2/payment/card/3ds_result", body, holder="general")

    def status(self, payment_id: str) -> dict[str, Any]:
        """The payment and all its operations, answered at once (`errors` with 3061 for an unknown payment)."""
        return self._post("/v2/payment/status", {"general": self._general(payment_id)}, holder="general", ack=False)

    # -- callbacks -------------------------------------------------------------------------------

    def verify_callback(self, raw_body: bytes | str) -> bool:
        """True when a callback body is signed with this project's secret (`signature` or `general.signature`)."""
        try:
            self.parse_callback(raw_body)
        except (InvalidCallbackSignature, ValueError):
            return False
        return True

    def parse_callback(self, raw_body: bytes | str) -> dict[str, Any]:
        """Decode a callback and check its signature; raise InvalidCallbackSignature if it does not verify."""
        data = json.loads(raw_body)
        if not isinstance(data, dict):
            raise InvalidCallbackSignature("a callback body is a JSON object")
        given = data.get("signature")
        general = data.get("general")
        if given is None and isinstance(general, dict):
            given = general.get("signature")
        if not isinstance(given, str) or not given:
            raise InvalidCallbackSignature("the callback carries no signature")
        unsigned = copy.deepcopy(data)
        for natural in (True, False):
            if hmac.compare_digest(signature_of(unsigned, self.secret, natural=natural), given):
                return data
        raise InvalidCallbackSignature("the callback signature does not verify")
