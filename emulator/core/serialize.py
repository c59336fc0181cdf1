"""Provider state as JSON data: one mechanism (msgspec) for every provider's dataclass state.

`encode_state` / `decode_state` are what a persistent store keeps (lossless; the tenant is left out and
re-attached on load, so its secrets are never copied into state rows); `to_data` is the same data with
the tenant as its id; `dump_state` is what the admin API shows: that data, secrets redacted, PANs masked.
A state type msgspec cannot represent is a TypeError, so a new kind of state cannot slip out as a repr.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from emulator.core.cards import mask_text
from emulator.core.tenants import Tenant

REDACTED = "[redacted]"
# Field and key names whose values are credentials or card secrets: api keys, client, callback, JWT and
# webhook secrets, passwords, token secrets, salts, private keys, CVVs. A full PAN is masked wherever it is.
SECRET_NAME = re.compile(
    r"secret|passw(or)?d|api_?key|salt|private_?key|cvv|cvc|security_?code|secure_?code|^pan$", re.IGNORECASE
)


def _fields(state: Any) -> dict[str, Any]:
    """The state's fields as plain data, without its tenant."""
    try:
        data = msgspec.to_builtins(state, str_keys=True)
    except TypeError as exc:
        raise TypeError(
            f"cannot serialize {type(state).__qualname__}: {exc} (make it a dataclass of plain values)"
        ) from exc
    if not isinstance(data, dict):
        raise TypeError(f"cannot serialize {type(state).__qualname__}: a provider state is a dataclass")
    data.pop("tenant", None)
    return data


def encode_state(state: Any) -> bytes:
    """A provider state as JSON, without its `tenant`."""
    return msgspec.json.encode(_fields(state))


def decode_state(state_class: type, data: bytes, tenant: Tenant) -> Any:
    """Rebuild a state that `encode_state` wrote, for `tenant`."""
    fields = msgspec.json.decode(data)
    fields["tenant"] = tenant
    return msgspec.convert(fields, type=state_class)


def to_data(state: Any) -> dict[str, Any]:
    """A state as JSON-ready data: dataclasses become objects, sets lists, the tenant its id."""
    tenant = getattr(state, "tenant", None)
    return {"tenant": tenant.id if isinstance(tenant, Tenant) else tenant, **_fields(state)}


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
