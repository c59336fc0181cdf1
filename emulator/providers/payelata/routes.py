"""Payelata views (docs/providers/payelata.md): private API payment invoices, refunds and payout invoices, the card
gate, the hosted, 3-DS and status pages."""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint

from emulator.core.clock import to_datetime
from emulator.core.codecs import FormCodec
from emulator.core.errors import Reply
from emulator.core.provider import Call, operation
from emulator.core.tenants import Tenant
from emulator.providers.payelata import errors, model, pages, signing
from emulator.providers.payelata.callbacks import send_events

bp = Blueprint("payelata", __name__)

NAME = "payelata"
INVOICES = "/payment-invoices"
API_INVOICES = "/api/payment-invoices"  # (doc) `links.self`; (inferred) docs/providers/payelata.md#auth serve both
PAYOUTS = "/payout-invoices"  # (doc) docs/providers/payelata.md#payouts
API_PAYOUTS = "/api/payout-invoices"  # (doc) the payout's `links.self`
SALE_PATH = "/payment/sale"
HPP_PATH = "/hpp/"
ACS_PATH = "/acs/"
COMPLETE_AUTH_PATH = "/complete-auth"  # (doc) docs/providers/payelata.md#card-gate: TermUrl `…/complete-auth?pid=…`
FORM = FormCodec()


# -- authentication ------------------------------------------------------------------------------


def authenticate_basic(call: Call) -> Tenant:
    """(doc) docs/providers/payelata.md#auth: HTTP Basic, commerce account id as login, test or live API key as
    password."""
    credentials = call.request.authorization
    if credentials is None or credentials.type != "basic" or not credentials.username:
        raise errors.Unauthorized()
    account, key = credentials.username, credentials.password or ""
    tenant = call.runtime.tenants[NAME].admit(account, lambda: {"api_key_test": key, "callback_secret_test": key})
    if tenant is None or not key:
        raise errors.Unauthorized()
    if key == tenant.get("api_key_test"):
        call.auth = {"live": False}
    elif key == tenant.get("api_key_live"):
        call.auth = {"live": True}
    else:
        raise errors.Unauthorized()
    return tenant


def authenticate_bearer(call: Call) -> Tenant:
    """(doc) docs/providers/payelata.md#card-gate: `Authorization: Bearer <flow_data.metadata.token>`; the token names
    its account."""
    header = call.headers.get("Authorization", "").strip()
    if header[:7].lower() != "bearer " or not header[7:].strip():
        raise errors.BearerRejected()
    token = header[7:].strip()
    try:
        claims = signing.token_claims(token)
    except signing.CardGateTokenError as exc:
        raise errors.BearerRejected() from exc
    tenant = call.runtime.tenants[NAME].get(str(claims.get("account")))
    if tenant is None:
        raise errors.BearerRejected()
    call.auth = {"token": token}
    return tenant


def authenticate_session(call: Call) -> Tenant:
    """Hosted pages are reached by their `cgi_…` session id alone, as a browser reaches them."""
    session = call.path_args.get("session_id") or call.query.get("pid") or (call.body or {}).get("MD")
    tenant = call.owner_of(str(session or ""))
    if tenant is None:
        raise errors.HtmlError(404, "Payment session not found.")
    return tenant


# -- private API ---------------------------------------------------------------------------------


@bp.route(INVOICES, methods=["POST"], provide_automatic_options=False)
@bp.route(API_INVOICES, methods=["POST"], provide_automatic_options=False)
@operation("create_payment_invoice")
def create_payment_invoice(call: Call) -> Reply:
    """Create a payment invoice; 201 is the only success (doc) docs/providers/payelata.md#payment-invoices."""
    data = call.body["data"]
    attributes = data["attributes"]
    call.state.sweep(call.now, call.fake)
    duplicate = str(call.option("duplicate_reference"))
    invoice = call.state.create_invoice(
        attributes,
        now=call.now,
        fake=call.fake,
        live=call.auth["live"],
        action_base=call.external_url(HPP_PATH),
        ttl=float(call.option("invoice_ttl")),
        duplicate_status=None if duplicate == "allow" else int(duplicate),
        token_requires_customer=call.flag("token_requires_customer"),
        # (doc) docs/providers/payelata.md#payment-invoices: one documented example puts callback_url beside
        # `attributes`, not in it
        callback_url=attributes.get("callback_url") or data.get("callback_url"),
        jwt_algorithm=str(call.option("card_gate_jwt_alg")),
        attempts_limit=int(call.option("attempts_limit")),
    )
    call.claim(invoice.session_id)  # the hosted pages find the account by the session id alone
    _emit(call)
    return Reply(201, invoice.to_wire())


