"""Izipay's session-token operations beyond Search (Flask test client, strict mode): card tokenization,
Authorize, Cancel, Refund, order Search; and the token_error_style option wherever it is set."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from emulator.core.serialize import dump_state
from tests.providers.izipay.helpers import (
    APPROVED_VISA,
    AUTHORIZE,
    BUYER,
    CANCEL,
    DECLINED_51,
    DEPOSIT,
    GENERATE,
    MERCHANT,
    ORDER_SEARCH,
    REFUND,
    TOKENS,
    TX,
    authorize_body,
    bearer,
    card_body,
    envelope,
    generate,
    order,
    token,
    without_header,
)

STRICT_MERCHANT, STRICT_KEY = "4000011", "StrictSingleUse4000011publicKey"


def _state(runtime, merchant=MERCHANT):
    return runtime.store.peek("izipay", merchant)


def _tokenize(client, tok, **changes):
    response = client.post(TOKENS, json=card_body(**changes), headers=bearer(tok))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["response"]["token"]["token"]


def _authorize(client, tok, *args, **kwargs):
    return client.post(AUTHORIZE, json=authorize_body(*args, **kwargs), headers=bearer(tok))


# -- the token_error_style defect (issue 14 item 5) ------------------------------------------------------


def _set_tenant_options(client, app, options):
    admin = (
        {"Authorization": "Bearer " + app.extensions["payemu"].config.admin_token}
        if app.extensions["payemu"].config.admin_token
        else {}
    )
    response = client.put(f"/__admin/tenants/izipay/{MERCHANT}", json={"options": options}, headers=admin)
    assert response.status_code == 200, response.get_data(as_text=True)


DOC_401 = {"code": "401", "message": "transactionId o publicKey inválidos", "response": None}


def test_doc_error_style_on_the_server_covers_401s_too(app, monkeypatch, client):
    monkeypatch.setitem(app.extensions["payemu"].config.options, "izipay.token_error_style", "doc")
    assert generate(client, publicKey="WrongKeyWrongKeyWrong").get_json() == DOC_401
    assert generate(client, amount=None).get_json()["response"] is None


def test_doc_error_style_set_per_tenant_applies_to_400s_and_401s(app, client):
    _set_tenant_options(client, app, {"token_error_style": "doc"})
    response = generate(client, publicKey="WrongKeyWrongKeyWrong")
    assert response.status_code == 401 and response.get_json() == DOC_401
    response = generate(client, amount="15")
    assert response.status_code == 400
    assert response.get_json() == {"code": "400", "message": "Parámetro inválido: amount", "response": None}
    other = generate(client, merchantCode="4001834", publicKey="Wrong4001834Wrong")  # another tenant: the envelope
    assert "header" in other.get_json()


def test_doc_error_style_from_a_scenario_covers_injected_errors(client):
    scenario = {"X-Payemu-Scenario": "izipay/doc-error-style"}
    response = client.post(
        GENERATE, json={"merchantCode": MERCHANT}, headers={"transactionId": TX, **scenario}
    )  # missing fields
    assert response.status_code == 400 and response.get_json()["response"] is None
    response = client.post(
        GENERATE,
        json={
            "requestSource": "ECOMMERCE",
            "merchantCode": MERCHANT,
            "orderNumber": "R202211101518",
            "publicKey": "WrongKeyWrongKeyWrong",
            "amount": "1.00",
        },
        headers={"transactionId": TX, **scenario},
    )
    assert response.get_json() == DOC_401


def test_default_error_style_is_the_recorded_envelope_for_401s(client):
    body = generate(client, publicKey="WrongKeyWrongKeyWrong").get_json()
    assert without_header(body) == envelope("401", "transactionId o publicKey inválidos")


# -- tokenization -------------------------------------------------------------------------------------------


def test_tokenize_answers_the_token_and_masked_card_and_keeps_no_pan(client, runtime):
    tok = token(client)
    response = client.post(TOKENS, json=card_body(), headers=bearer(tok))
    assert response.status_code == 200
    body = without_header(response.get_json())
    assert body["code"] == "00"
    saved = body["response"]["token"]
    assert body["response"]["buyer"] == {"merchantBuyerId": BUYER, "buyerToken": saved["buyerToken"]}
    assert saved["card"] == {
        "brand": "VS",
        "pan": "497010******0055",
        "expirationMonth": "12",
        "expirationYear": "2028",
    }
    assert saved["status"] == "ACTIVE" and saved["alias"] == "mi visa" and len(saved["token"]) == 32
    dumped = json.dumps(dump_state(_state(runtime)))
    assert APPROVED_VISA not in dumped and '"123"' not in dumped
    journal = runtime.journal.query(provider="izipay", operation="tokenize_card")[0]
    assert APPROVED_VISA not in journal.request_body and '"cvc": "***"' in journal.request_body


def test_one_token_per_card_and_buyer(client):
    tok = token(client)
    first = _tokenize(client, tok)
    assert _tokenize(client, tok) == first  # the same card for the same buyer
    assert _tokenize(client, tok, buyer="BUYER000002") != first
    assert _tokenize(client, tok, pan="5100010000002045") != first


def test_duplicate_card_token_error_option(app, client, runtime, monkeypatch):
    monkeypatch.setitem(app.extensions["payemu"].config.options, "izipay.duplicate_card_token", "error")
    tok = token(client)
    _tokenize(client, tok)
    response = client.post(TOKENS, json=card_body(), headers=bearer(tok))
    assert response.status_code == 400 and response.get_json()["code"] == "TK3"
    assert len(_state(runtime).card_tokens) == 1


def test_tokenize_bad_card_is_refused_and_changes_nothing(client, runtime):
    tok = token(client)
    response = client.post(TOKENS, json=card_body(pan="4970100000000056"), headers=bearer(tok))
    assert response.status_code == 400 and response.get_json()["code"] == "14"
    no_buyer = card_body()
    del no_buyer["buyer"]
    response = client.post(TOKENS, json=no_buyer, headers=bearer(tok))
    assert response.status_code == 400 and response.get_json()["code"] == "IMC"
    assert _state(runtime).card_tokens == {}


def test_look_up_list_and_delete_tokens(client):
    tok = token(client)
    first = _tokenize(client, tok)
    second = _tokenize(client, tok, pan="5100010000002045")
    found = client.post(
        f"{TOKENS}/token", json={"merchantCode": MERCHANT, "token": {"cardToken": first}}, headers=bearer(tok)
    )
    assert found.status_code == 200 and found.get_json()["response"]["token"]["token"] == first
    # as the NestJS service sends it: the token under buyer.buyerToken
    nest = client.post(
        f"{TOKENS}/token",
        json={"merchantCode": MERCHANT, "buyer": {"merchantBuyerId": BUYER, "buyerToken": second}},
        headers=bearer(tok),
    )
    assert nest.get_json()["response"]["token"]["card"]["pan"] == "510001******2045"
    listed = client.post(
        f"{TOKENS}/tokens", json={"merchantCode": MERCHANT, "buyer": {"merchantBuyerId": BUYER}}, headers=bearer(tok)
    ).get_json()["response"]
    assert [t["token"] for t in listed["tokens"]] == [first, second]
    deleted = client.post(
        f"{TOKENS}/delete", json={"merchantCode": MERCHANT, "token": {"cardToken": first}}, headers=bearer(tok)
    )
    assert deleted.status_code == 200 and deleted.get_json()["response"]["token"]["status"] == "DELETED"
    for path in ("/token", "/delete"):
        again = client.post(
            TOKENS + path, json={"merchantCode": MERCHANT, "token": {"cardToken": first}}, headers=bearer(tok)
        )
        assert again.status_code == 403 and again.get_json()["code"] == "TK1"
    listed = client.post(
        f"{TOKENS}/tokens", json={"merchantCode": MERCHANT, "buyer": {"merchantBuyerId": BUYER}}, headers=bearer(tok)
    ).get_json()["response"]
    assert [t["token"] for t in listed["tokens"]] == [second]
    assert _tokenize(client, tok) not in (first, second)  # the card saved again after its delete: a new token


def test_another_buyers_token_is_not_found(client):
    tok = token(client)
    value = _tokenize(client, tok)
    response = client.post(
        f"{TOKENS}/token",
        json={"merchantCode": MERCHANT, "buyer": {"merchantBuyerId": "OTHER1"}, "token": {"cardToken": value}},
        headers=bearer(tok),
    )
    assert response.status_code == 403 and response.get_json()["code"] == "TK1"


# -- session-token rules on every new operation ---------------------------------------------------------------

NEW_OPERATIONS = [
    (TOKENS, card_body()),
    (f"{TOKENS}/tokens", {"merchantCode": MERCHANT, "buyer": {"merchantBuyerId": BUYER}}),
    (AUTHORIZE, authorize_body()),
    (ORDER_SEARCH, {"merchantCode": MERCHANT, "numberOrden": "ORD0000001"}),
]


@pytest.mark.parametrize(("path", "body"), NEW_OPERATIONS)
def test_new_operations_need_a_live_token_of_the_merchant(client, runtime, path, body):
    response = client.post(path, json=body, headers={"transactionId": TX})
    assert response.status_code == 400 and response.get_json()["code"] == "TN"
    tok = token(client)
    runtime.clock.advance(901)
    response = client.post(path, json=body, headers=bearer(tok))
    assert response.status_code == 401 and response.get_json()["message"] == "Token expirado"
    other = token(client, merchantCode="4001834", publicKey="SANDBOXpublicKey4001834abcdefgh")
    response = client.post(path, json=body, headers=bearer(other))
    assert response.status_code == 401 and response.get_json()["code"] == "IMC"


def test_single_use_token_is_spent_only_by_a_successful_call(client):
    tok = token(client, merchantCode=STRICT_MERCHANT, publicKey=STRICT_KEY)
    bad = client.post(TOKENS, json=card_body(merchantCode=STRICT_MERCHANT, pan="4970100000000056"), headers=bearer(tok))
    assert bad.status_code == 400
    ok = client.post(TOKENS, json=card_body(merchantCode=STRICT_MERCHANT), headers=bearer(tok))
    assert ok.status_code == 200
    again = client.post(AUTHORIZE, json=authorize_body(merchantCode=STRICT_MERCHANT), headers=bearer(tok))
    assert again.status_code == 400 and again.get_json()["code"] == "TN"


def test_transaction_id_must_match_with_check_option(app, monkeypatch, client):
    monkeypatch.setitem(app.extensions["payemu"].config.options, "izipay.check_transaction_id", True)
    tok = token(client)
    response = client.post(AUTHORIZE, json=authorize_body(), headers=bearer(tok, tx="TXOTHER1"))
    assert response.status_code == 401 and response.get_json()["code"] == "IMC"
    assert _authorize(client, tok).status_code == 200


# -- Authorize ------------------------------------------------------------------------------------------------


def test_authorize_with_card_data_answers_the_recorded_shape_signed(client, runtime):
    tok = token(client)
    response = _authorize(client, tok)
    assert response.status_code == 200
    body = response.get_json()
    assert [body[k] for k in ("code", "message", "messageUser", "messageUserEng")] == [
        "00",
        "OK",
        "Operación exitosa",
        "Successful",
    ]
    answer = body["response"]
    assert answer["codeAuth"].startswith("S") and len(answer["codeAuth"]) == 6
    assert len(answer["referenceNumber"]) == 7 and answer["uniqueId"] == "1546800"
    assert answer["card"] == {"brand": "VS", "pan": "497010******0055", "save": False}
    assert answer["amount"] == "15.00" and answer["payMethod"] == "CARD"
    signed = json.loads(answer["payloadHttp"])
    assert signed["response"]["idLogMPI"] == 0 and signed["response"]["uniqueId"] == answer["uniqueId"]
    key = b"payemu-izipay-4007701-hash-key"
    expected = base64.b64encode(hmac.new(key, answer["payloadHttp"].encode(), hashlib.sha256).digest()).decode()
    assert answer["signature"] == expected
    entry = runtime.journal.query(provider="izipay", operation="authorize")[0]
    assert APPROVED_VISA not in entry.request_body and APPROVED_VISA not in entry.response_body


@pytest.mark.parametrize(
    ("pan", "code"),
    [(DECLINED_51, "51"), ("5102546179105000", "41"), ("4008069640361357", "54"), ("4970100000000056", "14")],
)
def test_authorize_declines_the_sandbox_test_cards(client, runtime, pan, code):
    tok = token(client)
    response = _authorize(client, tok, pan=pan)
    assert response.status_code == 200
    body = response.get_json()
    assert body["code"] == code and "codeAuth" not in body["response"]
    assert _state(runtime).orders["ORD0000001"].status == "declined"


def test_authorize_with_a_card_token_and_after_its_delete(client):
    tok = token(client)
    card_token = _tokenize(client, tok)
    response = _authorize(client, tok, card_token=card_token)
    assert response.status_code == 200
    assert response.get_json()["response"]["token"]["cardToken"] == card_token
    declined = _tokenize(client, tok, pan=DECLINED_51)
    assert _authorize(client, tok, "ORD0000002", card_token=declined).get_json()["code"] == "51"
    client.post(
        f"{TOKENS}/delete", json={"merchantCode": MERCHANT, "token": {"cardToken": card_token}}, headers=bearer(tok)
    )
    refused = _authorize(client, tok, "ORD0000003", card_token=card_token)
    assert refused.status_code == 403 and refused.get_json()["code"] == "TK1"


def test_authorize_bad_input_changes_nothing(client, runtime):
    tok = token(client)
    assert _authorize(client, tok, pan=None).status_code == 400  # action pay without card
    assert _authorize(client, tok, amount="15").status_code == 400
    not_a_card = _authorize(client, tok, pan="12AB")
    assert not_a_card.status_code == 400 and not_a_card.get_json()["code"] == "14"
    assert _authorize(client, tok, card_token="UNKNOWNTOKEN").status_code == 403
    external = _authorize(client, tok, action="pay_token_external", card=None)
    assert external.status_code == 400 and external.get_json()["code"] == "IMC"
    assert _state(runtime).orders == {}
    assert _authorize(client, tok).status_code == 200
    duplicate = _authorize(client, tok)
    assert duplicate.status_code == 400 and duplicate.get_json()["code"] == "OR1"
    assert len(_state(runtime).orders) == 1


# -- Cancel, Refund, Deposit of a pre-authorization, order Search --------------------------------------------


def _refund_token(client):
    return token(client, requestSource="REFUND")


def _search(client, tok, number="ORD0000001"):
    return client.post(
        ORDER_SEARCH, json={"merchantCode": MERCHANT, "numberOrden": number, "language": "ESP"}, headers=bearer(tok)
    )


def test_cancel_voids_once_and_search_shows_it(client):
    tok = token(client)
    answer = _authorize(client, tok).get_json()["response"]
    cancel = {
        "merchantCode": MERCHANT,
        "order": {
            "orderNumber": "ORD0000001",
            "currency": "PEN",
            "amount": "15.00",
            "uniqueId": answer["uniqueId"],
            "authorizationCode": answer["codeAuth"],
        },
        "language": "ESP",
    }
    response = client.post(CANCEL, json=cancel, headers=bearer(tok))
    assert response.status_code == 200 and response.get_json()["response"]["result"]["uniqueId"] == "1546800"
    again = client.post(CANCEL, json=cancel, headers=bearer(tok))
    assert again.status_code == 400 and again.get_json()["code"] == "TR1"
    assert _search(client, tok).get_json()["response"]["order"][0]["stateMessage"] == "Anulado"
    wrong = {**cancel, "order": {**cancel["order"], "orderNumber": "ORD0000009"}}
    assert client.post(CANCEL, json=wrong, headers=bearer(tok)).get_json()["code"] == "MC"


def test_refund_needs_a_refund_token_and_never_exceeds_the_capture(client, runtime):
    tok = token(client)
    unique = _authorize(client, tok).get_json()["response"]["uniqueId"]
    body = {
        "merchantCode": MERCHANT,
        "ruc": "20100000001",
        "idUnique": unique,
        "order": {"currency": "PEN", "refundAmount": "10.00"},
        "language": "ESP",
    }
    ecommerce = client.post(REFUND, json=body, headers=bearer(tok))
    assert ecommerce.status_code == 401 and ecommerce.get_json()["code"] == "IMC"
    refund_tok = _refund_token(client)
    response = client.post(REFUND, json=body, headers=bearer(refund_tok))
    assert response.status_code == 200
    assert response.get_json()["response"]["order"]["refundedAmount"] == "10.00"
    too_much = client.post(REFUND, json=body, headers=bearer(refund_tok))
    assert too_much.status_code == 400 and too_much.get_json()["code"] == "TR1"
    assert _state(runtime).orders["ORD0000001"].refunded == 1000
    rest = {**body, "order": {"currency": "PEN", "refundAmount": "5.00"}}
    assert client.post(REFUND, json=rest, headers=bearer(refund_tok)).status_code == 200
    assert _search(client, tok).get_json()["response"]["order"][0]["stateMessage"] == "Devuelto"
    cancel = {"merchantCode": MERCHANT, "order": {"orderNumber": "ORD0000001"}}
    refused = client.post(CANCEL, json=cancel, headers=bearer(tok))
    assert refused.status_code == 400  # a refunded order cannot be voided
    unknown = {**body, "idUnique": "999"}
    del unknown["order"]
    assert client.post(REFUND, json=unknown, headers=bearer(refund_tok)).get_json()["code"] == "MC"


def test_preauthorization_is_refundable_only_once_deposited(client):
    tok = token(client)
    answer = _authorize(client, tok, process_type="preautorize").get_json()["response"]
    refund_tok = _refund_token(client)
    body = {"merchantCode": MERCHANT, "idUnique": answer["uniqueId"], "order": {"refundAmount": "15.00"}}
    assert client.post(REFUND, json=body, headers=bearer(refund_tok)).status_code == 400
    too_much = order(
        orderNumber="ORD0000001", amount="20.00", uniqueId=answer["uniqueId"], authorizationCode=answer["codeAuth"]
    )
    assert (
        client.post(DEPOSIT, json={"merchantCode": MERCHANT, "order": too_much}, headers=bearer(tok)).status_code == 400
    )
    deposit = {**too_much, "amount": "15.00"}
    assert (
        client.post(DEPOSIT, json={"merchantCode": MERCHANT, "order": deposit}, headers=bearer(tok)).status_code == 200
    )
    assert _search(client, tok).get_json()["response"]["order"][0]["stateMessage"] == "Depositado"
    assert client.post(REFUND, json=body, headers=bearer(refund_tok)).status_code == 200


def test_order_search_shape_and_unknown_order(client):
    tok = token(client)
    unknown = _search(client, tok)
    assert unknown.status_code == 403
    assert without_header(unknown.get_json()) == envelope("MC", "Transaccion No Existe")
    _authorize(client, tok)
    body = without_header(_search(client, tok).get_json())
    found = body["response"]["order"][0]
    assert body["code"] == "00" and found["orderNumber"] == "ORD0000001" and found["stateMessage"] == "Autorizado"
    assert body["response"]["card"] == {"brand": "VS", "pan": "497010******0055"}
    spelled = client.post(
        ORDER_SEARCH, json={"merchantCode": MERCHANT, "numberOden": "ORD0000001"}, headers=bearer(tok)
    )
    assert spelled.status_code == 200


def _pascal(data):
    if isinstance(data, dict):
        return {key[:1].upper() + key[1:]: _pascal(value) for key, value in data.items()}
    return data


def test_authorize_reads_pascal_case_names_as_izipays_harness_sends_them(client, runtime):
    tok = token(client)
    response = client.post(AUTHORIZE, json=_pascal(authorize_body(process_type="preautorize")), headers=bearer(tok))
    assert response.status_code == 200 and response.get_json()["code"] == "00"
    assert _state(runtime).orders["ORD0000001"].process_type == "preautorize"


def test_tokenization_through_the_browser_proxy_prefix(client):
    tok = token(client)
    response = client.post(
        "/gateway/api/v1/proxy-cors/https://sandbox-api-pw.izipay.pe" + TOKENS, json=card_body(), headers=bearer(tok)
    )
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.get_json()["response"]["token"]["card"]["pan"] == "497010******0055"


def _encrypt_with_payemus_public_key():
    import yaml
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding

    from tests.providers.izipay.helpers import ROOT_TENANTS

    pem = yaml.safe_load(ROOT_TENANTS.read_text())[0]["rsa_private_key"]
    public = serialization.load_pem_private_key(pem.encode(), None).public_key()
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)

    def encrypt(text, scheme="pkcs1"):
        chosen = padding.PKCS1v15() if scheme == "pkcs1" else oaep
        return base64.b64encode(public.encrypt(text.encode(), chosen)).decode()

    return encrypt


def test_authorize_decrypts_rsa_encrypted_amount_and_card(client, runtime):
    encrypt = _encrypt_with_payemus_public_key()
    tok = token(client)
    body = authorize_body(amount="7.50", pan=DECLINED_51)
    body["order"]["amount"] = encrypt("7.50")
    card = body["card"]
    card.update(pan=encrypt(DECLINED_51, "oaep"), expirationMonth=encrypt("12"), cvc=encrypt("123"))
    response = client.post(AUTHORIZE, json=body, headers=bearer(tok))
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["code"] == "51" and answer["response"]["amount"] == "7.50"
    assert answer["response"]["card"]["pan"] == "400333******0689"
    entry = runtime.journal.query(provider="izipay", operation="authorize")[0]
    assert DECLINED_51 not in entry.request_body  # the journal keeps what was sent: ciphertext
    garbage = authorize_body("ORD0000002")
    garbage["order"]["amount"] = base64.b64encode(b"x" * 256).decode()  # not under payemu's key
    refused = client.post(AUTHORIZE, json=garbage, headers=bearer(tok))
    assert refused.status_code == 400 and refused.get_json()["code"] == "IMC"
    assert list(_state(runtime).orders) == ["ORD0000001"]
