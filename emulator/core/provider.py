"""The provider manifest, the per-call context, and `@operation`: the request pipeline every view runs in.

The pipeline, in order (each step answers in the provider's own format when it fails):
 1. decode       — the provider's codec turns the body into data; bad or oversize bodies are
                   contract violations.
 2. scenario     — chosen from the header or the server's active one, so its options reach the
                   authenticator.
 3. authenticate — the operation's (or the provider's) authenticator names the tenant from the
                   provider's own credentials (`Call.name_tenant`: a tenant-bound scenario applies).
 4. rule         — the scenario's first matching rule may answer now: canned response, named error,
                   fault; it may also advance the clock, change state, slow the response or shape callbacks.
 5. contract     — the request is validated; a violation becomes the provider's validation error and
                   changes no state.
 6. handler      — runs under the tenant's lock, so concurrent calls never lose or duplicate state.
 7. encode       — the codec renders the reply; in strict mode the body is checked against its
                   response contract and a mismatch is a loud 500 naming contract and path.
 8. journal      — one record per call: masked bodies, status, duration, scenario effects.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Request, Response, current_app, has_request_context, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from emulator.core.callbacks import DEFAULT_RETRY_DELAYS
from emulator.core.cards import mask_text
from emulator.core.clock import monotonic, real_sleep
from emulator.core.codecs import BODY_TOO_LARGE, JSON, Codec, DecodeError, request_bytes
from emulator.core.contracts import Violation
from emulator.core.deferred import DELAY_ENVIRON, FAULT_ENVIRON
from emulator.core.errors import ContractMismatch, ProviderError, Reply
from emulator.core.journal import Entry, masked_exchange
from emulator.core.options import as_bool, as_delays
from emulator.core.scenarios import SCENARIO_HEADER, Rule, UnknownScenario
from emulator.core.store import StoreUnavailable
from emulator.core.tenants import Tenant

if TYPE_CHECKING:
    from emulator.core.runtime import Runtime

log = logging.getLogger("payemu")

SCENARIO_ENVIRON = "HTTP_" + SCENARIO_HEADER.upper().replace("-", "_")

Authenticator = Callable[["Call"], Tenant | None]

_SERVING: ContextVar[Request | None] = ContextVar("payemu_request", default=None)


def current_request() -> Request | None:
    """The request an operation is serving (under the direct dispatch or Flask), else Flask's, else None."""
    served = _SERVING.get()
    if served is not None:
        return served
    return request._get_current_object() if has_request_context() else None  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Auth:
    """How some of a provider's operations prove who calls; `payemu openapi` exports it.

    `scheme` is an OpenAPI Security Scheme object, or None where no standard one fits (a signature or
    credentials inside the body); `credentials` says in words where they travel. `operations` names the
    operations it guards (empty: every operation no other Auth names); `optional` adds "no scheme" as an
    alternative (the credentials may come in the body instead).
    """

    scheme: Mapping[str, Any] | None = None
    credentials: str = ""
    operations: tuple[str, ...] = ()
    optional: bool = False


