"""The command line: exit codes, the JSON contract, one-line errors without tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, case_text

CONTRACT_KEYS = ["rule", "pack", "severity", "kind", "subjects", "measured", "required", "op", "unit", "shortfall",
                 "message", "source", "rule_at", "case_at", "fingerprint", "baseline", "suggestions"]


def ligging(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from checker.cli import run; run()", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def test_conform_case_exits_zero() -> None:
    assert ligging("check", "cases/nen-nieuwbouw-trottoir").returncode == 0


def test_all_cases_exit_one_with_findings() -> None:
    out = ligging("check", "cases/")
    assert out.returncode == 1
    assert "cases checked" in out.stdout


def test_json_follows_the_contract() -> None:
    out = ligging("check", "cases/leiden-vkls", "cases/amsterdam-wallengebied", "--format", "json")
    docs = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(docs) == 2
    for doc in docs:
        assert list(doc)[:5] == ["ligging", "case", "packs", "findings", "summary"]
        assert doc["ligging"] == 1 and set(doc["summary"]) == {"error", "warning", "info"}
        for f in doc["findings"]:
            assert list(f)[: len(CONTRACT_KEYS)] == CONTRACT_KEYS
            assert f["subjects"] == sorted(f["subjects"])
            assert set(f["rule_at"]) == {"file", "line", "column"}
    vkls = docs[0]["findings"]
    assert any(f["rule"] == "VKLS-ORDER" and f["kind"] == "order" and f["measured"] is None for f in vkls)


def test_fail_on_warning(tmp_path: Path) -> None:
    # two cables 0.15 m apart: only the NEN-CLR-LINES warning
    case = tmp_path / "case.yaml"
    case.write_text(case_text("- {id: t, network: datatransport, x: 0.3, cover: 0.6, diameter: 0.05}\n"
                              "- {id: l, network: laagspanning, x: 0.5, cover: 0.6, diameter: 0.05}\n"), encoding="utf-8")
    out = ligging("check", str(case), "--format", "json")
    assert [(f["rule"], f["severity"]) for f in json.loads(out.stdout)["findings"]] == [("NEN-CLR-LINES", "warning")]
    assert out.returncode == 0
    assert ligging("check", str(case), "--fail-on", "warning").returncode == 1


@pytest.mark.parametrize("objects", [
    "- {id: a, network: water, x: 1, cover: 1, diameter: -110 mm}\n",
    "- {id: a, network: water, x: 1, cover: 1, diameter: 110 kg}\n",
    "- {id: a, network: water, x: 1, cover: .nan, diameter: 0.1}\n",
    "- {id: a, network: water, x: 1, cover: 1, diameter: 0.1, colour: red}\n",
])
def test_malformed_case_gives_one_line_and_exit_two(tmp_path: Path, objects: str) -> None:
    bad = tmp_path / "case.yaml"
    bad.write_text(case_text(objects), encoding="utf-8")
    out = ligging("check", str(bad))
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ligging: {bad}:7:")
    assert "Traceback" not in out.stderr


def test_bad_pack_gives_one_line(tmp_path: Path) -> None:
    pack = tmp_path / "x.rules"
    pack.write_text('pack x\n  title "x"\n  authority "a"\n  version "1"\nrule X-A\n  titel "t"\n', encoding="utf-8")
    out = ligging("check", "cases/nen-nieuwbouw-trottoir", "--pack", str(pack))
    assert out.returncode == 2
    assert out.stderr.startswith(f"ligging: {pack}:6:3: unknown keyword 'titel' — did you mean 'title'?")
    assert len(out.stderr.splitlines()) == 1


def test_usage_error_exits_two() -> None:
    out = ligging("check", "cases", "--format", "xml")
    assert out.returncode == 2 and "Traceback" not in out.stderr
