"""The admin API under /__admin: health, reset, journal, clock, scenarios, state, callbacks, tenants.

Whoever reaches the admin API owns every tenant, so it is guarded before any view runs: browser
requests from another origin are refused (an Origin or Sec-Fetch-Site that is not this server's, and,
without a token, a Host that is not a loopback or configured name: DNS rebinding), and with
`--admin-token` every call needs `Authorization: Bearer <token>`.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import time
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, request

from emulator.core.clock import iso, parse_iso
from emulator.core.codecs import DecodeError, parse_json
from emulator.core.runtime import Runtime
from emulator.core.serialize import dump_state
from emulator.core.store import StoreUnavailable

log = logging.getLogger("payemu")
admin = Blueprint("__admin", __name__, url_prefix="/__admin")
_STARTED = time.monotonic()


class AdminError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@admin.errorhandler(StoreUnavailable)
def _store_unavailable(error: StoreUnavailable) -> Any:
    log.error("admin: state store unavailable: %s", error)
    return jsonify({"error": f"state store unavailable: {error}"}), 503


@admin.errorhandler(AdminError)
def _admin_error(error: AdminError) -> Any:
    return jsonify({"error": error.message}), error.status


@admin.before_request
def _catch_up() -> None:
    """Admin answers what every replica sees: read the store's changes first."""
    _runtime().sync()


def _runtime() -> Runtime:
    return current_app.extensions["payemu"]


LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
SAME_ORIGIN_FETCH = frozenset({"same-origin", "none"})  # Sec-Fetch-Site values of a non-cross-site request


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback IP addresses (what `payemu serve` may bind without a token)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _hostname(netloc: str) -> str:
    return (urlsplit(f"//{netloc}").hostname or "").lower()


def _known_host(hostname: str) -> bool:
    """A Host a DNS-rebinding page cannot forge: an IP literal, localhost, the bind or external name."""
    config = _runtime().config
    if hostname in LOOPBACK_NAMES or hostname == config.host.lower():
        return True
    if config.external_url and hostname == (urlsplit(config.external_url).hostname or "").lower():
        return True
    try:
        ipaddress.ip_address(hostname)
    except ValueError:
        return False
    return True


