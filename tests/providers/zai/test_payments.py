"""Zai's money flow over HTTP: card and bank accounts from token auths, items and their state machine, wallets,
transactions, webhook subscriptions and their signed, retried deliveries (docs/providers/zai.md)."""

from __future__ import annotations

import json

import pytest

from emulator.clients.zai import ZaiClient
from tests.providers.zai.conftest import BUYER, SELLER, B, bearer, state_of, token_for

CARD = {"full_name": "John Doe", "number": "4111111111111111", "expiry_month": 12, "expiry_year": 2030, "cvv": "123"}
RECORD_401 = {"code": 405, "message": "Not authorized to access that record."}
SECRET = "s" * 40


@pytest.fixture
def h(client) -> dict[str, str]:
    """Bearer headers of marketplace-a with a buyer (`buyer-1`) and a seller (`seller-1`)."""
    headers = bearer(token_for(client))
    assert client.post("/users", json={**BUYER, "id": "buyer-1"}, headers=headers).status_code == 201
    assert client.post("/users", json={**SELLER, "id": "seller-1"}, headers=headers).status_code == 201
    return headers


def _card_token(client, h, user_id="buyer-1") -> str:
    response = client.post("/token_auths", json={"user_id": user_id, "token_type": "card"}, headers=h)
    return response.json["token_auth"]["token"]


def _card(client, h, number="4111111111111111", user_id="buyer-1") -> str:
    response = client.post("/card_accounts", json={**CARD, "user_id": user_id, "number": number}, headers=h)
    assert response.status_code == 201, response.json
    return response.json["card_accounts"]["id"]


def _item(client, h, item_id="item-1", payment_type=2, amount=500) -> dict:
    body = {"id": item_id, "name": "Lawn", "amount": amount, "payment_type": payment_type}
    response = client.post("/items", json={**body, "buyer_id": "buyer-1", "seller_id": "seller-1"}, headers=h)
    assert response.status_code == 201, response.json
    return response.json["items"]


def _wallet(client, h, user_id) -> int:
    return client.get(f"/users/{user_id}/wallet_accounts", headers=h).json["wallet_accounts"]["balance"]


# -- card accounts ------------------------------------------------------------------------------------------------


def test_card_account_from_token_is_single_use_and_masked(client, runtime, h):
    token = _card_token(client, h)
    created = client.post("/card_accounts", json={**CARD, "card_token": token})  # the browser: no bearer
    assert created.status_code == 201
    account = created.json["card_accounts"]
    assert list(account) == ["active", "created_at", "updated_at", "id", "currency", "links"]  # (code, recorded)
    assert created.headers["Location"] == f"/card_accounts/{account['id']}"
    again = client.post("/card_accounts", json={**CARD, "card_token": token})
    assert (again.status_code, again.json) == (422, {"errors": {"card_token": ["has already been used"]}})
    shown = client.get(f"/card_accounts/{account['id']}", headers=h).json["card_accounts"]
    assert shown["card"] == {
        "type": "visa",
        "full_name": "John Doe",
        "number": "XXXX-XXXX-XXXX-1111",
        "expiry_month": "12",
        "expiry_year": "2030",
    }
    assert client.get(f"/card_accounts/{account['id']}/users", headers=h).json["users"]["id"] == "buyer-1"
    dumped = json.dumps(client.get("/__admin/state/zai").json) + json.dumps(client.get("/__admin/requests").json)
    assert "4111111111111111" not in dumped and '"123"' not in dumped


def test_card_token_expires_on_the_virtual_clock(client, runtime, h):
    token = _card_token(client, h)
    runtime.clock.advance(3600)
    expired = client.post("/card_accounts", json={**CARD, "card_token": token})
    assert (expired.status_code, expired.json) == (422, {"errors": {"card_token": ["has expired"]}})
    assert state_of(runtime).card_accounts == {}


