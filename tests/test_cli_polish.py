"""What a new user meets on the command line: plain help, every format honoured, short output,
JSON Lines wherever cases are read, words in the plural, numbers as people write them."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from checker.cli import run
from tests.conftest import ROOT, case_text

# what typer and click print when a parameter has no metavar: a type, a range, braces
TYPE_MARKERS = re.compile(r"<(?:bool|str|int|float|path|list\[[^]]*\]|[a-z|]+)>|\{[a-z_]+\}|int range|x>=|<=x")
COMMANDS = [["check"], ["whatif"], ["render"], ["edit"], ["layout"], ["fit"], ["report"], ["explain"], ["export"], ["import"],
            ["rules", "lint"], ["rules", "matrix"], ["backlog", "add"], ["backlog", "list"], ["backlog", "show"],
            ["backlog", "triage"], ["backlog", "status"], ["backlog", "phase"], ["backlog", "merge"], ["backlog", "export"], ["backlog", "import"]]


@dataclass
class Ran:
    """What one in-process run of the command line left: exit code and both streams."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def ligging(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Ran]:
    """Return a function running `ligging ARGS` in this process, from the repository root."""
    monkeypatch.chdir(ROOT)

    def call(*args: str) -> Ran:
        capsys.readouterr()
        with pytest.raises(SystemExit) as done:
            run(list(args))
        out = capsys.readouterr()
        return Ran(int(done.value.code or 0), out.out, out.err)

    return call


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Write three shipped cases as a JSON Lines batch."""
    path = tmp_path_factory.mktemp("batch") / "sections.jsonl"
    lines = []
    for name in ("amsterdam-wallengebied", "leiden-vkls", "nen-nieuwbouw-trottoir"):
        data = yaml.safe_load((ROOT / "cases" / name / "case.yaml").read_text(encoding="utf-8"))
        data.pop("accept", None)  # its dates are YAML dates; the batch keeps the geometry
        lines.append(json.dumps(data))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_is_plain_language(command: list[str], ligging: Callable[..., Ran]) -> None:
    out = ligging(*command, "--help")
    assert out.returncode == 0
    assert TYPE_MARKERS.search(out.stdout) is None, TYPE_MARKERS.search(out.stdout)
    assert out.stdout.startswith(f"Usage: ligging {' '.join(command)} ")


def test_no_arguments_print_the_help_and_no_empty_usage_line(ligging: Callable[..., Ran]) -> None:
    out = ligging()
    assert out.returncode == 2 and "Usage: ligging" in out.stdout + out.stderr
    assert "ligging: usage:" not in out.stderr


@pytest.mark.parametrize("args", [["check", "cases", "--format", "xml"], ["whatif", "cases", "--format", "sarif"],
                                  ["rules", "lint", "--format", "jsonl"], ["check", "cases", "-j", "0"],
                                  ["check", "cases", "--brief", "--format", "json"],
                                  ["check", "cases", "--at", "2030", "--format", "jsonl"], ["check", "cases", "--at", "1700"]])
def test_a_format_or_option_not_offered_is_one_usage_line(args: list[str], ligging: Callable[..., Ran]) -> None:
    out = ligging(*args)
    assert out.returncode == 2 and out.stdout == ""
    (line,) = out.stderr.splitlines()
    assert line.startswith("ligging: usage: ") and "Value error" not in line and "<command line>" not in line


def test_brief_is_one_line_per_finding_with_register_numbers(ligging: Callable[..., Ran]) -> None:
    full = ligging("check", "cases/amsterdam-wallengebied", "--format", "json")
    findings = json.loads(full.stdout)["findings"]
    out = ligging("check", "cases/amsterdam-wallengebied", "--brief")
    rows = [line for line in out.stdout.splitlines() if re.match(r"  (error|warning|info) ", line)]
    assert len(rows) == len(findings)
    shown = sorted((row.split()[1], int(re.search(r"  line (\d+)", row).group(1))) for row in rows)  # type: ignore[union-attr]
    assert shown == sorted((f["rule"], f["case_at"]["line"]) for f in findings)
    assert all(re.search(r"\[S\d+\]|built-in check", row) for row in rows)
    assert "source:" not in out.stdout


def test_several_cases_end_with_a_table_of_counts(ligging: Callable[..., Ran]) -> None:
    out = ligging("check", "cases/", "--brief")
    table = out.stdout[out.stdout.index("case  "):]
    docs = [json.loads(line) for line in ligging("check", "cases/", "--format", "json").stdout.splitlines()]
    for doc in docs:
        name = doc["case"].removesuffix("/case.yaml")
        row = next(line for line in table.splitlines() if line.startswith(name + " "))
        numbers = [int(n) for n in row.split()[1:]]
        assert numbers[:3] == [doc["summary"]["error"], doc["summary"]["warning"], doc["summary"]["info"]]
        assert numbers[3] == sum(1 for f in doc["findings"] if f["baseline"])
    failing = sum(1 for doc in docs if doc["summary"]["error"])
    total = {key: sum(doc["summary"][key] for doc in docs) for key in ("error", "warning", "info")}
    assert out.stdout.rstrip().endswith(f"{len(docs)} cases checked: {failing} with errors · {total['error']} errors, "
                                        f"{total['warning']} warnings, {total['info']} info")


def test_the_table_never_cuts_a_case_name(batch: Path, ligging: Callable[..., Ran]) -> None:
    long = batch.with_name("een-heel-lange-naam-voor-een-batch-van-dwarsprofielen-langs-de-singel.jsonl")
    long.write_text(batch.read_text(encoding="utf-8"), encoding="utf-8")
    rows = ligging("check", str(long), "--brief").stdout.splitlines()
    assert sum(1 for row in rows if row.startswith(f"{long}:")) == 3
    header = next(row for row in rows if row.startswith("case "))
    assert header.split() == ["case", "errors", "warnings", "info", "baseline", "accepted"]
    assert "…" not in "\n".join(rows)


def test_one_finding_is_singular(tmp_path: Path, ligging: Callable[..., Ran]) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(case_text("- {id: l, network: laagspanning, x: 0.5, cover: 0.5, diameter: 50 mm}\n"), encoding="utf-8")
    out = ligging("check", str(case))
    assert "  1 error, 0 warnings, 0 info · 0 baseline" in out.stdout
    assert out.stdout.rstrip().endswith("1 case checked: 1 with errors · 1 error, 0 warnings, 0 info")


def test_authority_selects_its_rules_across_packs(ligging: Callable[..., Ran]) -> None:
    out = ligging("check", "cases/amsterdam-wallengebied", "--authority", "Liander", "--format", "json")
    rules = {f["rule"] for f in json.loads(out.stdout)["findings"]}
    assert "BOOM-HART-TRACE" in rules and "LIA-GEEN-OBJECTEN" in rules  # the tree rule lives in the bomen pack
    assert not rules & {"BOOM-LANGS-2M", "BOOM-WORTELZONE", "NEN-CLR-GAS-WATER", "TEL-COV-DT"}
    bad = ligging("check", "cases/", "--authority", "no such party")
    assert bad.returncode == 2 and "Liander" in bad.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "sarif"])
def test_every_check_format_reads_json_lines(batch: Path, fmt: str, ligging: Callable[..., Ran]) -> None:
    out = ligging("check", str(batch), "--format", fmt)
    assert out.returncode == 1, out.stderr
    if fmt == "json":
        assert [json.loads(line)["case"] for line in out.stdout.splitlines()] == [f"{batch}:{n}" for n in (1, 2, 3)]
    elif fmt == "sarif":
        run = json.loads(out.stdout)["runs"][0]
        assert [a["location"]["uri"] for a in run["artifacts"]] == [batch.as_posix()]
        assert {r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in run["results"]} == {1, 2}
    else:
        assert f"{batch}:2" in out.stdout and "3 cases checked" in out.stdout


def test_report_render_layout_export_read_json_lines(batch: Path, tmp_path: Path, ligging: Callable[..., Ran]) -> None:
    assert ligging("report", str(batch), "-o", str(tmp_path / "r.html")).returncode == 0
    names = [json.loads(line)["name"] for line in batch.read_text(encoding="utf-8").splitlines()]
    report = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert all(html.escape(name) in report for name in names)
    assert ligging("render", f"{batch}:2", "-o", str(tmp_path / "d.svg")).returncode == 0
    assert "<svg" in (tmp_path / "d.svg").read_text(encoding="utf-8")
    assert ligging("export", f"{batch}:3", "-o", str(tmp_path / "d.dxf")).returncode == 0
    assert ligging("layout", f"{batch}:3").returncode == 0
    several = ligging("render", str(batch), "-o", str(tmp_path / "e.svg"))
    assert several.returncode == 2 and f"{batch}:LINE" in several.stderr
    missing = ligging("render", f"{batch}:9", "-o", str(tmp_path / "e.svg"))
    assert missing.returncode == 2 and missing.stderr.startswith(f"ligging: {batch}:9:1:")


def test_no_negative_zero_and_counts_are_whole(tmp_path: Path, ligging: Callable[..., Ran]) -> None:
    objects = "".join(f"- {{id: c{i}, network: datatransport, x: {0.2 + 0.15 * i:.2f}, cover: 0.6, diameter: 50 mm}}\n"
                      for i in range(9))
    case = tmp_path / "case.yaml"
    case.write_text(case_text(objects, width=3.0), encoding="utf-8")
    out = ligging("check", str(case))
    assert re.search(r"count under trottoir of .* is 9; required <= 8\b", out.stdout), out.stdout
    everything = ligging("check", "cases/").stdout + ligging("layout", "cases/dordrecht-componistenbuurt").stdout
    assert "-0.000" not in everything and "+-" not in everything


def test_backlog_commands_say_what_they_did(tmp_path: Path, ligging: Callable[..., Ran]) -> None:
    db = str(tmp_path / "b.db")
    added = ligging("backlog", "add", "--rule", "DW-COV-MIN", "--title", "water te diep", "--backlog", db)
    entry = added.stdout.split()[-1]
    triaged = ligging("backlog", "triage", entry, "regulatory-friction", "--backlog", db)
    assert triaged.returncode == 0 and triaged.stdout == f"backlog entry {entry}: triaged as regulatory-friction\n"
    status = ligging("backlog", "status", entry, "proposed", "--note", "naar OT6", "--backlog", db)
    assert status.stdout == f"backlog entry {entry}: status proposed\n"
    second = ligging("backlog", "add", "--rule", "DW-COV-MAX", "--title", "zelfde", "--backlog", db).stdout.split()[-1]
    assert second != entry
    merged = ligging("backlog", "merge", entry, second, "--backlog", db)
    assert merged.stdout == f"backlog entry {second} merged into entry {entry}\n"
