"""The core's tests run on Toy (tests/core/toy), a provider defined here: no real provider is imported."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from tests.conftest import reset_for_test
from tests.core.toy import toy_app


@pytest.fixture(scope="session")
def _toy_app() -> Iterator[Flask]:
    app = toy_app()
    yield app
    app.extensions["payemu"].callbacks.close()


@pytest.fixture
def app(_toy_app: Flask) -> Flask:
    """The session's Toy app, reset like a fresh one."""
    return reset_for_test(_toy_app)
