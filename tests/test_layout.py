"""The layout solver, deviations, conflict sets, the reference layout and capacity questions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.advice.fit import fit_case, min_width
from checker.advice.layout import accepting, feasible, layout, problem, write_case
from checker.engine.evaluate import Engine
from checker.io.loader import load_case, parse_case
from checker.model.findings import counts
from checker.model.section import Obj, Section, Zone
from dsl.diagnostics import LiggingError, Span
from dsl.packs import load_packs
from nen7171.reference import Line, reference_layout
from tests.conftest import ROOT

SPAN = Span("gen", 1, 1)
NETWORKS = ("datatransport", "laagspanning", "gasLageDruk", "water", "middenspanning")


@pytest.fixture(scope="module")
def nen() -> Engine:
    # the NEN profile with the drinking-water companies' cover (which left nen7171 for its own pack)
    return Engine(load_packs(["nen7171", "drinkwater"]))


@pytest.fixture(scope="module")
def everything() -> Engine:
    return Engine(load_packs())


def street(lines: list[tuple[str, float, float, float]], trottoir: float, planned: bool = True) -> Section:
    zones = (Zone("trottoir", 0.0, trottoir, SPAN), Zone("rijbaan", trottoir, trottoir + 5.0, SPAN))
    objs = tuple(Obj(f"{net}-{k}", "cable" if net in ("datatransport", "laagspanning", "middenspanning") else "pipe",
                     net, None, "planned" if planned else "existing", x, cover, diameter=d, span=SPAN)
                 for k, (net, x, cover, d) in enumerate(lines))
    return Section("gen.yaml", "gen", trottoir + 5.0, zones, objs, tags=(("street_type", "woonstraat"),),
                   planned="2026")


line_specs = st.lists(st.tuples(st.sampled_from(NETWORKS), st.floats(0.05, 1.9), st.floats(0.2, 1.2),
                                st.sampled_from((0.04, 0.05, 0.11, 0.16))), min_size=1, max_size=4)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(line_specs)
def test_every_layout_returned_passes_check(nen: Engine, lines: list[tuple[str, float, float, float]]) -> None:
    section = street(lines, 2.0)
    result = layout(section, nen, alternatives=False, minimal=False)
    assert result.feasible
    if not result.deviations:
        assert result.section is not None
        assert [f for f in nen.evaluate(result.section) if counts(f) and f.severity != "info"] == []
        # existing objects never move
        assert all(m.id in {o.id for o in section.objects if o.status == "planned"} for m in result.moves)


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(NETWORKS), st.floats(0.05, 0.5), st.floats(0.2, 1.0),
                          st.sampled_from((0.05, 0.11))), min_size=0, max_size=3),
       st.floats(0.25, 0.45), st.floats(0.2, 1.0), st.floats(0.2, 1.0))
def test_reported_deviations_are_sufficient_and_scoped(
        nen: Engine, extra: list[tuple[str, float, float, float]], width: float, gas: float, water: float) -> None:
    # gas and water side by side need 0.52 m; every line must stay in a narrower trottoir
    lines = [("gasLageDruk", 0.1, gas, 0.11), ("water", 0.2, water, 0.11)] + extra
    section = street([(n, min(x, width - 0.1), c, d) for n, x, c, d in lines], width)
    home = {o.id: frozenset({0}) for o in section.objects}
    result = layout(section, nen, alternatives=False, allowed=home, minimal=False)
    assert result.feasible and result.deviations and result.findings == ()
    assert result.section is not None
    # accepting exactly the named deviations (rule and subjects) leaves nothing that counts
    again = nen.evaluate(accepting(result.section, result.deviations))
    assert [f for f in again if counts(f) and f.severity != "info"] == []
    # each is scoped to the subjects that need it, and the error rules alone admit no layout
    p = problem(section, nen, allowed=home)
    assert all(d.subjects for d in result.deviations)
    if any(d.severity == "error" for d in result.deviations):
        assert not feasible(p, [pr for pr in p.rules if pr.rule.severity == "error"])


def test_razor_thin_case_deviations_suffice(nen: Engine) -> None:
    # found by the property test above: 1 mm of room made HiGHS presolve give up (status 4), which was
    # read as "infeasible"; the solver now retries without presolve
    extra = [("datatransport", 0.5, 0.5, 0.11), ("datatransport", 0.5, 1.0, 0.05)]
    width, gas, water = 0.25, 0.5, 1.0
    lines = [("gasLageDruk", 0.1, gas, 0.11), ("water", 0.2, water, 0.11)] + extra
    section = street([(n, min(x, width - 0.1), c, d) for n, x, c, d in lines], width)
    home = {o.id: frozenset({0}) for o in section.objects}
    result = layout(section, nen, alternatives=False, allowed=home, minimal=False)
    assert result.feasible and result.deviations
    assert result.section is not None and result.findings == ()
    assert [f for f in nen.evaluate(accepting(result.section, result.deviations)) if counts(f) and f.severity != "info"] == []


PAIR_RULES = """pack x
  title "x"
  authority "test"
  version "1"

