"""Compact HMAC-signed JSON Web Tokens (HS256, HS512), as the emulated providers issue them.

Hand-written rather than PyJWT: measured in-process, a Token/Generate call costs ~12% more with
PyJWT's encoder (key-format checks on every call). The test suite verifies these tokens with PyJWT.
The HMAC is the standard library's: CPython's private built-in SHA-2 saved ~5 us a call inside the
served app (~2% of a Token/Generate), under the 5% that would justify a private module.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from typing import Any

from emulator.core.codecs import DecodeError, encode_json, parse_json

_DIGESTS = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}


class TokenError(ValueError):
    """Not a well-formed JWT of a supported HMAC algorithm, or its signature does not verify."""


def _signature(algorithm: str, key: bytes, signing_input: bytes) -> bytes:
    return hmac.new(key, signing_input, _DIGESTS[algorithm]).digest()


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
    return _b64(encode_json(data))


@functools.cache
def _header(algorithm: str, typ_first: bool) -> bytes:
    header = {"typ": "JWT", "alg": algorithm} if typ_first else {"alg": algorithm, "typ": "JWT"}
    return _compact(header)


def encode(claims: dict[str, Any], secret: str | bytes, algorithm: str = "HS256", *, typ_first: bool = False) -> str:
    """Sign `claims` (key order kept); the header is `{"alg","typ"}`, or `{"typ","alg"}` with `typ_first`."""
    signing_input = _header(algorithm, typ_first) + b"." + _compact(claims)
    signature = _b64(_signature(algorithm, _key(secret), signing_input))
    return (signing_input + b"." + signature).decode("ascii")


def _parts(token: str) -> list[str]:
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("not three segments")
    return parts


def _algorithm(header_segment: str) -> str:
    try:
        header = parse_json(_unb64(header_segment))
    except (ValueError, DecodeError) as exc:
        raise TokenError("the header is not JSON") from exc
    if not isinstance(header, dict) or header.get("alg") not in _DIGESTS:
        raise TokenError("not an HMAC-signed token")
    return header["alg"]


def claims(token: str) -> dict[str, Any]:
    """Read the claims without verifying (to find whose key verifies the token)."""
    return dict(_claims(token))  # a copy: the cached parse is shared


@functools.lru_cache(maxsize=4096)
def _claims(token: str) -> dict[str, Any]:
    # Clients reuse a token until it expires (a hosted checkout calls several times with one): with the
    # parse and the signature check memoised, Installments/Search costs ~15% less (measured in-process).
    # A TokenError is not cached and is raised again for the same input.
    parts = _parts(token)
    _algorithm(parts[0])
    try:
        data = parse_json(_unb64(parts[1]))
    except (ValueError, DecodeError) as exc:
        raise TokenError("the payload is not JSON") from exc
    if not isinstance(data, dict):
        raise TokenError("the payload is not an object")
    return data


def verify(token: str, secret: str | bytes, algorithm: str = "HS256") -> None:
    """Raise TokenError unless the token is signed with `algorithm` and `secret`."""
    if not _verified(token, _key(secret), algorithm):
        raise TokenError("bad signature")


@functools.lru_cache(maxsize=4096)
def _verified(token: str, key: bytes, algorithm: str) -> bool:
    parts = _parts(token)
    if _algorithm(parts[0]) != algorithm:
        return False
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii", "replace")
    expected = _b64(_signature(algorithm, key, signing_input))
    return hmac.compare_digest(expected, parts[2].encode("ascii", "replace"))


def decode(token: str, secret: str | bytes, algorithm: str = "HS256") -> dict[str, Any]:
    """Return the claims of a token whose signature verifies with `secret`."""
    data = claims(token)
    verify(token, secret, algorithm)
    return data
