"""Drawings: every shipped case renders; the SVG is read back and checked to scale within 1 mm."""

from __future__ import annotations

import functools
import io
import itertools
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from checker.cli import run
from checker.engine.evaluate import Engine
from checker.io.loader import load_case
from checker.model.findings import Finding
from checker.model.section import Obj, Section, Zone
from checker.views.render import render_png, render_svg
from dsl.diagnostics import Span
from dsl.packs import load_packs
from tests.conftest import ROOT

NS = "{http://www.w3.org/2000/svg}"
CASES = sorted(p.parent.name for p in (ROOT / "cases").glob("*/case.yaml"))
MM = 0.001


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_packs([]))


@functools.cache
def checked(case: str, engine: Engine) -> tuple[Section, list[Finding]]:
    section = load_case(ROOT / "cases" / case)
    return section, engine.evaluate(section)


def drawn(case: str, engine: Engine, show_findings: bool = True) -> tuple[Section, list[Finding], ET.Element]:
    section, findings = checked(case, engine)
    return section, findings, ET.fromstring(render_svg(section, findings, engine.packs, show_findings))


def objects_by_id(svg: ET.Element) -> dict[str, ET.Element]:
    return {g.get("data-id", ""): g for g in svg.iter(f"{NS}g") if "object" in (g.get("class") or "").split()}


def body(g: ET.Element) -> ET.Element:
    return next(e for e in g if "body" in (e.get("class") or "").split())


def to_metres(svg: ET.Element) -> tuple[float, float, float]:
    return float(svg.get("data-scale", "0")), float(svg.get("data-x0", "0")), float(svg.get("data-y0", "0"))


def test_every_shipped_case_is_checked_here() -> None:
    assert len(CASES) >= 9


@pytest.mark.parametrize("case", CASES)
def test_case_renders_to_svg_and_png(case: str, engine: Engine) -> None:
    section, findings, svg = drawn(case, engine)
    assert svg.tag == f"{NS}svg"
    png = render_png(section, findings, engine.packs)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    assert image.width == pytest.approx(1.5 * float(svg.get("width", "0")), abs=1)
    # a drawing, not a blank page: many colours and a good share of non-white pixels (labels and details need room)
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    assert len(np.unique(packed)) > 20
    assert np.mean(packed != 0xFFFFFF) > 0.12


@pytest.mark.parametrize("case", CASES)
def test_objects_are_drawn_to_scale_in_their_colours(case: str, engine: Engine) -> None:
    section, _, svg = drawn(case, engine)
    s, x0, y0 = to_metres(svg)
    groups = objects_by_id(svg)
    assert set(groups) == {o.id for o in section.objects}
    for o in section.objects:
        g = groups[o.id]
        assert g.get("data-kind") == o.kind
        assert float(g.get("data-x", "nan")) == pytest.approx(o.x, abs=MM)
        assert float(g.get("data-cover", "nan")) == pytest.approx(o.cover, abs=MM)
        if o.network is not None:
            colour = engine.packs.themas[o.network].colour
            assert g.get("data-network") == o.network
            assert g.get("data-colour") == colour
        if o.kind == "tree":
            assert o.root_radius is not None and o.root_depth is not None
            zone = next(e for e in g if e.get("class") == "root-zone")
            assert (float(zone.get("x", "nan")) - x0) / s == pytest.approx(o.x - o.root_radius, abs=MM)
            assert float(zone.get("width", "nan")) / s == pytest.approx(2 * o.root_radius, abs=MM)
            assert (float(zone.get("y", "nan")) - y0) / s == pytest.approx(0.0, abs=MM)
            assert float(zone.get("height", "nan")) / s == pytest.approx(o.root_depth, abs=MM)
            continue
        shape = body(g)
        if o.network is not None and o.kind != "reservation":
            assert shape.get("fill") == engine.packs.themas[o.network].colour
        if o.kind == "crossing":
            points = [tuple(float(v) for v in p.split(",")) for p in shape.get("points", "").split()]
            metres = [((px - x0) / s, (py - y0) / s) for px, py in points]
            end_cover = o.cover_end if o.cover_end is not None else o.cover
            expected = [(o.start, o.cover), (o.end, end_cover), (o.end, end_cover + (o.diameter or 0)),
                        (o.start, o.cover + (o.diameter or 0))]
            for (mx, mz), (ex, ez) in zip(metres, expected, strict=True):
                assert mx == pytest.approx(ex, abs=MM) and mz == pytest.approx(ez, abs=MM)
        elif o.round:
            r = 0.5 * (o.diameter or 0.0)
            assert (float(shape.get("cx", "nan")) - x0) / s == pytest.approx(o.x, abs=MM)
            assert (float(shape.get("cy", "nan")) - y0) / s == pytest.approx(o.cover + r, abs=MM)
            assert float(shape.get("r", "nan")) / s == pytest.approx(r, abs=MM)
        else:
            assert (float(shape.get("x", "nan")) - x0) / s == pytest.approx(o.x - o.half_width, abs=MM)
            assert (float(shape.get("y", "nan")) - y0) / s == pytest.approx(o.cover, abs=MM)
            assert float(shape.get("width", "nan")) / s == pytest.approx(2 * o.half_width, abs=MM)
            assert float(shape.get("height", "nan")) / s == pytest.approx(o.body_height, abs=MM)


