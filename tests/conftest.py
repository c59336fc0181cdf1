"""Shared fixtures: a fresh, strict, seeded app per test (the live server comes from emulator.testing).

The session's live server locks its admin API with a token, so every test through `payemu_admin`
(the client suite included) shows that the plugin sends it.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from emulator import create_app

LIVE_ADMIN_TOKEN = "suite-admin-token"


@pytest.fixture(scope="session")
def payemu_config() -> dict[str, Any]:
    return {"strict": True, "seed": 1234, "admin_token": LIVE_ADMIN_TOKEN}


@pytest.fixture
def app() -> Flask:
    return create_app(strict=True, seed=1)


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def runtime(app: Flask) -> Any:
    return app.extensions["payemu"]
