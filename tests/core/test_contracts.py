"""Contracts: load-time checks, request violations, strict response validation."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from emulator.core.contracts import Contracts
from emulator.core.errors import ConfigError, ContractMismatch, Reply
from tests.core.toy import CONTRACTS, toy_app
from tests.core.toy.helpers import issue, token_body

DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _contracts(tmp_path: Path, files: dict[str, object]) -> Contracts:
    folder = tmp_path / "demo"
    folder.mkdir()
    for name, content in files.items():
        (folder / name).write_text(content if isinstance(content, str) else json.dumps(content))
    return Contracts(tmp_path, ["demo"])


def test_request_violations_name_location_field_and_keyword(tmp_path):
    contracts = _contracts(
        tmp_path,
        {
            "defs.json": {"$schema": DIALECT, "$defs": {"code": {"type": "string", "maxLength": 3}}},
            "op.request.json": {
                "$schema": DIALECT,
                "type": "object",
                "properties": {
                    "headers": {"type": "object", "required": ["x-id"]},
                    "body": {
                        "type": "object",
                        "required": ["a"],
                        "properties": {"code": {"$ref": "defs.json#/$defs/code"}},
                    },
                },
            },
        },
    )
    assert contracts.request_locations("demo", "op") == {"headers", "body"}
    assert contracts.check_request("demo", "op", {"headers": {"x-id": "1"}, "body": {"a": 1, "code": "ab"}}) == []
    violations = contracts.check_request("demo", "op", {"headers": {}, "body": {"code": "abcd"}})
    assert [(v.location, v.field, v.keyword) for v in violations] == [
        ("body", "a", "required"),
        ("headers", "x-id", "required"),
        ("body", "code", "maxLength"),
    ]


def test_response_contract_per_status(tmp_path):
    contracts = _contracts(
        tmp_path,
        {
            "op.response.json": {"$schema": DIALECT, "$defs": {"200": {"type": "object", "required": ["ok"]}}},
        },
    )
    contracts.check_response("demo", "op", 200, {"ok": True})
    with pytest.raises(ContractMismatch, match=r"demo/op.response.json#/\$defs/200 at /: 'ok' is a required property"):
        contracts.check_response("demo", "op", 200, {})
    with pytest.raises(ContractMismatch, match="no contract for this status"):
        contracts.check_response("demo", "op", 418, {})


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("{nope", "not valid JSON"),
        ({"type": "object"}, "'$schema' must be"),
        ({"$schema": DIALECT, "type": "objekt"}, "not a valid JSON Schema at type"),
        ({"$schema": DIALECT, "$ref": "missing.json"}, "cannot compile"),
    ],
)
def test_bad_contract_file_fails_naming_file_and_problem(tmp_path, content, problem):
    with pytest.raises(ConfigError) as caught:
        _contracts(tmp_path, {"op.request.json": content}).compile_all()  # what `payemu check` runs
    assert ("op.request.json" in str(caught.value) or "missing.json" in str(caught.value)) and problem in str(
        caught.value
    )


def test_a_validator_is_compiled_on_its_first_use(tmp_path):
    contracts = _contracts(tmp_path, {"op.request.json": {"$schema": DIALECT, "$ref": "#/$defs/missing"}})
    with pytest.raises(ConfigError, match=r"op\.request\.json: cannot compile"):
        contracts.check_request("demo", "op", {"body": {}})


def test_response_contract_needs_status_keys(tmp_path):
    with pytest.raises(ConfigError, match="keyed by status"):
        _contracts(tmp_path, {"op.response.json": {"$schema": DIALECT, "type": "object"}})


def test_strict_mode_names_contract_and_path():
    app = toy_app(strict=True)
    runtime = app.extensions["payemu"]
    toy = runtime.providers["toy"]
    from emulator.core import provider as pipeline

    with app.test_request_context("/toy/tokens", method="POST", json=token_body()):
        call = pipeline.Call(runtime, toy, "issue_token", {})
        response = pipeline._finish(runtime, call, Reply(200, {"code": "ok"}), {}, 0.0, toy.codec).response()
    assert response.status_code == 500
    body = response.get_json()["payemu_contract_violation"]
    assert body["contract"] == "contracts/toy/issue_token.response.json#/$defs/200"
    assert body["path"] == "/"
    assert "required property" in body["message"]
    assert response.headers["X-Payemu-Contract-Violation"] == body["contract"]


def test_request_violation_is_the_providers_error_and_changes_no_state(client, runtime):
    response = issue(client, amount="15")
    assert response.status_code == 400
    assert response.get_json() == {"code": "invalidrequest", "message": "body.amount: pattern"}
    assert runtime.store.tenants("toy") == []


def test_lenient_mode_does_not_validate_responses(tmp_path):
    """A view whose reply breaks its contract: strict mode answers a loud 500, lenient mode passes it."""
    contracts = tmp_path / "contracts"
    shutil.copytree(CONTRACTS, contracts)
    (contracts / "toy" / "issue_token.response.json").write_text(
        json.dumps({"$schema": DIALECT, "$defs": {"200": {"type": "object", "required": ["never"]}}})
    )
    assert issue(toy_app(strict=True, contracts_dir=contracts).test_client()).status_code == 500
    lenient = issue(toy_app(strict=False, contracts_dir=contracts).test_client())
    assert lenient.status_code == 200 and lenient.get_json()["code"] == "ok"
