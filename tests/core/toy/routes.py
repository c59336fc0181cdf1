"""Toy's views: thin; the model and the core's pipeline do the work."""

from __future__ import annotations

import json

from flask import Blueprint

from emulator.core import tokens
from emulator.core.errors import Reply
from emulator.core.provider import Call, TenantContext, operation
from emulator.core.tenants import Tenant
from tests.core.toy import errors

bp = Blueprint("toy", __name__)


def authenticate_merchant(call: Call) -> Tenant:
    call.validate()
    tenant = call.runtime.tenants["toy"].admit(call.body["merchant"], lambda: {"key": call.body["key"], "secret": "s"})
    if tenant is None:
        raise errors.BadCredentials()
    call.name_tenant(tenant)
    if tenant.get("key") != call.body["key"]:
        raise errors.BadCredentials()
    return tenant


def authenticate_bearer(call: Call) -> Tenant:
    header = call.headers.get("Authorization", "")
    token = header.removeprefix("Bearer ").strip()
    try:
        claims = tokens.claims(token)
        tenant = call.runtime.tenants["toy"].get(str(claims.get("merchant")))
        if tenant is None:
            raise errors.TokenRejected()
        call.name_tenant(tenant)
        call.auth = tokens.decode(token, tenant["secret"])
    except tokens.TokenError as exc:
        raise errors.TokenRejected() from exc
    return tenant


@bp.route("/toy/tokens", methods=["POST"])
@operation("issue_token", auth=authenticate_merchant)
def issue_token(call: Call) -> Reply:
    return Reply(200, {"code": "ok", "token": call.state.issue(call.uuid4(), now=call.now)})


@bp.route("/toy/lookup", methods=["POST"])
@operation("lookup")
def lookup(call: Call) -> Reply:
    call.state.accept(call.auth, now=call.now, single_use=call.option("single_use_tokens"))
    return Reply(200, {"code": "ok", "item": call.body["item"], "greeting": call.option("greeting")})


@bp.route("/toy/notify", methods=["POST"])
@operation("notify")
def notify(call: Call) -> Reply:
    delivery = send(call, "notified", {"item": call.body["item"]})
    return Reply(200, {"code": "ok", "delivery": delivery.id if delivery else None})


def send(context: TenantContext, event: str, data: dict) -> object | None:
    """Queue a callback to the tenant's `callback_url`, if it has one."""
    url = context.callback_url()
    if not url:
        return None
    body = json.dumps({"event": event, "merchant": context.tenant.id, **data}).encode()
    signature = tokens.encode({"event": event}, context.tenant["secret"])
    headers = {"Content-Type": "application/json", "X-Toy-Signature": signature}
    return context.send_callback(
        url=url, body=body, headers=headers, event=event, retry_delays=context.callback_retry_delays((60.0, 120.0))
    )


def on_clock(context: TenantContext, now: float) -> None:
    """Announce each token's expiry once, when the virtual clock passes it."""
    for token_id in context.state.newly_expired(now):
        send(context, "token_expired", {"token": token_id})
