"""Zai views at the real paths (docs/providers/zai.md): the auth API's `/tokens` and the core API.

Both APIs are served from the root: the real auth issuer and core API live on different hosts
(docs/providers/zai.md#hosts).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from flask import Blueprint

from emulator.core import tokens
from emulator.core.errors import Reply
from emulator.core.provider import Call, operation
from emulator.core.tenants import Tenant
from emulator.providers.zai import callbacks, errors
from emulator.providers.zai.model import DEFAULT_LIMIT, MAX_LIMIT, ZaiState, token_type_for_wire
from emulator.providers.zai.wire import CORE_CODEC, TOKEN_CODEC

bp = Blueprint("zai", __name__)

TOKENS_PATH = "/tokens"
USERS_PATH = "/users"
USER_PATH = "/users/<user_id>"
TOKEN_AUTHS_PATH = "/token_auths"
SECRET_KEY_PATH = "/webhooks/secret_key"

GRANT_TYPE = "client_credentials"  # (doc) docs/providers/zai.md#access-tokens
TOKEN_TYPE = "Bearer"  # (doc) docs/providers/zai.md#access-tokens
# (doc) docs/providers/zai.md#access-tokens: "JWT issued by AWS Cognito"; (inferred) claims of a Cognito
# client-credentials access token.
ISSUER = "https://au-0000.sandbox.auth.assemblypay.com"
AUTH_STYLE = "auth_error_style"
JWT_ALGORITHM = "HS256"  # (inferred) Cognito signs RS256; clients never verify, so a shared secret is enough


# -- authentication ------------------------------------------------------------------------------


def _signing_key(tenant: Tenant) -> str:
    return str(tenant.get("token_secret") or tenant["client_secret"])


def authenticate_client(call: Call) -> Tenant:
    """`POST /tokens`: the client_id/client_secret/scope triple names the tenant
    (docs/providers/zai.md#access-tokens)."""
    _merge_basic_credentials(call)
    call.validate()  # missing fields or a wrong grant_type: 400 "bad request" (doc)
    body = call.body
    client_id, secret, scope = body["client_id"], body["client_secret"], body["scope"]
    directory = call.runtime.tenants["zai"]
    tenant = directory.find(client_id=client_id) or directory.admit(
        client_id, lambda: {"client_id": client_id, "client_secret": secret, "scope": scope}
    )
    if tenant is None or tenant.get("client_secret") != secret:
        raise errors.invalid_credentials()  # (doc) docs/providers/zai.md#access-tokens
    if tenant.get("scope") != scope:
        # (inferred) docs/providers/zai.md#access-tokens: the doc's 422, for a scope not granted
        raise errors.invalid_client_details()
    return tenant


def _merge_basic_credentials(call: Call) -> None:
    """(inferred) Cognito also takes the client pair as HTTP Basic; body fields win."""
    header = call.headers.get("Authorization", "")
    if header[:6].lower() != "basic " or not isinstance(call.body, (dict, type(None))):
        return
    try:
        client_id, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return
    call.body = {"client_id": client_id, "client_secret": secret, **(call.body or {})}


def _auth_style(call: Call, tenant: Tenant | None) -> str:
    """The 401 style for this call: scenario, then tenant, then server, then default."""
    if tenant is not None:
        call.name_tenant(tenant)
    return str(call.option(AUTH_STYLE))


def authenticate_bearer(call: Call) -> Tenant:
    """Core API: `Authorization: Bearer <access token>`, unexpired on the virtual clock, of a known tenant."""
    header = call.headers.get("Authorization", "").strip()
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise errors.BearerRejected(style=_auth_style(call, None))
    try:
        unverified = tokens.claims(token)
    except tokens.TokenError as exc:
        raise errors.BearerRejected(style=_auth_style(call, None)) from exc
    client_id = unverified.get("client_id") if isinstance(unverified, dict) else None
    tenant = call.runtime.tenants["zai"].find(client_id=client_id) if client_id else None
    if tenant is None:
        raise errors.BearerRejected(style=_auth_style(call, None))
    try:
        tokens.verify(token, _signing_key(tenant))
    except tokens.TokenError as exc:
        raise errors.BearerRejected(style=_auth_style(call, None)) from exc  # forged: not the tenant's
    claims = unverified
    if not isinstance(claims.get("exp"), (int, float)):
        raise errors.BearerRejected(style=_auth_style(call, None))
    if claims.get("scope") != tenant.get("scope"):
        raise errors.BearerRejected(style=_auth_style(call, None))
    call.name_tenant(tenant)  # the marketplace's own clock and scenario from here on
    if call.now >= float(claims["exp"]):
        raise errors.BearerRejected(expired=True, style=_auth_style(call, tenant))
    call.auth = claims
    return tenant


def issue_access_token(call: Call, tenant: Tenant, lifetime: int) -> str:
    """Sign an access token with Cognito's client-credentials claims; `exp` is on the virtual clock."""
    issued = int(call.now)
    claims = {
        "sub": tenant["client_id"],
        "token_use": "access",
        "scope": tenant["scope"],
        "auth_time": issued,
        "iss": ISSUER,
        "exp": issued + lifetime,
        "iat": issued,
        "version": 2,
        "jti": call.uuid4(),
        "client_id": tenant["client_id"],
    }
    return tokens.encode(claims, _signing_key(tenant))


# -- operations ----------------------------------------------------------------------------------


@bp.route(TOKENS_PATH, methods=["POST"], provide_automatic_options=False)
@operation("create_token", auth=authenticate_client, codec=TOKEN_CODEC)
def create_token(call: Call) -> Reply:
    """OAuth2 client credentials (docs/providers/zai.md#access-tokens): a JWT access token for the tenant."""
    lifetime = int(call.option("access_token_lifetime"))
    token = issue_access_token(call, call.tenant, lifetime)
    call.state.access_tokens_issued += 1
    return Reply(200, {"access_token": token, "expires_in": lifetime, "token_type": TOKEN_TYPE})


@bp.route(USERS_PATH, methods=["POST"], provide_automatic_options=False)
@operation("create_user", codec=CORE_CODEC)
def create_user(call: Call) -> Reply:
    """Create a user (docs/providers/zai.md#users): 201, `Location: /users/<id>`, the full object under `users`."""
    state: ZaiState = call.state
    callbacks.dispatch_pending(call)
    user = state.create_user(call.body or {}, now=call.now, new_id=call.fake.uuid4(), address_id=call.fake.uuid4())
    wire = user.to_wire(self_link=USERS_PATH)
    if call.flag("user_webhooks") and state.webhook_secret:
        callbacks.send(call, event="users.created", body={"users": user.to_wire()})  # (inferred) object-type payload
    return Reply(201, {"users": wire}, {"Location": f"/users/{user.id}"})


@bp.route(USER_PATH, methods=["GET"], provide_automatic_options=False)
@operation("get_user", codec=CORE_CODEC)
def get_user(call: Call) -> Reply:
    """Show one user of the marketplace (docs/providers/zai.md#users); unknown ids as recorded
    (docs/providers/zai.md#errors)."""
    callbacks.dispatch_pending(call)
    user = call.state.get_user(call.path_args["user_id"], unknown_user_style=call.option("unknown_user_style"))
    return Reply(200, {"users": user.to_wire()})


@bp.route(USERS_PATH, methods=["GET"], provide_automatic_options=False)
@operation("list_users", codec=CORE_CODEC)
def list_users(call: Call) -> Reply:
    """List users in creation order with `meta` and `links` (code, recorded: users_multiple/users_empty)."""
    callbacks.dispatch_pending(call)
    limit = min(int(call.query.get("limit", DEFAULT_LIMIT)), MAX_LIMIT)
    offset = int(call.query.get("offset", 0))
    users, total = call.state.list_users(limit=limit, offset=offset, search=call.query.get("search") or None)
    body: dict[str, Any] = {}
    if users or call.flag("empty_users_key"):
        body["users"] = [user.summary() for user in users]  # (code, recorded) users_empty.yml: no key when empty
    body["meta"] = {"limit": limit, "offset": offset, "total": total}
    query = call.request.query_string.decode("latin-1")
    body["links"] = {"self": USERS_PATH + (f"?{query}" if query else "")}
    return Reply(200, body)


@bp.route(TOKEN_AUTHS_PATH, methods=["POST"], provide_automatic_options=False)
@operation("create_token_auth", codec=CORE_CODEC)
def create_token_auth(call: Call) -> Reply:
    """Generate a card or bank token for a user (docs/providers/zai.md#token-auths): 200, exactly the recorded three
    fields by default."""
    callbacks.dispatch_pending(call)
    body = call.body or {}
    token_type = token_type_for_wire(body.get("token_type"), call.option("token_type_case"))
    issued = call.state.issue_token_auth(
        body.get("user_id"),
        token_type,
        token=call.fake.md5(),  # (doc)(code, recorded) 32 lowercase hex
        now=call.now,
        unknown_user_style=call.option("unknown_user_style"),
    )
    return Reply(200, {"token_auth": issued.to_wire(timestamps=call.flag("token_auth_timestamps"))})


@bp.route(SECRET_KEY_PATH, methods=["POST"], provide_automatic_options=False)
@operation("create_webhook_secret_key", codec=CORE_CODEC)
def create_webhook_secret_key(call: Call) -> Reply:
    """Register the secret that signs this marketplace's webhooks (docs/providers/zai.md#webhooks)."""
    callbacks.dispatch_pending(call)
    secret = call.state.set_webhook_secret((call.body or {}).get("secret_key"))
    return Reply(201, {"secret_key": secret})  # (code) the gem's spec stub: 201 echoing the key
