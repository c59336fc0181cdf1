"""Payture business errors (docs/providers/payture.md#transport, #order-level-commands, #errcodes): `Success="False"
ErrCode="…"`, still HTTP 200.

The root element is named after the command being served, so an error raised by the model, a
contract violation or a scenario all render the same way. The catalogue holds every ErrCode of
docs/providers/payture.md#errcodes under its lower-case name (`duplicate_order_id`, `processing_error`, …) for
scenarios.
"""

from __future__ import annotations

from typing import Any

from emulator.core.errors import ProviderError
from emulator.providers.payture import wire

# docs/providers/payture.md#errcodes (code: Necronru ErrorCode.php), spelling kept (LIMIT_EXCHAUST, REFUND_NOT_ALOWED).
ERR_CODES: tuple[str, ...] = (
    "NONE",
    "ACCESS_DENIED",
    "AMOUNT_ERROR",
    "AMOUNT_EXCEED",
    "AMOUNT_EXCEED_BALANCE",
    "API_NOT_ALLOWED",
    "COMMUNICATE_ERROR",
    "DUPLICATE_ORDER_ID",
    "DUPLICATE_CARD",
    "DUPLICATE_USER",
    "EMPTY_RESPONSE",
    "FORMAT_ERROR",
    "FRAUD_ERROR",
    "FRAUD_ERROR_BIN_LIMIT",
    "FRAUD_ERROR_BLACKLIST_BANKCOUNTRY",
    "FRAUD_ERROR_BLACKLIST_AEROPORT",
    "FRAUD_ERROR_BLACKLIST_USERCOUNTRY",
    "FRAUD_ERROR_CRITICAL_CARD",
    "FRAUD_ERROR_CRITICAL_CUSTOMER",
    "ILLEGAL_ORDER_STATE",
    "INTERNAL_ERROR",
    "INVALID_FORMAT",
    "ISSUER_BLOCKED_CARD",
    "ISSUER_CARD_FAIL",
    "ISSUER_FAIL",
    "ISSUER_LIMIT_FAIL",
    "ISSUER_LIMIT_AMOUNT_FAIL",
    "ISSUER_LIMIT_COUNT_FAIL",
    "ISSUER_TIMEOUT",
    "LIMIT_EXCHAUST",
    "MERCHANT_RESTRICTION",
    "NOT_ALLOWED",
    "OPERATION_NOT_ALLOWED",
    "ORDER_NOT_FOUND",
    "ORDER_TIME_OUT",
    "PROCESSING_ERROR",
    "PROCESSING_TIME_OUT",
    "REAUTH_NOT_ALOWED",
    "REFUND_NOT_ALOWED",
    "REFUSAL_BY_GATE",
    "RETRY_LIMIT_EXCEEDED",
    "THREE_DS_FAIL",
    "THREE_DS_TIME_OUT",
    "USER_NOT_FOUND",
    "WRONG_AMOUNT",
    "WRONG_CARD_INFO",
    "WRONG_CARD_PAN",
    "WRONG_PAN",
    "WRONG_CARDHOLDER_NAME",
    "WRONG_PARAMS",
    "WRONG_PAY_INFO",
    "WRONG_AUTH_CODE",
    "WRONG_CARD",
    "WRONG_CONFIRM_CODE",
    "WRONG_USER_PARAMS",
)

# Commands whose error names the customer (inferred, docs/providers/payture.md#check-update-delete, #getlist: the
# success bodies carry VWUserLgn).
CUSTOMER_COMMANDS = frozenset(
    {"Register", "Check", "Update", "Delete", "GetList", "Remove", "Activate", "SendCode", "Add", "AddSubmit3DS"}
)
# Commands whose error names the order (code, recorded, docs/providers/payture.md#order-level-commands: `<Charge
# Success="False" OrderId=… ErrCode=…/>`).
ORDER_COMMANDS = frozenset({"Charge", "Unblock"})


