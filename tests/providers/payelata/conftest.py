"""Fixtures of the Payelata tests: a fresh strict app per test and a real loopback callback receiver."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from emulator.app import create_app
from tests.providers.payelata.support import Receiver


@pytest.fixture(scope="session")
def _shared_app() -> Iterator[Flask]:
    app = create_app(strict=True, seed=1)
    yield app
    app.extensions["payemu"].callbacks.close()


@pytest.fixture
def app(_shared_app: Flask) -> Flask:
    """A strict app, fully reset (state, journal, clock, scenarios, callbacks, seed) before each test.

    Building an app compiles every contract (~0.2 s); a reset gives the same isolation at no cost.
    """
    runtime = _shared_app.extensions["payemu"]
    runtime.callbacks.wait_idle(2)
    runtime.reset()
    return _shared_app


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    yield server
    server.stop()


def make_app(**options: Any) -> Flask:
    """An app with server-level provider options (`payelata.NAME`)."""
    return create_app(strict=True, seed=1, options={f"payelata.{k}": v for k, v in options.items()})
