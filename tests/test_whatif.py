"""Praktijktoets: a proposal tried on the shipped cases agrees with plain `check` runs."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from checker.cli import run
from checker.policy import whatif as wi
from checker.policy.urgency import load_weights
from dsl.diagnostics import LiggingError
from dsl.packs import load_packs
from tests.conftest import ROOT

DRINKWATER = ROOT / "rules" / "drinkwater.rules"
RULE = 'require cover line and water[owner != "Dunea"] >= 0.70 m'


@pytest.fixture(scope="module")
def sections() -> list[tuple[str, object]]:
    return wi.load_sections([ROOT / "cases"])  # type: ignore[return-value]


def ligging(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the command line in this process (no interpreter start-up); return exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as exit_:
        run(list(args))
    out = capsys.readouterr()
    return int(exit_.value.code or 0), out.out, out.err


# the shipped case folders and the Amersfoort batch (a folder of JSON Lines, named on its own)
ALL_CASES = (str(ROOT / "cases"), str(ROOT / "cases" / "amersfoort-brosse-gasleidingen"))


def _check_docs(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, object]]:
    code, out, err = ligging(capsys, "check", *ALL_CASES, "--format", "json", *args)
    assert code in (0, 1), err
    return [json.loads(line) for line in out.splitlines()]


def test_whatif_counts_equal_two_plain_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = DRINKWATER.read_text(encoding="utf-8")
    assert RULE in text
    modified = tmp_path / "drinkwater.rules"
    modified.write_text(text.replace(RULE, RULE.replace("0.70 m", "0.50 m")), encoding="utf-8")
    before = _check_docs(capsys, "--pack", "drinkwater")
    after = _check_docs(capsys, "--pack", str(modified))
    code, out, err = ligging(capsys, "whatif", *ALL_CASES, "--base", "drinkwater", "--set", "DW-COV-MIN=0.50m", "--no-layout",
                             "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    [result] = doc["proposals"]
    assert [c["case"] for c in result["cases"]] == [d["case"] for d in before]
    for case, b, a in zip(result["cases"], before, after, strict=True):
        assert case["before"] == b["summary"] and case["after"] == a["summary"]
        gone = {f["fingerprint"] for f in b["findings"]} - {f["fingerprint"] for f in a["findings"]}
        new = {f["fingerprint"] for f in a["findings"]} - {f["fingerprint"] for f in b["findings"]}
        assert {f["fingerprint"] for f in case["disappeared"]} == gone
        assert {f["fingerprint"] for f in case["appeared"]} == new
    totals = result["totals"]
    for sev in ("error", "warning", "info"):
        assert totals["before"][sev] == sum(d["summary"][sev] for d in before)  # type: ignore[index]
        assert totals["after"][sev] == sum(d["summary"][sev] for d in after)  # type: ignore[index]
    # the change is real on the shipped cases: at least one water cover finding goes
    assert totals["disappeared"] >= 1 and totals["after"]["error"] < totals["before"]["error"]
    assert result["changes"][0]["before"] == ">= 0.7 m" and result["changes"][0]["after"] == ">= 0.5 m"
    assert ">= 0.5 m" in result["changes"][0]["text"] and "DW-COV-MIN" in result["changes"][0]["text"]


@pytest.mark.parametrize("written", ["0.40m", "0.40 m", "40 cm", "400mm", "0.4"])
def test_set_values_are_parsed_with_units(written: str) -> None:
    packs, edits = wi.apply_sets(load_packs(["drinkwater"]), [wi.parse_set(f"DW-COV-MIN={written}")])
    relation = packs.find("DW-COV-MIN")[0].rule.alternatives[0].relation
    assert relation.limit.value == pytest.approx(0.40)  # type: ignore[union-attr]
    assert edits[0].rule == "DW-COV-MIN" and edits[0].pack == "drinkwater"
    # the original pack set is untouched (frozen AST, changed by replace)
    original = load_packs(["drinkwater"]).find("DW-COV-MIN")[0].rule.alternatives[0].relation
    assert original.limit.value == pytest.approx(0.70)  # type: ignore[union-attr]


@pytest.mark.parametrize("written", [
    "DW-COV-MIN=0.4 kV",        # wrong dimension
    "NEN-COV-X=0.4m",          # unknown rule
    "NEN-ORDER=0.4m",          # an order has no limit
    "DW-COV-MIN=-1m",           # negative length
    "DW-COV-MIN=",              # no value
    "DW-COV-MIN",               # no '='
    "DW-COV-MIN.exception=0.5m",  # no exception to relax
    "DW-COV-MIN.2=0.5m",        # no second alternative
])
def test_bad_set_is_one_diagnostic(written: str) -> None:
    with pytest.raises(LiggingError):
        wi.apply_sets(load_packs([]), [wi.parse_set(written)])


def test_overridden_rule_names_the_overriding_one() -> None:
    with pytest.raises(LiggingError, match="TEL-COV-DT"):
        wi.apply_sets(load_packs([]), [wi.parse_set("NEN-COV-DT=0.4m")])


def test_rule_with_alternatives_needs_a_number() -> None:
    packs = load_packs(["dunea"])
    with pytest.raises(LiggingError):
        wi.apply_sets(packs, [wi.parse_set("DUN-KABELS-BOVEN=0.2m")])
    changed, edits = wi.apply_sets(packs, [wi.parse_set("DUN-KABELS-BOVEN.2=0.2m")])
    second = changed.find("DUN-KABELS-BOVEN")[0].rule.alternatives[1].relation
    assert second.limit.value == pytest.approx(0.2)  # type: ignore[union-attr]
    assert edits[0].before == ">= 0.3 m" and edits[0].after == ">= 0.2 m"


def test_exception_limit_is_relaxed() -> None:
    changed, edits = wi.apply_sets(load_packs(["telecom"]), [wi.parse_set("TEL-COV-DT.exception=0.30 m")])
    exc = changed.find("TEL-COV-DT")[0].rule.alternatives[0].exceptions[0]
    assert exc.limit is not None and exc.limit.value == pytest.approx(0.30)
    assert edits[0].target == "exception" and "then >= 0.3 m approved" in edits[0].text


def test_candidate_pack_is_added_and_ranked(tmp_path: Path, sections: list[tuple[str, object]]) -> None:
    strict = tmp_path / "strict.rules"
    strict.write_text(
        'pack strict\n  title "t"\n  authority "test"\n  version "1"\ninclude imkl\n'
        'rule STRICT-COV-W\n  title "t"\n  severity error\n  source "test"\n  illustrative "test"\n'
        '  require cover water >= 5.00 m\n', encoding="utf-8")
    packs = load_packs([])
    relax = wi.Proposal("relax", (wi.parse_set("DW-COV-MIN=0.50m"),))
    tighten = wi.Proposal("tighten", packs=(str(strict),))
    ranked = wi.rank([wi.whatif(sections, packs, tighten, False), wi.whatif(sections, packs, relax, False)])  # type: ignore[arg-type]
    assert [r.proposal.name for r in ranked] == ["relax", "tighten"]
    added = ranked[1].totals()
    waters = sum(1 for _, s in sections for o in s.objects if o.network == "water" and o.status == "planned")  # type: ignore[attr-defined]
    assert added["appeared"] >= waters > 0 and added["new_conflicts"] > 0 and added["metres_saved"] < 0
    assert all(f.rule == "STRICT-COV-W" for c in ranked[1].cases for f in c.appeared)


def test_candidate_pack_replaces_the_pack_of_its_name(tmp_path: Path, sections: list[tuple[str, object]]) -> None:
    modified = tmp_path / "drinkwater.rules"
    modified.write_text(DRINKWATER.read_text(encoding="utf-8").replace(RULE, RULE.replace("0.70 m", "0.50 m")),
                        encoding="utf-8")
    packs = load_packs([])
    by_pack = wi.whatif(sections, packs, wi.Proposal("p", packs=(str(modified),)), False)  # type: ignore[arg-type]
    by_set = wi.whatif(sections, packs, wi.Proposal("s", (wi.parse_set("DW-COV-MIN=0.5m"),)), False)  # type: ignore[arg-type]
    assert by_pack.totals() == by_set.totals()


def test_proposals_file_and_text_output(tmp_path: Path, sections: list[tuple[str, object]]) -> None:
    file = tmp_path / "proposals.yaml"
    file.write_text("- name: water 50\n  set: {DW-COV-MIN: 0.50 m}\n"
                    "- name: gas-water 20\n  set: {NEN-CLR-GAS-WATER: 20 cm, DW-COV-MIN: 0.6m}\n", encoding="utf-8")
    proposals = wi.load_proposals(file)
    assert [len(p.sets) for p in proposals] == [1, 2]
    results = wi.rank([wi.whatif(sections, load_packs([]), p, False) for p in proposals])  # type: ignore[arg-type]
    assert results[0].proposal.name == "gas-water 20"
    buffer = StringIO()
    wi.render(Console(file=buffer, width=120, color_system=None), results)
    text = buffer.getvalue()
    totals = results[0].totals()
    assert f"{totals['metres_saved']:.3f}" in text
    assert text.count("amsterdam-wallengebied") >= 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("- name: x\n  sett: {}\n", encoding="utf-8")
    with pytest.raises(LiggingError) as err:
        wi.load_proposals(bad)
    assert err.value.diagnostic.span.line == 1


def test_cli_bad_set_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--set", "DW-COV-MIN=0.5 kV"], []):
        code, _, err = ligging(capsys, "whatif", str(ROOT / "cases" / "leiden-vkls"), *args)
        assert code == 2 and len(err.strip().splitlines()) == 1 and err.startswith("ligging: ")


NARROW = {"ligging": 1, "name": "smal", "width": 0.4, "zones": [{"kind": "trottoir", "from": 0, "to": 0.4}],
          "objects": [{"id": "gas-1", "network": "gasLageDruk", "x": 0.1, "cover": 0.8, "diameter": "110 mm"},
                      {"id": "w-1", "network": "water", "x": 0.3, "cover": 1.2, "diameter": "160 mm"}]}


def test_layout_feasibility_before_and_after_from_a_jsonl_batch(tmp_path: Path) -> None:
    batch = tmp_path / "batch.jsonl"
    wide = dict(NARROW, name="breed", width=2.0, zones=[{"kind": "trottoir", "from": 0, "to": 2.0}],
                objects=[NARROW["objects"][0], dict(NARROW["objects"][1], x=1.5)])  # type: ignore[index]
    batch.write_text(json.dumps(NARROW) + "\n\n" + json.dumps(wide) + "\n", encoding="utf-8")
    sections = wi.load_sections([batch])
    assert [case for case, _ in sections] == [f"{batch}:1", f"{batch}:3"]
    result = wi.whatif(sections, load_packs(["nen7171"]), wi.Proposal("p", (wi.parse_set("NEN-CLR-GAS-WATER=0.05m"),)))
    narrow, broad = result.cases
    # 0.40 m cannot hold 110 mm + 0.30 m + 160 mm side by side; with 0.05 m it can
    assert (narrow.feasible_before, narrow.feasible_after, narrow.layout_unblocked) == (False, True, True)
    assert (broad.feasible_before, broad.feasible_after, broad.layout_unblocked) == (True, True, False)
    assert narrow.metres_saved == pytest.approx(0.30 - (0.3 - 0.1 - 0.055 - 0.08), abs=1e-6)
    totals = result.totals()
    assert totals["layout_unblocked"] == 1 and totals["cases_unblocked"] == 1 and broad.metres_saved == 0
    skipped = wi.whatif(sections, load_packs(["nen7171"]), result.proposal, with_layout=False)
    assert skipped.totals()["layout_unblocked"] is None and skipped.cases[0].feasible_before is None


def test_backlog_entries_resolved_and_proposal_saved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from checker.engine.evaluate import Engine
    from checker.pipeline.run import check_paths
    from checker.policy import backlog as bl

    monkeypatch.chdir(ROOT)
    db = tmp_path / "backlog.db"
    packs = load_packs([])
    engine = Engine(packs)
    bl.log_results(db, list(check_paths([Path("cases")], engine)), engine)
    fibre = {i.id for i in bl.list_items(db, load_weights(), rank="id") if "TEL-COV-DT" in [r.rule for r in i.rubbing]}
    proposal = wi.Proposal("glasvezel 30", (wi.parse_set("TEL-COV-DT=0.30m"),))
    [result] = wi.run_all([Path("cases")], packs, [proposal], with_layout=False, backlog=db)
    assert result.resolves is not None
    resolved = {r.entry for r in result.resolves}
    # only entries about fibre cover go, and only those whose every occurrence lies within the new 0.30 m
    assert resolved and resolved < fibre
    gone = {(bl.case_key(c.case), f.fingerprint) for c in result.cases for f in c.disappeared}
    for r in result.resolves:
        item = bl.detail(db, r.entry, load_weights()).item
        assert all(key in gone for key in item.seen if key[0] in r.cases)
    chosen = min(resolved)
    bl.triage(db, chosen, "regulatory-friction", "test")
    [result] = wi.run_all([Path("cases")], packs, [proposal], with_layout=False, backlog=db)
    done = dict(wi.save_proposal(result, db))
    assert done[chosen].startswith("proposed") and all(done[e].startswith("left new") for e in resolved - {chosen})
    shown = bl.detail(db, chosen, load_weights())
    assert (shown.item.status, shown.item.phase) == ("proposed", "praktijktoets")
    note = next(h.note for h in shown.history if h.field == "status" and h.new == "proposed")
    assert "require cover datatransport >= 0.3 m" in note and ">= 0.6 m → >= 0.3 m" in note
    assert f"deviation metres saved {result.totals()['metres_saved']:.3f}" in note
    assert [h.new for h in shown.history if h.field == "phase"] == ["prioriteren", "integratie", "praktijktoets"]


def test_rules_that_block_a_proposal_are_logged_as_praktijktoets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from checker.policy import backlog as bl

    monkeypatch.chdir(ROOT)
    db = tmp_path / "backlog.db"
    packs = load_packs([])
    proposal = wi.Proposal("glasvezel 30", (wi.parse_set("TEL-COV-DT=0.30m"),))
    [result] = wi.run_all([Path("cases/leiden-vkls-conform")], packs, [proposal], with_layout=False)
    found = wi.blockers(result, packs)
    # fibre in the rack is fine at 0.30 m, but the cables and the water in the same rack still miss their rules
    assert {f.key for f in found} >= {"NEN-COV-LS", "NEN-COV-MS"}
    assert all(f.kind == "praktijktoets" and "TEL-COV-DT" not in f.key for f in found)
    assert all("glasvezel 30" in f.evidence and f.planned == "2026-01-01" for f in found)
    summary = wi.log_blockers(result, packs, db)
    assert summary.new_entries == len({f.key for f in found})
    items = {i.key: i for i in bl.list_items(db, load_weights())}
    assert items["NEN-COV-MS"].friction == "praktijktoets" and items["NEN-COV-MS"].cases == (
        "cases/leiden-vkls-conform/case.yaml",)
