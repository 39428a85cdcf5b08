"""The report's plan view of sections cut from a KLIC delivery: structure, and rendering in headless Chromium.

An axis run over an IMKL 2.0 fixture is reported; the plan must draw every delivery line
in its PMKL colour (with the PMKL dash of its status), every section line coloured by its
worst finding and linking to its drawing, in RD New with north up.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checker.engine.evaluate import Engine
from checker.io.case_text import save_lines
from checker.io.imkl.axis import stations
from checker.io.imkl.cut import Cutter
from checker.io.imkl.reader import read_delivery
from checker.io.zone_spec import parse_zones
from checker.pipeline.run import check_paths
from checker.views.plan import DASHES, WORST_COLOURS, worst
from checker.views.report import build_report
from dsl.packs import load_packs
from tests.conftest import ROOT
from tests.test_report import CHROMIUM_FLAGS, chromium

FIXTURES = ROOT / "tests" / "data" / "imkl" / "imkl2"


@pytest.fixture
def axis_run(tmp_path: Path) -> Path:
    """Cut the two-crossings fixture every 5 m along its street and write the run as JSON Lines beside a copy of it."""
    delivery = tmp_path / "levering.xml"
    delivery.write_bytes((FIXTURES / "two-crossings.xml").read_bytes().replace(
        b'ConditionOfFacilityValue/functional"/>\n      <us-net-common:validFrom>2010-01-01T00:00:00+01:00</us-net-common:validFrom>'
        b'\n      <us-net-common:verticalPosition>underground</us-net-common:verticalPosition>\n      <us-net-common:warningType '
        b'xlink:href="http://inspire.ec.europa.eu/codelist/WarningTypeValue/net"/>\n      <us-net-common:pipeDiameter uom="urn:ogc:'
        b'def:uom:OGC::mm">110',
        b'ConditionOfFacilityValue/disused"/>\n      <us-net-common:validFrom>2010-01-01T00:00:00+01:00</us-net-common:validFrom>'
        b'\n      <us-net-common:verticalPosition>underground</us-net-common:verticalPosition>\n      <us-net-common:warningType '
        b'xlink:href="http://inspire.ec.europa.eu/codelist/WarningTypeValue/net"/>\n      <us-net-common:pipeDiameter uom="urn:ogc:'
        b'def:uom:OGC::mm">110'))
    cutter = Cutter(read_delivery(delivery), load_packs(["nen7171"]))
    out = tmp_path / "street.jsonl"
    save_lines([cutter.cut(s.start, s.end, parse_zones("trottoir:2,rijbaan:8,trottoir:2"), f"station {s.chainage:g}",
                           s.chainage, "levering.xml").case
                for s in stations([(155005.0, 388020.0), (155035.0, 388020.0)], 5.0, 12.0)], out)
    return out


def test_the_plan_draws_delivery_and_sections_each_linked_to_its_drawing(axis_run: Path) -> None:
    engine = Engine(load_packs())
    results = list(check_paths([axis_run], engine))
    html = build_report(results, engine)
    plan = re.search(r'<section id="plan">.*?</section>', html, re.S)
    assert plan is not None
    lines = re.findall(r'<polyline class="imkl-line" data-feature="([^"]+)" data-thema="([^"]+)" data-status="([^"]+)"'
                       r'[^>]* stroke="([^"]+)"[^>]*?(?: stroke-dasharray="([^"]+)")?/>', plan.group(0))
    assert {f for f, *_ in lines} == {"nl.imkl-KL9999.rv_pipe1", "nl.imkl-KL9999.w_main", "nl.imkl-KL9999.w_service"}
    colours = load_packs().themas
    for _, thema, status, stroke, dash in lines:
        assert stroke == colours[thema].colour
        assert dash == DASHES.get(status, "")
    assert ("nl.imkl-KL9999.w_main", "water", "disused") in {(f, t, s) for f, t, s, *_ in lines}
    sections = re.findall(r'<a class="section-link" href="#case-(\d+)"><g class="section" data-case="([^"]+)" '
                          r'data-worst="(\w+)" data-baseline="(\w+)"', plan.group(0))
    assert [int(i) for i, *_ in sections] == list(range(1, 8))
    for (index, case, level, baseline), result in zip(sections, results, strict=True):
        assert case == result.path and (level, baseline == "true") == worst(result)
        assert f'<section class="case" id="case-{index}">' in html


def test_the_plan_renders_in_headless_chromium(tmp_path: Path, axis_run: Path) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("Debian package chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    engine = Engine(load_packs())
    results = list(check_paths([axis_run], engine))
    page_file = tmp_path / "report.html"
    page_file.write_text(build_report(results, engine), encoding="utf-8")
    problems: list[str] = []
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=browser, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1200})
        try:
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(page_file.as_uri(), wait_until="load")
            plan = page.locator("svg.plan").bounding_box()
            links = page.locator("svg.plan a.section-link")
            count = links.count()
            imkl = page.locator("svg.plan polyline.imkl-line").count()
            # the section line of station 10 m lies at x = 155015 on the map, drawn as a vertical line
            points = links.nth(2).locator("polyline.hit").get_attribute("points") or ""
            (x1, y1), (x2, y2) = (tuple(float(v) for v in p.split(",")) for p in points.split())
            page.locator("svg.plan").scroll_into_view_if_needed()
            svg = page.locator("svg.plan").bounding_box()
            assert svg is not None
            # a real click on the middle of the section line, as a user would: hit-testing decides
            page.mouse.click(svg["x"] + (x1 + x2) / 2 + 3, svg["y"] + (y1 + y2) / 2)
            page.wait_for_timeout(200)
            hash_after = page.evaluate("location.hash")
            target_top = page.locator("#case-3").bounding_box()
        finally:
            context.close()
    assert problems == []
    assert plan is not None and plan["width"] > 600 and plan["height"] > 100
    assert count == len(results) == 7 and imkl == 3
    assert x1 == x2 and abs(y2 - y1) > 50  # a north-south section line
    assert hash_after == "#case-3"
    assert target_top is not None and abs(target_top["y"]) < 50  # scrolled to the drawing
    assert WORST_COLOURS["none"] != WORST_COLOURS["error"]
