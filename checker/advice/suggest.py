"""Suggestions on findings: the smallest move of one planned object, or the deviation that admits it.

For each error or warning finding that involves a planned object, candidate moves (dx, dz)
are derived from the finding itself — the shortfall along each axis in both directions,
the positions that put the object just clear of each other subject (or of a tree's root
zone), inside each surface zone, inside the profile — and tried smallest first. A move is
kept only when re-evaluating the moved section shows the finding gone and no new error or
warning finding. Info findings get no suggestion and never block one: info never
constrains. Every candidate keeps the physical bounds whatever packs are loaded (inside the
profile, below ground; an overlap is always a finding) and what `keep` rules keep (a
gravity sewer's depth, a line's side of the carriageway). When no candidate passes, the
suggestion is to deviate from the rule to the measured value (negotiable rules only).
Objects held by a rack move with their rack, so the suggested object is then the rack.

Cost is bounded: a trial move (unit, dx, dz) is evaluated once per section and shared by
every finding it might clear, and at most `MAX_EVALUATIONS` trial evaluations are spent
per section. When that budget runs out, the remaining findings get their deviation
suggestion only, and `suggest_all` says how many went without a move search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from checker.engine.evaluate import Engine
from checker.engine.select import compile_selector, mask
from checker.model.findings import Finding, Suggestion, counts
from checker.model.section import TOLERANCE, Obj, Section
from dsl import ast
from nen7171.zones import side_runs, utility_zones

STEP = 0.001
MAX_TRIES = 24
# trial evaluations per section: 50 identical overlapping pipes have 1,225 findings of ~20 candidates each
MAX_EVALUATIONS = 200
# a trial that yields many findings costs as many evaluations as it has FINDINGS_PER_EVALUATION of them:
# one trial of 100 identical pipes (9,900 findings) took 0.6 s, so 200 of them took two minutes
FINDINGS_PER_EVALUATION = 100
FIXED_KINDS = ("crossing", "tree", "structure", "reservation")


@dataclass(frozen=True, slots=True)
class Suggested:
    """Findings with suggestions, and how many findings the evaluation budget left without a move search."""

    findings: tuple[Finding, ...]
    unsearched: int = 0

    def note(self) -> str:
        """Say that the budget stopped the move search (empty when it did not)."""
        if not self.unsearched:
            return ""
        return (f"move suggestions stopped after {MAX_EVALUATIONS} trial evaluations' worth of work: {self.unsearched} "
                "finding(s) got no move search (deviation suggestions only)")


def moved(section: Section, obj_id: str, dx: float, dz: float) -> Section:
    """Return the section with one object (and, for a rack, its contents) shifted by (dx, dz)."""
    obj = section.by_id()[obj_id]
    shift = {obj_id, *obj.holds}
    objects = tuple(replace(o, x=o.x + dx, cover=o.cover + dz) if o.id in shift else o for o in section.objects)
    return replace(section, objects=objects)


def _rack_of(section: Section) -> dict[str, str]:
    """Return the rack id holding each racked object."""
    return {held: o.id for o in section.objects for held in o.holds}


def _movable(section: Section, finding: Finding) -> list[Obj]:
    """Return the planned objects of a finding that a move may shift (racked ones as their rack)."""
    objs = section.by_id()
    racks = _rack_of(section)
    out: list[Obj] = []
    for sid in finding.subjects:
        o = objs[sid]
        if o.status != "planned" or o.kind in FIXED_KINDS:
            continue
        unit = objs[racks[sid]] if sid in racks else o
        if unit.status == "planned" and unit not in out:
            out.append(unit)
    return out


def _away(lo: float, hi: float, o_lo: float, o_hi: float, gap: float) -> tuple[float, float]:
    """Return the shifts that put interval [lo, hi] `gap` before or after [o_lo, o_hi]."""
    return o_lo - gap - hi, o_hi + gap - lo


def candidates(section: Section, finding: Finding, unit: Obj) -> list[tuple[float, float]]:
    """Return candidate moves of `unit` that could clear `finding`, derived from its numbers."""
    objs = section.by_id()
    cands: set[tuple[float, float]] = set()
    short = finding.shortfall
    if short is not None and short > 0:
        for d in (short, -short):
            cands.add((d, 0.0))
            cands.add((0.0, d))
    if finding.kind == "cover" and finding.measured is not None and finding.required is not None:
        cands.add((0.0, finding.required - finding.measured))
    if finding.kind == "bounds" and finding.measured is not None:
        if finding.op == "<=" and finding.required is not None:
            cands.add((0.0, finding.required - finding.measured))
        else:
            left, right = unit.x - unit.half_width, unit.x + unit.half_width
            cands.add((-left if left < 0 else section.width - right, 0.0))
    required = finding.required if finding.required is not None and finding.unit == "m" else 0.0
    lo, hi = unit.x - unit.half_width, unit.x + unit.half_width
    top, bottom = unit.cover, unit.cover + unit.body_height
    for sid in finding.subjects:
        other = objs[sid]
        if sid == unit.id or sid in unit.holds:
            continue
        if other.kind == "tree" and other.root_radius is not None:
            o_lo, o_hi = other.x - other.root_radius, other.x + other.root_radius
            o_top, o_bottom = 0.0, other.root_depth or 0.0
        else:
            o_lo, o_hi = other.x - other.half_width, other.x + other.half_width
            o_top, o_bottom = other.cover, other.bottom
        gaps = {required, max(required, 0.0)}
        if other.kind == "tree":
            # clearances to trees are measured from the trunk's axis
            gaps.add(required + other.half_width)
        for gap in gaps:
            for dx in _away(lo, hi, o_lo, o_hi, gap):
                cands.add((dx, 0.0))
            for dz in _away(top, bottom, o_top, o_bottom, gap):
                cands.add((0.0, dz))
    if finding.kind in ("zone", "order", "capacity"):
        for zone in section.zones:
            if zone.end - zone.start < 2 * unit.half_width:
                continue
            target = min(max(unit.x, zone.start + unit.half_width), zone.end - unit.half_width)
            cands.add((target - unit.x, 0.0))
    out = []
    for dx, dz in cands:
        dx, dz = _outward(dx), _outward(dz)
        if dx or dz:
            out.append((dx, dz))
    return sorted(out, key=lambda m: (math.hypot(*m), m))


def _outward(value: float) -> float:
    """Round a shift to whole millimetres away from zero, so the rounded move still clears."""
    steps = math.ceil(abs(value) / STEP - 1e-6)
    return math.copysign(steps * STEP, value) if steps else 0.0


class _Kept:
    """What the `keep` rules in force hold for a section: units kept at depth, at x, on their side."""

    def __init__(self, engine: Engine, section: Section) -> None:
        self.depth: set[str] = set()
        self.x: set[str] = set()
        self.side: dict[str, frozenset[int]] = {}
        # units whose least cover a rule in force states; any other is not lifted above its drawn cover
        self.cover_ruled: set[str] = set()
        racks = _rack_of(section)
        runs = side_runs([z.kind for z in section.zones])
        hosts = utility_zones()
        for cr in engine.rules_for(section):
            for req in cr.rule.alternatives:
                rel = req.relation
                if isinstance(rel, ast.Cover) and rel.op == ">=":
                    hits = mask(compile_selector(rel.selector, engine.packs), section)
                    self.cover_ruled |= {racks.get(o.id, o.id) for o, hit in zip(section.objects, hits, strict=True) if hit}
                if not isinstance(rel, ast.Keep) or cr.rule.severity == "info":
                    continue
                hits = mask(compile_selector(rel.selector, engine.packs), section)
                for o, hit in zip(section.objects, hits, strict=True):
                    if not hit:
                        continue
                    unit = section.by_id()[racks.get(o.id, o.id)]
                    if rel.what == "side":
                        side = _side(section, runs, unit.x)
                        if any(section.zones[k].kind in hosts for k in side):
                            self.side[unit.id] = side
                    else:
                        self.depth.add(unit.id)
                        if rel.what == "position":
                            self.x.add(unit.id)

    def allows(self, section: Section, unit: Obj, dx: float, dz: float) -> bool:
        """Tell whether a move keeps what the rules keep."""
        if dz and unit.id in self.depth:
            return False
        if dz < 0 and unit.kind != "rack" and unit.id not in self.cover_ruled:
            return False
        if dx and unit.id in self.x:
            return False
        side = self.side.get(unit.id)
        if side is None:
            return True
        runs = side_runs([z.kind for z in section.zones])
        return _side(section, runs, unit.x + dx) <= side


def _side(section: Section, runs: list[frozenset[int]], x: float) -> frozenset[int]:
    """Return the zones on x's side of the carriageway."""
    found = [k for k, z in enumerate(section.zones) if z.start - TOLERANCE <= x <= z.end + TOLERANCE]
    return frozenset().union(*(runs[k] for k in found)) if found else frozenset()


