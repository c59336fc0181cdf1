"""A small bounded schemathesis run (`make fuzz` runs a longer one) against a live `payemu serve`."""

from __future__ import annotations

import pytest

pytest.importorskip("schemathesis")

from tests.fuzz.run import run


def test_fuzz_finds_no_server_error_no_contract_violation_and_every_operation_succeeds():
    # every operation's sample case and 1 generated case, each phase once (no time budget to fill); no
    # coverage phase, whose boundary cases are what takes `make fuzz` minutes
    summary = run(max_examples=1, max_time=0, seed=1, workers=1, phases="examples,fuzzing")
    assert summary.ok, summary.line() + "\n" + summary.output[-4000:]
    assert summary.cases > summary.operations
