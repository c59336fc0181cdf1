"""The pytest plugin (entry point `payemu`): a live emulator per test session and admin helpers.

Fixtures:
  payemu_config   — keyword overrides for create_app (override it in your conftest; default strict);
                    `admin_token` there (or PAYEMU_ADMIN_TOKEN) locks the admin API, and payemu_admin sends it.
  payemu_server   — the live server (`.url`, `.app`, `.runtime`), reset before each test. Under pytest-xdist
                    each worker starts its own. With PAYEMU_URL set, every worker uses that shared server
                    instead and it is never reset as a whole: give each worker its own tenants and move
                    their clocks only (`payemu_admin.advance_clock(s, provider=..., tenant=...)`).
  payemu_admin    — the admin API of that server: clock, scenarios, journal, callbacks, state.
  payemu_receiver — a local HTTP endpoint that records the callbacks it receives (headers, bodies),
                    answers scripted statuses and waits, bounded, for N deliveries.
  payemu_redis    — a real redis-server on a free loopback port, persistence off (its URL); skips when
                    redis-server is not installed.
  payemu_browser  — headless Chromium (selenium + the system's chromium/chromedriver) for hosted pages
                    and the dashboard; skips with the reason when either is missing. When a test using it
                    fails, the page's screenshot and HTML are saved to PAYEMU_ARTIFACTS (default
                    tmp/artifacts under the rootdir) and the failure report names them.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from requests.structures import CaseInsensitiveDict
from werkzeug.serving import BaseWSGIServer, make_server


@dataclass
class PayemuServer:
    """A running emulator on a free loopback port."""

    url: str
    app: Flask
    server: BaseWSGIServer

    @property
    def runtime(self) -> Any:
        return self.app.extensions["payemu"]

    def reset(self) -> None:
        self.runtime.reset()


@dataclass
class SharedServer:
    """An emulator this session did not start (PAYEMU_URL): other workers use it at the same time."""

    url: str
    admin_token: str | None = None  # PAYEMU_ADMIN_TOKEN, when the shared server's admin API is locked

    def reset(self) -> None:
        """Nothing: a shared server is reset per tenant by the test that owns the tenant."""


def start_server(**overrides: Any) -> tuple[PayemuServer, threading.Thread]:
    """Start an emulator on 127.0.0.1 and a free port in a background thread."""
    from emulator import create_app

    app = create_app(**overrides)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access-log line per request is noise here
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="payemu-test-server", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    app.extensions["payemu"].config.external_url = url
    return PayemuServer(url, app, server), thread


def stop_server(live: PayemuServer, thread: threading.Thread) -> None:
    live.runtime.callbacks.close()
    live.server.shutdown()
    live.server.server_close()
    thread.join(timeout=5)


class AdminClient:
    """The /__admin API over HTTP, with assertions that explain themselves.

    `token` is the server's admin token (default: PAYEMU_ADMIN_TOKEN), sent as a bearer token.
    """

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        token = token or os.environ.get("PAYEMU_ADMIN_TOKEN")
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.session.request(method, f"{self.base_url}/__admin{path}", timeout=30, **kwargs)
        if response.status_code != 200:
            raise AssertionError(f"admin {method} {path} answered {response.status_code}: {response.text}")
        return response.json()

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def reset(self, provider: str | None = None, tenant: str | None = None) -> None:
        body = {k: v for k, v in {"provider": provider, "tenant": tenant}.items() if v is not None}
        self._call("POST", "/reset", json=body)

    def clock(self) -> float:
        return self._call("GET", "/clock")["now"]

    def advance_clock(self, seconds: float, *, provider: str | None = None, tenant: str | None = None) -> float:
        """Move the server's clock, or with provider and tenant that tenant's clock only."""
        target = {"provider": provider, "tenant": tenant} if tenant is not None else {}
        return self._call("POST", "/clock/advance", json={"seconds": seconds, **target})["now"]

    def set_clock(self, now: float | str, *, provider: str | None = None, tenant: str | None = None) -> float:
        target = {"provider": provider, "tenant": tenant} if tenant is not None else {}
        return self._call("PUT", "/clock", json={"now": now, **target})["now"]

    def activate(self, name: str, tenant: str | None = None) -> None:
        self._call("PUT", "/scenarios/active", json={"name": name, **({"tenant": tenant} if tenant else {})})

    def deactivate(self, provider: str | None = None, tenant: str | None = None) -> None:
        self._call(
            "DELETE",
            "/scenarios/active",
            params={k: v for k, v in {"provider": provider, "tenant": tenant}.items() if v},
        )

    def requests(self, **filters: Any) -> list[dict[str, Any]]:
        return self._call("GET", "/requests", params=filters)["requests"]

    def count(self, **filters: Any) -> int:
        return self._call("GET", "/requests/count", params=filters)["count"]

    def assert_requested(self, count: int, **filters: Any) -> None:
        """Fail with the journal's contents when the number of matching requests differs."""
        found = self.requests(**filters)
        if len(found) != count:
            seen = [
                f"{e['method']} {e['path']} -> {e['status']} ({e['operation']}, tenant {e['tenant']})"
                for e in self.requests(limit=20)
            ]
            raise AssertionError(f"expected {count} request(s) matching {filters}, found {len(found)}; latest: {seen}")

    def state(self, provider: str, tenant: str | None = None) -> dict[str, Any]:
        return self._call("GET", f"/state/{provider}", params={"tenant": tenant} if tenant else {})["tenants"]

    def callbacks(self, **filters: Any) -> list[dict[str, Any]]:
        return self._call("GET", "/callbacks", params=filters)["callbacks"]

    def flush_callbacks(self) -> int:
        return self._call("POST", "/callbacks/flush")["flushed"]


