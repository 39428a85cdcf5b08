"""Sections along a street: stations on an axis, and the line of the section cut at each.

A street axis is a polyline in RD New. Stations lie every `every` metres along it,
from its first point (station 0) to its end; at each, the section runs perpendicular to
the axis, `width` metres long and centred on it. x = 0 lies on the left of the axis,
looking from its first point along it — walking the axis, the left facade is the
reference — so consecutive sections face the same way. At a vertex the perpendicular
is that of the bisector of the two segments.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_STATIONS = 10_000


@dataclass(frozen=True, slots=True)
class Station:
    """A station on the axis: its chainage, where it lies, and the section line there (start is x = 0)."""

    chainage: float
    point: tuple[float, float]
    start: tuple[float, float]
    end: tuple[float, float]


def _unit(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    length = math.dist(a, b)
    return ((b[0] - a[0]) / length, (b[1] - a[1]) / length)


def stations(axis: list[tuple[float, float]], every: float, width: float) -> list[Station]:
    """Return the stations every `every` metres along the axis, with their perpendicular section lines.

    >>> [(s.chainage, s.start, s.end) for s in stations([(0.0, 0.0), (20.0, 0.0)], 10.0, 4.0)]
    [(0.0, (0.0, 2.0), (0.0, -2.0)), (10.0, (10.0, 2.0), (10.0, -2.0)), (20.0, (20.0, 2.0), (20.0, -2.0))]
    """
    if every <= 0 or not math.isfinite(every):
        raise ValueError("the spacing of stations must be a positive length")
    points = [p for k, p in enumerate(axis) if k == 0 or math.dist(p, axis[k - 1]) > 0]
    if len(points) < 2:
        raise ValueError("the axis needs two distinct points")
    lengths = [math.dist(points[k], points[k + 1]) for k in range(len(points) - 1)]
    total = sum(lengths)
    count = math.floor(total / every + 1e-9) + 1
    if count > MAX_STATIONS:
        raise ValueError(f"{count} stations; at most {MAX_STATIONS} (space them wider)")
    out = []
    segment, behind = 0, 0.0
    for n in range(count):
        chainage = min(n * every, total)
        while segment < len(lengths) - 1 and chainage > behind + lengths[segment] + 1e-9:
            behind += lengths[segment]
            segment += 1
        a, b = points[segment], points[segment + 1]
        t = (chainage - behind) / lengths[segment]
        point = (a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]))
        tx, ty = _unit(a, b)
        at_end = abs(chainage - behind - lengths[segment]) < 1e-9 and segment < len(lengths) - 1
        at_start = abs(chainage - behind) < 1e-9 and segment > 0
        if at_end or at_start:
            # on a vertex: the bisector of the segments before and after it
            before, after = (_unit(a, b), _unit(b, points[segment + 2])) if at_end else \
                (_unit(points[segment - 1], a), _unit(a, b))
            sx, sy = before[0] + after[0], before[1] + after[1]
            norm = math.hypot(sx, sy)
            if norm > 1e-9:
                tx, ty = sx / norm, sy / norm
        left = (-ty, tx)
        half = 0.5 * width
        start = (point[0] + half * left[0], point[1] + half * left[1])
        end = (point[0] - half * left[0], point[1] - half * left[1])
        out.append(Station(chainage, point, start, end))
    return out
