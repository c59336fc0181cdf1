"""Fixtures for the Ecommpay tests: a fresh strict app and a real loopback callback receiver."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer
from typing import Any

import pytest

from .support import Receiver, handler, make_app


@pytest.fixture(scope="module")
def _receiver() -> Iterator[Receiver]:
    box = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(box))
    box.url = f"http://127.0.0.1:{server.server_address[1]}/ecommpay/callbacks"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield box
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def _app(_receiver: Receiver) -> Iterator[Any]:
    application = make_app(_receiver)
    yield application
    application.extensions["payemu"].callbacks.close()


@pytest.fixture
def receiver(_receiver: Receiver, _app: Any) -> Receiver:
    """The module's receiver, emptied (after the previous test's deliveries settled)."""
    _app.extensions["payemu"].callbacks.wait_idle()
    with _receiver.lock:
        _receiver.received.clear()
        _receiver.statuses.clear()
    return _receiver


@pytest.fixture
def app(_app: Any, receiver: Receiver) -> Any:
    """The module's app, reset like a fresh one (state, journal, clock, scenarios, outbox, seed)."""
    _app.extensions["payemu"].reset()
    return _app


@pytest.fixture
def fresh_app(receiver: Receiver) -> Iterator[Callable[..., Any]]:
    """Build extra apps with other options; their deliveries settle and stop before the next test."""
    made: list[Any] = []

    def build(target: Receiver | None = receiver, **options: Any) -> Any:
        made.append(make_app(target, **options))
        return made[-1]

    yield build
    for application in made:
        application.extensions["payemu"].callbacks.wait_idle()
        application.extensions["payemu"].callbacks.close()
