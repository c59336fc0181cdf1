"""The documentation tells the truth: options tables match the code, every documented `payemu` flag and
`make` target exists, every link (in the docs and in the code's evidence references) resolves."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from emulator import docs
from emulator.cli import parser
from emulator.providers import PROVIDERS

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
CODE_DIRS = ("emulator", "contracts", "scenarios", "tests")
CODE_SUFFIXES = (".py", ".json", ".yaml", ".yml", ".html")
FENCE = re.compile(r"^```.*?$(.*?)^```", re.S | re.M)
INLINE = re.compile(r"`([^`\n]+)`")
# a command line: `payemu <subcommand> …` at the start of a line (after an optional `$ ` or a path to the script)
PAYEMU = re.compile(r"^[ \t]*(?:\$\s*)?(?:[\w./-]*/)?payemu[ \t]+([a-z][\w-]*)((?:[^\n|#]|#(?!\s))*)", re.M)
MAKE = re.compile(r"(?<![\w-])make\s+([a-z][\w-]*)")
FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*|-[a-z])\b")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE_REF = re.compile(r"\bdocs/[\w/.-]+\.md(?:#[\w-]+)?")


def code_snippets(text: str) -> list[str]:
    """The command-like parts of a Markdown page: fenced blocks (continuation lines joined) and inline code."""
    snippets = [block.replace("\\\n", " ") for block in FENCE.findall(text)]
    outside = FENCE.sub("", text)
    return snippets + INLINE.findall(outside)


def subcommands() -> dict[str, set[str]]:
    """Each `payemu` subcommand and the option strings its parser accepts."""
    root = parser()
    action = next(a for a in root._actions if isinstance(a, argparse._SubParsersAction))
    return {name: {option for a in sub._actions for option in a.option_strings} for name, sub in action.choices.items()}


def make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"^([a-z][\w-]*)\s*:(?!=)", text, re.M)}


def slug(heading: str) -> str:
    """GitHub's heading anchor: lower-case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    found: set[str] = set(re.findall(r'<a id="([^"]+)"', text))
    counts: dict[str, int] = {}
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*$", text, re.M):
        base = slug(heading)
        found.add(f"{base}-{counts[base]}" if counts.get(base) else base)
        counts[base] = counts.get(base, 0) + 1
    return found


def broken(target: str, page: Path) -> str | None:
    """Why a link relative to `page` does not resolve (None when it does)."""
    path_part, _, anchor = target.partition("#")
    path = (page.parent / path_part).resolve() if path_part else None
    if path is not None and not path.exists():
        return f"{target}: no such file"
    page = path or page
    if anchor and page.suffix == ".md" and anchor not in anchors(page):
        return f"{target}: no heading or <a id> '{anchor}' in {page.relative_to(ROOT)}"
    return None


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_options_table_matches_the_code(provider):
    page = ROOT / "docs" / "providers" / f"{provider.name}.md"
    assert page.exists(), f"{page} is missing"
    problems = docs.differences(page.read_text(encoding="utf-8"), provider.options)
    assert not problems, f"{page.name} disagrees with OPTIONS (run `payemu docs`): " + "; ".join(problems)


def test_docs_command_rewrites_a_stale_table(tmp_path, capsys):
    from emulator.cli import main

    (tmp_path / "providers").mkdir()
    for provider in PROVIDERS:
        source = (ROOT / "docs" / "providers" / f"{provider.name}.md").read_text(encoding="utf-8")
        (tmp_path / "providers" / f"{provider.name}.md").write_text(source, encoding="utf-8")
    page = tmp_path / "providers" / "izipay.md"
    page.write_text(page.read_text().replace("| `single_use_tokens` | `false` |", "| `single_use_tokens` | `true` |"))
    assert main(["docs", "--check", "--docs-dir", str(tmp_path)]) == 1
    assert "`single_use_tokens`: the page says `true`, the code `false`" in capsys.readouterr().out
    assert main(["docs", "--docs-dir", str(tmp_path)]) == 0
    assert main(["docs", "--check", "--docs-dir", str(tmp_path)]) == 0
    assert "| `single_use_tokens` | `false` | a token works once" in page.read_text()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_documented_commands_exist(page):
    """Every `payemu <subcommand> --flag` and `make <target>` in the page is accepted as written."""
    commands, targets = subcommands(), make_targets()
    every_flag = set().union(*commands.values())
    problems = []
    for snippet in code_snippets(page.read_text(encoding="utf-8")):
        for match in PAYEMU.finditer(snippet):
            name, rest = match.groups()
            if name not in commands:
                problems.append(f"`payemu {name}`: no such subcommand")
                continue
            problems += [
                f"`payemu {name} {flag}`: no such flag" for flag in FLAG.findall(rest) if flag not in commands[name]
            ]
        if snippet.startswith("--"):  # a flag named on its own
            problems += [f"`{flag}`: no payemu flag" for flag in FLAG.findall(snippet)[:1] if flag not in every_flag]
        problems += [f"`make {t}`: no such Makefile target" for t in MAKE.findall(snippet) if t not in targets]
    assert not problems, f"{page.relative_to(ROOT)}: " + "; ".join(problems)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_links_resolve(page):
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    targets = [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]
    problems = [problem for target in targets if (problem := broken(target, page))]
    assert not problems, f"{page.relative_to(ROOT)}: " + "; ".join(problems)


def test_evidence_references_in_the_code_point_inside_the_repository():
    """`docs/providers/<p>.md#anchor` in code, contracts, scenarios and tests resolves; nothing cites a
    document outside the repository."""
    problems = []
    for folder in CODE_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if not path.is_file() or path.suffix not in CODE_SUFFIXES or path == Path(__file__).resolve():
                continue
            text = path.read_text(encoding="utf-8")
            where = path.relative_to(ROOT)
            problems += [f"{where}: cites '{m}'" for m in re.findall("provider" r"-spec|\u00a7|\.\./shared", text)]
            for ref in set(CODE_REF.findall(text)):
                if problem := broken(ref, ROOT / "README.md"):
                    problems.append(f"{where}: {problem}")
    assert not problems, "\n".join(sorted(set(problems)))