include imkl

rule X-HORIZONTAL
  title "gas and water 10 cm apart side by side"
  severity error
  source "test"
  require clearance horizontal between gas and water >= 0.10 m

rule X-SHORTEST
  title "gas and water 40 cm apart in any direction"
  severity error
  source "test"
  require clearance shortest between gas and water >= 0.40 m
"""


def test_rules_on_one_pair_with_different_distances_do_not_constrain_each_other(tmp_path: Path) -> None:
    # 10 cm side by side fits the 0.5 m trottoir, 40 cm does not: the 40 cm must be met vertically.
    # One binary per side shared by both rules would force the 40 cm row on the side the 10 cm rule picks.
    pack = tmp_path / "x.rules"
    pack.write_text(PAIR_RULES, encoding="utf-8")
    engine = Engine(load_packs([str(pack)]))
    section = street([("gasLageDruk", 0.1, 0.6, 0.11), ("water", 0.3, 0.6, 0.11)], 0.5)
    home = {o.id: frozenset({0}) for o in section.objects}
    result = layout(section, engine, allowed=home)
    assert result.feasible and result.deviations == ()
    assert result.section is not None and [f for f in engine.evaluate(result.section) if counts(f) and f.severity != "info"] == []
    gas, water = (o for o in result.section.objects)
    assert abs(gas.cover - water.cover) >= 0.40 + 0.11 - 0.001

NO_COVER_RULE = """pack nocover
  title "no cover rule"
  authority "test"
  version "1"

include imkl

rule X-APART
  title "datatransport and laagspanning 30 cm apart"
  severity error
  source "test"
  require clearance shortest between datatransport and laagspanning >= 0.30 m
