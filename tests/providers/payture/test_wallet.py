"""Payture's documented cards and card life cycle over HTTP: merchant-side Add and AddSubmit3DS, DUPLICATE_CARD,
Activate, SendCode, the time-out and error cards, recurring payments, the hosted Pay page's saved cards,
Language/TemplateTag, the failed Init, notifications sent once, and the wrapper's finalise."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

import pytest

from emulator.app import create_app
from emulator.core.serialize import to_data

from .conftest import (
    ADD,
    CUSTOMER,
    GOOD_CARD,
    LOGIN,
    MERCHANT_PASSWORD,
    PAY,
    add_card,
    attr,
    init_add,
    register,
    text,
    vw,
)

THREE_DS_CARD = {**GOOD_CARD, "CardNumber": "5486732058864471"}
V21 = "/api/payments/21/payture"


def status_of(client, order_id: str) -> str:
    return attr(text(vw(client, "PayStatus", {"OrderId": order_id}, vwid=PAY)), "Status")


def free_pay(client, pan: str, order: str = "o1", session_type: str = "Block", **extra) -> str:
    data = {**CUSTOMER, "CardId": "FreePay", "OrderId": order, "Amount": "10000", "SessionType": session_type}
    return text(vw(client, "Pay", {**data, **GOOD_CARD, "CardNumber": pan, **extra}, vwid=PAY))


# -- merchant-side Add (docs/providers/payture.md#add) ----------------------------------------------------------------


def test_merchant_add_then_duplicate_card(client, state_of):
    register(client)
    body = text(vw(client, "Add", {**CUSTOMER, **GOOD_CARD}))
    card_id = attr(body, "CardId")
    assert body == (
        f'<Add VWUserLgn="{LOGIN}" Success="True" CardName="401111xxxxxx1112" CardId="{card_id}" NoCVV="False"'
        ' Status="IsActive" />'
    )
    before = to_data(state_of())
    again = text(vw(client, "Add", {**CUSTOMER, **GOOD_CARD}))
    assert again == f'<Add Success="False" VWUserLgn="{LOGIN}" ErrCode="DUPLICATE_CARD" />'
    assert to_data(state_of()) == before
    assert text(vw(client, "GetList", CUSTOMER)).count("<Item ") == 1


def test_merchant_add_3ds_and_add_submit_3ds_without_vwid(client):
    register(client)
    body = text(vw(client, "Add", {**CUSTOMER, **THREE_DS_CARD}))
    assert attr(body, "Success") == "3DS" and attr(body, "ACSUrl") == "http://localhost/vwapi/ACS"
    key = attr(body, "ThreeDSKey")
    assert "<Item " not in text(vw(client, "GetList", CUSTOMER))  # nothing saved before the ACS answers
    done = text(client.post("/vwapi/AddSubmit3DS", data={"MD": key, "PaRes": "pass"}))
    assert attr(done, "Success") == "True" and attr(done, "CardName") == "548673xxxxxx4471"
    assert attr(text(vw(client, "GetList", CUSTOMER)), "CardId") == attr(done, "CardId")
    used = text(client.post("/vwapi/AddSubmit3DS", data={"MD": key, "PaRes": "pass"}))
    assert used == '<AddSubmit3DS Success="False" VWUserLgn="" ErrCode="ORDER_NOT_FOUND" />'


def test_add_submit_3ds_fail_saves_nothing(client):
    register(client)
    key = attr(text(vw(client, "Add", {**CUSTOMER, **THREE_DS_CARD})), "ThreeDSKey")
    failed = text(client.post("/vwapi/AddSubmit3DS", data={"MD": key, "PaRes": "fail"}))
    assert failed == f'<AddSubmit3DS Success="False" VWUserLgn="{LOGIN}" ErrCode="THREE_DS_FAIL" />'
    assert "<Item " not in text(vw(client, "GetList", CUSTOMER))


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"CardNumber": "4111111111100072"}, "ISSUER_BLOCKED_CARD"),
        ({"CardNumber": "4111111111100023", "SecureCode": ""}, "WRONG_CARD_INFO"),
        ({"CardNumber": "4111111111111112"}, "WRONG_PAN"),
    ],
)
def test_merchant_add_refusals(client, change, code):
    register(client)
    body = text(vw(client, "Add", {**CUSTOMER, **GOOD_CARD, **change}))
    assert body == f'<Add Success="False" VWUserLgn="{LOGIN}" ErrCode="{code}" />'


def test_merchant_add_missing_card_data_is_wrong_params(client, state_of):
    register(client)
    before = to_data(state_of())
    assert attr(text(vw(client, "Add", CUSTOMER)), "ErrCode") == "WRONG_PARAMS"
    assert to_data(state_of()) == before


def test_cvv_optional_card_adds_without_cvv(client):
    register(client)
    assert attr(text(vw(client, "Add", {**CUSTOMER, **GOOD_CARD, "SecureCode": ""})), "Success") == "True"


def test_hosted_add_of_the_same_card_twice_is_duplicate(client):
    register(client)
    add_card(client)
    session_id = init_add(client)
    page = text(client.post("/vwapi/Add/Submit", data={"SessionId": session_id, **GOOD_CARD}))
    assert 'data-success="False"' in page and 'id="err-code">DUPLICATE_CARD<' in page


# -- Activate, SendCode (docs/providers/payture.md#activate, #sendcode) ----------------------------------------------


def test_activate_with_the_held_amount():
    app = create_app(strict=True, seed=1, callbacks=False, options={"payture.activation": "hold"})
    client = app.test_client()
    register(client)
    card_id = attr(text(vw(client, "Add", {**CUSTOMER, **GOOD_CARD})), "CardId")
    assert 'Status="NotActive"' in text(vw(client, "GetList", CUSTOMER))
    pay = {**CUSTOMER, "CardId": card_id, "OrderId": "o1", "Amount": "100"}
    assert attr(text(vw(client, "Pay", pay, vwid=PAY)), "ErrCode") == "WRONG_CARD"  # (doc) IsActive only
    held = app.extensions["payemu"].store.peek("payture", "DemoMerchant").customers[LOGIN].cards[card_id]
    wrong = text(vw(client, "Activate", {**CUSTOMER, "CardId": card_id, "Amount": held.activation_amount + 1}))
    assert wrong == f'<Activate Success="False" VWUserLgn="{LOGIN}" ErrCode="WRONG_AUTH_CODE" />'
    right = text(vw(client, "Activate", {**CUSTOMER, "CardId": card_id, "Amount": held.activation_amount}))
    assert right == f'<Activate Success="True" VWUserLgn="{LOGIN}" CardId="{card_id}" />'
    assert attr(text(vw(client, "Pay", pay, vwid=PAY)), "Success") == "True"
    again = text(vw(client, "Activate", {**CUSTOMER, "CardId": card_id, "Amount": held.activation_amount}))
    assert attr(again, "ErrCode") == "WRONG_CARD"


def test_send_code_then_pay_with_confirm_code(client, runtime):
    runtime.tenants["payture"].update("DemoMerchant", {"notification_url": "http://127.0.0.1:9/n"})  # outbox only
    register(client)
    card_id = add_card(client)
    body = text(vw(client, "SendCode", {**CUSTOMER, "CardId": card_id, "OrderId": "o1"}))
    assert body == f'<SendCode Success="True" VWUserLgn="{LOGIN}" CardId="{card_id}" />'
    sent = [d for d in runtime.callbacks.list(provider="payture") if d.event == "CustomerSendCode"]
    code = parse_qs(sent[0].body.decode())["ConfirmCode"][0]
    assert re.fullmatch(r"\d{6}", code)
    pay = {**CUSTOMER, "CardId": card_id, "OrderId": "o1", "Amount": "100"}
    assert attr(text(vw(client, "Pay", {**pay, "ConfirmCode": "000000x"}, vwid=PAY)), "ErrCode") == "WRONG_CONFIRM_CODE"
    assert attr(text(vw(client, "Pay", {**pay, "ConfirmCode": code}, vwid=PAY)), "Success") == "True"


def test_send_code_unknown_card(client):
    register(client)
    body = text(vw(client, "SendCode", {**CUSTOMER, "CardId": "nope"}))
    assert body == f'<SendCode Success="False" VWUserLgn="{LOGIN}" ErrCode="WRONG_CARD" />'


# -- the time-out and error cards (docs/providers/payture.md#test-cards) ----------------------------------------------


def test_block_time_out_card_is_pending_for_40_virtual_seconds(client, runtime):
    register(client)
    assert attr(free_pay(client, "4100401111100062"), "Success") == "True"
    assert status_of(client, "o1") == "PendingBlock"
    charge = text(vw(client, "Charge", vwid=PAY, OrderId="o1", Password=MERCHANT_PASSWORD))
    assert attr(charge, "ErrCode") == "ILLEGAL_ORDER_STATE"  # busy until the hold completes
    runtime.clock.advance(40)
    assert status_of(client, "o1") == "Authorized"


def test_charge_time_out_card_on_a_saved_card(client, runtime):
    register(client)
    card_id = add_card(client, {**GOOD_CARD, "CardNumber": "4100401111100328"})
    pay = {**CUSTOMER, "CardId": card_id, "OrderId": "o1", "Amount": "500", "SessionType": "Block"}
    assert attr(text(vw(client, "Pay", pay, vwid=PAY)), "Success") == "True"
    assert status_of(client, "o1") == "Authorized"
    assert attr(text(vw(client, "Charge", vwid=PAY, OrderId="o1", Password=MERCHANT_PASSWORD)), "Amount") == "500"
    assert status_of(client, "o1") == "PendingCharge"
    runtime.clock.advance(41)
    assert status_of(client, "o1") == "Charged"


def test_processing_error_card_fails_the_charge_with_status_error(client):
    register(client)
    free_pay(client, "4111111111100221")
    charge = text(vw(client, "Charge", vwid=PAY, OrderId="o1", Password=MERCHANT_PASSWORD))
    assert charge == '<Charge Success="False" OrderId="o1" ErrCode="PROCESSING_ERROR" />'
    assert status_of(client, "o1") == "Error"


def test_cvv_required_card(client):
    register(client)
    assert attr(free_pay(client, "4111111111100023", SecureCode=""), "ErrCode") == "WRONG_CARD_INFO"
    assert attr(free_pay(client, "4111111111100023", order="o2"), "Success") == "True"


@pytest.mark.parametrize("pan", ["5486732058864471", "4111111111111111", "2202208311110010", "6390028880000000010"])
def test_documented_3ds_cards(client, pan):
    register(client)
    assert attr(free_pay(client, pan), "Success") == "3DS"


# -- the hosted pages (docs/providers/payture.md#hosted-pages) --------------------------------------------------------


def init_pay(client, order: str, **extra) -> str:
    data = {"SessionType": "Pay", **CUSTOMER, "OrderId": order, "Amount": "700", "Url": "https://s/r?o={orderid}"}
    return attr(text(vw(client, "Init", {**data, **extra}, vwid=PAY)), "SessionId")


def test_hosted_pay_page_saves_then_offers_the_card(client):
    register(client)
    first = init_pay(client, "p1")
    page = text(client.get(f"/vwapi/Pay?SessionId={first}"))
    assert 'name="SaveCard"' in page and "saved-card" not in page
    paid = client.post("/vwapi/Pay/Submit", data={"SessionId": first, **GOOD_CARD, "SaveCard": "on"})
    assert 'data-success="True"' in text(paid)
    card_id = attr(text(vw(client, "GetList", CUSTOMER)), "CardId")
    assert attr(text(vw(client, "PayStatus", {"OrderId": "p1"}, vwid=PAY)), "CardId") == card_id
    second = init_pay(client, "p2", CardId=card_id)
    page = text(client.get(f"/vwapi/Pay?SessionId={second}"))
    assert f'data-card-id="{card_id}"' in page and "401111xxxxxx1112" in page
    one_click = client.post("/vwapi/Pay/Submit", data={"SessionId": second, "CardId": card_id})
    assert 'data-success="True"' in text(one_click) and status_of(client, "p2") == "Charged"
    # the same card typed and saved again is kept once
    third = init_pay(client, "p3")
    client.post("/vwapi/Pay/Submit", data={"SessionId": third, **GOOD_CARD, "SaveCard": "on"})
    assert text(vw(client, "GetList", CUSTOMER)).count("<Item ") == 1


def test_hosted_pay_page_refuses_another_customers_card(client):
    register(client)
    register(client, "other@example.ru", "pw2")
    other_card = add_card(client, login="other@example.ru", password="pw2")
    session_id = init_pay(client, "p1")
    page = text(client.post("/vwapi/Pay/Submit", data={"SessionId": session_id, "CardId": other_card}))
    assert 'id="err-code">WRONG_CARD<' in page


@pytest.mark.parametrize(
    ("language", "title"), [("EN", "Add a card"), ("RU", "Привязка карты"), ("", "Привязка карты")]
)
def test_hosted_page_language_and_template(client, language, title):
    register(client)
    data = {"SessionType": "Add", **CUSTOMER, "Language": language, "TemplateTag": "Mobile"}
    session_id = attr(text(vw(client, "Init", data)), "SessionId")
    page = text(client.get(f"/vwapi/Add?SessionId={session_id}"))
    assert f'<h1 id="title">{title}</h1>' in page and 'data-template="Mobile"' in page
    assert f'<html lang="{(language or "RU").lower()}">' in page


def test_error_page_in_english_for_an_english_session(client, runtime):
    register(client)
    session_id = attr(text(vw(client, "Init", {"SessionType": "Add", **CUSTOMER, "Language": "EN"})), "SessionId")
    runtime.clock.advance(3601)
    assert "This payment session has expired." in text(client.get(f"/vwapi/Add?SessionId={session_id}"))


# -- Init, notifications, PaySubmit3DS of the hosted 3-DS (docs/providers/payture.md#init, #notifications) -----------


def test_failed_init_has_no_session_id_unless_the_option_says_so(client):
    body = text(vw(client, "Init", {"SessionType": "Add", "VWUserLgn": "nobody", "VWUserPsw": "x"}))
    assert body == '<Init Success="False" ErrCode="WRONG_USER_PARAMS" />'
    app = create_app(strict=True, seed=1, callbacks=False, options={"payture.failed_init_session_id": "true"})
    other = app.test_client()
    body = text(vw(other, "Init", {"SessionType": "Add", "VWUserLgn": "nobody", "VWUserPsw": "x"}))
    assert body == '<Init Success="False" ErrCode="WRONG_USER_PARAMS" SessionId="" />'
    assert (
        text(vw(other, "Init", {"SessionType": "Add"}))
        == '<Init Success="False" ErrCode="WRONG_PARAMS" SessionId="" />'
    )
    assert text(vw(other, "Init", {}, vwid="nope")).endswith('SessionId="" />')


def test_notifications_are_sent_once_by_default(client, runtime):
    runtime.tenants["payture"].update("DemoMerchant", {"notification_url": "http://127.0.0.1:9/n"})  # outbox only
    register(client)
    add_card(client)
    assert [d.retry_delays for d in runtime.callbacks.list(provider="payture")] == [()]


def test_notification_retries_are_an_option(runtime):
    app = create_app(strict=True, seed=1, callbacks=False, options={"payture.callback_retry_delays": "60,300"})
    client = app.test_client()
    app.extensions["payemu"].tenants["payture"].update("DemoMerchant", {"notification_url": "http://127.0.0.1:9/n"})
    register(client)
    add_card(client)
    assert [d.retry_delays for d in app.extensions["payemu"].callbacks.list(provider="payture")] == [(60.0, 300.0)]


def test_hosted_pay_3ds_shows_pre_authorized_then_charged(client):
    register(client)
    session_id = init_pay(client, "p1")
    page = text(client.post("/vwapi/Pay/Submit", data={"SessionId": session_id, **THREE_DS_CARD}))
    key = re.search(r'name="ThreeDSKey" value="([^"]+)"', page).group(1)
    assert status_of(client, "p1") == "PreAuthorized3DS"
    client.post("/vwapi/Pay/Submit", data={"SessionId": session_id, "ThreeDSKey": key, "Answer": "pass"})
    assert status_of(client, "p1") == "Charged"


# -- the V21 wrapper (docs/providers/payture.md#behind-api-wrapper) ---------------------------------------------------


def test_finalise_after_init_unauthorised_with_the_clients_own_token(client):
    """A published behind-API client sends its own access token in the body and both headers on every call."""
    token = "client-app-token"
    headers = {"AccessToken": token, "Authorization": f"Bearer {token}"}
    started = client.post(
        f"{V21}/initUnauthorised", json={"user_id": "guest-9", "access_token": token}, headers=headers
    )
    session_id = started.get_json()["data"]["SessionId"]
    client.post("/vwapi/Add/Submit", data={"SessionId": session_id, "payemu_redirect_delay": "0", **GOOD_CARD})
    body = client.post(f"{V21}/finalise", json={"user_id": "guest-9", "access_token": token}, headers=headers)
    assert body.get_json()["success"] is True and body.get_json()["data"]["card"]["CardName"] == "401111xxxxxx1112"
    # without user_id an unknown token names nobody
    alone = client.post(f"{V21}/finalise", json={"access_token": token}, headers=headers).get_json()
    assert alone == {"success": False, "message": "Can't get card list", "e": {"message": "Unauthorized"}}


def test_pay_terminal_add_terminal_share_cards(client):
    register(client)
    text(vw(client, "Add", {**CUSTOMER, **GOOD_CARD}, vwid=PAY))
    assert text(vw(client, "GetList", CUSTOMER, vwid=ADD)).count("<Item ") == 1


def test_a_3ds_attempt_left_for_a_new_card_becomes_obsolete(client, state_of):
    register(client)
    session_id = init_pay(client, "p1")
    client.post("/vwapi/Pay/Submit", data={"SessionId": session_id, **THREE_DS_CARD})
    assert status_of(client, "p1") == "PreAuthorized3DS"
    client.post("/vwapi/Pay/Submit", data={"SessionId": session_id, **GOOD_CARD})  # back from the ACS, another card
    assert status_of(client, "p1") == "Charged"
    assert state_of().orders["p1"].attempts == ["Obsolete"]


def test_activation_required_scenario(client):
    register(client)
    header = {"X-Payemu-Scenario": "payture/activation-required"}
    raw = "".join(f"{k}={v};" for k, v in {**CUSTOMER, **GOOD_CARD}.items())
    body = text(client.post("/vwapi/Add", data={"VWID": ADD, "DATA": raw}, headers=header))
    assert attr(body, "Status") == "NotActive"
