"""Payelata signatures (docs/providers/payelata.md#callbacks, #card-gate): the callback `X-Signature =
base64(sha1(secret . body . secret, raw))`, and the card-gate token (`flow_data.metadata.token`), a JWT
signed RS512 as the platform's sample shows, through PyJWT (+ cryptography for RSA)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from emulator.core.tenants import Tenant

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

# PyJWT and cryptography are imported by the functions that use them: at start-up they cost ~0.06 s
# and ~6 MB that a server never answering a Payelata card-gate call does not need (cold start, RSS).

SIGNATURE_HEADER = "X-Signature"
# (doc) docs/providers/payelata.md#payment-invoices: the sample token's header is {"typ":"JWT","alg":"RS512"};
# (doc) another white-label's sample is HS256 (docs/providers/payelata.md#card-gate-token): option `card_gate_jwt_alg`.
JWT_ALGORITHMS = ("RS512", "HS256", "HS512")

# The emulator's own card-gate signing key (not a credential: only payemu verifies these tokens, and a real
# client only forwards them). Shared by every replica, so a token issued by one verifies on another; an
# account may bring its own as `jwt_private_key` (PEM) in its tenant settings.
DEFAULT_PRIVATE_KEY = """-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDgQyHAFsLVdwCi
hM9KVdAJkMfVLxWRlE5xEPpBoA2f3njEhOne4w76xpCU44MmDc9DxiCc6xKED8PF
/s4wLqRh9MCQBxXTG5e/Pxk3k1c7hdNNAdbD4JysbfZ16ZpsqFb8KLLTe1/jIWcu
f+NI7lpYlYgEf5++r6thjgcpVvCftwS7rlZlN4kj7K2sKDPDOndsF95EkLHyYYnT
aHKrijocm4kiZiDDGvnxn306OW2ukCS/R2FplhGTkx95+vHuU4/1a6AbuI95HBWx
96vJj9Z6TGJsZGh3kqyt4AScwqpFvo1v+M2K7XOKkYVRMY8YZ1Hg3L68W3ijddd5
1uygFqe/AgMBAAECggEAMee+gviNsuMgiQn09x3Rhc9qKM6phhPywMZ+akwru//N
8C2Dvc3Zb4Twd7GJZdZ84SAd8c19+VVow47IY4B9pC7LC0IIYUoqoqxv+CYZq21E
cEaQfFZnhxeRWPv7GWL8uHB2GwnBdNHiHD7pXTltcXkVI6si6VQ+Vx88CL8IHQI6
rH+pueopiS4qUu+Xjrx9wVmxIwNFJtTaqs3+TkFN9N3GxZYeDr07ib18IJeHxLdL
US7K9ev5CLCr8pFxQtdRyg1wiPSoyDorf4/NRzHkw39E1jzWYdK4fUaJknbIsI82
ZRsbipCMBiFYjlu06Yl9Ka7NeyerXJgzVTBHsEhuAQKBgQDzDPvBgsogXgO/GNna
yT2VQOOsAmPScC5COjq4FlxYNj4K7qsgo9kr8/tFiW4HawLWYyHzGdv02c72gtaE
cDl+hHyAJrnnCQWeFtywdugYDLO77FtS0gTpFjSIj/2KBvtfYPph/3bxwVpLD9so
h/ZjhZ1kfvf0h6KBanl/FAs0nwKBgQDsNeN7TIXIfHirJpTMcAQ/T3Go+lbbrh54
VTMvn/+/hvL8G1nCq3yanLpxTL7lItlG6K1uylbZGRY6mjmQqi+c3Kfh6oMNCfHj
/F0twQvMqDlvNx/Athrae3YAdK4uTKqflsLeCMsRv26URlFtok203aKmUT00jTqN
S0Ok3aGY4QKBgCy7sQJWrhjy9MGRM1d/PmRgAwc/kVvD5d+uk+wZwXlC0nx0nO5u
+aOLTi3oM2YOHgGTUUZK9h7Ej8DzJ8RMW2ibvcZgWkrZcD0+e/PGjsUOYW4u/Efr
+5dizNxtk/55dn6BfNPYju3D5nh2PKHjFEgQ6Xz7mWtaI2CqVh47dCyFAoGAEBfH
zNG016jrS7XQM3F6SJnwA3Qy0Lq3JrmfSCJdeT4HdfejEOlADwSYizmQU+og5Xza
vA6bBiV4Zzu0qk99+PDrmy+wCAZibYb3DjP1yta3OwWFa0q835/DtVo9t7fPdBoA
YsI0m5vwO7fiulZxdt4Ww8ALLHZmw9OZ4zSaWuECgYEA422ZTMtmQqd5eEaiy3HM
sXU14Ix2OUxDQ81u3FiciTASMCJYDXczqFb04j14CZO+p2UxZ/zluTVtCdBwEnJF
9f1UvPvCbQtSq3ToyMThcz/VXd4BTY3jIkZEjvOPuebdDjAPU5YfOSyT9Ye3yjrD
6mZPtC31LQy+eczoE6LuqA4=
-----END PRIVATE KEY-----
"""


class CardGateTokenError(ValueError):
    """A card-gate token that is malformed, of another algorithm, or not signed by this account's key."""


