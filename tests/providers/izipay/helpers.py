"""Izipay request builders shared by the Izipay tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MERCHANT = "4007701"
PUBLIC_KEY = "VErEthUtraQUxas57wUMuquprADrAHAb"
OTHER_MERCHANT = "4001834"
OTHER_KEY = "SANDBOXpublicKey4001834abcdefgh"
TX = "TX12345"
GENERATE = "/security/v1/Token/Generate"
SEARCH = "/Installments/v1/Installments/Search"
DEPOSIT = "/capture/v1/Transaction/Deposit"


def token_body(**changes: Any) -> dict[str, Any]:
    body = {
        "requestSource": "ECOMMERCE",
        "merchantCode": MERCHANT,
        "orderNumber": "R202211101518",
        "publicKey": PUBLIC_KEY,
        "amount": "15.00",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def generate(client: Any, *, tx: str = TX, **changes: Any) -> Any:
    return client.post(GENERATE, json=token_body(**changes), headers={"transactionId": tx})


def token(client: Any, **changes: Any) -> str:
    response = generate(client, **changes)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["response"]["token"]


def bearer(value: str, tx: str = TX) -> dict[str, str]:
    return {"transactionId": tx, "Authorization": f"Bearer {value}"}


def search(client: Any, tok: str, *, bin_number: str | None = "545545", merchant: str = MERCHANT, **extra: Any) -> Any:
    body = {"bin": bin_number, "merchantCode": merchant, **extra}
    return client.post(SEARCH, json={k: v for k, v in body.items() if v is not None}, headers=bearer(tok))


def order(**changes: Any) -> dict[str, Any]:
    data = {
        "orderNumber": "R202211101518",
        "currency": "PEN",
        "amount": "15.00",
        "authorizationCode": "S46451",
        "payMethod": "card",
        "channel": "ecommerce",
        "uniqueId": "1546802",
    }
    data.update(changes)
    return data


def envelope(code: str, message: str, friendly: str | None = None) -> dict[str, Any]:
    """The recorded error envelope (docs/providers/izipay.md#error-envelope) minus the time-dependent header block."""
    friendly = message if friendly is None else friendly
    return {
        "code": code,
        "message": message,
        "response": {"errorCode": code, "errorMessage": message, "result": {"messageFriendly": friendly}},
        "result": {"messageFriendly": friendly},
    }


def without_header(body: dict[str, Any]) -> dict[str, Any]:
    """Drop the `header` block after checking its recorded shape."""
    header = body.pop("header")
    assert set(header) == {"transactionStartDatetime", "transactionEndDatetime", "millis"}
    return body


TOKENS = "/tokenization/external/api/v1/tokens"
AUTHORIZE = "/authorization/api/Process/Authorize"
CANCEL = "/cancel/api/Transaction/Cancel"
REFUND = "/refund/v1/Transaction/Refund"
ORDER_SEARCH = "/orderinfo/v1/Transaction/Search"
APPROVED_VISA = "4970100000000055"  # (doc) the sandbox guide's approved cards
DECLINED_51 = "4003331978380689"
BUYER = "BUYER000001"


def card_body(pan: str = APPROVED_VISA, buyer: str = BUYER, **changes: Any) -> dict[str, Any]:
    """A tokenization request as merchant code sends it (docs/providers/izipay.md#tokenization)."""
    body: dict[str, Any] = {
        "merchantCode": MERCHANT,
        "orderNumber": "ORDTK00001",
        "datetimeTerminalTransaction": "2025-11-28 01:22:29.000",
        "card": {"pan": pan, "expirationMonth": "12", "expirationYear": "2028", "cvc": "123", "alias": "mi visa"},
        "cardHolder": {"firstName": "Juan", "lastName": "Wick"},
        "buyer": {"merchantBuyerId": buyer, "firstName": "Juan", "lastName": "Wick", "email": "jwick@gmail.com"},
        "billingAddress": {"street": "calle el demo", "city": "lima", "state": "lima", "country": "PE"},
        "language": "ESP",
        "clientIp": "192.168.1.1",
    }
    body.update(changes)
    return body


def authorize_body(
    order_number: str = "ORD0000001",
    *,
    pan: str | None = APPROVED_VISA,
    card_token: str = "",
    amount: str = "15.00",
    process_type: str = "autorize",
    **changes: Any,
) -> dict[str, Any]:
    """A Process/Authorize request (the doc's example, with plain card data)."""
    body: dict[str, Any] = {
        "action": "pay_token" if card_token else "pay",
        "merchantCode": MERCHANT,
        "facilitatorCode": "6666041",
        "language": "ESP",
        "order": {
            "orderNumber": order_number,
            "currency": "PEN",
            "amount": amount,
            "installments": "00",
            "deferred": "0",
            "payMethod": "card",
            "channel": "ecommerce",
            "processType": process_type,
            "datetimeTerminalTransaction": "2025-11-28 01:22:29.000",
            "merchantBuyerId": BUYER,
        },
        "billing": {"firstName": "Juan", "lastName": "Wick quispe", "email": "jwick@gmail.com", "country": "PE"},
        "antifraud": {"clientIp": "192.168.1.1", "deviceFingerPrintId": "b10522b9", "userScoring": "izipay_low"},
    }
    if card_token:
        body["token"] = {"cardToken": card_token}
    elif pan is not None:
        body["card"] = {"brand": "VS", "pan": pan, "expirationMonth": "12", "expirationYear": "2028", "cvc": "123"}
    body.update(changes)
    return body


ROOT_TENANTS = Path(__file__).resolve().parents[3] / "emulator" / "providers" / "izipay" / "tenants.yaml"
