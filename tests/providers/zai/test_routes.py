"""Zai over HTTP through the Flask test client: every operation, every error body, isolation, concurrency."""

from __future__ import annotations

import base64
import threading
import uuid

import jwt
import pytest
import yaml

from emulator.app import create_app
from emulator.clients.zai import ZaiClient
from tests.providers.zai.conftest import (
    BUYER,
    SELLER,
    STRICT,
    TENANTS,
    A,
    B,
    bearer,
    credentials,
    state_of,
    token_for,
)

USER_KEYS = [  # (code, recorded) client_generate_token.yml, in order
    "created_at",
    "updated_at",
    "full_name",
    "email",
    "mobile",
    "phone",
    "logo_url",
    "color_1",
    "color_2",
    "first_name",
    "last_name",
    "id",
    "location",
    "verification_state",
    "held_state",
    "dob",
    "government_number",
    "drivers_license",
    "flags",
    "related",
    "links",
]
NOT_AUTHORIZED = {"errors": {"token": "is not authorized"}}
EXPIRED = {"errors": {"token": "has expired"}}
RECORD_401 = {"code": 405, "message": "Not authorized to access that record."}
JSON_CT = "application/json; charset=utf-8"


def _users(runtime, tenant=A):
    state = state_of(runtime, tenant)
    return {} if state is None else dict(state.users)


# -- POST /tokens --------------------------------------------------------------------------------


def test_create_token_form_body_returns_bearer_jwt(client, runtime):
    response = client.post("/tokens", data=credentials(A))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == JSON_CT
    assert uuid.UUID(response.headers["X-Request-Id"])
    body = response.json
    assert list(body) == ["access_token", "expires_in", "token_type"]
    assert body["expires_in"] == 3600 and body["token_type"] == "Bearer"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["exp"] == claims["iat"] + 3600
    assert abs(claims["iat"] - runtime.clock.now()) < 5
    assert claims["client_id"] == TENANTS[A]["client_id"] and claims["scope"] == TENANTS[A]["scope"]


def test_create_token_json_body(client):
    response = client.post("/tokens", json=credentials(A))
    assert response.status_code == 200
    assert response.json["token_type"] == "Bearer"


