"""Advice held to engineering sense: every layout, fit and suggestion keeps the conventions, whatever the solver did.

Written from what the rules mean, not from the solver's model, with plain geometry on the
laid-out section: no two lines of different networks stacked outside a rack, nothing but
sewers under a carriageway, a warmte supply and return together, gravity sewers and VKLS racks
at their drawn depth, lines on their side of the street, everything inside the profile and
below ground, no bodies overlapping. Each may give way only where the layout names the
deviation for exactly those objects; info rules are never named; and re-checking the laid-out
section shows exactly the deviations named. Over every shipped case (from the proposal and from
the NEN 7171 standard), fits on shipped cases, every move suggested on a shipped case, and
generated streets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.advice.fit import fit_case
from checker.advice.layout import Layout, layout, start_from_standard
from checker.advice.suggest import moved, suggest_all
from checker.engine.evaluate import Engine
from checker.io.loader import load_case
from checker.model import geometry as geo
from checker.model.findings import counts
from checker.model.section import Obj, Section, Zone
from dsl.diagnostics import Span
from dsl.packs import load_packs
from tests.conftest import ROOT

TOL = 1e-3
CARRIAGEWAYS = ("rijbaan", "trambaan", "busbaan")
SEWERS = ("rioolVrijverval", "rioolOnderOverOfOnderdruk")
HOSTS = ("trottoir", "berm", "plein")
LINES = ("cable", "pipe")
BODIES = ("cable", "pipe", "container", "rack", "structure")
CASES = sorted((ROOT / "cases").glob("*/case.yaml"))
SPAN = Span("gen", 1, 1)


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_packs())


def box(o: Obj) -> tuple[float, float, float, float]:
    """Return (left, right, top, bottom) of a body in the section plane."""
    return o.x - o.half_width, o.x + o.half_width, o.cover, o.cover + o.body_height


def racks(section: Section) -> dict[str, str]:
    """Return, per held object, the rack that holds it."""
    return {held: o.id for o in section.objects if o.kind == "rack" for held in o.holds}


def under(section: Section, o: Obj) -> set[str]:
    """Return the kinds of the surface zones a body lies under."""
    left, right, _, _ = box(o)
    return {z.kind for z in section.zones if min(right, z.end) - max(left, z.start) > TOL}


def side(section: Section, x: float) -> frozenset[int]:
    """Return the zones between the carriageways around x (the whole street for a side without a K&L strip)."""
    kinds = [z.kind for z in section.zones]
    here = [k for k, z in enumerate(section.zones) if z.start - TOL <= x <= z.end + TOL]
    out: set[int] = set()
    for k in here:
        lo = hi = k
        while lo > 0 and kinds[lo] not in CARRIAGEWAYS:
            lo -= 1
        while hi < len(kinds) - 1 and kinds[hi] not in CARRIAGEWAYS:
            hi += 1
        out |= set(range(lo, hi + 1))
    if not out or not any(kinds[k] in HOSTS for k in out):
        return frozenset(range(len(kinds)))
    return frozenset(out)


def problems(engine: Engine, before: Section, after: Section, named: Iterable[tuple[str, tuple[str, ...]]],
             check_named: bool = True) -> list[str]:
    """Return every way the laid-out section breaks what the conventions mean, except the deviations named."""
    named = set(named)
    rules = {cr.rule.id: cr.rule for cr in engine.rules_for(after)}
    out: list[str] = []

    def waived(rule: str, *ids: str) -> bool:
        return rule not in rules or (rule, tuple(sorted(ids))) in named

    was = before.by_id()
    rack = racks(after)
    planned = [o for o in after.objects if o.status == "planned"]
    for o in planned:
        left, right, top, _ = box(o)
        if o.kind in BODIES and (left < -TOL or right > after.width + TOL or top < -TOL):
            out.append(f"{o.id} outside the profile or above ground")
        if o.kind in LINES and o.network not in SEWERS and o.id not in rack and under(after, o) & set(CARRIAGEWAYS) \
                and not waived("NEN-NUTSSTROOK", o.id):
            out.append(f"{o.id} ({o.network}) under the carriageway")
        if o.kind in LINES and o.id not in rack and not side(after, o.x) <= side(before, was[o.id].x) \
                and "NEN-ZIJDE" in rules:
            out.append(f"{o.id} crossed the street")
        if o.network == "rioolVrijverval" and abs(o.cover - was[o.id].cover) > 1e-6 and "NEN-RIOOL-DIEPTE" in rules:
            out.append(f"{o.id}: a gravity sewer's depth changed")
        if o.kind == "rack" and (abs(o.cover - was[o.id].cover) > 1e-6 or abs(o.x - was[o.id].x) > 1e-6) \
                and "VKLS-ONTWERP" in rules:
            out.append(f"{o.id}: a rack left its designed place")
    objs = after.objects
    for n, a in enumerate(objs):
        for b in objs[n + 1:]:
            if a.status != "planned" and b.status != "planned":
                continue
            same_rack = rack.get(a.id) is not None and rack.get(a.id) == rack.get(b.id)
            own = rack.get(a.id) == b.id or rack.get(b.id) == a.id
            if a.kind in BODIES and b.kind in BODIES and not same_rack and not own:
                inter = geo.shape(a).intersection(geo.shape(b))
                if inter.area > 1e-7 and (a.status == "planned" or b.status == "planned"):
                    out.append(f"{a.id} and {b.id} overlap")
            if a.kind in LINES and b.kind in LINES and a.network != b.network and not same_rack:
                la, ra, _, _ = box(a)
                lb, rb, _, _ = box(b)
                if min(ra, rb) - max(la, lb) > TOL and not waived("NEN-NIET-GESTAPELD", a.id, b.id):
                    out.append(f"{a.id} and {b.id} ({a.network}, {b.network}) stacked outside a rack")
            if a.network == b.network == "warmte" and a.kind == b.kind == "pipe" and a.owner == b.owner:
                la, ra, _, _ = box(a)
                lb, rb, _, _ = box(b)
                if max(lb - ra, la - rb) > 0.50 + TOL and not waived("WRM-PAAR-NAAST", a.id, b.id):
                    out.append(f"warmte pair {a.id}, {b.id} apart")
                if abs((a.cover + a.body_height / 2) - (b.cover + b.body_height / 2)) > 0.05 + TOL \
                        and not waived("WRM-PAAR-DIEPTE", a.id, b.id):
                    out.append(f"warmte pair {a.id}, {b.id} at different depths")
    if check_named:
        for rule, subjects in named:
            if rules.get(rule) is not None and rules[rule].severity == "info":
                out.append(f"info rule {rule} named as a deviation")
            if not subjects:
                out.append(f"{rule}: a deviation without the objects it is for")
        found = {(f.rule, f.subjects) for f in engine.evaluate(after)
                 if counts(f) and f.severity != "info" and not f.baseline}
        if found != named:
            out.append(f"re-check differs: found {sorted(found - named)}, named but absent {sorted(named - found)}")
    return out


def laid_out(engine: Engine, section: Section, result: Layout) -> list[str]:
    """Return the problems of a layout result (a stopped solve that found nothing has none to judge)."""
    if result.section is None:
        assert result.timed_out or result.solver_error or result.conflict, "no layout and no reason given"
        return []
    assert result.findings == (), "a layout returned with findings left"
    return problems(engine, section, result.section, ((d.rule, d.subjects) for d in result.deviations))


@pytest.mark.parametrize("path", CASES, ids=[p.parent.name for p in CASES])
@pytest.mark.parametrize("start", ["proposed", "standard"])
def test_every_shipped_case_laid_out_keeps_the_conventions(engine: Engine, path: Path, start: str) -> None:
    section = load_case(path)
    begin = start_from_standard(section, engine.packs) if start == "standard" else None
    result = layout(section, engine, begin, alternatives=False, minimal=False)
    assert result.feasible
    assert laid_out(engine, section, result) == []


@pytest.mark.parametrize("case, networks", [
    ("nen-nieuwbouw-trottoir", ["warmte:2x250mm"]),
    ("nen-nieuwbouw-trottoir", ["datatransport", "gasLageDruk:160mm"]),
    ("groningen-wijert-warmte", ["water:110mm"]),
    ("denhaag-bomenbuurt", ["laagspanning", "datatransport"]),
])
def test_a_fit_keeps_the_conventions(engine: Engine, case: str, networks: list[str]) -> None:
    section = load_case(ROOT / "cases" / case / "case.yaml")
    found = fit_case(section, networks, engine)
    result = found.layout
    assert result.section is not None
    grown = replace(section, objects=section.objects + tuple(
        o for o in result.section.objects if o.id not in section.by_id()))
    assert problems(engine, grown, result.section, ((d.rule, d.subjects) for d in result.deviations)) == []


@pytest.mark.parametrize("path", CASES, ids=[p.parent.name for p in CASES])
def test_every_suggested_move_keeps_the_conventions(engine: Engine, path: Path) -> None:
    section = load_case(path)
    findings = engine.evaluate(section)
    before = set(problems(engine, section, section, (), check_named=False))
    for f in suggest_all(engine, section, findings).findings:
        for s in f.suggestions:
            if s.move is None:
                continue
            after = moved(section, s.move, s.dx, s.dz)
            # a move may leave what was already wrong; it may not add a breach of the conventions
            new = set(problems(engine, section, after, (), check_named=False)) - before
            assert new == set(), f"{f.rule} {f.subjects}: move {s.move} {s.dx:+.3f}/{s.dz:+.3f}"


NETWORKS = ("datatransport", "laagspanning", "gasLageDruk", "water", "middenspanning")
SIZES = {"datatransport": 0.05, "laagspanning": 0.05, "gasLageDruk": 0.11, "water": 0.16, "middenspanning": 0.07}


@st.composite
def streets(draw: st.DrawFn) -> Section:
    """Draw a street: trottoir, maybe parking, a carriageway, a trottoir; lines anywhere, a sewer, maybe a heat pair."""
    left = draw(st.floats(1.2, 3.5))
    parking = draw(st.sampled_from([0.0, 2.0]))
    road = draw(st.floats(5.0, 8.0))
    right = draw(st.floats(1.2, 3.5))
    zones = [Zone("trottoir", 0.0, left, SPAN)]
    at = left
    if parking:
        zones.append(Zone("parkeren", at, at + parking, SPAN))
        at += parking
    zones.append(Zone("rijbaan", at, at + road, SPAN))
    zones.append(Zone("trottoir", at + road, at + road + right, SPAN))
    width = at + road + right
    objs = []
    for k in range(draw(st.integers(2, 6))):
        net = draw(st.sampled_from(NETWORKS))
        x = draw(st.floats(0.1, width - 0.1))
        cover = draw(st.floats(0.3, 1.4))
        kind = "pipe" if net in ("gasLageDruk", "water") else "cable"
        objs.append(Obj(f"{net}-{k}", kind, net, None, "planned", round(x, 3), round(cover, 3),
                        diameter=SIZES[net], span=SPAN))
    if draw(st.booleans()):
        objs.append(Obj("riool-1", "pipe", "rioolVrijverval", "gemeente", "planned",
                        round(draw(st.floats(left + parking + 1.0, left + parking + road - 1.0)), 3),
                        round(draw(st.floats(1.2, 2.2)), 3), diameter=0.4, span=SPAN))
    if draw(st.booleans()):
        x = round(draw(st.floats(0.3, width - 0.8)), 3)
        for n, name in enumerate(("warmte-aanvoer", "warmte-retour")):
            objs.append(Obj(name, "pipe", "warmte", "Warmtebedrijf", "planned", x + 0.45 * n,
                            round(draw(st.floats(0.5, 1.2)), 3), diameter=0.2, span=SPAN))
    return Section("gen.yaml", "gen", round(width, 3), tuple(zones), tuple(objs),
                   tags=(("street_type", draw(st.sampled_from(["woonstraat", "nieuwbouw"]))),), planned="2026")


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(streets(), st.booleans())
def test_generated_streets_laid_out_keep_the_conventions(engine: Engine, section: Section, standard: bool) -> None:
    begin = start_from_standard(section, engine.packs) if standard else None
    result = layout(section, engine, begin, alternatives=False, minimal=False)
    assert laid_out(engine, section, result) == []


def test_the_checks_catch_what_they_are_for(engine: Engine) -> None:
    # the invariants themselves must fail on the layouts they forbid, or they prove nothing
    zones = (Zone("trottoir", 0.0, 2.0, SPAN), Zone("rijbaan", 2.0, 8.0, SPAN), Zone("trottoir", 8.0, 10.0, SPAN))
    gas = Obj("gas-1", "pipe", "gasLageDruk", None, "planned", 1.0, 0.6, diameter=0.11, span=SPAN)
    ls = Obj("ls-1", "cable", "laagspanning", None, "planned", 1.3, 0.6, diameter=0.05, span=SPAN)
    sewer = Obj("riool-1", "pipe", "rioolVrijverval", None, "planned", 5.0, 1.8, diameter=0.4, span=SPAN)
    before = Section("t.yaml", "t", 10.0, zones, (gas, ls, sewer), tags=(("street_type", "woonstraat"),),
                     planned="2026")

    def found(*changes: tuple[str, float, float]) -> list[str]:
        moves = {k: (x, c) for k, x, c in changes}
        objs = tuple(replace(o, x=moves[o.id][0], cover=moves[o.id][1]) if o.id in moves else o
                     for o in before.objects)
        return problems(engine, before, replace(before, objects=objs), (), check_named=False)

    assert found() == []
    assert any("stacked" in p for p in found(("ls-1", 1.0, 0.9)))
    assert any("carriageway" in p for p in found(("ls-1", 4.0, 0.6)))
    assert any("crossed the street" in p for p in found(("ls-1", 9.0, 0.6)))
    assert any("sewer's depth" in p for p in found(("riool-1", 5.0, 1.2)))
    assert any("overlap" in p for p in found(("ls-1", 1.02, 0.62)))
    assert any("above ground" in p for p in found(("ls-1", 1.3, -0.2)))
