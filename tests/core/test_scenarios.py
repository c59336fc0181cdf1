"""The scenario engine: matching, call counts, actions, selection, and load-time validation."""

from __future__ import annotations

import json
import shutil
import textwrap
from pathlib import Path

import pytest

from emulator.core.errors import ConfigError
from emulator.core.provider import DroppedConnection
from tests.core.toy import SCENARIOS, toy_app
from tests.core.toy.helpers import M1, bearer, issue, lookup, token

SCENARIO = "X-Payemu-Scenario"


def _scenario_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    """A copy of Toy's scenarios folder, plus the given files."""
    root = tmp_path / "scenarios"
    shutil.copytree(SCENARIOS, root)
    for name, text in files.items():
        (root / "toy" / name).write_text(textwrap.dedent(text))
    return root


def _app_with(tmp_path: Path, files: dict[str, str], **config):
    return toy_app(scenarios_dir=_scenario_dir(tmp_path, files), **config)


def test_header_selects_scenario_per_request(client):
    tok = token(client)
    response = lookup(client, tok, **{SCENARIO: "toy/platform-failure"})
    assert response.status_code == 500
    assert response.get_json() == {"code": "platformerror", "message": "platform error"}
    assert lookup(client, tok).status_code == 200  # without the header: default behaviour


def test_nth_rule_fails_only_the_listed_calls(runtime, client):
    runtime.scenarios.activate("toy/failure-then-recovery")
    assert [issue(client).status_code for _ in range(4)] == [500, 500, 200, 200]


def test_times_and_after_counts(tmp_path):
    app = _app_with(
        tmp_path,
        {
            "counts.yaml": """
            description: times then after
            rules:
              - when: {operation: issue_token, times: 1}
                then: {respond: {status: 429, body: {code: "429", message: slow down}}}
              - when: {operation: issue_token, after: 2}
                then: {error: platform_error}
        """,
        },
    )
    app.extensions["payemu"].scenarios.activate("toy/counts")
    client = app.test_client()
    assert [issue(client).status_code for _ in range(5)] == [429, 200, 200, 500, 500]


def test_body_regex_and_header_conditions(tmp_path):
    app = _app_with(
        tmp_path,
        {
            "match.yaml": """
            description: match on body and header
            rules:
              - when: {operation: issue_token, body: {amount: {regex: "^9"}}, headers: {X-Request-Id: MATCH}}
                then: {error: bad_credentials}
        """,
        },
    )
    client = app.test_client()

    def status(amount: str, request_id: str) -> int:
        return issue(client, {SCENARIO: "toy/match", "X-Request-Id": request_id}, amount=amount).status_code

    assert [status("99.00", "MATCH"), status("15.00", "MATCH"), status("99.00", "OTHER")] == [401, 200, 200]


