"""Zai views at the real paths (docs/providers/zai.md): the auth API's `/tokens` and the core API.

Both APIs are served from the root: the real auth issuer and core API live on different hosts
(docs/providers/zai.md#hosts).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

from flask import Blueprint

from emulator.core import tokens
from emulator.core.clock import monotonic
from emulator.core.errors import Reply
from emulator.core.options import as_bool
from emulator.core.provider import Call, TenantContext, operation
from emulator.core.tenants import Tenant
from emulator.providers.zai import callbacks, errors
from emulator.providers.zai.model import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    ROUTING_NUMBERS,
    Item,
    Notice,
    TokenAuth,
    ZaiState,
    token_type_for_wire,
)
from emulator.providers.zai.wire import CORE_CODEC, TOKEN_CODEC

bp = Blueprint("zai", __name__)

TOKENS_PATH = "/tokens"
USERS_PATH = "/users"
USER_PATH = "/users/<user_id>"
TOKEN_AUTHS_PATH = "/token_auths"

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
    call.zai_started = monotonic()  # type: ignore[attr-defined]  # for X-Runtime
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
    call.zai_started = monotonic()  # type: ignore[attr-defined]  # for X-Runtime
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
    user = state.create_user(
        call.body or {}, now=call.now, new_id=call.fake.uuid4(), address_id=call.fake.uuid4(), wallet_id=call.uuid4()
    )
    wire = user.to_wire(self_link=USERS_PATH)
    if call.flag("user_webhooks"):
        callbacks.notify(call, [Notice("users", user.id, {"users": user.to_wire()})])  # (doc) the user's Show
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
    call.claim(issued.token)  # PromisePay.js brings the token back without a bearer: it names the marketplace
    return Reply(200, {"token_auth": issued.to_wire(timestamps=call.flag("token_auth_timestamps"))})


# -- helpers of the views below -----------------------------------------------------------------------------------


def _body(call: Call) -> dict[str, Any]:
    return call.body if isinstance(call.body, dict) else {}


def _ids(call: Call) -> Callable[[], str]:
    return call.fake.uuid4


def _style(call: Call) -> str:
    return str(call.option("unknown_user_style"))


def _page(call: Call) -> tuple[int, int]:
    return min(int(call.query.get("limit", DEFAULT_LIMIT)), MAX_LIMIT), int(call.query.get("offset", 0))


def _listing(call: Call, key: str, entries: list[Any], total: int, *, links_first: bool = False) -> dict[str, Any]:
    """(code, recorded) a list: `key` (absent when empty), `meta` and `links.self` (items_empty.yml: links first)."""
    limit, offset = _page(call)
    query = call.request.query_string.decode("latin-1")
    links = {"self": call.request.path + (f"?{query}" if query else "")}
    meta = {"limit": limit, "offset": offset, "total": total}
    body: dict[str, Any] = {key: entries} if entries else {}
    return {**body, "links": links, "meta": meta} if links_first else {**body, "meta": meta, "links": links}


def _item_notice(state: ZaiState, item: Item) -> list[Notice]:
    """(doc) an items webhook carries `GET /items/:id`; the item's new transactions go to `transactions`."""
    notices = [Notice("items", item.id, {"items": item.to_wire(state.users)})]
    for tid in item.transaction_ids:
        if tid not in state.transactions:
            continue
        transaction = state.transactions[tid]
        if transaction.updated_at >= item.updated_at:
            notices.append(Notice("transactions", tid, {"transactions": transaction.to_wire()}))
    return notices


def _item_reply(call: Call, item: Item, notify: bool = True) -> Reply:
    state: ZaiState = call.state
    if notify:
        callbacks.notify(call, _item_notice(state, item))
    return Reply(200, {"items": item.to_wire(state.users, self_link=call.request.path)})


def authenticate_core_or_token(call: Call) -> Tenant:
    """`POST /card_accounts` and `/bank_accounts`: a bearer token (server side), or, from the browser
    (PromisePay.js / hosted fields), no Authorization and the token auth in the body (`card_token` /
    `bank_token`; inferred): the token names the marketplace that issued it."""
    body = call.body if isinstance(call.body, dict) else {}
    field = "card_token" if call.operation == "create_card_account" else "bank_token"
    if call.headers.get("Authorization") or field not in body:
        return authenticate_bearer(call)
    call.zai_started = monotonic()  # type: ignore[attr-defined]
    tenant = call.owner_of(str(body[field] or ""))
    if tenant is None:
        raise errors.ValidationFailed.one(field, errors.MSG_TOKEN_INVALID)
    call.name_tenant(tenant)
    return tenant


