"""EcommpayClient: Gate v2 card tokens (tokenize, card by token, revoke) and callback verification.

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


def _flatten(data: Any, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    pairs = data.items() if isinstance(data, dict) else enumerate(data)
    for key, value in pairs:
        path = f"{prefix}:{key}" if prefix else str(key)
        if isinstance(value, (dict, list)):
            flat.update(_flatten(value, path))
        elif isinstance(value, bool):
            flat[path] = "1" if value else "0"
        elif value is None:
            flat[path] = ""
        else:
            flat[path] = str(value)
    return flat


def _natural(key: str) -> tuple[Any, ...]:
    return tuple(int(chunk) if chunk.isdigit() else chunk for chunk in re.split(r"(\d+)", key))


def signature_of(params: dict[str, Any], secret: str, *, natural: bool = False) -> str:
    """Sign a request or callback body as the Gate does (all `signature` and `frame_mode` keys ignored)."""
    flat = _flatten(_without_signatures(params))
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

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body["customer"]["signature"] = signature_of(body, self.secret)
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
        if response.status_code == 200 and isinstance(data, dict) and data.get("status") == "success":
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
        for natural in (False, True):
            if hmac.compare_digest(signature_of(unsigned, self.secret, natural=natural), given):
                return data
        raise InvalidCallbackSignature("the callback signature does not verify")
