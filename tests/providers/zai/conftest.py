"""Shared fixtures for the Zai tests: a fresh strict app per test, sample credentials, token helpers."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
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


@pytest.fixture(scope="session")
def _shared_app() -> Flask:
    return create_app(strict=True, seed=1)


@pytest.fixture
def app(_shared_app: Flask) -> Flask:
    """One strict app for the session (building one costs ~0.1 s), fully reset before each test."""
    _shared_app.extensions["payemu"].reset()
    return _shared_app


@pytest.fixture
def token(client: FlaskClient) -> str:
    return token_for(client, A)


def state_of(runtime: Any, tenant: str = A) -> Any:
    return runtime.store.peek("zai", tenant)


class Receiver:
    """A loopback webhook receiver on a free port: records (lower-cased headers, raw body) of every POST."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        received = self.received

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(({k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/zai/webhooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as rec:
        yield rec


def app_with_callback(tmp_path: Path, url: str, **overrides: Any) -> Flask:
    """An app whose marketplace-a has `callback_url` = `url` (a `--tenants` file in tmp_path)."""
    entries = [dict(entry) for entry in TENANTS.values()]
    entries[0]["callback_url"] = url
    path = tmp_path / "tenants.yaml"
    path.write_text(yaml.safe_dump({"zai": entries}))
    return create_app(**{"strict": True, "seed": 1, "tenants_file": path, **overrides})


@pytest.fixture
def webhook_app(tmp_path: Path, receiver: Receiver) -> Flask:
    """An app whose marketplace-a sends its webhooks to the loopback receiver."""
    return app_with_callback(tmp_path, receiver.url)
