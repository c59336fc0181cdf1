"""The app factory: one Flask app, its Runtime, every registered provider's routes and the admin API."""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader
from werkzeug.exceptions import HTTPException, InternalServerError

from emulator.config import Config
from emulator.core.admin import admin
from emulator.core.contracts import Violation
from emulator.core.dashboard import dashboard
from emulator.core.dispatch import DirectDispatch, LazyBuilderRule
from emulator.core.provider import Call, Provider, body_too_large
from emulator.core.runtime import Runtime

log = logging.getLogger("payemu")


def create_app(config: Config | None = None, providers: Sequence[Provider] | None = None, **overrides: Any) -> Flask:
    """Build an isolated emulator app; keyword overrides set Config fields (e.g. strict=True)."""
    config = config or Config.from_env(**overrides)
    if providers is None:
        from emulator.providers import PROVIDERS  # imported only here: an app of given providers needs none

        providers = PROVIDERS
    app = Flask("emulator")
    app.url_rule_class = LazyBuilderRule
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    for provider in providers:
        app.register_blueprint(provider.blueprint)
    # Hosted pages: every provider's `pages/` folder, addressed as `<provider>/<template>` in Flask's
    # own Jinja environment (autoescaped .html), so two providers' templates never shadow each other.
    pages = {p.name: FileSystemLoader(str(p.pages_dir)) for p in providers if p.pages_dir.is_dir()}
    app.jinja_loader = ChoiceLoader([PrefixLoader(pages)])  # type: ignore[assignment]
    app.register_blueprint(admin)
    app.register_blueprint(dashboard)
    operations: dict[str, set[str]] = {}
    for endpoint, view in app.view_functions.items():
        name = getattr(view, "payemu_operation", None)
        if name is not None:
            operations.setdefault(endpoint.split(".", 1)[0], set()).add(name)
    runtime = Runtime(config, providers, operations)
    app.extensions["payemu"] = runtime
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _crash)
    app.wsgi_app = DirectDispatch(app)  # type: ignore[method-assign]  # operations below Flask's request context
    return app


def _owner(runtime: Runtime, path: str) -> Provider | None:
    for provider in runtime.providers.values():
        if any(path.startswith(prefix) for prefix in provider.paths):
            return provider
    return None


def _crash(error: Exception) -> Any:
    """A genuine emulator bug: one log line (no traceback in the log) and a 500, never a 404."""
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno} in {frame.name}" if frame else ""
    log.error("internal error on %s %s: %s: %s%s", request.method, request.path, type(error).__name__, error, where)
    return _http_error(InternalServerError(original_exception=error))


def _http_error(error: HTTPException) -> Any:
    """Unknown URLs, wrong methods, bad requests and crashes answer in the format of the provider that
    owns the path: 404 and 405 as its own, other 4xx as its validation error, 5xx as its server error."""
    from flask import current_app

    runtime: Runtime = current_app.extensions["payemu"]
    provider = _owner(runtime, request.path)
    status = error.code or 500
    if provider is None or request.path.startswith("/__admin"):
        return Response(
            json.dumps({"error": error.name, "status": status}), status=status, content_type="application/json"
        )
    call = Call(runtime, provider, "", {})
    if status == 404:
        reply = provider.not_found(request.path).reply(call.now)
    elif status == 405:
        reply = provider.method_not_allowed(request.method).reply(call.now)
    elif status == 413:
        reply = body_too_large(call).reply(call.now)
    elif status < 500:
        violation = Violation("body", "", "decode", error.description or error.name)
        reply = provider.contract_error(call, [violation]).reply(call.now)
    else:
        reply = provider.server_error().reply(call.now)
    payload, content_type = provider.codec.encode(reply.body)
    headers = dict(provider.response_headers(call, reply)) if provider.response_headers else {}
    headers.update(reply.headers)
    response = Response(payload, status=reply.status, headers=headers, content_type=content_type)
    if error.code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    return response