def test_create_token_exp_follows_virtual_clock(client, runtime):
    runtime.clock.advance(86400)
    token = client.post("/tokens", json=credentials(A)).json["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert abs(claims["exp"] - (runtime.clock.now() + 3600)) < 5


def test_create_token_basic_auth_credentials(client):
    creds = credentials(A)
    basic = base64.b64encode(f"{creds['client_id']}:{creds['client_secret']}".encode()).decode()
    response = client.post(
        "/tokens",
        data={"grant_type": "client_credentials", "scope": creds["scope"]},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 200
    assert client.get("/users", headers=bearer(response.json["access_token"])).status_code == 200
    wrong = base64.b64encode(f"{creds['client_id']}:not-the-secret".encode()).decode()
    refused = client.post(
        "/tokens",
        data={"grant_type": "client_credentials", "scope": creds["scope"]},
        headers={"Authorization": f"Basic {wrong}"},
    )
    assert refused.status_code == 401 and "access_token" not in (refused.json or {})


@pytest.mark.parametrize("missing", ["grant_type", "client_id", "client_secret", "scope"])
def test_create_token_missing_field_400(client, runtime, missing):
    creds = credentials(A)
    del creds[missing]
    response = client.post("/tokens", data=creds)
    assert (response.status_code, response.json) == (400, {"error": "bad request"})
    assert state_of(runtime, A) is None


def test_create_token_bad_grant_type_400(client):
    response = client.post("/tokens", json={**credentials(A), "grant_type": "password"})
    assert (response.status_code, response.json) == (400, {"error": "bad request"})


def test_create_token_malformed_json_400(client):
    response = client.post("/tokens", data="{not json", content_type="application/json")
    assert (response.status_code, response.json) == (400, {"error": "bad request"})
    assert response.headers["Content-Type"] == JSON_CT


def test_create_token_unknown_client_401(client, runtime):
    response = client.post("/tokens", data={**credentials(A), "client_id": "nobody"})
    assert (response.status_code, response.json) == (401, {"error": "invalid credentials"})
    assert state_of(runtime, A) is None


def test_create_token_wrong_secret_401(client):
    response = client.post("/tokens", data={**credentials(A), "client_secret": "wrong"})
    assert (response.status_code, response.json) == (401, {"error": "invalid credentials"})


def test_create_token_foreign_scope_422(client):
    response = client.post("/tokens", data={**credentials(A), "scope": TENANTS[B]["scope"]})
    assert (response.status_code, response.json) == (422, {"error": "invalid client details"})


# -- bearer checks on the core API ----------------------------------------------------------------


def test_create_user_missing_bearer_401(client, runtime):
    response = client.post("/users", json=BUYER)
    assert (response.status_code, response.json) == (401, NOT_AUTHORIZED)
    assert _users(runtime) == {}


@pytest.mark.parametrize("header", ["Bearer", "Bearer not.a.jwt", "Token abc", "Basic dXNlcjpwYXNz"])
def test_create_user_malformed_bearer_401(client, runtime, header):
    response = client.post("/users", json=BUYER, headers={"Authorization": header})
    assert (response.status_code, response.json) == (401, NOT_AUTHORIZED)
    assert _users(runtime) == {}


def test_create_user_forged_token_401(client, runtime, token):
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode(claims, "not-the-tenant-key-but-long-enough-for-hs256", algorithm="HS256")
    response = client.post("/users", json=BUYER, headers=bearer(forged))
    assert (response.status_code, response.json) == (401, NOT_AUTHORIZED)
    assert _users(runtime) == {}


def test_create_user_unknown_tenant_token_401(client, token):
    claims = {**jwt.decode(token, options={"verify_signature": False}), "client_id": "ghost"}
    response = client.post("/users", json=BUYER, headers=bearer(jwt.encode(claims, "x" * 32, algorithm="HS256")))
    assert (response.status_code, response.json) == (401, NOT_AUTHORIZED)


def test_create_user_expired_token_401(client, runtime, token):
    assert client.post("/users", json=BUYER, headers=bearer(token)).status_code == 201
    before = _users(runtime)
    runtime.clock.advance(3600)
    response = client.post("/users", json={**SELLER, "id": "late-seller"}, headers=bearer(token))
    assert (response.status_code, response.json) == (401, EXPIRED)
    assert _users(runtime) == before
    fresh = token_for(client, A)
    assert client.post("/users", json={**SELLER, "id": "late-seller"}, headers=bearer(fresh)).status_code == 201


def test_get_user_token_valid_until_expiry(client, runtime, token):
    runtime.clock.advance(3599)
    assert client.get("/users", headers=bearer(token)).status_code == 200


def test_get_user_gateway_auth_error_style():
    app = create_app(strict=True, seed=1, options={"zai.auth_error_style": "gateway"})
    client, runtime = app.test_client(), app.extensions["payemu"]
    token = token_for(client, A)
    response = client.get("/users", headers={"Authorization": "Bearer nope"})
    assert (response.status_code, response.json) == (401, {"message": "Unauthorized"})
    runtime.clock.advance(7200)
    response = client.get("/users", headers=bearer(token))
    assert (response.status_code, response.json) == (401, {"message": "The incoming token has expired"})


def test_tenant_isolation_other_tenant_cannot_see_users(client, runtime):
    token_a, token_b = token_for(client, A), token_for(client, B)
    user_id = client.post("/users", json=BUYER, headers=bearer(token_a)).json["users"]["id"]
    response = client.get(f"/users/{user_id}", headers=bearer(token_b))
    assert (response.status_code, response.json) == (401, RECORD_401)
    listing = client.get("/users", headers=bearer(token_b))
    assert listing.json == {"meta": {"limit": 10, "offset": 0, "total": 0}, "links": {"self": "/users"}}
    response = client.post("/token_auths", json={"user_id": user_id, "token_type": "card"}, headers=bearer(token_b))
    assert (response.status_code, response.json) == (401, RECORD_401)
    assert state_of(runtime, B).token_auths == {}
    assert list(_users(runtime, A)) == [user_id]


def test_tenant_isolation_same_user_id_in_two_tenants(client, runtime):
    """One user id in two marketplaces: two users, each seen, listed and tokenised by its own marketplace only."""
    tokens = {tenant: token_for(client, tenant) for tenant in (A, B)}
    emails = {A: "buyer-a@example.com", B: "buyer-b@example.com"}
    for tenant, email in emails.items():
        response = client.post(
            "/users", json={**BUYER, "id": "buyer-1", "email": email}, headers=bearer(tokens[tenant])
        )
        assert response.status_code == 201
    for tenant, email in emails.items():
        assert client.get("/users/buyer-1", headers=bearer(tokens[tenant])).json["users"]["email"] == email
        listing = client.get("/users", headers=bearer(tokens[tenant])).json
        assert [u["email"] for u in listing["users"]] == [email] and listing["meta"]["total"] == 1
    auth = client.post("/token_auths", json={"user_id": "buyer-1", "token_type": "card"}, headers=bearer(tokens[A]))
    assert auth.status_code == 200
    assert len(state_of(runtime, A).token_auths) == 1 and state_of(runtime, B).token_auths == {}


# -- POST /users ------------------------------------------------------------------------------------


def test_create_user_returns_recorded_shape(client, runtime, token):
    response = client.post("/users", json=BUYER, headers=bearer(token))
    assert response.status_code == 201
    user = response.json["users"]
    assert list(user) == USER_KEYS
    assert response.headers["Location"] == f"/users/{user['id']}"
    assert uuid.UUID(user["id"])
    assert user["full_name"] == "John Doe" and user["location"] == "USA"
    assert (user["verification_state"], user["held_state"], user["flags"], user["dob"]) == ("pending", False, {}, None)
    assert user["links"] == {
        "self": "/users",  # (code, recorded) the create response's self link
        "items": f"/users/{user['id']}/items",
        "card_accounts": f"/users/{user['id']}/card_accounts",
        "paypal_accounts": f"/users/{user['id']}/paypal_accounts",
        "bank_accounts": f"/users/{user['id']}/bank_accounts",
        "wallet_accounts": f"/users/{user['id']}/wallet_accounts",
    }
    assert response.headers["Cache-Control"] == "max-age=0, private, must-revalidate"
    assert response.headers["ETag"].startswith('W/"')
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert list(_users(runtime)) == [user["id"]]


def test_create_user_with_own_id_and_payout_fields(client, token):
    response = client.post("/users", json={**SELLER, "id": "seller-68611249"}, headers=bearer(token))
    assert response.status_code == 201
    user = response.json["users"]
    assert (user["id"], user["dob"], user["location"], user["last_name"]) == (
        "seller-68611249",
        "encrypted",
        "AUS",
        "Smith",
    )


def test_create_user_recorded_validation_errors(client, runtime, token):
    response = client.post("/users", json={"email": "notAnEmail"}, headers=bearer(token))
    assert response.status_code == 422
    # (code, recorded) users_created_error.yml, byte for byte
    assert response.get_data() == (
        b'{"errors":{"address.country":["can\'t be blank"],"firstname":["can\'t be blank"],"email":["is invalid"]}}'
    )
    assert response.headers["Cache-Control"] == "no-cache"
    assert _users(runtime) == {}


def test_create_user_duplicate_id_422(client, runtime, token):
    assert client.post("/users", json={**BUYER, "id": "buyer-1"}, headers=bearer(token)).status_code == 201
    before = {k: v.email for k, v in _users(runtime).items()}
    response = client.post("/users", json={**SELLER, "id": "buyer-1"}, headers=bearer(token))
    assert (response.status_code, response.json) == (422, {"errors": {"base": ["user with this id already exists"]}})
    assert {k: v.email for k, v in _users(runtime).items()} == before


def test_create_user_numeric_id_cast_to_string(client, token):
    response = client.post("/users", json={**BUYER, "id": 99}, headers=bearer(token))
    assert (response.status_code, response.json["users"]["id"], response.headers["Location"]) == (
        201,
        "99",
        "/users/99",
    )


@pytest.mark.parametrize("bad_id", ["user.123", "   ", ""])
def test_create_user_malformed_id_422(client, runtime, token, bad_id):
    response = client.post("/users", json={**BUYER, "id": bad_id}, headers=bearer(token))
    assert (response.status_code, response.json) == (422, {"errors": {"id": ["invalid format"]}})
    assert _users(runtime) == {}


def test_create_user_bad_country_type_and_dob_422(client, runtime, token):
    body = {**BUYER, "country": "AU", "user_type": "vip", "dob": "1990-01-01"}
    response = client.post("/users", json=body, headers=bearer(token))
    assert (response.status_code, response.json) == (
        422,
        {
            "errors": {
                "address.country": ["is invalid"],
                "user_type": ["is not included in the list"],
                "dob": ["is invalid"],
            }
        },
    )
    assert _users(runtime) == {}


def test_create_user_wrong_field_type_422(client, runtime, token):
    response = client.post("/users", json={**BUYER, "first_name": 12}, headers=bearer(token))
    assert (response.status_code, response.json) == (422, {"errors": {"first_name": ["is invalid"]}})
    assert _users(runtime) == {}


@pytest.mark.parametrize("raw", [b"{oops", b"[1, 2]", b'"text"'])
def test_create_user_malformed_body_400(client, runtime, token, raw):
    response = client.post("/users", data=raw, content_type="application/json", headers=bearer(token))
    assert (response.status_code, response.json) == (400, {"error": "bad request"})
    assert _users(runtime) == {}


def test_create_user_malformed_body_without_token_is_401_first(client):
    response = client.post("/users", data=b"{oops", content_type="application/json")
    assert (response.status_code, response.json) == (401, NOT_AUTHORIZED)


# -- GET /users/{id} ---------------------------------------------------------------------------------


def test_get_user_returns_user(client, token):
    created = client.post("/users", json=BUYER, headers=bearer(token)).json["users"]
    response = client.get(f"/users/{created['id']}", headers=bearer(token))
    assert response.status_code == 200
    user = response.json["users"]
    assert list(user) == USER_KEYS
    assert user == {**created, "links": {**created["links"], "self": f"/users/{created['id']}"}}


def test_get_user_unknown_recorded_401(client, runtime, token):
    response = client.get("/users/unkown_id", headers=bearer(token))
    assert (response.status_code, response.json) == (401, RECORD_401)


def test_get_user_unknown_not_found_option_404(client):
    token = token_for(client, STRICT)
    response = client.get("/users/unkown_id", headers=bearer(token))
    assert (response.status_code, response.json) == (404, {"errors": {"id": ["not found"]}})


# -- GET /users ----------------------------------------------------------------------------------------


def test_list_users_empty_has_no_users_key(client, token):
    response = client.get("/users", headers=bearer(token))
    assert response.status_code == 200
    # (code, recorded) users_empty.yml, byte for byte
    assert response.get_data() == b'{"meta":{"limit":10,"offset":0,"total":0},"links":{"self":"/users"}}'


def test_list_users_empty_users_key_option():
    app = create_app(strict=True, seed=1, options={"zai.empty_users_key": True})
    client = app.test_client()
    response = client.get("/users", headers=bearer(token_for(client, A)))
    assert response.json["users"] == []


def test_list_users_pagination_in_creation_order(client, token):
    ids = [f"user-{n}" for n in range(5)]
    for user_id in ids:
        body = {**BUYER, "id": user_id, "email": f"{user_id}@example.com"}
        assert client.post("/users", json=body, headers=bearer(token)).status_code == 201
    response = client.get("/users?limit=2&offset=1", headers=bearer(token))
    assert response.status_code == 200
    body = response.json
    assert [u["id"] for u in body["users"]] == ids[1:3]
    assert body["meta"] == {"limit": 2, "offset": 1, "total": 5}
    assert body["links"] == {"self": "/users?limit=2&offset=1"}
    assert list(body["users"][0]) == [
        "id",
        "full_name",
        "first_name",
        "last_name",
        "created_at",
        "updated_at",
        "email",
        "mobile",
        "phone",
        "location",
        "links",
    ]
    assert body["users"][0]["links"]["self"] == "/users/user-1"


def test_list_users_search(client, token):
    client.post("/users", json=BUYER, headers=bearer(token))
    client.post("/users", json=SELLER, headers=bearer(token))
    body = client.get("/users?search=SELLER@example", headers=bearer(token)).json
    assert [u["email"] for u in body["users"]] == ["seller@example.com"]
    assert body["meta"]["total"] == 1


def test_list_users_limit_capped_at_200(client, token):
    assert client.get("/users?limit=5000", headers=bearer(token)).json["meta"]["limit"] == 200


@pytest.mark.parametrize(("query", "field"), [("limit=ten", "limit"), ("offset=-1", "offset")])
def test_list_users_bad_paging_422(client, token, query, field):
    response = client.get(f"/users?{query}", headers=bearer(token))
    assert (response.status_code, response.json) == (422, {"errors": {field: ["is invalid"]}})


# -- POST /token_auths -----------------------------------------------------------------------------------


def _user(client, token, body=BUYER):
    return client.post("/users", json=body, headers=bearer(token)).json["users"]["id"]


def test_create_token_auth_recorded_shape(client, runtime, token):
    user_id = _user(client, token)
    response = client.post("/token_auths", json={"token_type": "card", "user_id": user_id}, headers=bearer(token))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == JSON_CT
    body = response.json
    assert list(body) == ["token_auth"]
    assert list(body["token_auth"]) == ["token_type", "token", "user_id"]
    token_auth = body["token_auth"]
    assert (token_auth["token_type"], token_auth["user_id"]) == ("card", user_id)
    assert len(token_auth["token"]) == 32 and int(token_auth["token"], 16) >= 0
    assert token_auth["token"] == token_auth["token"].lower()
    assert token_auth["token"] in state_of(runtime).token_auths


def test_create_token_auth_default_bank(client, token):
    user_id = _user(client, token, SELLER)
    response = client.post("/token_auths", json={"user_id": user_id}, headers=bearer(token))
    assert response.json["token_auth"]["token_type"] == "bank"


def test_create_token_auth_fresh_token_each_call(client, token):
    user_id = _user(client, token)
    tokens = {
        client.post("/token_auths", json={"user_id": user_id}, headers=bearer(token)).json["token_auth"]["token"]
        for _ in range(3)
    }
    assert len(tokens) == 3


def test_create_token_auth_upper_case_echoed_lower(client, token):
    user_id = _user(client, token)
    response = client.post("/token_auths", json={"user_id": user_id, "token_type": "BANK"}, headers=bearer(token))
    assert response.json["token_auth"]["token_type"] == "bank"


def test_create_token_auth_upper_case_as_sent_option():
    app = create_app(strict=True, seed=1, options={"zai.token_type_case": "as_sent"})
    client = app.test_client()
    token = token_for(client, A)
    user_id = _user(client, token)
    response = client.post("/token_auths", json={"user_id": user_id, "token_type": "Card"}, headers=bearer(token))
    assert response.json["token_auth"]["token_type"] == "Card"


def test_create_token_auth_upper_case_strict_option_422(client, runtime):
    token = token_for(client, STRICT)
    user_id = _user(client, token)
    response = client.post("/token_auths", json={"user_id": user_id, "token_type": "BANK"}, headers=bearer(token))
    assert (response.status_code, response.json) == (422, {"errors": {"token_type": ["is not included in the list"]}})
    assert state_of(runtime, STRICT).token_auths == {}


@pytest.mark.parametrize("token_type", ["eui", "4", 4, ""])
def test_create_token_auth_invalid_type_422(client, runtime, token, token_type):
    user_id = _user(client, token)
    response = client.post("/token_auths", json={"user_id": user_id, "token_type": token_type}, headers=bearer(token))
    assert (response.status_code, response.json) == (422, {"errors": {"token_type": ["is not included in the list"]}})
    assert state_of(runtime).token_auths == {}


@pytest.mark.parametrize("body", [{"token_type": "bank"}, {"user_id": "", "token_type": "bank"}, None])
def test_create_token_auth_missing_user_id_422(client, runtime, token, body):
    response = client.post("/token_auths", json=body, headers=bearer(token))
    assert (response.status_code, response.json) == (422, {"errors": {"user_id": ["required field missing"]}})
    assert state_of(runtime).token_auths == {}


def test_create_token_auth_unknown_user_recorded_401(client, runtime, token):
    response = client.post("/token_auths", json={"user_id": "ghost", "token_type": "card"}, headers=bearer(token))
    assert (response.status_code, response.json) == (401, RECORD_401)
    assert state_of(runtime).token_auths == {}


def test_create_token_auth_unknown_user_not_found_option_404(client, runtime):
    token = token_for(client, STRICT)
    response = client.post("/token_auths", json={"user_id": "ghost", "token_type": "card"}, headers=bearer(token))
    assert (response.status_code, response.json) == (404, {"errors": {"user_id": ["not found"]}})
    assert state_of(runtime, STRICT).token_auths == {}


def test_create_token_auth_timestamps_option(client, runtime):
    token = token_for(client, STRICT)
    user_id = _user(client, token)
    body = client.post("/token_auths", json={"user_id": user_id, "token_type": "card"}, headers=bearer(token)).json
    token_auth = body["token_auth"]
    assert list(token_auth) == ["token_type", "token", "user_id", "created_at", "expires_at"]
    from emulator.core.clock import parse_iso

    assert parse_iso(token_auth["expires_at"]) - parse_iso(token_auth["created_at"]) == 3600


# -- POST /webhooks/secret_key ------------------------------------------------------------------------------

SECRET = "0123456789abcdef0123456789abcdef"


def test_create_webhook_secret_key_stores_secret(client, runtime, token):
    response = client.post("/webhooks/secret_key", json={"secret_key": SECRET}, headers=bearer(token))
    assert (response.status_code, response.json) == (201, {"secret_key": SECRET})
    assert state_of(runtime).webhook_secret == SECRET


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"secret_key": "short"}, "is too short (minimum is 32 characters)"),
        ({"secret_key": "a" * 31 + "日"}, "must contain only ASCII characters"),
        ({}, "required field missing"),
        ({"secret_key": ""}, "required field missing"),
    ],
)
def test_create_webhook_secret_key_invalid_422(client, runtime, token, body, message):
    response = client.post("/webhooks/secret_key", json=body, headers=bearer(token))
    assert (response.status_code, response.json) == (422, {"errors": {"secret_key": [message]}})
    state = state_of(runtime)
    assert state is None or state.webhook_secret is None


