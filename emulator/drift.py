"""`payemu drift`: recorded exchanges checked against the contracts, per provider and operation.

Each exchange's operation is found the way the emulator routes it (the url_map of a `create_app()`
app); its request is decoded by that operation's codec and checked against the request contract when
the upstream accepted it (a request both refuse is agreement), its response against the schema of its
status (`$defs/<status>`). Reported: request fields the contract rejects, response fields of another
type or format, fields a closed schema (`additionalProperties: false`) does not know, required fields
missing, statuses the contract lacks, operations it lacks, and a content type of another family (JSON,
XML, HTML) than the emulator's. Never reported (drift is shape, not values): values the recording
masked or redacted, and value constraints (pattern, format, length, enum, const) on noise fields —
ids, timestamps, tokens, signatures, hashes, URLs.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask import request as flask_request
from werkzeug.exceptions import HTTPException

from emulator.core.codecs import DecodeError
from emulator.recording import is_masked, normalized

_VALUE_KEYWORDS = frozenset(
    {
        "pattern",
        "format",
        "minLength",
        "maxLength",
        "const",
        "enum",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
    }
)
_NOISE_NAMES = frozenset(
    {"id", "uuid", "guid", "sign", "hash", "nonce", "jti", "iat", "exp", "nbf", "etag", "location"}
)
_NOISE_PARTS = (
    "token",
    "signature",
    "secret",
    "date",
    "time",
    "created",
    "updated",
    "expir",
    "url",
    "link",
    "href",
    "millis",
    "duration",
    "elapsed",
)
_ID_SUFFIX = re.compile(r"(_id|Id|ID|-id|_key|Key)$")
_INDEX = re.compile(r"\.\d+(?=\.|$)")


def is_noise_field(name: str) -> bool:
    """Ids, timestamps, tokens, signatures, URLs: their values differ by nature."""
    lowered = normalized(name)
    return lowered in _NOISE_NAMES or bool(_ID_SUFFIX.search(name)) or any(part in lowered for part in _NOISE_PARTS)


def family(content_type: str) -> str:
    media = content_type.split(";")[0].strip().lower()
    if media.endswith("json"):
        return "json"
    if "xml" in media:
        return "xml"
    if media == "text/html":
        return "html"
    return media


@dataclass
class Difference:
    # request | type | format | value | unknown-field | missing-field | unknown-status | content-type | body
    # | unknown-operation
    kind: str
    where: str
    detail: str
    count: int = 1
    first_seq: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "where": self.where,
            "detail": self.detail,
            "count": self.count,
            "first_seq": self.first_seq,
        }


@dataclass
class OperationReport:
    exchanges: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    upstream_errors: int = 0
    differences: dict[tuple[str, str, str], Difference] = field(default_factory=dict)

    def add(self, difference: Difference) -> None:
        key = (difference.kind, difference.where, difference.detail)
        if key in self.differences:
            self.differences[key].count += 1
        else:
            self.differences[key] = difference


@dataclass
class Operation:
    provider: str
    name: str
    codec: Any


def resolve(app: Flask, method: str, path: str) -> Operation | None:
    """The provider operation the emulator would route `method path` to, or None."""
    adapter = app.url_map.bind("payemu.local")
    try:
        endpoint, _args = adapter.match(path, method)
    except HTTPException:
        return None
    view = app.view_functions.get(str(endpoint))
    name = getattr(view, "payemu_operation", None)
    if name is None:
        return None
    provider = app.extensions["payemu"].providers[str(endpoint).split(".", 1)[0]]
    return Operation(provider.name, name, getattr(view, "payemu_codec", None) or provider.codec)


def xml_element(node: ElementTree.Element) -> dict[str, Any]:
    """XML as the `{tag, attrs, children}` data Payture's contracts describe."""
    element: dict[str, Any] = {"tag": node.tag, "attrs": dict(node.attrib)}
    if len(node):
        element["children"] = [xml_element(child) for child in node]
    return element


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    return {float: "number", str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def leaves(errors: Iterable[Any]) -> Iterator[Any]:
    """Every leaf error; of an anyOf/oneOf, the errors of the branch the instance came closest to
    (fewest const/enum mismatches, then fewest errors) — a changed success reply is not reported as a
    failed error reply."""
    for error in errors:
        if error.validator in ("anyOf", "oneOf") and error.context:
            branches: dict[Any, list[Any]] = {}
            for sub in error.context:
                branches.setdefault(sub.relative_schema_path[0], []).append(sub)
            best = min(
                branches.values(),
                key=lambda subs: (sum(s.validator in ("const", "enum") for s in subs), len(subs)),
            )
            yield from leaves(best)
        else:
            yield error


def differences(errors: Iterable[Any], kind_of_request: bool) -> Iterator[Difference]:
    """jsonschema errors as drift, noise left out."""
    for error in leaves(errors):
        parts = [str(p) for p in error.absolute_path]
        where = _INDEX.sub(".[]", ".".join(parts)) or "(whole body)"
        last = next((p for p in reversed(parts) if not p.isdigit()), "")
        keyword = str(error.validator)
        if keyword == "required":
            for name in error.validator_value:
                if isinstance(error.instance, dict) and name not in error.instance:
                    target = f"{where}.{name}" if parts else name
                    yield Difference("request" if kind_of_request else "missing-field", target, "required, missing")
            continue
        if keyword in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, dict):
            known = set((error.schema.get("properties") or {}).keys())
            patterns = [re.compile(p) for p in (error.schema.get("patternProperties") or {})]
            for name in error.instance:
                if name not in known and not any(p.search(name) for p in patterns):
                    target = f"{where}.{name}" if parts else name
                    yield Difference("request" if kind_of_request else "unknown-field", target, "not in the contract")
            continue
        if is_masked(error.instance):
            continue
        if keyword in _VALUE_KEYWORDS and last and is_noise_field(last):
            continue
        if keyword == "type":
            detail = f"{_json_type(error.instance)}, contract: {error.validator_value}"
            yield Difference("request" if kind_of_request else "type", where, detail)
        else:
            kind = "value" if keyword in ("const", "enum") else "format"
            yield Difference("request" if kind_of_request else kind, where, f"{keyword}: {error.message}")


