"""Payture EWallet views at `/vwapi/{Command}` (docs/providers/payture.md): thin, the model does the work.

Every command answers GET and POST alike (docs/providers/payture.md#transport); the codec merges query and form and
decodes `DATA`. The hosted pages (`/vwapi/Add`, `/vwapi/Pay?SessionId=…`) answer HTML; everything else answers XML.
"""

from __future__ import annotations

import base64
from typing import Any

from flask import Blueprint

from emulator.core.codecs import is_web_url
from emulator.core.errors import Reply
from emulator.core.provider import Call, operation
from emulator.core.tenants import Tenant
from emulator.providers.payture import callbacks, pages, wire
from emulator.providers.payture.errors import PaytureError
from emulator.providers.payture.model import (
    FREE_PAY,
    PRE_3DS,
    AddResult,
    CardInput,
    Order,
    PaytureState,
    Session,
)

bp = Blueprint("payture", __name__)

METHODS = ["GET", "POST"]  # (doc)(code, recorded) docs/providers/payture.md#transport: both work for every command
DELAY_FLAG = "payemu_redirect_delay"  # emulator-only: seconds before the hosted page redirects; 0 = at once


# -- authentication ------------------------------------------------------------------------------


def find_terminal(call: Call, vwid: str) -> Tenant | None:
    """The merchant owning terminal `vwid` (its Add or Pay terminal, or any listed in `terminals`)."""
    directory = call.runtime.tenants["payture"]
    for tenant in directory:
        names = {tenant.get("add_terminal"), tenant.get("pay_terminal"), *(tenant.get("terminals") or [])}
        if vwid in names:
            return tenant
    # --open-tenants: an unknown terminal becomes a merchant of its own, with the password it sends.
    data = call.body.get("DATA") if isinstance(call.body.get("DATA"), dict) else {}
    password = call.body.get("Password") or data.get("Password") or ""
    return directory.admit(vwid, lambda: {"add_terminal": vwid, "pay_terminal": vwid, "password": password})


def authenticate_terminal(call: Call) -> Tenant:
    """`VWID` names the terminal (docs/providers/payture.md#transport); (inferred) a missing or unknown one is
    ACCESS_DENIED."""
    vwid = call.body.get("VWID") if isinstance(call.body, dict) else None
    if not vwid:
        raise _refused(call, "WRONG_PARAMS")
    tenant = find_terminal(call, str(vwid))
    if tenant is None:
        raise _refused(call, "ACCESS_DENIED")
    call.auth = {"terminal": str(vwid)}
    return tenant


def _refused(call: Call, code: str) -> PaytureError:
    error = PaytureError(code)
    error.init_session_id = call.operation == "init" and call.flag("failed_init_session_id")
    return error


def authenticate_three_ds(call: Call) -> Tenant:
    """PaySubmit3DS / AddSubmit3DS: (doc)(code: both official SDKs) only `MD` and `PaRes`, no VWID; the MD (the
    ThreeDSKey the merchant got) names the merchant. A VWID sent beside them is checked as usual."""
    if isinstance(call.body, dict) and call.body.get("VWID"):
        return authenticate_terminal(call)
    md = str(_three_ds_params(call).get("MD") or "")
    tenant = call.owner_of(md)
    if tenant is None:
        raise PaytureError("WRONG_PARAMS" if not md else "ORDER_NOT_FOUND")
    call.auth = {"terminal": ""}
    return tenant


def authenticate_session(call: Call) -> Tenant | None:
    """Hosted pages carry only a SessionId: the merchant that issued it (None: an error page)."""
    return call.owner_of(str(call.body.get("SessionId") or ""))


def authenticate_pay(call: Call) -> Tenant | None:
    """`/vwapi/Pay` and `/vwapi/Add` are both the merchant's command (VWID + DATA) and the hosted page (SessionId)."""
    if "VWID" not in call.body and ("SessionId" in call.body or call.operation == "add"):
        call.auth = {"hosted": True}
        return authenticate_session(call)
    return authenticate_terminal(call)


