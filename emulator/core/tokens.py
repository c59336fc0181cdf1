"""Compact HMAC-signed JSON Web Tokens (HS256, HS512), as the emulated providers issue them.

Hand-written on purpose: PyJWT spends ~10x longer per token (key-format checks on every call), and
token issuing sits on the benchmarked hot path. The test suite verifies these tokens with PyJWT.

The HMAC itself runs on CPython's built-in SHA-2 (RFC 2104 over precomputed pads per key), not on
OpenSSL: measured inside the served app, one OpenSSL HMAC call cost ~30 us (its per-call algorithm
fetch), a sixth of a whole Token/Generate request; the built-in hashes cost ~2 us.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import importlib
import json
from collections.abc import Callable
from typing import Any

from emulator.core.codecs import DecodeError, parse_json


def _builtin_hash(name: str) -> Callable[..., Any]:
    """CPython's own SHA-2 constructor (`_sha2` from 3.12, `_sha256`/`_sha512` before), else hashlib's."""
    for module in ("_sha2", f"_{name}"):
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    return getattr(hashlib, name)


_DIGESTS: dict[str, tuple[Callable[..., Any], int]] = {  # constructor, block size
    "HS256": (_builtin_hash("sha256"), 64),
    "HS512": (_builtin_hash("sha512"), 128),
}


@functools.lru_cache(maxsize=1024)
def _pads(algorithm: str, key: bytes) -> tuple[Any, Any]:
    """The inner and outer hash states of HMAC for one key (RFC 2104), ready to be copied."""
    new, block = _DIGESTS[algorithm]
    if len(key) > block:
        key = new(key).digest()
    key = key.ljust(block, b"\0")
    return new(bytes(b ^ 0x36 for b in key)), new(bytes(b ^ 0x5C for b in key))


def _hmac(algorithm: str, key: bytes, message: bytes) -> bytes:
    inner_pad, outer_pad = _pads(algorithm, key)
    inner = inner_pad.copy()
    inner.update(message)
    outer = outer_pad.copy()
    outer.update(inner.digest())
    return outer.digest()


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
    signature = _b64(_hmac(algorithm, _key(secret), signing_input))
    return (signing_input + b"." + signature).decode("ascii")


def _parts(token: str) -> list[str]:
    parts = token.split(".")
    if len(parts) != 3:
        raise TokenError("not three segments")
    return parts


def _algorithm(header_segment: str) -> str:
    header = _KNOWN_HEADERS.get(header_segment)
    if header is None:
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
    # Clients reuse a token until it expires (a hosted checkout calls several times with one), so
    # the parse is memoised; a TokenError is not cached and is raised again for the same input.
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
    expected = _b64(_hmac(algorithm, key, signing_input))
    return hmac.compare_digest(expected, parts[2].encode("ascii", "replace"))


def decode(token: str, secret: str | bytes, algorithm: str = "HS256") -> dict[str, Any]:
    """Return the claims of a token whose signature verifies with `secret`."""
    data = claims(token)
    verify(token, secret, algorithm)
    return data
