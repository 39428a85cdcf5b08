"""DXF export and import: audit-clean drawings, coloured thema layers, lossless round trips, scaled drawings."""

from __future__ import annotations

from pathlib import Path

import ezdxf
import pytest
from ezdxf.math import Matrix44

from checker.cli import run
from checker.io.dxf import (
    APP,
    KIND_LAYERS,
    LAYER_ZONES,
    TITLE_BLOCK,
    TITLE_ROW,
    audit_errors,
    build_drawing,
    export_dxf,
    import_dxf,
    write_case,
)
from checker.io.loader import load_case
from checker.model.section import THEMAS, Obj, Section
from dsl.diagnostics import LiggingError
from dsl.packs import PackSet, load_packs
from tests.conftest import ROOT

CASES = sorted(p.parent.name for p in (ROOT / "cases").glob("*/case.yaml"))
MM = 0.001
GEOMETRY = ("x", "cover", "diameter", "width", "height", "start", "end", "cover_end", "root_radius", "root_depth")


@pytest.fixture(scope="module")
def packs() -> PackSet:
    return load_packs([])


def ligging(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the CLI in-process from the repository root; return (exit code, stderr)."""
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        with pytest.raises(SystemExit) as ended:
            run(list(args))
    return int(ended.value.code or 0), capsys.readouterr().err


def assert_same_geometry(a: Obj, b: Obj) -> None:
    assert (a.id, a.kind, a.network) == (b.id, b.kind, b.network)
    for name in GEOMETRY:
        va, vb = getattr(a, name), getattr(b, name)
        assert (va is None) == (vb is None), (a.id, name)
        if va is not None:
            assert abs(va - vb) <= MM, (a.id, name, va, vb)


def assert_same_section(original: Section, back: Section, *, metadata: bool = True) -> None:
    assert abs(original.width - back.width) <= MM
    assert [z.kind for z in original.zones] == [z.kind for z in back.zones]
    for za, zb in zip(original.zones, back.zones, strict=True):
        assert abs(za.start - zb.start) <= MM and abs(za.end - zb.end) <= MM
    assert [o.id for o in original.objects] == [o.id for o in back.objects]
    for a, b in zip(original.objects, back.objects, strict=True):
        assert_same_geometry(a, b)
        assert sorted(a.holds) == sorted(b.holds)
        if metadata:
            assert (a.owner, a.status, a.measures, a.sides) == (b.owner, b.status, b.measures, b.sides)
            assert [k for k, _ in a.attributes] == [k for k, _ in b.attributes]
            for (_, va), (_, vb) in zip(a.attributes, b.attributes, strict=True):
                assert va == pytest.approx(vb, rel=1e-9) if isinstance(va, float) else va == vb


@pytest.mark.parametrize("name", CASES)
def test_round_trip_reproduces_every_case(name: str, packs: PackSet, tmp_path: Path) -> None:
    original = load_case(ROOT / "cases" / name)
    drawing = tmp_path / f"{name}.dxf"
    export_dxf(original, packs, drawing)
    assert audit_errors(ezdxf.readfile(drawing)) == []
    out = tmp_path / "case.yaml"
    write_case(import_dxf(drawing), out)
    back = load_case(out)
    assert back.name == original.name and back.planned == original.planned
    assert_same_section(original, back)


@pytest.mark.parametrize("name", ["leiden-vkls", "denhaag-bomenbuurt", "rotterdam-stadsboulevard"])
def test_plain_cad_drawing_without_xdata_imports_from_layers_and_texts(name: str, packs: PackSet, tmp_path: Path) -> None:
    """A drawing stripped of ligging's XDATA (as a CAD user might redraw it) still yields ids, kinds, positions, holds."""
    original = load_case(ROOT / "cases" / name)
    doc = build_drawing(original, packs)
    for entity in doc.modelspace():
        entity.discard_xdata(APP)
    drawing = tmp_path / "plain.dxf"
    doc.saveas(drawing)
    out = tmp_path / "case.yaml"
    write_case(import_dxf(drawing), out)
    back = load_case(out)
    for a, b in zip(original.objects, back.objects, strict=True):
        if a.kind == "reservation":  # a reservation's network lives only in XDATA
            a = Obj(**{**{s: getattr(a, s) for s in Obj.__slots__}, "network": None})
        if a.kind == "crossing" and (a.end or 0.0) - (a.start or 0.0) < 1.0 and a.cover == a.cover_end:
            continue  # a short, flat house connection is drawn like a bed; only XDATA tells them apart
        if a.connects is not None or a.built is not None or a.claim is not None:
            a = Obj(**{**{s: getattr(a, s) for s in Obj.__slots__}, "connects": None, "built": None, "claim": None,
                       "likelihood": None, "disused": None, "removed": None})
        assert_same_geometry(a, b)
        assert sorted(a.holds) == sorted(b.holds)


def test_millimetre_drawing_with_offset_origin_imports_with_scale_and_origin(packs: PackSet, tmp_path: Path,
                                                                            capsys: pytest.CaptureFixture[str]) -> None:
    original = load_case(ROOT / "cases" / "leiden-vkls-conform")
    doc = build_drawing(original, packs)
    msp = doc.modelspace()
    for ref in msp.query(f"INSERT[name=='{TITLE_BLOCK}']"):
        msp.delete_entity(ref)
    doc.header.custom_vars.clear()
    doc.units = ezdxf.units.MM
    move = Matrix44.chain(Matrix44.scale(1000.0, 1000.0, 1.0), Matrix44.translate(155_000.0, 463_000.0, 0.0))
    for entity in msp:
        entity.transform(move)
    drawing = tmp_path / "mm.dxf"
    doc.saveas(drawing)
    out = tmp_path / "case.yaml"
    code, err = ligging(capsys, "import", str(drawing), "-o", str(out), "--scale", "0.001", "--origin", "155000,463000")
    assert code == 0, err
    assert_same_section(original, load_case(out))
    # without --origin the same drawing lands 155 m further into the street
    shifted = import_dxf(drawing, scale=MM)
    assert shifted["objects"][0]["x"] == pytest.approx(155.0 + original.objects[0].x, abs=MM)


def test_thema_layers_carry_the_pmkl_colours(packs: PackSet) -> None:
    doc = build_drawing(load_case(ROOT / "cases" / "amsterdam-wallengebied"), packs)
    for thema in THEMAS:
        layer = doc.layers.get(thema)
        colour = packs.themas[thema].colour.lstrip("#")
        assert layer.rgb == (int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16))
    assert {LAYER_ZONES, *KIND_LAYERS.values()} <= {layer.dxf.name for layer in doc.layers}