def no_tenant(call: Call) -> None:
    return None


# -- helpers -------------------------------------------------------------------------------------


def _data(call: Call) -> dict[str, str]:
    data = call.body.get("DATA")
    return data if isinstance(data, dict) else {}


def _order_params(call: Call) -> dict[str, str]:
    """(code, recorded) docs/providers/payture.md#order-level-commands: Charge/Unblock send OrderId, Amount, Password at
    the top level; DATA also read."""
    top = {k: v for k, v in call.body.items() if k not in ("DATA", "VWID")}
    return {**_data(call), **top}


def _three_ds_params(call: Call) -> dict[str, str]:
    """`MD` and `PaRes` at the top level (docs, both official SDKs) or inside DATA."""
    top = {k: str(v) for k, v in call.body.items() if k in ("MD", "PaRes")} if isinstance(call.body, dict) else {}
    return {**_data(call), **top}


def _amount(params: dict[str, str]) -> int | None:
    """An optional `Amount` in kopecks (Charge, Refund); the contract has checked its digits."""
    value = params.get("Amount")
    return int(value) if value not in (None, "") else None


def _ok(tag: str, attrs: dict[str, Any], children: list[dict[str, Any]] | None = None) -> Reply:
    return Reply(200, wire.element(tag, attrs, children))


def _failed(call: Call, tag: str, code: str, params: dict[str, Any] | None = None) -> Reply:
    """A business error that changed state (a decline kept on the order): rendered, not raised."""
    error = PaytureError(code)
    error.command = tag
    error.params = params if params is not None else call.body
    return error.reply(call.now)


def _timeout(call: Call) -> float:
    return float(call.option("timeout_seconds"))


def _bool(call: Call, value: bool) -> str:
    """(doc) docs/providers/payture.md#getlist `NoCVV="False"`; docs/providers/payture.md#q2 leaves the case open:
    option `bool_case`."""
    text = "True" if value else "False"
    return text.lower() if call.option("bool_case") == "lower" else text


def _state(call: Call) -> PaytureState:
    return call.state


# -- customers (docs/providers/payture.md#register, #check-update-delete) ----------------------------------------------


@bp.route("/vwapi/Register", methods=METHODS, provide_automatic_options=False)
@operation("register", auth=authenticate_terminal)
def register(call: Call) -> Reply:
    """Register a customer (docs/providers/payture.md#register)."""
    d = _data(call)
    customer = _state(call).register(
        d["VWUserLgn"], d["VWUserPsw"], now=call.now, phone=d.get("PhoneNumber", ""), email=d.get("Email", "")
    )
    return _ok("Register", {"Success": "True", "VWUserLgn": customer.login})


@bp.route("/vwapi/Check", methods=METHODS, provide_automatic_options=False)
@operation("check", auth=authenticate_terminal)
def check(call: Call) -> Reply:
    """Check a customer's credentials (docs/providers/payture.md#check-update-delete)."""
    d = _data(call)
    customer = _state(call).check(d["VWUserLgn"], d["VWUserPsw"], now=call.now)
    return _ok("Check", {"Success": "True", "VWUserLgn": customer.login})


@bp.route("/vwapi/Update", methods=METHODS, provide_automatic_options=False)
@operation("update", auth=authenticate_terminal)
def update(call: Call) -> Reply:
    """Change a customer's phone number or e-mail (docs/providers/payture.md#check-update-delete)."""
    d = _data(call)
    customer = _state(call).update(
        d["VWUserLgn"], d["VWUserPsw"], now=call.now, phone=d.get("PhoneNumber"), email=d.get("Email")
    )
    return _ok("Update", {"Success": "True", "VWUserLgn": customer.login})


