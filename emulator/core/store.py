"""Per-(provider, tenant) state: one lock each, in memory, behind a small interface."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol


class Store(Protocol):
    """What the core needs of a state backend; a persistent one implements the same calls."""

    def open(self, provider: str, tenant: str, factory: Callable[[], Any]) -> Any:
        """Context manager: the tenant's state, created by `factory` on first use, held under its lock."""

    def peek(self, provider: str, tenant: str) -> Any | None:
        """Return the state if it exists (no lock held; for read-only dumps)."""

    def tenants(self, provider: str) -> list[str]:
        """Return the tenants of a provider that have state."""

    def claim(self, provider: str, key: str, tenant: str) -> None:
        """Record that `key` (a session, token or invoice id the tenant issued) belongs to `tenant`."""

    def owner(self, provider: str, key: str) -> str | None:
        """The tenant that claimed `key`, or None (how a hosted page reached by its id alone finds its merchant)."""

    def reset(self, provider: str | None = None, tenant: str | None = None) -> None:
        """Forget all state, one provider's, or one tenant's."""


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

    def __init__(self) -> None:
        self._slots: dict[tuple[str, str], _Slot] = {}
        self._owners: dict[tuple[str, str], str] = {}  # (provider, key) -> tenant
        self._lock = threading.Lock()

    def _slot(self, provider: str, tenant: str, factory: Callable[[], Any]) -> _Slot:
        key = (provider, tenant)
        slot = self._slots.get(key)
        if slot is None:
            with self._lock:
                slot = self._slots.get(key)
                if slot is None:
                    slot = self._slots[key] = _Slot(factory())
        return slot

    def open(self, provider: str, tenant: str, factory: Callable[[], Any]) -> _Slot:
        # A class-based context manager: @contextmanager's generator costs more on every call.
        return self._slot(provider, tenant, factory)

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

    def reset(self, provider: str | None = None, tenant: str | None = None) -> None:
        with self._lock:
            for key in list(self._slots):
                if (provider is None or key[0] == provider) and (tenant is None or key[1] == tenant):
                    del self._slots[key]
            for key, owner in list(self._owners.items()):
                if (provider is None or key[0] == provider) and (tenant is None or owner == tenant):
                    del self._owners[key]
