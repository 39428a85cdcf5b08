"""Drawings: every shipped case renders; the SVG is read back and checked to scale within 1 mm."""

from __future__ import annotations

import functools
import io
import itertools
import math
import time
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
from checker.views.render import LABEL_SIZE, MAX_MARKED, _Labels, render_png, render_svg
from dsl.diagnostics import Span
from dsl.packs import load_packs
from dsl.safe_text import printable
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
    # a drawing, not a blank page: many colours and a good share of non-white pixels
    rgb = np.asarray(image.convert("RGB"), dtype=np.uint32)
    packed = (rgb[..., 0] << 16) | (rgb[..., 1] << 8) | rgb[..., 2]
    assert len(np.unique(packed)) > 20
    assert np.mean(packed != 0xFFFFFF) > 0.2


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


def test_measured_line_joins_the_two_bodies(engine: Engine) -> None:
    section, findings, svg = drawn("amsterdam-wallengebied", engine)
    s, x0, y0 = to_metres(svg)
    n = next(i for i, f in enumerate(findings, start=1) if f.rule == "NEN-CLR-GAS-WATER")
    mark = next(g for g in svg.iter(f"{NS}g") if g.get("class") == "finding" and g.get("data-index") == str(n))
    line = next(e for e in mark if e.get("class") == "finding-line")
    ends = [((float(line.get(f"x{k}", "nan")) - x0) / s, (float(line.get(f"y{k}", "nan")) - y0) / s) for k in (1, 2)]
    by_id = section.by_id()
    for (x, z), oid in zip(ends, ("gas-1", "w-1"), strict=True):
        o = by_id[oid]
        r = 0.5 * (o.diameter or 0.0)
        # the end lies on the circle's edge (the measured gap is edge to edge)
        assert math.hypot(x - o.x, z - (o.cover + r)) == pytest.approx(r, abs=MM)
    text = "".join(next(e for e in mark if e.get("class") == "finding-text").itertext())
    assert "0.208" in text and "0.300" in text


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


@pytest.mark.parametrize("name", ["nul\x00name", "ctrl\x01name", "esc\x1b]0;owned\x07", "c1\x9bname", "ff\ufffename"])
def test_control_characters_never_make_the_svg_malformed(name: str, engine: Engine) -> None:
    """A NUL or control character in a name made the SVG not well-formed XML and CairoSVG fail (exit 3).

    The loader refuses such names now; the drawing escapes them anyway, for sections built by code.
    """
    span = Span("<case>", 1, 1)
    obj = Obj(id=f"w-{name}", kind="pipe", network="water", owner=name, status="planned", x=1.0, cover=0.5,
              diameter=0.11, span=span)
    section = Section(path=f"{name}/case.yaml", name=name, width=3.0, zones=(Zone("trottoir", 0.0, 3.0, span),),
                      objects=(obj,), tags=(("municipality", name),))
    svg = render_svg(section, engine.evaluate(section), engine.packs)
    root = ET.fromstring(svg)  # well-formed
    assert printable(obj.id) in objects_by_id(root)  # shown as escapes
    assert Image.open(io.BytesIO(render_png(section, engine.evaluate(section), engine.packs))).size[0] > 100


