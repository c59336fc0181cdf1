"""Two `payemu serve` replicas on one real redis-server act as one emulator; SQLite survives `kill -9`."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from emulator.clients.payture import PaytureClient
from emulator.clients.zai import ZaiClient
from emulator.testing import ServedProcess, spawn_server
from tests.providers.izipay.helpers import GENERATE, SEARCH, TX, token_body

ZAI = {
    "client_id": "10ajtntet1ccghuo8mv9ojglma",
    "client_secret": "payemu-zai-marketplace-a-client-secret-0001",
    "scope": "im-au-04/cdbf9590-1db6-0139-ac4d-0a58a9feac03",
}
SINGLE_USE_MERCHANT, SINGLE_USE_KEY = "4000011", "StrictSingleUse4000011publicKey"
CARD = {"CardNumber": "4011111111111112", "EMonth": "12", "EYear": "30", "CardHolder": "IVAN I", "SecureCode": "123"}


@pytest.fixture(scope="module")
def replicas(payemu_redis: str) -> Iterator[tuple[ServedProcess, ServedProcess]]:
    a = spawn_server("--store", payemu_redis, "--seed", "1")
    b = spawn_server("--store", payemu_redis, "--seed", "2")
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture
def ab(replicas: tuple[ServedProcess, ServedProcess]) -> tuple[str, str]:
    a, b = replicas
    assert requests.post(a.url + "/__admin/reset", timeout=5).status_code == 200  # resets B too (one store)
    return a.url, b.url


def _zai(url: str) -> ZaiClient:
    return ZaiClient(url, ZAI["client_id"], ZAI["client_secret"], ZAI["scope"])


def _user(n: int) -> dict[str, Any]:
    return {"id": f"buyer-{n}", "email": f"b{n}@example.com", "first_name": "B", "last_name": "N", "country": "AUS"}


def test_a_token_from_a_verifies_on_b_and_users_are_shared(ab: tuple[str, str]) -> None:
    a, b = ab
    on_a = _zai(a)
    token = on_a.access_token()
    bearer = {"Authorization": f"Bearer {token}"}  # B never issued it
    assert requests.post(b + "/users", json=_user(1), headers=bearer, timeout=5).status_code == 201
    assert on_a.get_user("buyer-1")["id"] == "buyer-1"
    issued = requests.post(b + "/token_auths", json={"user_id": "buyer-1", "token_type": "card"}, headers=bearer)
    assert issued.status_code == 200 and issued.json()["token_auth"]["user_id"] == "buyer-1"


def test_a_card_saved_through_a_is_listed_by_b(ab: tuple[str, str]) -> None:
    a, b = ab
    on_a, on_b = PaytureClient(a, "DemoMerchantAdd", "123"), PaytureClient(b, "DemoMerchantAdd", "123")
    assert on_a.register("ivan@example.ru", "secret1").success
    init = on_b.init("Add", "ivan@example.ru", "secret1", url="https://shop.test/r?orderid={orderid}&result={success}")
    assert init.success
    saved = requests.post(a + "/vwapi/Add/Submit", data={"SessionId": init["SessionId"], **CARD}, timeout=10)
    assert 'data-success="True"' in saved.text  # the page on A finds B's session
    listing = on_b.get_list("ivan@example.ru", "secret1")
    assert listing.success and [item["CardName"] for item in listing.items] == ["401111xxxxxx1112"]


def test_a_single_use_token_redeemed_on_both_at_once_succeeds_exactly_once(ab: tuple[str, str]) -> None:
    a, b = ab
    body = token_body(merchantCode=SINGLE_USE_MERCHANT, publicKey=SINGLE_USE_KEY)
    answers: list[int] = []
    lock = threading.Lock()
    tokens = []
    for _ in range(4):
        issued = requests.post(a + GENERATE, json=body, headers={"transactionId": TX}, timeout=5)
        tokens.append(issued.json()["response"]["token"])

    def redeem(url: str, token: str) -> None:
        search = {"bin": "545545", "merchantCode": SINGLE_USE_MERCHANT}
        headers = {"transactionId": TX, "Authorization": f"Bearer {token}"}
        status = requests.post(url + SEARCH, json=search, headers=headers, timeout=10).status_code
        with lock:
            answers.append(status)

    threads = [threading.Thread(target=redeem, args=(url, t)) for t in tokens for url in (a, b, a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [200] * 4 + [400] * 12  # each token once (then the recorded TN), on either replica


def test_concurrent_creates_on_both_lose_and_duplicate_nothing(ab: tuple[str, str]) -> None:
    a, b = ab
    token = _zai(a).access_token()
    statuses: list[int] = []
    lock = threading.Lock()

    def create(url: str, first: int) -> None:
        session = requests.Session()
        for n in range(first, first + 10):
            response = session.post(url + "/users", json=_user(n), headers={"Authorization": f"Bearer {token}"})
            with lock:
                statuses.append(response.status_code)
        # the same ids again: every one is taken by now
        again = session.post(url + "/users", json=_user(first), headers={"Authorization": f"Bearer {token}"})
        with lock:
            statuses.append(again.status_code)

    threads = [threading.Thread(target=create, args=((a, b)[i % 2], i * 100)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(201) == 160 and statuses.count(422) == 16
    listed = requests.get(b + "/users?limit=200", headers={"Authorization": f"Bearer {token}"}, timeout=10).json()
    assert listed["meta"]["total"] == 160
    assert len({u["id"] for u in listed["users"]}) == 160


def test_an_nth_rule_counts_calls_across_replicas(ab: tuple[str, str]) -> None:
    a, b = ab
    name = "izipay/platform-failure-then-recovery"
    activated = requests.post(a + "/__admin/scenarios/active", json={"name": name}, timeout=5)
    assert activated.status_code in (200, 201)
    statuses = [
        requests.post(url + GENERATE, json=token_body(), headers={"transactionId": TX}, timeout=5).status_code
        for url in (b, a, b, a)
    ]
    assert statuses == [500, 500, 200, 200]  # calls 1 and 2 fail, wherever they land


def test_clock_scenarios_and_reset_on_a_are_seen_by_b(ab: tuple[str, str]) -> None:
    a, b = ab
    requests.post(a + "/__admin/clock/advance", json={"seconds": 3600}, timeout=5)
    assert requests.get(b + "/__admin/clock", timeout=5).json()["offset_seconds"] == pytest.approx(3600, abs=1)
    issued = requests.post(b + GENERATE, json=token_body(), headers={"transactionId": TX}, timeout=5)
    search = {"json": {"bin": "545545", "merchantCode": "4007701"}, "timeout": 5}
    search["headers"] = {"transactionId": TX, "Authorization": f"Bearer {issued.json()['response']['token']}"}
    requests.post(a + "/__admin/scenarios/active", json={"name": "izipay/platform-failure"}, timeout=5)
    assert requests.post(b + SEARCH, **search).status_code == 500  # B applies the scenario A activated
    _zai(a).create_user(**_user(7))
    requests.post(a + "/__admin/reset", timeout=5)
    assert requests.get(b + "/__admin/clock", timeout=5).json()["offset_seconds"] == pytest.approx(0, abs=1)
    assert requests.post(b + SEARCH, **search).status_code == 401  # no scenario; the token is from before the reset
    assert requests.get(b + "/__admin/state/zai", timeout=5).json()["tenants"] == {}


def test_sqlite_keeps_every_answered_write_across_kill_9(tmp_path: Path, payemu_receiver) -> None:
    store = f"sqlite:///{tmp_path / 'state.db'}"
    first = spawn_server("--store", store, env={"PAYEMU_CALLBACKS": "false"})  # callbacks queued, never sent
    try:
        zai = _zai_webhooks_to(first.url, payemu_receiver.url)
        for n in range(20):
            zai.create_user(**_user(n))
        payture = PaytureClient(first.url, "DemoMerchantAdd", "123")
        assert payture.register("ivan@example.ru", "secret1").success
        init = payture.init("Add", "ivan@example.ru", "secret1", url="https://shop.test/r?result={success}")
        requests.post(first.url + "/__admin/clock/advance", json={"seconds": 120}, timeout=5)
        requests.post(first.url + "/__admin/scenarios/active", json={"name": "zai/unknown-user-404"}, timeout=5)
        saved = zai.generate_token("buyer-3", "card")["token"]
        queued = requests.get(first.url + "/__admin/callbacks", timeout=5).json()["callbacks"]
        assert [d["status"] for d in queued] == ["pending"] * 20  # one `users` webhook per user
    finally:
        first.kill()  # SIGKILL right after the last answer
    second = spawn_server("--store", store)
    try:
        delivered = payemu_receiver.wait_for(20)  # what was pending before the kill goes out now
        assert sorted(r.json()["users"]["id"] for r in delivered) == sorted(f"buyer-{n}" for n in range(20))
        again = _zai(second.url)
        assert again.list_users(limit=50)["meta"]["total"] == 20
        state = requests.get(second.url + "/__admin/state/zai", timeout=5).json()["tenants"]["marketplace-a"]
        assert saved in state["token_auths"]  # keyed by token
        assert requests.get(second.url + "/__admin/clock", timeout=5).json()["offset_seconds"] >= 119
        active = requests.get(second.url + "/__admin/scenarios", timeout=5).json()
        assert re.search(r"zai/unknown-user-404", str(active))
        form = {"SessionId": init["SessionId"], **CARD}
        page = requests.post(second.url + "/vwapi/Add/Submit", data=form, timeout=10)
        assert 'data-success="True"' in page.text  # the session opened before the kill is still there
    finally:
        second.stop()


def test_unreachable_stores_stop_start_up_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from emulator.cli import main

    (tmp_path / "file").write_text("")
    for store, expected in (
        ("redis://127.0.0.1:1/0", "cannot reach Redis"),
        (f"sqlite:///{tmp_path}/file/state.db", "cannot open"),
    ):
        assert main(["serve", "--port", "1", "--store", store]) == 2  # before anything is served
        error = capsys.readouterr().err
        assert expected in error and "Traceback" not in error and len(error.strip().splitlines()) == 1


def test_redis_lost_mid_run_answers_the_providers_server_error_and_recovers(tmp_path: Path) -> None:
    from emulator.testing import free_port, start_redis, stop_process

    port = free_port()
    durable = ("--appendonly", "yes", "--appendfsync", "always", "--dir", str(tmp_path))  # this test's own Redis
    url, redis_process = start_redis(port, *durable)
    server = spawn_server("--store", url)
    try:
        zai = _zai(server.url)
        zai.create_user(**_user(1))  # acknowledged before Redis goes away
        stop_process(redis_process)
        lost = requests.post(server.url + GENERATE, json=token_body(), headers={"transactionId": TX}, timeout=10)
        assert lost.status_code == 500 and lost.json()["code"] == "500"  # Izipay's own platform error
        bearer = {"Authorization": f"Bearer {zai.access_token()}"}
        down = requests.get(server.url + "/users/buyer-1", headers=bearer, timeout=10)
        assert down.status_code == 503 and down.json() == {"message": "Service Unavailable"}  # Zai's own 503
        assert requests.get(server.url + "/__admin/clock", timeout=10).status_code == 503
        url, redis_process = start_redis(port, *durable)  # Redis is back: service resumes by itself
        back = requests.get(server.url + "/users/buyer-1", headers=bearer, timeout=10)
        assert back.status_code == 200 and back.json()["users"]["id"] == "buyer-1"  # and nothing acknowledged was lost
    finally:
        server.stop()
        stop_process(redis_process)
    log = server.output()
    assert "state store unavailable" in log and "Traceback" not in log


def _zai_webhooks_to(url: str, receiver_url: str) -> ZaiClient:
    """Point marketplace-a's webhooks at the receiver and register a secret: every user create sends one."""
    assert requests.put(url + "/__admin/tenants/zai/marketplace-a", json={"callback_url": receiver_url}).ok
    zai = _zai(url)
    zai.create_webhook_secret("s" * 40)
    return zai


