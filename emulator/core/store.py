"""State backends: every piece of emulator state lives behind this one interface.

Three backends, chosen with `--store` / `PAYEMU_STORE`:
  memory               plain Python objects in one process (the default; nothing is serialized)
  sqlite:///path.db    one SQLite file in WAL mode: survives restarts (store_sqlite.py)
  redis://host:port/n  one Redis shared by N replicas that act as one emulator (store_redis.py)

What a backend keeps:
  - provider states, one per (provider, tenant), held under a lock while a handler runs;
  - the owner index: which tenant issued a session, token or invoice id;
  - documents: small JSON values the core shares (clock offsets, active scenarios, run-time tenants);
  - counters: atomic increments (scenario rule counts);
  - a generation number, bumped with every document change, so a replica knows when to re-read.

Provider states are dataclasses; the persistent backends serialize them with `encode_state` /
`decode_state` (core/serialize.py), the one serialization every provider's state goes through.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from emulator.core.errors import ConfigError
from emulator.core.serialize import decode_state, encode_state
from emulator.core.tenants import Tenant

StateClass = Callable[[Tenant], Any]
TenantOf = Callable[[str, str], "Tenant | None"]  # (provider, tenant id) -> the tenant, from its directory


class StoreUnavailable(Exception):
    """The backend cannot be reached (Redis down, disk gone): answered as the provider's server error."""


class Store(Protocol):
    """What the core needs of a state backend."""

    shared: bool  # state can change outside this process (another replica, a restart)

    def open(self, provider: str, tenant: str) -> Any:
        """Context manager: the tenant's state, created on first use, held under its lock (re-entrant)."""

    def peek(self, provider: str, tenant: str) -> Any | None:
        """The state if it exists, for read-only dumps (no lock held)."""

    def tenants(self, provider: str) -> list[str]:
        """The tenants of a provider that have state."""

    def claim(self, provider: str, key: str, tenant: str) -> None:
        """Record that `key` (a session, token or invoice id the tenant issued) belongs to `tenant`."""

    def owner(self, provider: str, key: str) -> str | None:
        """The tenant that claimed `key`, or None (how a page reached by its id alone finds its merchant)."""

    def get_doc(self, name: str) -> Any | None:
        """A shared document (JSON value), or None."""

    def update_doc(self, name: str, change: Callable[[Any | None], Any], *, quiet: bool = False) -> Any:
        """Atomically replace a document with `change(current)` and return the new value; the generation
        moves too unless `quiet` (data no replica caches, such as the callback outbox)."""

    def get_docs(self, names: list[str]) -> list[Any | None]:
        """Several documents in one read (None for a missing one)."""

    def delete_docs(self, names: list[str]) -> None:
        """Forget documents (quietly)."""

    def incr(self, name: str) -> int:
        """Atomically add one to a counter and return the new value."""

    def log_append(self, name: str, items: list[bytes], limit: int) -> None:
        """Add items (oldest first) to a bounded log, numbering them 1, 2, …; the oldest beyond `limit` fall off."""

    def log_read(self, name: str) -> list[tuple[int, bytes]]:
        """A log's items, newest first, with their ids."""

    def log_replace(self, name: str, items: list[tuple[int, bytes]]) -> None:
        """Replace a log's items (newest first), keeping its id sequence."""

    def log_total(self, name: str) -> int:
        """How many items were ever appended to a log."""

    def counter(self, name: str) -> int:
        """A counter's value (0 when never counted)."""

    def clear_counters(self, prefix: str = "") -> None:
        """Set the counters whose names start with `prefix` (all, by default) back to zero."""

    def generation(self) -> int:
        """A number that changes whenever a document changes (in this process or another)."""

    def reset(self, provider: str | None = None, tenant: str | None = None) -> None:
        """Forget all provider state and owners, one provider's, or one tenant's (documents stay)."""

    def close(self) -> None:
        """Release connections."""


class _Slot:
    """One tenant's state and lock; entering it takes the lock and yields the state."""

    __slots__ = ("lock", "state")

    def __init__(self, state: Any) -> None:
        self.state = state
        self.lock = threading.RLock()

    def __enter__(self) -> Any:
        self.lock.acquire()
        return self.state

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


