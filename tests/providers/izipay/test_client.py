"""IzipayClient against the live emulator (and against the real sandbox when credentials are set)."""

from __future__ import annotations

import os
import threading
import uuid

import pytest
import requests

from emulator.clients._http import BadRequest, Forbidden, ServerError, Unauthorized
from emulator.clients.izipay import IzipayClient
from tests.providers.izipay.helpers import MERCHANT, PUBLIC_KEY, order

LIVE_URL = os.environ.get("PAYEMU_LIVE_IZIPAY_URL")


@pytest.fixture(params=["emulator", "live"])
def target(request, payemu_server):
    """(base_url, merchant, public_key, is_emulator) — the live sandbox only when configured."""
    if request.param == "live":
        if not LIVE_URL:
            pytest.skip("set PAYEMU_LIVE_IZIPAY_URL, _MERCHANT and _PUBLIC_KEY to run against the real sandbox")
        return LIVE_URL, os.environ["PAYEMU_LIVE_IZIPAY_MERCHANT"], os.environ["PAYEMU_LIVE_IZIPAY_PUBLIC_KEY"], False
    return payemu_server.url, MERCHANT, PUBLIC_KEY, True


def test_client_token_then_installments(target):
    url, merchant, key, _ = target
    client = IzipayClient(url, merchant, key)
    token = client.generate_token("R202211101518", "15.00")
    assert token.count(".") == 2
    result = client.search_installments("545545")
    assert result["bin"] == "545545" and result["installments"][0] == "0"


def test_client_errors_are_typed_and_carry_codes(target):
    url, merchant, key, _ = target
    client = IzipayClient(url, merchant, key)
    with pytest.raises(Unauthorized) as wrong_key:
        IzipayClient(url, merchant, "NotTheRightPublicKey0").generate_token("R202211101518", "15.00")
    assert wrong_key.value.status == 401
    client.generate_token("R202211101518", "15.00")
    with pytest.raises(Unauthorized) as bad_token:
        client.search_installments("545545", token="INVALID_TOKEN_12345")
    assert bad_token.value.code == "IMC"
    with pytest.raises(BadRequest) as bad_bin:
        client.search_installments("ABC")
    assert bad_bin.value.code == "IB3"


def test_client_bin_not_configured_is_forbidden(payemu_server):
    client = IzipayClient(payemu_server.url, MERCHANT, PUBLIC_KEY)
    client.generate_token("R202211101518", "15.00")
    with pytest.raises(Forbidden) as caught:
        client.search_installments("999999")
    assert (caught.value.code, caught.value.message) == ("IB0", "Bin invalido")


def test_client_retries_5xx_then_succeeds(payemu_server, payemu_admin):
    payemu_admin.activate("izipay/platform-failure-then-recovery")
    client = IzipayClient(payemu_server.url, MERCHANT, PUBLIC_KEY, retries=2, backoff=0.01)
    assert client.generate_token("R202211101518", "15.00")
    payemu_admin.assert_requested(3, operation="generate_token")


def test_client_gives_up_after_retries(payemu_server, payemu_admin):
    payemu_admin.activate("izipay/platform-failure")
    client = IzipayClient(payemu_server.url, MERCHANT, PUBLIC_KEY, retries=1, backoff=0.01)
    client.generate_token("R202211101518", "15.00")
    with pytest.raises(ServerError) as caught:
        client.search_installments("545545")
    assert caught.value.code == "500"
    payemu_admin.assert_requested(2, operation="search_installments")


def test_client_does_not_retry_deposit(payemu_server, payemu_admin):
    client = IzipayClient(payemu_server.url, MERCHANT, PUBLIC_KEY, retries=3, backoff=0.01)
    client.generate_token("R202211101518", "15.00")
    payemu_admin.activate("izipay/platform-failure")  # its rule matches search only
    assert client.deposit(order())["result"]["batchNumber"] == "1243"
    with pytest.raises(BadRequest) as again:
        client.deposit(order())
    assert again.value.code == "DP1"
    payemu_admin.assert_requested(2, operation="deposit")


def test_client_sees_a_dropped_connection(payemu_server):
    client = IzipayClient(payemu_server.url, MERCHANT, PUBLIC_KEY, retries=0)
    client.generate_token("R202211101518", "15.00")
    client.http.session.headers["X-Payemu-Scenario"] = "izipay/dropped-connection"
    with pytest.raises(requests.ConnectionError):
        client.search_installments("545545")


def test_expiry_on_the_virtual_clock(payemu_server, payemu_admin):
    client = IzipayClient(payemu_server.url, MERCHANT, PUBLIC_KEY)
    client.generate_token("R202211101518", "15.00")
    payemu_admin.advance_clock(901)
    with pytest.raises(Unauthorized) as caught:
        client.search_installments("545545")
    assert caught.value.message == "Token expirado"


CALLS_PER_THREAD = 40  # 640 calls from 16 threads: enough to interleave, a third of the old 1600's time


