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