def _redeem(call: Call, token_type: str) -> TokenAuth | None:
    """The token auth a browser-side create carries, checked (strict_token_auths: 1 h, single use)."""
    body = _body(call)
    field = f"{token_type}_token"
    if field not in body:
        return None
    issued = call.state.redeem_token_auth(
        body.get(field),
        token_type,
        now=call.now,
        strict=call.flag("strict_token_auths"),
        field=field,
        claims_user=body.get("user_id"),
    )
    body["user_id"] = issued.user_id
    return issued


# -- card accounts (docs/providers/zai.md#card-accounts) ------------------------------------------------------------


@bp.route("/card_accounts", methods=["OPTIONS"], provide_automatic_options=False)
@bp.route("/bank_accounts", methods=["OPTIONS"], provide_automatic_options=False)
@operation("cors_preflight", auth=lambda call: None, codec=CORE_CODEC)
def cors_preflight(call: Call) -> Reply:
    """The browser's CORS preflight before PromisePay.js posts a card or bank account: 200, empty, with the
    recorded `Access-Control-*` headers (code, recorded: every core response carries them)."""
    return Reply(200, None, raw=b"", content_type="text/plain")


@bp.route("/card_accounts", methods=["POST"], provide_automatic_options=False)
@operation("create_card_account", auth=authenticate_core_or_token, codec=CORE_CODEC)
def create_card_account(call: Call) -> Reply:
    """Create a card account: 201, `Location`, the recorded body without `card`; only the masked number is kept."""
    callbacks.dispatch_pending(call)
    issued = _redeem(call, "card")
    account = call.state.create_card_account(
        _body(call), now=call.now, new_id=call.fake.uuid4(), unknown_user_style=_style(call)
    )
    if issued is not None:
        issued.uses += 1  # only a card account that was made uses the token up
    callbacks.notify(call, [Notice("accounts", account.id, {"card_accounts": account.to_wire()})])
    body = {"card_accounts": account.to_wire(with_card=False)}
    return Reply(201, body, {"Location": f"/card_accounts/{account.id}"})


@bp.route("/card_accounts/<account_id>", methods=["GET"], provide_automatic_options=False)
@operation("get_card_account", codec=CORE_CODEC)
def get_card_account(call: Call) -> Reply:
    account = call.state.card_account(call.path_args["account_id"])
    return Reply(200, {"card_accounts": account.to_wire()})


@bp.route("/card_accounts/<account_id>", methods=["DELETE"], provide_automatic_options=False)
@operation("delete_card_account", codec=CORE_CODEC)
def delete_card_account(call: Call) -> Reply:
    """(code, recorded) card_accounts_deactivated.yml: 200 `{"code":808,"message":"Successfully redacted account."}`."""
    account = call.state.redact_card_account(call.path_args["account_id"], now=call.now)
    callbacks.notify(call, [Notice("accounts", account.id, {"card_accounts": account.to_wire()})])
    return Reply(200, {"code": 808, "message": errors.MSG_REDACTED})


@bp.route("/card_accounts/<account_id>/users", methods=["GET"], provide_automatic_options=False)
@operation("get_card_account_user", codec=CORE_CODEC)
def get_card_account_user(call: Call) -> Reply:
    account = call.state.card_account(call.path_args["account_id"])
    return Reply(200, {"users": call.state.users[account.user_id].to_wire(self_link=call.request.path)})


@bp.route("/users/<user_id>/card_accounts", methods=["GET"], provide_automatic_options=False)
@operation("get_user_card_accounts", codec=CORE_CODEC)
def get_user_card_accounts(call: Call) -> Reply:
    """(code, recorded) users_card_account.yml: one object; none is the recorded 422 "no account found"."""
    account = call.state.user_card_account(call.path_args["user_id"], unknown_user_style=_style(call))
    return Reply(200, {"card_accounts": account.to_wire(self_link=call.request.path)})


# -- bank accounts (docs/providers/zai.md#bank-accounts) ------------------------------------------------------------