@bp.route(INVOICES + "/<invoice_id>", methods=["GET"], provide_automatic_options=False)
@bp.route(API_INVOICES + "/<invoice_id>", methods=["GET"], provide_automatic_options=False)
@operation("get_payment_invoice")
def get_payment_invoice(call: Call) -> Reply:
    """Read one invoice for reconciliation (inferred from `links.self`) docs/providers/payelata.md#payment-invoices."""
    call.state.sweep(call.now, call.fake)
    invoice = call.state.get(call.path_args["invoice_id"], call.now)
    _emit(call)
    return Reply(200, invoice.to_wire())


@bp.route(INVOICES + "/<invoice_id>/refund", methods=["POST"], provide_automatic_options=False)
@bp.route(API_INVOICES + "/<invoice_id>/refund", methods=["POST"], provide_automatic_options=False)
@operation("refund_payment_invoice")
def refund_payment_invoice(call: Call) -> Reply:
    """Refund all or part of a paid invoice (doc) docs/providers/payelata.md#refunds; the answer is the invoice
    (200) or, with `refund_response: refund`, the new model's refund resource (201)."""
    call.state.sweep(call.now, call.fake)
    invoice = call.state.get(call.path_args["invoice_id"], call.now)
    data = call.body["data"]
    attributes = data["attributes"]
    # (doc) the white-label's body names the invoice as `data.id`, the new model's as `attributes.invoiceId`
    if data.get("id") not in (None, invoice.id):
        raise errors.PayelataError(errors.MSG_INVALID, pointer="/data/id")
    if attributes.get("invoiceId") not in (None, invoice.id):
        raise errors.Invalid("invoiceId", errors.MSG_INVALID)
    refund = call.state.refund(
        invoice, attributes, now=call.now, fake=call.fake, delay=float(call.option("refund_delay"))
    )
    _emit(call)
    if str(call.option("refund_response")) == "refund":
        return Reply(201, refund.to_wire())
    return Reply(200, invoice.to_wire())


@bp.route("/refunds/<refund_id>", methods=["GET"], provide_automatic_options=False)
@bp.route("/api/refunds/<refund_id>", methods=["GET"], provide_automatic_options=False)
@operation("get_refund")
def get_refund(call: Call) -> Reply:
    """One refund (doc: the refund resource's `links.self`, `/refunds/ref_…`) docs/providers/payelata.md#refunds."""
    call.state.sweep(call.now, call.fake)
    refund = call.state.get_refund(call.path_args["refund_id"])
    _emit(call)
    return Reply(200, refund.to_wire())


@bp.route(PAYOUTS, methods=["POST"], provide_automatic_options=False)
@bp.route(API_PAYOUTS, methods=["POST"], provide_automatic_options=False)
@operation("create_payout_invoice")
def create_payout_invoice(call: Call) -> Reply:
    """Create a payout invoice to a card or a token (doc) docs/providers/payelata.md#payouts; 201."""
    call.state.sweep(call.now, call.fake)
    attributes = call.body["data"]["attributes"]
    duplicate = str(call.option("duplicate_reference"))
    payout = call.state.create_payout(
        attributes,
        now=call.now,
        fake=call.fake,
        live=call.auth["live"],
        ttl=float(call.option("invoice_ttl")),
        duplicate_status=None if duplicate == "allow" else int(duplicate),
        callback_url=attributes.get("callback_url"),
    )
    _emit(call)
    return Reply(201, payout.to_wire())


@bp.route(PAYOUTS + "/<payout_id>", methods=["GET"], provide_automatic_options=False)
@bp.route(API_PAYOUTS + "/<payout_id>", methods=["GET"], provide_automatic_options=False)
@operation("get_payout_invoice")
def get_payout_invoice(call: Call) -> Reply:
    """Read one payout invoice (doc: its `links.self`) docs/providers/payelata.md#payouts."""
    call.state.sweep(call.now, call.fake)
    payout = call.state.get_payout(call.path_args["payout_id"])
    _emit(call)
    return Reply(200, payout.to_wire())


