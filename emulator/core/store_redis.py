"""The Redis backend (`--store redis://host:port/db`): N replicas on one Redis act as one emulator.

Atomicity comes from Redis itself: a tenant's state is changed under a Redis lock (the TAKE script:
`SET NX PX` and the state read in one round trip; GIVE writes it and releases only one's own lock),
counters are `INCR`, owners a hash,
documents plain keys with a generation counter bumped in the same `MULTI`. Nothing is read, checked
and written back in Python without the tenant's lock held.
"""

from __future__ import annotations

import functools
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import redis
from redis.exceptions import NoScriptError, RedisError

from emulator.core.errors import ConfigError
from emulator.core.store import PersistentStore, StateClass, StoreUnavailable, TenantOf

PREFIX = "payemu:"
GENERATION = f"{PREFIX}generation"  # bumped with every document change (core/store.py)
LOCK_SECONDS = 30.0  # a replica killed while holding a lock frees it after this long
LOCK_WAIT_SECONDS = 10.0
T = TypeVar("T")

# KEYS: lock, state. ARGV: token, ttl ms. -> {1, state} when taken, {0, false} when another holds the lock.
TAKE = """
if redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('get', KEYS[2])}
end
return {0, false}
"""
# KEYS: lock, state, tenants. ARGV: token, new state ('' = unchanged), tenant. Writes only while still the holder.
GIVE = """
if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then
  redis.call('set', KEYS[2], ARGV[2])
  redis.call('sadd', KEYS[3], ARGV[3])
end
redis.call('del', KEYS[1])
return 1
"""


# KEYS: log, id counter. ARGV: limit, items oldest first. Numbers and prepends each, then trims.
APPEND = """
for i = 2, #ARGV do
  local number = redis.call('incr', KEYS[2])
  redis.call('lpush', KEYS[1], number .. ' ' .. ARGV[i])
end
redis.call('ltrim', KEYS[1], 0, tonumber(ARGV[1]) - 1)
return 1
"""


