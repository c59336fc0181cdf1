"""Ecommpay rules without HTTP: the signature (docs/providers/ecommpay.md#signature), token uniqueness and lifecycle
(docs/providers/ecommpay.md#tokens), card checks."""

from __future__ import annotations

import copy
import functools
from typing import Any

import pytest

from emulator.core.serialize import to_data
from emulator.core.tenants import Tenant
from emulator.providers.ecommpay import errors, signing
from emulator.providers.ecommpay.model import EcommpayState, card_expires_at, check_card

VECTOR_BODY = {
    "customer": {"id": "1707", "ip_address": "1.87.128.111", "project_id": 11},
    "card": {"pan": "4314220000000056", "year": 2030, "month": 5, "card_holder": "PAUL SMITH"},
}
VECTOR_STRING = (
    "card:card_holder:PAUL SMITH;card:month:5;card:pan:4314220000000056;card:year:2030;"
    "customer:id:1707;customer:ip_address:1.87.128.111;customer:project_id:11"
)
VECTOR_SIGNATURE = "URnXpvVNPzLZxj7/vGAaKhnqFdMxGKsIxOzoFVprFsG2PtroJn5fFyQPMQIBt6aZHysyJB0BKFTpHVFNAV1l0g=="
NOW = 1_800_000_000.0  # 2027-01-15
TENANT = Tenant("ecommpay", "11", {"id": "11", "project_id": 11, "secret": "secret"})


# -- signature (docs/providers/ecommpay.md#signature) ------------------------------------------------------------------


@pytest.mark.parametrize("variant", signing.VARIANTS)
def test_sign_computed_vector(variant: str) -> None:
    """Every published variant agrees on an ordinary body (no floats, nulls, `:` keys or long lists)."""
    assert signing.string_to_sign(VECTOR_BODY, variant=variant) == VECTOR_STRING
    assert signing.sign(VECTOR_BODY, "secret", variant=variant) == VECTOR_SIGNATURE


def test_python_sdk_signs_the_computed_vector_alike() -> None:
    from payment_page_sdk.signature_handler import SignatureHandler

    assert SignatureHandler("secret").sign(copy.deepcopy(VECTOR_BODY)) == VECTOR_SIGNATURE


def test_verify_computed_vector_with_signature_inside_customer() -> None:
    body = copy.deepcopy(VECTOR_BODY)
    body["customer"]["signature"] = VECTOR_SIGNATURE
    assert signing.verify(body, VECTOR_SIGNATURE, "secret")
    assert not signing.verify(body, VECTOR_SIGNATURE, "secreT")


def _leaves(data: Any, path: tuple = ()) -> list[tuple]:
    if isinstance(data, dict):
        return [leaf for key, value in data.items() for leaf in _leaves(value, (*path, key))]
    return [path]


@pytest.mark.parametrize("path", _leaves(VECTOR_BODY), ids=lambda p: ".".join(p))
def test_verify_one_changed_character_rejected(path: tuple) -> None:
    body = copy.deepcopy(VECTOR_BODY)
    holder = body
    for key in path[:-1]:
        holder = holder[key]
    value = str(holder[path[-1]])
    changed = value[:-1] + ("0" if value[-1] != "0" else "1")
    holder[path[-1]] = type(holder[path[-1]])(changed)
    assert not signing.verify(body, VECTOR_SIGNATURE, "secret")


def test_verify_one_changed_character_in_signature_rejected() -> None:
    tampered = VECTOR_SIGNATURE[:10] + ("A" if VECTOR_SIGNATURE[10] != "A" else "B") + VECTOR_SIGNATURE[11:]
    assert not signing.verify(VECTOR_BODY, tampered, "secret")


def test_string_to_sign_flattening_rules() -> None:
    params = {
        "b": True,
        "a": False,
        "n": None,
        "empty": [],
        "none": {},
        "frame_mode": "popup",
        "signature": "x",
        "deep": {"signature": "y", "list": [{"k": 1}, "v"], "frame_mode": 1},
        "f": 2.0,
        "g": 0.5,
    }
    assert signing.string_to_sign(params) == "a:0;b:1;deep:list:0:k:1;deep:list:1:v;f:2;g:0.5;n:"