def _physical(section: Section, unit: Obj, dx: float, dz: float) -> bool:
    """Tell whether a moved unit (with what it holds) stays inside the profile and below ground."""
    held = [unit] + [o for o in section.objects if o.id in unit.holds]
    return all(o.x + dx - o.half_width >= -TOLERANCE and o.x + dx + o.half_width <= section.width + TOLERANCE
               and o.cover + dz >= -TOLERANCE for o in held)


def _binding(findings: list[Finding] | tuple[Finding, ...]) -> set[str]:
    """Return the fingerprints of the findings a move must not add: counting errors and warnings."""
    return {f.fingerprint for f in findings if counts(f) and f.severity != "info"}


def suggest_all(engine: Engine, section: Section, findings: list[Finding] | tuple[Finding, ...]) -> Suggested:
    """Return the findings with suggestions attached (a move when one is verified, else a deviation)."""
    before = _binding(findings)
    kept = _Kept(engine, section)
    tried: dict[tuple[str, float, float], set[str]] = {}
    budget = [MAX_EVALUATIONS]
    out = []
    unsearched = 0
    for f in findings:
        if not counts(f) or f.severity == "info":
            out.append(f)
            continue
        move, searched = _best_move(engine, section, f, before, kept, tried, budget)
        unsearched += 0 if searched else 1
        if move is not None:
            out.append(replace(f, suggestions=(move,)))
            continue
        out.append(replace(f, suggestions=_deviation(engine, f)))
    return Suggested(tuple(out), unsearched)


