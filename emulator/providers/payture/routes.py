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
from emulator.providers.payture.model import FREE_PAY, PRE_3DS, CardInput, PaytureState, Session

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
        raise PaytureError("WRONG_PARAMS")
    tenant = find_terminal(call, str(vwid))
    if tenant is None:
        raise PaytureError("ACCESS_DENIED")
    call.auth = {"terminal": str(vwid)}
    return tenant


def authenticate_session(call: Call) -> Tenant | None:
    """Hosted pages carry only a SessionId: the merchant that issued it (None: an error page)."""
    return call.owner_of(str(call.body.get("SessionId") or ""))


def authenticate_pay(call: Call) -> Tenant | None:
    """`/vwapi/Pay` is both the merchant's Pay command (VWID + DATA) and the hosted Pay page (SessionId)."""
    if "VWID" not in call.body and "SessionId" in call.body:
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


def _ok(tag: str, attrs: dict[str, Any], children: list[dict[str, Any]] | None = None) -> Reply:
    return Reply(200, wire.element(tag, attrs, children))


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
    session = _state(call).init(
        d,
        now=call.now,
        new_id=call.uuid4,
        terminal=call.auth["terminal"],
        lifetime_minutes=int(call.option("session_lifetime_minutes")),
        attempts=int(call.option("attempts_count")),
        auto_register=call.flag("auto_register"),
    )
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


# -- hosted pages (docs/providers/payture.md#add-page, #pay) -----------------------------------------------------------


def _delay_flag(call: Call) -> str | None:
    value = call.body.get(DELAY_FLAG)
    return str(value) if value is not None and str(value).isdigit() else None


def _hosted_page(call: Call, page: str) -> Reply:
    session_id = str(call.body.get("SessionId") or "")
    if call.state is None:
        return pages.error_page("ORDER_NOT_FOUND" if session_id else "WRONG_PARAMS")
    try:
        session = _state(call).open_session(session_id, now=call.now)
    except PaytureError as error:
        return pages.error_page(error.code)
    return pages.form_page(
        session_id=session.session_id,
        add=session.session_type == "Add",
        terminal=session.terminal,
        amount=session.amount,
        attempts_left=session.attempts_left,
        action=f"/vwapi/{page}/Submit",
        delay_flag=_delay_flag(call),
    )


@bp.route("/vwapi/Add", methods=METHODS, provide_automatic_options=False)
@operation("add", auth=authenticate_session)
def add(call: Call) -> Reply:
    """The Payture-hosted card registration page (docs/providers/payture.md#add-page)."""
    return _hosted_page(call, "Add")


