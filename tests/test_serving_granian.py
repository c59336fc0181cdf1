"""The granian surface `emulator/serving.py` depends on: embedded mode is experimental in granian, so a
change to what payemu uses must fail here, loudly, rather than in a user's `payemu serve`."""

from __future__ import annotations

import inspect

import requests
from flask import Flask

from emulator.serving import EmbeddedServer, RSGIApp, granian_server
from emulator.testing import free_port


def test_the_embedded_server_takes_the_options_payemu_passes():
    from granian.server.embed import Server

    parameters = inspect.signature(Server).parameters
    for name in ("address", "port", "interface", "log_enabled", "backlog", "backpressure", "http1_settings"):
        assert name in parameters, f"granian.server.embed.Server no longer takes {name!r}"
    assert inspect.iscoroutinefunction(Server.serve), "Server.serve() is no longer a coroutine"
    for method in ("on_startup", "stop"):
        assert callable(getattr(Server, method, None)), f"Server.{method}() is gone"
    from granian.http import HTTP1Settings

    assert "header_read_timeout" in inspect.signature(HTTP1Settings).parameters
    assert isinstance(granian_server(RSGIApp(lambda environ, start: []), "127.0.0.1", 0), Server)


def test_the_embedded_server_serves_and_stops_through_its_public_api():
    app = Flask("probe")
    app.get("/")(lambda: "ok")
    port = free_port()
    server = EmbeddedServer(app, "127.0.0.1", port)
    server.start()
    assert server.ready.is_set(), "granian did not call the on_startup hook"
    try:
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).text == "ok"
    finally:
        server.stop()
    assert server._thread is not None and not server._thread.is_alive(), "Server.stop() did not stop granian"
