"""Fixtures for the Ecommpay tests: a fresh strict app and a real loopback callback receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from .support import Receiver, handler, make_app


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(box))
    box.url = f"http://127.0.0.1:{server.server_address[1]}/ecommpay/callbacks"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def app(receiver: Receiver) -> Iterator[Any]:
    application = make_app(receiver)
    yield application
    application.extensions["payemu"].callbacks.close()


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def runtime(app: Any) -> Any:
    return app.extensions["payemu"]
