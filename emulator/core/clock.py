"""The virtual clock: the only source of time in the emulator (real time plus an adjustable offset)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

Listener = Callable[[float, "str | None", "str | None"], None]  # (now, provider, tenant): tenant=None for all


class Clock:
    """Real time shifted by the server's offset, plus a tenant's own offset where one was set.

    The offsets are the store's `clock` document, so replicas on one store share one time and a
    restart keeps it; each replica reads them again when the store's generation moves (`load`).
    """

    DOC = "clock"

    def __init__(self, store: Any = None) -> None:
        if store is None:
            from emulator.core.store import MemoryStore

            store = MemoryStore({}, lambda provider, tenant: None)
        self._store = store
        self._offset = 0.0
        self._tenants: dict[str, float] = {}  # "provider/tenant" -> seconds on top of the server's offset
        self._listeners: list[Listener] = []

    def now(self, provider: str | None = None, tenant: str | None = None) -> float:
        """The virtual time as Unix seconds: the server's, or one tenant's."""
        now = time.time() + self._offset
        if self._tenants and tenant is not None:
            now += self._tenants.get(f"{provider}/{tenant}", 0.0)
        return now

    @property
    def offset(self) -> float:
        return self._offset

    def tenant_offsets(self) -> dict[str, float]:
        """Each tenant's own offset (beyond the server's), keyed `provider/tenant`."""
        return dict(self._tenants)

    def advance(self, seconds: float, provider: str | None = None, tenant: str | None = None) -> float:
        """Move the server's (or one tenant's) time forward, or back if negative; notify listeners."""
        key = f"{provider}/{tenant}" if tenant is not None else None

        def moved(doc: Any) -> dict[str, Any]:
            doc = _doc(doc)
            if key is None:
                doc["offset"] += seconds
            else:
                doc["tenants"][key] = doc["tenants"].get(key, 0.0) + seconds
            return doc

        self.load(self._store.update_doc(self.DOC, moved))
        return self._changed(provider, tenant)

    def set(self, epoch_seconds: float, provider: str | None = None, tenant: str | None = None) -> float:
        """Jump the server's (or one tenant's) time to an absolute Unix time."""
        key = f"{provider}/{tenant}" if tenant is not None else None

        def jumped(doc: Any) -> dict[str, Any]:
            doc = _doc(doc)
            if key is None:
                doc["offset"] = epoch_seconds - time.time()
            else:
                doc["tenants"][key] = epoch_seconds - time.time() - doc["offset"]
            return doc

        self.load(self._store.update_doc(self.DOC, jumped))
        return self._changed(provider, tenant)

    def reset(self) -> None:
        """Return every clock to real time."""
        self.load(self._store.update_doc(self.DOC, lambda doc: None))

    def load(self, doc: Any) -> None:
        """Take the offsets from the store's document (None: real time)."""
        doc = _doc(doc)
        self._offset = float(doc["offset"])
        self._tenants = {key: float(value) for key, value in doc["tenants"].items() if value}

    def on_change(self, listener: Listener) -> None:
        """Call `listener(now, provider, tenant)` after every advance or set (expiry sweeps, callbacks)."""
        self._listeners.append(listener)

    def _changed(self, provider: str | None, tenant: str | None) -> float:
        now = self.now(provider, tenant)
        for listener in self._listeners:
            listener(now, provider, tenant)
        return now


def _doc(doc: Any) -> dict[str, Any]:
    doc = doc or {}
    return {"offset": float(doc.get("offset", 0.0)), "tenants": dict(doc.get("tenants") or {})}


def wall_time() -> float:
    """Real Unix time, never shifted: for leases that processes on one store compare."""
    return time.time()


def monotonic() -> float:
    """Return a monotonic reading for durations (not virtual: latency is real)."""
    return time.perf_counter()


def real_sleep(seconds: float) -> None:
    """Sleep in real time (scenario latency where no async server can defer it)."""
    time.sleep(seconds)


def iso(epoch_seconds: float, *, millis: bool = False) -> str:
    """Format Unix seconds as an ISO-8601 UTC string."""
    moment = datetime.fromtimestamp(epoch_seconds, UTC)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def to_datetime(epoch_seconds: float) -> datetime:
    """Return Unix seconds as an aware UTC datetime (for per-provider formats)."""
    return datetime.fromtimestamp(epoch_seconds, UTC)


def parse_iso(text: str) -> float:
    """Parse an ISO-8601 timestamp (a trailing Z allowed) into Unix seconds."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