@bp.route(PAYOUTS + "/<payout_id>/process", methods=["POST"], provide_automatic_options=False)
@bp.route(API_PAYOUTS + "/<payout_id>/process", methods=["POST"], provide_automatic_options=False)
@operation("process_payout_invoice")
def process_payout_invoice(call: Call) -> Reply:
    """Confirm a payout created without `auto_process` (doc: 201) docs/providers/payelata.md#payouts."""
    call.state.sweep(call.now, call.fake)
    payout = call.state.get_payout(call.path_args["payout_id"])
    call.state.process_payout(payout, now=call.now)
    _emit(call)
    return Reply(201, payout.to_wire())


# -- card gate -----------------------------------------------------------------------------------


@bp.route(SALE_PATH, methods=["POST"], provide_automatic_options=False)
@operation("sale", auth=authenticate_bearer)
def sale(call: Call) -> Reply:
    """Charge the invoice behind the bearer token with a raw card, or its card token
    (docs/providers/payelata.md#card-gate)."""
    call.state.sweep(call.now, call.fake)
    invoice = call.state.verify_jwt(call.auth["token"], call.now)
    attributes = call.body["data"].get("attributes") or {}
    _run_sale(call, invoice, attributes or None)
    return Reply(200, sale_wire(call, invoice))


def _run_sale(call: Call, invoice: model.Invoice, card_fields: dict[str, Any] | None) -> None:
    moment = to_datetime(call.now)
    try:
        call.state.sale(
            invoice,
            card_fields,
            now=call.now,
            fake=call.fake,
            year_month=(moment.year, moment.month),
            settle_delay=float(call.option("settle_delay")),
            attempts_limit=int(call.option("attempts_limit")),
        )
    finally:
        _emit(call)


def auth_payload(call: Call, invoice: model.Invoice) -> dict[str, Any]:
    """(doc) docs/providers/payelata.md#card-gate 3-DS 1 form: POST MD/PaReq/TermUrl to the (emulator-hosted) ACS
    page."""
    pareq = base64.b64encode(f"{invoice.session_id}:{invoice.amount}:{invoice.currency}".encode()).decode()
    return {
        "action": call.external_url(ACS_PATH + invoice.session_id),
        "method": "POST",
        "params": {
            "MD": invoice.session_id,
            "PaReq": pareq,
            "TermUrl": call.external_url(f"{COMPLETE_AUTH_PATH}?pid={invoice.session_id}"),
        },
    }


def sale_wire(call: Call, invoice: model.Invoice) -> dict[str, Any]:
    """The card-gate session document (doc: google-pay example) docs/providers/payelata.md#card-gate."""
    payment_status = {
        model.PROCESSED: "processed",
        model.PROCESS_FAILED: "process_failed",
        model.PROCESS_ERROR: "process_failed",  # the attempt failed; the invoice waits for the next one
    }.get(invoice.status, "authorize_required" if invoice.awaiting_3ds else "process_pending")
    attributes: dict[str, Any] = {
        "amount": invoice.amount,
        "currency": invoice.currency,
        "description": invoice.description,
        "service": invoice.service,
        "options": {},
        "customer": {"reference_id": invoice.customer["reference_id"]} if invoice.customer else {},
        # (inferred) another attempt is possible: not final, and no attempt under way
        "repeatable": invoice.status in model.PAYABLE and not invoice.sale_started,
        "flow": "charge",
        "status": invoice.status,
        "resolution": invoice.resolution,
        "active_request": {"status": invoice.status, "resolution": invoice.resolution},
        "active_payment": {"status": payment_status, "resolution": invoice.resolution},
        "auto_repay": False,
        "metadata": {"fee": "0.00", "fee_strategy": "external"},
        "form_data": {},
    }
    if invoice.awaiting_3ds is not None:
        # (inferred) docs/providers/payelata.md#card-gate: an integrator branches on it; values unknown
        attributes["auth_mode"] = "redirect"
        attributes["auth_payload"] = auth_payload(call, invoice)
    return {
        "data": {
            "id": invoice.session_id,
            "attributes": attributes,
            "payment": {"fee": "0.00", "feeStrategy": "external"},
        }
    }


