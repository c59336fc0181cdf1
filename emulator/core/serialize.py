"""Provider state as JSON data: one mechanism for every provider (dataclasses all the way down).

`to_data` turns a state object into plain JSON values without losing what it holds (the form a
persistent store can keep); `redact` hides secrets from what the admin API shows. A state type the
mechanism does not know is a TypeError, so a new kind of state cannot slip out as a Python repr.
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import re
from collections.abc import Mapping
from typing import Any

from emulator.core.cards import mask_text
from emulator.core.tenants import Tenant

REDACTED = "[redacted]"
# Field and key names whose values are credentials or card secrets: api keys, client, callback, JWT and
# webhook secrets, passwords, token secrets, salts, private keys, CVVs. A full PAN is masked wherever it is.
SECRET_NAME = re.compile(
    r"secret|passw(or)?d|api_?key|salt|private_?key|cvv|cvc|security_?code|secure_?code|^pan$", re.IGNORECASE
)
_COUNT = re.compile(r"count\((-?\d+)\)")


def to_data(value: Any) -> Any:
    """A state object as JSON-ready data: dataclasses become objects, sets sorted lists, a tenant its id."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return to_data(value.value)
    if isinstance(value, Tenant):  # the tenant's settings live in its directory, not in its state
        return value.id
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_data(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {_key(k): to_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_data(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((to_data(v) for v in value), key=repr)
    if isinstance(value, itertools.count):  # an id sequence: the next number it hands out
        return int(_COUNT.fullmatch(repr(value)).group(1))  # type: ignore[union-attr]
    raise TypeError(f"cannot serialize {type(value).__qualname__}: make it a dataclass or a plain value")


def _key(key: Any) -> str:
    if isinstance(key, tuple):
        return "|".join(str(part) for part in key)
    return str(to_data(key))


def redact(data: Any, name: str = "") -> Any:
    """Hide the values of secret-named fields (None and "" stay, to show whether one is set); mask PANs."""
    if SECRET_NAME.search(name) and data not in (None, ""):
        return REDACTED
    if isinstance(data, dict):
        return {k: redact(v, k) for k, v in data.items()}
    if isinstance(data, list):
        return [redact(v) for v in data]
    if isinstance(data, str):
        return mask_text(data)
    return data


def dump_state(state: Any) -> Any:
    """What `/__admin/state/<provider>` shows of one tenant's state: its data, secrets redacted."""
    return redact(to_data(state))
