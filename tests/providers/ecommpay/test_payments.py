"""Ecommpay card payments over HTTP (docs/providers/ecommpay.md#payments): sale and auth by card or token,
capture, cancel, refund, payout, 3-D Secure with the emulated ACS, status, idempotency, automatic tokens. Every
callback is verified by Ecommpay's published Python SDK (`Gate.handle_callback`)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from emulator.testing import CallbackReceiver

from .support import (
    AUTH,
    AUTH_TOKEN,
    CANCEL,
    CAPTURE,
    CVV,
    DECLINE_PAN,
    PAN,
    PAYOUT_TOKEN,
    REFUND,
    REVOKE,
    SALE,
    SALE_TOKEN,
    SECRET_12,
    STATUS,
    THREE_DS_PAN,
    THREE_DS_RESULT,
    assert_payment_callback,
    general,
    pay_body,
    signed,
    signed_general,
    state_of,
    token_body,
    tokenize,
)


def post(client: Any, path: str, body: dict[str, Any], **kwargs: Any) -> Any:
    return client.post(path, json=signed_general(body), **kwargs)


def callbacks_after(runtime: Any, receiver: CallbackReceiver, count: int) -> list[dict[str, Any]]:
    """The `count` newest payment callbacks once delivered, each checked (contract, published SDK, masking), in the
    order the Gate made them (deliveries run in parallel, so arrival order is not that): by operation id, a 3-D
    Secure operation's waiting callback before its result."""
    runtime.callbacks.wait_idle()
    arrived = [r for r in receiver.wait_for(len(receiver.received)) if b'"operation"' in r.body]
    checked = [assert_payment_callback(runtime, r) for r in arrived]
    checked.sort(key=lambda b: (b["operation"]["id"], b["operation"]["status"] != "awaiting 3ds result"))
    return checked[-count:] if count else []


def status(client: Any, payment_id: str) -> dict[str, Any]:
    response = post(client, STATUS, {"general": general(payment_id)})
    assert response.status_code == 200
    return response.json


def refund_body(payment_id: str, **payment: Any) -> dict[str, Any]:
    return {"general": general(payment_id), "payment": {"description": "refund", **payment}}


def rejected(response: Any, code: str, message: str, payment_id: str | None = None) -> None:
    assert response.status_code == 400, response.json
    assert response.json["status"] == "error" and response.json["project_id"] == 11
    assert (response.json["code"], response.json["message"]) == (code, message)


@pytest.fixture
def token(client: Any, runtime: Any, receiver: CallbackReceiver) -> str:
    return tokenize(client, runtime, receiver)


# -- sale by token, status, refunds --------------------------------------------------------------------


