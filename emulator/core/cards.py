"""Card data: PAN masking, the Luhn check, text masking for logs, and the shared test-card table."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Most bodies carry neither a PAN-shaped digit run nor a CVV-like key: `may_hold_card_data` looks for
# both with a few byte scans and lets the masking regexes run only when one is found. Measured
# in-process, running the regexes on every journalled body makes a token call ~50% slower.
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
    if any(shape in digits for shape in _PAN_SHAPES):
        return True
    lowered = data.lower()
    if b"cv" not in lowered and b"code" not in lowered:
        return False
    return any(key in lowered for key in _CVV_KEYS)


def mask_text(text: str) -> str:
    """Mask card numbers and CVVs anywhere in a request or response text (journal, logs, outbox)."""
    if not text or not may_hold_card_data(text.encode("utf-8", "replace")):
        return text
    text = _PAN_FIELD.sub(_mask_field, text)
    text = _DIGIT_RUN.sub(_mask_run, text)
    return _CVV_FIELD.sub(lambda m: m.group(1) + "***", text)


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