class MemoryStore:
    """The default backend: plain Python objects in a dict, one re-entrant lock per tenant."""

    shared = False

    def __init__(self, state_classes: Mapping[str, StateClass], tenant_of: TenantOf) -> None:
        self.state_classes = dict(state_classes)
        self.tenant_of = tenant_of
        self._slots: dict[tuple[str, str], _Slot] = {}
        self._owners: dict[tuple[str, str], str] = {}  # (provider, key) -> tenant
        self._docs: dict[str, Any] = {}
        self._counters: dict[str, int] = {}
        self._generation = 0
        self._lock = threading.Lock()

    def open(self, provider: str, tenant: str) -> _Slot:
        # A class-based context manager: @contextmanager's generator costs more on every call.
        key = (provider, tenant)
        slot = self._slots.get(key)
        if slot is None:
            with self._lock:
                slot = self._slots.get(key)
                if slot is None:
                    slot = self._slots[key] = _Slot(self.state_classes[provider](_known(self.tenant_of, *key)))
        return slot

    def peek(self, provider: str, tenant: str) -> Any | None:
        slot = self._slots.get((provider, tenant))
        return slot.state if slot else None

    def tenants(self, provider: str) -> list[str]:
        return sorted(t for (p, t) in list(self._slots) if p == provider)

    def claim(self, provider: str, key: str, tenant: str) -> None:
        with self._lock:
            self._owners[(provider, key)] = tenant

    def owner(self, provider: str, key: str) -> str | None:
        with self._lock:
            return self._owners.get((provider, key))

    def get_doc(self, name: str) -> Any | None:
        return self._docs.get(name)

    def update_doc(self, name: str, change: Callable[[Any | None], Any], *, quiet: bool = False) -> Any:
        with self._lock:
            value = self._docs[name] = change(self._docs.get(name))
            if not quiet:
                self._generation += 1
            return value

    def get_docs(self, names: list[str]) -> list[Any | None]:
        docs = self._docs
        return [docs.get(name) for name in names]

    def delete_docs(self, names: list[str]) -> None:
        with self._lock:
            for name in names:
                self._docs.pop(name, None)

    def incr(self, name: str) -> int:
        with self._lock:
            value = self._counters[name] = self._counters.get(name, 0) + 1
            return value

    def counter(self, name: str) -> int:
        return self._counters.get(name, 0)

    def log_append(self, name: str, items: list[bytes], limit: int) -> None:
        with self._lock:
            log = self._docs.setdefault(f"log:{name}", [])
            for item in items:
                number = self._counters[f"log:{name}"] = self._counters.get(f"log:{name}", 0) + 1
                log.insert(0, (number, item))
            del log[limit:]

    def log_read(self, name: str) -> list[tuple[int, bytes]]:
        with self._lock:
            return list(self._docs.get(f"log:{name}", []))

    def log_replace(self, name: str, items: list[tuple[int, bytes]]) -> None:
        with self._lock:
            self._docs[f"log:{name}"] = list(items)

    def log_total(self, name: str) -> int:
        return self._counters.get(f"log:{name}", 0)

    def clear_counters(self, prefix: str = "") -> None:
        with self._lock:
            for name in [n for n in self._counters if n.startswith(prefix)]:
                del self._counters[name]

    def generation(self) -> int:
        return self._generation

    def reset(self, provider: str | None = None, tenant: str | None = None) -> None:
        with self._lock:
            for key in list(self._slots):
                if (provider is None or key[0] == provider) and (tenant is None or key[1] == tenant):
                    del self._slots[key]
            for key, owner in list(self._owners.items()):
                if (provider is None or key[0] == provider) and (tenant is None or owner == tenant):
                    del self._owners[key]

    def close(self) -> None:
        pass


