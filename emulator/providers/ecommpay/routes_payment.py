"""Ecommpay Gate v2 card payments at the real paths (docs/providers/ecommpay.md#payments): sale and auth by card
or token, 3-D Secure, capture, cancel, refund, payout, payment status, and the emulated ACS page.

Every payment request carries `general{project_id, payment_id, signature}`; it is acknowledged at once
(`{status, project_id, payment_id, request_id}`) and its result travels in a signed callback with `payment`
and `operation` objects. `/v2/payment/status` answers synchronously.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

from emulator.core.cards import TestCards
from emulator.core.codecs import FormCodec
from emulator.core.errors import Reply
from emulator.core.provider import Call, operation
from emulator.core.tenants import Tenant
from emulator.providers.ecommpay import callbacks, errors, model, pages
from emulator.providers.ecommpay.routes import authenticate_with, bp, handled, sweep

SALE_PATH = "/v2/payment/card/sale"
AUTH_PATH = "/v2/payment/card/auth"
PAYOUT_PATH = "/v2/payment/card/payout"
TOKEN_SUFFIX = "/token"  # (code) docs/providers/ecommpay.md#payment-paths: `/v2/payment/card/payout[/token]`
CAPTURE_PATH = "/v2/payment/card/capture"
CANCEL_PATH = "/v2/payment/card/cancel"
REFUND_PATH = "/v2/payment/card/refund"
THREE_DS_RESULT_PATH = "/v2/payment/card/3ds_result"
STATUS_PATH = "/v2/payment/status"
ACS_PATH = "/ecommpay-acs/"  # payemu's own: the emulated issuer page behind `acs.acs_url`
PARES_PREFIX = "payemu-pares"
AUTHENTICATED, NOT_AUTHENTICATED = "Y", "N"

CARDS = TestCards.load(Path(__file__).with_name("cards.yaml"))
FORM = FormCodec()


def authenticate_general(call: Call) -> Tenant:
    """Payment requests: the project is `general.project_id`, proven by `general.signature` (doc,
    docs/providers/ecommpay.md#payments)."""
    return authenticate_with(call, "general")


# -- helpers -------------------------------------------------------------------------------------------


def _ack(call: Call, request_id: str) -> Reply:
    """(code) docs/providers/ecommpay.md#responses QA stub: `general.project_id` and `general.payment_id` echoed."""
    general = call.body["general"]
    return Reply(
        200,
        {
            "status": "success",
            "project_id": callbacks.project_id(call),
            "payment_id": str(general["payment_id"]),
            "request_id": request_id,
        },
    )


def _acs_url(call: Call, payment: model.Payment) -> str | None:
    return call.external_url(ACS_PATH + payment.acs_md) if payment.acs_md else None


def _notify(call: Call, payment: model.Payment) -> None:
    """Send the callback of the payment's latest operation."""
    body = callbacks.payment_event(call, payment, payment.last, acs_url=_acs_url(call, payment))
    callbacks.send(call, body, f"{callbacks.EVENT_PAYMENT}:{payment.last.type}:{payment.last.status}")


def _outcome(number: str) -> tuple[str, bool]:
    """A card's documented outcome and 3-D Secure enrolment (cards.yaml), found by its masked number."""
    card = CARDS.find_masked(number[:6], number[-4:])
    return (card.outcome, card.three_ds) if card is not None else ("success", False)


def _auto_token(call: Call, payment: model.Payment) -> None:
    """(doc) docs/providers/ecommpay.md#automatic-tokens: the first successful purchase, hold or payout with a
    card creates its token (a later one reuses it, its expiry updated), returned in the callback."""
    if payment.token is not None or not call.flag("auto_tokens"):
        return  # paid with a token already, or the project does not generate them
    if payment.status in (model.PAY_DECLINE, model.PAY_AWAITING_3DS):
        return  # only a success creates one; after 3-D Secure, `3ds_result` comes back here
    record, _ = call.state.token_for_card(payment.customer_id, payment.card, now=call.now, new_token=call.fake.sha256)
    payment.token, payment.token_created = record.token, True


def _start(call: Call, kind: str, card: model.CardData, outcome: str, three_ds: bool, token: str | None) -> Reply:
    forced = call.option("payment_outcome")
    if forced:
        outcome = str(forced)  # a scenario's decline for every card (payments-declined)
    mode = str(call.option("three_ds"))
    three_ds = mode == "always" or (mode == "cards" and three_ds)
    body = call.body
    general, payment_obj = body["general"], body["payment"]
    request_id = callbacks.request_id(call)
    acs_return = body.get("acs_return_url") if isinstance(body.get("acs_return_url"), dict) else {}
    md = call.random_hex(32)
    payment = call.state.start_payment(
        kind=kind,
        payment_id=str(general["payment_id"]),
        customer_id=str(body["customer"]["id"]),
        amount=int(payment_obj["amount"]),
        currency=payment_obj["currency"],
        description=payment_obj.get("description"),
        card=card,
        token=token,
        outcome=outcome,
        three_ds=three_ds,
        request_id=request_id,
        now=call.now,
        md=md,
        term_url=acs_return.get("return_url"),
    )
    if payment.acs_md:
        call.claim(payment.acs_md)  # the ACS page is reached by its MD alone
    _auto_token(call, payment)
    _notify(call, payment)
    return _ack(call, request_id)


def _by_card(call: Call, kind: str) -> Reply:
    sweep(call)
    call.state.check_new_payment(str(call.body["general"]["payment_id"]))  # 3041 before anything else
    card = call.body["card"]
    problem = model.check_card(card, now=call.now)
    if problem is not None:
        raise problem
    data = model.CardData.from_request(card, call.state.fingerprint_secret)
    pan = card["pan"]
    found = CARDS.find(pan)
    outcome, three_ds = (found.outcome, found.three_ds) if found is not None else ("success", False)
    return _start(call, kind, data, outcome, three_ds, None)


def _by_token(call: Call, kind: str) -> Reply:
    sweep(call)
    call.state.check_new_payment(str(call.body["general"]["payment_id"]))
    record = call.state.usable(str(call.body["customer"]["id"]), call.body["token"], now=call.now)
    outcome, three_ds = _outcome(record.number)
    return _start(call, kind, model.CardData.from_token(record), outcome, three_ds, record.token)


# -- one-step and two-step purchases, payouts ----------------------------------------------------------


@bp.route(SALE_PATH, methods=["POST"], provide_automatic_options=False)
@operation("card_sale", auth=authenticate_general)
@handled
def card_sale(call: Call) -> Reply:
    """One-step purchase with card data (doc, docs/providers/ecommpay.md#payments)."""
    return _by_card(call, model.SALE)


@bp.route(SALE_PATH + TOKEN_SUFFIX, methods=["POST"], provide_automatic_options=False)
@operation("card_sale_token", auth=authenticate_general)
@handled
def card_sale_token(call: Call) -> Reply:
    """One-step purchase with a card token (docs/providers/ecommpay.md#payments)."""
    return _by_token(call, model.SALE)


@bp.route(AUTH_PATH, methods=["POST"], provide_automatic_options=False)
@operation("card_auth", auth=authenticate_general)
@handled
def card_auth(call: Call) -> Reply:
    """Hold funds on a card (two-step purchase, docs/providers/ecommpay.md#payments)."""
    return _by_card(call, model.AUTH)


@bp.route(AUTH_PATH + TOKEN_SUFFIX, methods=["POST"], provide_automatic_options=False)
@operation("card_auth_token", auth=authenticate_general)
@handled
def card_auth_token(call: Call) -> Reply:
    """Hold funds with a card token (docs/providers/ecommpay.md#payments)."""
    return _by_token(call, model.AUTH)


@bp.route(PAYOUT_PATH, methods=["POST"], provide_automatic_options=False)
@operation("card_payout", auth=authenticate_general)
@handled
def card_payout(call: Call) -> Reply:
    """Pay out to a card (docs/providers/ecommpay.md#payouts)."""
    return _by_card(call, model.PAYOUT)


@bp.route(PAYOUT_PATH + TOKEN_SUFFIX, methods=["POST"], provide_automatic_options=False)
@operation("card_payout_token", auth=authenticate_general)
@handled
def card_payout_token(call: Call) -> Reply:
    """Pay out to the card behind a token (code, docs/providers/ecommpay.md#payouts)."""
    return _by_token(call, model.PAYOUT)


# -- operations on a payment ---------------------------------------------------------------------------


@bp.route(CAPTURE_PATH, methods=["POST"], provide_automatic_options=False)
@operation("card_capture", auth=authenticate_general)
@handled
def card_capture(call: Call) -> Reply:
    """Capture a hold (code, docs/providers/ecommpay.md#two-step-purchases)."""
    request_id = callbacks.request_id(call)
    payment_obj = call.body["payment"]
    payment = call.state.capture(
        str(call.body["general"]["payment_id"]),
        int(payment_obj["amount"]),
        payment_obj["currency"],
        request_id=request_id,
        now=call.now,
    )
    _notify(call, payment)
    return _ack(call, request_id)


@bp.route(CANCEL_PATH, methods=["POST"], provide_automatic_options=False)
@operation("card_cancel", auth=authenticate_general)
@handled
def card_cancel(call: Call) -> Reply:
    """Release a hold (code, docs/providers/ecommpay.md#two-step-purchases)."""
    request_id = callbacks.request_id(call)
    payment = call.state.cancel(str(call.body["general"]["payment_id"]), request_id=request_id, now=call.now)
    _notify(call, payment)
    return _ack(call, request_id)


@bp.route(REFUND_PATH, methods=["POST"], provide_automatic_options=False)
@operation("card_refund", auth=authenticate_general)
@handled
def card_refund(call: Call) -> Reply:
    """Refund a purchase, fully or partly (code, docs/providers/ecommpay.md#refunds)."""
    request_id = callbacks.request_id(call)
    payment_obj = call.body["payment"]
    refund_id = payment_obj.get("merchant_refund_id")
    payment = call.state.refund(
        str(call.body["general"]["payment_id"]),
        payment_obj.get("amount"),
        payment_obj.get("currency"),
        merchant_refund_id=None if refund_id is None else str(refund_id),
        request_id=request_id,
        now=call.now,
    )
    _notify(call, payment)
    return _ack(call, request_id)


def decode_pares(pares: str) -> tuple[str, bool] | None:
    """The MD and the verdict an emulated-ACS PaRes carries, or None when it is not one of ours."""
    try:
        text = base64.b64decode(pares.encode("ascii"), validate=True).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        return None
    prefix, _, rest = text.partition(":")
    md, _, verdict = rest.rpartition(":")
    if prefix != PARES_PREFIX or verdict not in (AUTHENTICATED, NOT_AUTHENTICATED) or not md:
        return None
    return md, verdict == AUTHENTICATED


def encode_pares(md: str, authenticated: bool) -> str:
    verdict = AUTHENTICATED if authenticated else NOT_AUTHENTICATED
    return base64.b64encode(f"{PARES_PREFIX}:{md}:{verdict}".encode("ascii")).decode("ascii")


@bp.route(THREE_DS_RESULT_PATH, methods=["POST"], provide_automatic_options=False)
@operation("card_3ds_result", auth=authenticate_general)
@handled
def card_3ds_result(call: Call) -> Reply:
    """Finish 3-D Secure with the ACS answer (`pares`, `md`) (code, docs/providers/ecommpay.md#3-d-secure)."""
    request_id = callbacks.request_id(call)
    answer = decode_pares(call.body["pares"])
    if answer is None or answer[0] != call.body["md"]:
        raise errors.ValidationError("pares")  # (inferred) a PaRes the ACS did not issue for this MD
    payment = call.state.complete_3ds(str(call.body["general"]["payment_id"]), call.body["md"], answer[1], now=call.now)
    _auto_token(call, payment)
    _notify(call, payment)
    return _ack(call, request_id)


@bp.route(STATUS_PATH, methods=["POST"], provide_automatic_options=False)
@operation("payment_status", auth=authenticate_general)
@handled
def payment_status(call: Call) -> Reply:
    """The payment's current state and all its operations, answered at once (code,
    docs/providers/ecommpay.md#status). An unknown payment_id: the QA stub's 3061 body, HTTP 200."""
    found = call.state.payments.get(str(call.body["general"]["payment_id"]))
    if found is None:
        return Reply(
            200, {"payment": {"status": "error"}, "errors": [{"code": 3061, "message": "Transaction not found"}]}
        )
    body = callbacks.status_body(call, found, acs_url=_acs_url(call, found))
    return Reply(200, callbacks.signed(call, body) if call.flag("status_signed") else body)


# -- the emulated ACS ----------------------------------------------------------------------------------


def authenticate_md(call: Call) -> Tenant:
    """The ACS page is reached by the MD alone, as a customer's browser reaches it."""
    tenant = call.owner_of(str(call.path_args.get("md") or ""))
    if tenant is None:
        raise errors.AcsPageError()
    return tenant


@bp.route(ACS_PATH + "<md>", methods=["GET", "POST"], provide_automatic_options=False)
@operation("acs_page", auth=authenticate_md, codec=FORM)
def acs_page(call: Call) -> Reply:
    """payemu's stand-in for the issuer's 3-D Secure page: buttons that post `PaRes` and `MD` to the TermUrl."""
    md = call.path_args["md"]
    payment = call.state.by_md(md)
    if payment is None:
        raise errors.AcsPageError()
    term_url = call.body.get("TermUrl") or payment.acs_term_url
    return pages.acs_challenge(
        payment,
        term_url=term_url,
        md=md,
        pares_ok=encode_pares(md, True),
        pares_fail=encode_pares(md, False),
    )
