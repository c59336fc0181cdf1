"""Zai (ex Assembly Payments / PromisePay): OAuth tokens, users, Generate Token, webhook secret
(docs/providers/zai.md)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from emulator.core.clock import monotonic
from emulator.core.contracts import Violation
from emulator.core.errors import Reply
from emulator.core.provider import Auth, Call, Provider
from emulator.providers.zai import callbacks, errors, routes, routes_webhooks  # noqa: F401 (registers its routes)
from emulator.providers.zai.model import ZaiState
from emulator.providers.zai.routes import authenticate_bearer, bp
from emulator.providers.zai.wire import CORE_CODEC

# Recorded defaults of the open questions (docs/providers/zai.md#open-questions); each can be set per tenant, per
# scenario, or per server (`--option zai.NAME=VALUE`).
OPTIONS = {
    # docs/providers/zai.md#q1: /token_auths (and GET /users/{id}) with an unknown or foreign user.
    "unknown_user_style": "recorded",  # recorded: 401 {"code":405,...} (code, recorded) | not_found: 404 (inferred)
    # docs/providers/zai.md#q2: created_at/expires_at on token_auth. (code, recorded) absent; the gem docs expect them.
    "token_auth_timestamps": False,
    # docs/providers/zai.md#token-auth-lifecycle: a token auth expires after 1 h on the virtual clock and makes one
    # account (code: gem docs "typically 1 hour", "should be used once"); false: reusable, never expires.
    "strict_token_auths": True,
    # docs/providers/zai.md#q3: token_type case. lower: accept any case, echo lower-case (inferred, the recorded echo
    # was lower-case) | as_sent: echo the caller's spelling | strict: refuse anything but bank/card.
    "token_type_case": "lower",
    # docs/providers/zai.md#q4: 401 bodies for a bad bearer. rails: {"errors":{"token":...}} (inferred,
    # docs/providers/zai.md#errors) | gateway: {"message":"Unauthorized"} / {"message":"The incoming token has expired"}
    # (inferred).
    "auth_error_style": "rails",
    "access_token_lifetime": 3600,  # (doc) docs/providers/zai.md#access-tokens: expires_in 3600
    # (code, recorded) users_empty.yml: an empty list has no "users" key at all; true adds "users": [].
    "empty_users_key": False,
    # Send a signed `users` webhook after a user is created, once the tenant registered a secret and
    # has a callback_url. (inferred) stands in for a `users` webhook subscription.
    "user_webhooks": True,
    # Webhook retries (docs/providers/zai.md#webhook-deliveries): seconds between attempts ("1,5,30"; None: Zai's
    # backoff) and a factor on them (0.001 makes a day of retries pass in a test).
    "callback_retry_delays": None,
    "callback_retry_scale": 1.0,
}

# (code, recorded) docs/providers/zai.md#token-auths: the Rails stack's headers on every core response.
CACHE_OK = "max-age=0, private, must-revalidate"
CACHE_ERROR = "no-cache"  # (code, recorded) users_created_error.yml
CORS_HEADERS = {  # (code, recorded) on every recorded core response, success or error
    "Access-Control-Allow-Headers": "Origin, Content-Type, Accept, Authorization, Token",
    "Access-Control-Allow-Methods": "POST, GET, PUT, DELETE, OPTIONS",
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Max-Age": "1728000",
}


def contract_error(call: Call, violations: list[Violation]) -> errors.ZaiError:
    """Map contract violations to Zai's answer: 400 on /tokens (doc) docs/providers/zai.md#access-tokens; 422 per field
    on the core API."""
    if call.operation == "create_token" or any(v.location == "body" and not v.field for v in violations):
        return errors.bad_request()
    found: dict[str, list[str]] = {}
    for violation in violations:
        name = violation.field or violation.location
        message = errors.MSG_REQUIRED if violation.keyword == "required" else errors.MSG_INVALID
        if message not in found.setdefault(name, []):
            found[name].append(message)
    return errors.ValidationFailed(found)


def response_headers(call: Call, reply: Reply) -> dict[str, str]:
    """`X-Request-Id` on every response; the Rails CORS, cache and ETag headers on the core API (code, recorded)."""
    headers = {"X-Request-Id": call.fake.uuid4()}
    if call.operation == "create_token":
        return headers
    started = getattr(call, "zai_started", None)
    # (code, recorded) every recorded core response carries the Rails X-Runtime, seconds with six decimals
    headers["X-Runtime"] = f"{(monotonic() - started) if started is not None else 0.0:.6f}"
    headers.update(CORS_HEADERS)
    if 200 <= reply.status < 300 and reply.body is not None and reply.raw is None:
        payload = json.dumps(reply.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers["ETag"] = f'W/"{hashlib.md5(payload).hexdigest()}"'
        headers["Cache-Control"] = CACHE_OK
    else:
        headers["Cache-Control"] = CACHE_ERROR
    return headers


AUTH = {  # (doc) docs/providers/zai.md#access-tokens
    "bearer": Auth(
        {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "access_token of /tokens"}
    ),
    "bearer_or_token": Auth(
        {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "access_token of /tokens"},
        credentials="or, from the browser (PromisePay.js, hosted fields), no Authorization and a token auth as "
        "card_token / bank_token in the body (inferred) docs/providers/zai.md#token-auth-lifecycle",
        operations=("create_card_account", "create_bank_account"),
        optional=True,
    ),
    "client": Auth(
        {"type": "http", "scheme": "basic", "description": "(inferred) client_id:client_secret, as Cognito takes it"},
        credentials="body client_id + client_secret + scope, form-urlencoded or JSON (the body fields win)",
        operations=("create_token",),
        optional=True,
    ),
}

PROVIDER = Provider(
    name="zai",
    description="Zai (Assembly/PromisePay): OAuth client credentials, users, token_auths, webhook secret",
    blueprint=bp,
    state_class=ZaiState,
    authenticate=authenticate_bearer,
    errors=errors.CATALOGUE,
    contract_error=contract_error,
    not_found=lambda path: errors.RouteNotFound(),
    method_not_allowed=lambda method: errors.MethodNotAllowed(),
    internal_error=errors.server_error,
    paths=(
        "/tokens",
        "/users",
        "/token_auths",
        "/webhooks",
        "/card_accounts",
        "/bank_accounts",
        "/wallet_accounts",
        "/items",
        "/transactions",
        "/tools",
    ),
    folder=Path(__file__).parent,
    unavailable=errors.Unavailable,
    codec=CORE_CODEC,
    options=OPTIONS,
    hosts=(
        "test.api.promisepay.com",
        "secure.api.promisepay.com",
        "au-0000.sandbox.auth.assemblypay.com",
        "au-0000.auth.assemblypay.com",
        "sandbox.au-0000.api.assemblypay.com",
        "au-0000.api.assemblypay.com",
    ),
    response_headers=response_headers,
    actions={
        "send_webhook": callbacks.send_now,
        "three_d_secure": routes.admin_three_d_secure,
        "clear_direct_debit": routes.admin_clear_direct_debit,
        "deposit": routes.admin_deposit,
    },
    auth=AUTH,
)
