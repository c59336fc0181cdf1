"""Payelata model rules called directly, with a fixed `now` (docs/providers/payelata.md)."""

from __future__ import annotations

from typing import Any

import pytest
from faker import Faker

from emulator.core.tenants import Tenant
from emulator.providers.payelata import errors, model
from emulator.providers.payelata.signing import signature, verify
from tests.providers.payelata.support import FAIL, FAIL_3DS, SUCCESS, SUCCESS_3DS, attributes

NOW = 1_800_000_000.0  # 2027-01-15
YEAR_MONTH = (2027, 1)
TENANT = Tenant("payelata", "coma_TEST", {"id": "coma_TEST", "api_key_test": "k", "jwt_secret": "s"})


@pytest.fixture
def state() -> model.PayelataState:
    return model.PayelataState(TENANT)


@pytest.fixture
def fake() -> Faker:
    fake = Faker()
    fake.seed_instance(7)
    return fake


def new_invoice(state: model.PayelataState, fake: Faker, **overrides: Any) -> model.Invoice:
    options: dict[str, Any] = {
        "now": NOW,
        "fake": fake,
        "live": False,
        "action_base": "http://gate/hpp/",
        "ttl": 3600,
        "duplicate_status": 422,
        "token_requires_customer": True,
        "callback_url": None,
    }
    return state.create_invoice(attributes(**overrides), **options)


def sell(state: model.PayelataState, invoice: model.Invoice, fields: dict | None, fake: Faker) -> model.Invoice:
    return state.sale(invoice, fields, now=NOW + 1, fake=fake, year_month=YEAR_MONTH, settle_delay=0)


def card(pan: str, expiry: str) -> model.Card:
    return model.Card.from_pan(pan, "J D", int(expiry[:2]), int(expiry[2:]))


def test_signature_matches_the_computed_vector() -> None:
    body = b'{"data":{"type":"payment-invoices","id":"cpi_TEST"}}'
    assert signature("secret", body) == "gwrTmxH1VXxpyVqr3UluoGh8T74="
    assert verify("secret", body, "gwrTmxH1VXxpyVqr3UluoGh8T74=")
    assert not verify("other", body, "gwrTmxH1VXxpyVqr3UluoGh8T74=")


@pytest.mark.parametrize(
    ("pan", "expiry", "outcome"),
    [
        (SUCCESS_3DS, "1232", ("3ds", "auth_3ds_required", "processed", "ok")),
        (SUCCESS_3DS, "0777", ("pending", "auth_3ds_required")),
        (SUCCESS_3DS, "1226", ("3ds", "auth_3ds_required", "failed", "card_expired")),
        (SUCCESS, "1232", ("processed", "ok")),
        (SUCCESS, "0777", ("pending", "ok")),
        (FAIL, "0529", ("failed", "insufficient_funds")),
        (FAIL, "0327", ("failed", "invalid_cvv")),
        (FAIL, "0428", ("failed", "card_expired")),
        (FAIL, "1147", ("failed", "issuer_decline")),
        (FAIL, "0125", ("failed", "invalid_credentials")),
        (FAIL, "1232", ("failed", "general_fatal_error")),
        (FAIL, "0777", ("failed", "general_fatal_error")),
        (FAIL_3DS, "0856", ("3ds", "auth_3ds_required", "failed", "access_denied")),
        (FAIL_3DS, "0777", ("3ds", "auth_3ds_required", "failed", "general_fatal_error")),
        ("4111111111111111", "1232", ("processed", "ok")),
        ("4111111111111111", "1226", ("failed", "card_expired")),
    ],
)
def test_card_outcome_follows_the_test_card_table(pan: str, expiry: str, outcome: tuple[str, ...]) -> None:
    """(doc) test-card-numbers.md: card x expiry; the enrolled cards pass 3-DS first, then their outcome."""
    result = model.card_outcome(card(pan, expiry), *YEAR_MONTH)
    then = (result.then.kind, result.then.resolution) if result.then else ()
    assert (result.kind, result.resolution, *then) == outcome


