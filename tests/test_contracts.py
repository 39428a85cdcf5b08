"""docs/contracts.md describes what ligging prints: the findings document, finding lines, errors."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PAGE = (ROOT / "docs" / "contracts.md").read_text(encoding="utf-8")


def _ligging(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from checker.cli import run; run()", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


def _table_keys(after: str) -> list[str]:
    """Return the backticked keys of the first table after a sentence of the page."""
    rest = PAGE[PAGE.index(after):]
    table = rest[rest.index("\n|"):]
    table = table[: table.index("\n\n")]
    keys: list[str] = []
    for row in table.splitlines()[2:]:
        keys += re.findall(r"`([a-z_]+)`", row.split("|")[1])
    return keys


def test_the_example_document_has_the_keys_ligging_prints() -> None:
    example = json.loads(re.search(r"```json\n(.*?)```", PAGE, re.DOTALL).group(1))  # type: ignore[union-attr]
    out = _ligging("check", "cases/amsterdam-wallengebied", "--format", "json")
    real = json.loads(out.stdout.splitlines()[0])
    assert list(example) == list(real)
    described = _table_keys("prints one document per case")
    # notes: only when there are any; at: only for check --at
    assert described[: len(real)] == list(real) and described[len(real):] == ["notes", "at"]
    moment = json.loads(_ligging("check", "cases/amsterdam-wallengebied", "--format", "json", "--at", "2031").stdout)
    assert moment["at"] == 2031 and list(moment)[-1] == "at"
    finding = next(f for f in real["findings"] if not f.get("illustrative") and not f.get("accepted"))
    assert list(example["findings"][0]) == list(finding)


def test_every_finding_key_is_described() -> None:
    described = _table_keys("Each finding:")
    out = _ligging("check", "cases/", "--format", "json")
    seen: list[str] = []
    for line in out.stdout.splitlines():
        for finding in json.loads(line)["findings"]:
            seen += [k for k in finding if k not in seen]
    assert set(seen) <= set(described), f"keys printed but not described: {set(seen) - set(described)}"
    assert {"illustrative", "exception", "accepted"} <= set(seen)


def test_finding_lines_carry_the_case_first(tmp_path: Path) -> None:
    out = _ligging("check", "cases/leiden-vkls", "--format", "jsonl")
    first = json.loads(out.stdout.splitlines()[0])
    assert next(iter(first)) == "case" and first["suggestions"] == []


def test_the_usage_error_shown_is_the_one_printed() -> None:
    shown = re.search(r"^(ligging: usage: .*)$", PAGE, re.MULTILINE).group(1)  # type: ignore[union-attr]
    out = _ligging("check", "cases/", "--format", "xml")
    assert out.returncode == 2
    assert out.stderr.splitlines() == [shown]


def test_exit_codes_described_are_the_ones_used() -> None:
    codes = re.findall(r"^\| ([0-3]) \|", PAGE, re.MULTILINE)
    assert codes == ["0", "1", "2", "3"]
    assert _ligging("check", "cases/nen-nieuwbouw-trottoir").returncode == 0
    assert _ligging("check", "cases/leiden-vkls").returncode == 1
    assert _ligging("check", "no-such-case").returncode == 2