"""


def test_without_a_cover_rule_a_line_is_never_lifted_above_its_drawn_cover(tmp_path: Path) -> None:
    # Lifting the cable 0.25 m (to 5 cm under the paving) is the smallest move that clears the existing
    # cable; sideways takes 0.35 m. No loaded rule says how shallow it may lie, so its drawn cover holds.
    pack = tmp_path / "x.rules"
    pack.write_text(NO_COVER_RULE, encoding="utf-8")
    engine = Engine(load_packs([str(pack)]))
    section = street([("datatransport", 0.5, 0.30, 0.05), ("laagspanning", 0.5, 0.40, 0.05)], 1.0)
    section = replace(section, objects=(section.objects[0], replace(section.objects[1], status="existing")))
    result = layout(section, engine, allowed={section.objects[0].id: frozenset({0})})
    assert result.feasible and result.deviations == () and result.section is not None
    moved = result.section.objects[0]
    assert moved.cover >= 0.30 - 1e-6
    assert abs(moved.x - 0.5) >= 0.35 - 0.001


def test_wallengebied_lays_out_without_deviations(everything: Engine, tmp_path: Path) -> None:
    file = ROOT / "cases" / "amsterdam-wallengebied" / "case.yaml"
    section = load_case(file)
    result = layout(section, everything)
    assert result.feasible and result.deviations == () and result.findings == ()
    moved = {m.id: m for m in result.moves}
    assert set(moved) <= {"kpn-1", "gas-1", "ms-1"}
    # the MS bed leaves the quay strip (Liander: directly reachable)
    assert moved["ms-1"].x < 4.8
    out = tmp_path / "case.yaml"
    write_case(file, result, out)
    again = load_case(out)
    assert [f for f in everything.evaluate(again) if counts(f) and f.severity != "info"] == []


def test_componistenbuurt_deviations_cite_sources_and_name_their_subjects(everything: Engine) -> None:
    section = load_case(ROOT / "cases" / "dordrecht-componistenbuurt")
    result = layout(section, everything)
    assert result.feasible and result.findings == ()
    got = {(d.rule, d.subjects): d for d in result.deviations}
    # info rules (BOOM-LANGS-2M) are never deviations; the tree needs its distance waived per line
    assert set(got) == {("BOOM-HART-TRACE", ("boom-1", "ls-2")), ("BOOM-HART-TRACE", ("boom-1", "ms-1")),
                        ("BOOM-RESERVERING", ("boom-1", "res-warmte"))}
    for d in got.values():
        assert d.source == everything.packs.find(d.rule)[0].rule.source and d.source
        assert d.op == ">=" and d.to is not None and d.required is not None and d.to < d.required
        assert d.rule in d.describe() and d.source in d.describe() and ", ".join(d.subjects) in d.describe()
    # the planned tree stands 1.825 m from the existing LS cable: that is what it takes
    assert got[("BOOM-HART-TRACE", ("boom-1", "ls-2"))].to == pytest.approx(1.825, abs=0.002)
    # the MS cable stays in its own trottoir (NEN-ZIJDE) instead of crossing the street
    assert result.section is not None and result.section.by_id()["ms-1"].x > 7.0
    # the planned tree against fixed lines, and against the reservation: either rule alone proves it cannot fit
    assert len(result.conflict) == 1 and result.conflict[0] in ("BOOM-HART-TRACE", "BOOM-RESERVERING")
    # accepting exactly those deviations leaves a clean re-check
    assert [f for f in everything.evaluate(accepting(result.section, result.deviations))
            if counts(f) and f.severity != "info"] == []


def test_conflict_set_is_minimal(nen: Engine) -> None:
    # gas and water pinned in a 0.3 m trottoir: NEN-CLR-GAS-WATER alone forbids it
    section = street([("gasLageDruk", 0.1, 0.8, 0.11), ("water", 0.2, 0.8, 0.11)], 0.3)
    home = {o.id: frozenset({0}) for o in section.objects}
    result = layout(section, nen, allowed=home)
    assert "NEN-CLR-GAS-WATER" in result.conflict
    p = problem(section, nen, allowed=home)
    chosen = [pr for pr in p.rules if pr.rule.id in result.conflict]
    assert not feasible(p, chosen)
    for k in range(len(chosen)):
        assert feasible(p, chosen[:k] + chosen[k + 1:])
    # the one rule in conflict cannot be avoided, so there is no next-best set
    assert result.alternative == ()


def test_reference_layout_follows_the_pack_order(nen: Engine) -> None:
    zones = [("trottoir", 0.0, 2.5), ("rijbaan", 2.5, 8.0)]
    lines = [Line("w", "water", 0.11, 0.11), Line("t", "datatransport", 0.05, 0.05),
             Line("g", "gasLageDruk", 0.11, 0.11), Line("r", "rioolVrijverval", 0.4, 0.4)]
    placed = dict(reference_layout(zones, lines, nen.packs))
    assert placed["t"][0] < placed["g"][0] < placed["w"][0] < 2.5
    assert 2.5 < placed["r"][0] < 8.0
    assert placed["t"][1] == pytest.approx(0.6) and placed["w"][1] == pytest.approx(0.7)
    # gas and water keep NEN-CLR-GAS-WATER's 0.30 m edge to edge
    assert placed["w"][0] - placed["g"][0] - 0.11 == pytest.approx(0.30)


def test_min_width_is_the_lint_row_and_ignores_zones_it_does_not_need(nen: Engine) -> None:
    from checker.engine.lint import required_width

    fit = min_width(["gasLageDruk:110mm", "water:110mm"], "trottoir:1.0,rijbaan:5.0", nen)
    assert fit.width is not None and fit.layout.section is not None
    # side by side at NEN-CLR-GAS-WATER's 0.30 m, as `rules lint --networks` says; the rijbaan is not needed
    need, _ = required_width(nen.packs, (("gasLageDruk", 0.11), ("water", 0.11)))
    assert fit.width == pytest.approx(need, abs=0.006) and fit.width == pytest.approx(0.52, abs=0.006)
    assert fit.zones == (("trottoir", pytest.approx(fit.width)),)
    assert [f for f in nen.evaluate(fit.layout.section) if counts(f) and f.severity != "info"] == []
    other = min_width(["gasLageDruk:110mm", "water:110mm"], "berm:3,rijbaan:9,trottoir:1", nen)
    assert other.width == pytest.approx(fit.width, abs=1e-9)


def test_min_width_of_a_nutsstrook_is_over_a_metre_side_by_side(everything: Engine) -> None:
    fit = min_width(["datatransport", "laagspanning", "gasLageDruk", "water"], "trottoir:2.0", everything)
    assert fit.width is not None and fit.width > 1.0 and fit.layout.section is not None
    assert fit.assumed == frozenset(o.id for o in fit.layout.section.objects)
    lines = fit.layout.section.objects
    # no line of one network lies directly above a line of another
    for a in lines:
        for b in lines:
            if a.network != b.network:
                assert a.x + a.half_width <= b.x - b.half_width + 1e-3 or b.x + b.half_width <= a.x - a.half_width + 1e-3


@pytest.mark.parametrize("specs", [["warmte:99999999x250mm"], ["water"] * 300, ["water:0mm"], ["water:3000mm"]])
def test_fit_limits_are_one_line_errors(specs: list[str], nen: Engine) -> None:
    import time

    start = time.perf_counter()
    with pytest.raises(LiggingError):
        min_width(specs, "trottoir:2.0", nen)
    assert time.perf_counter() - start < 5.0


def test_fit_case_adds_networks_as_a_pair(everything: Engine) -> None:
    section = load_case(ROOT / "cases" / "nen-nieuwbouw-trottoir")
    fit = fit_case(section, ["warmte:2x250mm"], everything)
    assert fit.layout.section is not None
    added = [o for o in fit.layout.section.objects if o.id.startswith("nieuw-warmte")]
    assert len(added) == 2 and all(o.diameter == pytest.approx(0.25) for o in added)
    assert fit.fits == (fit.blocking == ())
    # supply and return stay together: side by side, at one depth
    a, b = added
    assert abs(a.cover - b.cover) <= 0.05 + 1e-3 and abs(a.x - b.x) - 0.25 <= 0.50 + 1e-3
    with pytest.raises(LiggingError):
        fit_case(section, ["stoom:100mm"], everything)


def test_existing_objects_stay(nen: Engine) -> None:
    section = street([("gasLageDruk", 1.0, 0.8, 0.11)], 2.0)
    pinned = replace(section, objects=section.objects + (
        Obj("w", "pipe", "water", None, "existing", 1.2, 0.8, diameter=0.11, span=SPAN),))
    result = layout(pinned, nen)
    assert result.feasible and {m.id for m in result.moves} == {"gasLageDruk-0"}
    assert result.section is not None and result.section.by_id()["w"].x == 1.2


def test_rack_contents_move_with_the_rack(everything: Engine) -> None:
    section = load_case(ROOT / "cases" / "leiden-vkls-conform")
    result = layout(section, everything, alternatives=False)
    assert result.section is not None
    before, after = section.by_id(), result.section.by_id()
    rack = after["vkls-1"]
    for held in before["vkls-1"].holds:
        assert after[held].x - rack.x == pytest.approx(before[held].x - before["vkls-1"].x, abs=1e-3)
        assert after[held].cover - rack.cover == pytest.approx(before[held].cover - before["vkls-1"].cover, abs=1e-3)


def test_case_parse_roundtrip_keeps_unit_strings(nen: Engine, tmp_path: Path) -> None:
    text = ("ligging: 1\nname: t\nwidth: 400\nunits: cm\nzones:\n  - {kind: trottoir, from: 0, to: 400}\n"
            "objects:\n  - {id: g, network: gasLageDruk, x: 100, cover: 40, diameter: 11}\n")
    src = tmp_path / "in.yaml"
    src.write_text(text, encoding="utf-8")
    section = parse_case(text, str(src))
    result = layout(section, nen)
    out = tmp_path / "out.yaml"
    write_case(src, result, out)
    assert load_case(out).by_id()["g"].cover == pytest.approx(0.6)


def test_cli_layout_writes_a_case_and_fit_rejects_bad_networks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from checker.cli import run

    out = tmp_path / "new.yaml"
    with pytest.raises(SystemExit) as done:
        run(["layout", str(ROOT / "cases" / "amsterdam-wallengebied"), "-o", str(out)])
    assert done.value.code == 0 and load_case(out).by_id()["ms-1"].x < 4.8
    with pytest.raises(SystemExit) as done:
        run(["layout", str(ROOT / "cases" / "dordrecht-componistenbuurt")])
    assert done.value.code == 1 and "BOOM-HART-TRACE" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        run(["fit", "stoom:100mm"])
    assert done.value.code == 2 and capsys.readouterr().err.startswith("ligging: usage: ")


def test_slow_solve_stops_at_the_time_limit_with_a_message(nen: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from checker.advice import layout as layout_module

    monkeypatch.setattr(layout_module, "TIME_LIMIT", 1e-9)
    section = street([("gasLageDruk", 0.3, 0.6, 0.11), ("water", 0.4, 1.0, 0.11), ("datatransport", 0.5, 0.6, 0.05)], 2.0)
    result = layout(section, nen, alternatives=False, minimal=False)
    assert result.timed_out
    out = io.StringIO()
    layout_module.report(Console(file=out, width=200, color_system=None), result, "t")
    assert "time limit" in out.getvalue()


def test_a_layout_cut_short_by_a_solver_limit_says_how_far_from_best_it_may_be(
        everything: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from bench.layout_bench import crowded
    from checker.advice import layout as layout_module

    # one branch-and-bound node per solve: HiGHS finds layouts but cannot prove them best. A node limit, not a
    # time limit, so the test means the same on a busy machine (a loaded machine once turned a time limit into
    # "no layout without deviations" and the layout came back with 119 findings)
    monkeypatch.setattr(layout_module, "NODE_LIMIT", 1)
    monkeypatch.setattr(layout_module, "TIME_LIMIT", 600.0)
    result = layout(crowded(12, seed=4), everything, alternatives=False, minimal=False)
    assert result.timed_out and result.feasible and result.section is not None
    assert result.gap is not None and 0.0 < result.gap < 1.0
    # a layout returned is the engine's verdict too: nothing that counts is left, and no deviation is needed
    assert result.deviations == () and result.findings == ()
    assert [f for f in everything.evaluate(result.section) if counts(f) and f.severity != "info"] == []
    out = io.StringIO()
    layout_module.report(Console(file=out, width=200, color_system=None), result, "t")
    assert f"at most {result.gap:.0%} more than the least possible" in out.getvalue()


def test_a_solve_stopped_without_a_layout_is_not_turned_into_deviations(
        everything: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.layout_bench import crowded
    from checker.advice import layout as layout_module

    # no time at all: nothing is proven, so no deviations are looked for as if the rules conflicted
    monkeypatch.setattr(layout_module, "TIME_LIMIT", 1e-9)
    result = layout(crowded(25, seed=0), everything, alternatives=False, minimal=False)
    assert result.timed_out and not result.feasible
    assert result.deviations == () and result.conflict == ()


def test_a_solver_failure_is_not_reported_as_a_conflict(nen: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from rich.console import Console

    from checker.advice import layout as layout_module

    calls: list[str] = []

    def failing(*args: object, **kwargs: object) -> tuple[str, None, float]:
        options = args[6]
        assert isinstance(options, dict)
        calls.append(str(options["presolve"]))
        return "kSolveError", None, -float("inf")

    monkeypatch.setattr(layout_module, "_run", failing)
    section = street([("gasLageDruk", 0.3, 0.6, 0.11), ("water", 0.4, 1.0, 0.11)], 2.0)
    result = layout(section, nen, alternatives=False, minimal=False)
    # each failed solve is tried once more without presolve before it is believed
    assert calls[:2] == ["on", "off"]
    assert not result.feasible and result.solver_error
    out = io.StringIO()
    layout_module.report(Console(file=out, width=200, color_system=None), result, "t")
    assert "numerical failure" in out.getvalue() and "fixed rules conflict" not in out.getvalue()


def test_layout_output_keeps_the_text_drops_expect_and_records_each_deviation(everything: Engine, tmp_path: Path) -> None:
    source = ROOT / "cases" / "dordrecht-componistenbuurt" / "case.yaml"
    result = layout(load_case(source), everything)
    assert result.deviations
    out = write_case(source, result, tmp_path / "new" / "folder" / "case.yaml")
    text = out.read_text(encoding="utf-8")
    # comments and the user's units stay; the stale expect block goes
    assert "# new sewer system in the rijbaan" in text and "diameter: 110 mm" in text and "expect:" not in text
    again = load_case(out)
    assert {(a.rule, a.subjects) for a in again.accept} == {(d.rule, d.subjects) for d in result.deviations}
    found = [f for f in everything.evaluate(again) if counts(f) and f.severity != "info"]
    # the re-check shows exactly the named deviations, each pending approval, and nothing else
    assert {(f.rule, f.subjects) for f in found if not f.baseline} == {(d.rule, d.subjects) for d in result.deviations}
    assert all(dict(f.accepted).get("state") == "pending" for f in found if not f.baseline)


UNPLACED = {
    "relations joined with `and` next to `otherwise`":
        "cover water >= 0.60 m and cover gas >= 0.60 m\n  otherwise cover water >= 1.00 m",
    "`above … <=`": "water above gas <= 0.20 m",
    "a geometric exception that needs approval":
        "clearance horizontal between water and gas >= 1.00 m unless water above gas >= 0.30 m approved by \"P\"",
    "a threshold from the objects' dimensions": "clearance horizontal between water and gas >= larger diameter + 0.20 m",
    "`in any strip`": "capacity in any 0.30 m strip: count of cable <= 2",
    "`in any stack`": "capacity in any stack: count of line <= 1",
    "a reference line (facade, far-edge)": "clearance horizontal between facade and line >= 0.30 m",
}


def _pack(tmp_path: Path, relation: str, severity: str = "error") -> Path:
    path = tmp_path / "second.rules"
    path.write_text("pack second\n  title \"t\"\n  authority \"a\"\n  version \"1\"\n\ninclude imkl\n\n"
                    f"rule SECOND-EDITION\n  title \"t\"\n  severity {severity}\n  source \"s\"\n"
                    f"  illustrative \"test\"\n  require {relation}\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("feature", sorted(UNPLACED))
def test_layout_refuses_by_name_what_it_cannot_place(tmp_path: Path, feature: str) -> None:
    engine = Engine(load_packs([str(_pack(tmp_path, UNPLACED[feature]))]))
    section = street([("water", 0.5, 0.8, 0.11), ("gasLageDruk", 1.0, 0.6, 0.11), ("laagspanning", 1.5, 0.6, 0.05)], 2.0)
    with pytest.raises(LiggingError) as caught:
        layout(section, engine, alternatives=False, minimal=False)
    message = str(caught.value)
    assert "SECOND-EDITION" in message and feature in message and "\n" not in message
    assert caught.value.diagnostic.span.line == 8
    # an info rule never binds a layout, so it is no reason to refuse one
    quiet = Engine(load_packs([str(_pack(tmp_path, UNPLACED[feature], "info"))]))
    assert layout(section, quiet, alternatives=False, minimal=False).feasible


@pytest.mark.parametrize("command", [("layout", "cases/groningen-buurtstraat"), ("fit", "water:160mm", "gasLageDruk:110mm")])
def test_cli_exits_two_in_one_line_on_a_rule_layout_cannot_place(tmp_path: Path, command: tuple[str, ...]) -> None:
    from tests.test_cli import ligging

    pack = _pack(tmp_path, UNPLACED["`in any stack`"])
    out = ligging(*command, "--pack", str(pack))
    assert out.returncode == 2, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in out.stderr
    assert lines[0].startswith(f"ligging: {pack}:8:") and "SECOND-EDITION" in lines[0]


@pytest.mark.parametrize("membership", ["touching", "by axis"])
def test_layout_counts_a_fixed_object_in_a_zone_as_the_capacity_says(tmp_path: Path, membership: str) -> None:
    engine = Engine(load_packs([str(_pack(tmp_path, f"capacity in trottoir {membership}: count of line <= 1"))]))
    # an existing 0.60 m pipe whose axis lies under the rijbaan reaches 0.10 m under the trottoir
    bank = Obj("bank", "pipe", "water", None, "existing", 2.2, 0.8, diameter=0.6, span=SPAN)
    cable = Obj("ls", "cable", "laagspanning", None, "planned", 0.5, 0.6, diameter=0.05, span=SPAN)
    section = replace(street([], 2.0), objects=(bank, cable))
    result = layout(section, engine, alternatives=False, minimal=False)
    assert result.feasible and not result.deviations and result.section is not None
    assert [f for f in engine.evaluate(result.section) if counts(f)] == []
    moved = {m.id for m in result.moves}
    assert moved == ({"ls"} if membership == "touching" else set())


def test_layout_holds_a_clearance_inside_and_outside_racks(tmp_path: Path) -> None:
    engine = Engine(load_packs([str(_pack(tmp_path, "clearance horizontal inside and outside rack between water and warmte >= 1.00 m"))]))
    section = street([("water", 0.5, 0.8, 0.11), ("warmte", 0.8, 0.8, 0.16)], 2.0)
    result = layout(section, engine, alternatives=False, minimal=False)
    assert result.feasible and not result.deviations and result.section is not None
    assert [f for f in engine.evaluate(result.section) if counts(f)] == []
    w, h = (next(o for o in result.section.objects if o.network == n) for n in ("water", "warmte"))
    assert abs(w.x - h.x) - 0.5 * (0.11 + 0.16) >= 1.0 - 1e-6


PLACED = [
    # water 0.40 m above gas, or else 1.0 m beside it
    "water above gasLageDruk >= 0.40 m\n  otherwise water beside gasLageDruk >= 1.00 m",
    # a clearance met by a geometric exception: 1.0 m apart unless the water lies 0.30 m above the gas
    "clearance horizontal between water and gasLageDruk >= 1.00 m unless water above gasLageDruk >= 0.30 m",
    # two relations joined with `and`
    "water below gasLageDruk >= 0.20 m and water beside laagspanning >= 0.50 m",
]


@pytest.mark.parametrize("relation", PLACED)
def test_layout_places_positions_joined_relations_and_geometric_exceptions(tmp_path: Path, relation: str) -> None:
    engine = Engine(load_packs([str(_pack(tmp_path, relation))]))
    # water, gas and cable on top of each other at one x: every rule above fails as drawn
    section = street([("water", 1.0, 0.6, 0.11), ("gasLageDruk", 1.0, 0.6, 0.11), ("laagspanning", 1.05, 0.6, 0.05)], 2.0)
    assert [f for f in engine.evaluate(section) if counts(f) and f.rule == "SECOND-EDITION"]
    result = layout(section, engine, alternatives=False, minimal=False)
    assert result.feasible and not result.deviations and result.section is not None
    assert [f for f in engine.evaluate(result.section) if counts(f)] == []


def test_a_geometric_exception_spares_a_move_the_rule_alone_would_need(tmp_path: Path) -> None:
    # a water pipe 0.40 m above a gas pipe at the same x: the clearance fails, the exception holds
    section = street([("water", 1.0, 0.6, 0.11), ("gasLageDruk", 1.0, 1.11, 0.11)], 2.0)
    strict = Engine(load_packs([str(_pack(tmp_path, "clearance horizontal between water and gasLageDruk >= 1.00 m"))]))
    assert layout(section, strict, alternatives=False, minimal=False).moves
    excused = Engine(load_packs([str(_pack(tmp_path, PLACED[1]))]))
    assert [f for f in excused.evaluate(section) if counts(f)] == []
    result = layout(section, excused, alternatives=False, minimal=False)
    assert result.feasible and not result.moves and not result.deviations


def test_layout_places_a_line_above_a_crossing_where_it_passes() -> None:
    engine = Engine(load_packs([str(ROOT / "rules" / "examples" / "chicago.rules")]))
    text = """ligging: 1
