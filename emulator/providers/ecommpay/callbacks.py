"""Ecommpay token callbacks: build the body, sign it (docs/providers/ecommpay.md#signature), encode it as PHP does, hand
it to the core (docs/providers/ecommpay.md#callbacks).

Two published layouts (docs/providers/ecommpay.md#q3, option `callback_layout`): `ecommpay` (doc, the provider's page:
`general{project_id, customer_id, signature}` + `request` + token fields) and `rocketpay` (doc, the
white-label's newer revision: top-level `project_id`, `customer{id}`, `request`, token fields, `signature`).
"""

from __future__ import annotations

import json
from typing import Any

from emulator.core.provider import TenantContext
from emulator.providers.ecommpay import signing
from emulator.providers.ecommpay.model import CardToken, created_at_text

# (doc) docs/providers/ecommpay.md#callbacks request.action values; absent = the token expired
ACTION_TOKENIZE = "tokenize"
ACTION_REVOKE = "token_revoke"
EVENT_EXPIRY = "token_expiry"  # outbox event names (ours): the action, or these
EVENT_BYTOKEN = "card_by_token"
STATUS_SUCCESS = "success"
STATUS_ERROR = "error"
CALLBACK_HEADERS = {"Content-Type": "application/json"}  # (inferred) docs/providers/ecommpay.md#callbacks: JSON POST


def php_json(body: Any) -> bytes:
    """Encode like PHP's json_encode: ASCII only, `/` escaped as `\\/` (doc: `\\/` in the example of
    docs/providers/ecommpay.md#callbacks)."""
    return json.dumps(body, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode("ascii")


def request_id(context: TenantContext) -> str:
    """A request id like the published `3c7f53fdbb5b8c96f9707457d75f` (28 hex, doc,
    docs/providers/ecommpay.md#callbacks)."""
    return context.fake.hexify("^" * 28)


def project_id(context: TenantContext) -> int | str:
    pid = context.tenant.id if context.tenant else ""
    return int(pid) if pid.isdigit() else pid


def secret_of(context: TenantContext) -> str:
    assert context.tenant is not None
    return str(context.option("secret") or context.tenant["secret"])


def token_event(
    context: TenantContext,
    *,
    customer_id: str,
    req_id: str,
    action: str | None,
    record: CardToken | None = None,
    errors: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The unsigned body of a tokenize / token_revoke / expiry callback in the configured layout."""
    request: dict[str, Any] = {"id": req_id}
    if action is not None:
        request["action"] = action
    request["status"] = STATUS_ERROR if errors else STATUS_SUCCESS
    if errors:
        request["errors"] = errors
    pid = project_id(context)
    if context.option("callback_layout") == "rocketpay":
        body: dict[str, Any] = {"project_id": pid, "customer": {"id": customer_id}, "request": request}
    else:
        body = {"general": {"project_id": pid, "customer_id": customer_id}, "request": request}
    if record is not None:
        body["token"] = record.token
        body["token_created_at"] = created_at_text(record.created_at, context.option("token_created_at_format"))
        body["token_status"] = record.status
    return body


def account_event(record: CardToken) -> dict[str, Any]:
    """The unsigned body of the `bytoken` callback: the masked payment instrument (doc,
    docs/providers/ecommpay.md#card-by-token, corrected)."""
    additional: dict[str, Any] = {}
    for name in ("country", "phone", "email"):
        value = getattr(record, name)
        if value is not None:
            additional[name] = value
    additional["card"] = {"expiry": record.expiry, "holder": record.holder, "type": record.card_type}
    return {
        "account": {
            "id": record.account_id,
            "number": record.number,
            "type": "card",
            "additional": additional,
            "recurring_enable": False,
        },
        "token": record.token,
    }


def signed(context: TenantContext, body: dict[str, Any]) -> dict[str, Any]:
    """Insert the signature where the layout keeps it: `general.signature`, else top-level `signature`."""
    signature = signing.sign(body, secret_of(context), order=context.option("signature_order"))
    if "general" in body:
        body["general"]["signature"] = signature
    else:
        body["signature"] = signature
    return body


def send(context: TenantContext, body: dict[str, Any], event: str) -> Any:
    """Sign and queue one callback to the project's URL; nothing is sent when no URL is configured."""
    url = context.callback_url(getattr(context.state, "callback_url", None))  # a run-time override first
    if not url:
        return None
    payload = php_json(signed(context, body))
    return context.send_callback(
        url=url, body=payload, headers=dict(CALLBACK_HEADERS), event=event, success_codes=(200,)
    )  # (doc) the merchant must answer 200 OK


def expire_and_notify(context: TenantContext, now: float) -> int:
    """Move the project's expired tokens to `expiry`, each with an unprompted action-less callback
    (docs/providers/ecommpay.md#tokens)."""
    count = 0
    for record in context.state.expire_due(now):
        body = token_event(
            context, customer_id=record.customer_id, req_id=request_id(context), action=None, record=record
        )
        send(context, body, EVENT_EXPIRY)
        count += 1
    return count