def error_attrs(command: str, params: dict[str, Any], code: str, *, init_session_id: bool = False) -> dict[str, str]:
    """The attributes of a failed command, in recorded order where a recording exists."""
    data = params.get("DATA") if isinstance(params.get("DATA"), dict) else {}

    def get(key: str) -> str:
        return str(params.get(key) or data.get(key) or "")

    if command == "Init":
        # (code, recorded) `<Init Success="False" ErrCode="DUPLICATE_ORDER_ID" />`: no SessionId, though the official
        # SDKs read it unconditionally; option failed_init_session_id adds an empty one.
        attrs = {"Success": "False", "ErrCode": code}
        return {**attrs, "SessionId": ""} if init_session_id else attrs
    if command == "PayStatus":
        # (code, recorded) `<PayStatus Success="False" VWUserLgn="" OrderId="…" Forwarded="False" ErrCode="…" />`
        return {"Success": "False", "VWUserLgn": "", "OrderId": get("OrderId"), "Forwarded": "False", "ErrCode": code}
    if command in ORDER_COMMANDS:
        return {"Success": "False", "OrderId": get("OrderId"), "ErrCode": code}
    if command == "Refund":
        # (inferred) the recorded success order: VWUserLgn, OrderId, Success, NewAmount.
        return {"VWUserLgn": "", "OrderId": get("OrderId"), "Success": "False", "ErrCode": code}
    if command in ("Pay", "PaySubmit3DS"):
        # (inferred) docs/providers/payture.md#pay: the success body lists OrderId and Amount before Success;
        # (doc) PaySubmit3DS answers as Pay does.
        return {"OrderId": get("OrderId"), "Amount": get("Amount"), "Success": "False", "ErrCode": code}
    if command in CUSTOMER_COMMANDS:
        return {"Success": "False", "VWUserLgn": get("VWUserLgn"), "ErrCode": code}
    return {"Success": "False", "ErrCode": code}


class PaytureError(ProviderError):
    """A business error: HTTP 200, the command's root element, `Success="False"` and an ErrCode."""

    status = 200

    def __init__(self, code: str, message: str = "", *, status: int | None = None) -> None:
        super().__init__(message or code, status=status)
        self.code = code
        self.command: str | None = None  # set when known; else read from the request being served
        self.params: dict[str, Any] | None = None
        self.init_session_id = False  # option failed_init_session_id, set where the call is known

    def body(self, now: float) -> Any:
        if self.command is None and wire.serving_wrapper():
            # a scenario's named error on a V21 wrapper route: the wrapper reports Payture's ErrCode
            return WrapperError(WrapperError.FAILED, self.code).body(now)
        command, params = wire.current_call()
        command = self.command or command
        params = self.params if self.params is not None else params
        return wire.element(command, error_attrs(command, params, self.code, init_session_id=self.init_session_id))


class NotFound(PaytureError):
    """(inferred) An unknown `/vwapi/` command: no recording; Payture's own vocabulary, HTTP 404. Under the
    wrapper's `/api/payments/` the wrapper's JSON shape."""

    def __init__(self, path: str = "") -> None:
        super().__init__("API_NOT_ALLOWED", status=404)
        self.command = wire.command_from_path(path) if path else None
        self.params = {}

    def body(self, now: float) -> Any:
        if wire.serving_wrapper():
            return WrapperError(WrapperError.NOT_FOUND).body(now)
        return super().body(now)


class MethodNotAllowed(PaytureError):
    """(inferred) Only GET and POST exist on `/vwapi/` (docs/providers/payture.md#transport); the wrapper's
    routes take POST only."""

    def __init__(self, method: str = "") -> None:
        super().__init__("WRONG_PARAMS", status=405)
        self.params = {}

    def body(self, now: float) -> Any:
        if wire.serving_wrapper():
            return WrapperError(WrapperError.METHOD_NOT_ALLOWED).body(now)
        return super().body(now)


class WrapperError(ProviderError):
    """The behind-API wrapper's failure body (code: wrapper README, docs/providers/payture.md#behind-api-wrapper): HTTP
    200 (inferred), `{"success": false, "message": …, "e": {…}}`; `e` carries Payture's ErrCode when there is one."""

    status = 200
    FAILED = "Can't finish request"
    NOT_FOUND = "Not found"  # (inferred) the wrapper's JSON for an unknown /api/ route, HTTP 404
    METHOD_NOT_ALLOWED = "Method not allowed"  # (inferred) HTTP 405
    BAD_JSON = "Bad request"  # (inferred) an unreadable JSON body, HTTP 400

    def __init__(self, message: str = FAILED, err_code: str = "", detail: str = "", *, status: int | None = None):
        super().__init__(message, status=status)
        self.err_code = err_code
        self.detail = detail

    def body(self, now: float) -> Any:
        e: dict[str, str] = {}
        if self.err_code:
            e = {"Success": "False", "ErrCode": self.err_code}
        if self.detail:
            e["message"] = self.detail
        return {"success": False, "message": self.message, "e": e}


def _factory(code: str) -> Any:
    return lambda: PaytureError(code)


CATALOGUE: dict[str, Any] = {code.lower(): _factory(code) for code in ERR_CODES if code != "NONE"}
