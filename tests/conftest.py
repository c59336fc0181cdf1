"""Shared fixtures: one strict, seeded app for the session, reset before each test (the live server
and the callback receiver come from the pytest plugin, emulator.testing).

The session's live server locks its admin API with a token, so every test through `payemu_admin`
(the client suite included) shows that the plugin sends it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from emulator import create_app

LIVE_ADMIN_TOKEN = "suite-admin-token"


@pytest.fixture(scope="session")
def payemu_config() -> dict[str, Any]:
    return {"strict": True, "seed": 1234, "admin_token": LIVE_ADMIN_TOKEN}


def reset_for_test(app: Flask) -> Flask:
    """Give `app` a fresh app's state: deliveries of the last test settle, then state, journal, clock,
    scenarios, outbox, run-time tenant changes and the seed are reset."""
    runtime = app.extensions["payemu"]
    runtime.callbacks.wait_settled(2)
    runtime.reset()
    return app


@pytest.fixture(scope="session")
def _shared_app() -> Iterator[Flask]:
    """Built once: an app compiles every contract at start-up (~0.2 s); a reset isolates as well."""
    app = create_app(strict=True, seed=1)
    yield app
    app.extensions["payemu"].callbacks.close()


@pytest.fixture
def app(_shared_app: Flask) -> Flask:
    """A strict, seeded app with every provider, reset before the test."""
    return reset_for_test(_shared_app)


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def runtime(app: Flask) -> Any:
    return app.extensions["payemu"]


def retry_on_clock(runtime: Any, step: float, limit: int = 100) -> None:
    """Deliver every queued callback, moving the virtual clock `step` seconds between rounds so that
    each retry falls due (retries wait on the virtual clock; nothing here waits them out in real time)."""
    for _ in range(limit):
        assert runtime.callbacks.wait_settled(5), "a callback delivery hangs"
        if not runtime.callbacks.list(status="pending"):
            return
        runtime.clock.advance(step)
    raise AssertionError(f"callbacks still pending after {limit} steps of {step} s")