def test_every_failing_expiry_of_the_table_gives_its_resolution() -> None:
    for expiry, resolution in model.FAIL_EXPIRY.items():
        for pan in (FAIL, FAIL_3DS):
            result = model.card_outcome(card(pan, expiry), *YEAR_MONTH)
            assert (result.then or result).resolution == resolution
    assert len(model.FAIL_EXPIRY) == 32


def test_card_keeps_only_the_masked_pan() -> None:
    wire = card(SUCCESS_3DS, "1232").to_wire()
    assert wire == {
        "last": "0000",
        "mask": "512381******0000",
        "brand": "mastercard",
        "first": "512381",
        "holder": "J D",
        "expiry_year": "32",
        "issuer_name": "FIRST DATA CORPORATION",
        "expiry_month": "12",
        "issuer_country": "US",
    }
    assert SUCCESS_3DS not in repr(card(SUCCESS_3DS, "1232"))


def test_create_invoice_starts_created_with_a_bound_jwt(state: model.PayelataState, fake: Faker) -> None:
    invoice = new_invoice(state, fake)
    assert invoice.status == "created" and invoice.resolution == "ok"
    assert invoice.serial_number == invoice.id[4:] and len(invoice.serial_number) == 16
    assert invoice.action == "http://gate/hpp/" + invoice.session_id
    assert state.verify_jwt(invoice.jwt, NOW + 10) is invoice
    with pytest.raises(errors.BearerRejected, match="Token expired"):
        state.verify_jwt(invoice.jwt, NOW + 3600)
    assert state.events == []


def test_create_invoice_duplicate_reference(state: model.PayelataState, fake: Faker) -> None:
    new_invoice(state, fake)
    with pytest.raises(errors.DuplicateReference) as caught:
        new_invoice(state, fake)
    assert caught.value.status == 422 and len(state.invoices) == 1


def test_sale_tokenizes_on_success(state: model.PayelataState, fake: Faker) -> None:
    invoice = new_invoice(
        state, fake, customer={"reference_id": "c1"}, gateway_options={"cardgate": {"tokenize": True}}
    )
    sell(state, invoice, {"card_number": SUCCESS, "cvv": "123", "exp_month": "12", "exp_year": "32"}, fake)
    assert invoice.status == "processed"
    token = invoice.payload["token"]
    assert len(token) == 32 and token.isalnum()
    assert state.tokens[token].customer_reference_id == "c1"
    assert [e.status for e in state.drain_events()] == ["process_pending", "processed"]


def test_token_belongs_to_its_customer(state: model.PayelataState, fake: Faker) -> None:
    first = new_invoice(state, fake, customer={"reference_id": "c1"}, gateway_options={"cardgate": {"tokenize": True}})
    sell(state, first, {"card_number": SUCCESS, "cvv": "123", "exp_month": "12", "exp_year": "32"}, fake)
    token = first.payload["token"]
    with pytest.raises(errors.Invalid) as caught:
        new_invoice(state, fake, reference_id="O2", token=token, customer={"reference_id": "c2"})
    assert caught.value.items == [(errors.MSG_TOKEN_CUSTOMER, "/data/attributes/token")]
    second = new_invoice(state, fake, reference_id="O3", token=token, customer={"reference_id": "c1"})
    assert second.status == "process_pending"
    sell(state, second, None, fake)
    assert second.status == "processed" and second.payload["token"] == token


def test_three_ds_then_complete(state: model.PayelataState, fake: Faker) -> None:
    invoice = new_invoice(state, fake)
    sell(state, invoice, {"card_number": SUCCESS_3DS, "cvv": "123", "exp_month": "12", "exp_year": "32"}, fake)
    assert (invoice.status, invoice.resolution) == ("process_pending", "auth_3ds_required")
    state.complete_3ds(invoice, True, now=NOW + 2, fake=fake)
    assert (invoice.status, invoice.resolution) == ("processed", "ok")


