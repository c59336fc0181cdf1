"""Card data: PAN masking, the Luhn check, text masking for logs, and the test-card mechanism."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from emulator.core.errors import ConfigError

# Most texts carry neither a PAN-shaped digit run nor a CVV-like key: `may_hold_card_data` looks for
# both with a few byte scans and lets the masking regexes run only when one is found. Measured
# in-process, running the regexes on every journalled body makes a token call ~50% slower.
_DIGITS_AS_HASH = bytes.maketrans(b"0123456789", b"##########")
# 13 digits in a row; digits split by a space, dash or form '+'; digits next to a percent-escape.
_PAN_SHAPES = (b"#" * 13, b"#### ####", b"####-####", b"####+####", b"####%#")
_CVV_KEYS = (b"cvv", b"cvc", b"cvn", b"cardcode", b"card_code", b"card-code", b"card code", b"card+code")
_CVV_KEYS += (b"card%20code", b"card%2520code")
# `secur` alone would flag every Izipay `/security/v1/...` path; the full key is only looked for past it.
_SECURE_CODE = re.compile(rb"secur(?:e|ity)(?:[_\- +]|%(?:25)*20)?code")

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
    # Plain loops, not any() over a generator: measured, the generators double this check's cost, and it
    # runs on every journalled request.
    digits = data.translate(_DIGITS_AS_HASH)
    for shape in _PAN_SHAPES:
        if shape in digits:
            return True
    lowered = data.lower()
    if b"cv" not in lowered and b"code" not in lowered:  # every CVV key holds one of them
        return False
    for key in _CVV_KEYS:
        if key in lowered:
            return True
    return b"secur" in lowered and _SECURE_CODE.search(lowered) is not None


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
    """One row of a provider's `cards.yaml`: a card number whose outcome the provider's sandbox documents."""

    __test__ = False  # not a pytest test class

    pan: str
    outcome: str  # the provider's own vocabulary (success, decline, 3ds, ...)
    description: str = ""
    brand: str = ""
    three_ds: bool = False  # enrolled in 3-D Secure


class TestCards:
    """A provider's test-card table, loaded from its `cards.yaml`; the mechanism is shared, the data is not."""

    __test__ = False  # not a pytest test class

    def __init__(self, cards: Iterable[TestCard]) -> None:
        self.cards = tuple(cards)
        self._by_pan = {card.pan: card for card in self.cards}

    @classmethod
    def load(cls, path: Path) -> TestCards:
        """Read `path` (a YAML list of `{pan, outcome, description?, brand?, three_ds?}`)."""
        rows = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        fields = {f.name for f in dataclasses.fields(TestCard)}
        cards = []
        for index, row in enumerate(rows or []):
            if not isinstance(row, dict) or not {"pan", "outcome"} <= row.keys() or not row.keys() <= fields:
                raise ConfigError(f"{path}: card {index}: needs pan and outcome, may have {sorted(fields)}")
            cards.append(TestCard(**{**row, "pan": str(row["pan"])}))
        return cls(cards)

    def __iter__(self) -> Iterator[TestCard]:
        return iter(self.cards)

    def find(self, pan: str) -> TestCard | None:
        return self._by_pan.get(pan)

    def find_masked(self, first: str, last: str) -> TestCard | None:
        """The test card a stored (masked) card was: its first six and last four digits."""
        for card in self.cards:
            if card.pan.startswith(first) and card.pan.endswith(last):
                return card
        return None

    def outcome(self, pan: str) -> str:
        """The card's documented outcome; any other Luhn-valid card succeeds, anything else is `invalid_number`."""
        card = self._by_pan.get(pan)
        if card is not None:
            return card.outcome
        return "success" if luhn_valid(pan) else "invalid_number"