def test_objects_are_circles_and_rectangles_with_id_texts(packs: PackSet) -> None:
    section = load_case(ROOT / "cases" / "amsterdam-wallengebied")
    doc = build_drawing(section, packs)
    msp = doc.modelspace()
    circles = {(c.dxf.layer, round(c.dxf.center.x, 4), round(c.dxf.center.y, 4)) for c in msp.query("CIRCLE")}
    w1 = section.by_id()["w-1"]
    assert ("water", w1.x, round(-(w1.cover + 0.5 * (w1.diameter or 0)), 4)) in circles
    texts = {t.dxf.text for t in msp.query("TEXT")}
    assert {o.id for o in section.objects} <= texts
    ms1 = section.by_id()["ms-1"]
    (bed,) = [p for p in msp.query("LWPOLYLINE") if p.dxf.layer == "middenspanning"]
    xs = sorted({round(p[0], 6) for p in bed.get_points("xy")})
    assert bed.closed and xs == [round(ms1.x - 0.15, 6), round(ms1.x + 0.15, 6)]
    (title,) = msp.query(f"INSERT[name=='{TITLE_BLOCK}']")
    values = {a.dxf.tag: a.dxf.text for a in title.attribs}
    assert values["NAME"] == section.name and float(values["WIDTH"]) == section.width
    assert values["SCALE"] == "1" and values["ORIGIN"] == "0,0" and values["ZONES"].startswith("trottoir 0-1.8")