def test_sale_by_token_then_status_then_refunds(
    client: Any, runtime: Any, receiver: CallbackReceiver, token: str
) -> None:
    response = post(client, SALE_TOKEN, pay_body("order-1", token=token))
    assert response.status_code == 200
    assert response.json == {
        "status": "success",
        "project_id": 11,
        "payment_id": "order-1",
        "request_id": response.json["request_id"],
    }
    [sale] = callbacks_after(runtime, receiver, 1)
    assert sale["payment"] == {
        "id": "order-1",
        "type": "purchase",
        "status": "success",
        "date": sale["payment"]["date"],
        "method": "card",
        "sum": {"amount": 1000, "currency": "EUR"},
        "description": "order order-1",
    }
    assert sale["account"]["number"] == "431422******0056" and sale["account"]["token"] == token
    operation = sale["operation"]
    assert (operation["type"], operation["status"], operation["code"], operation["message"]) == (
        "sale",
        "success",
        "0",
        "Success",
    )
    assert operation["request_id"] == response.json["request_id"]
    assert operation["sum_initial"] == {"amount": 1000, "currency": "EUR"}

    info = status(client, "order-1")
    assert info["payment"]["status"] == "success" and [o["type"] for o in info["operations"]] == ["sale"]

    assert post(client, REFUND, refund_body("order-1", amount=400, currency="EUR")).status_code == 200
    [partial] = callbacks_after(runtime, receiver, 1)
    assert partial["payment"]["status"] == "partially refunded"
    assert (partial["operation"]["type"], partial["operation"]["sum_initial"]["amount"]) == ("refund", 400)

    before = state_of(runtime)
    rejected(
        post(client, REFUND, refund_body("order-1", amount=700, currency="EUR")),
        "3283",
        "Refund amount more than init amount",
    )
    rejected(
        post(client, REFUND, refund_body("order-1", amount=100, currency="USD")),
        "3284",
        "Refund currency mismatched or empty",
    )
    assert state_of(runtime) == before

    assert post(client, REFUND, refund_body("order-1")).status_code == 200  # the rest
    [full] = callbacks_after(runtime, receiver, 1)
    assert full["payment"]["status"] == "refunded" and full["operation"]["sum_initial"]["amount"] == 600
    info = status(client, "order-1")
    assert [o["type"] for o in info["operations"]] == ["sale", "refund", "refund"]
    assert info["payment"]["status"] == "refunded"
    rejected(
        post(client, REFUND, refund_body("order-1", amount=1, currency="EUR")),
        "3060",
        "Current payment or operation status does not allow this action",
    )


def test_refund_with_a_used_merchant_refund_id_is_refused(
    client: Any, runtime: Any, receiver: CallbackReceiver, token: str
) -> None:
    assert post(client, SALE_TOKEN, pay_body("order-r", token=token)).status_code == 200
    body = refund_body("order-r", amount=100, currency="EUR", merchant_refund_id="rf-1")
    assert post(client, REFUND, body).status_code == 200
    rejected(post(client, REFUND, body), "3230", "The operation with such merchant_refund_id already exists")


def test_status_of_an_unknown_payment_is_the_not_found_body(client: Any) -> None:
    assert status(client, "nobody") == {
        "payment": {"status": "error"},
        "errors": [{"code": 3061, "message": "Transaction not found"}],
    }


def test_status_is_signed_like_a_callback(client: Any, runtime: Any, receiver: CallbackReceiver, token: str) -> None:
    from payment_page_sdk.gate import Gate

    assert post(client, SALE_TOKEN, pay_body("order-s", token=token)).status_code == 200
    response = post(client, STATUS, {"general": general("order-s")})
    assert Gate("secret").handle_callback(response.get_data(as_text=True)).get_payment_status() == "success"


# -- two-step: auth, capture, cancel -------------------------------------------------------------------


def test_auth_by_token_then_capture(client: Any, runtime: Any, receiver: CallbackReceiver, token: str) -> None:
    assert post(client, AUTH_TOKEN, pay_body("hold-1", token=token)).status_code == 200
    [hold] = callbacks_after(runtime, receiver, 1)
    assert (hold["payment"]["status"], hold["operation"]["type"]) == ("awaiting capture", "auth")
    rejected(
        post(client, REFUND, refund_body("hold-1")),
        "3060",
        "Current payment or operation status does not allow this action",
    )
    capture = {"general": general("hold-1"), "payment": {"amount": 800, "currency": "EUR"}}
    assert post(client, CAPTURE, capture).status_code == 200
    [captured] = callbacks_after(runtime, receiver, 1)
    assert captured["payment"]["status"] == "success"
    assert (captured["operation"]["type"], captured["operation"]["sum_initial"]["amount"]) == ("capture", 800)
    rejected(post(client, CAPTURE, capture), "3060", "Current payment or operation status does not allow this action")
    rejected(
        post(client, CANCEL, {"general": general("hold-1")}),
        "3060",
        "Current payment or operation status does not allow this action",
    )
    assert post(client, REFUND, refund_body("hold-1")).status_code == 200
    [refund] = callbacks_after(runtime, receiver, 1)
    assert refund["payment"]["status"] == "refunded" and refund["operation"]["sum_initial"]["amount"] == 800


