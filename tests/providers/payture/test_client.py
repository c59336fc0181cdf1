"""The Payture clients against a live emulator (the core's payemu_server fixture)."""

from __future__ import annotations

import itertools
import os
import re
import uuid

import pytest
import requests

from emulator.clients.payture import ENCODINGS, TRANSPORTS, BehindPaytureClient, PaytureClient, encode_data, parse_xml

CARD = {
    "CardNumber": "4011111111111112",
    "EMonth": "12",
    "EYear": "30",
    "CardHolder": "IVAN IVANOV",
    "SecureCode": "123",
}


def test_encode_data_variants():
    data = {"A": "x@y", "Url": "https://s/r?a={orderid}&b=1", "None": None}
    assert encode_data(data) == "A=x@y;Url=https://s/r?a={orderid}&b=1;"
    assert encode_data(data, "per_value") == "A=x%40y;Url=https%3A%2F%2Fs%2Fr%3Fa%3D%7Borderid%7D%26b%3D1"
    assert encode_data({"A": "1", "B": "2"}, "double") == "A%3D1%3BB%3D2%3B"


def test_parse_xml_items():
    parsed = parse_xml('<GetList Success="True" VWUserLgn="u"><Item CardId="c1" /><Item CardId="c2" /></GetList>')
    assert parsed.command == "GetList" and parsed.success and [i["CardId"] for i in parsed.items] == ["c1", "c2"]


def add_card_on_page(client: PaytureClient, login: str, password: str) -> str:
    """Open the hosted page for a new Add session and post the form as a browser would."""
    init = client.init("Add", login, password, url="https://shop.test/r?orderid={orderid}&result={success}")
    assert init.success and init["Amount"] == "0"
    page = requests.get(client.page_url(init["SessionId"]), timeout=10)
    assert page.headers["Content-Type"] == "text/html; charset=utf-8" and 'name="CardNumber"' in page.text
    action = re.search(r'action="([^"]+)"', page.text).group(1)
    result = requests.post(
        client.base_url + action,
        data={"SessionId": init["SessionId"], "payemu_redirect_delay": "0", **CARD},
        allow_redirects=False,
        timeout=10,
    )
    assert result.status_code == 303 and result.headers["Location"].endswith("&result=True")
    return init["SessionId"]


@pytest.mark.parametrize(("encoding", "transport"), list(itertools.product(ENCODINGS, TRANSPORTS)))
def test_payture_client_full_flow(payemu_server, encoding, transport):
    add = PaytureClient(payemu_server.url, "DemoMerchantAdd", "123", encoding=encoding, transport=transport)
    pay = PaytureClient(payemu_server.url, "DemoMerchantPay", "123", encoding=encoding, transport=transport)
    login, password = "client+flow@example.ru", "p&ss=w;rd?"
    assert add.register(login, password, phone="79265351604").success
    duplicate = add.register(login, password)
    assert not duplicate.success and duplicate.err_code == "DUPLICATE_USER"
    assert add.check(login, password).success
    add_card_on_page(add, login, password)
    cards = pay.get_list(login, password)
    assert cards.success and len(cards.items) == 1
    item = cards.items[0]
    assert set(item) == {"CardName", "CardId", "CardHolder", "Status", "NoCVV", "Expired"}
    assert item["CardName"] == "401111xxxxxx1112" and item["NoCVV"] == "False"
    paid = pay.pay(login, password, item["CardId"], "order-1", 10000, session_type="Block")  # recurring: no CVV
    assert paid.success and paid["Amount"] == "10000"
    assert pay.pay_status("order-1")["Status"] == "Authorized"
    assert pay.charge("order-1", 10000).attrs == {"Success": "True", "OrderId": "order-1", "Amount": "10000"}
    assert pay.refund("order-1", 4000)["NewAmount"] == "6000"
    assert pay.pay_status("order-1")["Status"] == "Charged"  # (doc) a partial refund stays Charged
    assert pay.unblock("order-1").err_code == "ILLEGAL_ORDER_STATE"
    assert pay.remove(login, password, item["CardId"]).success
    assert pay.get_list(login, password).items == []
    assert add.delete(login).success


def test_payture_client_3ds_free_pay(payemu_server):
    client = PaytureClient(payemu_server.url, "DemoMerchantPay", "123")
    client.register("u3ds", "pw")
    card = {**CARD, "CardNumber": "5486732058864471"}
    answer = client.pay("u3ds", "pw", "FreePay", "o-3ds", 500, card=card)
    assert answer.needs_3ds and answer["ACSUrl"] == f"{payemu_server.url}/vwapi/ACS"
    assert client.pay_submit_3ds(answer["ThreeDSKey"], "pass").success
    assert client.pay_status("o-3ds")["Status"] == "Charged"


