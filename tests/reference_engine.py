"""A deliberately plain evaluator of rule packs on one section: the oracle the engine is compared with.

`reference_findings(packs, section, today)` says what `Engine.evaluate` must return, written
for a reader, not for speed: one loop per relation over the section's objects (or object
pairs), one plain function per step (which rules apply, which rows fail, which exception
meets them, which alternative is reported, which deviations are accepted). It shares with
the engine only what defines the data, not how rules are run: the frame of each body
(`geometry.frame`, whose columns `tests/test_columnar.py` checks against the engine's), the
selector predicates of `checker.engine.select`, the distance formulas of `geometry.gaps`
and shapely for exact shapes, the sentence templates (`sayer`) and the `Finding` itself.

A relation kind added to the engine gets its loop here too (`RELATIONS`), and the
property tests compare the two finding by finding. What "in a zone" means (`zoning.in_zone`,
`in_stack`, `place_starts`), what an object's dimensions are (`Obj.dimension`) and how a
threshold adds its terms are data definitions both share; the combining of relations joined
with `and`, exceptions and alternatives is written here again, with sets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from checker.engine.evaluate import (
    OVERLAP_RULE,
    RELATION_KIND,
    conditions_hold,
    exception_fields,
    exclusion_applies,
    sayer,
)
from checker.engine.select import compare, compile_selector, in_service, pair_field
from checker.model import geometry as geo
from checker.model.findings import Finding, note_depth_bases
from checker.model.section import TOLERANCE, Obj, Section
from checker.model.zoning import in_stack, in_zone, place_starts, probes
from dsl import ast
from dsl.diagnostics import Span
from dsl.packs import PackSet, in_force
from nen7171.zones import UNKNOWN_ZONE


@dataclass(frozen=True, slots=True)
class Row:
    """One subject set a relation judged: object indices in the relation's order, the value, pass or fail.

    `limit` is the row's own threshold when it depends on the subjects' dimensions.
    """

    subjects: tuple[int, ...]
    measured: float | None
    ok: bool
    limit: float | None = None


@dataclass(frozen=True, slots=True)
class Judged:
    """Everything one relation judged in a section, with its requirement."""

    rows: list[Row]
    required: float | None
    op: str
    unit: str = "m"


class Plain:
    """One section's objects with the plain per-object facts the relations read."""

    def __init__(self, section: Section, packs: PackSet) -> None:
        self.section = section
        self.packs = packs
        self.objects = section.objects
        self.frame = geo.frame(section)
        f = self.frame
        self.left, self.right = f.left.tolist(), f.right.tolist()
        self.top, self.bottom = f.top.tolist(), f.bottom.tolist()
        self.rack_of = [-1] * len(self.objects)
        for r, obj in enumerate(self.objects):
            for held in obj.holds:
                self.rack_of[f.index[held]] = r
        # a house connection belongs to its main's holder; main_of names its main
        self.main_of = [-1 if o.connects is None else f.index[o.connects] for o in self.objects]
        for c, m in enumerate(self.main_of):
            if m >= 0:
                self.rack_of[c] = self.rack_of[m]

    def picks(self, selector: ast.Selector) -> list[bool]:
        """Return, per object, whether the selector picks it."""
        pred = compile_selector(in_service(selector), self.packs)
        return [pred(self.section, o) for o in self.objects]

    def kind(self, i: int, *kinds: str) -> bool:
        """Tell whether object i is of one of the kinds."""
        return self.objects[i].kind in kinds

    def gap(self, i: int, j: int, plane: str, ref_i: str = "edge", ref_j: str = "edge") -> float:
        """Return the signed distance between objects i and j (geometry.gaps for one pair)."""
        return float(geo.gaps(self.frame, np.array([i]), np.array([j]), plane, ref_i, ref_j)[0])


def pairs(s: Plain, in_a: list[bool], in_b: list[bool]) -> list[tuple[int, int]]:
    """Return every pair (i from a, j from b, i != j); a pair that could be taken both ways is taken once, i < j."""
    out = []
    for i in range(len(s.objects)):
        for j in range(len(s.objects)):
            if i == j or not (in_a[i] and in_b[j]):
                continue
            if in_a[j] and in_b[i] and i > j:
                continue
            out.append((i, j))
    return out


def rack_scope(s: Plain, i: int, j: int, racks: str) -> bool:
    """Keep a pair as the rack scope says: in one rack (inside), not (outside), or any (both); never a rack and what it holds."""
    if s.rack_of[i] == j or s.rack_of[j] == i:
        return False
    same = s.rack_of[i] >= 0 and s.rack_of[i] == s.rack_of[j]
    return same if racks == "inside" else not same if racks == "outside" else True


