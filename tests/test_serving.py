"""`payemu serve` as a user runs it: granian in a subprocess, scenario latency, dropped connections, SIGTERM."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
import requests

from emulator.testing import free_port
from tests.providers.izipay.helpers import GENERATE, MERCHANT, SEARCH, TX, token_body


@pytest.fixture(scope="module")
def served():
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "emulator", "serve", "--port", str(port), "--seed", "7"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            if requests.get(url + "/__admin/health", timeout=1).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"payemu serve did not start: {process.stdout.read() if process.stdout else ''}")
        time.sleep(0.05)
    yield url, process
    if process.poll() is None:
        process.kill()
        process.wait(5)


def _token(url: str) -> str:
    response = requests.post(url + GENERATE, json=token_body(), headers={"transactionId": TX}, timeout=5)
    assert response.status_code == 200
    return response.json()["response"]["token"]


def test_serves_the_izipay_flow(served):
    url, _ = served
    response = requests.post(
        url + SEARCH,
        json={"bin": "545545", "merchantCode": MERCHANT},
        headers={"transactionId": TX, "Authorization": f"Bearer {_token(url)}"},
        timeout=5,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.headers["transactionId"] == TX
    assert "x-payemu-delay-ms" not in {h.lower() for h in response.headers}


def _count(url: str, **filters: str) -> int:
    return requests.get(url + "/__admin/requests/count", params=filters, timeout=5).json()["count"]


def test_scenario_latency_does_not_hold_the_server(served):
    url, _ = served
    finished: list[str] = []

    def slow() -> None:
        requests.post(
            url + GENERATE,
            json=token_body(),
            timeout=10,
            headers={"transactionId": TX, "X-Payemu-Scenario": "izipay/slow-token"},
        )
        finished.append("slow")

    before = _count(url, operation="generate_token")
    thread = threading.Thread(target=slow)
    thread.start()
    deadline = time.monotonic() + 10
    while _count(url, operation="generate_token") == before:  # journalled before its 1.5 s wait begins
        assert time.monotonic() < deadline, "the slow call never reached the emulator"
    for _ in range(20):
        assert requests.get(url + "/__admin/health", timeout=5).status_code == 200
    finished.append("fast")
    thread.join()
    assert finished == ["fast", "slow"]


def test_dropped_connection_is_a_real_one(served):
    url, _ = served
    token = _token(url)
    for _ in range(5):
        # The connection closes under the client: before any byte (ConnectionError) or, when granian
        # has already flushed the head, mid-body (ChunkedEncodingError). Never a complete response.
        with pytest.raises((requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
            requests.post(
                url + SEARCH,
                json={"bin": "545545", "merchantCode": MERCHANT},
                timeout=5,
                headers={
                    "transactionId": TX,
                    "Authorization": f"Bearer {token}",
                    "X-Payemu-Scenario": "izipay/dropped-connection",
                },
            )
    assert requests.get(url + "/__admin/health", timeout=5).status_code == 200


def test_sigterm_stops_cleanly(served):
    url, process = served
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert f"dashboard: {url}/__admin/ui" in process.stdout.read()  # the start-up line names the dashboard


def test_busy_port_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "emulator", "serve", "--port", str(port)], capture_output=True, text=True, timeout=30
        )
    assert result.returncode == 2
    assert f"payemu: cannot listen on 127.0.0.1:{port}" in result.stderr


CYCLE_PROBE = """
import gc, json, sys
from werkzeug.test import EnvironBuilder
from emulator import create_app
from tests.providers.izipay.helpers import GENERATE, TX, token_body

app = create_app()
body = json.dumps(token_body())
headers = {"transactionId": TX, "Content-Type": "application/json"}
statuses = []
start_response = lambda status, headers, exc_info=None: statuses.append(status)


def serve(count):  # a new environ for each request, dropped after it, as the serving adapter does
    for _ in range(count):
        environ = EnvironBuilder(path=GENERATE, method="POST", data=body, headers=headers).get_environ()
        b"".join(app.wsgi_app(environ, start_response))


serve(10)  # first calls compile validators and fill caches: not per-request garbage
gc.collect()
gc.set_debug(gc.DEBUG_SAVEALL)
serve(50)
gc.collect()
print(json.dumps({"statuses": statuses, "garbage": [type(o).__qualname__ for o in gc.garbage]}))
"""


def test_an_operation_leaves_no_cyclic_garbage():
    """A request's objects are all freed by reference counting (core/dispatch.py): a reference cycle per
    request kept the collector's young generation filling, which cost ~15 % of Token/Generate's req/s.
    In a process of its own: the collector would also find the garbage of other tests' threads."""
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    probe = subprocess.run([sys.executable, "-c", CYCLE_PROBE], capture_output=True, text=True, cwd=root, timeout=60)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert found["statuses"] == ["200 OK"] * 60
    assert found["garbage"] == []