@pytest.mark.parametrize(
    ("value", "php"),
    [
        (2030.0, "2030"),
        (0.1 + 0.2, "0.3"),
        (100.25, "100.25"),
        (-1.5, "-1.5"),
        (1e14, "1.0E+14"),
        (1e13, "10000000000000"),
        (123456789012345.678, "1.2345678901235E+14"),
        (0.0001, "0.0001"),
        (0.00001, "1.0E-5"),
        (1.5e-7, "1.5E-7"),
        (-0.0, "-0"),
        (2**64, "1.844674407371E+19"),
    ],
)
def test_scalars_cast_as_php_does(value: Any, php: str) -> None:
    """PHP's (string) of what json_decode gives: floats to 14 significant digits, big integers as floats."""
    assert signing.string_to_sign({"v": value}) == f"v:{php}"


@pytest.mark.parametrize(
    ("value", "js"),
    [(2030.0, "2030"), (0.1 + 0.2, "0.30000000000000004"), (1e21, "1e+21"), (1e-7, "1e-7"), (0.00001, "0.00001")],
)
def test_js_sdk_number_text(value: float, js: str) -> None:
    assert signing.js_number(value) == js


def test_natural_order_is_phps_strnatcmp() -> None:
    keys = ["items:10", "items:2", "items:1", "a1", "a!", "a0", "a01", "ab", "a:b", "A"]
    ordered = sorted(keys, key=functools.cmp_to_key(signing.strnatcmp))
    assert ordered == ["A", "a!", "a0", "a01", "a1", "a:b", "ab", "items:1", "items:2", "items:10"]


# Where the published SDKs compute another string than the Gate (docs/providers/ecommpay.md#signature-edge-cases)
EDGE_CASES = {
    "float": ({"amount": 2030.0}, {signing.PYTHON_SDK: "amount:2030.0", signing.PYTHON_PORT: "amount:2030.0"}),
    "null": ({"note": None}, {signing.PYTHON_SDK: "note:None"}),
    "colon key": ({"a:b": "1"}, {signing.PYTHON_SDK: "a:b:1", signing.PYTHON_PORT: "a:b:1", signing.JS_SDK: "a:b:1"}),
    "ten list items": (
        {"items": [str(i) for i in range(11)]},
        {v: "items:10" for v in (signing.PYTHON_SDK, signing.PYTHON_PORT, signing.JS_SDK)},
    ),
    "per-level sort": ({"a": {"x": "1"}, "a-b": "2"}, {signing.JS_SDK: "a:x:1;a-b:2"}),
}


@pytest.mark.parametrize("case", EDGE_CASES, ids=str)
def test_sdk_variants_differ_from_the_gate_and_only_lenient_accepts_them(case: str) -> None:
    params, expected = EDGE_CASES[case]
    gate = signing.string_to_sign(params)
    for variant, starts in expected.items():
        text = signing.string_to_sign(params, variant=variant)
        assert text != gate and starts in text, (variant, text)
        signature = signing.sign(params, "k", variant=variant)
        assert not signing.verify(params, signature, "k")
        assert signing.verify(params, signature, "k", lenient=True)
    assert signing.verify(params, signing.sign(params, "k"), "k")


def test_published_python_sdk_is_the_python_sdk_variant() -> None:
    from payment_page_sdk.signature_handler import SignatureHandler

    for params, _ in EDGE_CASES.values():
        assert SignatureHandler("k").sign(copy.deepcopy(params)) == signing.sign(
            params, "k", variant=signing.PYTHON_SDK
        )


# -- tokens (docs/providers/ecommpay.md#tokens) ------------------------------------------------------------------------


def _card(pan: str = "4314220000000056", year: int = 2030, month: int = 5) -> dict[str, Any]:
    return {"pan": pan, "year": year, "month": month, "card_holder": "PAUL SMITH"}


def _state() -> tuple[EcommpayState, Any]:
    counter = iter(f"{n:064x}" for n in range(1, 1000))
    return EcommpayState(TENANT), lambda: next(counter)


def test_tokenize_same_card_returns_same_token() -> None:
    state, new = _state()
    first, issued = state.tokenize({"id": "c1"}, _card(), now=NOW, new_token=new)
    again, issued_again = state.tokenize({"id": "c1"}, _card(), now=NOW + 5, new_token=new)
    assert (issued, issued_again) == (True, False)
    assert again.token == first.token and len(state.tokens) == 1
    assert len(first.token) == 64


