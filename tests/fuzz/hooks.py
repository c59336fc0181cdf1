"""Schemathesis hooks for `make fuzz` (loaded with SCHEMATHESIS_HOOKS=tests.fuzz.hooks).

- `SampleCredentials`: every case gets the credentials its operation's `security` / `x-payemu-auth` asks
  for, with the sample tenants of `emulator/providers/<p>/tenants.yaml`; tokens are fetched first
  (Izipay Token/Generate, Zai /tokens, a Payelata invoice's flow token); Ecommpay bodies are signed.
- `before_add_examples`: one sample case per operation that needs live state (an invoice, a session,
  a user), so every operation can reach a 2xx; they carry their own credentials.
- an XML deserializer: Payture's replies become `{tag, attrs, children}`, the shape its contracts check.
- `after_call`: each (operationId, status) is appended to $PAYEMU_FUZZ_LOG for the runner's summary.

$PAYEMU_FUZZ_URL is the emulator under test.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import threading
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any

import requests
import schemathesis
import yaml

from emulator.clients.ecommpay import signature_of

ROOT = Path(__file__).resolve().parents[2]
OWN_AUTH = "X-Payemu-Fuzz-Own-Auth"  # marks a sample case that carries its own credentials (never sent)
_log_lock = threading.Lock()


def _url() -> str:
    return os.environ["PAYEMU_FUZZ_URL"].rstrip("/")


@cache
def sample(provider: str) -> dict[str, Any]:
    """The first sample tenant of a provider."""
    return yaml.safe_load((ROOT / "emulator" / "providers" / provider / "tenants.yaml").read_text())[0]


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def _post(path: str, **kwargs: Any) -> requests.Response:
    return requests.post(_url() + path, timeout=10, **kwargs)


# -- live state -------------------------------------------------------------------------------------


def izipay_token(request_source: str = "ECOMMERCE") -> str:
    merchant = sample("izipay")
    body = {
        "requestSource": request_source,
        "merchantCode": merchant["merchantCode"],
        "orderNumber": "FUZZ00001",
        "publicKey": merchant["publicKey"],
        "amount": "15.00",
    }
    answer = _post("/security/v1/Token/Generate", json=body, headers={"transactionId": "FUZZ-TX-1"})
    return answer.json()["response"]["token"]


IZIPAY_CARD = {"pan": "4970100000000055", "expirationMonth": "12", "expirationYear": "2030", "cvc": "123"}


def izipay_card_token(buyer: str) -> str:
    """A card saved for `buyer` (the sandbox guide's approved Visa)."""
    body = {"merchantCode": sample("izipay")["merchantCode"], "card": IZIPAY_CARD, "buyer": {"merchantBuyerId": buyer}}
    headers = {"Authorization": f"Bearer {izipay_token()}", "transactionId": "FUZZ-TX-1"}
    return _post("/tokenization/external/api/v1/tokens", json=body, headers=headers).json()["response"]["token"][
        "token"
    ]


def izipay_authorize_body(number: str) -> dict[str, Any]:
    order = {
        "orderNumber": number,
        "currency": "PEN",
        "amount": "15.00",
        "payMethod": "card",
        "channel": "ecommerce",
        "processType": "autorize",
        "datetimeTerminalTransaction": "2025-11-28 01:22:29.000",
    }
    billing = {"firstName": "Juan", "lastName": "Wick", "email": "jwick@gmail.com"}
    merchant = sample("izipay")["merchantCode"]
    return {
        "action": "pay",
        "merchantCode": merchant,
        "language": "ESP",
        "order": order,
        "card": IZIPAY_CARD,
        "billing": billing,
    }


def izipay_order() -> dict[str, Any]:
    """A freshly authorized order: its orderNumber, uniqueId and codeAuth."""
    number = f"FZ{os.urandom(4).hex()}"
    headers = {"Authorization": f"Bearer {izipay_token()}", "transactionId": "FUZZ-TX-1"}
    answer = _post("/authorization/api/Process/Authorize", json=izipay_authorize_body(number), headers=headers)
    return answer.json()["response"]


def zai_token() -> str:
    client = sample("zai")
    fields = {k: client[k] for k in ("client_id", "client_secret", "scope")}
    return _post("/tokens", data={"grant_type": "client_credentials", **fields}).json()["access_token"]


def _zai(method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
    return requests.request(method, _url() + path, headers=headers, timeout=10, **kwargs).json()


ZAI_CARD = {
    "full_name": "John Doe",
    "number": "4111111111111111",
    "expiry_month": 12,
    "expiry_year": 2035,
    "cvv": "123",
}
ZAI_BANK = {
    "bank_name": "Bank",
    "account_name": "Jane",
    "routing_number": "123123",
    "account_number": "12341234",
    "account_type": "savings",
    "holder_type": "personal",
    "country": "AUS",
}


def zai_cases(operation_id: str, bearer: dict[str, str]) -> list[dict[str, Any]] | None:
    """Live-state sample cases of Zai's accounts, items and webhooks: a fresh buyer, seller, card, bank account
    and item (in the state the action needs) per case; None for the operations handled elsewhere."""
    op = operation_id.removeprefix("zai.").split(".")[0]  # set_disbursement_account.patch / .post
    run = os.urandom(4).hex()
    ids = {}
    for role in ("buyer", "seller"):
        user_id = f"fuzz-{role}-{run}"
        body = {
            "id": user_id,
            "email": f"{user_id}@example.com",
            "first_name": "John",
            "last_name": "Doe",
            "country": "AUS",
        }
        _zai("POST", "/users", bearer, json=body)
        ids[role] = user_id
    token = _zai("POST", "/token_auths", bearer, json={"user_id": ids["buyer"], "token_type": "card"})
    bank_token = _zai("POST", "/token_auths", bearer, json={"user_id": ids["seller"]})
    card = _zai("POST", "/card_accounts", bearer, json={**ZAI_CARD, "user_id": ids["buyer"]})["card_accounts"]["id"]
    bank = _zai("POST", "/bank_accounts", bearer, json={**ZAI_BANK, "user_id": ids["seller"]})["bank_accounts"]["id"]
    wallet = _zai("GET", f"/users/{ids['buyer']}/wallet_accounts", bearer)["wallet_accounts"]["id"]
    item_id = f"fuzz-item-{run}"
    item = {
        "id": item_id,
        "name": "n",
        "amount": 500,
        "payment_type": 1,
        "buyer_id": ids["buyer"],
        "seller_id": ids["seller"],
    }
    _zai("POST", "/items", bearer, json=item)
    if op in (
        "refund_item",
        "release_payment",
        "list_transactions",
        "get_transaction",
        "request_refund",
        "decline_refund",
    ):
        _zai("PATCH", f"/items/{item_id}/make_payment", bearer, json={"account_id": card})
    if op == "decline_refund":
        _zai("PATCH", f"/items/{item_id}/request_refund", bearer, json={})
    if op in ("capture_payment", "void_payment"):
        _zai("PATCH", f"/items/{item_id}/authorize_payment", bearer, json={"account_id": card})
    hook = _zai(
        "POST", "/webhooks", bearer, json={"url": "http://127.0.0.1:9/fuzz", "object_type": "users", "enabled": False}
    )
    hook_id = hook["webhooks"]["id"]
    as_json = {"media_type": "application/json"}
    path = {
        "get_card_account": {"account_id": card},
        "delete_card_account": {"account_id": card},
        "get_card_account_user": {"account_id": card},
        "get_bank_account": {"account_id": bank},
        "delete_bank_account": {"account_id": bank},
        "get_bank_account_user": {"account_id": bank},
        "get_wallet_account": {"account_id": wallet},
        "get_wallet_account_user": {"account_id": wallet},
        "list_wallet_transactions": {"account_id": wallet},
        "get_user_card_accounts": {"user_id": ids["buyer"]},
        "get_user_bank_accounts": {"user_id": ids["seller"]},
        "get_user_wallet_accounts": {"user_id": ids["buyer"]},
        "list_user_items": {"user_id": ids["buyer"]},
        "set_disbursement_account": {"user_id": ids["seller"]},
        "get_webhook": {"webhook_id": hook_id},
        "update_webhook": {"webhook_id": hook_id},
        "delete_webhook": {"webhook_id": hook_id},
        "list_webhook_jobs": {"webhook_id": hook_id},
    }
    bodies = {
        "create_card_account": {**ZAI_CARD, "card_token": token["token_auth"]["token"]},
        "create_bank_account": {**ZAI_BANK, "bank_token": bank_token["token_auth"]["token"]},
        "set_disbursement_account": {"account_id": bank},
        "create_item": {**item, "id": f"{item_id}-new"},
        "update_item": {"name": "renamed"},
        "make_payment": {"account_id": card},
        "make_payment_async": {"account_id": card},
        "authorize_payment": {"account_id": card},
        "capture_payment": {},
        "refund_item": {"refund_amount": 100},
        "request_refund": {"refund_amount": 100, "refund_message": "fuzz"},
        "release_payment": {},
        "create_webhook": {"url": "http://127.0.0.1:9/fuzz", "object_type": "items", "enabled": False},
        "update_webhook": {"description": "fuzz"},
    }
    item_ops = (
        "get_item",
        "update_item",
        "delete_item",
        "get_item_buyer",
        "get_item_seller",
        "get_item_status",
        "list_item_fees",
        "list_item_transactions",
        "get_item_wire_details",
        "make_payment",
        "make_payment_async",
        "authorize_payment",
        "capture_payment",
        "void_payment",
        "cancel_item",
        "release_payment",
        "refund_item",
        "request_refund",
        "decline_refund",
    )
    if op in item_ops:
        path = {**path, op: {"item_id": item_id}}
    if op == "get_transaction":
        transactions = _zai("GET", "/transactions", bearer, params={"item_id": item_id})["transactions"]
        path = {**path, op: {"transaction_id": transactions[0]["id"]}}
    if op == "get_webhook_job":  # a job needs a delivery: subscribe to accounts, make one, unsubscribe
        on = {"url": "http://127.0.0.1:9/fuzz", "object_type": "accounts"}
        job_hook = _zai("POST", "/webhooks", bearer, json=on)["webhooks"]["id"]
        _zai("POST", "/card_accounts", bearer, json={**ZAI_CARD, "user_id": ids["buyer"]})
        _zai("PATCH", f"/webhooks/{job_hook}", bearer, json={"enabled": False})
        job = _zai("GET", f"/webhooks/{job_hook}/jobs", bearer)["jobs"][0]["id"]
        path = {**path, op: {"webhook_id": job_hook, "job_id": job}}
    known = set(path) | set(bodies) | {"list_items", "list_transactions", "list_webhooks", "validate_routing_number"}
    if op not in known:
        return None
    case: dict[str, Any] = {"headers": dict(bearer)}
    if op in ("create_card_account", "create_bank_account"):
        case["headers"] = {}  # the browser side: the token auth is the credential
    if op in path:
        case["path_parameters"] = path[op]
    if op in bodies:
        case.update({"body": bodies[op], **as_json})
    if op == "validate_routing_number":
        case["query"] = {"routing_number": "122235821"}
    if op == "get_bank_account":
        case["query"] = {"include_decrypted_fields": "true"}
    return [case]


def payelata_basic() -> str:
    account = sample("payelata")
    return _basic(account["id"], account["api_key_test"])


def invoice_body() -> dict[str, Any]:
    attributes = {"reference_id": os.urandom(6).hex(), "amount": 100, "currency": "USD"}
    return {"data": {"type": "payment-invoices", "attributes": {**attributes, "service": "payment_card_usd_hpp"}}}


def payelata_invoice() -> dict[str, Any]:
    body = invoice_body()
    answer = _post("/payment-invoices", json=body, headers={"Authorization": payelata_basic()})
    return answer.json()["data"]


def payelata_three_ds() -> tuple[dict[str, Any], dict[str, Any]]:
    """An invoice whose sale waits for 3-DS, and its `auth_payload`."""
    invoice = payelata_invoice()
    card = {"card_number": "5123817234060000", "card_holder": "JOHN DOE", "cvv": "123", "exp_month": "12"}
    body = {"data": {"type": "sale-operation", "attributes": {**card, "exp_year": "32"}}}
    token = invoice["attributes"]["flow_data"]["metadata"]["token"]
    sale = _post("/payment/sale", json=body, headers={"Authorization": f"Bearer {token}"}).json()
    return invoice, sale["data"]["attributes"]["auth_payload"]


def payelata_paid_invoice() -> dict[str, Any]:
    """An invoice paid with the success test card (refundable)."""
    invoice = payelata_invoice()
    card = {"card_number": "5519283812030000", "cvv": "123", "exp_month": "12", "exp_year": "32"}
    token = invoice["attributes"]["flow_data"]["metadata"]["token"]
    body = {"data": {"type": "sale-operation", "attributes": card}}
    _post("/payment/sale", json=body, headers={"Authorization": f"Bearer {token}"})
    return invoice


def payelata_refund_id() -> str:
    """A refund of a paid invoice, its id read back from the admin state (the default answer is the invoice)."""
    invoice = payelata_paid_invoice()
    body = {"data": {"type": "refund", "attributes": {"amount": 1, "reference_id": os.urandom(6).hex()}}}
    _post(f"/payment-invoices/{invoice['id']}/refund", json=body, headers={"Authorization": payelata_basic()})
    tenants = requests.get(_url() + "/__admin/state/payelata", timeout=10).json()
    for state in (tenants.get("tenants") or tenants).values():
        for refund_id in (state.get("refund_invoices") or {}) if isinstance(state, dict) else ():
            return refund_id
    return "ref_AAAAAAAAAAAAAAAA"


def payout_body() -> dict[str, Any]:
    attributes = {"reference_id": os.urandom(6).hex(), "amount": 10, "currency": "USD", "service": "payment_card_usd"}
    return {
        "data": {"type": "payout-invoice", "attributes": {**attributes, "fields": {"card_number": "5519283812030000"}}}
    }


def payelata_payout() -> dict[str, Any]:
    answer = _post("/payout-invoices", json=payout_body(), headers={"Authorization": payelata_basic()})
    return answer.json()["data"]


def ecommpay_token(customer: dict[str, Any]) -> str:
    """Tokenize the sample card; the token travels in the callback, read back from the admin API."""
    card = {"pan": "4314220000000056", "year": 2031, "month": 12, "card_holder": "JOHN DOE"}
    body = {"customer": dict(customer), "card": card}
    body["customer"]["signature"] = signature_of(body, sample("ecommpay")["secret"])
    request_id = _post("/v2/customer/card/tokenize", json=body).json()["request_id"]
    for callback in requests.get(_url() + "/__admin/callbacks", timeout=10).json()["callbacks"]:
        sent = json.loads(callback["body"])
        if callback["provider"] == "ecommpay" and sent.get("request", {}).get("id") == request_id:
            return sent["token"]
    raise LookupError("no tokenize callback")


def _ecommpay_secret() -> str:
    return sample("ecommpay")["secret"]


def ecommpay_payment_id() -> str:
    return f"fuzz-{os.urandom(6).hex()}"


def ecommpay_pay(path: str, source: dict[str, Any]) -> str:
    """Run one signed sale/auth (by card or token) and return its payment_id."""
    payment_id = ecommpay_payment_id()
    body = {
        "general": {"project_id": sample("ecommpay")["project_id"], "payment_id": payment_id},
        "customer": {"id": "fuzz-customer", "ip_address": "127.0.0.1"},
        "payment": {"amount": 1000, "currency": "EUR"},
        **source,
    }
    body["general"]["signature"] = signature_of(body, _ecommpay_secret())
    answer = _post(path, json=body)
    assert answer.status_code == 200, answer.text
    return payment_id


ECOMMPAY_CARD = {"pan": "4314220000000056", "year": 2031, "month": 12, "card_holder": "JOHN DOE", "cvv": "123"}


def ecommpay_three_ds() -> tuple[str, str]:
    """A card sale awaiting 3-D Secure: its payment_id and MD (read from the signed status answer)."""
    payment_id = ecommpay_pay("/v2/payment/card/sale", {"card": {**ECOMMPAY_CARD, "pan": "4000000000000002"}})
    body = {"general": {"project_id": sample("ecommpay")["project_id"], "payment_id": payment_id}}
    body["general"]["signature"] = signature_of(body, _ecommpay_secret())
    return payment_id, _post("/v2/payment/status", json=body).json()["acs"]["md"]


def payture_session(session_type: str = "Add") -> str:
    merchant = sample("payture")
    login = f"fuzz-{os.urandom(4).hex()}@example.com"
    terminal = merchant["add_terminal"]
    _post("/vwapi/Register", data={"VWID": terminal, "DATA": f"VWUserLgn={login};VWUserPsw=secret1"})
    data = f"SessionType={session_type};VWUserLgn={login};VWUserPsw=secret1;IP=127.0.0.1"
    answer = _post("/vwapi/Init", data={"VWID": terminal, "DATA": data}).text
    return ET.fromstring(answer).attrib["SessionId"]


# -- credentials ------------------------------------------------------------------------------------


# retry_on=[]: a 401 is an answer under test (a foreign merchantCode, a wrong body credential), not an
# expired token; the tokens outlive a run (the virtual clock is never advanced).
@schemathesis.auth(retry_on=[])
class SampleCredentials:
    """The sample tenants' credentials, applied by each operation's declared security."""

    def get(self, case: Any, context: Any) -> dict[str, str]:
        invoice = payelata_invoice()
        return {
            "izipay.bearer": f"Bearer {izipay_token()}",
            "zai.bearer": f"Bearer {zai_token()}",
            "zai.bearer_or_token": f"Bearer {zai_token()}",
            "zai.client": _basic(sample("zai")["client_id"], sample("zai")["client_secret"]),
            "payelata.basic": payelata_basic(),
            "payelata.flow_token": f"Bearer {invoice['attributes']['flow_data']['metadata']['token']}",
            "payture.wrapper_bearer": "Bearer " + next(iter(sample("payture")["behind_tokens"])),
        }

    def set(self, case: Any, data: dict[str, str], context: Any) -> None:
        if case.headers and case.headers.pop(OWN_AUTH, None) is not None:
            return
        definition = case.operation.definition.raw
        schemes = [name for requirement in definition.get("security") or () for name in requirement]
        headers = case.headers if case.headers is not None else {}
        for name in schemes[:1]:  # the first alternative is the one a client would pick
            if name in data:
                headers["Authorization"] = data[name]
            elif name == "payture.terminal":
                _set_terminal(case)
        case.headers = headers
        if definition["operationId"].startswith("ecommpay."):
            _sign(case)


def _set_terminal(case: Any) -> None:
    merchant = sample("payture")
    terminal = merchant["pay_terminal"] if "/Pay" in case.operation.path else merchant["add_terminal"]
    if isinstance(case.body, dict):
        case.body["VWID"] = terminal
    else:
        case.query = {**(case.query or {}), "VWID": terminal}


def _sign(case: Any) -> None:
    """Sign an Ecommpay body with its project's secret (the sample project's for unknown projects)."""
    body = case.body
    if not isinstance(body, dict):
        return
    holder = "general" if isinstance(body.get("general"), dict) else "customer"  # payment or token request
    if not isinstance(body.get(holder), dict):
        return
    secrets = {
        str(t["project_id"]): t["secret"]
        for t in yaml.safe_load((ROOT / "emulator" / "providers" / "ecommpay" / "tenants.yaml").read_text())
    }
    secret = secrets.get(str(body[holder].get("project_id")), sample("ecommpay")["secret"])
    with contextlib.suppress(TypeError, ValueError):  # a body the signature cannot cover: left unsigned
        body[holder]["signature"] = signature_of(body, secret)


# -- sample cases that need live state --------------------------------------------------------------

ECOMMPAY_TOKEN_OPERATIONS = ("ecommpay.tokenize_card", "ecommpay.card_by_token", "ecommpay.revoke_token")


def ecommpay_payment_body(operation_id: str) -> dict[str, Any]:
    """A payment request that succeeds: a fresh payment_id, or a live payment in the state the operation needs."""
    import base64 as b64

    project = sample("ecommpay")["project_id"]
    customer = {"id": "fuzz-customer", "ip_address": "127.0.0.1"}
    payment = {"amount": 1000, "currency": "EUR"}
    name = operation_id.removeprefix("ecommpay.")
    if name in ("card_sale", "card_auth", "card_payout", "card_sale_token", "card_auth_token", "card_payout_token"):
        general = {"project_id": project, "payment_id": ecommpay_payment_id()}
        body: dict[str, Any] = {"general": general, "customer": customer, "payment": payment}
        if name.endswith("_token"):
            body["token"] = ecommpay_token({**customer, "project_id": project})
        else:
            body["card"] = ECOMMPAY_CARD
        return body
    if name == "card_3ds_result":
        payment_id, md = ecommpay_three_ds()
        pares = b64.b64encode(f"payemu-pares:{md}:Y".encode()).decode()
        return {"general": {"project_id": project, "payment_id": payment_id}, "pares": pares, "md": md}
    source = {"card": ECOMMPAY_CARD}
    if name in ("card_capture", "card_cancel"):
        payment_id = ecommpay_pay("/v2/payment/card/auth", source)
    else:
        payment_id = ecommpay_pay("/v2/payment/card/sale", source)
    general = {"project_id": project, "payment_id": payment_id}
    if name == "card_refund":
        return {"general": general, "payment": {"description": "fuzz refund"}}
    if name == "card_capture":
        return {"general": general, "payment": payment}
    return {"general": general}


def _sample_cases(operation_id: str) -> list[dict[str, Any]]:
    """Keyword arguments of `operation.Case(...)` for a case that should succeed."""
    json_api = "application/vnd.api+json"
    form = "application/x-www-form-urlencoded"
    izipay = sample("izipay")
    if operation_id.startswith("izipay."):
        bearer = {"Authorization": f"Bearer {izipay_token()}", "transactionId": "FUZZ-TX-1"}
        merchant = izipay["merchantCode"]
        if operation_id.startswith("izipay.generate_token"):
            body = {
                "requestSource": "ECOMMERCE",
                "merchantCode": merchant,
                "orderNumber": "FUZZ00002",
                "publicKey": izipay["publicKey"],
                "amount": "15.00",
            }
            return [{"headers": {"transactionid": "FUZZ-TX-2"}, "body": body, "media_type": "application/json"}]
        if operation_id.startswith("izipay.search_installments"):
            body = {"bin": "545545", "merchantCode": merchant, "language": "ESP"}
            return [{"headers": bearer, "body": body, "media_type": "application/json"}]
        if operation_id.startswith("izipay.deposit"):
            order = {
                "orderNumber": f"FUZZ{os.urandom(4).hex()}",
                "currency": "PEN",
                "amount": "15.00",
                "authorizationCode": "123456",
                "uniqueId": "987654321",
            }
            body = {"merchantCode": merchant, "order": order}
            return [{"headers": bearer, "body": body, "media_type": "application/json"}]
        buyer = f"FUZZBUYER{os.urandom(3).hex()}"
        if operation_id.startswith("izipay.tokenize_card"):
            body = {"merchantCode": merchant, "card": IZIPAY_CARD, "buyer": {"merchantBuyerId": buyer}}
            return [{"headers": bearer, "body": body, "media_type": "application/json"}]
        if operation_id.startswith(("izipay.get_card_token", "izipay.delete_card_token")):
            body = {"merchantCode": merchant, "token": {"cardToken": izipay_card_token(buyer)}}
            return [{"headers": bearer, "body": body, "media_type": "application/json"}]
        if operation_id.startswith("izipay.list_buyer_tokens"):
            body = {"merchantCode": merchant, "buyer": {"merchantBuyerId": buyer}}
            return [{"headers": bearer, "body": body, "media_type": "application/json"}]
        if operation_id.startswith("izipay.authorize"):
            body = izipay_authorize_body(f"FZ{os.urandom(4).hex()}")
            return [{"headers": bearer, "body": body, "media_type": "application/json"}]
        if operation_id.startswith("izipay.cancel"):
            body = {"merchantCode": merchant, "order": {"orderNumber": izipay_order()["orderNumber"]}}
            return [{"headers": bearer, "body": body, "media_type": "application/json"}]
        if operation_id.startswith("izipay.refund"):
            refund_bearer = {**bearer, "Authorization": f"Bearer {izipay_token('REFUND')}"}
            body = {"merchantCode": merchant, "idUnique": izipay_order()["uniqueId"], "order": {"refundAmount": "1.00"}}
            return [{"headers": refund_bearer, "body": body, "media_type": "application/json"}]
        if operation_id.startswith("izipay.search_order"):
            body = {"merchantCode": merchant, "numberOrden": izipay_order()["orderNumber"]}
            return [{"headers": bearer, "body": body, "media_type": "application/json"}]
    zai = sample("zai")
    zai_bearer = {"Authorization": f"Bearer {zai_token()}"} if operation_id.startswith("zai.") else {}
    user_id = f"fuzz-{os.urandom(4).hex()}"
    user = {
        "id": user_id,
        "user_type": "payin",
        "email": f"{user_id}@example.com",
        "first_name": "John",
        "country": "USA",
    }
    if operation_id.startswith("zai.") and (cases := zai_cases(operation_id, zai_bearer)) is not None:
        return cases
    match operation_id:
        case "zai.create_token":
            body = {"grant_type": "client_credentials", **{k: zai[k] for k in ("client_id", "client_secret", "scope")}}
            return [{"body": body, "media_type": form}, {"body": body, "media_type": "application/json"}]
        case "zai.create_user":
            return [{"headers": zai_bearer, "body": user, "media_type": "application/json"}]
        case "zai.get_user" | "zai.create_token_auth":
            _post("/users", json=user, headers=zai_bearer)
            if operation_id == "zai.get_user":
                return [{"headers": zai_bearer, "path_parameters": {"user_id": user_id}}]
            body = {"user_id": user_id, "token_type": "card"}
            return [{"headers": zai_bearer, "body": body, "media_type": "application/json"}]
        case "zai.list_users":
            return [{"headers": zai_bearer, "query": {"limit": "10", "offset": "0"}}]
        case "zai.create_webhook_secret_key":
            body = {"secret_key": "fuzz-webhook-secret-key-of-32-bytes-or-more"}
            return [{"headers": zai_bearer, "body": body, "media_type": "application/json"}]
    if operation_id.startswith("ecommpay.acs_page"):
        _payment_id, md = ecommpay_three_ds()
        form_body = {"PaReq": "x", "MD": md, "TermUrl": "https://shop.example/3ds"}
        if operation_id == "ecommpay.acs_page.get":
            return [{"path_parameters": {"md": md}}]
        return [{"path_parameters": {"md": md}, "body": form_body, "media_type": form}]
    if operation_id.startswith("ecommpay.") and operation_id not in ECOMMPAY_TOKEN_OPERATIONS:
        return [{"body": ecommpay_payment_body(operation_id), "media_type": "application/json"}]
    if operation_id.startswith("ecommpay."):
        project = sample("ecommpay")["project_id"]
        customer = {"id": "fuzz-customer", "project_id": project, "ip_address": "127.0.0.1"}
        token = ecommpay_token(customer) if operation_id != "ecommpay.tokenize_card" else ""
        bodies = {
            "ecommpay.tokenize_card": {
                "customer": customer,
                "card": {"pan": "4314220000000056", "year": 2031, "month": 12, "card_holder": "JOHN DOE"},
            },
            "ecommpay.card_by_token": {"customer": customer, "token": token},
            "ecommpay.revoke_token": {"customer": customer, "token": token},
        }
        return [{"body": bodies[operation_id], "media_type": "application/json"}]
    if operation_id.startswith("payelata."):
        basic = {"Authorization": payelata_basic()}
        if operation_id.startswith("payelata.create_payment_invoice"):
            return [{"headers": basic, "body": invoice_body(), "media_type": json_api}]
        if operation_id.startswith("payelata.get_payment_invoice"):
            return [{"headers": basic, "path_parameters": {"invoice_id": payelata_invoice()["id"]}}]
        if operation_id.startswith("payelata.refund_payment_invoice"):
            invoice = payelata_paid_invoice()
            body = {"data": {"type": "refund", "attributes": {"amount": 10, "reference_id": os.urandom(6).hex()}}}
            return [
                {
                    "headers": basic,
                    "path_parameters": {"invoice_id": invoice["id"]},
                    "body": body,
                    "media_type": json_api,
                }
            ]
        if operation_id.startswith("payelata.get_refund"):
            return [{"headers": basic, "path_parameters": {"refund_id": payelata_refund_id()}}]
        if operation_id.startswith("payelata.create_payout_invoice"):
            return [{"headers": basic, "body": payout_body(), "media_type": json_api}]
        if operation_id.startswith("payelata.get_payout_invoice"):
            return [{"headers": basic, "path_parameters": {"payout_id": payelata_payout()["id"]}}]
        if operation_id.startswith("payelata.process_payout_invoice"):
            return [{"headers": basic, "path_parameters": {"payout_id": payelata_payout()["id"]}}]
        if operation_id == "payelata.sale":
            invoice = payelata_invoice()
            token = invoice["attributes"]["flow_data"]["metadata"]["token"]
            card = {"card_number": "5519283812030000", "card_holder": "JOHN DOE", "cvv": "123"}
            body = {"data": {"type": "sale-operation", "attributes": {**card, "exp_month": "12", "exp_year": "32"}}}
            return [{"headers": {"Authorization": f"Bearer {token}"}, "body": body, "media_type": json_api}]
        if operation_id == "payelata.hosted_payment_page":
            sid = payelata_invoice()["attributes"]["flow_data"]["metadata"]["sid"]
            return [{"path_parameters": {"session_id": sid}}]
        if operation_id == "payelata.submit_hosted_payment_page":
            sid = payelata_invoice()["attributes"]["flow_data"]["metadata"]["sid"]
            card = {"card_number": "5519283812030000", "card_holder": "JOHN DOE", "cvv": "123"}
            body = {**card, "exp_month": "12", "exp_year": "32"}
            return [{"path_parameters": {"session_id": sid}, "body": body, "media_type": form}]
        if operation_id.startswith("payelata.acs_page"):
            _invoice, payload = payelata_three_ds()
            sid = payload["params"]["MD"]
            if operation_id == "payelata.acs_page.get":
                return [{"path_parameters": {"session_id": sid}}]
            return [{"path_parameters": {"session_id": sid}, "body": payload["params"], "media_type": form}]
        if operation_id == "payelata.complete_auth":
            _invoice, payload = payelata_three_ds()
            sid = payload["params"]["MD"]
            return [{"query": {"pid": sid}, "body": {"MD": sid, "PaRes": "AUTHENTICATED"}, "media_type": form}]
    if operation_id.startswith("payture."):
        merchant = sample("payture")
        login = f"fuzz-{os.urandom(4).hex()}@example.com"
        register = {"VWID": merchant["add_terminal"], "DATA": f"VWUserLgn={login};VWUserPsw=secret1"}
        match operation_id:
            case "payture.register":
                return [{"body": register, "media_type": form}]
            case "payture.add":
                return [{"body": {"SessionId": payture_session()}, "media_type": form}]
            case "payture.add.get":
                return [{"query": {"SessionId": payture_session()}}]
            case "payture.submit_card":
                card = {"CardNumber": "4111111111111112", "EMonth": "12", "EYear": "30", "CardHolder": "JOHN DOE"}
                body = {"SessionId": payture_session(), **card, "SecureCode": "123"}
                return [{"body": body, "media_type": form}]
            case "payture.v21_init" | "payture.v21_init_unauthorised" | "payture.v21_finalise":
                token = next(iter(merchant["behind_tokens"]))
                return [{"headers": {"Authorization": f"Bearer {token}"}, "body": {}, "media_type": "application/json"}]
    return []


@schemathesis.hook
def before_add_examples(context: Any, examples: list[Any]) -> None:
    operation = context.operation
    if operation is None:
        return
    operation_id = operation.definition.raw.get("operationId", "")
    for kwargs in _sample_cases(operation_id.removesuffix(".proxy")):
        kwargs["headers"] = {**kwargs.get("headers", {}), OWN_AUTH: "1"}
        body = kwargs.get("body")
        if operation_id.startswith("ecommpay.") and isinstance(body, dict) and "PaReq" not in body:
            holder = "general" if "general" in body else "customer"
            body[holder]["signature"] = signature_of(body, sample("ecommpay")["secret"])
        examples.append(operation.Case(**kwargs))


# -- responses --------------------------------------------------------------------------------------


def _element(node: ET.Element) -> dict[str, Any]:
    element: dict[str, Any] = {"tag": node.tag, "attrs": dict(node.attrib)}
    if len(node):
        element["children"] = [_element(child) for child in node]
    return element


@schemathesis.deserializer("text/xml", "application/xml")
def payture_xml(context: Any, response: Any) -> Any:
    """Payture's XML reply as the `{tag, attrs, children}` data its response contracts describe."""
    return _element(ET.fromstring(response.content))


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    """The marker of a sample case is never sent (the auth provider is not asked for those cases)."""
    headers = kwargs.get("headers")
    if headers:
        for name in [n for n in headers if n.lower() == OWN_AUTH.lower()]:
            del headers[name]


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    path = os.environ.get("PAYEMU_FUZZ_LOG")
    if not path:
        return
    line = json.dumps({"operation": case.operation.definition.raw.get("operationId"), "status": response.status_code})
    with _log_lock, open(path, "a", encoding="utf-8") as log:
        log.write(line + "\n")
