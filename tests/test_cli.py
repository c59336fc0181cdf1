"""The payemu command: check, openapi, replay (every shipped replay file passes)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from emulator.cli import main
from emulator.config import data_dir

REPLAYS = sorted(data_dir("scenarios").glob("*/replay-*.yaml"))


def test_check_passes_on_the_shipped_files(capsys):
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_check_fails_on_a_bad_replay_file(tmp_path, capsys, monkeypatch):
    import shutil

    root = tmp_path / "scenarios"
    shutil.copytree(data_dir("scenarios"), root)
    (root / "izipay" / "replay-broken.yaml").write_text("description: x\nsteps:\n  - requets: {path: /x}\n")
    monkeypatch.setenv("PAYEMU_SCENARIOS_DIR", str(root))
    assert main(["check"]) == 2
    assert "replay-broken.yaml" in capsys.readouterr().err


def test_openapi_document(tmp_path):
    out = tmp_path / "openapi.json"
    assert main(["openapi", "-o", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["openapi"] == "3.1.0"
    generate = document["paths"]["/security/v1/Token/Generate"]["post"]
    assert generate["operationId"] == "izipay.generate_token"
    assert set(generate["responses"]) == {"200", "400", "401", "500"}
    assert {p["name"] for p in generate["parameters"]} == {"transactionid"}
    ref = generate["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/izipay.generate_token.response/$defs/200"
    text = json.dumps(document)
    assert '"$ref": "defs.json' not in text and "$id" not in text  # every reference points inside the document
    refs = re.findall(r'"\$ref": "#/([^"]+)"', text)
    assert refs
    for ref in set(refs):  # and every one of them resolves
        node = document
        for part in ref.split("/"):
            node = node[int(part)] if isinstance(node, list) else node[part.replace("~1", "/").replace("~0", "~")]
    operations = {op["operationId"] for path in document["paths"].values() for op in path.values()}
    assert {"izipay.generate_token", "zai.create_token_auth", "ecommpay.tokenize_card"} <= operations


@pytest.mark.parametrize("path", REPLAYS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_shipped_replay_files_pass(path, capsys):
    assert main(["replay", str(path)]) == 0, capsys.readouterr().out


def test_replay_reports_failures_with_exit_code(tmp_path, capsys):
    replay = tmp_path / "replay-wrong.yaml"
    replay.write_text(
        textwrap.dedent("""
        description: expects the wrong status
        steps:
          - request: {method: GET, path: /__admin/health}
            expect: {status: 201, body: {status: ok}}
          - request: {method: GET, path: /__admin/health}
            expect: {status: 200, body: {status: down}}
    """)
    )
    assert main(["replay", str(replay)]) == 1
    out = capsys.readouterr().out
    assert "FAIL step 1: GET /__admin/health — status 200, expected 201" in out
    assert "FAIL step 2" in out and "body status: 'ok' does not match 'down'" in out


def test_replay_against_a_live_server(payemu_server, capsys):
    path = Path(data_dir("scenarios")) / "izipay" / "replay-token-expired.yaml"
    token = payemu_server.runtime.config.admin_token
    assert main(["replay", str(path), "--url", payemu_server.url, "--admin-token", token]) == 0, capsys.readouterr().out


def test_serve_refuses_an_unknown_scenario_with_a_clear_message(capsys):
    assert main(["serve", "--port", "1", "--scenario", "izipay/nope"]) == 2
    assert "--scenario: unknown scenario 'izipay/nope' (known: " in capsys.readouterr().err


def test_a_tenant_bound_to_an_unknown_scenario_stops_start_up(tmp_path, capsys):
    tenants = tmp_path / "tenants.yaml"
    tenants.write_text('izipay:\n  - {id: "4009999", publicKey: "MyOwnPublicKey0123456", scenario: izipay/nope}\n')
    assert main(["check", "--tenants", str(tenants)]) == 2
    assert "tenant 4009999 of izipay: unknown scenario 'izipay/nope'" in capsys.readouterr().err