def test_card_token_of_another_type_or_user_is_refused(client, h):
    bank = client.post("/token_auths", json={"user_id": "buyer-1"}, headers=h).json["token_auth"]["token"]
    refused = client.post("/card_accounts", json={**CARD, "card_token": bank})
    assert (refused.status_code, refused.json) == (422, {"errors": {"card_token": ["is invalid"]}})
    other = client.post("/card_accounts", json={**CARD, "card_token": _card_token(client, h), "user_id": "seller-1"})
    assert other.json == {"errors": {"card_token": ["is invalid"]}}
    unknown = client.post("/card_accounts", json={**CARD, "card_token": "0" * 32})
    assert (unknown.status_code, unknown.json) == (422, {"errors": {"card_token": ["is invalid"]}})


def test_card_token_of_another_marketplace_cannot_be_seen(client, h):
    token = _card_token(client, h)
    account = client.post("/card_accounts", json={**CARD, "card_token": token}).json["card_accounts"]
    other = bearer(token_for(client, B))
    assert client.get(f"/card_accounts/{account['id']}", headers=other).json == RECORD_401


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"user_id": None}, {"user_id": ["required field missing"]}),  # (code, recorded) only this one
        ({"number": "4111111111111112"}, {"number": ["is not a valid credit card number"]}),
        ({"expiry_month": 13}, {"expiry_month": ["is invalid"]}),
        ({"expiry_year": 2020}, {"card": ["card has expired"]}),
        ({"cvv": "12"}, {"cvv": ["is invalid"]}),
        ({"full_name": "John"}, {"full_name": ["must contain a space"]}),
        ({"number": None, "cvv": None}, {"number": ["required field missing"], "cvv": ["required field missing"]}),
    ],
)
def test_card_account_validation_changes_nothing(client, runtime, h, change, errors):
    response = client.post("/card_accounts", json={**CARD, "user_id": "buyer-1", **change}, headers=h)
    assert (response.status_code, response.json) == (422, {"errors": errors})
    assert state_of(runtime).card_accounts == {}


def test_card_account_reads_and_redaction(client, h):
    assert client.get("/card_accounts/not_an_id", headers=h).json == {"errors": {"id": ["invalid format"]}}
    unknown = client.get("/card_accounts/25d34744-8ef0-46a4-8b18-2a8322933cd0", headers=h)
    assert (unknown.status_code, unknown.json) == (401, RECORD_401)  # (code, recorded)
    assert client.get("/users/buyer-1/card_accounts", headers=h).json == {"errors": {"account": ["no account found"]}}
    card = _card(client, h)
    assert client.get("/users/buyer-1/card_accounts", headers=h).json["card_accounts"]["id"] == card
    deleted = client.delete(f"/card_accounts/{card}", headers=h)
    assert (deleted.status_code, deleted.json) == (200, {"code": 808, "message": "Successfully redacted account."})
    assert client.get(f"/card_accounts/{card}", headers=h).json["card_accounts"]["active"] is False
    _item(client, h)
    paid = client.patch("/items/item-1/make_payment", json={"account_id": card}, headers=h)
    assert (paid.status_code, paid.json) == (422, {"errors": {"account_id": ["is not active"]}})


# -- bank accounts ------------------------------------------------------------------------------------------------

AU_BANK = {
    "bank_name": "myBank",
    "account_name": "myAccount",
    "routing_number": "123123",
    "account_number": "12341234",
    "account_type": "savings",
    "holder_type": "personal",
    "country": "AUS",
}


def test_bank_account_au_masked_decrypted_and_disbursement(client, h):
    created = client.post("/bank_accounts", json={**AU_BANK, "user_id": "seller-1"}, headers=h)
    assert created.status_code == 201
    bank = created.json["bank_accounts"]
    assert bank["bank"]["routing_number"] == "XXXXX3" and bank["bank"]["account_number"] == "XXX234"  # recorded
    full = client.get(f"/bank_accounts/{bank['id']}?include_decrypted_fields=true", headers=h).json["bank_accounts"]
    assert (full["bank"]["routing_number"], full["bank"]["account_number"]) == ("123123", "12341234")
    assert client.get("/users/seller-1/bank_accounts", headers=h).json["bank_accounts"]["id"] == bank["id"]
    set_ = client.patch("/users/seller-1/disbursement_account", json={"account_id": bank["id"]}, headers=h)
    assert set_.json == {"code": 801, "message": "Successfully updated user."}
    foreign = client.patch("/users/buyer-1/disbursement_account", json={"account_id": bank["id"]}, headers=h)
    assert foreign.json == {"errors": {"account_id": ["is invalid"]}}
    deleted = client.delete(f"/bank_accounts/{bank['id']}", headers=h)
    assert deleted.json == {"code": 808, "message": "Successfully redacted account"}  # (code, recorded) no "."


