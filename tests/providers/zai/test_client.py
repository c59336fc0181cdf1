"""ZaiClient against the live emulator (payemu_server), and against the real sandbox when credentials are set."""

from __future__ import annotations

import os
import uuid

import pytest

from emulator.clients.zai import (
    BadRequestError,
    NotFoundError,
    RateLimitError,
    ServerError,
    UnauthorizedError,
    ValidationError,
    ZaiClient,
    ZaiError,
)
from tests.providers.zai.conftest import BUYER, SELLER, TENANTS, A, B


def _client(server, tenant: str = A, **kwargs) -> ZaiClient:
    entry = TENANTS[tenant]
    return ZaiClient(server.url, entry["client_id"], entry["client_secret"], entry["scope"], **kwargs)


def test_client_full_flow_buyer_seller_card_and_bank_tokens(payemu_server):
    zai = _client(payemu_server)
    buyer = zai.create_user(**BUYER)
    seller = zai.create_user(id="seller-1", **SELLER)
    card = zai.generate_token(buyer["id"], token_type="card")
    bank = zai.generate_token(seller["id"])
    assert (card["token_type"], card["user_id"]) == ("card", buyer["id"])
    assert (bank["token_type"], bank["user_id"]) == ("bank", "seller-1")
    assert len(card["token"]) == len(bank["token"]) == 32
    assert zai.get_user("seller-1")["full_name"] == "Jane Smith"
    listing = zai.list_users(limit=1, offset=1)
    assert [u["id"] for u in listing["users"]] == ["seller-1"]
    assert listing["meta"] == {"limit": 1, "offset": 1, "total": 2}
    assert zai.token_requests == 1  # the token is cached across calls


def test_client_list_users_empty_marketplace(payemu_server):
    assert _client(payemu_server, B).list_users() == {
        "users": [],
        "meta": {"limit": 10, "offset": 0, "total": 0},
        "links": {"self": "/users?limit=10&offset=0"},
    }


def test_client_refreshes_token_60s_before_expiry(payemu_server):
    now = [1000.0]
    zai = _client(payemu_server, clock=lambda: now[0])
    zai.list_users()
    now[0] += 3539
    zai.list_users()
    assert zai.token_requests == 1
    now[0] += 2  # 3541 s: inside the last minute
    zai.list_users()
    assert zai.token_requests == 2


def test_client_refreshes_once_when_server_expires_token(payemu_server, payemu_admin):
    zai = _client(payemu_server)
    user = zai.create_user(**BUYER)
    payemu_admin.advance_clock(3601)  # the client's own clock has not moved: only a 401 tells it
    assert zai.generate_token(user["id"], "card")["token_type"] == "card"
    assert zai.token_requests == 2
    payemu_admin.assert_requested(2, provider="zai", operation="create_token_auth")


def test_client_token_expires_mid_flow_scenario(payemu_server, payemu_admin):
    zai = _client(payemu_server)
    user = zai.create_user(**SELLER)
    payemu_admin.activate("zai/token-expires-mid-flow")
    assert zai.generate_token(user["id"])["token_type"] == "bank"
    assert zai.token_requests == 2


def test_client_unknown_user_unauthorized_after_one_refresh(payemu_server):
    zai = _client(payemu_server)
    with pytest.raises(UnauthorizedError) as caught:
        zai.generate_token("ghost", "card")
    assert (caught.value.status, caught.value.message) == (401, "Not authorized to access that record.")
    assert caught.value.body == {"code": 405, "message": "Not authorized to access that record."}
    assert zai.token_requests == 2


def test_client_unknown_user_not_found_scenario(payemu_server, payemu_admin):
    payemu_admin.activate("zai/unknown-user-404")
    with pytest.raises(NotFoundError) as caught:
        _client(payemu_server).generate_token("ghost")
    assert (caught.value.status, caught.value.message) == (404, "user_id: not found")


def test_client_validation_error_carries_zai_message(payemu_server, payemu_admin):
    with pytest.raises(ValidationError) as caught:
        _client(payemu_server).create_user(email="notAnEmail")
    error = caught.value
    assert error.status == 422
    assert error.message == "address.country: can't be blank, firstname: can't be blank, email: is invalid"
    assert error.errors == {
        "address.country": ["can't be blank"],
        "firstname": ["can't be blank"],
        "email": ["is invalid"],
    }
    assert isinstance(error, ZaiError)


def test_client_refuses_bad_arguments_before_sending(payemu_server, payemu_admin):
    zai = _client(payemu_server)
    with pytest.raises(ValidationError, match="user_id is required"):
        zai.generate_token(" ")
    with pytest.raises(ValidationError, match="token_type must be one of"):
        zai.generate_token("u1", token_type="eui")
    with pytest.raises(ValidationError, match="at least 32 bytes"):
        zai.create_webhook_secret("short")
    payemu_admin.assert_requested(0, provider="zai")