@dataclass
class Received:
    """One request a receiver got; `headers` look names up in any case, as HTTP does."""

    method: str
    path: str
    headers: CaseInsensitiveDict[str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class CallbackReceiver:
    """A loopback HTTP server that records requests and answers with scripted statuses."""

    url: str
    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in turn; 200 once exhausted
    holds: list[float] = field(default_factory=list)  # seconds to wait before answering, in turn; 0 once exhausted
    arrived: threading.Condition = field(default_factory=threading.Condition)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait (at most `timeout` seconds) until `count` requests have arrived; return them all."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.received) >= count, timeout)
            received = list(self.received)
        if len(received) < count:
            raise AssertionError(f"expected {count} callback(s), got {len(received)}: {received}")
        return received

    def bodies(self) -> list[Any]:
        """Every JSON body received so far, in arrival order."""
        with self.arrived:
            return [r.json() for r in self.received]

    def clear(self) -> None:
        """Forget what arrived and the scripted statuses."""
        with self.arrived:
            self.received.clear()
            self.statuses.clear()
            self.holds.clear()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_receiver() -> CallbackReceiver:
    """Start a callback receiver on 127.0.0.1 and a free port."""
    receiver: CallbackReceiver

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with receiver.arrived:
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                hold = receiver.holds.pop(0) if receiver.holds else 0.0
                receiver.received.append(Received(self.command, self.path, CaseInsensitiveDict(self.headers), body))
                receiver.arrived.notify_all()
            if hold:
                time.sleep(hold)  # a slow receiver: the sender's timeout and the others' service are what is tested
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")

        do_POST = do_PUT = _record

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = CallbackReceiver(f"http://127.0.0.1:{server.server_port}", server)
    # A short poll interval: shutdown() waits for the loop to look, 0.5 s by default.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), name="payemu-receiver", daemon=True)
    thread.start()
    return receiver


@pytest.fixture
def payemu_receiver() -> Iterator[CallbackReceiver]:
    """A callback receiver for one test, stopped afterwards."""
    receiver = start_receiver()
    yield receiver
    receiver.stop()


CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Without these, Chromium keeps calling home, which a closed network refuses many times a second.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ServedProcess:
    """`payemu serve` in a subprocess on a free loopback port (a replica, a restartable server)."""

    url: str
    process: Any

    def kill(self) -> None:
        """SIGKILL: no clean shutdown (what a crash or `kill -9` does)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        stop_process(self.process)

    def output(self) -> str:
        """What the server printed (after it stopped)."""
        return self.process.stdout.read() if self.process.stdout else ""


def spawn_server(*args: str, port: int | None = None, env: dict[str, str] | None = None) -> ServedProcess:
    """Start `payemu serve ARGS` on 127.0.0.1 and wait (up to 20 s) until its health check answers.

    A free port can be taken by another process before the server binds it: then, unless `port` was
    given, it starts again on another one (three tries)."""
    import os
    import subprocess
    import sys
    import time

    for _try in range(3):
        chosen = port or free_port()
        command = [sys.executable, "-m", "emulator", "serve", "--host", "127.0.0.1", "--port", str(chosen), *args]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, **(env or {})}
        )
        url = f"http://127.0.0.1:{chosen}"
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is None:  # ours, not whatever else answers on that port
                try:
                    if requests.get(url + "/__admin/health", timeout=1).status_code == 200:
                        return ServedProcess(url, process)
                except requests.RequestException:
                    pass
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                output = process.stdout.read() if process.stdout else ""
                if "Address already in use" in output and port is None:
                    break  # try another port
                raise RuntimeError(f"payemu serve {' '.join(args)} did not start: {output[-2000:]}")
            time.sleep(0.05)
    raise RuntimeError(f"payemu serve {' '.join(args)}: no free port after three tries")


def start_redis(port: int | None = None, *extra: str, cwd: str | None = None) -> tuple[str, Any]:
    """Start redis-server on 127.0.0.1 (persistence off unless `extra` turns it on); return (URL, process)."""
    import shutil
    import socket
    import subprocess
    import time

    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian package redis-server; .ci/run installs it)")
    port = port or free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *extra]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return f"redis://127.0.0.1:{port}/0", process
        except OSError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError(f"redis-server did not start on port {port}")
        time.sleep(0.02)


def stop_process(process: Any) -> None:
    """Terminate a child process, killing it if it does not exit within 5 s."""
    import subprocess

    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="session")
def payemu_redis() -> Iterator[str]:
    """A redis-server on 127.0.0.1 and a free port for the whole session (no RDB, no AOF): its URL."""
    url, process = start_redis()
    try:
        yield url
    finally:
        stop_process(process)


@pytest.fixture(scope="module")
def payemu_browser() -> Iterator[Any]:
    """A headless Chromium for the module, with a throw-away profile."""
    import shutil
    import tempfile

    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (test extra)")
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        pytest.skip("no chromium/chromedriver on PATH (Debian: apt-get install chromium chromium-driver)")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="payemu-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def artifacts_dir(config: pytest.Config) -> Path:
    """Where failed browser tests leave their screenshots: PAYEMU_ARTIFACTS, else <rootdir>/tmp/artifacts."""
    return Path(os.environ.get("PAYEMU_ARTIFACTS") or config.rootpath / "tmp" / "artifacts")


def save_page(driver: Any, directory: Path, name: str) -> Path:
    """Save the browser's screenshot (`name`.png) and page source (`name`.html); return the screenshot's path."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", name).strip("_")[:150]
    (directory / f"{stem}.html").write_text(driver.page_source, encoding="utf-8")
    screenshot = directory / f"{stem}.png"
    driver.save_screenshot(str(screenshot))
    return screenshot


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    """A failed test that drives `payemu_browser`: keep what the page looked like, and say where."""
    outcome = yield
    report = outcome.get_result()
    driver = getattr(item, "funcargs", {}).get("payemu_browser")
    if driver is None or not report.failed or report.when != "call":
        return
    try:
        saved = save_page(driver, artifacts_dir(item.config), item.nodeid)
    except Exception as exc:  # the browser itself may be what broke
        report.sections.append(("payemu browser", f"no screenshot: {type(exc).__name__}: {exc}"))
        return
    html = saved.with_suffix(".html")
    report.sections.append(("payemu browser", f"screenshot of the failing page: {saved} (its HTML: {html})"))


