"""The core's tests need no real provider: nothing under tests/core imports one, directly or through
another module."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FORBIDDEN = ("emulator.providers", "tests.providers")


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
    return names


def test_no_core_test_module_names_a_real_provider():
    found = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in HERE.rglob("*.py")
        for name in _imports(path)
        if name.startswith(FORBIDDEN) or name in ("emulator.PROVIDERS",)
    }
    assert not found, found


def test_importing_the_core_tests_and_serving_toy_loads_no_provider_module():
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts) for p in HERE.rglob("*.py"))
    script = "\n".join(
        [
            "import importlib, sys",
            *(f"importlib.import_module({name!r})" for name in modules),
            "from tests.core.toy import toy_app",
            "from tests.core.toy.helpers import lookup, token",
            "client = toy_app().test_client()",
            "assert lookup(client, token(client)).status_code == 200",
            f"print(sorted(m for m in sys.modules if m.startswith({FORBIDDEN!r})))",
        ]
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