def test_auth_by_token_then_cancel(client: Any, runtime: Any, receiver: CallbackReceiver, token: str) -> None:
    assert post(client, AUTH_TOKEN, pay_body("hold-2", token=token)).status_code == 200
    over = {"general": general("hold-2"), "payment": {"amount": 1001, "currency": "EUR"}}
    rejected(post(client, CAPTURE, over), "502", "Validation error")
    assert post(client, CANCEL, {"general": general("hold-2")}).status_code == 200
    [_, cancelled] = callbacks_after(runtime, receiver, 2)
    assert (cancelled["payment"]["status"], cancelled["operation"]["type"]) == ("cancelled", "cancel")


def test_operations_on_an_unknown_payment_are_3061(client: Any) -> None:
    for path, body in (
        (CAPTURE, {"general": general("ghost"), "payment": {"amount": 1, "currency": "EUR"}}),
        (CANCEL, {"general": general("ghost")}),
        (REFUND, refund_body("ghost")),
        (THREE_DS_RESULT, {"general": general("ghost"), "pares": "x", "md": "y"}),
    ):
        response = post(client, path, body)
        if path == THREE_DS_RESULT:
            rejected(response, "502", "Validation error")  # a PaRes the ACS never issued
        else:
            rejected(response, "3061", "Transaction not found")


# -- the token's own rules ----------------------------------------------------------------------------


def test_unusable_tokens_are_refused_and_nothing_is_charged(
    client: Any, runtime: Any, receiver: CallbackReceiver, token: str
) -> None:
    revoked = tokenize(client, runtime, receiver, pan="5555555555554444")
    assert client.post(REVOKE, json=signed(token_body(revoked))).status_code == 200
    other_project = tokenize(client, runtime, receiver, project_id=12, customer="1707")
    runtime.callbacks.wait_idle()
    delivered = len(receiver.received)
    before = state_of(runtime)
    cases = [
        (pay_body("t-1", token="0" * 64), "3221", "Card token not found"),
        (pay_body("t-2", token=token, customer="someone-else"), "3241", "Customer not found"),
        (pay_body("t-3", token=revoked), "3027", "Invalid token provided"),
        (pay_body("t-4", token=other_project), "3221", "Card token not found"),
    ]
    for body, code, message in cases:
        for path in (SALE_TOKEN, AUTH_TOKEN, PAYOUT_TOKEN):
            rejected(post(client, path, body), code, message)
    assert state_of(runtime) == before and state_of(runtime)["payments"] == {}
    runtime.callbacks.wait_idle()
    assert len(receiver.received) == delivered


