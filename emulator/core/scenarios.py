"""Scenarios: YAML rule lists that overlay the real model with failures, latency and state changes.

A rule is `when` (operation, method, path, tenant, headers, query, body fields by dotted path, and
call counts `nth` / `times` / `after`) and `then` (respond, error, fault, delay_ms, advance_clock,
set_state, callback). Rules are tried in order; the first whose conditions and count match acts;
unmatched calls behave normally. See docs/scenarios.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema_rs
import yaml

from emulator.core.errors import ConfigError

SCENARIO_HEADER = "X-Payemu-Scenario"
DEFAULT = "default"
_MISSING = object()


class UnknownScenario(LookupError):
    """A scenario name that no file defines."""


@dataclass(frozen=True)
class Catalog:
    """The names a provider's scenarios may use, checked when files load."""

    operations: frozenset[str]
    errors: frozenset[str]
    options: frozenset[str]
    state_actions: frozenset[str]


def _lookup(data: Any, dotted: str) -> Any:
    current = data
    for part in dotted.split("."):
        if isinstance(current, Mapping):
            current = current.get(part, _MISSING)
        elif isinstance(current, list) and part.isdigit() and int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
        if current is _MISSING:
            return _MISSING
    return current


class Condition:
    """A value test: equality (with string fallback), `regex`, `in`, `exists`."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.regex = re.compile(spec["regex"]) if isinstance(spec, Mapping) and "regex" in spec else None

    def test(self, value: Any) -> bool:
        spec = self.spec
        if isinstance(spec, Mapping):
            if "exists" in spec and (value is not _MISSING) != spec["exists"]:
                return False
            if value is _MISSING:
                return "exists" in spec and not spec["exists"]
            if self.regex is not None and not self.regex.search(str(value)):
                return False
            if "in" in spec and not any(_equal(value, option) for option in spec["in"]):
                return False
            return not ("equals" in spec and not _equal(value, spec["equals"]))
        return value is not _MISSING and _equal(value, spec)


def _equal(value: Any, expected: Any) -> bool:
    if value == expected:
        return True
    return not isinstance(value, (dict, list)) and str(value) == str(expected)


@dataclass
class Rule:
    """One `when` → `then` pair (its call counter lives in the store: `rule:<scenario>:<index>`)."""

    index: int
    when: Mapping[str, Any]
    then: Mapping[str, Any]
    operations: frozenset[str] | None = None
    tenants: frozenset[str] | None = None
    method: str | None = None
    path: re.Pattern[str] | None = None
    headers: dict[str, Condition] = field(default_factory=dict)
    query: dict[str, Condition] = field(default_factory=dict)
    body: dict[str, Condition] = field(default_factory=dict)

    def __post_init__(self) -> None:
        when = self.when
        if "operation" in when:
            self.operations = frozenset(_as_list(when["operation"]))
        if "tenant" in when:
            self.tenants = frozenset(str(t) for t in _as_list(when["tenant"]))
        self.method = when["method"].upper() if "method" in when else None
        self.path = re.compile(when["path"]) if "path" in when else None
        self.headers = {k: Condition(v) for k, v in (when.get("headers") or {}).items()}
        self.query = {k: Condition(v) for k, v in (when.get("query") or {}).items()}
        self.body = {k: Condition(v) for k, v in (when.get("body") or {}).items()}

    def conditions_hold(self, call: Any) -> bool:
        if self.operations is not None and call.operation not in self.operations:
            return False
        if self.tenants is not None and (call.tenant is None or call.tenant.id not in self.tenants):
            return False
        request = call.request
        if self.method is not None and request.method != self.method:
            return False
        if self.path is not None and not self.path.search(request.path):
            return False
        for name, condition in self.headers.items():
            if not condition.test(request.headers.get(name, _MISSING)):
                return False
        for name, condition in self.query.items():
            if not condition.test(request.args.get(name, _MISSING)):
                return False
        return all(condition.test(_lookup(call.body, dotted)) for dotted, condition in self.body.items())

    def count_allows(self, number: int) -> bool:
        """Whether the `number`-th matching call (1-based) is one this rule acts on."""
        when = self.when
        if "nth" in when and number not in _as_list(when["nth"]):
            return False
        if "times" in when and number > when["times"]:
            return False
        return not ("after" in when and number <= when["after"])


def _scenarios_doc(doc: Any) -> dict[str, Any]:
    doc = doc or {}
    return {"active": dict(doc.get("active") or {}), "bound": dict(doc.get("bound") or {})}


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else [value]


@dataclass
class Scenario:
    """A named overlay: `<provider>/<stem>`, its option overrides and its rules."""

    name: str
    provider: str
    description: str
    options: Mapping[str, Any]
    rules: list[Rule]
    source: Path | None = None
    counters: Any = field(default=None, repr=False)  # the store: rule counts shared by every replica

    def match(self, call: Any) -> Rule | None:
        """Return the first rule that acts on this call, counting calls per rule (atomically, in the store)."""
        for rule in self.rules:
            if rule.conditions_hold(call) and rule.count_allows(self.counters.incr(self.counter_name(rule))):
                return rule
        return None

    def counter_name(self, rule: Rule) -> str:
        return f"rule:{self.name}:{rule.index}"

    def reset_counts(self) -> None:
        self.counters.clear_counters(f"rule:{self.name}:")

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "provider": self.provider,
            "description": self.description,
            "options": dict(self.options),
            "rules": [
                {"when": dict(r.when), "then": dict(r.then), "calls": self.counters.counter(self.counter_name(r))}
                for r in self.rules
            ],
        }


class FileSchema:
    """A JSON Schema for data files: jsonschema-rs says whether a file is valid (fast, at start-up);
    jsonschema explains why not, only when it is not."""

    def __init__(self, path: Path) -> None:
        try:
            self.schema = json.loads(path.read_text(encoding="utf-8"))
            self.fast = jsonschema_rs.validator_for(self.schema)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot load: {exc}") from exc

    def first_error(self, data: Any) -> Any:
        """None when valid, else the most relevant jsonschema ValidationError."""
        if self.fast.is_valid(data):
            return None
        import jsonschema

        return jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(self.schema).iter_errors(data))


def _schema(root: Path, name: str) -> FileSchema:
    """The folder's own copy of a format schema, else the shipped one (a folder may hold scenarios only)."""
    from emulator.config import data_dir

    path = root / name
    return FileSchema(path if path.is_file() else data_dir("scenarios") / name)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: start-up reads every file


