"""Property: a cut of a generated delivery finds exactly the crossings a plain shapely intersection finds.

Deliveries are generated as frozen data (nets, elements, link polylines) — the reader is
tested on XML elsewhere. Each line has its own beheerder, so no two lines are bundled and
every crossing keeps its own x. Lines are drawn from free points and from points on, near
and at the corridor's edge of the section line, doubling back on themselves, so that
touching, tangent, collinear and twice-crossing lines are common.

For every line, each place where shapely says its centreline meets the section line (a
point, or the middle of a piece lying on it) is inside a stretch of it along the section
(a `crossing`), or is the x of one of its round objects to the millimetre the case is
written in — places less than the line's drawn size apart being one bend the section cuts,
one object at their middle. The cut finds nothing shapely does not: no object of a line
that neither meets the section nor runs along it within the corridor; and no two objects
of one line overlap. Run longer by hand with `LIGGING_EXAMPLES=2000` (and
`--hypothesis-seed=N`).
"""

from __future__ import annotations

import itertools
import math

import shapely
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from checker.io.imkl.cut import CORRIDOR, Cutter
from checker.io.imkl.delivery import Delivery, Element, Net
from dsl.packs import load_packs
from tests.conftest import examples

NEN = load_packs(["nen7171"])
START, END = (100.0, 200.0), (112.0, 205.0)
WIDTH = math.dist(START, END)
UX, UY = (END[0] - START[0]) / WIDTH, (END[1] - START[1]) / WIDTH
THEMAS = ("water", "laagspanning", "datatransport", "gasLageDruk", "rioolVrijverval")
MM = 0.0006  # the case is written to the millimetre

coordinate = st.floats(min_value=80.0, max_value=140.0, allow_nan=False, allow_infinity=False)
free_point = st.tuples(coordinate, st.floats(min_value=180.0, max_value=225.0, allow_nan=False))
offset = st.one_of(st.sampled_from([0.0, 1e-9, -1e-9, 0.001, -0.001, 0.3, -0.3, CORRIDOR, -CORRIDOR, 1.01]),
                   st.floats(min_value=-1.5, max_value=1.5, allow_nan=False))


@st.composite
def near_point(draw: st.DrawFn) -> tuple[float, float]:
    """Return a point on, near or at the corridor's edge of the section line (or its extension)."""
    t = draw(st.one_of(st.sampled_from([0.0, 0.25, 0.5, 1.0]), st.floats(min_value=-0.1, max_value=1.1, allow_nan=False)))
    d = draw(offset)
    return (START[0] + t * WIDTH * UX - d * UY, START[1] + t * WIDTH * UY + d * UX)


@st.composite
def polyline(draw: st.DrawFn) -> list[tuple[float, float]]:
    """Return 2 to 6 points: free, near the section, or back near an earlier point (a line doubling back)."""
    points: list[tuple[float, float]] = []
    for _ in range(draw(st.integers(2, 6))):
        how = draw(st.sampled_from(["free", "near", "back"] if len(points) >= 2 else ["free", "near"]))
        if how == "back":
            px, py = points[draw(st.integers(0, len(points) - 2))]
            jitter = st.floats(min_value=-0.2, max_value=0.2, allow_nan=False)
            points.append((px + draw(jitter), py + draw(jitter)))
        else:
            points.append(draw(free_point if how == "free" else near_point()))
    if not all(math.dist(a, b) > 0.05 for a, b in itertools.pairwise(points)):
        points = [points[0]] + [b for a, b in itertools.pairwise(points) if math.dist(a, b) > 0.05]
    if len(points) < 2:
        points.append((points[0][0] + 1.0, points[0][1] + 2.0))
    return points


@st.composite
def deliveries(draw: st.DrawFn) -> Delivery:
    lines = draw(st.lists(polyline(), min_size=1, max_size=8))
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


def one_line(wkt: str, thema: str = "water", diameter: float | None = None) -> Delivery:
    """Return a delivery of one line of its own beheerder (for the examples hypothesis found)."""
    net = Net("nl.imkl-B0000.net", thema, None, 1)
    line = Element("nl.imkl-B0000.line", "Waterleiding", net.id, ("nl.imkl-B0000.link",), "functional", 1,
                   diameter=diameter, owner="B0000")
    return Delivery("generated", "2.0", {net.id: net}, (line,), {"nl.imkl-B0000.link": shapely.from_wkt(wkt)}, {})


def meets(line: shapely.Geometry) -> list[float]:
    """Return where shapely says a line meets the section line: each point, and the middle of each piece on it."""
    out = []
    for part in shapely.get_parts(shapely.intersection(line, shapely.linestrings([START, END]))):
        c = shapely.get_coordinates(part)
        if not len(c):
            continue
        t = (c[:, 0] - START[0]) * UX + (c[:, 1] - START[1]) * UY
        out.append(0.5 * (float(t.min()) + float(t.max())))
    return sorted(out)


def bends(xs: list[float], size: float) -> list[list[float]]:
    """Group sorted places less than `size` apart: one bend of the line each."""
    out: list[list[float]] = []
    for x in xs:
        if out and x - out[-1][-1] < size:
            out[-1].append(x)
        else:
            out.append([x])
    return out


@settings(max_examples=examples(150), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries())
@example(one_line("LINESTRING (93 187, 103 201.5, 91 184)"))  # doubles back: crossings 2 mm apart, one bend
def test_the_cut_finds_what_shapely_finds(delivery: Delivery) -> None:
    case = Cutter(delivery, NEN).cut(START, END).case
    band = shapely.linestrings([START, END]).buffer(CORRIDOR, cap_style="flat")
    by_feature: dict[str, list[dict]] = {}
    for o in case["objects"]:
        by_feature.setdefault(o["source"]["feature"], []).append(o)
    for e in delivery.elements:
        line = delivery.links[e.links[0]]
        got = by_feature.get(e.id, [])
        xs = meets(line)
        points = sorted(o["x"] for o in got if "x" in o)
        stretches = [(o["from"], o["to"]) for o in got if o.get("kind") == "crossing"]
        if not xs:
            assert not points
            assert not stretches or line.intersects(band)
            continue
        assert got, (e.id, xs)
        size = got[0]["diameter"]
        alone = [x for x in xs if not any(a - MM <= x <= b + MM for a, b in stretches)]
        centres = [0.5 * (run[0] + run[-1]) for run in bends(alone, size)]
        assert len(points) == len(centres), (e.id, xs, points, stretches)
        for x, p in zip(centres, points, strict=True):
            assert abs(x - p) <= MM, (e.id, xs, points, stretches)
        for p, q in itertools.pairwise(points):
            assert q - p >= size - 2 * MM, (e.id, points)
        for a, b in stretches:
            assert 0.0 <= a < b <= round(WIDTH, 3)
            assert all(p <= a - size + MM or p >= b + size - MM for p in points), (e.id, points, stretches)
