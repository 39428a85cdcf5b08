"""Verbeelding: the rules matrix covers every pack, highlights differences, marks lint contradictions."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from checker.policy import matrix as mx
from dsl.packs import shipped_names
from tests.test_whatif import ligging

HEADER = 'pack {name}\n  title "{title}"\n  authority "{authority}"\n  version "1"\ninclude imkl\n'
RULE = 'rule {id}\n  title "t"\n  severity error\n  source "test"\n  illustrative "test value"\n  require {req}\n'


def pack_file(tmp_path: Path, name: str, rules: list[tuple[str, str]], title: str = "t",
              authority: str = "Test authority") -> Path:
    path = tmp_path / f"{name}.rules"
    path.write_text(HEADER.format(name=name, title=title, authority=authority)
                    + "".join(RULE.format(id=i, req=r) for i, r in rules), encoding="utf-8")
    return path


class Cells(HTMLParser):
    """Collect, per table row header, the class of each cell by its data-pack."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, dict[str, str]] = {}
        self.ids: list[str] = []
        self.entry_classes: list[tuple[str, str]] = []
        self._row = ""
        self._in_th = False
        self._entry = ""
        self._cells: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(str(a["id"]))
        if tag == "tr":
            self._row, self._cells = "", {}
        elif tag == "th" and a.get("scope") == "row":
            self._in_th = True
        elif tag == "td" and a.get("data-pack"):
            self._cells[str(a["data-pack"])] = a.get("class") or ""
        elif tag == "span" and "entry" in (a.get("class") or ""):
            self._entry = a.get("class") or ""
        elif tag == "a" and self._entry:
            self.entry_classes.append((str(a.get("href")), self._entry))
            self._entry = ""

    def handle_data(self, data: str) -> None:
        if self._in_th:
            self._row += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "th":
            self._in_th = False
        elif tag == "tr" and self._row:
            self.rows.setdefault(self._row, {}).update(self._cells)


def parse(html_text: str) -> Cells:
    cells = Cells()
    cells.feed(html_text)
    return cells


def test_matrix_covers_every_shipped_pack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "matrix.html"
    code, _, err = ligging(capsys, "rules", "matrix", "-o", str(out))
    assert code == 0, err
    cells = parse(out.read_text(encoding="utf-8"))
    for name in shipped_names():
        assert f"pack-{name}" in cells.ids
    m = mx.matrix_for()
    # every rule of every pack is listed with an anchor, and every linked anchor exists
    assert {info.anchor for info in m.rules.values()} <= set(cells.ids)
    assert {href.lstrip("#") for href, _ in cells.entry_classes} <= set(cells.ids)
    assert len(m.rules) == sum(len(p.rules) for p in m.packs)
    assert {"gasLageDruk", "water"} <= {a for pair in m.clearances for a in pair}


def test_known_difference_is_highlighted(tmp_path: Path) -> None:
    deeper = pack_file(tmp_path, "proefpack", [("PROEF-COV-W", "cover water >= 0.90 m")])
    cells = parse(mx.to_html(mx.matrix_for(["nen7171", "drinkwater", str(deeper)])))
    water = cells.rows["water"]
    assert "differs" in water["drinkwater"].split() and "differs" in water["proefpack"].split()
    # networks the second pack says nothing about are not highlighted
    assert all("differs" not in c.split() for c in cells.rows["laagspanning"].values())


def test_equal_requirements_are_not_highlighted(tmp_path: Path) -> None:
    nen_water = mx.matrix_for(["drinkwater"]).covers["water"]["drinkwater"]
    same = pack_file(tmp_path, "gelijk", [(f"GELIJK-{k}", f"cover water {e.op} {e.value} m")
                                          for k, e in enumerate(nen_water)])
    m = mx.matrix_for(["drinkwater", str(same)])
    assert not mx.differs(m.covers["water"])
    assert "differs" not in parse(mx.to_html(m)).rows["water"]["gelijk"]


def test_the_shipped_packs_speak_for_at_least_twelve_authorities() -> None:
    m = mx.matrix_for()
    speaking = {p.authority for p in m.packs if p.rules}
    assert len(speaking) >= 12, sorted(speaking)


def test_clearance_difference_between_authorities() -> None:
    m = mx.matrix_for()
    cell = m.clearances[("water", "warmte")]
    assert {"nen7171", "warmte"} <= set(cell) and mx.differs(cell)
    values = {e.rule: e.value for entries in cell.values() for e in entries}
    assert values["WRM-WATER"] == pytest.approx(1.0)


def test_lint_contradictions_are_marked(tmp_path: Path) -> None:
    shallow = pack_file(tmp_path, "ondiep", [("ONDIEP-COV-W", "cover water <= 0.50 m")])
    m = mx.matrix_for(["nen7171", "drinkwater", str(shallow)])
    assert m.contradictions and "ONDIEP-COV-W" in m.contradicted() and "DW-COV-MIN" in m.contradicted()
    classes = dict(parse(mx.to_html(m)).entry_classes)
    assert "contradiction" in classes["#rule-ondiep-ONDIEP-COV-W"].split()
    assert "contradiction" not in classes["#rule-nen7171-NEN-COV-LS"].split()


def test_everything_is_escaped(tmp_path: Path) -> None:
    hostile = pack_file(tmp_path, "vijand", [("VIJAND-COV-W", "cover water >= 0.95 m")],
                        title="<script>alert(1)</script> | *x*", authority='A&B \\"<b>\\"')
    m = mx.matrix_for([str(hostile)])
    html_text = mx.to_html(m)
    assert "<script>" not in html_text and "&lt;script&gt;" in html_text and "<b>" not in html_text
    md = mx.to_markdown(m)
    pack_row = next(line for line in md.splitlines() if line.startswith("| vijand |"))
    assert pack_row.count(" | ") == 4  # the title's pipe is escaped, the row keeps its five cells


def test_markdown_marks_differences(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    deeper = pack_file(tmp_path, "proefpack", [("PROEF-COV-W", "cover water >= 0.90 m")])
    out = tmp_path / "matrix.md"
    code, _, err = ligging(capsys, "rules", "matrix", "--pack", "nen7171", "--pack", "drinkwater", "--pack", str(deeper), "-o", str(out))
    assert code == 0, err
    rows = {line.split(" | ")[0]: line for line in out.read_text(encoding="utf-8").splitlines()}
    assert rows["| water"].count("≠") == 2 and "≠" not in rows["| laagspanning"]


def test_bad_output_suffix_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = ligging(capsys, "rules", "matrix", "-o", str(tmp_path / "matrix.pdf"))
    assert code == 2 and len(err.strip().splitlines()) == 1 and not (tmp_path / "matrix.pdf").exists()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed (.ci/run installs it)")
def test_matrix_renders_in_headless_chromium(tmp_path: Path) -> None:
    from PIL import Image

    page = tmp_path / "matrix.html"
    mx.write(mx.matrix_for(), page)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    shot = tmp_path / "shot.png"
    subprocess.run(["chromium", *flags, "--window-size=1280,900", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=90, check=True)
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colours is not None and len(colours) > 50
    dom = subprocess.run(["chromium", *flags, "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=90, check=True).stdout
    source = page.read_text(encoding="utf-8")
    for tag in ("tr", "td", "a"):
        assert len(re.findall(rf"<{tag}[\s>]", dom)) == len(re.findall(rf"<{tag}[\s>]", source)) > 0
    assert len(re.findall(r'class="differs"', dom)) == len(re.findall(r'class="differs"', source)) > 0
