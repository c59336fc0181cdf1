"""Izipay over HTTP (Flask test client, strict mode): wire shapes, every recorded error, no state change."""

from __future__ import annotations

import jwt
import pytest

from tests.providers.izipay.helpers import (
    DEPOSIT,
    GENERATE,
    MERCHANT,
    OTHER_KEY,
    OTHER_MERCHANT,
    PUBLIC_KEY,
    SEARCH,
    TX,
    bearer,
    envelope,
    generate,
    order,
    search,
    token,
    token_body,
    without_header,
)


def _state(runtime, merchant=MERCHANT):
    return runtime.store.peek("izipay", merchant)


def test_generate_token_returns_recorded_shape_and_claims(client, runtime):
    response = generate(client)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["transactionId"] == TX
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    body = response.get_json()
    assert list(body) == ["code", "message", "response"]  # no header block on Token/Generate
    assert body["code"] == "00" and body["message"] == "OK"
    assert body["response"]["userOrg"] == "1snn5n9w"
    assert body["response"]["userScoring"] == "izipay_low"
    token_value = body["response"]["token"]
    assert jwt.get_unverified_header(token_value) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token_value, "payemu-izipay-4007701-token-signing-secret", algorithms=["HS256"])
    assert list(claims) == [
        "merchantCode",
        "facilitatorCode",
        "transactionId",
        "OrderNumber",
        "Amount",
        "TokenId",
        "nbf",
        "exp",
        "iat",
    ]
    assert claims["merchantCode"] == MERCHANT and claims["transactionId"] == TX
    assert claims["OrderNumber"] == "R202211101518" and claims["Amount"] == "15.00"
    assert claims["facilitatorCode"] == "6666041"
    assert claims["exp"] - claims["iat"] == 900 and claims["nbf"] == claims["iat"]
    assert _state(runtime).issued == 1 and _state(runtime).valid_from == claims["iat"]


def test_generate_token_tenant_options_change_user_scoring(client):
    body = generate(client, merchantCode=OTHER_MERCHANT, publicKey=OTHER_KEY).get_json()
    assert body["response"]["userScoring"] == "izipay_high"


def test_generate_token_wrong_public_key_is_401_and_changes_nothing(client, runtime):
    response = generate(client, publicKey="SomeoneElsesPublicKey00")
    assert response.status_code == 401
    assert without_header(response.get_json()) == envelope("401", "transactionId o publicKey inválidos")
    assert _state(runtime) is None


def test_generate_token_unknown_merchant_is_401(client, runtime):
    response = generate(client, merchantCode="9999999")
    assert response.status_code == 401
    assert without_header(response.get_json()) == envelope("401", "transactionId o publicKey inválidos")
    assert runtime.store.tenants("izipay") == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"merchantCode": None}, "Parámetro requerido faltante: merchantCode"),
        ({"amount": None}, "Parámetro requerido faltante: amount"),
        ({"amount": "15,00"}, "Parámetro inválido: amount"),
        ({"amount": 15}, "Parámetro inválido: amount"),
        ({"requestSource": "POS"}, "Parámetro inválido: requestSource"),
        ({"orderNumber": "R1"}, "Parámetro inválido: orderNumber"),
        ({"publicKey": "short"}, "Parámetro inválido: publicKey"),
    ],
)
def test_generate_token_bad_body_is_400_in_envelope(client, runtime, changes, message):
    response = generate(client, **changes)
    assert response.status_code == 400
    assert without_header(response.get_json()) == envelope("400", message)
    assert _state(runtime) is None


def test_generate_token_missing_transaction_id_is_400(client, runtime):
    response = client.post(GENERATE, json=token_body())
    assert response.status_code == 400
    assert without_header(response.get_json()) == envelope("400", "Parámetro requerido faltante: transactionid")
    assert _state(runtime) is None


def test_generate_token_short_transaction_id_is_400(client):
    response = generate(client, tx="TX1")
    assert response.status_code == 400
    assert response.get_json()["message"] == "Parámetro inválido: transactionid"