def test_bank_account_uk_needs_iban_and_swift_and_from_a_bank_token(client, h):
    uk = {**AU_BANK, "user_id": "seller-1", "country": "GBR"}
    missing = client.post("/bank_accounts", json=uk, headers=h)
    assert missing.json == {"errors": {"iban": ["required field missing"], "swift_code": ["required field missing"]}}
    token = client.post("/token_auths", json={"user_id": "seller-1"}, headers=h).json["token_auth"]["token"]
    body = {**uk, "iban": "GB33BUKB20201555555555", "swift_code": "BUKBGB22", "bank_token": token}
    del body["user_id"]
    created = client.post("/bank_accounts", json=body)
    assert created.status_code == 201 and created.json["bank_accounts"]["bank"]["iban"].endswith("5555")


def test_routing_number_lookup_as_recorded(client, h):
    known = client.get("/tools/routing_number?routing_number=122235821", headers=h)
    assert known.json["routing_number"]["customer_name"] == "US BANK NA"
    unknown = client.get("/tools/routing_number?routing_number=111", headers=h)
    assert (unknown.status_code, unknown.get_data()) == (404, b"null")


# -- items and their state machine --------------------------------------------------------------------------------


def test_express_payment_completes_and_pays_the_seller(client, h):
    item = _item(client, h)
    assert (item["state"], item["status"], item["links"]["self"]) == ("pending", 22000, "/items")
    paid = client.patch("/items/item-1/make_payment", json={"account_id": _card(client, h)}, headers=h)
    body = paid.json["items"]
    assert (body["state"], body["status"], body["payment_method"]) == ("completed", 22500, "credit card")
    assert body["links"]["self"] == "/items/item-1/make_payment"
    assert _wallet(client, h, "seller-1") == 500
    kinds = [t["type"] for t in client.get("/items/item-1/transactions", headers=h).json["transactions"]]
    assert kinds == ["payment", "release"]
    status = client.get("/items/item-1/status", headers=h).json
    assert status == {"items": {"id": "item-1", "status": 22500, "state": "completed"}}


def test_escrow_payment_is_deposited_then_released(client, h):
    _item(client, h, payment_type=1)
    paid = client.patch("/items/item-1/make_payment", json={"account_id": _card(client, h)}, headers=h)
    assert paid.json["items"]["state"] == "payment_deposited" and _wallet(client, h, "seller-1") == 0
    released = client.patch("/items/item-1/release_payment", json={}, headers=h)
    assert released.json["items"]["state"] == "completed" and _wallet(client, h, "seller-1") == 500


def test_refunds_partial_then_full_and_never_more_than_paid(client, runtime, h):
    _item(client, h)
    client.patch("/items/item-1/make_payment", json={"account_id": _card(client, h)}, headers=h)
    part = client.patch("/items/item-1/refund", json={"refund_amount": 200, "refund_message": "late"}, headers=h)
    body = part.json["items"]
    assert (body["state"], body["refunded_amount"], body["net_amount"]) == ("completed", 200, 300)
    assert (body["refund_message"], body["refund_amount"]) == ("late", 200)
    too_much = client.patch("/items/item-1/refund", json={"refund_amount": 301}, headers=h)
    assert (too_much.status_code, too_much.json) == (
        422,
        {"errors": {"refund_amount": ["must be less than or equal to 300"]}},
    )
    assert state_of(runtime).items["item-1"].refunded_amount == 200
    rest = client.patch("/items/item-1/refund", json={}, headers=h).json["items"]
    assert (rest["state"], rest["status"], rest["net_amount"]) == ("refunded", 22600, 0)  # (code, recorded)
    assert _wallet(client, h, "seller-1") == 0


