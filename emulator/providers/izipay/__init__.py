"""Izipay (Peru) API PW: Token/Generate, Installments Search, Deposit, card tokenization, Authorize, Cancel,
Refund and the order Search (docs/providers/izipay.md)."""

from __future__ import annotations

from pathlib import Path

from emulator.core.contracts import Violation
from emulator.core.errors import Reply
from emulator.core.provider import Auth, Call, Provider
from emulator.providers.izipay import errors, routes_tokenization, routes_transactions  # noqa: F401 (their routes)
from emulator.providers.izipay.model import IzipayState
from emulator.providers.izipay.routes import PROXY_PREFIX, authenticate_bearer, bp

# Recorded defaults of the open questions (docs/providers/izipay.md#token-lifetime, #open-questions); each can be set
# per tenant, per scenario, or per server (`--option izipay.NAME=VALUE`).
OPTIONS = {
    # (inferred) docs/providers/izipay.md#token-lifetime: DEV reused tokens; the hosted checkout calls several times
    "single_use_tokens": False,
    "environment": "sandbox",  # sandbox | qa | dev: picks the recorded messages and facilitatorCode
    "facilitator_code": None,  # None: "6666041" on sandbox, "0" elsewhere (code, recorded)
    "user_scoring": "izipay_low",  # (code, recorded) izipay_low / izipay_high
    # envelope (inferred, docs/providers/izipay.md#error-envelope shape) | doc (doc, weak: response null)
    "token_error_style": "envelope",
    "check_transaction_id": False,  # (inferred) docs/providers/izipay.md#q3: unknown whether a mismatch is refused
    # (inferred) docs/providers/izipay.md#q5: the same card saved again for the same buyer: its token again | error
    "duplicate_card_token": "existing",
    # (inferred) docs/providers/izipay.md#q6: a declined authorization answers its decline code with HTTP 200
    "decline_http_status": 200,
    "decline_code": None,  # a code ("51", "05", ...): every authorization is declined with it (scenario card-declined)
}


def contract_error(call: Call, violations: list[Violation]) -> errors.IzipayError:
    """Map the first contract violation to the error Izipay answers with."""
    first = violations[0]
    if call.operation == "generate_token":
        error: errors.IzipayError
        if first.keyword == "required":
            error = errors.BadRequest(f"Parámetro requerido faltante: {first.field or first.location}")
        else:
            error = errors.BadRequest(f"Parámetro inválido: {first.field or first.location}")
        error.doc_style = call.option("token_error_style") == "doc"
        return error
    if first.location == "body" and first.field == "bin":
        return errors.BinMissing() if first.keyword == "required" else errors.BinLength()
    if first.location == "body" and first.field == "merchantCode":
        return errors.MerchantMismatch()
    return errors.IzipayError(errors.MSG_BAD_STRUCTURE, code="IMC", status=400)


SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


def response_headers(call: Call, reply: Reply) -> dict[str, str]:
    """(code, recorded) docs/providers/izipay.md#token-generate: transactionId echoed, plus the gateway's security
    headers."""
    transaction_id = call.request.environ.get("HTTP_TRANSACTIONID")
    return {**SECURITY_HEADERS, "transactionId": transaction_id} if transaction_id else SECURITY_HEADERS


AUTH = {  # (doc) docs/providers/izipay.md#token-generate, docs/providers/izipay.md#installments-search
    "bearer": Auth(
        {"type": "http", "scheme": "bearer", "bearerFormat": "JWT", "description": "response.token of Token/Generate"}
    ),
    "merchant": Auth(
        credentials="body merchantCode + publicKey (the merchant's public key); header transactionId",
        operations=("generate_token",),
    ),
}

PROVIDER = Provider(
    name="izipay",
    description="Izipay API PW (Peru): session tokens, installments, card tokens, authorizations, deposits, refunds",
    blueprint=bp,
    state_class=IzipayState,
    authenticate=authenticate_bearer,
    errors=errors.CATALOGUE,
    contract_error=contract_error,
    not_found=lambda path: errors.NotFound(),
    method_not_allowed=lambda method: errors.MethodNotAllowed(),
    internal_error=errors.PlatformError,
    paths=(
        "/security/",
        "/Installments/",
        "/capture/",
        "/orderinfo/",
        "/accountvalidate/",
        "/gateway/",
        "/authorization/",
        "/cancel/",
        "/refund/",
        "/tokenization/",
    ),
    folder=Path(__file__).parent,
    options=OPTIONS,
    hosts=("sandbox-api-pw.izipay.pe", "api-pw.izipay.pe", "testapi-pw.izipay.pe", "qa-api-pw.izipay.pe"),
    response_headers=response_headers,
    auth=AUTH,
    proxies=(PROXY_PREFIX + "https://sandbox-api-pw.izipay.pe",),  # (code, recorded) docs/providers/izipay.md#hosts
)
