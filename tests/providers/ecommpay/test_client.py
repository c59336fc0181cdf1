"""EcommpayClient against a live loopback emulator, with callbacks on a real receiver."""

from __future__ import annotations

import json
from typing import Any

import pytest

from emulator.clients.ecommpay import EcommpayApiError, EcommpayClient, InvalidCallbackSignature, signature_of
from emulator.testing import CallbackReceiver

from .support import PAN, SECRET_11, SECRET_42, route_callbacks

VECTOR = {
    "customer": {"id": "1707", "ip_address": "1.87.128.111", "project_id": 11},
    "card": {"pan": PAN, "year": 2030, "month": 5, "card_holder": "PAUL SMITH"},
}
VECTOR_SIGNATURE = "URnXpvVNPzLZxj7/vGAaKhnqFdMxGKsIxOzoFVprFsG2PtroJn5fFyQPMQIBt6aZHysyJB0BKFTpHVFNAV1l0g=="


@pytest.fixture
def live(payemu_server: Any, receiver: CallbackReceiver) -> tuple[str, Any]:
    """The plugin's live server, every sample project calling back to the receiver."""
    route_callbacks(payemu_server.runtime, receiver)
    return payemu_server.url, payemu_server.runtime


def test_client_signature_matches_computed_vector() -> None:
    assert signature_of(VECTOR, "secret") == VECTOR_SIGNATURE
    assert signature_of(VECTOR, "secret", natural=True) == VECTOR_SIGNATURE


def test_client_tokenize_bytoken_revoke_flow(live: tuple[str, Any], receiver: CallbackReceiver) -> None:
    base_url, runtime = live
    client = EcommpayClient(base_url, 11, SECRET_11)
    ack = client.tokenize("cust-1", PAN, 2030, 5, "PAUL SMITH")
    assert ack["status"] == "success" and ack["project_id"] == 11
    runtime.callbacks.wait_idle()
    tokenized = client.parse_callback(receiver.wait_for(1)[0].body)
    assert tokenized["request"] == {"id": ack["request_id"], "action": "tokenize", "status": "success"}
    token = tokenized["token"]

    client.card_by_token("cust-1", token)
    runtime.callbacks.wait_idle()
    account = client.parse_callback(receiver.wait_for(2)[1].body)["account"]
    assert account["number"] == "431422******0056"

    client.revoke_token("cust-1", token)
    runtime.callbacks.wait_idle()
    revoked = client.parse_callback(receiver.wait_for(3)[2].body)
    assert (revoked["request"]["action"], revoked["token_status"]) == ("token_revoke", "revoke")

    with pytest.raises(EcommpayApiError) as refused:
        client.card_by_token("cust-1", token)
    assert (refused.value.status, refused.value.code, refused.value.message) == (400, "3027", "Invalid token provided")


def test_client_wrong_secret_rejected(live: tuple[str, Any]) -> None:
    client = EcommpayClient(live[0], 11, "not-the-secret")
    with pytest.raises(EcommpayApiError) as refused:
        client.tokenize("cust-1", PAN, 2030, 5, "PAUL SMITH")
    assert (refused.value.status, refused.value.code) == (400, "3261")


def test_client_verify_callback_rejects_tampering(live: tuple[str, Any], receiver: CallbackReceiver) -> None:
    base_url, runtime = live
    client = EcommpayClient(base_url, 11, SECRET_11)
    client.tokenize("cust-1", PAN, 2030, 5, "PAUL SMITH")
    runtime.callbacks.wait_idle()
    raw = receiver.wait_for(1)[0].body
    assert client.verify_callback(raw)
    body = json.loads(raw)
    body["token_status"] = "revoke"
    assert not client.verify_callback(json.dumps(body))
    assert not EcommpayClient(base_url, 11, "other").verify_callback(raw)
    with pytest.raises(InvalidCallbackSignature):
        client.parse_callback(json.dumps({"token": "x"}))


def test_client_verify_callback_top_level_signature(live: tuple[str, Any], receiver: CallbackReceiver) -> None:
    base_url, runtime = live
    client = EcommpayClient(base_url, 42, SECRET_42)  # project 42 uses the rocketpay layout
    client.tokenize("cust-1", PAN, 2030, 5, "PAUL SMITH")
    runtime.callbacks.wait_idle()
    raw = receiver.wait_for(1)[0].body
    assert "signature" in json.loads(raw) and client.verify_callback(raw)


def test_client_against_session_server_with_callback_url_override(
    payemu_server: Any, payemu_admin: Any, receiver: CallbackReceiver
) -> None:
    runtime = payemu_server.runtime
    with runtime.store.open("ecommpay", "11") as state:
        state.callback_url = receiver.url  # the per-tenant run-time override (set_state: set_callback_url)
    client = EcommpayClient(payemu_server.url, 11, SECRET_11)
    ack = client.tokenize("cust-2", PAN, 2031, 1, "JOHN JOHNSON")
    runtime.callbacks.wait_idle()
    body = client.parse_callback(receiver.wait_for(1)[0].body)
    assert body["request"]["id"] == ack["request_id"] and body["token_status"] == "active"
    payemu_admin.assert_requested(1, provider="ecommpay", operation="tokenize_card")
    assert payemu_admin.state("ecommpay", "11")["11"]["callback_url"] == receiver.url


# -- payments by token (docs/providers/ecommpay.md#payments): every callback verified by the published SDK --


def _sdk(raw: bytes, secret: str = SECRET_11) -> dict[str, Any]:
    """Ecommpay's published Python SDK checks the callback (raises on a bad signature); its data."""
    from payment_page_sdk.gate import Gate

    callback = Gate(secret).handle_callback(raw.decode())
    return json.loads(raw) | {"sdk_status": callback.get_payment_status()}


