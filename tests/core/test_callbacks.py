"""The callback dispatcher: off-thread delivery, retries, scenario effects, outbox, admin."""

from __future__ import annotations

import json

import pytest

from emulator.core.callbacks import Callbacks
from emulator.core.clock import Clock


@pytest.fixture
def dispatcher():
    callbacks = Callbacks(Clock().now)
    yield callbacks
    callbacks.close()


def _send(dispatcher, url, event="e", **kwargs):
    return dispatcher.send(
        provider="p",
        tenant="t",
        url=url,
        body=json.dumps({"event": event}).encode(),
        headers={"Content-Type": "application/json", "Signature": "sig"},
        event=event,
        **kwargs,
    )


def test_delivers_body_and_headers(dispatcher, payemu_receiver):
    delivery = _send(dispatcher, payemu_receiver.url + "/hook")
    [got] = payemu_receiver.wait_for(1)
    assert got.path == "/hook" and json.loads(got.body) == {"event": "e"} and got.headers["Signature"] == "sig"
    assert dispatcher.wait_idle()
    assert delivery.status == "delivered" and [a.status for a in delivery.attempts] == [200]


def test_retries_non_200_with_backoff_then_delivers(dispatcher, payemu_receiver):
    payemu_receiver.statuses = [500, 503]
    delivery = _send(dispatcher, payemu_receiver.url, retry_delays=(0.01, 0.02, 0.04))
    payemu_receiver.wait_for(3)
    assert dispatcher.wait_idle()
    assert [a.status for a in delivery.attempts] == [500, 503, 200] and delivery.status == "delivered"


def test_gives_up_after_the_last_retry(dispatcher, payemu_receiver):
    payemu_receiver.statuses = [500] * 10
    delivery = _send(dispatcher, payemu_receiver.url, retry_delays=(0.01, 0.01))
    payemu_receiver.wait_for(3)
    assert dispatcher.wait_idle()
    assert delivery.status == "failed" and len(delivery.attempts) == 3


def test_connection_errors_are_retried_and_recorded(dispatcher):
    delivery = _send(dispatcher, "http://127.0.0.1:9/unreachable", retry_delays=(0.01,))
    assert dispatcher.wait_idle()
    assert delivery.status == "failed" and all(a.error for a in delivery.attempts) and len(delivery.attempts) == 2


def test_drop_then_redeliver(dispatcher, payemu_receiver):
    delivery = _send(dispatcher, payemu_receiver.url, effects={"drop": True})
    assert dispatcher.wait_idle() and delivery.status == "dropped" and payemu_receiver.received == []
    dispatcher.redeliver(delivery.id)
    payemu_receiver.wait_for(1)
    assert dispatcher.wait_idle() and delivery.status == "delivered"


def test_duplicate_sends_twice(dispatcher, payemu_receiver):
    first = _send(dispatcher, payemu_receiver.url, effects={"duplicate": True})
    assert len(payemu_receiver.wait_for(2)) == 2
    twins = dispatcher.list()
    assert len(twins) == 2 and twins[1].duplicate_of == first.id


def test_reorder_holds_until_the_next_callback(dispatcher, payemu_receiver):
    _send(dispatcher, payemu_receiver.url, event="first", effects={"reorder": True})
    assert dispatcher.list(status="held")
    _send(dispatcher, payemu_receiver.url, event="second")
    got = payemu_receiver.wait_for(2)
    assert [json.loads(r.body)["event"] for r in got] == ["second", "first"]


def test_delay_and_flush(dispatcher, payemu_receiver):
    delivery = _send(dispatcher, payemu_receiver.url, effects={"delay_ms": 60_000})
    assert dispatcher.list(status="pending")
    assert dispatcher.flush() == {"flushed": 1, "delivered": [delivery.id], "failed": [], "pending": []}
    assert len(payemu_receiver.wait_for(1)) == 1


def test_admin_outbox_lists_flushes_and_redelivers(client, runtime, payemu_receiver):
    delivery = runtime.callbacks.send(
        provider="izipay",
        tenant="4007701",
        url=payemu_receiver.url,
        body=b'{"card":"4111111111111111"}',
        headers={},
        event="demo",
        effects={"drop": True},
    )
    listed = client.get("/__admin/callbacks?provider=izipay").get_json()
    assert listed["count"] == 1 and listed["callbacks"][0]["status"] == "dropped"
    assert "4111111111111111" not in listed["callbacks"][0]["body"]
    redelivered = client.post(f"/__admin/callbacks/{delivery.id}/redeliver").get_json()
    assert redelivered["status"] == "delivered"
    assert client.post("/__admin/callbacks/nope/redeliver").status_code == 404
    assert client.post("/__admin/callbacks/flush").get_json()["status"] == "ok"
    runtime.callbacks.close()