def cross_origin() -> str | None:
    """Why this request comes from another site's page (None when it does not)."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site.lower() not in SAME_ORIGIN_FETCH:
        return f"Sec-Fetch-Site: {site}"
    origin = request.headers.get("Origin")
    if origin is not None and (origin == "null" or urlsplit(origin).netloc.lower() != request.host.lower()):
        return f"Origin {origin} is not {request.host}"
    config = _runtime().config
    if not config.admin_token and not config.insecure_admin and not _known_host(_hostname(request.host)):
        return f"Host {request.host} is not this server's (set --admin-token to reach it by that name)"
    return None


@admin.before_request
def _guard() -> Any:
    """Refuse cross-origin browser requests, then check the bearer token when one is configured."""
    refused = cross_origin()
    if refused is not None:
        return jsonify({"error": f"cross-origin admin request refused: {refused}"}), 403
    token = _runtime().config.admin_token
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            response = jsonify({"error": "the admin API needs Authorization: Bearer <admin token>"})
            response.headers["WWW-Authenticate"] = 'Bearer realm="payemu-admin"'
            return response, 401
    return None


def _json() -> dict[str, Any]:
    body = request.get_data()
    if not body:
        return {}
    try:  # curl -d sends a form content type: read JSON whatever the header says
        data = parse_json(body)
    except DecodeError as exc:
        raise AdminError(400, f"the body must be a JSON object: {exc.message}") from exc
    if not isinstance(data, dict):
        raise AdminError(400, "the body must be a JSON object")
    return data


def _provider(name: str | None) -> str | None:
    if name is not None and name not in _runtime().providers:
        raise AdminError(404, f"unknown provider {name!r} (known: {sorted(_runtime().providers)})")
    return name


@admin.get("/health")
def health() -> Any:
    from emulator import __version__

    runtime = _runtime()
    return jsonify(
        {
            "status": "ok",
            "version": __version__,
            "providers": sorted(runtime.providers),
            "operations": {p: sorted(ops) for p, ops in sorted(runtime.operations.items())},
            "strict": runtime.config.strict,
            "uptime_seconds": round(time.monotonic() - _STARTED, 3),
            "journal_total": runtime.journal.total,
            "callbacks": runtime.callbacks.counts(),
        }
    )


@admin.post("/reset")
def reset() -> Any:
    data = {**request.args.to_dict(), **_json()}
    provider = _provider(data.get("provider"))
    tenant = data.get("tenant")
    if tenant is not None and provider is None:
        raise AdminError(400, "'tenant' needs 'provider'")
    _runtime().reset(provider, tenant)
    return jsonify({"status": "ok", "reset": {"provider": provider, "tenant": tenant}})


# -- journal ---------------------------------------------------------------------------------------


def _journal_filters() -> dict[str, Any]:
    args = request.args
    limit = args.get("limit")
    if limit is not None and not limit.isdigit():
        raise AdminError(400, "'limit' must be a whole number")
    return {
        "provider": _provider(args.get("provider")),
        "operation": args.get("operation") or args.get("endpoint"),
        "tenant": args.get("tenant"),
        "path": args.get("path"),
        "limit": int(limit) if limit else None,
    }


@admin.get("/requests")
def requests_list() -> Any:
    entries = _runtime().journal.query(**_journal_filters())
    return jsonify(
        {"requests": [e.to_json() for e in entries], "count": len(entries), "total": _runtime().journal.total}
    )


@admin.get("/requests/count")
def requests_count() -> Any:
    filters = _journal_filters()
    filters.pop("limit")
    return jsonify({"count": len(_runtime().journal.query(**filters))})


@admin.delete("/requests")
def requests_clear() -> Any:
    dropped = _runtime().journal.clear(
        provider=_provider(request.args.get("provider")), tenant=request.args.get("tenant")
    )
    return jsonify({"status": "ok", "cleared": dropped})


# -- clock -----------------------------------------------------------------------------------------


def _clock_target() -> tuple[str | None, str | None]:
    """The `provider` and `tenant` of a clock call (both or neither): one tenant's clock, or the server's."""
    data = _json() if request.method != "GET" else dict(request.args)
    provider, tenant = data.get("provider"), data.get("tenant")
    if (provider is None) != (tenant is None):
        raise AdminError(400, "give both 'provider' and 'tenant' (one tenant's clock) or neither (the server's)")
    if provider is not None:
        _provider(str(provider))
        if _runtime().tenants[str(provider)].get(str(tenant)) is None:
            raise AdminError(404, f"{provider} has no tenant {tenant!r}")
        return str(provider), str(tenant)
    return None, None


def _clock_json(provider: str | None = None, tenant: str | None = None) -> dict[str, Any]:
    clock = _runtime().clock
    now = clock.now(provider, tenant)
    body: dict[str, Any] = {"now": now, "iso": iso(now, millis=True), "offset_seconds": round(clock.offset, 3)}
    if tenant is not None:
        body.update(provider=provider, tenant=tenant)
    body["tenants"] = {
        key: {"offset_seconds": round(offset, 3), "iso": iso(clock.now(*key.split("/", 1)), millis=True)}
        for key, offset in clock.tenant_offsets().items()
    }
    return body


@admin.get("/clock")
def clock_get() -> Any:
    return jsonify(_clock_json(*_clock_target()))


@admin.post("/clock/advance")
def clock_advance() -> Any:
    seconds = _json().get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise AdminError(400, "'seconds' must be a number")
    provider, tenant = _clock_target()
    _runtime().clock.advance(float(seconds), provider, tenant)
    return jsonify(_clock_json(provider, tenant))


@admin.route("/clock", methods=["PUT", "POST"])
def clock_set() -> Any:
    data = _json()
    target = data.get("now")
    if isinstance(target, str):
        try:
            target = parse_iso(target)
        except ValueError as exc:
            raise AdminError(400, f"'now' is not an ISO-8601 time: {exc}") from exc
    if isinstance(target, bool) or not isinstance(target, (int, float)):
        raise AdminError(400, "'now' must be Unix seconds or an ISO-8601 string")
    provider, tenant = _clock_target()
    _runtime().clock.set(float(target), provider, tenant)
    return jsonify(_clock_json(provider, tenant))


@admin.post("/clock/reset")
def clock_reset() -> Any:
    _runtime().clock.reset()
    return jsonify(_clock_json())


# -- scenarios -------------------------------------------------------------------------------------


@admin.get("/scenarios")
def scenarios_list() -> Any:
    scenarios = _runtime().scenarios
    active = scenarios.active()
    return jsonify(
        {
            "scenarios": [
                {
                    "name": s.name,
                    "provider": s.provider,
                    "description": s.description,
                    "active": active["servers"].get(s.provider) == s.name,
                }
                for s in (scenarios.book[n] for n in scenarios.names())
            ],
            "active": active,
        }
    )


@admin.get("/scenarios/<path:name>")
def scenario_show(name: str) -> Any:
    if name == "active":
        return jsonify(_runtime().scenarios.active())
    scenario = _runtime().scenarios.book.get(name)
    if scenario is None:
        raise AdminError(404, f"unknown scenario {name!r}")
    return jsonify(scenario.to_json())


@admin.route("/scenarios/active", methods=["PUT", "POST"])
def scenario_activate() -> Any:
    data = _json()
    name = data.get("name")
    scenarios = _runtime().scenarios
    if not isinstance(name, str) or name not in scenarios.book:
        raise AdminError(
            404 if isinstance(name, str) else 400, f"unknown scenario {name!r} (known: {list(scenarios.names())})"
        )
    tenant = data.get("tenant")
    scenarios.activate(name, str(tenant) if tenant is not None else None)
    return jsonify({"status": "ok", "active": scenarios.active()})


@admin.delete("/scenarios/active")
def scenario_deactivate() -> Any:
    data = {**request.args.to_dict(), **_json()}
    _runtime().scenarios.deactivate(_provider(data.get("provider")), data.get("tenant"))
    return jsonify({"status": "ok", "active": _runtime().scenarios.active()})


# -- state, tenants --------------------------------------------------------------------------------


@admin.get("/state/<provider>")
def state_dump(provider: str) -> Any:
    _provider(provider)
    runtime = _runtime()
    wanted = request.args.get("tenant")
    dump = {}
    for tenant in runtime.store.tenants(provider):
        if wanted is None or wanted == tenant:
            state = runtime.store.peek(provider, tenant)
            if state is not None:
                dump[tenant] = dump_state(state)
                dump[tenant]["now"] = iso(runtime.clock.now(provider, tenant), millis=True)  # the tenant's own time
    return jsonify({"provider": provider, "tenants": dump})


@admin.get("/tenants/<provider>")
def tenants_list(provider: str) -> Any:
    _provider(provider)
    directory = _runtime().tenants[provider]
    return jsonify(
        {
            "provider": provider,
            "open_tenants": directory.open_tenants,
            "tenants": [
                {"id": t.id, "admitted": t.admitted, "scenario": t.scenario, "options": dict(t.options)}
                for t in directory
            ],
        }
    )


@admin.route("/tenants/<provider>/<tenant>", methods=["PUT", "PATCH"])
def tenant_update(provider: str, tenant: str) -> Any:
    """Change one tenant's settings (e.g. `{"callback_url": ...}` or `{"options": {...}}`) until reset."""
    _provider(provider)
    changes = _json()
    if "id" in changes:
        raise AdminError(400, "a tenant's id cannot change")
    updated = _runtime().tenants[provider].update(tenant, changes)
    if updated is None:
        raise AdminError(404, f"unknown tenant {tenant!r} of {provider}")
    return jsonify({"id": updated.id, "options": dict(updated.options), "callback_url": updated.get("callback_url")})