@bp.route("/vwapi/Delete", methods=METHODS, provide_automatic_options=False)
@operation("delete", auth=authenticate_terminal)
def delete(call: Call) -> Reply:
    """Delete a customer; DATA carries the merchant password (docs/providers/payture.md#check-update-delete)."""
    d = _data(call)
    _state(call).delete(d["VWUserLgn"], d.get("Password"), now=call.now)
    return _ok("Delete", {"Success": "True", "VWUserLgn": d["VWUserLgn"]})


# -- sessions (docs/providers/payture.md#init) -------------------------------------------------------------------------


@bp.route("/vwapi/Init", methods=METHODS, provide_automatic_options=False)
@operation("init", auth=authenticate_terminal)
def init(call: Call) -> Reply:
    """Open an Add, Pay or Block session for the hosted page (docs/providers/payture.md#init)."""
    d = _data(call)
    try:
        session = _state(call).init(
            d,
            now=call.now,
            new_id=call.uuid4,
            terminal=call.auth["terminal"],
            lifetime_minutes=int(call.option("session_lifetime_minutes")),
            attempts=int(call.option("attempts_count")),
            auto_register=call.flag("auto_register"),
        )
    except PaytureError as error:
        error.init_session_id = call.flag("failed_init_session_id")
        raise
    call.claim(session.session_id)  # the hosted pages find the merchant by SessionId alone
    return _ok("Init", init_attrs(call, session, d))


def init_attrs(call: Call, session: Session, data: dict[str, str]) -> dict[str, str]:
    """(code, recorded) docs/providers/payture.md#init `Success OrderId Amount SessionId SessionType`, + the (inferred)
    extras."""
    attrs: dict[str, Any] = {"Success": "True"}
    if session.session_type != "Add":
        attrs["OrderId"] = session.order_id
        attrs["Amount"] = session.amount
    else:
        # (code: Necronru docblock) Amount is 0 for Add; option add_amount=echo echoes the request.
        attrs["Amount"] = data.get("Amount", "0") if call.option("add_amount") == "echo" else "0"
    attrs["SessionId"] = session.session_id
    attrs["SessionType"] = session.session_type
    if call.flag("init_extras"):
        # (inferred) docs/providers/payture.md#init recommendation, from the wrapper's example: harmless to every parser
        # seen.
        attrs["SessionLifeTime"] = str(call.option("session_lifetime_minutes"))
        attrs["AttemptsCount"] = str(call.option("attempts_count"))
    return {k: str(v) for k, v in attrs.items()}


# -- hosted pages (docs/providers/payture.md#add-page, #pay, #hosted-pages) --------------------------------------------


def _delay_flag(call: Call) -> str | None:
    value = call.body.get(DELAY_FLAG)
    return str(value) if value is not None and str(value).isdigit() else None


def _language(call: Call, session: Session | None) -> str:
    """(doc) Init `Language` (RU | EN) picks the hosted page's language; anything else falls back to the option."""
    chosen = (session.language if session else "").upper()
    return chosen if chosen in pages.LANGUAGES else str(call.option("default_language")).upper()


def _hosted_page(call: Call, page: str) -> Reply:
    session_id = str(call.body.get("SessionId") or "")
    if call.state is None:
        return pages.error_page("ORDER_NOT_FOUND" if session_id else "WRONG_PARAMS", _language(call, None))
    state = _state(call)
    session = state.find_session(session_id)
    try:
        session = state.open_session(session_id, now=call.now)
    except PaytureError as error:
        return pages.error_page(error.code, _language(call, session))
    return pages.form_page(
        session_id=session.session_id,
        add=session.session_type == "Add",
        terminal=session.terminal,
        amount=session.amount,
        attempts_left=session.attempts_left,
        action=f"/vwapi/{page}/Submit",
        delay_flag=_delay_flag(call),
        language=_language(call, session),
        template_tag=session.template_tag,
        saved_cards=state.saved_cards(session, call.now),
    )