@bp.route("/vwapi/Add/Submit", methods=["POST"], provide_automatic_options=False, endpoint="submit_add")
@bp.route("/vwapi/Pay/Submit", methods=["POST"], provide_automatic_options=False)
@operation("submit_card", auth=authenticate_session)
def submit_card(call: Call) -> Reply:
    """The hosted form's POST: the test card decides; then the result page and the redirect
    (docs/providers/payture.md#add-page)."""
    session_id = str(call.body.get("SessionId") or "")
    if call.state is None:
        return pages.error_page("ORDER_NOT_FOUND" if session_id else "WRONG_PARAMS")
    state = _state(call)
    new_id = call.uuid4
    delay_flag = _delay_flag(call)
    try:
        if call.body.get("ThreeDSKey"):
            passed = call.body.get("Answer") == "pass"
            result = state.confirm_3ds(session_id, str(call.body["ThreeDSKey"]), passed, now=call.now)
        else:
            card = CardInput(
                pan=str(call.body.get("CardNumber", "")).replace(" ", ""),
                month=str(call.body.get("EMonth", "")),
                year=str(call.body.get("EYear", "")),
                holder=str(call.body.get("CardHolder", "")),
                cvv=str(call.body.get("SecureCode", "")),
            )
            outcome = call.option("hosted_outcome") or None
            result = state.submit_card(
                session_id, card, now=call.now, new_id=new_id, outcome=outcome, no_cvv=call.flag("no_cvv")
            )
    except PaytureError as error:
        return pages.error_page(error.code)
    session = state.sessions[session_id]
    add_page = session.session_type == "Add"
    if result.needs_3ds:
        pending = session.pending_3ds or {}
        return pages.acs_page(
            session_id=session_id,
            three_ds_key=result.three_ds_key,
            card_name=pending.get("card", {}).get("card_name", ""),
            action=f"/vwapi/{'Add' if add_page else 'Pay'}/Submit",
            delay_flag=delay_flag,
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
    return pages.result_page(
        success=result.success,
        add=add_page,
        card_name=result.card.card_name if result.card else "",
        err_code=result.err_code,
        redirect_url=redirect_url,
        redirect_delay=delay,
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


# -- cards (docs/providers/payture.md#getlist, #remove) ----------------------------------------------------------------


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


# -- payments (docs/providers/payture.md#pay, #order-level-commands) ---------------------------------------------------


@bp.route("/vwapi/Pay", methods=METHODS, provide_automatic_options=False)
@operation("pay", auth=authenticate_pay)
def pay(call: Call) -> Reply:
    """The merchant's Pay command (saved card or FreePay), or the hosted Pay page (docs/providers/payture.md#pay)."""
    if (call.auth or {}).get("hosted"):
        return _hosted_page(call, "Pay")
    d = _data(call)
    card = None
    if d.get("CardId") == FREE_PAY:
        card = CardInput(
            pan=d.get("CardNumber", "").replace(" ", ""),
            month=d.get("EMonth", ""),
            year=d.get("EYear", ""),
            holder=d.get("CardHolder", ""),
            cvv=d.get("SecureCode", ""),
        )
    state = _state(call)
    order = state.pay(d, now=call.now, new_id=call.uuid4, card=card)
    if order.status == PRE_3DS:
        # (inferred) docs/providers/payture.md#pay, by analogy with the recorded 3-DS Charge: ACSUrl, PaReq, ThreeDSKey.
        pa_req = base64.b64encode(f"PaReq:{order.order_id}:{order.three_ds_key}".encode()).decode()
        return _ok(
            "Pay",
            {
                "OrderId": order.order_id,
                "Amount": order.amount,
                "Success": "3DS",
                "ACSUrl": call.external_url("/vwapi/ACS"),
                "PaReq": pa_req,
                "ThreeDSKey": order.three_ds_key,
            },
        )
    saved = state.customers[order.login].cards.get(order.card_id) if order.card_id else None
    card_name = saved.card_name if saved else ""
    callbacks.customer_pay(call, order, card_name=card_name, ip=d.get("IP", ""))
    return _ok("Pay", {"OrderId": order.order_id, "Amount": order.amount, "Success": "True"})


@bp.route("/vwapi/PaySubmit3DS", methods=METHODS, provide_automatic_options=False)
@operation("pay_submit_3ds", auth=authenticate_terminal)
def pay_submit_3ds(call: Call) -> Reply:
    """Finish a 3-DS payment with the ACS answer: `MD` (the ThreeDSKey) and `PaRes` (inferred shape)."""
    d = _data(call)
    order = _state(call).submit_3ds(d["MD"], d["PaRes"], now=call.now)
    callbacks.customer_pay(call, order)
    return _ok("PaySubmit3DS", {"Success": "True", "OrderId": order.order_id, "Amount": order.amount})


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
        "Status": order.status,
    }
    return _ok("PayStatus", attrs)


@bp.route("/vwapi/Charge", methods=METHODS, provide_automatic_options=False)
@operation("charge", auth=authenticate_terminal)
def charge(call: Call) -> Reply:
    """(code, recorded) docs/providers/payture.md#order-level-commands: complete a Block."""
    p = _order_params(call)
    order = _state(call).charge(p["OrderId"], int(p["Amount"]), p.get("Password"), now=call.now)
    return _ok("Charge", {"Success": "True", "OrderId": order.order_id, "Amount": order.charged})


@bp.route("/vwapi/Unblock", methods=METHODS, provide_automatic_options=False)
@operation("unblock", auth=authenticate_terminal)
def unblock(call: Call) -> Reply:
    """(code, recorded) docs/providers/payture.md#order-level-commands: release a hold; NewAmount is what stays held."""
    p = _order_params(call)
    order = _state(call).unblock(p["OrderId"], int(p["Amount"]), p.get("Password"), now=call.now)
    return _ok("Unblock", {"Success": "True", "OrderId": order.order_id, "NewAmount": order.current_amount})


@bp.route("/vwapi/Refund", methods=METHODS, provide_automatic_options=False)
@operation("refund", auth=authenticate_terminal)
def refund(call: Call) -> Reply:
    """(code, recorded) docs/providers/payture.md#order-level-commands: refund all or part; attribute order as
    recorded."""
    p = _order_params(call)
    order = _state(call).refund(p["OrderId"], int(p["Amount"]), p.get("Password"), now=call.now)
    callbacks.customer_refund(call, order)
    return _ok(
        "Refund", {"VWUserLgn": "", "OrderId": order.order_id, "Success": "True", "NewAmount": order.current_amount}
    )
