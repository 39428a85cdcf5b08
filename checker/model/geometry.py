"""Shapes and distances in the (x, depth) plane of a cross-section.

A `Frame` holds a section's objects as NumPy columns (centre x, centre depth, half
width, half height, round or not) so that distances between any two selections are
computed for all pairs at once. Distances are exact for the shapes we model: circle
to circle is centre distance minus radii (no buffered polygons — they miscount near a
limit), circle to box and box to box are computed in closed form. A reference of
`axis` shrinks an object to its centre point. Distances are signed: negative means
the bodies overlap by that much in the plane asked for.

Shapely shapes (`shape`) serve what is not a closed form: sloped crossings, tree trunks
and drawings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from checker.model.section import Obj, Section

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]
PLANES = ("horizontal", "vertical", "shortest")
REFS = ("edge", "axis")


@dataclass(frozen=True, slots=True)
class Frame:
    """A section's objects as columns, in the order of `section.objects`."""

    section: Section
    ids: tuple[str, ...]
    x: FloatArray
    z: FloatArray
    hw: FloatArray
    hh: FloatArray
    round: BoolArray
    crossing: BoolArray
    index: dict[str, int]

    @property
    def left(self) -> FloatArray:
        """Return the left edges."""
        return self.x - self.hw

    @property
    def right(self) -> FloatArray:
        """Return the right edges."""
        return self.x + self.hw

    @property
    def top(self) -> FloatArray:
        """Return the depths of the tops."""
        return self.z - self.hh

    @property
    def bottom(self) -> FloatArray:
        """Return the depths of the undersides."""
        return self.z + self.hh


def frame(section: Section) -> Frame:
    """Build the columnar view of a section."""
    objs = section.objects
    n = len(objs)
    x = np.empty(n)
    z = np.empty(n)
    hw = np.empty(n)
    hh = np.empty(n)
    rnd = np.zeros(n, dtype=bool)
    crossing = np.zeros(n, dtype=bool)
    for i, o in enumerate(objs):
        x[i] = o.x
        hw[i] = o.half_width
        h = o.body_height
        if o.kind == "crossing":
            top = min(o.cover, o.cover_end if o.cover_end is not None else o.cover)
            z[i] = 0.5 * (top + o.bottom)
            hh[i] = 0.5 * (o.bottom - top)
            crossing[i] = True
        else:
            z[i] = o.cover + 0.5 * h
            hh[i] = 0.5 * h
        rnd[i] = o.round or o.kind == "tree"
    return Frame(section, tuple(o.id for o in objs), x, z, hw, hh, rnd, crossing,
                 {o.id: i for i, o in enumerate(objs)})


def rack_column(f: Frame) -> IntArray:
    """Return, per object, the index of the rack that holds it, or -1.

    A house connection (a crossing that `connects` a line) belongs to its main's holder.
    """
    out = np.full(len(f.ids), -1, dtype=np.intp)
    for i, o in enumerate(f.section.objects):
        for held in o.holds:
            out[f.index[held]] = i
    for i, o in enumerate(f.section.objects):
        if o.connects is not None:
            out[i] = out[f.index[o.connects]]
    return out