@bp.route("/vwapi/Add", methods=METHODS, provide_automatic_options=False)
@operation("add", auth=authenticate_pay)
def add(call: Call) -> Reply:
    """The Payture-hosted card registration page (SessionId), or the merchant-side Add with card data in DATA
    (docs/providers/payture.md#add-page, #add)."""
    if (call.auth or {}).get("hosted"):
        return _hosted_page(call, "Add")
    d = _data(call)
    state = _state(call)
    result = state.add_card(
        d,
        _card_input(d),
        now=call.now,
        new_id=call.uuid4,
        no_cvv=call.flag("no_cvv"),
        activation=str(call.option("activation")),
    )
    return _add_reply(call, "Add", result)


@bp.route("/vwapi/AddSubmit3DS", methods=METHODS, provide_automatic_options=False)
@operation("add_submit_3ds", auth=authenticate_three_ds)
def add_submit_3ds(call: Call) -> Reply:
    """(doc) docs/providers/payture.md#add: finish a merchant-side Add of a 3-D Secure card with the ACS's answer."""
    p = _three_ds_params(call)
    result = _state(call).add_submit_3ds(p["MD"], p["PaRes"], now=call.now, activation=str(call.option("activation")))
    return _add_reply(call, "AddSubmit3DS", result)


def _add_reply(call: Call, tag: str, result: AddResult) -> Reply:
    """(inferred) docs/providers/payture.md#add: the GetList Item's names for the new card; `Success="3DS"` with the
    ACS fields of docs/providers/payture.md#add."""
    state = _state(call)
    customer = state.customers.get(result.login)
    if result.three_ds_key:
        call.claim(result.three_ds_key)  # AddSubmit3DS names only the MD
        attrs = {"VWUserLgn": result.login, "Success": "3DS", **_acs_attrs(call, result.login, result.three_ds_key)}
        return _ok(tag, attrs)
    if result.err_code or result.card is None:
        callbacks.customer_add_merchant(call, customer, result.login, None, result.err_code)
        return _failed(call, tag, result.err_code, {"VWUserLgn": result.login})
    card = result.card
    callbacks.customer_add_merchant(call, customer, result.login, card)
    attrs = {"VWUserLgn": result.login, "Success": "True", "CardName": card.card_name, "CardId": card.card_id}
    return _ok(tag, {**attrs, "NoCVV": _bool(call, card.no_cvv), "Status": card.status})


def _acs_attrs(call: Call, reference: str, key: str) -> dict[str, str]:
    """(doc) docs/providers/payture.md#add: ACSUrl, PaReq and ThreeDSKey (the MD) of a `Success="3DS"` reply."""
    pa_req = base64.b64encode(f"PaReq:{reference}:{key}".encode()).decode()
    return {"ACSUrl": call.external_url("/vwapi/ACS"), "PaReq": pa_req, "ThreeDSKey": key}


def _card_input(d: dict[str, str]) -> CardInput:
    return CardInput(
        pan=d.get("CardNumber", "").replace(" ", ""),
        month=d.get("EMonth", ""),
        year=d.get("EYear", ""),
        holder=d.get("CardHolder", ""),
        cvv=d.get("SecureCode", ""),
    )


