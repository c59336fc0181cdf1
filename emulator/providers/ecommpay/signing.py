"""The Gate signature, byte-exact (docs/providers/ecommpay.md#signature): flatten, sort, join, HMAC-SHA512, Base64.

Used both ways: to verify `customer.signature` on requests and to sign callbacks. Two published
implementations differ in two corners, and a real client may use either, so verification accepts
every variant: the official PHP `SignatureHandler` (natural key order, `:` in a key escaped as `::`)
and its Python port (plain lexicographic order, no escaping).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterator, Mapping
from typing import Any

ITEMS_DELIMITER = ";"
KEY_VALUE_DELIMITER = ":"
# (code) docs/providers/ecommpay.md#signature: dropped at any depth
IGNORED_KEYS = frozenset({"frame_mode", "signature"})
NATURAL = "natural"  # (code) PHP ksort(..., SORT_NATURAL)
LEXICOGRAPHIC = "lexicographic"  # (code) the Python port's sorted()
ORDERS = (NATURAL, LEXICOGRAPHIC)

_DIGITS = re.compile(r"(\d+)")


def _scalar(value: Any) -> str:
    """Render a leaf as PHP's `(string)` cast would: booleans 1/0, null empty, 5.0 as 5."""
    if value is True:
        return "1"
    if value is False:
        return "0"
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)  # (code) PHP drops a zero fraction
    return str(value)


def _items(data: Any, prefix: str, escape: bool) -> Iterator[tuple[str, str]]:
    children: Iterator[tuple[Any, Any]]
    children = iter(data.items()) if isinstance(data, Mapping) else iter(enumerate(data))
    for key, value in children:
        name = str(key)
        if name in IGNORED_KEYS:
            continue
        if escape:
            name = name.replace(KEY_VALUE_DELIMITER, KEY_VALUE_DELIMITER * 2)
        flat = f"{prefix}{KEY_VALUE_DELIMITER}{name}" if prefix else name
        if isinstance(value, (Mapping, list, tuple)):
            yield from _items(value, flat, escape)  # an empty array or object contributes nothing
        else:
            yield flat, _scalar(value)


def _natural_key(text: str) -> list[Any]:
    """strnatcmp order: runs of digits compare as numbers (`items:2` before `items:10`)."""
    parts = _DIGITS.split(text)
    return [int(part) if index % 2 else part for index, part in enumerate(parts)]


def string_to_sign(params: Mapping[str, Any], *, order: str = NATURAL, escape: bool | None = None) -> str:
    """Return the `key:value;key:value` string the HMAC covers (without any `signature`)."""
    if escape is None:
        escape = order == NATURAL  # the PHP handler escapes, the Python port does not
    pairs = list(_items(params, "", escape))
    if order == NATURAL:
        pairs.sort(key=lambda pair: _natural_key(pair[0]))
    else:
        pairs.sort(key=lambda pair: pair[0])
    return ITEMS_DELIMITER.join(f"{key}{KEY_VALUE_DELIMITER}{value}" for key, value in pairs)


def sign(params: Mapping[str, Any], secret: str, *, order: str = NATURAL) -> str:
    """Return `base64(HMAC_SHA512(secret, string_to_sign))` of the raw digest."""
    digest = hmac.new(secret.encode("utf-8"), string_to_sign(params, order=order).encode("utf-8"), hashlib.sha512)
    return base64.b64encode(digest.digest()).decode("ascii")


def verify(params: Mapping[str, Any], signature: str, secret: str) -> bool:
    """True when `signature` matches under any published variant (inferred, docs/providers/ecommpay.md#signature: accept
    either order)."""
    candidates = {string_to_sign(params, order=order, escape=escape) for order in ORDERS for escape in (True, False)}
    key = secret.encode("utf-8")
    given = signature.encode("utf-8")
    matched = False
    for text in candidates:
        digest = hmac.new(key, text.encode("utf-8"), hashlib.sha512).digest()
        matched |= hmac.compare_digest(base64.b64encode(digest), given)
    return matched
