"""The source register: every [Sn] a user can read resolves to an entry of docs/sources.md,
every shipped rule cites one, and nothing a user reads points outside the repository."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dsl.packs import load_packs

ROOT = Path(__file__).resolve().parents[1]
REGISTER = ROOT / "docs" / "sources.md"
CITATION = re.compile(r"\[S(\d+)\]")
ENTRY = re.compile(r"^\*\*\[S(\d+)\]\*\*", re.MULTILINE)
SURENESS = ("confirmed", "secondary", "inference", "note", "unverified")
# What a user reads: the README, docs/, the cases (READMEs and golden output) and the packs.
READ_BY_USERS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "cases").rglob("*.*")),
                 *sorted((ROOT / "rules").glob("*.rules")), *sorted((ROOT / "rules").glob("*.yaml"))]
# Documents that are not part of the repository, in every spelling that has been used.
OUTSIDE = re.compile(r"shared/|FACTS #|FACTS\.md|FACTS §|DESIGN\.md|DESIGN §|seeds/|004_2c923a0030a46441")


def _entries() -> dict[int, str]:
    """Return each register entry's text by number."""
    text = REGISTER.read_text(encoding="utf-8")
    starts = [(int(m.group(1)), m.start()) for m in ENTRY.finditer(text)]
    ends = [start for _, start in starts[1:]] + [len(text)]
    return {number: text[start:end] for (number, start), end in zip(starts, ends, strict=True)}


def test_register_numbers_are_unique_and_each_entry_says_how_sure() -> None:
    text = REGISTER.read_text(encoding="utf-8")
    numbers = [int(n) for n in ENTRY.findall(text)]
    assert len(numbers) == len(set(numbers)), "a register number is used twice"
    assert set(range(1, 97)) | set(range(100, 105)) <= set(numbers)
    for number, entry in _entries().items():
        # the entry's verdict follows its last em dash (the register's one convention)
        verdict = entry.rsplit("—", 1)[-1]
        assert any(word in verdict for word in SURENESS), f"[S{number}] does not say how sure it is"


@pytest.mark.parametrize("path", READ_BY_USERS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_citation_resolves_and_nothing_points_outside(path: Path) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    known = set(_entries())
    cited = {int(n) for n in CITATION.findall(text)}
    assert cited <= known, f"{path.name} cites {sorted(cited - known)}, not in docs/sources.md"
    outside = OUTSIDE.search(text)
    assert outside is None, f"{path.name} points outside the repository: {outside.group(0)!r}"


def test_every_shipped_rule_cites_the_register() -> None:
    packs = load_packs()
    known = set(_entries())
    for pr in [*packs.rules, *packs.overridden]:
        cited = {int(n) for n in CITATION.findall(pr.rule.source)}
        assert cited, f"{pr.rule.id} ({pr.pack.name}) cites no [Sn]"
        assert cited <= known, f"{pr.rule.id} cites {sorted(cited - known)}"


# Everything else a clone holds that someone reads: code (docstrings, messages, help), benchmarks,
# tests, CI. Not the virtual environments, caches and build output a run leaves behind.
NOT_THE_TREE = {".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", "build", "dist"}
TEXT_SUFFIXES = {".py", ".md", ".lark", ".rules", ".yaml", ".yml", ".toml", ".html", ".js", ".css", ".txt", ".json", ".jsonl", ""}


def _tree() -> list[Path]:
    """Return the repository's text files, skipping what runs leave behind and this test itself."""
    files = []
    for path in ROOT.rglob("*"):
        parts = set(path.relative_to(ROOT).parts)
        if parts & NOT_THE_TREE or any(p.endswith(".egg-info") for p in parts) or not path.is_file():
            continue
        if path.suffix in TEXT_SUFFIXES and path != Path(__file__).resolve():
            files.append(path)
    return files


def test_nothing_in_the_tree_points_outside() -> None:
    offenders = []
    for path in _tree():
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in OUTSIDE.finditer(text):
            offenders.append(f"{path.relative_to(ROOT)}:{text[: m.start()].count(chr(10)) + 1}: {m.group(0)!r}")
    assert len(_tree()) > 100, "the walk found too few files to be the repository"
    assert not offenders, "points outside the repository:\n" + "\n".join(offenders)


def test_what_the_command_line_prints_points_nowhere_outside(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from checker.cli import run

    monkeypatch.chdir(ROOT)
    printed = []
    # one rule of each pack: what `explain` adds to a rule's own text is the same for every rule
    rule_ids = sorted({pr.pack.name: pr.rule.id for pr in load_packs().rules}.values())
    for args in (["--help"], ["check", "--help"], ["check", "cases/"], ["rules", "lint"], *(["explain", rid] for rid in rule_ids)):
        with pytest.raises(SystemExit):
            run(list(args))
        out = capsys.readouterr()
        printed.append(out.out + out.err)
    text = "\n".join(printed)
    assert "[S" in text and len(rule_ids) > 5  # the runs printed sources, so the check below means something
    outside = OUTSIDE.search(text)
    assert outside is None, f"the command line prints {outside.group(0)!r}"
