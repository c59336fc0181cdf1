"""Payelata (Corefy white-label): JSON:API payment invoices, card gate, 3-DS, signed callbacks (provider-spec §5)."""

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

# Recorded or documented defaults of the open questions (§5.5, §5.7); each can be set per tenant,
# per scenario, or per server (`--option payelata.NAME=VALUE`).
OPTIONS = {
    "invoice_ttl": 86400,  # (inferred) seconds an unpaid invoice and its card-gate token live
    "duplicate_reference": "422",  # (inferred) §5.7 q1: 422 | 429 ("duplicate request detected", doc) | allow
    "token_requires_customer": True,  # (doc) provider doc: a token charge names its customer.reference_id
    "settle_delay": 0,  # (inferred) §5.7 q2: seconds a sale stays process_pending before its outcome (0: at once)
    "callback_retry_scale": 1.0,  # (doc) §5.5: retries after 1, 2, 3 … minutes; tests scale this down
    "callback_max_attempts": 100,  # (doc) §5.5: up to 100 attempts
    "callback_final_only": False,  # (doc) §5.5: account option, only final statuses are sent
    "callback_strip_card": False,  # (doc) §5.5: account option, no masked card object in callbacks
    "callback_batching": False,  # (doc) §5.5 says close changes are batched; off so every change is visible
}


def contract_error(call: Call, violations: list[Violation]) -> errors.PayelataError | errors.HtmlError:
    """Turn contract violations into a 422 JSON:API error list pointing at each attribute (inferred §5.6)."""
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


AUTH = {  # (doc) §5.1, §5.3
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
    paths=("/payment-invoices", "/api/payment-invoices", "/payment/", "/hpp/", "/acs/", "/complete-auth"),
    tenants_file=Path(__file__).with_name("tenants.yaml"),
    codec=CODEC,
    options=OPTIONS,
    hosts=("dashboard.payelata.com", "cardgate.paycore.io", "com.paycore.io"),
    on_clock=on_clock,
    auth=AUTH,
)
