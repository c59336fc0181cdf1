"""Payelata over HTTP through the Flask test client: invoices, card gate, pages, errors, isolation."""

from __future__ import annotations

import json
import threading
from typing import Any

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from emulator.providers.payelata.signing import DEFAULT_PRIVATE_KEY, signature
from emulator.testing import CallbackReceiver
from tests.conftest import retry_on_clock
from tests.providers.payelata.conftest import make_app
from tests.providers.payelata.support import (
    ACCOUNT,
    BEARER_INVALID,
    FAIL,
    FAIL_3DS,
    LIVE_KEY,
    OTHER_ACCOUNT,
    OTHER_KEY,
    SECRET_LIVE,
    SECRET_TEST,
    SUCCESS,
    SUCCESS_3DS,
    UNAUTHORIZED,
    basic,
    bearer,
    card,
    create,
    invoice_body,
    jwt_of,
    pay,
    sale_body,
    session_of,
    statuses_seen,
)

INVOICE_KEYS = [
    "serial_number", "status", "resolution", "moderation_required", "amount", "payment_amount", "currency",
    "service_currency", "reference_id", "test_mode", "fee", "deposit", "processed", "processed_amount",
    "refunded_amount", "refunded_fee", "refunded", "processed_fee", "processed_deposit", "metadata", "flow_data",
    "flow", "payment_flow", "created", "updated", "payload", "description", "descriptor", "callback_url",
    "return_url", "return_urls", "original_data", "rrn", "approval_code",
]  # fmt: skip


def invoices(runtime: Any, account: str = ACCOUNT) -> dict[str, Any]:
    state = runtime.store.peek("payelata", account)
    return {} if state is None else dict(state.invoices)


def tokenized(client: Any, reference: str = "ORDER-T1", customer: str = "my_customer_1") -> tuple[dict, str]:
    invoice = create(
        client,
        reference_id=reference,
        amount=1,
        customer={"reference_id": customer, "name": "John Doe"},
        gateway_options={"cardgate": {"tokenize": True}},
    )
    sale = pay(client, invoice, card(SUCCESS_3DS, "12", "32", holder="asd asdas "))
    pass_3ds(client, sale.get_json()["data"]["attributes"]["auth_payload"])
    got = client.get(f"/payment-invoices/{invoice['id']}", headers=basic()).get_json()["data"]
    return got, got["attributes"]["payload"]["token"]


def pass_3ds(client: Any, payload: dict[str, Any], answer: str = "AUTHENTICATED") -> Any:
    """Play the cardholder at the emulator's ACS: answer at the payload's TermUrl."""
    return client.post(payload["params"]["TermUrl"], data={"MD": payload["params"]["MD"], "PaRes": answer})


# -- create_payment_invoice ----------------------------------------------------------------------


def test_create_payment_invoice_returns_the_documented_object(client: Any, runtime: Any) -> None:
    response = client.post(
        "/payment-invoices",
        json=invoice_body(reference_id="test_live_recurrent_11", description="Invoice", return_url="https://e.io/r"),
        headers=basic(),
    )
    assert response.status_code == 201
    assert response.content_type == "application/vnd.api+json"
    data = response.get_json()["data"]
    attrs = data["attributes"]
    assert list(data) == ["type", "id", "attributes", "relationships", "links"]
    assert list(attrs) == INVOICE_KEYS
    assert data["type"] == "payment-invoices" and data["id"] == "cpi_" + attrs["serial_number"]
    assert data["links"] == {"self": f"/api/payment-invoices/{data['id']}"}
    assert (attrs["status"], attrs["resolution"], attrs["test_mode"]) == ("created", "ok", True)
    assert (attrs["amount"], attrs["payment_amount"], attrs["deposit"], attrs["fee"]) == (100, 100, 100, 0)
    assert attrs["metadata"] == [] and attrs["payload"] is None and attrs["processed"] is None
    assert attrs["descriptor"] == "DEMO ACC:Заказ №:test_live_recurrent_11"
    assert attrs["created"] == attrs["updated"] == int(runtime.clock.now()) or attrs["created"] <= runtime.clock.now()
    flow = attrs["flow_data"]
    assert flow["action"] == f"http://localhost/hpp/{flow['metadata']['sid']}"
    assert (flow["method"], flow["params"]) == ("GET", [])
    header = json.loads(__import__("base64").urlsafe_b64decode(flow["metadata"]["token"].split(".")[0] + "=="))
    assert header == {"typ": "JWT", "alg": "RS512"}  # (doc) the sample's header, key order included
    public = load_pem_private_key(DEFAULT_PRIVATE_KEY.encode(), None).public_key()
    claims = pyjwt.decode(flow["metadata"]["token"], public, algorithms=["RS512"], options={"verify_exp": False})
    assert claims["sid"] == flow["metadata"]["sid"] and next(iter(claims)) == "sid" and list(claims)[-1] == "exp"
    assert data["relationships"] == {
        "payment-service": {"data": {"type": "payment-services", "id": "payment_card_usd_hpp"}},
        "payment-method": {"data": {"type": "payment-methods", "id": "payment_card"}},
    }
    assert list(invoices(runtime)) == [data["id"]]


def test_create_payment_invoice_on_the_api_prefix_and_json_api_content_type(client: Any) -> None:
    response = client.post(
        "/api/payment-invoices",
        data=json.dumps(invoice_body()),
        headers={**basic(), "Content-Type": "application/vnd.api+json"},
    )
    assert response.status_code == 201
    created = response.get_json()["data"]
    assert created["attributes"]["reference_id"] == "ORDER-1"
    got = client.get("/api/payment-invoices/" + created["id"], headers=basic())
    assert got.status_code == 200 and got.get_json()["data"] == created


def test_create_payment_invoice_callback_url_inside_or_beside_attributes(client: Any) -> None:
    inside = create(client, callback_url="https://example.com/in")
    body = invoice_body(reference_id="ORDER-2")
    body["data"]["callback_url"] = "https://example.com/beside"
    beside = client.post("/payment-invoices", json=body, headers=basic()).get_json()["data"]
    assert inside["attributes"]["callback_url"] == "https://example.com/in"
    assert beside["attributes"]["callback_url"] == "https://example.com/beside"


def test_create_payment_invoice_with_live_key_is_live_mode(client: Any) -> None:
    invoice = create(client, headers=basic(key=LIVE_KEY))
    assert invoice["attributes"]["test_mode"] is False