@pytest.mark.parametrize("case", CASES)
def test_zones_width_and_depth_scale(case: str, engine: Engine) -> None:
    section, _, svg = drawn(case, engine)
    s, x0, _ = to_metres(svg)
    zones = [g for g in svg.iter(f"{NS}g") if g.get("class") == "zone"]
    assert [(g.get("data-kind"), float(g.get("data-from", "nan")), float(g.get("data-to", "nan"))) for g in zones] == \
        [(z.kind, pytest.approx(z.start, abs=MM), pytest.approx(z.end, abs=MM)) for z in section.zones]
    assert [t.text for z in zones for t in z.iter(f"{NS}text")] == [z.kind for z in section.zones]
    profile = next(g for g in svg.iter(f"{NS}g") if g.get("data-of") == "profile")
    line = next(profile.iter(f"{NS}line"))
    assert (float(line.get("x2", "nan")) - x0) / s == pytest.approx(section.width, abs=MM)
    assert (float(line.get("x1", "nan")) - x0) / s == pytest.approx(0.0, abs=MM)
    ticks = [float(t.get("data-depth", "nan")) for t in svg.iter(f"{NS}line") if t.get("class") == "tick"]
    assert ticks[0] == 0.0 and ticks[-1] >= max(o.bottom for o in section.objects)
    assert sum(1 for _ in svg.iter(f"{NS}line") if _.get("class") == "maaiveld") == 1


def test_existing_objects_are_drawn_apart_from_planned(engine: Engine) -> None:
    section, _, svg = drawn("amsterdam-wallengebied", engine)
    groups = objects_by_id(svg)
    statuses = {o.id: o.status for o in section.objects if o.kind in ("cable", "pipe")}
    assert set(statuses.values()) == {"planned", "existing"}
    for oid, status in statuses.items():
        shape = body(groups[oid])
        assert groups[oid].get("data-status") == status
        assert (shape.get("stroke-dasharray") is not None) == (status == "existing")
        assert float(shape.get("fill-opacity", "1")) < 0.5 if status == "existing" else float(shape.get("fill-opacity", "1")) > 0.8


@pytest.mark.parametrize("case", CASES)
def test_findings_are_numbered_as_in_the_list(case: str, engine: Engine) -> None:
    section, findings, svg = drawn(case, engine)
    marks = [g for g in svg.iter(f"{NS}g") if g.get("class") == "finding"]
    index = [g for g in svg.iter(f"{NS}g") if g.get("class") == "index-entry"]
    ids = section.by_id()
    drawable = [f for f in findings if any(s in ids for s in f.subjects)]
    assert [int(g.get("data-index", "0")) for g in index] == list(range(1, len(findings) + 1))
    assert [g.get("data-rule") for g in index] == [f.rule for f in findings]
    assert [g.get("data-rule") for g in marks] == [f.rule for f in drawable]
    for g, f in zip(marks, drawable, strict=True):
        lines = [e for e in g if e.get("class") == "finding-line"]
        outlines = [e for e in g if e.get("class") == "finding-outline"]
        if len(f.subjects) == 2:
            assert len(lines) == 1 and not outlines
        else:
            assert not lines and {e.get("data-id") for e in outlines} == set(f.subjects)
    _, _, clean = drawn(case, engine, show_findings=False)
    assert not [g for g in clean.iter(f"{NS}g") if g.get("class") in ("finding", "index-entry")]


