"""Payelata scenarios: declines, 3-DS, rate limits, slow gate, and callback delivery shapes."""

from __future__ import annotations

from typing import Any

from emulator.providers.payelata.signing import signature
from emulator.testing import CallbackReceiver
from tests.conftest import retry_on_clock
from tests.providers.payelata.support import (
    ACCOUNT,
    FAIL,
    SECRET_TEST,
    SUCCESS,
    basic,
    card,
    create,
    invoice_body,
    pay,
    statuses_seen,
)


def use(name: str) -> dict[str, str]:
    return {"X-Payemu-Scenario": f"payelata/{name}"}


def test_default_scenario_loads_every_payelata_file(runtime: Any) -> None:
    names = set(runtime.scenarios.names())
    for stem in (
        "default",
        "issuer-decline",
        "insufficient-funds",
        "3ds-required",
        "callback-retried-3-times",
        "duplicate-callback",
        "batched-callbacks",
        "reordered-callbacks",
        "rate-limited-creation",
        "slow-card-gate",
        "delayed-settlement",
        "invoices-expire",
    ):
        assert f"payelata/{stem}" in names


def test_sale_issuer_decline(client: Any) -> None:
    invoice = create(client)
    attrs = pay(client, invoice, card(SUCCESS), **use("issuer-decline")).get_json()["data"]["attributes"]
    assert (attrs["status"], attrs["resolution"]) == ("process_failed", "issuer_decline")


def test_sale_insufficient_funds(client: Any) -> None:
    invoice = create(client)
    attrs = pay(client, invoice, card(SUCCESS), **use("insufficient-funds")).get_json()["data"]["attributes"]
    assert (attrs["status"], attrs["resolution"]) == ("process_failed", "insufficient_funds")


def test_sale_3ds_required_on_any_card(client: Any) -> None:
    invoice = create(client)
    attrs = pay(client, invoice, card(SUCCESS), **use("3ds-required")).get_json()["data"]["attributes"]
    assert (attrs["status"], attrs["resolution"]) == ("process_pending", "auth_3ds_required")
    params = attrs["auth_payload"]["params"]
    done = client.post(params["TermUrl"], data={"MD": params["MD"], "PaRes": "AUTHENTICATED"})
    assert b'<h1 id="status">processed</h1>' in done.data


def test_sale_scenario_on_a_failing_request_changes_no_state(client: Any, runtime: Any) -> None:
    invoice = create(client)
    response = pay(client, invoice, {"card_number": "1"}, **use("issuer-decline"))
    assert response.status_code == 422
    # The forced outcome waits for the next real sale; the invoice is untouched.
    assert runtime.store.peek("payelata", ACCOUNT).invoices[invoice["id"]].status == "created"


