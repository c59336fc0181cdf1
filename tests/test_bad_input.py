"""Bad input is the provider's validation error, never a crash: a fuzz corpus on every provider route.

Two passes. Every route gets the structural corpus (JSON nested 10,000 deep, wrong top-level types,
a huge field, CR/LF, `javascript:` and over-long path segments and query values). Every request of
every shipped replay flow is then re-sent with each field in turn replaced by a corpus value (CR/LF,
`javascript:`, a huge string, wrong types), with the state the flow has built up by then. Nothing may
answer 5xx, a known route must reach its operation (no routing 404), and no error or traceback may
reach the log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import pytest

from emulator import create_app
from emulator.config import data_dir
from emulator.core.replay import Answer, Replay, load_replay
from emulator.core.serialize import to_data
from emulator.core.tokens import encode as jwt_encode

REPLAYS = sorted(data_dir("scenarios").glob("*/replay-*.yaml"))
DEEP_ARRAY = "[" * 10_000 + "]" * 10_000
DEEP_OBJECT = '{"a":' * 10_000 + "1" + "}" * 10_000
CRLF = "https://shop.test/r\r\nSet-Cookie: x=1"
VALUES: tuple[Any, ...] = (
    CRLF,
    "a\r\nX-Injected: 1",
    "javascript:alert(1)",
    "x" * 20_000,
    "9" * 5_000,
    ["x"],
    {"a": 1},
    None,
    True,
    -1,
)
BODIES: tuple[tuple[str, str, str], ...] = (
    ("deep-array", "application/json", DEEP_ARRAY),
    ("deep-object", "application/json", DEEP_OBJECT),
    ("deep-text-plain", "text/plain", DEEP_ARRAY),
    ("deep-form", "application/x-www-form-urlencoded", "DATA=" + quote(DEEP_ARRAY)),
    ("array", "application/json", "[1, 2]"),
    ("string", "application/json", '"x"'),
    ("number", "application/json", "1e999"),
    ("huge-field", "application/json", json.dumps({"data": {"attributes": {"x": "a" * 200_000}}})),
    ("crlf-form", "application/x-www-form-urlencoded", urlencode({"VWID": CRLF, "DATA": f"Url={CRLF};"})),
    ("bad-utf8", "application/json", "\udcff"),
)
SEGMENTS = ("a%0D%0Ab", "javascript:alert(1)", "x" * 5_000, "%00", "a%20b%22%3C")


@pytest.fixture(scope="module")
def _shared_app():
    return create_app(strict=True, seed=5)


@pytest.fixture
def app(_shared_app):
    """One app for the module (contracts compile once), fully reset before each test."""
    _shared_app.extensions["payemu"].reset()
    return _shared_app


def _provider_routes(app: Any) -> Iterator[tuple[str, str, str | None]]:
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.rule.startswith("/__admin"):
            continue
        operation = getattr(app.view_functions[rule.endpoint], "payemu_operation", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, rule.rule, operation


def _path(rule: str, segment: str) -> str:
    path = rule
    while "<" in path:
        start, end = path.index("<"), path.index(">")
        path = path[:start] + segment + path[end + 1 :]
    return path


def _no_crash_in_the_log(caplog: pytest.LogCaptureFixture) -> None:
    bad = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]
    assert "Traceback" not in caplog.text


def _check(app: Any, response: Any, method: str, path: str, operation: str | None, journaled: int, what: str) -> None:
    where = f"{method} {path[:80]} ({what})"
    assert response.status_code < 500, f"{where}: {response.status_code} {response.get_data()[:200]!r}"
    if operation is not None:  # a known route reaches its operation: it is journalled under that name
        runtime = app.extensions["payemu"]
        assert runtime.journal.total == journaled + 1, f"{where}: {response.status_code}, never reached {operation}"
        assert runtime.journal.query(limit=1)[0].operation == operation, where


def test_structural_corpus_on_every_route(app, caplog):
    caplog.set_level(logging.WARNING)
    client = app.test_client()
    runtime = app.extensions["payemu"]
    deep_jwt = jwt_encode({"sub": json.loads('{"a":' * 500 + "1" + "}" * 500)}, "k")
    checked = 0
    for method, rule, operation in _provider_routes(app):
        for segment in ("x", *SEGMENTS) if "<" in rule else ("",):
            path = _path(rule, segment) if segment else rule
            # every body on the plain path; each odd path segment with the first body only
            bodies = BODIES if method != "GET" and segment in ("", "x") else BODIES[:1]
            for name, content_type, body in bodies:
                before = runtime.journal.total
                headers = {"Content-Type": content_type, "Authorization": f"Bearer {deep_jwt}"}
                data = body.encode("utf-8", "surrogateescape")
                response = client.open(path, method=method, headers=headers, data=data)
                _check(app, response, method, path, operation, before, name)
                checked += 1
            for value in (CRLF, "javascript:alert(1)", "y" * 5_000) if segment in ("", "x") else ():
                before = runtime.journal.total
                query = urlencode({"DATA": f"Url={value};", "SessionId": value, "VWID": value})
                response = client.open(f"{path}?{query}", method=method)
                _check(app, response, method, path, operation, before, f"query {value[:20]!r}")
                checked += 1
    assert checked > 400
    _no_crash_in_the_log(caplog)


def _json_variants(body: Any) -> Iterator[tuple[str, bytes]]:
    def paths(node: Any, trail: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
        if isinstance(node, dict):
            for key, value in node.items():
                yield (*trail, key)
                yield from paths(value, (*trail, key))

    for trail in paths(body, ()):
        for value in VALUES:
            copy = json.loads(json.dumps(body))
            node = copy
            for key in trail[:-1]:
                node = node[key]
            node[trail[-1]] = value
            yield ".".join(trail), json.dumps(copy).encode()


def _form_variants(body: bytes) -> Iterator[tuple[str, bytes]]:
    pairs = parse_qsl(body.decode(), keep_blank_values=True)
    for index, (key, value) in enumerate(pairs):
        fields = [(f"{key}", None)]
        if key == "DATA":  # Payture's Key=Value; string: each of its fields too
            fields += [(f"DATA.{part.partition('=')[0]}", n) for n, part in enumerate(value.split(";")) if "=" in part]
        for field, part in fields:
            for replacement in (v for v in VALUES if isinstance(v, str)):
                if part is None:
                    new = replacement
                else:
                    parts = value.split(";")
                    parts[part] = f"{parts[part].partition('=')[0]}={replacement}"
                    new = ";".join(parts)
                yield field, urlencode([*pairs[:index], (key, new), *pairs[index + 1 :]]).encode()


@pytest.mark.parametrize("path", REPLAYS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_field_corpus_on_every_replayed_request(app, path, caplog):
    caplog.set_level(logging.WARNING)
    client = app.test_client()
    runtime = app.extensions["payemu"]
    operations = {(m, r): op for m, r, op in _provider_routes(app)}
    sent = 0

    def send(method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        nonlocal sent
        if target.startswith("/__admin/scenarios"):  # a scenario's injected 5xx is no crash: keep them off
            return Answer(200, {}, b"{}")
        if not target.startswith("/__admin"):
            route = app.url_map.bind("localhost").match(target.split("?")[0], method=method, return_rule=True)[0]
            operation = operations[(method, route.rule)]
            content_type = headers.get("Content-Type", "")
            if "json" in content_type and body:
                variants = list(_json_variants(json.loads(body)))
            elif "form" in content_type:
                variants = list(_form_variants(body))
            else:
                variants = []
            for field, variant in variants:
                before = runtime.journal.total
                response = client.open(target, method=method, headers=headers, data=variant)
                _check(app, response, method, target, operation, before, f"{field} replaced")
                sent += 1
        response = client.open(target, method=method, headers=headers, data=body)
        return Answer(response.status_code, response.headers, response.get_data())

    Replay(load_replay(path, data_dir("scenarios") / "replay.schema.json"), send).run()
    assert sent > 0
    _no_crash_in_the_log(caplog)


# -- the cases the corpus was built from: refused by validation, before any state changes ---------


def test_deep_json_is_each_providers_validation_error(client):
    deep = DEEP_ARRAY.encode()
    json_headers = {"Content-Type": "application/json"}
    izipay = client.post("/security/v1/Token/Generate", data=deep, headers={**json_headers, "transactionId": "t1"})
    assert izipay.status_code == 400 and izipay.get_json()["code"] != "404"
    ecommpay = client.post("/v2/customer/card/tokenize", data=deep, headers=json_headers)
    assert ecommpay.status_code == 400 and ecommpay.get_json()["code"] == "2003"
    admin = client.post("/__admin/clock/advance", data=deep, headers=json_headers)
    assert admin.status_code == 400
    assert admin.get_json()["error"].startswith("the body must be a JSON object: Request body is not valid JSON")


def _payture(client: Any, command: str, data: dict[str, str], vwid: str = "DemoMerchantAdd") -> str:
    body = {"VWID": vwid, "DATA": "".join(f"{k}={v};" for k, v in data.items())}
    return client.post(f"/vwapi/{command}", data=body).get_data(as_text=True)


@pytest.mark.parametrize("url", [CRLF, "javascript:alert(document.cookie)", "data:text/html,x", "shop.test/r"])
def test_payture_init_refuses_a_bad_return_url_before_any_state(client, runtime, url):
    user = {"VWUserLgn": "u@example.ru", "VWUserPsw": "pw"}
    assert 'Success="True"' in _payture(client, "Register", user)
    before = to_data(runtime.store.peek("payture", "DemoMerchant"))
    answer = _payture(client, "Init", {"SessionType": "Add", **user, "Url": url})
    assert answer.startswith('<Init Success="False" ErrCode="WRONG_PARAMS"'), answer
    assert to_data(runtime.store.peek("payture", "DemoMerchant")) == before


def test_payture_result_page_never_links_a_javascript_url(app):
    from emulator.providers.payture import pages

    with app.app_context():
        page = pages.result_page(
            success=True, add=True, card_name="", err_code="", redirect_url="javascript:alert(1)", redirect_delay=3
        ).raw
    assert b"javascript:" not in page and b'id="continue"' not in page and b"http-equiv" not in page


def test_payelata_refuses_non_http_return_urls(client, runtime):
    from tests.providers.payelata.support import basic, invoice_body

    for field in ("return_url", "callback_url"):
        for url in ("javascript:alert(1)", CRLF):
            response = client.post("/api/payment-invoices", json=invoice_body(**{field: url}), headers=basic())
            assert response.status_code == 422, (field, url, response.get_data())
            assert response.get_json()["errors"][0]["source"]["pointer"].endswith(field)
    response = client.post(
        "/api/payment-invoices", json=invoice_body(return_urls={"success": "javascript:x"}), headers=basic()
    )
    assert response.status_code == 422
    assert not any(runtime.store.peek("payelata", t).invoices for t in runtime.store.tenants("payelata"))


def test_zai_user_id_with_crlf_is_a_validation_error(client, runtime):
    from tests.providers.zai.conftest import BUYER, bearer, token_for

    response = client.post("/users", json={**BUYER, "id": "a\r\nX-Injected: 1"}, headers=bearer(token_for(client)))
    assert response.status_code == 422 and response.get_json() == {"errors": {"id": ["is invalid"]}}
    assert not any(state.users for state in (runtime.store.peek("zai", t) for t in runtime.store.tenants("zai")))


@pytest.mark.parametrize(
    ("endpoint", "method", "path", "envelope"),
    [
        ("izipay.deposit", "POST", "/capture/v1/Transaction/Deposit", b'{"code":"500","errorMessage":'),
        ("zai.list_users", "GET", "/users", b'{"error":"something went wrong"}'),
        ("payture.register", "POST", "/vwapi/Register", b'<Register Success="False"'),
        ("ecommpay.tokenize_card", "POST", "/v2/customer/card/tokenize", b'{"status":"error"'),
        ("payelata.sale", "POST", "/payment/sale", b'{"errors":[{"status":"500"'),
        ("__admin.health", "GET", "/__admin/health", b'{"error": "Internal Server Error", "status": 500}'),
    ],
)
def test_a_genuine_internal_error_is_the_providers_500_with_one_log_line(
    app, caplog, monkeypatch, endpoint, method, path, envelope
):
    def broken(**path_args: Any) -> Any:
        raise KeyError("boom")

    monkeypatch.setitem(app.view_functions, endpoint, broken)
    response = app.test_client().open(path, method=method)
    assert response.status_code == 500 and response.get_data().startswith(envelope)
    [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    line = broken.__code__.co_firstlineno + 1
    assert (
        record.getMessage()
        == f"internal error on {method} {path}: KeyError: 'boom' at test_bad_input.py:{line} in broken"
    )
    assert record.exc_info is None
