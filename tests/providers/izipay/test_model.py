"""IzipayState rules called directly, with a fixed `now`."""

from __future__ import annotations

import pytest

from emulator.core.tenants import Tenant
from emulator.providers.izipay import errors, model

NOW = 1_764_311_216.0
TENANT = Tenant("izipay", "4001834", {"publicKey": "k" * 20, "token_secret": "s" * 40})
BODY = {"merchantCode": "4001834", "orderNumber": "ONTE176431099", "amount": "1.00"}


def _issue(state: model.IzipayState) -> dict:
    token = state.issue_token(BODY, "ONTE176431099", "284d7c21-1eac-47b5-9e5b-8dc67d10901f", now=NOW, facilitator="0")
    return model.verify_claims(token, "s" * 40)


def test_issue_token_claims_match_the_recorded_token():
    claims = _issue(model.IzipayState(TENANT))
    assert claims == {
        "merchantCode": "4001834",
        "facilitatorCode": "0",
        "transactionId": "ONTE176431099",
        "OrderNumber": "ONTE176431099",
        "Amount": "1.00",
        "TokenId": "284d7c21-1eac-47b5-9e5b-8dc67d10901f",
        "nbf": 1764311216,
        "exp": 1764312116,
        "iat": 1764311216,
    }


def test_token_reusable_until_exp_then_expired():
    state = model.IzipayState(TENANT)
    claims = _issue(state)
    for moment in (NOW + 10, NOW + 899):
        state.consume(state.check_token(claims, now=moment, single_use=False), single_use=False)
    with pytest.raises(errors.TokenRejected, match="Token expirado"):
        state.check_token(claims, now=NOW + 900, single_use=False)


def test_single_use_token_refused_the_second_time():
    state = model.IzipayState(TENANT)
    claims = _issue(state)
    token_id = state.check_token(claims, now=NOW, single_use=True)
    state.check_token(claims, now=NOW, single_use=True)  # checking alone does not use it
    state.consume(token_id, single_use=True)
    with pytest.raises(errors.TokenMissing):
        state.check_token(claims, now=NOW, single_use=True)


def test_token_older_than_this_state_or_revoked_is_rejected():
    state = model.IzipayState(TENANT)
    claims = _issue(state)
    with pytest.raises(errors.TokenRejected):
        state.check_token({**claims, "iat": claims["iat"] - 60}, now=NOW, single_use=False)
    with pytest.raises(errors.TokenRejected):
        model.IzipayState(TENANT).check_token(claims, now=NOW, single_use=False)  # a fresh state knows none
    state.scenario_revoke_tokens(now=NOW)
    with pytest.raises(errors.TokenRejected, match="inválida"):
        state.check_token(claims, now=NOW, single_use=False)


def test_expire_tokens_action_expires_earlier_tokens_only():
    state = model.IzipayState(TENANT)
    claims = _issue(state)
    state.scenario_expire_tokens(now=NOW)
    with pytest.raises(errors.TokenRejected, match="Token expirado"):
        state.check_token(claims, now=NOW, single_use=False)


def test_verify_claims_refuses_another_key():
    token = model.IzipayState(TENANT).issue_token(BODY, "TX", "id", now=NOW, facilitator="0")
    with pytest.raises(errors.TokenRejected):
        model.verify_claims(token, "x" * 40)


def test_installments_and_deposits():
    state = model.IzipayState(TENANT)
    assert state.installments("545545", model.BINS).issuer == "SCOTIABANK "
    with pytest.raises(errors.BinNotConfigured):
        state.installments("000000", model.BINS)
    order = {"orderNumber": "O1", "amount": "1.00", "currency": "PEN", "uniqueId": "1", "authorizationCode": "A"}
    assert state.deposit(order, now=NOW).batch_number == "1243"
    with pytest.raises(errors.AlreadyDeposited):
        state.deposit(order, now=NOW)
