"""The request journal: a bounded log of every request and response, card data masked, queryable."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from emulator.core.cards import mask_text, may_hold_card_data

BODY_LIMIT = 4096  # characters kept of each body: enough to debug, bounded in memory


@dataclass
class Entry:
    """One request and its response, as the journal keeps them (bodies masked and truncated)."""

    id: int
    time: float
    provider: str | None
    operation: str | None
    tenant: str | None
    method: str
    path: str
    query: str
    request_headers: dict[str, str]
    request_body: str
    status: int = 0
    response_body: str = ""
    duration_ms: float = 0.0
    scenario: str | None = None
    effects: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def masked_body(data: bytes | str) -> str:
    """Decode, truncate and mask a body for the journal."""
    return _text(masked_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "replace")))


def masked_bytes(data: bytes) -> bytes:
    """Truncate and mask a body, staying in bytes (the journal decodes only what is read back)."""
    head = data[:BODY_LIMIT]
    if len(data) > BODY_LIMIT:
        head += "…".encode()
    if may_hold_card_data(head):
        return mask_text(head.decode("utf-8", "replace")).encode("utf-8")
    return head


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


# A record is the Entry's fields in order, bodies and query kept as masked bytes: cheap to write on
# every request; an Entry is built only when the journal is read.
Record = tuple[Any, ...]
_PROVIDER, _OPERATION, _TENANT, _PATH = 2, 3, 4, 6


def _entry(record: Record) -> Entry:
    fields = list(record)
    for index in (7, 9, 11):  # query, request body, response body
        fields[index] = _text(fields[index])
    fields[8] = dict(fields[8])  # request headers, kept as pairs
    fields[14] = list(fields[14])  # effects
    return Entry(*fields)


class Journal:
    """Keeps the newest `limit` entries; older ones fall off (WireMock's journal, bounded)."""

    def __init__(self, limit: int = 1000) -> None:
        self._records: deque[Record] = deque(maxlen=max(1, limit))
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.total = 0

    def record(self, *fields: Any) -> None:
        """Append one entry: every Entry field but `id`, in order (bodies as masked bytes)."""
        with self._lock:
            self.total += 1
            self._records.append((next(self._ids), *fields))

    def query(
        self,
        *,
        provider: str | None = None,
        operation: str | None = None,
        tenant: str | None = None,
        path: str | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        """Return matching entries, newest first."""
        with self._lock:
            records = list(self._records)
        matching = (
            r
            for r in reversed(records)
            if (provider is None or r[_PROVIDER] == provider)
            and (operation is None or r[_OPERATION] == operation)
            and (tenant is None or r[_TENANT] == tenant)
            and (path is None or r[_PATH] == path)
        )
        return [_entry(r) for r in itertools.islice(matching, limit or None)]  # only the entries returned are built

    def clear(self, *, provider: str | None = None, tenant: str | None = None) -> int:
        """Drop all entries, or those of one provider (and tenant); return how many were dropped."""
        with self._lock:
            before = len(self._records)
            if provider is None and tenant is None:
                self._records.clear()
            else:
                kept = [
                    r
                    for r in self._records
                    if not ((provider is None or r[_PROVIDER] == provider) and (tenant is None or r[_TENANT] == tenant))
                ]
                self._records.clear()
                self._records.extend(kept)
            return before - len(self._records)

    def __len__(self) -> int:
        return len(self._records)
