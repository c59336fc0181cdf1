"""The Gate signature, byte-exact (docs/providers/ecommpay.md#signature): flatten, sort, join, HMAC-SHA512, Base64.

Used both ways: to verify the `signature` of a request and to sign callbacks. The Gate computes the string
to sign as the official PHP SDK's `SignatureHandler` does (variant `php`): `:` in a key escaped as `::`,
scalars cast as PHP's `(string)` casts what `json_decode` produced (`2030.0` -> `2030`, null -> empty,
floats to 14 significant digits), the flat keys sorted by `ksort(..., SORT_NATURAL)` (PHP's `strnatcmp`).
The published Python and JS SDKs compute something else in a few corners; those variants exist here so
the `signature_check: lenient` option can accept them, and so the docs can say exactly where they differ.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import math
from collections.abc import Iterator, Mapping
from typing import Any

ITEMS_DELIMITER = ";"
KEY_VALUE_DELIMITER = ":"
# (code) PHP SignatureHandler::IGNORED_KEYS, dropped at any depth; `signature` is removed at any depth by
# Callback::checkSignature before verifying, and the Gate drops the request's own `general.signature`.
IGNORED_KEYS = frozenset({"frame_mode", "signature"})

PHP = "php"  # (code) ITECOMMPAY/paymentpage-sdk-php src/SignatureHandler.php: what the Gate accepts
PYTHON_SDK = "python-sdk"  # (code) PyPI ecommpay-sdk 1.0.6: lexicographic, no escaping, str() of values (None!)
PYTHON_PORT = "python-port"  # (code) the GitHub paymentpage-sdk-python head and integrators' copies: null empty
JS_SDK = "js-sdk"  # (code) npm ecommpay 0.1.7 src/converter.js: keys sorted per level, JS number text
VARIANTS = (PHP, PYTHON_SDK, PYTHON_PORT, JS_SDK)
# The callback option `signature_order` (docs/providers/ecommpay.md#options) names two of them.
ORDER_VARIANTS = {"natural": PHP, "lexicographic": PYTHON_PORT}

_INT64 = 2**63


# -- scalars ---------------------------------------------------------------------------------------


def php_float(value: float) -> str:
    """PHP's `(string)` of a float: `precision=14` significant digits, `2030.0` -> `2030`, `1e25` -> `1.0E+25`."""
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    mantissa, exponent_text = f"{abs(value):.13e}".split("e")
    exponent = int(exponent_text)
    digits = mantissa.replace(".", "").rstrip("0") or "0"
    if exponent < -4 or exponent >= 14:  # zend_gcvt: scientific outside [1e-5, 1e14)
        return f"{sign}{digits[0]}.{digits[1:] or '0'}E{'+' if exponent >= 0 else '-'}{abs(exponent)}"
    if exponent < 0:
        return f"{sign}0.{'0' * (-exponent - 1)}{digits}"
    whole = digits[: exponent + 1].ljust(exponent + 1, "0")
    fraction = digits[exponent + 1 :]
    return f"{sign}{whole}.{fraction}" if fraction else f"{sign}{whole}"