def limit_of(q: ast.Quantity, first: Obj, second: Obj | None = None) -> float | None:
    """Return a row's threshold: the constant plus each term times its subject's dimension (None when one lacks it)."""
    value = q.value
    for term in q.terms:
        da = first.dimension(term.dimension)
        db = da if second is None else second.dimension(term.dimension)
        if term.side == "a":
            d = da
        elif term.side == "b":
            d = db
        elif da is None or db is None:
            d = None
        else:
            d = max(da, db) if term.side == "larger" else min(da, db)
        if d is None:
            return None
        value = value + term.coefficient * d
    return value


def judged_row(subjects: tuple[int, ...], measured: float, q: ast.Quantity, op: str, s: Plain) -> Row | None:
    """Return the row of a measured value against a (possibly subject-dependent) threshold; None when not judged."""
    if not q.terms:
        return Row(subjects, measured, compare(measured, op, q.value))
    objs = [s.objects[i] for i in subjects]
    limit = limit_of(q, objs[0], objs[1] if len(objs) > 1 else None)
    if limit is None:
        return None
    return Row(subjects, measured, compare(measured, op, limit), limit)


def judged_only(rows: list[Row | None]) -> list[Row]:
    """Return the rows judged."""
    return [r for r in rows if r is not None]


def is_reference(side: ast.Side) -> bool:
    """Tell whether a side is a reference line of the profile."""
    return isinstance(side.selector, ast.SelName) and side.selector.name in ast.REFERENCE_LINES


# --- one function per relation ---------------------------------------------------------------


def cover(rel: ast.Cover, s: Plain) -> Judged:
    picked = s.picks(rel.selector)
    rows = judged_only([judged_row((i,), s.top[i], rel.limit, rel.op, s)
                 for i in range(len(s.objects)) if picked[i] and not s.kind(i, "tree")])
    return Judged(rows, rel.limit.value, rel.op)


def to_reference_line(line: ast.Side, other: ast.Side, op: str, q: ast.Quantity, s: Plain) -> Judged:
    """Judge each object's horizontal distance to the facade or the far edge of the profile."""
    picked = s.picks(other.selector)
    rows = []
    for i, o in enumerate(s.objects):
        if not picked[i] or o.kind == "crossing":
            continue
        hw = float(s.frame.hw[i]) if other.ref == "edge" else 0.0
        x = float(s.frame.x[i])
        measured = x - hw if line.selector.name == "facade" else s.section.width - (x + hw)  # type: ignore[union-attr]
        rows.append(judged_row((i,), measured, q, op, s))
    return Judged(judged_only(rows), q.value, op)


def clearance(rel: ast.Clearance, s: Plain) -> Judged:
    if is_reference(rel.a) or is_reference(rel.b):
        line, other = (rel.a, rel.b) if is_reference(rel.a) else (rel.b, rel.a)
        return to_reference_line(line, other, rel.op, rel.limit, s)
    line_like = [not s.kind(i, "crossing") for i in range(len(s.objects))]
    a = [p and q for p, q in zip(s.picks(rel.a.selector), line_like, strict=True)]
    b = [p and q for p, q in zip(s.picks(rel.b.selector), line_like, strict=True)]
    rows = []
    for i, j in pairs(s, a, b):
        if rack_scope(s, i, j, rel.racks) and pairs_with(rel.pairing, s.objects[i], s.objects[j]):
            rows.append(judged_row((i, j), s.gap(i, j, rel.plane, rel.a.ref, rel.b.ref), rel.limit, rel.op, s))
    return Judged(judged_only(rows), rel.limit.value, rel.op)


def crossing_faces(c: Obj, o: Obj) -> list[tuple[float, float, float]] | None:
    """Return, where crossing c passes o, the crossing's top, centre and underside at each place judged; None if it misses."""
    start, end = c.start or 0.0, c.end or 0.0
    left, right = o.x - o.half_width, o.x + o.half_width
    if right < start or left > end:
        return None
    places = (o.x,) if o.round else (max(left, start), min(right, end))
    diameter = c.diameter or 0.0
    c0 = c.cover
    c1 = c.cover_end if c.cover_end is not None else c0
    out = []
    for pos in places:
        t = 0.0 if end == start else (pos - start) / (end - start)
        top = c0 + (c1 - c0) * min(max(t, 0.0), 1.0)
        out.append((top, top + 0.5 * diameter, top + diameter))
    return out


