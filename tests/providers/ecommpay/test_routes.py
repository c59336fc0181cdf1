"""Ecommpay Gate over HTTP: acknowledgements, every rejection code, callbacks on a real receiver
(docs/providers/ecommpay.md)."""

from __future__ import annotations

import re
import threading
from typing import Any

import pytest

from emulator.clients.ecommpay import signature_of
from emulator.providers.ecommpay.model import card_expires_at
from emulator.testing import CallbackReceiver
from tests.conftest import retry_on_clock

from .support import (
    BYTOKEN,
    PAN,
    REVOKE,
    SECRET_12,
    SECRET_42,
    TOKENIZE,
    assert_callback,
    signed,
    state_of,
    token_body,
    tokenize,
    tokenize_body,
)


class RequestId:
    """Matches a generated request id (28 lowercase hex, like the published one)."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and re.fullmatch(r"[0-9a-f]{28}", other) is not None

    def __repr__(self) -> str:
        return "<request id>"


def error(code: str, message: str, project_id: int | None = 11) -> dict[str, Any]:
    return {"status": "error", "request_id": RequestId(), "project_id": project_id, "code": code, "message": message}


def outbox(runtime: Any) -> list[Any]:
    return runtime.callbacks.list(provider="ecommpay")


# -- accepted requests -----------------------------------------------------------------------------


def test_tokenize_card_accepted_acknowledges_then_calls_back(
    client: Any, runtime: Any, receiver: CallbackReceiver
) -> None:
    response = client.post(TOKENIZE, json=signed(tokenize_body()))
    assert response.status_code == 200
    assert response.json == {"status": "success", "project_id": 11, "payment_id": None, "request_id": RequestId()}
    runtime.callbacks.wait_idle()
    [arrived] = receiver.wait_for(1)
    body = assert_callback(runtime, arrived, "tokenize")
    assert body["general"]["project_id"] == 11 and body["general"]["customer_id"] == "1707"
    assert body["request"] == {"id": response.json["request_id"], "action": "tokenize", "status": "success"}
    assert re.fullmatch(r"[0-9a-f]{64}", body["token"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", body["token_created_at"])
    assert body["token_status"] == "active"
    assert arrived.path == "/ecommpay/callbacks"
    assert b"\\/" in arrived.body or b"/" not in arrived.body  # PHP json_encode escapes slashes


def test_tokenize_card_same_card_returns_same_token(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    first = tokenize(client, runtime, receiver)
    second = tokenize(client, runtime, receiver)
    assert first == second
    assert len(state_of(runtime)["tokens"]) == 1


def test_tokenize_card_new_expiry_updates_the_token(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    first = tokenize(client, runtime, receiver, year=2030, month=5)
    second = tokenize(client, runtime, receiver, year=2032, month=11)
    [record] = state_of(runtime)["tokens"]
    assert first == second == record["token"]
    assert (record["year"], record["month"]) == (2032, 11)


def test_tokenize_card_only_the_gates_natural_order_accepted(
    client: Any, runtime: Any, receiver: CallbackReceiver
) -> None:
    body = tokenize_body()
    body["customer"]["extra"] = [str(i) for i in range(12)]  # items:2 vs items:10: the two orders differ
    body["customer"]["signature"] = signature_of(body, "secret")
    assert client.post(TOKENIZE, json=body).status_code == 200
    body["customer"]["signature"] = signature_of(body, "secret", natural=False)  # the Python SDK's order
    response = client.post(TOKENIZE, json=body)
    assert (response.status_code, response.json) == (400, error("3261", "Invalid signature"))
    lenient = client.post(TOKENIZE, json=body, headers={"X-Payemu-Scenario": "ecommpay/lenient-signatures"})
    assert lenient.status_code == 200
    body["customer"]["signature"] = signature_of(body, "not-the-secret")
    response = client.post(TOKENIZE, json=body)
    assert (response.status_code, response.json) == (400, error("3261", "Invalid signature"))


def test_card_by_token_calls_back_with_masked_account(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    token = tokenize(
        client, runtime, receiver, customer="c-9", customer_extra={"email": "john@example.com", "country": "GB"}
    )
    response = client.post(BYTOKEN, json=signed(token_body(token, customer="c-9")))
    assert response.status_code == 200
    assert response.json == {"status": "success", "project_id": 11, "payment_id": None, "request_id": RequestId()}
    runtime.callbacks.wait_idle()
    arrived = receiver.wait_for(2)[-1]
    body = assert_callback(runtime, arrived, "card_by_token")
    assert body["token"] == token
    assert body["account"] == {
        "id": 2932,
        "number": "431422******0056",
        "type": "card",
        "additional": {
            "country": "GB",
            "email": "john@example.com",
            "card": {"expiry": "05/30", "holder": "PAUL SMITH", "type": "visa"},
        },
        "recurring_enable": False,
    }


def test_revoke_token_calls_back_and_token_is_refused_after(
    client: Any, runtime: Any, receiver: CallbackReceiver
) -> None:
    token = tokenize(client, runtime, receiver)
    response = client.post(REVOKE, json=signed(token_body(token)))
    assert response.status_code == 200
    runtime.callbacks.wait_idle()
    body = assert_callback(runtime, receiver.wait_for(2)[-1], "token_revoke")
    assert body["request"]["action"] == "token_revoke" and body["token_status"] == "revoke"
    assert body["token"] == token and body["request"]["id"] == response.json["request_id"]
    before = state_of(runtime)
    for path in (BYTOKEN, REVOKE):
        refused = client.post(path, json=signed(token_body(token)))
        assert (refused.status_code, refused.json) == (400, error("3027", "Invalid token provided"))
    assert state_of(runtime) == before
    runtime.callbacks.wait_idle()
    assert len(receiver.received) == 2


def test_tokenize_card_after_revoke_issues_a_new_token(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    first = tokenize(client, runtime, receiver)
    assert client.post(REVOKE, json=signed(token_body(first))).status_code == 200
    runtime.callbacks.wait_idle()
    second = tokenize(client, runtime, receiver)
    assert second != first


# -- rejections: status, full body, no state change ---------------------------------------------


def _bad(body: dict[str, Any], *, sign: bool = True, secret: str | None = None) -> dict[str, Any]:
    return signed(body, secret) if sign else body


def _without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    holder = body
    for key in path[:-1]:
        holder = holder[key]
    holder.pop(path[-1])
    return body


REJECTIONS = [
    ("bad_json", b'{"customer": {', error("2003", "Invalid JSON string", None)),
    ("empty_body", b"", error("2003", "Invalid JSON string", None)),
    ("json_array", b"[1, 2]", error("2003", "Invalid JSON string", None)),
    (
        "no_project_id",
        _without(tokenize_body(), "customer", "project_id"),
        error("2004", "Required field not provided", None),
    ),
    ("no_pan", _bad(_without(tokenize_body(), "card", "pan")), error("2004", "Required field not provided")),
    ("no_customer_id", _bad(_without(tokenize_body(), "customer", "id")), error("2004", "Required field not provided")),
    ("no_card", _bad(_without(tokenize_body(), "card")), error("2004", "Required field not provided")),
    ("unknown_project", tokenize_body(project_id=99), error("2442", "Project ID not found", 99)),
    ("no_signature", tokenize_body(), error("3262", "Empty signature")),
    (
        "empty_signature",
        {**tokenize_body(), "customer": {**tokenize_body()["customer"], "signature": ""}},
        error("3262", "Empty signature"),
    ),
    (
        "bad_signature",
        {**tokenize_body(), "customer": {**tokenize_body()["customer"], "signature": "AAAA"}},
        error("3261", "Invalid signature"),
    ),
    (
        "other_project_secret",
        _bad(tokenize_body(project_id=12), secret="secret"),
        error("3261", "Invalid signature", 12),
    ),
    ("expired_card", _bad(tokenize_body(year=2020, month=5)), error("3021", "Card expired")),
    ("holder_missing", _bad(_without(tokenize_body(), "card", "card_holder")), error("3162", "Cardholder is required")),
    ("holder_blank", _bad(tokenize_body(holder="  ")), error("3161", "Invalid Holder")),
    ("pan_not_luhn", _bad(tokenize_body(pan="4314220000000057")), error("502", "Validation error")),
    ("year_string", _bad(tokenize_body(year="2030")), error("502", "Validation error")),
    ("customer_id_empty", _bad(tokenize_body(customer="")), error("2124", "Invalid Customer ID")),
]


@pytest.mark.parametrize(("case", "payload", "expected"), REJECTIONS, ids=[r[0] for r in REJECTIONS])
def test_tokenize_card_rejected(
    client: Any, runtime: Any, receiver: CallbackReceiver, case: str, payload: Any, expected: Any
) -> None:
    tokenize(client, runtime, receiver, customer="existing")
    before, sent = state_of(runtime), len(outbox(runtime))
    if isinstance(payload, bytes):
        response = client.post(TOKENIZE, data=payload, content_type="application/json")
    else:
        response = client.post(TOKENIZE, json=payload)
    assert (response.status_code, response.json) == (400, expected)
    assert state_of(runtime) == before
    assert len(outbox(runtime)) == sent


def test_tokenize_card_signed_field_changed_after_signing_rejected(client: Any, runtime: Any) -> None:
    body = signed(tokenize_body())
    for path in (("card", "pan"), ("card", "card_holder"), ("customer", "id"), ("customer", "ip_address")):
        tampered = {k: dict(v) for k, v in body.items()}
        value = tampered[path[0]][path[1]]
        tampered[path[0]][path[1]] = value[:-1] + ("7" if value[-1] != "7" else "8")
        response = client.post(TOKENIZE, json=tampered)
        assert (response.status_code, response.json) == (400, error("3261", "Invalid signature"))
    assert state_of(runtime) is None and outbox(runtime) == []


def test_card_by_token_unknown_token(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    tokenize(client, runtime, receiver)
    before, sent = state_of(runtime), len(outbox(runtime))
    response = client.post(BYTOKEN, json=signed(token_body("a" * 64)))
    assert (response.status_code, response.json) == (400, error("3221", "Card token not found"))
    assert state_of(runtime) == before and len(outbox(runtime)) == sent


def test_card_by_token_malformed_token(client: Any, runtime: Any) -> None:
    response = client.post(BYTOKEN, json=signed(token_body("not-a-token")))
    assert (response.status_code, response.json) == (400, error("3027", "Invalid token provided"))


def test_card_by_token_missing_token(client: Any, runtime: Any) -> None:
    response = client.post(BYTOKEN, json=signed({"customer": {"project_id": 11, "id": "1707"}}))
    assert (response.status_code, response.json) == (400, error("2004", "Required field not provided"))


@pytest.mark.parametrize("path", [BYTOKEN, REVOKE])
def test_token_used_with_another_customer(client: Any, runtime: Any, receiver: CallbackReceiver, path: str) -> None:
    token = tokenize(client, runtime, receiver, customer="owner")
    before, sent = state_of(runtime), len(outbox(runtime))
    response = client.post(path, json=signed(token_body(token, customer="intruder")))
    assert (response.status_code, response.json) == (400, error("3241", "Customer not found"))
    assert state_of(runtime) == before and len(outbox(runtime)) == sent


def test_unknown_path_and_wrong_method_answer_in_the_gate_envelope(client: Any) -> None:
    response = client.post("/v2/customer/card/nothing", json={})
    assert (response.status_code, response.json) == (404, error("702", "Malformed request", None))
    response = client.get(TOKENIZE)
    assert (response.status_code, response.json) == (405, error("702", "Malformed request", None))


# -- options for the open questions (docs/providers/ecommpay.md#open-questions) ----------------------------------------


def with_options(runtime: Any, **options: Any) -> None:
    """Set options on project 11 at run time (as `--option ecommpay.NAME=...` would for the server)."""
    runtime.tenants["ecommpay"].update("11", {"options": options})


def test_tokenize_card_error_status_200_option(client: Any, runtime: Any) -> None:
    with_options(runtime, error_status="200")
    response = client.post(TOKENIZE, json=signed(tokenize_body(year=2020)))
    assert (response.status_code, response.json) == (200, error("3021", "Card expired"))


def test_tokenize_card_errors_array_option(client: Any, runtime: Any) -> None:
    with_options(runtime, error_errors_array=True)
    response = client.post(TOKENIZE, json=signed(_without(tokenize_body(), "card", "pan")))
    expected = {
        **error("2004", "Required field not provided"),
        "errors": [{"code": "2004", "message": "Required field not provided", "field": "card.pan"}],
    }
    assert (response.status_code, response.json) == (400, expected)


def test_tokenize_card_card_errors_in_callback_option(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    with_options(runtime, card_errors="callback")
    response = client.post(TOKENIZE, json=signed(tokenize_body(pan="4314220000000057")))
    assert response.status_code == 200 and response.json["status"] == "success"
    runtime.callbacks.wait_idle()
    body = assert_callback(runtime, receiver.wait_for(1)[0], "tokenize_error")
    assert body["request"] == {
        "id": response.json["request_id"],
        "action": "tokenize",
        "status": "error",
        "errors": [{"code": "502", "message": "Validation error", "field": "card.pan"}],
    }
    assert state_of(runtime) is not None and state_of(runtime)["tokens"] == []


def test_tokenize_card_rocketpay_layout_tenant(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    response = client.post(TOKENIZE, json=signed(tokenize_body(project_id=42)))
    assert response.status_code == 200 and response.json["project_id"] == 42
    runtime.callbacks.wait_idle()
    body = assert_callback(runtime, receiver.wait_for(1)[0], "tokenize", secret=SECRET_42)
    assert "general" not in body and body["project_id"] == 42 and body["customer"] == {"id": "1707"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+0000", body["token_created_at"])


def test_tokenize_card_without_payment_id_option(client: Any, runtime: Any) -> None:
    with_options(runtime, ack_payment_id=False)
    response = client.post(TOKENIZE, json=signed(tokenize_body()))
    assert response.json == {"status": "success", "project_id": 11, "request_id": RequestId()}


# -- expiry on the virtual clock (docs/providers/ecommpay.md#tokens) ---------------------------------------------------


def test_clock_past_card_expiry_sends_actionless_callback(
    client: Any, runtime: Any, receiver: CallbackReceiver
) -> None:
    year = int(re.match(r"\d{4}", client.get("/__admin/clock").json["iso"]).group()) + 1
    token = tokenize(client, runtime, receiver, year=year, month=1)
    seconds = card_expires_at(year, 1) - runtime.clock.now() + 1
    assert client.post("/__admin/clock/advance", json={"seconds": seconds}).status_code == 200
    runtime.callbacks.wait_idle()
    arrived = receiver.wait_for(2)
    body = assert_callback(runtime, arrived[-1], "token_expiry")
    assert body["token"] == token and body["token_status"] == "expiry"
    assert "action" not in body["request"] and body["request"]["status"] == "success"
    assert state_of(runtime)["tokens"][0]["status"] == "expiry"
    response = client.post(BYTOKEN, json=signed(token_body(token)))
    assert (response.status_code, response.json) == (400, error("3021", "Card expired"))
    assert client.post("/__admin/clock/advance", json={"seconds": 60}).status_code == 200
    runtime.callbacks.wait_idle()
    assert len(receiver.received) == 2  # one expiry callback, never repeated


# -- delivery: retries, outbox, no PAN anywhere ---------------------------------------------------


def test_callback_retried_until_200(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    receiver.statuses = [500, 503]
    client.post(TOKENIZE, json=signed(tokenize_body()))
    retry_on_clock(runtime, 2)  # the default delays, 1 s then 2 s, on the virtual clock
    arrived = receiver.wait_for(3)
    assert len({a.body for a in arrived}) == 1  # the same signed body each time
    [delivery] = client.get("/__admin/callbacks?provider=ecommpay").json["callbacks"]
    assert delivery["status"] == "delivered" and [a["status"] for a in delivery["attempts"]] == [500, 503, 200]
    assert delivery["event"] == "tokenize"
    gaps = [b["at"] - a["at"] for a, b in zip(delivery["attempts"], delivery["attempts"][1:], strict=False)]
    assert all(gap >= 1 for gap in gaps)


def test_callback_retries_bounded_on_connection_errors(client: Any, runtime: Any) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}/gone"
    runtime.tenants["ecommpay"].update("11", {"callback_url": dead, "options": {"callback_retry_delays": "60,60"}})
    assert client.post(TOKENIZE, json=signed(tokenize_body())).status_code == 200
    retry_on_clock(runtime, 60)
    [delivery] = outbox(runtime)
    assert delivery.status == "failed" and len(delivery.attempts) == 3
    assert all(a.status is None and a.error for a in delivery.attempts)


def test_full_pan_never_in_journal_or_outbox(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    token = tokenize(client, runtime, receiver)
    client.post(BYTOKEN, json=signed(token_body(token)))
    runtime.callbacks.wait_idle()
    receiver.wait_for(2)
    assert PAN not in client.get("/__admin/requests").get_data(as_text=True)
    assert PAN not in client.get("/__admin/callbacks").get_data(as_text=True)
    assert PAN not in client.get("/__admin/state/ecommpay").get_data(as_text=True)
    assert all(PAN not in r.body.decode() for r in receiver.received)


# -- tenants and concurrency ---------------------------------------------------------------------


def test_tenant_isolation(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    token = tokenize(client, runtime, receiver)
    response = client.post(BYTOKEN, json=signed(token_body(token, project_id=12)))
    assert (response.status_code, response.json) == (400, error("3221", "Card token not found", 12))
    other = tokenize(client, runtime, receiver, project_id=12)
    assert other != token
    assert_callback(runtime, receiver.received[-1], "tokenize", secret=SECRET_12)
    assert [t["token"] for t in state_of(runtime, "12")["tokens"]] == [other]
    assert [t["token"] for t in state_of(runtime, "11")["tokens"]] == [token]


def test_tokenize_card_concurrent_overlapping_cards(app: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    pans = ["4314220000000056", "4111111111111111", "5555555555554444", "4242424242424242"]
    acks: dict[str, str] = {}  # request_id -> pan
    failures: list[Any] = []
    lock = threading.Lock()
    start = threading.Barrier(16)

    def worker(index: int) -> None:
        client = app.test_client()
        start.wait()
        for pan in (pans[index % 4], pans[(index + 1) % 4]):
            response = client.post(TOKENIZE, json=signed(tokenize_body(pan=pan, customer="shared")))
            with lock:
                if response.status_code != 200:
                    failures.append(response.json)
                else:
                    acks[response.json["request_id"]] = pan

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert failures == [] and len(acks) == 32
    runtime.callbacks.wait_idle()
    arrived = receiver.wait_for(32)
    by_pan: dict[str, set[str]] = {}
    for item in arrived:
        body = item.json()
        by_pan.setdefault(acks[body["request"]["id"]], set()).add(body["token"])
    assert all(len(tokens) == 1 for tokens in by_pan.values()) and len(by_pan) == 4
    tokens = {t["token"] for t in state_of(runtime)["tokens"]}
    assert tokens == set().union(*by_pan.values()) and len(tokens) == 4


def test_tokenize_card_open_tenants_admits_unknown_project(receiver: CallbackReceiver) -> None:
    from emulator import create_app

    app = create_app(strict=True, seed=1, open_tenants=True, options={"ecommpay.callback_url": receiver.url})
    runtime = app.extensions["payemu"]
    response = app.test_client().post(TOKENIZE, json=signed(tokenize_body(project_id=777), secret="secret"))
    assert (response.status_code, response.json["project_id"]) == (200, 777)
    wrong = app.test_client().post(TOKENIZE, json=signed(tokenize_body(project_id=778), secret="other"))
    assert (wrong.status_code, wrong.json["code"]) == (400, "3261")
    runtime.callbacks.wait_idle()
    assert_callback(runtime, receiver.wait_for(1)[0], "tokenize")
    runtime.callbacks.close()


def test_callback_url_state_override_wins(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    other = receiver.url + "/override"
    with runtime.store.open("ecommpay", "11") as state:
        state.scenario_set_callback_url(now=0, url=other)
    tokenize(client, runtime, receiver)
    assert receiver.received[-1].path == "/override"
    with runtime.store.open("ecommpay", "11") as state:
        state.scenario_set_callback_url(now=0)
    tokenize(client, runtime, receiver)
    assert receiver.received[-1].path == "/ecommpay/callbacks"
