"""Idle and slow clients cannot starve others (issue 11 item 6): the embedded granian server, in-process.

Bounded: 500 idle keep-alive connections and 200 clients that never finish their request head, on
loopback; a normal request must still answer within 50 ms, and idle connections are closed.
"""

from __future__ import annotations

import socket
import statistics
import time

import pytest
from flask import Flask

from emulator.serving import EmbeddedServer, raise_open_file_limit
from emulator.testing import free_port

IDLE, SLOW = 500, 200
REQUEST = b"GET / HTTP/1.1\r\nHost: payemu\r\n\r\n"


@pytest.fixture
def server():
    raise_open_file_limit(4 * (IDLE + SLOW) + 256)  # both ends of every connection live in this process
    app = Flask("probe")
    app.get("/")(lambda: "ok")
    embedded = EmbeddedServer(app, "127.0.0.1", free_port(), idle_timeout=5.0)
    embedded.start()
    yield embedded
    embedded.stop()


def _ask(port: int, sock: socket.socket | None = None) -> bytes:
    sock = sock or socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(REQUEST)
    answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 200"), answer
    return answer


def test_idle_and_slow_clients_leave_normal_requests_fast_and_idle_ones_are_closed(server):
    idle: list[socket.socket] = []
    slow: list[socket.socket] = []
    try:
        for _ in range(SLOW):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=2)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: pay")  # a request head that never completes
            slow.append(sock)
        for _ in range(IDLE):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=2)
            _ask(server.port, sock)  # answered while the slow ones wait, then left open and idle
            idle.append(sock)
        latencies = []
        for _ in range(5):
            started = time.perf_counter()
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
                _ask(server.port, sock)
            latencies.append(time.perf_counter() - started)
        assert statistics.median(latencies) < 0.050, latencies
        for sock in (idle[-1], slow[-1]):  # closed by the server once the idle timeout has passed
            sock.settimeout(10)
            assert sock.recv(16) == b""
    finally:
        for sock in idle + slow:
            sock.close()
