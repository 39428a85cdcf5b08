"""Cost bounded by the input: every count that drives a loop has a limit, tested at its boundary.

Each test gives a generous wall-clock budget (a loaded two-core machine passes it many
times over); speed itself is measured in bench/. What is tested here is that the work
stops growing with hostile input: a limit is refused quickly with one line, and input
just inside the limit still finishes.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from checker import cli
from checker.advice import fit, layout, suggest
from checker.engine.lint import lint, parse_networks, required_width
from checker.io import dxf, jsonl, loader
from checker.io.imkl import axis, cut, reader
from checker.model import sizes
from checker.model.sizes import MAX_LINES
from checker.policy import backlog_csv
from checker.policy import whatif as wi
from checker.views import render
from checker.views.editor import server, session
from dsl import packs, parser, units
from dsl.diagnostics import LiggingError
from dsl.packs import load_packs
from tests.conftest import ROOT

BUDGET = 60.0  # seconds for work just inside a limit
QUICK = 10.0  # seconds to refuse work beyond a limit
LINT_A = str(ROOT / "tests" / "data" / "lint" / "lint-a.rules")


def test_lint_networks_refuses_2000_lines_at_once() -> None:
    started = time.monotonic()
    with pytest.raises(LiggingError) as caught:
        parse_networks(",".join(["water:160mm", "gasLageDruk:110mm"] * 1000))
    assert time.monotonic() - started < QUICK
    assert caught.value.diagnostic.span.file == "--networks" and str(MAX_LINES) in caught.value.diagnostic.message


def test_lint_networks_at_the_limit_finishes() -> None:
    nets = parse_networks(",".join(["datatransport:50mm", "water:160mm", "gasLageDruk:110mm", "laagspanning:60mm"]
                                   * (MAX_LINES // 4)))
    assert len(nets) == MAX_LINES
    started = time.monotonic()
    found = [d for d in lint([], nets, 3.0) if d.code in ("L303", "L304")]
    assert time.monotonic() - started < BUDGET
    assert [d.severity for d in found] == ["error"]  # forty lines do not fit in 3 m


def test_beyond_eight_lines_the_order_relations_still_hold() -> None:
    """Beyond eight lines the given order was kept even where the packs forbid it, and the width came out 0.00 m."""
    loaded = load_packs([LINT_A])
    nets = parse_networks("water:160mm," * 8 + "datatransport:50mm")  # datatransport must come before water
    need, arrangement = required_width(loaded, nets)
    assert need is not None and need > 1.5 + 8 * 0.16  # 1.5 m between telecom and water, eight pipes side by side
    assert arrangement[0] == "datatransport"
    eight = required_width(loaded, nets[-2:] + nets[:6])  # eight lines: every permutation tried, same first line
    assert eight[1][0] == "datatransport"


def test_no_order_at_all_is_reported_not_a_zero_width(tmp_path: Path) -> None:
    pack = tmp_path / "cycle.rules"
    pack.write_text('pack cycle\n  title "T"\n  authority "A"\n  version "1"\ninclude imkl\n'
                    'rule C-1\n  title "x"\n  severity error\n  source "s"\n  require order left-to-right: water, gas\n'
                    'rule C-2\n  title "x"\n  severity error\n  source "s"\n  require order left-to-right: gas, datatransport\n'
                    'rule C-3\n  title "x"\n  severity error\n  source "s"\n  require order left-to-right: datatransport, water\n',
                    encoding="utf-8")
    nets = parse_networks("water:160mm,gasLageDruk:110mm,datatransport:50mm," + "water:160mm," * 7)
    found = [d for d in lint([str(pack)], nets, 10.0) if d.code == "L303"]
    assert found and "no left-to-right order" in found[0].message


def proposals_file(tmp_path: Path, count: int, sets: int = 1) -> Path:
    """Write a proposals file of `count` aliases of one proposal making `sets` changes."""
    changes = ", ".join(["NEN-COV-W: 0.60m"] + [f"R-{k}: 0.5m" for k in range(sets - 1)])
    path = tmp_path / "proposals.yaml"
    path.write_text(f"- &p {{name: p, set: {{{changes}}}}}\n" + "- *p\n" * (count - 1), encoding="utf-8")
    return path


def test_20000_aliases_of_one_proposal_are_refused_at_once(tmp_path: Path) -> None:
    path = proposals_file(tmp_path, 20_000)
    started = time.monotonic()
    with pytest.raises(LiggingError) as caught:
        wi.load_proposals(path)
    assert time.monotonic() - started < QUICK
    assert str(wi.MAX_PROPOSALS) in caught.value.diagnostic.message


def test_proposal_and_change_limits_at_their_boundary(tmp_path: Path) -> None:
    assert len(wi.load_proposals(proposals_file(tmp_path, wi.MAX_PROPOSALS))) == wi.MAX_PROPOSALS
    with pytest.raises(LiggingError):
        wi.load_proposals(proposals_file(tmp_path, wi.MAX_PROPOSALS + 1))
    assert len(wi.load_proposals(proposals_file(tmp_path, 1, wi.MAX_SETS))[0].sets) == wi.MAX_SETS
    with pytest.raises(LiggingError) as caught:
        wi.load_proposals(proposals_file(tmp_path, 1, wi.MAX_SETS + 1))
    assert caught.value.diagnostic.span.line == 1
    with pytest.raises(LiggingError):
        wi.proposals_from_args([f"NEN-COV-W={k}m" for k in range(wi.MAX_SETS + 1)], [], None)


def test_deeply_nested_or_list_keyed_proposals_are_bad_input(tmp_path: Path) -> None:
    """Both ended in exit 3: RecursionError, and a node repr printed as the rule."""
    deep = tmp_path / "deep.yaml"
    deep.write_text("- name: p\n  set: {NEN-COV-W: " + "[" * 100_000 + "]" * 100_000 + "}\n", encoding="utf-8")
    keyed = tmp_path / "keyed.yaml"
    keyed.write_text("- name: p\n  set: {[1, 2]: 0.6m}\n", encoding="utf-8")
    for path in (deep, keyed):
        started = time.monotonic()
        with pytest.raises(LiggingError) as caught:
            wi.load_proposals(path)
        assert time.monotonic() - started < QUICK
        assert caught.value.diagnostic.span.file == str(path) and caught.value.diagnostic.span.line == 2
        assert "ScalarNode" not in caught.value.diagnostic.message


def _mib(value: int) -> str:
    return f"{value // 2**20} MiB"


def _count(value: int) -> str:
    return f"{value:,}"


def _kib(value: int) -> str:
    return f"{value // 2**10} KiB"


def _metres(value: float) -> str:
    return f"{value:g} m"


@pytest.mark.parametrize("constant, value, shown", [
    ("loader.MAX_FILE_BYTES", loader.MAX_FILE_BYTES, _mib),
    ("loader.MAX_NODES", loader.MAX_NODES, _count),
    ("loader.MAX_DEPTH", loader.MAX_DEPTH, _count),
    ("loader.MAX_OBJECTS", loader.MAX_OBJECTS, _count),
    ("loader.MAX_NUMBER", loader.MAX_NUMBER, lambda v: f"10^{len(str(v)) - 1}"),
    ("packs.MAX_PACK_BYTES", packs.MAX_PACK_BYTES, _count),
    ("parser.MAX_RULE_TEXT", parser.MAX_RULE_TEXT, _count),
    ("parser.MAX_NESTING", parser.MAX_NESTING, _count),
    ("packs.MAX_PACKS", packs.MAX_PACKS, _count),
    ("packs.MAX_RULES", packs.MAX_RULES, _count),
    ("dxf.MAX_DXF_BYTES", dxf.MAX_DXF_BYTES, _mib),
    ("dxf.LABEL_BUDGET", dxf.LABEL_BUDGET, _count),
    ("dxf.XDATA_BYTES", dxf.XDATA_BYTES, _count),
    ("whatif.MAX_PROPOSALS", wi.MAX_PROPOSALS, _count),
    ("whatif.MAX_SETS", wi.MAX_SETS, _count),
    ("whatif.MAX_SET_TEXT", wi.MAX_SET_TEXT, _count),
    ("sizes.MAX_LINES", MAX_LINES, _count),
    ("units.MAX_UNIT_TEXT", units.MAX_UNIT_TEXT, _count),
    ("jsonl.MAX_LINE_BYTES", jsonl.MAX_LINE_BYTES, _mib),
    ("sizes.MAX_COPIES", sizes.MAX_COPIES, _count),
    ("sizes.MAX_DIAMETER", sizes.MAX_DIAMETER, _metres),
    ("fit.MAX_WIDTH", fit.MAX_WIDTH, _metres),
    ("suggest.MAX_TRIES", suggest.MAX_TRIES, _count),
    ("suggest.MAX_EVALUATIONS", suggest.MAX_EVALUATIONS, _count),
    ("suggest.FINDINGS_PER_EVALUATION", suggest.FINDINGS_PER_EVALUATION, _count),
    ("layout.TIME_LIMIT", layout.TIME_LIMIT, lambda v: f"{v:g} s"),
    ("render.MAX_TICKS", render.MAX_TICKS, _count),
    ("render.MAX_MARKED", render.MAX_MARKED, _count),
    ("render.MAX_SCALE", render.MAX_SCALE, lambda v: f"{v:g}"),
    ("reader.MAX_GML_BYTES", reader.MAX_GML_BYTES, _count),
    ("reader.MAX_RATIO", reader.MAX_RATIO, lambda v: f"{v} times"),
    ("reader.MAX_WARNINGS", reader.MAX_WARNINGS, _count),
    ("axis.MAX_STATIONS", axis.MAX_STATIONS, _count),
    ("cut.MIN_WIDTH", cut.MIN_WIDTH, lambda v: f"{v:g} to"),
    ("cut.MAX_WIDTH", cut.MAX_WIDTH, lambda v: f"to {v:g} m"),
    ("backlog_csv.MAX_CSV_BYTES", backlog_csv.MAX_CSV_BYTES, _count),
    ("backlog_csv.MAX_LEGACY_OCCURRENCES", backlog_csv.MAX_LEGACY_OCCURRENCES, _count),
    ("backlog_csv.MAX_SUBJECTS", backlog_csv.MAX_SUBJECTS, _count),
    ("server.MAX_BODY", server.MAX_BODY, _kib),
    ("session.MAX_HISTORY", session.MAX_HISTORY, _count),
    ("reader.MAX_CABLE", reader.MAX_CABLE, _metres),
    ("cli.MAX_ENTRY", cli.MAX_ENTRY, lambda v: f"2^{v.bit_length() - 1}"),
])
def test_docs_state_each_limit_as_the_code_has_it(constant: str, value: float, shown: Callable[[float], str]) -> None:
    doc = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    lines = [line for line in doc.splitlines() if f"`{constant}`" in line or f"`dsl.{constant}`" in line]
    assert lines, f"docs/limits.md does not name {constant}"
    assert any(shown(value) in line for line in lines), (constant, shown(value), lines)


# module-level MAX_ constants that bound no input: the layout model's slack variables
NOT_INPUT_LIMITS = {"layout.MAX_SLACK"}


def test_every_max_constant_in_the_code_is_in_the_docs() -> None:
    doc = (ROOT / "docs" / "limits.md").read_text(encoding="utf-8")
    for folder in ("checker", "dsl", "nen7171"):
        for path in (ROOT / folder).rglob("*.py"):
            for name in re.findall(r"^(MAX_[A-Z_]+) *=", path.read_text(encoding="utf-8"), re.MULTILINE):
                constant = f"{path.stem}.{name}"
                assert constant in NOT_INPUT_LIMITS or f"`{constant}`" in doc or f"`dsl.{constant}`" in doc, constant


def test_docs_list_the_accepted_units() -> None:
    doc = " ".join((ROOT / "docs" / "limits.md").read_text(encoding="utf-8").split())
    for dimension, names in units.ACCEPTED_UNITS.items():
        if dimension != "number":
            assert f"{', '.join(names[:-1])} or {names[-1]}" in doc, dimension
