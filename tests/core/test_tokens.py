"""The core JWT module against an independent implementation (PyJWT)."""

from __future__ import annotations

import jwt
import pytest

from emulator.core import tokens


@pytest.mark.parametrize("algorithm", ["HS256", "HS512"])
def test_tokens_verify_with_pyjwt_and_back(algorithm):
    claims = {"sub": "ü-1", "exp": 2_000_000_000, "n": 3}
    token = tokens.encode(claims, "s" * 64, algorithm)
    assert jwt.decode(token, "s" * 64, algorithms=[algorithm]) == claims
    foreign = jwt.encode(claims, "s" * 64, algorithm=algorithm)
    assert tokens.decode(foreign, "s" * 64, algorithm) == claims


def test_bad_tokens_are_refused():
    token = tokens.encode({"a": 1}, "k" * 40)
    for bad in ("x", "a.b", token[:-2] + "AA", token.replace(".", ". ", 1)):
        with pytest.raises(tokens.TokenError):
            tokens.decode(bad, "k" * 40)
    with pytest.raises(tokens.TokenError):
        tokens.decode(token, "other-key-0123456789012345678901")
    with pytest.raises(tokens.TokenError):
        tokens.verify(token, "k" * 40, "HS512")  # the wrong algorithm


def test_memoised_claims_are_copies_and_failures_are_not_remembered():
    token = tokens.encode({"a": 1}, "k" * 64)
    first = tokens.claims(token)
    first["a"] = 2
    assert tokens.claims(token) == {"a": 1}
    for _ in range(2):  # a refused token is refused every time, with any other key too
        with pytest.raises(tokens.TokenError):
            tokens.verify(token, "x" * 64)
    tokens.verify(token, "k" * 64)