def test_refund_needs_the_sellers_wallet_to_cover_it(client, runtime, h):
    _item(client, h)
    client.patch("/items/item-1/make_payment", json={"account_id": _card(client, h)}, headers=h)
    state_of(runtime).wallet_of("seller-1").balance = 100  # the seller was paid out meanwhile
    refused = client.patch("/items/item-1/refund", json={}, headers=h)
    assert (refused.status_code, refused.json) == (
        422,
        {"errors": {"base": ["insufficient funds in the wallet account"]}},
    )
    assert state_of(runtime).items["item-1"].state == "completed"


def test_cancel_then_no_payment(client, h):
    _item(client, h)
    cancelled = client.patch("/items/item-1/cancel", headers=h).json["items"]
    assert (cancelled["state"], cancelled["status"]) == ("cancelled", 22575)  # (code, recorded)
    paid = client.patch("/items/item-1/make_payment", json={"account_id": _card(client, h)}, headers=h)
    assert (paid.status_code, paid.json) == (
        422,
        {"errors": {"base": ["cannot make a payment on an item that is cancelled"]}},
    )
    again = client.patch("/items/item-1/cancel", headers=h)
    assert again.json == {"errors": {"base": ["cannot cancel an item that is cancelled"]}}


def test_payment_with_another_users_account_or_a_declined_card_changes_nothing(client, runtime, h):
    _item(client, h)
    sellers = _card(client, h, user_id="seller-1")
    foreign = client.patch("/items/item-1/make_payment", json={"account_id": sellers}, headers=h)
    assert foreign.json == {"errors": {"account_id": ["does not belong to the buyer"]}}
    declined = client.patch(
        "/items/item-1/make_payment", json={"account_id": _card(client, h, "4000000000000002")}, headers=h
    )
    assert (declined.status_code, declined.json) == (422, {"errors": {"base": ["Payment failed: card declined"]}})
    item = state_of(runtime).items["item-1"]
    assert (item.state, item.transaction_ids, _wallet(client, h, "seller-1")) == ("pending", [], 0)


def test_three_d_secure_card_needs_the_async_payment(client, h, runtime):
    _item(client, h)
    card = _card(client, h, "4000000000003220")
    sync = client.patch("/items/item-1/make_payment", json={"account_id": card}, headers=h)
    assert sync.status_code == 422 and "3D Secure" in sync.json["errors"]["base"][0]
    started = client.patch("/items/item-1/make_payment_async", json={"account_id": card}, headers=h).json
    assert list(started) == ["payment_id", "account_id", "payment_token", "items"]
    assert started["account_id"] == card and started["items"]["state"] == "pending"
    done = client.post("/__admin/actions/zai/marketplace-a/three_d_secure", json={"item_id": "item-1"})
    assert done.status_code == 200
    assert client.get("/items/item-1", headers=h).json["items"]["state"] == "completed"


def test_authorize_capture_and_void(client, h):
    card = _card(client, h)
    _item(client, h, "auth-1", amount=1000)
    authorized = client.patch("/items/auth-1/authorize_payment", json={"account_id": card}, headers=h).json["items"]
    assert (authorized["state"], authorized["status"]) == ("payment_authorized", 22180)
    over = client.patch("/items/auth-1/capture_payment", json={"amount": 1001}, headers=h)
    assert over.json == {"errors": {"amount": ["must be less than or equal to 1000"]}}
    captured = client.patch("/items/auth-1/capture_payment", json={"amount": 600}, headers=h).json["items"]
    assert captured["state"] == "completed" and _wallet(client, h, "seller-1") == 600
    _item(client, h, "auth-2")
    client.patch("/items/auth-2/authorize_payment", json={"account_id": card}, headers=h)
    voided = client.patch("/items/auth-2/void_payment", headers=h).json["items"]
    assert (voided["state"], voided["status"]) == ("voided", 22195)
    assert client.patch("/items/auth-2/capture_payment", headers=h).status_code == 422


