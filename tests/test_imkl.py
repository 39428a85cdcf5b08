"""KLIC deliveries: reading IMKL 2.0 and 3.0, depth bases, cutting sections, the import command, GeoJSON.

The IMKL 2.0 fixtures (tests/data/imkl/imkl2) each hold one construct; the IMKL 3.0 file is
the official example. Every test asserts on numbers and structure: positions in metres,
covers and their basis, what a container holds, error positions.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import shapely

from checker.cli import run
from checker.engine.evaluate import Engine
from checker.io.case_text import case_yaml, save_case
from checker.io.geojson import findings_geojson
from checker.io.imkl.axis import stations
from checker.io.imkl.cut import Cutter
from checker.io.imkl.reader import Area, read_delivery
from checker.io.loader import load_case, parse_case, parse_json_case
from checker.io.zone_spec import parse_zones
from checker.model.findings import CaseResult
from checker.pipeline.run import check_paths
from dsl.diagnostics import LiggingError
from dsl.packs import load_packs
from tests.conftest import ROOT, case_text
from tests.test_imkl_property import one_line

DATA = ROOT / "tests" / "data" / "imkl"
FIXTURES = DATA / "imkl2"
EXAMPLE = DATA / "IMKL3-0-Voorbeeldbestand.xml"
START, END = (155020.0, 388014.0), (155020.0, 388026.0)
NEN = load_packs(["nen7171", "drinkwater"])


def cut(name: str, zones: str | None = None) -> dict:
    """Return the case mapping of the fixture's standard section."""
    return Cutter(read_delivery(FIXTURES / f"{name}.xml"), NEN).cut(START, END, parse_zones(zones) if zones else None).case


def objects(case: dict) -> dict[str, dict]:
    return {o["id"]: o for o in case["objects"]}


# ---------------------------------------------------------------------------- reading


def test_imkl2_fixture_reads_nets_elements_links_depths_and_owner() -> None:
    d = read_delivery(FIXTURES / "depth-unlinked.xml")
    assert d.version == "2.0"
    assert {n.thema for n in d.nets.values()} == {"laagspanning"}
    assert [n.standard_depth for n in d.nets.values()] == [0.6]
    assert sorted(e.id for e in d.elements) == ["nl.imkl-KL9999.ls_cable1", "nl.imkl-KL9999.ls_cable2"]
    cable = d.by_id()["nl.imkl-KL9999.ls_cable1"]
    assert cable.diameter == pytest.approx(0.040)
    assert dict(cable.attributes) == {"operating_voltage": 400.0, "voltage": 400.0}
    assert cable.accuracy == 0.30 and cable.owner == "KL9999" and d.owner(cable) == "Testnetbeheer B.V."
    assert shapely.get_coordinates(d.links["nl.imkl-KL9999.ls_link1"]).tolist() == [[155000, 388015.5], [155040, 388015.5]]
    point = d.depths["nl.imkl-KL9999.ls_depth1"]
    assert (point.reference, point.value, point.accuracy, point.net) == ("maaiveld", 0.45, 0.50, "nl.imkl-KL9999.ls_net")


def test_pressure_in_bar_becomes_pascal() -> None:
    d = read_delivery(FIXTURES / "depth-nap.xml")
    assert dict(d.elements[0].attributes) == {"pressure": pytest.approx(10_000.0)}


def test_official_imkl3_example_reads_fully_and_warns_about_its_placeholders() -> None:
    d = read_delivery(EXAMPLE)
    assert d.version == "3.0"
    assert (len(d.nets), len(d.elements), len(d.links), len(d.depths)) == (36, 145, 144, 11)
    assert {n.thema for n in d.nets.values()} >= {"water", "middenspanning", "gasLageDruk", "wees", "overig"}
    statuses = {e.status for e in d.elements}
    assert statuses == {"functional", "disused", "projected"}
    assert d.owners["KL1031"] == "Enexis B.V."
    assert any("uom 'a'" in w for w in d.warnings)
    assert any("kabelDiameter 2 m is no cable's" in w for w in d.warnings)
    # the example's features have no gml:id: references are namespace-lokaalID
    assert "nl.imkl-TS1392.MS_el00001" in d.by_id()


