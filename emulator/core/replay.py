"""Scripted replay: run a YAML file of steps against an in-process app or a live URL, step by step.

A step is one of:
  request:       {method, path, headers, query, json | form | data}, with `expect` and `save`
  advance_clock: seconds
  scenario:      "<provider>/<stem>" to activate, or null to deactivate (optional `tenant`)
  journal:       {count, provider, operation, tenant} — assert how many journal entries match
  reset:         true (all) or {provider, tenant}
  callbacks:     {flush: true, count, status, provider} — flush the outbox and assert on it
`expect` holds `status`, `headers` (name → condition) and `body` (dotted path → condition, as in
scenario rules: a value, or {regex | in | exists | equals}; a number also picks the n-th entry of an
object, as the state dump keys records by id); `body_contains` lists substrings of the
raw body. `save` stores body values by dotted path, or the first group of `{regex: …}` searched in the
raw body (XML, HTML), for later `${name}` substitution.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

from emulator.core.errors import ConfigError
from emulator.core.scenarios import _MISSING, Condition, FileSchema, read_yaml

ADMIN_PREFIX = "/__admin"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def data(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return _MISSING


Transport = Callable[[str, str, dict[str, str], bytes], Answer]


def _with_admin_token(path: str, headers: dict[str, str], token: str | None) -> dict[str, str]:
    """Add the bearer token to admin calls only: a provider's own Authorization must pass untouched."""
    if token and path.startswith(ADMIN_PREFIX) and "Authorization" not in headers:
        return {**headers, "Authorization": f"Bearer {token}"}
    return headers