class PersistentStore:
    """What SQLite and Redis share: a state is loaded when its lock is taken and written back, if it
    changed, before the lock is released. Re-entrant per thread: a nested open yields the same object."""

    shared = True

    def __init__(self, state_classes: Mapping[str, StateClass], tenant_of: TenantOf) -> None:
        self.state_classes = dict(state_classes)
        self.tenant_of = tenant_of
        self._local = threading.local()

    # -- what a backend implements ---------------------------------------------------------------

    def _lock(self, provider: str, tenant: str) -> Any:
        """Take the tenant's lock (across threads and processes); return a handle for `_unlock`."""
        raise NotImplementedError

    def _unlock(self, handle: Any, *, commit: bool) -> None:
        raise NotImplementedError

    def _load(self, provider: str, tenant: str) -> bytes | None:
        raise NotImplementedError

    def _save(self, provider: str, tenant: str, data: bytes) -> None:
        raise NotImplementedError

    def _load_held(self, handle: Any, provider: str, tenant: str) -> bytes | None:
        """Read a state whose lock `handle` holds (a backend may have read it with the lock)."""
        return self._load(provider, tenant)

    def _save_held(self, handle: Any, provider: str, tenant: str, data: bytes) -> None:
        """Write a state whose lock `handle` holds (a backend may write it as it releases the lock)."""
        self._save(provider, tenant, data)

    # -- the Store interface ---------------------------------------------------------------------

    def open(self, provider: str, tenant: str) -> _Held:
        return _Held(self, provider, tenant)

    def peek(self, provider: str, tenant: str) -> Any | None:
        data = self._load(provider, tenant)
        known = self.tenant_of(provider, tenant)
        if data is None or known is None:
            return None
        return decode_state(self.state_classes[provider], data, known)  # type: ignore[arg-type]

    def _held(self) -> dict[tuple[str, str], list[Any]]:
        held = getattr(self._local, "held", None)
        if held is None:
            held = self._local.held = {}
        return held


class _Held:
    """An open persistent state (see PersistentStore)."""

    __slots__ = ("key", "store")

    def __init__(self, store: PersistentStore, provider: str, tenant: str) -> None:
        self.store = store
        self.key = (provider, tenant)

    def __enter__(self) -> Any:
        held = self.store._held()
        entry = held.get(self.key)
        if entry is not None:
            entry[1] += 1
            return entry[0]
        provider, tenant_id = self.key
        handle = self.store._lock(provider, tenant_id)
        try:
            data = self.store._load_held(handle, provider, tenant_id)
            state_class = self.store.state_classes[provider]
            tenant = _known(self.store.tenant_of, provider, tenant_id)
            state = state_class(tenant) if data is None else decode_state(state_class, data, tenant)  # type: ignore[arg-type]
        except BaseException:
            self.store._unlock(handle, commit=False)
            raise
        held[self.key] = [state, 1, data, handle]
        return state

    def __exit__(self, *exc: object) -> None:
        held = self.store._held()
        entry = held[self.key]
        entry[1] -= 1
        if entry[1]:
            return
        del held[self.key]
        state, _, before, handle = entry
        committed = False
        try:
            # Written back even when the handler raised: what a model changed before refusing stays
            # changed, exactly as in memory (models validate before they change anything).
            data = encode_state(state)
            if data != before:
                self.store._save_held(handle, *self.key, data)
            committed = True
        finally:
            self.store._unlock(handle, commit=committed)


def _known(tenant_of: TenantOf, provider: str, tenant: str) -> Tenant:
    found = tenant_of(provider, tenant)
    if found is None:
        raise KeyError(f"{provider} has no tenant {tenant!r}")
    return found


def open_store(url: str, state_classes: Mapping[str, StateClass], tenant_of: TenantOf) -> Store:
    """The backend a `--store` URL names; an unusable one is a ConfigError naming it."""
    if url in ("", "memory", "memory://"):
        return MemoryStore(state_classes, tenant_of)
    if url.startswith("sqlite:///"):
        from emulator.core.store_sqlite import SqliteStore

        return SqliteStore(url.removeprefix("sqlite:///"), state_classes, tenant_of)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from emulator.core.store_redis import RedisStore

        return RedisStore(url, state_classes, tenant_of)
    raise ConfigError(f"--store {url!r}: use memory, sqlite:///<path> or redis://<host>:<port>/<db>")
