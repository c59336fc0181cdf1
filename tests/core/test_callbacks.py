"""The callback dispatcher: off-thread delivery, retries and delays on the virtual clock, scenario
effects, outbox, admin, and unprompted callbacks when the clock passes an expiry."""

from __future__ import annotations

import json

import pytest

from emulator.core.callbacks import Callbacks
from emulator.core.clock import Clock
from tests.core.toy.helpers import M1, notify, token

LATER = (60.0, 120.0)  # retry delays no test waits out in real time: only the virtual clock reaches them


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def dispatcher(clock):
    callbacks = Callbacks(clock.now)
    clock.on_change(callbacks.wake)  # as the runtime wires them
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
    assert got.path == "/hook" and got.json() == {"event": "e"} and got.headers["signature"] == "sig"
    assert dispatcher.wait_idle()
    assert delivery.status == "delivered" and [a.status for a in delivery.attempts] == [200]


def test_one_url_gets_one_attempt_at_a_time_in_order_and_others_do_not_wait(dispatcher, payemu_receiver):
    """A receiver sees its events in the order they happened: the next message to a URL leaves only once
    the one before it was answered (four sender threads would otherwise race). Another URL is not held."""
    payemu_receiver.holds[:] = [0.4]  # the first request is answered after 0.4 s
    for n in range(1, 4):
        _send(dispatcher, payemu_receiver.url + "/a", event=f"a{n}")
    _send(dispatcher, payemu_receiver.url + "/b", event="b1")
    events = [r.json()["event"] for r in payemu_receiver.wait_for(4)]
    assert [e for e in events if e.startswith("a")] == ["a1", "a2", "a3"]
    assert events.index("b1") < events.index("a2")  # sent while a1 was still waiting for its answer
    assert dispatcher.wait_idle()


def test_a_message_is_claimed_only_when_a_sender_is_free_so_no_lease_runs_out_waiting(clock, payemu_receiver):
    """Sixteen slow receivers and four senders: a message claimed to wait in the pool would outlive its
    lease (twice the timeout) there, be claimed again and reach its receiver twice."""
    callbacks = Callbacks(clock.now, timeout=0.5)  # a 1 s lease
    try:
        payemu_receiver.holds[:] = [0.4] * 16
        for n in range(16):
            _send(callbacks, f"{payemu_receiver.url}/r{n}", event=f"e{n}")
        assert callbacks.wait_idle(15)
        got = sorted(r.json()["event"] for r in payemu_receiver.received)
        assert got == sorted(f"e{n}" for n in range(16))  # each exactly once
    finally:
        callbacks.close()


def test_retries_wait_on_the_virtual_clock_then_deliver(dispatcher, clock, payemu_receiver):
    payemu_receiver.statuses = [500, 503]
    delivery = _send(dispatcher, payemu_receiver.url, retry_delays=LATER)
    payemu_receiver.wait_for(1)
    assert dispatcher.wait_settled()
    assert delivery.status == "pending" and [a.status for a in delivery.attempts] == [500]  # the retry waits
    clock.advance(50)
    assert dispatcher.wait_settled() and len(delivery.attempts) == 1  # not due yet
    clock.advance(10)
    payemu_receiver.wait_for(2)
    assert dispatcher.wait_settled() and [a.status for a in delivery.attempts] == [500, 503]
    clock.advance(120)
    payemu_receiver.wait_for(3)
    assert dispatcher.wait_idle()
    assert [a.status for a in delivery.attempts] == [500, 503, 200] and delivery.status == "delivered"
    assert delivery.attempts[2].at - delivery.attempts[0].at == pytest.approx(180, abs=5)  # virtual times


def test_gives_up_after_the_last_retry(dispatcher, clock, payemu_receiver):
    payemu_receiver.statuses = [500] * 10
    delivery = _send(dispatcher, payemu_receiver.url, retry_delays=LATER)
    for count, step in ((1, 0), (2, 60), (3, 120)):
        clock.advance(step)
        payemu_receiver.wait_for(count)
        assert dispatcher.wait_settled()
    assert dispatcher.wait_idle()
    assert delivery.status == "failed" and len(delivery.attempts) == 3
    clock.advance(3600)
    assert dispatcher.wait_idle() and len(payemu_receiver.received) == 3  # nothing after the last retry


def test_connection_errors_are_retried_and_recorded(dispatcher, clock):
    delivery = _send(dispatcher, "http://127.0.0.1:9/unreachable", retry_delays=LATER[:1])
    assert dispatcher.wait_settled() and delivery.status == "pending" and len(delivery.attempts) == 1
    clock.advance(60)
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
    one, two = payemu_receiver.wait_for(2)
    assert one.body == two.body
    twins = dispatcher.list()
    assert len(twins) == 2 and twins[1].duplicate_of == first.id


