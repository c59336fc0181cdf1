"""Ecommpay Gate v2 token views at the real paths (docs/providers/ecommpay.md): thin, the model does the work.

Every accepted request is acknowledged at once (docs/providers/ecommpay.md#responses) and its result travels in a signed
callback (docs/providers/ecommpay.md#callbacks).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint

from emulator.core.errors import Reply
from emulator.core.provider import Call, operation
from emulator.core.tenants import Tenant
from emulator.providers.ecommpay import callbacks, errors, model, signing

bp = Blueprint("ecommpay", __name__)

TOKENIZE_PATH = "/v2/customer/card/tokenize"
BYTOKEN_PATH = "/v2/customer/card/bytoken"
REVOKE_PATH = "/v2/customer/card/token/revoke"
STATUS_SUCCESS = "success"


# -- error styling ------------------------------------------------------------------------------


def _project_id(call: Call) -> Any:
    body = call.body
    if not isinstance(body, dict):
        return None
    for holder in ("general", "customer"):  # payment requests carry it in general, token requests in customer
        part = body.get(holder)
        if isinstance(part, dict) and "project_id" in part:
            return part["project_id"]
    return None


def styled(call: Call, error: errors.EcommpayError, request_id: str | None = None) -> errors.EcommpayError:
    """Give an error the call's ids and the options of docs/providers/ecommpay.md#q1 (HTTP status, `errors[]`)."""
    return error.styled(
        request_id=request_id or callbacks.request_id(call),
        project_id=_project_id(call),
        status=int(call.option("error_status")),
        errors_array=call.flag("error_errors_array"),
    )


def handled(view: Callable[[Call], Reply]) -> Callable[[Call], Reply]:
    """Style every error a view or the model raises."""

    @functools.wraps(view)
    def wrapper(call: Call) -> Reply:
        try:
            return view(call)
        except errors.EcommpayError as error:
            raise styled(call, error, error.request_id) from None

    return wrapper


# -- authentication ------------------------------------------------------------------------------


def authenticate(call: Call) -> Tenant:
    """No auth header (doc, docs/providers/ecommpay.md#transport): the project is `customer.project_id`, proven by
    `customer.signature`."""
    return authenticate_with(call, "customer")


def authenticate_with(call: Call, holder: str) -> Tenant:
    """The project named by `<holder>.project_id`, proven by `<holder>.signature` over the whole body: the Gate's
    (PHP) canonical form only, or also the published SDKs' variants with `signature_check: lenient`."""
    body = call.body
    if not isinstance(body, dict):
        raise styled(call, errors.InvalidJson())  # (inferred) an empty body or a JSON non-object
    customer = body.get(holder)
    if not isinstance(customer, dict) or "project_id" not in customer:
        # (doc, secondary) docs/providers/ecommpay.md#response-codes 2004
        raise styled(call, errors.MissingField(f"{holder}.project_id"))
    project_id = customer["project_id"]
    if isinstance(project_id, bool) or not isinstance(project_id, (int, str)):
        raise styled(call, errors.ProjectNotFound(f"{holder}.project_id"))
    directory = call.runtime.tenants["ecommpay"]
    tenant = directory.admit(
        str(project_id), lambda: {"project_id": project_id, "secret": call.option("open_tenant_secret")}
    )
    if tenant is None:
        # (doc, secondary) docs/providers/ecommpay.md#response-codes 2442
        raise styled(call, errors.ProjectNotFound(f"{holder}.project_id"))
    call.name_tenant(tenant)  # so the project's own options (and bound scenario) style the errors below
    signature = customer.get("signature")
    if signature is None or signature == "":
        # (doc, secondary) docs/providers/ecommpay.md#response-codes 3262
        raise styled(call, errors.EmptySignature(f"{holder}.signature"))
    if not call.flag("check_signatures"):
        return tenant  # an explicit, emulator-only switch for hand-written replays and curl sessions
    secret = str(call.option("secret") or tenant["secret"])
    lenient = call.option("signature_check") == "lenient"
    if not isinstance(signature, str) or not signing.verify(body, signature, secret, lenient=lenient):
        # (doc, secondary) docs/providers/ecommpay.md#response-codes 3261
        raise styled(call, errors.InvalidSignature(f"{holder}.signature"))
    return tenant


# -- operations ----------------------------------------------------------------------------------


def _ack(call: Call, request_id: str) -> Reply:
    """(code) docs/providers/ecommpay.md#responses QA stub: the synchronous acceptance; the result follows in a
    callback."""
    body: dict[str, Any] = {"status": STATUS_SUCCESS, "project_id": callbacks.project_id(call)}
    if call.flag("ack_payment_id"):
        body["payment_id"] = None
    body["request_id"] = request_id
    return Reply(200, body)


def sweep(call: Call) -> None:
    """Expire due tokens first, so a call after the card's expiry sees (and reports) `expiry`."""
    callbacks.expire_and_notify(call, call.now)


@bp.route(TOKENIZE_PATH, methods=["POST"], provide_automatic_options=False)
@operation("tokenize_card")
@handled
def tokenize_card(call: Call) -> Reply:
    """Tokenize a card (docs/providers/ecommpay.md#tokenize); the token arrives in a `tokenize` callback
    (docs/providers/ecommpay.md#callbacks)."""
    sweep(call)
    request_id = callbacks.request_id(call)
    customer, card = call.body["customer"], call.body["card"]
    problem = model.check_card(card, now=call.now)
    if problem is not None:
        # (inferred) docs/providers/ecommpay.md#q2: the error travels in the callback
        if call.option("card_errors") == "callback":
            item = {"code": problem.code, "message": problem.message, "field": problem.field or ""}
            body = callbacks.token_event(
                call,
                customer_id=str(customer["id"]),
                req_id=request_id,
                action=callbacks.ACTION_TOKENIZE,
                errors=[item],
            )
            callbacks.send(call, body, callbacks.ACTION_TOKENIZE)
            return _ack(call, request_id)
        problem.request_id = request_id
        raise problem
    record, _issued = call.state.tokenize(customer, card, now=call.now, new_token=call.fake.sha256)
    body = callbacks.token_event(
        call, customer_id=record.customer_id, req_id=request_id, action=callbacks.ACTION_TOKENIZE, record=record
    )
    callbacks.send(call, body, callbacks.ACTION_TOKENIZE)
    return _ack(call, request_id)


@bp.route(BYTOKEN_PATH, methods=["POST"], provide_automatic_options=False)
@operation("card_by_token")
@handled
def card_by_token(call: Call) -> Reply:
    """Look up the masked card behind a token (docs/providers/ecommpay.md#card-by-token); the account arrives in a
    callback."""
    sweep(call)
    request_id = callbacks.request_id(call)
    record = call.state.card_by_token(str(call.body["customer"]["id"]), call.body["token"], now=call.now)
    callbacks.send(call, callbacks.account_event(record), callbacks.EVENT_BYTOKEN)
    return _ack(call, request_id)


@bp.route(REVOKE_PATH, methods=["POST"], provide_automatic_options=False)
@operation("revoke_token")
@handled
def revoke_token(call: Call) -> Reply:
    """Revoke a token (docs/providers/ecommpay.md#revoke); a `token_revoke` callback carries the new status."""
    sweep(call)
    request_id = callbacks.request_id(call)
    record = call.state.revoke(str(call.body["customer"]["id"]), call.body["token"], now=call.now)
    body = callbacks.token_event(
        call, customer_id=record.customer_id, req_id=request_id, action=callbacks.ACTION_REVOKE, record=record
    )
    callbacks.send(call, body, callbacks.ACTION_REVOKE)
    return _ack(call, request_id)
