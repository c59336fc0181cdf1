"""Fixtures for the Payture tests: a fresh strict app, XML helpers, a live server and a notification receiver."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from werkzeug.serving import make_server

from emulator.app import create_app

ADD, PAY = "DemoMerchantAdd", "DemoMerchantPay"
LOGIN, PASSWORD = "ivan@example.ru", "secret1"
MERCHANT_PASSWORD = "123"
GOOD_CARD = {
    "CardNumber": "4111111111111111",
    "EMonth": "12",
    "EYear": "30",
    "CardHolder": "IVAN IVANOV",
    "SecureCode": "123",
}


def plain(data: dict[str, Any]) -> str:
    """DATA in the C# SDK's plain form, trailing ';' included."""
    return "".join(f"{k}={v};" for k, v in data.items())


def vw(
    client: Any, command: str, data: dict[str, Any] | None = None, *, vwid: str = ADD, method: str = "POST", **top: Any
):
    """Call /vwapi/{command} the way the C# SDK does (form POST) or with a query string (GET)."""
    params: dict[str, Any] = {"VWID": vwid, **top}
    if data is not None:
        params["DATA"] = plain(data)
    if method == "GET":
        return client.get(f"/vwapi/{command}", query_string=params)
    return client.post(f"/vwapi/{command}", data=params)


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def attr(body: str, name: str) -> str:
    match = re.search(rf'\b{name}="([^"]*)"', body)
    assert match, f"no {name} in {body}"
    return match.group(1)


def register(client: Any, login: str = LOGIN, password: str = PASSWORD) -> None:
    response = vw(client, "Register", {"VWUserLgn": login, "VWUserPsw": password, "PhoneNumber": "79265351604"})
    assert text(response) == f'<Register Success="True" VWUserLgn="{login}" />'


def init_add(
    client: Any,
    login: str = LOGIN,
    password: str = PASSWORD,
    url: str = "https://shop.test/r?orderid={orderid}&result={success}",
) -> str:
    response = vw(client, "Init", {"SessionType": "Add", "VWUserLgn": login, "VWUserPsw": password, "Url": url})
    assert attr(text(response), "Success") == "True", text(response)
    return attr(text(response), "SessionId")


def add_card(client: Any, card: dict[str, str] | None = None, login: str = LOGIN, password: str = PASSWORD) -> str:
    """Register a card through the hosted page; return its CardId."""
    session_id = init_add(client, login, password)
    response = client.post("/vwapi/Add/Submit", data={"SessionId": session_id, **(card or GOOD_CARD)})
    assert response.status_code == 200 and 'data-success="True"' in text(response), text(response)
    listing = text(vw(client, "GetList", {"VWUserLgn": login, "VWUserPsw": password}))
    return re.findall(r'CardId="([^"]+)"', listing)[0]


@pytest.fixture(scope="session")
def _shared_app() -> Any:
    return create_app(strict=True, seed=1, callbacks=False)


@pytest.fixture
def app(_shared_app: Any) -> Any:
    """A strict, seeded app with callbacks queued only; built once (contracts compile in ~0.2 s) and fully
    reset before each test (state, journal, clock, scenarios, outbox, admitted tenants, seed)."""
    _shared_app.extensions["payemu"].reset()
    return _shared_app


@pytest.fixture
def state_of(runtime: Any):
    def get(tenant: str = "DemoMerchant") -> Any:
        return runtime.store.peek("payture", tenant)

    return get


def _serve(app: Any) -> Iterator[SimpleNamespace]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}", app=app, runtime=app.extensions["payemu"])
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


@pytest.fixture
def live_server() -> Iterator[SimpleNamespace]:
    """A threaded loopback server on a free port (until the core's payemu_server fixture is on main)."""
    yield from _serve(create_app(strict=True, seed=1, callbacks=False))


@pytest.fixture
def receiver() -> Iterator[SimpleNamespace]:
    """A notification endpoint on a free port that records every POST."""
    received: list[dict[str, Any]] = []
    event = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            received.append(
                {"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length).decode()}
            )
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")
            event.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}/notify", received=received, event=event)
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()
