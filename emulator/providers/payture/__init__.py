"""Payture EWallet (`/vwapi/*`), its hosted card pages, and the behind-API V21 wrapper (docs/providers/payture.md)."""

from __future__ import annotations

from pathlib import Path

from emulator.core.contracts import Violation
from emulator.core.provider import Auth, Call, Provider
from emulator.providers.payture import errors, routes_behind, wire  # routes_behind: registers the V21 routes
from emulator.providers.payture.model import PaytureState
from emulator.providers.payture.routes import bp
from emulator.providers.payture.wire import PaytureCodec

# Recorded defaults of the open questions (docs/providers/payture.md#open-questions); each can be set per tenant, per
# scenario, or per server (`--option payture.NAME=VALUE`).
OPTIONS = {
    "session_lifetime_minutes": 60,  # (doc) docs/providers/payture.md#init: 60 min unless Payture support changes it
    "attempts_count": 5,  # (code: wrapper) docs/providers/payture.md#init: AttemptsCount="5"
    "init_extras": True,  # (inferred) docs/providers/payture.md#init, #q1: SessionLifeTime + AttemptsCount on Init
    "add_amount": "zero",  # (code: Necronru docblock) docs/providers/payture.md#init: Amount="0" for Add | echo
    # (inferred) docs/providers/payture.md#q3: {orderid} of an Add session = SessionId | empty
    "add_orderid": "session",
    # (doc) docs/providers/payture.md#getlist: NoCVV="False" | lower (docs/providers/payture.md#q2)
    "bool_case": "title",
    # (doc) docs/providers/payture.md#add-page: the result shows, then the redirect after 3 s
    "redirect_delay_seconds": 3,
    "hosted_outcome": None,  # scenarios force the hosted page's outcome: decline | 3ds | expired | ...
    "no_cvv": False,  # (inferred) cards registered on this merchant get NoCVV="True"
    # (doc) docs/providers/payture.md#register: support can enable registration on the first Add
    "auto_register": False,
    "notification_url": None,  # overrides the tenant's notification_url (docs/providers/payture.md#notifications)
    "wrapper_return_url": "http://localhost:3000/payment/callback?orderid={orderid}&result={success}",
    # ^ (code: wrapper README test config callbackUrl; it reads `result` and `orderid`)
    "wrapper_bool_style": "lower",  # (code: wrapper README) "false" | passthrough (docs/providers/payture.md#q2)
    # (recorded) docs/providers/payture.md#init: a failed Init has no SessionId; true restores SessionId=""
    "failed_init_session_id": False,
    # (doc) docs/providers/payture.md#notifications: sent once by default; support can set retries ("60,300")
    "callback_retry_delays": None,
    # (doc) docs/providers/payture.md#test-cards: a time-out card's operation takes 40 s (of the virtual clock)
    "timeout_seconds": 40,
    # (doc) docs/providers/payture.md#activate: none (cards active at once, the sandbox default) | hold
    "activation": "none",
    # (inferred) docs/providers/payture.md#hosted-pages: the page language when Init names none (RU | EN)
    "default_language": "RU",
}

WRAPPER_OPERATIONS = frozenset({"v21_init", "v21_init_unauthorised", "v21_finalise"})


def contract_error(call: Call, violations: list[Violation]) -> errors.ProviderError:
    """(inferred) docs/providers/payture.md#errcodes: a missing or malformed parameter is WRONG_PARAMS, in the command's
    root element."""
    first = violations[0]
    if call.operation in WRAPPER_OPERATIONS or wire.serving_wrapper():
        where = f"{first.location}.{first.field}" if first.field else first.location
        if first.keyword in ("decode", "size") or not call.operation:
            # (inferred) an unreadable body under /api/: the wrapper's JSON shape, HTTP 400
            return errors.WrapperError(errors.WrapperError.BAD_JSON, detail=f"{where}: {first.message}", status=400)
        message = routes_behind.MSG_NO_LIST if call.operation == "v21_finalise" else errors.WrapperError.FAILED
        return errors.WrapperError(message, detail=f"{where}: {first.message}")
    error = errors.PaytureError("WRONG_PARAMS")
    error.init_session_id = call.operation == "init" and call.flag("failed_init_session_id")
    return error


HOSTED_OPERATIONS = ("add", "submit_card", "acs")
TERMINAL_OPERATIONS = ("register", "check", "update", "delete", "init", "get_list", "remove", "pay", "add")
TERMINAL_OPERATIONS += ("pay_status", "charge", "unblock", "refund", "activate", "send_code")
THREE_DS_OPERATIONS = ("pay_submit_3ds", "add_submit_3ds")
# (doc) docs/providers/payture.md#transport: no auth header; the terminal is a parameter, passwords travel
# in DATA or beside it
AUTH = {
    "terminal": Auth(
        {"type": "apiKey", "in": "query", "name": "VWID", "description": "the merchant's Add or Pay terminal"},
        credentials="VWID as a query or form field; the customer's VWUserPsw, or the merchant Password "
        "(Delete, Charge, Unblock, Refund), inside DATA or beside it",
        operations=TERMINAL_OPERATIONS,
    ),
    "session": Auth(
        credentials="SessionId of an Init session, as a query or form field (the hosted pages)",
        operations=(*HOSTED_OPERATIONS, "pay"),
    ),
    "three_ds": Auth(
        credentials='MD (the ThreeDSKey of a Success="3DS" reply) names the merchant; VWID may come too',
        operations=THREE_DS_OPERATIONS,
    ),
    "wrapper_bearer": Auth(
        {"type": "http", "scheme": "bearer", "description": "a behind-API access token"},
        credentials="the behind-API access token: body access_token, header AccessToken, or Authorization: Bearer",
        operations=tuple(sorted(WRAPPER_OPERATIONS)),
        optional=True,
    ),
    "wrapper_header": Auth(
        {"type": "apiKey", "in": "header", "name": "AccessToken", "description": "a behind-API access token"},
        operations=tuple(sorted(WRAPPER_OPERATIONS)),
    ),
}

PROVIDER = Provider(
    name="payture",
    description="Payture EWallet (vwapi) with its hosted Add/Pay pages, and the behind-API V21 wrapper",
    blueprint=bp,
    state_class=PaytureState,
    authenticate=routes_behind.authenticate_wrapper,  # every view names its own; see routes.py
    errors=errors.CATALOGUE,
    contract_error=contract_error,
    not_found=lambda path: errors.NotFound(path),
    method_not_allowed=lambda method: errors.MethodNotAllowed(method),
    internal_error=lambda: errors.PaytureError("INTERNAL_ERROR", status=500),  # (inferred) no 5xx is recorded
    paths=("/vwapi/", "/api/payments/"),  # /api/payments/: the wrapper's errors answer in its JSON shape
    folder=Path(__file__).parent,
    codec=PaytureCodec(),
    options=OPTIONS,
    hosts=("sandbox.payture.com", "sandbox3.payture.com", "secure.payture.com"),
    auth=AUTH,
)
