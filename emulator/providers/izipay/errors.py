"""Izipay error envelopes and the named error catalogue
(docs/providers/izipay.md#token-generate, #error-envelope, #token-lifetime, #open-questions)."""

from __future__ import annotations

import time
from typing import Any

from emulator.core.errors import ProviderError

# (inferred) docs/providers/izipay.md#installments-search: the recorded header times are Peru local time, no DST
LIMA_OFFSET = -5 * 3600

# Exact recorded strings (docs/providers/izipay.md#error-envelope).
MSG_TOKEN_EMPTY = "El token no debe ser nulo o vacío"
FRIENDLY_TOKEN_EMPTY = "token no debe ser nulo o vacío"
MSG_BAD_STRUCTURE = "Estructura del request inválida."
MSG_MERCHANT_DEV = "El código de comercio es inválido"
MSG_MERCHANT_SANDBOX = "merchantId is invalid"
MSG_BIN_LENGTH = "la longitud del Numero Bin no es válida"
MSG_BIN_MISSING = "El Numero Bin no debe ser nulo o vacio"
MSG_BIN_INVALID = "Bin invalido"
PLATFORM_ERROR_BODY = {
    "code": "500",
    "errorMessage": "The API Public service threw an error. Check the errors field to view possible details.",
}
# (inferred) docs/providers/izipay.md#token-lifetime, #open-questions: no recorded bodies; our own wording in the
# recorded envelope.
MSG_TOKEN_EXPIRED = "Token expirado"
MSG_BAD_CREDENTIALS = "transactionId o publicKey inválidos"
MSG_METHOD = "Método no permitido"
MSG_NOT_FOUND = "Recurso no encontrado"


def lima_timestamp(epoch: float) -> str:
    """Format as the recorded `header` times: `2025-11-10 02:16:55.813`."""
    global _second_text
    local = epoch + LIMA_OFFSET
    second = int(local)
    cached = _second_text  # one read: another thread may replace it, never half of it
    if cached[0] != second:  # one strftime per second, not two per call
        cached = _second_text = (second, time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(second)))
    return f"{cached[1]}.{int(local * 1000) % 1000:03d}"


_second_text: tuple[int, str] = (-1, "")


def header_block(started: float, ended: float, *, millis_as_string: bool = False) -> dict[str, Any]:
    """The `header` block of Search (integer millis) and Deposit (string millis) responses."""
    millis = max(1, round((ended - started) * 1000))
    return {
        "transactionStartDatetime": lima_timestamp(started),
        "transactionEndDatetime": lima_timestamp(ended),
        "millis": str(millis) if millis_as_string else millis,
    }


class IzipayError(ProviderError):
    """The recorded error envelope: code twice, `result.messageFriendly` twice, a `header` block."""

    code = "400"

    def __init__(
        self, message: str, friendly: str | None = None, *, code: str | None = None, status: int | None = None
    ):
        super().__init__(message, status=status)
        self.friendly = friendly if friendly is not None else message
        if code is not None:
            self.code = code
        # (doc, weak) docs/providers/izipay.md#token-generate: `{"code","message","response":null}` on Token/Generate
        self.doc_style = False

    def body(self, now: float) -> Any:
        if self.doc_style:
            return {"code": self.code, "message": self.message, "response": None}
        result = {"messageFriendly": self.friendly}
        return {
            "code": self.code,
            "message": self.message,
            "header": header_block(now, now + 0.003),
            "response": {"errorCode": self.code, "errorMessage": self.message, "result": result},
            "result": dict(result),
        }


class TokenMissing(IzipayError):
    status = 400

    def __init__(self) -> None:
        super().__init__(MSG_TOKEN_EMPTY, FRIENDLY_TOKEN_EMPTY, code="TN")


class TokenRejected(IzipayError):
    """Malformed, foreign or tampered bearer token."""

    status = 401

    def __init__(self, message: str = MSG_BAD_STRUCTURE) -> None:
        super().__init__(message, code="IMC")


class MerchantMismatch(IzipayError):
    status = 401

    def __init__(self, message: str = MSG_MERCHANT_SANDBOX) -> None:
        super().__init__(message, code="IMC")


class BinMissing(IzipayError):
    status = 400

    def __init__(self) -> None:
        super().__init__(MSG_BIN_MISSING, code="IB1")


class BinLength(IzipayError):
    status = 400

    def __init__(self) -> None:
        super().__init__(MSG_BIN_LENGTH, code="IB3")


class BinNotConfigured(IzipayError):
    status = 403

    def __init__(self) -> None:
        super().__init__(MSG_BIN_INVALID, code="IB0")


class BadRequest(IzipayError):
    """(inferred) docs/providers/izipay.md#open-questions: a Token/Generate or Deposit body that breaks the documented
    constraints."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message, code="400")


class BadCredentials(IzipayError):
    """(doc, weak) docs/providers/izipay.md#token-generate: a publicKey that does not belong to the merchant → 401."""

    status = 401

    def __init__(self) -> None:
        super().__init__(MSG_BAD_CREDENTIALS, code="401")


class AlreadyDeposited(IzipayError):
    """(inferred) a second Deposit of the same order; no recorded body."""

    status = 400

    def __init__(self) -> None:
        super().__init__("La orden ya fue depositada", code="DP1")


class PlatformError(IzipayError):
    """The recorded SANDBOX 500: a different, flat body (docs/providers/izipay.md#error-envelope, last row)."""

    status = 500

    def __init__(self) -> None:
        super().__init__(PLATFORM_ERROR_BODY["errorMessage"], code="500")

    def body(self, now: float) -> Any:
        return dict(PLATFORM_ERROR_BODY)


class MethodNotAllowed(IzipayError):
    status = 405

    def __init__(self) -> None:
        super().__init__(MSG_METHOD, code="405")


class NotFound(IzipayError):
    status = 404

    def __init__(self) -> None:
        super().__init__(MSG_NOT_FOUND, code="404")


CATALOGUE = {
    "token_missing": TokenMissing,
    "token_rejected": TokenRejected,
    "token_expired": lambda: TokenRejected(MSG_TOKEN_EXPIRED),
    "merchant_mismatch": MerchantMismatch,
    "bin_missing": BinMissing,
    "bin_length": BinLength,
    "bin_not_configured": BinNotConfigured,
    "bad_credentials": BadCredentials,
    "already_deposited": AlreadyDeposited,
    "platform_error": PlatformError,
}