def test_create_payment_invoice_customer_relationship_is_stable(client: Any) -> None:
    first = create(client, customer={"reference_id": "c1"})
    second = create(client, reference_id="ORDER-2", customer={"reference_id": "c1"})
    ids = {i["relationships"]["customer"]["data"]["id"] for i in (first, second)}
    assert len(ids) == 1 and next(iter(ids)).startswith("cus_")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic(key="wrong"),
        basic(account="coma_unknown"),
        basic(account=OTHER_ACCOUNT, key="test_6pnkH5vUZw0BlkZY_Xq3pLr8sT2vW"),
        {"Authorization": "Bearer abc"},
    ],
    ids=["missing", "wrong-key", "unknown-account", "other-accounts-key", "not-basic"],
)
def test_create_payment_invoice_bad_credentials(client: Any, runtime: Any, headers: dict[str, str]) -> None:
    response = client.post("/payment-invoices", json=invoice_body(), headers=headers)
    assert response.status_code == 401
    assert response.get_json() == UNAUTHORIZED
    assert response.headers["WWW-Authenticate"] == 'Basic realm="Commerce API"'
    assert invoices(runtime) == {} and invoices(runtime, OTHER_ACCOUNT) == {}


@pytest.mark.parametrize(
    ("attrs", "pointer", "detail"),
    [
        ({"amount": None}, "/data/attributes/amount", "This value should not be blank."),
        ({"reference_id": None}, "/data/attributes/reference_id", "This value should not be blank."),
        ({"amount": "ten"}, "/data/attributes/amount", "This value is not valid."),
        ({"amount": 0}, "/data/attributes/amount", "This value is not valid."),
        ({"currency": "usd"}, "/data/attributes/currency", "This value is not valid."),
        ({"service": "bank_transfer_usd"}, "/data/attributes/service", "Service is not available."),
        ({"currency": "EUR"}, "/data/attributes/service", "Service is not available."),
        ({"callback_url": "ftp://x"}, "/data/attributes/callback_url", "This value is not valid."),
    ],
)
def test_create_payment_invoice_validation(client: Any, runtime: Any, attrs: dict, pointer: str, detail: str) -> None:
    response = client.post("/payment-invoices", json=invoice_body(**attrs), headers=basic())
    assert response.status_code == 422
    assert response.get_json() == {
        "errors": [{"status": "422", "title": "Unprocessable Entity", "detail": detail, "source": {"pointer": pointer}}]
    }
    assert invoices(runtime) == {}


def test_create_payment_invoice_lists_every_violation(client: Any) -> None:
    body = {"data": {"type": "payment-invoices", "attributes": {"amount": -1, "currency": "US"}}}
    response = client.post("/payment-invoices", json=body, headers=basic())
    pointers = [e["source"]["pointer"] for e in response.get_json()["errors"]]
    assert response.status_code == 422
    assert "/data/attributes/amount" in pointers and "/data/attributes/currency" in pointers