def test_generate_token_not_json_is_400_never_500(client, runtime):
    response = client.post(GENERATE, data="{not json", headers={"transactionId": TX})
    assert response.status_code == 400
    assert without_header(response.get_json()) == envelope("400", "Parámetro inválido: body")
    assert _state(runtime) is None


def test_generate_token_oversize_body_is_413_in_the_validation_envelope(client, runtime):
    response = client.post(GENERATE, data=b"x" * (1024 * 1024 + 10), headers={"transactionId": TX})
    assert (response.status_code, response.headers["X-Payemu-Error"]) == (413, "body-too-large")
    assert without_header(response.get_json()) == envelope("400", "Parámetro inválido: body")
    assert _state(runtime) is None


def test_generate_token_doc_error_style_option(app, monkeypatch, client):
    monkeypatch.setitem(
        app.extensions["payemu"].config.options, "izipay.token_error_style", "doc"
    )  # undone after the test
    response = generate(client, amount=None)
    assert response.status_code == 400
    assert response.get_json() == {"code": "400", "message": "Parámetro requerido faltante: amount", "response": None}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_non_post_is_405_in_envelope(client, method):
    response = client.open(SEARCH, method=method)
    assert response.status_code == 405
    assert without_header(response.get_json()) == envelope("405", "Método no permitido")


def test_unknown_izipay_path_is_404_in_envelope(client):
    response = client.post("/security/v1/Token/Nope", json={})
    assert response.status_code == 404
    assert without_header(response.get_json()) == envelope("404", "Recurso no encontrado")


def test_search_installments_recorded_sandbox_body(client):
    response = search(client, token(client), language="ESP")
    assert response.status_code == 200
    assert len(response.headers["X-Correlation-Id"]) == 36
    body = response.get_json()
    assert list(body) == ["code", "message", "header", "response"]
    assert isinstance(body["header"]["millis"], int)
    assert without_header(body) == {
        "code": "00",
        "message": "Aprobado",
        "response": {
            "merchantCode": MERCHANT,
            "bin": "545545",
            "issuerName": "SCOTIABANK ",
            "installments": [str(n) for n in range(36)],
            "deferred": "0",
            "result": {"messageFriendly": "Aprobado"},
        },
    }


def test_search_installments_english_and_dev_messages(app, monkeypatch, client):
    tok = token(client)
    body = search(client, tok, language="ENG").get_json()
    assert (body["message"], body["response"]["result"]["messageFriendly"]) == ("Approved", "Approved")
    monkeypatch.setitem(app.extensions["payemu"].config.options, "izipay.environment", "dev")  # undone after the test
    body = search(client, tok, language="ESP").get_json()
    assert (body["message"], body["response"]["result"]["messageFriendly"]) == ("OK", "Operación exitosa")


def test_search_installments_without_token_is_tn(client):
    response = client.post(SEARCH, json={"bin": "545545", "merchantCode": MERCHANT}, headers={"transactionId": TX})
    assert response.status_code == 400
    assert without_header(response.get_json()) == envelope(
        "TN", "El token no debe ser nulo o vacío", "token no debe ser nulo o vacío"
    )


def test_search_installments_malformed_token_is_imc(client):
    response = search(client, "INVALID_TOKEN_12345")
    assert response.status_code == 401
    assert without_header(response.get_json()) == envelope("IMC", "Estructura del request inválida.")


def test_search_installments_tampered_token_is_imc(client):
    header, payload, signature = token(client).split(".")
    response = search(client, f"{header}.{payload}.{signature[:-2]}AA")
    assert response.status_code == 401
    assert response.get_json()["code"] == "IMC"


def test_search_installments_other_merchant_token_is_imc(client):
    tok = token(client)
    response = search(client, tok, merchant=OTHER_MERCHANT)
    assert response.status_code == 401
    assert without_header(response.get_json()) == envelope("IMC", "merchantId is invalid")


def test_search_installments_token_signed_with_foreign_key_is_imc(client):
    forged = jwt.encode({"merchantCode": MERCHANT, "TokenId": "x", "exp": 4102444800}, "a" * 40, algorithm="HS256")
    response = search(client, forged)
    assert response.status_code == 401
    assert without_header(response.get_json()) == envelope("IMC", "Estructura del request inválida.")


