"""Zai test helpers: sample credentials, token helpers (the shared app comes from tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from emulator.app import create_app

TENANTS_FILE = Path(__file__).resolve().parents[3] / "emulator" / "providers" / "zai" / "tenants.yaml"
TENANTS = {entry["id"]: entry for entry in yaml.safe_load(TENANTS_FILE.read_text())}
A, B, STRICT = "marketplace-a", "marketplace-b", "marketplace-strict"


def credentials(tenant: str = A) -> dict[str, str]:
    entry = TENANTS[tenant]
    return {
        "grant_type": "client_credentials",
        "client_id": entry["client_id"],
        "client_secret": entry["client_secret"],
        "scope": entry["scope"],
    }


def token_for(client: FlaskClient, tenant: str = A) -> str:
    response = client.post("/tokens", data=credentials(tenant))
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.json["access_token"]


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


BUYER = {"user_type": "payin", "email": "buyer@example.com", "first_name": "John", "last_name": "Doe", "country": "USA"}
SELLER = {
    "user_type": "payout",
    "email": "seller@example.com",
    "first_name": "Jane",
    "last_name": "Smith",
    "country": "AUS",
    "dob": "01/01/1990",
    "address_line1": "456 Market St",
    "city": "Sydney",
    "state": "NSW",
    "zip": "2000",
}


@pytest.fixture
def token(client: FlaskClient) -> str:
    return token_for(client, A)


def state_of(runtime: Any, tenant: str = A) -> Any:
    return runtime.store.peek("zai", tenant)


def app_with_callback(tmp_path: Path, url: str, **overrides: Any) -> Flask:
    """An app whose marketplace-a has `callback_url` = `url` (a `--tenants` file in tmp_path)."""
    entries = [dict(entry) for entry in TENANTS.values()]
    entries[0]["callback_url"] = url
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump({"zai": entries}))
    return create_app(**{"strict": True, "seed": 1, "tenants_file": path, **overrides})
