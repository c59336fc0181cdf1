"""The Payelata client suite against the live emulator, with a real loopback callback payemu_receiver."""

from __future__ import annotations

import os
from typing import Any

import pytest

from emulator.clients._http import NotFound, Unauthorized, Unprocessable
from emulator.clients.payelata import CardGateClient, PayelataClient, callback_signature, errors_of, verify_callback
from emulator.testing import CallbackReceiver
from tests.providers.payelata.support import (
    ACCOUNT,
    FAIL,
    OTHER_ACCOUNT,
    OTHER_KEY,
    SECRET_TEST,
    SUCCESS,
    SUCCESS_3DS,
    TEST_KEY,
    card,
)


def attrs(reference: str, **more: Any) -> dict[str, Any]:
    return {"reference_id": reference, "amount": 10, "currency": "USD", "service": "payment_card_usd_hpp", **more}


def test_client_signature_matches_the_computed_vector() -> None:
    body = b'{"data":{"type":"payment-invoices","id":"cpi_TEST"}}'
    assert callback_signature("secret", body) == "gwrTmxH1VXxpyVqr3UluoGh8T74="
    assert verify_callback(body, "gwrTmxH1VXxpyVqr3UluoGh8T74=", "secret")
    assert not verify_callback(body + b" ", "gwrTmxH1VXxpyVqr3UluoGh8T74=", "secret")


def test_client_tokenize_then_charge_by_token(payemu_server: Any, payemu_receiver: CallbackReceiver) -> None:
    api = PayelataClient(payemu_server.url, ACCOUNT, TEST_KEY)
    invoice = api.create_payment_invoice(
        attrs("CLIENT-1", customer={"reference_id": "cust-9"}, gateway_options={"cardgate": {"tokenize": True}}),
        callback_url=payemu_receiver.url,
    )
    assert invoice["attributes"]["flow_data"]["action"].startswith(payemu_server.url + "/hpp/cgi_")
    gate = CardGateClient.for_invoice(invoice)
    sale = gate.sale(CardGateClient.token(invoice), card(SUCCESS))
    assert sale["attributes"]["status"] == "processed"
    assert payemu_server.runtime.callbacks.wait_idle(5)
    statuses = sorted(b["data"]["attributes"]["status"] for b in payemu_receiver.bodies())
    assert statuses == ["processed"]  # (doc) close changes batched: the latest state only
    for item in payemu_receiver.received:
        assert verify_callback(item.body, item.headers["X-Signature"], SECRET_TEST)
    final = next(b for b in payemu_receiver.bodies() if b["data"]["attributes"]["status"] == "processed")
    token = final["data"]["attributes"]["payload"]["token"]
    assert api.get_payment_invoice(invoice["id"])["attributes"]["payload"]["token"] == token

    second = api.create_payment_invoice(
        attrs(
            "CLIENT-2",
            token=token,
            customer={"reference_id": "cust-9"},
            gateway_options={"cardgate": {"instant": True}},
        )
    )
    assert gate.sale(CardGateClient.token(second))["attributes"]["status"] == "processed"
    assert api.get_payment_invoice(second["id"])["attributes"]["status"] == "processed"


def test_client_three_ds(payemu_server: Any) -> None:
    api = PayelataClient(payemu_server.url, ACCOUNT, TEST_KEY)
    invoice = api.create_payment_invoice(attrs("CLIENT-3DS"))
    gate = CardGateClient.for_invoice(invoice)
    sale = gate.sale(CardGateClient.token(invoice), card(SUCCESS_3DS, "12", "32"))
    assert sale["attributes"]["resolution"] == "auth_3ds_required"
    page = gate.complete_3ds(sale["attributes"]["auth_payload"])
    assert '<h1 id="status">processed</h1>' in page
    assert api.get_payment_invoice(invoice["id"])["attributes"]["status"] == "processed"


def test_client_errors_are_typed(payemu_server: Any) -> None:
    with pytest.raises(Unauthorized) as denied:
        PayelataClient(payemu_server.url, ACCOUNT, "wrong").create_payment_invoice(attrs("CLIENT-E"))
    assert errors_of(denied.value) == [{"status": "401", "title": "Unauthorized", "detail": "Invalid credentials."}]
    api = PayelataClient(payemu_server.url, ACCOUNT, TEST_KEY)
    with pytest.raises(Unprocessable) as invalid:
        api.create_payment_invoice(attrs("CLIENT-E", amount=-5))
    assert invalid.value.code == "/data/attributes/amount"
    invoice = api.create_payment_invoice(attrs("CLIENT-F"))
    gate = CardGateClient.for_invoice(invoice)
    with pytest.raises(Unauthorized):
        gate.sale("not-a-token", card())
    declined = gate.sale(CardGateClient.token(invoice), card(FAIL, "11", "47"))["attributes"]
    assert (declined["status"], declined["resolution"], declined["repeatable"]) == (
        "process_error",
        "issuer_decline",
        True,
    )


