"""Option values as they arrive from the command line, the environment or an admin call: often text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})


def as_bool(value: Any) -> bool:
    """`"true"`, `"yes"`, `"on"`, `"1"` (any case) and truthy non-text values are True."""
    if isinstance(value, str):
        return value.strip().lower() in TRUE_WORDS
    return bool(value)


def as_delays(value: str | Iterable[float]) -> tuple[float, ...]:
    """Seconds between attempts, from a list or from comma-separated text (`"1,5,30"`)."""
    if isinstance(value, str):
        return tuple(float(part) for part in value.split(",") if part.strip())
    return tuple(float(part) for part in value)
