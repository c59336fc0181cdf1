"""Recordings of real exchanges (`payemu proxy --record`): masking, redaction and the JSON Lines files.

One file per provider, `<dir>/<provider>.jsonl`, one exchange a line:
`{seq, provider, upstream, started, duration_ms, request: {method, path, query, headers, body},
response: {status, headers, body}, error?}`. Before anything is written, card numbers are masked
(first six, last four) and CVVs become `***` (core/cards.py), and every secret — passwords, API keys,
signatures, bearer and Basic credentials, client secrets — becomes `REDACTED-<8 hex>`: an HMAC of the
value under a key that lives only in the proxy process, so the same token is the same tag throughout a
recording (replay links a token a response issued to the requests that send it back) and the value
cannot be recovered from it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from emulator.core.cards import luhn_valid, mask_text

REDACTED = re.compile(r"REDACTED-[0-9a-f]{8}")
MASKED_PAN = re.compile(r"(?<![0-9])([0-9]{6})\*{2,9}([0-9]{4})(?![0-9])")
MASKED_CVV = "***"
# Keys (lower-case, without `_` and `-`) whose values are secrets: Payture VWUserPsw / Password / Key,
# Ecommpay signature, Izipay publicKey, Zai client_secret, Payelata api keys, and the usual suspects.
_SECRET_EXACT = frozenset({"key", "sign", "pwd", "pass", "authorization", "proxyauthorization", "hmac", "cookie"})
_SECRET_PARTS = (
    "password",
    "passwd",
    "psw",
    "secret",
    "apikey",
    "token",
    "signature",
    "privatekey",
    "publickey",
    "setcookie",
)
_CVV_NAMES = frozenset(
    {"cvv", "cvv2", "cvc", "cvc2", "cardcode", "securitycode", "securecode", "cardcvv", "cvvcode", "cvccode"}
)
_AUTH_SCHEME = re.compile(r"^\s*([A-Za-z][A-Za-z0-9_-]*)\s+(\S.*)$")
_XML_ATTR = re.compile(r'(\b([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*")([^"]*)(")')


def normalized(key: str) -> str:
    """`client_secret`, `Client-Secret` and `clientSecret` all read `clientsecret`."""
    return key.lower().replace("_", "").replace("-", "")


def is_secret_key(key: str) -> bool:
    name = normalized(key)
    return name in _SECRET_EXACT or any(part in name for part in _SECRET_PARTS)


def is_cvv_key(key: str) -> bool:
    return normalized(key) in _CVV_NAMES


def is_masked(value: Any) -> bool:
    """True for a value the recording masked or redacted (never compared, never drift)."""
    if not isinstance(value, str):
        return False
    return value == MASKED_CVV or bool(REDACTED.search(value)) or bool(MASKED_PAN.search(value))


class Redactor:
    """Masks card data and replaces secrets with stable tags, in every part of an exchange."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def tag(self, secret: str) -> str:
        digest = hmac.new(self._key, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
        return f"REDACTED-{digest[:8]}"

    # -- values ------------------------------------------------------------------------------------

    def value(self, key: str, value: Any) -> Any:
        """One named value: a CVV becomes `***`, a secret its tag, any other text has its PANs masked."""
        if is_cvv_key(key) and value not in (None, ""):
            return MASKED_CVV
        if is_secret_key(key) and isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return self._secret(key, str(value)) if value != "" else value
        return self.data(value)

    def _secret(self, key: str, value: str) -> str:
        if normalized(key) in ("authorization", "proxyauthorization"):
            scheme = _AUTH_SCHEME.match(value)
            if scheme:  # keep `Bearer` / `Basic`: the tag stands for the credential only
                return f"{scheme.group(1)} {self.tag(scheme.group(2).strip())}"
        return self.tag(value)

    def data(self, value: Any) -> Any:
        """Decoded JSON data, walked."""
        if isinstance(value, Mapping):
            return {k: self.value(str(k), v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(item) for item in value]
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, int) and not isinstance(value, bool) and 12 <= len(str(abs(value))) <= 19:
            masked = mask_text(str(value))
            return masked if masked != str(value) else value
        return value

    def text(self, text: str) -> str:
        """Free text: a `Key=Value;` list (Payture DATA) is redacted by key; PANs and CVVs masked."""
        if "=" in text and ";" in text and "\n" not in text:
            return self.key_values(text)
        if "%3D" in text.upper() and "%3B" in text.upper() and "=" not in text:
            return self.key_values(unquote(text))
        return mask_text(text)

    def key_values(self, text: str) -> str:
        """`Key=Value;Key=Value;` with each value redacted by its key."""
        out = []
        for segment in text.split(";"):
            key, sep, value = segment.partition("=")
            out.append(f"{key}{sep}{self.value(key.strip(), value)}" if sep else mask_text(segment))
        return ";".join(out)

    def form(self, text: str) -> str:
        """An urlencoded form body or query string, redacted field by field."""
        if not text:
            return text
        pairs = parse_qsl(text, keep_blank_values=True)
        if not pairs:
            return mask_text(text)
        return urlencode([(key, self.value(key, value)) for key, value in pairs], safe="*")  # masks stay legible

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return {
            name: str(self.value(name, value)) if is_secret_key(name) else mask_text(value)
            for name, value in headers.items()
        }

    def body(self, body: bytes, content_type: str) -> str:
        """A body as text for the recording; JSON and forms are redacted by field, other text as text."""
        text = body.decode("utf-8", "replace")
        media = content_type.split(";")[0].strip().lower()
        if not text.strip():
            return text
        if media == "application/json" or media.endswith("+json") or text.lstrip()[:1] in ("{", "["):
            try:
                return json.dumps(self.data(json.loads(text)), ensure_ascii=False, separators=(",", ":"))
            except ValueError:
                pass
        if media == "application/x-www-form-urlencoded":
            return self.form(text)
        if "xml" in media or text.lstrip().startswith("<"):
            text = _XML_ATTR.sub(lambda m: m.group(1) + str(self.value(m.group(2), m.group(3))) + m.group(4), text)
        return mask_text(text)


def restore_card_data(text: str, cards: Mapping[tuple[str, str], str] | None = None) -> str:
    """For replaying a recording: a masked PAN becomes a test card with the same first six and last four
    digits where one is known, else a Luhn-valid number of that shape; `***` CVVs become 123."""

    def pan(match: re.Match[str]) -> str:
        first, last = match.group(1), match.group(2)
        known = (cards or {}).get((first, last))
        return known or luhn_fill(first, last, len(match.group(0)))

    text = MASKED_PAN.sub(pan, text)
    return re.sub(
        r"""(?i)((?:cvv2?|cvc2?|card_?code|security_?code|secure_?code)["']?\s*[:=]\s*["']?)\*\*\*""", r"\g<1>123", text
    )


def luhn_fill(first: str, last: str, length: int) -> str:
    """A Luhn-valid card number `first` + digits + `last` of `length` digits."""
    for digit in range(10):
        middle = str(digit) + "0" * (length - len(first) - len(last) - 1)
        candidate = first + middle + last
        if luhn_valid(candidate):
            return candidate
    return first + "0" * (length - 10) + last  # unreachable: one of ten leading digits fits


# -- files -------------------------------------------------------------------------------------------


class Recorder:
    """Appends exchanges to `<dir>/<provider>.jsonl` (thread-safe; one line each, flushed)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._seq = max((e.get("seq", 0) for e in read_recordings(folder)), default=0)

    def write(self, exchange: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            line = json.dumps({"seq": self._seq, **exchange}, ensure_ascii=False)
            with (self.folder / f"{exchange['provider']}.jsonl").open("a", encoding="utf-8") as out:
                out.write(line + "\n")


def read_recordings(path: Path) -> Iterator[dict[str, Any]]:
    """Every exchange of a recording folder (or of one .jsonl file), in the order they were recorded."""
    files = [path] if path.is_file() else sorted(path.glob("*.jsonl"))
    exchanges = []
    for file in files:
        for number, line in enumerate(file.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    exchanges.append(json.loads(line))
                except ValueError as exc:
                    from emulator.core.errors import ConfigError

                    raise ConfigError(f"{file}:{number}: not a JSON line: {exc}") from exc
    return iter(sorted(exchanges, key=lambda e: e.get("seq", 0)))