def test_client_rate_limited(payemu_server, payemu_admin):
    zai = _client(payemu_server)
    user = zai.create_user(**BUYER)
    payemu_admin.activate("zai/rate-limited")
    with pytest.raises(RateLimitError) as caught:
        zai.generate_token(user["id"])
    assert (caught.value.status, caught.value.message) == (429, "Too Many Requests")


def test_client_server_errors(payemu_server, payemu_admin):
    zai = _client(payemu_server)
    payemu_admin.activate("zai/server-error")
    with pytest.raises(ServerError) as caught:
        zai.create_user(**BUYER)
    assert (caught.value.status, caught.value.message) == (500, "something went wrong")
    user = zai.create_user(**BUYER)
    with pytest.raises(ServerError) as caught:
        zai.generate_token(user["id"])
    assert (caught.value.status, caught.value.message) == (503, "Service Unavailable")


def test_client_bad_credentials(payemu_server):
    entry = TENANTS[A]
    with pytest.raises(UnauthorizedError) as caught:
        ZaiClient(payemu_server.url, entry["client_id"], "wrong", entry["scope"]).list_users()
    assert (caught.value.status, caught.value.message) == (401, "invalid credentials")
    with pytest.raises(ValidationError) as caught:
        ZaiClient(payemu_server.url, entry["client_id"], entry["client_secret"], TENANTS[B]["scope"]).list_users()
    assert caught.value.message == "invalid client details"
    with pytest.raises(BadRequestError) as caught:
        ZaiClient(payemu_server.url, entry["client_id"], entry["client_secret"], "").list_users()
    assert caught.value.message == "bad request"


def test_client_webhook_secret(payemu_server, payemu_admin):
    secret = "0123456789abcdef0123456789abcdef"
    assert _client(payemu_server).create_webhook_secret(secret) == {"secret_key": secret}
    assert payemu_admin.state("zai", A)[A]["webhook_secret"] == "[redacted]"


def test_client_verify_webhook_spec_vector():
    body = b'{"event":"status_updated"}'
    secret = "0123456789abcdef0123456789abcdef"
    assert ZaiClient.webhook_signature(body, secret, 1700000000) == "LYBSvXOvAnqidn9I5f0dgiskvEgHGJMa6QrB4TxtFL0"
    header = "t=1700000000,v=stale,v=LYBSvXOvAnqidn9I5f0dgiskvEgHGJMa6QrB4TxtFL0"
    assert ZaiClient.verify_webhook(body, header, secret, now=1700000299)
    with pytest.raises(ValueError, match="missing or invalid timestamp"):
        ZaiClient.verify_webhook(body, "v=abc", secret)


# -- the real sandbox ----------------------------------------------------------------------------------

LIVE = {name: os.environ.get(f"PAYEMU_LIVE_ZAI_{name}") for name in ("CLIENT_ID", "CLIENT_SECRET", "SCOPE")}


def _live_client(**options: str) -> ZaiClient:
    """A client of Zai's own sandbox, from the PAYEMU_LIVE_ZAI_* settings."""
    return ZaiClient(
        os.environ.get("PAYEMU_LIVE_ZAI_BASE_URL", "https://test.api.promisepay.com"),
        LIVE["CLIENT_ID"] or "",
        LIVE["CLIENT_SECRET"] or "",
        LIVE["SCOPE"] or "",
        auth_url=os.environ.get("PAYEMU_LIVE_ZAI_AUTH_URL", "https://au-0000.sandbox.auth.assemblypay.com"),
        timeout=30,
        **options,
    )


@pytest.mark.live
@pytest.mark.skipif(not all(LIVE.values()), reason="set PAYEMU_LIVE_ZAI_CLIENT_ID, _CLIENT_SECRET and _SCOPE")
def test_client_against_real_sandbox():
    zai = _live_client()
    run = uuid.uuid4().hex[:12]
    user = zai.create_user(**{**BUYER, "id": f"payemu-{run}", "email": f"payemu-{run}@example.com"})
    token = zai.generate_token(user["id"], "card")
    assert token["user_id"] == user["id"] and len(token["token"]) == 32
    assert zai.get_user(user["id"])["id"] == user["id"]


@pytest.mark.live
@pytest.mark.skipif(not all(LIVE.values()), reason="set PAYEMU_LIVE_ZAI_CLIENT_ID, _CLIENT_SECRET and _SCOPE")
def test_client_money_flow_against_real_sandbox():
    zai = _live_client(
        webhooks_url=os.environ.get("PAYEMU_LIVE_ZAI_WEBHOOKS_URL", "https://sandbox.au-0000.api.assemblypay.com")
    )
    _money_flow(zai, uuid.uuid4().hex[:12], webhook_url=None, browser=False)  # the documented server-side create