def test_three_ds_pending_expiry_stays_pending_without_a_challenge(state: model.PayelataState, fake: Faker) -> None:
    invoice = new_invoice(state, fake)
    sell(state, invoice, {"card_number": SUCCESS_3DS, "cvv": "123", "exp_month": "07", "exp_year": "77"}, fake)
    assert (invoice.status, invoice.resolution, invoice.awaiting_3ds) == ("process_pending", "auth_3ds_required", None)
    with pytest.raises(errors.PayelataError):
        state.complete_3ds(invoice, True, now=NOW + 2, fake=fake)


def test_three_ds_failed_authentication(state: model.PayelataState, fake: Faker) -> None:
    invoice = new_invoice(state, fake)
    sell(state, invoice, {"card_number": SUCCESS_3DS, "cvv": "123", "exp_month": "12", "exp_year": "32"}, fake)
    state.complete_3ds(invoice, False, now=NOW + 2, fake=fake)
    assert (invoice.status, invoice.resolution, invoice.attempts) == ("process_error", "invalid_3ds_code", 1)


def test_declines_are_retried_until_the_attempts_limit(state: model.PayelataState, fake: Faker) -> None:
    """(doc) process_failed is final after the maximum attempts (default 5); before, process_error waits."""
    invoice = new_invoice(state, fake)
    declined = {"card_number": FAIL, "cvv": "123", "exp_month": "03", "exp_year": "27"}
    for attempt in range(1, 5):
        sell(state, invoice, declined, fake)
        assert (invoice.status, invoice.resolution, invoice.attempts) == ("process_error", "invalid_cvv", attempt)
    sell(state, invoice, declined, fake)
    assert (invoice.status, invoice.attempts) == ("process_failed", 5)
    with pytest.raises(errors.PayelataError, match="can not be processed"):
        sell(state, invoice, {"card_number": SUCCESS, "cvv": "123", "exp_month": "12", "exp_year": "32"}, fake)


def test_a_retry_after_a_decline_can_succeed(state: model.PayelataState, fake: Faker) -> None:
    invoice = new_invoice(state, fake)
    sell(state, invoice, {"card_number": FAIL, "cvv": "123", "exp_month": "05", "exp_year": "29"}, fake)
    sell(state, invoice, {"card_number": SUCCESS, "cvv": "123", "exp_month": "12", "exp_year": "32"}, fake)
    assert (invoice.status, invoice.attempts) == ("processed", 1)
    statuses = [(e.status, e.wire["data"]["attributes"]["resolution"]) for e in state.drain_events()]
    assert statuses == [
        ("process_pending", "ok"),
        ("process_error", "insufficient_funds"),
        ("process_pending", "ok"),
        ("processed", "ok"),
    ]


def test_attempts_limit_one_makes_the_first_decline_final(state: model.PayelataState, fake: Faker) -> None:
    invoice = state.create_invoice(
        attributes(),
        now=NOW,
        fake=fake,
        live=False,
        action_base="http://gate/hpp/",
        ttl=3600,
        duplicate_status=422,
        token_requires_customer=True,
        callback_url=None,
        attempts_limit=1,
    )
    sell(state, invoice, {"card_number": FAIL, "cvv": "123", "exp_month": "11", "exp_year": "47"}, fake)
    assert (invoice.status, invoice.resolution) == ("process_failed", "issuer_decline")


def paid_invoice(state: model.PayelataState, fake: Faker, amount: int = 100) -> model.Invoice:
    invoice = new_invoice(state, fake, amount=amount)
    sell(state, invoice, {"card_number": SUCCESS, "cvv": "123", "exp_month": "12", "exp_year": "32"}, fake)
    state.drain_events()
    return invoice


def test_refund_partial_then_full(state: model.PayelataState, fake: Faker) -> None:
    invoice = paid_invoice(state, fake)
    state.refund(invoice, {"amount": 30, "reference_id": "R1"}, now=NOW + 5, fake=fake, delay=0)
    assert (invoice.status, invoice.refunded_amount) == ("partially_refunded", 30)
    state.refund(invoice, {"amount": 70, "reference_id": "R2"}, now=NOW + 6, fake=fake, delay=0)
    assert (invoice.status, invoice.refunded_amount, invoice.refunded) == ("refunded", 100, int(NOW + 6))
    assert [e.status for e in state.drain_events()] == ["refunding", "partially_refunded", "refunding", "refunded"]
    assert [r.status for r in invoice.refunds] == ["processed", "processed"]