def test_an_area_keeps_only_the_links_that_meet_it() -> None:
    everything = read_delivery(EXAMPLE)
    some = read_delivery(EXAMPLE, Area(154800, 388180, 154900, 388260))
    assert 0 < len(some.links) < len(everything.links)
    assert len(some.elements) == len(everything.elements)  # elements are small; their lines are what is filtered
    for geometry in some.links.values():
        assert geometry.intersects(shapely.box(154800, 388180, 154900, 388260))


def delivery_zip(tmp_path: Path, members: dict[str, bytes], name: str = "Levering_24G0000001_1.zip") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for member, data in members.items():
            z.writestr(member, data)
    return path


def test_a_delivery_zip_is_read_through_its_gi_member(tmp_path: Path) -> None:
    data = (FIXTURES / "disused.xml").read_bytes()
    path = delivery_zip(tmp_path, {"LI_24G0000001_1.pdf": b"%PDF", "bronnen/x.png": b"png",
                                   "GI_gebiedsinformatielevering_24G0000001_1.xml": data})
    assert len(read_delivery(path).elements) == 2


@pytest.mark.parametrize(("members", "said"), [
    ({"netinformatie.xml": b"<x/>"}, "no GI_gebiedsinformatielevering_*.xml in this zip"),
    ({"GI_gebiedsinformatielevering_a.xml": b"<x/>", "sub/GI_gebiedsinformatielevering_b.xml": b"<x/>"},
     "2 GI_gebiedsinformatielevering_*.xml files"),
])
def test_a_zip_that_is_no_delivery_is_refused(tmp_path: Path, members: dict[str, bytes], said: str) -> None:
    with pytest.raises(LiggingError) as caught:
        read_delivery(delivery_zip(tmp_path, members))
    assert said in caught.value.diagnostic.message


def test_a_zip_bomb_is_refused_before_it_inflates(tmp_path: Path) -> None:
    head = (FIXTURES / "disused.xml").read_bytes().replace(b"</gml:FeatureCollection>", b"")
    body = head + b"<!--" + b" " * (40 << 20) + b"-->" + b"</gml:FeatureCollection>"
    path = delivery_zip(tmp_path, {"GI_gebiedsinformatielevering_x.xml": body})
    with pytest.raises(LiggingError) as caught:
        read_delivery(path)
    assert "zip bomb" in caught.value.diagnostic.message


def test_the_counter_stops_a_member_whose_header_lies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from checker.io.imkl import reader

    monkeypatch.setattr(reader, "RATIO_FLOOR", 1000)
    monkeypatch.setattr(reader, "MAX_RATIO", 1_000_000)
    monkeypatch.setattr(reader, "MAX_GML_BYTES", 5000)
    path = delivery_zip(tmp_path, {"GI_gebiedsinformatielevering_x.xml": (FIXTURES / "container.xml").read_bytes()})
    with pytest.raises(LiggingError) as caught:
        read_delivery(path)
    assert "bytes" in caught.value.diagnostic.message


GOOD = (FIXTURES / "disused.xml").read_text(encoding="utf-8")


