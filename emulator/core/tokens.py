"""Compact HMAC-signed JSON Web Tokens (HS256, HS512), as the emulated providers issue them.

Hand-written on purpose: PyJWT spends ~10x longer per token (key-format checks on every call), and
token issuing sits on the benchmarked hot path. The test suite verifies these tokens with PyJWT.
"""

from __future__ import annotations

import base64
import hmac
import json
from typing import Any

_DIGESTS = {"HS256": "sha256", "HS512": "sha512"}


class TokenError(ValueError):
    """Not a well-formed JWT of a supported HMAC algorithm, or its signature does not verify."""


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _unb64(part: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (ValueError, TypeError) as exc:
        raise TokenError("bad base64url") from exc


def _key(secret: str | bytes) -> bytes:
    return secret if isinstance(secret, bytes) else secret.encode("utf-8")


def _compact(data: dict[str, Any]) -> bytes:
    return _b64(json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


_HEADERS: dict[tuple[str, bool], bytes] = {}


def _header(algorithm: str, typ_first: bool) -> bytes:
    key = (algorithm, typ_first)
    if key not in _HEADERS:
        header = {"typ": "JWT", "alg": algorithm} if typ_first else {"alg": algorithm, "typ": "JWT"}
        _HEADERS[key] = _compact(header)
    return _HEADERS[key]


# The headers this module writes, decoded once (reading a token's header is on the hot path).
_KNOWN_HEADERS = {
    _header(alg, typ_first).decode("ascii"): {"alg": alg, "typ": "JWT"}
    for alg in _DIGESTS
    for typ_first in (True, False)
}


def encode(claims: dict[str, Any], secret: str | bytes, algorithm: str = "HS256", *, typ_first: bool = False) -> str:
    """Sign `claims` (key order kept); the header is `{"alg","typ"}`, or `{"typ","alg"}` with `typ_first`."""
    signing_input = _header(algorithm, typ_first) + b"." + _compact(claims)
    signature = _b64(hmac.digest(_key(secret), signing_input, _DIGESTS[algorithm]))
    return (signing_input + b"." + signature).decode("ascii")


def _algorithm(token: str) -> tuple[str, dict[str, Any]]:
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("not three segments")
    try:
        header = _KNOWN_HEADERS.get(parts[0]) or json.loads(_unb64(parts[0]))
        data = json.loads(_unb64(parts[1]))
    except ValueError as exc:
        raise TokenError("segments are not JSON") from exc
    if not isinstance(header, dict) or header.get("alg") not in _DIGESTS or not isinstance(data, dict):
        raise TokenError("not an HMAC-signed token")
    return header["alg"], data


def claims(token: str) -> dict[str, Any]:
    """Read the claims without verifying (to find whose key verifies the token)."""
    return _algorithm(token)[1]


def verify(token: str, secret: str | bytes, algorithm: str = "HS256") -> None:
    """Raise TokenError unless the token is signed with `algorithm` and `secret`."""
    if _algorithm(token)[0] != algorithm:
        raise TokenError("unexpected algorithm")
    signing_input, _, signature = token.rpartition(".")
    expected = _b64(hmac.digest(_key(secret), signing_input.encode("ascii", "replace"), _DIGESTS[algorithm]))
    if not hmac.compare_digest(expected, signature.encode("ascii", "replace")):
        raise TokenError("bad signature")


def decode(token: str, secret: str | bytes, algorithm: str = "HS256") -> dict[str, Any]:
    """Return the claims of a token whose signature verifies with `secret`."""
    data = claims(token)
    verify(token, secret, algorithm)
    return data