def test_reorder_holds_until_the_next_callback(dispatcher, payemu_receiver):
    _send(dispatcher, payemu_receiver.url, event="first", effects={"reorder": True})
    assert dispatcher.wait_idle() and [d.status for d in dispatcher.list()] == ["held"]
    _send(dispatcher, payemu_receiver.url, event="second")
    assert [r["event"] for r in (g.json() for g in payemu_receiver.wait_for(2))] == ["second", "first"]


def test_delay_passes_with_the_virtual_clock(dispatcher, clock, payemu_receiver):
    delivery = _send(dispatcher, payemu_receiver.url, effects={"delay_ms": 60_000})
    assert dispatcher.wait_settled() and delivery.status == "pending" and payemu_receiver.received == []
    clock.advance(60)
    payemu_receiver.wait_for(1)
    assert dispatcher.wait_idle() and delivery.status == "delivered"


def test_delay_and_flush(dispatcher, payemu_receiver):
    delivery = _send(dispatcher, payemu_receiver.url, effects={"delay_ms": 60_000})
    assert [d.status for d in dispatcher.list()] == ["pending"]
    assert dispatcher.flush() == {"flushed": 1, "delivered": [delivery.id], "failed": [], "pending": []}
    assert len(payemu_receiver.wait_for(1)) == 1


def test_admin_outbox_lists_flushes_and_redelivers(client, runtime, payemu_receiver):
    delivery = runtime.callbacks.send(
        provider="toy",
        tenant=M1,
        url=payemu_receiver.url,
        body=b'{"card":"4111111111111111"}',
        headers={},
        event="demo",
        effects={"drop": True},
    )
    listed = client.get("/__admin/callbacks?provider=toy").get_json()
    assert listed["count"] == 1 and listed["callbacks"][0]["status"] == "dropped"
    assert "4111111111111111" not in listed["callbacks"][0]["body"]
    assert client.get("/__admin/health").get_json()["callbacks"] == {"dropped": 1}
    redelivered = client.post(f"/__admin/callbacks/{delivery.id}/redeliver").get_json()
    assert redelivered["status"] == "delivered"
    assert client.get("/__admin/health").get_json()["callbacks"] == {"delivered": 1}
    assert payemu_receiver.wait_for(1)[0].body == b'{"card":"4111111111111111"}'
    assert client.post("/__admin/callbacks/nope/redeliver").status_code == 404
    assert client.post("/__admin/callbacks/flush").get_json()["status"] == "ok"


@pytest.fixture
def hooked(runtime, payemu_receiver):
    """Toy's m1 sends its callbacks to the receiver (a run-time tenant change, undone by the reset)."""
    runtime.tenants["toy"].update(M1, {"callback_url": payemu_receiver.url + "/toy"})
    return payemu_receiver


def test_provider_callback_through_the_pipeline(client, runtime, hooked):
    response = notify(client, token(client), "pear")
    assert response.status_code == 200
    [got] = hooked.wait_for(1)
    assert got.path == "/toy" and got.json() == {"event": "notified", "merchant": M1, "item": "pear"}
    assert got.headers["x-toy-signature"]
    assert runtime.callbacks.get(response.get_json()["delivery"]).tenant == M1


def test_scenario_callback_effect_reaches_the_dispatcher(client, runtime, hooked):
    response = notify(client, token(client), **{"X-Payemu-Scenario": "toy/callback-dropped"})
    delivery = runtime.callbacks.get(response.get_json()["delivery"])
    assert runtime.callbacks.wait_idle() and delivery.status == "dropped" and hooked.received == []


def test_clock_passing_an_expiry_sends_one_unprompted_callback(client, runtime, hooked):
    token(client)
    runtime.clock.advance(899)
    assert runtime.callbacks.wait_idle() and hooked.received == []
    runtime.clock.advance(1)
    [got] = hooked.wait_for(1)
    assert got.json()["event"] == "token_expired"
    runtime.clock.advance(3600)
    assert runtime.callbacks.wait_idle() and len(hooked.received) == 1  # announced once


def test_admin_outbox_shows_when_a_failed_delivery_is_retried(client, runtime, hooked):
    """Toy retries after 60 s on the virtual clock: the outbox says when, until the retry is sent."""
    hooked.statuses.extend([500])
    notify(client, token(client))
    hooked.wait_for(1)
    assert runtime.callbacks.wait_settled(5)
    listed = client.get("/__admin/callbacks").get_json()
    [delivery] = listed["callbacks"]
    assert delivery["status"] == "pending" and [a["status"] for a in delivery["attempts"]] == [500]
    assert delivery["next_attempt_at"] == pytest.approx(delivery["attempts"][0]["at"] + 60, abs=0.5)
    assert delivery["next_attempt_at"] > listed["now"]
    runtime.clock.advance(60)
    hooked.wait_for(2)
    assert runtime.callbacks.wait_settled(5)
    [delivery] = client.get("/__admin/callbacks").get_json()["callbacks"]
    assert delivery["status"] == "delivered" and delivery["next_attempt_at"] is None
