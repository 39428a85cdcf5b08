"""Suggestions on findings: verified smallest moves, deviations otherwise, wired into `check`."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.advice.suggest import moved, suggest
from checker.engine.evaluate import Engine
from checker.io.loader import load_case, parse_case
from checker.model.findings import Finding, counts
from checker.model.section import Section
from checker.pipeline.run import check_paths
from dsl.packs import load_packs
from tests.conftest import ROOT, case_text


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_packs(["nen7171"]))


def test_cover_shortfall_becomes_a_downward_move(engine: Engine) -> None:
    section = parse_case(case_text("- {id: ls-1, network: laagspanning, x: 1.0, cover: 0.45, diameter: 0.05}\n"),
                         "c.yaml")
    (finding,) = suggest(engine, section, engine.evaluate(section))
    (s,) = finding.suggestions
    assert (s.move, s.dx, s.dz) == ("ls-1", 0.0, pytest.approx(0.15))


def test_clearance_move_is_verified_and_creates_no_new_finding(engine: Engine) -> None:
    objs = ("- {id: gas-1, network: gasLageDruk, x: 1.0, cover: 0.8, diameter: 0.1}\n"
            "- {id: w-1, network: water, x: 1.3, cover: 0.8, diameter: 0.1, status: existing}\n")
    section = parse_case(case_text(objs), "c.yaml")
    found = suggest(engine, section, engine.evaluate(section))
    clr = next(f for f in found if f.rule == "NEN-CLR-GAS-WATER")
    (s,) = clr.suggestions
    assert s.move == "gas-1" and s.dz == 0.0 and s.dx == pytest.approx(-0.1)
    after = [f for f in engine.evaluate(moved(section, "gas-1", s.dx, s.dz)) if counts(f)]
    assert all(f.rule != "NEN-CLR-GAS-WATER" for f in after)


def test_no_verified_move_falls_back_to_the_measured_deviation(engine: Engine) -> None:
    # a profile 0.45 m wide: any horizontal move of the gas pipe leaves the profile (a new finding)
    objs = ("- {id: gas-1, network: gasLageDruk, x: 0.1, cover: 0.8, diameter: 0.1}\n"
            "- {id: w-1, network: water, x: 0.35, cover: 0.8, diameter: 0.1, status: existing}\n")
    section = parse_case(case_text(objs, width=0.45), "c.yaml")
    out = {f.rule: f for f in suggest(engine, section, engine.evaluate(section))}
    (s,) = out["NEN-CLR-GAS-WATER"].suggestions
    assert s.move is None and s.deviate == "NEN-CLR-GAS-WATER" and s.to == pytest.approx(0.15)


def test_fixed_rules_get_no_deviation(engine: Engine) -> None:
    boxed = parse_case(case_text("- {id: ls-1, network: laagspanning, x: -0.5, cover: 0.6, diameter: 0.05}\n"
                                 "- {id: s, kind: structure, x: 0.5, width: 1.0, cover: 0, height: 5.0}\n",
                                 width=1.0), "c.yaml")
    out = {f.rule: f.suggestions for f in suggest(engine, boxed, engine.evaluate(boxed))}
    assert out["NEN-PROFIEL"] == ()


def test_check_paths_attaches_suggestions_with_sources() -> None:
    engine = Engine(load_packs())
    (result,) = list(check_paths([ROOT / "cases" / "amsterdam-wallengebied"], engine))
    judged = [f for f in result.findings if counts(f)]
    # info never constrains and gets no suggestion; every error or warning with a magnitude gets one
    assert all(not f.suggestions for f in judged if f.severity == "info")
    assert judged and all(f.suggestions for f in judged
                          if f.rule != "LIG-OVERLAP" and f.severity != "info" and f.measured is not None)
    deviations = [(f, s) for f in judged for s in f.suggestions if s.deviate is not None]
    assert deviations and all(s.deviate == f.rule and s.to == f.measured and f.source for f, s in deviations)
    assert all(not f.suggestions for f in result.findings if f.baseline)


def test_suggested_moves_on_shipped_case_clear_their_finding() -> None:
    engine = Engine(load_packs())
    section = load_case(Path(ROOT / "cases" / "dordrecht-componistenbuurt"))
    for f in suggest(engine, section, engine.evaluate(section)):
        for s in f.suggestions:
            if s.move is not None:
                after = {g.fingerprint for g in engine.evaluate(moved(section, s.move, s.dx, s.dz)) if counts(g)}
                assert f.fingerprint not in after


def test_many_identical_overlapping_pipes_are_cheap() -> None:
    import time

    from checker.advice.suggest import suggest_all

    engine = Engine(load_packs(["nen7171"]))
    pipes = "".join(f"- {{id: p-{k}, network: water, x: 1.0, cover: 1.0, diameter: 0.11}}\n" for k in range(50))
    section = parse_case(case_text(pipes), "c.yaml")
    findings = engine.evaluate(section)
    start = time.perf_counter()
    got = suggest_all(engine, section, findings)
    # 1,225 overlaps: re-evaluating the section for each finding's candidates took over 120 s; each trial
    # move is now evaluated once per section, within a budget (generous bound for a loaded machine)
    assert time.perf_counter() - start < 60.0
    assert len(got.findings) == len(findings)


def test_a_trial_with_many_findings_costs_as_many_evaluations_as_its_findings_fill() -> None:
    """The budget counted trials: 100 identical pipes (4,950 findings a trial) took minutes in 200 trials."""
    import time

    from checker.advice import suggest as module

    engine = Engine(load_packs(["nen7171"]))
    pipes = "".join(f"- {{id: p-{k}, network: water, x: 1.0, cover: 1.0, diameter: 0.11}}\n" for k in range(100))
    section = parse_case(case_text(pipes), "c.yaml")
    findings = engine.evaluate(section)
    trials = []

    class Counting(Engine):
        def evaluate(self, section: Section) -> list[Finding]:  # type: ignore[override]
            trials.append(1)
            return super().evaluate(section)

    counting = Counting(engine.packs)
    start = time.perf_counter()
    got = module.suggest_all(counting, section, findings)
    assert time.perf_counter() - start < 60.0
    # a trial moves one pipe off the heap: about 9,700 findings, 98 of the 200 evaluations' worth each
    assert len(findings) > 9_000 and len(trials) <= 3 and got.unsearched > 0
    assert "stopped after" in got.note() and len(got.findings) == len(findings)


def test_the_budget_says_when_it_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    from checker.advice import suggest as module

    monkeypatch.setattr(module, "MAX_EVALUATIONS", 2)
    engine = Engine(load_packs(["nen7171"]))
    pipes = "".join(f"- {{id: p-{k}, network: water, x: {0.3 * k + 0.2}, cover: 0.5, diameter: 0.11}}\n"
                    for k in range(6))
    section = parse_case(case_text(pipes), "c.yaml")
    got = module.suggest_all(engine, section, engine.evaluate(section))
    assert got.unsearched > 0 and "stopped after 2 trial evaluations" in got.note()
    # findings beyond the budget still get their deviation
    assert all(f.suggestions for f in got.findings if f.rule == "NEN-COV-W")


def test_suggestions_keep_physical_bounds_and_what_keep_rules_keep() -> None:
    # with only the tree pack, nothing but physics keeps the cable inside the profile and below ground
    engine = Engine(load_packs(["bomen"]))
    objs = ("- {id: ls-1, network: laagspanning, x: 0.3, cover: 0.6, diameter: 0.05}\n"
            "- {id: boom-1, kind: tree, x: 1.5, diameter: 0.3, root_zone: {radius: 1.5, depth: 1.0}}\n")
    section = parse_case(case_text(objs, width=2.0), "c.yaml")
    for f in suggest(engine, section, engine.evaluate(section)):
        for s in f.suggestions:
            if s.move is not None:
                o = moved(section, s.move, s.dx, s.dz).by_id()[s.move]
                assert o.x - o.half_width >= -1e-9 and o.x + o.half_width <= 2.0 + 1e-9 and o.cover >= 0
    # a gravity sewer keeps its depth (NEN-RIOOL-DIEPTE): a cover shortfall is moved sideways or deviated
    nen = Engine(load_packs(["nen7171"]))
    objs = ("- {id: r-1, network: rioolVrijverval, x: 1.0, cover: 1.5, diameter: 0.3}\n"
            "- {id: w-1, network: water, x: 1.0, cover: 0.8, diameter: 0.11, status: existing}\n")
    section = parse_case(case_text(objs, width=3.0), "c.yaml")
    for f in suggest(nen, section, nen.evaluate(section)):
        assert all(s.dz == 0.0 for s in f.suggestions if s.move == "r-1")


def test_without_a_cover_rule_no_suggestion_lifts_a_line(tmp_path: Path) -> None:
    # lifting dt-1 0.25 m (to 5 cm under the paving) is the shortest move that clears ls-0; no loaded rule says how
    # shallow dt-1 may lie, so the suggestion is the sideways move of 0.35 m
    pack = tmp_path / "x.rules"
    pack.write_text('pack nocover\n  title "no cover rule"\n  authority "test"\n  version "1"\n\ninclude imkl\n\n'
                    'rule X-APART\n  title "apart"\n  severity error\n  source "test"\n'
                    '  require clearance shortest between datatransport and laagspanning >= 0.30 m\n', encoding="utf-8")
    engine = Engine(load_packs([str(pack)]))
    objs = ("- {id: dt-1, network: datatransport, x: 1.0, cover: 0.30, diameter: 50 mm}\n"
            "- {id: ls-0, network: laagspanning, x: 1.0, cover: 0.40, diameter: 50 mm, status: existing}\n")
    section = parse_case(case_text(objs), "c.yaml")
    (finding,) = [f for f in suggest(engine, section, engine.evaluate(section)) if f.rule == "X-APART"]
    (s,) = finding.suggestions
    assert s.move == "dt-1" and s.dz >= 0.0 and abs(s.dx) == pytest.approx(0.35, abs=0.002)