def vertical_gap(s: Plain, upper: int, lower: int, ref_up: str, ref_low: str) -> float | None:
    """Return the signed gap from the upper object's underside down to the lower one's top (None: a crossing misses)."""
    up, low = s.objects[upper], s.objects[lower]
    if up.kind != "crossing" and low.kind != "crossing":
        top = float(s.frame.z[lower]) if ref_low == "axis" else s.top[lower]
        bottom = float(s.frame.z[upper]) if ref_up == "axis" else s.bottom[upper]
        return top - bottom
    c, o = (up, low) if up.kind == "crossing" else (low, up)
    faces = crossing_faces(c, o)
    if faces is None:
        return None
    o_top, o_bottom = o.cover, o.cover + o.body_height
    o_mid = o.cover + 0.5 * o.body_height
    values = []
    for top, mid, bottom in faces:
        if c is up:
            values.append((o_mid if ref_low == "axis" else o_top) - (mid if ref_up == "axis" else bottom))
        else:
            values.append((mid if ref_low == "axis" else top) - (o_mid if ref_up == "axis" else o_bottom))
    return min(values)


def position(rel: ast.Position, s: Plain) -> Judged:
    if is_reference(rel.a) or is_reference(rel.b):
        line, other = (rel.a, rel.b) if is_reference(rel.a) else (rel.b, rel.a)
        return to_reference_line(line, other, rel.op, rel.limit, s)
    a, b = s.picks(rel.a.selector), s.picks(rel.b.selector)
    rows = []
    for i in range(len(s.objects)):
        for j in range(len(s.objects)):
            if i == j or not (a[i] and b[j]) or not rack_scope(s, i, j, rel.racks):
                continue
            crossings = s.kind(i, "crossing") + s.kind(j, "crossing")
            if crossings == 2 or (rel.direction == "beside" and crossings):
                continue
            if rel.direction == "beside":
                gap: float | None = s.gap(i, j, "horizontal", rel.a.ref, rel.b.ref)
            elif rel.direction == "above":
                gap = vertical_gap(s, i, j, rel.a.ref, rel.b.ref)
            else:
                gap = vertical_gap(s, j, i, rel.b.ref, rel.a.ref)
            if gap is not None:
                rows.append(judged_row((i, j), gap, rel.limit, rel.op, s))
    return Judged(judged_only(rows), rel.limit.value, rel.op)


def pairs_with(pairing: ast.Pairing | None, a: Obj, b: Obj) -> bool:
    """Tell whether a `with same|different` pairing judges the pair (a, b): equal on all fields, or not."""
    if pairing is None:
        return True
    equal = all(pair_field(a, name) == pair_field(b, name) for name in pairing.names)
    return equal if pairing.mode == "same" else not equal


def keep(rel: ast.Keep, s: Plain) -> Judged:
    # a drawn depth, position or side is the solver's business: a check judges nothing
    return Judged([], None, "keep", "")


def crossingclearance(rel: ast.CrossingClearance, s: Plain) -> Judged:
    a, b = s.picks(rel.a.selector), s.picks(rel.b.selector)
    rows = []
    for c in range(len(s.objects)):
        if not (a[c] and s.kind(c, "crossing")):
            continue
        for o in range(len(s.objects)):
            if not b[o] or s.kind(o, "crossing", "tree", "reservation"):
                continue
            if s.main_of[c] == o or (s.rack_of[c] >= 0 and s.rack_of[c] == s.rack_of[o]):
                continue
            gap = geo.crossing_gap(s.objects[c], s.objects[o])
            if gap is not None:
                rows.append(judged_row((c, o), gap, rel.limit, rel.op, s))
    return Judged(judged_only(rows), rel.limit.value, rel.op)


def zones_in(s: Plain, i: int, mode: str) -> list[int]:
    """Return the indices of the surface zones object i is in (`zoning.in_zone`)."""
    last = len(s.section.zones) - 1
    x = float(s.frame.x[i])
    return [k for k, z in enumerate(s.section.zones)
            if bool(in_zone(mode, s.left[i], s.right[i], x, z.start, z.end, k == last, s.section.width))]


def zone_of(s: Plain, i: int) -> int:
    """Return the index of the zone holding object i's axis, -1 outside every zone."""
    found = zones_in(s, i, "axis")
    return found[0] if found else -1