def test_tokenize_new_expiry_updates_token_not_reissued() -> None:
    state, new = _state()
    first, _ = state.tokenize({"id": "c1"}, _card(year=2030, month=5), now=NOW, new_token=new)
    again, issued = state.tokenize({"id": "c1"}, _card(year=2031, month=7), now=NOW, new_token=new)
    assert not issued and again.token == first.token
    assert (again.year, again.month, again.expires_at) == (2031, 7, card_expires_at(2031, 7))


def test_tokenize_same_card_other_customer_gets_own_token() -> None:
    state, new = _state()
    first, _ = state.tokenize({"id": "c1"}, _card(), now=NOW, new_token=new)
    other, issued = state.tokenize({"id": "c2"}, _card(), now=NOW, new_token=new)
    assert issued and other.token != first.token


def test_tokenize_after_revoke_issues_new_token() -> None:
    state, new = _state()
    first, _ = state.tokenize({"id": "c1"}, _card(), now=NOW, new_token=new)
    state.revoke("c1", first.token, now=NOW)
    second, issued = state.tokenize({"id": "c1"}, _card(), now=NOW, new_token=new)
    assert issued and second.token != first.token and first.status == "revoke"


def test_state_never_holds_full_pan() -> None:
    state, new = _state()
    state.tokenize({"id": "c1"}, _card(), now=NOW, new_token=new)
    assert "4314220000000056" not in repr(state) and "4314220000000056" not in str(to_data(state))
    [record] = to_data(state)["tokens"].values()
    assert record["number"] == "431422******0056"


@pytest.mark.parametrize(
    ("mutate", "error"),
    [
        (lambda s, t: None, None),
        (lambda s, t: s.revoke("c1", t, now=NOW), errors.InvalidToken),
        (lambda s, t: s.expire_due(card_expires_at(2030, 5)), errors.CardExpired),
    ],
    ids=["active", "revoked", "expired"],
)
def test_card_by_token_by_status(mutate: Any, error: type | None) -> None:
    state, new = _state()
    record, _ = state.tokenize({"id": "c1"}, _card(), now=NOW, new_token=new)
    mutate(state, record.token)
    if error is None:
        assert state.card_by_token("c1", record.token, now=NOW) is record
    else:
        with pytest.raises(error):
            state.card_by_token("c1", record.token, now=NOW)


def test_card_by_token_unknown_and_foreign_customer() -> None:
    state, new = _state()
    record, _ = state.tokenize({"id": "c1"}, _card(), now=NOW, new_token=new)
    with pytest.raises(errors.TokenNotFound):
        state.card_by_token("c1", "f" * 64, now=NOW)
    with pytest.raises(errors.CustomerNotFound):
        state.card_by_token("c2", record.token, now=NOW)


def test_expire_due_moves_only_expired_active_tokens() -> None:
    state, new = _state()
    soon, _ = state.tokenize({"id": "c1"}, _card(year=2027, month=1), now=NOW, new_token=new)
    later, _ = state.tokenize({"id": "c1"}, _card(pan="4111111111111111", year=2030), now=NOW, new_token=new)
    assert state.expire_due(NOW) == []
    assert state.expire_due(card_expires_at(2027, 1)) == [soon]
    assert (soon.status, later.status) == ("expiry", "active")
    assert state.expire_due(card_expires_at(2027, 1) + 1) == []


@pytest.mark.parametrize(
    ("card", "code", "field"),
    [
        ({"card_holder": None}, None, None),
        ({"card_holder": ""}, "3161", "card.card_holder"),
        ({"pan": "4314220000000057"}, "502", "card.pan"),
        ({"pan": "43142200"}, "502", "card.pan"),
        ({"month": 13}, "502", "card.month"),
        ({"year": 30}, "502", "card.year"),
        ({"year": 2026, "month": 12}, "3021", "card.year"),
    ],
)
def test_check_card(card: dict[str, Any], code: str | None, field: str | None) -> None:
    data = {**_card(), **card}
    if card == {"card_holder": None}:
        data.pop("card_holder")
        code, field = "3162", "card.card_holder"
    problem = check_card(data, now=NOW)
    assert (problem.code, problem.field) == (code, field)
    assert check_card(_card(), now=NOW) is None