@pytest.fixture(scope="session")
def payemu_config() -> dict[str, Any]:
    """Overrides for the session's emulator; override this fixture to change them."""
    return {"strict": True, "seed": 1234}


@pytest.fixture(scope="session")
def _payemu_live(payemu_config: dict[str, Any]) -> Iterator[PayemuServer | SharedServer]:
    import os

    shared = os.environ.get("PAYEMU_URL")
    if shared:
        yield SharedServer(shared.rstrip("/"), os.environ.get("PAYEMU_ADMIN_TOKEN") or None)
        return
    live, thread = start_server(**payemu_config)
    yield live
    stop_server(live, thread)


@pytest.fixture
def payemu_server(_payemu_live: PayemuServer | SharedServer) -> PayemuServer | SharedServer:
    """The session's live emulator, reset (state, journal, clock, scenarios) before each test."""
    _payemu_live.reset()
    return _payemu_live


@pytest.fixture
def payemu_admin(payemu_server: PayemuServer | SharedServer) -> AdminClient:
    """Admin helpers for the live emulator (with its admin token, when it has one)."""
    if isinstance(payemu_server, SharedServer):
        return AdminClient(payemu_server.url, payemu_server.admin_token)
    return AdminClient(payemu_server.url, payemu_server.runtime.config.admin_token)