def test_cli_export_then_import(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    drawing, out = tmp_path / "x.dxf", tmp_path / "x.yaml"
    assert ligging(capsys, "export", "cases/dordrecht-componistenbuurt", "-o", str(drawing)) == (0, "")
    assert ligging(capsys, "import", str(drawing), "-o", str(out)) == (0, "")
    assert_same_section(load_case(ROOT / "cases" / "dordrecht-componistenbuurt"), load_case(out))


@pytest.mark.parametrize("content", [b"garbage\nnot a drawing\n", b"0\nSECTION\n2\nENTITIES\n0\nCIRCLE\n8\nwater\n", b"\x00\xff" * 40, b""])
def test_garbage_dxf_is_one_line_exit_2(content: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.dxf"
    bad.write_bytes(content)
    with pytest.raises(LiggingError) as caught:
        import_dxf(bad)
    assert caught.value.diagnostic.span.file == str(bad) and caught.value.diagnostic.span.line >= 1
    code, err = ligging(capsys, "import", str(bad), "-o", str(tmp_path / "x.yaml"))
    assert code == 2
    assert err.startswith(f"ligging: {bad}:") and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.yaml").exists()


def test_bad_number_in_a_drawing_names_its_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.dxf"
    bad.write_text("0\nSECTION\n2\nENTITIES\n0\nCIRCLE\n8\nwater\n10\nabc\n20\n1\n40\n1\n0\nENDSEC\n0\nEOF\n")
    with pytest.raises(LiggingError) as caught:
        import_dxf(bad)
    assert caught.value.diagnostic.span.line > 1


def test_drawing_without_objects_or_zones_is_refused(tmp_path: Path) -> None:
    doc = ezdxf.new("R2010")
    doc.modelspace().add_circle((0, -1), 0.05, dxfattribs={"layer": "water"})
    drawing = tmp_path / "nozones.dxf"
    doc.saveas(drawing)
    with pytest.raises(LiggingError):
        import_dxf(drawing)
    empty = tmp_path / "empty.dxf"
    ezdxf.new("R2010").saveas(empty)
    with pytest.raises(LiggingError):
        import_dxf(empty)


def test_bad_scale_and_origin_options_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    drawing = tmp_path / "x.dxf"
    assert ligging(capsys, "export", "cases/leiden-vkls", "-o", str(drawing)) == (0, "")
    for option in (["--scale", "0"], ["--origin", "12"], ["--origin", "a,b"]):
        code, err = ligging(capsys, "import", str(drawing), "-o", str(tmp_path / "x.yaml"), *option)
        assert code == 2 and err.startswith("ligging: ") and len(err.splitlines()) == 1


@pytest.mark.parametrize("case", ["amsterdam-wallengebied", "leiden-vkls", "rotterdam-stadsboulevard"])
def test_the_title_block_stands_beside_the_section_with_a_label_per_value(packs: PackSet, case: str) -> None:
    from ezdxf import bbox

    doc = build_drawing(load_case(ROOT / "cases" / case), packs)
    msp = doc.modelspace()
    (title,) = msp.query(f"INSERT[name=='{TITLE_BLOCK}']")
    section_box = bbox.extents(e for e in msp if e.dxftype() != "INSERT")
    title_box = bbox.extents(title.virtual_entities())
    assert title_box.extmin.x > section_box.extmax.x  # outside the section: right of everything drawn
    assert title_box.extmax.y <= section_box.extmax.y + 1e-9
    labels = {t.dxf.text for t in doc.blocks.get(TITLE_BLOCK).query("TEXT")}
    prompts = {a.dxf.tag: a.dxf.prompt for a in doc.blocks.get(TITLE_BLOCK).query("ATTDEF")}
    assert {a.dxf.tag for a in title.attribs} == set(prompts)
    assert set(prompts.values()) <= labels and "naam" in labels and "breedte profiel (m)" in labels
    # each value sits in its label's row, right of the label column
    rows = {t.dxf.text: t.dxf.insert.y for t in doc.blocks.get(TITLE_BLOCK).query("TEXT")}
    for attdef in doc.blocks.get(TITLE_BLOCK).query("ATTDEF"):
        assert abs(attdef.dxf.insert.y - rows[attdef.dxf.prompt]) < TITLE_ROW / 2