def test_client_refund_partial_then_full(payemu_server: Any, payemu_receiver: CallbackReceiver) -> None:
    api = PayelataClient(payemu_server.url, ACCOUNT, TEST_KEY)
    invoice = api.create_payment_invoice(attrs("CLIENT-R"), callback_url=payemu_receiver.url)
    CardGateClient.for_invoice(invoice).sale(CardGateClient.token(invoice), card(SUCCESS))
    with pytest.raises(Unprocessable) as too_much:
        api.refund_payment_invoice(invoice["id"], 10.01, "CLIENT-R-0")
    assert too_much.value.code == "/data/attributes/amount"
    partial = api.refund_payment_invoice(invoice["id"], 4, "CLIENT-R-1", description="part")["attributes"]
    assert (partial["status"], partial["refunded_amount"]) == ("partially_refunded", 4)
    full = api.refund_payment_invoice(invoice["id"], 6, "CLIENT-R-2")["attributes"]
    assert (full["status"], full["refunded_amount"], full["processed_amount"]) == ("refunded", 10, 10)
    with pytest.raises(Unprocessable) as again:
        api.refund_payment_invoice(invoice["id"], 1, "CLIENT-R-3")
    assert again.value.code == "/data"
    assert payemu_server.runtime.callbacks.wait_idle(5)
    seen = [
        (b["data"]["attributes"]["status"], b["data"]["attributes"]["refunded_amount"])
        for b in payemu_receiver.bodies()
    ]
    assert sorted(seen, key=str) == sorted([("processed", None), ("partially_refunded", 4), ("refunded", 10)], key=str)
    assert all(verify_callback(i.body, i.headers["X-Signature"], SECRET_TEST) for i in payemu_receiver.received)


def test_client_payouts_to_a_card_and_to_a_token(payemu_server: Any, payemu_receiver: CallbackReceiver) -> None:
    api = PayelataClient(payemu_server.url, ACCOUNT, TEST_KEY)
    base = {"amount": 15, "currency": "USD", "service": "payment_card_usd"}
    to_card = api.create_payout_invoice(
        {**base, "reference_id": "CLIENT-P1", "fields": {"card_number": SUCCESS}}, callback_url=payemu_receiver.url
    )
    assert to_card["id"].startswith("cpoi_") and to_card["attributes"]["status"] == "created"
    assert to_card["attributes"]["fields"] == {"card_number": "551928******0000"}
    processed = api.process_payout_invoice(to_card["id"])
    assert processed["attributes"]["status"] == "processed"
    assert api.get_payout_invoice(to_card["id"])["attributes"]["processed_amount"] == 15

    invoice = api.create_payment_invoice(
        attrs("CLIENT-P2", customer={"reference_id": "cust-p"}, gateway_options={"cardgate": {"tokenize": True}})
    )
    CardGateClient.for_invoice(invoice).sale(CardGateClient.token(invoice), card(SUCCESS))
    token = api.get_payment_invoice(invoice["id"])["attributes"]["payload"]["token"]
    by_token = api.create_payout_invoice(
        {**base, "reference_id": "CLIENT-P3", "token": token, "customer": {"reference_id": "cust-p"},
         "options": {"auto_process": True}},
        callback_url=payemu_receiver.url,
    )  # fmt: skip
    assert by_token["attributes"]["status"] == "processed"
    with pytest.raises(Unprocessable) as unknown:
        api.create_payout_invoice({**base, "reference_id": "CLIENT-P4", "token": "x" * 32})
    assert unknown.value.code == "/data/attributes/token"
    assert payemu_server.runtime.callbacks.wait_idle(5)
    payouts = [b for b in payemu_receiver.bodies() if b["data"]["type"] == "payout-invoices"]
    assert sorted(b["data"]["id"] for b in payouts) == sorted([to_card["id"], by_token["id"]])
    assert SUCCESS not in str(payemu_receiver.bodies())


def test_client_tenant_isolation(payemu_server: Any) -> None:
    mine = PayelataClient(payemu_server.url, ACCOUNT, TEST_KEY)
    theirs = PayelataClient(payemu_server.url, OTHER_ACCOUNT, OTHER_KEY)
    invoice = mine.create_payment_invoice(attrs("CLIENT-ISO"))
    with pytest.raises(NotFound) as missing:
        theirs.get_payment_invoice(invoice["id"])
    assert errors_of(missing.value) == [{"status": "404", "title": "Not Found", "detail": "Not Found"}]


@pytest.mark.live
@pytest.mark.skipif(not os.environ.get("PAYEMU_LIVE_PAYELATA_ACCOUNT"), reason="no PAYEMU_LIVE_PAYELATA_* credentials")
def test_client_against_the_real_sandbox() -> None:
    api = PayelataClient(
        os.environ["PAYEMU_LIVE_PAYELATA_URL"],
        os.environ["PAYEMU_LIVE_PAYELATA_ACCOUNT"],
        os.environ["PAYEMU_LIVE_PAYELATA_API_KEY"],
    )
    invoice = api.create_payment_invoice(attrs(f"payemu-live-{os.getpid()}", test_mode=True))
    assert invoice["id"].startswith("cpi_")
    assert api.get_payment_invoice(invoice["id"])["id"] == invoice["id"]
