"""Izipay (Peru) API PW: Token/Generate, Installments Search, Deposit (provider-spec §2)."""

from __future__ import annotations

from pathlib import Path

from emulator.core.contracts import Violation
from emulator.core.errors import Reply
from emulator.core.provider import Auth, Call, Provider
from emulator.providers.izipay import errors
from emulator.providers.izipay.model import IzipayState
from emulator.providers.izipay.routes import PROXY_PREFIX, authenticate_bearer, bp

# Recorded defaults of the spec's open questions (§2.6, §2.7); each can be set per tenant,
# per scenario, or per server (`--option izipay.NAME=VALUE`).
OPTIONS = {
    "single_use_tokens": False,  # (inferred) §2.6: DEV reused tokens; the hosted checkout calls several times
    "environment": "sandbox",  # sandbox | qa | dev: picks the recorded messages and facilitatorCode
    "facilitator_code": None,  # None: "6666041" on sandbox, "0" elsewhere (code, recorded)
    "user_scoring": "izipay_low",  # (code, recorded) izipay_low / izipay_high
    "token_error_style": "envelope",  # envelope (inferred, §2.4 shape) | doc (doc, weak: response null)
    "check_transaction_id": False,  # (inferred) §2.7 q3: unknown whether a mismatch is refused
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
    """(code, recorded) §2.2: transactionId echoed, plus the gateway's security headers."""
    transaction_id = call.request.environ.get("HTTP_TRANSACTIONID")
    return {**SECURITY_HEADERS, "transactionId": transaction_id} if transaction_id else SECURITY_HEADERS


AUTH = {  # (doc) §2.2, §2.4
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
    description="Izipay API PW (Peru): session tokens, installments, deposits",
    blueprint=bp,
    state_class=IzipayState,
    authenticate=authenticate_bearer,
    errors=errors.CATALOGUE,
    contract_error=contract_error,
    not_found=lambda path: errors.NotFound(),
    method_not_allowed=lambda method: errors.MethodNotAllowed(),
    paths=("/security/", "/Installments/", "/capture/", "/orderinfo/", "/accountvalidate/", "/gateway/"),
    tenants_file=Path(__file__).with_name("tenants.yaml"),
    options=OPTIONS,
    hosts=("sandbox-api-pw.izipay.pe", "api-pw.izipay.pe", "testapi-pw.izipay.pe", "qa-api-pw.izipay.pe"),
    response_headers=response_headers,
    auth=AUTH,
    proxies=(PROXY_PREFIX + "https://sandbox-api-pw.izipay.pe",),  # (code, recorded) §2.1: the browser proxy
)