def gaps(f: Frame, a: IntArray, b: IntArray, plane: str, ref_a: str = "edge", ref_b: str = "edge") -> FloatArray:
    """Return the signed distances between objects a[k] and b[k] in `plane`.

    >>> from checker.model.section import Obj, Section, Zone
    >>> from dsl.diagnostics import Span
    >>> s = Span("t", 1, 1)
    >>> objs = (Obj("p", "pipe", "water", None, "planned", 1.0, 1.0, diameter=0.2, span=s),
    ...         Obj("q", "pipe", "water", None, "planned", 1.5, 1.0, diameter=0.2, span=s))
    >>> f = frame(Section("t", "t", 3.0, (Zone("trottoir", 0, 3.0, s),), objs))
    >>> round(float(gaps(f, np.array([0]), np.array([1]), "horizontal")[0]), 3)
    0.3
    >>> round(float(gaps(f, np.array([0]), np.array([1]), "horizontal", "axis", "axis")[0]), 3)
    0.5
    """
    if plane not in PLANES:
        raise ValueError(f"unknown plane {plane!r}")
    dx = np.abs(f.x[a] - f.x[b])
    dz = np.abs(f.z[a] - f.z[b])
    hwa = f.hw[a] if ref_a == "edge" else np.zeros(len(a))
    hha = f.hh[a] if ref_a == "edge" else np.zeros(len(a))
    hwb = f.hw[b] if ref_b == "edge" else np.zeros(len(b))
    hhb = f.hh[b] if ref_b == "edge" else np.zeros(len(b))
    if plane == "horizontal":
        return np.asarray(dx - hwa - hwb, dtype=float)
    if plane == "vertical":
        return np.asarray(dz - hha - hhb, dtype=float)
    round_a = f.round[a] | (ref_a == "axis")
    round_b = f.round[b] | (ref_b == "axis")
    # both round (or points): centre distance minus radii
    both = np.hypot(dx, dz) - hwa - hwb
    # a round, b a box: distance from a's centre to the box, minus a's radius
    a_round = _point_box(dx, dz, hwb, hhb) - hwa
    b_round = _point_box(dx, dz, hwa, hha) - hwb
    boxes = _point_box(dx, dz, hwa + hwb, hha + hhb)
    return np.asarray(np.where(round_a & round_b, both,
                               np.where(round_a, a_round, np.where(round_b, b_round, boxes))), dtype=float)


def _point_box(dx: FloatArray, dz: FloatArray, hw: FloatArray, hh: FloatArray) -> FloatArray:
    """Return the signed distance from a point at offset (dx, dz) to a centred box of half sizes hw, hh."""
    ox = dx - hw
    oz = dz - hh
    outside = np.hypot(np.maximum(ox, 0.0), np.maximum(oz, 0.0))
    inside = np.minimum(np.maximum(ox, oz), 0.0)
    return np.asarray(outside + inside, dtype=float)


def crossing_gap(crossing: Obj, other: Obj) -> float | None:
    """Return the vertical clearance between a crossing and a parallel object, or None if they do not meet.

    The crossing runs straight from (start, cover) to (end, cover_end). The gap is the
    smallest vertical distance over the other object's horizontal extent (at its axis for
    a round object, whose top and bottom are at the axis).
    """
    start, end = crossing.start or 0.0, crossing.end or 0.0
    left, right = other.x - other.half_width, other.x + other.half_width
    if right < start or left > end:
        return None
    positions = (other.x,) if other.round else (max(left, start), min(right, end))
    diameter = crossing.diameter or 0.0
    c0 = crossing.cover
    c1 = crossing.cover_end if crossing.cover_end is not None else c0
    o_top, o_bottom = other.cover, other.cover + other.body_height
    best: float | None = None
    for pos in positions:
        t = 0.0 if end == start else (pos - start) / (end - start)
        top = c0 + (c1 - c0) * min(max(t, 0.0), 1.0)
        bottom = top + diameter
        gap = max(o_top - bottom, top - o_bottom)
        best = gap if best is None else min(best, gap)
    return best


def shape(obj: Obj) -> BaseGeometry:
    """Return the body of an object as a shapely geometry in (x, depth)."""
    if obj.kind == "crossing":
        d = obj.diameter or 0.0
        c0 = obj.cover
        c1 = obj.cover_end if obj.cover_end is not None else c0
        s, e = obj.start or 0.0, obj.end or 0.0
        return shapely.Polygon([(s, c0), (e, c1), (e, c1 + d), (s, c0 + d)])
    if obj.kind == "tree":
        r = 0.5 * (obj.diameter or 0.0)
        return shapely.box(obj.x - r, -0.0, obj.x + r, 0.0) if r else shapely.Point(obj.x, 0.0)
    if obj.round:
        r = 0.5 * (obj.diameter or 0.0)
        return shapely.Point(obj.x, obj.cover + r).buffer(r, quad_segs=32)
    hw = obj.half_width
    return shapely.box(obj.x - hw, obj.cover, obj.x + hw, obj.cover + obj.body_height)