@bp.route("/vwapi/Add/Submit", methods=["POST"], provide_automatic_options=False, endpoint="submit_add")
@bp.route("/vwapi/Pay/Submit", methods=["POST"], provide_automatic_options=False)
@operation("submit_card", auth=authenticate_session)
def submit_card(call: Call) -> Reply:
    """The hosted form's POST: a saved card, or a typed one the test card decides (saved too when asked); then the
    result page and the redirect (docs/providers/payture.md#add-page, #hosted-pages)."""
    session_id = str(call.body.get("SessionId") or "")
    if call.state is None:
        return pages.error_page("ORDER_NOT_FOUND" if session_id else "WRONG_PARAMS", _language(call, None))
    state = _state(call)
    new_id = call.uuid4
    delay_flag = _delay_flag(call)
    activation = str(call.option("activation"))
    timeout = _timeout(call)
    try:
        if call.body.get("ThreeDSKey"):
            passed = call.body.get("Answer") == "pass"
            key = str(call.body["ThreeDSKey"])
            result = state.confirm_3ds(
                session_id, key, passed, now=call.now, activation=activation, timeout_seconds=timeout
            )
        elif call.body.get("CardId"):
            result = state.pay_saved_on_page(
                session_id, str(call.body["CardId"]), now=call.now, timeout_seconds=timeout
            )
        else:
            outcome = call.option("hosted_outcome") or None
            result = state.submit_card(
                session_id,
                _card_input({k: str(v) for k, v in call.body.items()}),
                now=call.now,
                new_id=new_id,
                outcome=outcome,
                no_cvv=call.flag("no_cvv"),
                save=str(call.body.get("SaveCard", "")).lower() in ("on", "true", "1"),
                activation=activation,
                timeout_seconds=timeout,
            )
    except PaytureError as error:
        return pages.error_page(error.code, _language(call, state.find_session(session_id)))
    session = state.sessions[session_id]
    language = _language(call, session)
    add_page = session.session_type == "Add"
    if result.needs_3ds:
        pending = session.pending_3ds or {}
        return pages.acs_page(
            session_id=session_id,
            three_ds_key=result.three_ds_key,
            card_name=pending.get("card", {}).get("card_name", ""),
            action=f"/vwapi/{'Add' if add_page else 'Pay'}/Submit",
            delay_flag=delay_flag,
            language=language,
        )
    if add_page:
        callbacks.customer_add(call, state.customers.get(session.login), session, result.card, result.err_code)
    else:
        order = state.orders[session.order_id]
        card_name = result.card.card_name if result.card else ""
        callbacks.customer_pay(call, order, card_name=card_name, ip=session.ip, err_code=result.err_code)
    redirect_url = return_url(call, session, result.success)
    delay = int(delay_flag) if delay_flag is not None else int(call.option("redirect_delay_seconds"))
    if redirect_url and delay == 0:
        return Reply(303, headers={"Location": redirect_url}, raw=b"", content_type=pages.HTML_CONTENT_TYPE)
    card = result.card
    return pages.result_page(
        success=result.success,
        add=add_page,
        card_name=card.card_name if card else "",
        err_code=result.err_code,
        redirect_url=redirect_url,
        redirect_delay=delay,
        language=language,
        activation_amount=card.activation_amount if card and add_page and result.success else 0,
    )


def return_url(call: Call, session: Session, success: bool) -> str:
    """(doc) docs/providers/payture.md#add-page: Init's `Url` with lower-case `{orderid}` and `{success}`
    (`True`/`False`) substituted."""
    if not session.url:
        return ""
    order_id = session.order_id
    if session.session_type == "Add":
        # (inferred) docs/providers/payture.md#q3: an Add session has no merchant OrderId; the SessionId stands in by
        # default.
        order_id = session.session_id if call.option("add_orderid") == "session" else ""
    url = session.url.replace("{orderid}", order_id).replace("{success}", "True" if success else "False")
    return url if is_web_url(url) else ""  # an OrderId with a space or CR/LF must not split the Location


@bp.route("/vwapi/ACS", methods=METHODS, provide_automatic_options=False)
@operation("acs", auth=no_tenant)
def acs(call: Call) -> Reply:
    """The emulated issuer page behind a `Success="3DS"` reply: posts `MD` and `PaRes` to `TermUrl`."""
    return pages.term_page(
        md=str(call.body.get("MD", "")),
        pa_req=str(call.body.get("PaReq", "")),
        term_url=str(call.body.get("TermUrl", "")),
    )


# -- cards (docs/providers/payture.md#getlist, #remove, #activate, #sendcode) ------------------------------------------