def _line_metres(line: ET.Element, s: float, x0: float, y0: float) -> list[tuple[float, float]]:
    return [((float(line.get(f"x{k}", "nan")) - x0) / s, (float(line.get(f"y{k}", "nan")) - y0) / s) for k in (1, 2)]


def test_a_horizontal_clearance_is_a_horizontal_line_between_the_faces(engine: Engine) -> None:
    section, findings, svg = drawn("amsterdam-wallengebied", engine)
    s, x0, y0 = to_metres(svg)
    n = next(i for i, f in enumerate(findings, start=1) if f.rule == "NEN-CLR-GAS-WATER")
    mark = next(g for g in svg.iter(f"{NS}g") if g.get("class") == "finding" and g.get("data-index") == str(n))
    line = next(e for e in mark if e.get("class") == "finding-line")
    (xa, za), (xb, zb) = _line_metres(line, s, x0, y0)
    gas, water = section.by_id()["gas-1"], section.by_id()["w-1"]
    assert za == pytest.approx(zb, abs=MM)  # horizontal, not the diagonal between the centres
    assert sorted((xa, xb)) == [pytest.approx(gas.x + gas.diameter / 2, abs=MM), pytest.approx(water.x - water.diameter / 2, abs=MM)]
    assert abs(xb - xa) == pytest.approx(findings[n - 1].measured, abs=MM)
    # the two bodies do not reach the line's depth: an extension line joins each face to it
    extensions = [_line_metres(e, s, x0, y0) for e in mark if e.get("class") == "finding-extension"]
    assert len(extensions) == 2
    for (ex1, ez1), (ex2, ez2) in extensions:
        assert ex1 == pytest.approx(ex2, abs=MM) and ez2 == pytest.approx(za, abs=MM)
        o = gas if abs(ex1 - gas.x) < abs(ex1 - water.x) else water
        assert ez1 == pytest.approx(o.cover + o.diameter / 2, abs=MM)  # the side of the circle, at its centre depth
    text = "".join(next(e for e in mark if e.get("class") == "finding-text").itertext())
    assert "0.208" in text and "0.300" in text


@pytest.mark.parametrize("case", CASES)
def test_every_clearance_is_drawn_along_its_plane_at_its_measured_length(case: str, engine: Engine) -> None:
    _, findings, svg = drawn(case, engine)
    frames = {"main": to_metres(svg)} | {f"detail-{g.get('data-detail')}": to_metres(g)
                                         for g in svg.iter(f"{NS}g") if g.get("class") == "detail"}
    marks = {int(g.get("data-index", "0")): g for g in svg.iter(f"{NS}g") if g.get("class") == "finding"}
    checked = 0
    for n, f in enumerate(findings, start=1):
        if f.kind == "exclusion" and n in marks and f.measured is not None and f.measured < 0:
            # inside a root zone or reservation: the line is the shortest way out, as long as the finding says
            line = next(e for e in marks[n] if e.get("class") == "finding-line")
            (xa, za), (xb, zb) = _line_metres(line, *frames[marks[n].get("data-frame", "main")])
            assert math.hypot(xb - xa, zb - za) == pytest.approx(-f.measured, abs=MM), f.rule
            assert xa == pytest.approx(xb, abs=MM) or za == pytest.approx(zb, abs=MM)
            checked += 1
            continue
        plane = f.message.split(" clearance (")[0] if " clearance (" in f.message else None
        if f.kind != "clearance" or plane not in ("horizontal", "vertical") or n not in marks:
            continue
        line = next(e for e in marks[n] if e.get("class") == "finding-line")
        (xa, za), (xb, zb) = _line_metres(line, *frames[marks[n].get("data-frame", "main")])
        if plane == "horizontal":
            assert za == pytest.approx(zb, abs=MM) and abs(xb - xa) == pytest.approx(abs(f.measured), abs=MM), f.rule
        else:
            assert xa == pytest.approx(xb, abs=MM) and abs(zb - za) == pytest.approx(abs(f.measured), abs=MM), f.rule
        checked += 1
    assert checked >= {"amsterdam-wallengebied": 3, "denhaag-bomenbuurt": 3, "leiden-vkls": 2}.get(case, 0)