def in_order(rel: ast.Order, s: Plain, i: int, j: int) -> bool | None:
    """Tell whether i lies before j as the order wants; None when the pair is not judged (other zones)."""
    x, z, xj, zj = s.frame.x[i], s.frame.z[i], s.frame.x[j], s.frame.z[j]
    axis = rel.ref == "axis"
    if rel.direction == "left-to-right":
        zone = zone_of(s, i)
        if zone != zone_of(s, j):
            return None
        # a zone nearer the far facade is read from that facade
        mirrored = zone >= 0 and 0.5 * (s.section.zones[zone].start + s.section.zones[zone].end) > 0.5 * s.section.width
        if axis:
            ahead, behind = (-x, -xj) if mirrored else (x, xj)
        else:
            ahead, behind = (-s.left[i], -s.right[j]) if mirrored else (s.right[i], s.left[j])
    else:
        ahead, behind = (z, zj) if axis else (s.bottom[i], s.top[j])
    return bool(ahead <= behind + TOLERANCE)


def order(rel: ast.Order, s: Plain) -> Judged:
    ltr = rel.direction == "left-to-right"
    eligible = []
    for i, o in enumerate(s.objects):
        ok = o.kind not in ("crossing", "tree", "reservation")
        if ltr:
            # a rack orders its contents vertically; the horizontal order is about loose lines
            ok = ok and s.rack_of[i] < 0 and o.kind != "rack"
        eligible.append(ok)
    levels = [[p and e for p, e in zip(s.picks(sel), eligible, strict=True)] for sel in rel.sequence]
    rows = []
    for first in range(len(levels)):
        for later in range(first + 1, len(levels)):
            before = [p and not q for p, q in zip(levels[first], levels[later], strict=True)]
            after = [q and not p for p, q in zip(levels[first], levels[later], strict=True)]
            for i, j in pairs(s, before, after):
                if not rack_scope(s, i, j, rel.racks):
                    continue
                ok = in_order(rel, s, i, j)
                if ok is not None:
                    rows.append(Row((i, j), None, ok))
    return Judged(rows, None, "order", "")


def zonerule(rel: ast.ZoneRule, s: Plain) -> Judged:
    picked = s.picks(rel.selector)
    rows = []
    for i in range(len(s.objects)):
        if not picked[i] or s.kind(i, "crossing", "tree"):
            continue
        under = {s.section.zones[k].kind for k in zones_in(s, i, rel.membership)}
        ok = bool(under) and under - {UNKNOWN_ZONE} <= set(rel.kinds) if rel.mode == "within" else not under & set(rel.kinds)
        rows.append(Row((i,), None, bool(ok)))
    return Judged(rows, None, rel.mode, "")


def root_zone(obj: Obj) -> BaseGeometry | None:
    """Return a tree's root zone (its radius each side of the trunk, down to its depth), or None."""
    if obj.kind != "tree" or obj.root_radius is None or obj.root_depth is None:
        return None
    return shapely.box(obj.x - obj.root_radius, 0.0, obj.x + obj.root_radius, obj.root_depth)


def closed(subject: Obj, target: Obj, roots: bool) -> bool:
    """Tell whether a subject and an exclusion zone have closed forms: discs, boxes, at most one crossing band, no trunk."""
    if roots:
        return subject.kind != "tree"
    return "tree" not in (subject.kind, target.kind) and not (subject.kind == target.kind == "crossing")


def band(obj: Obj) -> geo.Bands:
    """Return a crossing's band (one row)."""
    c1 = obj.cover_end if obj.cover_end is not None else obj.cover
    return geo.Bands(*(np.array([v]) for v in (obj.start or 0.0, obj.end or 0.0, obj.cover, c1, obj.diameter or 0.0)))


def zone_region(target: Obj, roots: bool) -> geo.Regions:
    """Return a tree's root zone (a box) or a body (a disc or a box) as a region; not for crossings."""
    if roots:
        assert target.root_radius is not None and target.root_depth is not None
        return geo.boxes(np.array([target.x - target.root_radius]), np.array([0.0]),
                         np.array([target.x + target.root_radius]), np.array([target.root_depth]))
    return geo.body(target)


def region_gap(subject: Obj, target: Obj, roots: bool) -> float:
    """Return the gap between a body and a root zone (a box) or another body, in closed form (`region_gaps`, `band_gaps`)."""
    if not roots and target.kind == "crossing":
        return float(geo.band_gaps(band(target), geo.body(subject))[0])
    zone = zone_region(target, roots)
    if subject.kind == "crossing":
        return float(geo.band_gaps(band(subject), zone)[0])
    return float(geo.region_gaps(geo.body(subject), zone)[0])


