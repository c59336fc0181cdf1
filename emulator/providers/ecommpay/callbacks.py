"""Ecommpay callbacks: token events and payment results. Build the body, sign it
(docs/providers/ecommpay.md#signature), encode it as PHP does, hand it to the core
(docs/providers/ecommpay.md#callbacks).

Two published layouts (docs/providers/ecommpay.md#q3, option `callback_layout`): `ecommpay` (doc, the provider's page:
`general{project_id, customer_id, signature}` + `request` + token fields) and `rocketpay` (doc, the
white-label's newer revision: top-level `project_id`, `customer{id}`, `request`, token fields, `signature`).
"""

from __future__ import annotations

import json
from typing import Any

from emulator.core.clock import to_datetime
from emulator.core.provider import TenantContext
from emulator.providers.ecommpay import signing
from emulator.providers.ecommpay.model import CardToken, Operation, Payment, created_at_text

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
    return context.random_hex(28)


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


# (inferred) docs/providers/ecommpay.md#payment-callbacks: the provider block's endpoint id
PROVIDER_ENDPOINT_ID = 1176
EVENT_PAYMENT = "payment"


def gate_time(epoch: float) -> str:
    """`2019-02-25T16:12:37+0000`, the Gate's date format (doc, docs/providers/ecommpay.md#payment-callbacks)."""
    return to_datetime(epoch).strftime("%Y-%m-%dT%H:%M:%S+0000")


def _sum(amount: int, currency: str) -> dict[str, Any]:
    return {"amount": amount, "currency": currency}


def operation_object(operation: Operation) -> dict[str, Any]:
    """One `operation` (callback) or `operations[]` item (status): ids, type, status, sums, code, provider."""
    body: dict[str, Any] = {
        "id": operation.id,
        "type": operation.type,
        "status": operation.status,
        "date": gate_time(operation.updated_at),
        "created_date": gate_time(operation.created_at),
        "request_id": operation.request_id,
        "sum_initial": _sum(operation.amount, operation.currency),
        "sum_converted": _sum(operation.amount, operation.currency),
        "code": operation.code,
        "message": operation.message,
    }
    provider: dict[str, Any] = {
        "id": PROVIDER_ENDPOINT_ID,
        "payment_id": str(operation.id),
        "date": gate_time(operation.updated_at),
    }
    if operation.auth_code is not None:
        provider["auth_code"] = operation.auth_code
    body["provider"] = provider
    return body


def payment_info(context: TenantContext, payment: Payment) -> dict[str, Any]:
    """The parts a payment callback and a status response share: project, payment, account, customer.

    No value is ever null or a float, so every published SDK's canonicalisation agrees with the Gate's
    (docs/providers/ecommpay.md#signature-edge-cases)."""
    summary: dict[str, Any] = {
        "id": payment.id,
        "type": payment.type,
        "status": payment.status,
        "date": gate_time(payment.updated_at),
        "method": "card",
        "sum": _sum(payment.amount, payment.currency),
    }
    if payment.description:
        summary["description"] = payment.description
    card = payment.card
    account: dict[str, Any] = {
        "number": card.number,
        "type": card.card_type,
        "card_holder": card.holder,
        "expiry_month": f"{card.month:02d}",
        "expiry_year": str(card.year),
    }
    if payment.token:
        account["token"] = payment.token  # (inferred) docs/providers/ecommpay.md#automatic-tokens
        record = context.state.tokens.get(payment.token)
        if payment.token_created and record is not None:
            account["token_created_at"] = created_at_text(record.created_at, context.option("token_created_at_format"))
    return {
        "project_id": project_id(context),
        "payment": summary,
        "account": account,
        "customer": {"id": payment.customer_id},
    }


def payment_event(
    context: TenantContext, payment: Payment, operation: Operation, *, acs_url: str | None = None
) -> dict:
    """The unsigned body of a payment callback: the payment and the operation that just changed
    (doc, docs/providers/ecommpay.md#payment-callbacks); with `acs` while 3-D Secure is awaited."""
    body = payment_info(context, payment)
    body["operation"] = operation_object(operation)
    if acs_url is not None and payment.acs_md is not None:
        body["acs"] = {  # (code) docs/providers/ecommpay.md#3-d-secure: the QA stub's awaiting-3ds callback
            "pa_req": pa_req(payment),
            "md": payment.acs_md,
            "acs_url": acs_url,
        }
        if payment.acs_term_url:
            body["acs"]["term_url"] = payment.acs_term_url
    return body


def status_body(context: TenantContext, payment: Payment, *, acs_url: str | None = None) -> dict[str, Any]:
    """The `/v2/payment/status` answer: the payment with all its operations (code,
    docs/providers/ecommpay.md#status)."""
    body = payment_info(context, payment)
    body["operations"] = [operation_object(operation) for operation in payment.operations]
    if acs_url is not None and payment.acs_md is not None:
        body["acs"] = {"pa_req": pa_req(payment), "md": payment.acs_md, "acs_url": acs_url}
    return body


def pa_req(payment: Payment) -> str:
    """An opaque PaReq for the emulated ACS (Base64, as real ones are)."""
    import base64

    return base64.b64encode(f"payemu-pareq:{payment.id}:{payment.acs_md}".encode()).decode("ascii")


def signed(context: TenantContext, body: dict[str, Any]) -> dict[str, Any]:
    """Insert the signature where the layout keeps it: `general.signature`, else top-level `signature`."""
    variant = signing.ORDER_VARIANTS.get(str(context.option("signature_order")), signing.PHP)
    signature = signing.sign(body, secret_of(context), variant=variant)
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
