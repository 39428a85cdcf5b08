"""Which surface zones an object is in: the one definition every selector and relation uses.

A rule says how it means "in a zone" (`dsl.ast.MEMBERSHIPS`): `axis` — the zone holding the
object's axis, a boundary belonging to the zone that starts there and the profile's far edge
to the last zone; `extent` — the object's whole horizontal extent lies in the zone (1 mm
tolerance); `touching` — its extent overlaps the zone by more than 1 mm, or its axis lies in
it (so an object too narrow to overlap anything is still in the zone of its axis).

`in_zone` is written with plain operators, so the same expression answers for one object
and one zone (floats) and, broadcast, for every object against every zone of its section
(arrays), and the engine and the reference evaluator agree to the last bit.
"""

from __future__ import annotations

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