@bp.route("/vwapi/GetList", methods=METHODS, provide_automatic_options=False)
@operation("get_list", auth=authenticate_terminal)
def get_list(call: Call) -> Reply:
    """The customer's active cards, all six Item attributes on each (docs/providers/payture.md#getlist)."""
    d = _data(call)
    cards = _state(call).get_list(d["VWUserLgn"], d["VWUserPsw"], now=call.now)
    items = [
        wire.element(
            "Item",
            {
                "CardName": c.card_name,
                "CardId": c.card_id,
                "CardHolder": c.holder,
                "Status": c.status,
                "NoCVV": _bool(call, c.no_cvv),
                "Expired": _bool(call, c.expired(call.now)),
            },
        )
        for c in cards
    ]
    return _ok("GetList", {"Success": "True", "VWUserLgn": d["VWUserLgn"]}, items)


@bp.route("/vwapi/Remove", methods=METHODS, provide_automatic_options=False)
@operation("remove", auth=authenticate_terminal)
def remove(call: Call) -> Reply:
    """Remove a saved card (docs/providers/payture.md#remove)."""
    d = _data(call)
    card = _state(call).remove(d["VWUserLgn"], d["VWUserPsw"], d["CardId"], now=call.now)
    return _ok("Remove", {"Success": "True", "VWUserLgn": d["VWUserLgn"], "CardId": card.card_id})


@bp.route("/vwapi/Activate", methods=METHODS, provide_automatic_options=False)
@operation("activate", auth=authenticate_terminal)
def activate(call: Call) -> Reply:
    """(doc) docs/providers/payture.md#activate: activate a card with the amount held when it was added."""
    d = _data(call)
    card = _state(call).activate(d["VWUserLgn"], d["VWUserPsw"], d["CardId"], int(d["Amount"]), now=call.now)
    return _ok("Activate", {"Success": "True", "VWUserLgn": d["VWUserLgn"], "CardId": card.card_id})


@bp.route("/vwapi/SendCode", methods=METHODS, provide_automatic_options=False)
@operation("send_code", auth=authenticate_terminal)
def send_code(call: Call) -> Reply:
    """(code: SDKs) docs/providers/payture.md#sendcode: a confirmation code for a payment with a saved card, sent to
    the customer (the CustomerSendCode notification carries it here); Pay then takes it as ConfirmCode."""
    d = _data(call)
    code = f"{int(call.uuid4().replace('-', '')[:8], 16) % 1_000_000:06d}"
    state = _state(call)
    card = state.send_code(d["VWUserLgn"], d["VWUserPsw"], d["CardId"], d.get("OrderId", ""), code=code)
    callbacks.customer_send_code(call, state.customers[d["VWUserLgn"]], card, d.get("OrderId", ""), code)
    return _ok("SendCode", {"Success": "True", "VWUserLgn": d["VWUserLgn"], "CardId": card.card_id})


# -- payments (docs/providers/payture.md#pay, #order-level-commands) ---------------------------------------------------


@bp.route("/vwapi/Pay", methods=METHODS, provide_automatic_options=False)
@operation("pay", auth=authenticate_pay)
def pay(call: Call) -> Reply:
    """The merchant's Pay command (saved card: recurring, no CVV, no 3-D Secure; or FreePay), or the hosted Pay page
    (docs/providers/payture.md#pay)."""
    if (call.auth or {}).get("hosted"):
        return _hosted_page(call, "Pay")
    d = _data(call)
    card = _card_input(d) if d.get("CardId") == FREE_PAY else None
    order = _state(call).pay(d, now=call.now, new_id=call.uuid4, card=card, timeout_seconds=_timeout(call))
    return _pay_reply(call, "Pay", order, ip=d.get("IP", ""))


