"""Zai's failure scenarios and replay files, through the Flask test client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.clients.zai import ZaiClient
from emulator.core.replay import Replay, in_process, load_replay
from tests.providers.zai.conftest import BUYER, SELLER, A, app_with_callback, bearer, state_of, token_for

SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"
SECRET = "0123456789abcdef0123456789abcdef"


def _scenario(name: str) -> dict[str, str]:
    return {"X-Payemu-Scenario": f"zai/{name}"}


def test_all_zai_scenarios_load(runtime):
    names = {name for name in runtime.scenarios.names() if name.startswith("zai/")}
    assert names == {
        "zai/card-declined",
        "zai/default",
        "zai/insufficient-wallet-funds",
        "zai/rate-limited",
        "zai/server-error",
        "zai/signed-webhook",
        "zai/slow-token-auths",
        "zai/three-ds-required",
        "zai/token-auth-expired",
        "zai/token-expires-mid-flow",
        "zai/unknown-user-404",
        "zai/webhook-endpoint-recovering",
    }


def test_create_token_auth_rate_limited_twice_then_succeeds(client, runtime, token):
    user_id = client.post("/users", json=BUYER, headers=bearer(token)).json["users"]["id"]
    headers = bearer(token, **_scenario("rate-limited"))
    for _ in range(2):
        response = client.post("/token_auths", json={"user_id": user_id}, headers=headers)
        assert (response.status_code, response.json) == (429, {"message": "Too Many Requests"})
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert state_of(runtime).token_auths == {}
    assert client.post("/token_auths", json={"user_id": user_id}, headers=headers).status_code == 200


def test_server_error_then_recovery_creates_nothing_on_failure(client, runtime, token):
    headers = bearer(token, **_scenario("server-error"))
    response = client.post("/users", json={**BUYER, "id": "b1"}, headers=headers)
    assert (response.status_code, response.json) == (500, {"error": "something went wrong"})
    assert "b1" not in state_of(runtime).users
    assert client.post("/users", json={**BUYER, "id": "b1"}, headers=headers).status_code == 201
    response = client.post("/token_auths", json={"user_id": "b1"}, headers=headers)
    assert (response.status_code, response.json) == (503, {"message": "Service Unavailable"})
    assert state_of(runtime).token_auths == {}
    assert client.post("/token_auths", json={"user_id": "b1"}, headers=headers).status_code == 200


def test_slow_token_auths_delays_only_token_auths(client, runtime, token, monkeypatch):
    monkeypatch.setattr(runtime, "deferred_effects", True)  # the serving layer would sleep; here it is only recorded
    user_id = client.post("/users", json=BUYER, headers=bearer(token, **_scenario("slow-token-auths"))).json
    client.get("/users", headers=bearer(token, **_scenario("slow-token-auths")))
    assert runtime.journal.query(operation="list_users")[0].effects == []
    response = client.post(
        "/token_auths", json={"user_id": user_id["users"]["id"]}, headers=bearer(token, **_scenario("slow-token-auths"))
    )
    assert response.status_code == 200
    assert runtime.journal.query(operation="create_token_auth")[0].effects == ["rule 1", "delay 2500ms"]


def test_access_token_expires_mid_flow_client_must_refresh(client, runtime, token):
    user_id = client.post("/users", json=SELLER, headers=bearer(token)).json["users"]["id"]
    headers = _scenario("token-expires-mid-flow")
    before = runtime.clock.now()
    response = client.post("/token_auths", json={"user_id": user_id}, headers=bearer(token, **headers))
    assert (response.status_code, response.json) == (401, {"errors": {"token": "has expired"}})
    assert runtime.clock.now() - before >= 3601
    assert state_of(runtime).token_auths == {}
    # the old token is now really expired, on every operation
    response = client.get(f"/users/{user_id}", headers=bearer(token, **headers))
    assert (response.status_code, response.json) == (401, {"errors": {"token": "has expired"}})
    fresh = token_for(client, A)
    response = client.post("/token_auths", json={"user_id": user_id}, headers=bearer(fresh, **headers))
    assert response.status_code == 200


def test_unknown_user_404_scenario(client, runtime, token):
    headers = bearer(token, **_scenario("unknown-user-404"))
    response = client.post("/token_auths", json={"user_id": "ghost", "token_type": "card"}, headers=headers)
    assert (response.status_code, response.json) == (404, {"errors": {"user_id": ["not found"]}})
    response = client.get("/users/ghost", headers=headers)
    assert (response.status_code, response.json) == (404, {"errors": {"id": ["not found"]}})
    assert state_of(runtime).token_auths == {}


def test_signed_webhook_scenario_queues_signed_callback(tmp_path):
    # outbox only (callbacks off): nothing leaves the process
    app = app_with_callback(tmp_path, "http://127.0.0.1:9/hook", callbacks=False)
    client, runtime = app.test_client(), app.extensions["payemu"]
    token = token_for(client, A)
    assert client.post("/webhooks/secret_key", json={"secret_key": SECRET}, headers=bearer(token)).status_code == 201
    runtime.clock.now = lambda provider=None, tenant=None: 1_700_000_000.25  # the vector's second, frozen
    token = token_for(client, A)
    headers = bearer(token, **_scenario("signed-webhook"))
    assert client.post("/users", json={**BUYER, "id": "u1"}, headers=headers).status_code == 201
    sent = [d for d in runtime.callbacks.list(provider="zai") if d.event == "test"]
    assert len(sent) == 1
    delivery = sent[0]
    assert (delivery.url, delivery.body) == ("http://127.0.0.1:9/hook", b'{"message":"Zai callback test"}')
    # docs/providers/zai.md#webhooks, the computed vector of the test body, byte for byte
    assert delivery.headers["Webhooks-signature"] == "t=1700000000,v=vu6FKopDDiYa3lAoy2Ssp51kzJMFl0cVJPhYimVyEfE"
    assert delivery.headers["Content-Type"] == "application/json"
    assert ZaiClient.verify_webhook(delivery.body, delivery.headers["Webhooks-signature"], SECRET, now=1_700_000_100)
    with pytest.raises(ValueError, match="does not match"):
        ZaiClient.verify_webhook(
            delivery.body + b" ", delivery.headers["Webhooks-signature"], SECRET, now=1_700_000_000
        )
    with pytest.raises(ValueError, match="outside tolerance"):
        ZaiClient.verify_webhook(delivery.body, delivery.headers["Webhooks-signature"], SECRET, now=1_700_000_301)


def test_signed_webhook_scenario_without_callback_url_sends_nothing(client, runtime, token):
    headers = bearer(token, **_scenario("signed-webhook"))
    assert client.post("/users", json=BUYER, headers=headers).status_code == 201
    assert runtime.callbacks.list(provider="zai") == []
    assert state_of(runtime).pending_webhooks == []


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("zai/replay-*.yaml")), ids=lambda p: p.stem)
def test_replay_files_pass(path, app):
    document = load_replay(path, SCENARIOS / "replay.schema.json")
    results = Replay(document, in_process(app)).run()
    failed = [result.line() for result in results if not result.passed]
    assert failed == [], json.dumps(failed, ensure_ascii=False)
    assert len(results) >= 5


def test_replay_files_exist():
    assert {p.stem for p in SCENARIOS.glob("zai/replay-*.yaml")} == {
        "replay-buyer-seller-card-and-bank-tokens",
        "replay-token-expires-client-refreshes",
        "replay-card-item-payment-webhook-refund",
    }


def test_admin_action_sends_a_signed_webhook_now(client, runtime, payemu_receiver):
    """POST /__admin/actions/zai/<tenant>/send_webhook signs with the stored secret and delivers at once."""
    from emulator.providers.zai import callbacks

    tenant = next(iter(runtime.tenants["zai"]))
    runtime.tenants["zai"].update(tenant.id, {"callback_url": payemu_receiver.url + "/zai"})
    runtime.run_action(
        "zai", runtime.tenants["zai"].get(tenant.id), lambda context: context.state.set_webhook_secret("s" * 40), {}
    )
    response = client.post(f"/__admin/actions/zai/{tenant.id}/send_webhook", json={"event": "status_updated"})
    assert response.status_code == 200 and response.get_json()["result"] == {"sent": True}
    [got] = payemu_receiver.wait_for(1)
    assert got.path == "/zai" and got.body == b'{"message":"Zai callback test"}'
    header = got.headers["Webhooks-signature"]
    timestamp = int(header.split(",")[0][2:])
    assert header == callbacks.signature_header("s" * 40, timestamp, got.body)
    assert client.post(f"/__admin/actions/zai/{tenant.id}/nope").status_code == 404


# -- the money-flow scenarios (docs/providers/zai.md#scenarios) --------------------------------------------------

CARD = {"full_name": "John Doe", "number": "4111111111111111", "expiry_month": 12, "expiry_year": 2030, "cvv": "123"}


def _paid_flow(client, token):
    """A buyer with a card, a seller and a pending Express item; return the card account id."""
    for user in ({**BUYER, "id": "b1"}, {**BUYER, "id": "s1", "email": "s1@example.com"}):
        assert client.post("/users", json=user, headers=bearer(token)).status_code == 201
    card = client.post("/card_accounts", json={**CARD, "user_id": "b1"}, headers=bearer(token)).json
    item = {"id": "i1", "name": "n", "amount": 500, "payment_type": 2, "buyer_id": "b1", "seller_id": "s1"}
    assert client.post("/items", json=item, headers=bearer(token)).status_code == 201
    return card["card_accounts"]["id"]


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ("card-declined", "Payment failed: card declined"),
        ("three-ds-required", "Payment failed: 3D Secure authentication required, use make_payment_async"),
        ("insufficient-wallet-funds", "insufficient funds in the wallet account"),
    ],
)
def test_payment_scenarios_refuse_and_change_nothing(client, runtime, token, scenario, message):
    card = _paid_flow(client, token)
    headers = bearer(token, **_scenario(scenario))
    refused = client.patch("/items/i1/make_payment", json={"account_id": card}, headers=headers)
    assert (refused.status_code, refused.json) == (422, {"errors": {"base": [message]}})
    assert state_of(runtime).items["i1"].state == "pending" and state_of(runtime).transactions == {}
    paid = client.patch("/items/i1/make_payment", json={"account_id": card}, headers=bearer(token))
    assert paid.json["items"]["state"] == "completed"  # without the scenario the same call succeeds


def test_token_auth_expired_scenario(client, runtime, token):
    assert client.post("/users", json={**BUYER, "id": "b1"}, headers=bearer(token)).status_code == 201
    issued = client.post("/token_auths", json={"user_id": "b1", "token_type": "card"}, headers=bearer(token)).json
    body = {**CARD, "card_token": issued["token_auth"]["token"]}
    refused = client.post("/card_accounts", json=body, headers=_scenario("token-auth-expired"))
    assert (refused.status_code, refused.json) == (422, {"errors": {"card_token": ["has expired"]}})
    assert state_of(runtime).card_accounts == {}


def test_webhook_endpoint_recovering_scenario_retries_on_the_virtual_clock(client, runtime, token, payemu_receiver):
    headers = bearer(token, **_scenario("webhook-endpoint-recovering"))
    hook = {"url": payemu_receiver.url + "/hook", "object_type": "users"}
    hook_id = client.post("/webhooks", json=hook, headers=headers).json["webhooks"]["id"]
    payemu_receiver.statuses.extend([503, 503])
    assert client.post("/users", json={**BUYER, "id": "b1"}, headers=headers).status_code == 201
    for seen, wait in ((1, 5), (2, 10)):  # the scenario's 5 s, then 10 s
        payemu_receiver.wait_for(seen)
        assert runtime.callbacks.wait_settled(5)
        runtime.clock.advance(wait)
    payemu_receiver.wait_for(3)
    assert runtime.callbacks.wait_settled(5)
    [job] = client.get(f"/webhooks/{hook_id}/jobs", headers=headers).json["jobs"]
    assert (job["status"], job["object_id"]) == ("success", "b1")
    [delivery] = runtime.callbacks.list(provider="zai")
    assert [a.status for a in delivery.attempts] == [503, 503, 200]