def test_behind_client_flow(payemu_server):
    behind = BehindPaytureClient(payemu_server.url, "demo-access-token")
    assert behind.finalise()["message"] == "Can't get card list"
    started = behind.init()
    assert started["success"] and started["data"]["RedirectUrl"].startswith(f"{payemu_server.url}/vwapi/Add?SessionId=")
    session_id = started["data"]["SessionId"]
    assert behind.finalise() == {"success": False, "message": "No active card found"}
    result = requests.post(
        f"{payemu_server.url}/vwapi/Add/Submit",
        data={"SessionId": session_id, "payemu_redirect_delay": "0", **CARD},
        allow_redirects=False,
        timeout=10,
    )
    assert result.headers["Location"] == f"http://localhost:3000/payment/callback?orderid={session_id}&result=True"
    card = behind.finalise()["data"]["card"]
    assert card == {
        "CardName": "401111xxxxxx1112",
        "CardHolder": "IVAN IVANOV",
        "Status": "IsActive",
        "NoCVV": "false",
        "Expired": "false",
    }


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_payture_client_merchant_add_3ds_recurring_and_hold(payemu_server, transport):
    """The client suite's card life cycle: Add (3-D Secure), AddSubmit3DS without VWID, a recurring Block without
    CVV, Charge without Amount, a full Unblock, SendCode and ConfirmCode (docs/providers/payture.md#add, #pay)."""
    add = PaytureClient(payemu_server.url, "DemoMerchantAdd", "123", transport=transport)
    pay = PaytureClient(payemu_server.url, "DemoMerchantPay", "123", transport=transport)
    login = f"cycle-{transport}@example.ru"
    add.register(login, "pw")
    started = add.add(login, "pw", {**CARD, "CardNumber": "2202208311110010"})
    assert started.needs_3ds and started["VWUserLgn"] == login
    saved = add.add_submit_3ds(started["ThreeDSKey"], "pass")
    assert saved.command == "AddSubmit3DS" and saved.success and saved["CardName"] == "220220xxxxxx0010"
    assert add.add(login, "pw", {**CARD, "CardNumber": "2202208311110010"}).err_code == "DUPLICATE_CARD"
    card_id = saved["CardId"]
    held = pay.pay(login, "pw", card_id, f"hold-{transport}", 3000, session_type="Block")
    assert held.success and pay.charge(f"hold-{transport}")["Amount"] == "3000"
    assert pay.refund(f"hold-{transport}")["NewAmount"] == "0"
    assert pay.pay(login, "pw", card_id, f"void-{transport}", 700, session_type="Block").success
    assert pay.unblock(f"void-{transport}").attrs == {
        "Success": "True",
        "OrderId": f"void-{transport}",
        "NewAmount": "0",
    }
    assert pay.pay_status(f"void-{transport}")["Status"] == "Voided"
    assert pay.send_code(login, "pw", card_id, f"code-{transport}").success
    refused = pay.pay(login, "pw", card_id, f"code-{transport}", 100, confirm_code="bad")
    assert refused.err_code == "WRONG_CONFIRM_CODE"


def test_payture_client_init_language_and_failed_init(payemu_server):
    client = PaytureClient(payemu_server.url, "DemoMerchantAdd", "123")
    client.register("lang@example.ru", "pw")
    init = client.init("Add", "lang@example.ru", "pw", language="EN", template_tag="Compact")
    page = requests.get(client.page_url(init["SessionId"]), timeout=10).text
    assert '<h1 id="title">Add a card</h1>' in page and 'data-template="Compact"' in page
    failed = client.init("Add", "lang@example.ru", "wrong")
    assert failed.err_code == "WRONG_USER_PARAMS" and "SessionId" not in failed.attrs  # (recorded)


def test_behind_client_init_unauthorised(payemu_server):
    anonymous = BehindPaytureClient(payemu_server.url)
    assert anonymous.init() == {"success": False, "message": "Can't finish request", "e": {"message": "Unauthorized"}}
    answer = anonymous.init_unauthorised("550e8400-e29b-41d4-a716-446655440001")
    assert answer["success"] and answer["data"]["Amount"] == "10.00" and answer["data"]["Cmd"] == "Init"


# -- the real sandbox ----------------------------------------------------------------------------

LIVE = {name: os.environ.get(f"PAYEMU_LIVE_PAYTURE_{name}") for name in ("VWID", "PASSWORD")}


@pytest.mark.live
@pytest.mark.skipif(not all(LIVE.values()), reason="set PAYEMU_LIVE_PAYTURE_VWID and _PASSWORD (Add terminal)")
def test_client_against_real_sandbox():
    """The same calls against sandbox3.payture.com: the shapes the emulator reproduces."""
    client = PaytureClient(
        os.environ.get("PAYEMU_LIVE_PAYTURE_URL", "https://sandbox3.payture.com"),
        LIVE["VWID"] or "",
        LIVE["PASSWORD"] or "",
        timeout=30,
    )
    login = f"payemu-{uuid.uuid4()}@example.ru"
    assert client.register(login, "pw12345").success
    assert client.register(login, "pw12345").err_code == "DUPLICATE_USER"
    init = client.init("Add", login, "pw12345")
    assert init.success and init["SessionId"]
    cards = client.get_list(login, "pw12345")
    assert cards.success and cards.items == []
    assert client.delete(login).success
