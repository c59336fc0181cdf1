"""Ecommpay scenarios: signature rejection, callback delay/drop/duplicate/reorder, expiry, revoked cards."""

from __future__ import annotations

import re
from typing import Any

import pytest

from emulator.core.replay import Replay, in_process, load_replay
from emulator.testing import CallbackReceiver

from .support import (
    BYTOKEN,
    REVOKE,
    TOKENIZE,
    assert_callback,
    signed,
    state_of,
    token_body,
    tokenize,
    tokenize_body,
)


def _with(name: str) -> dict[str, str]:
    return {"X-Payemu-Scenario": f"ecommpay/{name}"}


def _tokenize(client: Any, name: str, **kwargs: Any) -> Any:
    return client.post(TOKENIZE, json=signed(tokenize_body(**kwargs)), headers=_with(name))


def test_default_scenario_has_no_rules(runtime: Any) -> None:
    assert runtime.scenarios.resolve("ecommpay/default").rules == []


def test_signature_rejected_refuses_valid_signatures(client: Any, runtime: Any) -> None:
    response = _tokenize(client, "signature-rejected")
    body = response.json
    assert (response.status_code, body) == (
        400,
        {
            "status": "error",
            "request_id": body["request_id"],
            "project_id": 11,
            "code": "3261",
            "message": "Invalid signature",
        },
    )
    assert re.fullmatch(r"[0-9a-f]{28}", body["request_id"])
    assert state_of(runtime) is None and runtime.callbacks.list(provider="ecommpay") == []
    assert client.post(TOKENIZE, json=signed(tokenize_body())).status_code == 200  # without the scenario


def test_unsigned_requests_accepts_any_nonempty_signature(
    client: Any, runtime: Any, receiver: CallbackReceiver
) -> None:
    body = tokenize_body()
    body["customer"]["signature"] = "unchecked"
    assert client.post(TOKENIZE, json=body, headers=_with("unsigned-requests")).status_code == 200
    body["customer"]["signature"] = ""
    response = client.post(TOKENIZE, json=body, headers=_with("unsigned-requests"))
    assert (response.status_code, response.json["code"]) == (400, "3262")
    runtime.callbacks.wait_idle()
    assert_callback(runtime, receiver.wait_for(1)[0], "tokenize")  # callbacks stay signed


@pytest.mark.parametrize("name", ["replay-token-lifecycle", "replay-token-expiry"])
def test_replay_file_passes_in_process(app: Any, name: str) -> None:
    runtime = app.extensions["payemu"]
    document = load_replay(
        runtime.config.scenarios_dir / "ecommpay" / f"{name}.yaml", runtime.config.scenarios_dir / "replay.schema.json"
    )
    results = Replay(document, in_process(app)).run()
    assert [r.line() for r in results if not r.passed] == []


def test_callback_delayed_waits_then_flush_delivers(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    response = _tokenize(client, "callback-delayed")
    assert response.status_code == 200
    [delivery] = runtime.callbacks.list(provider="ecommpay")
    assert runtime.callbacks.wait_settled() and delivery.status == "pending" and receiver.received == []
    assert client.post("/__admin/callbacks/flush").json["flushed"] == 1
    [arrived] = receiver.wait_for(1)
    assert assert_callback(runtime, arrived, "tokenize")["request"]["id"] == response.json["request_id"]


def test_callback_delayed_leaves_once_the_clock_moved_5_s(
    client: Any, runtime: Any, receiver: CallbackReceiver
) -> None:
    assert _tokenize(client, "callback-delayed").status_code == 200
    [delivery] = runtime.callbacks.list(provider="ecommpay")
    runtime.clock.advance(2)
    assert runtime.callbacks.wait_settled() and delivery.status == "pending" and receiver.received == []
    runtime.clock.advance(3)
    receiver.wait_for(1)
    assert runtime.callbacks.wait_idle() and delivery.status == "delivered"


def test_callback_dropped_then_redelivered(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    assert _tokenize(client, "callback-dropped").status_code == 200
    runtime.callbacks.wait_idle()
    [delivery] = client.get("/__admin/callbacks?provider=ecommpay").json["callbacks"]
    assert delivery["status"] == "dropped" and receiver.received == []
    redelivered = client.post(f"/__admin/callbacks/{delivery['id']}/redeliver").json
    assert redelivered["status"] == "delivered"
    [arrived] = receiver.wait_for(1)
    assert_callback(runtime, arrived, "tokenize")
    assert _tokenize(client, "callback-dropped", customer="second").status_code == 200  # only the first is lost
    runtime.callbacks.wait_idle()
    assert len(receiver.wait_for(2)) == 2


def test_callback_duplicate_arrives_twice_identical(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    assert _tokenize(client, "callback-duplicate").status_code == 200
    runtime.callbacks.wait_idle()
    first, second = receiver.wait_for(2)
    assert first.body == second.body
    assert_callback(runtime, first, "tokenize")
    deliveries = runtime.callbacks.list(provider="ecommpay")
    assert sorted(d.duplicate_of is None for d in deliveries) == [False, True]


def test_callback_reordered_first_arrives_after_second(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    first = _tokenize(client, "callback-reordered", customer="a").json["request_id"]
    runtime.callbacks.wait_idle()
    assert receiver.received == []
    second = _tokenize(client, "callback-reordered", customer="b").json["request_id"]
    runtime.callbacks.wait_idle()
    arrived = receiver.wait_for(2)
    assert [a.json()["request"]["id"] for a in arrived] == [second, first]


def test_token_expires_on_clock_sends_actionless_callback(
    client: Any, runtime: Any, receiver: CallbackReceiver
) -> None:
    token = tokenize(client, runtime, receiver)
    response = client.post(BYTOKEN, json=signed(token_body(token)), headers=_with("token-expires"))
    assert response.status_code == 400 and response.json["code"] == "3021"
    runtime.callbacks.wait_idle()
    body = assert_callback(runtime, receiver.wait_for(2)[-1], "token_expiry")
    assert body["token"] == token and "action" not in body["request"]
    assert state_of(runtime)["tokens"][0]["status"] == "expiry"


def test_revoked_card_flow(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    token = tokenize(client, runtime, receiver)
    for path in (BYTOKEN, REVOKE):
        response = client.post(path, json=signed(token_body(token)), headers=_with("revoked-card"))
        assert (response.status_code, response.json["code"], response.json["message"]) == (
            400,
            "3027",
            "Invalid token provided",
        )
    assert state_of(runtime)["tokens"][0]["status"] == "revoke"
    assert tokenize(client, runtime, receiver) != token  # a revoked card gets a new token


def test_admin_api_overrides_a_projects_callback_url(app: Any, runtime: Any) -> None:
    """PUT /__admin/tenants/ecommpay/<project> changes where callbacks go, until a reset."""
    from emulator.core.provider import TenantContext

    tenant = next(iter(runtime.tenants["ecommpay"]))
    response = app.test_client().put(
        f"/__admin/tenants/ecommpay/{tenant.id}", json={"callback_url": "http://127.0.0.1:9/override"}
    )
    assert response.status_code == 200 and response.get_json()["callback_url"] == "http://127.0.0.1:9/override"
    provider = runtime.providers["ecommpay"]
    context = TenantContext(runtime, provider, runtime.tenants["ecommpay"].get(tenant.id), runtime.clock.now())
    assert context.callback_url() == "http://127.0.0.1:9/override"
    runtime.reset()
    context = TenantContext(runtime, provider, runtime.tenants["ecommpay"].get(tenant.id), runtime.clock.now())
    assert context.callback_url() == tenant.get("callback_url")
