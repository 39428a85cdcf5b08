"""Property: a cut of a generated delivery finds exactly the crossings a plain shapely intersection finds.

Deliveries are generated as frozen data (nets, elements, link polylines) — the reader is
tested on XML elsewhere. Each line has its own beheerder, so no two lines are bundled and
every crossing keeps its own x. For every line, the points where shapely says its
centreline meets the section line must each appear as an object of that feature at that x
(to the millimetre the case is written in), or lie inside a stretch of it along the
section (a `crossing`); and the cut finds nothing shapely does not: no object of a line
that neither meets the section nor runs along it within the corridor.
"""

from __future__ import annotations

import itertools
import math

import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.io.imkl.cut import CORRIDOR, Cutter
from checker.io.imkl.delivery import Delivery, Element, Net
from dsl.packs import load_packs

NEN = load_packs(["nen7171"])
START, END = (100.0, 200.0), (112.0, 205.0)
THEMAS = ("water", "laagspanning", "datatransport", "gasLageDruk", "rioolVrijverval")

coordinate = st.floats(min_value=80.0, max_value=140.0, allow_nan=False, allow_infinity=False)
polyline = st.lists(st.tuples(coordinate, st.floats(min_value=180.0, max_value=225.0, allow_nan=False)),
                    min_size=2, max_size=6).filter(lambda pts: all(math.dist(a, b) > 0.05 for a, b in itertools.pairwise(pts)))


@st.composite
def deliveries(draw: st.DrawFn) -> Delivery:
    lines = draw(st.lists(polyline, min_size=1, max_size=8))
    nets, elements, links = {}, [], {}
    for k, points in enumerate(lines):
        thema = draw(st.sampled_from(THEMAS))
        net = f"nl.imkl-B{k:04d}.net"
        nets[net] = Net(net, thema, draw(st.sampled_from([None, 0.6, 1.2])), 1)
        links[f"nl.imkl-B{k:04d}.link"] = shapely.linestrings(points)
        status = draw(st.sampled_from(["functional", "disused", "projected"]))
        cls = "Elektriciteitskabel" if thema in ("laagspanning", "datatransport") else "Waterleiding"
        elements.append(Element(f"nl.imkl-B{k:04d}.line", cls, net, (f"nl.imkl-B{k:04d}.link",), status, 1,
                                diameter=draw(st.sampled_from([None, 0.05, 0.16])), owner=f"B{k:04d}"))
    return Delivery("generated", "2.0", nets, tuple(elements), links, {})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries())
def test_the_cut_finds_what_shapely_finds(delivery: Delivery) -> None:
    case = Cutter(delivery, NEN).cut(START, END).case
    section = shapely.linestrings([START, END])
    width = math.dist(START, END)
    ux, uy = (END[0] - START[0]) / width, (END[1] - START[1]) / width
    band = section.buffer(CORRIDOR, cap_style="flat")
    by_feature: dict[str, list[dict]] = {}
    for o in case["objects"]:
        by_feature.setdefault(o["source"]["feature"], []).append(o)
    for e in delivery.elements:
        line = delivery.links[e.links[0]]
        got = by_feature.get(e.id, [])
        xs = []
        for part in shapely.get_parts(shapely.intersection(line, section)):
            for px, py in shapely.get_coordinates(part):
                xs.append((px - START[0]) * ux + (py - START[1]) * uy)
        points = sorted(o["x"] for o in got if "x" in o)
        stretches = [(o["from"], o["to"]) for o in got if o.get("kind") == "crossing"]
        for x in xs:
            assert any(abs(x - p) <= 0.0006 for p in points) or any(a - 0.06 <= x <= b + 0.06 for a, b in stretches), \
                (e.id, x, points, stretches)
        for p in points:
            assert any(abs(x - p) <= 0.0006 for x in xs), (e.id, p, xs)
        if not xs:
            assert not points
            assert not stretches or line.intersects(band)
        for a, b in stretches:
            assert 0.0 <= a < b <= round(width, 3)