def test_create_user_sends_signed_webhook(client, runtime, payemu_receiver):
    runtime.tenants["zai"].update(A, {"callback_url": payemu_receiver.url + "/zai/webhooks"})
    token = token_for(client, A)
    assert client.post("/users", json={**BUYER, "id": "before-secret"}, headers=bearer(token)).status_code == 201
    after = {**BUYER, "id": "after-secret", "email": "after@example.com"}
    assert client.post("/webhooks/secret_key", json={"secret_key": SECRET}, headers=bearer(token)).status_code == 201
    assert client.post("/users", json=after, headers=bearer(token)).status_code == 201
    assert runtime.callbacks.wait_idle(5)
    [got] = payemu_receiver.wait_for(1)
    assert len(payemu_receiver.received) == 1  # nothing is sent before a secret exists
    assert got.path == "/zai/webhooks" and got.headers["content-type"] == "application/json"
    assert ZaiClient.verify_webhook(got.body, got.headers["webhooks-signature"], SECRET, now=runtime.clock.now())
    assert got.json()["users"]["id"] == "after-secret"


# -- wire details -------------------------------------------------------------------------------------------


def test_every_response_has_json_charset_and_request_id(client, token):
    responses = [
        client.post("/tokens", data={}),
        client.post("/tokens", data=credentials(A)),
        client.get("/users"),
        client.get("/users", headers=bearer(token)),
        client.get("/users/nobody", headers=bearer(token)),
        client.post("/users", json={}, headers=bearer(token)),
        client.post("/token_auths", json={}, headers=bearer(token)),
    ]
    request_ids = set()
    for response in responses:
        assert response.headers["Content-Type"] == JSON_CT
        request_ids.add(response.headers["X-Request-Id"])
    assert len(request_ids) == len(responses)