def test_expired_token_is_refused_with_3021(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    token = tokenize(client, runtime, receiver, year=2030, month=5)
    runtime.clock.advance(10 * 365 * 24 * 3600)
    rejected(post(client, SALE_TOKEN, pay_body("late", token=token)), "3021", "Card expired")
    assert state_of(runtime)["payments"] == {}


def test_token_of_project_12_pays_in_project_12(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    token = tokenize(client, runtime, receiver, project_id=12)
    body = pay_body("p12", token=token, project_id=12)
    assert client.post(SALE_TOKEN, json=signed_general(body, SECRET_12)).status_code == 200
    runtime.callbacks.wait_idle()
    assert_payment_callback(runtime, receiver.wait_for(2)[-1], SECRET_12)


# -- idempotency --------------------------------------------------------------------------------------


def test_repeated_payment_id_is_3041_and_charges_once(
    client: Any, runtime: Any, receiver: CallbackReceiver, token: str
) -> None:
    assert post(client, SALE_TOKEN, pay_body("once", token=token)).status_code == 200
    callbacks_after(runtime, receiver, 1)
    before = state_of(runtime)
    for path, body in (
        (SALE_TOKEN, pay_body("once", token=token)),
        (AUTH_TOKEN, pay_body("once", token=token, amount=5)),
        (SALE, pay_body("once")),
        (PAYOUT_TOKEN, pay_body("once", token=token)),
    ):
        rejected(post(client, path, body), "3041", "Payment ID already exists")
    assert state_of(runtime) == before
    assert [o["type"] for o in status(client, "once")["operations"]] == ["sale"]
    runtime.callbacks.wait_idle()
    assert len([r for r in receiver.received if b'"payment"' in r.body]) == 1


# -- card payments, test cards, declines -----------------------------------------------------------------


def test_card_sale_masks_the_card_everywhere(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    assert post(client, SALE, pay_body("card-1")).status_code == 200
    [sale] = callbacks_after(runtime, receiver, 1)
    assert sale["account"]["number"] == "431422******0056" and "token" not in sale["account"]
    dump = str(state_of(runtime))
    assert PAN not in dump and f"'{CVV}'" not in dump
    journal = str([entry.to_json() for entry in runtime.journal.query(provider="ecommpay")])
    assert PAN not in journal and f'"cvv": "{CVV}"' not in journal


def test_decline_card_calls_back_decline_with_its_code(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    token = tokenize(client, runtime, receiver, pan=DECLINE_PAN)
    assert post(client, SALE_TOKEN, pay_body("dec-1", token=token)).status_code == 200
    [declined] = callbacks_after(runtime, receiver, 1)
    assert declined["payment"]["status"] == "decline"
    assert (declined["operation"]["status"], declined["operation"]["code"]) == ("decline", "10105")
    assert declined["operation"]["message"] == "Insufficient funds on card"
    rejected(
        post(client, REFUND, refund_body("dec-1")),
        "3060",
        "Current payment or operation status does not allow this action",
    )


def test_card_sale_with_bad_card_data_is_refused(client: Any, runtime: Any) -> None:
    body = pay_body("bad-card")
    body["card"]["pan"] = "4314220000000057"  # Luhn fails
    rejected(post(client, SALE, body), "502", "Validation error")
    body = pay_body("bad-card", currency="eur")
    rejected(post(client, SALE, body), "3121", "Invalid currency")
    body = pay_body("bad-card")
    del body["card"]["cvv"]
    rejected(post(client, SALE, body), "2004", "Required field not provided")
    assert state_of(runtime) is None or state_of(runtime)["payments"] == {}


def test_payout_by_token(client: Any, runtime: Any, receiver: CallbackReceiver, token: str) -> None:
    assert post(client, PAYOUT_TOKEN, pay_body("out-1", token=token, amount=2500)).status_code == 200
    [payout] = callbacks_after(runtime, receiver, 1)
    assert (payout["payment"]["type"], payout["payment"]["status"]) == ("payout", "success")
    assert (payout["operation"]["type"], payout["operation"]["sum_initial"]["amount"]) == ("payout", 2500)
    rejected(
        post(client, REFUND, refund_body("out-1")),
        "3060",
        "Current payment or operation status does not allow this action",
    )


# -- 3-D Secure ----------------------------------------------------------------------------------------


def _acs_answer(client: Any, acs: dict[str, Any], *, authenticate: bool) -> tuple[str, str]:
    """Open the ACS page as the customer's browser does and read what the chosen button posts to the TermUrl."""
    path = re.sub(r"^https?://[^/]+", "", acs["acs_url"])
    page = client.post(path, data={"PaReq": acs["pa_req"], "MD": acs["md"], "TermUrl": "https://shop.example/3ds"})
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    form = html.split('id="acs-ok"' if authenticate else 'id="acs-fail"', 1)[1].split("</form>", 1)[0]
    assert 'action="https://shop.example/3ds"' in html
    md = re.search(r'name="MD" value="([^"]+)"', form).group(1)
    pares = re.search(r'name="PaRes" value="([^"]+)"', form).group(1)
    return pares, md


@pytest.mark.parametrize(("authenticate", "final", "code"), [(True, "success", "0"), (False, "decline", "104")])
def test_three_ds_token_sale_through_the_emulated_acs(
    client: Any, runtime: Any, receiver: CallbackReceiver, authenticate: bool, final: str, code: str
) -> None:
    token = tokenize(client, runtime, receiver, pan=THREE_DS_PAN)
    body = pay_body("3ds-1", token=token, return_url="https://shop.example/3ds")
    assert post(client, SALE_TOKEN, body).status_code == 200
    [waiting] = callbacks_after(runtime, receiver, 1)
    assert waiting["payment"]["status"] == waiting["operation"]["status"] == "awaiting 3ds result"
    acs = waiting["acs"]
    assert acs["term_url"] == "https://shop.example/3ds" and acs["acs_url"].endswith("/ecommpay-acs/" + acs["md"])
    assert status(client, "3ds-1")["acs"]["md"] == acs["md"]

    pares, md = _acs_answer(client, acs, authenticate=authenticate)
    assert md == acs["md"]
    tampered = {"general": general("3ds-1"), "pares": pares, "md": "f" * 32}
    rejected(post(client, THREE_DS_RESULT, tampered), "502", "Validation error")
    result = {"general": general("3ds-1"), "pares": pares, "md": md}
    assert post(client, THREE_DS_RESULT, result).status_code == 200
    [done] = callbacks_after(runtime, receiver, 1)
    assert (done["payment"]["status"], done["operation"]["status"], done["operation"]["code"]) == (final, final, code)
    assert "acs" not in done
    rejected(
        post(client, THREE_DS_RESULT, result), "3060", "Current payment or operation status does not allow this action"
    )
    assert client.get(re.sub(r"^https?://[^/]+", "", acs["acs_url"])).status_code == 404  # the session is over


def test_three_ds_card_auth_then_decline_after_authentication(
    client: Any, runtime: Any, receiver: CallbackReceiver
) -> None:
    body = pay_body("3ds-2", pan="4000000000003246")  # 3-D Secure, then insufficient funds
    assert post(client, AUTH, body).status_code == 200
    [waiting] = callbacks_after(runtime, receiver, 1)
    pares, md = _acs_answer(client, waiting["acs"], authenticate=True)
    assert post(client, THREE_DS_RESULT, {"general": general("3ds-2"), "pares": pares, "md": md}).status_code == 200
    [done] = callbacks_after(runtime, receiver, 1)
    assert (done["payment"]["status"], done["operation"]["code"]) == ("decline", "10105")


@pytest.mark.parametrize(
    ("pan", "three_ds", "status"),
    [
        ("4477000000000006", False, "success"),
        ("5252000000000012", False, "decline"),
        ("5413330000000035", True, "decline"),
    ],
)
def test_the_gates_documented_test_cards(
    client: Any, runtime: Any, receiver: CallbackReceiver, pan: str, three_ds: bool, status: str
) -> None:
    """docs/providers/ecommpay.md#test-cards: N3DS cards answer at once, a 3DS card after its challenge."""
    payment_id = f"doc-{pan[-4:]}"
    assert post(client, SALE, pay_body(payment_id, pan=pan)).status_code == 200
    [first] = callbacks_after(runtime, receiver, 1)
    if three_ds:
        assert "acs" in first
        pares, md = _acs_answer(client, first["acs"], authenticate=True)
        answer = post(client, THREE_DS_RESULT, {"general": general(payment_id), "pares": pares, "md": md})
        assert answer.status_code == 200
        [first] = callbacks_after(runtime, receiver, 1)
    assert first["payment"]["status"] == status
    assert first["operation"]["code"] == ("0" if status == "success" else "10201")


def test_acs_page_of_an_unknown_md_is_an_html_404(client: Any) -> None:
    page = client.get("/ecommpay-acs/nothing-here")
    assert page.status_code == 404 and page.content_type.startswith("text/html")


# -- automatic tokens -------------------------------------------------------------------------------------


AUTO = {"X-Payemu-Scenario": "ecommpay/auto-tokens"}


def test_auto_tokens_first_card_purchase_creates_the_token_then_reuses_it(
    client: Any, runtime: Any, receiver: CallbackReceiver
) -> None:
    assert post(client, SALE, pay_body("auto-1"), headers=AUTO).status_code == 200
    [first] = callbacks_after(runtime, receiver, 1)
    token = first["account"]["token"]
    assert re.fullmatch(r"[0-9a-f]{64}", token) and "token_created_at" in first["account"]
    [record] = state_of(runtime)["tokens"]
    assert (record["token"], record["status"], record["number"]) == (token, "active", "431422******0056")

    body = pay_body("auto-2")
    body["card"]["year"] = 2031  # the card was reissued: the same token, its expiry updated
    assert post(client, AUTH, body, headers=AUTO).status_code == 200
    [second] = callbacks_after(runtime, receiver, 1)
    assert second["account"]["token"] == token
    [record] = state_of(runtime)["tokens"]
    assert record["year"] == 2031

    assert post(client, SALE_TOKEN, pay_body("auto-3", token=token)).status_code == 200
    [by_token] = callbacks_after(runtime, receiver, 1)
    assert by_token["payment"]["status"] == "success"


def test_auto_tokens_off_by_default_and_never_for_a_decline(
    client: Any, runtime: Any, receiver: CallbackReceiver
) -> None:
    assert post(client, SALE, pay_body("plain")).status_code == 200
    assert post(client, SALE, pay_body("declined", pan=DECLINE_PAN), headers=AUTO).status_code == 200
    plain, declined = callbacks_after(runtime, receiver, 2)
    assert "token" not in plain["account"] and "token" not in declined["account"]
    assert state_of(runtime)["tokens"] == []


def test_auto_tokens_after_three_ds_success(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    body = pay_body("auto-3ds", pan=THREE_DS_PAN)
    assert post(client, SALE, body, headers=AUTO).status_code == 200
    [waiting] = callbacks_after(runtime, receiver, 1)
    assert "token" not in waiting["account"]
    pares, md = _acs_answer(client, waiting["acs"], authenticate=True)
    result = {"general": general("auto-3ds"), "pares": pares, "md": md}
    assert post(client, THREE_DS_RESULT, result, headers=AUTO).status_code == 200
    [done] = callbacks_after(runtime, receiver, 1)
    assert done["payment"]["status"] == "success" and re.fullmatch(r"[0-9a-f]{64}", done["account"]["token"])


# -- signatures on payment requests ------------------------------------------------------------------------


def test_payment_signature_canonicalisation_is_the_gates(client: Any, runtime: Any, token: str) -> None:
    """A float amount signs as PHP casts it (`1000.0` -> `1000`); the Python SDK's `1000.0` is refused."""
    from payment_page_sdk.signature_handler import SignatureHandler

    body = pay_body("float-1", token=token)
    body["payment"]["amount"] = 1000.0
    gate = signed_general(body)
    assert client.post(SALE_TOKEN, json=gate).status_code == 200
    sdk = pay_body("float-2", token=token)
    sdk["payment"]["amount"] = 1000.0
    sdk["general"]["signature"] = SignatureHandler("secret").sign(sdk)
    rejected(client.post(SALE_TOKEN, json=sdk), "3261", "Invalid signature")
    lenient = client.post(SALE_TOKEN, json=sdk, headers={"X-Payemu-Scenario": "ecommpay/lenient-signatures"})
    assert lenient.status_code == 200


def test_payment_requests_without_general_or_signature(client: Any) -> None:
    body = pay_body("x", token="0" * 64)
    unsigned = client.post(SALE_TOKEN, json=body)
    rejected(unsigned, "3262", "Empty signature")
    del body["general"]["project_id"]
    response = client.post(SALE_TOKEN, json=body)
    assert response.status_code == 400 and response.json["code"] == "2004"
    body = signed_general(pay_body("y", token="0" * 64), "wrong")
    rejected(client.post(SALE_TOKEN, json=body), "3261", "Invalid signature")


# -- scenarios ------------------------------------------------------------------------------------------


def test_payments_declined_scenario_declines_any_card(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    headers = {"X-Payemu-Scenario": "ecommpay/payments-declined"}
    assert post(client, SALE, pay_body("any-1"), headers=headers).status_code == 200
    [declined] = callbacks_after(runtime, receiver, 1)
    assert (declined["payment"]["status"], declined["operation"]["code"]) == ("decline", "10105")


def test_three_ds_required_scenario_asks_every_card(
    client: Any, runtime: Any, receiver: CallbackReceiver, token: str
) -> None:
    headers = {"X-Payemu-Scenario": "ecommpay/three-ds-required"}
    assert post(client, AUTH_TOKEN, pay_body("any-2", token=token), headers=headers).status_code == 200
    [waiting] = callbacks_after(runtime, receiver, 1)
    assert waiting["payment"]["status"] == "awaiting 3ds result" and waiting["acs"]["md"]


def test_concurrent_sales_with_one_payment_id_charge_once(
    app: Any, runtime: Any, receiver: CallbackReceiver, token: str
) -> None:
    import threading

    codes: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)
    body = signed_general(pay_body("race-1", token=token))

    def worker() -> None:
        client = app.test_client()
        start.wait()
        response = client.post(SALE_TOKEN, json=body)
        with lock:
            codes.append(response.status_code if response.status_code == 200 else int(response.json["code"]))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(codes) == [200] + [3041] * 7
    runtime.callbacks.wait_idle()
    assert len([r for r in receiver.wait_for(len(receiver.received)) if b'"operation"' in r.body]) == 1
    assert [o["type"] for o in status(app.test_client(), "race-1")["operations"]] == ["sale"]


def test_another_project_cannot_touch_a_payment(
    client: Any, runtime: Any, receiver: CallbackReceiver, token: str
) -> None:
    assert post(client, SALE_TOKEN, pay_body("mine", token=token)).status_code == 200
    body = refund_body("mine")
    body["general"]["project_id"] = 12
    response = client.post(REFUND, json=signed_general(body, SECRET_12))
    assert (response.status_code, response.json["code"], response.json["project_id"]) == (400, "3061", 12)
    status_12 = {"general": general("mine", 12)}
    answer = client.post(STATUS, json=signed_general(status_12, SECRET_12))
    assert answer.json["errors"][0]["code"] == 3061


def test_project_12_generates_tokens_automatically(client: Any, runtime: Any, receiver: CallbackReceiver) -> None:
    body = pay_body("p12-auto", project_id=12)
    assert client.post(SALE, json=signed_general(body, SECRET_12)).status_code == 200
    runtime.callbacks.wait_idle()
    paid = assert_payment_callback(runtime, receiver.wait_for(1)[0], SECRET_12)
    assert re.fullmatch(r"[0-9a-f]{64}", paid["account"]["token"])


@pytest.mark.parametrize("scenario", ["revoked-card", "token-expires"])
def test_token_scenarios_reach_payments_by_token(
    client: Any, runtime: Any, receiver: CallbackReceiver, token: str, scenario: str
) -> None:
    headers = {"X-Payemu-Scenario": f"ecommpay/{scenario}"}
    code = {"revoked-card": "3027", "token-expires": "3021"}[scenario]
    response = post(client, SALE_TOKEN, pay_body("scn-1", token=token), headers=headers)
    assert (response.status_code, response.json["code"]) == (400, code)
    assert state_of(runtime)["payments"] == {}
