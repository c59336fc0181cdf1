"""Provider errors: raised by models and views, rendered in the owning provider's own envelope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    """What a view returns: status, body data and extra headers; the provider's codec renders it.

    `raw` bypasses the codec (pre-encoded bytes, e.g. an HTML page or a scenario's malformed body).
    """

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str | None = None


class ProviderError(Exception):
    """Base of every provider's error class: a wire status and a body in the provider's envelope.

    Subclasses set `status` and implement `body()`; the pipeline turns the error into a `Reply`.
    """

    status: int = 400

    def __init__(self, message: str = "", *, status: int | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.headers = dict(headers or {})

    def body(self, now: float) -> Any:
        """Return the provider's error body at virtual time `now`; each provider's base error overrides it."""
        return {"error": self.message}

    def reply(self, now: float) -> Reply:
        """Render this error as a reply."""
        return Reply(self.status, self.body(now), dict(self.headers))


class ContractMismatch(Exception):
    """A response the emulator produced does not match its contract (strict mode): a bug, loudly."""

    def __init__(self, contract: str, path: str, message: str):
        super().__init__(f"{contract} at {path or '/'}: {message}")
        self.contract = contract
        self.path = path
        self.detail = message


class ConfigError(Exception):
    """A bad data file (contract, scenario, tenants): fails start-up with file, item and problem."""