def test_unknown_path_and_method_answer_in_zai_envelope(client, token):
    response = client.get("/users/a/b", headers=bearer(token))
    assert (response.status_code, response.json) == (404, {"error": "not found"})
    response = client.delete("/token_auths", headers=bearer(token))
    assert (response.status_code, response.json) == (405, {"error": "method not allowed"})


# -- concurrency ------------------------------------------------------------------------------------------


def test_create_user_and_token_auth_concurrently_no_lost_or_duplicated_records(app, runtime):
    threads, per_thread = 16, 5
    results: list[tuple[str, str]] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def work(n: int) -> None:
        client = app.test_client()
        try:
            barrier.wait(5)
            token = token_for(client, A)
            for i in range(per_thread):
                user = client.post(
                    "/users",
                    json={**BUYER, "id": f"t{n}-u{i}", "email": f"t{n}-u{i}@example.com"},
                    headers=bearer(token),
                )
                anon = client.post("/users", json={**BUYER, "email": f"t{n}-a{i}@example.com"}, headers=bearer(token))
                auth = client.post("/token_auths", json={"user_id": f"t{n}-u{i}"}, headers=bearer(token))
                if (user.status_code, anon.status_code, auth.status_code) != (201, 201, 200):
                    failures.append(f"{user.status_code} {anon.status_code} {auth.status_code}")
                    continue
                with lock:
                    results.append((anon.json["users"]["id"], auth.json["token_auth"]["token"]))
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(repr(exc))

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert failures == []
    state = state_of(runtime)
    assert len(state.users) == threads * per_thread * 2
    assert len({anon for anon, _ in results}) == threads * per_thread
    assert len(state.token_auths) == threads * per_thread == len({tok for _, tok in results})
    assert state.access_tokens_issued == threads
    assert {f"t{n}-u{i}" for n in range(threads) for i in range(per_thread)} <= set(state.users)
    listing = app.test_client().get("/users?limit=200", headers=bearer(token_for(app.test_client(), A)))
    assert listing.json["meta"]["total"] == threads * per_thread * 2
    assert len({u["id"] for u in listing.json["users"]}) == 160


