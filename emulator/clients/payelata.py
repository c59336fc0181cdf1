"""A Payelata (Corefy white-label) client: private API invoices, the card gate, 3-DS, callback checks.

Written from the provider's documentation alone (provider-spec §5), independent of the emulator: the
signature check below is its own code, so a bug in the emulator's signing cannot hide here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

import requests

JSON_API = "application/vnd.api+json"


class PayelataApiError(Exception):
    """A non-success answer: the HTTP status and the JSON:API `errors` list (empty if none)."""

    def __init__(self, status: int, body: Any, text: str = "") -> None:
        self.status = status
        self.body = body
        self.errors: list[dict[str, Any]] = body.get("errors", []) if isinstance(body, dict) else []
        detail = "; ".join(str(e.get("detail")) for e in self.errors) or text[:200]
        super().__init__(f"HTTP {status}: {detail}")


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class PayelataClient:
    """The private API: HTTP Basic with the commerce account id and an API key (test or live)."""

    def __init__(self, base_url: str, account_id: str, api_key: str, *, timeout: float = 10.0,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.auth = (account_id, api_key)
        self.timeout = timeout

    def _request(self, method: str, path: str, body: Any = None, expect: int = 200) -> dict[str, Any]:
        headers = {"Accept": JSON_API}
        if body is not None:
            headers["Content-Type"] = JSON_API
        response = self.session.request(method, self.base_url + path, json=body, headers=headers, timeout=self.timeout)
        data = _json(response)
        if response.status_code != expect:  # the docs: anything but 201 means the invoice was not created
            raise PayelataApiError(response.status_code, data, response.text)
        return data

    def create_payment_invoice(self, attributes: dict[str, Any], *, callback_url: str | None = None) -> dict[str, Any]:
        """POST /payment-invoices; return the invoice resource (`data`)."""
        data: dict[str, Any] = {"type": "payment-invoices", "attributes": dict(attributes)}
        if callback_url is not None:
            data["attributes"]["callback_url"] = callback_url
        return self._request("POST", "/payment-invoices", {"data": data}, expect=201)["data"]

    def get_payment_invoice(self, invoice_id: str) -> dict[str, Any]:
        """GET /payment-invoices/{id} (reconciliation); return the invoice resource."""
        return self._request("GET", f"/payment-invoices/{invoice_id}")["data"]


class CardGateClient:
    """The card gate: `POST /payment/sale` with the invoice's `flow_data.metadata.token` as bearer."""

    def __init__(self, base_url: str, *, timeout: float = 10.0, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.timeout = timeout

    @classmethod
    def for_invoice(cls, invoice: dict[str, Any], **kwargs: Any) -> CardGateClient:
        """A client on the card-gate host named by the invoice's `flow_data.action`."""
        parts = urlsplit(invoice["attributes"]["flow_data"]["action"])
        return cls(f"{parts.scheme}://{parts.netloc}", **kwargs)

    @staticmethod
    def token(invoice: dict[str, Any]) -> str:
        return invoice["attributes"]["flow_data"]["metadata"]["token"]

    def sale(self, token: str, card: dict[str, Any] | None = None) -> dict[str, Any]:
        """Charge: empty attributes for a token or instant charge, card fields for a raw card."""
        body = {"data": {"type": "sale-operation", "attributes": dict(card or {})}}
        headers = {"Authorization": f"Bearer {token}", "Content-Type": JSON_API, "Accept": JSON_API}
        response = self.session.post(self.base_url + "/payment/sale", json=body, headers=headers, timeout=self.timeout)
        data = _json(response)
        if response.status_code != 200:
            raise PayelataApiError(response.status_code, data, response.text)
        return data["data"]

    def complete_3ds(self, auth_payload: dict[str, Any], *, authenticate: bool = True) -> str:
        """Play the cardholder on the ACS page: post the `auth_payload` form, then answer at TermUrl."""
        params = auth_payload["params"]
        page = self.session.request(auth_payload.get("method", "POST"), auth_payload["action"], data=params,
                                    timeout=self.timeout)
        page.raise_for_status()
        answer = {"MD": params["MD"], "PaRes": "AUTHENTICATED" if authenticate else "FAILED"}
        result = self.session.post(params["TermUrl"], data=answer, timeout=self.timeout)
        result.raise_for_status()
        return result.text


def callback_signature(secret: str, body: bytes) -> str:
    """`base64_encode(sha1($secret . $body . $secret, true))`, as the docs give it."""
    digest = hashlib.sha1(secret.encode("utf-8") + body + secret.encode("utf-8")).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_callback(body: bytes, signature: str, secret: str) -> bool:
    """Check the `X-Signature` of a received callback against the raw body (constant time)."""
    return hmac.compare_digest(callback_signature(secret, body), (signature or "").strip())