def test_concurrent_token_generation_16_threads_x_40(payemu_server, payemu_admin):
    """Every token distinct, every call journaled once, no error."""
    journaled_before = payemu_admin.health()["journal_total"]
    tokens: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        client = IzipayClient(payemu_server.url, MERCHANT, PUBLIC_KEY, retries=0)
        try:
            for n in range(CALLS_PER_THREAD):
                value = client.generate_token(f"ORD{index:02d}{n:05d}", "1.00", transaction_id=f"TX-{index}-{n}")
                with lock:
                    tokens.append(value)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            client.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(tokens) == 16 * CALLS_PER_THREAD and len(set(tokens)) == 16 * CALLS_PER_THREAD
    assert payemu_admin.health()["journal_total"] - journaled_before == 16 * CALLS_PER_THREAD
    assert payemu_admin.count(operation="generate_token") == 16 * CALLS_PER_THREAD  # each journaled once
    assert payemu_server.runtime.store.peek("izipay", MERCHANT).issued == 16 * CALLS_PER_THREAD


def _order(number: str, amount: str = "15.00", process_type: str = "autorize") -> dict[str, str]:
    return {
        "orderNumber": number,
        "currency": "PEN",
        "amount": amount,
        "payMethod": "card",
        "channel": "ecommerce",
        "processType": process_type,
        "datetimeTerminalTransaction": "2025-11-28 01:22:29.000",
    }


BILLING = {"firstName": "Juan", "lastName": "Wick", "email": "jwick@gmail.com", "country": "PE"}
VISA = {"pan": "4970100000000055", "expirationMonth": "12", "expirationYear": "2028", "cvc": "123"}


def test_client_tokenize_pay_search_refund_delete(target):
    """The money flow: save a card, pay with it, find the order, refund part of it, delete the card."""
    url, merchant, key, is_emulator = target
    hash_key = "payemu-izipay-4007701-hash-key" if is_emulator else os.environ.get("PAYEMU_LIVE_IZIPAY_HASH_KEY")
    client = IzipayClient(url, merchant, key, hash_key=hash_key)
    number = "OR" + uuid.uuid4().hex[:10].upper()
    buyer = "CL" + uuid.uuid4().hex[:10].upper()
    client.generate_token(number, "15.00")
    saved = client.tokenize_card(VISA, {"merchantBuyerId": buyer, "firstName": "Juan", "lastName": "Wick"})
    card_token = saved["token"]["token"]
    assert saved["token"]["card"]["pan"] == "497010******0055"
    assert client.get_card_token(card_token, buyer_id=buyer)["token"]["token"] == card_token
    assert [t["token"] for t in client.list_buyer_tokens(buyer)] == [card_token]
    paid = client.authorize({**_order(number), "merchantBuyerId": buyer}, BILLING, card_token=card_token)
    assert paid["code"] == "00"
    unique_id = paid["response"]["uniqueId"]
    assert client.search_order(number)["order"][0]["uniqueId"] == unique_id
    client.generate_token(number, "5.00", request_source="REFUND")
    assert client.refund(unique_id, "5.00")["order"]["refundedAmount"] == "5.00"
    client.generate_token(number, "0.00")
    assert client.delete_card_token(card_token, buyer_id=buyer)["token"]["status"] == "DELETED"
    assert client.list_buyer_tokens(buyer) == []
    with pytest.raises(Forbidden):
        client.get_card_token(card_token)


def test_client_decline_is_a_result_and_refund_needs_a_refund_token(payemu_server):
    client = IzipayClient(payemu_server.url, MERCHANT, PUBLIC_KEY, hash_key="payemu-izipay-4007701-hash-key")
    client.generate_token("ORDCL00001", "15.00")
    declined = client.authorize(_order("ORDCL00001"), BILLING, card={**VISA, "pan": "4003331978380689"})
    assert declined["code"] == "51" and declined["messageUserEng"].startswith("Insufficient funds")
    paid = client.authorize(_order("ORDCL00002"), BILLING, card=VISA)
    with pytest.raises(Unauthorized) as wrong_token:
        client.refund(paid["response"]["uniqueId"], "1.00")
    assert wrong_token.value.code == "IMC"
    cancelled = client.cancel(
        {"orderNumber": "ORDCL00002", "amount": "15.00", "uniqueId": paid["response"]["uniqueId"]}
    )
    assert cancelled["result"]["uniqueId"] == paid["response"]["uniqueId"]
    with pytest.raises(Forbidden) as unknown:
        client.search_order("ORDCL99999")
    assert unknown.value.code == "MC"


def test_client_checks_the_answer_signature(payemu_server):
    client = IzipayClient(payemu_server.url, MERCHANT, PUBLIC_KEY, hash_key="not-the-merchant-hash-key")
    client.generate_token("ORDCL00003", "15.00")
    with pytest.raises(ValueError, match="signature"):
        client.authorize(_order("ORDCL00003"), BILLING, card=VISA)


def test_client_does_not_retry_a_failed_authorization(payemu_server, payemu_admin):
    payemu_admin.activate("izipay/authorize-platform-failure-then-recovery")
    client = IzipayClient(payemu_server.url, MERCHANT, PUBLIC_KEY, retries=3, backoff=0.01)
    client.generate_token("ORDCL00004", "15.00")
    with pytest.raises(ServerError):
        client.authorize(_order("ORDCL00004"), BILLING, card=VISA)
    payemu_admin.assert_requested(1, operation="authorize")
    assert client.authorize(_order("ORDCL00004"), BILLING, card=VISA)["code"] == "00"  # the caller's own retry