def test_each_callback_is_delivered_once_though_every_replica_dispatches(ab: tuple[str, str], payemu_receiver) -> None:
    a, b = ab
    _zai_webhooks_to(a, payemu_receiver.url)
    token = _zai(a).access_token()
    for n in range(12):
        url = (a, b)[n % 2]
        assert (
            requests.post(url + "/users", json=_user(n), headers={"Authorization": f"Bearer {token}"}).status_code
            == 201
        )
    arrived = payemu_receiver.wait_for(12)
    time.sleep(0.3)  # a second copy, if any replica sent one, would arrive by now
    ids = [r.json()["users"]["id"] for r in payemu_receiver.received]
    assert len(ids) == 12 and sorted(ids) == sorted(f"buyer-{n}" for n in range(12)), ids
    assert len(arrived) == 12
    outbox = requests.get(b + "/__admin/callbacks", timeout=5).json()["callbacks"]
    assert len(outbox) == 12 and {d["status"] for d in outbox} == {"delivered"}  # B lists what A queued


def test_a_replica_killed_mid_delivery_leaves_the_callback_to_another(payemu_redis: str, payemu_receiver) -> None:
    settings = {"PAYEMU_CALLBACK_TIMEOUT": "0.5"}  # a claim's lease: 1 s
    store = payemu_redis.rsplit("/", 1)[0] + "/1"  # a database of its own: the module's replicas use /0
    sender = spawn_server("--store", store, env=settings)
    other = None
    try:
        requests.post(sender.url + "/__admin/reset", timeout=5)
        zai = _zai_webhooks_to(sender.url, payemu_receiver.url)
        payemu_receiver.holds = [30.0]  # the first attempt hangs: its sender dies meanwhile
        zai.create_user(**_user(1))
        payemu_receiver.wait_for(1)
        sender.kill()  # SIGKILL while its attempt is under way
        other = spawn_server("--store", store, env=settings)
        payemu_receiver.wait_for(2, timeout=15)  # the other replica takes it once the lease ran out
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            [delivery] = requests.get(other.url + "/__admin/callbacks", timeout=5).json()["callbacks"]
            if delivery["status"] == "delivered":
                break
            time.sleep(0.1)
        assert delivery["status"] == "delivered" and [x["status"] for x in delivery["attempts"]] == [200]
    finally:
        sender.stop()
        if other is not None:
            other.stop()


def test_the_journal_of_either_replica_shows_every_request(ab: tuple[str, str]) -> None:
    a, b = ab
    for url in (a, b, a):
        requests.post(url + GENERATE, json=token_body(), headers={"transactionId": TX}, timeout=5)
    for url in (a, b):
        deadline = time.monotonic() + 2  # the other replica's entries are written behind (20 ms)
        while True:
            entries = requests.get(url + "/__admin/requests?operation=generate_token", timeout=5).json()["requests"]
            if len(entries) >= 3 or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert len(entries) == 3 and len({e["id"] for e in entries}) == 3
    requests.post(b + "/__admin/reset", timeout=5)
    assert requests.get(a + "/__admin/requests", timeout=5).json()["requests"] == []