def js_number(value: float) -> str:
    """JavaScript's `String(number)` (ECMAScript Number::toString): shortest round-trip digits."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    text = repr(abs(value))
    mantissa, _, exponent_text = text.partition("e")
    whole, _, fraction = mantissa.partition(".")
    raw = (whole + fraction).lstrip("0")
    digits = raw.rstrip("0")
    last_digit_power = int(exponent_text or 0) - len(fraction) + (len(raw) - len(digits))
    k = len(digits)
    n = k + last_digit_power  # value = 0.digits * 10**n
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return f"{sign}{digits[:n]}.{digits[n:]}"
    if -6 < n <= 0:
        return f"{sign}0.{'0' * -n}{digits}"
    exponent = n - 1
    tail = f"e{'+' if exponent >= 0 else '-'}{abs(exponent)}"
    return f"{sign}{digits[0]}{'.' + digits[1:] if k > 1 else ''}{tail}"


def _php_scalar(value: Any) -> str:
    if value is True:
        return "1"
    if value is False:
        return "0"
    if value is None:
        return ""
    if isinstance(value, float):
        return php_float(value)
    if isinstance(value, int) and not -_INT64 <= value < _INT64:
        return php_float(float(value))  # json_decode turns an integer past PHP_INT_MAX into a float
    return str(value)


def _python_sdk_scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)  # None -> "None", 2030.0 -> "2030.0"


def _python_port_scalar(value: Any) -> str:
    if value is None:
        return ""
    return _python_sdk_scalar(value)


def _js_scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return js_number(float(value)) if isinstance(value, float) or abs(value) >= 2**53 else str(value)
    return str(value)


# -- flattening and order ----------------------------------------------------------------------------


def _children(data: Any) -> Iterator[tuple[str, Any]]:
    pairs = data.items() if isinstance(data, Mapping) else enumerate(data)
    for key, value in pairs:
        if str(key) not in IGNORED_KEYS:
            yield str(key), value


def _flat(data: Any, prefix: str, escape: bool) -> Iterator[tuple[str, Any]]:
    """Yield `(flat key, leaf)`; nested keys joined by `:`, list items by index, empty containers nothing."""
    for key, value in _children(data):
        name = key.replace(KEY_VALUE_DELIMITER, KEY_VALUE_DELIMITER * 2) if escape else key
        flat = f"{prefix}{KEY_VALUE_DELIMITER}{name}" if prefix else name
        if isinstance(value, (Mapping, list, tuple)):
            yield from _flat(value, flat, escape)
        else:
            yield flat, value


def _digit(byte: int) -> bool:
    return 0x30 <= byte <= 0x39


def _space(byte: int) -> bool:
    return byte in (0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D)


def strnatcmp(left: str, right: str) -> int:
    """PHP's `strnatcmp_ex` (ext/standard/strnatcmp.c), case-sensitive, on the UTF-8 bytes: the order
    `ksort($params, SORT_NATURAL)` gives the Gate's flat keys."""
    a, b = left.encode(), right.encode()
    if not a or not b:
        return (len(a) > len(b)) - (len(a) < len(b))
    ia = ib = 0

    def at(data: bytes, index: int) -> int:
        return data[index] if index < len(data) else 0  # a zend_string ends in NUL

    leading = True
    while True:
        ca, cb = at(a, ia), at(b, ib)
        while leading and ca == 0x30 and ia + 1 < len(a) and _digit(a[ia + 1]):  # skip leading zeros
            ia += 1
            ca = at(a, ia)
        while leading and cb == 0x30 and ib + 1 < len(b) and _digit(b[ib + 1]):
            ib += 1
            cb = at(b, ib)
        leading = False
        while _space(ca):
            ia += 1
            ca = at(a, ia)
        while _space(cb):
            ib += 1
            cb = at(b, ib)
        if _digit(ca) and _digit(cb):
            fractional = ca == 0x30 or cb == 0x30
            result, ia, ib = (_compare_left if fractional else _compare_right)(a, ia, b, ib)
            if result:
                return result
            if ia == len(a) and ib == len(b):
                return 0
            if ia == len(a):
                return -1
            if ib == len(b):
                return 1
            ca, cb = at(a, ia), at(b, ib)
        if ca != cb:
            return -1 if ca < cb else 1
        ia += 1
        ib += 1
        if ia >= len(a) and ib >= len(b):
            return 0
        if ia >= len(a):
            return -1
        if ib >= len(b):
            return 1


