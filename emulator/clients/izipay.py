"""IzipayClient: Token/Generate, Installments Search, Deposit, card tokenization, Authorize, Cancel, Refund and
the order Search, as an integrator would call them."""

from __future__ import annotations

import base64
import hashlib
import hmac
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
    if isinstance(body, dict) and "messageUser" in body and isinstance(body.get("response"), dict):
        return body  # an authorization the issuer declined: a result with its code, not an API error
    code = body.get("code") if isinstance(body, dict) else None
    message = ""
    if isinstance(body, dict):
        message = body.get("message") or body.get("errorMessage") or ""
    # Typed by status (Unauthorized, BadRequest, ...), carrying Izipay's code (TN, IMC, IB0, IB1, IB3, 500).
    raise error_class(response.status_code)(response.status_code, message or response.reason, code=code, body=body)


class IzipayClient:
    """One merchant's session with API PW; keeps the transactionId of the current token."""

    TOKENS = "/tokenization/external/api/v1/tokens"

    def __init__(
        self, base_url: str, merchant_code: str, public_key: str, *, hash_key: str | None = None, **http: Any
    ) -> None:
        self.http = HttpClient(base_url, **http)
        self.merchant_code = merchant_code
        self.public_key = public_key
        self.hash_key = hash_key  # when set, every Authorize answer's signature is checked
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

    def _post(self, path: str, body: dict[str, Any], token: str | None, *, retry: bool = True) -> dict[str, Any]:
        headers = self._headers(self.transaction_id or "", token or self.token)
        return _raise_for(self.http.request("POST", path, json=body, headers=headers, retry=retry))

    # -- card tokenization ----------------------------------------------------------------------

    def tokenize_card(
        self,
        card: dict[str, Any],
        buyer: dict[str, Any],
        *,
        order_number: str | None = None,
        card_holder: dict[str, Any] | None = None,
        billing_address: dict[str, Any] | None = None,
        client_ip: str = "127.0.0.1",
        language: str = "ESP",
        token: str | None = None,
    ) -> dict[str, Any]:
        """Save a buyer's card (`buyer` carries `merchantBuyerId`); answers `response` with `token.token`."""
        body: dict[str, Any] = {
            "merchantCode": self.merchant_code,
            "card": card,
            "buyer": buyer,
            "language": language,
            "clientIp": client_ip,
        }
        if order_number:
            body["orderNumber"] = order_number
        if card_holder:
            body["cardHolder"] = card_holder
        if billing_address:
            body["billingAddress"] = billing_address
        return self._post(self.TOKENS, body, token)["response"]

    def get_card_token(self, card_token: str, *, buyer_id: str | None = None, token: str | None = None) -> dict:
        """One saved card: `{"buyer": …, "token": {"token", "status", "card": {masked pan, …}}}`."""
        body: dict[str, Any] = {"merchantCode": self.merchant_code, "token": {"cardToken": card_token}}
        if buyer_id:
            body["buyer"] = {"merchantBuyerId": buyer_id}
        return self._post(self.TOKENS + "/token", body, token)["response"]

    def list_buyer_tokens(self, buyer_id: str, *, token: str | None = None) -> list[dict[str, Any]]:
        """A buyer's active saved cards, oldest first."""
        body = {"merchantCode": self.merchant_code, "buyer": {"merchantBuyerId": buyer_id}}
        return self._post(self.TOKENS + "/tokens", body, token)["response"]["tokens"]

    def delete_card_token(self, card_token: str, *, buyer_id: str | None = None, token: str | None = None) -> dict:
        """Delete a saved card; not retried (a retried delete would answer that the token is gone)."""
        body: dict[str, Any] = {"merchantCode": self.merchant_code, "token": {"cardToken": card_token}}
        if buyer_id:
            body["buyer"] = {"merchantBuyerId": buyer_id}
        return self._post(self.TOKENS + "/delete", body, token, retry=False)["response"]

    # -- sales and after-sales ------------------------------------------------------------------

    def authorize(
        self,
        order: dict[str, Any],
        billing: dict[str, Any],
        *,
        card: dict[str, Any] | None = None,
        card_token: str | None = None,
        language: str = "ESP",
        token: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Authorize (`processType: autorize`) or pre-authorize an order with card data or a saved card.

        Answers the whole body: `code` is "00" when approved, else the issuer's decline code (no exception).
        Not retried: a retried authorization could charge twice.
        """
        body: dict[str, Any] = {
            "action": "pay_token" if card_token else "pay",
            "merchantCode": self.merchant_code,
            "language": language,
            "order": order,
            "billing": billing,
            **extra,
        }
        if card_token:
            body["token"] = {"cardToken": card_token}
        else:
            body["card"] = card
        answer = self._post("/authorization/api/Process/Authorize", body, token, retry=False)
        self._check_signature(answer.get("response") or {})
        return answer

    def _check_signature(self, response: dict[str, Any]) -> None:
        """The answer's `signature` is the Base64 HMAC-SHA256 of `payloadHttp` under the hash key."""
        if not self.hash_key or "payloadHttp" not in response:
            return
        digest = hmac.new(self.hash_key.encode(), str(response["payloadHttp"]).encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(base64.b64encode(digest).decode(), str(response.get("signature", ""))):
            raise ValueError("Izipay answer signature does not match payloadHttp")

    def cancel(self, order: dict[str, Any], *, language: str = "ESP", token: str | None = None) -> dict[str, Any]:
        """Void an authorized order (orderNumber, amount, uniqueId, authorizationCode…); not retried."""
        body = {"merchantCode": self.merchant_code, "order": order, "language": language}
        return self._post("/cancel/api/Transaction/Cancel", body, token, retry=False)["response"]

    def refund(
        self,
        unique_id: str,
        amount: str,
        *,
        currency: str = "PEN",
        ruc: str = "",
        language: str = "ESP",
        token: str | None = None,
    ) -> dict[str, Any]:
        """Refund part or all of a captured order; needs a token from `generate_token(…, request_source="REFUND")`.
        Not retried: a retried refund could refund twice."""
        body = {
            "merchantCode": self.merchant_code,
            "ruc": ruc,
            "idUnique": unique_id,
            "order": {"currency": currency, "refundAmount": amount},
            "language": language,
        }
        return self._post("/refund/v1/Transaction/Refund", body, token, retry=False)["response"]

    def search_order(self, order_number: str, *, language: str = "ESP", token: str | None = None) -> dict[str, Any]:
        """An order's authorization and state (`response.order[0]`)."""
        body = {"merchantCode": self.merchant_code, "numberOrden": order_number, "language": language}
        return self._post("/orderinfo/v1/Transaction/Search", body, token)["response"]

    def close(self) -> None:
        self.http.close()