@bp.route("/bank_accounts", methods=["POST"], provide_automatic_options=False)
@operation("create_bank_account", auth=authenticate_core_or_token, codec=CORE_CODEC)
def create_bank_account(call: Call) -> Reply:
    callbacks.dispatch_pending(call)
    issued = _redeem(call, "bank")
    account = call.state.create_bank_account(
        _body(call), now=call.now, new_id=call.fake.uuid4(), unknown_user_style=_style(call)
    )
    if issued is not None:
        issued.uses += 1
    callbacks.notify(call, [Notice("accounts", account.id, {"bank_accounts": account.to_wire()})])
    body = {"bank_accounts": account.to_wire(created=True)}
    return Reply(201, body, {"Location": f"/bank_accounts/{account.id}"})


@bp.route("/bank_accounts/<account_id>", methods=["GET"], provide_automatic_options=False)
@operation("get_bank_account", codec=CORE_CODEC)
def get_bank_account(call: Call) -> Reply:
    """`include_decrypted_fields=true` shows the full numbers (code: the gem's show)."""
    account = call.state.bank_account(call.path_args["account_id"])
    decrypted = str(call.query.get("include_decrypted_fields", "")).lower() == "true"
    return Reply(200, {"bank_accounts": account.to_wire(decrypted=decrypted)})


@bp.route("/bank_accounts/<account_id>", methods=["DELETE"], provide_automatic_options=False)
@operation("delete_bank_account", codec=CORE_CODEC)
def delete_bank_account(call: Call) -> Reply:
    """(code, recorded) bank_accounts_deactivated.yml: the message has no full stop, unlike the card one's."""
    account = call.state.redact_bank_account(call.path_args["account_id"], now=call.now)
    callbacks.notify(call, [Notice("accounts", account.id, {"bank_accounts": account.to_wire()})])
    return Reply(200, {"code": 808, "message": errors.MSG_REDACTED.rstrip(".")})


@bp.route("/bank_accounts/<account_id>/users", methods=["GET"], provide_automatic_options=False)
@operation("get_bank_account_user", codec=CORE_CODEC)
def get_bank_account_user(call: Call) -> Reply:
    account = call.state.bank_account(call.path_args["account_id"])
    return Reply(200, {"users": call.state.users[account.user_id].to_wire(self_link=call.request.path)})


@bp.route("/users/<user_id>/bank_accounts", methods=["GET"], provide_automatic_options=False)
@operation("get_user_bank_accounts", codec=CORE_CODEC)
def get_user_bank_accounts(call: Call) -> Reply:
    account = call.state.user_bank_account(call.path_args["user_id"], unknown_user_style=_style(call))
    return Reply(200, {"bank_accounts": account.to_wire(self_link=call.request.path)})


@bp.route("/users/<user_id>/disbursement_account", methods=["PATCH", "POST"], provide_automatic_options=False)
@operation("set_disbursement_account", codec=CORE_CODEC)
def set_disbursement_account(call: Call) -> Reply:
    """(code, recorded) users_disbursement_account.yml (sent as POST in 2016; the docs say PATCH): 200, code 801."""
    call.state.set_disbursement_account(
        call.path_args["user_id"], _body(call).get("account_id"), unknown_user_style=_style(call), now=call.now
    )
    return Reply(200, {"code": 801, "message": errors.MSG_USER_UPDATED})


@bp.route("/tools/routing_number", methods=["GET"], provide_automatic_options=False)
@operation("validate_routing_number", codec=CORE_CODEC)
def validate_routing_number(call: Call) -> Reply:
    """(code, recorded) bank_accounts_validate_*.yml: a known US routing number, else 404 with body `null`."""
    found = ROUTING_NUMBERS.get(str(call.query.get("routing_number", "")))
    return Reply(200, {"routing_number": found}) if found else Reply(404, None, raw=b"null")


# -- wallet accounts (docs/providers/zai.md#wallet-accounts) --------------------------------------------------------


@bp.route("/wallet_accounts/<account_id>", methods=["GET"], provide_automatic_options=False)
@operation("get_wallet_account", codec=CORE_CODEC)
def get_wallet_account(call: Call) -> Reply:
    return Reply(200, {"wallet_accounts": call.state.wallet_account(call.path_args["account_id"]).to_wire()})


@bp.route("/wallet_accounts/<account_id>/users", methods=["GET"], provide_automatic_options=False)
@operation("get_wallet_account_user", codec=CORE_CODEC)
def get_wallet_account_user(call: Call) -> Reply:
    wallet = call.state.wallet_account(call.path_args["account_id"])
    return Reply(200, {"users": call.state.users[wallet.user_id].to_wire(self_link=call.request.path)})


