"""Izipay error envelopes and the named error catalogue
(docs/providers/izipay.md#token-generate, #error-envelope, #token-lifetime, #open-questions)."""

from __future__ import annotations

import time
from typing import Any

from flask import g, has_app_context

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
# (code) docs/providers/izipay.md#order-search: a merchant's production capture of Search for an unknown order.
MSG_ORDER_NOT_FOUND = "Transaccion No Existe"
# (inferred) docs/providers/izipay.md#tokenization, #authorize, #cancel-and-refund: no published bodies.
MSG_CARD_TOKEN_NOT_FOUND = "El token de tarjeta no existe"
MSG_CARD_TOKEN_DELETED = "El token de tarjeta fue eliminado"
MSG_CARD_TOKENIZED = "La tarjeta ya se encuentra tokenizada para el comprador"
MSG_CARD_NUMBER = "Número de tarjeta inválido"  # the sandbox guide's wording for code 14
MSG_CARD_EXPIRY = "Fecha de expiración inválida"
MSG_DUPLICATE_ORDER = "El número de pedido ya fue procesado"
MSG_NOT_CANCELLABLE = "La transacción no puede ser anulada"
MSG_NOT_REFUNDABLE = "La transacción no puede ser devuelta"
MSG_NOT_DEPOSITABLE = "La transacción no puede ser depositada"
MSG_AMOUNT_EXCEEDS = "El monto excede el monto disponible de la transacción"
MSG_AMOUNT_MISMATCH = "El monto no coincide con el de la transacción"
MSG_REFUND_TOKEN = "El token de sesión no corresponde a una devolución (requestSource REFUND)"
MSG_ACTION_UNSUPPORTED = "Acción no soportada"
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


def use_doc_style(enabled: bool) -> None:
    """Render this request's errors in the doc's short form (Token/Generate with `token_error_style: doc`)."""
    g.izipay_doc_errors = enabled


def requested_doc_style() -> bool:
    """Whether this request asked for the doc's short error form (never outside a request)."""
    return has_app_context() and bool(g.get("izipay_doc_errors", False))


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
        # (doc, weak) docs/providers/izipay.md#token-generate: `{"code","message","response":null}` on Token/Generate.
        # None: as the request asked (`use_doc_style`), so a scenario-injected error follows the option too.
        self.doc_style: bool | None = None

    def body(self, now: float) -> Any:
        doc_style = self.doc_style if self.doc_style is not None else requested_doc_style()
        if doc_style:
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


class OrderNotFound(IzipayError):
    """(code) docs/providers/izipay.md#order-search: 403 `MC` for an order the merchant does not have."""

    status = 403

    def __init__(self) -> None:
        super().__init__(MSG_ORDER_NOT_FOUND, code="MC")


class CardTokenNotFound(IzipayError):
    """(inferred) a card token this merchant (or this buyer) never had."""

    status = 403

    def __init__(self, message: str = MSG_CARD_TOKEN_NOT_FOUND) -> None:
        super().__init__(message, code="TK1")


class CardTokenDeleted(CardTokenNotFound):
    """(inferred) a deleted card token: it cannot be used, looked up or deleted again."""

    def __init__(self) -> None:
        super().__init__(MSG_CARD_TOKEN_DELETED)


class CardAlreadyTokenized(IzipayError):
    """(inferred) option `duplicate_card_token: error`: the buyer already has a token for this card."""

    status = 400

    def __init__(self) -> None:
        super().__init__(MSG_CARD_TOKENIZED, code="TK3")


class CardNumberInvalid(IzipayError):
    """(inferred) a card number that fails the Luhn check; code 14 as the sandbox guide's decline."""

    status = 400

    def __init__(self) -> None:
        super().__init__(MSG_CARD_NUMBER, code="14")


class CardExpiryInvalid(IzipayError):
    status = 400

    def __init__(self) -> None:
        super().__init__(MSG_CARD_EXPIRY, code="IMC")


class DuplicateOrder(IzipayError):
    """(inferred) the doc: orderNumber is unique per transaction."""

    status = 400

    def __init__(self) -> None:
        super().__init__(MSG_DUPLICATE_ORDER, code="OR1")


class OperationNotAllowed(IzipayError):
    """(inferred) an illegal transition: cancel a refunded order, refund more than was captured, ..."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message, code="TR1")


class RefundTokenRequired(IzipayError):
    """(inferred) docs/providers/izipay.md#cancel-and-refund: a session token not generated for REFUND."""

    status = 401

    def __init__(self) -> None:
        super().__init__(MSG_REFUND_TOKEN, code="IMC")


class ActionUnsupported(IzipayError):
    """`action: pay_token_external` (network tokens) is not emulated: docs/providers/izipay.md#authorize."""

    status = 400

    def __init__(self) -> None:
        super().__init__(MSG_ACTION_UNSUPPORTED, code="IMC")


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
    "order_not_found": OrderNotFound,
    "card_token_not_found": CardTokenNotFound,
    "card_token_deleted": CardTokenDeleted,
    "duplicate_order": DuplicateOrder,
    "refund_token_required": RefundTokenRequired,
    "platform_error": PlatformError,
}
