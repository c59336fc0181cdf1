"""Izipay's card tokenization API at `/tokenization/external/api/v1/tokens` (docs/providers/izipay.md#tokenization):
save a buyer's card, look one token up, list a buyer's tokens, delete one. Each call carries the session token.

Only the masked number, brand and expiry of a card are kept, with a keyed fingerprint so that the same card
saved again for the same buyer finds its token (one token per card and buyer); never the number or the CVV.
"""

from __future__ import annotations

from typing import Any

from emulator.core.errors import Reply
from emulator.core.provider import Call, operation
from emulator.providers.izipay import errors, model
from emulator.providers.izipay.routes import accept_token, bp, spend_token

TOKENS_PATH = "/tokenization/external/api/v1/tokens"
TOKEN_PATH = TOKENS_PATH + "/token"
BUYER_TOKENS_PATH = TOKENS_PATH + "/tokens"
DELETE_PATH = TOKENS_PATH + "/delete"

# (inferred) docs/providers/izipay.md#tokenization: no published success message for these calls.
MESSAGES = {"ESP": "Operación exitosa", "ENG": "Successful"}
STATUS_ACTIVE, STATUS_DELETED = "ACTIVE", "DELETED"


def _token_view(record: model.CardToken) -> dict[str, Any]:
    """One saved card as the API answers it; merchants read its value at `token` (code)."""
    return {
        "token": record.card_token,
        "buyerToken": record.buyer_token,
        "alias": record.alias,
        "status": STATUS_ACTIVE if record.active else STATUS_DELETED,
        "creationDate": errors.lima_timestamp(record.created_at),
        "card": {
            "brand": record.brand,
            "pan": record.masked_pan,
            "expirationMonth": record.expiration_month,
            "expirationYear": record.expiration_year,
        },
    }


def _answer(call: Call, response: dict[str, Any], token_id: str) -> Reply:
    """Count the session token's use, then answer in the envelope of the other session-token calls."""
    spend_token(call, token_id)
    body = {
        "code": "00",
        "message": MESSAGES[call.body.get("language") or "ESP"],
        "header": errors.header_block(call.now, call.now + 0.142),
        "response": {"merchantCode": call.tenant.id, **response},
    }
    return Reply(200, body)


def _buyer(call: Call) -> dict[str, Any]:
    buyer = call.body.get("buyer")
    return buyer if isinstance(buyer, dict) else {}


def _named_token(call: Call) -> tuple[str, str | None]:
    """The card token a call names (`token.cardToken`, else `buyer.buyerToken` as some merchant code sends
    it) and the buyer it names, if any; a call naming no token gets the not-found error."""
    token = call.body.get("token")
    value = str((token.get("cardToken") if isinstance(token, dict) else None) or _buyer(call).get("buyerToken") or "")
    if not value:
        raise errors.CardTokenNotFound()
    buyer_id = _buyer(call).get("merchantBuyerId")
    return value, str(buyer_id) if buyer_id else None


def _token_response(record: model.CardToken) -> dict[str, Any]:
    """One token and its buyer, as a look-up and a delete answer them."""
    return {
        "buyer": {"merchantBuyerId": record.buyer_id, "buyerToken": record.buyer_token},
        "token": _token_view(record),
    }


@bp.route(TOKENS_PATH, methods=["POST"], provide_automatic_options=False)
@operation("tokenize_card")
def tokenize_card(call: Call) -> Reply:
    """Save a buyer's card; the same card for the same buyer answers its existing token (option
    `duplicate_card_token`)."""
    token_id = accept_token(call)
    body = call.body
    card, buyer_id = body["card"], str(body["buyer"]["merchantBuyerId"])
    record, _ = call.state.tokenize(
        card,
        buyer_id,
        alias=str(card.get("alias") or ""),
        new_token=call.uuid4().replace("-", "").upper(),
        new_buyer_token=call.uuid4().replace("-", "").upper(),
        now=call.now,
        duplicates=str(call.option("duplicate_card_token")),
    )
    order_number = body.get("orderNumber") or card.get("orderNumber") or ""
    response = {
        "orderNumber": str(order_number),
        "buyer": {"merchantBuyerId": buyer_id, "buyerToken": record.buyer_token},
        "token": _token_view(record),
    }
    return _answer(call, response, token_id)


@bp.route(TOKEN_PATH, methods=["POST"], provide_automatic_options=False)
@operation("get_card_token")
def get_card_token(call: Call) -> Reply:
    """One active token of this merchant (of the named buyer, if any)."""
    token_id = accept_token(call)
    record = call.state.card_token(*_named_token(call))
    return _answer(call, _token_response(record), token_id)


@bp.route(BUYER_TOKENS_PATH, methods=["POST"], provide_automatic_options=False)
@operation("list_buyer_tokens")
def list_buyer_tokens(call: Call) -> Reply:
    """A buyer's active tokens, oldest first (none for a buyer never seen)."""
    token_id = accept_token(call)
    buyer_id = str(call.body["buyer"]["merchantBuyerId"])
    records = call.state.buyer_cards(buyer_id)
    response = {
        "buyer": {"merchantBuyerId": buyer_id, "buyerToken": call.state.buyer_tokens.get(buyer_id, "")},
        "tokens": [_token_view(record) for record in records],
    }
    return _answer(call, response, token_id)


@bp.route(DELETE_PATH, methods=["POST"], provide_automatic_options=False)
@operation("delete_card_token")
def delete_card_token(call: Call) -> Reply:
    """Delete an active token: later payments, look-ups and deletes with it are refused."""
    token_id = accept_token(call)
    record = call.state.delete_token(*_named_token(call), now=call.now)
    return _answer(call, _token_response(record), token_id)
