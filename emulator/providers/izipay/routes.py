"""Izipay views at the real API PW paths (docs/providers/izipay.md): thin, the model does the work."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from flask import Blueprint, Response, current_app, request
from werkzeug.exceptions import MethodNotAllowed, NotFound

from emulator.core.errors import Reply
from emulator.core.provider import Call, operation
from emulator.core.tenants import Tenant
from emulator.providers.izipay import errors, model, wire

bp = Blueprint("izipay", __name__)

GENERATE_PATH = "/security/v1/Token/Generate"
SEARCH_PATH = "/Installments/v1/Installments/Search"
DEPOSIT_PATH = "/capture/v1/Transaction/Deposit"
PROXY_PREFIX = "/gateway/api/v1/proxy-cors/"
# (doc) docs/providers/izipay.md#field-encryption: where card and amount fields may arrive RSA-encrypted
ENCRYPTED_OPERATIONS = frozenset({"authorize", "tokenize_card"})

# (code, recorded) docs/providers/izipay.md#installments-search: success messages by environment and language: (message,
# messageFriendly).
SEARCH_MESSAGES = {
    ("sandbox", "ESP"): ("Aprobado", "Aprobado"),
    ("sandbox", "ENG"): ("Approved", "Approved"),
    ("qa", "ESP"): ("Aprobado", "Aprobado"),
    ("qa", "ENG"): ("Approved", "Approved"),
    ("dev", "ESP"): ("OK", "Operación exitosa"),
    ("dev", "ENG"): ("Approved", "Successful"),
}
DEPOSIT_MESSAGES = {"ESP": "Operación satisfactoria", "ENG": "Successful operation"}  # ENG: (inferred)


# -- authentication ------------------------------------------------------------------------------


def authenticate_merchant(call: Call) -> Tenant:
    """Token/Generate has no Authorization header: the merchant is named by merchantCode + publicKey.

    Every error of this call (400 or 401, scenario-injected too) follows `token_error_style` as the
    scenario, the named merchant's options, or the server set it: the merchant is named from the raw
    body first, so its options apply even when the body then fails validation.
    """
    errors.use_doc_style(call.option("token_error_style") == "doc")
    directory = call.runtime.tenants["izipay"]
    named = call.body.get("merchantCode") if isinstance(call.body, dict) else None
    known = directory.get(named) if isinstance(named, str) and named else None
    if known is not None:
        call.name_tenant(known)
        errors.use_doc_style(call.option("token_error_style") == "doc")
    call.validate()  # the credentials are body fields: check they are there and well-formed first
    merchant, public_key = call.body["merchantCode"], call.body["publicKey"]
    tenant = directory.admit(merchant, lambda: _admitted(merchant, public_key))
    if tenant is None or tenant.get("publicKey") != public_key:
        raise errors.BadCredentials()  # (doc, weak) docs/providers/izipay.md#token-generate
    return tenant


def _admitted(merchant: str, public_key: str) -> dict[str, str]:
    """An --open-tenants merchant: its signing secret is derived, stable and long enough for HS256."""
    secret = hashlib.sha256(f"payemu-izipay:{merchant}:{public_key}".encode()).hexdigest()
    return {"merchantCode": merchant, "publicKey": public_key, "token_secret": secret}


def authenticate_bearer(call: Call) -> Tenant:
    """Search and Deposit carry the session token; its merchant's key must verify it
    (docs/providers/izipay.md#error-envelope)."""
    if isinstance(call.body, dict):
        call.body = camel_keys(call.body)
    header = call.headers.get("Authorization", "").strip()
    token = header[7:].strip() if header[:7].lower() == "bearer " else header
    if not token or token.lower() == "bearer":
        raise errors.TokenMissing()
    claims = model.read_claims(token)
    tenant = call.runtime.tenants["izipay"].get(str(claims["merchantCode"]))
    if tenant is None:
        raise errors.TokenRejected()
    call.auth = model.verify_claims(token, str(tenant.get("token_secret") or tenant["publicKey"]), claims)
    key = tenant.get("rsa_private_key")
    if key and call.operation in ENCRYPTED_OPERATIONS and isinstance(call.body, dict):
        call.body = wire.decrypt_fields(call.body, str(key))  # before validation: the contract sees plain values
    return tenant


def camel_keys(data: Any) -> Any:
    """`{"MerchantCode": …, "Order": {"Currency": …}}` read as `{"merchantCode": …, "order": {"currency": …}}`:
    API PW binds JSON names case-insensitively (.NET), and Izipay's own test harness sends PascalCase
    (code: docs/providers/izipay.md#authorize). A name already in camelCase wins over its PascalCase twin."""
    if isinstance(data, list):
        return [camel_keys(item) for item in data]
    if not isinstance(data, dict):
        return data
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = key[:1].lower() + key[1:] if isinstance(key, str) else key
        if name not in out or name == key:
            out[name] = camel_keys(value)
    return out


# -- operations ----------------------------------------------------------------------------------


@bp.route(GENERATE_PATH, methods=["POST"], provide_automatic_options=False)
@operation("generate_token", auth=authenticate_merchant)
def generate_token(call: Call) -> Reply:
    """Issue a 15-minute HS256 session token (docs/providers/izipay.md#token-generate)."""
    facilitator = call.option("facilitator_code") or ("6666041" if call.option("environment") == "sandbox" else "0")
    transaction_id = call.headers["transactionId"]
    token = call.state.issue_token(call.body, transaction_id, call.uuid4(), now=call.now, facilitator=facilitator)
    body = {
        "code": "00",
        "message": "OK",
        "response": {"token": token, "userOrg": model.USER_ORG, "userScoring": call.option("user_scoring")},
    }
    return Reply(200, body)


@bp.route(SEARCH_PATH, methods=["POST"], provide_automatic_options=False)
@operation("search_installments")
def search_installments(call: Call) -> Reply:
    """List the installments a BIN allows (docs/providers/izipay.md#installments-search); the token's amount does not
    filter them."""
    token_id = accept_token(call)
    bin_number = call.body["bin"]
    info = call.state.installments(bin_number, model.BINS)
    spend_token(call, token_id)
    language = call.body.get("language") or "ESP"
    message, friendly = SEARCH_MESSAGES[(call.option("environment"), language)]
    body = {
        "code": "00",
        "message": message,
        "header": errors.header_block(call.now, call.now + 0.123),
        "response": {
            "merchantCode": call.body["merchantCode"],
            "bin": bin_number,
            "issuerName": info.issuer,
            "installments": info.installment_list,
            "deferred": info.deferred,
            "result": {"messageFriendly": friendly},
        },
    }
    return Reply(200, body, {"X-Correlation-Id": call.uuid4()})


@bp.route(DEPOSIT_PATH, methods=["POST"], provide_automatic_options=False)
@operation("deposit")
def deposit(call: Call) -> Reply:
    """Capture an authorised order (docs/providers/izipay.md#deposit); header block first, millis as a string, as
    recorded."""
    token_id = accept_token(call)
    order = call.body["order"]
    record = call.state.deposit(order, now=call.now)
    spend_token(call, token_id)
    view = {
        "orderNumber": record.order_number,
        "currency": record.currency,
        "amount": record.amount,
        "payMethod": order.get("payMethod", "card"),
        "channel": order.get("channel", "ecommerce"),
    }
    result = {
        "authorizationCode": record.authorization_code,
        "uniqueId": record.unique_id,
        "batchNumber": record.batch_number,
    }
    return order_reply(call, 0.198, call.body["merchantCode"], view, result)


def order_reply(call: Call, seconds: float, merchant_code: str, order: dict[str, Any], result: dict[str, Any]) -> Reply:
    """The answer of Deposit, Cancel and Refund: header block first with millis as a string (as recorded
    for Deposit), the language's message, the order and the result (`seconds`: the header's duration)."""
    message = DEPOSIT_MESSAGES[call.body.get("language") or "ESP"]
    body = {
        "header": errors.header_block(call.now, call.now + seconds, millis_as_string=True),
        "code": "00",
        "message": message,
        "response": {"merchantCode": merchant_code, "order": order, "result": {"messageFriendly": message, **result}},
    }
    return Reply(200, body)


def accept_token(call: Call) -> str:
    """Check the bearer token for this call (not yet counted as used) and the merchant it names."""
    token_id = call.state.check_token(call.auth, now=call.now, single_use=call.flag("single_use_tokens"))
    if call.flag("check_transaction_id") and call.headers.get("transactionId") != call.auth.get("transactionId"):
        raise errors.TokenRejected()  # (inferred) docs/providers/izipay.md#q3: off by default
    if call.body["merchantCode"] != call.tenant.id:
        dev = call.option("environment") == "dev"
        raise errors.MerchantMismatch(errors.MSG_MERCHANT_DEV if dev else errors.MSG_MERCHANT_SANDBOX)
    return token_id


def spend_token(call: Call, token_id: str) -> None:
    """The call succeeded: count its session token as used (single use where the options say so)."""
    call.state.consume(token_id, single_use=call.flag("single_use_tokens"))


# -- the browser proxy prefix (docs/providers/izipay.md#hosts) ---------------------------------------------------------

_TARGET = re.compile(r"^https?:/+[^/]+(/.*)$")


@bp.route(PROXY_PREFIX + "<path:target>", methods=["POST", "OPTIONS"], provide_automatic_options=False)
def proxy_cors(target: str) -> Any:
    """Serve `…/proxy-cors/https://sandbox-api-pw.izipay.pe/<path>` as `<path>`, with CORS headers."""
    if request.method == "OPTIONS":
        response = Response(status=204)
    else:
        match = _TARGET.match(target)
        inner = match.group(1) if match else "/" + target.lstrip("/")
        adapter = current_app.url_map.bind("")
        try:
            endpoint, args = adapter.match(inner, method="POST")
        except MethodNotAllowed as exc:
            raise NotFound() from exc
        if not endpoint.startswith("izipay.") or endpoint == "izipay.proxy_cors":
            raise NotFound()
        response = current_app.view_functions[endpoint](**args)
    response.headers["Access-Control-Allow-Origin"] = request.headers.get("Origin", "*")
    response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Accept, transactionId"
    response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    return response
