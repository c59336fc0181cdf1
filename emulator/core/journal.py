"""The request journal: a bounded log of every request and response, card data masked, queryable."""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from emulator.core.cards import mask_text, may_hold_card_data

BODY_LIMIT = 4096  # characters kept of each body: enough to debug, bounded in memory


@dataclass(slots=True, kw_only=True)
class Entry:
    """One request and its response, as the journal keeps them (bodies masked and truncated)."""

    id: int = 0  # numbered by the journal
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
    effects: list[str]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def masked_body(data: bytes | str) -> str:
    """Decode, truncate and mask a body for the journal."""
    return masked_texts(data.encode("utf-8", "replace") if isinstance(data, str) else data)[0]


def masked_texts(*parts: bytes) -> list[str]:
    """Decode, truncate and mask the texts of one entry, scanning them for card data once (measured
    in-process: one scan instead of one per text keeps a token call ~5% cheaper)."""
    heads = [part[:BODY_LIMIT] + ("…".encode() if len(part) > BODY_LIMIT else b"") for part in parts]
    texts = [head.decode("utf-8", "replace") for head in heads]
    if may_hold_card_data(b"\n".join(heads)):
        return [mask_text(text) for text in texts]
    return texts


class Journal:
    """Keeps the newest `limit` entries; older ones fall off (WireMock's journal, bounded)."""

    def __init__(self, limit: int = 1000) -> None:
        self._entries: deque[Entry] = deque(maxlen=max(1, limit))
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.total = 0

    def record(self, entry: Entry) -> Entry:
        """Number and append one entry (its bodies already masked)."""
        with self._lock:
            self.total += 1
            entry.id = next(self._ids)
            self._entries.append(entry)
        return entry

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
            entries = list(self._entries)
        found = [
            e
            for e in reversed(entries)
            if (provider is None or e.provider == provider)
            and (operation is None or e.operation == operation)
            and (tenant is None or e.tenant == tenant)
            and (path is None or e.path == path)
        ]
        return found[:limit] if limit else found

    def clear(self, *, provider: str | None = None, tenant: str | None = None) -> int:
        """Drop all entries, or those of one provider (and tenant); return how many were dropped."""
        with self._lock:
            before = len(self._entries)
            kept = [
                e
                for e in self._entries
                if not ((provider is None or e.provider == provider) and (tenant is None or e.tenant == tenant))
            ]
            self._entries.clear()
            self._entries.extend(kept)
            return before - len(self._entries)

    def __len__(self) -> int:
        return len(self._entries)
