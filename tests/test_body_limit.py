"""Bodies over the limit (issue 11 item 5): refused while read, one answer for every provider.

Every provider answers HTTP 413 in its own validation-error envelope, whether the limit is hit through
a declared Content-Length or a chunked body; the live server never reads past the limit.
"""

from __future__ import annotations

import re
import socket

import pytest

from emulator import create_app
from emulator.serving import EmbeddedServer
from emulator.testing import free_port

LIMIT = 2048


def _operations(app) -> dict[str, str]:
    """One POST operation path per provider (path arguments filled in)."""
    found: dict[str, str] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        provider = rule.endpoint.split(".", 1)[0]
        if getattr(view, "payemu_operation", None) and "POST" in (rule.methods or ()) and provider not in found:
            found[provider] = re.sub(r"<[^>]+>", "x1", rule.rule)
    return found


APP = create_app(max_body_bytes=LIMIT, callbacks=False)
OPERATIONS = _operations(APP)


def test_every_provider_has_an_operation_under_test():
    assert set(OPERATIONS) == set(APP.extensions["payemu"].providers)


@pytest.mark.parametrize("provider", sorted(OPERATIONS))
def test_over_the_limit_is_413_in_the_providers_envelope(provider):
    app = create_app(max_body_bytes=LIMIT, callbacks=False)
    runtime = app.extensions["payemu"]
    client = app.test_client()
    path = OPERATIONS[provider]
    response = client.post(path, data=b"{" + b" " * (LIMIT + 1) + b"}", content_type="application/json")
    assert response.status_code == 413
    expected_type = runtime.providers[provider].codec.encode(None)[1]
    assert response.content_type.split(";")[0] == expected_type.split(";")[0]
    assert response.get_data(), "an empty 413: the provider's envelope is missing"


@pytest.fixture(scope="module")
def live():
    app = create_app(max_body_bytes=LIMIT, callbacks=False)
    server = EmbeddedServer(app, "127.0.0.1", free_port())
    server.start()
    yield server
    server.stop()


def _exchange(port: int, head: bytes, body_chunks: list[bytes]) -> bytes:
    """Send a request head and as much of the body as the server takes; return what it answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
        except OSError:  # the server answered and closed before the whole body was sent: expected
            pass
        answer = b""
        while True:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            answer += data
        return answer


@pytest.mark.parametrize("provider", sorted(OPERATIONS))
def test_live_server_refuses_declared_and_streamed_bodies_before_reading_them(live, provider):
    path = OPERATIONS[provider].encode()
    big = 10 * 1024 * 1024  # declared, never sent: the answer comes before any body byte is read
    declared = _exchange(
        live.port,
        b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(big).encode() + b"\r\n\r\n",
        [],
    )
    assert declared.startswith(b"HTTP/1.1 413"), declared[:200]
    assert b"connection: close" in declared.lower()
    chunk = b" " * 1024
    streamed = _exchange(
        live.port,
        b"POST " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n",
        [b"400\r\n" + chunk + b"\r\n"] * 64,
    )
    assert streamed.startswith(b"HTTP/1.1 413"), streamed[:200]
    content_types = [re.search(rb"(?im)^content-type: (.*)$", answer).group(1) for answer in (declared, streamed)]
    assert content_types[0] == content_types[1]
    assert streamed.split(b"\r\n\r\n", 1)[1], "an empty 413: the provider's envelope is missing"