@bp.route("/wallet_accounts/<account_id>/transactions", methods=["GET"], provide_automatic_options=False)
@operation("list_wallet_transactions", codec=CORE_CODEC)
def list_wallet_transactions(call: Call) -> Reply:
    """The wallet's credits and debits (inferred: the wallet's `links.transactions`, as `/transactions`)."""
    wallet = call.state.wallet_account(call.path_args["account_id"])
    found = [t for t in call.state.transactions.values() if t.account_id == wallet.id]
    limit, offset = _page(call)
    return Reply(200, _listing(call, "transactions", [t.to_wire() for t in found[offset : offset + limit]], len(found)))


@bp.route("/users/<user_id>/wallet_accounts", methods=["GET"], provide_automatic_options=False)
@operation("get_user_wallet_accounts", codec=CORE_CODEC)
def get_user_wallet_accounts(call: Call) -> Reply:
    """(code, recorded) users_wallet_account.yml: the user's wallet, as one object."""
    user = call.state.get_user(call.path_args["user_id"], unknown_user_style=_style(call))
    wallet = call.state.wallet_of(user.id)
    return Reply(200, {"wallet_accounts": wallet.to_wire(self_link=call.request.path)})


# -- items (docs/providers/zai.md#items) ----------------------------------------------------------------------------


@bp.route("/items", methods=["POST"], provide_automatic_options=False)
@operation("create_item", codec=CORE_CODEC)
def create_item(call: Call) -> Reply:
    """Create an item in `pending` (22000): 201, `Location`, links.self `/items` (code, recorded)."""
    callbacks.dispatch_pending(call)
    state: ZaiState = call.state
    item = state.create_item(_body(call), now=call.now, new_id=call.fake.uuid4(), unknown_user_style=_style(call))
    callbacks.notify(call, _item_notice(state, item))
    return Reply(201, {"items": item.to_wire(state.users, self_link="/items")}, {"Location": f"/items/{item.id}"})


@bp.route("/items", methods=["GET"], provide_automatic_options=False)
@operation("list_items", codec=CORE_CODEC)
def list_items(call: Call) -> Reply:
    limit, offset = _page(call)
    items, total = call.state.list_items(limit=limit, offset=offset, search=call.query.get("search") or None)
    entries = [item.summary(call.state.users) for item in items]
    return Reply(200, _listing(call, "items", entries, total, links_first=True))


@bp.route("/users/<user_id>/items", methods=["GET"], provide_automatic_options=False)
@operation("list_user_items", codec=CORE_CODEC)
def list_user_items(call: Call) -> Reply:
    """(code, recorded) users_items.yml / users_items_empty.yml: the user's items as buyer or seller."""
    user = call.state.get_user(call.path_args["user_id"], unknown_user_style=_style(call))
    limit, offset = _page(call)
    items, total = call.state.list_items(limit=limit, offset=offset, search=None, user_id=user.id)
    body = _listing(call, "items", [item.summary(call.state.users) for item in items], total, links_first=True)
    body["links"] = {"self": "/items"} if not items else body["links"]  # (code, recorded) users_items_empty.yml
    return Reply(200, body)


@bp.route("/items/<item_id>", methods=["GET"], provide_automatic_options=False)
@operation("get_item", codec=CORE_CODEC)
def get_item(call: Call) -> Reply:
    return _item_reply(call, call.state.get_item(call.path_args["item_id"]), notify=False)


@bp.route("/items/<item_id>", methods=["PATCH"], provide_automatic_options=False)
@operation("update_item", codec=CORE_CODEC)
def update_item(call: Call) -> Reply:
    return _item_reply(call, call.state.update_item(call.path_args["item_id"], _body(call), now=call.now))


@bp.route("/items/<item_id>", methods=["DELETE"], provide_automatic_options=False)
@operation("delete_item", codec=CORE_CODEC)
def delete_item(call: Call) -> Reply:
    call.state.delete_item(call.path_args["item_id"])
    return Reply(200, {"items": "Successfully redacted"})  # (inferred) as the Callbacks API's delete (doc)