def test_wallet_payment_needs_funds_and_refund_returns_them(client, h):
    _item(client, h)
    wallet = client.get("/users/buyer-1/wallet_accounts", headers=h).json["wallet_accounts"]["id"]
    poor = client.patch("/items/item-1/make_payment", json={"account_id": wallet}, headers=h)
    assert poor.json == {"errors": {"base": ["insufficient funds in the wallet account"]}}
    client.post("/__admin/actions/zai/marketplace-a/deposit", json={"user_id": "buyer-1", "amount": 800})
    assert client.patch("/items/item-1/make_payment", json={"account_id": wallet}, headers=h).status_code == 200
    assert (_wallet(client, h, "buyer-1"), _wallet(client, h, "seller-1")) == (300, 500)
    client.patch("/items/item-1/refund", json={}, headers=h)
    assert (_wallet(client, h, "buyer-1"), _wallet(client, h, "seller-1")) == (800, 0)


def test_direct_debit_is_pending_until_it_clears(client, h):
    _item(client, h)
    bank = client.post("/bank_accounts", json={**AU_BANK, "user_id": "buyer-1"}, headers=h).json["bank_accounts"]["id"]
    pending = client.patch("/items/item-1/make_payment", json={"account_id": bank}, headers=h).json["items"]
    assert (pending["state"], pending["status"], pending["payment_method"]) == (
        "payment_pending",
        22150,
        "direct debit",
    )
    client.post("/__admin/actions/zai/marketplace-a/clear_direct_debit", json={"item_id": "item-1"})
    assert client.get("/items/item-1", headers=h).json["items"]["state"] == "completed"


def test_item_validation_and_reads(client, h):
    created = client.post("/items", json={"id": "x"}, headers=h)
    assert created.json["errors"]["name"] == ["required field missing"]
    cheap = {"id": "c", "name": "n", "amount": 1, "payment_type": 2, "buyer_id": "buyer-1", "seller_id": "seller-1"}
    assert client.post("/items", json=cheap, headers=h).json == {
        "errors": {"cost": ["must be greater than or equal to 100"]}
    }
    _item(client, h)
    assert client.post("/items", json={**cheap, "id": "item-1", "amount": 500}, headers=h).json == {
        "errors": {"base": ["item with this id already exists"]}  # (code, recorded)
    }
    assert client.get("/items/unkown_id", headers=h).json == RECORD_401
    assert client.get("/items", headers=h).json["meta"] == {"limit": 10, "offset": 0, "total": 1}
    assert client.get("/users/seller-1/items", headers=h).json["items"][0]["id"] == "item-1"
    assert client.get("/items/item-1/buyers", headers=h).json["users"]["links"]["self"] == "/items/item-1/buyers"
    wire = client.get("/items/item-1/wire_details", headers=h).json["items"]["wire_details"]
    assert (
        wire["amount"] == "$5.00"
        and wire["reference"] == client.get("/items/item-1", headers=h).json["items"]["deposit_reference"]
    )
    updated = client.patch("/items/item-1", json={"name": "Hedge"}, headers=h).json["items"]
    assert updated["name"] == "Hedge"
    assert client.delete("/items/item-1", headers=h).json == {"items": "Successfully redacted"}


def test_second_user_with_a_taken_email(client, runtime, h):
    again = client.post("/users", json={**BUYER, "id": "buyer-2", "email": "BUYER@example.com"}, headers=h)
    assert (again.status_code, again.json) == (422, {"errors": {"email": ["has already been taken"]}})
    assert "buyer-2" not in state_of(runtime).users


def test_core_responses_carry_x_runtime(client, h):
    response = client.get("/users/buyer-1", headers=h)
    assert float(response.headers["X-Runtime"]) >= 0 and len(response.headers["X-Runtime"].split(".")[1]) == 6


# -- webhooks -----------------------------------------------------------------------------------------------------