@pytest.mark.parametrize(
    ("attrs", "pointer"),
    [
        ({"amount": 100.01, "reference_id": "R"}, "/data/attributes/amount"),
        ({"amount": 10, "reference_id": "R0"}, "/data/attributes/reference_id"),
    ],
)
def test_refund_refusals_change_nothing(state: model.PayelataState, fake: Faker, attrs: dict, pointer: str) -> None:
    invoice = paid_invoice(state, fake)
    state.refund(invoice, {"amount": 0.5, "reference_id": "R0"}, now=NOW + 5, fake=fake, delay=0)
    state.drain_events()
    with pytest.raises(errors.Invalid) as caught:
        state.refund(invoice, attrs, now=NOW + 6, fake=fake, delay=0)
    assert caught.value.items[0][1] == pointer
    assert (invoice.status, invoice.refunded_amount, len(invoice.refunds), state.events) == (
        "partially_refunded",
        0.5,
        1,
        [],
    )


def test_refund_of_an_unpaid_or_refunded_invoice_is_refused(state: model.PayelataState, fake: Faker) -> None:
    unpaid = new_invoice(state, fake, reference_id="U")
    with pytest.raises(errors.PayelataError, match="can not be refunded"):
        state.refund(unpaid, {"amount": 1, "reference_id": "R"}, now=NOW, fake=fake, delay=0)
    invoice = paid_invoice(state, fake)
    state.refund(invoice, {"amount": 100, "reference_id": "R1"}, now=NOW + 5, fake=fake, delay=0)
    with pytest.raises(errors.PayelataError, match="can not be refunded"):
        state.refund(invoice, {"amount": 100, "reference_id": "R2"}, now=NOW + 6, fake=fake, delay=0)
    assert (invoice.status, invoice.refunded_amount, len(invoice.refunds)) == ("refunded", 100, 1)


def test_refund_with_a_delay_stays_refunding_until_the_clock_passes(state: model.PayelataState, fake: Faker) -> None:
    invoice = paid_invoice(state, fake)
    state.refund(invoice, {"amount": 100, "reference_id": "R1"}, now=NOW + 5, fake=fake, delay=60)
    assert (invoice.status, invoice.refunded_amount) == ("refunding", None)
    with pytest.raises(errors.PayelataError, match="can not be refunded"):
        state.refund(invoice, {"amount": 1, "reference_id": "R2"}, now=NOW + 6, fake=fake, delay=0)
    state.sweep(NOW + 65, fake)
    assert (invoice.status, invoice.refunded_amount) == ("refunded", 100)


def new_payout(state: model.PayelataState, fake: Faker, **attrs: Any) -> model.PayoutInvoice:
    base = {"reference_id": "P1", "amount": 10, "currency": "USD", "service": "payment_card_usd"}
    return state.create_payout(
        {**base, **attrs}, now=NOW, fake=fake, live=False, ttl=3600, duplicate_status=422, callback_url=None
    )


@pytest.mark.parametrize(
    ("pan", "context", "outcome"),
    [
        (SUCCESS, {}, ("processed", "ok")),
        (SUCCESS, {"card": {"exp_month": "07", "exp_year": "77"}}, ("process_pending", "ok")),
        (FAIL, {"card": {"exp_month": "05", "exp_year": "29"}}, ("process_failed", "insufficient_funds")),
        (FAIL, {}, ("process_failed", "general_fatal_error")),
    ],
)
def test_payout_to_a_card_follows_the_test_cards(
    state: model.PayelataState, fake: Faker, pan: str, context: dict, outcome: tuple[str, str]
) -> None:
    payout = new_payout(state, fake, fields={"card_number": pan}, context=context, options={"auto_process": True})
    assert (payout.status, payout.resolution) == outcome
    assert pan not in repr(payout) and payout.to_wire()["data"]["attributes"]["fields"]["card_number"].startswith(
        pan[:6]
    )