def test_search_installments_bin_missing_is_ib1(client, runtime):
    tok = token(client)
    response = search(client, tok, bin_number=None)
    assert response.status_code == 400
    assert without_header(response.get_json()) == envelope("IB1", "El Numero Bin no debe ser nulo o vacio")
    assert _state(runtime).used == set()


@pytest.mark.parametrize("bad_bin", ["ABC", "5455451", "54554", 545545])
def test_search_installments_bin_length_is_ib3(client, bad_bin):
    response = search(client, token(client), bin_number=bad_bin)
    assert response.status_code == 400
    assert without_header(response.get_json()) == envelope("IB3", "la longitud del Numero Bin no es válida")


def test_search_installments_bin_not_configured_is_ib0(client):
    response = search(client, token(client), bin_number="999999")
    assert response.status_code == 403
    assert without_header(response.get_json()) == envelope("IB0", "Bin invalido")


def test_search_installments_expired_token_on_virtual_clock(client, runtime):
    tok = token(client)
    runtime.clock.advance(899)
    assert search(client, tok).status_code == 200
    runtime.clock.advance(1)
    response = search(client, tok)
    assert response.status_code == 401
    assert without_header(response.get_json()) == envelope("IMC", "Token expirado")


def test_search_installments_single_use_tenant_refuses_second_use(client):
    tok = token(client, merchantCode="4000011", publicKey="StrictSingleUse4000011publicKey")
    assert search(client, tok, merchant="4000011").status_code == 200
    response = search(client, tok, merchant="4000011")
    assert response.status_code == 400
    assert response.get_json()["code"] == "TN"


def test_search_installments_token_from_before_a_reset_is_unknown(client, runtime):
    tok = token(client)
    runtime.reset()
    runtime.clock.advance(2)  # a later second: tokens of the same second are indistinguishable
    token(client)
    response = search(client, tok)
    assert response.status_code == 401
    assert without_header(response.get_json()) == envelope("IMC", "Estructura del request inválida.")


def test_search_installments_failed_call_does_not_use_single_use_token(client):
    tok = token(client, merchantCode="4000011", publicKey="StrictSingleUse4000011publicKey")
    assert search(client, tok, merchant="4000011", bin_number="999999").status_code == 403
    assert search(client, tok, merchant="4000011").status_code == 200


def test_search_installments_check_transaction_id_option(app, monkeypatch, client):
    monkeypatch.setitem(
        app.extensions["payemu"].config.options, "izipay.check_transaction_id", True
    )  # undone after the test
    tok = token(client)
    response = client.post(SEARCH, json={"bin": "545545", "merchantCode": MERCHANT}, headers=bearer(tok, "OTHER-TX-1"))
    assert response.status_code == 401
    assert response.get_json()["code"] == "IMC"


def test_search_installments_missing_transaction_id_is_400(client):
    tok = token(client)
    response = client.post(
        SEARCH, json={"bin": "545545", "merchantCode": MERCHANT}, headers={"Authorization": f"Bearer {tok}"}
    )
    assert response.status_code == 400
    assert without_header(response.get_json()) == envelope("IMC", "Estructura del request inválida.")


def test_deposit_recorded_shape_and_once_per_order(client, runtime):
    tok = token(client)
    response = client.post(
        DEPOSIT, json={"merchantCode": MERCHANT, "order": order(), "language": "ESP"}, headers=bearer(tok)
    )
    assert response.status_code == 200
    body = response.get_json()
    assert list(body) == ["header", "code", "message", "response"]
    assert isinstance(body["header"]["millis"], str)
    assert without_header(body) == {
        "code": "00",
        "message": "Operación satisfactoria",
        "response": {
            "merchantCode": MERCHANT,
            "order": {
                "orderNumber": "R202211101518",
                "currency": "PEN",
                "amount": "15.00",
                "payMethod": "card",
                "channel": "ecommerce",
            },
            "result": {
                "messageFriendly": "Operación satisfactoria",
                "authorizationCode": "S46451",
                "uniqueId": "1546802",
                "batchNumber": "1243",
            },
        },
    }
    again = client.post(DEPOSIT, json={"merchantCode": MERCHANT, "order": order()}, headers=bearer(tok))
    assert again.status_code == 400
    assert without_header(again.get_json()) == envelope("DP1", "La orden ya fue depositada")
    assert len(_state(runtime).deposits) == 1


