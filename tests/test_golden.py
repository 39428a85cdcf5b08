"""Golden output of the shipped cases, and the findings each case's `expect:` promises.

The expected text and JSON live next to each case (`expected.txt`, `expected.json`).
They are rewritten only with `pytest --refresh-golden`; read the diff before committing.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from checker.engine.evaluate import Engine
from checker.io.text import print_case
from checker.pipeline.run import check_paths
from dsl.packs import load_packs
from tests.conftest import ROOT

# a case is a folder with a case.yaml, or a folder of JSON Lines batches (one street per line)
CASES = sorted(p.name for p in (ROOT / "cases").iterdir() if (p / "case.yaml").is_file() or any(p.glob("*.jsonl")))
# Accepted deviations expire against "today"; golden output is computed on a fixed day.
GOLDEN_DAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_packs(), today=GOLDEN_DAY)


def outputs(name: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """Return a case folder's text and JSON output; a folder of batches gives one block (one JSON line) per section."""
    monkeypatch.chdir(ROOT)
    buffer = io.StringIO()
    documents = []
    for result in check_paths([Path("cases") / name], engine):
        print_case(Console(file=buffer, width=100, color_system=None, soft_wrap=True), result)
        documents.append(json.dumps(result.as_json(engine.packs), indent=2, ensure_ascii=False))
    return buffer.getvalue(), "\n".join(documents) + "\n"


@pytest.mark.parametrize("name", CASES)
def test_golden_output(name: str, engine: Engine, monkeypatch: pytest.MonkeyPatch, refresh_golden: bool) -> None:
    text, js = outputs(name, engine, monkeypatch)
    folder = ROOT / "cases" / name
    if refresh_golden:
        (folder / "expected.txt").write_text(text, encoding="utf-8")
        (folder / "expected.json").write_text(js, encoding="utf-8")
    assert (folder / "expected.txt").read_text(encoding="utf-8") == text
    assert (folder / "expected.json").read_text(encoding="utf-8") == js


@pytest.mark.parametrize("name", CASES)
def test_expected_findings_present(name: str, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    results = list(check_paths([Path("cases") / name], engine))
    assert results
    for result in results:
        got = {(f.rule, f.kind, f.subjects) for f in result.findings}
        for exp in result.section.expect:
            assert (exp.rule, exp.kind, exp.subjects) in got, f"{result.path}: expected {exp} at line {exp.span.line}"
