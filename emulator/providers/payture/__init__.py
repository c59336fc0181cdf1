"""Payture EWallet (`/vwapi/*`), its hosted card pages, and the behind-API V21 wrapper (provider-spec §3)."""

from __future__ import annotations

from pathlib import Path

from emulator.core.contracts import Violation
from emulator.core.provider import Auth, Call, Provider
from emulator.providers.payture import behind, errors  # behind: registers the V21 routes on the blueprint
from emulator.providers.payture.model import PaytureState
from emulator.providers.payture.routes import bp
from emulator.providers.payture.wire import PaytureCodec

# Recorded defaults of the spec's open questions (§3.13); each can be set per tenant, per scenario,
# or per server (`--option payture.NAME=VALUE`).
OPTIONS = {
    "session_lifetime_minutes": 60,  # (doc) §3.4: 60 min unless Payture support changes it
    "attempts_count": 5,  # (code: wrapper) §3.4: AttemptsCount="5"
    "init_extras": True,  # (inferred) §3.4/§3.13 q1: SessionLifeTime + AttemptsCount on Init
    "add_amount": "zero",  # (code: Necronru docblock) §3.4: Amount="0" for Add | echo
    "add_orderid": "session",  # (inferred) §3.13 q3: {orderid} of an Add session = SessionId | empty
    "bool_case": "title",  # (doc) §3.6: NoCVV="False" | lower (§3.13 q2)
    "redirect_delay_seconds": 3,  # (doc) §3.5: the result shows, then the redirect after 3 s
    "hosted_outcome": None,  # scenarios force the hosted page's outcome: decline | 3ds | expired | ...
    "no_cvv": False,  # (inferred) cards registered on this merchant get NoCVV="True"
    "auto_register": False,  # (doc) §3.2: support can enable registration on the first Add
    "notification_url": None,  # overrides the tenant's notification_url (§3.11)
    "wrapper_return_url": "http://localhost:3000/payment/callback?orderid={orderid}&result={success}",
    # ^ (code: wrapper README test config callbackUrl; it reads `result` and `orderid`)
    "wrapper_bool_style": "lower",  # (code: wrapper README) "false" | passthrough (§3.13 q2)
}

WRAPPER_OPERATIONS = frozenset({"v21_init", "v21_init_unauthorised", "v21_finalise"})


def contract_error(call: Call, violations: list[Violation]) -> errors.ProviderError:
    """(inferred) §3.10: a missing or malformed parameter is WRONG_PARAMS, in the command's root element."""
    if call.operation in WRAPPER_OPERATIONS:
        first = violations[0]
        where = f"{first.location}.{first.field}" if first.field else first.location
        message = behind.MSG_NO_LIST if call.operation == "v21_finalise" else errors.WrapperError.FAILED
        return errors.WrapperError(message, detail=f"{where}: {first.message}")
    return errors.PaytureError("WRONG_PARAMS")


HOSTED_OPERATIONS = ("add", "submit_card", "acs")
TERMINAL_OPERATIONS = ("register", "check", "update", "delete", "init", "get_list", "remove", "pay")
TERMINAL_OPERATIONS += ("pay_submit_3ds", "pay_status", "charge", "unblock", "refund")
AUTH = {  # (doc) §3.1: no auth header; the terminal is a parameter, passwords travel in DATA or beside it
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
    authenticate=behind.authenticate_wrapper,  # every view names its own; see routes.py
    errors=errors.CATALOGUE,
    contract_error=contract_error,
    not_found=lambda path: errors.NotFound(path),
    method_not_allowed=lambda method: errors.MethodNotAllowed(method),
    paths=("/vwapi/",),
    tenants_file=Path(__file__).with_name("tenants.yaml"),
    codec=PaytureCodec(),
    options=OPTIONS,
    hosts=("sandbox.payture.com", "sandbox3.payture.com", "secure.payture.com"),
    auth=AUTH,
)
