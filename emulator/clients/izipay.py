"""IzipayClient: Token/Generate, Installments Search and Deposit, as an integrator would call them."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from emulator.clients._http import HttpClient, error_class


def _raise_for(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 200 and isinstance(body, dict) and body.get("code") == "00":
        return body
    code = body.get("code") if isinstance(body, dict) else None
    message = ""
    if isinstance(body, dict):
        message = body.get("message") or body.get("errorMessage") or ""
    # Typed by status (Unauthorized, BadRequest, ...), carrying Izipay's code (TN, IMC, IB0, IB1, IB3, 500).
    raise error_class(response.status_code)(response.status_code, message or response.reason, code=code, body=body)


class IzipayClient:
    """One merchant's session with API PW; keeps the transactionId of the current token."""

    def __init__(self, base_url: str, merchant_code: str, public_key: str, **http: Any) -> None:
        self.http = HttpClient(base_url, **http)
        self.merchant_code = merchant_code
        self.public_key = public_key
        self.token: str | None = None
        self.transaction_id: str | None = None

    def _headers(self, transaction_id: str, token: str | None = None) -> dict[str, str]:
        headers = {"transactionId": transaction_id, "Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def generate_token(
        self, order_number: str, amount: str, *, transaction_id: str | None = None, request_source: str = "ECOMMERCE"
    ) -> str:
        """Get a session token for an order; it is kept for the calls that follow."""
        transaction_id = transaction_id or uuid.uuid4().hex[:20]
        body = {
            "requestSource": request_source,
            "merchantCode": self.merchant_code,
            "orderNumber": order_number,
            "publicKey": self.public_key,
            "amount": amount,
        }
        response = self.http.request(
            "POST", "/security/v1/Token/Generate", json=body, headers=self._headers(transaction_id)
        )
        data = _raise_for(response)
        self.token, self.transaction_id = data["response"]["token"], transaction_id
        return self.token

    def search_installments(
        self, bin_number: str, *, language: str = "ESP", token: str | None = None
    ) -> dict[str, Any]:
        """List the installments available for a card BIN."""
        body = {"bin": bin_number, "merchantCode": self.merchant_code, "language": language}
        response = self.http.request(
            "POST",
            "/Installments/v1/Installments/Search",
            json=body,
            headers=self._headers(self.transaction_id or "", token or self.token),
        )
        return _raise_for(response)["response"]

    def deposit(self, order: dict[str, Any], *, language: str = "ESP", token: str | None = None) -> dict[str, Any]:
        """Capture an authorised order; not retried (a retried capture could capture twice)."""
        body = {"merchantCode": self.merchant_code, "order": order, "language": language}
        response = self.http.request(
            "POST",
            "/capture/v1/Transaction/Deposit",
            json=body,
            headers=self._headers(self.transaction_id or "", token or self.token),
            retry=False,
        )
        return _raise_for(response)["response"]

    def close(self) -> None:
        self.http.close()
