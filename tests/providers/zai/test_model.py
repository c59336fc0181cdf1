"""Zai's model rules called directly with a fixed `now` (no HTTP)."""

from __future__ import annotations

import pytest

from emulator.core.tenants import Tenant
from emulator.providers.zai import callbacks, errors
from emulator.providers.zai.model import ZaiState, token_type_for_wire, validate_user

NOW = 1_700_000_000.0
BUYER = {"email": "buyer@example.com", "first_name": "John", "country": "USA"}


@pytest.fixture
def state() -> ZaiState:
    return ZaiState(Tenant("zai", "t1", {"id": "t1", "client_id": "c", "client_secret": "s", "scope": "x"}))


def test_webhook_signature_matches_spec_vector():
    # docs/providers/zai.md#webhooks, computed vector
    body = b'{"event":"status_updated"}'
    assert callbacks.signature("0123456789abcdef0123456789abcdef", 1700000000, body) == (
        "LYBSvXOvAnqidn9I5f0dgiskvEgHGJMa6QrB4TxtFL0"
    )
    assert callbacks.encode({"event": "status_updated"}) == body
    assert callbacks.signature_header("0123456789abcdef0123456789abcdef", 1700000000, body) == (
        "t=1700000000,v=LYBSvXOvAnqidn9I5f0dgiskvEgHGJMa6QrB4TxtFL0"
    )


def test_validate_user_recorded_order():
    assert list(validate_user({"email": "notAnEmail", "id": "a.b"})) == ["id", "address.country", "firstname", "email"]


def test_a_taken_email_is_found_in_a_state_stored_before_the_email_index(state):
    state.create_user(BUYER, now=NOW, new_id="gen-1", address_id="addr")
    state.user_emails = set()  # as a state written before the field existed decodes
    with pytest.raises(errors.ValidationFailed):
        state.create_user({**BUYER, "email": "Buyer@Example.com"}, now=NOW, new_id="gen-2", address_id="addr")
    assert list(state.users) == ["gen-1"] and state.user_emails == {"buyer@example.com"}


def test_create_user_generated_and_own_ids(state):
    generated = state.create_user(BUYER, now=NOW, new_id="gen-1", address_id="addr")
    own = state.create_user(
        {**BUYER, "id": "mine", "email": "own@example.com"}, now=NOW + 1, new_id="gen-2", address_id="addr"
    )
    assert (generated.id, own.id) == ("gen-1", "mine")
    assert list(state.users) == ["gen-1", "mine"]
    assert generated.to_wire()["created_at"] == "2023-11-14T22:13:20.000Z"


def test_create_user_duplicate_id_changes_nothing(state):
    state.create_user({**BUYER, "id": "u1"}, now=NOW, new_id="x", address_id="a")
    with pytest.raises(errors.ValidationFailed) as caught:
        state.create_user({**BUYER, "id": "u1", "email": "other@example.com"}, now=NOW, new_id="y", address_id="b")
    assert caught.value.body(NOW) == {"errors": {"base": ["user with this id already exists"]}}
    assert state.users["u1"].email == "buyer@example.com"


def test_get_user_unknown_styles(state):
    with pytest.raises(errors.RecordNotAuthorized) as recorded:
        state.get_user("nope", unknown_user_style="recorded")
    assert (recorded.value.status, recorded.value.body(NOW)) == (
        401,
        {"code": 405, "message": errors.MSG_NOT_AUTHORIZED_RECORD},
    )
    with pytest.raises(errors.RecordNotFound) as not_found:
        state.get_user("nope", unknown_user_style="not_found", field="user_id")
    assert (not_found.value.status, not_found.value.body(NOW)) == (404, {"errors": {"user_id": ["not found"]}})


def test_list_users_paging_and_search(state):
    for n in range(4):
        state.create_user({**BUYER, "id": f"u{n}", "email": f"p{n}@example.com"}, now=NOW, new_id="-", address_id="a")
    page, total = state.list_users(limit=2, offset=1, search=None)
    assert ([u.id for u in page], total) == (["u1", "u2"], 4)
    page, total = state.list_users(limit=10, offset=0, search="P3@")
    assert ([u.id for u in page], total) == (["u3"], 1)


@pytest.mark.parametrize(
    ("raw", "case", "wire"),
    [(None, "lower", "bank"), ("CARD", "lower", "card"), ("Card", "as_sent", "Card"), ("bank", "strict", "bank")],
)
def test_token_type_for_wire(raw, case, wire):
    assert token_type_for_wire(raw, case) == wire


@pytest.mark.parametrize(("raw", "case"), [("BANK", "strict"), ("eui", "lower"), (4, "as_sent")])
def test_token_type_for_wire_refused(raw, case):
    with pytest.raises(errors.ValidationFailed) as caught:
        token_type_for_wire(raw, case)
    assert caught.value.body(NOW) == {"errors": {"token_type": ["is not included in the list"]}}