class _Handle:
    """A held tenant lock: its token, the state read with it, the state to write when it is given back."""

    __slots__ = ("data", "keys", "pending", "token")

    def __init__(self, token: str, data: bytes | None) -> None:
        self.token = token
        self.data = data
        self.keys: tuple[str, ...] = ()
        self.pending: tuple[str, str, bytes] | None = None


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
        self._pool_client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)
        self._threads = threading.local()
        self._clients: list[redis.Redis] = []
        self._clients_lock = threading.Lock()
        try:
            self._pool_client.ping()
        except (RedisError, OSError) as exc:
            raise ConfigError(f"--store {url}: cannot reach Redis: {exc}") from None
        self._take = self._pool_client.register_script(TAKE)
        self._append = self._pool_client.register_script(APPEND)
        self._give = self._pool_client.register_script(GIVE)

    @property
    def redis(self) -> redis.Redis:
        """This thread's client, holding one connection of the pool for good: a command then skips the
        pool's checkout and return, ~50 of ~110 µs of CPU a command (measured; three commands a request)."""
        client = getattr(self._threads, "client", None)
        if client is None:
            client = redis.Redis(connection_pool=self._pool_client.connection_pool, single_connection_client=True)
            self._threads.client = client
            with self._clients_lock:
                self._clients.append(client)
        return client

    def _command(self, *args: Any) -> Any:
        """One command on this thread's connection through redis-py's `Connection` alone, without the
        client's command layer (retry wrapper, response callbacks, `Script` bookkeeping). The three
        commands of every request then cost ~35 instead of ~55-80 µs of CPU each: served Token/Generate
        1 166 -> 1 333 req/s (+14 %), 862 -> 738 µs of CPU a request, six alternating runs each.
        Errors are redis-py's own: the connection is dropped on a lost socket and made again next time."""
        connection = self.redis.connection
        connection.send_packed_command(connection.pack_command(*args), check_health=False)
        return connection.read_response()

    def _run(self, script: Any, keys: tuple[str, ...], args: tuple[Any, ...]) -> Any:
        """EVALSHA a registered script with `_command`; loaded again if Redis has forgotten it (a restart)."""
        try:
            return self._command("EVALSHA", script.sha, len(keys), *keys, *args)
        except NoScriptError:
            script.sha = self._command("SCRIPT", "LOAD", script.script).decode()
            return self._command("EVALSHA", script.sha, len(keys), *keys, *args)

    # -- provider states -------------------------------------------------------------------------

    @_reachable
    def _lock(self, provider: str, tenant: str) -> Any:
        """Take the tenant's lock and read its state in one round trip (TAKE); poll while another holds it."""
        token = secrets.token_hex(8)
        lock, state = f"{PREFIX}lock:{provider}:{tenant}", f"{PREFIX}state:{provider}:{tenant}"
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            taken, data = self._run(self._take, (lock, state), (token, int(LOCK_SECONDS * 1000)))
            if taken:
                handle = _Handle(token, data)
                handle.keys = (lock, state, f"{PREFIX}tenants:{provider}")
                return handle
            if time.monotonic() > deadline:
                raise StoreUnavailable(f"redis {self.url}: {provider}/{tenant} stayed locked for {LOCK_WAIT_SECONDS} s")
            time.sleep(0.0005)

    @_reachable
    def _unlock(self, handle: Any, *, commit: bool) -> None:
        if handle.pending is None:  # nothing changed, or the handler failed before the write: just free it
            self._run(self._give, handle.keys, (handle.token, "", ""))
            return
        provider, tenant, data = handle.pending
        if not self._run(self._give, handle.keys, (handle.token, data, tenant)):
            raise StoreUnavailable(f"redis {self.url}: {provider}/{tenant} was held past {LOCK_SECONDS} s; not written")

    @_reachable
    def _load(self, provider: str, tenant: str) -> bytes | None:
        return self.redis.get(f"{PREFIX}state:{provider}:{tenant}")  # type: ignore[return-value]

    def _load_held(self, handle: Any, provider: str, tenant: str) -> bytes | None:
        return handle.data  # read as the lock was taken (TAKE)

    def _save_held(self, handle: Any, provider: str, tenant: str, data: bytes) -> None:
        handle.pending = (provider, tenant, data)  # written as the lock is given back (GIVE)

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
    def update_doc(self, name: str, change: Callable[[Any | None], Any], *, quiet: bool = False) -> Any:
        key = f"{PREFIX}doc:{name}"

        def attempt(pipe: Any) -> Any:  # WATCH/MULTI: redis-py re-runs this when another writer got there first
            raw = pipe.get(key)
            value = change(json.loads(raw) if raw is not None else None)
            pipe.multi()
            pipe.set(key, json.dumps(value, separators=(",", ":")))
            if not quiet:
                pipe.incr(GENERATION)
            return value

        return self.redis.transaction(attempt, key, value_from_callable=True)

    @_reachable
    def get_docs(self, names: list[str]) -> list[Any | None]:
        if not names:
            return []
        raws = self.redis.mget([f"{PREFIX}doc:{name}" for name in names])
        return [json.loads(raw) if raw is not None else None for raw in raws]  # type: ignore[union-attr]

    @_reachable
    def delete_docs(self, names: list[str]) -> None:
        if names:
            self.redis.delete(*(f"{PREFIX}doc:{name}" for name in names))

    @_reachable
    def incr(self, name: str) -> int:
        return int(self.redis.incr(f"{PREFIX}count:{name}"))  # type: ignore[arg-type]

    @_reachable
    def counter(self, name: str) -> int:
        return int(self.redis.get(f"{PREFIX}count:{name}") or 0)  # type: ignore[arg-type]

    @_reachable
    def log_append(self, name: str, items: list[bytes], limit: int) -> None:
        if items:
            self._run(self._append, (f"{PREFIX}log:{name}", f"{PREFIX}count:log:{name}"), (limit, *items))

    @_reachable
    def log_read(self, name: str) -> list[tuple[int, bytes]]:
        items = []
        for raw in self.redis.lrange(f"{PREFIX}log:{name}", 0, -1):  # type: ignore[union-attr]
            number, _, item = raw.partition(b" ")
            items.append((int(number), item))
        return items

    @_reachable
    def log_replace(self, name: str, items: list[tuple[int, bytes]]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.delete(f"{PREFIX}log:{name}")
        if items:
            pipe.rpush(f"{PREFIX}log:{name}", *(str(number).encode() + b" " + item for number, item in items))
        pipe.execute()

    @_reachable
    def log_total(self, name: str) -> int:
        return self.counter(f"log:{name}")

    @_reachable
    def clear_counters(self, prefix: str = "") -> None:
        keys = list(self.redis.scan_iter(f"{PREFIX}count:{prefix}*", count=500))
        if keys:
            self.redis.delete(*keys)

    @_reachable
    def generation(self) -> int:
        # Every request starts here, so a connection Redis closed while it sat idle (a Redis restart) is
        # made again before anything is changed: this GET is the one command safe to send twice.
        try:
            return int(self._command("GET", GENERATION) or 0)
        except redis.ConnectionError:
            return int(self._command("GET", GENERATION) or 0)

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
        with self._clients_lock:
            for client in self._clients:
                client.close()
            self._clients.clear()
        self._threads = threading.local()
        self._pool_client.close()
