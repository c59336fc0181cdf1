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

from emulator.core.errors import ProviderError

STATUS_ERROR = "error"

# (doc, secondary) docs/providers/ecommpay.md#response-codes: the code registry's exact messages.
MESSAGES = {
    "2003": "Invalid JSON string",
    "2004": "Required field not provided",
    "2124": "Invalid Customer ID",
    "2442": "Project ID not found",
    "3021": "Card expired",
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
}
