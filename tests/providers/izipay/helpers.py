"""Izipay request builders shared by the Izipay tests."""

from __future__ import annotations

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
