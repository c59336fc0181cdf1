"""Card data: PAN masking, the Luhn check, text masking for logs, and the test-card mechanism."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from emulator.core.errors import ConfigError

# A cheap gate in C (bytes.translate + substring search, ~0.5 us): most bodies carry neither a
# PAN-like digit run nor a CVV-like key, and the masking regexes cost ~20 us per kilobyte.
_DIGITS_AS_HASH = bytes.maketrans(b"0123456789", b"##########")
_PAN_SHAPES = (b"#" * 13, b"#### ####", b"####-####")
_CVV_KEYS = (
    b"cvv",
    b"cvc",
    b"card_code",
    b"cardcode",
    b"security_code",
    b"securitycode",
    b"secure_code",
    b"securecode",
)
_DIGIT_RUN = re.compile(r"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])")  # spaced or dashed as typed
# A value under a card-number key is masked whatever its checksum (an invalid test PAN is still a PAN).
_PAN_FIELD = re.compile(
    r"""(?ix)
    ((?:card_?number|cardnumber|pan|card_?num|number|CardNumber)["']?\s*[:=]\s*["']?)
    ([0-9][0-9 -]{11,22}[0-9])""",
)
_CVV_FIELD = re.compile(
    r"""(?ix)
    ((?:cvv2?|cvc2?|card_?code|security_?code|secure_?code|SecureCode)["']?\s*[:=]\s*["']?)
    ([0-9]{3,4})""",
)


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


def _mask_run(match: re.Match[str]) -> str:
    run = match.group(0)
    return mask_pan(run) if luhn_valid(run.replace(" ", "").replace("-", "")) else run


def _mask_field(match: re.Match[str]) -> str:
    return match.group(1) + mask_pan(match.group(2))


def may_hold_card_data(data: bytes) -> bool:
    """True when `data` might hold a PAN or a CVV (false positives are fine: they only cost time)."""
    digits = data.translate(_DIGITS_AS_HASH)
    for shape in _PAN_SHAPES:
        if shape in digits:
            return True
    lowered = data.lower()
    if b"cv" not in lowered and b"code" not in lowered:
        return False
    for key in _CVV_KEYS:  # noqa: SIM110 - a plain loop: any() with a generator costs more on the hot path
        if key in lowered:
            return True
    return False


def mask_text(text: str) -> str:
    """Mask card numbers and CVVs anywhere in a request or response text (journal, logs, outbox)."""
    if not text or not may_hold_card_data(text.encode("utf-8", "replace")):
        return text
    text = _PAN_FIELD.sub(_mask_field, text)
    text = _DIGIT_RUN.sub(_mask_run, text)
    return _CVV_FIELD.sub(lambda m: m.group(1) + "***", text)


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
