"""Serving: granian's Rust HTTP core in front of the Flask app, through an inline RSGI adapter.

Why this shape (measured, see docs/serving.md): granian gives the best throughput and p99 of the
servers we tried, and the app is single-process, stateful and GIL-bound, so one Python thread serving
requests back to back is both fastest and fairest. Running the WSGI app inline on granian's event
loop keeps that speed while letting scenario latency be an `asyncio.sleep`: a slow response no longer
holds the only serving thread. The pipeline leaves the delay (and a dropped-connection fault) in the
WSGI environ, and this adapter enacts them after the app has answered.
"""

from __future__ import annotations

import asyncio
import gc
import io
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import Flask

from emulator.config import Config
from emulator.core.clock import monotonic, real_sleep
from emulator.core.deferred import DELAY_ENVIRON, FAULT_ENVIRON

log = logging.getLogger("payemu")


def _host_port(address: str) -> tuple[str, str]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), port or "0"


ADMIN_PREFIX = "/__admin/"


class RSGIApp:
    """An RSGI application running a WSGI app synchronously on the event-loop thread.

    Admin calls are the exception: they may wait (a callback flush on a slow receiver), so they run
    on a small thread pool and the loop keeps serving every other request meanwhile.
    """

    def __init__(self, wsgi: Callable[..., Any], max_body_bytes: int | None = None) -> None:
        self.wsgi = wsgi
        self.max_body_bytes = max_body_bytes
        self._admin_pool: ThreadPoolExecutor | None = None

    def _admin_threads(self) -> ThreadPoolExecutor:
        if self._admin_pool is None:
            self._admin_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="payemu-admin")
        return self._admin_pool

    def close(self) -> None:
        """Stop the admin threads (calls still running finish on their own)."""
        if self._admin_pool is not None:
            self._admin_pool.shutdown(wait=False, cancel_futures=True)

    async def read_body(self, scope: Any, protocol: Any) -> tuple[bytes, int | None]:
        """Read the body, refusing it once over the limit: a declared Content-Length is checked before any
        byte is read, a chunked body is counted as it streams. Returns (body, length of a refused body)."""
        limit = self.max_body_bytes
        if limit is None:
            return await protocol(), None
        declared = scope.headers.get("content-length")
        if declared and declared.isdigit():
            if int(declared) > limit:
                return b"", int(declared)
            return await protocol(), None  # bounded by the declared length, read in one call
        chunks: list[bytes] = []
        received = 0
        async for chunk in protocol:
            received += len(chunk)
            if received > limit:
                return b"", received
            chunks.append(chunk)
        return b"".join(chunks), None

    def environ(self, scope: Any, body: bytes, refused_length: int | None = None) -> dict[str, Any]:
        """A PEP 3333 environ from an RSGI scope and the read body.

        A refused body arrives as an empty input whose CONTENT_LENGTH is over the limit: the app then
        answers the limit as it would for a declared length (413 in the provider's envelope)."""
        server_name, server_port = _host_port(scope.server)
        client_host, client_port = _host_port(scope.client)
        environ: dict[str, Any] = {
            "REQUEST_METHOD": scope.method,
            "SCRIPT_NAME": "",
            "PATH_INFO": scope.path.encode("utf-8").decode("latin-1"),
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": server_name,
            "SERVER_PORT": server_port,
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            "REMOTE_ADDR": client_host,
            "REMOTE_PORT": client_port,
            "CONTENT_LENGTH": str(len(body) if refused_length is None else refused_length),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": scope.scheme,
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }
        for name, value in scope.headers.items():
            if name == "content-type":
                environ["CONTENT_TYPE"] = value
            elif name not in ("content-length", "transfer-encoding"):  # the body is handed over whole
                key = "HTTP_" + name.upper().replace("-", "_")
                environ[key] = f"{environ[key]},{value}" if key in environ else value
        return environ

    def run_wsgi(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        started: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable:
            started[:] = [status, headers]
            return chunks.append

        chunks: list[bytes] = []
        iterable = self.wsgi(environ, start_response)
        try:
            chunks.extend(iterable)
        finally:
            close = getattr(iterable, "close", None)
            if close is not None:
                close()
        return int(started[0][:3]), started[1], b"".join(chunks)

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        if scope.proto != "http":
            return
        body, refused_length = await self.read_body(scope, protocol)
        environ = self.environ(scope, body, refused_length)
        if scope.path.startswith(ADMIN_PREFIX):
            loop = asyncio.get_running_loop()
            status, headers, payload = await loop.run_in_executor(self._admin_threads(), self.run_wsgi, environ)
        else:
            status, headers, payload = self.run_wsgi(environ)
        if refused_length is not None:  # the rest of the body is still unread: this connection cannot be reused
            headers = [*headers, ("connection", "close")]
        delay_ms = environ.get(DELAY_ENVIRON)
        fault = environ.get(FAULT_ENVIRON)
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000.0)
        if fault == "reset":
            # Promise a body, send one byte of it and end: granian closes the connection, and the client
            # sees it drop with no response (requests: ConnectionError 'Remote end closed connection
            # without response') or, when the head was already flushed, mid-body (ChunkedEncodingError).
            stream = protocol.response_stream(
                status, [("content-length", str(len(payload) + 1)), ("connection", "close")]
            )
            await stream.send_bytes(payload[:1])
            return
        protocol.response_bytes(status, headers, payload)

    def __rsgi_init__(self, loop: Any) -> None:
        """Called by granian when the worker starts."""

    def __rsgi_del__(self, loop: Any) -> None:
        """Called by granian when the worker stops."""