def test_deposit_bad_order_is_400_and_records_nothing(client, runtime):
    tok = token(client)
    response = client.post(
        DEPOSIT, json={"merchantCode": MERCHANT, "order": order(currency="EUR")}, headers=bearer(tok)
    )
    assert response.status_code == 400
    assert response.get_json()["code"] == "IMC"
    assert _state(runtime).deposits == {}


def test_tenants_are_isolated(client, runtime):
    """A merchant's token, key and state serve that merchant only."""
    mine = token(client)
    theirs = token(client, merchantCode=OTHER_MERCHANT, publicKey=OTHER_KEY)
    assert (_state(runtime).issued, _state(runtime, OTHER_MERCHANT).issued) == (1, 1)
    assert (
        search(client, mine).status_code == 200 and search(client, theirs, merchant=OTHER_MERCHANT).status_code == 200
    )
    assert search(client, mine, merchant=OTHER_MERCHANT).status_code == 401  # my token, their merchantCode
    assert generate(client, merchantCode=MERCHANT, publicKey=OTHER_KEY).status_code == 401  # their key, my code
    claims = jwt.decode(mine, options={"verify_signature": False})
    forged = jwt.encode({**claims, "merchantCode": OTHER_MERCHANT}, "payemu-izipay-4007701-token-signing-secret")
    assert search(client, forged, merchant=OTHER_MERCHANT).status_code == 401  # signed with my secret, not theirs
    runtime.scenarios.activate("izipay/token-expires-mid-flow", tenant=MERCHANT)
    assert search(client, mine).status_code == 401  # my tokens expire...
    assert search(client, theirs, merchant=OTHER_MERCHANT).status_code == 200  # ...theirs do not


def test_open_tenants_admit_new_merchant_but_check_its_key():
    from emulator import create_app

    client = create_app(strict=True, open_tenants=True).test_client()
    assert generate(client, merchantCode="4555555", publicKey="BrandNewPublicKey0001").status_code == 200
    assert generate(client, merchantCode="4555555", publicKey="AnotherPublicKey00002").status_code == 401
    assert generate(client, merchantCode=MERCHANT, publicKey=PUBLIC_KEY).status_code == 200


def test_proxy_cors_prefix_routes_to_the_inner_path(client):
    response = client.post(
        "/gateway/api/v1/proxy-cors/https://sandbox-api-pw.izipay.pe" + GENERATE,
        json=token_body(),
        headers={"transactionId": TX, "Origin": "http://shop.local"},
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "http://shop.local"
    assert response.get_json()["code"] == "00"
    preflight = client.options("/gateway/api/v1/proxy-cors/https://sandbox-api-pw.izipay.pe" + GENERATE)
    assert preflight.status_code == 204
    assert "transactionId" in preflight.headers["Access-Control-Allow-Headers"]


def test_proxy_cors_refuses_non_izipay_targets(client, runtime):
    token(client)
    response = client.post("/gateway/api/v1/proxy-cors/https://x.example/__admin/reset")
    assert response.status_code == 404
    assert _state(runtime).issued == 1  # the admin reset behind the prefix never ran


def test_journal_masks_and_records_every_call(client, runtime):
    generate(client)
    client.post(
        SEARCH,
        json={"bin": "545545", "merchantCode": MERCHANT, "note": "4111111111111111 cvv: 123"},
        headers={"transactionId": TX},
    )
    entries = runtime.journal.query(provider="izipay")
    assert [e.operation for e in entries] == ["search_installments", "generate_token"]
    assert entries[0].status == 400 and entries[1].status == 200 and entries[1].tenant == MERCHANT
    assert "4111111111111111" not in entries[0].request_body
    assert "411111******1111" in entries[0].request_body
    assert "123" not in entries[0].request_body.split("cvv")[1]