def shape_gap(a: BaseGeometry, b: BaseGeometry) -> float:
    """Return the distance between two shapes; when they intersect, minus the smaller side of the intersection."""
    inter = a.intersection(b)
    if inter.is_empty or inter.area <= 1e-12:
        return float(a.distance(b))
    minx, miny, maxx, maxy = inter.bounds
    return -min(maxx - minx, maxy - miny)


def exclusion(rel: ast.Exclusion, s: Plain) -> Judged:
    subjects, targets = s.picks(rel.selector), s.picks(rel.target)
    margin = rel.limit.value if rel.limit is not None else 0.0
    rack_of = np.array(s.rack_of)
    rows = []
    for t in range(len(s.objects)):
        if not targets[t]:
            continue
        roots = rel.part == "root-zone"
        zone = root_zone(s.objects[t]) if roots else geo.shape(s.objects[t])
        if zone is None:
            continue
        for i in range(len(s.objects)):
            if not subjects[i] or s.kind(i, "tree") or not exclusion_applies(s.objects, rack_of, i, t):
                continue
            body = geo.shape(s.objects[i])
            plain = closed(s.objects[i], s.objects[t], roots)
            gap = region_gap(s.objects[i], s.objects[t], roots) if plain else shape_gap(body, zone)
            if gap < 0:
                # inside the zone: how far it must move to leave, not the size of the overlap (the geometry's
                # definition, which tests/test_geometry.py holds against a search by trial moves); discs and
                # boxes in closed form, a crossing band by shape
                if plain and s.objects[i].kind != "crossing" and (roots or s.objects[t].kind != "crossing"):
                    exit_ = geo.region_exits(geo.body(s.objects[i]), zone_region(s.objects[t], roots))[0]
                    gap = 0.0 - float(np.round(exit_, 6))
                else:
                    gap = shape_gap(body, zone)
                    if gap < 0:
                        gap = -round(geo.exit_distance(body, zone), 6)
            limit = margin
            if rel.limit is not None and rel.limit.terms:
                found = limit_of(rel.limit, s.objects[i], s.objects[t])
                if found is None:
                    continue
                limit = found
            ok = gap >= limit - TOLERANCE if limit > 0 else gap >= -TOLERANCE
            rows.append(Row((i, t), gap, ok, limit if rel.limit is not None and rel.limit.terms else None))
    return Judged(rows, margin, ">=")


def free_width(s: Plain, i: int, side: int, depth: float, limit: float, margin: float = 0.0) -> float:
    """Return the free trench width beside object i on one side (-1 left, +1 right), down to `depth`, capped at `limit`.

    Free space ends at the edge of the profile or `margin` before the first body reaching into the
    band from the surface to `depth`; what i holds, crossings and reservations do not block it.
    """
    edge = s.left[i] if side < 0 else s.right[i]
    room = edge if side < 0 else s.section.width - edge
    free = min(max(room, 0.0), limit)
    for j in range(len(s.objects)):
        if j == i or s.rack_of[j] == i or s.kind(j, "crossing", "reservation") or s.top[j] >= depth:
            continue
        distance = edge - s.right[j] if side < 0 else s.left[j] - edge
        beyond = edge - s.left[j] if side < 0 else s.right[j] - edge
        if beyond > 0:
            free = min(free, max(distance - margin, 0.0))
    return free


def access(rel: ast.Access, s: Plain) -> Judged:
    picked = s.picks(rel.selector)
    rows = []
    for i, o in enumerate(s.objects):
        if not picked[i] or s.kind(i, "crossing", "tree", "reservation"):
            continue
        width = limit_of(rel.width, o)
        depth = s.bottom[i] if rel.depth is None else limit_of(rel.depth, o)
        if width is None or depth is None:
            continue
        margin = rel.margin.value if rel.margin is not None else 0.0
        left, right = free_width(s, i, -1, depth, width, margin), free_width(s, i, +1, depth, width, margin)
        both = rel.sides == "both" or (rel.sides == "declared" and o.sides == "double")
        if rel.sides == "street":
            measured = right if o.x <= 0.5 * s.section.width else left
        else:
            measured = min(left, right) if both else max(left, right)
        rows.append(Row((i,), measured, compare(measured, ">=", width), width if rel.width.terms else None))
    return Judged(rows, rel.width.value, ">=")


def occupied_width(intervals: list[tuple[float, float]]) -> float:
    """Return the total length covered by a set of [left, right] intervals."""
    total, end = 0.0, -np.inf
    for left, right in sorted(intervals):
        if right > end:
            total += right - max(left, end)
            end = right
    return float(total)