@pytest.mark.parametrize("cover, diameter", [(99_000.0, 0.11), (1.0, 99_000.0), (3.0, 0.11), (12.0, 0.11)])
def test_the_depth_scale_has_few_ticks_at_any_depth(cover: float, diameter: float, engine: Engine) -> None:
    """A mistyped 99 km cover drew a tick every metre: a 16 MB SVG whose PNG did not finish in minutes."""
    span = Span("<case>", 1, 1)
    obj = Obj(id="w-1", kind="pipe", network="water", owner="Dunea", status="planned", x=1.0, cover=cover,
              diameter=diameter, span=span)
    section = Section(path="deep/case.yaml", name="deep", width=3.0, zones=(Zone("trottoir", 0.0, 3.0, span),),
                      objects=(obj,))
    findings = engine.evaluate(section)
    svg = render_svg(section, findings, engine.packs)
    ticks = [float(t.get("data-depth", "nan")) for t in ET.fromstring(svg).iter(f"{NS}line") if t.get("class") == "tick"]
    assert 3 <= len(ticks) <= 21 and len(svg) < 100_000
    assert ticks[0] == 0.0 and ticks[-1] >= obj.bottom - (ticks[1] - ticks[0])
    steps = {round(b - a, 9) for a, b in itertools.pairwise(ticks)}
    assert len(steps) == 1  # evenly spaced, no drift from adding the step up
    assert Image.open(io.BytesIO(render_png(section, findings, engine.packs))).size[0] > 100


def test_labels_of_thousands_of_objects_are_placed_through_a_grid(engine: Engine) -> None:
    """Each label was tested against every label before it: 1,000 objects took 20 s, 5,000 minutes."""
    span = Span("<case>", 1, 1)
    objs = tuple(Obj(id=f"o{i}", kind="cable", network="datatransport", owner="KPN", status="planned",
                     x=0.25 + 0.5 * i, cover=0.6, diameter=0.05, span=span) for i in range(4000))
    section = Section(path="many/case.yaml", name="many", width=2000.0,
                      zones=(Zone("trottoir", 0.0, 2000.0, span),), objects=objs)
    started = time.monotonic()
    svg = ET.fromstring(render_svg(section, [], engine.packs))
    assert time.monotonic() - started < 60
    assert sum(1 for g in svg.iter(f"{NS}g") if g.get("class") == "label") == len(objs)


def test_label_grid_places_as_testing_every_label_did() -> None:
    rng = np.random.default_rng(19)
    grid, boxes, placed = _Labels(), [], []
    for _ in range(1500):
        x, y = float(rng.uniform(-50, 900)), float(rng.uniform(-50, 400))
        text = "w" * int(rng.integers(1, 30))
        placed.append(grid.place(x, y, text))
        w, h = 0.56 * LABEL_SIZE * len(text), LABEL_SIZE + 2
        for step in range(60):  # the placement before the grid, written out
            ty = y + step * h
            box = (x, ty - LABEL_SIZE, x + w, ty + 2)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in boxes):
                boxes.append(box)
                break
        else:
            ty = y
            boxes.append((x, y - LABEL_SIZE, x + w, y + 2))
        assert placed[-1] == (x, ty)


def test_a_drawing_marks_at_most_max_marked_findings_and_says_how_many_more(engine: Engine) -> None:
    """300 identical pipes make 90,000 findings: marking each took minutes and 80 MB of SVG."""
    span = Span("<case>", 1, 1)
    objs = tuple(Obj(id=f"w-{i}", kind="pipe", network="water", owner="Dunea", status="planned", x=1.0, cover=1.0,
                     diameter=0.11, span=span) for i in range(60))
    section = Section(path="same/case.yaml", name="same", width=3.0, zones=(Zone("trottoir", 0.0, 3.0, span),),
                      objects=objs)
    findings = engine.evaluate(section)
    assert len(findings) > MAX_MARKED
    started = time.monotonic()
    svg = ET.fromstring(render_svg(section, findings, engine.packs))
    assert time.monotonic() - started < 30
    marks = [g for g in svg.iter(f"{NS}g") if g.get("class") == "finding"]
    entries = [g for g in svg.iter(f"{NS}g") if g.get("class") == "index-entry"]
    assert [int(g.get("data-index", "0")) for g in marks] == list(range(1, MAX_MARKED + 1))
    assert [g.get("data-rule") for g in entries] == [f.rule for f in findings[:MAX_MARKED]]
    rest = [t for t in svg.iter(f"{NS}text") if t.get("class") == "findings-not-drawn"]
    assert len(rest) == 1 and int(rest[0].get("data-count", "0")) == len(findings) - MAX_MARKED
