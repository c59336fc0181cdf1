"""The scenario engine: matching, call counts, actions, selection, and load-time validation."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from emulator import create_app
from emulator.core.errors import ConfigError
from emulator.core.provider import DroppedConnection
from tests.providers.izipay.helpers import GENERATE, MERCHANT, SEARCH, TX, bearer, generate, token, token_body


def _scenario_dir(tmp_path: Path, files: dict[str, str]) -> Path:
    """A copy of the shipped scenarios folder, plus the given Izipay files."""
    import shutil

    from emulator.config import data_dir

    root = tmp_path / "scenarios"
    shutil.copytree(data_dir("scenarios"), root)
    for name, text in files.items():
        (root / "izipay" / name).write_text(textwrap.dedent(text))
    return root


def _app_with(tmp_path: Path, files: dict[str, str], **config):
    from emulator.providers.izipay import PROVIDER as IZIPAY

    # Only Izipay: the temporary scenarios folder holds no other provider's default.yaml.
    return create_app(strict=True, seed=1, scenarios_dir=_scenario_dir(tmp_path, files), providers=[IZIPAY], **config)


def test_header_selects_scenario_per_request(client):
    response = client.post(
        SEARCH,
        json={"bin": "545545", "merchantCode": MERCHANT},
        headers={**bearer(token(client)), "X-Payemu-Scenario": "izipay/platform-failure"},
    )
    assert response.status_code == 500
    assert response.get_json() == {
        "code": "500",
        "errorMessage": "The API Public service threw an error. Check the errors field to view possible details.",
    }
    assert generate(client).status_code == 200  # without the header: default behaviour


def test_nth_rule_fails_only_the_listed_calls(app, client):
    app.extensions["payemu"].scenarios.activate("izipay/platform-failure-then-recovery")
    assert [generate(client).status_code for _ in range(4)] == [500, 500, 200, 200]


def test_times_and_after_counts(tmp_path):
    app = _app_with(
        tmp_path,
        {
            "counts.yaml": """
            description: times then after
            rules:
              - when: {operation: generate_token, times: 1}
                then: {respond: {status: 429, body: {code: "429", message: slow down}}}
              - when: {operation: generate_token, after: 2}
                then: {error: platform_error}
        """,
        },
    )
    app.extensions["payemu"].scenarios.activate("izipay/counts")
    client = app.test_client()
    assert [generate(client).status_code for _ in range(5)] == [429, 200, 200, 500, 500]


def test_body_regex_and_header_conditions(tmp_path):
    app = _app_with(
        tmp_path,
        {
            "match.yaml": """
            description: match on body and header
            rules:
              - when: {operation: generate_token, body: {amount: {regex: "^9"}}, headers: {transactionId: TXMATCH}}
                then: {error: bad_credentials}
        """,
        },
    )
    client = app.test_client()
    headers = {"X-Payemu-Scenario": "izipay/match"}
    assert (
        client.post(
            GENERATE, json=token_body(amount="99.00"), headers={**headers, "transactionId": "TXMATCH"}
        ).status_code
        == 401
    )
    assert (
        client.post(
            GENERATE, json=token_body(amount="15.00"), headers={**headers, "transactionId": "TXMATCH"}
        ).status_code
        == 200
    )
    assert (
        client.post(
            GENERATE, json=token_body(amount="99.00"), headers={**headers, "transactionId": "TXOTHER"}
        ).status_code
        == 200
    )


def test_respond_action_sends_canned_response(tmp_path):
    app = _app_with(
        tmp_path,
        {
            "canned.yaml": """
            description: a canned body
            rules:
              - when: {operation: generate_token}
                then: {respond: {status: 503, headers: {Retry-After: "5"}, body: {code: "503", message: busy}}}
        """,
        },
    )
    response = app.test_client().post(
        GENERATE, json=token_body(), headers={"transactionId": TX, "X-Payemu-Scenario": "izipay/canned"}
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json() == {"code": "503", "message": "busy"}


def test_fault_reset_drops_the_connection(client, runtime):
    tok = token(client)
    with pytest.raises(DroppedConnection):
        client.post(
            SEARCH,
            json={"bin": "545545", "merchantCode": MERCHANT},
            headers={**bearer(tok), "X-Payemu-Scenario": "izipay/dropped-connection"},
        )
    assert runtime.journal.query(operation="search_installments")[0].effects == ["rule 1", "fault reset"]


def test_fault_malformed_truncates_the_body(client):
    response = client.post(
        GENERATE, json=token_body(), headers={"transactionId": TX, "X-Payemu-Scenario": "izipay/malformed-response"}
    )
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
              - when: {operation: generate_token}
                then: {fault: empty, process: true}
        """,
        },
    )
    response = app.test_client().post(
        GENERATE, json=token_body(), headers={"transactionId": TX, "X-Payemu-Scenario": "izipay/empty"}
    )
    assert response.status_code == 200 and response.get_data() == b""
    assert app.extensions["payemu"].store.peek("izipay", MERCHANT).issued == 1  # state changed