@admin.post("/actions/<provider>/<tenant>/<action>")
def run_action(provider: str, tenant: str, action: str) -> Any:
    """Run one of the provider's admin actions for a tenant now (e.g. Zai's send_webhook)."""
    _provider(provider)
    runtime = _runtime()
    handler = runtime.providers[provider].actions.get(action)
    if handler is None:
        known = sorted(runtime.providers[provider].actions)
        raise AdminError(404, f"unknown action {action!r} of {provider} (known: {known})")
    found = runtime.tenants[provider].get(tenant)
    if found is None:
        raise AdminError(404, f"unknown tenant {tenant!r} of {provider}")
    result = runtime.run_action(provider, found, handler, _json())
    return jsonify({"status": "ok", "result": result})


# -- callbacks -------------------------------------------------------------------------------------


@admin.get("/callbacks")
def callbacks_list() -> Any:
    args = request.args
    callbacks = _runtime().callbacks
    items = callbacks.list(_provider(args.get("provider")), args.get("tenant"), args.get("status"))
    due = callbacks.next_attempts()
    return jsonify(
        {
            "callbacks": [{**d.to_json(), "next_attempt_at": due.get(d.id)} for d in items],
            "count": len(items),
            "now": _runtime().clock.now(),
        }
    )


MAX_WAIT_SECONDS = 60.0


def _wait(default: float) -> float:
    """`{"wait": seconds}` (or `?wait=`): how long flush or redeliver waits for attempts (0: not at all)."""
    raw = {**request.args.to_dict(), **_json()}.get("wait", default)
    try:
        wait = float(raw)
    except (TypeError, ValueError):
        raise AdminError(400, "'wait' must be a number of seconds") from None
    if not 0 <= wait <= MAX_WAIT_SECONDS:
        raise AdminError(400, f"'wait' must be between 0 and {MAX_WAIT_SECONDS:g} seconds")
    return wait


@admin.post("/callbacks/flush")
def callbacks_flush() -> Any:
    """Deliver everything pending now; the answer lists what was delivered, failed, or is still pending.

    It waits (up to `wait`, default 10 s) for one attempt of each; served off the event loop
    (emulator/serving.py), so a slow receiver never holds other requests."""
    report = _runtime().callbacks.flush(_wait(10.0))
    return jsonify({"status": "ok", **report})


@admin.post("/callbacks/<delivery_id>/redeliver")
def callbacks_redeliver(delivery_id: str) -> Any:
    """Send one callback again and answer with it after that attempt (or after `wait`, default 10 s)."""
    callbacks = _runtime().callbacks
    if callbacks.get(delivery_id) is None:
        raise AdminError(404, f"unknown callback {delivery_id!r}")
    return jsonify(callbacks.redeliver(delivery_id, _wait(10.0)).to_json())
