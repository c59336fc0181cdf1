"""Compact HS256 JSON Web Tokens, as the emulated providers issue them (Izipay, Zai, Payelata).

Hand-written on purpose: PyJWT spends ~10x longer per token (key-format checks on every call), and
token issuing sits on the benchmarked hot path. The test suite verifies these tokens with PyJWT.
"""

from __future__ import annotations

import base64
import hmac
import json
from typing import Any

_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
_HEADER_TEXT = _HEADER.decode("ascii")


class TokenError(ValueError):
    """Not a well-formed HS256 JWT, or its signature does not verify."""


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (ValueError, TypeError) as exc:
        raise TokenError("bad base64url") from exc


def encode(claims: dict[str, Any], secret: str) -> str:
    """Sign `claims` (key order kept) with HMAC-SHA256."""
    payload = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    signing_input = _HEADER + b"." + payload
    signature = _b64(hmac.digest(secret.encode("utf-8"), signing_input, "sha256"))
    return (signing_input + b"." + signature).decode("ascii")


def claims(token: str) -> dict[str, Any]:
    """Read the claims without verifying (to find whose key verifies the token)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("not three segments")
    try:
        header = {"alg": "HS256"} if parts[0] == _HEADER_TEXT else json.loads(_unb64(parts[0]))
        data = json.loads(_unb64(parts[1]))
    except ValueError as exc:
        raise TokenError("segments are not JSON") from exc
    if not isinstance(header, dict) or header.get("alg") != "HS256" or not isinstance(data, dict):
        raise TokenError("not an HS256 token")
    return data


def verify(token: str, secret: str) -> None:
    """Raise TokenError unless the token's HS256 signature verifies with `secret`."""
    signing_input, _, signature = token.rpartition(".")
    expected = _b64(hmac.digest(secret.encode("utf-8"), signing_input.encode("ascii", "replace"), "sha256"))
    if not hmac.compare_digest(expected, signature.encode("ascii", "replace")):
        raise TokenError("bad signature")


def decode(token: str, secret: str) -> dict[str, Any]:
    """Return the claims of a token whose HS256 signature verifies with `secret`."""
    data = claims(token)
    verify(token, secret)
    return data
