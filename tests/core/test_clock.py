"""The virtual clock."""

from __future__ import annotations

import pytest

from emulator.core.clock import Clock, iso, parse_iso


def test_clock_advance_set_reset_and_listeners():
    clock = Clock()
    seen = []
    clock.on_change(seen.append)
    start = clock.now()
    clock.advance(3600)
    assert clock.now() - start == pytest.approx(3600, abs=1)
    clock.set(2_000_000_000)
    assert clock.now() == pytest.approx(2_000_000_000, abs=1)
    assert len(seen) == 2
    clock.reset()
    assert clock.offset == 0


def test_iso_round_trip():
    assert iso(0) == "1970-01-01T00:00:00Z"
    assert iso(1.5, millis=True) == "1970-01-01T00:00:01.500Z"
    assert parse_iso("2030-01-01T00:00:00Z") == 1893456000


