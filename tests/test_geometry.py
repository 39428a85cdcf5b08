"""Distances: edge versus axis, the three planes, exact circles, boxes, crossings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from checker.io.loader import parse_case
from checker.model import geometry as geo
from dsl.packs import compose
from tests.conftest import case_text
from tests.reference_engine import Plain, free_width


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
