"""Payture scenarios, selected with the X-Payemu-Scenario header or activated for the server."""

from __future__ import annotations

import re

from .conftest import ADD, CUSTOMER, GOOD_CARD, LOGIN, PASSWORD, PAY, add_card, attr, init_add, register, text, vw


def scenario(name: str) -> dict[str, str]:
    return {"X-Payemu-Scenario": f"payture/{name}"}


def test_submit_card_declined_scenario(client, state_of):
    register(client)
    session_id = init_add(client)
    page = text(
        client.post(
            "/vwapi/Add/Submit", data={"SessionId": session_id, **GOOD_CARD}, headers=scenario("card-declined-on-add")
        )
    )
    assert 'data-success="False"' in page and "ISSUER_FAIL" in page
    assert text(vw(client, "GetList", CUSTOMER)) == f'<GetList Success="True" VWUserLgn="{LOGIN}" />'


def test_submit_card_3ds_scenario(client):
    register(client)
    session_id = init_add(client)
    headers = scenario("three-ds-required")
    page = text(client.post("/vwapi/Add/Submit", data={"SessionId": session_id, **GOOD_CARD}, headers=headers))
    key = re.search(r'name="ThreeDSKey" value="([^"]+)"', page).group(1)
    page = text(
        client.post(
            "/vwapi/Add/Submit", data={"SessionId": session_id, "ThreeDSKey": key, "Answer": "pass"}, headers=headers
        )
    )
    assert 'data-success="True"' in page


def test_add_session_expired_scenario(client):
    register(client)
    session_id = init_add(client)
    page = text(client.get(f"/vwapi/Add?SessionId={session_id}", headers=scenario("session-expired")))
    assert 'id="error"' in page and "ORDER_TIME_OUT" in page


def test_pay_status_session_expired_scenario(client):
    register(client)
    vw(client, "Init", {"SessionType": "Pay", **CUSTOMER, "OrderId": "o1", "Amount": "100"}, vwid=PAY)
    response = client.post(
        "/vwapi/PayStatus", data={"VWID": PAY, "DATA": "OrderId=o1"}, headers=scenario("session-expired")
    )
    assert text(response) == (
        '<PayStatus Success="False" VWUserLgn="" OrderId="o1" Forwarded="False" ErrCode="ORDER_TIME_OUT" />'
    )


def test_init_duplicate_order_scenario(client, state_of):
    register(client)
    data = f"SessionType=Block;VWUserLgn={LOGIN};VWUserPsw={PASSWORD};OrderId=fresh;Amount=100"
    response = client.post("/vwapi/Init", data={"VWID": PAY, "DATA": data}, headers=scenario("duplicate-order"))
    assert text(response) == '<Init Success="False" ErrCode="DUPLICATE_ORDER_ID" />'
    assert state_of().orders == {}
    add = f"SessionType=Add;VWUserLgn={LOGIN};VWUserPsw={PASSWORD}"
    ok = text(client.post("/vwapi/Init", data={"VWID": ADD, "DATA": add}, headers=scenario("duplicate-order")))
    assert attr(ok, "Success") == "True"


def test_get_list_failure_scenario(client):
    register(client)
    add_card(client)
    data = f"VWUserLgn={LOGIN};VWUserPsw={PASSWORD}"
    response = client.post("/vwapi/GetList", data={"VWID": ADD, "DATA": data}, headers=scenario("get-list-failure"))
    assert response.status_code == 200
    assert text(response) == f'<GetList Success="False" VWUserLgn="{LOGIN}" ErrCode="PROCESSING_ERROR" />'


def test_v21_finalise_get_list_failure_scenario(client):
    v21 = "/api/payments/21/payture"
    client.post(f"{v21}/initUnauthorised", json={"user_id": "u9"})
    body = client.post(f"{v21}/finalise", json={"user_id": "u9"}, headers=scenario("get-list-failure")).get_json()
    assert body == {
        "success": False,
        "message": "Can't get card list",
        "e": {"Success": "False", "ErrCode": "PROCESSING_ERROR"},
    }
    # without the scenario the next finalise reads the list again
    assert client.post(f"{v21}/finalise", json={"user_id": "u9"}).get_json()["message"] == "No active card found"


def test_init_slow_scenario(client, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("emulator.core.provider.real_sleep", slept.append)  # the latency, recorded not waited
    register(client)
    data = f"SessionType=Add;VWUserLgn={LOGIN};VWUserPsw={PASSWORD}"
    response = client.post("/vwapi/Init", data={"VWID": ADD, "DATA": data}, headers=scenario("slow-init"))
    assert slept == [1.5]
    assert attr(text(response), "Success") == "True"


def test_scenario_named_error(app, client, runtime):
    """Every ErrCode is in the catalogue; an error rule renders in the command's root element."""
    register(client)
    runtime.scenarios.activate("payture/get-list-failure")
    response = vw(client, "GetList", CUSTOMER, vwid=PAY, method="GET")
    assert text(response) == f'<GetList Success="False" VWUserLgn="{LOGIN}" ErrCode="PROCESSING_ERROR" />'
    assert {"duplicate_order_id", "order_time_out", "limit_exchaust", "wrong_user_params"} <= set(
        runtime.providers["payture"].errors
    )


def test_v21_init_named_error_in_wrapper_envelope(client, runtime, tmp_path):
    from emulator.core.scenarios import Rule, Scenario

    rule = Rule(1, {"operation": "v21_init_unauthorised"}, {"error": "processing_error"})
    runtime.scenarios.add(Scenario("payture/tmp-error", "payture", "tmp", {}, [rule]))
    runtime.scenarios.activate("payture/tmp-error")
    try:
        body = client.post("/api/payments/21/payture/initUnauthorised", json={"user_id": "u"}).get_json()
    finally:
        del runtime.scenarios.book["payture/tmp-error"]
    assert body == {
        "success": False,
        "message": "Can't finish request",
        "e": {"Success": "False", "ErrCode": "PROCESSING_ERROR"},
    }
