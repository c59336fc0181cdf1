"""Fixtures and helpers of the Payture tests: the shared app with notifications queued only, XML helpers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

ADD, PAY = "DemoMerchantAdd", "DemoMerchantPay"
LOGIN, PASSWORD = "ivan@example.ru", "secret1"
CUSTOMER = {"VWUserLgn": LOGIN, "VWUserPsw": PASSWORD}  # the wallet customer most tests use
MERCHANT_PASSWORD = "123"
GOOD_CARD = {
    "CardNumber": "4011111111111112",
    "EMonth": "12",
    "EYear": "30",
    "CardHolder": "IVAN IVANOV",
    "SecureCode": "123",
}


def plain(data: dict[str, Any]) -> str:
    """DATA in the C# SDK's plain form, trailing ';' included."""
    return "".join(f"{k}={v};" for k, v in data.items())


def vw(
    client: Any, command: str, data: dict[str, Any] | None = None, *, vwid: str = ADD, method: str = "POST", **top: Any
):
    """Call /vwapi/{command} the way the C# SDK does (form POST) or with a query string (GET)."""
    params: dict[str, Any] = {"VWID": vwid, **top}
    if data is not None:
        params["DATA"] = plain(data)
    if method == "GET":
        return client.get(f"/vwapi/{command}", query_string=params)
    return client.post(f"/vwapi/{command}", data=params)


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def attr(body: str, name: str) -> str:
    match = re.search(rf'\b{name}="([^"]*)"', body)
    assert match, f"no {name} in {body}"
    return match.group(1)


def register(client: Any, login: str = LOGIN, password: str = PASSWORD) -> None:
    response = vw(client, "Register", {"VWUserLgn": login, "VWUserPsw": password, "PhoneNumber": "79265351604"})
    assert text(response) == f'<Register Success="True" VWUserLgn="{login}" />'


def init_add(
    client: Any,
    login: str = LOGIN,
    password: str = PASSWORD,
    url: str = "https://shop.test/r?orderid={orderid}&result={success}",
) -> str:
    response = vw(client, "Init", {"SessionType": "Add", "VWUserLgn": login, "VWUserPsw": password, "Url": url})
    assert attr(text(response), "Success") == "True", text(response)
    return attr(text(response), "SessionId")


def add_card(client: Any, card: dict[str, str] | None = None, login: str = LOGIN, password: str = PASSWORD) -> str:
    """Register a card through the hosted page; return its CardId."""
    session_id = init_add(client, login, password)
    response = client.post("/vwapi/Add/Submit", data={"SessionId": session_id, **(card or GOOD_CARD)})
    assert response.status_code == 200 and 'data-success="True"' in text(response), text(response)
    listing = text(vw(client, "GetList", {"VWUserLgn": login, "VWUserPsw": password}))
    return re.findall(r'CardId="([^"]+)"', listing)[0]


@pytest.fixture
def app(app: Any) -> Iterator[Any]:
    """The shared app (tests/conftest.py), its notifications kept in the outbox: none leaves the process
    unless a test turns delivery back on."""
    runtime = app.extensions["payemu"]
    runtime.callbacks.enabled = False
    yield app
    runtime.reset()  # drop what the test queued: the next test's reset would wait for it to settle
    runtime.callbacks.enabled = True


@pytest.fixture
def state_of(runtime: Any):
    def get(tenant: str = "DemoMerchant") -> Any:
        return runtime.store.peek("payture", tenant)

    return get