# -- the money flow (docs/providers/zai.md#card-accounts … #webhook-subscriptions) ------------------------------

CARD = {"full_name": "Bella Buyer", "number": "4111111111111111", "expiry_month": 12, "expiry_year": 2035, "cvv": "123"}


def _money_flow(zai: ZaiClient, run: str, *, webhook_url: str | None, browser: bool = True) -> dict:
    """buyer + seller -> token auth -> card account (browser side, or server side) -> item -> payment -> refund."""
    buyer = zai.create_user(**{**BUYER, "id": f"buyer-{run}", "email": f"buyer-{run}@example.com"})
    seller = zai.create_user(**{**SELLER, "id": f"seller-{run}", "email": f"seller-{run}@example.com"})
    hook = zai.create_webhook(webhook_url, "items") if webhook_url else None
    token = zai.generate_token(buyer["id"], "card")["token"]
    if browser:
        card = zai.create_card_account_with_token(token, **CARD)
        with pytest.raises(ValidationError):
            zai.create_card_account_with_token(token, **CARD)  # a token auth makes one account
    else:
        card = zai.create_card_account(buyer["id"], **CARD)
    assert zai.get_card_account(card["id"])["card"]["number"] == "XXXX-XXXX-XXXX-1111"
    item = zai.create_item(
        id=f"item-{run}", name="Garden", amount=1000, payment_type=2, buyer_id=buyer["id"], seller_id=seller["id"]
    )
    assert item["state"] == "pending"
    paid = zai.make_payment(item["id"], card["id"], ip_address="127.0.0.1", device_id="payemu-device")
    assert paid["state"] in ("completed", "payment_deposited")
    refunded = zai.refund(item["id"], refund_amount=1000, refund_message="test")
    assert refunded["state"] in ("refunded", "refund_pending", "refund_flagged")
    return {"buyer": buyer, "seller": seller, "card": card, "item": item, "hook": hook}


def test_client_money_flow_against_payemu(payemu_server, payemu_receiver):
    zai = _client(payemu_server)
    zai.create_webhook_secret("w" * 32)
    flow = _money_flow(zai, "1", webhook_url=payemu_receiver.url + "/zai")
    assert zai.user_wallet_account(flow["seller"]["id"])["balance"] == 0  # paid 1000, refunded 1000
    assert [t["type"] for t in zai.item_transactions(flow["item"]["id"])] == ["payment", "release", "refund", "refund"]
    assert zai.item_status(flow["item"]["id"]) == {"id": "item-1", "status": 22600, "state": "refunded"}
    received = payemu_receiver.wait_for(3)  # created, paid, refunded
    states = [r.json()["items"]["state"] for r in received]
    assert states == ["pending", "completed", "refunded"]
    for got in received:
        assert ZaiClient.verify_webhook(got.body, got.headers["webhooks-signature"], "w" * 32)
    jobs = zai.list_webhook_jobs(flow["hook"]["id"], object_id="item-1")
    assert len(jobs) == 3


def test_client_card_and_bank_server_side_authorize_capture_void(payemu_server):
    zai = _client(payemu_server)
    zai.create_user(**{**BUYER, "id": "b1"})
    zai.create_user(**{**SELLER, "id": "s1"})
    card = zai.create_card_account("b1", **CARD)
    bank = zai.create_bank_account(
        "s1",
        bank_name="Bank",
        account_name="Sam",
        routing_number="123123",
        account_number="12341234",
        account_type="checking",
        holder_type="business",
        country="AUS",
    )
    assert zai.get_bank_account(bank["id"], include_decrypted_fields=True)["bank"]["account_number"] == "12341234"
    assert zai.set_disbursement_account("s1", bank["id"])["code"] == 801
    zai.create_item(id="i1", name="n", amount=700, payment_type=2, buyer_id="b1", seller_id="s1")
    assert zai.authorize_payment("i1", card["id"])["state"] == "payment_authorized"
    assert zai.capture_payment("i1", amount=500)["state"] == "completed"
    zai.create_item(id="i2", name="n", amount=700, payment_type=2, buyer_id="b1", seller_id="s1")
    zai.authorize_payment("i2", card["id"])
    assert zai.void_payment("i2")["state"] == "voided"
    zai.create_item(id="i3", name="n", amount=700, payment_type=1, buyer_id="b1", seller_id="s1")
    assert zai.cancel_item("i3")["state"] == "cancelled"
    with pytest.raises(ValidationError) as caught:
        zai.make_payment("i3", card["id"])
    assert caught.value.errors == {"base": ["cannot make a payment on an item that is cancelled"]}
    assert zai.delete_card_account(card["id"])["code"] == 808
    assert zai.list_items()["meta"]["total"] == 3
