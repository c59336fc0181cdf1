"""Guardrails: the layout STYLE.md describes, checked so a new provider cannot drift from it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from emulator import create_app
from emulator.providers import PROVIDERS

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "emulator"
PROVIDER_DIRS = sorted(p for p in (PACKAGE / "providers").iterdir() if p.is_dir() and not p.name.startswith("_"))
NAMES = [p.name for p in PROVIDER_DIRS]


def _imports(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
    return modules


def test_every_provider_folder_is_registered_and_complete():
    assert sorted(p.name for p in PROVIDERS) == NAMES
    for folder in PROVIDER_DIRS:
        for required in ("__init__.py", "routes.py", "model.py", "errors.py", "tenants.yaml"):
            assert (folder / required).is_file(), f"{folder.name} lacks {required}"
        assert (ROOT / "scenarios" / folder.name / "default.yaml").is_file()
        assert (ROOT / "emulator" / "clients" / f"{folder.name}.py").is_file(), f"no client for {folder.name}"
        assert (ROOT / "tests" / "providers" / folder.name).is_dir(), f"no tests for {folder.name}"


# The file roles of a provider folder (docs/architecture.md#file-roles): every provider has the
# first five; the rest only where the provider has one, always under these names.
REQUIRED_ROLES = frozenset({"__init__.py", "routes.py", "model.py", "errors.py", "tenants.yaml"})
OPTIONAL_ROLES = frozenset({"wire.py", "signing.py", "callbacks.py", "pages", "cards.yaml"})
SECOND_API = re.compile(r"routes_[a-z0-9_]+\.py")  # a second API of the same provider


@pytest.mark.parametrize("folder", PROVIDER_DIRS, ids=lambda p: p.name)
def test_provider_folders_use_only_the_fixed_file_roles(folder):
    names = {p.name for p in folder.iterdir() if p.name != "__pycache__"}
    unknown = {n for n in names - REQUIRED_ROLES - OPTIONAL_ROLES if not SECOND_API.fullmatch(n)}
    assert not unknown, f"{folder.name}: {sorted(unknown)} is not a file role (docs/architecture.md#file-roles)"
    pages = folder / "pages"
    if pages.exists():
        assert (pages / "__init__.py").is_file(), f"{folder.name}/pages/ needs __init__.py: the views of its templates"
        stray = {p.name for p in pages.iterdir() if p.suffix not in (".html", ".py") and p.name != "__pycache__"}
        assert not stray, f"{folder.name}/pages/ holds templates (.html) and their views only: {stray}"


@pytest.mark.parametrize("folder", PROVIDER_DIRS, ids=lambda p: p.name)
def test_providers_use_the_cores_mechanisms_instead_of_their_own(folder):
    """Scenario choice, the session->tenant index, callbacks, the clock, page rendering and data files
    are the core's: a provider reaches them through Call/TenantContext, never around them."""
    around = re.compile(r"runtime\.(store|scenarios|callbacks|clock|journal)\b|\bimport (jinja2|yaml)\b|from jinja2 ")
    for path in folder.rglob("*.py"):
        found = around.search(path.read_text(encoding="utf-8"))
        assert not found, f"{path.relative_to(ROOT)}: {found.group(0)!r} goes around the core"


def test_every_operation_has_contracts_and_no_contract_is_orphaned():
    runtime = create_app().extensions["payemu"]
    for provider in NAMES:
        operations = runtime.operations.get(provider, set())
        assert operations, f"{provider} has no operations"
        assert runtime.contracts.request_operations(provider) == operations, provider
        assert runtime.contracts.response_operations(provider) == operations, provider
        shared = {"defs.json", "error.json"}
        for path in (ROOT / "contracts" / provider).glob("*.json"):
            stem = path.name.split(".")[0]
            assert path.name in shared or stem in operations or path.name.startswith("callback"), f"orphan {path}"


@pytest.mark.parametrize("folder", PROVIDER_DIRS, ids=lambda p: p.name)
def test_providers_never_import_each_other(folder):
    others = {f"emulator.providers.{name}" for name in NAMES if name != folder.name}
    for path in folder.rglob("*.py"):
        leaked = {m for m in _imports(path) if any(m == o or m.startswith(o + ".") for o in others)}
        assert not leaked, f"{path} imports {leaked}"


def test_core_never_imports_providers():
    for path in (PACKAGE / "core").rglob("*.py"):
        assert not {m for m in _imports(path) if m.startswith("emulator.providers")}, path


def test_clients_import_only_stdlib_requests_and_http_helper():
    import sys

    allowed_prefixes = ("requests", "emulator.clients._http", "__future__")
    for path in (PACKAGE / "clients").glob("*.py"):
        for module in _imports(path):
            top = module.split(".")[0]
            assert top in sys.stdlib_module_names or module.startswith(allowed_prefixes), (
                f"{path.name} imports {module}"
            )


def test_no_wall_clock_outside_the_clock_module():
    pattern = re.compile(r"\b(datetime\.now|datetime\.utcnow|time\.time|date\.today)\s*\(")
    for path in PACKAGE.rglob("*.py"):
        if path.name == "clock.py" or "clients" in path.parts or path.name in ("testing.py", "serving.py"):
            continue
        assert not pattern.search(path.read_text(encoding="utf-8")), f"{path} reads the wall clock"
