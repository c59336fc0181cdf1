"""The behind-API V21 `payments.payture` wrapper on top of the Payture model
(docs/providers/payture.md#behind-api-wrapper).

`init` / `initUnauthorised` register `customer-{user_id}` (password MD5 of user id + salt) and open
an Add session of 1000 kopecks; `finalise` reads GetList and returns the first active, unexpired card
with `NoCVV` false, without its CardId. The same merchant state serves `/vwapi/*`, so a card added on
the hosted page is the card `finalise` returns. Answers are JSON (the wrapper README's shapes).
"""

from __future__ import annotations

import hashlib
from typing import Any

from emulator.core.codecs import JsonCodec
from emulator.core.errors import Reply
from emulator.core.provider import Call, operation
from emulator.core.tenants import Tenant
from emulator.providers.payture.errors import PaytureError, WrapperError
from emulator.providers.payture.model import CARD_ACTIVE, Card, PaytureState
from emulator.providers.payture.routes import bp, init_attrs

V21 = "/api/payments/21/payture"
CODEC = JsonCodec()
# (code: wrapper README "Internal Process Flow" / "Session Parameters")
WRAPPER_AMOUNT = 1000
PRODUCT = "Ru-kitchen.ru"
DESCRIPTION = "Monthly subscription for premium content"
LOGIN_PREFIX = "customer-"
MSG_NO_CARD = "No active card found"
MSG_NO_LIST = "Can't get card list"


def access_token(call: Call) -> str:
    """The behind-API conventions: `access_token` in the JSON body, `AccessToken` or `Authorization: Bearer`."""
    body = call.body if isinstance(call.body, dict) else {}
    token = body.get("access_token") or call.headers.get("AccessToken") or ""
    if not token:
        header = call.headers.get("Authorization", "").strip()
        token = header[7:].strip() if header[:7].lower() == "bearer " else ""
    return str(token)


def authenticate_wrapper(call: Call) -> Tenant | None:
    """The merchant the wrapper server is configured with: the first tenant carrying `behind_salt`."""
    call.auth = {"token": access_token(call)}
    for tenant in call.runtime.tenants["payture"]:
        if tenant.get("behind_salt") is not None:
            return tenant
    return None


def user_of_token(call: Call) -> str:
    """(inferred) The emulator has no user database: the tenant's `behind_tokens` maps the session tokens it knows
    to user ids; any other token names no user (a published client sends its own token on every call)."""
    token = call.auth["token"]
    if not token or call.tenant is None:
        return ""
    known = (call.tenant.get("behind_tokens") or {}).get(token)
    return str(known) if known is not None else ""


def customer_credentials(tenant: Tenant, user_id: str) -> tuple[str, str]:
    """(code: wrapper) `customer-{user_id}` with password MD5(`{user_id}{salt}`)."""
    password = hashlib.md5(f"{user_id}{tenant['behind_salt']}".encode()).hexdigest()
    return LOGIN_PREFIX + user_id, password


def _failure(message: str, error: PaytureError | None = None, detail: str = "") -> Reply:
    return WrapperError(message, error.code if error else "", detail).reply(0.0)