@dataclass(frozen=True)
class Provider:
    """Everything the core knows about one provider; built in `providers/<p>/__init__.py`."""

    name: str
    blueprint: Blueprint
    state_class: Callable[[Tenant], Any]
    authenticate: Authenticator
    errors: Mapping[str, Callable[[], ProviderError]]
    contract_error: Callable[[Call, list[Violation]], ProviderError]
    not_found: Callable[[str], ProviderError]
    method_not_allowed: Callable[[str], ProviderError]
    paths: tuple[str, ...]
    folder: Path  # the provider's package: its role files (tenants.yaml, cards.yaml, pages/) are found here
    codec: Codec = JSON
    options: Mapping[str, Any] = field(default_factory=dict)
    hosts: tuple[str, ...] = ()
    response_headers: Callable[[Call, Reply], Mapping[str, str]] | None = None
    on_clock: Callable[[TenantContext, float], None] | None = None
    actions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)  # admin-triggered: (context, **args)
    unavailable: Callable[[], ProviderError] | None = None  # its 503 when the state store is gone (else its 500)
    description: str = ""
    internal_error: Callable[[], ProviderError] | None = None  # the provider's 500, for a genuine emulator bug
    auth: Mapping[str, Auth] = field(default_factory=dict)  # by scheme name; see Auth
    proxies: tuple[str, ...] = ()  # path prefixes the provider's operations are also served under (browser proxies)

    def server_error(self) -> ProviderError:
        """The error a crash answers with: the provider's own 500 envelope (a plain JSON one if it has none)."""
        if self.internal_error is not None:
            return self.internal_error()
        return ProviderError("internal error", status=500)

    def auth_of(self, operation: str) -> list[tuple[str, Auth]]:
        """The Auth entries guarding `operation`: those naming it, else those naming no operation."""
        named = [(name, a) for name, a in self.auth.items() if operation in a.operations]
        return named or [(name, a) for name, a in self.auth.items() if not a.operations]

    @property
    def tenants_file(self) -> Path:
        return self.folder / "tenants.yaml"

    @property
    def pages_dir(self) -> Path:
        """Hosted-page templates, rendered through the app's Jinja environment as `<provider>/<file>`."""
        return self.folder / "pages"

    def state_actions(self) -> frozenset[str]:
        """Names a scenario's `set_state` may use: the state class's `scenario_*` methods."""
        return frozenset(n.removeprefix("scenario_") for n in dir(self.state_class) if n.startswith("scenario_"))


class TenantContext:
    """One tenant of one provider at one moment: options, fake data, callbacks."""

    def __init__(self, runtime: Runtime, provider: Provider, tenant: Tenant | None, now: float) -> None:
        self.runtime = runtime
        self.provider = provider
        self.tenant = tenant
        self.now = now
        self.state: Any = None
        self.scenario_options: Mapping[str, Any] = {}
        self.callback_effects: dict[str, Any] = {}

    def option(self, name: str) -> Any:
        """Scenario override, then tenant, then server config, then the provider's recorded default."""
        if name in self.scenario_options:
            return self.scenario_options[name]
        if self.tenant is not None and name in self.tenant.options:
            return self.tenant.options[name]
        value = self.runtime.config.options.get(f"{self.provider.name}.{name}")
        return self.provider.options[name] if value is None else value

    def flag(self, name: str) -> bool:
        """A boolean option, read as `option` does; text such as `"false"` or `"on"` counts as it reads."""
        return as_bool(self.option(name))

    def callback_url(self, *overrides: str | None, setting: str = "callback_url") -> str | None:
        """Where this tenant's outbound messages go: the first non-empty override (a URL the message or
        the state carries), then the option `setting` where the provider has one (scenario, tenant,
        server), then the tenant file's field of that name; None when there is nowhere to send."""
        for url in overrides:
            if url:
                return url
        if setting in self.provider.options:
            configured = self.option(setting)
            if configured:
                return str(configured)
        found = self.tenant.get(setting) if self.tenant is not None else None
        return str(found) if found else None

    def callback_retry_delays(self, default: Sequence[float]) -> tuple[float, ...]:
        """Seconds between delivery attempts: the `callback_retry_delays` option where the provider has
        one and it is set (a list or `"1,5,30"`), else `default`; times `callback_retry_scale` if present."""
        options = self.provider.options
        raw = self.option("callback_retry_delays") if "callback_retry_delays" in options else None
        delays = as_delays(raw) if raw is not None else tuple(default)
        if "callback_retry_scale" in options:
            scale = float(self.option("callback_retry_scale"))
            delays = tuple(delay * scale for delay in delays)
        return delays

    @property
    def fake(self) -> Any:
        return self.runtime.fake

    def uuid4(self) -> str:
        """A seeded random UUID (reproducible with --seed)."""
        return self.runtime.uuid4()

    def random_hex(self, digits: int) -> str:
        """Seeded random hex digits (reproducible with --seed), for ids shaped like a provider's."""
        return self.runtime.random_hex(digits)

    def external_url(self, path: str) -> str:
        """An absolute URL on this emulator (hosted pages, redirects), as clients should reach it."""
        base = self.runtime.config.external_url
        if not base:
            served = current_request()
            base = (
                served.host_url
                if served is not None
                else f"http://{self.runtime.config.host}:{self.runtime.config.port}/"
            )
        return base.rstrip("/") + path

    def claim(self, key: str) -> None:
        """Record that this tenant issued `key` (a session or invoice id), for `Call.owner_of`."""
        assert self.tenant is not None, "only a named tenant can claim a key"
        self.runtime.store.claim(self.provider.name, key, self.tenant.id)

    def send_callback(
        self,
        *,
        url: str,
        body: bytes,
        headers: dict[str, str],
        event: str,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        success_codes: tuple[int, ...] = (200,),
    ) -> Any:
        """Queue a signed callback for this tenant, shaped by the matched scenario rule. `retry_delays`
        is the provider's documented schedule; the tenant's retry options adjust it (callback_retry_delays)."""
        return self.runtime.callbacks.send(
            provider=self.provider.name,
            tenant=self.tenant.id if self.tenant else "",
            url=url,
            body=body,
            headers=headers,
            event=event,
            effects=self.callback_effects,
            retry_delays=self.callback_retry_delays(retry_delays),
            success_codes=success_codes,
        )

    def callback_status(self, delivery_id: str) -> str | None:
        """Where a callback `send_callback` queued stands in the outbox (pending, delivered, failed, dropped,
        held), or None once it is forgotten: for providers that report their own delivery jobs."""
        delivery = self.runtime.callbacks.get(delivery_id)
        return delivery.status if delivery is not None else None