@bp.route("/items/<item_id>/buyers", methods=["GET"], provide_automatic_options=False)
@operation("get_item_buyer", codec=CORE_CODEC)
def get_item_buyer(call: Call) -> Reply:
    item = call.state.get_item(call.path_args["item_id"])
    return Reply(200, {"users": call.state.users[item.buyer_id].to_wire(self_link=call.request.path)})


@bp.route("/items/<item_id>/sellers", methods=["GET"], provide_automatic_options=False)
@operation("get_item_seller", codec=CORE_CODEC)
def get_item_seller(call: Call) -> Reply:
    item = call.state.get_item(call.path_args["item_id"])
    return Reply(200, {"users": call.state.users[item.seller_id].to_wire(self_link=call.request.path)})


@bp.route("/items/<item_id>/status", methods=["GET"], provide_automatic_options=False)
@operation("get_item_status", codec=CORE_CODEC)
def get_item_status(call: Call) -> Reply:
    """(code, recorded) items_status.yml: `{"items":{"id","status","state"}}`."""
    item = call.state.get_item(call.path_args["item_id"])
    return Reply(200, {"items": {"id": item.id, "status": item.status, "state": item.state}})


@bp.route("/items/<item_id>/fees", methods=["GET"], provide_automatic_options=False)
@operation("list_item_fees", codec=CORE_CODEC)
def list_item_fees(call: Call) -> Reply:
    """(code, recorded) items_fees_empty.yml: no fee is emulated, so the list is always empty."""
    call.state.get_item(call.path_args["item_id"])
    return Reply(200, _listing(call, "fees", [], 0))


@bp.route("/items/<item_id>/transactions", methods=["GET"], provide_automatic_options=False)
@operation("list_item_transactions", codec=CORE_CODEC)
def list_item_transactions(call: Call) -> Reply:
    found = call.state.item_transactions(call.path_args["item_id"])
    limit, offset = _page(call)
    entries = [t.to_wire() for t in found[offset : offset + limit]]
    return Reply(200, _listing(call, "transactions", entries, len(found)))


@bp.route("/items/<item_id>/wire_details", methods=["GET"], provide_automatic_options=False)
@operation("get_item_wire_details", codec=CORE_CODEC)
def get_item_wire_details(call: Call) -> Reply:
    return Reply(200, {"items": call.state.get_item(call.path_args["item_id"]).wire_details()})


# -- item actions (docs/providers/zai.md#item-state-machine) --------------------------------------------------------


@bp.route("/items/<item_id>/make_payment", methods=["PATCH"], provide_automatic_options=False)
@operation("make_payment", codec=CORE_CODEC)
def make_payment(call: Call) -> Reply:
    item = call.state.make_payment(call.path_args["item_id"], _body(call), now=call.now, ids=_ids(call))
    return _item_reply(call, item)


@bp.route("/items/<item_id>/make_payment_async", methods=["PATCH"], provide_automatic_options=False)
@operation("make_payment_async", codec=CORE_CODEC)
def make_payment_async(call: Call) -> Reply:
    """(doc) `{payment_id, account_id, payment_token, items}`; the 3DS2 component then settles the payment."""
    state: ZaiState = call.state
    item = state.make_payment_async(call.path_args["item_id"], _body(call), now=call.now, ids=_ids(call))
    callbacks.notify(call, _item_notice(state, item))
    body = {
        "payment_id": item.payment_id,
        "account_id": item.account_id,
        "payment_token": item.payment_token,
        "items": item.to_wire(state.users, self_link=call.request.path),
    }
    return Reply(200, body)


@bp.route("/items/<item_id>/authorize_payment", methods=["PATCH"], provide_automatic_options=False)
@operation("authorize_payment", codec=CORE_CODEC)
def authorize_payment(call: Call) -> Reply:
    return _item_reply(call, call.state.authorize_payment(call.path_args["item_id"], _body(call), now=call.now))


@bp.route("/items/<item_id>/capture_payment", methods=["PATCH"], provide_automatic_options=False)
@operation("capture_payment", codec=CORE_CODEC)
def capture_payment(call: Call) -> Reply:
    item = call.state.capture_payment(call.path_args["item_id"], _body(call), now=call.now, ids=_ids(call))
    return _item_reply(call, item)


@bp.route("/items/<item_id>/void_payment", methods=["PATCH"], provide_automatic_options=False)
@operation("void_payment", codec=CORE_CODEC)
def void_payment(call: Call) -> Reply:
    return _item_reply(call, call.state.void_payment(call.path_args["item_id"], now=call.now))


