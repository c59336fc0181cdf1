"""`payemu proxy`: a recording proxy in front of the emulator, routed by payemu's own path ownership.

A request whose path a provider owns (its manifest's `paths`) goes to that provider's `--upstream`
when it has one — method, path, query, headers and body unchanged, `Host` the upstream's, as a real
client would send — and the upstream's answer comes back unchanged; every other request (providers
without an upstream, `/__admin`) is answered by the emulator app in the same process, so one flow can
mix real and emulated providers. A refused connection or a TLS failure answers 502, a time-out 504,
each with a JSON body saying so. With a recorder, every forwarded exchange is recorded (emulator/recording.py).

Served by werkzeug's threaded server, not granian: the granian adapter runs each WSGI call inline on
its one event-loop thread, so one slow upstream would stall every other request; here each forwarded
request waits for its upstream on a thread of its own (a recording proxy is not a throughput path).
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import requests
from flask import Flask
from werkzeug.wsgi import get_input_stream

from emulator.core.clock import Clock, iso, monotonic
from emulator.recording import Recorder, Redactor

log = logging.getLogger("payemu")

# Hop-by-hop headers (RFC 9110 7.6.1) and what the HTTP client recomputes for the new connection.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade", "host"}
)
_WALL = Clock()  # a clock nobody advances: the real time of each recorded exchange
ERROR_HEADER = "X-Payemu-Proxy-Error"
FORWARDED_ENVIRON = "payemu.forwarded"


def parse_upstreams(pairs: Iterable[str], providers: Iterable[str]) -> dict[str, str]:
    """`provider=https://host[/base]` pairs into a map; unknown providers and non-http URLs refused."""
    from emulator.core.errors import ConfigError

    known = set(providers)
    upstreams: dict[str, str] = {}
    for pair in pairs:
        name, sep, url = pair.partition("=")
        if not sep or name not in known:
            raise ConfigError(f"--upstream takes provider=URL with provider one of {sorted(known)}, got {pair!r}")
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"--upstream {name}: {url!r} is not an http(s) URL")
        upstreams[name] = url.rstrip("/")
    return upstreams


def _request_headers(environ: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The client's headers as it sent them (names as WSGI spells them: Title-Case)."""
    headers = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            name = "-".join(part.capitalize() for part in key[5:].split("_"))
            headers.append((name, value))
    if environ.get("CONTENT_TYPE"):
        headers.append(("Content-Type", environ["CONTENT_TYPE"]))
    return headers


def _decoded(body: bytes, encoding: str) -> bytes:
    """The body as the recording keeps it: gzip/deflate undone (the client still gets the bytes as sent)."""
    encoding = encoding.strip().lower()
    try:
        if encoding in ("gzip", "x-gzip"):
            return zlib.decompress(body, 16 + zlib.MAX_WBITS)
        if encoding == "deflate":
            try:
                return zlib.decompress(body)
            except zlib.error:
                return zlib.decompress(body, -zlib.MAX_WBITS)
    except zlib.error:
        return b"<compressed body not decodable>"
    if encoding and encoding != "identity":
        return f"<{encoding}-encoded body not recorded>".encode()
    return body


