"""Izipay's field-level encryption on Process/Authorize (docs/providers/izipay.md#authorize, q7).

The API reference says `order.amount` and the card's `pan`, `expirationMonth`, `expirationYear` and `cvc`
(and a network token's fields) travel RSA-encrypted with Izipay's public key, in Base64. payemu holds its
own key pair (the tenant's `rsa_private_key`; the public half is in the provider page): a value that is
not plain text is decrypted with it, trying OAEP (SHA-1, SHA-256) and PKCS#1 v1.5, as the doc names
no padding. A value that is plain (`"15.00"`, a card number) is read as sent; one that does not decrypt
is left as sent, so the request's validation answers it.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from typing import Any

# (doc) the encrypted fields, by the object that holds them
ENCRYPTED = {
    "order": ("amount",),
    "card": ("pan", "expirationMonth", "expirationYear", "cvc"),
    "token": ("expirationMonthToken", "expirationYearToken", "network", "cvc"),
}
_PLAIN = re.compile(r"^[0-9 .\-]{1,24}$")  # an amount, a card number, a month or a year, a CVC
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]{40,}$")


def decrypt_fields(body: dict[str, Any], private_key_pem: str) -> dict[str, Any]:
    """The body with every encrypted field it carries decrypted (a copy; the body itself is untouched)."""
    out = dict(body)
    for holder, names in ENCRYPTED.items():
        part = body.get(holder)
        if not isinstance(part, dict):
            continue
        copy = dict(part)
        for name in names:
            value = part.get(name)
            if isinstance(value, str) and not _PLAIN.match(value) and _BASE64.match(value):
                plain = decrypt(value, private_key_pem)
                if plain is not None:
                    copy[name] = plain
        out[holder] = copy
    return out


def decrypt(value: str, private_key_pem: str) -> str | None:
    """One Base64 RSA ciphertext as text, or None when it is not one under this key and a known padding."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    try:
        data = base64.b64decode(re.sub(r"\s", "", value), validate=True)
    except (binascii.Error, ValueError):
        return None
    key = _private_key(private_key_pem)
    # OAEP first: its failures are reported, while PKCS#1 v1.5 may answer random bytes for a ciphertext it
    # rejects (implicit rejection); either way only a plain-looking result counts.
    schemes = (
        padding.OAEP(mgf=padding.MGF1(hashes.SHA1()), algorithm=hashes.SHA1(), label=None),
        padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
        padding.PKCS1v15(),
    )
    for scheme in schemes:
        try:
            text = key.decrypt(data, scheme).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
        if _PLAIN.match(text):
            return text
    return None


@functools.lru_cache(maxsize=8)
def _private_key(pem: str) -> Any:
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    return load_pem_private_key(pem.encode("ascii"), password=None)