# -- hosted payment page and 3-DS page (emulator-rendered HTML) ----------------------------------


@bp.route(HPP_PATH + "<session_id>", methods=["GET"], provide_automatic_options=False)
@operation("hosted_payment_page", auth=authenticate_session, codec=FORM)
def hosted_payment_page(call: Call) -> Reply:
    """The card form behind `flow_data.action` (doc) docs/providers/payelata.md#payment-invoices: number, holder,
    month/year, CVV."""
    call.state.sweep(call.now, call.fake)
    invoice = call.state.by_session(call.path_args["session_id"], call.now)
    _emit(call)
    if invoice.status not in model.PAYABLE or invoice.sale_started:
        return _result(call, invoice)
    return pages.card_form(invoice, action=call.external_url(HPP_PATH + invoice.session_id))


@bp.route(HPP_PATH + "<session_id>", methods=["POST"], provide_automatic_options=False)
@operation("submit_hosted_payment_page", auth=authenticate_session, codec=FORM)
def submit_hosted_payment_page(call: Call) -> Reply:
    """Pay from the hosted page: the same sale as the card gate, then 3-DS or the result page."""
    call.state.sweep(call.now, call.fake)
    invoice = call.state.by_session(call.path_args["session_id"], call.now)
    fields = {k: call.body.get(k) for k in ("card_number", "card_holder", "exp_month", "exp_year", "cvv")}
    action = call.external_url(HPP_PATH + invoice.session_id)
    try:
        _run_sale(call, invoice, fields)
    except errors.PayelataError as error:
        if invoice.status not in model.PAYABLE or invoice.sale_started:
            return _result(call, invoice)
        return pages.card_form(invoice, action=action, error=error.message)
    if invoice.awaiting_3ds is not None:
        payload = auth_payload(call, invoice)
        return pages.auto_post(payload["action"], payload["params"])
    if invoice.status == model.PROCESS_ERROR:
        return pages.card_form(invoice, action=action)  # (doc) the payer retries without leaving the page
    return _result(call, invoice)


@bp.route(ACS_PATH + "<session_id>", methods=["GET", "POST"], provide_automatic_options=False)
@operation("acs_page", auth=authenticate_session, codec=FORM)
def acs_page(call: Call) -> Reply:
    """The emulator's stand-in for the issuer's 3-DS challenge page (reached via `auth_payload`)."""
    call.state.sweep(call.now, call.fake)
    invoice = call.state.by_session(call.path_args["session_id"], call.now)
    if invoice.awaiting_3ds is None:
        return _result(call, invoice)
    term_url = call.body.get("TermUrl") or call.external_url(f"{COMPLETE_AUTH_PATH}?pid={invoice.session_id}")
    return pages.acs_challenge(invoice, term_url=term_url, md=call.body.get("MD") or invoice.session_id)


@bp.route(COMPLETE_AUTH_PATH, methods=["POST"], provide_automatic_options=False)
@operation("complete_auth", auth=authenticate_session, codec=FORM)
def complete_auth(call: Call) -> Reply:
    """TermUrl: finish 3-DS with the ACS answer (`PaRes`), then show the result page."""
    call.state.sweep(call.now, call.fake)
    session = call.query.get("pid") or call.body.get("MD")
    invoice = call.state.by_session(session, call.now)
    if invoice.awaiting_3ds is None:
        return _result(call, invoice)
    call.state.complete_3ds(invoice, call.body.get("PaRes") == "AUTHENTICATED", now=call.now, fake=call.fake)
    _emit(call)
    if invoice.status == model.PROCESS_ERROR:  # a failed attempt with retries left: back to the card form
        return pages.card_form(invoice, action=call.external_url(HPP_PATH + invoice.session_id))
    return _result(call, invoice)


def _result(call: Call, invoice: model.Invoice) -> Reply:
    """The status page, with the account's return-URL settings (docs/providers/payelata.md#return-urls)."""
    return pages.result_page(
        invoice,
        with_context=call.flag("return_url_context"),
        redirect_delay=int(call.option("status_page_redirect_delay")),
        bypass=call.flag("bypass_status_page"),
    )


def _emit(call: Call) -> None:
    send_events(call, call.state.drain_events(), batch=bool(call.callback_effects.get("batch")))