def read_yaml(path: Path) -> Any:
    """Parse a YAML data file; a syntax error names the file."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc


_yaml = read_yaml


def _where(error: Any) -> str:
    parts = list(error.absolute_path)
    if len(parts) >= 2 and parts[0] == "rules":
        return f"rule {int(parts[1]) + 1}" + (f" ({'.'.join(str(p) for p in parts[2:])})" if parts[2:] else "")
    return ".".join(str(p) for p in parts) or "top level"


def load_scenario(path: Path, provider: str, catalog: Catalog, schema: FileSchema) -> Scenario:
    """Load one scenario file, validating its shape and every name it uses."""
    data = _yaml(path)
    error = schema.first_error(data)
    if error is not None:
        raise ConfigError(f"{path}: {_where(error)}: {error.message}")
    for name in data.get("options", {}) or {}:
        if name not in catalog.options:
            raise ConfigError(f"{path}: options: unknown option {name!r} (known: {sorted(catalog.options)})")
    rules = []
    for index, raw in enumerate(data.get("rules") or []):
        where = f"{path}: rule {index + 1}"
        for operation in _as_list(raw["when"].get("operation", [])):
            if operation not in catalog.operations:
                raise ConfigError(f"{where}: unknown operation {operation!r} (known: {sorted(catalog.operations)})")
        then = raw["then"]
        if "error" in then:
            error_name = then["error"].removeprefix(f"{provider}.")
            if error_name not in catalog.errors:
                raise ConfigError(f"{where}: unknown error {then['error']!r} (known: {sorted(catalog.errors)})")
        for action in then.get("set_state", {}) or {}:
            if action not in catalog.state_actions:
                raise ConfigError(f"{where}: unknown state action {action!r} (known: {sorted(catalog.state_actions)})")
        for regex_holder in ("headers", "query", "body"):
            for cond in (raw["when"].get(regex_holder) or {}).values():
                if isinstance(cond, Mapping) and "regex" in cond:
                    try:
                        re.compile(cond["regex"])
                    except re.error as exc:
                        raise ConfigError(f"{where}: bad regex {cond['regex']!r}: {exc}") from exc
        rules.append(Rule(index + 1, raw["when"], then))
    return Scenario(
        f"{provider}/{path.stem}", provider, data.get("description", ""), data.get("options") or {}, rules, path
    )


class Scenarios:
    """Every loaded scenario, and which one applies to a call."""

    DOC = "scenarios"

    def __init__(self, root: Path, catalogs: Mapping[str, Catalog], store: Any = None) -> None:
        if store is None:
            from emulator.core.store import MemoryStore

            store = MemoryStore({}, lambda provider, tenant: None)
        self.store = store
        self.root = root
        schema = _schema(root, "scenario.schema.json")
        self.book: dict[str, Scenario] = {}
        for provider, catalog in catalogs.items():
            for path in sorted((root / provider).glob("*.yaml")):
                if path.name.startswith("replay-"):
                    continue
                self.add(load_scenario(path, provider, catalog, schema))
            if f"{provider}/{DEFAULT}" not in self.book:
                raise ConfigError(f"{root / provider / (DEFAULT + '.yaml')}: every provider needs a default scenario")
        self._active: dict[str, str] = {}
        self._bound: dict[tuple[str, str], str] = {}
        self.load(store.get_doc(self.DOC))  # what a previous run or another replica activated

    def add(self, scenario: Scenario) -> None:
        """Register a scenario (its rule counts are kept in the store)."""
        scenario.counters = self.store
        self.book[scenario.name] = scenario

    def resolve(self, name: str, provider: str | None = None) -> Scenario:
        """Find a scenario by `provider/stem` (or by `stem` within `provider`)."""
        if "/" not in name and provider is not None:
            name = f"{provider}/{name}"
        try:
            return self.book[name]
        except KeyError:
            raise UnknownScenario(f"unknown scenario {name!r}") from None

    def select(self, provider: str, tenant: Any, header: str | None) -> Scenario:
        """Header, then tenant binding, then the server's active scenario, then the default."""
        if header:
            return self.resolve(header, provider)
        if tenant is not None:
            bound = self._bound.get((provider, tenant.id)) or tenant.scenario
            if bound:
                return self.resolve(bound, provider)
        return self.book[self._active.get(provider) or f"{provider}/{DEFAULT}"]

    def may_bind(self, tenant: Any) -> bool:
        """Whether a tenant could have a scenario of its own (file setting or admin binding)."""
        return bool(tenant.scenario or self._bound)

    def activate(self, name: str, tenant: str | None = None) -> Scenario:
        """Make `name` the provider's active scenario, or bind it to one tenant; its counts start at 0."""
        scenario = self.book[name]
        scenario.reset_counts()

        def activated(doc: Any) -> dict[str, Any]:
            doc = _scenarios_doc(doc)
            if tenant is None:
                doc["active"][scenario.provider] = name
            else:
                doc["bound"][f"{scenario.provider}/{tenant}"] = name
            return doc

        self.load(self.store.update_doc(self.DOC, activated))
        return scenario

    def deactivate(self, provider: str | None = None, tenant: str | None = None) -> None:
        def deactivated(doc: Any) -> dict[str, Any]:
            doc = _scenarios_doc(doc)
            if tenant is not None and provider is not None:
                doc["bound"].pop(f"{provider}/{tenant}", None)
                return doc
            doc["active"] = {p: n for p, n in doc["active"].items() if provider not in (None, p)}
            doc["bound"] = {k: n for k, n in doc["bound"].items() if provider not in (None, k.split("/", 1)[0])}
            return doc

        self.load(self.store.update_doc(self.DOC, deactivated))

    def active(self) -> dict[str, Any]:
        return {
            "servers": dict(self._active),
            "tenants": [{"provider": p, "tenant": t, "name": n} for (p, t), n in self._bound.items()],
        }

    def reset(self) -> None:
        self.load(self.store.update_doc(self.DOC, lambda doc: None))
        self.store.clear_counters("rule:")

    def load(self, doc: Any) -> None:
        """Take the active and bound scenarios from the store's document."""
        doc = _scenarios_doc(doc)
        self._active = {p: n for p, n in doc["active"].items() if n in self.book}
        bound = {tuple(k.split("/", 1)): n for k, n in doc["bound"].items() if n in self.book}
        self._bound = bound  # type: ignore[assignment]

    def names(self) -> Iterable[str]:
        return sorted(self.book)
