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
    ("pan", "expiry", "kind", "resolution"),
    [
        (SUCCESS_3DS, "1232", "processed", "ok"),
        (SUCCESS_3DS, "0777", "3ds", "auth_3ds_required"),
        (SUCCESS, "1232", "processed", "ok"),
        (SUCCESS, "0777", "pending", "ok"),
        (FAIL, "0529", "failed", "insufficient_funds"),
        (FAIL, "0327", "failed", "invalid_cvv"),
        (FAIL, "0428", "failed", "card_expired"),
        (FAIL, "1147", "failed", "issuer_decline"),
        (FAIL, "1232", "failed", "general_fatal_error"),
        (FAIL_3DS, "0856", "failed", "access_denied"),
        (FAIL_3DS, "0777", "3ds", "auth_3ds_required"),
        ("4111111111111111", "1232", "processed", "ok"),
        ("4111111111111111", "1226", "failed", "card_expired"),
    ],
)
def test_card_outcome_follows_the_test_card_table(pan: str, expiry: str, kind: str, resolution: str) -> None:
    outcome = model.card_outcome(card(pan, expiry), *YEAR_MONTH)
    assert (outcome.kind, outcome.resolution) == (kind, resolution)


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
    sell(state, invoice, {"card_number": SUCCESS_3DS, "cvv": "123", "exp_month": "07", "exp_year": "77"}, fake)
    assert (invoice.status, invoice.resolution) == ("process_pending", "auth_3ds_required")
    state.complete_3ds(invoice, True, now=NOW + 2, fake=fake)
    assert (invoice.status, invoice.resolution) == ("processed", "ok")


def test_three_ds_failed_authentication(state: model.PayelataState, fake: Faker) -> None:
    invoice = new_invoice(state, fake)
    sell(state, invoice, {"card_number": SUCCESS_3DS, "cvv": "123", "exp_month": "07", "exp_year": "77"}, fake)
    state.complete_3ds(invoice, False, now=NOW + 2, fake=fake)
    assert (invoice.status, invoice.resolution) == ("process_failed", "invalid_3ds_code")


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
    assert (invoice.status, invoice.resolution) == ("process_failed", "issuer_decline")
    assert state.forced == []
