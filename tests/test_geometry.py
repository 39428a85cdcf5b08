"""Distances: edge versus axis, the three planes, exact circles, boxes, crossings."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
import shapely.affinity
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry.base import BaseGeometry

from checker.io.loader import parse_case
from checker.model import geometry as geo
from checker.model.section import Obj
from dsl.diagnostics import Span
from dsl.packs import compose
from tests.conftest import case_text
from tests.reference_engine import Plain, free_width

SPAN = Span("t", 1, 1)


def frame_of(objects: str) -> geo.Frame:
    return geo.frame(parse_case(case_text(objects, width=10), "g.yaml"))


def gap(f: geo.Frame, a: str, b: str, plane: str, ra: str = "edge", rb: str = "edge") -> float:
    return float(geo.gaps(f, np.array([f.index[a]]), np.array([f.index[b]]), plane, ra, rb)[0])


def test_round_pair_edge_and_axis_in_every_plane() -> None:
    f = frame_of("""\
        - {id: a, network: water, x: 1.0, cover: 1.0, diameter: 0.2}
        - {id: b, network: gasLageDruk, x: 1.6, cover: 0.4, diameter: 0.1}
        """)
    assert gap(f, "a", "b", "horizontal") == pytest.approx(0.6 - 0.1 - 0.05)
    assert gap(f, "a", "b", "horizontal", "axis", "axis") == pytest.approx(0.6)
    # centres at depth 1.1 and 0.45
    assert gap(f, "a", "b", "vertical") == pytest.approx(0.65 - 0.1 - 0.05)
    assert gap(f, "a", "b", "vertical", "axis", "axis") == pytest.approx(0.65)
    assert gap(f, "a", "b", "shortest") == pytest.approx(math.hypot(0.6, 0.65) - 0.15)
    assert gap(f, "a", "b", "shortest", "axis", "edge") == pytest.approx(math.hypot(0.6, 0.65) - 0.05)


def test_box_and_circle_exact_at_the_corner() -> None:
    f = frame_of("""\
        - {id: box, network: middenspanning, x: 1.0, cover: 1.0, width: 0.4, height: 0.2}
        - {id: c, network: water, x: 1.5, cover: 0.5, diameter: 0.2}
        """)
    # box spans x 0.8..1.2, depth 1.0..1.2; circle centre (1.5, 0.6), r 0.1
    assert gap(f, "box", "c", "shortest") == pytest.approx(math.hypot(0.3, 0.4) - 0.1)
    assert gap(f, "box", "c", "horizontal") == pytest.approx(0.2)
    assert gap(f, "box", "c", "vertical") == pytest.approx(0.3)


def test_overlap_is_negative() -> None:
    f = frame_of("""\
        - {id: a, network: water, x: 1.0, cover: 1.0, diameter: 0.2}
        - {id: b, network: water, x: 1.15, cover: 1.0, diameter: 0.2}
        """)
    assert gap(f, "a", "b", "shortest") == pytest.approx(-0.05)


def test_crossing_vertical_gap_follows_the_slope() -> None:
    s = parse_case(case_text("""\
        - {id: hak, kind: crossing, network: rioolVrijverval, from: 0, to: 4, cover: [0.8, 1.6], diameter: 0.1}
        - {id: w, network: water, x: 2.0, cover: 0.7, diameter: 0.2}
        """, width=10), "g.yaml")
    by = s.by_id()
    # crossing top at x=2 is 1.2; water bottom at 0.9
    assert geo.crossing_gap(by["hak"], by["w"]) == pytest.approx(0.3)


def test_free_strip_beside_rack() -> None:
    # the reference evaluator's free-width loop, which the engine's access relation is held to
    section = parse_case(case_text("""\
        - {id: rek, kind: rack, x: 2.0, width: 0.5, cover: 0.3, height: 0.9}
        - {id: w, network: water, x: 3.0, cover: 0.7, diameter: 0.2}
        """, width=10), "g.yaml")
    s = Plain(section, compose(()))
    assert free_width(s, 0, +1, 1.2, 2.0) == pytest.approx(3.0 - 0.1 - 2.25)
    assert free_width(s, 0, -1, 1.2, 2.0) == pytest.approx(1.75)
    assert free_width(s, 0, +1, 0.5, 2.0) == pytest.approx(2.0)


def test_occupied_width_merges_intervals() -> None:
    assert geo.occupied_width([(0, 1), (0.5, 1.5), (2, 3)]) == pytest.approx(2.5)


def way_out(body: BaseGeometry, zone: BaseGeometry) -> float:
    """Return the shortest straight move (left, right, down, or up staying below ground) that takes body out of zone.

    Found by trial: double the move until the body no longer overlaps the zone, then halve the interval.
    """
    best = float("inf")
    top = body.bounds[1]
    for dx, dz in ((-1.0, 0.0), (1.0, 0.0), (0.0, 1.0), (0.0, -1.0)):
        def inside(t: float, dx: float = dx, dz: float = dz) -> bool:
            return bool(shapely.affinity.translate(body, dx * t, dz * t).intersection(zone).area > 1e-12)

        hi = 1e-3
        while inside(hi):
            hi *= 2.0
        lo = 0.0
        while hi - lo > 1e-10:
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if inside(mid) else (lo, mid)
        if dz < 0 and top - hi < -1e-6:
            continue
        best = min(best, hi)
    return best


def test_a_pipe_in_a_root_zone_is_measured_by_the_move_that_takes_it_out() -> None:
    # a 110 mm pipe in a 1.2 m deep root zone: 0.90 m to go down at 0.30 m cover, 0.50 m at 0.70 m (not its size)
    zone = shapely.box(0.0, 0.0, 4.0, 1.2)
    for cover, expected in ((0.30, 0.90), (0.70, 0.50), (1.15, 0.05)):
        pipe = geo.shape(Obj("p", "pipe", "gasLageDruk", None, "planned", 2.0, cover, diameter=0.11, span=SPAN))
        assert geo.exit_distance(pipe, zone) == pytest.approx(expected, abs=1e-9)
    # near the zone's edge the way out is sideways
    pipe = geo.shape(Obj("p", "pipe", "gasLageDruk", None, "planned", 3.9, 0.5, diameter=0.11, span=SPAN))
    assert geo.exit_distance(pipe, zone) == pytest.approx(0.155, abs=1e-9)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.sampled_from(["pipe", "container", "crossing"]), st.floats(0.0, 3.0), st.floats(0.0, 1.5),
       st.floats(0.02, 0.6), st.floats(0.5, 2.5), st.floats(0.3, 1.5), st.booleans())
def test_exit_distance_is_the_shortest_trial_move(kind: str, x: float, cover: float, size: float, reach: float,
                                                  depth: float, buried: bool) -> None:
    # against a search by trial moves: every way out (left, right, down, up while below ground), the shortest
    if kind == "crossing":
        body = geo.shape(Obj("c", "crossing", "water", None, "planned", 0.0, cover, diameter=size, start=x - 0.5,
                             end=x + 0.5, cover_end=cover + 0.2, span=SPAN))
    elif kind == "pipe":
        body = geo.shape(Obj("p", "pipe", "water", None, "planned", x, cover, diameter=size, span=SPAN))
    else:
        body = geo.shape(Obj("k", "container", None, None, "planned", x, cover, width=size, height=size, span=SPAN))
    top = 0.4 if buried else 0.0
    zone = shapely.box(1.5 - reach, top, 1.5 + reach, top + depth)
    if body.intersection(zone).area <= 1e-9:
        return
    assert geo.exit_distance(body, zone) == pytest.approx(way_out(body, zone), abs=1e-6)


def _region(disc: bool, x: float, z: float, size: float) -> tuple[geo.Regions, BaseGeometry]:
    """Return a disc (centre x, z; radius size) or a box (centre x, z; side 2*size) as a region and as a fine shape."""
    a = np.array
    if disc:
        return geo.discs(a([x]), a([z]), a([size])), shapely.Point(x, z).buffer(size, quad_segs=256)
    return (geo.boxes(a([x - size]), a([z - size]), a([x + size]), a([z + size])),
            shapely.box(x - size, z - size, x + size, z + size))


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.booleans(), st.booleans(), st.floats(0.0, 3.0), st.floats(0.0, 1.5), st.floats(0.02, 0.6),
       st.floats(0.8, 2.2), st.floats(0.2, 1.5), st.floats(0.1, 1.2))
def test_region_exits_are_the_shortest_trial_move(body_disc: bool, zone_disc: bool, x: float, z: float, size: float,
                                                  zx: float, zz: float, reach: float) -> None:
    # the closed form against trial moves of finely drawn circles: true circles, so to the micrometre
    body, body_shape = _region(body_disc, x, z + size, size)
    zone, zone_shape = _region(zone_disc, zx, zz + reach, reach)
    if body_shape.intersection(zone_shape).area <= 1e-9:
        return
    assert geo.region_exits(body, zone)[0] == pytest.approx(way_out(body_shape, zone_shape), abs=1e-5)
