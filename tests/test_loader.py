"""The case loader: a valid case in full, and every validation error with its position."""

from __future__ import annotations

import json

import pytest

from checker.io.loader import parse_case
from dsl.diagnostics import LiggingError
from tests.conftest import ROOT, case_text


def test_valid_case_loads_all_kinds() -> None:
    text = case_text("""\
        - {id: kpn-1, network: datatransport, owner: KPN, x: 0.35, cover: 0.60, diameter: 110 mm}
        - {id: ls-1, network: laagspanning, x: 0.70, cover: 60 cm, diameter: 50 mm, attributes: {voltage: 0.4 kV}}
        - {id: bed-1, network: middenspanning, x: 1.3, cover: 0.8, width: 0.3, height: 0.15, status: existing}
        - {id: hak-3, kind: crossing, network: rioolVrijverval, from: 0, to: 3.2, cover: [0.9, 1.6], diameter: 125 mm}
        - {id: boom-2, kind: tree, x: 3.2, diameter: 0.4, root_zone: {radius: 1.5, depth: 1.0}}
        - {id: muur, kind: structure, x: 3.8, width: 0.4, cover: 0, height: 3.0}
        - {id: rek, kind: rack, x: 0.5, width: 0.8, cover: 0.3, height: 0.9, sides: single, holds: [kpn-1, ls-1]}
        - {id: res, kind: reservation, network: warmte, from: 2.0, to: 2.8, cover: 0.8, height: 0.6}
        - {id: ond, kind: container, x: 2.5, width: 1.2, cover: 0.2, height: 1.5}
        """, extra="municipality: Amsterdam\nstreet_type: binnenstad\nplanned: 2027\n")
    s = parse_case(text, "c.yaml")
    by = s.by_id()
    assert len(s.objects) == 9
    assert by["kpn-1"].diameter == pytest.approx(0.11)
    assert by["ls-1"].cover == pytest.approx(0.60)
    assert by["ls-1"].attribute("voltage") == pytest.approx(400.0)
    assert by["bed-1"].kind == "cable" and by["bed-1"].status == "existing"
    assert (by["hak-3"].cover, by["hak-3"].cover_end) == (pytest.approx(0.9), pytest.approx(1.6))
    assert by["boom-2"].root_radius == 1.5
    assert by["rek"].holds == ("kpn-1", "ls-1")
    assert by["res"].width == pytest.approx(0.8) and by["res"].x == pytest.approx(2.4)
    assert s.tag("planned") == 2027.0 and s.planned == "2027-01-01"
    ls_line = next(n for n, line in enumerate(text.splitlines(), 1) if "id: ls-1" in line)
    assert (by["ls-1"].span.line, by["ls-1"].span.column) == (ls_line, 5)


def test_units_key_scales_bare_numbers() -> None:
    text = case_text("- {id: a, network: water, x: 1000, cover: 700, diameter: 110}\n",
                     extra="units: mm\n", width=4000)
    s = parse_case(text, "c.yaml")
    assert s.width == pytest.approx(4.0)
    assert s.objects[0].cover == pytest.approx(0.7)


OK = "- {id: a, network: water, x: 1, cover: 1, diameter: 110 mm}\n"

