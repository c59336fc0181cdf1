"""A Payelata (Corefy white-label) client: private API invoices, the card gate, 3-DS, callback checks.

Written from the provider's documentation alone (docs/providers/payelata.md), independent of the emulator: the
signature check below is its own code, so a bug in the emulator's signing cannot hide here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import urlsplit

import requests

from emulator.clients._http import ApiError, HttpClient, error_class

JSON_API = "application/vnd.api+json"


def _answer(response: requests.Response, expect: int) -> dict[str, Any]:
    """Return the JSON:API document, or raise the typed error (Unauthorized, Unprocessable, ...).

    The error's `body` keeps the JSON:API `errors` list; `code` is the first error's `source.pointer`.
    """
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == expect and isinstance(body, dict):
        return body
    errors = body.get("errors", []) if isinstance(body, dict) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    message = "; ".join(str(e.get("detail")) for e in errors if isinstance(e, dict)) or response.reason or ""
    pointer = (first.get("source") or {}).get("pointer")
    raise error_class(response.status_code)(response.status_code, message, code=pointer, body=body)


def errors_of(error: ApiError) -> list[dict[str, Any]]:
    """The JSON:API `errors` list carried by an error raised by these clients."""
    return error.body.get("errors", []) if isinstance(error.body, dict) else []


class PayelataClient:
    """The private API: HTTP Basic with the commerce account id and an API key (test or live)."""

    def __init__(self, base_url: str, account_id: str, api_key: str, **http: Any) -> None:
        self.http = HttpClient(base_url, **http)
        self.http.session.auth = (account_id, api_key)

    def _request(self, method: str, path: str, body: Any = None, expect: int = 200) -> dict[str, Any]:
        headers = {"Accept": JSON_API}
        if body is not None:
            headers["Content-Type"] = JSON_API
        # Creation is not retried: a 5xx may still have created the invoice (reconcile by reference_id).
        response = self.http.request(method, path, json=body, headers=headers, retry=method == "GET")
        return _answer(response, expect)  # the docs: anything but 201 means the invoice was not created

    def create_payment_invoice(self, attributes: dict[str, Any], *, callback_url: str | None = None) -> dict[str, Any]:
        """POST /payment-invoices; return the invoice resource (`data`)."""
        data: dict[str, Any] = {"type": "payment-invoices", "attributes": dict(attributes)}
        if callback_url is not None:
            data["attributes"]["callback_url"] = callback_url
        return self._request("POST", "/payment-invoices", {"data": data}, expect=201)["data"]

    def get_payment_invoice(self, invoice_id: str) -> dict[str, Any]:
        """GET /payment-invoices/{id} (reconciliation); return the invoice resource."""
        return self._request("GET", f"/payment-invoices/{invoice_id}")["data"]

    def refund_payment_invoice(
        self, invoice_id: str, amount: float, reference_id: str, *, description: str | None = None, expect: int = 200
    ) -> dict[str, Any]:
        """POST /payment-invoices/{id}/refund: all or part of a paid invoice; return the answer's resource (the
        invoice; the `refunds` resource where the account uses the new refund model, answered 201)."""
        attributes: dict[str, Any] = {"amount": amount, "reference_id": reference_id}
        if description is not None:
            attributes["description"] = description
        body = {"data": {"type": "refund", "id": invoice_id, "attributes": attributes}}
        # A refund is not retried either: a lost answer may hide a refund that went through.
        return self._request("POST", f"/payment-invoices/{invoice_id}/refund", body, expect=expect)["data"]

    def create_payout_invoice(self, attributes: dict[str, Any], *, callback_url: str | None = None) -> dict[str, Any]:
        """POST /payout-invoices: a payout to `fields.card_number` or to a card `token`; return the resource."""
        data: dict[str, Any] = {"type": "payout-invoice", "attributes": dict(attributes)}
        if callback_url is not None:
            data["attributes"]["callback_url"] = callback_url
        return self._request("POST", "/payout-invoices", {"data": data}, expect=201)["data"]

    def get_payout_invoice(self, payout_id: str) -> dict[str, Any]:
        """GET /payout-invoices/{id}; return the payout resource."""
        return self._request("GET", f"/payout-invoices/{payout_id}")["data"]

    def process_payout_invoice(self, payout_id: str) -> dict[str, Any]:
        """POST /payout-invoices/{id}/process: send a payout created without `options.auto_process`."""
        return self._request("POST", f"/payout-invoices/{payout_id}/process", expect=201)["data"]


class CardGateClient:
    """The card gate: `POST /payment/sale` with the invoice's `flow_data.metadata.token` as bearer."""

    def __init__(self, base_url: str, **http: Any) -> None:
        self.http = HttpClient(base_url, **http)

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
        response = self.http.request("POST", "/payment/sale", json=body, headers=headers, retry=False)
        return _answer(response, 200)["data"]

    def complete_3ds(self, auth_payload: dict[str, Any], *, authenticate: bool = True) -> str:
        """Play the cardholder on the ACS page: post the `auth_payload` form, then answer at TermUrl."""
        params = auth_payload["params"]
        session, timeout = self.http.session, self.http.timeout
        page = session.request(auth_payload.get("method", "POST"), auth_payload["action"], data=params, timeout=timeout)
        page.raise_for_status()
        answer = {"MD": params["MD"], "PaRes": "AUTHENTICATED" if authenticate else "FAILED"}
        result = session.post(params["TermUrl"], data=answer, timeout=timeout)
        result.raise_for_status()
        return result.text


def callback_signature(secret: str, body: bytes) -> str:
    """`base64_encode(sha1($secret . $body . $secret, true))`, as the docs give it."""
    digest = hashlib.sha1(secret.encode("utf-8") + body + secret.encode("utf-8")).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_callback(body: bytes, signature: str, secret: str) -> bool:
    """Check the `X-Signature` of a received callback against the raw body (constant time)."""
    return hmac.compare_digest(callback_signature(secret, body), (signature or "").strip())
