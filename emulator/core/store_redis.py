"""The Redis backend (`--store redis://host:port/db`): N replicas on one Redis act as one emulator.

Atomicity comes from Redis itself: a tenant's state is changed under a Redis lock (redis-py's `Lock`:
`SET NX PX` to take it, a Lua script to release only one's own), counters are `INCR`, owners a hash,
documents plain keys with a generation counter bumped in the same `MULTI`. Nothing is read, checked
and written back in Python without the tenant's lock held.
"""

from __future__ import annotations

import contextlib
import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import redis
from redis.exceptions import LockError, RedisError

from emulator.core.errors import ConfigError
from emulator.core.store import PersistentStore, StateClass, StoreUnavailable, TenantOf

PREFIX = "payemu:"
LOCK_SECONDS = 30.0  # a replica killed while holding a lock frees it after this long
LOCK_WAIT_SECONDS = 10.0
T = TypeVar("T")


def _reachable(method: Callable[..., T]) -> Callable[..., T]:
    """Turn a lost connection into StoreUnavailable (answered as the provider's server error)."""

    @functools.wraps(method)
    def call(self: RedisStore, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except (RedisError, OSError) as exc:
            raise StoreUnavailable(f"redis {self.url}: {exc}") from exc

    return call


class RedisStore(PersistentStore):
    """State, owners, documents and counters in one Redis database."""

    def __init__(self, url: str, state_classes: Mapping[str, StateClass], tenant_of: TenantOf) -> None:
        super().__init__(state_classes, tenant_of)
        self.url = url
        self.redis = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        try:
            self.redis.ping()
        except (RedisError, OSError) as exc:
            raise ConfigError(f"--store {url}: cannot reach Redis: {exc}") from None

    # -- provider states -------------------------------------------------------------------------

    @_reachable
    def _lock(self, provider: str, tenant: str) -> Any:
        lock = self.redis.lock(
            f"{PREFIX}lock:{provider}:{tenant}", timeout=LOCK_SECONDS, sleep=0.001, blocking_timeout=LOCK_WAIT_SECONDS
        )
        if not lock.acquire():
            raise StoreUnavailable(f"redis {self.url}: {provider}/{tenant} stayed locked for {LOCK_WAIT_SECONDS} s")
        return lock

    @_reachable
    def _unlock(self, handle: Any, *, commit: bool) -> None:
        with contextlib.suppress(LockError):  # held past LOCK_SECONDS: another replica may have taken it
            handle.release()

    @_reachable
    def _load(self, provider: str, tenant: str) -> bytes | None:
        return self.redis.get(f"{PREFIX}state:{provider}:{tenant}")  # type: ignore[return-value]

    @_reachable
    def _save(self, provider: str, tenant: str, data: bytes) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(f"{PREFIX}state:{provider}:{tenant}", data)
        pipe.sadd(f"{PREFIX}tenants:{provider}", tenant)
        pipe.execute()

    @_reachable
    def tenants(self, provider: str) -> list[str]:
        return sorted(t.decode() for t in self.redis.smembers(f"{PREFIX}tenants:{provider}"))  # type: ignore[union-attr]

    # -- owners, documents, counters -------------------------------------------------------------

    @_reachable
    def claim(self, provider: str, key: str, tenant: str) -> None:
        self.redis.hset(f"{PREFIX}owner:{provider}", key, tenant)

    @_reachable
    def owner(self, provider: str, key: str) -> str | None:
        found = self.redis.hget(f"{PREFIX}owner:{provider}", key)
        return found.decode() if found is not None else None  # type: ignore[union-attr]

    @_reachable
    def get_doc(self, name: str) -> Any | None:
        raw = self.redis.get(f"{PREFIX}doc:{name}")
        return json.loads(raw) if raw is not None else None  # type: ignore[arg-type]

    @_reachable
    def update_doc(self, name: str, change: Callable[[Any | None], Any]) -> Any:
        key = f"{PREFIX}doc:{name}"

        def attempt(pipe: Any) -> Any:  # WATCH/MULTI: redis-py re-runs this when another writer got there first
            raw = pipe.get(key)
            value = change(json.loads(raw) if raw is not None else None)
            pipe.multi()
            pipe.set(key, json.dumps(value, separators=(",", ":")))
            pipe.incr(f"{PREFIX}generation")
            return value

        return self.redis.transaction(attempt, key, value_from_callable=True)

    @_reachable
    def incr(self, name: str) -> int:
        return int(self.redis.incr(f"{PREFIX}count:{name}"))  # type: ignore[arg-type]

    @_reachable
    def counter(self, name: str) -> int:
        return int(self.redis.get(f"{PREFIX}count:{name}") or 0)  # type: ignore[arg-type]

    @_reachable
    def clear_counters(self, prefix: str = "") -> None:
        keys = list(self.redis.scan_iter(f"{PREFIX}count:{prefix}*", count=500))
        if keys:
            self.redis.delete(*keys)

    @_reachable
    def generation(self) -> int:
        return int(self.redis.get(f"{PREFIX}generation") or 0)  # type: ignore[arg-type]

    @_reachable
    def reset(self, provider: str | None = None, tenant: str | None = None) -> None:
        providers = [provider] if provider is not None else list(self.state_classes)
        pipe = self.redis.pipeline(transaction=True)
        for name in providers:
            owners = self.redis.hgetall(f"{PREFIX}owner:{name}")
            if tenant is None:
                for key in self.redis.smembers(f"{PREFIX}tenants:{name}"):  # type: ignore[union-attr]
                    pipe.delete(f"{PREFIX}state:{name}:{key.decode()}")
                pipe.delete(f"{PREFIX}tenants:{name}", f"{PREFIX}owner:{name}")
            else:
                pipe.delete(f"{PREFIX}state:{name}:{tenant}")
                pipe.srem(f"{PREFIX}tenants:{name}", tenant)
                mine = [k for k, v in owners.items() if v.decode() == tenant]  # type: ignore[union-attr]
                if mine:
                    pipe.hdel(f"{PREFIX}owner:{name}", *mine)
        pipe.execute()

    def close(self) -> None:
        self.redis.close()
