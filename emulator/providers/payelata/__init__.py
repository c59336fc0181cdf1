"""Payelata (Corefy white-label): JSON:API payment invoices, card gate, 3-DS, signed callbacks
(docs/providers/payelata.md)."""

from __future__ import annotations

from pathlib import Path

from emulator.core.codecs import JsonCodec
from emulator.core.contracts import Violation
from emulator.core.provider import Auth, Call, Provider, TenantContext
from emulator.providers.payelata import errors
from emulator.providers.payelata.callbacks import send_events
from emulator.providers.payelata.model import PayelataState
from emulator.providers.payelata.routes import authenticate_basic, bp

# (inferred) JSON:API bodies are served as `application/vnd.api+json`; the docs only say "JSON".
# Requests are accepted in either content type (the codec reads the body whatever its label).
CODEC = JsonCodec("application/vnd.api+json")
PAGE_OPERATIONS = frozenset({"hosted_payment_page", "submit_hosted_payment_page", "acs_page", "complete_auth"})

# Recorded or documented defaults of the open questions (docs/providers/payelata.md#callbacks, #open-questions); each
# can be set per tenant, per scenario, or per server (`--option payelata.NAME=VALUE`).
OPTIONS = {
    "invoice_ttl": 86400,  # (inferred) seconds an unpaid invoice and its card-gate token live
    # (inferred) docs/providers/payelata.md#q1: 422 | 429 ("duplicate request detected", doc) | allow
    "duplicate_reference": "422",
    "token_requires_customer": True,  # (doc) provider doc: a token charge names its customer.reference_id
    # (inferred) docs/providers/payelata.md#q2: seconds a sale stays process_pending before its outcome (0: at once)
    "settle_delay": 0,
    # (doc) docs/providers/payelata.md#callbacks: retries after 1, 2, 3 … minutes; tests scale this down
    "callback_retry_scale": 1.0,
    "callback_max_attempts": 100,  # (doc) docs/providers/payelata.md#callbacks: up to 100 attempts
    # (doc) docs/providers/payelata.md#callbacks: account option, only final statuses are sent
    "callback_final_only": False,
    # (doc) docs/providers/payelata.md#callbacks: account option, no masked card object in callbacks
    "callback_strip_card": False,
    # (doc) docs/providers/payelata.md#callbacks: close changes of one object are batched, only the latest is sent
    "callback_batching": True,
    # (doc) docs/providers/payelata.md#retries: the account's "Attempts limit" (default 5): failed attempts
    # before process_failed is final; until then the invoice waits in process_error for a retry
    "attempts_limit": 5,
    # (doc) docs/providers/payelata.md#card-gate-token: RS512 in the platform's sample; HS256 in a white-label's
    "card_gate_jwt_alg": "RS512",
    # (doc) docs/providers/payelata.md#refunds: `invoice` (200, the white-label's reference) or `refund`
    # (201 with the `refunds` resource, the new refund model)
    "refund_response": "invoice",
    "refund_delay": 0,  # (inferred) seconds a refund stays `refunding` (0: completes in the same call)
    # (doc) docs/providers/payelata.md#return-urls: "Send Operation Context Return URL", on in the sample account
    "return_url_context": True,
    # (doc) docs/providers/payelata.md#return-urls: the card gateway's "Bypass status page" account option
    "bypass_status_page": False,
    "status_page_redirect_delay": 5,  # (inferred) seconds the status page shows before going back to the shop
}


def contract_error(call: Call, violations: list[Violation]) -> errors.PayelataError | errors.HtmlError:
    """Turn contract violations into a 422 JSON:API error list pointing at each attribute (inferred,
    docs/providers/payelata.md#errors)."""
    first = violations[0]
    if call.operation in PAGE_OPERATIONS:
        return errors.HtmlError(422, first.message)
    if first.keyword == "decode":
        return errors.PayelataError("Malformed JSON.", status=400)
    if first.keyword == "size":
        return errors.PayelataError("Request body too large.", status=413)
    items = []
    for violation in violations:
        pointer = "/" + violation.field.replace(".", "/") if violation.field else "/data"
        detail = errors.MSG_BLANK if violation.keyword == "required" else errors.MSG_INVALID
        if (detail, pointer) not in items:
            items.append((detail, pointer))
    return errors.PayelataError(items[0][0], pointer=items[0][1], more=items[1:])


def on_clock(context: TenantContext, now: float) -> None:
    """Expire invoices and settle delayed sales when the admin API moves the clock; send their callbacks."""
    context.state.sweep(now, context.fake)
    send_events(context, context.state.drain_events())


AUTH = {  # (doc) docs/providers/payelata.md#auth, docs/providers/payelata.md#card-gate
    "basic": Auth({"type": "http", "scheme": "basic", "description": "commerce account id : its test or live API key"}),
    "flow_token": Auth(
        {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "flow_data.metadata.token"},
        operations=("sale",),
    ),
    "session": Auth(
        credentials="the card-gate session id in the path (or pid / MD)", operations=tuple(PAGE_OPERATIONS)
    ),
}

PROVIDER = Provider(
    name="payelata",
    description="Payelata (Corefy white-label): payment invoices, card gate, tokens, signed callbacks",
    blueprint=bp,
    state_class=PayelataState,
    authenticate=authenticate_basic,
    errors=errors.CATALOGUE,
    contract_error=contract_error,
    not_found=lambda path: errors.NotFound(),
    method_not_allowed=lambda method: errors.MethodNotAllowed(method),
    internal_error=errors.ServerError,
    paths=(
        "/payment-invoices",
        "/api/payment-invoices",
        "/payout-invoices",
        "/api/payout-invoices",
        "/refunds/",
        "/api/refunds/",
        "/payment/",
        "/hpp/",
        "/acs/",
        "/complete-auth",
    ),
    folder=Path(__file__).parent,
    codec=CODEC,
    options=OPTIONS,
    hosts=("dashboard.payelata.com", "cardgate.paycore.io", "com.paycore.io"),
    on_clock=on_clock,
    auth=AUTH,
)