def capacity(rel: ast.Capacity, s: Plain) -> Judged:
    picked = s.picks(rel.selector)
    limit = rel.limit.value
    counted = [i for i in range(len(s.objects)) if picked[i] and not s.kind(i, "crossing", "tree", "reservation")]
    if rel.place != "zones":
        return Judged([Row(g, float(len(g)), compare(float(len(g)), "<=", limit)) for g in place_groups(rel, s, counted)],
                      limit, "<=", "count")
    rows = []
    for k, zone in enumerate(s.section.zones):
        if zone.kind not in rel.kinds:
            continue
        inside = tuple(i for i in counted if k in zones_in(s, i, rel.membership))
        if not inside:
            continue
        if rel.measure == "count":
            value = float(len(inside))
        else:
            value = occupied_width([(max(s.left[i], zone.start), min(s.right[i], zone.end)) for i in inside])
        rows.append(Row(inside, value, compare(value, "<=", limit)))
    return Judged(rows, limit, "<=", "m" if rel.measure == "width" else "count")


def place_groups(rel: ast.Capacity, s: Plain, counted: list[int]) -> list[tuple[int, ...]]:
    """Return the largest groups of objects one strip (or one stack) holds, looking wherever membership changes."""
    w = rel.window.value if rel.window is not None else 0.0
    starts = [t for i in counted for t in place_starts(rel.place, rel.membership, s.left[i], s.right[i],
                                                       float(s.frame.x[i]), w)]
    groups = set()
    for t in probes(starts) if starts else []:
        if rel.place == "stack":
            group = tuple(i for i in counted if bool(in_stack(s.left[i], s.right[i], float(s.frame.x[i]), t)))
        else:
            group = tuple(i for i in counted if bool(in_zone(rel.membership, s.left[i], s.right[i], float(s.frame.x[i]),
                                                             t, t + w, True, float("inf"))))
        if group:
            groups.add(group)
    return sorted(g for g in groups if not any(set(g) < set(h) for h in groups))


def crosspermission(rel: ast.CrossPermission, s: Plain) -> Judged:
    allowed, target = s.picks(rel.allowed), s.picks(rel.target)
    rows = []
    for c in range(len(s.objects)):
        if not s.kind(c, "crossing"):
            continue
        for o in range(len(s.objects)):
            if o == c or not target[o] or s.kind(o, "crossing") or s.rack_of[c] == o:
                continue
            if s.left[c] < s.right[o] - TOLERANCE and s.right[c] > s.left[o] + TOLERANCE:
                rows.append(Row((c, o), None, allowed[c]))
    return Judged(rows, None, "may cross", "")


def bounds(rel: ast.Bounds, s: Plain) -> Judged:
    picked = s.picks(rel.selector)
    if rel.what == "profile":
        rows = []
        for i in range(len(s.objects)):
            if picked[i]:
                margin = min(s.left[i], s.section.width - s.right[i])
                rows.append(Row((i,), margin, compare(margin, ">=", 0.0)))
        return Judged(rows, 0.0, ">=")
    assert rel.limit is not None
    rows = judged_only([judged_row((i,), s.bottom[i], rel.limit, "<=", s)
                 for i in range(len(s.objects)) if picked[i] and not s.kind(i, "tree")])
    return Judged(rows, rel.limit.value, "<=")


RELATIONS: dict[type, Callable[..., Judged]] = {
    ast.Cover: cover, ast.Clearance: clearance, ast.CrossingClearance: crossingclearance, ast.Order: order,
    ast.ZoneRule: zonerule, ast.Exclusion: exclusion, ast.Access: access, ast.Capacity: capacity,
    ast.CrossPermission: crosspermission, ast.Bounds: bounds, ast.Position: position, ast.Keep: keep,
}


# --- from rows to findings ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Failure:
    """A failing subject set of one relation of one alternative, with the exception that still meets it (if any)."""

    subjects: tuple[int, ...]
    measured: float | None
    judged: Judged
    alternative: int
    exception: ast.Exception_ | None
    relation: int = 0
    limit: float | None = None

    @property
    def required(self) -> float | None:
        """Return the requirement of this row (its own threshold when it depends on the subjects)."""
        return self.limit if self.limit is not None else self.judged.required


@dataclass(frozen=True, slots=True)
class Verdict:
    """One row of a requirement after its exceptions: its objects, whether it passes, and the exception that meets it."""

    objects: frozenset[int]
    ok: bool
    row: Row
    judged: Judged
    relation: int
    exception: ast.Exception_ | None


