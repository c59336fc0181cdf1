"""`payemu proxy` (forwarding, recording, masking), `payemu drift` and `payemu replay --from-recording`.

The upstreams are loopback only: a second emulator, or that emulator behind a tiny WSGI layer that
deliberately changes its answers (a field's type, an added field, a dropped one, an unknown status).
"""

from __future__ import annotations

import base64
import functools
import json
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from werkzeug.serving import make_server

from emulator import create_app
from emulator.cli import main
from emulator.drift import DriftChecker
from emulator.proxy import ERROR_HEADER, RecordingProxy, make_proxy_server
from emulator.recording import Recorder, Redactor, read_recordings
from emulator.testing import free_port, start_server, stop_server

IZIPAY_KEY = "VErEthUtraQUxas57wUMuquprADrAHAb"
TOKEN_BODY = {
    "requestSource": "ECOMMERCE",
    "merchantCode": "4007701",
    "orderNumber": "R202211101518",
    "publicKey": IZIPAY_KEY,
    "amount": "15.00",
}


class Served:
    """A WSGI app on a free loopback port, in a thread."""

    def __init__(self, wsgi: Callable[..., Any]) -> None:
        self.server = make_server("127.0.0.1", 0, wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture(scope="module")
def upstream() -> Iterator[Any]:
    live, thread = start_server(seed=7)
    yield live
    stop_server(live, thread)


def _proxy(upstreams: dict[str, str], folder: Path | None, timeout: float = 10.0) -> tuple[Any, Any]:
    app = create_app(seed=3)
    proxy = RecordingProxy(app, upstreams, Recorder(folder) if folder else None, timeout=timeout)
    proxy.redactor = Redactor(key=b"fixed test key")  # deterministic tags: the byte search is reproducible
    server = make_proxy_server(proxy, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return proxy, server


@pytest.fixture
def proxied(upstream: Any, tmp_path: Path) -> Iterator[tuple[str, Path, Any]]:
    upstream.reset()
    names = ("izipay", "zai", "ecommpay", "payelata")
    proxy, server = _proxy({name: upstream.url for name in names}, tmp_path / "rec")
    yield f"http://127.0.0.1:{server.server_port}", tmp_path / "rec", proxy
    server.shutdown()
    server.server_close()


def _izipay_flow(base: str) -> None:
    token = requests.post(f"{base}/security/v1/Token/Generate", json=TOKEN_BODY, headers={"transactionId": "TX12345"})
    assert token.status_code == 200, token.text
    auth = {"transactionId": "TX12345", "Authorization": "Bearer " + token.json()["response"]["token"]}
    search = {"bin": "545545", "merchantCode": "4007701", "language": "ESP"}
    found = requests.post(f"{base}/Installments/v1/Installments/Search", json=search, headers=auth)
    assert found.status_code == 200, found.text


def test_forwards_unchanged_and_emulates_providers_without_an_upstream(proxied, upstream) -> None:
    base, folder, _proxy_app = proxied
    sent = requests.post(
        f"{base}/security/v1/Token/Generate?x=1",
        json=TOKEN_BODY,
        headers={"transactionId": "TX12377", "X-Extra": "kept"},
    )
    direct = requests.post(
        f"{upstream.url}/security/v1/Token/Generate", json=TOKEN_BODY, headers={"transactionId": "TX12399"}
    )
    assert sent.status_code == direct.status_code == 200
    assert sent.headers["transactionId"] == "TX12377"  # the upstream's own answer came back
    assert sent.headers["Server"] == direct.headers["Server"] and sent.headers["Date"].count("GMT") == 1
    seen = upstream.runtime.journal.query(provider="izipay", limit=2)[-1]  # the proxied call, as the upstream saw it
    assert (seen.method, seen.path, seen.query) == ("POST", "/security/v1/Token/Generate", "x=1")
    assert json.loads(seen.request_body) == TOKEN_BODY
    assert seen.request_headers["x-extra"] == "kept" and seen.request_headers["host"] == upstream.url[7:]
    # Payture has no upstream here: the proxy's own emulator answers it, the upstream never sees it.
    payture = requests.get(f"{base}/vwapi/Init", params={"Key": "Merchant"})
    assert payture.status_code == 200 and payture.text.startswith("<Init")
    recorded = list(read_recordings(folder))
    assert [e["provider"] for e in recorded] == ["izipay"]
    request = recorded[0]["request"]
    assert request["query"] == "x=1" and request["headers"]["X-Extra"] == "kept"
    assert recorded[0]["response"]["status"] == 200 and recorded[0]["duration_ms"] >= 0
    assert "Host" not in request["headers"]


def test_upstream_refused_and_timed_out_answer_502_and_504(tmp_path: Path) -> None:
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never answers
    try:
        refused_url = f"http://127.0.0.1:{free_port()}"
        silent_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        _app, server = _proxy({"izipay": refused_url, "zai": silent_url}, tmp_path, timeout=0.3)
        base = f"http://127.0.0.1:{server.server_port}"
        refused = requests.post(f"{base}/security/v1/Token/Generate", json=TOKEN_BODY)
        timed_out = requests.post(f"{base}/tokens", data={"grant_type": "client_credentials"})
        server.shutdown()
        server.server_close()
    finally:
        silent.close()
    assert refused.status_code == 502 and refused.headers[ERROR_HEADER] == "refused"
    assert refused.json()["payemu_proxy_error"]["upstream"] == refused_url
    assert timed_out.status_code == 504 and timed_out.json()["payemu_proxy_error"]["kind"] == "timeout"
    kinds = {e["provider"]: (e["response"]["status"], e["error"]["kind"]) for e in read_recordings(tmp_path)}
    assert kinds == {"izipay": (502, "refused"), "zai": (504, "timeout")}


def test_no_card_number_cvv_or_secret_reaches_a_recording(upstream, tmp_path: Path) -> None:
    folder = tmp_path / "rec"
    names = ("izipay", "zai", "ecommpay", "payelata", "payture")
    _app, server = _proxy({name: upstream.url for name in names}, folder)
    base = f"http://127.0.0.1:{server.server_port}"
    pan, cvv, zai_secret = "4111111111111111", "7391", "payemu-zai-marketplace-a-client-secret-0001"
    payelata_key = "test_6pnkH5vUZw0BlkZY_Xq3pLr8sT2vW"
    _izipay_flow(base)
    token = requests.post(
        f"{base}/tokens",
        data={"grant_type": "client_credentials", "client_id": "x", "client_secret": zai_secret, "scope": "s"},
    )
    bearer = (
        token.json().get("access_token", "") if token.headers.get("content-type", "").startswith("application") else ""
    )
    requests.post(
        f"{base}/v2/card/tokenize",
        json={
            "general": {"project_id": 1, "signature": "SiGnAtUrE0123456789=="},
            "card": {"pan": pan, "cvv": cvv, "year": 2030, "month": 1},
        },
    )
    basic = base64.b64encode(f"coma_6pnkH5vUZw0BlkZY:{payelata_key}".encode()).decode()
    requests.post(
        f"{base}/api/payment-invoices",
        headers={"Authorization": f"Basic {basic}"},
        json={"data": {"card": {"number": pan, "security_code": cvv}, "api_key": payelata_key}},
    )
    data = f"VWUserLgn=me@x.com;VWUserPsw=hunter22;CardNumber={pan};SecureCode={cvv};EMonth=12;EYear=30;"
    requests.post(f"{base}/vwapi/Add", data={"VWID": "VWMerchantPayemu", "DATA": data})
    requests.get(f"{base}/vwapi/Init", params={"Key": "MerchantKeyX", "Data": f"SessionType=Pay;Password=pw-{cvv}9"})
    server.shutdown()
    server.server_close()
    recorded = b"".join(path.read_bytes() for path in folder.glob("*.jsonl"))
    assert recorded.count(b"\n") >= 7 and {p.stem for p in folder.glob("*.jsonl")} == set(names)
    secrets = [
        pan,
        cvv,
        IZIPAY_KEY,
        zai_secret,
        payelata_key,
        basic,
        "SiGnAtUrE0123456789==",
        "hunter22",
        "MerchantKeyX",
    ]
    secrets += [bearer] if bearer else []
    for exchange in read_recordings(folder):  # the tokens the upstreams issued, too
        body = exchange["response"]["body"]
        assert "eyJ" not in body, body
    for secret in secrets:
        assert secret.encode() not in recorded, secret
    assert b"411111******1111" in recorded  # masked, first six and last four kept


def test_payture_data_strings_are_redacted_by_key() -> None:
    redactor = Redactor(key=b"k")
    data = "VWUserLgn%3Dme%40x.com%3BVWUserPsw%3Dhunter22%3BCardNumber%3D4111111111111111%3BSecureCode%3D123%3B"
    form = f"VWID=VWMerchantX&DATA={data}"
    text = redactor.form(form)
    assert "hunter22" not in text and "4111111111111111" not in text and "SecureCode%3D123" not in text
    assert "VWUserLgn%3Dme%40x.com" in text and "411111******1111" in text
    assert (
        redactor.form("Key=Merchant&Password=secretpw&Amount=100")
        == f"Key={redactor.tag('Merchant')}&Password={redactor.tag('secretpw')}&Amount=100"
    )
    assert redactor.headers({"Authorization": "Bearer abc.def.ghi"}) == {
        "Authorization": f"Bearer {redactor.tag('abc.def.ghi')}"
    }


# -- drift -------------------------------------------------------------------------------------------


class Deviating:
    """The emulator, with its Token/Generate answer changed by `mutate(status, body) -> (status, body)`."""

    def __init__(self, app: Any, mutate: Callable[[int, Any], tuple[int, Any]]) -> None:
        self.app = app
        self.mutate = mutate

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        response = self.app.test_client().open(
            environ["PATH_INFO"],
            method=environ["REQUEST_METHOD"],
            headers={k[5:].replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
            | {"Content-Type": environ.get("CONTENT_TYPE", "")},
            data=environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0)),
        )
        status, body = response.status_code, response.get_data()
        if environ["PATH_INFO"].endswith("/Token/Generate"):
            status, data = self.mutate(status, json.loads(body))
            body = json.dumps(data).encode()
        start_response(f"{status} X", [("Content-Type", response.headers["Content-Type"])])
        return [body]


def _record_through(mutate: Callable[[int, Any], tuple[int, Any]], folder: Path) -> Path:
    upstream = Served(Deviating(create_app(seed=5), mutate))
    _app, server = _proxy({"izipay": upstream.url}, folder)
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        token = requests.post(
            f"{base}/security/v1/Token/Generate", json=TOKEN_BODY, headers={"transactionId": "TX12345"}
        )
        if token.status_code == 200:
            auth = {"transactionId": "TX12345", "Authorization": "Bearer " + token.json()["response"]["token"]}
            requests.post(
                f"{base}/Installments/v1/Installments/Search",
                json={"bin": "545545", "merchantCode": "4007701"},
                headers=auth,
            )
    finally:
        server.shutdown()
        server.server_close()
        upstream.stop()
    return folder


@functools.cache
def _contracts_app() -> Any:
    return create_app()  # drift only reads the routes and contracts: one app serves every test


def _drift(folder: Path) -> dict[str, Any]:
    checker = DriftChecker(_contracts_app())
    for exchange in read_recordings(folder):
        checker.check(exchange)
    return checker.to_json()


def _kinds(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(d["kind"], d["where"]) for op in report["providers"]["izipay"].values() for d in op["differences"]}


def test_nothing_is_reported_when_the_upstream_matches(tmp_path: Path, capsys) -> None:
    folder = _record_through(lambda status, body: (status, body), tmp_path)
    report = _drift(folder)
    assert report["drift"] == 0, report
    assert report["providers"]["izipay"]["generate_token"]["exchanges"] == 1
    assert report["providers"]["izipay"]["search_installments"]["statuses"] == {"200": 1}
    assert main(["drift", str(folder)]) == 0
    assert "no drift" in capsys.readouterr().out


def _changed_type(status: int, body: Any) -> tuple[int, Any]:
    body["response"]["userOrg"] = 12345
    return status, body


def _added_field(status: int, body: Any) -> tuple[int, Any]:
    body["response"]["refreshToken"] = "x"
    body["newFlag"] = True
    return status, body


def _dropped_required(status: int, body: Any) -> tuple[int, Any]:
    del body["response"]["userScoring"]
    return status, body


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (_changed_type, ("type", "200 response.userOrg")),
        (_added_field, ("unknown-field", "200 newFlag")),
        (_dropped_required, ("missing-field", "200 response.userScoring")),
        (lambda status, body: (418, body), ("unknown-status", "418")),
    ],
    ids=["type", "added", "dropped", "status"],
)
def test_drift_is_reported_when_the_upstream_deviates(tmp_path: Path, mutate, expected, capsys) -> None:
    folder = _record_through(mutate, tmp_path)
    report = _drift(folder)
    assert expected in _kinds(report), report
    assert not any("token" in where for _kind, where in _kinds(report))  # noise: the token differs, never drift
    assert main(["drift", str(folder), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["drift"] >= 1
    assert main(["drift", str(folder), "--format", "markdown"]) == 1
    assert expected[1] in capsys.readouterr().out


def test_added_field_inside_a_closed_object_is_named(tmp_path: Path) -> None:
    report = _drift(_record_through(_added_field, tmp_path))
    assert ("unknown-field", "200 response.refreshToken") in _kinds(report)


def test_unknown_operation_and_a_rejected_request_the_upstream_accepted_are_drift(tmp_path: Path) -> None:
    line = {
        "seq": 1,
        "provider": "izipay",
        "request": {
            "method": "POST",
            "path": "/security/v1/Token/Generate",
            "query": "",
            "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"merchantCode": 4007701}),
        },
        "response": {"status": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok"},
    }
    other = {**line, "seq": 2, "request": {**line["request"], "path": "/security/v9/New"}}
    refused = {**line, "seq": 3, "request": {**line["request"], "body": json.dumps({"amount": 1})}}
    refused["response"] = {"status": 400, "headers": {"Content-Type": "application/json"}, "body": "{}"}
    (tmp_path / "izipay.jsonl").write_text("\n".join(json.dumps(x) for x in (line, other, refused)) + "\n")
    report = _drift(tmp_path)
    kinds = _kinds(report)
    differences = [d for op in report["providers"]["izipay"].values() for d in op["differences"]]
    assert not [d for d in differences if d["kind"] == "request" and d["first_seq"] == 3]  # refused by both: agreed
    assert all(d["count"] == 1 for d in differences if d["kind"] == "request")  # counted once per exchange
    assert ("request", "body.merchantCode") in kinds and ("content-type", "200 Content-Type") in kinds
    assert ("unknown-operation", "POST /security/v9/New") in kinds


# -- replay from a recording ---------------------------------------------------------------------------


def test_replay_from_recording_answers_as_recorded(proxied, tmp_path: Path, capsys) -> None:
    base, folder, _proxy_app = proxied
    _izipay_flow(base)
    written = tmp_path / "replay.yaml"
    code = main(
        ["replay", "--from-recording", str(folder), "--var", f"izipay_publicKey={IZIPAY_KEY}", "--write", str(written)]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 answered as recorded, 0 differently" in out
    text = written.read_text()
    assert "${izipay_publicKey}" in text and "Bearer ${token_1}" in text and IZIPAY_KEY not in text


def test_replay_from_recording_shows_where_the_emulator_differs(tmp_path: Path, capsys) -> None:
    folder = _record_through(_changed_type, tmp_path / "rec")
    code = main(["replay", "--from-recording", str(folder), "--var", f"izipay_publicKey={IZIPAY_KEY}"])
    out = capsys.readouterr().out
    assert code == 1
    assert "FAIL step 1" in out and "response.userOrg" in out
    assert "PASS step 2" in out  # the captured token still carried the flow on