def test_create_payment_invoice_wrong_type_and_malformed_json(client: Any, runtime: Any) -> None:
    wrong = client.post("/payment-invoices", json={"data": {"type": "x", "attributes": {}}}, headers=basic())
    assert wrong.status_code == 422
    assert {"pointer": "/data/type"} in [e["source"] for e in wrong.get_json()["errors"]]
    malformed = client.post("/payment-invoices", data="{", headers={**basic(), "Content-Type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.get_json() == {"errors": [{"status": "400", "title": "Bad Request", "detail": "Malformed JSON."}]}
    assert invoices(runtime) == {}


def test_create_payment_invoice_duplicate_reference_422(client: Any, runtime: Any) -> None:
    first = create(client)
    response = client.post("/payment-invoices", json=invoice_body(), headers=basic())
    assert response.status_code == 422
    assert response.get_json() == {
        "errors": [
            {
                "status": "422",
                "title": "Unprocessable Entity",
                "detail": "This value is already used.",
                "source": {"pointer": "/data/attributes/reference_id"},
            }
        ]
    }
    assert list(invoices(runtime)) == [first["id"]]


def test_create_payment_invoice_duplicate_reference_option_429_and_allow() -> None:
    client = make_app(duplicate_reference="429").test_client()
    create(client)
    response = client.post("/payment-invoices", json=invoice_body(), headers=basic())
    assert response.status_code == 429
    assert response.get_json()["errors"][0]["title"] == "Too Many Requests"
    relaxed = make_app(duplicate_reference="allow").test_client()
    create(relaxed)
    create(relaxed)


def test_create_payment_invoice_tokenize_needs_a_customer(client: Any) -> None:
    response = client.post(
        "/payment-invoices", json=invoice_body(gateway_options={"cardgate": {"tokenize": True}}), headers=basic()
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["source"] == {"pointer": "/data/attributes/customer/reference_id"}


def test_create_payment_invoice_token_of_another_customer_or_account(client: Any, runtime: Any) -> None:
    _, token = tokenized(client)
    before = set(invoices(runtime))
    wrong_customer = client.post(
        "/payment-invoices",
        json=invoice_body(reference_id="O2", token=token, customer={"reference_id": "someone"}),
        headers=basic(),
    )
    other_account = client.post(
        "/payment-invoices",
        json=invoice_body(reference_id="O3", token=token, customer={"reference_id": "my_customer_1"}),
        headers=basic(OTHER_ACCOUNT, OTHER_KEY),
    )
    assert wrong_customer.status_code == other_account.status_code == 422
    assert wrong_customer.get_json()["errors"][0]["detail"] == "Token does not belong to the customer."
    assert other_account.get_json() == {
        "errors": [
            {
                "status": "422",
                "title": "Unprocessable Entity",
                "detail": "Token not found.",
                "source": {"pointer": "/data/attributes/token"},
            }
        ]
    }
    assert set(invoices(runtime)) == before and invoices(runtime, OTHER_ACCOUNT) == {}


def test_create_payment_invoice_instant_token_without_customer(client: Any) -> None:
    _, token = tokenized(client)
    body = invoice_body(reference_id="O2", token=token, gateway_options={"cardgate": {"instant": True}})
    refused = client.post("/payment-invoices", json=body, headers=basic())
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["source"] == {"pointer": "/data/attributes/customer/reference_id"}


def test_create_payment_invoice_instant_token_without_customer_by_option() -> None:
    client = make_app(token_requires_customer=False).test_client()
    _, token = tokenized(client)
    body = invoice_body(reference_id="O2", token=token, gateway_options={"cardgate": {"instant": True}})
    invoice = client.post("/payment-invoices", json=body, headers=basic()).get_json()["data"]
    assert invoice["attributes"]["status"] == "process_pending"
    assert pay(client, invoice).get_json()["data"]["attributes"]["status"] == "processed"


# -- get_payment_invoice -------------------------------------------------------------------------


def test_get_payment_invoice_on_both_paths(client: Any) -> None:
    invoice = create(client)
    for prefix in ("/payment-invoices/", "/api/payment-invoices/"):
        response = client.get(prefix + invoice["id"], headers=basic())
        assert response.status_code == 200
        assert response.get_json()["data"] == invoice


def test_get_payment_invoice_unknown_or_other_account(client: Any) -> None:
    invoice = create(client)
    for headers in (basic(), basic(OTHER_ACCOUNT, OTHER_KEY)):
        path = "/payment-invoices/" + ("cpi_unknown0000000" if headers == basic() else invoice["id"])
        response = client.get(path, headers=headers)
        assert response.status_code == 404
        assert response.get_json() == {"errors": [{"status": "404", "title": "Not Found", "detail": "Not Found"}]}


def test_get_payment_invoice_bad_credentials(client: Any) -> None:
    invoice = create(client)
    response = client.get("/payment-invoices/" + invoice["id"], headers=basic(key="nope"))
    assert response.status_code == 401 and response.get_json() == UNAUTHORIZED


def test_unknown_path_and_method_answer_json_api(client: Any) -> None:
    missing = client.get("/payment/unknown")
    assert missing.status_code == 404
    assert missing.get_json() == {"errors": [{"status": "404", "title": "Not Found", "detail": "Not Found"}]}
    wrong = client.delete("/payment-invoices", headers=basic())
    assert wrong.status_code == 405
    assert wrong.get_json()["errors"][0] == {
        "status": "405",
        "title": "Method Not Allowed",
        "detail": "Method DELETE is not allowed.",
    }


# -- sale ----------------------------------------------------------------------------------------


def test_sale_with_a_success_card(client: Any) -> None:
    invoice = create(client)
    response = pay(client, invoice, card(SUCCESS))
    assert response.status_code == 200
    data = response.get_json()["data"]
    assert data["id"] == session_of(invoice)
    attrs = data["attributes"]
    assert (attrs["status"], attrs["resolution"]) == ("processed", "ok")
    assert attrs["active_payment"] == {"status": "processed", "resolution": "ok"}
    assert data["payment"] == {"fee": "0.00", "feeStrategy": "external"}
    got = client.get("/payment-invoices/" + invoice["id"], headers=basic()).get_json()["data"]["attributes"]
    assert got["status"] == "processed" and got["processed_amount"] == 100 and got["processed"] is not None
    assert got["payload"] == {
        "client_ip": "",
        "payment_card": {
            "last": "0000",
            "mask": "551928******0000",
            "brand": "mastercard",
            "first": "551928",
            "holder": "JOHN DOE",
            "expiry_year": "32",
            "issuer_name": "TEST BANK",
            "expiry_month": "12",
            "issuer_country": "US",
        },
    }
    assert SUCCESS not in json.dumps(got)


@pytest.mark.parametrize(
    ("pan", "month", "year", "resolution"),
    [
        (FAIL, "05", "29", "insufficient_funds"),
        (FAIL, "03", "27", "invalid_cvv"),
        (FAIL_3DS, "04", "28", "card_expired"),
        (FAIL, "01", "30", "general_fatal_error"),
    ],
)
def test_sale_with_a_failing_card(client: Any, pan: str, month: str, year: str, resolution: str) -> None:
    """A decline below the attempts limit waits in process_error for a retry (docs/providers/payelata.md#retries);
    the enrolled failing card passes 3-DS first."""
    invoice = create(client)
    attrs = pay(client, invoice, card(pan, month, year)).get_json()["data"]["attributes"]
    if pan == FAIL_3DS:
        assert (attrs["status"], attrs["resolution"]) == ("process_pending", "auth_3ds_required")
        assert pass_3ds(client, attrs["auth_payload"]).status_code == 200
        attrs = client.get("/payment-invoices/" + invoice["id"], headers=basic()).get_json()["data"]["attributes"]
    assert (attrs["status"], attrs["resolution"]) == ("process_error", resolution)


def test_sale_pending_card_stays_pending(client: Any) -> None:
    invoice = create(client)
    attrs = pay(client, invoice, card(SUCCESS, "07", "77")).get_json()["data"]["attributes"]
    assert (attrs["status"], attrs["resolution"]) == ("process_pending", "ok")
    assert "auth_payload" not in attrs


def test_sale_three_ds_through_the_acs_page(client: Any) -> None:
    invoice = create(client)
    attrs = pay(client, invoice, card(SUCCESS_3DS, "12", "32")).get_json()["data"]["attributes"]
    assert (attrs["status"], attrs["resolution"]) == ("process_pending", "auth_3ds_required")
    assert attrs["active_payment"]["status"] == "authorize_required"
    payload = attrs["auth_payload"]
    sid = session_of(invoice)
    assert payload["action"] == f"http://localhost/acs/{sid}" and payload["method"] == "POST"
    assert payload["params"]["MD"] == sid
    assert payload["params"]["TermUrl"] == f"http://localhost/complete-auth?pid={sid}"
    page = client.post(payload["action"], data=payload["params"])
    assert page.status_code == 200 and page.content_type == "text/html; charset=utf-8"
    assert b'id="authenticate"' in page.data
    done = client.post(payload["params"]["TermUrl"], data={"MD": sid, "PaRes": "AUTHENTICATED"})
    assert done.status_code == 200 and b'<h1 id="status">processed</h1>' in done.data
    got = client.get("/payment-invoices/" + invoice["id"], headers=basic()).get_json()["data"]["attributes"]
    assert (got["status"], got["resolution"]) == ("processed", "ok")


def test_sale_three_ds_failed_on_a_failing_card(client: Any) -> None:
    """(doc) 07/77 is no row of the failing cards' table: general_fatal_error, after the 3-DS challenge."""
    invoice = create(client)
    payload = pay(client, invoice, card(FAIL_3DS, "07", "77")).get_json()["data"]["attributes"]["auth_payload"]
    done = pass_3ds(client, payload)
    assert done.status_code == 200 and b'id="error"' in done.data  # the card form again, for a retry
    got = client.get("/payment-invoices/" + invoice["id"], headers=basic()).get_json()["data"]["attributes"]
    assert (got["status"], got["resolution"]) == ("process_error", "general_fatal_error")


def test_sale_pending_expiry_on_the_enrolled_card_stays_pending(client: Any) -> None:
    invoice = create(client)
    attrs = pay(client, invoice, card(SUCCESS_3DS, "07", "77")).get_json()["data"]["attributes"]
    assert (attrs["status"], attrs["resolution"]) == ("process_pending", "auth_3ds_required")
    assert "auth_payload" not in attrs
    got = client.get("/payment-invoices/" + invoice["id"], headers=basic()).get_json()["data"]["attributes"]
    assert (got["status"], got["resolution"]) == ("process_pending", "auth_3ds_required")


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({}, "Invalid token."),
        ({"Authorization": "Bearer"}, "Invalid token."),
        ({"Authorization": "Bearer not.a.jwt"}, "Invalid token."),
        ({"Authorization": "Basic abc"}, "Invalid token."),
    ],
)
def test_sale_bad_bearer(client: Any, runtime: Any, headers: dict[str, str], detail: str) -> None:
    invoice = create(client)
    response = client.post("/payment/sale", json=sale_body(card()), headers=headers)
    assert response.status_code == 401
    assert response.get_json() == {"errors": [{"status": "401", "title": "Unauthorized", "detail": detail}]}
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert invoices(runtime)[invoice["id"]].status == "created"


def test_sale_tampered_bearer(client: Any, runtime: Any) -> None:
    invoice = create(client)
    head, claims, sig = jwt_of(invoice).split(".")
    tampered = f"{head}.{claims}.{sig[:-4]}AAAA"
    response = client.post("/payment/sale", json=sale_body(card()), headers=bearer(tampered))
    assert response.status_code == 401 and response.get_json() == BEARER_INVALID
    assert invoices(runtime)[invoice["id"]].status == "created"


def test_sale_expired_bearer(client: Any, runtime: Any) -> None:
    invoice = create(client)
    runtime.clock.advance(86400)
    response = pay(client, invoice, card())
    assert response.status_code == 401
    assert response.get_json() == {"errors": [{"status": "401", "title": "Unauthorized", "detail": "Token expired."}]}
    assert invoices(runtime)[invoice["id"]].status == "expired"


def test_sale_needs_card_fields_for_a_plain_invoice(client: Any, runtime: Any) -> None:
    invoice = create(client)
    response = pay(client, invoice)
    assert response.status_code == 422
    assert response.get_json() == {
        "errors": [
            {
                "status": "422",
                "title": "Unprocessable Entity",
                "detail": "This value should not be blank.",
                "source": {"pointer": "/data/attributes/card_number"},
            }
        ]
    }
    assert invoices(runtime)[invoice["id"]].status == "created"


def test_sale_wrong_type_and_bad_card(client: Any) -> None:
    invoice = create(client)
    wrong = client.post("/payment/sale", json={"data": {"type": "payment-invoices"}}, headers=bearer(jwt_of(invoice)))
    assert wrong.status_code == 422 and wrong.get_json()["errors"][0]["source"] == {"pointer": "/data/type"}
    bad = pay(client, invoice, card("4111111111111112"))
    assert bad.get_json()["errors"][0]["detail"] == "Invalid card number."
    cvv = pay(client, invoice, card(cvv="12"))
    assert cvv.get_json()["errors"][0]["source"] == {"pointer": "/data/attributes/cvv"}


def test_sale_twice_is_refused(client: Any) -> None:
    invoice = create(client)
    pay(client, invoice, card())
    again = pay(client, invoice, card())
    assert again.status_code == 422
    assert again.get_json() == {
        "errors": [
            {
                "status": "422",
                "title": "Unprocessable Entity",
                "detail": "Payment invoice can not be processed in its current status.",
                "source": {"pointer": "/data"},
            }
        ]
    }


def test_sale_by_token_charges_without_the_page(client: Any) -> None:
    first, token = tokenized(client)
    assert first["attributes"]["payload"]["payment_card"]["holder"] == "asd asdas "
    body = invoice_body(
        reference_id="O2",
        token=token,
        customer={"reference_id": "my_customer_1"},
        gateway_options={"cardgate": {"instant": True}},
    )
    second = client.post("/payment-invoices", json=body, headers=basic()).get_json()["data"]
    assert (second["attributes"]["status"], second["attributes"]["resolution"]) == ("process_pending", "ok")
    attrs = pay(client, second).get_json()["data"]["attributes"]
    assert attrs["status"] == "processed" and attrs["customer"] == {"reference_id": "my_customer_1"}
    got = client.get("/payment-invoices/" + second["id"], headers=basic()).get_json()["data"]["attributes"]
    assert got["payload"]["token"] == token and got["payload"]["payment_card"]["mask"] == "512381******0000"


def test_sale_bearer_of_another_account_cannot_reach_its_invoice(client: Any, runtime: Any) -> None:
    mine = create(client)
    theirs = create(client, headers=basic(OTHER_ACCOUNT, OTHER_KEY))
    # The token names its own account; swapping the claims breaks the signature.
    response = client.post("/payment/sale", json=sale_body(card()), headers=bearer(jwt_of(theirs)))
    assert response.get_json()["data"]["id"] == session_of(theirs)
    assert invoices(runtime)[mine["id"]].status == "created"


# -- callbacks -----------------------------------------------------------------------------------


def test_callbacks_batched_by_default(client: Any, runtime: Any, payemu_receiver: CallbackReceiver) -> None:
    """(doc) callbacks.md "Batching": close changes of one object give one callback with the latest state."""
    invoice = create(client, callback_url=payemu_receiver.url)
    pay(client, invoice, card(SUCCESS))
    assert runtime.callbacks.wait_idle(5)
    assert statuses_seen(payemu_receiver) == [("processed", "ok")]
    assert payemu_receiver.received[0].headers["X-Signature"] == signature(
        SECRET_TEST, payemu_receiver.received[0].body
    )
    assert [d.event for d in runtime.callbacks.list(provider="payelata")] == ["payment-invoice.processed"]


def test_callbacks_on_every_status_change_signed(client: Any, runtime: Any, payemu_receiver: CallbackReceiver) -> None:
    runtime.tenants["payelata"].update(ACCOUNT, {"options": {"callback_batching": False}})
    invoice = create(client, callback_url=payemu_receiver.url)
    pay(client, invoice, card(SUCCESS))
    assert runtime.callbacks.wait_idle(5)
    # Sent 25 ms apart, so normally in this order; delivery is parallel, so compare as a set.
    assert sorted(statuses_seen(payemu_receiver)) == [("process_pending", "ok"), ("processed", "ok")]
    for item in payemu_receiver.received:
        assert item.headers["X-Signature"] == signature(SECRET_TEST, item.body)
        assert item.headers["Content-Type"] == "application/vnd.api+json"
    final = next(b for b in payemu_receiver.bodies() if b["data"]["attributes"]["status"] == "processed")
    assert final == client.get("/payment-invoices/" + invoice["id"], headers=basic()).get_json()
    outbox = runtime.callbacks.list(provider="payelata")
    assert [d.event for d in outbox] == ["payment-invoice.process_pending", "payment-invoice.processed"]
    assert all(d.status == "delivered" for d in outbox)


def test_callbacks_live_mode_uses_the_live_secret(client: Any, runtime: Any, payemu_receiver: CallbackReceiver) -> None:
    invoice = create(client, headers=basic(key=LIVE_KEY), callback_url=payemu_receiver.url)
    pay(client, invoice, card(FAIL, "05", "29"))
    assert runtime.callbacks.wait_idle(5)
    assert ("process_error", "insufficient_funds") in statuses_seen(payemu_receiver)
    assert all(i.headers["X-Signature"] == signature(SECRET_LIVE, i.body) for i in payemu_receiver.received)


def test_callbacks_carry_the_token_after_tokenization(
    client: Any, runtime: Any, payemu_receiver: CallbackReceiver
) -> None:
    runtime.tenants["payelata"].update(ACCOUNT, {"options": {"callback_batching": False}})
    invoice = create(
        client,
        callback_url=payemu_receiver.url,
        customer={"reference_id": "c1"},
        gateway_options={"cardgate": {"tokenize": True}},
    )
    pay(client, invoice, card(SUCCESS))
    assert runtime.callbacks.wait_idle(5)
    pending, processed = sorted(payemu_receiver.bodies(), key=lambda b: b["data"]["attributes"]["status"])
    assert "token" not in pending["data"]["attributes"]["payload"]
    assert len(processed["data"]["attributes"]["payload"]["token"]) == 32


def test_callbacks_retried_until_200(client: Any, runtime: Any, payemu_receiver: CallbackReceiver) -> None:
    """Retries 1, 2, 3 … minutes apart (the documented scale, not the sample tenant's 0.001), on the virtual clock."""
    runtime.tenants["payelata"].update(ACCOUNT, {"options": {"callback_retry_scale": 1.0}})
    payemu_receiver.statuses = [500, 503, 201]  # 201 is not 200: still a failure (doc)
    invoice = create(client, callback_url=payemu_receiver.url)
    pay(client, invoice, card(SUCCESS, "07", "77"))  # one callback: process_pending
    assert runtime.callbacks.wait_settled(5)
    (delivery,) = runtime.callbacks.list(provider="payelata")
    assert [a.status for a in delivery.attempts] == [500] and delivery.status == "pending"  # waits a minute
    retry_on_clock(runtime, 60)
    assert [a.status for a in delivery.attempts] == [500, 503, 201, 200]
    assert delivery.status == "delivered" and len(payemu_receiver.received) == 4
    gaps = [later.at - earlier.at for earlier, later in zip(delivery.attempts, delivery.attempts[1:], strict=False)]
    assert gaps == pytest.approx([60, 120, 180], abs=1)
    assert delivery.retry_delays[:3] == pytest.approx((60, 120, 180)) and len(delivery.retry_delays) == 99


def test_callbacks_tenant_default_url_and_options(payemu_receiver: CallbackReceiver) -> None:
    app = make_app(callback_final_only=True, callback_strip_card=True)
    client, runtime = app.test_client(), app.extensions["payemu"]
    try:
        invoice = create(client, callback_url=payemu_receiver.url)
        pay(client, invoice, card(SUCCESS))
        assert runtime.callbacks.wait_idle(5)
        (body,) = payemu_receiver.bodies()
        assert body["data"]["attributes"]["status"] == "processed"
        assert body["data"]["attributes"]["payload"] == {"client_ip": ""}
    finally:
        runtime.callbacks.close()


def test_invoice_expires_on_the_clock_with_a_callback(
    client: Any, runtime: Any, payemu_receiver: CallbackReceiver
) -> None:
    invoice = create(client, callback_url=payemu_receiver.url)
    response = client.post("/__admin/clock/advance", json={"seconds": 86401})
    assert response.status_code == 200
    assert runtime.callbacks.wait_idle(5)
    assert statuses_seen(payemu_receiver) == [("expired", "ok")]
    got = client.get("/payment-invoices/" + invoice["id"], headers=basic()).get_json()["data"]["attributes"]
    assert got["status"] == "expired"


# -- hosted payment page -------------------------------------------------------------------------


def test_hosted_payment_page_form_and_payment(client: Any) -> None:
    invoice = create(client, return_url="https://shop.example/back")
    page = client.get(invoice["attributes"]["flow_data"]["action"])
    assert page.status_code == 200 and page.content_type == "text/html; charset=utf-8"
    for name in ("card_number", "card_holder", "exp_month", "exp_year", "cvv"):
        assert f'name="{name}"'.encode() in page.data
    done = client.post(invoice["attributes"]["flow_data"]["action"], data=card(SUCCESS))
    assert done.status_code == 200
    assert b'<h1 id="status">processed</h1>' in done.data and b"https://shop.example/back" in done.data
    assert SUCCESS.encode() not in done.data


def test_hosted_payment_page_bad_card_rerenders_the_form(client: Any, runtime: Any) -> None:
    invoice = create(client)
    page = client.post(invoice["attributes"]["flow_data"]["action"], data=card("1234"))
    assert page.status_code == 422 and b'id="error"' in page.data and b"Invalid card number." in page.data
    assert invoices(runtime)[invoice["id"]].status == "created"


def test_hosted_payment_page_three_ds_redirect(client: Any) -> None:
    invoice = create(client)
    page = client.post(invoice["attributes"]["flow_data"]["action"], data=card(SUCCESS_3DS, "12", "32"))
    assert page.status_code == 200 and b'id="auth-form"' in page.data and b"/acs/" in page.data


def test_hosted_payment_page_unknown_session(client: Any) -> None:
    page = client.get("/hpp/cgi_doesnotexist0000")
    assert page.status_code == 404 and page.content_type == "text/html; charset=utf-8"
    assert b"Payment session not found." in page.data


# -- concurrency ---------------------------------------------------------------------------------


def test_concurrent_creation_and_duplicate_reference(app: Any, runtime: Any) -> None:
    results: list[int] = []
    lock = threading.Lock()

    def worker(reference: str) -> None:
        client = app.test_client()
        status = client.post(
            "/payment-invoices", json=invoice_body(reference_id=reference), headers=basic()
        ).status_code
        with lock:
            results.append(status)

    threads = [threading.Thread(target=worker, args=(f"R{i % 10}",)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results).count(201) == 10 and results.count(422) == 30
    assert len(invoices(runtime)) == 10


def test_concurrent_sales_on_one_invoice_charge_once(app: Any, runtime: Any) -> None:
    invoice = create(app.test_client())
    statuses: list[int] = []

    def worker() -> None:
        statuses.append(pay(app.test_client(), invoice, card()).status_code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [422] * 7


def test_hosted_payment_page_saved_card_for_a_token_invoice(client: Any) -> None:
    _, token = tokenized(client)
    second = create(client, reference_id="O2", token=token, customer={"reference_id": "my_customer_1"})
    page = client.get(second["attributes"]["flow_data"]["action"])
    assert (
        b'id="saved-card"' in page.data and b"512381******0000" in page.data and b'name="card_number"' not in page.data
    )
    done = client.post(second["attributes"]["flow_data"]["action"], data={})
    assert b'<h1 id="status">processed</h1>' in done.data


def test_journal_and_outbox_never_hold_a_full_pan_or_cvv(
    client: Any, runtime: Any, payemu_receiver: CallbackReceiver
) -> None:
    invoice = create(client, callback_url=payemu_receiver.url)
    client.post(invoice["attributes"]["flow_data"]["action"], data=card(SUCCESS, cvv="987"))
    assert runtime.callbacks.wait_idle(5)
    journal = json.dumps([entry.to_json() for entry in runtime.journal.query()], default=str)
    outbox = json.dumps([d.to_json() for d in runtime.callbacks.list()])
    for text in (journal, outbox):
        assert SUCCESS not in text and "cvv=987" not in text and '"cvv": "987"' not in text
    assert "cvv=***" in journal


# -- retries (docs/providers/payelata.md#retries) --------------------------------------------------


def test_declines_retry_on_the_hosted_page_until_final(client: Any, runtime: Any) -> None:
    """Each decline shows the payment error on the card form again; the fifth is final process_failed."""
    invoice = create(client)
    action = invoice["attributes"]["flow_data"]["action"]
    for attempt in range(1, 5):
        page = client.post(action, data=card(FAIL, "03", "27"))
        assert page.status_code == 200 and b'id="error">Invalid CVV code<' in page.data and b'id="pay"' in page.data
        state = invoices(runtime)[invoice["id"]]
        assert (state.status, state.resolution, state.attempts) == ("process_error", "invalid_cvv", attempt)
    assert client.get(action).data.count(b'id="error"') == 1  # the form, with the last error, on reload too
    final = client.post(action, data=card(FAIL, "03", "27"))
    assert b'<h1 id="status">process_failed</h1>' in final.data
    again = client.post(action, data=card(SUCCESS))
    assert b'<h1 id="status">process_failed</h1>' in again.data  # no sixth attempt
    got = client.get("/payment-invoices/" + invoice["id"], headers=basic()).get_json()["data"]["attributes"]
    assert (got["status"], got["resolution"]) == ("process_failed", "invalid_cvv")


def test_a_decline_then_a_good_card_on_the_card_gate(client: Any) -> None:
    invoice = create(client)
    first = pay(client, invoice, card(FAIL, "05", "29")).get_json()["data"]["attributes"]
    assert (first["status"], first["active_payment"]["status"], first["repeatable"]) == (
        "process_error",
        "process_failed",
        True,
    )
    second = pay(client, invoice, card(SUCCESS)).get_json()["data"]["attributes"]
    assert (second["status"], second["repeatable"]) == ("processed", False)


def test_attempts_limit_option_makes_the_first_decline_final(runtime: Any, client: Any) -> None:
    runtime.tenants["payelata"].update(ACCOUNT, {"options": {"attempts_limit": 1}})
    invoice = create(client)
    attrs = pay(client, invoice, card(FAIL, "11", "47")).get_json()["data"]["attributes"]
    assert (attrs["status"], attrs["resolution"]) == ("process_failed", "issuer_decline")


def test_hosted_page_shows_the_test_cards_in_test_mode_only(client: Any) -> None:
    test_page = client.get(create(client)["attributes"]["flow_data"]["action"]).data
    assert b'id="test-cards"' in test_page and all(pan.encode() in test_page for pan in (SUCCESS, FAIL_3DS))
    live = create(client, headers=basic(key=LIVE_KEY), reference_id="LIVE-1")
    assert b'id="test-cards"' not in client.get(live["attributes"]["flow_data"]["action"]).data


# -- return URLs and the status page (docs/providers/payelata.md#return-urls) -----------------------


def test_status_page_redirects_to_the_return_url_with_the_context(client: Any) -> None:
    invoice = create(
        client,
        return_url="https://shop.example/back?order=7",
        return_urls={"success": "https://shop.example/ok", "fail": "https://shop.example/sorry"},
    )
    assert invoice["attributes"]["return_urls"] == {
        "success": "https://shop.example/ok",
        "pending": None,
        "fail": "https://shop.example/sorry",
    }
    page = client.post(invoice["attributes"]["flow_data"]["action"], data=card(SUCCESS)).get_data(as_text=True)
    expected = (
        f"https://shop.example/ok?id={invoice['id']}&amp;serial_number={invoice['attributes']['serial_number']}"
        "&amp;amount=100.00&amp;currency=USD&amp;reference_id=ORDER-1&amp;status=processed&amp;resolution=ok"
    )
    assert f'content="5;url={expected}"' in page and f'href="{expected}"' in page
    pending = create(client, reference_id="O-P", return_url="https://shop.example/back?order=7")
    page = client.post(pending["attributes"]["flow_data"]["action"], data=card(SUCCESS, "07", "77"))
    assert "https://shop.example/back?order=7&amp;id=" in page.get_data(as_text=True)


def test_status_page_without_context_or_bypassed(runtime: Any, client: Any) -> None:
    runtime.tenants["payelata"].update(ACCOUNT, {"options": {"return_url_context": False, "bypass_status_page": True}})
    invoice = create(client, return_url="https://shop.example/back")
    done = client.post(invoice["attributes"]["flow_data"]["action"], data=card(SUCCESS))
    assert done.status_code == 303 and done.headers["Location"] == "https://shop.example/back"
    no_url = create(client, reference_id="O-N")
    page = client.post(no_url["attributes"]["flow_data"]["action"], data=card(SUCCESS))
    assert page.status_code == 200 and b'id="return"' not in page.data and b"http-equiv" not in page.data


# -- refunds (docs/providers/payelata.md#refunds) --------------------------------------------------


def refund_body(amount: Any = 10, reference: str = "REF-1", **data: Any) -> dict[str, Any]:
    return {"data": {"type": "refund", **data, "attributes": {"amount": amount, "reference_id": reference}}}


def paid(client: Any, **overrides: Any) -> dict[str, Any]:
    invoice = create(client, **overrides)
    assert pay(client, invoice, card(SUCCESS)).get_json()["data"]["attributes"]["status"] == "processed"
    return invoice


def test_refund_partial_then_full_over_http(client: Any, runtime: Any, payemu_receiver: CallbackReceiver) -> None:
    invoice = paid(client, callback_url=payemu_receiver.url)
    path = f"/payment-invoices/{invoice['id']}/refund"
    first = client.post(path, json=refund_body(30, "R1", id=invoice["id"]), headers=basic())
    assert first.status_code == 200 and first.content_type == "application/vnd.api+json"
    attrs = first.get_json()["data"]["attributes"]
    assert (attrs["status"], attrs["refunded_amount"], attrs["refunded_fee"]) == ("partially_refunded", 30, 0)
    second = client.post("/api" + path, json=refund_body(70, "R2"), headers=basic()).get_json()["data"]["attributes"]
    assert (second["status"], second["refunded_amount"], second["processed_amount"]) == ("refunded", 70 + 30, 100)
    assert second["refunded"] == int(runtime.clock.now()) or second["refunded"] <= runtime.clock.now()
    assert runtime.callbacks.wait_idle(5)
    assert sorted(statuses_seen(payemu_receiver)) == [
        ("partially_refunded", "ok"),
        ("processed", "ok"),
        ("refunded", "ok"),
    ]
    outbox = [d.event for d in runtime.callbacks.list(provider="payelata")]
    assert "payment-invoice.refunded" in outbox and "payment-invoice.refunding" not in outbox  # batched


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        (refund_body(100.5), 422, "/data/attributes/amount"),
        (refund_body(0), 422, "/data/attributes/amount"),
        ({"data": {"type": "refund", "attributes": {"amount": 5}}}, 422, "/data/attributes/reference_id"),
        (refund_body(5, id="cpi_AAAAAAAAAAAAAAAA"), 422, "/data/id"),
        ({"data": {"type": "payment-invoices", "attributes": {"amount": 5, "reference_id": "R"}}}, 422, "/data/type"),
    ],
)
def test_refund_bad_input_changes_nothing(client: Any, runtime: Any, body: dict, status: int, pointer: str) -> None:
    invoice = paid(client)
    response = client.post(f"/payment-invoices/{invoice['id']}/refund", json=body, headers=basic())
    assert response.status_code == status
    assert response.get_json()["errors"][0]["source"]["pointer"] == pointer
    state = invoices(runtime)[invoice["id"]]
    assert (state.status, state.refunded_amount, state.refunds) == ("processed", None, [])


def test_refund_of_an_unpaid_invoice_a_second_full_refund_and_unknown_ids(client: Any, runtime: Any) -> None:
    unpaid = create(client, reference_id="U1")
    response = client.post(f"/payment-invoices/{unpaid['id']}/refund", json=refund_body(1), headers=basic())
    assert response.status_code == 422 and response.get_json() == {
        "errors": [
            {
                "status": "422",
                "title": "Unprocessable Entity",
                "detail": "Payment invoice can not be refunded in its current status.",
                "source": {"pointer": "/data"},
            }
        ]
    }
    invoice = paid(client)
    path = f"/payment-invoices/{invoice['id']}/refund"
    assert client.post(path, json=refund_body(100, "R1"), headers=basic()).status_code == 200
    again = client.post(path, json=refund_body(100, "R2"), headers=basic())
    assert again.status_code == 422 and "can not be refunded" in again.get_json()["errors"][0]["detail"]
    assert invoices(runtime)[invoice["id"]].refunded_amount == 100
    missing = client.post("/payment-invoices/cpi_AAAAAAAAAAAAAAAA/refund", json=refund_body(), headers=basic())
    assert missing.status_code == 404
    other = client.post(path, json=refund_body(1, "R3"), headers=basic(OTHER_ACCOUNT, OTHER_KEY))
    assert other.status_code == 404
    assert client.post(path, json=refund_body(), headers=basic(key="wrong")).get_json() == UNAUTHORIZED


def test_refund_response_option_answers_the_refund_resource(runtime: Any, client: Any) -> None:
    runtime.tenants["payelata"].update(ACCOUNT, {"options": {"refund_response": "refund"}})
    invoice = paid(client)
    response = client.post(
        f"/payment-invoices/{invoice['id']}/refund",
        json={
            "data": {"type": "refund", "attributes": {"invoiceId": invoice["id"], "amount": 10, "reference_id": "X"}}
        },
        headers=basic(),
    )
    assert response.status_code == 201
    data = response.get_json()["data"]
    assert data["type"] == "refunds" and data["id"].startswith("ref_")
    assert data["attributes"] == {
        "reference_id": "X",
        "original_id": None,
        "description": None,
        "status": "processed",
        "amount": 10,
        "fee": 0,
        "currency": "USD",
        "created": data["attributes"]["created"],
    }
    assert data["links"] == {"self": f"/refunds/{data['id']}"}
    assert client.get(data["links"]["self"], headers=basic()).get_json() == response.get_json()
    assert client.get("/api" + data["links"]["self"], headers=basic()).status_code == 200
    assert client.get(data["links"]["self"], headers=basic(OTHER_ACCOUNT, OTHER_KEY)).status_code == 404
    assert client.get("/refunds/ref_AAAAAAAAAAAAAAAA", headers=basic()).status_code == 404


def test_refund_delay_keeps_it_refunding_on_the_clock(runtime: Any, client: Any, payemu_admin: Any) -> None:
    runtime.tenants["payelata"].update(ACCOUNT, {"options": {"refund_delay": 120}})
    invoice = paid(client)
    attrs = client.post(f"/payment-invoices/{invoice['id']}/refund", json=refund_body(100), headers=basic())
    assert attrs.get_json()["data"]["attributes"]["status"] == "refunding"
    runtime.clock.advance(121)
    got = client.get("/payment-invoices/" + invoice["id"], headers=basic()).get_json()["data"]["attributes"]
    assert (got["status"], got["refunded_amount"]) == ("refunded", 100)


# -- payouts (docs/providers/payelata.md#payouts) --------------------------------------------------


def payout_body(**attributes: Any) -> dict[str, Any]:
    base = {"reference_id": "PO-1", "amount": 25, "currency": "USD", "service": "payment_card_usd"}
    return {"data": {"type": "payout-invoice", "attributes": {**base, **attributes}}}


def test_payout_to_a_card_with_auto_process(client: Any, runtime: Any, payemu_receiver: CallbackReceiver) -> None:
    body = payout_body(
        fields={"card_number": FAIL},
        context={"card": {"exp_month": "05", "exp_year": "29"}},
        options={"auto_process": True},
        callback_url=payemu_receiver.url,
    )
    response = client.post("/payout-invoices", json=body, headers=basic())
    assert response.status_code == 201
    data = response.get_json()["data"]
    assert data["type"] == "payout-invoices" and data["links"] == {"self": f"/api/payout-invoices/{data['id']}"}
    attrs = data["attributes"]
    assert (attrs["status"], attrs["resolution"], attrs["fields"]) == (
        "process_failed",
        "insufficient_funds",
        {"card_number": "430291******0000"},
    )
    assert client.get("/api/payout-invoices/" + data["id"], headers=basic()).get_json() == response.get_json()
    assert runtime.callbacks.wait_idle(5)
    (only,) = payemu_receiver.received
    assert json.loads(only.body)["data"]["attributes"]["status"] == "process_failed"
    assert only.headers["X-Signature"] == signature(SECRET_TEST, only.body)
    assert runtime.callbacks.list(provider="payelata")[0].event == "payout-invoice.process_failed"
    assert FAIL not in json.dumps(runtime.store.peek("payelata", ACCOUNT).payouts[data["id"]].to_wire())


def test_payout_process_and_its_errors(client: Any, runtime: Any) -> None:
    created = client.post("/payout-invoices", json=payout_body(fields={"card_number": SUCCESS}), headers=basic())
    payout = created.get_json()["data"]
    assert payout["attributes"]["status"] == "created"
    path = f"/payout-invoices/{payout['id']}/process"
    done = client.post(path, headers=basic())
    assert done.status_code == 201 and done.get_json()["data"]["attributes"]["status"] == "processed"
    again = client.post(path, headers=basic())
    assert again.status_code == 422 and "can not be processed" in again.get_json()["errors"][0]["detail"]
    assert client.post("/payout-invoices/cpoi_AAAAAAAAAAAAAAAA/process", headers=basic()).status_code == 404
    assert client.get(f"/payout-invoices/{payout['id']}", headers=basic(OTHER_ACCOUNT, OTHER_KEY)).status_code == 404
    duplicate = client.post("/payout-invoices", json=payout_body(fields={"card_number": SUCCESS}), headers=basic())
    assert duplicate.status_code == 422
    assert duplicate.get_json()["errors"][0]["source"]["pointer"] == "/data/attributes/reference_id"
    for attrs, pointer in (
        ({"amount": -1, "fields": {"card_number": SUCCESS}}, "/data/attributes/amount"),
        ({"fields": {"card_number": "4111111111111112"}}, "/data/attributes/fields/card_number"),
        ({}, "/data/attributes/fields/card_number"),
        ({"token": "nope"}, "/data/attributes/token"),
    ):
        response = client.post("/payout-invoices", json=payout_body(reference_id="PO-X", **attrs), headers=basic())
        assert response.status_code == 422 and response.get_json()["errors"][0]["source"]["pointer"] == pointer
    assert list(runtime.store.peek("payelata", ACCOUNT).payouts) == [payout["id"]]


def test_payout_by_token(client: Any) -> None:
    _, token = tokenized(client)
    body = payout_body(token=token, customer={"reference_id": "my_customer_1"}, options={"auto_process": True})
    attrs = client.post("/payout-invoices", json=body, headers=basic()).get_json()["data"]["attributes"]
    assert (attrs["status"], attrs["processed_amount"], attrs["fields"]) == ("processed", 25, {})
    foreign = payout_body(reference_id="PO-2", token=token, customer={"reference_id": "someone-else"})
    assert client.post("/payout-invoices", json=foreign, headers=basic()).status_code == 422
    theirs = client.post("/payout-invoices", json=payout_body(token=token), headers=basic(OTHER_ACCOUNT, OTHER_KEY))
    assert theirs.status_code == 422


@pytest.mark.parametrize("algorithm", ["HS256", "HS512"])
def test_card_gate_token_algorithm_option(runtime: Any, client: Any, algorithm: str) -> None:
    """(doc) a white-label's sample token is HS256 (docs/providers/payelata.md#card-gate-token)."""
    runtime.tenants["payelata"].update(ACCOUNT, {"options": {"card_gate_jwt_alg": algorithm}})
    invoice = create(client)
    token = jwt_of(invoice)
    assert pyjwt.get_unverified_header(token) == {"typ": "JWT", "alg": algorithm}
    assert pay(client, invoice, card(SUCCESS)).get_json()["data"]["attributes"]["status"] == "processed"
    claims = pyjwt.decode(token, options={"verify_signature": False})
    forged = pyjwt.encode(claims, "a guessed key, long enough for HS512 " * 2, algorithm=algorithm)
    other = create(client, reference_id="O-2")
    assert client.post("/payment/sale", json=sale_body(card()), headers=bearer(forged)).status_code == 401
    assert invoices(runtime)[other["id"]].status == "created"