def test_create_payment_invoice_rate_limited_twice_then_created(client: Any, runtime: Any) -> None:
    answers = [
        client.post("/payment-invoices", json=invoice_body(), headers={**basic(), **use("rate-limited-creation")})
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [429, 429, 201]
    assert answers[0].get_json() == {
        "errors": [{"status": "429", "title": "Too Many Requests", "detail": "Too many requests."}]
    }
    assert answers[0].headers["Retry-After"] == "1"
    assert len(runtime.store.peek("payelata", ACCOUNT).invoices) == 1


def test_sale_slow_card_gate(client: Any, monkeypatch: Any) -> None:
    slept: list[float] = []
    monkeypatch.setattr("emulator.core.provider.real_sleep", slept.append)  # the latency, recorded not waited
    invoice = create(client)
    response = pay(client, invoice, card(SUCCESS), **use("slow-card-gate"))
    assert slept == [1.0]
    assert response.get_json()["data"]["attributes"]["status"] == "processed"


def test_callback_retried_3_times_then_failed(client: Any, runtime: Any, payemu_receiver: CallbackReceiver) -> None:
    payemu_receiver.statuses = [500] * 10
    invoice = create(client, callback_url=payemu_receiver.url)
    pay(client, invoice, card(SUCCESS, "07", "77"), **use("callback-retried-3-times"))
    retry_on_clock(runtime, 1)  # the scenario's retries: 60, 120, 180 ms, each made due by the clock
    (delivery,) = runtime.callbacks.list(provider="payelata")
    assert [a.status for a in delivery.attempts] == [500, 500, 500, 500]
    assert delivery.status == "failed" and len(payemu_receiver.received) == 4
    assert len({item.body for item in payemu_receiver.received}) == 1  # the same signed body every time


def test_callback_duplicated(client: Any, runtime: Any, payemu_receiver: CallbackReceiver) -> None:
    invoice = create(client, callback_url=payemu_receiver.url)
    pay(client, invoice, card(SUCCESS), **use("duplicate-callback"))
    assert runtime.callbacks.wait_idle(5)
    assert sorted(statuses_seen(payemu_receiver)) == sorted([("process_pending", "ok"), ("processed", "ok")] * 2)
    twins = [d for d in runtime.callbacks.list(provider="payelata") if d.duplicate_of]
    assert len(twins) == 2
    assert all(i.headers["X-Signature"] == signature(SECRET_TEST, i.body) for i in payemu_receiver.received)


def test_callback_batched_to_the_latest_state(client: Any, runtime: Any, payemu_receiver: CallbackReceiver) -> None:
    invoice = create(client, callback_url=payemu_receiver.url)
    pay(client, invoice, card(SUCCESS), **use("batched-callbacks"))
    assert runtime.callbacks.wait_idle(5)
    assert statuses_seen(payemu_receiver) == [("processed", "ok")]


def test_callback_reordered(client: Any, runtime: Any, payemu_receiver: CallbackReceiver) -> None:
    invoice = create(client, callback_url=payemu_receiver.url)
    pay(client, invoice, card(SUCCESS), **use("reordered-callbacks"))
    assert runtime.callbacks.wait_idle(5)
    assert statuses_seen(payemu_receiver) == [("processed", "ok"), ("process_pending", "ok")]
    # Both carry the same `updated` second or later: the client orders by it, never by arrival.
    first, second = payemu_receiver.bodies()
    assert first["data"]["attributes"]["updated"] >= second["data"]["attributes"]["updated"]


def test_delayed_settlement_on_the_clock(client: Any, runtime: Any, payemu_receiver: CallbackReceiver) -> None:
    invoice = create(client, callback_url=payemu_receiver.url)
    attrs = pay(client, invoice, card(SUCCESS), **use("delayed-settlement")).get_json()["data"]["attributes"]
    assert attrs["status"] == "process_pending"
    # Virtual time jumps; real delivery does not: let the first callback land before the second is due.
    assert runtime.callbacks.wait_idle(5)
    assert client.post("/__admin/clock/advance", json={"seconds": 301}).status_code == 200
    assert runtime.callbacks.wait_idle(5)
    assert statuses_seen(payemu_receiver) == [("process_pending", "ok"), ("processed", "ok")]
    got = client.get("/payment-invoices/" + invoice["id"], headers=basic()).get_json()["data"]["attributes"]
    assert got["status"] == "processed"


def test_get_payment_invoice_invoices_expire(client: Any, runtime: Any, payemu_receiver: CallbackReceiver) -> None:
    invoice = create(client, callback_url=payemu_receiver.url)
    got = client.get("/payment-invoices/" + invoice["id"], headers={**basic(), **use("invoices-expire")})
    assert got.get_json()["data"]["attributes"]["status"] == "expired"
    assert runtime.callbacks.wait_idle(5)
    assert statuses_seen(payemu_receiver) == [("expired", "ok")]
    assert pay(client, invoice, card(SUCCESS)).status_code == 422


def test_no_payment_retry_makes_the_first_decline_final(client: Any) -> None:
    invoice = create(client)
    attrs = pay(client, invoice, card(FAIL, "05", "29"), **use("no-payment-retry")).get_json()["data"]["attributes"]
    assert (attrs["status"], attrs["resolution"], attrs["repeatable"]) == (
        "process_failed",
        "insufficient_funds",
        False,
    )


def test_refunds_pending_until_the_clock_passes(client: Any, runtime: Any) -> None:
    invoice = create(client)
    pay(client, invoice, card(SUCCESS))
    body = {"data": {"type": "refund", "attributes": {"amount": 40, "reference_id": "R-1"}}}
    path = f"/payment-invoices/{invoice['id']}/refund"
    attrs = client.post(path, json=body, headers={**basic(), **use("refunds-pending")}).get_json()["data"]["attributes"]
    assert (attrs["status"], attrs["refunded_amount"]) == ("refunding", None)
    runtime.clock.advance(601)
    got = client.get("/payment-invoices/" + invoice["id"], headers=basic()).get_json()["data"]["attributes"]
    assert (got["status"], got["refunded_amount"]) == ("partially_refunded", 40)


def test_payouts_declined_on_process(client: Any, runtime: Any) -> None:
    attributes = {"reference_id": "PO-S", "amount": 5, "currency": "USD", "service": "payment_card_usd"}
    body = {"data": {"type": "payout-invoice", "attributes": {**attributes, "fields": {"card_number": SUCCESS}}}}
    payout = client.post("/payout-invoices", json=body, headers=basic()).get_json()["data"]
    path = f"/payout-invoices/{payout['id']}/process"
    attrs = client.post(path, headers={**basic(), **use("payouts-declined")}).get_json()["data"]["attributes"]
    assert (attrs["status"], attrs["resolution"], attrs["processed"]) == ("process_failed", "declined", None)
    assert runtime.store.peek("payelata", ACCOUNT).forced == []