def _pay_reply(call: Call, tag: str, order: Order, ip: str = "") -> Reply:
    if order.status == PRE_3DS:
        call.claim(order.three_ds_key)  # PaySubmit3DS names only the MD
        attrs = {"OrderId": order.order_id, "Amount": order.amount, "Success": "3DS"}
        return _ok(tag, {**attrs, **_acs_attrs(call, order.order_id, order.three_ds_key)})
    callbacks.customer_pay(call, order, card_name=order.card_name, ip=ip, err_code=order.last_error)
    if order.last_error:
        return _failed(call, tag, order.last_error, {"OrderId": order.order_id, "Amount": str(order.amount)})
    return _ok(tag, {"OrderId": order.order_id, "Amount": order.amount, "Success": "True"})


@bp.route("/vwapi/PaySubmit3DS", methods=METHODS, provide_automatic_options=False)
@operation("pay_submit_3ds", auth=authenticate_three_ds)
def pay_submit_3ds(call: Call) -> Reply:
    """(doc)(code: both official SDKs) Finish a 3-D Secure payment with the ACS answer: top-level `MD` (the
    ThreeDSKey) and `PaRes`; the reply is Pay's (docs/providers/payture.md#pay)."""
    p = _three_ds_params(call)
    order = _state(call).submit_3ds(p["MD"], p["PaRes"], now=call.now, timeout_seconds=_timeout(call))
    return _pay_reply(call, "PaySubmit3DS", order)


@bp.route("/vwapi/PayStatus", methods=METHODS, provide_automatic_options=False)
@operation("pay_status", auth=authenticate_terminal)
def pay_status(call: Call) -> Reply:
    """(code, recorded) docs/providers/payture.md#order-level-commands: the order's state, `Forwarded="False"`, the
    customer's login."""
    order = _state(call).order(_order_params(call)["OrderId"], now=call.now)
    attrs = {
        "Success": "True",
        "VWUserLgn": order.login,
        "OrderId": order.order_id,
        "Forwarded": "False",
        "Amount": order.current_amount,
        "CardId": order.card_id,
        "Status": order.status_at(call.now),
    }
    return _ok("PayStatus", attrs)


@bp.route("/vwapi/Charge", methods=METHODS, provide_automatic_options=False)
@operation("charge", auth=authenticate_terminal)
def charge(call: Call) -> Reply:
    """(doc)(code, recorded) docs/providers/payture.md#order-level-commands: capture a Block, the whole hold when
    `Amount` is left out."""
    p = _order_params(call)
    order = _state(call).charge(
        p["OrderId"], _amount(p), p.get("Password"), now=call.now, timeout_seconds=_timeout(call)
    )
    if order.last_error:
        return _failed(call, "Charge", order.last_error, p)
    return _ok("Charge", {"Success": "True", "OrderId": order.order_id, "Amount": order.charged})


@bp.route("/vwapi/Unblock", methods=METHODS, provide_automatic_options=False)
@operation("unblock", auth=authenticate_terminal)
def unblock(call: Call) -> Reply:
    """(doc) docs/providers/payture.md#order-level-commands: release the whole hold (`VWID`, `Password`, `OrderId`);
    NewAmount is always 0."""
    p = _order_params(call)
    order = _state(call).unblock(p["OrderId"], p.get("Password"), now=call.now, timeout_seconds=_timeout(call))
    if order.last_error:
        return _failed(call, "Unblock", order.last_error, p)
    return _ok("Unblock", {"Success": "True", "OrderId": order.order_id, "NewAmount": 0})


@bp.route("/vwapi/Refund", methods=METHODS, provide_automatic_options=False)
@operation("refund", auth=authenticate_terminal)
def refund(call: Call) -> Reply:
    """(code, recorded) docs/providers/payture.md#order-level-commands: refund all or part; attribute order as
    recorded."""
    p = _order_params(call)
    order = _state(call).refund(
        p["OrderId"], _amount(p), p.get("Password"), now=call.now, timeout_seconds=_timeout(call)
    )
    if order.last_error:
        return _failed(call, "Refund", order.last_error, p)
    callbacks.customer_refund(call, order)
    return _ok(
        "Refund", {"VWUserLgn": "", "OrderId": order.order_id, "Success": "True", "NewAmount": order.current_amount}
    )