NUTSSTROOK = """\
ligging: 1
name: nutsstrook van 2 m
width: 8.0
zones:
  - {kind: trottoir, from: 0, to: 2.0}
  - {kind: rijbaan, from: 2.0, to: 8.0}
objects:
  - {id: kpn-1, network: datatransport, owner: KPN, x: 0.25, cover: 0.60, diameter: 50 mm}
  - {id: ziggo-1, network: datatransport, owner: Ziggo, x: 0.45, cover: 0.60, diameter: 50 mm}
  - {id: ls-1, network: laagspanning, owner: Liander, x: 0.70, cover: 0.60, diameter: 50 mm}
  - {id: ls-2, network: laagspanning, owner: Liander, x: 0.85, cover: 0.70, diameter: 50 mm}
  - {id: gas-1, network: gasLageDruk, owner: Liander, x: 1.10, cover: 0.60, diameter: 110 mm}
  - {id: w-1, network: water, owner: Vitens, x: 1.45, cover: 1.00, diameter: 110 mm}
  - {id: ms-1, network: middenspanning, owner: Liander, x: 1.80, cover: 0.80, diameter: 70 mm}
"""


def _label_boxes(svg: ET.Element) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Return each upright lane label's box (x from, x to, y from, y to) in px, by object id."""
    out = []
    for g in svg.iter(f"{NS}g"):
        if g.get("class") != "label":
            continue
        text = next(g.iter(f"{NS}text"))
        x, y = float(text.get("x", "nan")), float(text.get("y", "nan"))
        length = 0.6 * 9 * len("".join(text.itertext()))
        if "rotate(-90" in (text.get("transform") or ""):
            out.append((g.get("data-id", ""), (x - 8.0, x + 0.5, y, y + length)))
        else:
            out.append((g.get("data-id", ""), (x, x + length, y - 8.0, y + 2.0)))
    return out


def test_labels_in_a_two_metre_nutsstrook_touch_neither_each_other_nor_anything_drawn(engine: Engine) -> None:
    from checker.io.loader import parse_case

    section = parse_case(NUTSSTROOK, "nutsstrook.yaml")
    svg = ET.fromstring(render_svg(section, engine.evaluate(section), engine.packs))
    s, x0, y0 = to_metres(svg)
    boxes = _label_boxes(svg)
    assert {oid for oid, _ in boxes} == {o.id for o in section.objects}
    for (_, a), (_, b) in itertools.combinations(boxes, 2):
        assert not (a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]), (a, b)
    soil_bottom = y0 + float(svg.get("data-depth", "0")) * s
    for oid, (_, _, top, _) in boxes:
        assert top > soil_bottom, f"label of {oid} lies in the section"
    # each label hangs on a leader that starts at its own object's underside
    leaders = {e.get("data-id"): e for e in svg.iter(f"{NS}polyline") if e.get("class") == "leader"}
    for o in section.objects:
        first = leaders[o.id].get("points", "").split()[0].split(",")
        assert (float(first[0]) - x0) / s == pytest.approx(o.x, abs=MM)
        assert (float(first[1]) - y0) / s == pytest.approx(o.bottom, abs=MM)


