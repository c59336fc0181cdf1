"""State store and virtual clock."""

from __future__ import annotations

import threading

import pytest

from emulator.core.clock import Clock, iso, parse_iso
from emulator.core.store import MemoryStore


def test_store_creates_once_and_serialises_updates():
    store = MemoryStore()
    created = []

    def factory():
        created.append(1)
        return {"n": 0}

    def work():
        for _ in range(500):
            with store.open("p", "t", factory) as state:
                state["n"] += 1

    threads = [threading.Thread(target=work) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.peek("p", "t") == {"n": 8000}
    assert len(created) == 1


def test_store_reset_scopes():
    store = MemoryStore()
    for provider, tenant in (("a", "1"), ("a", "2"), ("b", "1")):
        with store.open(provider, tenant, dict):
            pass
    store.reset("a", "1")
    assert store.tenants("a") == ["2"] and store.tenants("b") == ["1"]
    store.reset("a")
    assert store.tenants("a") == []
    store.reset()
    assert store.tenants("b") == []


def test_clock_advance_set_reset_and_listeners():
    clock = Clock()
    seen = []
    clock.on_change(seen.append)
    start = clock.now()
    clock.advance(3600)
    assert clock.now() - start == pytest.approx(3600, abs=1)
    clock.set(2_000_000_000)
    assert clock.now() == pytest.approx(2_000_000_000, abs=1)
    assert len(seen) == 2
    clock.reset()
    assert clock.offset == 0


def test_iso_round_trip():
    assert iso(0) == "1970-01-01T00:00:00Z"
    assert iso(1.5, millis=True) == "1970-01-01T00:00:01.500Z"
    assert parse_iso("2030-01-01T00:00:00Z") == 1893456000


def test_store_owner_index_claims_and_resets_by_scope():
    store = MemoryStore()
    store.claim("p", "session-1", "a")
    store.claim("p", "session-2", "b")
    store.claim("q", "session-1", "c")  # keys are per provider
    assert store.owner("p", "session-1") == "a" and store.owner("q", "session-1") == "c"
    assert store.owner("p", "unknown") is None
    store.reset("p", "a")
    assert store.owner("p", "session-1") is None and store.owner("p", "session-2") == "b"
    store.reset("q")
    assert store.owner("q", "session-1") is None and store.owner("p", "session-2") == "b"
    store.reset()
    assert store.owner("p", "session-2") is None


def test_store_owner_index_under_concurrent_claims():
    store = MemoryStore()

    def claim(tenant: str) -> None:
        for n in range(500):
            store.claim("p", f"{tenant}-{n}", tenant)

    threads = [threading.Thread(target=claim, args=(t,)) for t in ("a", "b", "c", "d")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(store.owner("p", f"{t}-{n}") == t for t in ("a", "b", "c", "d") for n in range(500))
