"""State as JSON: the one serializer every provider's state goes through, and the admin dump's redaction."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

import pytest

from emulator import create_app
from emulator.config import data_dir
from emulator.core.replay import Replay, in_process, load_replay
from emulator.core.serialize import REDACTED, SECRET_NAME, decode_state, dump_state, encode_state, redact, to_data
from emulator.core.tenants import Tenant

REPLAYS = sorted(data_dir("scenarios").glob("*/replay-*.yaml"))


@dataclass
class Inner:
    name: str
    client_secret: str | None = None


@dataclass
class Outer:
    tenant: Tenant
    items: dict[str, Inner] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    next_id: int = 41


def test_to_data_is_plain_json_and_lossless():
    tenant = Tenant("p", "t1", {"api_key": "k"})
    state = Outer(tenant, {"a": Inner("x", "s")}, {"b", "a"}, 42)
    data = to_data(state)
    assert {**data, "used": sorted(data["used"])} == {
        "tenant": "t1",
        "items": {"a": {"name": "x", "client_secret": "s"}},
        "used": ["a", "b"],
        "next_id": 42,
    }
    assert json.loads(json.dumps(data)) == data
    assert b'"k"' not in encode_state(state)  # the tenant's settings stay in its directory
    assert decode_state(Outer, encode_state(state), tenant) == state


@pytest.mark.parametrize("field_value", [object(), itertools.count(1)], ids=["object", "count"])
def test_to_data_refuses_what_is_not_plain_data(field_value):
    with pytest.raises(TypeError, match="cannot serialize Outer"):
        to_data(Outer(Tenant("p", "t1", {}), {"a": field_value}))  # type: ignore[dict-item]


def test_to_data_refuses_keys_json_cannot_hold():
    with pytest.raises(TypeError, match="cannot serialize Outer"):
        to_data(Outer(Tenant("p", "t1", {}), {("a", "b"): Inner("x")}))  # type: ignore[dict-item]


def test_redact_hides_secret_names_and_masks_pans():
    data = {
        "api_key_live": "k1",
        "callback_secret_test": "c1",
        "jwt_secret": "j",
        "webhook_secret": "w",
        "password": "p",
        "token_secret": "t",
        "behind_salt": "s",
        "client_secret": None,
        "secret": "",
        "nested": [{"VWUserPsw": "x", "note": "card 4111111111111111"}],
        "token": "kept",
    }
    assert redact(data) == {
        "api_key_live": REDACTED,
        "callback_secret_test": REDACTED,
        "jwt_secret": REDACTED,
        "webhook_secret": REDACTED,
        "password": REDACTED,
        "token_secret": REDACTED,
        "behind_salt": REDACTED,
        "client_secret": None,  # unset stays visible as unset
        "secret": "",
        "nested": [{"VWUserPsw": "x", "note": "card 411111******1111"}],
        "token": "kept",
    }


def _secrets(runtime) -> set[str]:
    """Every secret-named setting of every tenant, as a JSON string (what a dump must never show)."""
    return {
        json.dumps(str(value))
        for directory in runtime.tenants.values()
        for tenant in directory
        for key, value in tenant.data.items()
        if SECRET_NAME.search(key) and value and len(str(value)) >= 4
    }


@pytest.fixture(scope="module")
def replay_app():
    return create_app(strict=True, seed=3)


@pytest.mark.parametrize("path", REPLAYS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_provider_state_dumps_as_json_without_secrets(replay_app, path):
    app = replay_app
    runtime = app.extensions["payemu"]
    runtime.reset()
    results = Replay(load_replay(path, data_dir("scenarios") / "replay.schema.json"), in_process(app)).run()
    assert all(r.passed for r in results), [r.line() for r in results if not r.passed]
    client = app.test_client()
    secrets = _secrets(runtime)
    assert secrets
    for provider in runtime.providers:
        response = client.get(f"/__admin/state/{provider}")
        assert response.status_code == 200 and response.is_json
        text = response.get_data(as_text=True)
        assert not {s for s in secrets if s in text}, f"{provider}: a tenant secret in the dump"
        assert set(response.get_json()["tenants"]) == set(runtime.store.tenants(provider))
        for tenant in runtime.store.tenants(provider):  # the dump is the one serializer's output
            dumped = response.get_json()["tenants"][tenant]
            assert dumped.pop("now")  # the tenant's own time, beside its state
            assert dumped == dump_state(runtime.store.peek(provider, tenant))


def test_payelata_state_is_json_with_its_secrets_redacted(client, runtime):
    from tests.providers.payelata.support import create

    create(client)
    dump = client.get("/__admin/state/payelata").get_json()
    [(tenant, state)] = dump["tenants"].items()
    assert state["tenant"] == tenant and state["invoices"]
    text = json.dumps(dump)
    for key in ("api_key_live", "api_key_test", "callback_secret_live", "callback_secret_test", "jwt_secret"):
        value = runtime.tenants["payelata"].get(tenant).get(key)
        assert value and value not in text, key


def test_payture_customer_password_is_redacted(client):
    from tests.providers.payture.conftest import register

    register(client)
    [state] = client.get("/__admin/state/payture").get_json()["tenants"].values()
    assert [c["password"] for c in state["customers"].values()] == [REDACTED]