class DriftChecker:
    """Checks exchanges against the contracts of one emulator app."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.runtime = app.extensions["payemu"]
        self.contracts = self.runtime.contracts
        self.report: dict[str, dict[str, OperationReport]] = {}
        self.total = 0

    def _bucket(self, provider: str, operation: str) -> OperationReport:
        return self.report.setdefault(provider, {}).setdefault(operation, OperationReport())

    def check(self, exchange: Mapping[str, Any]) -> None:
        self.total += 1
        req, resp = exchange["request"], exchange["response"]
        seq = int(exchange.get("seq", 0))
        operation = resolve(self.app, req["method"], req["path"])
        if operation is None:
            bucket = self._bucket(exchange.get("provider", "?"), f"{req['method']} {req['path']}")
            bucket.exchanges += 1
            bucket.add(
                Difference(
                    "unknown-operation", f"{req['method']} {req['path']}", "no emulated operation", first_seq=seq
                )
            )
            return
        bucket = self._bucket(operation.provider, operation.name)
        bucket.exchanges += 1
        status = int(resp["status"])
        bucket.statuses[str(status)] = bucket.statuses.get(str(status), 0) + 1
        if exchange.get("error"):
            bucket.upstream_errors += 1
            return
        # A request the contract rejects is drift when the upstream accepted it; rejected by both, they agree.
        found = (self._request(operation, req) if status < 400 else []) + self._response(operation, status, resp)
        for difference in {(d.kind, d.where, d.detail): d for d in found}.values():  # once per exchange
            difference.first_seq = seq
            bucket.add(difference)

    def _request(self, operation: Operation, req: Mapping[str, Any]) -> list[Difference]:
        validator = self.contracts.validator(operation.provider, operation.name)
        if validator is None:
            return []
        wanted = self.contracts.request_locations(operation.provider, operation.name)
        with self.app.test_request_context(
            req["path"],
            method=req["method"],
            query_string=req.get("query") or "",
            headers=dict(req.get("headers") or {}),
            data=(req.get("body") or "").encode("utf-8"),
        ):
            instance: dict[str, Any] = {}
            try:
                body = operation.codec.decode(flask_request)
            except DecodeError as exc:
                return [Difference("request", "body", f"not decodable: {exc.message}")]
            if "body" in wanted:
                instance["body"] = body
            if "headers" in wanted:
                instance["headers"] = {k.lower(): v for k, v in flask_request.headers.items()}  # as Call.header_map
            if "query" in wanted:
                instance["query"] = dict(flask_request.args.items())
        return list(differences(validator.iter_errors(instance), kind_of_request=True))

    def _response(self, operation: Operation, status: int, resp: Mapping[str, Any]) -> list[Difference]:
        provider, name = operation.provider, operation.name
        if status not in self.contracts.response_statuses(provider, name):
            known = ", ".join(str(s) for s in self.contracts.response_statuses(provider, name))
            return [Difference("unknown-status", str(status), f"the contract has {known}")]
        headers = {k.lower(): v for k, v in (resp.get("headers") or {}).items()}
        text = resp.get("body") or ""
        got = family(headers.get("content-type", ""))
        expected = family(operation.codec.encode(None)[1])
        document = self.contracts.documents.get(f"{provider}/{name}.response.json", {})
        html_allowed = "html" in json.dumps(document).lower()
        found: list[Difference] = []
        if text.strip() and got != expected and not (got == "html" and html_allowed):
            found.append(
                Difference("content-type", f"{status} Content-Type", f"{got or 'none'}, the emulator's: {expected}")
            )
        if got not in ("json", "xml") or got != expected:
            return found
        try:
            data = (
                json.loads(text)
                if got == "json"
                else xml_element(ElementTree.fromstring(text))
                if text.strip()
                else None
            )
        except (ValueError, ElementTree.ParseError) as exc:
            return [*found, Difference("body", f"{status} body", f"not valid {got}: {exc}")]
        validator = self.contracts.validator(provider, name, status)
        for difference in differences(validator.iter_errors(data), kind_of_request=False):
            difference.where = f"{status} {difference.where}"
            found.append(difference)
        return found

    # -- the report ----------------------------------------------------------------------------------

    def drift_count(self) -> int:
        return sum(len(op.differences) for ops in self.report.values() for op in ops.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "exchanges": self.total,
            "drift": self.drift_count(),
            "providers": {
                provider: {
                    name: {
                        "exchanges": op.exchanges,
                        "statuses": op.statuses,
                        "upstream_errors": op.upstream_errors,
                        "differences": [d.to_json() for d in op.differences.values()],
                    }
                    for name, op in sorted(ops.items())
                }
                for provider, ops in sorted(self.report.items())
            },
        }

    def text(self) -> str:
        lines = []
        for provider, ops in sorted(self.report.items()):
            lines.append(provider)
            for name, op in sorted(ops.items()):
                lines.append(f"  {name}: {_summary(op)}")
                lines += [f"    {d.kind:<15} {d.where}: {d.detail} (×{d.count})" for d in op.differences.values()]
        verdict = f"{self.drift_count()} difference(s)" if self.drift_count() else "no drift"
        lines.append(f"{self.total} exchange(s), {verdict}")
        return "\n".join(lines)

    def markdown(self) -> str:
        lines = [f"# Contract drift: {self.total} exchange(s), {self.drift_count() or 'no'} difference(s)", ""]
        for provider, ops in sorted(self.report.items()):
            lines += [
                f"## {provider}",
                "",
                "| operation | exchanges | kind | where | detail | count |",
                "|---|---|---|---|---|---|",
            ]
            for name, op in sorted(ops.items()):
                rows = list(op.differences.values())
                if not rows:
                    lines.append(f"| {name} | {_summary(op)} | | | no drift | |")
                for d in rows:
                    lines.append(
                        f"| {name} | {_summary(op)} | {d.kind} | `{d.where}` | {_cell(d.detail)} | {d.count} |"
                    )
            lines.append("")
        return "\n".join(lines)


def _summary(op: OperationReport) -> str:
    statuses = ", ".join(f"{s}×{n}" for s, n in sorted(op.statuses.items()))
    errors = f", {op.upstream_errors} upstream error(s) not checked" if op.upstream_errors else ""
    return f"{op.exchanges} exchange(s) ({statuses}){errors}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
