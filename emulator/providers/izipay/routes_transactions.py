"""Izipay's sales and after-sales views: Process/Authorize, Transaction/Cancel, Transaction/Refund and the
order Search, each at its own base path (docs/providers/izipay.md#authorize, #cancel-and-refund, #order-search).

Every call carries the session token (`accept_token`: Bearer, merchant, expiry, single use); a call that
fails validation or a rule changes nothing and does not use the token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from emulator.core.cards import TestCards, mask_pan
from emulator.core.errors import Reply
from emulator.core.provider import Call, operation
from emulator.providers.izipay import errors, model
from emulator.providers.izipay.routes import DEPOSIT_MESSAGES, accept_token, bp, order_reply, spend_token

AUTHORIZE_PATH = "/authorization/api/Process/Authorize"
CANCEL_PATH = "/cancel/api/Transaction/Cancel"
REFUND_PATH = "/refund/v1/Transaction/Refund"
ORDER_SEARCH_PATH = "/orderinfo/v1/Transaction/Search"

CARDS = TestCards.load(Path(__file__).with_name("cards.yaml"))

# (code, recorded) docs/providers/izipay.md#authorize: an approval's message, messageUser, messageUserEng.
APPROVED_MESSAGES = ("OK", "Operación exitosa", "Successful")
# (doc) the sandbox guide's decline codes and wording; the English (inferred).
DECLINE_ENGLISH = {
    "14": "Invalid card number",
    "41": "Lost card",
    "51": "Insufficient funds / Credit limit exceeded",
    "54": "Expired card",
    "61": "Exceeds withdrawal amount limit",
    "63": "Security violation",
}
# (inferred) docs/providers/izipay.md#order-search: what Search says of an order in each state.
STATE_MESSAGES = {
    model.APPROVED: "Autorizado",
    model.DECLINED: "Denegado",
    model.CANCELLED: "Anulado",
    "deposited": "Depositado",
    "refunded": "Devuelto",
    "partially_refunded": "Devuelto parcialmente",
}


def _outcome(pan: str) -> tuple[str, str]:
    """The response code and message a card number gets: the sandbox table, else approved if Luhn-valid."""
    outcome = CARDS.outcome(pan)
    if outcome == "success":
        return "00", ""
    if outcome == "invalid_number":
        return "14", errors.MSG_CARD_NUMBER
    card = CARDS.find(pan)
    return outcome, card.description if card is not None else ""


def _decline_message(code: str) -> str:
    """The sandbox guide's wording for a decline code; `Denegado` (inferred) for a code it does not list."""
    for card in CARDS:
        if card.outcome == code:
            return card.description
    return "Denegado"


def _token_outcome(masked: str) -> tuple[str, str]:
    """A saved card's outcome: the test card it was (by its first six and last four digits)."""
    card = CARDS.find_masked(masked[:6], masked[-4:])
    if card is None or card.outcome == "00":
        return "00", ""
    return card.outcome, card.description