def test_create_token_open_tenants_admits_new_client():
    app = create_app(strict=True, seed=1, open_tenants=True)
    client = app.test_client()
    creds = {"grant_type": "client_credentials", "client_id": "newclient", "client_secret": "s" * 32, "scope": "im/x"}
    token = client.post("/tokens", data=creds).json["access_token"]
    assert client.post("/users", json=BUYER, headers=bearer(token)).status_code == 201
    response = client.post("/tokens", data={**creds, "client_secret": "other"})
    assert (response.status_code, response.json) == (401, {"error": "invalid credentials"})
    assert app.extensions["payemu"].tenants["zai"].get("newclient").admitted


def test_get_user_tenant_auth_error_style_applies_once_tenant_known(tmp_path):
    entries = [dict(entry) for entry in TENANTS.values()]
    entries[0]["options"] = {"auth_error_style": "gateway"}
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump({"zai": entries}))
    app = create_app(strict=True, seed=1, tenants_file=path)
    client, runtime = app.test_client(), app.extensions["payemu"]
    token = token_for(client, A)
    response = client.get("/users", headers={"Authorization": "Bearer nope"})  # no tenant known: server style
    assert (response.status_code, response.json) == (401, NOT_AUTHORIZED)
    runtime.clock.advance(3600)
    response = client.get("/users", headers=bearer(token))
    assert (response.status_code, response.json) == (401, {"message": "The incoming token has expired"})


