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


def _export() -> dict:
    from emulator import create_app
    from emulator.core.openapi import build_openapi

    return build_openapi(create_app())


def test_openapi_declares_each_providers_auth():
    document = _export()
    schemes = document["components"]["securitySchemes"]
    assert schemes["izipay.bearer"]["scheme"] == "bearer" and schemes["zai.bearer"]["scheme"] == "bearer"
    assert schemes["zai.client"]["scheme"] == "basic" and schemes["payelata.basic"]["scheme"] == "basic"
    assert schemes["payture.terminal"] == {
        **schemes["payture.terminal"],
        "type": "apiKey",
        "in": "query",
        "name": "VWID",
    }
    paths = document["paths"]
    assert paths["/Installments/v1/Installments/Search"]["post"]["security"] == [{"izipay.bearer": []}]
    assert paths["/security/v1/Token/Generate"]["post"]["security"] == []
    assert paths["/tokens"]["post"]["security"] == [{"zai.client": []}, {}]  # Basic, or the pair in the body
    assert paths["/users"]["get"]["security"] == [{"zai.bearer": []}]
    assert paths["/payment/sale"]["post"]["security"] == [{"payelata.flow_token": []}]
    tokenize = paths["/v2/customer/card/tokenize"]["post"]
    assert tokenize["security"] == [] and "customer.signature" in tokenize["x-payemu-auth"][0]["credentials"]


def test_openapi_request_encodings_and_headers():
    paths = _export()["paths"]
    register = paths["/vwapi/Register"]["post"]["requestBody"]["content"]
    form = register["application/x-www-form-urlencoded"]["schema"]
    assert set(form["required"]) == {"VWID", "DATA"} and form["properties"]["DATA"]["type"] == "string"
    assert {p["name"] for p in paths["/vwapi/Register"]["get"]["parameters"]} == {"VWID", "DATA"}
    assert set(paths["/tokens"]["post"]["requestBody"]["content"]) == {
        "application/x-www-form-urlencoded",
        "application/json",
    }
    search = paths["/Installments/v1/Installments/Search"]["post"]
    assert [(p["name"], p["in"], p["required"]) for p in search["parameters"]] == [("transactionid", "header", True)]
    proxied = "/gateway/api/v1/proxy-cors/https://sandbox-api-pw.izipay.pe/Installments/v1/Installments/Search"
    assert paths[proxied]["post"]["operationId"] == "izipay.search_installments.proxy"


def test_openapi_response_media_types_are_what_is_answered():
    paths = _export()["paths"]
    hpp = paths["/hpp/{session_id}"]["get"]["responses"]
    assert set(hpp["404"]["content"]) == {"text/html"} and set(hpp["429"]["content"]) == {"application/json"}
    assert set(paths["/vwapi/Add"]["get"]["responses"]["200"]["content"]) == {"text/html", "text/xml"}
    assert set(paths["/vwapi/Init"]["post"]["responses"]["200"]["content"]) == {"text/xml"}
    invoice = paths["/payment-invoices"]["post"]["responses"]["201"]["content"]
    assert set(invoice) == {"application/vnd.api+json"}


def test_openapi_operation_ids_are_unique():
    document = _export()
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
