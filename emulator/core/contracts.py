"""Contracts: JSON Schema 2020-12 files per operation, loaded at start-up, checked on every call.

Layout: `contracts/<provider>/<operation>.request.json` validates `{"headers", "query", "body"}` of the
decoded call (header names lower-case); `<operation>.response.json` holds one schema per HTTP status
under `$defs` ("200", "400", ...). Shared pieces (`defs.json`, `error.json`) are referenced relatively.

The hot path uses jsonschema-rs (sub-microsecond `is_valid`); only a failing instance is re-validated
with `jsonschema` to list every violation with its path, which is what error envelopes need. Each
validator is compiled on its first use: all 781 at start-up took ~0.1 s and ~24 MB that a server
answering a few operations never needs (measured in-process: create_app and its RSS). `payemu check`
compiles them all, so a broken `$ref` still fails there, naming its file.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs

from emulator.core.errors import ConfigError, ContractMismatch

BASE_URI = "https://payemu.local/contracts/"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
LOCATIONS = ("headers", "query", "body")
# Compiled contracts by their content: an app built again in one process (the suite builds hundreds) reuses
# the validators instead of compiling every status of every operation again. Validators are immutable.
_COMPILED: dict[str, tuple[Any, dict[tuple[str, str], Any], dict[tuple[str, str, int], Any]]] = {}


@dataclass(frozen=True)
class Violation:
    """One way a request breaks its contract, in terms an error envelope can use."""

    location: str  # headers | query | body (| response: a strict-mode reply mismatch, in the journal)
    field: str  # dotted path of the offending (or missing) field; "" for the whole location
    keyword: str  # required, type, minLength, maxLength, pattern, enum, format, decode, ...
    message: str

    def to_json(self) -> dict[str, str]:
        return {"location": self.location, "field": self.field, "keyword": self.keyword, "message": self.message}


@dataclass
class _Compiled:
    name: str  # "izipay/generate_token.request.json" or ".../generate_token.response.json#/$defs/200"
    ref: str
    locations: frozenset[str]
    root: Path
    fast_registry: Any
    _fast: Any = None
    _slow: Any = None

    @property
    def fast(self) -> Any:
        """The jsonschema-rs validator, compiled on first use (two threads racing compile it twice: harmless)."""
        if self._fast is None:
            wrapper = {"$schema": SCHEMA_DIALECT, "$ref": self.ref}
            try:
                self._fast = jsonschema_rs.validator_for(wrapper, registry=self.fast_registry)
            except (jsonschema_rs.ReferencingError, ValueError) as exc:
                raise ConfigError(f"{self.root / self.name.split('#')[0]}: cannot compile: {exc}") from exc
        return self._fast

    def slow(self, registry: Any) -> Any:
        """The jsonschema validator, built on the first failure only (it lists every violation)."""
        if self._slow is None:
            import jsonschema

            wrapper = {"$schema": SCHEMA_DIALECT, "$ref": self.ref}
            self._slow = jsonschema.Draft202012Validator(wrapper, registry=registry)
        return self._slow


def _load_json(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError as exc:  # not JSON, or not UTF-8
        raise ConfigError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a contract must be a JSON object")
    if data.get("$schema") != SCHEMA_DIALECT:
        raise ConfigError(f"{path}: '$schema' must be {SCHEMA_DIALECT!r}")
    if not jsonschema_rs.meta.is_valid(data):  # fast; jsonschema then explains what is wrong
        import jsonschema

        try:
            jsonschema.Draft202012Validator.check_schema(data)
        except jsonschema.SchemaError as exc:
            location = "/".join(str(p) for p in exc.absolute_path) or "/"
            raise ConfigError(f"{path}: not a valid JSON Schema at {location}: {exc.message}") from exc
        raise ConfigError(f"{path}: not a valid JSON Schema")
    return data


class Contracts:
    """Every contract of the registered providers, compiled."""

    def __init__(self, root: Path, providers: list[str]) -> None:
        self.root = root
        self.documents: dict[str, dict[str, Any]] = {}  # "provider/file.json" -> schema
        content = hashlib.sha256()  # of every file's name and bytes: the key of the compiled validators
        for provider in providers:
            folder = root / provider
            if not folder.is_dir():
                raise ConfigError(f"{folder}: no contracts folder for provider {provider!r}")
            for path in sorted(folder.glob("*.json")):
                raw = path.read_bytes()
                content.update(f"{provider}/{path.name}:{len(raw)}:".encode())
                content.update(raw)
                schema = _load_json(path, raw)
                schema["$id"] = BASE_URI + f"{provider}/{path.name}"
                self.documents[f"{provider}/{path.name}"] = schema
        resources = [(doc["$id"], doc) for doc in self.documents.values()]
        self._resources = resources
        self._slow_registry_cache: Any = None
        digest = content.hexdigest()
        if digest in _COMPILED:
            self._fast_registry, self._requests, self._responses = _COMPILED[digest]
            return
        try:
            self._fast_registry = jsonschema_rs.Registry(resources)
        except ValueError as exc:  # a $ref to a file that does not exist
            raise ConfigError(f"{root}: cannot compile the contracts: {exc}") from exc
        self._requests: dict[tuple[str, str], _Compiled] = {}
        self._responses: dict[tuple[str, str, int], _Compiled] = {}
        for key, doc in self.documents.items():
            provider, file_name = key.split("/", 1)
            if file_name.endswith(".request.json"):
                operation = file_name.removesuffix(".request.json")
                locations = frozenset(doc.get("properties", {})) & frozenset(LOCATIONS)
                self._requests[(provider, operation)] = self._compile(key, doc["$id"], locations)
            elif file_name.endswith(".response.json"):
                operation = file_name.removesuffix(".response.json")
                statuses = [s for s in doc.get("$defs", {}) if s.isdigit() and len(s) == 3]
                if not statuses:
                    raise ConfigError(f"{root / key}: a response contract needs $defs keyed by status, e.g. '200'")
                for status in statuses:
                    ref = f"{doc['$id']}#/$defs/{status}"
                    self._responses[(provider, operation, int(status))] = self._compile(
                        f"{key}#/$defs/{status}", ref, frozenset()
                    )
        _COMPILED[digest] = (self._fast_registry, self._requests, self._responses)

    def _compile(self, name: str, ref: str, locations: frozenset[str]) -> _Compiled:
        return _Compiled(name, ref, locations, self.root, self._fast_registry)

    def compile_all(self) -> None:
        """Compile every validator now (`payemu check`): a broken contract fails here, not on its first call."""
        for compiled in [*self._requests.values(), *self._responses.values()]:
            compiled.fast  # noqa: B018  # the property compiles

    @property
    def _slow_registry(self) -> Any:
        if self._slow_registry_cache is None:
            import referencing

            self._slow_registry_cache = referencing.Registry().with_resources(
                (uri, referencing.Resource.from_contents(doc)) for uri, doc in self._resources
            )
        return self._slow_registry_cache

    # -- queries ---------------------------------------------------------------------------------

    def request_operations(self, provider: str) -> set[str]:
        return {op for (p, op) in self._requests if p == provider}

    def response_operations(self, provider: str) -> set[str]:
        return {op for (p, op, _status) in self._responses if p == provider}

    def response_statuses(self, provider: str, operation: str) -> list[int]:
        return sorted(s for (p, op, s) in self._responses if p == provider and op == operation)

    def request_locations(self, provider: str, operation: str) -> frozenset[str]:
        """Which parts of the call (headers, query, body) the request contract looks at."""
        compiled = self._requests.get((provider, operation))
        return compiled.locations if compiled else frozenset()

    def validator(self, provider: str, operation: str, status: int | None = None) -> Any:
        """The listing (jsonschema) validator of a request contract, or of one response status; None
        when there is none (drift reports list every violation, not only the first)."""
        compiled = self._requests.get((provider, operation)) if status is None else None
        if status is not None:
            compiled = self._responses.get((provider, operation, status))
        return compiled.slow(self._slow_registry) if compiled is not None else None

    # -- checks ----------------------------------------------------------------------------------

    def check_request(self, provider: str, operation: str, instance: dict[str, Any]) -> list[Violation]:
        """Return the violations of a decoded call (empty when valid or when there is no contract)."""
        compiled = self._requests.get((provider, operation))
        if compiled is None or compiled.fast.is_valid(instance):
            return []
        return [_violation(error) for error in _ordered(compiled.slow(self._slow_registry).iter_errors(instance))]

    def check_response(self, provider: str, operation: str, status: int, body: Any) -> None:
        """Raise ContractMismatch when a response body breaks the contract of its status."""
        compiled = self._responses.get((provider, operation, status))
        if compiled is None:
            raise ContractMismatch(
                f"contracts/{provider}/{operation}.response.json", f"$defs/{status}", "no contract for this status"
            )
        if compiled.fast.is_valid(body):
            return
        error = next(iter(_ordered(compiled.slow(self._slow_registry).iter_errors(body))))
        raise ContractMismatch(f"contracts/{compiled.name}", _json_path(error.absolute_path), error.message)


def _ordered(errors: Any) -> list[Any]:
    """Flatten `$ref`/combinator errors to their leaves, in document order."""
    leaves: list[Any] = []
    for error in errors:
        if error.context and error.validator in ("anyOf", "oneOf"):
            from jsonschema.exceptions import best_match

            best = best_match(error.context)
            leaves.append(best if best is not None else error)
        else:
            leaves.append(error)
    return sorted(leaves, key=lambda e: (len(e.absolute_path) > 1, [str(p) for p in e.absolute_path]))


def _json_path(parts: Any) -> str:
    return "/" + "/".join(str(p) for p in parts)


def _violation(error: Any) -> Violation:
    path = [str(p) for p in error.absolute_path]
    location = path[0] if path and path[0] in LOCATIONS else "body"
    inner = path[1:] if path and path[0] in LOCATIONS else path
    if error.validator == "required" and isinstance(error.instance, dict):
        missing = [name for name in error.validator_value if name not in error.instance]
        name = missing[0] if missing else ""
        if not path and name in LOCATIONS:  # the whole body (or header set) is absent
            return Violation(name, "", "required", error.message)
        inner = [*inner, name]
    return Violation(location, ".".join(inner), str(error.validator), error.message)