BAD = {
    "unknown key": ("- {id: a, network: water, x: 1, cover: 1, diametr: 110 mm}\n", "diameter"),
    "missing field": ("- {id: a, network: water, x: 1, diameter: 110 mm}\n", "no 'cover'"),
    "wrong type": ("- {id: a, network: water, x: [1], cover: 1, diameter: 110 mm}\n", "length"),
    "non-length unit": ("- {id: a, network: water, x: 1, cover: 1, diameter: 110 kg}\n", "mass"),
    "negative size": ("- {id: a, network: water, x: 1, cover: 1, diameter: -110 mm}\n", "greater than zero"),
    "zero size": ("- {id: a, network: water, x: 1, cover: 1, diameter: 0}\n", "greater than zero"),
    "negative cover": ("- {id: a, network: water, x: 1, cover: -1, diameter: 0.1}\n", "negative"),
    "nan": ("- {id: a, network: water, x: .nan, cover: 1, diameter: 0.1}\n", "finite"),
    "inf": ("- {id: a, network: water, x: 1, cover: .inf, diameter: 0.1}\n", "finite"),
    "duplicate id": (OK + "- {id: a, network: water, x: 2, cover: 1, diameter: 110 mm}\n", "duplicate id"),
    "unknown network": ("- {id: a, network: watter, x: 1, cover: 1, diameter: 0.1}\n", "did you mean 'water'"),
    "unknown holds": (OK + "- {id: r, kind: rack, x: 1, width: 1, cover: 0.3, height: 0.9, holds: [b]}\n", "holds 'b'"),
    "python tag": ("- !!python/object:os.system {id: a}\n", "not allowed"),
    "unknown unit": ("- {id: a, network: water, x: 1, cover: 1, diameter: 110 furlongz}\n", "unknown unit"),
    "text size": ("- {id: a, network: water, x: 1, cover: 1, diameter: big}\n", "not a number"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_object_is_reported_with_position(name: str) -> None:
    objects, fragment = BAD[name]
    with pytest.raises(LiggingError) as caught:
        parse_case(case_text(objects), "bad.yaml")
    diag = caught.value.diagnostic
    assert diag.span.file == "bad.yaml"
    assert diag.span.line >= 6, diag.one_line()
    assert fragment in diag.message
    assert "\n" not in diag.one_line()


ALIAS_BOMB = "".join(f"{name}: &{name} [{', '.join([f'*{prev}' if prev else '1'] * 10)}]\n"
                     for prev, name in zip(["", "a", "b", "c", "d"], ["a", "b", "c", "d", "e"], strict=True)) + "f: [" + ", ".join(["*e"] * 10) + "]\n"


@pytest.mark.parametrize("text, fragment", [
    ("ligging: 2\nname: x\nwidth: 4\nzones: []\nobjects: []\n", "unsupported format version"),
    ("ligging: 1\nname: x\nwidth: 4\nzones:\n  - {kind: trottoir, from: 0, to: 2}\n  - {kind: rijbaan, from: 1.5, to: 4}\nobjects: []\n", "overlaps"),
    ("ligging: 1\nname: x\nwidth: 4\nzones:\n  - {kind: trottoir, from: 0, to: 2}\n  - {kind: rijbaan, from: 2.5, to: 4}\nobjects: []\n", "gap"),
    ("ligging: 1\nname: x\nwidth: 5\nzones:\n  - {kind: trottoir, from: 0, to: 4}\nobjects: []\n", "profile is 5 m wide"),
    ("ligging: 1\nname: x\nwidth: 4\nzones:\n  - {kind: trotoir, from: 0, to: 4}\nobjects: []\n", "did you mean 'trottoir'"),
    ("ligging: 1\nname: x\nwidht: 4\n", "did you mean 'width'"),
    ("ligging: 1\nname: [x\n", "YAML"),
    (ALIAS_BOMB, "refused"),
    ("", "empty"),
    # found by tests/test_fastload.py: a scalar under `tags` raised TypeError, not a diagnostic
    ("ligging: 1\nname: x\nwidth: 4\ntags: 40\nzones:\n  - {kind: trottoir, from: 0, to: 4}\nobjects: []\n", "tags must be a mapping"),
])
def test_bad_section_is_reported(text: str, fragment: str) -> None:
    with pytest.raises(LiggingError) as caught:
        parse_case(text, "bad.yaml")
    assert fragment in caught.value.diagnostic.message
    assert caught.value.diagnostic.span.file == "bad.yaml"


def test_shipped_cases_load() -> None:
    from checker.io.loader import load_case

    for folder in sorted((ROOT / "cases").iterdir()):
        if (folder / "case.yaml").is_file():
            assert load_case(folder).objects


def test_an_accept_entry_left_empty_is_pending_on_both_paths() -> None:
    from checker.io.loader import parse_json_case

    doc = {"ligging": 1, "name": "t", "width": 4, "zones": [{"kind": "trottoir", "from": 0, "to": 4}],
           "objects": [{"id": "a", "network": "water", "x": 1, "cover": 1, "diameter": "110 mm"}],
           "accept": [{"rule": "R", "subjects": ["a"], "reason": None, "approved_by": None, "until": None}]}
    entry = parse_json_case(json.dumps(doc), "x").accept[0]
    assert (entry.reason, entry.approved_by, entry.until, entry.pending) == ("", "", "", True)
    doc["accept"][0].update(approved_by="Waternet", until=2030)
    entry = parse_json_case(json.dumps(doc), "x").accept[0]
    assert (entry.until, entry.pending) == ("2030-12-31", False)
    del doc["accept"][0]["reason"]
    with pytest.raises(LiggingError, match="an accept entry has no 'reason'"):
        parse_json_case(json.dumps(doc), "x")