def test_payout_waits_for_process_without_auto_process(state: model.PayelataState, fake: Faker) -> None:
    payout = new_payout(state, fake, fields={"card_number": SUCCESS})
    assert payout.status == "created" and state.events == []
    state.process_payout(payout, now=NOW + 1)
    assert payout.status == "processed"
    assert [e.kind + "." + e.status for e in state.drain_events()] == [
        "payout-invoice.process_pending",
        "payout-invoice.processed",
    ]
    with pytest.raises(errors.PayelataError, match="can not be processed"):
        state.process_payout(payout, now=NOW + 2)


def test_payout_by_token_and_its_refusals(state: model.PayelataState, fake: Faker) -> None:
    first = new_invoice(state, fake, customer={"reference_id": "c1"}, gateway_options={"cardgate": {"tokenize": True}})
    sell(state, first, {"card_number": SUCCESS, "cvv": "123", "exp_month": "12", "exp_year": "32"}, fake)
    token = first.payload["token"]
    payout = new_payout(state, fake, token=token, customer={"reference_id": "c1"}, options={"auto_process": True})
    assert payout.status == "processed" and payout.card.mask == "551928******0000"
    for attrs, pointer in (
        ({"token": "x" * 32}, "/data/attributes/token"),
        ({"token": token, "customer": {"reference_id": "c2"}}, "/data/attributes/token"),
        ({}, "/data/attributes/fields/card_number"),
        ({"fields": {"card_number": "4111111111111112"}}, "/data/attributes/fields/card_number"),
        ({"fields": {"card_number": SUCCESS}, "service": "bank_transfer_usd"}, "/data/attributes/service"),
    ):
        with pytest.raises(errors.Invalid) as caught:
            new_payout(state, fake, reference_id="P-" + pointer, **attrs)
        assert caught.value.items[0][1] == pointer
    assert list(state.payouts) == [payout.id]


def test_sale_validation_changes_nothing(state: model.PayelataState, fake: Faker) -> None:
    invoice = new_invoice(state, fake)
    with pytest.raises(errors.Invalid) as caught:
        sell(
            state, invoice, {"card_number": "4111111111111112", "cvv": "123", "exp_month": "1", "exp_year": "30"}, fake
        )
    assert caught.value.items == [(errors.MSG_CARD_NUMBER, "/data/attributes/card_number")]
    assert invoice.status == "created" and not invoice.sale_started and state.events == []


def test_sweep_expires_unpaid_invoices_and_settles_delayed_sales(state: model.PayelataState, fake: Faker) -> None:
    unpaid = new_invoice(state, fake)
    paid = new_invoice(state, fake, reference_id="O2")
    state.sale(
        paid,
        {"card_number": SUCCESS, "cvv": "123", "exp_month": "12", "exp_year": "32"},
        now=NOW,
        fake=fake,
        year_month=YEAR_MONTH,
        settle_delay=300,
    )
    assert paid.status == "process_pending"
    state.sweep(NOW + 299, fake)
    assert (unpaid.status, paid.status) == ("created", "process_pending")
    state.sweep(NOW + 3600, fake)
    assert (unpaid.status, paid.status) == ("expired", "processed")


def test_scenario_force_resolution_applies_to_the_next_sale(state: model.PayelataState, fake: Faker) -> None:
    state.scenario_force_resolution(now=NOW, resolution="issuer_decline")
    invoice = new_invoice(state, fake)
    sell(state, invoice, {"card_number": SUCCESS, "cvv": "123", "exp_month": "12", "exp_year": "32"}, fake)
    assert (invoice.status, invoice.resolution) == ("process_error", "issuer_decline")
    assert state.forced == []


def test_unprocessed_payout_expires_with_its_lifetime(state: model.PayelataState, fake: Faker) -> None:
    payout = new_payout(state, fake, fields={"card_number": SUCCESS})
    state.sweep(NOW + 3599, fake)
    assert payout.status == "created"
    state.sweep(NOW + 3600, fake)
    assert payout.status == "expired"
    assert [e.kind + "." + e.status for e in state.drain_events()] == ["payout-invoice.expired"]
    with pytest.raises(errors.PayelataError, match="can not be processed"):
        state.process_payout(payout, now=NOW + 3601)
