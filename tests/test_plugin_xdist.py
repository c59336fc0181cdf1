"""The pytest plugin under pytest-xdist: each worker its own server, or one shared server (PAYEMU_URL)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.testing import spawn_server

pytest.importorskip("xdist", reason="pytest-xdist is a test extra")

OWN_SERVERS = """
import pytest

@pytest.mark.parametrize("seconds", [1000, 2000, 3000, 4000])
def test_my_clock_is_mine(payemu_admin, seconds):
    before = payemu_admin._call("GET", "/clock")["offset_seconds"]
    payemu_admin.advance_clock(seconds)
    assert before == 0  # reset before each test, and no other worker moved it
    assert payemu_admin._call("GET", "/clock")["offset_seconds"] == seconds
"""

SHARED_SERVER = """
import os
import pytest


@pytest.mark.parametrize("index", range(4))
def test_my_tenants_clock_is_mine(payemu_admin, index):
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    merchant = ["4007701", "4001834"][int(worker[2:]) % 2]  # one merchant per worker
    clock = payemu_admin._call("GET", f"/clock?provider=izipay&tenant={merchant}")
    payemu_admin.advance_clock(60, provider="izipay", tenant=merchant)
    after = payemu_admin._call("GET", f"/clock?provider=izipay&tenant={merchant}")
    assert after["now"] - clock["now"] == pytest.approx(60, abs=5)
    assert after["offset_seconds"] == 0  # the server's clock never moved
"""


def _run_inner(tmp_path: Path, source: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_inner.py").write_text(source)
    unused = ["-p", "no:faker", "-p", "no:hypothesispytest", "-p", "no:schemathesis", "-p", "no:anyio"]
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *unused, "-n", "2", "-q", str(tmp_path)]
    return subprocess.run(command, cwd=tmp_path, env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def test_each_worker_gets_its_own_server(tmp_path: Path) -> None:
    result = _run_inner(tmp_path, OWN_SERVERS, {"PAYEMU_URL": ""})
    assert result.returncode == 0, result.stdout[-3000:]
    assert "4 passed" in result.stdout


def test_workers_share_one_server_with_their_own_tenants_and_clocks(tmp_path: Path) -> None:
    server = spawn_server()
    try:
        result = _run_inner(tmp_path, SHARED_SERVER, {"PAYEMU_URL": server.url})
    finally:
        server.stop()
    assert result.returncode == 0, result.stdout[-3000:]
    assert "4 passed" in result.stdout