def test_delay_is_recorded_and_applied(client, runtime):
    response = client.post(
        GENERATE, json=token_body(), headers={"transactionId": TX, "X-Payemu-Scenario": "izipay/slow-token"}
    )
    assert response.status_code == 200
    entry = runtime.journal.query(operation="generate_token")[0]
    assert entry.effects == ["rule 1", "delay 1500ms"]
    assert entry.duration_ms < 1500  # the journal times the handling; the delay comes after it


def test_set_state_expires_tokens_mid_flow(client, runtime):
    runtime.scenarios.activate("izipay/token-expires-mid-flow")
    tok = token(client)
    first = client.post(SEARCH, json={"bin": "545545", "merchantCode": MERCHANT}, headers=bearer(tok))
    assert first.status_code == 401 and first.get_json()["message"] == "Token expirado"


def test_advance_clock_action(tmp_path):
    app = _app_with(
        tmp_path,
        {
            "time-passes.yaml": """
            description: a quarter of an hour passes before every search
            rules:
              - when: {operation: search_installments}
                then: {advance_clock: 901}
        """,
        },
    )
    client = app.test_client()
    tok = token(client)
    response = client.post(
        SEARCH,
        json={"bin": "545545", "merchantCode": MERCHANT},
        headers={**bearer(tok), "X-Payemu-Scenario": "izipay/time-passes"},
    )
    assert response.status_code == 401
    assert app.extensions["payemu"].clock.offset == pytest.approx(901, abs=1)


def test_scenario_options_apply_while_active(client, runtime):
    runtime.scenarios.activate("izipay/single-use-tokens")
    tok = token(client)
    assert client.post(SEARCH, json={"bin": "545545", "merchantCode": MERCHANT}, headers=bearer(tok)).status_code == 200
    assert client.post(SEARCH, json={"bin": "545545", "merchantCode": MERCHANT}, headers=bearer(tok)).status_code == 400


def test_selection_precedence_header_then_tenant_then_server(client, runtime):
    runtime.scenarios.activate("izipay/platform-failure-then-recovery")  # server-wide
    runtime.scenarios.activate("izipay/malformed-response", tenant=MERCHANT)  # tenant binding wins over it
    assert generate(client).status_code == 200 and generate(client).get_data().startswith(b"{")
    with_header = client.post(
        GENERATE, json=token_body(), headers={"transactionId": TX, "X-Payemu-Scenario": "izipay/default"}
    )
    assert with_header.get_json()["code"] == "00"
    runtime.scenarios.deactivate("izipay", MERCHANT)
    assert generate(client).status_code == 500  # the server-wide scenario now applies


def test_unknown_scenario_header_is_a_loud_400(client, runtime):
    response = client.post(
        GENERATE, json=token_body(), headers={"transactionId": TX, "X-Payemu-Scenario": "izipay/nope"}
    )
    assert response.status_code == 400
    assert response.headers["X-Payemu-Error"] == "unknown-scenario"
    assert response.get_json()["payemu_error"] == "unknown scenario 'izipay/nope'"
    assert "izipay/default" in response.get_json()["known"]
    assert runtime.store.peek("izipay", MERCHANT) is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "description: x\nrules:\n  - when: {operation: nope}\n    then: {delay_ms: 1}\n",
            "rule 1: unknown operation 'nope'",
        ),
        (
            "description: x\nrules:\n  - when: {operation: generate_token}\n    then: {error: nope}\n",
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
    (root / "izipay" / "default.yaml").unlink()
    with pytest.raises(ConfigError, match="default scenario"):
        create_app(scenarios_dir=root)
