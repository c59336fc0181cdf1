"""The app factory: one Flask app, its Runtime, every registered provider's routes and the admin API."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException

from emulator.config import Config
from emulator.core.admin import admin
from emulator.core.provider import Call, Provider, body_too_large
from emulator.core.runtime import Runtime


def create_app(config: Config | None = None, providers: Sequence[Provider] | None = None, **overrides: Any) -> Flask:
    """Build an isolated emulator app; keyword overrides set Config fields (e.g. strict=True)."""
    from emulator.providers import PROVIDERS

    config = config or Config.from_env(**overrides)
    providers = PROVIDERS if providers is None else providers
    app = Flask("emulator")
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    for provider in providers:
        app.register_blueprint(provider.blueprint)
    app.register_blueprint(admin)
    operations: dict[str, set[str]] = {}
    for endpoint, view in app.view_functions.items():
        name = getattr(view, "payemu_operation", None)
        if name is not None:
            operations.setdefault(endpoint.split(".", 1)[0], set()).add(name)
    runtime = Runtime(config, providers, operations)
    app.extensions["payemu"] = runtime
    app.register_error_handler(HTTPException, _http_error)
    return app


def _owner(runtime: Runtime, path: str) -> Provider | None:
    for provider in runtime.providers.values():
        if any(path.startswith(prefix) for prefix in provider.paths):
            return provider
    return None


def _http_error(error: HTTPException) -> Any:
    """Unknown URLs and wrong methods answer in the format of the provider that owns the path."""
    from flask import current_app

    runtime: Runtime = current_app.extensions["payemu"]
    provider = _owner(runtime, request.path)
    if provider is None or request.path.startswith("/__admin"):
        return Response(
            f'{{"error":"{error.name}","status":{error.code}}}',
            status=error.code or 500,
            content_type="application/json",
        )
    call = Call(runtime, provider, "", {})
    if error.code == 405:
        reply = provider.method_not_allowed(request.method).reply(call.now)
    elif error.code == 413:
        reply = body_too_large(call).reply(call.now)
    else:
        reply = provider.not_found(request.path).reply(call.now)
    payload, content_type = provider.codec.encode(reply.body)
    headers = dict(provider.response_headers(call, reply)) if provider.response_headers else {}
    headers.update(reply.headers)
    response = Response(payload, status=reply.status, headers=headers, content_type=content_type)
    if error.code == 405 and getattr(error, "valid_methods", None):
        response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    return response
