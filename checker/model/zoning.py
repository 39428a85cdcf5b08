"""Which surface zones an object is in: the one definition every selector and relation uses.

A rule says how it means "in a zone" (`dsl.ast.MEMBERSHIPS`): `axis` — the zone holding the
object's axis, a boundary belonging to the zone that starts there and the profile's far edge
to the last zone; `extent` — the object's whole horizontal extent lies in the zone (1 mm
tolerance); `touching` — its extent overlaps the zone by more than 1 mm, or its axis lies in
it (so an object too narrow to overlap anything is still in the zone of its axis).

A capacity may also count objects in *any* place of a kind: any horizontal strip of width
w (an object is in the strip [t, t + w] by the same three ways, as if it were a zone) or any
stack (objects whose extents reach more than 1 mm past one vertical line x = t, or whose axis
is on it). `place_starts` gives, per object, the positions t where its membership can
change; between two consecutive such positions nothing changes, so the endpoints and one
point inside each gap between them find every group a strip or stack can hold.

`in_zone` and `in_stack` are written with plain operators, so the same expression answers for
one object and one place (floats) and, broadcast, for every object against every place
(arrays), and the engine and the reference evaluator agree to the last bit.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from checker.model.section import TOLERANCE, Obj, Section


def in_zone(mode: str, left: Any, right: Any, x: Any, start: Any, end: Any, last: Any, width: Any) -> Any:
    """Tell whether objects (left, right, axis x) are in zones [start, end] by `mode`.

    `last` marks the zone that ends the profile (it keeps the far edge); `width` is the profile
    width (an axis outside 0..width is in no zone).
    """
    inside = (x >= 0.0) & (x <= width)
    by_axis = inside & (x >= start) & ((x < end) | (last & (x <= end)))
    if mode == "axis":
        return by_axis
    if mode == "extent":
        return (left >= start - TOLERANCE) & (right <= end + TOLERANCE)
    if mode == "touching":
        return (np.minimum(right, end) - np.maximum(left, start) > TOLERANCE) | by_axis
    raise ValueError(f"unknown zone membership {mode!r}")


def zones_of(section: Section, obj: Obj, mode: str) -> list[str]:
    """Return the kinds of the zones an object of a section is in by `mode`, left to right."""
    last = len(section.zones) - 1
    hw = obj.half_width
    return [zone.kind for k, zone in enumerate(section.zones)
            if bool(in_zone(mode, obj.x - hw, obj.x + hw, obj.x, zone.start, zone.end, k == last, section.width))]


def in_stack(left: Any, right: Any, x: Any, t: Any) -> Any:
    """Tell whether objects (left, right, axis x) stack on the vertical line at t."""
    return ((t > left + TOLERANCE) & (t < right - TOLERANCE)) | (x == t)


def place_starts(place: str, mode: str, left: float, right: float, x: float, w: float) -> tuple[float, ...]:
    """Return the positions t where an object's membership of the strip [t, t + w] (or stack at t) can change."""
    if place == "stack":
        return (left + TOLERANCE, right - TOLERANCE, x)
    if mode == "axis":
        return (x - w, x)
    if mode == "extent":
        return (right - w - TOLERANCE, left + TOLERANCE)
    return (left + TOLERANCE - w, right - TOLERANCE, x - w, x)


def probes(starts: list[float]) -> list[float]:
    """Return the distinct positions and one point between each two consecutive ones, in order."""
    points = sorted(set(starts))
    out: list[float] = []
    for a, b in itertools.pairwise(points):
        out += [a, 0.5 * (a + b)]
    return out + points[-1:]
