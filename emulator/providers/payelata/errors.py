"""Payelata error bodies and the named catalogue (docs/providers/payelata.md#errors, #q1).

No real Payelata/Corefy error body was ever captured (docs/providers/payelata.md#q1). We answer in the JSON:API error
form the rest of the API uses: `{"errors":[{"status","title","detail","source":{"pointer"}}]}`.
(inferred) The wording follows Symfony's validator messages, the platform's PHP stack (inferred).
"""

from __future__ import annotations

from typing import Any

from emulator.core.errors import ProviderError, Reply

POINTER_PREFIX = "/data/attributes/"
MSG_BLANK = "This value should not be blank."
MSG_INVALID = "This value is not valid."
MSG_USED = "This value is already used."
MSG_TOKEN_CUSTOMER = "Token does not belong to the customer."
MSG_TOKEN_UNKNOWN = "Token not found."
MSG_CARD_NUMBER = "Invalid card number."
MSG_NOT_PAYABLE = "Payment invoice can not be processed in its current status."
MSG_NOT_REFUNDABLE = "Payment invoice can not be refunded in its current status."
MSG_REFUND_EXCEEDS = "Refund amount exceeds the available amount ({left} {currency})."
MSG_NOT_PROCESSABLE = "Payout invoice can not be processed in its current status."
TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


class PayelataError(ProviderError):
    """A JSON:API error document with one or more error objects. (inferred) docs/providers/payelata.md#errors"""

    status = 422

    def __init__(
        self,
        detail: str,
        *,
        pointer: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        more: list[tuple[str, str | None]] | None = None,
    ) -> None:
        super().__init__(detail, status=status, headers=headers)
        self.items: list[tuple[str, str | None]] = [(detail, pointer), *(more or [])]

    def body(self, now: float) -> Any:
        errors = []
        for detail, pointer in self.items:
            item: dict[str, Any] = {
                "status": str(self.status),
                "title": TITLES.get(self.status, "Error"),
                "detail": detail,
            }
            if pointer is not None:
                item["source"] = {"pointer": pointer}
            errors.append(item)
        return {"errors": errors}


class Unauthorized(PayelataError):
    """Bad or missing Basic credentials on the private API (doc: 401; body inferred)."""

    status = 401

    def __init__(self, detail: str = "Invalid credentials.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Basic realm="Commerce API"'})


class BearerRejected(PayelataError):
    """Card gate: missing, foreign, tampered or expired `flow_data.metadata.token` (doc: 401; body inferred)."""

    status = 401

    def __init__(self, detail: str = "Invalid token.") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class NotFound(PayelataError):
    status = 404

    def __init__(self, detail: str = "Not Found") -> None:
        super().__init__(detail)


class MethodNotAllowed(PayelataError):
    status = 405

    def __init__(self, method: str = "") -> None:
        super().__init__(f"Method {method} is not allowed." if method else "Method is not allowed.")


class Invalid(PayelataError):
    """422 on one attribute: `source.pointer` names it (inferred) docs/providers/payelata.md#errors."""

    status = 422

    def __init__(self, attribute: str, detail: str = MSG_INVALID) -> None:
        super().__init__(detail, pointer=POINTER_PREFIX + attribute.replace(".", "/") if attribute else "/data")


class DuplicateReference(PayelataError):
    """(inferred) docs/providers/payelata.md#q1: a second invoice with the same reference_id; 422 or 429 by option."""

    def __init__(self, status: int = 422) -> None:
        super().__init__(MSG_USED, pointer=POINTER_PREFIX + "reference_id", status=status)


class TooManyRequests(PayelataError):
    """(doc) docs/providers/payelata.md#errors: 429 "too many requests or duplicate request detected"."""

    status = 429

    def __init__(self) -> None:
        super().__init__("Too many requests.", headers={"Retry-After": "1"})


class BadGateway(PayelataError):
    """(doc) docs/providers/payelata.md#errors: 502 Bad gateway."""

    status = 502

    def __init__(self) -> None:
        super().__init__("Bad gateway.")


class ServerError(PayelataError):
    status = 500

    def __init__(self) -> None:
        super().__init__("Internal server error.")


class HtmlError(ProviderError):
    """An error on the hosted payment or 3-DS pages: a small HTML page, as a browser would get."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message, status=status)

    def reply(self, now: float) -> Reply:
        from html import escape

        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>Payment error</title></head>"
            f"<body><h1 id='error'>{escape(TITLES.get(self.status, 'Error'))}</h1>"
            f"<p id='message'>{escape(self.message)}</p></body></html>"
        )
        return Reply(self.status, raw=page.encode("utf-8"), content_type="text/html; charset=utf-8")


CATALOGUE = {
    "unauthorized": Unauthorized,
    "bearer_rejected": BearerRejected,
    "bearer_expired": lambda: BearerRejected("Token expired."),
    "not_found": NotFound,
    "duplicate_reference": DuplicateReference,
    "too_many_requests": TooManyRequests,
    "bad_gateway": BadGateway,
    "server_error": ServerError,
    "token_not_owned": lambda: Invalid("token", MSG_TOKEN_CUSTOMER),
    "invoice_not_payable": lambda: PayelataError(MSG_NOT_PAYABLE, pointer="/data"),
    "invoice_not_refundable": lambda: PayelataError(MSG_NOT_REFUNDABLE, pointer="/data"),
    "refund_exceeds": lambda: Invalid("amount", MSG_REFUND_EXCEEDS.format(left=0, currency="USD")),
}
