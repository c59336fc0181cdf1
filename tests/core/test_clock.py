"""The virtual clock."""

from __future__ import annotations

import pytest

from emulator.core.clock import Clock, iso, parse_iso


def test_clock_advance_set_reset_and_listeners():
    clock = Clock()
    seen = []
    clock.on_change(lambda now, provider, tenant: seen.append((provider, tenant)))
    start = clock.now()
    clock.advance(3600)
    assert clock.now() - start == pytest.approx(3600, abs=1)
    clock.set(2_000_000_000)
    assert clock.now() == pytest.approx(2_000_000_000, abs=1)
    assert seen == [(None, None), (None, None)]
    clock.reset()
    assert clock.offset == 0


def test_a_tenant_clock_moves_alone_on_top_of_the_servers():
    clock = Clock()
    seen = []
    clock.on_change(lambda now, provider, tenant: seen.append((provider, tenant)))
    clock.advance(900, "izipay", "4007701")
    assert clock.now("izipay", "4007701") - clock.now() == pytest.approx(900, abs=1)
    assert clock.now("izipay", "4001834") == pytest.approx(clock.now(), abs=1)  # other tenants: server time
    clock.advance(100)  # the server's clock carries every tenant's
    assert clock.now("izipay", "4007701") - clock.now() == pytest.approx(900, abs=1)
    clock.set(2_000_000_000, "zai", "marketplace-a")
    assert clock.now("zai", "marketplace-a") == pytest.approx(2_000_000_000, abs=1)
    assert clock.tenant_offsets().keys() == {"izipay/4007701", "zai/marketplace-a"}
    assert seen == [("izipay", "4007701"), (None, None), ("zai", "marketplace-a")]
    clock.reset()
    assert clock.tenant_offsets() == {} and clock.offset == 0


def test_iso_round_trip():
    assert iso(0) == "1970-01-01T00:00:00Z"
    assert iso(1.5, millis=True) == "1970-01-01T00:00:01.500Z"
    assert parse_iso("2030-01-01T00:00:00Z") == 1893456000