def exit_distance(body: BaseGeometry, zone: BaseGeometry) -> float:
    """Return how far a body lying partly inside a zone must move to leave it: sideways, down, or up while below ground.

    This is what an exclusion finding measures inside its zone (negated): a 110 mm pipe at
    0.30 m in a 1.2 m deep root zone has 0.90 m to go down, at 0.70 m 0.50 m, wherever its
    own size. Both shapes are convex (circles, boxes, crossing bands). A move t along d
    clears the zone once t*d leaves the set zone - body (the Minkowski difference, the
    convex hull of the vertex differences), so each move is the length of that ray inside
    the set. Moving up counts only when the body's top stays at or below the surface.
    """
    a = shapely.get_coordinates(zone)
    b = shapely.get_coordinates(body)
    if len(a) == 0 or len(b) == 0:
        return 0.0
    hull = shapely.MultiPoint((a[:, None, :] - b[None, :, :]).reshape(-1, 2)).convex_hull
    reach = 2.0 * float(np.ptp(a, axis=0).sum() + np.ptp(b, axis=0).sum()) + 1.0
    top = float(b[:, 1].min())
    best = np.inf
    for dx, dz in ((-1.0, 0.0), (1.0, 0.0), (0.0, 1.0), (0.0, -1.0)):
        t = float(hull.intersection(shapely.LineString([(0.0, 0.0), (reach * dx, reach * dz)])).length)
        if dz < 0 and top - t < -1e-9:
            continue  # out through the surface: not a place a body can lie
        best = min(best, t)
    return float(best)


def occupied_width(intervals: list[tuple[float, float]]) -> float:
    """Return the total length covered by a set of [left, right] intervals."""
    total = 0.0
    end = -np.inf
    for left, right in sorted(intervals):
        if right <= end:
            continue
        total += right - max(left, end)
        end = right
    return float(total)


def rack_scope(rack_of: IntArray, i: IntArray, j: IntArray, racks: str) -> BoolArray:
    """Keep the pairs a rack scope judges (`dsl.ast.RACK_SCOPES`); never a rack and its content."""
    ri, rj = rack_of[i], rack_of[j]
    same = (ri == rj) & (ri >= 0)
    own = (ri == j) | (rj == i)
    keep = same if racks == "inside" else ~same if racks == "outside" else np.ones(len(i), dtype=bool)
    return np.asarray(keep & ~own)


def in_order(i: IntArray, j: IntArray, left_to_right: bool, axis: bool, zone_columns: Callable[[], tuple[IntArray, BoolArray]],
             x: FloatArray, z: FloatArray, left: FloatArray, right: FloatArray, bottom: FloatArray, top: FloatArray,
             tolerance: float) -> tuple[IntArray, IntArray, BoolArray]:
    """Judge order pairs (i before j): return the pairs judged and whether each is in order.

    Left to right is judged per surface zone, from the facade nearer to that zone (pairs
    in different zones are dropped); top to bottom compares depths. `axis` compares
    centres, otherwise the facing edges. One definition for the engine and its columnar
    batch path.
    """
    if left_to_right:
        zone, mirrored = zone_columns()
        same = zone[i] == zone[j]
        i, j = i[same], j[same]
        flip = mirrored[i]
        if axis:
            ahead, behind = np.where(flip, -x[i], x[i]), np.where(flip, -x[j], x[j])
        else:
            ahead = np.where(flip, -left[i], right[i])
            behind = np.where(flip, -right[j], left[j])
    else:
        ahead, behind = (z[i], z[j]) if axis else (bottom[i], top[j])
    return i, j, np.asarray(ahead <= behind + tolerance)
