"""`payemu new-provider` writes a provider that passes `payemu check`, the layout guardrails and its own tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _copy_checkout(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", ".venv", ".git", "*.egg-info")
    for part in ("emulator", "contracts", "scenarios", "tests", "docs", "README.md", "Makefile", "pyproject.toml"):
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=ignore)
        else:
            shutil.copy2(source, target / part)


def _run(args: list[str], cwd: Path, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}  # the copy's emulator package, not the installed one
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def test_new_provider_checks_and_passes_its_tests(tmp_path: Path) -> None:
    _copy_checkout(tmp_path)
    assert main(["new-provider", "acme_pay", "--root", str(tmp_path)]) == 0
    folder = tmp_path / "emulator" / "providers" / "acme_pay"
    assert {p.name for p in folder.iterdir()} >= {"__init__.py", "routes.py", "model.py", "errors.py", "tenants.yaml"}
    check = _run([sys.executable, "-m", "emulator", "check"], tmp_path)
    assert check.returncode == 0, check.stderr
    assert "6 providers" in check.stdout
    written = ["emulator/providers/acme_pay", "emulator/clients/acme_pay.py", "tests/providers/acme_pay"]
    lint = _run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--config", str(ROOT / "pyproject.toml"), *written],
        tmp_path,
    )
    assert lint.returncode == 0, lint.stdout
    tests = _run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            written[2],
            "tests/test_layout.py",
            "tests/test_docs.py",
        ],
        tmp_path,
    )
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert " passed" in tests.stdout and "failed" not in tests.stdout


def test_new_provider_refuses_a_bad_or_taken_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _copy_checkout(tmp_path)
    assert main(["new-provider", "Bad-Name", "--root", str(tmp_path)]) == 2
    assert main(["new-provider", "zai", "--root", str(tmp_path)]) == 2
    assert "exists already" in capsys.readouterr().err