def in_process(app: Any) -> Transport:
    """Send requests through the Flask test client of `app` (with its admin token, if it has one)."""
    client = app.test_client()
    token = app.extensions["payemu"].config.admin_token

    def send(method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        headers = _with_admin_token(path, headers, token)
        response = client.open(path, method=method, headers=headers, data=body)
        return Answer(response.status_code, response.headers, response.get_data())

    return send


def over_http(base_url: str, timeout: float = 30.0, admin_token: str | None = None) -> Transport:
    """Send requests to a live emulator at `base_url`; `admin_token` goes with /__admin calls."""
    session = requests.Session()

    def send(method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        headers = _with_admin_token(path, headers, admin_token)
        response = session.request(method, base_url.rstrip("/") + path, headers=headers, data=body, timeout=timeout)
        return Answer(response.status_code, response.headers, response.content)

    return send


@dataclass
class StepResult:
    number: int
    name: str
    passed: bool
    detail: str = ""

    def line(self) -> str:
        verdict = "PASS" if self.passed else "FAIL"
        return f"{verdict} step {self.number}: {self.name}" + (f" — {self.detail}" if self.detail else "")


def load_replay(path: Path, schema_path: Path) -> dict[str, Any]:
    """Read and validate a replay file."""
    if not path.is_file():
        raise ConfigError(f"{path}: no such replay file")
    data = read_yaml(path)
    error = FileSchema(schema_path).first_error(data)
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "top level"
        raise ConfigError(f"{path}: {where}: {error.message}")
    return data


class Replay:
    """Runs one replay document through a transport."""

    def __init__(self, document: Mapping[str, Any], send: Transport) -> None:
        self.document = document
        self.send = send
        self.variables: dict[str, Any] = dict(document.get("variables") or {})

    def run(self, report: Callable[[StepResult], None] = lambda result: None) -> list[StepResult]:
        results = []
        for number, step in enumerate(self.document["steps"], start=1):
            name = step.get("name") or _describe(step)
            try:
                detail = self._step(step)
                result = StepResult(number, name, not detail, detail)
            except Exception as exc:  # a broken connection is a failed step, not a crash
                result = StepResult(number, name, False, f"{type(exc).__name__}: {exc}")
            results.append(result)
            report(result)
        return results

    # -- steps ---------------------------------------------------------------------------------

    def _step(self, step: Mapping[str, Any]) -> str:
        if "request" in step:
            return self._request(step)
        if "advance_clock" in step:
            return self._admin("POST", "/__admin/clock/advance", {"seconds": step["advance_clock"]})
        if "scenario" in step:
            if step["scenario"] is None:
                query = {"tenant": step["tenant"]} if "tenant" in step else {}
                body = {**query, "provider": step.get("provider")} if step.get("provider") else query
                return self._admin("DELETE", "/__admin/scenarios/active", body)
            body = {"name": step["scenario"], **({"tenant": step["tenant"]} if "tenant" in step else {})}
            return self._admin("PUT", "/__admin/scenarios/active", body)
        if "reset" in step:
            return self._admin("POST", "/__admin/reset", step["reset"] if isinstance(step["reset"], dict) else {})
        if "journal" in step:
            spec = dict(step["journal"])
            expected = spec.pop("count")
            answer = self.send("GET", "/__admin/requests/count?" + urlencode(spec), {}, b"")
            if answer.status != 200:
                return f"admin GET /__admin/requests/count answered {answer.status}: {answer.body[:200]!r}"
            count = answer.data().get("count")
            return "" if count == expected else f"journal count {count}, expected {expected} ({spec})"
        if "callbacks" in step:
            return self._callbacks(step["callbacks"])
        return f"unknown step {sorted(step)}"

    def _admin(self, method: str, path: str, body: Mapping[str, Any]) -> str:
        answer = self.send(method, path, {"Content-Type": "application/json"}, json.dumps(body).encode())
        return "" if answer.status == 200 else f"admin {method} {path} answered {answer.status}: {answer.body[:200]!r}"

    def _callbacks(self, spec: Mapping[str, Any]) -> str:
        if spec.get("flush"):
            problem = self._admin("POST", "/__admin/callbacks/flush", {})
            if problem:
                return problem
        query = {k: spec[k] for k in ("provider", "tenant", "status") if k in spec}
        answer = self.send("GET", "/__admin/callbacks?" + urlencode(query), {}, b"")
        if answer.status != 200:
            return f"admin GET /__admin/callbacks answered {answer.status}: {answer.body[:200]!r}"
        count = answer.data().get("count")
        if "count" in spec and count != spec["count"]:
            return f"callbacks: {count}, expected {spec['count']} ({query})"
        return ""

    def _request(self, step: Mapping[str, Any]) -> str:
        spec = self._substitute(step["request"])
        headers = {str(k): str(v) for k, v in (spec.get("headers") or {}).items()}
        body = b""
        if "json" in spec:
            body = json.dumps(spec["json"]).encode()
            headers.setdefault("Content-Type", "application/json")
        elif "form" in spec:
            body = urlencode(spec["form"]).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif "data" in spec:
            body = str(spec["data"]).encode()
        path = spec["path"] + ("?" + urlencode(spec["query"]) if spec.get("query") else "")
        answer = self.send(spec.get("method", "POST").upper(), path, headers, body)
        problems = _check(answer, self._substitute(step.get("expect") or {}))
        data = answer.data()
        for variable, source in (step.get("save") or {}).items():
            value = _saved(answer, data, source)
            if value is _MISSING:
                problems.append(f"cannot save {variable!r}: nothing matches {source!r} in the body")
            else:
                self.variables[variable] = value
        return "; ".join(problems)

    def _substitute(self, value: Any) -> Any:
        if isinstance(value, str):
            whole = _VARIABLE.fullmatch(value)
            if whole:
                return self.variables.get(whole.group(1), value)
            return _VARIABLE.sub(lambda m: str(self.variables.get(m.group(1), m.group(0))), value)
        if isinstance(value, Mapping):
            return {k: self._substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self._substitute(v) for v in value]
        return value


def _path_value(data: Any, dotted: str) -> Any:
    """A value by dotted path; a number picks a list item, or the n-th entry of an object it is not a key of."""
    current = data
    for part in dotted.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, (Mapping, list)) and part.isdigit() and int(part) < len(current):
            current = list(current.values())[int(part)] if isinstance(current, Mapping) else current[int(part)]
        else:
            return _MISSING
    return current


def _saved(answer: Answer, data: Any, source: Any) -> Any:
    """A JSON body value by dotted path, or `{regex: …}`'s first group in the raw body (XML, HTML, forms)."""
    if isinstance(source, Mapping):
        match = re.search(source["regex"], answer.body.decode("utf-8", "replace"))
        if match is None:
            return _MISSING
        return match.group(1) if match.groups() else match.group(0)
    return _path_value(data, source) if data is not _MISSING else _MISSING


def _check(answer: Answer, expect: Mapping[str, Any]) -> list[str]:
    problems = []
    if "status" in expect and answer.status != expect["status"]:
        problems.append(f"status {answer.status}, expected {expect['status']} (body {answer.body[:300]!r})")
    for name, spec in (expect.get("headers") or {}).items():
        value = answer.headers.get(name)
        if not Condition(spec).test(_MISSING if value is None else value):
            problems.append(f"header {name}: {value!r} does not match {spec!r}")
    if expect.get("body"):
        data = answer.data()
        for dotted, spec in expect["body"].items():
            value = _path_value(data, dotted) if data is not _MISSING else _MISSING
            if not Condition(spec).test(value):
                shown = "missing" if value is _MISSING else repr(value)
                problems.append(f"body {dotted}: {shown} does not match {spec!r}")
    text = answer.body.decode("utf-8", "replace")
    for fragment in expect.get("body_contains") or []:
        if fragment not in text:
            problems.append(f"body does not contain {fragment!r}")
    return problems


def _describe(step: Mapping[str, Any]) -> str:
    if "request" in step:
        return f"{step['request'].get('method', 'POST')} {step['request']['path']}"
    return ", ".join(f"{k} {v}" for k, v in step.items())
