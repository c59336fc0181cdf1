"""The admin API's locks: the bearer token, cross-origin refusal, and `payemu serve`'s start-up rule."""

from __future__ import annotations

import pytest
import requests

from emulator import create_app
from emulator.cli import main
from emulator.config import data_dir
from emulator.testing import AdminClient, start_server, stop_server
from tests.conftest import LIVE_ADMIN_TOKEN

TOKEN = "s3cret-admin"
ZAI_TENANT = "/__admin/tenants/zai/marketplace-a"


@pytest.fixture(scope="module")
def _shared_app():
    return create_app(strict=True)


@pytest.fixture
def admin_app(_shared_app):
    """One app for the module (contracts compile once), reset; the test may change its admin settings."""
    config = _shared_app.extensions["payemu"].config
    saved = (config.admin_token, config.external_url)
    _shared_app.extensions["payemu"].reset()
    yield _shared_app
    config.admin_token, config.external_url = saved


def _lock(app, token: str | None) -> None:
    app.extensions["payemu"].config.admin_token = token


@pytest.fixture
def locked(admin_app):
    _lock(admin_app, TOKEN)
    return admin_app.test_client()


def _admin_routes(app) -> list[tuple[str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/__admin") and not rule.endpoint.startswith("__admin_ui."):
            path = rule.rule
            for name in rule.arguments:
                path = path.replace(f"<{name}>", "zai").replace(f"<path:{name}>", "zai/default")
            method = sorted(rule.methods - {"HEAD", "OPTIONS"})[0]
            routes.append((method, path))
    return routes


def test_every_admin_route_needs_the_token(locked):
    routes = _admin_routes(locked.application)
    assert len(routes) >= 20
    for method, path in routes:
        response = locked.open(path, method=method)
        assert response.status_code == 401, (method, path)
        assert response.get_json() == {"error": "the admin API needs Authorization: Bearer <admin token>"}
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="payemu-admin"'


def test_the_dashboard_page_loads_without_the_token_and_holds_no_data(locked):
    """The page and its assets are static files (they ask for the token); every call they make needs it."""
    dashboard = sorted(r.rule for r in locked.application.url_map.iter_rules() if r.endpoint.startswith("__admin_ui."))
    assert dashboard == ["/__admin/ui", "/__admin/ui/assets/<path:filename>"]
    page = locked.get("/__admin/ui")
    assert page.status_code == 200 and b'id="login"' in page.data
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert locked.get("/__admin/ui/assets/dashboard.js").status_code == 200
    assert locked.get("/__admin/ui", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403


def test_wrong_or_malformed_token_is_refused(locked):
    for header in (f"Bearer {TOKEN}x", f"Basic {TOKEN}", TOKEN, "Bearer", f"Bearer {TOKEN[:-1]}"):
        assert locked.get("/__admin/health", headers={"Authorization": header}).status_code == 401, header


def test_right_token_admits(locked):
    response = locked.put(ZAI_TENANT, json={"client_secret": "new"}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert locked.get("/__admin/health", headers={"Authorization": f"bearer {TOKEN}"}).status_code == 200


def test_without_a_token_the_admin_api_stays_open_to_same_origin_tools(client):
    assert client.get("/__admin/health").status_code == 200  # curl, scripts: no Origin header
    same = {"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"}
    assert client.get("/__admin/health", headers=same).status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example", "Content-Type": "text/plain"},
        {"Origin": "null", "Content-Type": "text/plain"},
        {"Origin": "http://localhost:3000", "Content-Type": "text/plain"},  # another local port is another origin
        {"Sec-Fetch-Site": "cross-site", "Content-Type": "text/plain"},
        {"Sec-Fetch-Site": "same-site", "Content-Type": "text/plain"},
    ],
    ids=["foreign-origin", "null-origin", "other-port", "cross-site", "same-site"],
)
@pytest.mark.parametrize("token", [None, TOKEN], ids=["open", "locked"])
def test_cross_origin_browser_requests_are_refused(admin_app, headers, token):
    app = admin_app
    _lock(app, token)
    client = app.test_client()
    auth = {"Authorization": f"Bearer {TOKEN}"} if token else {}
    response = client.put(ZAI_TENANT, data='{"client_secret":"attacker"}', headers={**headers, **auth})
    assert response.status_code == 403
    assert response.get_json()["error"].startswith("cross-origin admin request refused: ")
    assert app.extensions["payemu"].tenants["zai"].get("marketplace-a").get("client_secret") != "attacker"


def test_dns_rebinding_host_is_refused_without_a_token(admin_app):
    open_app = admin_app.test_client()
    refused = open_app.get("/__admin/health", headers={"Host": "attacker.example:8080"})
    assert refused.status_code == 403
    assert "Host attacker.example:8080 is not this server's" in refused.get_json()["error"]
    for host in ("127.0.0.1:8080", "localhost", "[::1]:8080", "10.0.0.7:8080"):
        assert open_app.get("/__admin/health", headers={"Host": host}).status_code == 200, host
    admin_app.extensions["payemu"].config.external_url = "https://payemu.internal"
    assert open_app.get("/__admin/health", headers={"Host": "payemu.internal"}).status_code == 200
    _lock(admin_app, TOKEN)  # a token makes any name safe
    auth = {"Host": "payemu.ci:8080", "Authorization": f"Bearer {TOKEN}"}
    assert open_app.get("/__admin/health", headers=auth).status_code == 200


def test_provider_routes_ignore_the_admin_token(locked):
    response = locked.post("/tokens", json={"grant_type": "client_credentials"})
    assert response.status_code != 403


@pytest.fixture
def no_serving(monkeypatch):
    """Let `payemu serve` pass its checks without binding granian or freezing the test process's GC."""
    started = []

    class Server:
        def __init__(self, app, host, port):
            started.append((host, app.extensions["payemu"].config.admin_token))

        def run(self):
            pass

    monkeypatch.setattr("emulator.serving.EmbeddedServer", Server)
    monkeypatch.setattr("emulator.serving.tune_gc", lambda: None)
    monkeypatch.delenv("PAYEMU_ADMIN_TOKEN", raising=False)
    return started


def test_serve_on_a_public_address_without_a_token_refuses_to_start(no_serving, capsys):
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    assert err.startswith("payemu: refusing to serve on 0.0.0.0 without an admin token: anyone who reaches")
    assert "--admin-token" in err and "--insecure-admin" in err
    assert no_serving == []


def test_serve_on_a_public_address_with_a_token_or_insecure_flag(no_serving, monkeypatch):
    assert main(["serve", "--host", "0.0.0.0", "--port", "0", "--admin-token", TOKEN]) == 0
    assert main(["serve", "--host", "0.0.0.0", "--port", "0", "--insecure-admin"]) == 0
    monkeypatch.setenv("PAYEMU_ADMIN_TOKEN", "from-env")
    assert main(["serve", "--host", "0.0.0.0", "--port", "0"]) == 0
    assert main(["serve", "--port", "0"]) == 0  # loopback needs nothing
    assert no_serving == [("0.0.0.0", TOKEN), ("0.0.0.0", None), ("0.0.0.0", "from-env"), ("127.0.0.1", "from-env")]


def test_plugin_admin_fixture_sends_the_servers_token(payemu_server, payemu_admin):
    assert payemu_server.runtime.config.admin_token == LIVE_ADMIN_TOKEN
    assert requests.get(payemu_server.url + "/__admin/health", timeout=5).status_code == 401
    assert payemu_admin.health()["status"] == "ok"


def test_admin_client_reads_the_token_from_the_environment(payemu_server, monkeypatch):
    monkeypatch.setenv("PAYEMU_ADMIN_TOKEN", LIVE_ADMIN_TOKEN)
    assert AdminClient(payemu_server.url).health()["status"] == "ok"
    with pytest.raises(AssertionError, match="answered 401"):
        AdminClient(payemu_server.url, token="wrong").health()


REPLAY = str(data_dir("scenarios") / "izipay" / "replay-happy-path.yaml")


def test_replay_in_process_with_a_token_from_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("PAYEMU_ADMIN_TOKEN", TOKEN)
    assert main(["replay", REPLAY]) == 0, capsys.readouterr().out


def test_replay_over_http_passes_the_admin_token(capsys, monkeypatch):
    monkeypatch.delenv("PAYEMU_ADMIN_TOKEN", raising=False)
    live, thread = start_server(strict=True, admin_token=TOKEN)
    try:
        assert main(["replay", "--url", live.url, "--admin-token", TOKEN, REPLAY]) == 0, capsys.readouterr().out
        assert main(["replay", "--url", live.url, REPLAY]) == 1
        assert f"payemu: {live.url} refused POST /__admin/reset (401)" in capsys.readouterr().out
    finally:
        stop_server(live, thread)
