"""Every state backend behaves the same: memory, SQLite and a real redis-server (payemu_redis)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from emulator.core.serialize import decode_state, encode_state
from emulator.core.store import Store, StoreUnavailable, open_store
from emulator.core.tenants import Tenant

TENANTS = {("toy", t): Tenant("toy", t, {"secret": f"s-{t}"}) for t in ("a", "b", "c")}


@dataclass
class Card:
    id: str
    uses: int = 0


@dataclass
class ToyState:
    tenant: Tenant
    counter: int = 0
    cards: dict[str, Card] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    extra: Any = None


def _tenant_of(provider: str, tenant: str) -> Tenant | None:
    return TENANTS.get((provider, tenant))


@pytest.fixture(params=["memory", "sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from _backend(request, tmp_path)


@pytest.fixture(params=["sqlite", "redis"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Only the backends another process can share."""
    yield from _backend(request, tmp_path)


def _backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "memory":
        url = "memory"
    elif request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'state.db'}"
    else:
        url = request.getfixturevalue("payemu_redis")
    backend = open_store(url, {"toy": ToyState}, _tenant_of)
    backend.reset()
    backend.clear_counters()
    backend.update_doc("clock", lambda doc: None)
    yield backend
    backend.reset()
    backend.close()


def test_state_round_trips_without_its_tenant():
    state = ToyState(TENANTS[("toy", "a")], 3, {"c1": Card("c1", 2)}, {"u"}, {"k": [1, "x"]})
    data = encode_state(state)
    assert b"s-a" not in data  # the tenant (and its secrets) is not stored with the state
    again = decode_state(ToyState, data, TENANTS[("toy", "a")])
    assert again == state and again.tenant is TENANTS[("toy", "a")]


def test_open_creates_once_and_persists_changes(store: Store):
    assert store.peek("toy", "a") is None
    with store.open("toy", "a") as state:
        state.counter += 1
        state.cards["c1"] = Card("c1")
        state.used.add("t1")
    seen = store.peek("toy", "a")
    assert seen.counter == 1 and seen.cards == {"c1": Card("c1")} and seen.used == {"t1"}
    assert seen.tenant is TENANTS[("toy", "a")]
    assert store.tenants("toy") == ["a"]


def test_nested_open_in_one_thread_is_the_same_state(store: Store):
    with store.open("toy", "a") as outer:
        outer.counter = 5
        with store.open("toy", "a") as inner:
            assert inner is outer
            inner.counter += 1
    assert store.peek("toy", "a").counter == 6


def test_concurrent_updates_are_never_lost(store: Store):
    def work() -> None:
        for _ in range(40):
            with store.open("toy", "a") as state:
                state.counter += 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.peek("toy", "a").counter == 320


def test_reset_scopes_state_and_owners(store: Store):
    for tenant in ("a", "b"):
        with store.open("toy", tenant) as state:
            state.counter = 1
        store.claim("toy", f"session-{tenant}", tenant)
    store.reset("toy", "a")
    assert store.tenants("toy") == ["b"]
    assert store.owner("toy", "session-a") is None and store.owner("toy", "session-b") == "b"
    store.reset()
    assert store.tenants("toy") == [] and store.owner("toy", "session-b") is None


def test_documents_counters_and_generation(store: Store):
    before = store.generation()
    assert store.get_doc("clock") is None
    store.update_doc("clock", lambda doc: {"offset": 60.0, "tenants": {"toy/a": 5.0}})
    assert store.get_doc("clock") == {"offset": 60.0, "tenants": {"toy/a": 5.0}}
    assert store.generation() != before
    assert store.update_doc("clock", lambda doc: {**doc, "offset": doc["offset"] + 1})["offset"] == 61.0
    assert [store.incr("rule:x/1") for _ in range(3)] == [1, 2, 3]
    store.incr("other")
    assert store.counter("rule:x/1") == 3 and store.counter("never") == 0
    store.clear_counters("rule:")
    assert store.incr("rule:x/1") == 1 and store.counter("other") == 1


def test_document_updates_are_atomic_across_threads(store: Store):
    def work() -> None:
        for _ in range(25):
            store.update_doc("clock", lambda doc: {"offset": (doc or {"offset": 0})["offset"] + 1})

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.get_doc("clock") == {"offset": 150}


def test_counters_count_each_call_once_under_concurrency(store: Store):
    seen: list[int] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(50):
            value = store.incr("rule:y/1")
            with lock:
                seen.append(value)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 401))


def test_a_second_store_on_the_same_backend_sees_the_same_state(shared_store: Store, request: pytest.FixtureRequest):
    store = shared_store
    url = request.getfixturevalue("payemu_redis") if "redis" in type(store).__name__.lower() else None
    other = open_store(url or f"sqlite:///{store.path}", {"toy": ToyState}, _tenant_of)  # type: ignore[attr-defined]
    try:
        with store.open("toy", "a") as state:
            state.cards["c1"] = Card("c1")
        store.claim("toy", "session-1", "a")
        assert other.peek("toy", "a").cards == {"c1": Card("c1")}
        assert other.owner("toy", "session-1") == "a"
        with other.open("toy", "a") as state:
            state.cards["c1"].uses += 1
        assert store.peek("toy", "a").cards["c1"].uses == 1
    finally:
        other.close()


def test_redis_that_forgot_its_scripts_or_dropped_the_connection_still_serves(payemu_redis: str):
    """A Redis restarted under a running payemu has no scripts and no connection: both come back."""
    import redis

    store = open_store(payemu_redis, {"toy": ToyState}, _tenant_of)
    admin = redis.Redis.from_url(payemu_redis)
    try:
        store.reset()
        with store.open("toy", "a") as state:
            state.counter = 1
        admin.script_flush()
        with store.open("toy", "a") as state:
            state.counter += 1
        admin.client_kill_filter(_type="normal", skipme=True)  # every connection but this one
        generation = store.generation()  # a request's first command: sent again on a new connection
        with store.open("toy", "a") as state:
            state.counter += 1
        admin.client_kill_filter(_type="normal", skipme=True)
        # lost in the middle of a request: answered as unavailable
        with pytest.raises(StoreUnavailable), store.open("toy", "a") as state:
            state.counter += 1
        with store.open("toy", "a") as state:  # the next one connects again
            state.counter += 1
        assert store.peek("toy", "a").counter == 4
        assert store.generation() == generation
    finally:
        store.reset()
        store.close()
        admin.close()


def test_bad_store_urls_are_one_line_errors(tmp_path: Path):
    from emulator.core.errors import ConfigError

    with pytest.raises(ConfigError, match="use memory, sqlite"):
        open_store("postgres://x", {}, _tenant_of)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="cannot open"):
        open_store(f"sqlite:///{blocker}/state.db", {}, _tenant_of)
    with pytest.raises(ConfigError, match="cannot reach Redis"):
        open_store("redis://127.0.0.1:1/0", {}, _tenant_of)


def test_logs_are_bounded_numbered_and_replaceable(store: Store):
    store.log_replace("j", [])
    store.log_append("j", [b"item-0", b"item-1"], 3)
    for n in range(2, 5):
        store.log_append("j", [f"item-{n}".encode()], 3)
    items = store.log_read("j")[:3]
    assert [item for _, item in items] == [b"item-4", b"item-3", b"item-2"]  # newest first, bounded
    assert [number for number, _ in items] == sorted((number for number, _ in items), reverse=True)
    assert store.log_total("j") >= 5
    store.log_replace("j", items[1:])
    assert [item for _, item in store.log_read("j")] == [b"item-3", b"item-2"]