def build_rsgi(app: Flask) -> RSGIApp:
    """Wrap an emulator app for granian; latency and faults are then deferred to the adapter."""
    runtime = app.extensions.get("payemu")
    if runtime is not None:
        runtime.deferred_effects = True
    return RSGIApp(app.wsgi_app, app.config.get("MAX_CONTENT_LENGTH"))


# Connections granian holds at once. Its default (backpressure = backlog = 128) counted idle keep-alive
# and slow-header connections too, so 128 of them made every other client wait for a timeout.
MAX_CONNECTIONS = 4096
IDLE_TIMEOUT = 15.0  # seconds a connection may sit without sending a complete request head, then closed


def granian_server(rsgi: RSGIApp, host: str, port: int, idle_timeout: float = IDLE_TIMEOUT) -> Any:
    """granian's embedded server, the only place payemu touches granian's Python API.

    granian marks embedded mode experimental, so tests/test_serving_granian.py pins down what is used
    here (these constructor options, `on_startup()`, `serve()` and `stop()`): an upgrade that changes
    them fails there. granian's header-read timeout also runs while a keep-alive connection is idle, so
    it closes both idle and slow-header connections.
    """
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings
    from granian.server.embed import Server

    return Server(
        rsgi,
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        log_enabled=False,
        backlog=MAX_CONNECTIONS,
        backpressure=MAX_CONNECTIONS,
        http1_settings=HTTP1Settings(header_read_timeout=int(idle_timeout * 1000)),
    )


def raise_open_file_limit(wanted: int = MAX_CONNECTIONS + 256) -> None:
    """Let the process hold MAX_CONNECTIONS sockets: raise the soft descriptor limit towards the hard one."""
    try:
        import resource
    except ImportError:  # not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


class EmbeddedServer:
    """granian's embedded server on its own event loop: `start()` in a thread, or `run()` in the foreground."""

    def __init__(
        self, app: Flask, host: str = "127.0.0.1", port: int = 8080, *, idle_timeout: float = IDLE_TIMEOUT
    ) -> None:
        self.app = app
        self.host = host
        self.port = port
        raise_open_file_limit()
        self.rsgi = build_rsgi(app)
        self.server = granian_server(self.rsgi, host, port, idle_timeout)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()
        self.server.on_startup(self.ready.set)  # granian calls it once the socket listens

    def run(self) -> None:
        """Serve until stop() or SIGINT/SIGTERM."""
        self.loop = new_event_loop()
        asyncio.set_event_loop(self.loop)
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self.loop.add_signal_handler(signum, self.stop)
        try:
            self.loop.run_until_complete(self.server.serve())
        finally:
            runtime = self.app.extensions.get("payemu")
            if runtime is not None:
                runtime.callbacks.close()
            self.rsgi.close()
            self.loop.close()

    def start(self) -> None:
        """Serve in a background thread; returns once the socket is bound."""
        self._thread = threading.Thread(target=self.run, name="payemu-granian", daemon=True)
        self._thread.start()
        self.ready.wait(10)
        # granian binds the socket before its start-up hooks and listens once its worker runs: wait for that.
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        deadline = monotonic() + 10
        while monotonic() < deadline:
            try:
                socket.create_connection((host, self.port), timeout=1).close()
                return
            except OSError:
                real_sleep(0.01)

    def stop(self) -> None:
        """Ask the server to finish in-flight requests and stop (thread-safe)."""

        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self.server.stop)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(10)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop where it installs (not on Windows), asyncio's otherwise. Measured with
    payemu serve under wrk -t2 -c16 on Token/Generate, five alternating 6 s runs each: 2 400 → 2 870 req/s
    and 490 → 420 µs of server CPU a request (the loop wakes, schedules and writes for every request)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def tune_gc() -> None:
    """Keep the garbage collector off the latency tail: start-up objects are frozen out of it and the
    older generations are collected less often. The young generation keeps its default threshold:
    measured, a larger one (50 000) only made each pause longer (p99 5.5 ms against 3.7-4.9 ms).
    No collection first: over payemu's ~86 000 start-up objects it took ~60 ms of a ~0.6 s cold start
    and found ~670 objects of garbage."""
    gc.freeze()
    gc.set_threshold(700, 50, 100)
    gc.enable()  # `payemu serve` starts with it off


def serve(config: Config) -> None:
    """Run the emulator in the foreground (the `payemu serve` command)."""
    from emulator import create_app
    from emulator.core.admin import is_loopback
    from emulator.core.errors import ConfigError

    if not is_loopback(config.host) and not config.admin_token and not config.insecure_admin:
        raise ConfigError(
            f"refusing to serve on {config.host} without an admin token: anyone who reaches the port could "
            "rewrite every tenant through /__admin; set --admin-token (or PAYEMU_ADMIN_TOKEN), bind 127.0.0.1, "
            "or pass --insecure-admin"
        )
    app = create_app(config)
    try:  # granian would abort with a Rust panic on a busy port: say it plainly instead
        socket.create_server((config.host, config.port)).close()
    except OSError as exc:
        raise ConfigError(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from exc
    tune_gc()
    server = EmbeddedServer(app, config.host, config.port)
    base = f"http://{f'[{config.host}]' if ':' in config.host else config.host}:{config.port}"
    print(f"payemu serving on {base} (dashboard: {base}/__admin/ui, admin API: {base}/__admin/health)", flush=True)
    try:
        server.run()
    finally:
        app.extensions["payemu"].close()  # the journal's last entries written, the store closed