class Call(TenantContext):
    """One decoded request on its way through the pipeline; what a view receives."""

    def __init__(
        self,
        runtime: Runtime,
        provider: Provider,
        operation: str,
        path_args: dict[str, Any],
        req: Request | None = None,
    ) -> None:
        super().__init__(runtime, provider, None, runtime.clock.now())
        self.operation = operation
        self.request: Request = req if req is not None else current_request()  # type: ignore[assignment]
        self.validated = False
        self._headers: dict[str, str] | None = None
        self.path_args = path_args
        self.body: Any = None
        self.auth: Any = None  # what the authenticator verified (claims, session, ...), for the view
        self.rule: Rule | None = None
        self.scenario_name: str | None = None
        self.scenario_header: str | None = self.request.environ.get(SCENARIO_ENVIRON)
        self.effects: list[str] = []
        self.violations: tuple[Violation, ...] = ()  # the contract rules the request (or reply) broke

    @property
    def headers(self) -> Any:
        return self.request.headers

    @property
    def header_map(self) -> dict[str, str]:
        """Request headers as a plain dict with lower-case names (what contracts and the journal see)."""
        if self._headers is None:
            self._headers = {name.lower(): value for name, value in self.request.headers.items()}
        return self._headers

    @property
    def query(self) -> Any:
        return self.request.args

    def name_tenant(self, tenant: Tenant) -> None:
        """For authenticators: the credentials name `tenant` (it may still be refused). The scenario
        bound to it now applies, so its options reach the rest of authentication (a rotated secret, a
        stricter token rule, the tenant's error style); the pipeline applies it to the call afterwards."""
        self.tenant = tenant
        self.now = self.runtime.clock.now(self.provider.name, tenant.id)  # the tenant's own clock, if it has one
        if self.scenario_header or not self.runtime.scenarios.may_bind(tenant):
            return
        try:
            self.scenario_options = self.runtime.scenarios.select(self.provider.name, tenant, None).options
        except UnknownScenario:
            return  # a binding to a scenario that is gone: the pipeline reports it

    def owner_of(self, key: str) -> Tenant | None:
        """The tenant that claimed `key` (hosted pages reached by a session id alone), or None."""
        tenant_id = self.runtime.store.owner(self.provider.name, key) if key else None
        return self.runtime.tenants[self.provider.name].get(tenant_id) if tenant_id is not None else None

    def error(self, name: str) -> ProviderError:
        """Build a named error of the provider's catalogue."""
        return self.provider.errors[name]()

    def contract_instance(self) -> dict[str, Any]:
        """The `{headers, query, body}` object the request contract validates."""
        wanted = self.runtime.contracts.request_locations(self.provider.name, self.operation)
        instance: dict[str, Any] = {}
        if "body" in wanted:
            instance["body"] = self.body
        if "headers" in wanted:
            instance["headers"] = self.header_map
        if "query" in wanted:
            instance["query"] = dict(self.request.args.items())
        return instance

    def validate(self) -> None:
        """Raise the provider's validation error if the request breaks its contract (checked once per call)."""
        if self.validated:
            return
        violations = self.runtime.contracts.check_request(self.provider.name, self.operation, self.contract_instance())
        if violations:
            self.violations = tuple(violations)
            raise self.provider.contract_error(self, violations)
        self.validated = True