def _next(runtime: Any, receiver: CallbackReceiver, request_id: str) -> dict[str, Any]:
    """The callback of the request with this id, checked by the SDK and the client's own verifier."""
    runtime.callbacks.wait_idle()
    for arrived in receiver.wait_for(len(receiver.received)):
        body = json.loads(arrived.body)
        if body.get("operation", {}).get("request_id") == request_id:
            assert EcommpayClient("http://unused", 11, SECRET_11).verify_callback(arrived.body)
            return _sdk(arrived.body)
    raise AssertionError(f"no callback for {request_id}")


def test_client_recurring_billing_by_token(live: tuple[str, Any], receiver: CallbackReceiver) -> None:
    base_url, runtime = live
    client = EcommpayClient(base_url, 11, SECRET_11)
    ack = client.tokenize("cust-9", PAN, 2030, 5, "PAUL SMITH")
    runtime.callbacks.wait_idle()
    token = client.parse_callback(receiver.wait_for(1)[0].body)["token"]

    sale = client.sale_by_token("sub-1", "cust-9", 1990, "EUR", token)
    assert sale["payment_id"] == "sub-1" and sale["request_id"] != ack["request_id"]
    paid = _next(runtime, receiver, sale["request_id"])
    assert (paid["sdk_status"], paid["operation"]["type"], paid["account"]["token"]) == ("success", "sale", token)

    refund = client.refund("sub-1", "goodwill", amount=990, currency="EUR", merchant_refund_id="rf-1")
    assert _next(runtime, receiver, refund["request_id"])["sdk_status"] == "partially refunded"

    hold = client.auth_by_token("sub-2", "cust-9", 500, "EUR", token)
    assert _next(runtime, receiver, hold["request_id"])["sdk_status"] == "awaiting capture"
    captured = client.capture("sub-2", 500, "EUR")
    assert _next(runtime, receiver, captured["request_id"])["sdk_status"] == "success"

    hold = client.auth_by_token("sub-3", "cust-9", 700, "EUR", token)
    _next(runtime, receiver, hold["request_id"])
    cancelled = client.cancel("sub-3")
    assert _next(runtime, receiver, cancelled["request_id"])["sdk_status"] == "cancelled"

    payout = client.payout_by_token("win-1", "cust-9", 5000, "EUR", token)
    paid_out = _next(runtime, receiver, payout["request_id"])
    assert (paid_out["payment"]["type"], paid_out["sdk_status"]) == ("payout", "success")

    status = client.status("sub-1")
    assert status["payment"]["status"] == "partially refunded"
    assert [o["type"] for o in status["operations"]] == ["sale", "refund"]
    assert client.status("nothing")["errors"] == [{"code": 3061, "message": "Transaction not found"}]

    with pytest.raises(EcommpayApiError) as refused:
        client.sale_by_token("sub-1", "cust-9", 1990, "EUR", token)
    assert (refused.value.status, refused.value.code) == (400, "3041")
    with pytest.raises(EcommpayApiError) as refused:
        client.sale_by_token("sub-4", "someone-else", 1990, "EUR", token)
    assert (refused.value.status, refused.value.code) == (400, "3241")


def test_client_three_ds_sale_through_the_acs_page(live: tuple[str, Any], receiver: CallbackReceiver) -> None:
    import re

    import requests

    base_url, runtime = live
    client = EcommpayClient(base_url, 11, SECRET_11)
    card = {"pan": "4000000000000002", "year": 2030, "month": 5, "card_holder": "PAUL SMITH", "cvv": "123"}
    sale = client.sale("3ds-c", "cust-3", 2500, "EUR", card, return_url="https://shop.example/3ds")
    waiting = _next(runtime, receiver, sale["request_id"])
    assert waiting["sdk_status"] == "awaiting 3ds result"
    acs = waiting["acs"]
    page = requests.post(acs["acs_url"], data={"PaReq": acs["pa_req"], "MD": acs["md"], "TermUrl": acs["term_url"]})
    form = page.text.split('id="acs-ok"', 1)[1]
    pares = re.search(r'name="PaRes" value="([^"]+)"', form).group(1)
    done = client.three_ds_result("3ds-c", pares, acs["md"])
    runtime.callbacks.wait_idle()
    finals = [_sdk(r.body) for r in receiver.wait_for(len(receiver.received)) if b'"status":"success","date"' in r.body]
    assert done["payment_id"] == "3ds-c" and [f["payment"]["id"] for f in finals] == ["3ds-c"]
    assert "4000000000000002" not in page.text and client.status("3ds-c")["payment"]["status"] == "success"


def test_client_card_auth_capture_and_card_payout(live: tuple[str, Any], receiver: CallbackReceiver) -> None:
    base_url, runtime = live
    client = EcommpayClient(base_url, 11, SECRET_11)
    card = {"pan": "5555555555554444", "year": 2030, "month": 5, "card_holder": "PAUL SMITH", "cvv": "123"}
    hold = client.auth("hold-c", "cust-4", 1200, "USD", card)
    assert _next(runtime, receiver, hold["request_id"])["sdk_status"] == "awaiting capture"
    assert _next(runtime, receiver, client.capture("hold-c", 1000, "USD")["request_id"])["sdk_status"] == "success"
    payout = client.payout("out-c", "cust-4", 300, "USD", {k: card[k] for k in ("pan", "year", "month", "card_holder")})
    assert _next(runtime, receiver, payout["request_id"])["payment"]["type"] == "payout"