def test_respond_action_sends_canned_response(tmp_path):
    app = _app_with(
        tmp_path,
        {
            "canned.yaml": """
            description: a canned body
            rules:
              - when: {operation: issue_token}
                then: {respond: {status: 503, headers: {Retry-After: "5"}, body: {code: "503", message: busy}}}
        """,
        },
    )
    response = issue(app.test_client(), {SCENARIO: "toy/canned"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json() == {"code": "503", "message": "busy"}
    assert app.extensions["payemu"].store.tenants("toy") == []  # the handler never ran


def test_fault_reset_drops_the_connection(client, runtime):
    tok = token(client)
    with pytest.raises(DroppedConnection):
        lookup(client, tok, **{SCENARIO: "toy/dropped-connection"})
    assert runtime.journal.query(operation="lookup")[0].effects == ["rule 1", "fault reset"]


def test_fault_malformed_truncates_the_body(client):
    response = issue(client, {SCENARIO: "toy/malformed-response"})
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.get_data())


def test_fault_empty_and_process_runs_the_handler(tmp_path):
    app = _app_with(
        tmp_path,
        {
            "empty.yaml": """
            description: handled, then an empty body
            rules:
              - when: {operation: issue_token}
                then: {fault: empty, process: true}
        """,
        },
    )
    response = issue(app.test_client(), {SCENARIO: "toy/empty"})
    assert response.status_code == 200 and response.get_data() == b""
    assert len(app.extensions["payemu"].store.peek("toy", M1).issued) == 1  # state changed


def test_delay_is_recorded_and_applied(client, runtime, monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr("emulator.core.provider.real_sleep", slept.append)
    response = issue(client, {SCENARIO: "toy/slow-token"})
    assert response.status_code == 200
    entry = runtime.journal.query(operation="issue_token")[0]
    assert entry.effects == ["rule 1", "delay 50ms"]
    assert slept == [0.05]  # after the journal entry: the journal times the handling, not the delay


def test_set_state_expires_tokens_mid_flow(client, runtime):
    runtime.scenarios.activate("toy/token-expires-mid-flow")
    tok = token(client)
    first = lookup(client, tok)
    assert first.status_code == 401 and first.get_json()["code"] == "tokenexpired"
    assert lookup(client, token(client)).status_code == 200  # nth: 1 only


def test_advance_clock_action(tmp_path):
    app = _app_with(
        tmp_path,
        {
            "time-passes.yaml": """
            description: a quarter of an hour passes before every lookup
            rules:
              - when: {operation: lookup}
                then: {advance_clock: 901}
        """,
        },
    )
    client = app.test_client()
    response = lookup(client, token(client), **{SCENARIO: "toy/time-passes"})
    assert response.status_code == 401 and response.get_json()["code"] == "tokenexpired"
    assert app.extensions["payemu"].clock.offset == pytest.approx(901, abs=1)


def test_scenario_options_apply_while_active(client, runtime):
    runtime.scenarios.activate("toy/single-use-tokens")
    tok = token(client)
    assert lookup(client, tok).status_code == 200
    assert lookup(client, tok).status_code == 400
    runtime.scenarios.deactivate("toy")
    assert lookup(client, tok).status_code == 200  # the option ends with the scenario


def test_selection_precedence_header_then_tenant_then_server(client, runtime):
    runtime.scenarios.activate("toy/failure-then-recovery")  # server-wide
    runtime.scenarios.activate("toy/malformed-response", tenant=M1)  # tenant binding wins over it
    first = issue(client)
    assert first.status_code == 200 and not first.get_data().endswith(b"}")
    with_header = issue(client, {SCENARIO: "toy/default"})
    assert with_header.get_json()["code"] == "ok"
    runtime.scenarios.deactivate("toy", M1)
    assert issue(client).status_code == 500  # the server-wide scenario now applies


def test_unknown_scenario_header_is_a_loud_400(client, runtime):
    response = issue(client, {SCENARIO: "toy/nope"})
    assert response.status_code == 400
    assert response.headers["X-Payemu-Error"] == "unknown-scenario"
    assert response.get_json()["payemu_error"] == "unknown scenario 'toy/nope'"
    assert "toy/default" in response.get_json()["known"]
    assert runtime.store.peek("toy", M1) is None


def test_scenario_header_is_not_a_credential(client):
    response = client.post("/toy/lookup", json={"item": "x"}, headers={**bearer("forged"), SCENARIO: "toy/default"})
    assert response.status_code == 401 and response.get_json()["code"] == "tokenrejected"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "description: x\nrules:\n  - when: {operation: nope}\n    then: {delay_ms: 1}\n",
            "rule 1: unknown operation 'nope'",
        ),
        (
            "description: x\nrules:\n  - when: {operation: issue_token}\n    then: {error: nope}\n",
            "rule 1: unknown error 'nope'",
        ),
        ("description: x\nrules:\n  - when: {}\n    then: {delay_ms: -5}\n", "rule 1 (then.delay_ms)"),
        ("description: x\nrules:\n  - when: {}\n    then: {teleport: true}\n", "rule 1 (then)"),
        ("description: x\noptions: {warp: 9}\n", "unknown option 'warp'"),
        (
            "description: x\nrules:\n  - when: {}\n    then: {set_state: {explode: {}}}\n",
            "unknown state action 'explode'",
        ),
        ("description: x\nrules:\n  - when: {body: {a: {regex: '('}}}\n    then: {delay_ms: 1}\n", "bad regex"),
        ("rules: [\n", "not valid YAML"),
    ],
)
def test_bad_scenario_file_fails_startup_naming_file_rule_problem(tmp_path, text, problem):
    with pytest.raises(ConfigError) as caught:
        _app_with(tmp_path, {"broken.yaml": text})
    assert "broken.yaml" in str(caught.value)
    assert problem in str(caught.value)


def test_every_provider_needs_a_default_scenario(tmp_path):
    root = _scenario_dir(tmp_path, {})
    (root / "toy" / "default.yaml").unlink()
    with pytest.raises(ConfigError, match="default scenario"):
        toy_app(scenarios_dir=root)
