"""Suggestions on findings: the smallest move of one planned object, or the deviation that admits it.

For each counting finding that involves a planned object, candidate moves (dx, dz) are
derived from the finding itself — the shortfall along each axis in both directions, the
positions that put the object just clear of each other subject (or of a tree's root
zone), inside each surface zone, inside the profile — and tried smallest first. A move
is kept only when re-evaluating the moved section shows the finding gone and no new
counting finding. When no candidate passes, the suggestion is to deviate from the rule
to the measured value (negotiable rules only). Objects held by a rack move with their
rack, so the suggested object is then the rack.
"""

from __future__ import annotations

import math
from dataclasses import replace

from checker.engine.evaluate import Engine
from checker.model.findings import Finding, Suggestion, counts
from checker.model.section import Obj, Section

STEP = 0.001
MAX_TRIES = 24
FIXED_KINDS = ("crossing", "tree", "structure", "reservation")


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
        if (dx or dz) and unit.cover + dz >= 0:
            out.append((dx, dz))
    return sorted(out, key=lambda m: (math.hypot(*m), m))


def _outward(value: float) -> float:
    """Round a shift to whole millimetres away from zero, so the rounded move still clears."""
    steps = math.ceil(abs(value) / STEP - 1e-6)
    return math.copysign(steps * STEP, value) if steps else 0.0


def suggest(engine: Engine, section: Section, findings: list[Finding] | tuple[Finding, ...]) -> list[Finding]:
    """Return the findings with suggestions attached (a move when one is verified, else a deviation)."""
    before = {f.fingerprint for f in findings if counts(f)}
    out = []
    for f in findings:
        if not counts(f):
            out.append(f)
            continue
        move = best_move(engine, section, f, before)
        if move is not None:
            out.append(replace(f, suggestions=(move,)))
            continue
        out.append(replace(f, suggestions=_deviation(engine, f)))
    return out


def best_move(engine: Engine, section: Section, finding: Finding, before: set[str]) -> Suggestion | None:
    """Return the smallest verified move of one planned object clearing `finding`, or None."""
    tries: list[tuple[float, float, float, str]] = []
    for unit in _movable(section, finding):
        for dx, dz in candidates(section, finding, unit):
            tries.append((math.hypot(dx, dz), dx, dz, unit.id))
    tries.sort()
    for _, dx, dz, uid in tries[:MAX_TRIES]:
        after = {g.fingerprint for g in engine.evaluate(moved(section, uid, dx, dz)) if counts(g)}
        if finding.fingerprint not in after and after <= before:
            return Suggestion(move=uid, dx=dx, dz=dz)
    return None


def _deviation(engine: Engine, finding: Finding) -> tuple[Suggestion, ...]:
    """Return the deviation that accepts a finding as measured, when its rule is negotiable."""
    versions = engine.packs.find(finding.rule)
    if not versions or finding.measured is None or any(v.rule.negotiability is None for v in versions):
        return ()
    return (Suggestion(deviate=finding.rule, to=finding.measured),)