def _compare_right(a: bytes, ia: int, b: bytes, ib: int) -> tuple[int, int, int]:
    """Right-aligned digit runs: the longer run wins, else the first differing digit."""
    bias = 0
    while True:
        end_a = ia == len(a) or not _digit(a[ia])
        end_b = ib == len(b) or not _digit(b[ib])
        if end_a and end_b:
            return bias, ia, ib
        if end_a:
            return -1, ia, ib
        if end_b:
            return 1, ia, ib
        if not bias and a[ia] != b[ib]:
            bias = -1 if a[ia] < b[ib] else 1
        ia += 1
        ib += 1


def _compare_left(a: bytes, ia: int, b: bytes, ib: int) -> tuple[int, int, int]:
    """Left-aligned digit runs (one starts with 0): the first differing digit wins."""
    while True:
        end_a = ia == len(a) or not _digit(a[ia])
        end_b = ib == len(b) or not _digit(b[ib])
        if end_a and end_b:
            return 0, ia, ib
        if end_a:
            return -1, ia, ib
        if end_b:
            return 1, ia, ib
        if a[ia] != b[ib]:
            return (-1 if a[ia] < b[ib] else 1), ia, ib
        ia += 1
        ib += 1


def _js_items(data: Any, prefix: str) -> Iterator[tuple[str, str]]:
    """npm ecommpay's converter: each level's keys sorted as strings (`Object.keys().sort()`), depth first."""
    children = dict(_children(data))
    for key in sorted(children):
        value = children[key]
        flat = f"{prefix}{KEY_VALUE_DELIMITER}{key}" if prefix else key
        if isinstance(value, (Mapping, list, tuple)):
            yield from _js_items(value, flat)
        else:
            yield flat, _js_scalar(value)


@functools.lru_cache(maxsize=1024)
def _natural_order(keys: tuple[str, ...]) -> tuple[int, ...]:
    """Positions of `keys` in PHP's natural order (stable, as PHP 8 sorts). Cached: clients send the same
    key sets again and again; measured in-process, the sort was ~15 % of a signed tokenize."""
    return tuple(sorted(range(len(keys)), key=functools.cmp_to_key(lambda a, b: strnatcmp(keys[a], keys[b]))))


def _pairs(params: Mapping[str, Any], variant: str) -> list[tuple[str, str]]:
    if variant == JS_SDK:
        return list(_js_items(params, ""))
    if variant == PHP:
        pairs = [(key, _php_scalar(value)) for key, value in _flat(params, "", escape=True)]
        return [pairs[i] for i in _natural_order(tuple(key for key, _ in pairs))]
    scalar = _python_sdk_scalar if variant == PYTHON_SDK else _python_port_scalar
    return sorted(((key, scalar(value)) for key, value in _flat(params, "", escape=False)), key=lambda p: p[0])


def string_to_sign(params: Mapping[str, Any], *, variant: str = PHP) -> str:
    """Return the `key:value;key:value` string the HMAC covers (every `signature` and `frame_mode` left out)."""
    return ITEMS_DELIMITER.join(f"{key}{KEY_VALUE_DELIMITER}{value}" for key, value in _pairs(params, variant))


def _mac(text: str, secret: str) -> bytes:
    return base64.b64encode(hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha512).digest())


def sign(params: Mapping[str, Any], secret: str, *, variant: str = PHP) -> str:
    """Return `base64(HMAC_SHA512(secret, string_to_sign))` of the raw digest."""
    return _mac(string_to_sign(params, variant=variant), secret).decode("ascii")


def verify(params: Mapping[str, Any], signature: str, secret: str, *, lenient: bool = False) -> bool:
    """True when `signature` is the Gate's (PHP) signature of `params`; `lenient` also accepts what the
    published Python and JS SDKs compute where they differ (docs/providers/ecommpay.md#signature-edge-cases)."""
    given = signature.encode("utf-8")
    texts = {string_to_sign(params, variant=variant) for variant in (VARIANTS if lenient else (PHP,))}
    matched = False
    for text in texts:
        matched |= hmac.compare_digest(_mac(text, secret), given)
    return matched
