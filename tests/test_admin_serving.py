"""Admin calls under the real server: a callback flush waiting on a slow receiver holds nothing else up."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from emulator import create_app
from emulator.serving import EmbeddedServer
from emulator.testing import free_port
from tests.providers.izipay.helpers import GENERATE, TX, token_body


@pytest.fixture
def slow_receiver() -> Iterator[SimpleNamespace]:
    """A callback receiver that holds each request until the test releases it."""
    arrived, release = threading.Event(), threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            arrived.set()
            release.wait(30)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}/hook", arrived=arrived, release=release)
    release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def served() -> Iterator[SimpleNamespace]:
    app = create_app(seed=1)
    server = EmbeddedServer(app, "127.0.0.1", free_port())
    server.start()
    runtime = app.extensions["payemu"]
    runtime.callbacks.timeout = 60  # the held request must not time out on a busy machine
    yield SimpleNamespace(url=f"http://127.0.0.1:{server.port}", runtime=runtime)
    server.stop()


def _queue(runtime: Any, url: str) -> Any:
    """A callback not due for a minute (a scenario's delay): only a flush sends it now."""
    return runtime.callbacks.send(
        provider="izipay", tenant="4007701", url=url, body=b"{}", headers={}, event="e", effects={"delay_ms": 60_000}
    )


def test_flush_waiting_on_a_slow_receiver_does_not_block_serving(served, slow_receiver):
    delivery = _queue(served.runtime, slow_receiver.url)
    flushed: list[Any] = []
    flush = threading.Thread(
        target=lambda: flushed.append(
            requests.post(served.url + "/__admin/callbacks/flush", json={"wait": 30}, timeout=60)
        )
    )
    flush.start()
    assert slow_receiver.arrived.wait(10), "the flush never sent the callback"
    # the flush is now waiting on the receiver: everything else is still served
    assert requests.get(served.url + "/__admin/health", timeout=5).status_code == 200
    assert requests.get(served.url + "/__admin/callbacks", timeout=5).json()["callbacks"][0]["status"] == "pending"
    token = requests.post(served.url + GENERATE, json=token_body(), headers={"transactionId": TX}, timeout=5)
    assert token.status_code == 200
    assert flush.is_alive() and not flushed
    slow_receiver.release.set()
    flush.join(30)
    assert flushed[0].status_code == 200
    assert flushed[0].json() == {"status": "ok", "flushed": 1, "delivered": [delivery.id], "failed": [], "pending": []}


def test_flush_and_redeliver_report_what_is_still_pending(served, slow_receiver):
    delivery = _queue(served.runtime, slow_receiver.url)
    report = requests.post(served.url + "/__admin/callbacks/flush", json={"wait": 0}, timeout=10).json()
    assert report == {"status": "ok", "flushed": 1, "delivered": [], "failed": [], "pending": [delivery.id]}
    assert slow_receiver.arrived.wait(10)
    again = requests.post(served.url + f"/__admin/callbacks/{delivery.id}/redeliver?wait=0", timeout=10)
    assert again.status_code == 200 and again.json()["status"] == "pending"
    slow_receiver.release.set()
    assert served.runtime.callbacks.wait_idle(30)
    assert served.runtime.callbacks.get(delivery.id).status == "delivered"


@pytest.mark.parametrize("wait", ["-1", "61", "soon"])
def test_flush_wait_must_be_a_bounded_number(client, wait):
    response = client.post(f"/__admin/callbacks/flush?wait={wait}")
    assert response.status_code == 400 and "'wait'" in response.get_json()["error"]
