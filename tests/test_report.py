"""The HTML report: self-contained, escaped, complete, and rendered by a real (headless) Chromium."""

from __future__ import annotations

import io
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from checker.engine.evaluate import Engine
from checker.model.findings import CaseResult, Finding, Suggestion
from checker.model.section import Obj, Section, Zone
from checker.pipeline.run import check_paths
from checker.views.report import build_report, write_report
from dsl.diagnostics import Span
from dsl.packs import load_packs
from tests.conftest import ROOT

HOSTILE = "<script>alert(1)</script>"


class Elements(HTMLParser):
    """Collect start tags with their attributes, and all text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def having(self, tag: str, cls: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag and cls in a.get("class", "").split()]


def parse(text: str) -> Elements:
    parser = Elements()
    parser.feed(text)
    return parser


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_packs([]))


@pytest.fixture(scope="module")
def results(engine: Engine) -> list[CaseResult]:
    return list(check_paths([ROOT / "cases"], engine))


@pytest.fixture(scope="module")
def report(results: list[CaseResult], engine: Engine) -> str:
    return build_report(results, engine)


def test_report_holds_every_case_and_finding(report: str, results: list[CaseResult]) -> None:
    doc = parse(report)
    tags = Counter(t for t, _ in doc.tags)
    assert len(doc.having("section", "case")) == len(results) == len(list((ROOT / "cases").glob("*/case.yaml")))
    assert len(doc.having("tr", "case-row")) == len(results)
    assert len(doc.having("svg", "dwarsprofiel")) == len(results)
    assert len(doc.having("tr", "finding")) == sum(len(r.findings) for r in results)
    assert tags["table"] >= 1 + len(results)
    ranks = [int(a["data-index"]) for a in doc.having("tr", "finding")]
    expected = [n for r in results for n in range(1, len(r.findings) + 1)]
    assert ranks == expected
    # accepted deviations get their own table (the Wallengebied grants one)
    accepted = sum(1 for r in results for f in r.findings if f.accepted)
    assert accepted >= 1 and len(doc.having("tr", "deviation")) == accepted


def test_summary_counts_match_the_findings(report: str, results: list[CaseResult]) -> None:
    rows = report.split('<tr class="case-row')[1:]
    for row, result in zip(rows, results, strict=True):
        cells = [c.split("</td>")[0] for c in row.split('<td class="num">')[1:]]
        s = result.summary()
        baseline = sum(1 for f in result.findings if f.baseline)
        assert [int(c) for c in cells[:4]] == [s["error"], s["warning"], s["info"], baseline]


def test_report_is_self_contained(report: str) -> None:
    doc = parse(report)
    assert not [t for t, _ in doc.tags if t in ("script", "link", "img", "iframe", "object", "embed")]
    for _, attrs in doc.tags:
        for key in ("src", "href"):
            assert attrs.get(key, "#").startswith("#")
    assert "@import" not in report and "url(http" not in report and "@font-face" not in report


def test_extra_sections_are_appended(results: list[CaseResult], engine: Engine) -> None:
    extra = '<section id="backlog"><h2>Backlog</h2></section>'
    text = build_report(results[:1], engine, extra_sections=[extra])
    assert text.index(extra) > text.index('id="case-1"')
    assert text.rstrip().endswith(extra + "</body></html>")


def test_suggestions_and_hostile_text_are_escaped(engine: Engine) -> None:
    span = Span("<case>", 1, 1)
    obj = Obj(id="<img src=x onerror=alert(1)>", kind="pipe", network="water", owner=HOSTILE, status="planned",
              x=1.0, cover=0.5, diameter=0.11, span=span)
    section = Section(path=HOSTILE, name=HOSTILE, width=3.0, zones=(Zone("trottoir", 0.0, 3.0, span),), objects=(obj,),
                      tags=(("municipality", HOSTILE),))
    hostile = Finding(
        rule=HOSTILE, pack="p", severity="error", kind="cover", subjects=(obj.id,), measured=0.5, required=0.7,
        op=">=", unit="m", message=HOSTILE, source=HOSTILE, rule_at=span, case_at=span, baseline=False, title=HOSTILE,
        suggestions=(Suggestion(move=obj.id, dz=0.1), Suggestion(deviate=HOSTILE, to=0.5)),
        accepted=(("state", "accepted"), ("reason", HOSTILE), ("approved_by", HOSTILE), ("until", "2030-01-01")))
    text = build_report([CaseResult(section, HOSTILE, (hostile,))], engine)
    doc = parse(text)
    assert not [t for t, _ in doc.tags if t in ("script", "img")]
    assert HOSTILE in "".join(doc.text)
    items = [t for t, _ in doc.tags if t == "li"]
    assert len(items) == 2
    assert len(doc.having("tr", "deviation")) == 1


def test_write_report_writes_one_file(tmp_path: Path, engine: Engine) -> None:
    out = tmp_path / "report.html"
    results = write_report([ROOT / "cases" / "leiden-vkls", ROOT / "cases" / "amsterdam-wallengebied"], engine, out)
    assert len(results) == 2
    assert len(parse(out.read_text(encoding="utf-8")).having("section", "case")) == 2


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_renders_in_headless_chromium(tmp_path: Path, report: str, results: list[CaseResult]) -> None:
    browser = chromium()
    if browser is None:
        pytest.skip("Debian package chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    page_file = tmp_path / "report.html"
    page_file.write_text(report, encoding="utf-8")
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=browser, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 1600})
        try:
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri(), wait_until="load")
            counts = {sel: page.locator(sel).count() for sel in
                      ("section.case", "svg.dwarsprofiel", "table.summary tbody tr", "tr.finding", "g.object")}
            box = page.locator("svg.dwarsprofiel").first.bounding_box()
            shot = page.screenshot(full_page=False)
        finally:
            context.close()
    assert problems == []
    assert requests == [page_file.as_uri()]
    assert counts["section.case"] == counts["svg.dwarsprofiel"] == counts["table.summary tbody tr"] == len(results)
    assert counts["tr.finding"] == sum(len(r.findings) for r in results)
    assert counts["g.object"] == sum(len(r.section.objects) for r in results)
    assert box is not None and box["width"] > 600 and box["height"] > 300
    image = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.uint32)
    assert image.shape[:2] == (1600, 1280)
    packed = (image[..., 0] << 16) | (image[..., 1] << 8) | image[..., 2]
    assert len(np.unique(packed)) > 50
    assert np.mean(packed != 0xFFFFFF) > 0.05
