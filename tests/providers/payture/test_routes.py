"""Payture over HTTP (Flask test client): every command, every ErrCode path, encodings, pages, wrapper."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from urllib.parse import parse_qs, quote, quote_plus

import pytest

from emulator.app import create_app
from emulator.core.cards import luhn_valid
from emulator.core.serialize import to_data

from .conftest import (
    ADD,
    CUSTOMER,
    GOOD_CARD,
    LOGIN,
    MERCHANT_PASSWORD,
    PASSWORD,
    PAY,
    add_card,
    attr,
    init_add,
    register,
    text,
    vw,
)


def snapshot(state) -> dict:
    return to_data(state) if state is not None else {}


# -- transport (docs/providers/payture.md#transport) -------------------------------------------------------------------


def test_register_success_xml_headers(client):
    response = vw(client, "Register", {**CUSTOMER, "PhoneNumber": "79265351604", "Email": "ivan@example.ru"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"
    assert text(response) == f'<Register Success="True" VWUserLgn="{LOGIN}" />'


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_register_get_and_post(client, method):
    response = vw(client, "Register", CUSTOMER, method=method)
    assert text(response) == f'<Register Success="True" VWUserLgn="{LOGIN}" />'


def test_register_post_with_query_string_and_empty_body(client):
    """cyri113: POST, parameters in the query string, no body."""
    data = quote(f"VWUserLgn={LOGIN};VWUserPsw={PASSWORD}", safe="")
    response = client.post(f"/vwapi/Register?VWID={ADD}&DATA={data}")
    assert text(response) == f'<Register Success="True" VWUserLgn="{LOGIN}" />'


URL = "https://shop.test/result?orderid={orderid}&result={success}"
ENCODED_DATA = {
    # 1. plain (C# SDK), only the HTTP layer encodes it
    "plain": f"SessionType=Block;VWUserLgn={LOGIN};VWUserPsw={PASSWORD};OrderId=o-1;Amount=10000;Url={URL};",
    # 2. each value URL-encoded, joined with ';' (http_build_query); keys in another order
    "per_value": ";".join(
        f"{k}={quote_plus(v)}"
        for k, v in [
            ("Amount", "10000"),
            ("VWUserLgn", LOGIN),
            ("Url", URL),
            ("VWUserPsw", PASSWORD),
            ("OrderId", "o-1"),
            ("SessionType", "Block"),
        ]
    ),
    # 3. the whole string URL-encoded, then encoded again by the HTTP layer (droff, recorded)
    "double": quote(
        f"SessionType=Block;VWUserLgn={LOGIN};VWUserPsw={PASSWORD};OrderId=o-1;Amount=10000;Url={URL}", safe=""
    ),
}


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("encoding", sorted(ENCODED_DATA))
def test_init_all_data_encodings(client, state_of, encoding, method):
    register(client)
    params = {"VWID": PAY, "DATA": ENCODED_DATA[encoding]}
    response = (
        client.get("/vwapi/Init", query_string=params) if method == "GET" else client.post("/vwapi/Init", data=params)
    )
    body = text(response)
    session_id = attr(body, "SessionId")
    assert body == (
        f'<Init Success="True" OrderId="o-1" Amount="10000" SessionId="{session_id}" SessionType="Block"'
        ' SessionLifeTime="60" AttemptsCount="5" />'
    )
    session = state_of().sessions[session_id]
    assert session.url == URL and session.login == LOGIN and session.amount == 10000


def test_init_recorded_wire_string_double_encoded(client, state_of):
    """The literal recorded query: DATA=SessionType%253DBlock%253BVWUserLgn%253Duser%2540gmail.com…"""
    register(client, "user@gmail.com", "pass123")
    data = (
        "SessionType%253DBlock%253BVWUserLgn%253Duser%2540gmail.com%253BVWUserPsw%253Dpass123"
        "%253BOrderId%253Dorder123%253BAmount%253D10000"
    )
    body = text(client.get(f"/vwapi/Init?VWID={PAY}&DATA={data}"))
    assert attr(body, "OrderId") == "order123" and attr(body, "SessionType") == "Block"


def test_init_literal_none_and_empty_segments_ignored(client, state_of):
    register(client)
    data = f";SessionType=Add;;VWUserLgn={LOGIN};VWUserPsw={PASSWORD};OrderId=None;Url=None;IP=None;;"
    body = text(client.post("/vwapi/Init", data={"VWID": ADD, "DATA": data}))
    session = state_of().sessions[attr(body, "SessionId")]
    assert session.url == "" and session.ip == "" and session.order_id == ""


def test_unknown_command_not_found(client):
    response = client.get("/vwapi/Unregister")
    assert response.status_code == 404
    assert text(response) == '<Unregister Success="False" ErrCode="API_NOT_ALLOWED" />'


def test_register_method_not_allowed(client):
    response = client.put("/vwapi/Register", data={"VWID": ADD})
    assert response.status_code == 405
    assert response.headers["Content-Type"] == "text/xml; charset=utf-8"


def test_register_unknown_terminal(client, runtime):
    response = vw(client, "Register", CUSTOMER, vwid="NoSuchTerminal")
    assert response.status_code == 200
    assert text(response) == f'<Register Success="False" VWUserLgn="{LOGIN}" ErrCode="ACCESS_DENIED" />'
    assert runtime.store.tenants("payture") == []


def test_register_missing_vwid(client, runtime):
    response = client.post("/vwapi/Register", data={"DATA": f"VWUserLgn={LOGIN};VWUserPsw={PASSWORD}"})
    assert text(response) == f'<Register Success="False" VWUserLgn="{LOGIN}" ErrCode="WRONG_PARAMS" />'
    assert runtime.store.tenants("payture") == []


def test_register_open_tenants_admits_terminal():
    app = create_app(strict=True, seed=1, callbacks=False, open_tenants=True)
    client = app.test_client()
    register_body = text(vw(client, "Register", CUSTOMER, vwid="AnyMerchantAdd"))
    assert register_body == f'<Register Success="True" VWUserLgn="{LOGIN}" />'
    deleted = text(vw(client, "Delete", {"VWUserLgn": LOGIN, "Password": "whatever"}, vwid="AnyMerchantAdd"))
    assert deleted == f'<Delete Success="True" VWUserLgn="{LOGIN}" />'
    assert app.extensions["payemu"].store.tenants("payture") == ["AnyMerchantAdd"]


# -- customers (docs/providers/payture.md#register, #check-update-delete) ----------------------------------------------


def test_register_duplicate_user(client, state_of):
    register(client)
    before = snapshot(state_of())
    response = vw(client, "Register", {"VWUserLgn": LOGIN, "VWUserPsw": "other"})
    assert response.status_code == 200
    assert text(response) == f'<Register Success="False" VWUserLgn="{LOGIN}" ErrCode="DUPLICATE_USER" />'
    assert snapshot(state_of()) == before


def test_register_missing_password(client, state_of):
    response = vw(client, "Register", {"VWUserLgn": LOGIN})
    assert text(response) == f'<Register Success="False" VWUserLgn="{LOGIN}" ErrCode="WRONG_PARAMS" />'
    assert state_of() is None or state_of().customers == {}


def test_register_login_too_long(client, state_of):
    login = "x" * 51
    response = vw(client, "Register", {"VWUserLgn": login, "VWUserPsw": PASSWORD})
    assert text(response) == f'<Register Success="False" VWUserLgn="{login}" ErrCode="WRONG_PARAMS" />'
    assert state_of() is None or state_of().customers == {}


def test_check_success(client):
    register(client)
    assert text(vw(client, "Check", CUSTOMER)) == f'<Check Success="True" VWUserLgn="{LOGIN}" />'


def test_check_unknown_user(client):
    register(client)
    response = vw(client, "Check", {"VWUserLgn": "nobody", "VWUserPsw": "x"})
    assert text(response) == '<Check Success="False" VWUserLgn="nobody" ErrCode="USER_NOT_FOUND" />'


def test_check_wrong_password(client):
    register(client)
    response = vw(client, "Check", {"VWUserLgn": LOGIN, "VWUserPsw": "wrong"})
    assert text(response) == f'<Check Success="False" VWUserLgn="{LOGIN}" ErrCode="WRONG_USER_PARAMS" />'


def test_update_success(client, state_of):
    register(client)
    response = vw(client, "Update", {**CUSTOMER, "PhoneNumber": "79990000000"})
    assert text(response) == f'<Update Success="True" VWUserLgn="{LOGIN}" />'
    assert state_of().customers[LOGIN].phone == "79990000000"


def test_update_bad_phone(client, state_of):
    register(client)
    before = snapshot(state_of())
    response = vw(client, "Update", {**CUSTOMER, "PhoneNumber": "+7 999"})
    assert text(response) == f'<Update Success="False" VWUserLgn="{LOGIN}" ErrCode="WRONG_PARAMS" />'
    assert snapshot(state_of()) == before


def test_delete_with_merchant_password(client, state_of):
    register(client)
    response = vw(client, "Delete", {"VWUserLgn": LOGIN, "Password": MERCHANT_PASSWORD})
    assert text(response) == f'<Delete Success="True" VWUserLgn="{LOGIN}" />'
    assert LOGIN not in state_of().customers


def test_delete_with_customer_password_access_denied(client, state_of):
    register(client)
    before = snapshot(state_of())
    response = vw(client, "Delete", {"VWUserLgn": LOGIN, "Password": PASSWORD})
    assert text(response) == f'<Delete Success="False" VWUserLgn="{LOGIN}" ErrCode="ACCESS_DENIED" />'
    assert snapshot(state_of()) == before


def test_delete_unknown_user(client):
    register(client)
    response = vw(client, "Delete", {"VWUserLgn": "nobody", "Password": MERCHANT_PASSWORD})
    assert text(response) == '<Delete Success="False" VWUserLgn="nobody" ErrCode="USER_NOT_FOUND" />'


# -- Init (docs/providers/payture.md#init) -----------------------------------------------------------------------------


def test_init_add_shape(client):
    register(client)
    body = text(vw(client, "Init", {"SessionType": "Add", **CUSTOMER, "IP": "10.0.0.1"}))
    session_id = attr(body, "SessionId")
    assert re.fullmatch(r"[0-9a-f-]{36}", session_id)
    assert body == (
        f'<Init Success="True" Amount="0" SessionId="{session_id}" SessionType="Add"'
        ' SessionLifeTime="60" AttemptsCount="5" />'
    )


def test_init_duplicate_order_id(client, state_of):
    register(client)
    vw(client, "Init", {"SessionType": "Pay", **CUSTOMER, "OrderId": "order123", "Amount": "10000"}, vwid=PAY)
    before = snapshot(state_of())
    response = vw(
        client, "Init", {"SessionType": "Block", **CUSTOMER, "OrderId": "order123", "Amount": "500"}, vwid=PAY
    )
    assert response.status_code == 200
    assert text(response) == '<Init Success="False" ErrCode="DUPLICATE_ORDER_ID" />'
    assert snapshot(state_of()) == before


def test_init_pay_without_order_id(client, state_of):
    register(client)
    before = snapshot(state_of())
    response = vw(client, "Init", {"SessionType": "Pay", **CUSTOMER, "Amount": "100"}, vwid=PAY)
    assert text(response) == '<Init Success="False" ErrCode="WRONG_PARAMS" />'
    assert snapshot(state_of()) == before


def test_init_bad_session_type(client):
    register(client)
    response = vw(client, "Init", {"SessionType": "Refund", **CUSTOMER})
    assert text(response) == '<Init Success="False" ErrCode="WRONG_PARAMS" />'


def test_init_zero_amount(client, state_of):
    register(client)
    before = snapshot(state_of())
    response = vw(client, "Init", {"SessionType": "Pay", **CUSTOMER, "OrderId": "o", "Amount": "0"}, vwid=PAY)
    assert text(response) == '<Init Success="False" ErrCode="WRONG_AMOUNT" />'
    assert snapshot(state_of()) == before


def test_init_wrong_user_params(client, state_of):
    register(client)
    before = snapshot(state_of())
    response = vw(client, "Init", {"SessionType": "Add", "VWUserLgn": LOGIN, "VWUserPsw": "wrong"})
    assert text(response) == '<Init Success="False" ErrCode="WRONG_USER_PARAMS" />'
    assert snapshot(state_of()) == before


def test_init_concurrent_no_duplicate_session_or_order(app):
    """Parallel Init on one terminal: distinct SessionIds; one OrderId is accepted exactly once."""
    client = app.test_client()
    register(client)
    results: list[str] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        local = app.test_client()
        order = "shared-order" if index % 2 else f"order-{index}"
        body = text(
            vw(local, "Init", {"SessionType": "Block", **CUSTOMER, "OrderId": order, "Amount": "100"}, vwid=PAY)
        )
        with lock:
            results.append(body)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ok = [b for b in results if 'Success="True"' in b]
    failed = [b for b in results if 'Success="False"' in b]
    session_ids = [attr(b, "SessionId") for b in ok]
    assert len(set(session_ids)) == len(session_ids) == 13
    assert [attr(b, "OrderId") for b in ok].count("shared-order") == 1
    assert failed == ['<Init Success="False" ErrCode="DUPLICATE_ORDER_ID" />'] * 11


# -- the hosted Add page (docs/providers/payture.md#add-page) ----------------------------------------------------------


def test_add_page_form(client):
    register(client)
    session_id = init_add(client)
    response = client.get(f"/vwapi/Add?SessionId={session_id}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = text(response)
    for name in ("CardNumber", "EMonth", "EYear", "CardHolder", "SecureCode"):
        assert f'name="{name}"' in page
    assert f'value="{session_id}"' in page and 'action="/vwapi/Add/Submit"' in page
    for pan in ("4011111111111112", "4111111111100023", "5486732058864471", "4100401111100062", "4111111111100072"):
        assert pan in page  # Payture's documented test cards are listed


def test_add_page_post_opens_too(client):
    register(client)
    session_id = init_add(client)
    assert 'id="card-form"' in text(client.post("/vwapi/Add", data={"SessionId": session_id}))


def test_add_page_unknown_session(client):
    response = client.get("/vwapi/Add?SessionId=00000000-0000-0000-0000-000000000000")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert 'id="error"' in text(response) and "ORDER_NOT_FOUND" in text(response)


def test_add_page_expired_session(client, runtime):
    register(client)
    session_id = init_add(client)
    runtime.clock.advance(60 * 60 + 1)
    page = text(client.get(f"/vwapi/Add?SessionId={session_id}"))
    assert 'id="error"' in page and "ORDER_TIME_OUT" in page


def test_submit_card_success_registers_masked_card(client, runtime, state_of):
    register(client)
    session_id = init_add(client)
    response = client.post("/vwapi/Add/Submit", data={"SessionId": session_id, **GOOD_CARD})
    page = text(response)
    assert 'data-success="True"' in page and "401111xxxxxx1112" in page
    expected = f"https://shop.test/r?orderid={session_id}&amp;result=True"
    assert f'content="3;url={expected}"' in page
    listing = text(vw(client, "GetList", CUSTOMER))
    card_id = attr(listing, "CardId")
    assert listing == (
        f'<GetList Success="True" VWUserLgn="{LOGIN}"><Item CardName="401111xxxxxx1112" CardId="{card_id}"'
        ' CardHolder="IVAN IVANOV" Status="IsActive" NoCVV="False" Expired="False" /></GetList>'
    )
    dumped = json.dumps(to_data(state_of())) + json.dumps([e.to_json() for e in runtime.journal.query()])
    assert "4011111111111112" not in dumped and '"123"' not in json.dumps(to_data(state_of()))


def test_submit_card_immediate_redirect(client):
    register(client)
    session_id = init_add(client)
    assert 'name="payemu_redirect_delay" value="0"' in text(
        client.get(f"/vwapi/Add?SessionId={session_id}&payemu_redirect_delay=0")
    )
    response = client.post(
        "/vwapi/Add/Submit", data={"SessionId": session_id, "payemu_redirect_delay": "0", **GOOD_CARD}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"https://shop.test/r?orderid={session_id}&result=True"


def test_submit_card_declined(client, state_of):
    register(client)
    session_id = init_add(client)
    response = client.post(
        "/vwapi/Add/Submit", data={"SessionId": session_id, **GOOD_CARD, "CardNumber": "4111111111100072"}
    )
    page = text(response)
    assert 'data-success="False"' in page and "ISSUER_BLOCKED_CARD" in page and "result=False" in page
    assert state_of().sessions[session_id].attempts_left == 4
    assert text(vw(client, "GetList", CUSTOMER)) == f'<GetList Success="True" VWUserLgn="{LOGIN}" />'


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"CardNumber": "4111111111111112"}, "WRONG_PAN"),
        ({"CardNumber": "4111111111100023", "SecureCode": ""}, "WRONG_CARD_INFO"),  # (doc) the CVV-required card
        ({"EYear": "20"}, "WRONG_CARD_INFO"),
        ({"EMonth": "13"}, "WRONG_CARD_INFO"),
        ({"CardHolder": " "}, "WRONG_CARDHOLDER_NAME"),
        ({"SecureCode": "12"}, "WRONG_CARD_INFO"),
    ],
)
def test_submit_card_rejected_data(client, change, code):
    register(client)
    session_id = init_add(client)
    page = text(client.post("/vwapi/Add/Submit", data={"SessionId": session_id, **GOOD_CARD, **change}))
    assert 'data-success="False"' in page and f'id="err-code">{code}<' in page


def test_submit_card_attempts_exhausted(client, state_of):
    register(client)
    session_id = init_add(client)
    for _ in range(5):
        client.post("/vwapi/Add/Submit", data={"SessionId": session_id, **GOOD_CARD, "CardNumber": "4111111111100072"})
    page = text(client.post("/vwapi/Add/Submit", data={"SessionId": session_id, **GOOD_CARD}))
    assert 'id="error"' in page and "LIMIT_EXCHAUST" in page


def test_submit_card_session_used_once(client):
    register(client)
    session_id = init_add(client)
    client.post("/vwapi/Add/Submit", data={"SessionId": session_id, **GOOD_CARD})
    page = text(client.post("/vwapi/Add/Submit", data={"SessionId": session_id, **GOOD_CARD}))
    assert 'id="error"' in page and "OPERATION_NOT_ALLOWED" in page


@pytest.mark.parametrize(("answer", "success"), [("pass", True), ("fail", False)])
def test_submit_card_3ds(client, answer, success):
    register(client)
    session_id = init_add(client)
    page = text(
        client.post("/vwapi/Add/Submit", data={"SessionId": session_id, **GOOD_CARD, "CardNumber": "5486732058864471"})
    )
    assert 'id="acs-form"' in page and "548673xxxxxx4471" in page
    key = re.search(r'name="ThreeDSKey" value="([^"]+)"', page).group(1)
    page = text(client.post("/vwapi/Add/Submit", data={"SessionId": session_id, "ThreeDSKey": key, "Answer": answer}))
    assert f'data-success="{success}"' in page
    listing = text(vw(client, "GetList", CUSTOMER))
    assert ("548673xxxxxx4471" in listing) is success
    if not success:
        assert "THREE_DS_FAIL" in page


# -- GetList, Remove (docs/providers/payture.md#getlist, #remove) ------------------------------------------------------


def test_get_list_wrong_user_params(client, state_of):
    register(client)
    response = vw(client, "GetList", {"VWUserLgn": LOGIN, "VWUserPsw": "wrong"})
    assert text(response) == f'<GetList Success="False" VWUserLgn="{LOGIN}" ErrCode="WRONG_USER_PARAMS" />'


def test_get_list_hides_expired_and_removed_cards(client, runtime):
    register(client)
    add_card(client, {**GOOD_CARD, "EYear": "30"})
    soon = add_card(client, {**GOOD_CARD, "CardNumber": "5555555555554444", "EMonth": "01", "EYear": "28"})
    removed = add_card(client, {**GOOD_CARD, "CardNumber": "4242424242424242"})
    vw(client, "Remove", {**CUSTOMER, "CardId": removed})
    listing = text(vw(client, "GetList", CUSTOMER))
    assert soon in listing and removed not in listing and listing.count("<Item ") == 2
    runtime.clock.set(4_000_000_000)  # 2096: every card has expired
    assert text(vw(client, "GetList", CUSTOMER)) == f'<GetList Success="True" VWUserLgn="{LOGIN}" />'


def test_get_list_at_most_20(client, state_of):
    register(client)
    for index in range(22):
        pan = f"40000000000{index:04d}"
        pan += str(next(d for d in range(10) if luhn_valid(pan + str(d))))  # the same card twice is a duplicate
        add_card(client, {**GOOD_CARD, "CardNumber": pan})
    assert text(vw(client, "GetList", CUSTOMER)).count("<Item ") == 20


def test_get_list_bool_case_option(runtime):
    app = create_app(strict=True, seed=1, callbacks=False, options={"payture.bool_case": "lower"})
    client = app.test_client()
    register(client)
    add_card(client)
    listing = text(vw(client, "GetList", CUSTOMER))
    assert 'NoCVV="false" Expired="false"' in listing


def test_remove_success(client):
    register(client)
    card_id = add_card(client)
    response = vw(client, "Remove", {**CUSTOMER, "CardId": card_id})
    assert text(response) == f'<Remove Success="True" VWUserLgn="{LOGIN}" CardId="{card_id}" />'


def test_remove_unknown_card(client, state_of):
    register(client)
    add_card(client)
    before = snapshot(state_of())
    response = vw(client, "Remove", {**CUSTOMER, "CardId": "00a94d92-1d84-44be-fa32-1c9591443347"})
    assert text(response) == f'<Remove Success="False" VWUserLgn="{LOGIN}" ErrCode="WRONG_CARD" />'
    assert snapshot(state_of()) == before


# -- Pay and the order commands (docs/providers/payture.md#pay, #order-level-commands) ---------------------------------


def pay(client, card_id, order="order123", amount="10000", **extra):
    data = {**CUSTOMER, "CardId": card_id, "OrderId": order, "Amount": amount, "IP": "10.0.0.1", **extra}
    return text(vw(client, "Pay", data, vwid=PAY))


def test_pay_saved_card_with_cvv(client):
    register(client)
    card_id = add_card(client)
    assert pay(client, card_id, SecureCode="123") == '<Pay OrderId="order123" Amount="10000" Success="True" />'
    status = text(vw(client, "PayStatus", {"OrderId": "order123"}, vwid=PAY))
    assert status == (
        f'<PayStatus Success="True" VWUserLgn="{LOGIN}" OrderId="order123" Forwarded="False" Amount="10000"'
        f' CardId="{card_id}" Status="Charged" />'
    )


def test_recurring_pay_with_saved_card_needs_no_cvv(client):
    """(doc) Pay — recurring payments: no CVV2/CVC2 and no 3-D Secure for a saved (IsActive) card."""
    register(client)
    card_id = add_card(client)
    assert pay(client, card_id, SessionType="Block") == '<Pay OrderId="order123" Amount="10000" Success="True" />'
    assert 'Status="Authorized"' in text(vw(client, "PayStatus", {"OrderId": "order123"}, vwid=PAY))


def test_pay_with_removed_or_unknown_card_refused(client, state_of):
    register(client)
    card_id = add_card(client)
    vw(client, "Remove", {**CUSTOMER, "CardId": card_id})
    before = snapshot(state_of())
    for card in (card_id, "no-such-card"):
        assert pay(client, card) == '<Pay OrderId="order123" Amount="10000" Success="False" ErrCode="WRONG_CARD" />'
    assert snapshot(state_of()) == before


def test_pay_no_cvv_card():
    app = create_app(strict=True, seed=1, callbacks=False, options={"payture.no_cvv": True})
    client = app.test_client()
    register(client)
    card_id = add_card(client)
    assert 'NoCVV="True"' in text(vw(client, "GetList", CUSTOMER))
    assert pay(client, card_id) == '<Pay OrderId="order123" Amount="10000" Success="True" />'


def test_pay_unknown_card(client):
    register(client)
    assert (
        pay(client, "nope", SecureCode="123")
        == '<Pay OrderId="order123" Amount="10000" Success="False" ErrCode="WRONG_CARD" />'
    )


def test_pay_duplicate_order(client):
    register(client)
    card_id = add_card(client)
    pay(client, card_id, SecureCode="123")
    assert pay(client, card_id, SecureCode="123") == (
        '<Pay OrderId="order123" Amount="10000" Success="False" ErrCode="DUPLICATE_ORDER_ID" />'
    )


def test_pay_free_pay(client):
    register(client)
    card = {k: v for k, v in GOOD_CARD.items()}
    assert pay(client, "FreePay", **card) == '<Pay OrderId="order123" Amount="10000" Success="True" />'
    declined = {**card, "CardNumber": "4111111111100072"}
    assert (
        pay(client, "FreePay", order="o2", **declined)
        == '<Pay OrderId="o2" Amount="10000" Success="False" ErrCode="ISSUER_BLOCKED_CARD" />'
    )


def test_pay_free_pay_insufficient_funds(client):
    register(client)
    card = {**GOOD_CARD, "CardNumber": "4111101000000046"}
    assert pay(client, "FreePay", **card) == (
        '<Pay OrderId="order123" Amount="10000" Success="False" ErrCode="AMOUNT_EXCEED" />'
    )
    # (doc) docs/providers/payture.md#order-statuses: a declined payment is kept, Rejected; its OrderId is used
    assert 'Status="Rejected"' in text(vw(client, "PayStatus", {"OrderId": "order123"}, vwid=PAY))
    assert attr(pay(client, "FreePay", **GOOD_CARD), "ErrCode") == "DUPLICATE_ORDER_ID"


def test_pay_zero_amount(client):
    register(client)
    assert pay(client, "FreePay", amount="0", **GOOD_CARD) == (
        '<Pay OrderId="order123" Amount="0" Success="False" ErrCode="WRONG_AMOUNT" />'
    )


def test_pay_free_pay_missing_card_data(client):
    register(client)
    assert pay(client, "FreePay", CardNumber="4011111111111112") == (
        '<Pay OrderId="order123" Amount="10000" Success="False" ErrCode="WRONG_PARAMS" />'
    )


def test_pay_3ds_then_pay_submit_3ds(client):
    register(client)
    three_ds_card = {**GOOD_CARD, "CardNumber": "5486732058864471"}
    body = pay(client, "FreePay", order="o-3ds", SessionType="Block", **three_ds_card)
    key = attr(body, "ThreeDSKey")
    assert body == (
        '<Pay OrderId="o-3ds" Amount="10000" Success="3DS" ACSUrl="http://localhost/vwapi/ACS"'
        f' PaReq="{attr(body, "PaReq")}" ThreeDSKey="{key}" />'
    )
    assert 'Status="PreAuthorized3DS"' in text(vw(client, "PayStatus", {"OrderId": "o-3ds"}, vwid=PAY))
    # as the docs and both official SDKs send it: top-level MD and PaRes, no VWID
    done = text(client.post("/vwapi/PaySubmit3DS", data={"MD": key, "PaRes": "pass"}))
    assert done == '<PaySubmit3DS OrderId="o-3ds" Amount="10000" Success="True" />'
    assert 'Status="Authorized"' in text(vw(client, "PayStatus", {"OrderId": "o-3ds"}, vwid=PAY))
    again = text(vw(client, "PaySubmit3DS", {"MD": key, "PaRes": "pass"}, vwid=PAY))  # the DATA form works too
    assert again == '<PaySubmit3DS OrderId="" Amount="" Success="False" ErrCode="ILLEGAL_ORDER_STATE" />'


def test_pay_submit_3ds_unknown_md(client):
    assert text(client.post("/vwapi/PaySubmit3DS", data={"MD": "nope", "PaRes": "x"})) == (
        '<PaySubmit3DS OrderId="" Amount="" Success="False" ErrCode="ORDER_NOT_FOUND" />'
    )
    assert text(client.post("/vwapi/PaySubmit3DS", data={"PaRes": "x"})) == (
        '<PaySubmit3DS OrderId="" Amount="" Success="False" ErrCode="WRONG_PARAMS" />'
    )


def test_free_pay_3ds_fail_rejects(client):
    register(client)
    body = pay(client, "FreePay", **{**GOOD_CARD, "CardNumber": "2202208311110010"})
    failed = text(client.post("/vwapi/PaySubmit3DS", data={"MD": attr(body, "ThreeDSKey"), "PaRes": "fail"}))
    assert failed == '<PaySubmit3DS OrderId="order123" Amount="10000" Success="False" ErrCode="THREE_DS_FAIL" />'
    assert 'Status="Rejected"' in text(vw(client, "PayStatus", {"OrderId": "order123"}, vwid=PAY))


def test_pay_saved_3ds_card(client):
    register(client)
    session_id = init_add(client)
    page = text(
        client.post("/vwapi/Add/Submit", data={"SessionId": session_id, **GOOD_CARD, "CardNumber": "5486732058864471"})
    )
    key = re.search(r'name="ThreeDSKey" value="([^"]+)"', page).group(1)
    client.post("/vwapi/Add/Submit", data={"SessionId": session_id, "ThreeDSKey": key, "Answer": "pass"})
    card_id = attr(text(vw(client, "GetList", CUSTOMER)), "CardId")
    # (doc) a card saved through 3-D Secure pays later without it
    assert pay(client, card_id) == '<Pay OrderId="order123" Amount="10000" Success="True" />'


def test_acs_page_posts_to_term_url(client):
    page = text(client.post("/vwapi/ACS", data={"MD": "key-1", "PaReq": "x", "TermUrl": "https://shop.test/3ds"}))
    assert 'action="https://shop.test/3ds"' in page and 'name="MD" value="key-1"' in page


def test_pay_status_unknown_order(client):
    register(client)
    response = vw(client, "PayStatus", {"OrderId": "order123"}, vwid=PAY)
    assert (
        text(response)
        == '<PayStatus Success="False" VWUserLgn="" OrderId="order123" Forwarded="False" ErrCode="ORDER_NOT_FOUND" />'
    )


def test_pay_status_session_expired(client, runtime):
    register(client)
    vw(client, "Init", {"SessionType": "Block", **CUSTOMER, "OrderId": "order123", "Amount": "10000"}, vwid=PAY)
    assert 'Status="New"' in text(vw(client, "PayStatus", {"OrderId": "order123"}, vwid=PAY, method="GET"))
    runtime.clock.advance(3601)
    response = vw(client, "PayStatus", {"OrderId": "order123"}, vwid=PAY, method="GET")
    assert (
        text(response)
        == '<PayStatus Success="False" VWUserLgn="" OrderId="order123" Forwarded="False" ErrCode="ORDER_TIME_OUT" />'
    )


def blocked_order(client, order="order123", amount="10000"):
    register(client)
    card_id = add_card(client)
    assert (
        attr(pay(client, card_id, order=order, amount=amount, SecureCode="123", SessionType="Block"), "Success")
        == "True"
    )
    return card_id


def test_charge_recorded_shape(client):
    blocked_order(client)
    response = client.get(
        "/vwapi/Charge",
        query_string={"VWID": PAY, "OrderId": "order123", "Amount": "10000", "Password": MERCHANT_PASSWORD},
    )
    assert text(response) == '<Charge Success="True" OrderId="order123" Amount="10000" />'
    assert 'Status="Charged"' in text(vw(client, "PayStatus", {"OrderId": "order123"}, vwid=PAY))


def test_charge_amount_error(client, state_of):
    blocked_order(client)
    before = snapshot(state_of())
    response = vw(client, "Charge", vwid=PAY, OrderId="order123", Amount="20000", Password=MERCHANT_PASSWORD)
    assert text(response) == '<Charge Success="False" OrderId="order123" ErrCode="AMOUNT_ERROR" />'
    assert snapshot(state_of()) == before


def test_charge_illegal_state_after_charge(client):
    blocked_order(client)
    vw(client, "Charge", vwid=PAY, OrderId="order123", Amount="10000", Password=MERCHANT_PASSWORD)
    response = vw(client, "Charge", vwid=PAY, OrderId="order123", Amount="10000", Password=MERCHANT_PASSWORD)
    assert text(response) == '<Charge Success="False" OrderId="order123" ErrCode="ILLEGAL_ORDER_STATE" />'


def test_charge_wrong_merchant_password(client, state_of):
    blocked_order(client)
    before = snapshot(state_of())
    response = vw(client, "Charge", vwid=PAY, OrderId="order123", Amount="10000", Password="nope")
    assert text(response) == '<Charge Success="False" OrderId="order123" ErrCode="ACCESS_DENIED" />'
    assert snapshot(state_of()) == before


def test_charge_unknown_order(client):
    register(client)
    response = vw(client, "Charge", vwid=PAY, OrderId="nope", Amount="1", Password=MERCHANT_PASSWORD)
    assert text(response) == '<Charge Success="False" OrderId="nope" ErrCode="ORDER_NOT_FOUND" />'


def test_charge_without_amount_captures_the_hold(client):
    """(doc) Charge: without Amount the whole held amount is captured (the Python SDK's form)."""
    blocked_order(client)
    response = vw(client, "Charge", vwid=PAY, OrderId="order123", Password=MERCHANT_PASSWORD)
    assert text(response) == '<Charge Success="True" OrderId="order123" Amount="10000" />'


def test_charge_missing_order_id(client, state_of):
    blocked_order(client)
    before = snapshot(state_of())
    response = vw(client, "Charge", vwid=PAY, Amount="100", Password=MERCHANT_PASSWORD)
    assert text(response) == '<Charge Success="False" OrderId="" ErrCode="WRONG_PARAMS" />'
    assert snapshot(state_of()) == before


def test_unblock_releases_the_whole_hold(client):
    """(doc) Unblock takes VWID, Password, OrderId and releases everything; NewAmount is always 0."""
    blocked_order(client)
    response = vw(client, "Unblock", vwid=PAY, OrderId="order123", Password=MERCHANT_PASSWORD)
    assert text(response) == '<Unblock Success="True" OrderId="order123" NewAmount="0" />'
    assert 'Status="Voided"' in text(vw(client, "PayStatus", {"OrderId": "order123"}, vwid=PAY))


def test_unblock_twice_is_an_illegal_state(client, state_of):
    blocked_order(client)
    vw(client, "Unblock", vwid=PAY, OrderId="order123", Password=MERCHANT_PASSWORD)
    before = snapshot(state_of())
    response = vw(client, "Unblock", vwid=PAY, OrderId="order123", Password=MERCHANT_PASSWORD)
    assert text(response) == '<Unblock Success="False" OrderId="order123" ErrCode="ILLEGAL_ORDER_STATE" />'
    assert snapshot(state_of()) == before


def test_refund_partial_then_full(client):
    blocked_order(client)
    vw(client, "Charge", vwid=PAY, OrderId="order123", Amount="10000", Password=MERCHANT_PASSWORD)
    refund = {"Password": MERCHANT_PASSWORD, "OrderId": "order123", "Amount": "8000"}
    assert (
        text(vw(client, "Refund", refund, vwid=PAY))
        == '<Refund VWUserLgn="" OrderId="order123" Success="True" NewAmount="2000" />'
    )
    refund["Amount"] = "2000"
    assert (
        text(vw(client, "Refund", refund, vwid=PAY))
        == '<Refund VWUserLgn="" OrderId="order123" Success="True" NewAmount="0" />'
    )
    assert 'Status="Refunded"' in text(vw(client, "PayStatus", {"OrderId": "order123"}, vwid=PAY))


def test_refund_amount_error(client, state_of):
    blocked_order(client)
    vw(client, "Charge", vwid=PAY, OrderId="order123", Amount="10000", Password=MERCHANT_PASSWORD)
    before = snapshot(state_of())
    response = vw(client, "Refund", {"Password": MERCHANT_PASSWORD, "OrderId": "order123", "Amount": "10001"}, vwid=PAY)
    assert text(response) == '<Refund VWUserLgn="" OrderId="order123" Success="False" ErrCode="AMOUNT_ERROR" />'
    assert snapshot(state_of()) == before


def test_refund_not_charged(client):
    blocked_order(client)
    response = vw(client, "Refund", {"Password": MERCHANT_PASSWORD, "OrderId": "order123", "Amount": "1"}, vwid=PAY)
    assert text(response) == '<Refund VWUserLgn="" OrderId="order123" Success="False" ErrCode="ILLEGAL_ORDER_STATE" />'


# -- the hosted Pay page (docs/providers/payture.md#pay) ---------------------------------------------------------------


def test_pay_page_blocks_order(client):
    register(client)
    body = text(
        vw(
            client,
            "Init",
            {"SessionType": "Block", **CUSTOMER, "OrderId": "o-page", "Amount": "2500", "Url": URL},
            vwid=PAY,
        )
    )
    session_id = attr(body, "SessionId")
    page = text(client.get(f"/vwapi/Pay?SessionId={session_id}"))
    assert 'action="/vwapi/Pay/Submit"' in page and 'id="amount">25.00<' in page
    response = client.post(
        "/vwapi/Pay/Submit", data={"SessionId": session_id, "payemu_redirect_delay": "0", **GOOD_CARD}
    )
    assert response.headers["Location"] == "https://shop.test/result?orderid=o-page&result=True"
    assert 'Status="Authorized"' in text(vw(client, "PayStatus", {"OrderId": "o-page"}, vwid=PAY))


def test_merchants_are_isolated(client, state_of):
    """One login at two merchants: two customers; a card registered at one is unknown to the other."""
    register(client)
    shop_add, shop_pay = "ShopMerchantAdd", "ShopMerchantPay"
    unknown = f'<GetList Success="False" VWUserLgn="{LOGIN}" ErrCode="WRONG_USER_PARAMS" />'
    assert text(vw(client, "GetList", CUSTOMER, vwid=shop_add)) == unknown
    at_shop = {**CUSTOMER, "PhoneNumber": "79265351604"}
    assert attr(text(vw(client, "Register", at_shop, vwid=shop_add)), "Success") == "True"
    card_id = add_card(client)
    assert text(vw(client, "GetList", CUSTOMER, vwid=shop_add)) == f'<GetList Success="True" VWUserLgn="{LOGIN}" />'
    order = {**CUSTOMER, "CardId": card_id, "OrderId": "o1", "Amount": "100", "SecureCode": "123"}
    assert attr(text(vw(client, "Pay", order, vwid=shop_pay)), "ErrCode") == "WRONG_CARD"
    assert attr(text(vw(client, "Pay", order, vwid=PAY)), "Success") == "True"
    assert "o1" not in state_of("ShopMerchant").orders and "o1" in state_of("DemoMerchant").orders


# -- notifications (docs/providers/payture.md#notifications) -----------------------------------------------------------


def test_notifications_customer_add_success_and_fail(client, runtime):
    runtime.tenants["payture"].update("DemoMerchant", {"notification_url": "http://127.0.0.1:9/n"})  # outbox only
    register(client)
    session_id = init_add(client)
    client.post("/vwapi/Add/Submit", data={"SessionId": session_id, **GOOD_CARD, "CardNumber": "4111111111100072"})
    client.post("/vwapi/Add/Submit", data={"SessionId": session_id, **GOOD_CARD})
    deliveries = runtime.callbacks.list(provider="payture")
    assert [d.event for d in deliveries] == ["CustomerAddFail", "CustomerAddSuccess"]
    fail = {k: v[0] for k, v in parse_qs(deliveries[0].body.decode()).items()}
    assert fail["Success"] == "False" and fail["ErrCode"] == "ISSUER_BLOCKED_CARD" and fail["VWUserLgn"] == LOGIN
    ok = {k: v[0] for k, v in parse_qs(deliveries[1].body.decode()).items()}
    assert (
        ok["Notification"] == "CustomerAddSuccess"
        and ok["CardName"] == "401111xxxxxx1112"
        and ok["SessionId"] == session_id
    )
    assert ok["MerchantContract"] == "DemoMerchant" and ok["PhoneNumber"] == "79265351604"
    assert re.fullmatch(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}:\d{2}", ok["TransactionDate"]) and ok["DateTime"].isdigit()
    assert deliveries[1].headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "4011111111111112" not in deliveries[1].body.decode()


def test_notifications_delivered_to_tenant_url(client, runtime, payemu_receiver):
    runtime.callbacks.enabled = True  # this test's notifications leave the process, to the receiver
    runtime.tenants["payture"].update("DemoMerchant", {"notification_url": payemu_receiver.url + "/notify"})
    register(client)
    card_id = add_card(client)
    pay(client, card_id, SecureCode="123")
    vw(client, "Refund", {"Password": MERCHANT_PASSWORD, "OrderId": "order123", "Amount": "10000"}, vwid=PAY)
    received = payemu_receiver.wait_for(3)
    assert {r.path for r in received} == {"/notify"}
    assert all(r.headers["content-type"] == "application/x-www-form-urlencoded" for r in received)
    events = [parse_qs(r.text)["Notification"][0] for r in received]
    assert sorted(events) == ["CustomerAddSuccess", "CustomerPaySuccess", "CustomerRefundSuccess"]
    refund = next(parse_qs(r.text) for r in received if "CustomerRefundSuccess" in r.text)
    assert refund["NewAmount"] == ["0"] and re.fullmatch(
        r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", refund["TransactionDate"][0]
    )


# -- the V21 wrapper (docs/providers/payture.md#behind-api-wrapper) ----------------------------------------------------

V21 = "/api/payments/21/payture"


def test_v21_init_unauthorised_shape(client, state_of):
    response = client.post(f"{V21}/initUnauthorised", json={"user_id": "550e8400-e29b-41d4-a716-446655440001"})
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json; charset=utf-8"
    body = response.get_json()
    session_id = body["data"]["SessionId"]
    assert body == {
        "success": True,
        "data": {
            "Success": "True",
            "Amount": "10.00",
            "SessionLifeTime": "60",
            "AttemptsCount": "5",
            "SessionId": session_id,
            "SessionType": "Add",
            "RedirectUrl": f"http://localhost/vwapi/Add?SessionId={session_id}",
            "Cmd": "Init",
        },
    }
    login = "customer-550e8400-e29b-41d4-a716-446655440001"
    expected = hashlib.md5(b"550e8400-e29b-41d4-a716-446655440001payemu-behind-salt").hexdigest()
    assert state_of().customers[login].password == expected
    assert state_of().sessions[session_id].amount == 0 and state_of().sessions[session_id].login == login


@pytest.mark.parametrize(
    "how",
    [
        {"json": {"access_token": "demo-access-token"}},
        {"json": {}, "headers": {"AccessToken": "demo-access-token"}},
        {"headers": {"Authorization": "Bearer demo-access-token"}},
    ],
)
def test_v21_init_token_conventions(client, state_of, how):
    body = client.post(f"{V21}/init", **how).get_json()
    assert body["success"] is True
    assert "customer-550e8400-e29b-41d4-a716-446655440001" in state_of().customers


def test_v21_init_without_token(client, runtime):
    body = client.post(f"{V21}/init", json={}).get_json()
    assert body == {"success": False, "message": "Can't finish request", "e": {"message": "Unauthorized"}}
    assert runtime.store.tenants("payture") in ([], ["DemoMerchant"])


def test_v21_init_unauthorised_missing_user(client):
    body = client.post(f"{V21}/initUnauthorised", json={}).get_json()
    assert body == {"success": False, "message": "Can't finish request", "e": {"message": "user_id is required"}}


def test_v21_init_unauthorised_bad_body(client):
    response = client.post(f"{V21}/initUnauthorised", data="not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["success"] is False and response.get_json()["message"] == "Bad request"


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [("POST", f"{V21}/nope", 404, "Not found"), ("GET", f"{V21}/finalise", 405, "Method not allowed")],
)
def test_v21_unknown_route_and_method_answer_json(client, method, path, status, message):
    response = client.open(path, method=method)
    assert response.status_code == status and response.headers["Content-Type"] == "application/json"
    assert response.get_json() == {"success": False, "message": message, "e": {}}


def test_v21_finalise_no_card(client):
    client.post(f"{V21}/initUnauthorised", json={"user_id": "u1"})
    assert client.post(f"{V21}/finalise", json={"access_token": "client-own-token", "user_id": "u1"}).get_json() == {
        "success": False,
        "message": "No active card found",
    }


def test_v21_finalise_unknown_customer(client):
    body = client.post(f"{V21}/finalise", json={"user_id": "never-registered"}).get_json()
    assert body == {
        "success": False,
        "message": "Can't get card list",
        "e": {"Success": "False", "ErrCode": "WRONG_USER_PARAMS"},
    }


def test_v21_finalise_returns_hosted_card(client):
    data = client.post(f"{V21}/init", headers={"Authorization": "Bearer demo-access-token"}).get_json()["data"]
    page = text(client.get(data["RedirectUrl"].replace("http://localhost", "")))
    assert 'id="card-form"' in page
    response = client.post(
        "/vwapi/Add/Submit", data={"SessionId": data["SessionId"], "payemu_redirect_delay": "0", **GOOD_CARD}
    )
    assert (
        response.headers["Location"]
        == f"http://localhost:3000/payment/callback?orderid={data['SessionId']}&result=True"
    )
    body = client.post(f"{V21}/finalise", headers={"Authorization": "Bearer demo-access-token"}).get_json()
    assert body == {
        "success": True,
        "data": {
            "card": {
                "CardName": "401111xxxxxx1112",
                "CardHolder": "IVAN IVANOV",
                "Status": "IsActive",
                "NoCVV": "false",
                "Expired": "false",
            }
        },
    }


def test_v21_init_twice_reuses_customer(client, state_of):
    first = client.post(f"{V21}/initUnauthorised", json={"user_id": "u3"}).get_json()
    second = client.post(f"{V21}/initUnauthorised", json={"user_id": "u3"}).get_json()
    assert first["success"] and second["success"] and first["data"]["SessionId"] != second["data"]["SessionId"]
    assert len(state_of().customers) == 1
