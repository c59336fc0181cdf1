"""Payelata callback signature (docs/providers/payelata.md#callbacks): `X-Signature = base64(sha1(secret . body .
secret, raw))`."""

from __future__ import annotations

import base64
import hashlib
import hmac

SIGNATURE_HEADER = "X-Signature"


def signature(secret: str, body: bytes) -> str:
    """Return the Base64 of the raw 20-byte SHA-1 of `secret + body + secret` (doc, byte-exact)."""
    key = secret.encode("utf-8")
    return base64.b64encode(hashlib.sha1(key + body + key).digest()).decode("ascii")


def verify(secret: str, body: bytes, value: str) -> bool:
    """Check a received signature in constant time."""
    return hmac.compare_digest(signature(secret, body), value.strip())