class RecordingProxy:
    """WSGI middleware: forwards the paths of providers with an upstream, serves the rest from `app`."""

    def __init__(
        self,
        app: Flask,
        upstreams: Mapping[str, str],
        recorder: Recorder | None = None,
        *,
        timeout: float = 30.0,
        verify: bool | str = True,
    ) -> None:
        self.app = app
        self.upstreams = dict(upstreams)
        self.recorder = recorder
        self.redactor = Redactor()
        self.timeout = timeout
        self.verify = verify
        runtime = app.extensions["payemu"]
        self._prefixes = [(prefix, p.name) for p in runtime.providers.values() for prefix in p.paths]
        self._session = requests.Session()
        self._session.headers.clear()  # forward the client's headers only, not requests' defaults
        self._session.trust_env = False  # no proxy or netrc from the environment: the bytes go as sent

    def owner(self, path: str) -> str | None:
        """The provider whose `paths` own `path` (the emulator's own routing rule)."""
        for prefix, name in self._prefixes:
            if path.startswith(prefix):
                return name
        return None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        provider = self.owner(path)
        if provider is None or provider not in self.upstreams or path.startswith("/__admin"):
            return self.app(environ, start_response)
        status, headers, body = self.forward(provider, environ)
        environ[FORWARDED_ENVIRON] = True
        start_response(f"{status} {_reason(status)}", headers)
        return [body]

    def forward(self, provider: str, environ: Mapping[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        """Send the request to the provider's upstream and return its answer (or a 502/504)."""
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace")
        query = environ.get("QUERY_STRING", "")
        body = get_input_stream(environ).read()  # bounded by Content-Length (or the chunked end): never hangs
        sent = [(k, v) for k, v in _request_headers(environ) if k.lower() not in _HOP_BY_HOP | {"content-length"}]
        upstream = self.upstreams[provider]
        url = upstream + path + (f"?{query}" if query else "")
        started_wall, started = _WALL.now(), monotonic()
        error: dict[str, str] | None = None
        try:
            answer = self._session.request(
                method,
                url,
                headers=dict(sent),
                data=body or None,
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
                verify=self.verify,
            )
            raw = answer.raw.read(decode_content=False)
            status = answer.status_code
            headers = [(k, v) for k, v in answer.raw.headers.items() if k.lower() not in _HOP_BY_HOP]
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(raw))))
            answer.close()
        except requests.exceptions.Timeout as exc:
            status, error = 504, {"kind": "timeout", "message": str(exc)}
        except requests.exceptions.SSLError as exc:
            status, error = 502, {"kind": "tls", "message": str(exc)}
        except requests.exceptions.ConnectionError as exc:
            refused = "refused" in str(exc).lower()
            status, error = 502, {"kind": "refused" if refused else "connection", "message": str(exc)}
        except requests.exceptions.RequestException as exc:
            status, error = 502, {"kind": "request", "message": str(exc)}
        if error is not None:
            detail = {"provider": provider, "upstream": upstream, **error}
            raw = json.dumps({"payemu_proxy_error": detail}).encode()
            headers = [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(raw))),
                (ERROR_HEADER, error["kind"]),
            ]
            log.warning("proxy: %s %s -> %s: %s", method, path, upstream, error["kind"])
        duration_ms = round((monotonic() - started) * 1000, 3)
        if self.recorder is not None:
            self.recorder.write(
                self._exchange(
                    provider,
                    upstream,
                    method,
                    path,
                    query,
                    sent,
                    body,
                    status,
                    headers,
                    raw,
                    started_wall,
                    duration_ms,
                    error,
                )
            )
        return status, headers, raw

    def _exchange(
        self,
        provider: str,
        upstream: str,
        method: str,
        path: str,
        query: str,
        sent: list[tuple[str, str]],
        body: bytes,
        status: int,
        headers: list[tuple[str, str]],
        raw: bytes,
        started: float,
        duration_ms: float,
        error: Mapping[str, str] | None,
    ) -> dict[str, Any]:
        redact = self.redactor
        request_type = next((v for k, v in sent if k.lower() == "content-type"), "")
        response_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        encoding = next((v for k, v in headers if k.lower() == "content-encoding"), "")
        exchange: dict[str, Any] = {
            "provider": provider,
            "upstream": upstream,
            "started": iso(started, millis=True),
            "duration_ms": duration_ms,
            "request": {
                "method": method,
                "path": redact.text(path),
                "query": redact.form(query),
                "headers": redact.headers(dict(sent)),
                "body": redact.body(body, request_type),
            },
            "response": {
                "status": status,
                "headers": redact.headers({k: v for k, v in headers if k.lower() != "content-length"}),
                "body": redact.body(_decoded(raw, encoding) if error is None else raw, response_type),
            },
        }
        if error is not None:
            exchange["error"] = {"kind": error["kind"], "message": redact.text(error["message"])}
        return exchange


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def make_proxy_server(proxy: RecordingProxy, host: str, port: int) -> Any:
    """A threaded werkzeug server for the proxy (see the module docstring for why not granian)."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Handler(WSGIRequestHandler):
        def send_response(self, code: int, message: str | None = None) -> None:
            """A forwarded answer keeps the upstream's own Server and Date (http.server adds its own)."""
            if getattr(self, "environ", {}).get(FORWARDED_ENVIRON):
                self.log_request(code)
                self.send_response_only(code, message)
            else:
                super().send_response(code, message)

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    return make_server(host, port, proxy, threaded=True, request_handler=Handler)
