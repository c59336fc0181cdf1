"""Outbound callbacks (webhooks): queued off the request thread, delayed, retried, kept in an outbox.

Providers hand over a ready body and headers (signed by the provider's own signing module); this
module only schedules and delivers. Scenario effects (`delay_ms`, `drop`, `duplicate`, `reorder`)
are applied here. Every attempt is recorded for the admin API (`/__admin/callbacks`).

Delays and retries are due on the virtual clock: they pass in real time as the clock does, and
moving the clock forward (`wake`, called by the runtime on every advance) makes them due at once.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from emulator.core.cards import mask_text

DEFAULT_RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0)


@dataclass
class Attempt:
    at: float  # virtual time of the attempt
    status: int | None
    error: str | None
    duration_ms: float

    def to_json(self) -> dict[str, Any]:
        return {"at": self.at, "status": self.status, "error": self.error, "duration_ms": round(self.duration_ms, 2)}


@dataclass
class Delivery:
    """One callback and its attempts."""

    id: str
    provider: str
    tenant: str
    event: str
    url: str
    headers: dict[str, str]
    body: bytes
    created_at: float
    retry_delays: tuple[float, ...]
    status: str = "pending"  # pending | delivered | failed | dropped | held
    attempts: list[Attempt] = field(default_factory=list)
    duplicate_of: str | None = None
    success_codes: tuple[int, ...] = (200,)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "provider": self.provider,
            "tenant": self.tenant,
            "event": self.event,
            "url": self.url,
            "status": self.status,
            "headers": self.headers,
            "body": mask_text(self.body.decode("utf-8", "replace")),
            "created_at": self.created_at,
            "attempts": [a.to_json() for a in self.attempts],
            "duplicate_of": self.duplicate_of,
        }


class Callbacks:
    """The dispatcher: a scheduler thread and a few sender threads, started on first use."""

    def __init__(self, now: Any, *, enabled: bool = True, timeout: float = 5.0, limit: int = 1000) -> None:
        self._now = now  # virtual clock reader
        self.enabled = enabled
        self.timeout = timeout
        self.limit = limit
        self._outbox: dict[str, Delivery] = {}
        self._queue: list[tuple[float, int, str]] = []
        self._held: dict[tuple[str, str], list[str]] = {}
        self._seq = itertools.count(1)
        self._cond = threading.Condition()
        self._inflight = 0
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._closed = False

    # -- producing -------------------------------------------------------------------------------

    def send(
        self,
        *,
        provider: str,
        tenant: str,
        url: str,
        body: bytes,
        headers: dict[str, str],
        event: str,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        success_codes: tuple[int, ...] = (200,),
        effects: dict[str, Any] | None = None,
    ) -> Delivery:
        """Queue a callback; `effects` come from the scenario rule that matched the call."""
        effects = effects or {}
        delivery = Delivery(
            id=f"cb_{next(self._seq)}",
            provider=provider,
            tenant=tenant,
            event=event,
            url=url,
            headers=dict(headers),
            body=body,
            created_at=self._now(),
            retry_delays=tuple(retry_delays),
            success_codes=success_codes,
        )
        delay = effects.get("delay_ms", 0) / 1000.0
        with self._cond:
            self._remember(delivery)
            if effects.get("drop"):
                delivery.status = "dropped"
                delivery.attempts.append(Attempt(self._now(), None, "dropped by scenario", 0.0))
            elif effects.get("reorder"):
                delivery.status = "held"  # released right after the next callback of this tenant
                self._held.setdefault((provider, tenant), []).append(delivery.id)
            else:
                self._schedule(delivery.id, delay)
                self._release_held(provider, tenant, delay + 0.05)
            if effects.get("duplicate"):
                twin = Delivery(**{**delivery.__dict__, "id": f"cb_{next(self._seq)}", "attempts": []})
                twin.duplicate_of, twin.status = delivery.id, "pending"
                self._remember(twin)
                self._schedule(twin.id, delay + 0.05)
        return delivery

    def _remember(self, delivery: Delivery) -> None:
        self._outbox[delivery.id] = delivery
        if len(self._outbox) > self.limit:  # bounded: forget the oldest finished deliveries
            for old_id in list(self._outbox)[: len(self._outbox) - self.limit]:
                if self._outbox[old_id].status in ("delivered", "failed", "dropped"):
                    del self._outbox[old_id]

    def _release_held(self, provider: str, tenant: str, delay: float) -> None:
        for held_id in self._held.pop((provider, tenant), []):
            self._outbox[held_id].status = "pending"
            self._schedule(held_id, delay)

    def _schedule(self, delivery_id: str, delay: float) -> None:
        heapq.heappush(self._queue, (self._now() + delay, next(self._seq), delivery_id))
        self._ensure_thread()
        self._cond.notify_all()

    # -- admin -----------------------------------------------------------------------------------

    def list(self, provider: str | None = None, tenant: str | None = None, status: str | None = None) -> list[Delivery]:
        with self._cond:
            items = list(self._outbox.values())
        return [
            d
            for d in items
            if (provider is None or d.provider == provider)
            and (tenant is None or d.tenant == tenant)
            and (status is None or d.status == status)
        ]

    def get(self, delivery_id: str) -> Delivery | None:
        return self._outbox.get(delivery_id)

    def redeliver(self, delivery_id: str, wait: float = 0.0) -> Delivery:
        """Send a delivery again now, whatever its state (KeyError if unknown); wait up to `wait` seconds
        for that attempt, never for anything else."""
        with self._cond:
            delivery = self._outbox[delivery_id]
            delivery.status = "pending"
            self._schedule(delivery_id, 0.0)
            attempted = {delivery_id: len(delivery.attempts)}
        self._await_attempts(attempted, wait)
        return delivery

    def flush(self, wait: float = 10.0) -> dict[str, Any]:
        """Make every pending or held delivery due now and wait up to `wait` seconds for one attempt of
        each (not for their retries); report what was delivered, failed or is still pending."""
        with self._cond:
            for key in list(self._held):
                self._release_held(*key, 0.0)
            self._queue = [(0.0, seq, delivery_id) for (_due, seq, delivery_id) in self._queue]
            heapq.heapify(self._queue)
            self._cond.notify_all()
            attempted = {d.id: len(d.attempts) for d in self._outbox.values() if d.status == "pending"}
        self._await_attempts(attempted, wait)
        with self._cond:
            flushed = [self._outbox[i] for i in attempted if i in self._outbox]
            return {
                "flushed": len(attempted),
                "delivered": [d.id for d in flushed if d.status == "delivered"],
                "failed": [d.id for d in flushed if d.status == "failed"],
                "pending": [d.id for d in self._outbox.values() if d.status in ("pending", "held")],
            }

    def _await_attempts(self, attempted: dict[str, int], wait: float) -> bool:
        """Wait until each delivery has had an attempt beyond the count given, or `wait` seconds pass."""
        if not self.enabled:  # queued only: no attempt will come
            return False
        deadline = time.monotonic() + max(0.0, wait)

        def done() -> bool:
            return all(
                (d := self._outbox.get(i)) is None or len(d.attempts) > count or d.status not in ("pending", "held")
                for i, count in attempted.items()
            )

        with self._cond:
            while not done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is queued or in flight; True if idle before the timeout."""
        return self._wait(lambda: not self._queue and not self._inflight, timeout)

    def wait_settled(self, timeout: float = 10.0) -> bool:
        """Wait until nothing is in flight or due now (later retries and delays may stay queued)."""
        return self._wait(
            lambda: not self._inflight and not (self._queue and self._queue[0][0] <= self._now()), timeout
        )

    def _wait(self, done: Any, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not done():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.05))
        return True

    def wake(self, *moved: Any) -> None:
        """Re-check what is due (the virtual clock moved)."""
        with self._cond:
            self._cond.notify_all()

    def reset(self) -> None:
        with self._cond:
            self._outbox.clear()
            self._queue.clear()
            self._held.clear()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    # -- delivering ------------------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._pool = self._pool or ThreadPoolExecutor(max_workers=4, thread_name_prefix="payemu-callback")
            self._thread = threading.Thread(target=self._run, name="payemu-callbacks", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (not self._queue or self._queue[0][0] > self._now()):
                    wait = self._queue[0][0] - self._now() if self._queue else None
                    self._cond.wait(wait if wait is None else max(wait, 0.001))
                if self._closed:
                    return
                _due, _seq, delivery_id = heapq.heappop(self._queue)
                delivery = self._outbox.get(delivery_id)
                if delivery is None or not self.enabled:
                    self._cond.notify_all()
                    continue
                self._inflight += 1
            assert self._pool is not None
            self._pool.submit(self._attempt, delivery)

    def _attempt(self, delivery: Delivery) -> None:
        import requests  # imported on first delivery: keeps the server's cold start short

        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        try:
            response = requests.post(delivery.url, data=delivery.body, headers=delivery.headers, timeout=self.timeout)
            status = response.status_code
        except requests.RequestException as exc:
            error = f"{type(exc).__name__}: {exc}"
        attempt = Attempt(self._now(), status, error, (time.perf_counter() - started) * 1000)
        with self._cond:
            delivery.attempts.append(attempt)
            if status in delivery.success_codes:
                delivery.status = "delivered"
            else:
                retries_done = len([a for a in delivery.attempts if a.error != "dropped by scenario"]) - 1
                if retries_done < len(delivery.retry_delays):
                    delivery.status = "pending"
                    self._schedule(delivery.id, delivery.retry_delays[retries_done])
                else:
                    delivery.status = "failed"
            self._inflight -= 1
            self._cond.notify_all()
