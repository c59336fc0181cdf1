"""A clock per tenant: POST /__admin/clock/advance with provider and tenant moves that tenant's time only."""

from __future__ import annotations

from typing import Any

from tests.providers.izipay.helpers import MERCHANT, OTHER_KEY, OTHER_MERCHANT, search, token


def test_one_tenants_clock_expires_only_its_tokens(client: Any) -> None:
    mine, theirs = token(client), token(client, merchantCode=OTHER_MERCHANT, publicKey=OTHER_KEY)
    moved = client.post("/__admin/clock/advance", json={"seconds": 901, "provider": "izipay", "tenant": MERCHANT})
    assert moved.status_code == 200
    body = moved.get_json()
    assert body["tenant"] == MERCHANT and body["tenants"][f"izipay/{MERCHANT}"]["offset_seconds"] == 901
    assert body["offset_seconds"] == 0  # the server's clock did not move
    expired = search(client, mine)
    assert expired.status_code == 401 and expired.get_json()["code"] == "IMC"  # 15 minutes passed for this merchant
    assert search(client, theirs, merchant=OTHER_MERCHANT).status_code == 200  # not for the other one


def test_the_journal_and_the_state_dump_show_the_tenants_time(client: Any) -> None:
    client.post("/__admin/clock/advance", json={"seconds": 86400, "provider": "izipay", "tenant": MERCHANT})
    token(client)
    token(client, merchantCode=OTHER_MERCHANT, publicKey=OTHER_KEY)
    entries = {e["tenant"]: e for e in client.get("/__admin/requests?provider=izipay").get_json()["requests"]}
    assert entries[MERCHANT]["time"] - entries[OTHER_MERCHANT]["time"] > 86000
    dump = client.get("/__admin/state/izipay").get_json()["tenants"]
    assert dump[MERCHANT]["now"][:10] != dump[OTHER_MERCHANT]["now"][:10]


def test_clock_calls_name_both_provider_and_tenant_or_neither(client: Any) -> None:
    half = client.post("/__admin/clock/advance", json={"seconds": 1, "provider": "izipay"})
    assert half.status_code == 400 and "both" in half.get_json()["error"]
    unknown = client.post("/__admin/clock/advance", json={"seconds": 1, "provider": "izipay", "tenant": "nope"})
    assert unknown.status_code == 404
    assert client.post("/__admin/clock/advance", json={"seconds": 60}).get_json()["offset_seconds"] == 60
