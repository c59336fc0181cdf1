"""Shared constants and helpers of the Payelata tests: sample accounts, bodies, callback checks."""

from __future__ import annotations

import base64
from typing import Any

from emulator.testing import CallbackReceiver

ACCOUNT = "coma_6pnkH5vUZw0BlkZY"
TEST_KEY = "test_6pnkH5vUZw0BlkZY_Xq3pLr8sT2vW"
LIVE_KEY = "live_6pnkH5vUZw0BlkZY_Mn4bKc7dJ9hY"
SECRET_TEST = "whsec_test_6pnkH5vUZw0BlkZY"
SECRET_LIVE = "whsec_live_6pnkH5vUZw0BlkZY"
OTHER_ACCOUNT = "coma_Q8rTzW2xYvB5nLmK"
OTHER_KEY = "test_Q8rTzW2xYvB5nLmK_Fg6hJk9lPo1i"

SUCCESS_3DS = "5123817234060000"
SUCCESS = "5519283812030000"
FAIL_3DS = "4412397212080000"
FAIL = "4302912837020000"

UNAUTHORIZED = {"errors": [{"status": "401", "title": "Unauthorized", "detail": "Invalid credentials."}]}
BEARER_INVALID = {"errors": [{"status": "401", "title": "Unauthorized", "detail": "Invalid token."}]}


def basic(account: str = ACCOUNT, key: str = TEST_KEY) -> dict[str, str]:
    token = base64.b64encode(f"{account}:{key}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def attributes(**overrides: Any) -> dict[str, Any]:
    base = {"reference_id": "ORDER-1", "amount": 100, "currency": "USD", "service": "payment_card_usd_hpp"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def invoice_body(**overrides: Any) -> dict[str, Any]:
    return {"data": {"type": "payment-invoices", "attributes": attributes(**overrides)}}


def card(pan: str = SUCCESS, month: str = "12", year: str = "32", cvv: str = "123", holder: str = "JOHN DOE") -> dict:
    return {"card_number": pan, "card_holder": holder, "cvv": cvv, "exp_month": month, "exp_year": year}


def sale_body(card_fields: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"data": {"type": "sale-operation", "attributes": card_fields or {}}}


def create(client: Any, headers: dict[str, str] | None = None, **overrides: Any) -> dict[str, Any]:
    """Create an invoice through the test client; assert 201; return the `data` resource."""
    response = client.post("/payment-invoices", json=invoice_body(**overrides), headers=headers or basic())
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["data"]


def jwt_of(invoice: dict[str, Any]) -> str:
    return invoice["attributes"]["flow_data"]["metadata"]["token"]


def session_of(invoice: dict[str, Any]) -> str:
    return invoice["attributes"]["flow_data"]["metadata"]["sid"]


def pay(client: Any, invoice: dict[str, Any], card_fields: dict[str, Any] | None = None, **headers: str) -> Any:
    return client.post("/payment/sale", json=sale_body(card_fields), headers={**bearer(jwt_of(invoice)), **headers})


def statuses_seen(receiver: CallbackReceiver) -> list[tuple[str, str]]:
    """(status, resolution) of every callback received, in arrival order."""
    return [(b["data"]["attributes"]["status"], b["data"]["attributes"]["resolution"]) for b in receiver.bodies()]