class DroppedConnection(ConnectionAbortedError):
    """Raised from a response body to make a plain WSGI server drop the connection (fault: reset)."""


def _drop(environ: Mapping[str, Any]) -> Iterator[bytes]:
    """Close the client's socket where the server exposes it (werkzeug, gunicorn), then abort."""
    sock = environ.get("werkzeug.socket") or environ.get("gunicorn.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    raise DroppedConnection("payemu scenario fault: reset")
    yield b""  # pragma: no cover - makes this a generator


@dataclass(slots=True)
class Answer:
    """An operation's HTTP answer, as the journal records it and the server sends it."""

    status: int
    headers: list[tuple[str, str]]
    payload: bytes
    body: Iterable[bytes] | None = None  # sent instead of the payload (a dropped connection on a plain server)

    def response(self) -> Response:
        """The answer as a werkzeug Response (what a Flask view returns)."""
        return Response(self.payload if self.body is None else self.body, status=self.status, headers=self.headers)

    def __call__(self, environ: Mapping[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Send it (WSGI). As is where werkzeug would change nothing, through a werkzeug Response otherwise
        (HEAD, a status without a body, a redirect, a dropped connection). Measured in-process on a
        Token/Generate: ~17 us less than building the Response, ~8 % of the call."""
        plain = self.body is None and self.status >= 200 and self.status not in (204, 304)
        if plain and environ["REQUEST_METHOD"] != "HEAD" and not any(n.lower() in _REWRITTEN for n, _ in self.headers):
            start_response(f"{self.status} {HTTP_STATUS_CODES.get(self.status, 'UNKNOWN')}", self.headers)
            return [self.payload]
        return self.response()(environ, start_response)


_REWRITTEN = ("location", "content-location")  # headers werkzeug rewrites on the way out


def _head(content_type: str, payload: bytes, headers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The response header list: Content-Type and Content-Length first, as werkzeug orders them."""
    return [("Content-Type", content_type), ("Content-Length", str(len(payload)))] + [
        (name, str(value)) for name, value in headers.items()
    ]


def operation(name: str, *, auth: Authenticator | None = None, codec: Codec | None = None) -> Callable:
    """Mark a view as the operation `name` and run it through the pipeline.

    Served by the direct dispatch (core/dispatch.py) below Flask's request context; called by Flask
    (a route reached another way, such as Izipay's browser proxy) it reads Flask's request."""

    def decorate(view: Callable[[Call], Reply]) -> Callable[..., Response]:
        @functools.wraps(view)
        def endpoint(**path_args: Any) -> Response:
            req = request._get_current_object()  # type: ignore[attr-defined]
            answer = run_operation(current_app.extensions["payemu"], req, req.blueprint or "", endpoint, path_args)
            return answer.response()

        endpoint.payemu_operation = name  # type: ignore[attr-defined]
        endpoint.payemu_codec = codec  # type: ignore[attr-defined]  # None: the provider's (openapi.py, drift.py)
        endpoint.payemu_auth = auth  # type: ignore[attr-defined]  # None: the provider's authenticator
        endpoint.payemu_view = view  # type: ignore[attr-defined]
        return endpoint

    return decorate


def run_operation(
    runtime: Runtime, req: Request, provider_name: str, endpoint: Callable[..., Any], path_args: dict[str, Any]
) -> Answer:
    """Run the `@operation` endpoint's view for `req` through the pipeline."""
    provider = runtime.providers[provider_name]
    codec: Codec = endpoint.payemu_codec or provider.codec  # type: ignore[attr-defined]
    authenticate: Authenticator = endpoint.payemu_auth or provider.authenticate  # type: ignore[attr-defined]
    serving = _SERVING.set(req)
    try:
        return _pipeline(
            req, runtime, provider, endpoint.payemu_operation, endpoint.payemu_view, authenticate, codec, path_args
        )  # type: ignore[attr-defined]
    except StoreUnavailable as lost:
        return _unavailable(runtime, provider, lost, codec)
    finally:
        _SERVING.reset(serving)


def _unavailable(runtime: Runtime, provider: Provider, lost: StoreUnavailable, codec: Codec) -> Answer:
    """The state store is out of reach (Redis down): the provider's own server error, one log line;
    nothing was changed, and the next request tries the store again."""
    log.error("%s: state store unavailable: %s", provider.name, lost)
    error = provider.unavailable() if provider.unavailable is not None else provider.server_error()
    reply = error.reply(runtime.clock.now())
    payload, content_type = codec.encode(reply.body) if reply.raw is None else (reply.raw, reply.content_type)
    return Answer(reply.status, _head(content_type or "application/json", payload, reply.headers), payload)


def _pipeline(
    req: Request,
    runtime: Runtime,
    provider: Provider,
    name: str,
    view: Callable[[Call], Reply],
    authenticate: Authenticator,
    codec: Codec,
    path_args: dict[str, Any],
) -> Answer:
    started = monotonic()
    runtime.sync()
    call = Call(runtime, provider, name, path_args, req)
    then: Mapping[str, Any] = {}
    try:
        try:
            call.body = codec.decode(req)
        except DecodeError as exc:
            call.violations = (Violation("body", "", exc.keyword, exc.message),)
            if exc.keyword == "size":
                raise body_too_large(call) from exc
            raise provider.contract_error(call, list(call.violations)) from exc
        header = call.scenario_header
        try:
            # Chosen before authentication too, so a scenario's options reach the authenticator
            # (a rotated secret, a stricter token rule); a tenant binding can only apply after it.
            scenario = runtime.scenarios.select(provider.name, None, header)
            call.scenario_options = scenario.options
            call.tenant = authenticate(call)
            if call.tenant is not None:
                call.now = runtime.clock.now(provider.name, call.tenant.id)
                if not header and runtime.scenarios.may_bind(call.tenant):
                    scenario = runtime.scenarios.select(provider.name, call.tenant, None)
        except UnknownScenario as unknown:
            # An emulator-only header with a typo: answer loudly, in payemu's own words, not the provider's.
            body = {"payemu_error": str(unknown), "known": sorted(runtime.scenarios.names())}
            reply = Reply(400, body, {"X-Payemu-Error": "unknown-scenario"})
            return _finish(runtime, call, reply, then, started, JSON)
        call.scenario_name = scenario.name
        call.scenario_options = scenario.options
        rule = scenario.match(call) if scenario.rules else None
        if rule is not None:
            then = rule.then
            call.rule = rule
            call.effects.append(f"rule {rule.index}")
            if "advance_clock" in then:
                runtime.clock.advance(then["advance_clock"])
                call.now = runtime.clock.now(provider.name, call.tenant.id if call.tenant else None)
            call.callback_effects = dict(then.get("callback") or {})
            early = _scenario_reply(call, then)
            if early is not None:
                return _finish(runtime, call, early, then, started, codec)
        call.validate()
        reply = _handle(runtime, call, view, then)
    except ProviderError as error:
        reply = error.reply(call.now)
    return _finish(runtime, call, reply, then, started, codec)


def body_too_large(call: Call) -> ProviderError:
    """A body over the limit: HTTP 413 in the envelope of the provider's validation error for `size`.

    One answer for every provider (README "Request body limit"); the body was never read past the limit.
    """
    error = call.provider.contract_error(call, [Violation("body", "", "size", BODY_TOO_LARGE)])
    error.status = 413
    error.headers["X-Payemu-Error"] = "body-too-large"  # emulator-level: no provider contract lists a 413
    return error


def _handle(runtime: Runtime, call: Call, view: Callable[[Call], Reply], then: Mapping[str, Any]) -> Reply:
    tenant = call.tenant
    if tenant is None:
        return view(call)
    provider = call.provider
    with runtime.store.open(provider.name, tenant.id) as state:
        call.state = state
        for action, args in (then.get("set_state") or {}).items():
            getattr(state, f"scenario_{action}")(now=call.now, **(args or {}))
            call.effects.append(f"set_state {action}")
        return view(call)


def _scenario_reply(call: Call, then: Mapping[str, Any]) -> Reply | None:
    """A reply that replaces the handler: canned response, named error, or a fault."""
    if "respond" in then:
        spec = then["respond"]
        raw = spec["raw"].encode("utf-8") if "raw" in spec else None
        return Reply(spec["status"], spec.get("body"), dict(spec.get("headers") or {}), raw=raw)
    if "error" in then:
        return call.error(then["error"].removeprefix(f"{call.provider.name}.")).reply(call.now)
    if then.get("fault") == "reset" and not then.get("process"):
        return Reply(200, None, raw=b"")  # never sent: the connection is dropped in _finish
    return None  # empty and malformed garble the handled response in _finish


def _finish(
    runtime: Runtime, call: Call, reply: Reply, then: Mapping[str, Any], started: float, codec: Codec
) -> Answer:
    provider = call.provider
    if reply.raw is not None:
        payload, content_type = reply.raw, reply.content_type or codec.encode(None)[1]
    else:
        if runtime.config.strict and "respond" not in then and not _is_payemu_error(reply):
            try:
                runtime.contracts.check_response(provider.name, call.operation, reply.status, reply.body)
            except ContractMismatch as mismatch:
                log.error("contract violation: %s", mask_text(str(mismatch)))
                call.violations += (Violation("response", mismatch.path, "contract", mismatch.detail),)
                reply = Reply(
                    500,
                    {
                        "payemu_contract_violation": {
                            "contract": mismatch.contract,
                            "path": mismatch.path,
                            "message": mismatch.detail,
                        }
                    },
                )
                reply.headers["X-Payemu-Contract-Violation"] = mismatch.contract
                codec = JSON
        payload, content_type = codec.encode(reply.body)
        if reply.content_type:
            content_type = reply.content_type
    headers = provider.response_headers(call, reply) if provider.response_headers else {}
    if reply.headers:
        headers = {**headers, **reply.headers}
    fault = then.get("fault")
    if fault == "empty":
        payload = b""
    elif fault == "malformed":
        payload = payload[: max(1, len(payload) // 2)] or b"{"
    answer = Answer(reply.status, _head(content_type, payload, headers), payload)
    delay_ms = then.get("delay_ms", 0)
    if fault:
        call.effects.append(f"fault {fault}")
    if delay_ms:
        call.effects.append(f"delay {delay_ms}ms")
    _journal(runtime, call, answer, started)
    if delay_ms:
        if runtime.deferred_effects:
            call.request.environ[DELAY_ENVIRON] = delay_ms
        else:
            real_sleep(delay_ms / 1000.0)
    if fault == "reset":
        if runtime.deferred_effects:
            call.request.environ[FAULT_ENVIRON] = "reset"
        else:
            answer.body = _drop(call.request.environ)
    return answer


def _body_bytes(req: Request) -> bytes:
    try:
        return request_bytes(req)
    except (DecodeError, HTTPException):  # oversize: the body was never read
        return b"<body not read: too large>"


def _is_payemu_error(reply: Reply) -> bool:
    return "X-Payemu-Error" in reply.headers or (isinstance(reply.body, dict) and "payemu_error" in reply.body)


def _journal(runtime: Runtime, call: Call, answer: Answer, started: float) -> None:
    req = call.request
    (path, query, request_body, response_body), (request_headers, response_headers) = masked_exchange(
        (
            req.path.encode("utf-8"),
            req.environ.get("QUERY_STRING", "").encode("latin-1"),
            _body_bytes(req),
            answer.payload,
        ),
        (call.header_map, dict(answer.headers)),
    )
    runtime.journal.record(
        Entry(
            time=call.now,
            provider=call.provider.name,
            operation=call.operation,
            tenant=call.tenant.id if call.tenant else None,
            method=req.method,
            path=path,
            query=query,
            request_headers=request_headers,
            request_body=request_body,
            status=answer.status,
            response_body=response_body,
            duration_ms=round((monotonic() - started) * 1000, 3),
            scenario=call.scenario_name,
            effects=call.effects,
            response_headers=response_headers,
            violations=[violation.to_json() for violation in call.violations],
        )
    )