def every_pair(rel: ast.Relation) -> ast.Relation:
    """Return a relation judging every pair whatever racks hold it (as an exception's condition does)."""
    if isinstance(rel, (ast.Clearance, ast.Order, ast.Position)):
        return replace(rel, racks="both")
    return rel


def holds_within(rows: list[tuple[frozenset[int], bool]], objects: frozenset[int]) -> bool:
    """Tell whether the rows formed within a set of objects are some, and all pass."""
    within = [ok for group, ok in rows if group <= objects]
    return bool(within) and all(within)


def condition_rows(exc: ast.Exception_, s: Plain) -> list[tuple[frozenset[int], bool]]:
    """Return the rows a geometric exception's relations form, on every pair."""
    return [(frozenset(row.subjects), row.ok) for rel in exc.relations
            for row in RELATIONS[type(rel)](every_pair(rel), s).rows]


def exception_meeting(req: ast.Requirement, objs: list[Obj], measured: float | None,
                      conditions: dict[int, bool]) -> ast.Exception_ | None:
    """Return the first exception meeting a failing row with approval: a measure a subject carries (its relaxed
    limit met), or a geometric condition with `approved by` that holds."""
    for e, exc in enumerate(req.exceptions):
        if exc.relations:
            if exc.approver and conditions.get(e):
                return exc
            continue
        if not any(set(exc.measures) & set(o.measures) for o in objs):
            continue
        if exc.limit is None:
            return exc
        limit = limit_of(exc.limit, objs[0], objs[1] if len(objs) == 2 else None) if exc.limit.terms else exc.limit.value
        if measured is not None and limit is not None and compare(measured, exc.op, limit):
            return exc
    return None


def closeness(f: Failure) -> float:
    """Return how near a failure came to its requirement (relative shortfall; 1 without magnitude)."""
    if f.measured is None or f.required is None:
        return 1.0
    required = f.required
    gap = required - f.measured if f.judged.op == ">=" else f.measured - required
    return gap / required if required else gap


def verdicts(req: ast.Requirement, s: Plain) -> list[list[Verdict]]:
    """Judge every relation of a requirement, each failing row against the requirement's exceptions.

    A geometric exception without `approved by` that holds for a row's objects makes it pass; otherwise the
    first exception meeting it with approval is recorded.
    """
    conditions = {e: condition_rows(exc, s) for e, exc in enumerate(req.exceptions) if exc.relations}
    out = []
    for r, rel in enumerate(req.relations):
        result = RELATIONS[type(rel)](rel, s)
        rows = []
        for row in result.rows:
            objects = frozenset(row.subjects)
            ok, exc = row.ok, None
            if not ok:
                held = {e: holds_within(found, objects) for e, found in conditions.items()}
                if any(h and not req.exceptions[e].approver for e, h in held.items()):
                    ok = True
                else:
                    exc = exception_meeting(req, [s.objects[i] for i in row.subjects], row.measured, held)
            rows.append(Verdict(objects, ok, row, result, r, exc))
        out.append(rows)
    return out


def failures(rule: ast.Rule, s: Plain) -> list[Failure]:
    """Return the failure reported per subject set that fails and that no alternative of the rule holds for.

    An alternative holds for a set of objects when the rows its relations form within that set
    are some, and all pass; a set another alternative forms only within larger sets is judged
    with those. A failing set is reported once: of each alternative the first relation failing
    it (its last failing row), then the one met through an approval, else the closest.
    """
    judged = [verdicts(req, s) for req in rule.alternatives]
    failing = {v.objects for alternative in judged for rows in alternative for v in rows if not v.ok}
    formed = [{v.objects for rows in alternative for v in rows} for alternative in judged]
    out = []
    for objects in failing:
        if any(holds_within([(v.objects, v.ok) for rows in alternative for v in rows], objects) for alternative in judged):
            continue
        # a set another alternative judges only as part of a larger set is judged with that set
        if len(judged) > 1 and any(objects not in sets and any(objects < other for other in sets) for sets in formed):
            continue
        candidates = []
        for k, alternative in enumerate(judged):
            for rows in alternative:
                hits = [v for v in rows if v.objects == objects and not v.ok]
                if hits:
                    v = hits[-1]
                    candidates.append(Failure(v.row.subjects, v.row.measured, v.judged, k, v.exception, v.relation,
                                              v.row.limit))
                    break
        met = [c for c in candidates if c.exception is not None]
        out.append(met[0] if met else min(candidates, key=closeness))
    return out


