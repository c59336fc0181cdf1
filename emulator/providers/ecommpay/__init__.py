"""Ecommpay Gate API v2 (docs/providers/ecommpay.md): card tokens (tokenize, card by token, revoke) and card
payments (sale and auth by card or token, 3-D Secure, capture, cancel, refund, payout, status), signed callbacks."""

from __future__ import annotations

from pathlib import Path

from emulator.core.contracts import Violation
from emulator.core.provider import Auth, Call, Provider, TenantContext
from emulator.providers.ecommpay import callbacks, errors, routes_payment  # routes_payment: registers /v2/payment
from emulator.providers.ecommpay.model import EcommpayState
from emulator.providers.ecommpay.routes import authenticate, bp, styled

# The open questions of docs/providers/ecommpay.md#open-questions (and a few run-time knobs); each can be set per tenant
# (`options:` in tenants.yaml), per scenario, or per server (`--option ecommpay.NAME=VALUE`).
OPTIONS = {
    # (inferred) docs/providers/ecommpay.md#responses, #q1: HTTP status of a rejection; 200 = status "error" in a 200
    "error_status": 400,
    # (inferred) docs/providers/ecommpay.md#q1: add `errors: [{code, message, field}]` to rejections
    "error_errors_array": False,
    # (inferred) docs/providers/ecommpay.md#q2: sync | callback (bad card data in an `error` callback)
    "card_errors": "sync",
    # (inferred) docs/providers/ecommpay.md#callbacks, #q3: ecommpay (general.*) | rocketpay (top-level)
    "callback_layout": "ecommpay",
    # (doc) docs/providers/ecommpay.md#callbacks examples `2017-11-28 13:30:57` | iso (table, +0000)
    "token_created_at_format": "datetime",
    # (code) docs/providers/ecommpay.md#responses QA stub: `"payment_id": null` in the acknowledgement
    "ack_payment_id": True,
    # (code) docs/providers/ecommpay.md#signature: how callbacks are signed: natural (PHP SDK) | lexicographic
    "signature_order": "natural",
    # (code) docs/providers/ecommpay.md#signature-edge-cases: gate = only the PHP SDK's canonical form, as the Gate;
    # lenient = also what the published Python (ecommpay-sdk 1.0.6) and JS (ecommpay 0.1.7) SDKs compute
    "signature_check": "gate",
    # (doc) docs/providers/ecommpay.md#automatic-tokens: the project option support switches on; off by default
    "auto_tokens": False,
    # (inferred) docs/providers/ecommpay.md#status: the status answer carries a signature like a callback
    "status_signed": True,
    # (inferred) docs/providers/ecommpay.md#test-cards: cards = as cards.yaml says; always | never ask for 3-D Secure
    "three_ds": "cards",
    # (inferred) docs/providers/ecommpay.md#test-cards: null = the card's outcome; e.g. decline-10105 for every card
    "payment_outcome": None,
    "callback_url": None,  # overrides the tenant file's callback_url (None: use it)
    "callback_retry_delays": None,  # seconds between retries, e.g. "0.1,0.2"; None: the core's backoff
    "secret": None,  # overrides the project's secret (a rotated key); None: the tenant file's
    "check_signatures": True,  # False: any non-empty signature passes (emulator-only; for replays and curl)
    "open_tenant_secret": "secret",  # the secret of projects admitted by --open-tenants
}


def contract_error(call: Call, violations: list[Violation]) -> errors.EcommpayError:
    """Map the first contract violation to the Gate's code (docs/providers/ecommpay.md#response-codes)."""
    first = violations[0]
    error: errors.EcommpayError
    if first.keyword == "decode":
        error = errors.InvalidJson()  # (doc, secondary) 2003
    elif first.keyword == "size":
        error = errors.ValidationError("body")  # (inferred) the Gate's generic 502; the core answers 413
    elif first.keyword == "required":
        error = errors.MissingField(first.field or first.location)  # (doc, secondary) 2004
    elif first.field == "customer.id":
        error = errors.InvalidCustomerId(first.field)  # (doc, secondary) 2124
    elif first.field == "token":
        error = errors.InvalidToken(first.field)  # (doc, secondary) 3027
    elif first.field == "general.payment_id":
        error = errors.InvalidPaymentId(first.field)  # (doc, secondary) 3024
    elif first.field in ("payment.currency",):
        error = errors.InvalidCurrency(first.field)  # (doc, secondary) 3121
    else:
        error = errors.ValidationError(first.field or first.location)  # (doc, secondary) 502
    return styled(call, error)


def on_clock(context: TenantContext, now: float) -> None:
    """The virtual clock moved: expire tokens whose card expired, each with its action-less callback
    (docs/providers/ecommpay.md#tokens)."""
    callbacks.expire_and_notify(context, now)


# (doc) docs/providers/ecommpay.md#signature: no auth header; OpenAPI has no scheme for a body signature
AUTH = {
    "signature": Auth(
        credentials="body customer.project_id and customer.signature: base64 HMAC-SHA512, keyed with the project's "
        "secret, of the other body parameters flattened to path:value (nested keys joined by ':'), sorted, "
        "joined by ';'"
    ),
    "general_signature": Auth(
        credentials="body general.project_id and general.signature: the same HMAC-SHA512 signature over the body",
        operations=(
            "card_sale",
            "card_sale_token",
            "card_auth",
            "card_auth_token",
            "card_payout",
            "card_payout_token",
            "card_capture",
            "card_cancel",
            "card_refund",
            "card_3ds_result",
            "payment_status",
        ),
    ),
    "acs_md": Auth(credentials="the emulated ACS page is reached by its MD (path) alone", operations=("acs_page",)),
}

PROVIDER = Provider(
    name="ecommpay",
    description="Ecommpay Gate API v2: card tokens and card payments (sale/auth by card or token, 3-D Secure, "
    "capture, cancel, refund, payout, status) with signed callbacks",
    blueprint=bp,
    state_class=EcommpayState,
    authenticate=authenticate,
    errors=errors.CATALOGUE,
    contract_error=contract_error,
    not_found=lambda path: errors.NotFound(),
    method_not_allowed=lambda method: errors.MethodNotAllowed(),
    internal_error=lambda: errors.EcommpayError(status=500),  # (inferred) no 5xx body is recorded
    paths=("/v2/", routes_payment.ACS_PATH),
    folder=Path(__file__).parent,
    options=OPTIONS,
    hosts=("api.ecommpay.com",),
    on_clock=on_clock,
    auth=AUTH,
)