@bp.route("/items/<item_id>/cancel", methods=["PATCH"], provide_automatic_options=False)
@operation("cancel_item", codec=CORE_CODEC)
def cancel_item(call: Call) -> Reply:
    return _item_reply(call, call.state.cancel_item(call.path_args["item_id"], now=call.now))


@bp.route("/items/<item_id>/release_payment", methods=["PATCH"], provide_automatic_options=False)
@operation("release_payment", codec=CORE_CODEC)
def release_payment(call: Call) -> Reply:
    item = call.state.release_payment(call.path_args["item_id"], now=call.now, ids=_ids(call))
    return _item_reply(call, item)


@bp.route("/items/<item_id>/refund", methods=["PATCH"], provide_automatic_options=False)
@operation("refund_item", codec=CORE_CODEC)
def refund_item(call: Call) -> Reply:
    item = call.state.refund(call.path_args["item_id"], _body(call), now=call.now, ids=_ids(call))
    return _item_reply(call, item)


@bp.route("/items/<item_id>/request_refund", methods=["PATCH"], provide_automatic_options=False)
@operation("request_refund", codec=CORE_CODEC)
def request_refund(call: Call) -> Reply:
    return _item_reply(call, call.state.request_refund(call.path_args["item_id"], _body(call), now=call.now))


@bp.route("/items/<item_id>/decline_refund", methods=["PATCH"], provide_automatic_options=False)
@operation("decline_refund", codec=CORE_CODEC)
def decline_refund(call: Call) -> Reply:
    return _item_reply(call, call.state.decline_refund(call.path_args["item_id"], now=call.now))


# -- transactions ---------------------------------------------------------------------------------------------------


@bp.route("/transactions", methods=["GET"], provide_automatic_options=False)
@operation("list_transactions", codec=CORE_CODEC)
def list_transactions(call: Call) -> Reply:
    """(doc) filters item_id, account_id, user_id; (code, recorded) transactions_empty.yml: no key when empty."""
    found = list(call.state.transactions.values())
    for name in ("item_id", "account_id", "user_id"):
        wanted = call.query.get(name)
        if wanted:
            found = [t for t in found if (t.item_id if name == "item_id" else getattr(t, name)) == wanted]
    limit, offset = _page(call)
    entries = [t.to_wire() for t in found[offset : offset + limit]]
    return Reply(200, _listing(call, "transactions", entries, len(found)))


@bp.route("/transactions/<transaction_id>", methods=["GET"], provide_automatic_options=False)
@operation("get_transaction", codec=CORE_CODEC)
def get_transaction(call: Call) -> Reply:
    return Reply(200, {"transactions": call.state.get_transaction(call.path_args["transaction_id"]).to_wire()})


# -- admin actions: what the browser or the bank would do (POST /__admin/actions/zai/<tenant>/<name>) --------------


def admin_three_d_secure(context: TenantContext, item_id: str, approved: bool = True) -> dict[str, Any]:
    """The buyer finishes (or fails) the 3DS2 challenge of a make_payment_async."""
    item = context.state.complete_three_d_secure(
        item_id, approved=as_bool(approved), now=context.now, ids=context.uuid4
    )
    callbacks.notify(context, _item_notice(context.state, item))
    return {"items": item.to_wire(context.state.users)}


def admin_clear_direct_debit(context: TenantContext, item_id: str) -> dict[str, Any]:
    """The direct debit of a `payment_pending` item clears (its bank transfer arrives)."""
    item = context.state.clear_direct_debit(item_id, now=context.now, ids=context.uuid4)
    callbacks.notify(context, _item_notice(context.state, item))
    return {"items": item.to_wire(context.state.users)}


def admin_deposit(context: TenantContext, amount: int, user_id: str | None = None, wallet_id: str | None = None) -> Any:
    """Money arrives in a user's wallet (a bank transfer or PayID payin): `amount` cents, by user or wallet id."""
    state: ZaiState = context.state
    if wallet_id is None:
        wallet_id = state.wallet_of(state.get_user(str(user_id), unknown_user_style="recorded").id).id
    transaction = state.deposit(wallet_id, int(amount), now=context.now, ids=context.uuid4)
    callbacks.notify(context, [Notice("transactions", transaction.id, {"transactions": transaction.to_wire()})])
    return {"wallet_accounts": state.wallet_accounts[wallet_id].to_wire()}
