"""Shared HTTP plumbing of the client suite: a requests.Session with timeouts, retry and typed errors.

Clients import only the standard library, requests and this module: they must never share signing
or encoding code with the emulator, or a shared bug would hide exactly what payemu exists to catch.
"""

from __future__ import annotations

import time
from typing import Any

import requests


class ApiError(Exception):
    """A provider answered with an error; carries the status, the provider's code and message."""

    def __init__(self, status: int, message: str, *, code: str | None = None, body: Any = None) -> None:
        super().__init__(f"{status} {code or ''} {message}".replace("  ", " ").strip())
        self.status = status
        self.code = code
        self.message = message
        self.body = body


class BadRequest(ApiError):
    """400: the request was malformed."""


class Unauthorized(ApiError):
    """401: missing, bad or expired credentials."""


class Forbidden(ApiError):
    """403: authenticated but not allowed."""


class NotFound(ApiError):
    """404: no such resource."""


class Unprocessable(ApiError):
    """422: validation failed."""


class RateLimited(ApiError):
    """429: too many requests."""


class ServerError(ApiError):
    """5xx: the provider failed."""


_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    422: Unprocessable,
    429: RateLimited,
}


def error_class(status: int) -> type[ApiError]:
    """The typed exception for an HTTP status."""
    if status >= 500:
        return ServerError
    return _BY_STATUS.get(status, ApiError)


class HttpClient:
    """A session bound to a base URL; retries 5xx and connection errors only, with backoff."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.2,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.session = session or requests.Session()

    def request(self, method: str, path: str, *, retry: bool = True, **kwargs: Any) -> requests.Response:
        """Send a request; on 5xx or a connection error retry up to `retries` times when `retry`."""
        kwargs.setdefault("timeout", self.timeout)
        attempts = 1 + (self.retries if retry else 0)
        for attempt in range(attempts):
            try:
                response = self.session.request(method, self.base_url + path, **kwargs)
            except (requests.ConnectionError, requests.Timeout):
                if attempt + 1 >= attempts:
                    raise
            else:
                if response.status_code < 500 or attempt + 1 >= attempts:
                    return response
            time.sleep(self.backoff * (2**attempt))
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        self.session.close()
