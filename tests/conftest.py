"""Shared fixtures: a fresh, strict, seeded app per test (the live server comes from emulator.testing)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from emulator import create_app


@pytest.fixture
def app() -> Flask:
    return create_app(strict=True, seed=1)


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def runtime(app: Flask) -> Any:
    return app.extensions["payemu"]
