"""Text is text: control and format characters are refused in ids and names and never printed raw.

Case files, packs and proposals that carry a control character (written as a YAML escape,
or raw where YAML lets it through: bidi overrides, zero-width spaces) are refused with
the position of the value. Everything ligging prints that it did not write — file names
above all — reaches the terminal with such characters shown as escapes: the commands run
here in a real process on a case in a folder whose name holds a newline, an OSC title
sequence, BEL and a right-to-left override, and a pack file named the same way.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.io.loader import parse_case, parse_json_case
from dsl.diagnostics import LiggingError
from dsl.packs import load_packs
from dsl.parser import parse_pack
from dsl.safe_text import markup, normal_id, printable, safe_json, unsafe_char
from tests.conftest import case_text

HOSTILE = "case\n\x1b]0;owned\x07\u202e"
PACK = 'pack hostile\n  title "T"\n  authority "A"\n  version "1"\n'
RULE = ('rule HOSTILE-COV\n  title "cover"\n  severity error\n  source "s"\n  require cover watr >= 0.6 m\n')
OBJECTS = ("- {id: w-1, network: water, x: 1, cover: 0.3, diameter: 110 mm}\n"
           "- {id: g-1, network: gasLageDruk, x: 1.2, cover: 0.9, diameter: 110 mm}\n")


def ligging(*args: str, cwd: Path) -> tuple[int, str, str]:
    """Run the real console entry point in its own process; return (exit code, stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-c", "from checker.cli import run; run()", *args], cwd=cwd,
                          capture_output=True, timeout=120)
    return proc.returncode, proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")