def _signed(call: Call, payload: dict[str, Any]) -> tuple[str, str]:
    """(code) docs/providers/izipay.md#authorize: `payloadHttp` is the answer as text and `signature` its
    HMAC-SHA256 under the merchant's hash key, in Base64 (what merchant code verifies)."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    key = str(call.tenant.get("hash_secret") or call.tenant.get("token_secret") or call.tenant["publicKey"])
    digest = hmac.new(key.encode("utf-8"), text.encode("utf-8"), hashlib.sha256).digest()
    return text, base64.b64encode(digest).decode("ascii")


def _when(epoch: float) -> tuple[str, str]:
    """`("20251128", "012229")`: Lima date and time, as the recorded dateTransaction/timeTransaction."""
    stamp = errors.lima_timestamp(epoch)
    return stamp[:10].replace("-", ""), stamp[11:19].replace(":", "")


def _state_message(record: model.Order) -> str:
    if record.status == model.APPROVED and record.refunded:
        return STATE_MESSAGES["refunded" if record.refunded >= record.captured else "partially_refunded"]
    if record.status == model.APPROVED and record.process_type == model.PREAUTHORIZE and record.captured:
        return STATE_MESSAGES["deposited"]
    return STATE_MESSAGES[record.status]


# -- Process/Authorize -----------------------------------------------------------------------------


@bp.route(AUTHORIZE_PATH, methods=["POST"], provide_automatic_options=False)
@operation("authorize")
def authorize(call: Call) -> Reply:
    """Authorize (`autorize`: a sale) or pre-authorize an order with card data or a saved card token."""
    token_id = accept_token(call)
    body = call.body
    order = body["order"]
    card_token = ""
    if body["action"] == "pay_token_external":
        raise errors.ActionUnsupported()
    if body["action"] == "pay_token":
        saved = call.state.card_token(str(body["token"]["cardToken"]), order.get("merchantBuyerId") or None)
        masked, brand, card_token = saved.masked_pan, saved.brand, saved.card_token
        code, message = _token_outcome(masked)
    else:
        pan = model.clean_pan(body["card"]["pan"])
        if not (pan.isdigit() and 12 <= len(pan) <= 19):
            raise errors.CardNumberInvalid()  # not a card number at all (nor one payemu could decrypt)
        masked, brand = mask_pan(pan), str(body["card"].get("brand") or model.brand_of(pan))
        code, message = _outcome(pan)
    forced = call.option("decline_code")
    if forced and code == "00":
        code, message = str(forced), _decline_message(str(forced))
    billing = body.get("billing") or {}
    record = call.state.authorize(
        order, code=code, masked=masked, brand=brand, card_token=card_token, billing=billing, now=call.now
    )
    spend_token(call, token_id)
    approved = code == "00"
    if approved:
        message, message_user, message_eng = APPROVED_MESSAGES
    else:
        message_user, message_eng = message, DECLINE_ENGLISH.get(code, message)
    date, time_of_day = _when(record.authorized_at)
    response: dict[str, Any] = {"codeAuth": record.authorization_code, "referenceNumber": record.reference_number}
    if not approved:
        response = {}
    response |= {
        "merchantCode": call.tenant.id,
        "currency": record.currency,
        "amount": model.decimal_text(record.amount),
        "orderNumber": record.order_number,
        "dateTransaction": date,
        "timeTransaction": time_of_day,
    }
    signed_part = {**response, "idLogMPI": 0}  # (code, recorded) only in payloadHttp
    rest: dict[str, Any] = {
        "payMethod": record.pay_method,
        "card": {"brand": record.brand, "pan": record.masked_pan, "save": False},
        "billing": _billing(billing),
    }
    if card_token:
        saved_buyer = call.state.card_tokens[card_token].buyer_token
        rest["token"] = {"cardToken": card_token, "buyerToken": saved_buyer}  # (doc) response.token, shape inferred
    rest["uniqueId"] = record.unique_id
    head = {"code": code, "message": message, "messageUser": message_user, "messageUserEng": message_eng}
    payload_http, signature = _signed(call, {**head, "response": {**signed_part, **rest}})
    body_out = {**head, "response": {**response, **rest, "signature": signature, "payloadHttp": payload_http}}
    status = 200 if approved else int(call.option("decline_http_status"))
    return Reply(status, body_out)


BILLING_FIELDS = (
    "firstName",
    "lastName",
    "email",
    "phoneNumber",
    "street",
    "city",
    "state",
    "country",
    "postalCode",
    "documentType",
    "document",
    "companyName",
)


def _billing(billing: dict[str, Any]) -> dict[str, str]:
    """The billing block as the recorded answer lists it: every field, empty when not sent."""
    return {name: str(billing.get(name) or "") for name in BILLING_FIELDS}


# -- Transaction/Cancel and Transaction/Refund ---------------------------------------------------------


def _order_number(order: dict[str, Any]) -> str:
    """`orderNumber`, or `numberOden` as merchant code spells it (code, docs/providers/izipay.md#cancel-and-refund)."""
    return str(order.get("orderNumber") or order.get("numberOden") or "")


@bp.route(CANCEL_PATH, methods=["POST"], provide_automatic_options=False)
@operation("cancel")
def cancel(call: Call) -> Reply:
    """Void (anular) an approved order that was not refunded: same day, before settlement."""
    token_id = accept_token(call)
    order = call.body["order"]
    record = call.state.cancel(
        _order_number(order),
        unique_id=order.get("uniqueId"),
        authorization_code=order.get("authorizationCode"),
        amount=order.get("amount"),
    )
    spend_token(call, token_id)
    result = {"authorizationCode": record.authorization_code, "uniqueId": record.unique_id}
    return order_reply(call, 0.187, call.tenant.id, _order_view(record, order), result)


def _order_view(record: model.Order, sent: dict[str, Any]) -> dict[str, str]:
    return {
        "orderNumber": record.order_number,
        "currency": record.currency,
        "amount": model.decimal_text(record.amount),
        "payMethod": str(sent.get("payMethod") or record.pay_method.lower()),
        "channel": str(sent.get("channel") or record.channel),
    }


@bp.route(REFUND_PATH, methods=["POST"], provide_automatic_options=False)
@operation("refund")
def refund(call: Call) -> Reply:
    """Give back part or all of a captured order; needs a session token generated for REFUND."""
    token_id = accept_token(call)
    call.state.require_refund_token(call.auth)
    order = call.body.get("order") or {}
    record = call.state.find_for_refund(call.body.get("idUnique"), _order_number(order))
    requested = order.get("refundAmount") or order.get("amount")
    amount = model.cents(str(requested)) if requested else record.captured - record.refunded
    refunded = call.state.refund(record, amount)
    spend_token(call, token_id)
    view = {
        **_order_view(record, order),
        "refundAmount": model.decimal_text(amount),
        "refundedAmount": model.decimal_text(refunded),
    }
    result = {
        "authorizationCode": record.authorization_code,
        "referenceNumber": record.reference_number,
        "uniqueId": record.unique_id,
    }
    return order_reply(call, 0.231, call.tenant.id, view, result)


# -- orderinfo Transaction/Search ----------------------------------------------------------------------


@bp.route(ORDER_SEARCH_PATH, methods=["POST"], provide_automatic_options=False)
@operation("search_order")
def search_order(call: Call) -> Reply:
    """An order's authorization and its state now (code: merchants read `response.order[0]`)."""
    token_id = accept_token(call)
    body = call.body
    number = str(body.get("numberOrden") or body.get("numberOden") or body.get("orderNumber") or "")
    record = call.state.order(number)
    spend_token(call, token_id)
    date, time_of_day = _when(record.authorized_at)
    message = DEPOSIT_MESSAGES[body.get("language") or "ESP"]
    entry = {
        "orderNumber": record.order_number,
        "currency": record.currency,
        "amount": model.decimal_text(record.amount),
        "uniqueId": record.unique_id,
        "codeAuth": record.authorization_code,
        "referenceNumber": record.reference_number,
        "dateTransaction": date,
        "timeTransaction": time_of_day,
        "payMethodAuthorization": record.pay_method,
        "codeResponse": record.code,
        "stateMessage": _state_message(record),
    }
    response = {
        "merchantCode": call.tenant.id,
        "payMethod": record.pay_method,
        "order": [entry],
        "card": {"brand": record.brand, "pan": record.masked_pan},
        "billing": _billing(record.billing),
    }
    body_out = {
        "code": "00",
        "message": message,
        "header": errors.header_block(call.now, call.now + 0.094),
        "response": response,
    }
    return Reply(200, body_out)