name: t
width: 6
planned: 2026
zones: [{kind: trottoir, from: 0, to: 6}]
objects:
  - {id: w, network: water, x: 2.0, cover: 1.2, diameter: 100 mm, status: planned}
  - {id: c, kind: crossing, network: rioolVrijverval, from: 0, to: 4, cover: [1.5, 1.9], diameter: 150 mm, status: existing}
"""
    section = parse_case(text, "t.yaml")
    # water bottom 1.30 m, the sewer's top under it 1.70 m: 0.40 m, short of 18 in
    [finding] = [f for f in engine.evaluate(section) if counts(f)]
    assert finding.rule == "CHI-WATER-CROSSING" and finding.measured == pytest.approx(0.40)
    result = layout(section, engine, alternatives=False, minimal=False)
    assert result.feasible and not result.deviations and result.moves and result.section is not None
    assert [f for f in engine.evaluate(result.section) if counts(f)] == []


def test_a_house_connection_follows_its_main_in_the_layout_and_in_the_file(tmp_path: Path) -> None:
    pack = tmp_path / "x.rules"
    pack.write_text(NO_COVER_RULE, encoding="utf-8")
    engine = Engine(load_packs([str(pack)]))
    case = tmp_path / "case.yaml"
    case.write_text("""ligging: 1
name: a connection and its main
width: 4.0
zones:
  - {kind: trottoir, from: 0, to: 4.0}
objects:
  - {id: ls-0, network: laagspanning, x: 1.5, cover: 0.6, diameter: 50 mm, status: existing}
  - {id: dt-1, network: datatransport, x: 1.5, cover: 0.6, diameter: 50 mm}
  - {id: hak-1, kind: crossing, network: datatransport, connects: dt-1, from: 0, to: 1.5, cover: [0.45, 0.6],
     diameter: 40 mm}
""", encoding="utf-8")
    section = load_case(case)
    result = layout(section, engine)
    assert result.section is not None and [m.id for m in result.moves] == ["dt-1"]
    after = result.section.by_id()
    assert after["hak-1"].start == 0.0 and after["hak-1"].end == pytest.approx(after["dt-1"].x)
    assert after["hak-1"].cover_end == pytest.approx(after["dt-1"].cover)
    written = load_case(write_case(case, result, tmp_path / "out.yaml")).by_id()
    assert written["hak-1"].end == pytest.approx(after["hak-1"].end)
    assert written["hak-1"].cover_end == pytest.approx(after["hak-1"].cover_end)