def finding(rule: ast.Rule, pack: str, f: Failure, s: Plain) -> Finding:
    """Return the finding of a failure: subjects in id order, anchored at the first planned subject written."""
    objs = sorted((s.objects[i] for i in f.subjects), key=lambda o: o.id)
    subjects = tuple(o.id for o in objs)
    rel = rule.alternatives[f.alternative].relations[f.relation]
    anchor = min([o for o in objs if o.status == "planned"] or objs, key=lambda o: (o.span.line, o.span.column))
    severity: str = rule.severity
    exception: tuple[tuple[str, str], ...] = ()
    if f.exception is not None:
        severity = "warning" if rule.severity == "error" else rule.severity
        exception = exception_fields(f.exception, [o.measures for o in objs])
    j = f.judged
    # a position or an order names its objects in the order it requires (the row's), not in id order
    said = tuple(s.objects[i].id for i in f.subjects) if isinstance(rel, (ast.Position, ast.Order)) else subjects
    message = sayer(rel, j.op, j.unit, f.required)(said, f.measured, f.exception, objs[0].kind == "crossing")
    return Finding(
        rule=rule.id, pack=pack, severity=severity, kind=RELATION_KIND[type(rel)], subjects=subjects,
        measured=f.measured, required=f.required, op=j.op, unit=j.unit, message=message, source=rule.source,
        rule_at=rel.span if f.alternative or f.relation else rule.span, case_at=anchor.span,
        baseline=all(o.in_ground for o in objs), title=rule.title, illustrative=rule.illustrative,
        exception=exception,
    )


def overlaps(s: Plain) -> list[Finding]:
    """Return the findings of bodies that physically intersect by more than 1 mm (not a rack and its contents)."""
    out = []
    physical = [o.kind not in ("tree", "reservation", "wadi", "tree-soil") for o in s.objects]
    for i, j in pairs(s, physical, physical):
        if s.rack_of[i] == j or s.rack_of[j] == i or s.main_of[i] == j or s.main_of[j] == i:
            continue
        a, b = s.objects[i], s.objects[j]
        if a.kind != "crossing" and b.kind != "crossing":
            gap = s.gap(i, j, "shortest")
        elif a.kind == b.kind == "crossing":
            gap = shape_gap(geo.shape(a), geo.shape(b))
        else:
            gap = region_gap(a, b, False)
        if gap >= -TOLERANCE:
            continue
        first, second = sorted((a, b), key=lambda o: o.id)
        anchor = min([o for o in (first, second) if o.status == "planned"] or [first, second],
                     key=lambda o: (o.span.line, o.span.column))
        out.append(Finding(
            rule=OVERLAP_RULE, pack="ligging", severity="error", kind="overlap", subjects=(first.id, second.id),
            measured=gap, required=0.0, op=">=", unit="m",
            message=f"{first.id} and {second.id} physically overlap by {-gap * 1000:.0f} mm",
            source="physical: two bodies cannot occupy the same space", rule_at=Span("ligging", 1, 1),
            case_at=anchor.span, baseline=first.in_ground and second.in_ground,
            title="Objects overlap",
        ))
    return out


def accepted(f: Finding, section: Section, today: str) -> Finding:
    """Mark a finding an `accept:` entry covers: accepted, pending approval, expired, or stale (the measure moved)."""
    for acc in section.accept:
        if acc.rule != f.rule or (acc.subjects and acc.subjects != f.subjects):
            continue
        state = "accepted"
        if acc.pending:
            state = "pending"
        elif acc.until < today:
            state = "expired"
        elif acc.measured is not None and f.measured is not None and abs(acc.measured - f.measured) > TOLERANCE:
            state = "stale"
        return replace(f, accepted=(("state", state), ("reason", acc.reason), ("approved_by", acc.approved_by),
                                    ("until", acc.until)))
    return f


def reference_findings(packs: PackSet, section: Section, today: str) -> list[Finding]:
    """Return every finding of a section: each rule in force, then physical overlaps, in the engine's order."""
    s = Plain(section, packs)
    out = []
    for pr in packs.rules:
        if in_force(pr, section.planned) and conditions_hold(pr.rule, section):
            out.extend(finding(pr.rule, pr.pack.name, f, s) for f in failures(pr.rule, s))
    out.extend(overlaps(s))
    out = note_depth_bases((accepted(f, section, today) for f in out), section)
    return sorted(out, key=Finding.sort_key)