def test_issue_token_auth_expires_after_an_hour(state):
    state.create_user({**BUYER, "id": "u1"}, now=NOW, new_id="-", address_id="a")
    issued = state.issue_token_auth("u1", "card", token="a" * 32, now=NOW, unknown_user_style="recorded")
    assert issued.to_wire() == {"token_type": "card", "token": "a" * 32, "user_id": "u1"}
    assert issued.to_wire(timestamps=True)["expires_at"] == "2023-11-14T23:13:20Z"


def test_redeem_token_auth_lenient_when_not_strict(state):
    state.create_user({**BUYER, "id": "u1"}, now=NOW, new_id="-", address_id="a")
    issued = state.issue_token_auth("u1", "bank", token="b" * 32, now=NOW, unknown_user_style="recorded")
    issued.uses = 1  # strict_token_auths false: reuse and late use are accepted
    assert state.redeem_token_auth("b" * 32, "bank", now=NOW + 7200, strict=False, field="bank_token") is issued
    with pytest.raises(errors.ValidationFailed) as caught:
        state.redeem_token_auth("b" * 32, "card", now=NOW, strict=False, field="card_token")  # bound to its type
    assert caught.value.body(NOW) == {"errors": {"card_token": ["is invalid"]}}


def _refused(state, token, *, now, **extra):
    with pytest.raises(errors.ValidationFailed) as caught:
        state.redeem_token_auth(token, "bank", now=now, strict=True, field="bank_token", **extra)
    return caught.value.body(NOW)["errors"]["bank_token"]


def test_redeem_token_auth_strict_single_use_expiry_and_user(state):
    state.create_user({**BUYER, "id": "u1"}, now=NOW, new_id="-", address_id="a")
    used = state.issue_token_auth("u1", "bank", token="c" * 32, now=NOW, unknown_user_style="recorded")
    state.issue_token_auth("u1", "bank", token="d" * 32, now=NOW, unknown_user_style="recorded")
    state.redeem_token_auth("c" * 32, "bank", now=NOW + 10, strict=True, field="bank_token")
    assert used.uses == 0  # redeeming checks; the view counts a use once the account exists
    used.uses = 1
    assert _refused(state, "c" * 32, now=NOW + 20) == ["has already been used"]
    assert _refused(state, "d" * 32, now=NOW + 3600) == ["has expired"]
    assert _refused(state, "d" * 32, now=NOW, claims_user="u2") == ["is invalid"]
    assert _refused(state, "f" * 32, now=NOW) == ["is invalid"]
    assert _refused(state, None, now=NOW) == ["required field missing"]


def test_scenario_expire_token_auths(state):
    state.create_user({**BUYER, "id": "u1"}, now=NOW, new_id="-", address_id="a")
    state.issue_token_auth("u1", "bank", token="e" * 32, now=NOW, unknown_user_style="recorded")
    state.scenario_expire_token_auths(now=NOW + 5)
    assert _refused(state, "e" * 32, now=NOW + 5) == ["has expired"]


@pytest.mark.parametrize(
    ("secret", "message"),
    [
        (None, "required field missing"),
        ("x" * 31, "is too short (minimum is 32 characters)"),
        ("é" * 32, "must contain only ASCII characters"),
    ],
)
def test_set_webhook_secret_refused(state, secret, message):
    with pytest.raises(errors.ValidationFailed) as caught:
        state.set_webhook_secret(secret)
    assert caught.value.body(NOW) == {"errors": {"secret_key": [message]}}
    assert state.webhook_secret is None


def test_scenario_send_webhook_queues_until_drained(state):
    state.scenario_send_webhook(now=NOW)
    state.scenario_send_webhook(now=NOW, event="x", body={"users": {"id": "u1"}}, url="http://127.0.0.1:9/x")
    drained = state.drain_webhooks()
    assert [(p.event, p.body, p.url) for p in drained] == [
        ("test", {"message": "Zai callback test"}, None),
        ("x", {"users": {"id": "u1"}}, "http://127.0.0.1:9/x"),
    ]
    assert state.drain_webhooks() == []


def test_catalogue_builds_every_named_error():
    bodies = {name: (factory().status, factory().body(NOW)) for name, factory in errors.CATALOGUE.items()}
    assert bodies["access_token_expired"] == (401, {"errors": {"token": "has expired"}})
    assert bodies["access_token_expired_gateway"] == (401, {"message": "The incoming token has expired"})
    assert bodies["rate_limited"] == (429, {"message": "Too Many Requests"})
    assert bodies["server_error"] == (500, {"error": "something went wrong"})
    assert bodies["user_not_found"] == (404, {"errors": {"user_id": ["not found"]}})
    assert all(isinstance(body, dict) for _, body in bodies.values())
