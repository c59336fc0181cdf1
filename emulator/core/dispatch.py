"""Provider operations served below Flask's request context, on the routes Flask defines.

Flask still defines every route (blueprints, `@bp.route`, `payemu openapi` reads its url_map). An
operation, though, needs none of Flask's per-request machinery: the pipeline hands the view a decoded
`Call`. Measured in-process on Token/Generate, that machinery (request context, URL adapter bound per
request, session, hooks, finalize) was ~70 of ~280 µs CPU (docs/serving.md#where-the-time-goes). So
this WSGI wrapper matches the URL on the app's own url_map and runs an operation's pipeline under an
app context only; every other request (admin, pages that are not operations, unknown URLs, wrong
methods, redirects) and every crash goes through Flask exactly as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Rule

from emulator.core.provider import run_operation

MATCHED = 4096  # URLs whose match is remembered; ids in paths make them many, so the memory starts over


class DirectDispatch:
    """WSGI app: operations run straight through the pipeline, the rest through Flask's `wsgi_app`."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.flask_wsgi = app.wsgi_app
        self.urls = app.url_map.bind("localhost")  # no host or subdomain rules: only path and method match
        self._matched: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}

    def match(self, path: str, method: str) -> tuple[str, dict[str, Any]]:
        """The endpoint and path arguments of a URL, remembered for up to MATCHED URLs at once.

        werkzeug's matcher builds a recursive closure, a reference cycle, on every match. With the
        Request that stored itself in its environ (no longer, below) that was all of a request's cyclic
        garbage: 14 objects, which kept the garbage collector's young generation filling. Both gone,
        five alternating runs of served Token/Generate: 2 647 -> 3 049 req/s (+15 %), 450 -> 398 µs of
        CPU a request, p99 9.9 -> 8.7 ms; token_auths 2 414 -> 2 652 req/s (+10 %, four runs); young
        collections in a 13 s token_auths run 652 -> 155 (docs/serving.md)."""
        key = (path, method)
        found = self._matched.get(key)
        if found is None:
            found = self.urls.match(path, method)  # raises for a 404, 405 or redirect: never remembered
            if len(self._matched) >= MATCHED:
                self._matched.clear()
            self._matched[key] = found
        return found[0], dict(found[1])

    def hooked(self, blueprint: str) -> bool:
        """Whether a request hook applies to `blueprint`'s routes (Flask runs those; this dispatch would not)."""
        app = self.app
        hooks = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
        return any(None in found or blueprint in found for found in (*hooks, app.url_value_preprocessors))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        # populate_request=False: the Request is not stored in its own environ (a reference cycle)
        req = self.app.request_class(environ, populate_request=False)
        req.max_content_length = self.app.config["MAX_CONTENT_LENGTH"]  # else read through current_app
        try:
            endpoint, path_args = self.match(req.path, req.method)
        except HTTPException:  # 404, 405, a trailing-slash redirect: Flask answers in the provider's format
            return self.flask_wsgi(environ, start_response)
        view = self.app.view_functions[endpoint]
        blueprint = endpoint.partition(".")[0]
        if not hasattr(view, "payemu_operation") or self.hooked(blueprint):
            return self.flask_wsgi(environ, start_response)
        try:
            with self.app.app_context():
                answer = run_operation(self.app.extensions["payemu"], req, blueprint, view, path_args)
        except Exception as error:  # a crash: Flask's error handlers answer as for any routed request
            return self.handle_error(environ, error)(environ, start_response)
        return answer(environ, start_response)

    def handle_error(self, environ: dict[str, Any], error: Exception) -> Any:
        with self.app.request_context(environ):
            try:
                result = self.app.handle_user_exception(error)
            except Exception as unhandled:
                result = self.app.handle_exception(unhandled)
            return self.app.make_response(result)


class LazyBuilderRule(Rule):
    """A werkzeug Rule that compiles its two URL builders (what `url_for` runs) on first use.

    werkzeug compiles both, through `ast` and `compile`, for every rule as it is added: ~0.15 s of
    payemu's ~0.9 s cold start for its ~150 routes (profiled), and `url_for` is called by few of them."""

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        attribute = "_build_unknown" if append_unknown else "_build"

        def build_once(rule: Rule, *args: Any, **kwargs: Any) -> tuple[str, str]:
            built = Rule._compile_builder(rule, append_unknown).__get__(rule, None)
            setattr(rule, attribute, built)
            return built(*args, **kwargs)

        return build_once
