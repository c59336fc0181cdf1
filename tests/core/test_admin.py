"""The admin API: the exact forms outside tools rely on, and every noun."""

from __future__ import annotations

import pytest

from tests.core.toy.helpers import KEY2, M1, M2, issue, lookup, token


def test_health_exact_form(client):
    response = client.get("/__admin/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["strict"] is True
    assert body["providers"] == ["toy"]


def test_reset_all_forgets_state_journal_clock_and_scenarios(client, runtime):
    token(client)
    runtime.clock.advance(100)
    client.put("/__admin/scenarios/active", json={"name": "toy/platform-failure"})
    assert client.post("/__admin/reset").get_json()["status"] == "ok"
    assert runtime.store.tenants("toy") == []
    assert len(runtime.journal) == 0
    assert runtime.clock.offset == 0
    assert runtime.scenarios.active()["servers"] == {}


def test_reset_one_tenant_keeps_the_others(client, runtime):
    token(client)
    token(client, merchant=M2, key=KEY2)
    response = client.post("/__admin/reset", json={"provider": "toy", "tenant": M1})
    assert response.status_code == 200
    assert runtime.store.tenants("toy") == [M2]
    assert [e.tenant for e in runtime.journal.query()] == [M2]


def test_reset_errors(client):
    assert client.post("/__admin/reset", json={"provider": "nope"}).status_code == 404
    assert client.post("/__admin/reset", json={"tenant": "x"}).status_code == 400
    assert client.post("/__admin/reset", data="[1]", content_type="application/json").status_code == 400


def test_requests_journal_filters_and_clear(client, runtime):
    total_before = runtime.journal.total  # counts every call since start-up, resets included
    issue(client)
    lookup(client, "bad-token")
    everything = client.get("/__admin/requests").get_json()
    assert everything["count"] == 2 and everything["total"] == total_before + 2
    assert [r["operation"] for r in everything["requests"]] == ["lookup", "issue_token"]
    only = client.get(f"/__admin/requests?operation=issue_token&tenant={M1}").get_json()
    assert only["count"] == 1 and only["requests"][0]["status"] == 200
    assert client.get("/__admin/requests?endpoint=lookup&limit=1").get_json()["count"] == 1
    assert client.get("/__admin/requests/count?provider=toy").get_json() == {"count": 2}
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


def test_admin_clock_advance_expires_tokens(client):
    tok = token(client)
    client.post("/__admin/clock/advance", json={"seconds": 901})
    assert lookup(client, tok).get_json()["code"] == "tokenexpired"


def test_scenarios_list_activate_deactivate(client):
    listed = client.get("/__admin/scenarios").get_json()
    names = [s["name"] for s in listed["scenarios"]]
    assert "toy/default" in names and "toy/platform-failure" in names
    response = client.put("/__admin/scenarios/active", json={"name": "toy/failure-then-recovery"})
    assert response.status_code == 200
    assert response.get_json()["active"]["servers"] == {"toy": "toy/failure-then-recovery"}
    assert issue(client).status_code == 500
    shown = client.get("/__admin/scenarios/toy/failure-then-recovery").get_json()
    assert shown["rules"][0]["calls"] == 1
    assert client.delete("/__admin/scenarios/active").get_json()["active"]["servers"] == {}
    assert issue(client).status_code == 200
    assert client.put("/__admin/scenarios/active", json={"name": "toy/nope"}).status_code == 404
    assert client.put("/__admin/scenarios/active", json={}).status_code == 400
    assert client.get("/__admin/scenarios/toy/nope").status_code == 404


def test_scenario_bound_to_one_tenant(client):
    client.put("/__admin/scenarios/active", json={"name": "toy/failure-then-recovery", "tenant": M2})
    assert issue(client).status_code == 200
    assert issue(client, merchant=M2, key=KEY2).status_code == 500


def test_state_dump_and_tenants(client):
    token(client)
    dump = client.get("/__admin/state/toy").get_json()
    assert list(dump["tenants"]) == [M1]
    assert len(dump["tenants"][M1]["issued"]) == 1  # the state's own fields (core/serialize.py)
    assert client.get("/__admin/state/nope").status_code == 404
    tenants = client.get("/__admin/tenants/toy").get_json()["tenants"]
    assert {t["id"] for t in tenants} == {M1, M2}


def test_unknown_admin_path_is_json_404(client):
    response = client.get("/__admin/nope")
    assert response.status_code == 404 and response.get_json()["status"] == 404


def test_tenant_settings_change_at_run_time_until_reset(client, runtime):
    response = client.put(f"/__admin/tenants/toy/{M1}", json={"options": {"single_use_tokens": True}})
    assert response.status_code == 200 and response.get_json()["options"] == {"single_use_tokens": True}
    tok = token(client)
    assert lookup(client, tok).status_code == 200
    assert lookup(client, tok).status_code == 400  # now single-use
    assert client.put("/__admin/tenants/toy/nope", json={}).status_code == 404
    assert client.put(f"/__admin/tenants/toy/{M1}", json={"id": "x"}).status_code == 400
    client.post("/__admin/reset")
    assert runtime.tenants["toy"].get(M1).options == {}


def test_admin_actions_run_under_the_tenant_and_unknown_names_are_404(client):
    response = client.post(f"/__admin/actions/toy/{M1}/ping", json={"n": 1})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert client.post(f"/__admin/actions/toy/{M1}/nope").status_code == 404
    assert client.post("/__admin/actions/nope/x/y").status_code == 404


def test_journal_keeps_the_response_headers_and_the_contract_violations(client):
    """What the dashboard shows of an entry: the reply's headers, and each contract rule the request broke."""
    assert issue(client, amount="15", key=None).status_code == 400
    token(client)
    broken, fine = client.get("/__admin/requests").get_json()["requests"][::-1]
    assert sorted((v["location"], v["field"], v["keyword"]) for v in broken["violations"]) == [
        ("body", "amount", "pattern"),
        ("body", "key", "required"),
    ]
    assert all(v["message"] for v in broken["violations"])
    assert fine["violations"] == [] and fine["response_headers"]["Content-Type"].startswith("application/json")


def test_health_lists_each_providers_operations(client):
    assert client.get("/__admin/health").get_json()["operations"] == {"toy": ["issue_token", "lookup", "notify"]}