# -- the 2016 recording (promisepay-ruby spec/fixtures/client_generate_token.yml), replayed --------------

RECORDED_ID = "2b9a5a16-df82-47da-83b3-c368d99c30b1"
RECORDED_USER = (
    '{"users":{"created_at":"<ts>","updated_at":"<ts>","full_name":"myFirstName",'
    '"email":"2b9a5a16-df82-47da-83b3-c368d99c30b1@mail.com","mobile":null,"phone":null,"logo_url":null,'
    '"color_1":null,"color_2":null,"first_name":"myFirstName","last_name":null,'
    '"id":"2b9a5a16-df82-47da-83b3-c368d99c30b1","location":"AUS","verification_state":"pending",'
    '"held_state":false,"dob":null,"government_number":null,"drivers_license":null,"flags":{},'
    '"related":{"addresses":"<uuid>"},"links":{"self":"/users",'
    '"items":"/users/2b9a5a16-df82-47da-83b3-c368d99c30b1/items",'
    '"card_accounts":"/users/2b9a5a16-df82-47da-83b3-c368d99c30b1/card_accounts",'
    '"paypal_accounts":"/users/2b9a5a16-df82-47da-83b3-c368d99c30b1/paypal_accounts",'
    '"bank_accounts":"/users/2b9a5a16-df82-47da-83b3-c368d99c30b1/bank_accounts",'
    '"wallet_accounts":"/users/2b9a5a16-df82-47da-83b3-c368d99c30b1/wallet_accounts"}}}'
)


def test_create_user_and_token_auth_match_the_recording(client, token):
    import re

    body = {"id": RECORDED_ID, "first_name": "myFirstName", "email": f"{RECORDED_ID}@mail.com", "country": "AUS"}
    response = client.post("/users", json=body, headers=bearer(token))
    assert (response.status_code, response.headers["Location"]) == (201, f"/users/{RECORDED_ID}")
    text = response.get_data(as_text=True)
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "<ts>", text)
    text = re.sub(r'"addresses":"[0-9a-f-]{36}"', '"addresses":"<uuid>"', text)
    assert text == RECORDED_USER
    response = client.post("/token_auths", json={"token_type": "card", "user_id": RECORDED_ID}, headers=bearer(token))
    assert response.status_code == 200
    # The recorded body is 128 bytes although the recording's Content-Length header says 136
    # (docs/providers/zai.md#token-auths); the 8 bytes are unexplained (gzip would give 125). The body is what clients
    # parse: 128.
    assert response.headers["Content-Length"] == "128"
    assert re.fullmatch(
        r'\{"token_auth":\{"token_type":"card","token":"[0-9a-f]{32}","user_id":"' + RECORDED_ID + r'"\}\}',
        response.get_data(as_text=True),
    )