@pytest.mark.parametrize("case", CASES)
def test_finding_badges_and_texts_do_not_overlap(case: str, engine: Engine) -> None:
    _, _, svg = drawn(case, engine)
    badges = [(float(c.get("cx", "nan")), float(c.get("cy", "nan"))) for g in svg.iter(f"{NS}g") if g.get("class") == "finding"
              for c in g.iter(f"{NS}circle") if c.get("class") == "badge"]
    for a, b in itertools.combinations(badges, 2):
        assert math.dist(a, b) >= 14 - 1e-6, (a, b)
    texts = [(float(e.get("x", "nan")), float(e.get("y", "nan")), 0.6 * 9 * len("".join(e.itertext())))
             for e in svg.iter(f"{NS}text") if e.get("class") == "finding-text"]
    for (xa, ya, wa), (xb, yb, wb) in itertools.combinations(texts, 2):
        assert not (xa < xb + wb and xb < xa + wa and abs(ya - yb) < 10), ((xa, ya), (xb, yb))


def test_the_rack_is_drawn_again_tier_by_tier_with_every_held_line_labelled(engine: Engine) -> None:
    section, _, svg = drawn("leiden-vkls", engine)
    rack = section.by_id()["vkls-1"]
    (detail,) = [g for g in svg.iter(f"{NS}g") if g.get("class") == "detail"]
    s, x0, y0 = to_metres(detail)
    assert s > 2 * to_metres(svg)[0]  # larger than the section
    drawn_again = {g.get("data-id"): g for g in detail.iter(f"{NS}g") if "detail-object" in (g.get("class") or "").split()}
    assert set(drawn_again) == {rack.id, *rack.holds}
    for oid in rack.holds:
        o = section.by_id()[oid]
        circle = body(drawn_again[oid])
        assert (float(circle.get("cx", "nan")) - x0) / s == pytest.approx(o.x, abs=MM)
        assert (float(circle.get("cy", "nan")) - y0) / s == pytest.approx(o.cover + o.diameter / 2, abs=MM)
    labels = {g.get("data-id") for g in detail.iter(f"{NS}g") if g.get("class") == "label"}
    assert labels == set(rack.holds)
    tiers = ["".join(e.itertext()) for e in detail.iter(f"{NS}text") if e.get("class") == "tier-name"]
    assert [t.split(":")[0] for t in tiers] == ["laag 1", "laag 2", "laag 3", "laag 4", "laag 5"]
    assert "water" in tiers[2] and "gasLageDruk" in tiers[3]  # this case's water tier lies above gas
    # findings among the rack's own lines are drawn in the detail, the crossing over it in the section
    frames = {g.get("data-rule"): g.get("data-frame") for g in svg.iter(f"{NS}g") if g.get("class") == "finding"}
    assert frames["VKLS-ORDER"] == "detail-A" and frames["VKLS-KRUISEN"] == "main"


def test_baseline_and_accepted_findings_are_drawn_as_such(engine: Engine) -> None:
    _, findings, svg = drawn("amsterdam-wallengebied", engine)
    marks = {int(g.get("data-index", "0")): g for g in svg.iter(f"{NS}g") if g.get("class") == "finding"}
    states = set()
    for n, f in enumerate(findings, start=1):
        expected = "baseline" if f.baseline else "accepted" if dict(f.accepted).get("state") == "accepted" else "open"
        states.add(expected)
        assert marks[n].get("data-state") == expected
        badge = next(c for c in marks[n].iter(f"{NS}circle") if c.get("class") == "badge")
        assert badge.get("fill") == {"open": "#e00000", "baseline": "#8a8a8a", "accepted": "#2e7d32"}[expected]
    assert states == {"open", "baseline", "accepted"}
    index = [g for g in svg.iter(f"{NS}g") if g.get("class") == "index-entry"]
    accepted = next(g for g in index if g.get("data-state") == "accepted")
    assert "approved by" in "".join(accepted.itertext())


def test_rack_has_tiers_and_cover_plate(engine: Engine) -> None:
    section, _, svg = drawn("leiden-vkls", engine)
    s, _, y0 = to_metres(svg)
    rack = objects_by_id(svg)["vkls-1"]
    plate = [e for e in rack if e.get("class") == "cover-plate"]
    assert len(plate) == 1
    assert (float(plate[0].get("y1", "nan")) - y0) / s == pytest.approx(section.by_id()["vkls-1"].cover, abs=0.03)
    # five tier levels held (telecom, electricity, water, gas, heat): four separators
    assert len([e for e in rack if e.get("class") == "tier"]) == 4


