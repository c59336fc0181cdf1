"""Helpers of the Ecommpay tests: signed bodies, callback routing and contract checks."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import referencing

from emulator.clients.ecommpay import signature_of
from emulator.core.serialize import to_data
from emulator.testing import CallbackReceiver, Received

SECRET_11 = "secret"
SECRET_12 = "payemu-ecommpay-12-secret-key"
SECRET_42 = "payemu-ecommpay-42-rocketpay"
SECRETS = {11: SECRET_11, 12: SECRET_12, 42: SECRET_42}
PAN = "4314220000000056"
TOKENIZE = "/v2/customer/card/tokenize"
BYTOKEN = "/v2/customer/card/bytoken"
REVOKE = "/v2/customer/card/token/revoke"


def route_callbacks(runtime: Any, receiver: CallbackReceiver) -> None:
    """Send every sample project's callbacks to `receiver` (run-time tenant changes: a reset undoes them)."""
    for project, suffix in (("11", ""), ("12", "/12"), ("42", "/42")):
        runtime.tenants["ecommpay"].update(project, {"callback_url": f"{receiver.url}/ecommpay/callbacks{suffix}"})


def signed(body: dict[str, Any], secret: str | None = None) -> dict[str, Any]:
    """Sign a request body with the client suite's own signer (independent of the emulator's)."""
    body = copy.deepcopy(body)
    secret = secret or SECRETS[body["customer"]["project_id"]]
    body["customer"]["signature"] = signature_of(body, secret)
    return body


def tokenize_body(
    project_id: int = 11,
    customer: str = "1707",
    pan: str = PAN,
    year: int = 2030,
    month: int = 5,
    holder: str = "PAUL SMITH",
    customer_extra: dict[str, Any] | None = None,
    **card: Any,
) -> dict[str, Any]:
    return {
        "customer": {"id": customer, "ip_address": "1.87.128.111", "project_id": project_id, **(customer_extra or {})},
        "card": {"pan": pan, "year": year, "month": month, "card_holder": holder, **card},
    }


def token_body(token: str, project_id: int = 11, customer: str = "1707") -> dict[str, Any]:
    return {"customer": {"project_id": project_id, "id": customer}, "token": token}


def state_of(runtime: Any, project: str = "11") -> dict[str, Any] | None:
    state = runtime.store.peek("ecommpay", project)
    if state is None:
        return None
    data = to_data(state)
    return {**data, "tokens": list(data["tokens"].values())}


_VALIDATORS: dict[str, jsonschema.Draft202012Validator] = {}


def callback_validator(runtime: Any, event: str) -> jsonschema.Draft202012Validator:
    """A validator for one `$defs` entry of contracts/ecommpay/callbacks.json."""
    if event not in _VALIDATORS:
        documents = runtime.contracts.documents
        registry = referencing.Registry().with_resources(
            (doc["$id"], referencing.Resource.from_contents(doc)) for doc in documents.values()
        )
        ref = documents["ecommpay/callbacks.json"]["$id"] + f"#/$defs/{event}"
        schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$ref": ref}
        _VALIDATORS[event] = jsonschema.Draft202012Validator(schema, registry=registry)
    return _VALIDATORS[event]


def assert_callback(runtime: Any, received: Received, event: str, secret: str = SECRET_11) -> dict[str, Any]:
    """Check one received callback: its contract, its signature (the client's verifier), no full PAN."""
    from emulator.clients.ecommpay import EcommpayClient

    body = received.json()
    errors = [e.message for e in callback_validator(runtime, event).iter_errors(body)]
    assert errors == [], errors
    assert EcommpayClient("http://unused", 0, secret).verify_callback(received.body)
    assert PAN not in received.body.decode()
    assert received.headers["Content-Type"] == "application/json"
    return body


def tokenize(client: Any, runtime: Any, receiver: CallbackReceiver, **kwargs: Any) -> str:
    """Tokenize through HTTP and return the token from this request's callback (found by its request id:
    deliveries run in parallel, so the newest arrival may be another request's)."""
    before = len(receiver.received)
    response = client.post(TOKENIZE, json=signed(tokenize_body(**kwargs)))
    assert response.status_code == 200, response.json
    runtime.callbacks.wait_idle()
    for arrived in receiver.wait_for(before + 1):
        body = arrived.json()
        request = body.get("request") if isinstance(body, dict) else None
        if isinstance(request, dict) and request.get("id") == response.json["request_id"]:
            return body["token"]
    raise AssertionError("no tokenize callback for " + response.json["request_id"])


# -- payments (docs/providers/ecommpay.md#payments) ------------------------------------------------------------------

SALE = "/v2/payment/card/sale"
SALE_TOKEN = "/v2/payment/card/sale/token"
AUTH = "/v2/payment/card/auth"
AUTH_TOKEN = "/v2/payment/card/auth/token"
PAYOUT_TOKEN = "/v2/payment/card/payout/token"
CAPTURE = "/v2/payment/card/capture"
CANCEL = "/v2/payment/card/cancel"
REFUND = "/v2/payment/card/refund"
THREE_DS_RESULT = "/v2/payment/card/3ds_result"
STATUS = "/v2/payment/status"
CVV = "123"
THREE_DS_PAN = "4000000000000002"
DECLINE_PAN = "4000000000009995"  # cards.yaml: decline-10105


def signed_general(body: dict[str, Any], secret: str | None = None) -> dict[str, Any]:
    """Sign a payment request (`general.signature`) with the client suite's own signer."""
    body = copy.deepcopy(body)
    secret = secret or SECRETS[body["general"]["project_id"]]
    body["general"]["signature"] = signature_of(body, secret)
    return body


def general(payment_id: str, project_id: int = 11) -> dict[str, Any]:
    return {"project_id": project_id, "payment_id": payment_id}


def pay_body(
    payment_id: str,
    *,
    token: str | None = None,
    pan: str = PAN,
    amount: int = 1000,
    currency: str = "EUR",
    customer: str = "1707",
    project_id: int = 11,
    return_url: str | None = None,
) -> dict[str, Any]:
    """A sale/auth/payout body: by token when `token` is given, else with card data."""
    body: dict[str, Any] = {
        "general": general(payment_id, project_id),
        "customer": {"id": customer, "ip_address": "1.87.128.111"},
        "payment": {"amount": amount, "currency": currency, "description": "order " + payment_id},
    }
    if token is not None:
        body["token"] = token
    else:
        body["card"] = {"pan": pan, "year": 2030, "month": 5, "card_holder": "PAUL SMITH", "cvv": CVV}
    if return_url:
        body["acs_return_url"] = {"return_url": return_url}
    return body


def sdk_callback(received: Received, secret: str = SECRET_11) -> Any:
    """Verify one received callback with Ecommpay's published Python SDK (`Gate.handle_callback`); its data."""
    from payment_page_sdk.gate import Gate

    return Gate(secret).handle_callback(received.body.decode())


def assert_payment_callback(runtime: Any, received: Received, secret: str = SECRET_11) -> dict[str, Any]:
    """A payment callback: its contract, the published SDK's signature check, no full PAN and no CVV."""
    body = assert_callback(runtime, received, "payment", secret)
    callback = sdk_callback(received, secret)
    assert callback.get_payment_id() == body["payment"]["id"]
    assert callback.get_payment_status() == body["payment"]["status"]
    assert f'"{CVV}"' not in received.body.decode()
    return body
