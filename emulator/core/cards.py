"""Card data: PAN masking, the Luhn check, text masking for logs, and the shared test-card table."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# Most texts carry neither a PAN-shaped digit run nor a CVV-like key: `may_hold_card_data` looks for
# both with a few byte scans and lets the masking regexes run only when one is found. Measured
# in-process, running the regexes on every journalled body makes a token call ~50% slower.
_DIGITS_AS_HASH = bytes.maketrans(b"0123456789", b"##########")
# 13 digits in a row; digits split by a space, dash or form '+'; digits next to a percent-escape.
_PAN_SHAPES = (b"#" * 13, b"#### ####", b"####-####", b"####+####", b"####%#")
_CVV_KEYS = (b"cvv", b"cvc", b"cvn", b"secur", b"cardcode", b"card_code", b"card-code", b"card code", b"card+code")
_CVV_KEYS += (b"card%20code", b"card%2520code")

# What a card number or CVV may be wrapped in, in every encoding a client sends: digit separators as
# typed (space, dash) or form- and percent-encoded, once or twice (`+`, `%20`, `%2520`, `%2D`), and the
# text between a key and its value in JSON (also JSON inside a string), XML, forms, query strings and
# Payture's `Key=Value;` DATA, itself form-encoded once or twice (`%3D`, `%253D`).
_SEP = r"(?:[ +\-]|%(?:25)*(?:20|2[dD]))"
_KEY_TO_VALUE = r"""(?:["'>:=\s+]|\\"|&quot;|%(?:25)*(?:3[dDaA]|22|20)){1,6}"""
_CARD_KEY = r"(?<![a-z])(?:card(?:[_\- ]|%(?:25)*20)?(?:number|num|no)|pan|number)"
_CVV_KEY = r"(?:cvv2?|cvc2?|cvn|(?:card|security|secure)(?:[_\- +]|%(?:25)*20)?code)"
_DIGIT_RUN = re.compile(rf"(?<![0-9])[0-9](?:{_SEP}?[0-9]){{12,18}}(?![0-9])")
# A value under a card-number key is masked whatever its checksum (an invalid test PAN is still a PAN).
_PAN_FIELD = re.compile(rf"(?i)({_CARD_KEY}{_KEY_TO_VALUE})([0-9](?:{_SEP}?[0-9]){{11,18}})(?![0-9])")
_CVV_FIELD = re.compile(rf"(?i)({_CVV_KEY}{_KEY_TO_VALUE})([0-9]{{3,4}})(?![0-9])")
_BARE_DIGIT = re.compile(r"%(?:25)*[0-9a-fA-F]{2}|[0-9]")  # a digit outside a percent-escape


def luhn_valid(pan: str) -> bool:
    """Return True when `pan` is all digits and passes the Luhn checksum."""
    if not pan.isdigit() or len(pan) < 12:
        return False
    total = 0
    for index, char in enumerate(reversed(pan)):
        digit = ord(char) - 48
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def mask_pan(pan: str, fill: str = "*") -> str:
    """Keep the first six and last four digits of a PAN (PCI display rule), fill the rest."""
    digits = re.sub(r"[^0-9]", "", pan)
    if len(digits) < 12:
        return fill * len(digits)
    return digits[:6] + fill * (len(digits) - 10) + digits[-4:]


def _mask_digits(text: str) -> str:
    """Mask a card number as `mask_pan` does, keeping its separators and escapes where they are."""
    digits = [m.start() for m in _BARE_DIGIT.finditer(text) if not m.group().startswith("%")]
    hidden = set(digits[6:-4]) if len(digits) >= 12 else set(digits)
    return "".join("*" if i in hidden else char for i, char in enumerate(text))


def _bare_digits(text: str) -> str:
    return "".join(m.group() for m in _BARE_DIGIT.finditer(text) if not m.group().startswith("%"))


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    return _mask_digits(run) if luhn_valid(_bare_digits(run)) else run


def _mask_field(match: re.Match[str]) -> str:
    return match.group(1) + _mask_digits(match.group(2))


def may_hold_card_data(data: bytes) -> bool:
    """True when `data` might hold a PAN or a CVV (false positives are fine: they only cost time)."""
    digits = data.translate(_DIGITS_AS_HASH)
    if any(shape in digits for shape in _PAN_SHAPES):
        return True
    lowered = data.lower()
    if b"cv" not in lowered and b"code" not in lowered:
        return False
    return any(key in lowered for key in _CVV_KEYS)


def mask_text(text: str) -> str:
    """Mask card numbers and CVVs anywhere in a request or response text, in any encoding (journal, logs)."""
    if not text or not may_hold_card_data(text.encode("utf-8", "replace")):
        return text
    text = _PAN_FIELD.sub(_mask_field, text)
    text = _DIGIT_RUN.sub(_mask_run, text)
    return _CVV_FIELD.sub(lambda m: m.group(1) + "*" * len(m.group(2)), text)


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Mask card data in header values, and the whole value of a header named like a card field."""
    pairs = "\n".join(f"{name}={value}" for name, value in headers.items())
    if not may_hold_card_data(pairs.encode("utf-8", "replace")):  # one scan for all: most requests carry none
        return dict(headers)
    masked = {}
    for name, value in headers.items():
        text = mask_text(f"{name}={value}")  # `name=value` lets a card-field name act as the key
        masked[name] = text[len(name) + 1 :] if text.startswith(f"{name}=") else mask_text(value)
    return masked


@dataclass(frozen=True)
class TestCard:
    """A card number whose outcome the emulator decides (shared sandbox conventions)."""

    pan: str
    outcome: str  # success | decline | insufficient_funds | 3ds | expired | invalid_cvv
    description: str


TEST_CARDS: tuple[TestCard, ...] = (
    TestCard("4111111111111111", "success", "Visa, approved"),
    TestCard("5555555555554444", "success", "Mastercard, approved"),
    TestCard("4000000000000002", "decline", "Visa, declined by the issuer"),
    TestCard("4000000000009995", "insufficient_funds", "Visa, insufficient funds"),
    TestCard("4000000000003220", "3ds", "Visa, 3-D Secure challenge required"),
    TestCard("4000000000000069", "expired", "Visa, expired card"),
    TestCard("4000000000000127", "invalid_cvv", "Visa, CVV rejected"),
)


def card_outcome(pan: str) -> str:
    """Return the scripted outcome of a test card; any other Luhn-valid card succeeds."""
    for card in TEST_CARDS:
        if card.pan == pan:
            return card.outcome
    return "success" if luhn_valid(pan) else "invalid_number"