def test_webhook_crud_and_one_enabled_per_object_type(client, h):
    created = client.post("/webhooks", json={"url": "https://example.com/h", "object_type": "items"}, headers=h)
    assert created.status_code == 201
    hook = created.json["webhooks"]
    clash = client.post("/webhooks", json={"url": "https://example.com/2", "object_type": "items"}, headers=h)
    assert clash.json == {"errors": {"object_type": ["has already been taken"]}}
    off = {"url": "https://example.com/2", "object_type": "items", "enabled": False}
    assert client.post("/webhooks", json=off, headers=h).status_code == 201
    bad = client.post("/webhooks", json={"url": "ftp://x", "object_type": "nope"}, headers=h)
    assert bad.json == {"errors": {"url": ["is invalid"], "object_type": ["is not included in the list"]}}
    assert client.get("/webhooks", headers=h).json["meta"]["total"] == 2
    patched = client.patch(f"/webhooks/{hook['id']}", json={"enabled": False, "description": "d"}, headers=h)
    assert patched.json["webhooks"]["enabled"] is False
    assert client.delete(f"/webhooks/{hook['id']}", headers=h).json == {"webhooks": "Successfully redacted"}
    assert client.get(f"/webhooks/{hook['id']}", headers=h).status_code == 404


def test_item_webhook_is_signed_retried_and_listed_as_jobs(client, runtime, h, payemu_receiver):
    assert client.post("/webhooks/secret_key", json={"secret_key": SECRET}, headers=h).status_code == 201
    body = {"url": payemu_receiver.url + "/zai", "object_type": "items"}
    hook = client.post("/webhooks", json=body, headers=h).json["webhooks"]
    payemu_receiver.statuses.extend([500])  # the endpoint fails once, then recovers
    _item(client, h)
    [first] = payemu_receiver.wait_for(1)
    assert first.json()["items"]["state"] == "pending"
    assert ZaiClient.verify_webhook(first.body, first.headers["webhooks-signature"], SECRET, now=runtime.clock.now())
    assert runtime.callbacks.wait_settled(5)  # the failed attempt is recorded and its retry queued
    jobs = client.get(f"/webhooks/{hook['id']}/jobs", headers=h).json["jobs"]
    assert [j["status"] for j in jobs] == ["pending"]  # retried in a minute (the virtual clock's)
    runtime.clock.advance(61)
    payemu_receiver.wait_for(2)
    assert runtime.callbacks.wait_settled(5)
    [job] = client.get(f"/webhooks/{hook['id']}/jobs?status=success", headers=h).json["jobs"]
    assert job["object_id"] == "item-1" and job["payload"]["items"]["id"] == "item-1"
    [delivery] = runtime.callbacks.list(provider="zai")
    assert [a.status for a in delivery.attempts] == [500, 200]


def test_browser_preflight_allows_the_card_post(client):
    response = client.options(
        "/card_accounts", headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"}
    )
    assert (response.status_code, response.get_data()) == (200, b"")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


def test_request_refund_then_decline_or_refund(client, runtime, h):
    _item(client, h, payment_type=1)
    client.patch("/items/item-1/make_payment", json={"account_id": _card(client, h)}, headers=h)
    asked = client.patch(
        "/items/item-1/request_refund", json={"refund_amount": 500, "refund_message": "because"}, headers=h
    )
    body = asked.json["items"]
    assert (body["state"], body["status"], body["refund_amount"], body["refunded_amount"]) == (
        "refund_flagged",
        22650,
        500,
        0,
    )
    declined = client.patch("/items/item-1/decline_refund", headers=h).json["items"]
    assert (declined["state"], declined["status"]) == ("payment_deposited", 22200)  # (code, recorded)
    client.patch("/items/item-1/request_refund", json={}, headers=h)
    refunded = client.patch("/items/item-1/refund", json={}, headers=h).json["items"]
    assert refunded["state"] == "refunded"
    assert client.patch("/items/item-1/decline_refund", headers=h).status_code == 422


def test_wallet_transactions(client, h):
    wallet = client.get("/users/seller-1/wallet_accounts", headers=h).json["wallet_accounts"]["id"]
    assert "transactions" not in client.get(f"/wallet_accounts/{wallet}/transactions", headers=h).json
    _item(client, h)
    client.patch("/items/item-1/make_payment", json={"account_id": _card(client, h)}, headers=h)
    [release] = client.get(f"/wallet_accounts/{wallet}/transactions", headers=h).json["transactions"]
    assert (release["type"], release["debit_credit"], release["amount"]) == ("release", "credit", 500)
