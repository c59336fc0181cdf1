"""Toy: the smallest provider the core can run, so `tests/core/` tests the core without a real one.

Three operations: `issue_token` (the credentials are body fields), `lookup` (a bearer token, expiry
on the virtual clock, an optional single-use rule) and `notify` (a signed callback to the tenant's URL).
Its contracts, scenarios and tenants live beside this file; `toy_app()` builds an app of Toy alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from emulator import create_app
from emulator.core.contracts import Violation
from emulator.core.provider import Call, Provider
from tests.core.toy import errors
from tests.core.toy.model import ToyState
from tests.core.toy.routes import authenticate_bearer, bp, on_clock

HERE = Path(__file__).resolve().parent
CONTRACTS, SCENARIOS = HERE / "contracts", HERE / "scenarios"
OPTIONS = {"single_use_tokens": False, "greeting": "hello"}


def contract_error(call: Call, violations: list[Violation]) -> errors.ToyError:
    first = violations[0]
    return errors.InvalidRequest(f"{first.location}.{first.field}: {first.keyword}")


PROVIDER = Provider(
    name="toy",
    description="A provider defined by the tests",
    blueprint=bp,
    state_class=ToyState,
    authenticate=authenticate_bearer,
    errors=errors.CATALOGUE,
    contract_error=contract_error,
    not_found=lambda path: errors.NotFound(),
    method_not_allowed=lambda method: errors.MethodNotAllowed(),
    paths=("/toy/",),
    folder=HERE,
    options=OPTIONS,
    on_clock=on_clock,
    actions={"ping": lambda context, **args: {"pong": context.tenant.id, **args}},
)


def toy_app(**overrides: Any) -> Flask:
    """An app serving Toy alone, from its own contracts and scenarios (overridable)."""
    settings = {"strict": True, "seed": 1, "contracts_dir": CONTRACTS, "scenarios_dir": SCENARIOS, **overrides}
    return create_app(providers=[PROVIDER], **settings)