def suggest(engine: Engine, section: Section, findings: list[Finding] | tuple[Finding, ...]) -> list[Finding]:
    """Return the findings with suggestions attached (see `suggest_all`)."""
    return list(suggest_all(engine, section, findings).findings)


def _best_move(engine: Engine, section: Section, finding: Finding, before: set[str], kept: _Kept,
               tried: dict[tuple[str, float, float], set[str]], budget: list[int]) -> tuple[Suggestion | None, bool]:
    """Return the smallest verified move clearing `finding` (or None), and whether the search was complete."""
    if budget[0] <= 0:
        return None, False  # spent: no candidates to build either (9,900 findings took 18 s just for that)
    tries: list[tuple[float, float, float, Obj]] = []
    for unit in _movable(section, finding):
        for dx, dz in candidates(section, finding, unit):
            if _physical(section, unit, dx, dz) and kept.allows(section, unit, dx, dz):
                tries.append((math.hypot(dx, dz), dx, dz, unit))
    tries.sort(key=lambda t: (t[0], t[1], t[2], t[3].id))
    for _, dx, dz, unit in tries[:MAX_TRIES]:
        key = (unit.id, dx, dz)
        after = tried.get(key)
        if after is None:
            if budget[0] <= 0:
                return None, False
            trial = engine.evaluate(moved(section, unit.id, dx, dz))
            budget[0] -= 1 + len(trial) // FINDINGS_PER_EVALUATION
            after = _binding(trial)
            tried[key] = after
        if finding.fingerprint not in after and after <= before:
            return Suggestion(move=unit.id, dx=dx, dz=dz), True
    return None, True


def _deviation(engine: Engine, finding: Finding) -> tuple[Suggestion, ...]:
    """Return the deviation that accepts a finding as measured, when its rule is negotiable."""
    versions = engine.packs.find(finding.rule)
    if not versions or finding.measured is None or any(v.rule.negotiability is None for v in versions):
        return ()
    return (Suggestion(deviate=finding.rule, to=finding.measured),)
