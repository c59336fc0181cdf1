"""Ecommpay Gate error envelope and the named error catalogue
(docs/providers/ecommpay.md#responses, #response-codes, #open-questions).

The synchronous rejection is `{"status":"error","request_id","project_id","code","message"}`: the field
set the official plugin reads, the values of the code registry (inferred, docs/providers/ecommpay.md#responses). Its
HTTP status and an optional `errors[]` array are the open question docs/providers/ecommpay.md#q1, so both are options
(`error_status`, `error_errors_array`) applied by `EcommpayError.styled()`.
"""

from __future__ import annotations

import secrets
from typing import Any

from emulator.core.errors import ProviderError, Reply

STATUS_ERROR = "error"

# (doc, secondary) docs/providers/ecommpay.md#response-codes: the code registry's exact messages.
MESSAGES = {
    "2003": "Invalid JSON string",
    "2004": "Required field not provided",
    "2124": "Invalid Customer ID",
    "2442": "Project ID not found",
    "3021": "Card expired",
    "3024": "Invalid Payment ID",
    "3041": "Payment ID already exists",
    "3060": "Current payment or operation status does not allow this action",
    "3061": "Transaction not found",
    "3121": "Invalid currency",
    "3230": "The operation with such merchant_refund_id already exists",
    "3283": "Refund amount more than init amount",
    "3284": "Refund currency mismatched or empty",
    "3286": "The property amount is required",
    "3287": "The property currency is required",
    "3027": "Invalid token provided",
    "3101": "Card not found",
    "3161": "Invalid Holder",
    "3162": "Cardholder is required",
    "3221": "Card token not found",
    "3241": "Customer not found",
    "3261": "Invalid signature",
    "3262": "Empty signature",
    "303": "Access denied",
    "310": "Operation not allowed by project settings",
    "502": "Validation error",
    "702": "Malformed request",
}


class EcommpayError(ProviderError):
    """A rejected request; `code` picks the registry message; `field` names the culprit when known."""

    status = 400  # (inferred) docs/providers/ecommpay.md#responses; option error_status
    code = "702"

    def __init__(self, field: str | None = None, *, code: str | None = None, status: int | None = None) -> None:
        if code is not None:
            self.code = code
        super().__init__(MESSAGES[self.code], status=status)
        self.field = field
        self.request_id: str | None = None
        self.project_id: Any = None
        self.errors_array = False

    def styled(self, *, request_id: str | None, project_id: Any, status: int, errors_array: bool) -> EcommpayError:
        """Fill the envelope fields that echo the call and apply the options of docs/providers/ecommpay.md#q1."""
        self.request_id = self.request_id or request_id
        if self.project_id is None and isinstance(project_id, int) and not isinstance(project_id, bool):
            self.project_id = project_id
        self.status = status
        self.errors_array = errors_array
        return self

    def body(self, now: float) -> Any:
        body: dict[str, Any] = {
            "status": STATUS_ERROR,
            "request_id": self.request_id or secrets.token_hex(14),  # scenario-injected errors have no call
            "project_id": self.project_id,
            "code": self.code,
            "message": self.message,
        }
        if self.errors_array:
            item = {"code": self.code, "message": self.message}
            if self.field:
                item["field"] = self.field
            body["errors"] = [item]
        return body


class InvalidJson(EcommpayError):
    code = "2003"


class MissingField(EcommpayError):
    code = "2004"


class InvalidCustomerId(EcommpayError):
    code = "2124"


class ProjectNotFound(EcommpayError):
    code = "2442"


class CardExpired(EcommpayError):
    code = "3021"


class InvalidPaymentId(EcommpayError):
    code = "3024"


class PaymentIdExists(EcommpayError):
    """(doc, secondary) docs/providers/ecommpay.md#idempotency: a payment_id the project already used."""

    code = "3041"


class StatusForbidsAction(EcommpayError):
    code = "3060"


class TransactionNotFound(EcommpayError):
    code = "3061"


class InvalidCurrency(EcommpayError):
    code = "3121"


class RefundIdExists(EcommpayError):
    code = "3230"


class RefundTooLarge(EcommpayError):
    code = "3283"


class RefundCurrencyMismatch(EcommpayError):
    code = "3284"


class AmountRequired(EcommpayError):
    code = "3286"


class CurrencyRequired(EcommpayError):
    code = "3287"


class InvalidToken(EcommpayError):
    code = "3027"


class InvalidHolder(EcommpayError):
    code = "3161"


class HolderRequired(EcommpayError):
    code = "3162"


class TokenNotFound(EcommpayError):
    code = "3221"


class CustomerNotFound(EcommpayError):
    code = "3241"


class InvalidSignature(EcommpayError):
    code = "3261"


class EmptySignature(EcommpayError):
    code = "3262"


class ValidationError(EcommpayError):
    code = "502"


class MalformedRequest(EcommpayError):
    code = "702"


class NotFound(EcommpayError):
    """(inferred) an unknown path under /v2/: no recorded body; the registry's `Malformed request`."""

    status = 404
    code = "702"


class MethodNotAllowed(EcommpayError):
    """(inferred) a GET on a POST-only endpoint: no recorded body."""

    status = 405
    code = "702"


class AccessDenied(EcommpayError):
    status = 403
    code = "303"


class AcsPageError(ProviderError):
    """(inferred) the emulated ACS page reached with an unknown or finished MD: a small HTML page."""

    def __init__(self, message: str = "Unknown or completed 3-D Secure session.") -> None:
        super().__init__(message, status=404)

    def reply(self, now: float) -> Reply:
        from html import escape

        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>3-D Secure</title></head>"
            f"<body><h1 id='error'>Not found</h1><p id='message'>{escape(self.message)}</p></body></html>"
        )
        return Reply(self.status, raw=page.encode("utf-8"), content_type="text/html; charset=utf-8")


CATALOGUE = {
    "invalid_json": InvalidJson,
    "missing_field": MissingField,
    "invalid_customer_id": InvalidCustomerId,
    "project_not_found": ProjectNotFound,
    "card_expired": CardExpired,
    "invalid_token": InvalidToken,
    "invalid_holder": InvalidHolder,
    "holder_required": HolderRequired,
    "token_not_found": TokenNotFound,
    "customer_not_found": CustomerNotFound,
    "invalid_signature": InvalidSignature,
    "empty_signature": EmptySignature,
    "validation_error": ValidationError,
    "malformed_request": MalformedRequest,
    "access_denied": AccessDenied,
    "payment_id_exists": PaymentIdExists,
    "status_forbids_action": StatusForbidsAction,
    "transaction_not_found": TransactionNotFound,
    "refund_too_large": RefundTooLarge,
}
