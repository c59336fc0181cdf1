"""The admin API: the exact forms outside tools rely on, and every noun."""

from __future__ import annotations

import pytest

from tests.providers.izipay.helpers import MERCHANT, OTHER_KEY, OTHER_MERCHANT, generate, search, token


def test_health_exact_form(client):
    response = client.get("/__admin/health")
    assert response.status_code == 200
    body = response.get_json()
    from emulator.providers import PROVIDERS

    assert body["status"] == "ok" and body["strict"] is True
    assert body["providers"] == sorted(p.name for p in PROVIDERS)


def test_reset_all_forgets_state_journal_clock_and_scenarios(client, runtime):
    token(client)
    runtime.clock.advance(100)
    client.put("/__admin/scenarios/active", json={"name": "izipay/platform-failure"})
    assert client.post("/__admin/reset").get_json()["status"] == "ok"
    assert runtime.store.tenants("izipay") == []
    assert len(runtime.journal) == 0
    assert runtime.clock.offset == 0
    assert runtime.scenarios.active()["servers"] == {}


def test_reset_one_tenant_keeps_the_others(client, runtime):
    token(client)
    token(client, merchantCode=OTHER_MERCHANT, publicKey=OTHER_KEY)
    response = client.post("/__admin/reset", json={"provider": "izipay", "tenant": MERCHANT})
    assert response.status_code == 200
    assert runtime.store.tenants("izipay") == [OTHER_MERCHANT]
    assert [e.tenant for e in runtime.journal.query()] == [OTHER_MERCHANT]


def test_reset_errors(client):
    assert client.post("/__admin/reset", json={"provider": "nope"}).status_code == 404
    assert client.post("/__admin/reset", json={"tenant": "x"}).status_code == 400
    assert client.post("/__admin/reset", data="[1]", content_type="application/json").status_code == 400


def test_requests_journal_filters_and_clear(client):
    generate(client)
    search(client, "bad-token")
    everything = client.get("/__admin/requests").get_json()
    assert everything["count"] == 2 and everything["total"] == 2
    assert [r["operation"] for r in everything["requests"]] == ["search_installments", "generate_token"]
    only = client.get("/__admin/requests?operation=generate_token&tenant=" + MERCHANT).get_json()
    assert only["count"] == 1 and only["requests"][0]["status"] == 200
    assert client.get("/__admin/requests?endpoint=search_installments&limit=1").get_json()["count"] == 1
    assert client.get("/__admin/requests/count?provider=izipay").get_json() == {"count": 2}
    assert client.get("/__admin/requests?limit=x").status_code == 400
    assert client.delete("/__admin/requests").get_json()["cleared"] == 2
    assert client.get("/__admin/requests").get_json()["count"] == 0


def test_clock_get_advance_set_reset(client):
    before = client.get("/__admin/clock").get_json()
    after = client.post("/__admin/clock/advance", json={"seconds": 900}).get_json()
    assert after["now"] - before["now"] == pytest.approx(900, abs=1)
    assert after["offset_seconds"] == pytest.approx(900, abs=0.01)
    moved = client.put("/__admin/clock", json={"now": "2030-01-01T00:00:00Z"}).get_json()
    assert moved["iso"].startswith("2030-01-01T00:00:0")
    assert client.put("/__admin/clock", json={"now": 1900000000}).get_json()["now"] == pytest.approx(1900000000, abs=1)
    assert client.post("/__admin/clock/reset").get_json()["offset_seconds"] == 0
    assert client.post("/__admin/clock/advance", json={"seconds": "soon"}).status_code == 400
    assert client.put("/__admin/clock", json={"now": "tomorrow"}).status_code == 400


def test_scenarios_list_activate_deactivate(client):
    listed = client.get("/__admin/scenarios").get_json()
    names = [s["name"] for s in listed["scenarios"]]
    assert "izipay/default" in names and "izipay/platform-failure" in names
    response = client.put("/__admin/scenarios/active", json={"name": "izipay/platform-failure-then-recovery"})
    assert response.status_code == 200
    assert response.get_json()["active"]["servers"] == {"izipay": "izipay/platform-failure-then-recovery"}
    assert generate(client).status_code == 500
    shown = client.get("/__admin/scenarios/izipay/platform-failure-then-recovery").get_json()
    assert shown["rules"][0]["calls"] == 1
    assert client.delete("/__admin/scenarios/active").get_json()["active"]["servers"] == {}
    assert generate(client).status_code == 200
    assert client.put("/__admin/scenarios/active", json={"name": "izipay/nope"}).status_code == 404
    assert client.put("/__admin/scenarios/active", json={}).status_code == 400
    assert client.get("/__admin/scenarios/izipay/nope").status_code == 404


def test_scenario_bound_to_one_tenant(client):
    client.put(
        "/__admin/scenarios/active", json={"name": "izipay/platform-failure-then-recovery", "tenant": OTHER_MERCHANT}
    )
    assert generate(client).status_code == 200
    assert generate(client, merchantCode=OTHER_MERCHANT, publicKey=OTHER_KEY).status_code == 500


def test_state_dump_and_tenants(client):
    token(client)
    dump = client.get("/__admin/state/izipay").get_json()
    assert list(dump["tenants"]) == [MERCHANT]
    assert dump["tenants"][MERCHANT]["issued"] == 1
    assert client.get("/__admin/state/nope").status_code == 404
    tenants = client.get("/__admin/tenants/izipay").get_json()["tenants"]
    assert {t["id"] for t in tenants} == {"4007701", "4001834", "4000011"}


def test_unknown_admin_path_is_json_404(client):
    response = client.get("/__admin/nope")
    assert response.status_code == 404 and response.get_json()["status"] == 404


def test_tenant_settings_change_at_run_time_until_reset(client, runtime):
    response = client.put(f"/__admin/tenants/izipay/{MERCHANT}", json={"options": {"single_use_tokens": True}})
    assert response.status_code == 200 and response.get_json()["options"] == {"single_use_tokens": True}
    tok = token(client)
    assert search(client, tok).status_code == 200
    assert search(client, tok).status_code == 400  # now single-use
    assert client.put("/__admin/tenants/izipay/nope", json={}).status_code == 404
    assert client.put(f"/__admin/tenants/izipay/{MERCHANT}", json={"id": "x"}).status_code == 400
    client.post("/__admin/reset")
    assert runtime.tenants["izipay"].get(MERCHANT).options == {}


def test_admin_actions_unknown_names_are_404(client):
    assert client.post(f"/__admin/actions/izipay/{MERCHANT}/nope").status_code == 404
    assert client.post("/__admin/actions/nope/x/y").status_code == 404
