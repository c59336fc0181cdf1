"""The virtual clock: the only source of time in the emulator (real time plus an adjustable offset)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


class Clock:
    """Real time shifted by an offset that the admin API and scenarios move forward or set."""

    def __init__(self) -> None:
        self._offset = 0.0
        self._lock = threading.Lock()
        self._listeners: list[Callable[[float], None]] = []

    def now(self) -> float:
        """Return the virtual time as Unix seconds."""
        return time.time() + self._offset

    @property
    def offset(self) -> float:
        return self._offset

    def advance(self, seconds: float) -> float:
        """Move the virtual time forward (or back, if negative); notify listeners; return the new now."""
        with self._lock:
            self._offset += seconds
        return self._changed()

    def set(self, epoch_seconds: float) -> float:
        """Jump the virtual time to an absolute Unix time."""
        with self._lock:
            self._offset = epoch_seconds - time.time()
        return self._changed()

    def reset(self) -> None:
        """Return to real time."""
        with self._lock:
            self._offset = 0.0

    def on_change(self, listener: Callable[[float], None]) -> None:
        """Call `listener(now)` after every advance or set (expiry sweeps, unprompted callbacks)."""
        self._listeners.append(listener)

    def _changed(self) -> float:
        now = self.now()
        for listener in self._listeners:
            listener(now)
        return now


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
