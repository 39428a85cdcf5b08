"""Hostile and broken input: every file in tests/malformed/ ends in exit 2 and one line.

Each corpus file is run through the real CLI entry point (`checker.cli.run`) in a forked
child process, so a crash (segfault, recursion, leaked exception) shows up as a wrong
exit code or a traceback instead of taking pytest down. `.yaml` files are given as the
case, `.rules` files as `--pack` with a valid case. The case's directory is snapshotted
before and after: no run may create or change a file. The limits of the loader, the
rule parser and the pack loader are tested one by one at their boundaries.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path

import pytest

from checker.cli import run
from checker.io import loader
from checker.io.loader import MAX_DEPTH, MAX_FILE_BYTES, MAX_OBJECTS, parse_case
from checker.pipeline.run import discover
from dsl import ast, parser
from dsl.diagnostics import LiggingError
from dsl.packs import MAX_PACK_BYTES, MAX_PACKS, MAX_RULES, compose, load_packs
from dsl.parser import MAX_NESTING, parse_pack
from dsl.safe_text import unsafe_char
from dsl.units import UnitProblem, length
from tests.conftest import ROOT, case_text

CORPUS = Path(__file__).resolve().parent / "malformed"
VALID_CASE = ROOT / "cases" / "leiden-vkls-conform"
PACK = 'pack t\n  title "T"\n  authority "A"\n  version "1"\n'
RULE = 'rule T-{n}\n  title "x"\n  severity error\n  source "s"\n  require cover {sel} >= 0.6 m\n'
TIMEOUT = 20.0
SLOW = 10.0  # seconds; bounds that catch a hang or blow-up, loose enough for a loaded machine


def run_cli(argv: list[str], cwd: Path) -> tuple[int, str]:
    """Run `checker.cli.run(argv)` in a forked child in `cwd`; return (exit code, stderr)."""
    parser._lark()  # build the grammar (and import the CLI, above) once here, so that every child inherits it
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child process
        code = 1
        try:
            os.close(read_fd)
            os.chdir(cwd)
            sys.stdout = open(os.devnull, "w", encoding="utf-8")
            sys.stderr = os.fdopen(write_fd, "w", encoding="utf-8")
            run(argv)
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            traceback.print_exc()  # what the interpreter would print for an uncaught exception
        sys.stderr.flush()
        os._exit(code)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + TIMEOUT
    while True:
        ready, _, _ = select.select([read_fd], [], [], max(deadline - time.monotonic(), 0))
        if not ready:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            os.close(read_fd)
            pytest.fail(f"ligging {' '.join(argv)} did not finish within {TIMEOUT} s")
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    return code, b"".join(chunks).decode("utf-8", "replace")


def snapshot(folder: Path) -> dict[str, str]:
    """Return every entry below `folder` with a hash of its content (or link target)."""
    out: dict[str, str] = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            out[rel] = "link:" + os.readlink(path)
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[rel] = "dir"
    return out


def assert_refused(code: int, stderr: str, name: str) -> None:
    """Exit 2, one line starting with `ligging: ` that names the file, no traceback."""
    assert code == 2, (code, stderr)
    assert "Traceback" not in stderr, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("ligging: "), stderr
    assert name in lines[0], stderr


def corpus_argv(path: Path) -> list[str]:
    """Return the CLI arguments that feed a corpus file to ligging.

    `.rules` files are given as --pack with a valid case, `proposals-*.yaml` as whatif
    --proposals, `.dxf` drawings to import (whose output must never be written), `.args`
    files hold a whole command line as a JSON list (`@case` stands for a valid case);
    other `.yaml` files are the case.
    """
    if path.suffix == ".rules":
        return ["check", "--pack", path.name, str(VALID_CASE)]
    if path.suffix == ".dxf":
        return ["import", path.name, "-o", "never-written.yaml"]
    if path.suffix == ".args":
        return [str(VALID_CASE) if arg == "@case" else arg for arg in json.loads(path.read_text(encoding="utf-8"))]
    if path.name.startswith("proposals-"):
        return ["whatif", str(VALID_CASE), "--proposals", path.name, "--no-layout"]
    return ["check", "--pack", "imkl", path.name]  # the smallest shipped pack: the case is what is tested


# support/ holds files other corpus entries read (a valid drawing for the import command lines)
CORPUS_FILES = sorted(p.name for p in CORPUS.iterdir() if p.name != "support")


def test_corpus_is_large_and_covers_every_family() -> None:
    assert len(CORPUS_FILES) >= 200
    families = ("yaml-", "wrong-type", "wrong-unit", "nan", "inf", "huge-", "alias-bomb", "python-tag",
                "deep-nesting", "binary-garbage", "nul-byte", "not-utf8", "unknown-", "dangling-holds",
                "zones-gap", "rules-missing-source", "rules-unknown-relation", "rules-misspelt-keyword",
                "rules-missing-unit", "rules-include-cycle", "rules-include-escape-dotdot",
                "rules-include-escape-symlink", "rules-redefined-without-override", "rules-deep-parentheses",
                "text-name-", "text-id-", "number-", "unit-", "rules-symlink-loop", "rules-unit-lightyear",
                "dxf-xdata-", "dxf-title-", "dxf-insunits-", "dxf-circle-", "proposals-deep-nesting",
                "proposals-alias-", "cli-networks-", "cli-set-", "cli-import-", "time-", "connects-", "kind-",
                "dxf-xdata-built-", "cli-check-at-")
    for family in families:
        assert any(name.startswith(family) for name in CORPUS_FILES), family


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_corpus_file_is_refused_without_side_effect(name: str) -> None:
    before = snapshot(CORPUS)
    code, stderr = run_cli(corpus_argv(CORPUS / name), CORPUS)
    # a command line names the option or value at fault, not the file that holds it
    assert_refused(code, stderr, "ligging: " if name.endswith(".args") else name)
    assert unsafe_char(stderr, allow="\n") is None, stderr  # foreign text is shown as escapes
    assert snapshot(CORPUS) == before


def test_python_tag_runs_nothing() -> None:
    code, stderr = run_cli(["check", "python-tag-object-apply-os-system.yaml"], CORPUS)
    assert_refused(code, stderr, "python-tag-object-apply-os-system.yaml")
    assert not (CORPUS / "PWNED").exists()


def test_huge_case_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "case.yaml"
    big.write_text(case_text("") + "# " + "x" * (MAX_FILE_BYTES + 10) + "\n", encoding="utf-8")
    before = snapshot(tmp_path)
    started = time.monotonic()
    code, stderr = run_cli(["check", str(tmp_path)], tmp_path)
    assert time.monotonic() - started < SLOW
    assert_refused(code, stderr, "case.yaml")
    assert snapshot(tmp_path) == before


def test_huge_rule_pack_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.rules"
    big.write_text(PACK + "# " + "x" * MAX_PACK_BYTES + "\n", encoding="utf-8")
    code, stderr = run_cli(["check", "--pack", str(big), str(VALID_CASE)], tmp_path)
    assert_refused(code, stderr, "big.rules")


def test_directory_given_as_file(tmp_path: Path) -> None:
    (tmp_path / "case.yaml").mkdir()
    (tmp_path / "dir.rules").mkdir()
    code, stderr = run_cli(["check", str(tmp_path / "case.yaml")], tmp_path)
    assert_refused(code, stderr, "case.yaml")
    code, stderr = run_cli(["check", "--pack", str(tmp_path / "dir.rules"), str(VALID_CASE)], tmp_path)
    assert_refused(code, stderr, "dir.rules")


def test_unlistable_directory_is_an_input_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Path) -> None:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", refuse)
    with pytest.raises(LiggingError) as caught:
        discover([tmp_path])
    assert caught.value.diagnostic.span.file == str(tmp_path)


def test_real_cli_process_refuses_deep_nesting() -> None:
    """The documented command, in its own interpreter, on 10,000 levels of [[[...]]]."""
    name = "deep-nesting-flow-10000.yaml"
    proc = subprocess.run([sys.executable, "-c", "from checker.cli import run; run()", "check", name],
                          cwd=CORPUS, capture_output=True, text=True, timeout=60)
    assert_refused(proc.returncode, proc.stderr, name)
    line, column = (int(v) for v in proc.stderr.split(name + ":")[1].split(":")[:2])
    assert (line, column) == (6, 9 + MAX_DEPTH)  # the first "[" beyond the limit (the top mapping is level 1)


def test_debug_shows_the_traceback() -> None:
    name = "nan-cover.yaml"
    proc = subprocess.run([sys.executable, "-c", "from checker.cli import run; run()", "--debug", "check", name],
                          cwd=CORPUS, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr
    assert "LiggingError" in proc.stderr
    assert name in proc.stderr


# ------------------------------------------------------------------ limits, one by one


def test_case_nesting_limit_boundary() -> None:
    inside = case_text("", extra="tags: {t: " + "[" * (MAX_DEPTH - 2) + "1" + "]" * (MAX_DEPTH - 2) + "}\n")
    with pytest.raises(LiggingError) as caught:
        parse_case(inside, "c.yaml")
    assert "nesting" not in caught.value.diagnostic.message  # refused as a wrong type, not for depth
    deeper = case_text("", extra="tags: {t: " + "[" * MAX_DEPTH + "1" + "]" * MAX_DEPTH + "}\n")
    with pytest.raises(LiggingError) as caught:
        parse_case(deeper, "c.yaml")
    span = caught.value.diagnostic.span
    assert (span.line, span.column) == (6, 11 + MAX_DEPTH - 2)


@pytest.mark.parametrize("levels", [10_000, 100_000])
def test_case_nesting_never_reaches_the_recursive_composer(levels: int) -> None:
    for text in ("objects: " + "[" * levels, "objects:\n" + "- " * levels + "x\n", "a: " + "{a: " * levels):
        started = time.monotonic()
        with pytest.raises(LiggingError):
            parse_case(text, "c.yaml")
        assert time.monotonic() - started < SLOW


def test_object_count_limit() -> None:
    row = "- {{id: o{i}, network: water, x: 1, cover: 1, diameter: 0.1}}\n"
    text = case_text("".join(row.format(i=i) for i in range(MAX_OBJECTS + 1)))
    with pytest.raises(LiggingError) as caught:
        parse_case(text, "c.yaml")
    assert caught.value.diagnostic.span.line == 7  # the first item of the objects list
    assert str(MAX_OBJECTS) in caught.value.diagnostic.message


def test_node_budget_stops_alias_expansion() -> None:
    text = (CORPUS / "alias-bomb-billion-laughs.yaml").read_text(encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(LiggingError) as caught:
        parse_case(text, "bomb.yaml")
    assert time.monotonic() - started < SLOW
    assert str(loader.MAX_NODES) in caught.value.diagnostic.message


@pytest.mark.parametrize("value", ["1.0e+400", "1" + "0" * 30, "0x" + "f" * 5000, "9" * 10_000, "-.inf", ".NaN"])
def test_numbers_out_of_range_are_refused_where_written(value: str) -> None:
    text = case_text("- {id: a, network: water, x: 1, cover: 1, diameter: 0.1}\n", extra=f"tags: {{budget: {value}}}\n")
    with pytest.raises(LiggingError) as caught:
        parse_case(text, "c.yaml")
    assert (caught.value.diagnostic.span.line, caught.value.diagnostic.span.column) == (6, 16)


def test_base60_number_is_text_not_a_crash() -> None:
    with pytest.raises(LiggingError) as caught:
        parse_case(case_text("- {id: a, network: water, x: 1:30, cover: 1, diameter: 0.1}\n"), "c.yaml")
    assert caught.value.diagnostic.span.column == 32


@pytest.mark.parametrize("unit", ["m**10**10", "10**10**10", "degC/0", "(m", "(" * 5000 + "m" + ")" * 5000,
                                  "m*" * 20_000 + "m", "m**m", "__class__", "m**99999999"])
def test_hostile_unit_text_is_refused_quickly(unit: str) -> None:
    started = time.monotonic()
    with pytest.raises(UnitProblem):
        length(f"1 {unit}")
    assert time.monotonic() - started < SLOW


@pytest.mark.parametrize("unit, metres", [("mm", 0.001), ("cm", 0.01), ("m", 1.0), ("km", 1000.0), ("m**2/m", 1.0)])
def test_ordinary_units_still_convert(unit: str, metres: float) -> None:
    assert length(f"1 {unit}") == pytest.approx(metres)


def test_selector_nesting_limit_boundary() -> None:
    sel = "(" * MAX_NESTING + "water" + ")" * MAX_NESTING
    relation = parse_pack(PACK + RULE.format(n="A", sel=sel), "p.rules").rules[0].alternatives[0].relation
    assert isinstance(relation, ast.Cover) and isinstance(relation.selector, ast.SelName)
    assert relation.selector.name == "water"
    negated = "not (" * MAX_NESTING + "water" + ")" * MAX_NESTING
    assert parse_pack(PACK + RULE.format(n="A", sel=negated), "p.rules").rules
    deeper = "(" * (MAX_NESTING + 1) + "water" + ")" * (MAX_NESTING + 1)
    with pytest.raises(LiggingError) as caught:
        parse_pack(PACK + RULE.format(n="A", sel=deeper), "p.rules")
    assert (caught.value.diagnostic.span.line, caught.value.diagnostic.span.column) == (9, 17 + MAX_NESTING)


def test_parentheses_in_strings_and_comments_do_not_count() -> None:
    text = PACK + '# ' + "(" * 500 + '\n' + RULE.format(n="A", sel="water").replace('"x"', '"' + "(" * 500 + '"')
    assert parse_pack(text, "p.rules").rules[0].title == "(" * 500


@pytest.mark.parametrize("levels", [5_000, 100_000])
def test_deep_selector_is_refused_not_overflowed(levels: int) -> None:
    sel = "(" * levels + "water" + ")" * levels
    started = time.monotonic()
    with pytest.raises(LiggingError):
        parse_pack(PACK + RULE.format(n="A", sel=sel), "p.rules")
    assert time.monotonic() - started < SLOW


def test_rule_count_limit() -> None:
    pack = parse_pack(PACK + RULE.format(n="A", sel="water"), "p.rules")
    many = replace(pack, rules=pack.rules * (MAX_RULES + 1))
    with pytest.raises(LiggingError) as caught:
        compose((many,))
    assert str(MAX_RULES) in caught.value.diagnostic.message
    at_limit = replace(pack, rules=pack.rules * MAX_RULES)
    with pytest.raises(LiggingError) as caught:  # within the limit: refused only as a redefinition
        compose((at_limit,))
    assert str(MAX_RULES) not in caught.value.diagnostic.message


def test_pack_count_limit(tmp_path: Path) -> None:
    for i in range(MAX_PACKS + 1):
        include = f"include p{i + 1}\n" if i < MAX_PACKS else ""
        (tmp_path / f"p{i}.rules").write_text(PACK.replace("pack t", f"pack p{i}") + include, encoding="utf-8")
    with pytest.raises(LiggingError) as caught:
        load_packs([str(tmp_path / "p0.rules")])
    assert str(MAX_PACKS) in caught.value.diagnostic.message
    (tmp_path / f"p{MAX_PACKS - 1}.rules").write_text(PACK.replace("pack t", f"pack p{MAX_PACKS - 1}"), encoding="utf-8")
    assert len(load_packs([str(tmp_path / "p0.rules")]).packs) == MAX_PACKS


def test_rule_text_limit_is_checked_before_parsing() -> None:
    with pytest.raises(LiggingError):
        parse_pack("#" * (parser.MAX_RULE_TEXT + 1), "p.rules")


# ------------------------------------------------------------------ include roots


def make_outside_pack(tmp_path: Path) -> tuple[Path, Path]:
    """Create packs/main.rules and a valid pack outside packs/; return (packs dir, outside file)."""
    packs_dir = tmp_path / "packs"
    outside = tmp_path / "elsewhere"
    packs_dir.mkdir()
    outside.mkdir()
    target = outside / "secret.rules"
    target.write_text(PACK.replace("pack t", "pack secret"), encoding="utf-8")
    return packs_dir, target


def test_include_through_symlink_outside_roots_is_refused(tmp_path: Path) -> None:
    packs_dir, target = make_outside_pack(tmp_path)
    (packs_dir / "secret.rules").symlink_to(target)
    (packs_dir / "main.rules").write_text(PACK.replace("pack t", "pack main") + "include secret\n", encoding="utf-8")
    with pytest.raises(LiggingError) as caught:
        load_packs([str(packs_dir / "main.rules")])
    assert caught.value.diagnostic.span.file == str(packs_dir / "main.rules")
    assert caught.value.diagnostic.span.line == 5
    # the same pack is fine once its folder is an allowed root
    assert [p.name for p in load_packs([str(packs_dir / "main.rules")], roots=(target.parent,)).packs] == ["secret", "main"]


def test_include_through_symlinked_folder_is_refused(tmp_path: Path) -> None:
    packs_dir, target = make_outside_pack(tmp_path)
    (packs_dir / "vendor").symlink_to(target.parent, target_is_directory=True)
    (packs_dir / "main.rules").write_text(PACK.replace("pack t", "pack main") + "include secret\n", encoding="utf-8")
    (packs_dir / "secret.rules").symlink_to(packs_dir / "vendor" / "secret.rules")
    with pytest.raises(LiggingError):
        load_packs([str(packs_dir / "main.rules")])


def test_include_cannot_name_a_path() -> None:
    with pytest.raises(LiggingError) as caught:
        load_packs([str(CORPUS / "rules-include-escape-dotdot.rules")])
    assert caught.value.diagnostic.span.line == 6


def test_symlinked_pack_on_command_line_may_include_its_neighbours(tmp_path: Path) -> None:
    real = tmp_path / "real"
    linked = tmp_path / "linked"
    real.mkdir()
    linked.mkdir()
    (real / "main.rules").write_text(PACK.replace("pack t", "pack main") + "include helper\n", encoding="utf-8")
    (linked / "main.rules").symlink_to(real / "main.rules")
    (linked / "helper.rules").write_text(PACK.replace("pack t", "pack helper"), encoding="utf-8")
    assert [p.name for p in load_packs([str(linked / "main.rules")]).packs] == ["helper", "main"]


def test_no_code_execution_primitives_in_the_tree() -> None:
    forbidden = re.compile(r"\b(eval|exec|__import__)\(|\bpickle\.|import pickle|\bmarshal\.|os\.system"
                           r"|yaml\.(load|unsafe_load|full_load|load_all)\(|yaml\.(Unsafe|Full)?Loader\b")
    for folder in ("dsl", "checker", "nen7171"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            found = forbidden.search(path.read_text(encoding="utf-8"))
            assert found is None, f"{path.relative_to(ROOT)} uses {found.group() if found else ''}"



# ------------------------------------------------------------------ safe output, end to end through the CLI

HOSTILE = "<script>alert(1)</script>"


def test_hostile_case_name_is_text_in_svg_and_html(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    case = tmp_path / "case.yaml"
    case.write_text(case_text("- {id: w, network: water, x: 1, cover: 0.3, diameter: 110 mm}\n")
                    .replace("name: test", f"name: '{HOSTILE}'"), encoding="utf-8")
    code, stderr = run_cli(["render", str(case), "-o", "drawing.svg"], tmp_path)
    assert code == 0, stderr
    svg = (tmp_path / "drawing.svg").read_text(encoding="utf-8")
    assert "<script" not in svg
    root = ET.fromstring(svg)
    assert not [el for el in root.iter() if el.tag.rsplit("}", 1)[-1] == "script"]
    assert any(HOSTILE in (el.text or "") for el in root.iter())  # shown as text
    code, stderr = run_cli(["report", str(case), "-o", "report.html"], tmp_path)
    assert code == 0, stderr
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert HOSTILE not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_formula_in_backlog_note_is_neutralised_in_exports(tmp_path: Path) -> None:
    import csv

    from openpyxl import load_workbook  # type: ignore[import-untyped]

    formula = '=HYPERLINK("http://x")'
    code, stderr = run_cli(["backlog", "add", "--rule", "NEN-COV-LS", "--title", formula, "--note", formula,
                            "--backlog", "b.db"], tmp_path)
    assert code == 0, stderr
    for fmt in ("csv", "xlsx"):
        code, stderr = run_cli(["backlog", "export", "--format", fmt, "-o", f"out.{fmt}", "--backlog", "b.db"], tmp_path)
        assert code == 0, stderr
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as fh:
        cells = [cell for row in csv.reader(fh) for cell in row]
    sheet = load_workbook(tmp_path / "out.xlsx").active
    assert sheet is not None
    values = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    for exported in (cells, values):
        assert any(formula in cell for cell in exported)  # the text survives
        assert not any(cell.lstrip().startswith(("=", "+", "@")) for cell in exported)  # never as a formula