def test_reservation_is_hatched_in_its_thema_colour(engine: Engine) -> None:
    _, _, svg = drawn("rotterdam-stadsboulevard", engine)
    shape = body(objects_by_id(svg)["res-warmte"])
    pattern_id = shape.get("fill", "")[len("url(#"):-1]
    pattern = next(p for p in svg.iter(f"{NS}pattern") if p.get("id") == pattern_id)
    assert next(pattern.iter(f"{NS}line")).get("stroke") == engine.packs.themas["warmte"].colour


def test_every_climate_body_is_in_the_legend_in_the_colour_it_is_drawn_in(engine: Engine) -> None:
    section, _, svg = drawn("tilburg-binnenstad-waterberging", engine)
    legend = next(g for g in svg.iter(f"{NS}g") if g.get("class") == "legend")
    entries = {"".join(e.itertext()): next(e.iter(f"{NS}rect")).get("fill") for e in legend.iter(f"{NS}g")
               if e.get("class") == "legend-entry" and any(True for _ in e.iter(f"{NS}rect"))}
    climate = {o.kind: o.id for o in section.objects if o.kind in ("infiltration", "wadi", "tree-soil")}
    assert len(climate) == 3, "the case no longer shows every climate kind; pick another"
    for kind, oid in climate.items():
        drawn_in = body(objects_by_id(svg)[oid]).get("fill")
        assert entries.get(next(name for name in entries if f"({kind})" in name)) == drawn_in


HOSTILE = "<script>alert(1)</script>"


def test_hostile_text_is_escaped(engine: Engine) -> None:
    span = Span("<case>", 1, 1)
    obj = Obj(id='x"><img src=x onerror=alert(1)>', kind="pipe", network="water", owner=HOSTILE, status="planned",
              x=1.0, cover=0.5, diameter=0.11, span=span)
    section = Section(path="hostile/case.yaml", name=HOSTILE, width=3.0, zones=(Zone("<b>zone</b>", 0.0, 3.0, span),),
                      objects=(obj,), tags=(("municipality", HOSTILE),))
    finding = Finding(rule="<R&D>", pack="p", severity="error", kind="cover", subjects=(obj.id,), measured=0.5,
                      required=0.6, op=">=", unit="m", message=HOSTILE, source=HOSTILE, rule_at=span, case_at=span,
                      baseline=False)
    text = render_svg(section, [finding], engine.packs)
    assert "<script" not in text and "<img" not in text and "<b>" not in text
    svg = ET.fromstring(text)
    assert not list(svg.iter(f"{NS}script")) and not list(svg.iter(f"{NS}img"))
    assert HOSTILE in "".join(next(e for e in svg.iter(f"{NS}text") if e.get("class") == "case-name").itertext())
    assert objects_by_id(svg)[obj.id].get("data-id") == obj.id
    assert any(g.get("data-rule") == "<R&D>" for g in svg.iter(f"{NS}g"))


def ligging(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the command line in-process; return its exit code and stderr."""
    with pytest.raises(SystemExit) as exit_info:
        run(list(args))
    return int(exit_info.value.code or 0), capsys.readouterr().err


def test_render_command(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    svg_file, png_file = tmp_path / "d.svg", tmp_path / "d.png"
    assert ligging(capsys, "render", "cases/leiden-vkls", "-o", str(svg_file))[0] == 0
    assert ET.parse(svg_file).getroot().tag == f"{NS}svg"
    assert ligging(capsys, "render", "cases/leiden-vkls", "-o", str(png_file), "--no-findings")[0] == 0
    assert png_file.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    code, err = ligging(capsys, "render", "cases/leiden-vkls", "-o", str(tmp_path / "d.pdf"))
    assert code == 2 and err.count("\n") == 1 and err.startswith(f"ligging: {tmp_path / 'd.pdf'}:1:1:")
    code, err = ligging(capsys, "render", "cases", "-o", str(svg_file))
    assert code == 2 and err.startswith("ligging: cases:1:1:")
