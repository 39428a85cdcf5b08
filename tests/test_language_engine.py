"""What the second edition's features find, in numbers, on small sections an engineer can check by hand.

tests/test_columnar.py holds the engine equal to the plain reference evaluator; these tests
hold both to the meaning the guide (docs/rule-language.md) gives each feature.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml

from checker.engine.evaluate import Engine
from checker.io.loader import parse_case
from checker.model.findings import Finding
from checker.model.section import Section
from dsl.packs import compose, load_packs
from dsl.parser import parse_pack
from tests.reference_engine import reference_findings

HEAD = 'pack t\n  title "T"\n  authority "A"\n  version "1"\ninclude imkl\n'


def engine(*rules: str) -> Engine:
    body = "".join(f'rule T-R{n}\n  title "x"\n  severity error\n  source "s"\n  {r}\n' for n, r in enumerate(rules))
    return Engine(compose(load_packs(["imkl"]).packs + (parse_pack(HEAD + body, "t.rules"),)),
                  today=dt.date(2026, 1, 1))


def section(objects: list[dict[str, Any]], width: float = 6.0, zones: list[dict[str, Any]] | None = None) -> Section:
    case = {"ligging": 1, "name": "t", "width": width,
            "zones": zones or [{"kind": "trottoir", "from": 0, "to": width}], "objects": objects}
    return parse_case(yaml.safe_dump(case), "t.yaml")


def found(e: Engine, s: Section) -> list[Finding]:
    got = [f for f in e.evaluate(s) if f.rule != "LIG-OVERLAP"]
    assert e.evaluate(s) == reference_findings(e.packs, s, e.today)
    return got


W = {"id": "w", "network": "water", "x": 2.0, "cover": 1.0, "diameter": "100 mm"}
R = {"id": "r", "network": "rioolVrijverval", "x": 2.0, "cover": 1.5, "diameter": "300 mm"}


def test_above_is_signed_and_below_mirrors_it() -> None:
    # water bottom 1.10 m, sewer top 1.50 m: water 0.40 m above the sewer
    e = engine("require water above riool >= 0.46 m")
    [f] = found(e, section([W, R]))
    assert f.measured == pytest.approx(0.40) and f.required == pytest.approx(0.46) and f.kind == "clearance"
    assert f.message.startswith("w above r: vertical gap is 0.400 m")
    # the same pair the other way round is far from above: -(1.80 - 1.00)
    [g] = found(engine("require riool above water >= 0.46 m"), section([W, R]))
    assert g.measured == pytest.approx(-0.80)
    assert found(engine("require riool below water >= 0.40 m"), section([W, R])) == []


def test_beside_ignores_depth_and_never_judges_a_crossing() -> None:
    e = engine("require water beside riool >= 1.0 m")
    moved = dict(R, x=3.0)
    [f] = found(e, section([W, moved]))
    assert f.measured == pytest.approx(1.0 - 0.05 - 0.15)
    crossing = {"id": "c", "kind": "crossing", "network": "rioolVrijverval", "from": 0, "to": 6, "cover": [1.5, 1.8],
                "diameter": "150 mm"}
    assert found(e, section([W, crossing])) == []


def test_above_a_crossing_is_judged_where_it_passes() -> None:
    crossing = {"id": "c", "kind": "crossing", "network": "rioolVrijverval", "from": 0, "to": 4, "cover": [1.5, 1.9],
                "diameter": "150 mm"}
    e = engine("require water above riool >= 0.70 m")
    # under the water's axis (x = 2) the crossing's top is at 1.70 m; water bottom 1.10 m
    [f] = found(e, section([dict(W, x=2.0), crossing]))
    assert f.measured == pytest.approx(0.60) and f.subjects == ("c", "w")
    shallower = dict(W, x=2.0, cover=1.25)
    [g] = found(e, section([shallower, crossing]))
    assert g.measured == pytest.approx(1.70 - 1.35)
    assert found(e, section([dict(W, x=5.0), crossing])) == []  # the crossing stops at x = 4


def test_thresholds_take_the_subjects_dimensions() -> None:
    tree = {"id": "t", "kind": "tree", "x": 5.0, "diameter": "400 mm", "root_zone": {"radius": 1.5, "depth": 1.0}}
    e = engine("require clearance horizontal between tree (axis) and line (edge) >= root-radius of tree + 1.0 m")
    [f] = found(e, section([tree, dict(W, x=2.8)]))
    assert f.required == pytest.approx(2.5) and f.measured == pytest.approx(5.0 - 2.85)
    # a tree without a root zone is not judged, as an exclusion from its root zone is not
    bare = {k: v for k, v in tree.items() if k != "root_zone"}
    assert found(e, section([bare, dict(W, x=2.8)])) == []
    pairwise = engine("require clearance horizontal outside rack between line and line >= larger diameter + 0.1 m")
    [g] = found(pairwise, section([W, dict(R, x=2.4, cover=1.0)]))
    assert g.required == pytest.approx(0.4) and g.measured == pytest.approx(0.4 - 0.05 - 0.15)


def test_joined_relations_report_each_subject_set_once_for_the_first_that_fails() -> None:
    e = engine("require clearance horizontal between water and riool >= 1.0 m\n    and cover water >= 1.2 m")
    near = dict(R, x=2.5)
    fs = found(e, section([W, near]))
    assert [(f.subjects, f.kind) for f in fs] == [(("r", "w"), "clearance"), (("w",), "cover")]
    assert fs[1].rule_at.line != fs[0].rule_at.line  # the second relation points at itself


def test_a_geometric_exception_passes_silently_or_asks_approval() -> None:
    close = dict(R, x=2.4)  # 0.20 m beside, water 0.40 m above the sewer
    silent = engine("require water beside riool >= 3 m\n    unless water above riool >= 0.30 m and water beside riool")
    assert found(silent, section([W, close])) == []
    assert len(found(silent, section([W, dict(R, x=2.1)]))) == 1  # right over it: not beside
    approved = engine('require water beside riool >= 3 m\n    unless water above riool >= 0.30 m approved by "P"')
    [f] = found(approved, section([W, close]))
    assert f.severity == "warning" and dict(f.exception)["approval"] == "P" and "condition" in dict(f.exception)


def test_an_exception_judges_the_rows_own_objects_in_a_rack() -> None:
    rack = {"id": "k", "kind": "rack", "x": 2.0, "width": 0.6, "cover": 0.3, "height": 1.5, "sides": "single",
            "holds": ["w", "h"]}
    heat = {"id": "h", "network": "warmte", "x": 2.0, "cover": 1.3, "diameter": "100 mm"}
    e = engine("require clearance vertical inside rack between water and warmte >= 0.5 m\n"
               "    unless water above warmte >= 0.15 m")
    assert found(e, section([rack, W, heat])) == []  # 0.20 m above: the condition holds inside the rack too


def test_an_alternative_may_judge_some_of_the_objects() -> None:
    e = engine("require clearance horizontal between water and riool >= 1.0 m\n  otherwise cover water >= 0.9 m")
    assert found(e, section([W, dict(R, x=2.5)])) == []  # water at 1.0 m: the second alternative holds
    [f] = found(e, section([dict(W, cover=0.8), dict(R, x=2.5)]))
    assert f.subjects == ("r", "w") and f.kind == "clearance"
    # a shallow water pipe far from the sewer: judged with its (passing) pair, not on its own
    assert found(e, section([dict(W, cover=0.8), dict(R, x=5.0)])) == []


def test_strips_and_stacks_count_groups_not_zones() -> None:
    zones = [{"kind": "trottoir", "from": 0, "to": 1.8}, {"kind": "rijbaan", "from": 1.8, "to": 4}]
    cables = [{"id": f"k{n}", "network": "laagspanning", "x": x, "cover": 0.6 + 0.1 * (n % 2), "diameter": "50 mm"}
              for n, x in enumerate((1.65, 1.75, 1.85, 1.9))]
    strip = engine("require capacity in any 0.30 m strip: count of cable <= 3")
    [f] = found(strip, section(cables, 4.0, zones))
    assert f.subjects == ("k0", "k1", "k2", "k3") and f.measured == 4.0
    apart = [dict(c, x=0.5 * (n + 1)) for n, c in enumerate(cables)]
    assert found(strip, section(apart, 4.0, zones)) == []
    stack = engine("require capacity in any stack: count of line <= 1")
    on_top = [dict(W, x=1.0), {"id": "e", "network": "laagspanning", "x": 1.02, "cover": 0.5, "diameter": "50 mm"},
              {"id": "d", "network": "datatransport", "x": 1.5, "cover": 0.5, "diameter": "50 mm"}]
    [g] = found(stack, section(on_top))
    assert g.subjects == ("e", "w")


def test_one_definition_of_in_a_zone() -> None:
    zones = [{"kind": "trottoir", "from": 0, "to": 1.8}, {"kind": "rijbaan", "from": 1.8, "to": 4}]
    on_boundary = {"id": "l", "network": "laagspanning", "x": 1.8, "cover": 0.5, "diameter": "50 mm"}
    duct = {"id": "m", "network": "middenspanning", "x": 2.05, "cover": 0.8, "width": 0.6, "height": 0.15}
    s = section([on_boundary, duct], 4.0, zones)
    # by axis, a boundary belongs to the zone that starts there: selector and capacity agree
    assert [f.subjects for f in found(engine("require cover line[zone = rijbaan] >= 0.7 m"), s)] == [("l",)]
    assert found(engine("require capacity in rijbaan: count of line <= 1"), s)[0].subjects == ("l", "m")
    # touching, the duct bank reaching 0.25 m under the trottoir is in it
    assert found(engine("require capacity in trottoir touching: count of line <= 1"), s)[0].subjects == ("l", "m")
    assert found(engine("require capacity in trottoir: count of line <= 0"), s) == []
    # by extent, the duct bank lies in no zone: it is not within the rijbaan
    [f] = found(engine("require zone middenspanning within rijbaan by extent"), s)
    assert f.subjects == ("m",)


def test_the_facade_and_far_edge_are_references() -> None:
    e = engine("require clearance horizontal between facade and line >= 2.0 m",
               "require far-edge beside line (axis) >= 5.5 m")
    fs = found(e, section([dict(W, x=1.0)]))
    assert [(f.rule, f.subjects, round(f.measured or 0, 3)) for f in fs] == [("T-R0", ("w",), 0.95),
                                                                              ("T-R1", ("w",), 5.0)]
    assert "from the facade" in fs[0].message and "from the far edge" in fs[1].message


def test_rack_scopes() -> None:
    rack = {"id": "k", "kind": "rack", "x": 2.0, "width": 0.6, "cover": 0.3, "height": 1.5, "sides": "single",
            "holds": ["w", "h"]}
    heat = {"id": "h", "network": "warmte", "x": 2.0, "cover": 1.2, "diameter": "100 mm"}
    loose = {"id": "g", "network": "warmte", "x": 3.0, "cover": 1.0, "diameter": "100 mm"}
    s = section([rack, W, heat, loose])
    subjects = {racks: [f.subjects for f in found(engine(
        f"require clearance shortest {racks} between water and warmte >= 2 m"), s)]
        for racks in ("outside rack", "inside rack", "inside and outside rack")}
    assert subjects == {"outside rack": [("g", "w")], "inside rack": [("h", "w")],
                        "inside and outside rack": [("g", "w"), ("h", "w")]}