@pytest.mark.parametrize(("text", "said", "line"), [
    (GOOD.replace("</imkl:Elektriciteitskabel>", "</imkl:Elektriciteitskabl>", 1), "broken XML", 86),
    (GOOD[: len(GOOD) // 2], "broken XML", None),
    ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>\n<gml:FeatureCollection '
     'xmlns:gml="http://www.opengis.net/gml/3.2">&lol2;</gml:FeatureCollection>', "DTD", 1),
    ('<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n<r>&x;</r>', "DTD", 1),
    (GOOD.replace("imkl/2.0.0/imkl-wibon.xsd", "imkl/9.1.0/imkl-wibon.xsd"), "IMKL version 9.1", 21),
    (GOOD.replace("http://www.geostandaarden.nl/imkl/wibon", "http://www.geostandaarden.nl/imkl/2015/wion/1.2")
         .replace("imkl/2.0.0/imkl-wibon.xsd", "imkl2015/1.2.1/imkl2015-wion.xsd"), "IMKL 1.x", 21),
    ('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "not a GML 3.2 FeatureCollection", 1),
    ('<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2"/>', "no IMKL namespace", 1),
    (GOOD.replace("155000 388022 155040 388022", "155000 388022 155040 nan", 1), "finite", 53),
    (GOOD.replace("155000 388022 155040 388022", "155000 388022 155040", 1), "whole 2D positions", 53),
    (GOOD.replace('srsName="urn:ogc:def:crs:EPSG::28992" gml:id="nl.imkl-KL9999.ms_link1_geo"',
                  'srsName="urn:ogc:def:crs:EPSG::4326" gml:id="nl.imkl-KL9999.ms_link1_geo"'), "RD New", 52),
    ("", "broken XML", 1),
])
def test_broken_or_foreign_xml_is_one_error_with_its_position(tmp_path: Path, text: str, said: str, line: int | None) -> None:
    path = tmp_path / "GI_gebiedsinformatielevering_x.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LiggingError) as caught:
        read_delivery(path)
    d = caught.value.diagnostic
    assert said in d.message, d.message
    assert d.span.file == str(path)
    if line is not None:
        assert d.span.line == line
    assert "\n" not in d.one_line()


# ---------------------------------------------------------------------------- depth


def test_a_linked_depth_point_within_reach_is_measured_with_its_accuracy() -> None:
    (w,) = cut("depth-linked")["objects"]
    assert (w["x"], w["cover"], w["diameter"]) == (7.0, 1.25, 0.16)
    assert w["source"] == {"feature": "nl.imkl-KL9999.w_pipe1", "depth": "measured", "tolerance": 0.3,
                           "point": "nl.imkl-KL9999.w_depth1"}


def test_a_depth_point_beyond_reach_is_not_measured_here() -> None:
    d = read_delivery(FIXTURES / "depth-linked.xml")
    (w,) = Cutter(d, NEN, reach=1.0).cut(START, END).case["objects"]
    assert w["source"]["depth"] == "declared" and w["cover"] == 1.0


def test_an_unlinked_depth_point_belongs_to_the_line_it_lies_on_not_its_neighbour() -> None:
    ls1, ls2 = cut("depth-unlinked")["objects"]
    assert (ls1["x"], ls1["cover"], ls1["source"]["depth"], ls1["source"]["tolerance"]) == (1.5, 0.45, "measured", 0.5)
    assert (ls2["x"], ls2["cover"], ls2["source"]["depth"]) == (2.0, 0.6, "declared")


def test_a_nap_depth_is_maaiveld_minus_diepte() -> None:
    (g,) = cut("depth-nap")["objects"]
    assert g["cover"] == pytest.approx(0.55 - (-0.35)) and g["source"]["depth"] == "measured"


def test_an_inner_bottom_depth_is_turned_into_the_top(tmp_path: Path) -> None:
    text = (FIXTURES / "depth-linked.xml").read_text(encoding="utf-8").replace(
        "DiepteAangrijpingspuntValue/bovenkant", "DiepteAangrijpingspuntValue/binnenonderkantBuis")
    path = tmp_path / "bob.xml"
    path.write_text(text, encoding="utf-8")
    (w,) = Cutter(read_delivery(path), NEN).cut(START, END).case["objects"]
    assert w["cover"] == pytest.approx(1.25 - 0.16)


def test_a_net_without_depth_takes_the_packs_minimum_cover_as_assumed() -> None:
    found = objects(cut("two-crossings"))
    assert found["w-1"]["cover"] == 0.70 and found["w-1"]["source"]["depth"] == "assumed"  # DW-COV-MIN
    assert found["rv-1"]["source"]["depth"] == "declared"


def test_no_pack_minimum_to_assume_is_an_error() -> None:
    with pytest.raises(LiggingError) as caught:
        Cutter(read_delivery(FIXTURES / "two-crossings.xml"), load_packs(["imkl"])).cut(START, END)
    assert "no depth in the delivery" in caught.value.diagnostic.message


# ---------------------------------------------------------------------------- the cut


def test_a_line_crossed_twice_gives_two_objects_and_a_stretch_along_is_a_crossing() -> None:
    found = objects(cut("two-crossings"))
    assert [(o["id"], o.get("x")) for o in found.values() if o["network"] == "rioolVrijverval"] == [("rv-1", 3.0), ("rv-2", 10.0)]
    assert found["rv-1"]["source"]["feature"] == found["rv-2"]["source"]["feature"]
    service = found["w-2"]
    assert (service["kind"], service["from"], service["to"], service["diameter"]) == ("crossing", 6.0, 12.0, 0.032)


def test_a_line_doubling_back_across_the_section_is_one_object_at_its_bend() -> None:
    # hypothesis found it: the line crosses at x = 2.988 and back at 2.990, 2 mm apart; it was cut as
    # two lines of its beheerder on one centreline, spread to 2.934 and 3.044 m
    case = Cutter(one_line("LINESTRING (93 187, 103 201.5, 91 184)"), NEN).cut((100.0, 200.0), (112.0, 205.0)).case
    (only,) = case["objects"]
    assert (only["id"], only["x"], only["diameter"]) == ("w-1", 2.989, 0.11)
    assert "meeting it at x = 2.988, 2.990 m" in only["note"] and "drawn on one centreline" not in only["note"]


def test_two_crossings_of_one_line_further_apart_than_its_size_stay_two() -> None:
    # a V whose legs cross the section 0.36 m apart: two places of one 110 mm pipe, no bend, no bundle
    case = Cutter(one_line("LINESTRING (155010 388018, 155021 388020, 155010 388022)", diameter=0.11), NEN).cut(START, END).case
    assert [(o["x"], "note" in o) for o in case["objects"]] == [(5.818, False), (6.182, False)]


def test_a_short_piece_on_the_section_line_is_a_crossing_at_its_middle() -> None:
    # 0.30 m lying on the section line is too short to run along it, but the line is there
    for leaves in ("155030 388020.5", "155010 388020.5"):  # through, and back to the side it came from
        wkt = f"LINESTRING (155010 388019.8, 155020 388020, 155020 388020.3, {leaves})"
        case = Cutter(one_line(wkt, diameter=0.11), NEN).cut(START, END).case
        assert [(o.get("kind", "pipe"), o["x"]) for o in case["objects"]] == [("pipe", 6.15)], leaves


def test_a_crossing_just_past_a_stretch_along_the_section_widens_it() -> None:
    # runs along the section from x = 6 to 8 at 0.5 m beside it, then crosses it at x = 8.08
    wkt = "LINESTRING (155020.5 388020, 155020.5 388022, 155019.5 388022.16, 155000 388022.16)"
    case = Cutter(one_line(wkt, diameter=0.11), NEN).cut(START, END).case
    (only,) = case["objects"]
    assert (only["kind"], only["from"], only["to"]) == ("crossing", 6.0, 8.08)


def test_containers_hold_what_they_name_placed_inside_them() -> None:
    found = objects(cut("container"))
    bed, sleeve = found["kb-1"], found["mb-1"]
    assert (bed["x"], bed["width"], bed["height"]) == (1.0, 0.4, 0.025)
    assert sorted(bed["holds"]) == ["dt-1", "dt-2"] and sleeve["holds"] == ["dt-3"]
    assert (sleeve["kind"], sleeve["width"], sleeve["height"]) == ("pipe", 0.11, 0.11)
    for holder in (bed, sleeve):
        for held in holder["holds"]:
            o = found[held]
            assert holder["x"] - holder["width"] / 2 <= o["x"] - o["diameter"] / 2
            assert o["x"] + o["diameter"] / 2 <= holder["x"] + holder["width"] / 2
            assert holder["cover"] <= o["cover"] and o["cover"] + o["diameter"] <= holder["cover"] + holder["height"] + 1e-9


def test_disused_and_projected_lines_keep_their_status(tmp_path: Path) -> None:
    found = objects(cut("disused"))
    assert (found["ms-1"]["status"], found["ms-2"]["status"]) == ("existing", "disused")
    assert found["ms-2"]["attributes"]["condition"] == "disused"
    path = tmp_path / "projected.xml"
    path.write_text((FIXTURES / "disused.xml").read_text(encoding="utf-8").replace(
        "ConditionOfFacilityValue/disused", "ConditionOfFacilityValue/projected"), encoding="utf-8")
    projected = objects(Cutter(read_delivery(path), NEN).cut(START, END).case)["ms-2"]
    assert (projected["status"], projected["attributes"]["condition"]) == ("planned", "projected")


def test_a_cut_loads_and_its_objects_say_where_they_came_from(tmp_path: Path) -> None:
    case = cut("container", zones="trottoir:2.5,rijbaan:6,trottoir:3.5")
    out = tmp_path / "case.yaml"
    save_case(case, out)
    section = load_case(out)
    assert [z.kind for z in section.zones] == ["trottoir", "rijbaan", "trottoir"]
    assert section.place is not None and section.place.start == START and section.place.end == END
    assert all(o.source is not None and o.source.feature.startswith("nl.imkl-KL9999.") for o in section.objects)
    assert section.width == 12.0


def test_zones_that_do_not_add_up_are_refused() -> None:
    with pytest.raises(LiggingError) as caught:
        cut("container", zones="trottoir:2,rijbaan:5")
    assert "add up to 7 m" in caught.value.diagnostic.message


def test_the_official_example_cut_checks_without_input_errors(tmp_path: Path) -> None:
    delivery = read_delivery(EXAMPLE)
    case = Cutter(delivery, NEN).cut((154842.30, 388229.47), (154847.47, 388220.91)).case
    out = tmp_path / "case.yaml"
    save_case(case, out)
    section = load_case(out)
    found = Engine(load_packs()).evaluate(section)
    assert {o.source.depth for o in section.objects if o.source} == {"declared"}
    bed = section.by_id()["kb-1"]
    assert len(bed.holds) == 9 and bed.width == pytest.approx(9 * 0.07)  # nine MV cables drawn on one trench line
    assert section.by_id()["kb-2"].status == "disused"
    assert found and all(f.baseline for f in found)
    assert all("not measured" in f.message for f in found if f.kind == "cover")


# ---------------------------------------------------------------------------- the case model


def test_place_source_and_disused_load_and_survive_json_lines() -> None:
    case = cut("disused")
    yaml_section = parse_case(case_yaml(case), "c.yaml")
    json_section = parse_json_case(json.dumps(case), "c.jsonl")
    for a, b in zip(yaml_section.objects, json_section.objects, strict=True):
        assert (a.id, a.status, a.source, a.attributes) == (b.id, b.status, b.source, b.attributes)
    assert yaml_section.place == json_section.place


@pytest.mark.parametrize(("objects_text", "extra", "said"), [
    ("- {id: a, network: water, x: 1, cover: 1, diameter: 0.1, source: {feature: f, depth: declared, tolerance: 0.3}}",
     "", "belongs to a measured depth"),
    ("- {id: a, network: water, x: 1, cover: 1, diameter: 0.1, source: {feature: f, depth: guessed}}", "", "depth basis"),
    ("- {id: a, network: water, x: 1, cover: 1, diameter: 0.1, holds: [b]}\n- {id: b, network: water, x: 1, cover: 1, "
     "diameter: 0.05}", "", "only a rectangular bed"),
    ("- {id: a, network: water, x: 1, cover: 1, diameter: 0.1}", "place: {from: [155000, 388000], to: [155000, 388010]}\n",
     "10.000 m apart but the profile is 4 m wide"),
    ("- {id: a, network: water, x: 1, cover: 1, diameter: 0.1}", "place: {from: [5, 6], to: [5, 10]}\n", "outside RD New"),
])
def test_bad_imported_keys_are_refused_where_written(objects_text: str, extra: str, said: str) -> None:
    with pytest.raises(LiggingError) as caught:
        parse_case(case_text(objects_text, extra), "c.yaml")
    assert said in caught.value.diagnostic.message


# ---------------------------------------------------------------------------- the engine on imported sections


def test_a_disused_line_takes_space_but_no_operators_rule_judges_it() -> None:
    text = case_text("""\
        - {id: w-1, network: water, x: 1.0, cover: 0.3, diameter: 0.2, status: disused}
        - {id: w-2, network: water, x: 1.1, cover: 0.4, diameter: 0.2}
        - {id: w-3, network: water, x: 3.0, cover: 0.3, diameter: 0.2}
        """)
    found = Engine(load_packs()).evaluate(parse_case(text, "c.yaml"))
    cover = {f.subjects for f in found if f.kind == "cover"}
    assert ("w-3",) in cover and ("w-1",) not in cover
    assert not any("w-1" in f.subjects for f in found if f.kind != "overlap")
    overlap = [f for f in found if f.kind == "overlap"]
    assert [f.subjects for f in overlap] == [("w-1", "w-2")] and not overlap[0].baseline


def test_a_rule_that_names_the_status_sees_disused_lines(tmp_path: Path) -> None:
    pack = tmp_path / "old.rules"
    pack.write_text('pack old\n  title "t"\n  authority "a"\n  version "1"\ninclude imkl\n'
                    'rule OLD-1\n  title "x"\n  severity warning\n  source "illustrative test"\n'
                    '  require cover line[status = disused] >= 2.0 m\n', encoding="utf-8")
    text = case_text("- {id: w-1, network: water, x: 1.0, cover: 0.3, diameter: 0.2, status: disused}")
    found = Engine(load_packs([str(pack)])).evaluate(parse_case(text, "c.yaml"))
    assert [(f.rule, f.subjects, f.baseline) for f in found] == [("OLD-1", ("w-1",), True)]


def test_findings_say_when_a_cover_is_declared_or_assumed() -> None:
    section = parse_case(case_yaml(cut("two-crossings")), "c.yaml")
    (single,) = Engine(load_packs()).evaluate_many([section])
    for found in (Engine(load_packs()).evaluate(section), single):
        basis = {f.rule: dict(f.depth_basis) for f in found if f.depth_basis}
        assert basis, found
        for f in found:
            unmeasured = {s for s in f.subjects if section.by_id()[s].source.depth != "measured"}
            assert set(dict(f.depth_basis)) == unmeasured
            if unmeasured:
                assert "not measured" in f.message or "assumed" in f.message
                assert f.as_json()["depth_basis"] == dict(f.depth_basis)


def test_zone_rules_do_not_judge_what_lies_under_an_unknown_surface() -> None:
    section = parse_case(case_yaml(cut("two-crossings")), "c.yaml")
    assert [z.kind for z in section.zones] == ["onbekend"]
    found = Engine(load_packs()).evaluate(section)
    assert not [f for f in found if f.kind == "zone"]
    placed = parse_case(case_yaml(cut("two-crossings", zones="trottoir:12")), "c.yaml")
    assert [f.rule for f in Engine(load_packs()).evaluate(placed) if f.kind == "zone"] == ["NEN-ZONE-RIOOL", "NEN-ZONE-RIOOL"]


# ---------------------------------------------------------------------------- along a street


def test_stations_lie_every_d_metres_with_x_zero_on_the_left_and_bisect_at_a_bend() -> None:
    run = stations([(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)], 5.0, 4.0)
    assert [s.chainage for s in run] == [0.0, 5.0, 10.0, 15.0, 20.0]
    assert run[1].start == pytest.approx((5.0, 2.0)) and run[1].end == pytest.approx((5.0, -2.0))
    bend = run[2]
    assert bend.point == pytest.approx((10.0, 0.0))
    assert bend.start == pytest.approx((10 - 2 ** 0.5, 2 ** 0.5))  # perpendicular to the bisector
    assert run[3].start == pytest.approx((8.0, 5.0))


# ---------------------------------------------------------------------------- the command line


def cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stop:
        run(argv)
    out, err = capsys.readouterr()
    return int(stop.value.code or 0), out, err


def test_import_a_line_check_it_and_put_it_on_the_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "case.yaml"
    code, _, err = cli(["import", str(FIXTURES / "two-crossings.xml"), "--line", "155020,388014 155020,388026",
                        "--zones", "trottoir:2,rijbaan:8,trottoir:2", "-o", str(out)], capsys)
    assert code == 0 and "1 section, 4 objects (cover 2 assumed, 2 declared)" in err
    delivery = load_case(out).place.delivery
    assert not Path(delivery).is_absolute() and (out.parent / delivery).resolve() == FIXTURES / "two-crossings.xml"
    code, text, _ = cli(["check", str(out), "--format", "geojson"], capsys)
    doc = json.loads(text)
    assert doc["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::28992"
    lines = [f for f in doc["features"] if f["geometry"]["type"] == "LineString"]
    points = [f for f in doc["features"] if f["geometry"]["type"] == "Point"]
    assert lines[0]["geometry"]["coordinates"] == [[155020.0, 388014.0], [155020.0, 388026.0]]
    assert points and all(p["geometry"]["coordinates"][0] == 155020.0 for p in points)
    for p in points:
        assert 388014.0 <= p["geometry"]["coordinates"][1] <= 388026.0


def test_import_along_an_axis_writes_json_lines_that_check_in_batch(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "street.jsonl"
    code, _, err = cli(["import", str(FIXTURES / "container.xml"), "--axis", "155005,388020 155035,388020", "--every", "10",
                        "--width", "12", "-o", str(out)], capsys)
    assert code == 0 and "4 sections" in err
    cases = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [c["place"]["station"] for c in cases] == [0.0, 10.0, 20.0, 30.0]
    assert cases[1]["place"]["from"] == [155015.0, 388026.0]  # x = 0 left of the axis (north, walking east)
    code, text, _ = cli(["check", str(out), "--format", "jsonl", "-j", "2"], capsys)
    assert code == 0
    assert {json.loads(line)["case"] for line in text.splitlines()} <= {f"{out}:{n}" for n in range(1, 5)}
    code, text, _ = cli(["check", str(out), "--format", "geojson"], capsys)
    stations_seen = {f["properties"]["station"] for f in json.loads(text)["features"]}
    assert stations_seen == {0.0, 10.0, 20.0, 30.0}


@pytest.mark.parametrize(("argv", "said"), [
    (["--line", "155020,388014"], "needs at least two points"),
    (["--line", "155020,388014 155020,388026", "--axis", "155000,388020 155040,388020"], "one of them"),
    ([], "needs --line"),
    (["--line", "155020,388014 155020,388014.5"], "0.50 m long"),
    (["--line", "a,b c,d"], "is not X,Y"),
    (["--line", "155020,388014 155020,388026", "--scale", "1"], "--scale and --origin are for DXF"),
    (["--line", "155020,388014 155020,388026", "--zones", "stoep:12"], "unknown zone kind 'stoep'"),
])
def test_import_mistakes_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], said: str) -> None:
    code, _, err = cli(["import", str(FIXTURES / "disused.xml"), "-o", str(tmp_path / "c.yaml"), *argv], capsys)
    assert code == 2 and said in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "c.yaml").exists()


def test_geojson_refuses_a_section_without_a_place(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = cli(["check", str(ROOT / "cases" / "leiden-vkls"), "--format", "geojson"], capsys)
    assert code == 2 and "has no place" in err


def test_geojson_places_each_finding_at_its_subjects(tmp_path: Path) -> None:
    out = tmp_path / "case.yaml"
    save_case(cut("two-crossings", zones="trottoir:12"), out)
    (result,) = check_paths([out], Engine(load_packs()), suggestions=False)
    doc = findings_geojson([result])
    by_subject = {f["properties"]["subjects"]: f["geometry"]["coordinates"] for f in doc["features"]
                  if f["properties"]["layer"] == "finding"}
    assert by_subject["rv-1"] == [155020.0, 388014.0 + 3.0]
    assert isinstance(result, CaseResult)


def test_the_shipped_example_case_is_what_the_import_writes(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """cases/best-imkl-voorbeeld/case.yaml is the import's output, unedited: the README's command reproduces it."""
    monkeypatch.chdir(ROOT)
    out = tmp_path / "case.yaml"
    code, _, _ = cli(["import", "tests/data/imkl/IMKL3-0-Voorbeeldbestand.xml", "--line",
                      "154842.30,388229.47 154847.47,388220.91", "--name", "Best, middenspanningstracé (IMKL 3.0-voorbeeld)",
                      "-o", str(out)], capsys)
    assert code == 0
    shipped = (ROOT / "cases" / "best-imkl-voorbeeld" / "case.yaml").read_text(encoding="utf-8")
    written = out.read_text(encoding="utf-8")
    # the delivery path is relative to where each file lies; everything else is the same text
    assert written.split("\nplace:")[0] == shipped.split("\nplace:")[0]
    assert load_case(out).place.start == load_case(ROOT / "cases" / "best-imkl-voorbeeld").place.start