def signature(secret: str, body: bytes) -> str:
    """Return the Base64 of the raw 20-byte SHA-1 of `secret + body + secret` (doc, byte-exact)."""
    key = secret.encode("utf-8")
    return base64.b64encode(hashlib.sha1(key + body + key).digest()).decode("ascii")


def verify(secret: str, body: bytes, value: str) -> bool:
    """Check a received signature in constant time."""
    return hmac.compare_digest(signature(secret, body), value.strip())


@functools.lru_cache(maxsize=64)
def _private_key(pem: str) -> RSAPrivateKey:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key(pem.encode("ascii"), password=None)
    assert isinstance(key, RSAPrivateKey)
    return key


def _keys(tenant: Tenant, algorithm: str) -> tuple[Any, Any]:
    """(signing key, verifying key) of the account for `algorithm`."""
    if algorithm == "RS512":
        private = _private_key(str(tenant.get("jwt_private_key") or DEFAULT_PRIVATE_KEY))
        return private, private.public_key()
    secret = str(tenant.get("jwt_secret") or tenant.get("api_key_test") or tenant.id)
    key = hashlib.sha512(secret.encode("utf-8")).digest()  # 64 bytes: RFC 7518's minimum for HS512
    return key, key


def issue_token(claims: dict[str, Any], tenant: Tenant, algorithm: str) -> str:
    """The card-gate JWT; header `{"typ":"JWT","alg":…}` in the sample's key order."""
    import jwt

    if algorithm not in JWT_ALGORITHMS:
        raise ValueError(f"card_gate_jwt_alg must be one of {', '.join(JWT_ALGORITHMS)}, not {algorithm!r}")
    key, _ = _keys(tenant, algorithm)
    return jwt.encode(claims, key, algorithm=algorithm, headers={"typ": "JWT"}, sort_headers=False)


def read_token(token: str, tenant: Tenant) -> dict[str, Any]:
    """Verify a card-gate token against the account's key (expiry is checked by the caller, on the virtual
    clock); raise `CardGateTokenError` otherwise."""
    import jwt

    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
        if algorithm not in JWT_ALGORITHMS:
            raise CardGateTokenError(f"unsupported algorithm {algorithm!r}")
        _, key = _keys(tenant, algorithm)
        # times are checked by the caller on the virtual clock, never against the wall clock
        times_off = {"verify_exp": False, "verify_iat": False, "verify_nbf": False}
        return jwt.decode(token, key, algorithms=[algorithm], options=times_off)
    except jwt.PyJWTError as exc:
        raise CardGateTokenError(str(exc)) from exc


def token_claims(token: str) -> dict[str, Any]:
    """The unverified claims (to find the account that issued the token); `CardGateTokenError` if malformed."""
    import jwt

    try:
        claims = jwt.decode(token, options={"verify_signature": False, "verify_iat": False, "verify_exp": False})
    except jwt.PyJWTError as exc:
        raise CardGateTokenError(str(exc)) from exc
    return claims
