"""SARIF output: schema-valid, read back by a real consumer, findings located and suppressed; progress bar."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sarif import loader as sarif_loader

from checker.cli import run
from checker.engine.evaluate import Engine
from checker.io.sarif import FINGERPRINT_KEY, sarif_log
from checker.pipeline.run import check_paths
from checker.views.progress import track, wants_progress
from dsl.packs import load_packs
from tests.conftest import ROOT

# SARIF 2.1.0-rtm.4 schema from the sarif-om 1.0.4 source distribution on PyPI (see tests/data/README.md).
SCHEMA = json.loads((ROOT / "tests" / "data" / "sarif-2.1.0-rtm.4.json").read_text(encoding="utf-8"))


def ligging(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process from the repository root; return (exit code, stdout, stderr)."""
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        with pytest.raises(SystemExit) as ended:
            run(list(args))
    captured = capsys.readouterr()
    return int(ended.value.code or 0), captured.out, captured.err


@pytest.fixture(scope="module")
def checked() -> tuple[list[Any], Engine]:
    engine = Engine(load_packs([]))
    return list(check_paths([ROOT / "cases"], engine)), engine


@pytest.fixture(scope="module")
def log(checked: tuple[list[Any], Engine]) -> dict[str, Any]:
    results, engine = checked
    return sarif_log(results, engine.packs)


def test_log_validates_against_the_sarif_schema(log: dict[str, Any]) -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)
    errors = list(jsonschema.Draft4Validator(SCHEMA).iter_errors(log))
    assert errors == []


def test_schema_rejects_a_broken_log(log: dict[str, Any]) -> None:
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"][0]["level"] = "fatal"
    assert list(jsonschema.Draft4Validator(SCHEMA).iter_errors(broken))


def test_one_result_per_finding_with_known_rules(checked: tuple[list[Any], Engine], log: dict[str, Any]) -> None:
    results, _ = checked
    findings = [f for r in results for f in r.findings]
    run = log["runs"][0]
    assert len(run["results"]) == len(findings) > 0
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert len(rule_ids) == len(set(rule_ids))
    assert set(rule_ids) == {f.rule for f in findings}
    for result in run["results"]:
        assert rule_ids[result["ruleIndex"]] == result["ruleId"]


def test_results_point_into_the_case_file(checked: tuple[list[Any], Engine], log: dict[str, Any]) -> None:
    results, _ = checked
    findings = [f for r in results for f in r.findings]
    for finding, result in zip(findings, log["runs"][0]["results"], strict=True):
        where = result["locations"][0]["physicalLocation"]
        assert where["artifactLocation"]["uri"] == Path(finding.case_at.file).as_posix()
        assert (where["region"]["startLine"], where["region"]["startColumn"]) == (finding.case_at.line, finding.case_at.column)
        assert result["partialFingerprints"][FINGERPRINT_KEY] == finding.fingerprint
        assert result["baselineState"] == ("unchanged" if finding.baseline else "new")
        assert result["properties"]["subjects"] == list(finding.subjects)
        assert result["properties"]["measured"] == finding.measured
        assert result["level"] == {"error": "error", "warning": "warning", "info": "note"}[finding.severity]


def test_accepted_deviations_are_external_suppressions(checked: tuple[list[Any], Engine], log: dict[str, Any]) -> None:
    results, _ = checked
    findings = [f for r in results for f in r.findings]
    accepted = [i for i, f in enumerate(findings) if dict(f.accepted).get("state") == "accepted"]
    assert accepted, "the shipped cases hold at least one granted deviation"
    for i, result in enumerate(log["runs"][0]["results"]):
        if i in accepted:
            info = dict(findings[i].accepted)
            (suppression,) = result["suppressions"]
            assert suppression["kind"] == "external"
            assert info["reason"] in suppression["justification"]
            assert info["approved_by"] in suppression["justification"]
        else:
            assert "suppressions" not in result


def test_rules_carry_source_pack_and_negotiability(checked: tuple[list[Any], Engine], log: dict[str, Any]) -> None:
    _, engine = checked
    for descriptor in log["runs"][0]["tool"]["driver"]["rules"]:
        versions = engine.packs.find(descriptor["id"])
        props = descriptor["properties"]
        assert {"pack", "negotiability", "illustrative", "source"} <= set(props)
        if versions:
            rule = versions[0].rule
            assert descriptor["shortDescription"]["text"] == rule.title
            assert rule.source in descriptor["help"]["text"]
            assert props["negotiability"] == rule.negotiability
            assert props["illustrative"] == (rule.illustrative is not None)


def test_cli_sarif_is_read_back_by_sarif_tools(tmp_path: Path, log: dict[str, Any],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = ligging(capsys, "check", "cases/", "--format", "sarif")
    assert code == 1 and err == ""
    file = tmp_path / "ligging.sarif"
    file.write_text(out, encoding="utf-8")
    consumer = sarif_loader.load_sarif_file(str(file))
    assert consumer.get_result_count() == len(log["runs"][0]["results"])
    assert [r["ruleId"] for r in consumer.get_results()] == [r["ruleId"] for r in log["runs"][0]["results"]]
    records = consumer.get_records()
    assert {r["Code"] for r in records} == {d["id"] for d in log["runs"][0]["tool"]["driver"]["rules"]}
    assert all(r["Location"].endswith("case.yaml") and r["Line"] >= 1 for r in records)


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_progress_only_on_a_terminal_for_long_runs() -> None:
    assert wants_progress(_Stream(True), 9)
    assert not wants_progress(_Stream(False), 9)
    assert not wants_progress(_Stream(True), 1)
    with open(os.devnull, "w", encoding="utf-8") as closed:
        pass
    assert not wants_progress(closed, 9)


def test_progress_is_quiet_when_piped_and_passes_items_through() -> None:
    piped = _Stream(False)
    assert list(track(range(20), 20, piped)) == list(range(20))
    assert piped.getvalue() == ""
    terminal = _Stream(True)
    assert list(track(range(20), 20, terminal)) == list(range(20))
    assert terminal.getvalue() != ""


def test_piped_check_writes_nothing_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = ligging(capsys, "check", "cases/", "--format", "json")
    assert code == 1 and err == ""
    assert len(out.splitlines()) == len(list((ROOT / "cases").glob("*/case.yaml"))) >= 5
