"""Keep each provider page's options table (`docs/providers/<p>.md`) in step with the provider's `OPTIONS`.

The table sits between `<!-- options:begin -->` and `<!-- options:end -->` and has three columns:
name | default | meaning. Names and defaults come from the code; the meaning column is prose and stays
in the page (a new option gets an empty one to fill in). `payemu docs` rewrites the tables in place, and
writes a page skeleton for a provider that has none; `tests/test_docs.py` fails, naming the option,
when a page and its provider disagree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from emulator.config import PACKAGE_DIR

DOCS_DIR = PACKAGE_DIR.parent / "docs"
BEGIN = "<!-- options:begin -->"
END = "<!-- options:end -->"
HEADER = "| option | default | meaning |\n|---|---|---|"
ROW = re.compile(r"^\|\s*`([^`]+)`\s*\|\s*((?:\\\||[^|])*?)\s*\|\s*(.*?)\s*\|\s*$")


def render_default(value: Any) -> str:
    """A default as the table shows it: strings bare, everything else as JSON (`null`, `false`, `3600`)."""
    text = value if isinstance(value, str) else json.dumps(value)
    return "`" + text.replace("|", "\\|") + "`"


def read_table(page: str) -> dict[str, tuple[str, str]]:
    """The options table of a page: name -> (default cell, meaning)."""
    start, end = page.find(BEGIN), page.find(END)
    if start < 0 or end < start:
        return {}
    rows = {}
    for line in page[start + len(BEGIN) : end].splitlines():
        match = ROW.match(line)
        if match and match.group(1) != "option":
            rows[match.group(1)] = (match.group(2), match.group(3))
    return rows


def render_table(options: Mapping[str, Any], meanings: Mapping[str, str]) -> str:
    rows = [f"| `{name}` | {render_default(value)} | {meanings.get(name, '')} |" for name, value in options.items()]
    return "\n".join([HEADER, *rows])


def differences(page: str, options: Mapping[str, Any]) -> list[str]:
    """What the page's table says that the code does not (empty when they agree)."""
    if BEGIN not in page or END not in page:
        return [f"no {BEGIN} … {END} table"]
    table = read_table(page)
    found = [f"`{name}` is in OPTIONS but not in the page" for name in options if name not in table]
    found += [f"`{name}` is in the page but not in OPTIONS" for name in table if name not in options]
    found += [
        f"`{name}`: the page says {table[name][0]}, the code {render_default(value)}"
        for name, value in options.items()
        if name in table and table[name][0] != render_default(value)
    ]
    return found


def synced(page: str, options: Mapping[str, Any]) -> str:
    """The page with its options table regenerated from `options`, keeping the meanings it had."""
    if BEGIN not in page or END not in page:
        raise ValueError(f"no {BEGIN} … {END} markers")
    meanings = {name: meaning for name, (_, meaning) in read_table(page).items()}
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{render_table(options, meanings)}\n{END}{tail}"


STUB = """# {title}

What {title} is, its hosts, and where its code lives (`emulator/providers/{name}/`).

## Operations

| operation | method and path | auth | evidence |
|---|---|---|---|

## Tenants

## Options

{begin}
{end}

## Scenarios

## Test cards

## Evidence

Each fact carries its tag — (recorded), (doc), (code), (inferred); see
[evidence tags](README.md#evidence-tags) — and the sections below name the public source.

### Sources

### Open questions
"""


def pages(providers: Iterable[Any], docs_dir: Path = DOCS_DIR) -> list[tuple[str, Mapping[str, Any], Path]]:
    """(provider name, OPTIONS, page path) for every provider."""
    return [(p.name, p.options or {}, docs_dir / "providers" / f"{p.name}.md") for p in providers]


def sync_all(providers: Iterable[Any], docs_dir: Path = DOCS_DIR, *, check: bool = False) -> list[str]:
    """Rewrite every provider page's options table (or, with `check`, only report); returns the problems."""
    problems = []
    for name, options, path in pages(providers, docs_dir):
        if not path.exists():
            problems.append(f"{path.name}: missing (the {name} provider has no page)")
            if check:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(STUB.format(title=name.capitalize(), name=name, begin=BEGIN, end=END), encoding="utf-8")
        text = path.read_text(encoding="utf-8")
        found = differences(text, options)
        problems += [f"{path.name}: {problem}" for problem in found]
        if found and not check:
            path.write_text(synced(text, options), encoding="utf-8")
    return problems
