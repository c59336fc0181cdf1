"""Toy's error envelope and named error catalogue."""

from __future__ import annotations

from typing import Any

from emulator.core.errors import ProviderError


class ToyError(ProviderError):
    """`{"code": ..., "message": ...}`, the code naming the error."""

    code = "error"

    def body(self, now: float) -> Any:
        return {"code": self.code, "message": self.message}


def _error(name: str, status: int, message: str) -> type[ToyError]:
    def init(self: ToyError, text: str = message) -> None:
        ToyError.__init__(self, text)

    return type(name, (ToyError,), {"code": name.lower(), "status": status, "__init__": init})


InvalidRequest = _error("InvalidRequest", 400, "invalid request")
BadCredentials = _error("BadCredentials", 401, "bad credentials")
TokenRejected = _error("TokenRejected", 401, "token rejected")
TokenExpired = _error("TokenExpired", 401, "token expired")
TokenUsed = _error("TokenUsed", 400, "token already used")
PlatformError = _error("PlatformError", 500, "platform error")
NotFound = _error("NotFound", 404, "not found")
MethodNotAllowed = _error("MethodNotAllowed", 405, "method not allowed")

CATALOGUE = {
    "bad_credentials": BadCredentials,
    "token_rejected": TokenRejected,
    "token_expired": TokenExpired,
    "platform_error": PlatformError,
}
