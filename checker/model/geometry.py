"""Shapes and distances in the (x, depth) plane of a cross-section.

A `Frame` holds a section's objects as NumPy columns (centre x, centre depth, half
width, half height, round or not) so that distances between any two selections are
computed for all pairs at once. Distances are exact for the shapes we model: circle
to circle is centre distance minus radii (no buffered polygons — they miscount near a
limit), circle to box and box to box are computed in closed form. A reference of
`axis` shrinks an object to its centre point. Distances are signed: negative means
the bodies overlap by that much in the plane asked for.

Where two bodies (or a body and a zone) may intersect, `region_gaps` says by how much in
closed form for discs and axis-aligned boxes (a round body, a rectangular body, a root
zone): the distance when apart, else minus the smaller side of the intersection's bounding
box — of the true circle, not of a polygon drawn around it. Shapely shapes (`shape`)
serve what is not a closed form: sloped crossings, tree trunks and drawings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise

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


@dataclass(frozen=True, slots=True)
class Regions:
    """Discs and axis-aligned boxes in the (x, depth) plane, one per row.

    A disc row has its centre (`cx`, `cz`) and radius `r`; every row has its bounds
    (`x0`, `z0`, `x1`, `z1`: a disc's bounding box, or the box itself).
    """

    disc: BoolArray
    cx: FloatArray
    cz: FloatArray
    r: FloatArray
    x0: FloatArray
    z0: FloatArray
    x1: FloatArray
    z1: FloatArray

    def __getitem__(self, rows: IntArray | BoolArray) -> Regions:
        return Regions(self.disc[rows], self.cx[rows], self.cz[rows], self.r[rows], self.x0[rows], self.z0[rows],
                       self.x1[rows], self.z1[rows])


def discs(cx: FloatArray, cz: FloatArray, r: FloatArray) -> Regions:
    """Return disc regions (centres and radii)."""
    return Regions(np.ones(len(cx), dtype=bool), cx, cz, r, cx - r, cz - r, cx + r, cz + r)


def boxes(x0: FloatArray, z0: FloatArray, x1: FloatArray, z1: FloatArray) -> Regions:
    """Return box regions (bounds)."""
    nan = np.full(len(x0), np.nan)
    return Regions(np.zeros(len(x0), dtype=bool), nan, nan, nan, x0, z0, x1, z1)


def bodies(x: FloatArray, cover: FloatArray, half_width: FloatArray, height: FloatArray, rnd: BoolArray) -> Regions:
    """Return the bodies of round (disc) and rectangular (box) objects from their columns, as `shape` draws them."""
    r = np.where(rnd, half_width, np.nan)
    cz = np.where(rnd, cover + r, np.nan)
    x0 = np.where(rnd, x - r, x - half_width)
    z0 = np.where(rnd, cz - r, cover)
    x1 = np.where(rnd, x + r, x + half_width)
    z1 = np.where(rnd, cz + r, cover + height)
    return Regions(np.asarray(rnd, dtype=bool), np.where(rnd, x, np.nan), cz, r, x0, z0, x1, z1)


def body(obj: Obj) -> Regions:
    """Return one object's body as a region (a round line a disc, anything rectangular a box); not for crossings or trees."""
    if obj.kind in ("crossing", "tree"):
        raise ValueError(f"{obj.kind} {obj.id} is not a disc or a box")
    return bodies(np.array([obj.x]), np.array([obj.cover]), np.array([obj.half_width]), np.array([obj.body_height]),
                  np.array([obj.round]))


# an intersection this small in area is a touch: the shapes are 0 apart (as shapely reports a zero-area intersection)
_TOUCH = 1e-12


def region_gaps(a: Regions, b: Regions) -> FloatArray:
    """Return, per row, the distance between regions a and b; where they intersect, minus the smaller side of the intersection.

    Closed forms for box-box, disc-box and disc-disc (the intersection's bounding box of a
    disc is that of the true circle).
    """
    out = np.empty(len(a.disc))
    for mask, first, second, form in ((~a.disc & ~b.disc, a, b, _box_box), (a.disc & ~b.disc, a, b, _disc_box),
                                      (~a.disc & b.disc, b, a, _disc_box), (a.disc & b.disc, a, b, _disc_disc)):
        if mask.any():
            out[mask] = form(first[mask], second[mask])
    return out


def _box_box(a: Regions, b: Regions) -> FloatArray:
    """Return box-box gaps (`region_gaps`)."""
    w = np.minimum(a.x1, b.x1) - np.maximum(a.x0, b.x0)
    h = np.minimum(a.z1, b.z1) - np.maximum(a.z0, b.z0)
    dx = np.maximum(np.maximum(b.x0 - a.x1, a.x0 - b.x1), 0.0)
    dz = np.maximum(np.maximum(b.z0 - a.z1, a.z0 - b.z1), 0.0)
    meet = (w > 0) & (h > 0) & (w * h > _TOUCH)
    return np.asarray(np.where(meet, -np.minimum(w, h), np.hypot(dx, dz)), dtype=float)


def _disc_box(d: Regions, b: Regions) -> FloatArray:
    """Return disc-box gaps (`region_gaps`): d the discs, b the boxes."""
    cx, cz, r = d.cx, d.cz, d.r
    px, pz = np.clip(cx, b.x0, b.x1), np.clip(cz, b.z0, b.z1)
    apart = np.hypot(cx - px, cz - pz) - r
    # the intersection's extent: the widest chord within the box's depths, the tallest within its widths
    hx = np.sqrt(np.maximum(r * r - (pz - cz) ** 2, 0.0))
    hz = np.sqrt(np.maximum(r * r - (px - cx) ** 2, 0.0))
    w = np.minimum(b.x1, cx + hx) - np.maximum(b.x0, cx - hx)
    h = np.minimum(b.z1, cz + hz) - np.maximum(b.z0, cz - hz)
    meet = (apart < 0) & (w > 0) & (h > 0) & (w * h > _TOUCH)
    return np.asarray(np.where(meet, -np.minimum(w, h), np.maximum(apart, 0.0)), dtype=float)


def _disc_disc(a: Regions, b: Regions) -> FloatArray:
    """Return disc-disc gaps (`region_gaps`)."""
    dx, dz = b.cx - a.cx, b.cz - a.cz
    d = np.hypot(dx, dz)
    apart = d - a.r - b.r
    inside = d <= np.abs(a.r - b.r)
    with np.errstate(divide="ignore", invalid="ignore"):
        ux, uz = dx / d, dz / d
        along = (a.r * a.r - b.r * b.r + d * d) / (2 * d)
        half = np.sqrt(np.maximum(a.r * a.r - along * along, 0.0))
    px, pz = a.cx + along * ux, a.cz + along * uz
    # where the circles cross, and each disc's extreme points that lie in the other disc
    xs = [px - half * uz, px + half * uz]
    zs = [pz + half * ux, pz - half * ux]
    lo_x, hi_x = np.minimum(xs[0], xs[1]), np.maximum(xs[0], xs[1])
    lo_z, hi_z = np.minimum(zs[0], zs[1]), np.maximum(zs[0], zs[1])
    for one, other in ((a, b), (b, a)):
        for ex, ez in ((one.cx - one.r, one.cz), (one.cx + one.r, one.cz), (one.cx, one.cz - one.r),
                       (one.cx, one.cz + one.r)):
            within = np.hypot(ex - other.cx, ez - other.cz) <= other.r
            lo_x = np.where(within, np.minimum(lo_x, ex), lo_x)
            hi_x = np.where(within, np.maximum(hi_x, ex), hi_x)
            lo_z = np.where(within, np.minimum(lo_z, ez), lo_z)
            hi_z = np.where(within, np.maximum(hi_z, ez), hi_z)
    lens = -np.minimum(hi_x - lo_x, hi_z - lo_z)
    small = np.minimum(a.r, b.r)
    meet = apart < 0
    value = np.where(inside, -2 * small, lens)
    touch = meet & ((hi_x - lo_x) * (hi_z - lo_z) <= _TOUCH) & ~inside
    return np.asarray(np.where(meet & ~touch, value, np.maximum(apart, 0.0)), dtype=float)


@dataclass(frozen=True, slots=True)
class Bands:
    """Crossings in the (x, depth) plane, one per row: the band from (`s`, `c0`) to (`e`, `c1`), `d` deep (s < e)."""

    s: FloatArray
    e: FloatArray
    c0: FloatArray
    c1: FloatArray
    d: FloatArray

    def top(self, x: FloatArray) -> FloatArray:
        """Return the depth of each band's top at x (on the line through its ends)."""
        return np.asarray(self.c0 + (self.c1 - self.c0) * (x - self.s) / (self.e - self.s), dtype=float)

    def holds(self, x: FloatArray, z: FloatArray) -> BoolArray:
        """Tell whether each point lies in its band (boundary included, 1 nm of slack for rounding)."""
        with np.errstate(invalid="ignore"):
            top = self.top(x)
            return np.asarray((x >= self.s - 1e-9) & (x <= self.e + 1e-9) & (z >= top - 1e-9) & (z <= top + self.d + 1e-9))

    def corners(self) -> list[tuple[FloatArray, FloatArray]]:
        """Return the four corners, in ring order."""
        return [(self.s, self.c0), (self.e, self.c1), (self.e, self.c1 + self.d), (self.s, self.c0 + self.d)]


def band_gaps(band: Bands, other: Regions) -> FloatArray:
    """Return, per row, the distance between a crossing's band and a disc or box; where they meet, minus the smaller side
    of the intersection's bounding box (as `region_gaps`).

    The intersection is convex, so its extremes are among: the band's corners inside the other
    region, the other region's corners (a box) or axis extremes (a disc) inside the band, and
    where the two boundaries cross. Apart, the distance is that of a corner (or the disc's
    centre) to the other's nearest edge.
    """
    n = len(band.s)
    xs: list[FloatArray] = []
    zs: list[FloatArray] = []

    def candidate(x: FloatArray, z: FloatArray, valid: BoolArray) -> None:
        xs.append(np.where(valid, x, np.nan))
        zs.append(np.where(valid, z, np.nan))

    disc = other.disc
    cx, cz, r = other.cx, other.cz, other.r
    corners = band.corners()
    with np.errstate(invalid="ignore", divide="ignore"):
        for x, z in corners:
            in_box = (x >= other.x0) & (x <= other.x1) & (z >= other.z0) & (z <= other.z1)
            in_disc = np.hypot(x - cx, z - cz) <= r
            candidate(x, z, np.where(disc, in_disc, in_box))
        box_corners = [(other.x0, other.z0), (other.x1, other.z0), (other.x1, other.z1), (other.x0, other.z1)]
        extremes = [(cx - r, cz), (cx + r, cz), (cx, cz - r), (cx, cz + r)]
        for (bx, bz), (ex, ez) in zip(box_corners, extremes, strict=True):
            x, z = np.where(disc, ex, bx), np.where(disc, ez, bz)
            candidate(x, z, band.holds(x, z))
        # the band's vertical ends against the box's top and bottom, or the circle
        for x, lo in ((band.s, band.c0), (band.e, band.c1)):
            hi = lo + band.d
            for z in (other.z0, other.z1):
                candidate(x, z, ~disc & (x >= other.x0) & (x <= other.x1) & (z >= lo) & (z <= hi))
            half = np.sqrt(r * r - (x - cx) ** 2)
            for z in (cz - half, cz + half):
                candidate(x, z, disc & (z >= lo) & (z <= hi))
        # the band's sloped top and bottom against the box's sides and top and bottom, or the circle
        slope = (band.c1 - band.c0) / (band.e - band.s)
        for offset in (0.0, band.d):
            for x in (other.x0, other.x1):
                z = band.top(x) + offset
                candidate(x, z, ~disc & (x >= band.s) & (x <= band.e) & (z >= other.z0) & (z <= other.z1))
            for z in (other.z0, other.z1):
                x = band.s + (z - band.c0 - offset) / slope
                candidate(x, z, ~disc & (slope != 0) & (x >= band.s) & (x <= band.e) & (x >= other.x0) & (x <= other.x1))
            # (x - cx)^2 + (slope * (x - s) + c0 + offset - cz)^2 = r^2
            k = band.c0 + offset - slope * band.s - cz
            qa = 1 + slope * slope
            qb = 2 * (slope * k - cx)
            qc = cx * cx + k * k - r * r
            root = np.sqrt(qb * qb - 4 * qa * qc)
            for x in ((-qb - root) / (2 * qa), (-qb + root) / (2 * qa)):
                candidate(x, slope * (x - band.s) + band.c0 + offset, disc & (x >= band.s) & (x <= band.e))
        x_all, z_all = np.stack(xs), np.stack(zs)
        found = ~np.isnan(x_all).all(axis=0)
        w = np.nanmax(np.where(found, x_all, 0.0), axis=0) - np.nanmin(np.where(found, x_all, 0.0), axis=0)
        h = np.nanmax(np.where(found, z_all, 0.0), axis=0) - np.nanmin(np.where(found, z_all, 0.0), axis=0)
        # apart: corners to the other's nearest point; the other's corners (or centre) to the band's edges
        ring = corners + corners[:1]
        to_band = np.full(n, np.inf)
        for (ax, az), (bx, bz) in pairwise(ring):
            # a disc: its centre to the edge, less its radius; a box: each corner to the edge
            to_band = np.minimum(to_band, np.where(disc, _segment_distance(cx, cz, ax, az, bx, bz) - r, np.inf))
            for px, pz in box_corners:
                to_band = np.minimum(to_band, np.where(disc, np.inf, _segment_distance(px, pz, ax, az, bx, bz)))
        to_other = np.full(n, np.inf)
        for x, z in corners:
            px, pz = np.clip(x, other.x0, other.x1), np.clip(z, other.z0, other.z1)
            to_other = np.minimum(to_other, np.where(disc, np.hypot(x - cx, z - cz) - r, np.hypot(x - px, z - pz)))
    meet = found & (w * h > _TOUCH)
    apart = np.maximum(np.minimum(to_band, to_other), 0.0)
    return np.asarray(np.where(meet, -np.minimum(w, h), np.where(found, 0.0, apart)), dtype=float)


def _segment_distance(px: FloatArray, pz: FloatArray, ax: FloatArray, az: FloatArray, bx: FloatArray,
                      bz: FloatArray) -> FloatArray:
    """Return the distances from points to segments."""
    dx, dz = bx - ax, bz - az
    length = dx * dx + dz * dz
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(length > 0, ((px - ax) * dx + (pz - az) * dz) / np.where(length > 0, length, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    return np.asarray(np.hypot(px - (ax + t * dx), pz - (az + t * dz)), dtype=float)


def bands(start: FloatArray, end: FloatArray, cover: FloatArray, cover_end: FloatArray, diameter: FloatArray) -> Bands:
    """Return the bands of crossings from their columns (as `shape` draws them)."""
    return Bands(start, end, cover, cover_end, diameter)


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


def region_exits(body: Regions, zone: Regions) -> FloatArray:
    """Return how far each body lying partly inside its zone must move to leave it (`exit_distance` in closed form).

    Discs and boxes only. Each region is a core (a box, or a disc's centre) grown by a
    radius, so the moves t*d that keep body and zone meeting form the core difference grown
    by both radii; along each axis its extent is that of a rounded box at the origin's
    height. Sideways, down, or up while the body's top stays at or below the surface
    (depth 0); the shortest. Exact for true circles (`exit_distance` moves a polygon).
    """
    rb = np.where(body.disc, body.r, 0.0)
    rz = np.where(zone.disc, zone.r, 0.0)
    # the cores: a box, or a disc's centre
    bx0, bz0 = np.where(body.disc, body.cx, body.x0), np.where(body.disc, body.cz, body.z0)
    bx1, bz1 = np.where(body.disc, body.cx, body.x1), np.where(body.disc, body.cz, body.z1)
    zx0, zz0 = np.where(zone.disc, zone.cx, zone.x0), np.where(zone.disc, zone.cz, zone.z0)
    zx1, zz1 = np.where(zone.disc, zone.cx, zone.x1), np.where(zone.disc, zone.cz, zone.z1)
    sx0, sx1, sz0, sz1 = zx0 - bx1, zx1 - bx0, zz0 - bz1, zz1 - bz0
    rho = rb + rz
    dz = np.maximum(np.maximum(sz0, -sz1), 0.0)
    dx = np.maximum(np.maximum(sx0, -sx1), 0.0)
    h = np.sqrt(np.maximum(rho * rho - dz * dz, 0.0))
    v = np.sqrt(np.maximum(rho * rho - dx * dx, 0.0))
    left, right, down, up = h - sx0, sx1 + h, sz1 + v, v - sz0
    # out through the surface is not a place a body can lie
    up = np.where(body.z0 - up < -1e-9, np.inf, up)
    return np.asarray(np.minimum(np.minimum(left, right), np.minimum(down, up)), dtype=float)


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
