"""IzipayClient against the live emulator (and against the real sandbox when credentials are set)."""

from __future__ import annotations

import os
import threading

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