def assert_plain(text: str) -> None:
    """No control or format character but newline (and the tab of a table) reaches the terminal."""
    assert unsafe_char(text, allow="\n\t") is None, repr(text)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a case in a folder named HOSTILE and a pack file named HOSTILE + .rules."""
    root = tmp_path_factory.mktemp("hostile")
    (root / HOSTILE).mkdir()
    (root / HOSTILE / "case.yaml").write_text(case_text(OBJECTS), encoding="utf-8")
    (root / f"{HOSTILE}.rules").write_text(PACK + RULE.replace("watr", "water"), encoding="utf-8")
    (root / "lint.rules").write_text(PACK.replace("hostile", "lintme") + RULE.replace("HOSTILE", "LINT"), encoding="utf-8")
    return root


@pytest.mark.parametrize("args", [
    ["check", HOSTILE],
    ["check", "--format", "json", HOSTILE],
    ["check", "--format", "sarif", HOSTILE],
    ["check", "--pack", f"{HOSTILE}.rules", HOSTILE],
    ["layout", HOSTILE, "--pack", "nen7171"],
    ["whatif", HOSTILE, "--set", "NEN-COV-LS=0.6m", "--no-layout"],
    ["whatif", HOSTILE, "--pack", f"{HOSTILE}.rules", "--no-layout"],
    ["whatif", HOSTILE, "--set", "NEN-COV-LS=0.6m", "--no-layout", "--format", "json"],
    ["explain", "HOSTILE-COV", "--pack", f"{HOSTILE}.rules"],
    ["rules", "lint", f"{HOSTILE}.rules", "lint.rules"],
    ["rules", "lint", "lint.rules", "--format", "json"],
], ids=lambda args: "-".join(a for a in args if a.isascii() and a.isprintable())[:40])
def test_commands_print_foreign_file_names_as_escapes(hostile: Path, args: list[str]) -> None:
    code, out, err = ligging(*args, cwd=hostile)
    assert code in (0, 1), err
    assert_plain(out)
    assert_plain(err)
    if "--format" in args and args[args.index("--format") + 1] == "json":
        for line in filter(None, out.splitlines()):
            json.loads(line)  # still JSON, the escapes are JSON escapes
    if args[:2] == ["check", "--format"] and args[2] == "json":
        assert json.loads(out)["case"] == f"{HOSTILE}/case.yaml"  # the data is unchanged, only its spelling


@pytest.mark.parametrize("args", [
    ["check", f"no such\n\x1b[2J{HOSTILE}"],
    ["check", "--pack", f"missing\n{HOSTILE}.rules", HOSTILE],
    ["render", HOSTILE, "-o", f"drawing\n{HOSTILE}.txt"],
    ["import", f"missing\n{HOSTILE}.dxf", "-o", "out.yaml"],
    ["whatif", HOSTILE, "--set", "NEN-COV-LS=0.6\x1b[2Jm"],
    ["whatif", HOSTILE, "--proposals", f"missing\n{HOSTILE}.yaml"],
    ["rules", "lint", "--networks", "water:16\x1b]0;x\x07mm"],
    ["check", "--format", "json\n\x1b[31m", HOSTILE],
], ids=lambda args: "-".join(a for a in args if a.isascii() and a.isprintable())[:40])
def test_errors_about_foreign_text_stay_one_plain_line(hostile: Path, args: list[str]) -> None:
    code, _out, err = ligging(*args, cwd=hostile)
    assert code == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("ligging: "), err
    assert_plain(err)
    assert "Traceback" not in err


def test_render_and_report_of_a_hostile_folder_are_well_formed(hostile: Path) -> None:
    import xml.etree.ElementTree as ET

    code, _, err = ligging("render", HOSTILE, "-o", "drawing.svg", cwd=hostile)
    assert code == 0, err
    ET.fromstring((hostile / "drawing.svg").read_text(encoding="utf-8"))
    code, _, err = ligging("report", HOSTILE, "-o", "report.html", cwd=hostile)
    assert code == 0, err
    html = (hostile / "report.html").read_text(encoding="utf-8")
    assert unsafe_char(html, allow="\n\t") is None
    assert printable(HOSTILE).replace("\\", "\\") in html.replace("&#x27;", "'")


# ------------------------------------------------------------------ refused at load, with the position


@pytest.mark.parametrize("value, description", [
    ('"w\\0"', "U+0000"), ('"w\\x01"', "U+0001"), ('"w\\e[2J"', "U+001B"), ('"w\\x7f"', "U+007F"),
    ('"w\\x9b"', "U+009B"), ('"w\\u202e1"', "U+202E"), ('"w\\u2066"', "U+2066"), ('"w-1\\u200b"', "U+200B"),
    ('"w\\u200d"', "U+200D"), ('"\\ufeffw"', "U+FEFF"), ('"w\\u2028"', "U+2028"), ('"w\\u00ad"', "U+00AD"),
    ('"w\\n1"', "U+000A"), ('"w\\t1"', "U+0009"), ("w\u202e1", "U+202E"), ("w-1\u200b", "U+200B"),
])
def test_control_and_format_characters_in_an_id_are_refused_at_the_value(value: str, description: str) -> None:
    text = case_text(f"- {{id: {value}, network: water, x: 1, cover: 1, diameter: 0.1}}\n")
    with pytest.raises(LiggingError) as caught:
        parse_case(text, "c.yaml")
    found = caught.value.diagnostic
    assert (found.span.line, found.span.column) == (7, 10)
    assert description in found.message and found.message.startswith("id ")
    assert_plain(found.one_line())


@pytest.mark.parametrize("field, line, column", [
    ('name: "a\\x1b]0;t\\x07"', 2, 7),
    ('municipality: "Lei\\u202eden"', 6, 15),
    ('tags: {wijk: "a\\x00"}', 6, 14),
    ('tags: {"w\\u200bijk": a}', 6, 8),
    ('description: "ok\\x85"', 6, 14),
])
def test_control_characters_anywhere_in_a_case_are_refused(field: str, line: int, column: int) -> None:
    text = case_text("", extra=field + "\n") if not field.startswith("name") else case_text("").replace("name: test", field)
    with pytest.raises(LiggingError) as caught:
        parse_case(text, "c.yaml")
    assert (caught.value.diagnostic.span.line, caught.value.diagnostic.span.column) == (line, column)


def test_description_may_break_lines_but_a_name_may_not() -> None:
    assert parse_case(case_text("", extra='description: "two\\nlines\\tand a tab"\n'), "c.yaml").name == "test"
    with pytest.raises(LiggingError) as caught:
        parse_case(case_text("").replace("name: test", 'name: "two\\nlines"'), "c.yaml")
    assert "U+000A" in caught.value.diagnostic.message


def test_json_lines_fast_path_refuses_what_the_yaml_path_refuses() -> None:
    line = ('{"ligging": 1, "name": "t", "width": 4, "zones": [{"kind": "trottoir", "from": 0, "to": 4}], '
            '"objects": [{"id": "w-1\u200b", "network": "water", "x": 1, "cover": 1, "diameter": 0.1}]}\n')
    with pytest.raises(LiggingError) as caught:
        parse_json_case(line, "b.jsonl", 4)
    assert caught.value.diagnostic.span.line == 5 and "U+200B" in caught.value.diagnostic.message


# ------------------------------------------------------------------ ids compared in NFKC


def test_ids_are_compared_after_nfkc_normalisation() -> None:
    fullwidth = "\uff57-\uff11"  # "w-1" in fullwidth letters
    text = case_text(f"- {{id: w-1, network: water, x: 1, cover: 1, diameter: 0.1}}\n"
                     f"- {{id: {fullwidth}, network: water, x: 2, cover: 1, diameter: 0.1}}\n")
    with pytest.raises(LiggingError) as caught:
        parse_case(text, "c.yaml")
    assert caught.value.diagnostic.span.line == 8 and "duplicate id 'w-1'" in caught.value.diagnostic.message
    rack = case_text("- {id: w-1, network: water, x: 1, cover: 1, diameter: 0.1}\n"
                     f"- {{id: r, kind: rack, x: 1, cover: 0.5, width: 1, height: 1, holds: [{fullwidth}]}}\n")
    assert parse_case(rack, "c.yaml").by_id()["r"].holds == ("w-1",)
    connection = case_text("- {id: w-1, network: water, x: 1, cover: 1, diameter: 0.1}\n"
                           f"- {{id: hak-1, kind: crossing, network: water, connects: {fullwidth}, from: 0, to: 1, "
                           "cover: [0.6, 1], diameter: 0.04}\n")
    assert parse_case(connection, "c.yaml").by_id()["hak-1"].connects == "w-1"  # was 'not an object in the case'
    composed = "e\u0301"  # e + combining acute: NFC and NFKC make it one character
    assert parse_case(case_text(f"- {{id: {composed}, network: water, x: 1, cover: 1, diameter: 0.1}}\n"),
                      "c.yaml").objects[0].id == "\u00e9"
    assert normal_id("ﬁ-1") == "fi-1"


# ------------------------------------------------------------------ rule packs, the one check


@pytest.mark.parametrize("text, line, column", [
    (PACK.replace('"T"', '"T\x1b]0;x\x07"'), 2, 11),
    (PACK + "# comment \u202e hidden\n" + RULE.replace("watr", "water"), 5, 11),
    (PACK + RULE.replace('"s"', '"s\u200b"'), 8, 12),
])
def test_pack_text_with_control_characters_is_refused_where_written(text: str, line: int, column: int) -> None:
    with pytest.raises(LiggingError) as caught:
        parse_pack(text, "p.rules")
    assert (caught.value.diagnostic.span.line, caught.value.diagnostic.span.column) == (line, column)


def test_escapes_are_lossless_where_they_must_be() -> None:
    assert json.loads(safe_json(json.dumps({"k": HOSTILE}, ensure_ascii=False))) == {"k": HOSTILE}
    assert "\n" not in printable(HOSTILE) and "\x1b" not in printable(HOSTILE)
    assert markup("<\x01>") == "&lt;\\x01&gt;"
    assert load_packs(["imkl"]).packs  # shipped packs are plain text


def test_library_log_records_do_not_reach_stderr(tmp_path: Path) -> None:
    """ezdxf logs what it repairs in a damaged drawing; without --debug stderr holds only ligging's own lines."""
    from checker.io.dxf import export_dxf
    from checker.io.loader import load_case
    from tests.conftest import ROOT

    drawing = tmp_path / "repaired.dxf"
    export_dxf(load_case(ROOT / "cases" / "leiden-vkls"), load_packs(["imkl"]), drawing)
    lines = drawing.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line == "DIMSTYLE" and lines[i - 1].strip() == "0")
    lines[at] = "0.0"  # an entity type ezdxf ignores with a warning
    drawing.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, _, err = ligging("import", str(drawing), "-o", str(tmp_path / "case.yaml"), cwd=tmp_path)
    assert (code, err) == (0, "")
    code, _, err = ligging("--debug", "import", str(drawing), "-o", str(tmp_path / "case.yaml"), cwd=tmp_path)
    assert code == 0 and "Ignored invalid DXF entity" in err