def _start_session(call: Call, user_id: str) -> Reply:
    """Register the customer (idempotent) and open an Add session, as the wrapper's server does."""
    if call.tenant is None:
        return _failure(WrapperError.FAILED, detail="No Payture terminal is configured for the wrapper")
    state: PaytureState = call.state
    login, password = customer_credentials(call.tenant, user_id)
    data = {
        "SessionType": "Add",
        "VWUserLgn": login,
        "VWUserPsw": password,
        "Amount": str(WRAPPER_AMOUNT),
        "Product": PRODUCT,
        "Description": DESCRIPTION,
        "Url": str(call.option("wrapper_return_url")),
        "IP": call.request.remote_addr or "",
    }
    try:
        if login not in state.customers:
            state.register(login, password, now=call.now)
        session = state.init(
            data,
            now=call.now,
            new_id=call.uuid4,
            terminal=str(call.tenant.get("add_terminal") or call.tenant.id),
            lifetime_minutes=int(call.option("session_lifetime_minutes")),
            attempts=int(call.option("attempts_count")),
        )
        call.claim(session.session_id)
    except PaytureError as error:
        return _failure(WrapperError.FAILED, error)
    attrs = init_attrs(call, session, data)
    body = {
        "success": True,
        "data": {
            "Success": attrs["Success"],
            "Amount": f"{WRAPPER_AMOUNT / 100:.2f}",  # (code: wrapper README) roubles, "10.00"
            "SessionLifeTime": str(call.option("session_lifetime_minutes")),
            "AttemptsCount": str(call.option("attempts_count")),
            "SessionId": session.session_id,
            "SessionType": "Add",
            "RedirectUrl": call.external_url(f"/vwapi/Add?SessionId={session.session_id}"),
            "Cmd": "Init",
        },
    }
    return Reply(200, body)


@bp.route(f"{V21}/init", methods=["POST"], provide_automatic_options=False)
@operation("v21_init", auth=authenticate_wrapper, codec=CODEC)
def v21_init(call: Call) -> Reply:
    """`payments.payture.init()`: an Add session for the user of the access token."""
    user_id = user_of_token(call)
    if not user_id:
        return _failure(WrapperError.FAILED, detail="Unauthorized")  # (inferred) no session, no user
    return _start_session(call, user_id)


@bp.route(f"{V21}/initUnauthorised", methods=["POST"], provide_automatic_options=False)
@operation("v21_init_unauthorised", auth=authenticate_wrapper, codec=CODEC)
def v21_init_unauthorised(call: Call) -> Reply:
    """`payments.payture.initUnauthorised(userId)`: the same, for the `user_id` of the body."""
    body = call.body if isinstance(call.body, dict) else {}
    user_id = str(body.get("user_id") or "")
    if not user_id:
        return _failure(WrapperError.FAILED, detail="user_id is required")
    return _start_session(call, user_id)


@bp.route(f"{V21}/finalise", methods=["POST"], provide_automatic_options=False)
@operation("v21_finalise", auth=authenticate_wrapper, codec=CODEC)
def v21_finalise(call: Call) -> Reply:
    """`payments.payture.finalise()`: GetList, then the first usable card without its CardId."""
    body = call.body if isinstance(call.body, dict) else {}
    # The body's user_id first (the unauthorised flow: a published client always sends its own access token too,
    # which names no wrapper session), then a known session token (docs/providers/payture.md#behind-api-wrapper).
    user_id = str(body.get("user_id") or "") or user_of_token(call)
    if call.tenant is None or not user_id:
        return _failure(MSG_NO_LIST, detail="Unauthorized")
    login, password = customer_credentials(call.tenant, user_id)
    try:
        cards = call.state.get_list(login, password, now=call.now)
    except PaytureError as error:
        return _failure(MSG_NO_LIST, error)
    for card in cards:
        if card.status == CARD_ACTIVE and not card.no_cvv and not card.expired(call.now):
            return Reply(200, {"success": True, "data": {"card": _card(call, card)}})
    return Reply(200, {"success": False, "message": MSG_NO_CARD})


def _card(call: Call, card: Card) -> dict[str, Any]:
    """CardId stripped (code: wrapper); booleans lower-case as the README shows (option wrapper_bool_style)."""
    no_cvv, expired = card.no_cvv, card.expired(call.now)
    if call.option("wrapper_bool_style") == "lower":
        flags = {"NoCVV": str(no_cvv).lower(), "Expired": str(expired).lower()}
    else:  # passthrough: whatever GetList rendered
        case = str.lower if call.option("bool_case") == "lower" else str
        flags = {"NoCVV": case(str(no_cvv)), "Expired": case(str(expired))}
    return {"CardName": card.card_name, "CardHolder": card.holder, "Status": card.status, **flags}
