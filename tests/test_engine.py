"""The engine: each relation on small sections, the 1 mm tolerance, overlaps, baseline."""

from __future__ import annotations

import pytest

from checker.engine.evaluate import Engine
from checker.io.loader import parse_case
from checker.model.findings import Finding
from dsl.packs import compose, load_packs
from dsl.parser import parse_pack
from tests.conftest import case_text

HEAD = 'pack t\n  title "T"\n  authority "A"\n  version "1"\ninclude imkl\n'


def engine(rules: str) -> Engine:
    imkl = load_packs(["imkl"]).packs
    return Engine(compose(imkl + (parse_pack(HEAD + rules, "t.rules"),)))


def rule(body: str, rid: str = "T-R", severity: str = "error") -> str:
    return f'rule {rid}\n  title "x"\n  severity {severity}\n  source "s"\n  {body}\n'


def run(rules: str, objects: str, extra: str = "", width: float = 6.0) -> list[Finding]:
    return engine(rules).evaluate(parse_case(case_text(objects, extra, width), "c.yaml"))


@pytest.mark.parametrize("cover, fails", [(0.6, False), (0.5995, False), (0.6005, False), (0.5985, True), (0.59, True)])
def test_cover_tolerance_is_one_millimetre(cover: float, fails: bool) -> None:
    found = run(rule("require cover water >= 0.60 m"), f"- {{id: w, network: water, x: 1, cover: {cover}, diameter: 0.1}}\n")
    assert bool(found) == fails
    if fails:
        assert found[0].measured == pytest.approx(cover) and found[0].shortfall == pytest.approx(0.6 - cover)


@pytest.mark.parametrize("offset, fails", [(0.0005, False), (-0.0005, False), (-0.0015, True), (0.0015, False)])
def test_clearance_tolerance_around_limit(offset: float, fails: bool) -> None:
    # edge gap = 0.5 - 0.1 - 0.1 = 0.3 + offset
    objects = (f"- {{id: a, network: gasLageDruk, x: 1.0, cover: 0.8, diameter: 0.2}}\n"
               f"- {{id: b, network: water, x: {1.5 + offset}, cover: 0.8, diameter: 0.2}}\n")
    found = run(rule("require clearance horizontal between gas and water >= 0.30 m"), objects)
    assert bool(found) == fails


def test_clearance_edge_versus_axis() -> None:
    objects = ("- {id: a, network: gasLageDruk, x: 1.0, cover: 0.8, diameter: 0.2}\n"
               "- {id: b, network: water, x: 1.45, cover: 0.8, diameter: 0.2}\n")
    edge = run(rule("require clearance horizontal between gas and water >= 0.30 m"), objects)
    axis = run(rule("require clearance axis horizontal between gas and water >= 0.30 m"), objects)
    assert [f.subjects for f in edge] == [("a", "b")] and edge[0].measured == pytest.approx(0.25)
    assert axis == []


def test_order_left_to_right_and_top_to_bottom() -> None:
    objects = ("- {id: t, network: datatransport, x: 1.0, cover: 0.6, diameter: 0.1}\n"
               "- {id: l, network: laagspanning, x: 0.5, cover: 0.6, diameter: 0.1}\n")
    found = run(rule("require order left-to-right: datatransport, laagspanning"), objects, width=6.0)
    assert [(f.kind, f.subjects, f.measured) for f in found] == [("order", ("l", "t"), None)]
    vertical = run(rule("require order top-to-bottom: laagspanning, datatransport"), objects)
    assert vertical  # same depth: laagspanning is not above datatransport


def test_overlap_always_reported_and_baseline_marked() -> None:
    objects = ("- {id: a, network: water, x: 1.0, cover: 1.0, diameter: 0.2, status: existing}\n"
               "- {id: b, network: water, x: 1.1, cover: 1.0, diameter: 0.2, status: existing}\n"
               "- {id: c, network: water, x: 3.0, cover: 1.0, diameter: 0.2}\n"
               "- {id: d, network: water, x: 3.1, cover: 1.0, diameter: 0.2}\n")
    found = run("", objects)
    assert [(f.kind, f.subjects, f.baseline) for f in found] == [("overlap", ("a", "b"), True),
                                                                  ("overlap", ("c", "d"), False)]
    assert found[1].measured == pytest.approx(-0.1)


def test_rack_contents_are_the_racks_business() -> None:
    objects = ("- {id: r, kind: rack, x: 1.0, width: 0.6, cover: 0.3, height: 0.9, holds: [a, b]}\n"
               "- {id: a, network: gasLageDruk, x: 1.0, cover: 0.5, diameter: 0.1}\n"
               "- {id: b, network: water, x: 1.0, cover: 0.7, diameter: 0.1}\n")
    plain = run(rule("require clearance between gas and water >= 0.30 m"), objects)
    inside = run(rule("require clearance inside rack between gas and water >= 0.30 m"), objects)
    assert plain == [] and [f.subjects for f in inside] == [("a", "b")]


def test_findings_are_deterministic() -> None:
    objects = "".join(f"- {{id: w{i}, network: water, x: {0.5 + i * 0.25}, cover: 0.5, diameter: 0.1}}\n" for i in range(8))
    rules = rule("require cover water >= 0.6 m", "T-A") + rule("require clearance between water and water >= 0.3 m", "T-B")
    first = [f.as_json() for f in run(rules, objects)]
    assert first == [f.as_json() for f in run(rules, objects)]
    assert [f["rule"] for f in first] == sorted(f["rule"] for f in first)


def test_planned_year_selects_rule_version() -> None:
    rules = (rule("valid to 2024-01-31\n  require cover water >= 0.6 m")
             + rule("valid from 2024-02-01\n  require cover water >= 0.8 m"))
    obj = "- {id: w, network: water, x: 1, cover: 0.7, diameter: 0.1}\n"
    assert run(rules, obj, extra="planned: 2023\n") == []
    assert [f.required for f in run(rules, obj, extra="planned: 2025\n")] == [pytest.approx(0.8)]
