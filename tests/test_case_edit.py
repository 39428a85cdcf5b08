"""The round-trip case writer: untouched bytes stay, edited values keep the file's style, writes are safe."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from checker.engine.evaluate import Engine
from checker.io import case_edit as ce
from checker.io.loader import parse_case
from checker.model.findings import counts
from dsl.diagnostics import LiggingError
from dsl.packs import load_packs
from tests.conftest import ROOT, case_text

CASES = sorted((ROOT / "cases").glob("*/case.yaml"))


def changed_lines(before: str, after: str) -> tuple[set[int], set[int]]:
    """Return the 1-based numbers of lines removed from `before` and added in `after`."""
    removed: set[int] = set()
    added: set[int] = set()
    matcher = difflib.SequenceMatcher(a=before.splitlines(), b=after.splitlines(), autojunk=False)
    for op, a0, a1, b0, b1 in matcher.get_opcodes():
        if op != "equal":
            removed.update(range(a0 + 1, a1 + 1))
            added.update(range(b0 + 1, b1 + 1))
    return removed, added


def line_of_id(text: str, obj_id: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if f"id: {obj_id}," in line)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.parent.name)
def test_setting_every_length_to_its_own_value_changes_no_byte(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    section = parse_case(text, str(path))
    lines = text.splitlines()
    out = text
    edits = 0
    for obj in section.objects:
        written = "\n".join(lines[obj.span.line - 1:obj.span.end_line])
        values = {"x": obj.x, "cover": obj.cover, "diameter": obj.diameter, "width": obj.width, "height": obj.height,
                  "from": obj.start, "to": obj.end}
        if obj.kind == "crossing":
            values["cover"] = [obj.cover, obj.cover_end]
        for key, value in values.items():
            if value is not None and re.search(rf"[{{,]\s*{key}: ", written):
                out = ce.set_value(out, obj.id, key, value)
                edits += 1
    assert edits > 3 * len(section.objects) // 2
    assert out == text


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.parent.name)
def test_write_without_edit_keeps_every_byte(path: Path, tmp_path: Path) -> None:
    copy = tmp_path / "case.yaml"
    copy.write_bytes(path.read_bytes())
    opened = ce.read_case_text(copy)
    ce.write_case_text(opened, opened.text)
    assert copy.read_bytes() == path.read_bytes()


def test_a_cover_edit_touches_only_its_line() -> None:
    text = (ROOT / "cases/amsterdam-wallengebied/case.yaml").read_text()
    out = ce.set_value(text, "kpn-1", "cover", 0.6)
    line = line_of_id(text, "kpn-1")
    assert changed_lines(text, out) == ({line}, {line})
    assert "cover: 0.60," in out.splitlines()[line - 1]
    assert parse_case(out, "x").by_id()["kpn-1"].cover == pytest.approx(0.6)


def test_lengths_keep_the_unit_the_file_used() -> None:
    text = (ROOT / "cases/amsterdam-wallengebied/case.yaml").read_text()
    out = ce.set_values(text, "gas-1", {"diameter": 0.11, "x": 1.1})
    line = out.splitlines()[line_of_id(out, "gas-1") - 1]
    assert "diameter: 110 mm," in line and "x: 1.10," in line
    out = ce.set_value(text, "boom-1", "diameter", 0.45)  # written "0.5 m": stays in metres
    assert "diameter: 0.45 m," in out
    quoted = case_text('- {id: a, network: water, x: 1, cover: "1.00 m", diameter: "110 mm"}\n')
    out = ce.set_values(quoted, "a", {"cover": 1.2, "diameter": 0.0635})
    assert 'cover: "1.20 m", diameter: "63.5 mm"}' in out
    assert parse_case(out, "x").objects[0].diameter == pytest.approx(0.0635)


def test_bare_numbers_follow_the_files_units() -> None:
    text = case_text("- {id: a, network: water, x: 100, cover: 60, diameter: 11}\n", extra="units: cm\n", width=400)
    out = ce.set_value(text, "a", "x", 1.255)
    assert "x: 125.5," in out
    assert parse_case(out, "x").objects[0].x == pytest.approx(1.255)


def test_adding_and_removing_keys() -> None:
    text = (ROOT / "cases/amsterdam-wallengebied/case.yaml").read_text()
    out = ce.set_value(text, "ziggo-1", "status", None)  # status on the continuation line
    assert changed_lines(text, out)[0] == {line_of_id(text, "ziggo-1"), line_of_id(text, "ziggo-1") + 1}
    assert parse_case(out, "x").by_id()["ziggo-1"].status == "planned"
    out = ce.set_value(text, "kpn-1", "status", "existing")
    assert out.splitlines()[line_of_id(out, "kpn-1") - 1].endswith("diameter: 50 mm, status: existing}")
    out = ce.set_value(text, "kpn-1", "id", "kpn-1a")
    assert parse_case(out, "x").objects[0].id == "kpn-1a"
    out = ce.set_value(text, "kpn-1", "owner", "Eurofiber: dark fibre")  # needs quotes in YAML
    assert parse_case(out, "x").objects[0].owner == "Eurofiber: dark fibre"
    out = ce.set_value(text, "kpn-1", "network", None)
    assert "{id: kpn-1, owner: KPN" in out  # removed with its comma
    out = ce.set_value(text, "kademuur", "id", None)
    assert "{kind: structure, x: 6.20" in out  # the first key removed with the comma after it


def test_block_style_objects_are_edited_in_block_style() -> None:
    text = case_text("""\
        - id: a          # the first one
          network: water
          x: 1.0
          cover: 1.0
          diameter: 110 mm
        """)
    out = ce.set_value(text, "a", "x", 1.5)
    assert "  x: 1.5\n" in out and "# the first one" in out
    out = ce.set_value(out, "a", "status", "existing")
    assert out.splitlines()[-1] == "    status: existing"
    out = ce.set_value(out, "a", "x", None)
    assert "x:" not in out
    out = ce.add_object(text, {"id": "b", "network": "gasLageDruk", "x": 2.0, "cover": 0.6, "diameter": 0.11})
    section = parse_case(out, "x")
    assert [o.id for o in section.objects] == ["a", "b"]
    assert "\n  - id: b\n    network: gasLageDruk\n    x: 2.0\n" in out and "diameter: 110 mm" in out
    assert ce.delete_object(out, "b") == text


def test_add_object_in_the_files_flow_style() -> None:
    text = (ROOT / "cases/amsterdam-wallengebied/case.yaml").read_text()
    out = ce.add_object(text, {"id": "w-2", "network": "water", "owner": "Waternet", "x": 2.1, "cover": 1.0,
                               "diameter": 0.11, "attributes": {"pressure": "6 bar"}, "status": "planned"})
    removed, added = changed_lines(text, out)
    assert not removed and len(added) == 2  # wrapped like its neighbours
    new = out.splitlines()[min(added) - 1:max(added)]
    assert new[0].startswith("  - {id: w-2, network: water, owner: Waternet, x: 2.10, cover: 1.00, diameter: 110 mm,")
    assert new[1].startswith("     ") and new[1].endswith("}")
    assert max(len(line) for line in new) <= 100
    w2 = parse_case(out, "x").by_id()["w-2"]
    assert (w2.x, w2.cover, w2.diameter, w2.attribute("pressure")) == pytest.approx((2.1, 1.0, 0.11, 6e5))
    with pytest.raises(ce.EditError, match="already exists"):
        ce.add_object(out, {"id": "w-2", "network": "water", "x": 1.0, "cover": 1.0})


def test_delete_object_and_its_place_in_a_rack() -> None:
    text = (ROOT / "cases/leiden-vkls/case.yaml").read_text()
    out = ce.delete_object(text, "gas-1")
    section = parse_case(out, "x")
    assert "gas-1" not in section.by_id() and "gas-1" not in section.by_id()["vkls-1"].holds
    gas = line_of_id(text, "gas-1")
    rack_holds = next(i for i, line in enumerate(text.splitlines(), 1) if "holds:" in line)
    assert changed_lines(text, out)[0] == {gas, gas + 1, rack_holds}
    assert "# tiers 3 and 4 swapped" in out  # comments stay
    with pytest.raises(ce.EditError, match="no object with id 'nope'"):
        ce.delete_object(text, "nope")


def test_a_rack_moves_with_what_it_holds() -> None:
    text = (ROOT / "cases/leiden-vkls/case.yaml").read_text()
    before = parse_case(text, "x").by_id()
    out = ce.move_object(text, "vkls-1", dx=0.5, dz=0.1)
    after = parse_case(out, "x").by_id()
    moved = {"vkls-1", *before["vkls-1"].holds}
    for obj_id, obj in before.items():
        shift = (0.5, 0.1) if obj_id in moved else (0.0, 0.0)
        if obj.connects in moved:
            shift = (0.25, 0.0)  # a house connection: the end at its main follows, the facade end stays
        assert (after[obj_id].x - obj.x, after[obj_id].cover - obj.cover) == pytest.approx(shift)
    out = ce.move_object(text, "hak-riool", dx=0.1, dz=0.05)  # a crossing: from/to and both covers
    hak = parse_case(out, "x").by_id()["hak-riool"]
    assert (hak.start, hak.end, hak.cover, hak.cover_end) == pytest.approx((0.1, 6.9, 1.45, 1.9))


def test_remove_expect_takes_its_comment_and_one_blank_line() -> None:
    text = (ROOT / "cases/amsterdam-wallengebied/case.yaml").read_text()
    out = ce.remove_expect(text)
    assert "expect:" not in out and "Key findings" not in out
    assert "\n\n\n" not in out and "# An illustrative granted deviation" in out
    assert parse_case(out, "x").expect == ()
    assert ce.remove_expect(out) == out
    removed, added = changed_lines(text, out)
    assert not added and len(removed) == 7


def test_add_accept_is_pending_and_still_counts() -> None:
    text = (ROOT / "cases/amsterdam-wallengebied/case.yaml").read_text()
    out = ce.add_accept(text, "NEN-CLR-GAS-WATER", ["w-1", "gas-1"], measured=0.2083)
    assert not changed_lines(text, out)[0]  # only added lines
    section = parse_case(out, "x")
    entry = section.accept[-1]
    assert (entry.rule, entry.subjects, entry.measured, entry.pending) == ("NEN-CLR-GAS-WATER", ("gas-1", "w-1"), 0.2083, True)
    findings = Engine(load_packs([])).evaluate(section)
    gas_water = next(f for f in findings if f.rule == "NEN-CLR-GAS-WATER")
    assert dict(gas_water.accepted)["state"] == "pending" and counts(gas_water)
    granted = next(f for f in findings if f.rule == "TEL-COV-DT")
    assert dict(granted.accepted)["state"] == "accepted" and not counts(granted)
    # filled in, the same entry grants the deviation
    filled = out.replace("reason:        #", 'reason: "geen ruimte" #').replace(
        "approved_by:   #", "approved_by: Waternet #").replace("until:         #", "until: 2030 #")
    assert not parse_case(filled, "x").accept[-1].pending
    fresh = ce.add_accept((ROOT / "cases/nen-nieuwbouw-trottoir/case.yaml").read_text(), "NEN-COV-LS", ["ls-1"])
    assert fresh.endswith("\naccept:\n  - rule: NEN-COV-LS\n    subjects: [ls-1]\n"
                          "    reason:        # to fill in: why the deviation is needed\n"
                          "    approved_by:   # to fill in: who granted it (pending approval until filled in)\n"
                          "    until:         # to fill in: a date (2030-12-31) or a year\n")
    assert parse_case(fresh, "x").accept[0].pending


def test_write_refuses_a_file_changed_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text((ROOT / "cases/amsterdam-wallengebied/case.yaml").read_text())
    opened = ce.read_case_text(tmp_path)
    path.write_text(opened.text + "# someone else\n")
    with pytest.raises(LiggingError, match="changed on disk since it was opened") as err:
        ce.write_case_text(opened, ce.set_value(opened.text, "kpn-1", "x", 0.3))
    assert "\n" not in str(err.value) and str(err.value).startswith(str(path))
    assert path.read_text().endswith("# someone else\n")


def test_write_refuses_an_invalid_case_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text((ROOT / "cases/amsterdam-wallengebied/case.yaml").read_text())
    os.chmod(path, 0o640)
    opened = ce.read_case_text(path)
    with pytest.raises(LiggingError, match="cannot be negative"):
        ce.write_case_text(opened, ce.set_value(opened.text, "kpn-1", "cover", -0.2))
    saved = ce.write_case_text(opened, ce.set_value(opened.text, "kpn-1", "cover", 0.6))
    assert path.read_text() == saved.text and "cover: 0.60" in saved.text
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.yaml"]
    ce.write_case_text(saved, saved.text)  # the returned handle knows the new content


def test_a_failed_rename_leaves_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "case.yaml"
    original = (ROOT / "cases/amsterdam-wallengebied/case.yaml").read_text()
    path.write_text(original)
    opened = ce.read_case_text(path)

    def crash(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ce.os, "replace", crash)
    with pytest.raises(LiggingError, match="cannot write: No space left"):
        ce.write_case_text(opened, ce.set_value(original, "kpn-1", "cover", 0.6))
    assert path.read_text() == original and [p.name for p in tmp_path.iterdir()] == ["case.yaml"]


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(CASES), st.data())
def test_random_moves_change_only_the_moved_objects(path: Path, data: st.DataObject) -> None:
    text = path.read_text()
    section = parse_case(text, "x")
    movable = [o for o in section.objects if o.kind not in ("tree", "rack")]
    obj = data.draw(st.sampled_from(movable))
    dx = data.draw(st.floats(-0.5, 0.5).map(lambda v: round(v, 3)))
    dz = data.draw(st.floats(0.0, 0.5).map(lambda v: round(v, 3)))
    following = [o for o in section.objects if o.connects == obj.id]
    try:
        out = ce.move_object(text, obj.id, dx=dx, dz=dz)
    except ce.EditError as exc:
        # only a move that takes a line past the far end of its house connection is refused
        assert following and "past the far end of its house connection" in str(exc)
        return
    after = parse_case(out, "x").by_id()
    for other in section.objects:
        moved = other.id == obj.id
        if other in following:
            # a house connection: its end at the line moves along, its far end stays
            assert after[other.id].x == pytest.approx(other.x + dx / 2, abs=1e-9)
            continue
        assert after[other.id].x == pytest.approx(other.x + (dx if moved else 0.0), abs=1e-9)
        assert after[other.id].cover == pytest.approx(other.cover + (dz if moved else 0.0), abs=1e-9)
    lines = {line_of_id(text, o.id) + k for o in [obj, *following] for k in (0, 1)}
    assert changed_lines(text, out)[0] <= lines


def test_text_the_loader_would_misread_is_quoted_and_non_ascii_keeps_positions() -> None:
    text = case_text("- {id: a, network: water, owner: Gemeente Zoetermeer — beheer, x: 1.0, cover: 1.0, diameter: 110 mm}\n",
                     extra="description: \"straat met één boom — €\"\n")
    for owner in ("yes", "on", "1e3", "null", "a: b", "#x", " lead"):
        out = ce.set_value(text, "a", "owner", owner)
        assert parse_case(out, "x").objects[0].owner == owner.strip()
    out = ce.set_value(text, "a", "x", 1.25)
    assert "owner: Gemeente Zoetermeer — beheer, x: 1.25, cover: 1.0," in out


def test_a_house_connection_follows_its_main_and_keeps_the_facade_end() -> None:
    text = (ROOT / "cases" / "leiden-vkls" / "case.yaml").read_text(encoding="utf-8")
    # the rack holds kpn-1, whose house connection hak-kpn runs from the facade (0) to it (0.42)
    after = parse_case(ce.move_object(text, "vkls-1", dx=0.20, dz=0.10), "leiden-vkls.yaml").by_id()
    hak = after["hak-kpn"]
    assert (hak.start, hak.end) == pytest.approx((0.0, 0.62))
    assert (hak.cover, hak.cover_end) == pytest.approx((0.335, 0.435))
    assert hak.x == pytest.approx(0.31)
    # a connection of a line that did not move stays as drawn
    assert (after["hak-eurofiber"].start, after["hak-eurofiber"].end) == pytest.approx((0.0, 1.60))


def test_a_house_connection_with_one_cover_becomes_a_slope() -> None:
    text = """ligging: 1
name: one cover
width: 4.0
zones:
  - {kind: trottoir, from: 0, to: 4.0}
objects:
  - {id: dt-1, network: datatransport, x: 1.5, cover: 0.6, diameter: 50 mm}
  - {id: hak-1, kind: crossing, network: datatransport, connects: dt-1, from: 0, to: 1.5, cover: 0.55, diameter: 40 mm}
"""
    after = ce.move_object(text, "dt-1", dx=-0.5, dz=0.2)
    assert "to: 1.0," in after and "cover: [0.55, 0.75]" in after
    hak = parse_case(after, "one.yaml").by_id()["hak-1"]
    assert (hak.start, hak.end, hak.cover, hak.cover_end) == pytest.approx((0.0, 1.0, 0.55, 0.75))
