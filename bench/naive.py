"""The peer rules as a straightforward shapely loop: one section, one pair at a time.

This is how the rules are usually first written: a shapely geometry per object and a
Python loop over pairs. Round lines are kept exact (centre points, distance minus
radii) rather than buffered into polygons, which would miscount near a
limit; boxes are shapely boxes. Rules and keys as in `bench/peers.py`.
"""

from __future__ import annotations

from collections.abc import Sequence

import shapely

from bench.peers import CLEARANCE, COVER, TOLERANCE, Key, measured
from checker.model.section import LINE_KINDS, Obj, Section


def _geometry(o: Obj) -> shapely.Geometry:
    """Return a line's axis point (round) or its box."""
    if o.round:
        return shapely.Point(o.x, o.cover + 0.5 * o.body_height)
    return shapely.box(o.x - o.half_width, o.cover, o.x + o.half_width, o.cover + o.body_height)


def _radius(o: Obj) -> float:
    return o.half_width if o.round else 0.0


def _top_bottom(o: Obj) -> tuple[float, float]:
    """Return top and bottom depth computed as the engine does (from the centre), so the 1 mm
    tolerance boundary falls on the same side to the last bit."""
    centre, half = o.cover + 0.5 * o.body_height, 0.5 * o.body_height
    return centre - half, centre + half


def naive_findings(sections: Sequence[Section]) -> set[Key]:
    """Evaluate the three peer rules section by section, pair by pair."""
    out: set[Key] = set()
    for number, section in enumerate(sections):
        rack = {h: o.id for o in section.objects if o.kind == "rack" for h in o.holds}
        lines = [o for o in section.objects if o.kind in LINE_KINDS]
        shapes = [_geometry(o) for o in lines]
        for o in lines:
            top = _top_bottom(o)[0]
            if top < COVER - TOLERANCE:
                out.add((number, "PEER-COV", (o.id,), measured(top)))
        for a in range(len(lines)):
            for b in range(a + 1, len(lines)):
                p, q = lines[a], lines[b]
                if p.id in rack and rack.get(q.id) == rack[p.id]:
                    continue
                gap = shapes[a].distance(shapes[b]) - _radius(p) - _radius(q)
                if gap < CLEARANCE - TOLERANCE:
                    out.add((number, "PEER-CLR", tuple(sorted((p.id, q.id))), measured(gap)))
                kinds = (p.network, q.network)
                if kinds in (("datatransport", "water"), ("water", "datatransport")):
                    up, down = (p, q) if p.network == "datatransport" else (q, p)
                    if _top_bottom(up)[1] > _top_bottom(down)[0] + TOLERANCE:
                        out.add((number, "PEER-ORDER", tuple(sorted((p.id, q.id))), None))
    return out
