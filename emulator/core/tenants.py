"""Tenants: the provider accounts the emulator knows, from each provider's sample file or `--tenants`.

A tenants file is YAML: a list of mappings, each with an `id` (the provider's own account key, e.g.
Izipay's merchantCode) plus whatever credentials and settings that provider reads (`options`,
`scenario`, `callback_url`, secrets). A user file passed with `--tenants` is keyed by provider and
replaces the sample list of each provider it names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from emulator.core.errors import ConfigError


@dataclass(frozen=True)
class Tenant:
    """One provider account: its id, its raw settings, and whether open mode created it."""

    provider: str
    id: str
    data: Mapping[str, Any]
    options: Mapping[str, Any] = field(default_factory=dict)
    scenario: str | None = None
    admitted: bool = False  # created on first use by --open-tenants

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


class TenantDirectory:
    """One provider's tenants, looked up by id or by any credential field.

    The sample (or `--tenants`) entries are fixed; tenants admitted in open mode and settings changed at
    run time are the store's `tenants/<provider>` document, so replicas and restarts see them too.
    """

    def __init__(
        self, provider: str, entries: list[Mapping[str, Any]], *, open_tenants: bool = False, store: Any = None
    ) -> None:
        if store is None:
            from emulator.core.store import MemoryStore

            store = MemoryStore({}, lambda provider, tenant: None)
        self.provider = provider
        self.open_tenants = open_tenants
        self.store = store
        self.doc = f"tenants/{provider}"
        self._sample: dict[str, Tenant] = {}
        for entry in entries:
            tenant = _tenant(provider, entry)
            self._sample[tenant.id] = tenant
        self._by_id = dict(self._sample)
        self.load(store.get_doc(self.doc))

    def get(self, tenant_id: str) -> Tenant | None:
        return self._by_id.get(tenant_id)

    def find(self, **fields: Any) -> Tenant | None:
        """Return the tenant whose settings hold all these values (e.g. client_id=..., scope=...)."""
        for tenant in list(self._by_id.values()):
            if all(tenant.data.get(key) == value for key, value in fields.items()):
                return tenant
        return None

    def admit(self, tenant_id: str, make: Callable[[], Mapping[str, Any]]) -> Tenant | None:
        """Return a known tenant, or, in open mode only, create it from `make()` on first use."""
        tenant = self._by_id.get(tenant_id)
        if tenant is not None or not self.open_tenants:
            return tenant
        data = {"id": tenant_id, **make()}

        def admitted(doc: Any) -> dict[str, Any]:
            doc = dict(doc or {})
            doc.setdefault(tenant_id, {"data": data, "admitted": True})  # the first admission wins
            return doc

        self.load(self.store.update_doc(self.doc, admitted))
        return self._by_id.get(tenant_id)

    def update(self, tenant_id: str, changes: Mapping[str, Any]) -> Tenant | None:
        """Change a tenant's settings at run time (admin API): callback_url, options, scenario, secrets."""
        if tenant_id not in self._by_id:
            return None

        def updated(doc: Any) -> dict[str, Any]:
            doc = dict(doc or {})
            current = self._by_id[tenant_id]
            entry = doc.get(tenant_id) or {"data": dict(current.data), "admitted": current.admitted}
            data = {**entry["data"], **changes}
            data["options"] = {**(entry["data"].get("options") or {}), **(changes.get("options") or {})}
            doc[tenant_id] = {"data": data, "admitted": entry["admitted"]}
            return doc

        self.load(self.store.update_doc(self.doc, updated))
        return self._by_id.get(tenant_id)

    def reset(self) -> None:
        """Forget tenants admitted in open mode and settings changed at run time."""
        self.load(self.store.update_doc(self.doc, lambda doc: None))

    def load(self, doc: Any) -> None:
        """The sample tenants, with the store's document (admissions, run-time changes) on top."""
        by_id = dict(self._sample)
        for tenant_id, entry in (doc or {}).items():
            data = entry["data"]
            options = data.get("options") or {}
            by_id[tenant_id] = Tenant(
                self.provider, tenant_id, data, dict(options), data.get("scenario"), entry["admitted"]
            )
        self._by_id = by_id

    def __iter__(self) -> Iterator[Tenant]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)


def _tenant(provider: str, entry: Mapping[str, Any]) -> Tenant:
    if not isinstance(entry, Mapping) or "id" not in entry:
        raise ConfigError(f"tenants of {provider}: every entry needs an 'id' (got {entry!r})")
    options = entry.get("options") or {}
    if not isinstance(options, Mapping):
        raise ConfigError(f"tenants of {provider}, tenant {entry['id']!r}: 'options' must be a mapping")
    return Tenant(provider, str(entry["id"]), dict(entry), dict(options), entry.get("scenario"))


def load_tenant_entries(path: Path) -> Any:
    """Read a tenants YAML file."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read tenants: {exc}") from exc


def user_tenants(path: Path | None) -> dict[str, list[Mapping[str, Any]]]:
    """Read a `--tenants` file keyed by provider; an absent path gives nothing to override."""
    if path is None:
        return {}
    data = load_tenant_entries(path)
    if not isinstance(data, Mapping) or not all(isinstance(v, list) for v in data.values()):
        raise ConfigError(f"{path}: a tenants file maps provider names to lists of tenants")
    return {str(k): list(v) for k, v in data.items()}
