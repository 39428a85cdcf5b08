"""docs/case-format.md cannot drift from the loader.

Every example on the page is a complete case: it must load, be checked with the shipped
packs, and produce the findings its `expect:` lists. Every key table on the page must list
exactly the keys the loader reads in that place, and the page must name every zone kind,
object kind and network the loader knows.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from checker.engine.evaluate import Engine
from checker.io import loader
from checker.io.loader import parse_case, parse_json_case
from checker.model.section import KINDS, THEMAS
from dsl.diagnostics import LiggingError
from dsl.packs import load_packs
from nen7171.zones import ZONE_KINDS

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "case-format.md"
TEXT = PAGE.read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(yaml|jsonl)\n(.*?)^```", re.MULTILINE | re.DOTALL)
EXAMPLES = [(m.group(1), m.group(2), TEXT[: m.start()].count("\n") + 2) for m in BLOCK.finditer(TEXT)]


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(load_packs())


def _section(kind: str, text: str, line: int) -> object:
    if kind == "jsonl":
        (only,) = text.splitlines()
        return parse_json_case(only, f"{PAGE.name}", line - 1)
    return parse_case(text, f"{PAGE.name}", line - 1)


@pytest.mark.parametrize("kind, text, line", EXAMPLES, ids=[f"line{line}" for _, _, line in EXAMPLES])
def test_each_example_loads_and_gives_its_expected_findings(kind: str, text: str, line: int, engine: Engine) -> None:
    try:
        section = _section(kind, text, line)
    except LiggingError as exc:
        pytest.fail(f"the example at {PAGE.name}:{line} does not load: {exc.diagnostic.one_line()}")
    findings = engine.evaluate(section)  # type: ignore[arg-type]
    got = {(f.rule, f.kind, f.subjects) for f in findings}
    for exp in section.expect:  # type: ignore[attr-defined]
        assert (exp.rule, exp.kind, exp.subjects) in got, f"{PAGE.name}:{exp.span.line}: {exp.rule} not found; got {sorted(got)}"


def test_the_page_has_an_example_of_every_object_kind() -> None:
    sections = [_section(kind, text, line) for kind, text, line in EXAMPLES]
    shown = {o.kind for s in sections for o in s.objects}  # type: ignore[attr-defined]
    assert set(KINDS) <= shown
    shown_keys = {key for _, text, _ in EXAMPLES for key in re.findall(r"\b(\w+):", text)}
    assert {"root_zone", "holds", "measures", "accept", "expect", "attributes", "units", "sides",
            "built", "disused", "removed", "claim", "likelihood", "connects", "purpose"} <= shown_keys
    assert any(o.width is not None and o.kind in ("cable", "pipe") for s in sections for o in s.objects)  # type: ignore[attr-defined]


def _table(heading: str) -> set[str]:
    """Return the keys (first column, in backticks) of the first table under a heading of the page."""
    start = TEXT.index(f"\n{heading}\n")
    rest = TEXT[start + len(heading) + 2:]
    following = re.search(r"^#{2,3} ", rest, re.MULTILINE)
    body = rest[: following.start()] if following else rest
    rows = re.findall(r"^\| `([a-z_]+)` \|", body, re.MULTILINE)
    assert rows, f"no key table under {heading}"
    return set(rows)


def test_every_key_the_loader_reads_is_described_and_no_other() -> None:
    assert _table("## The file") == set(loader.TOP_KEYS)
    assert _table("## Zones") == set(loader.ZONE_KEYS)
    assert _table("## Objects") == set(loader.COMMON_KEYS)
    kind_tables = {
        ("cable", "pipe"): "### Cables and pipes (round)",
        ("crossing",): "### Crossings",
        ("tree",): "### Trees",
        ("structure", "container"): "### Structures and containers",
        ("rack",): "### Racks",
        ("reservation",): "### Reservations",
        ("infiltration", "wadi", "tree-soil"): "### Infiltration, wadis and tree soil",
    }
    assert {k for kinds in kind_tables for k in kinds} == set(loader.KIND_KEYS)
    for kinds, heading in kind_tables.items():
        for kind in kinds:
            assert _table(heading) == set(loader.KIND_KEYS[kind]), f"{heading} vs the loader's keys of {kind}"
    assert _table("## expect") == set(loader.EXPECT_KEYS)
    assert _table("## accept") == set(loader.ACCEPT_KEYS)
    assert _table("### source") == set(loader.SOURCE_KEYS)
    assert _table("## place") == set(loader.PLACE_KEYS)
    trees = TEXT[TEXT.index("### Trees"):TEXT.index("### Structures")]
    for key in loader.ROOT_ZONE_KEYS:
        assert f"`{key}`" in trees, f"root_zone key {key} not described"


def test_every_zone_kind_object_kind_and_network_is_named() -> None:
    for name in (*ZONE_KINDS, *KINDS, *THEMAS):
        assert f"`{name}`" in TEXT, f"{name} is not named on the page"


def test_the_limits_table_is_the_loaders() -> None:
    from checker.model.section import PLAUSIBLE

    table = TEXT[TEXT.index("The limits, the same"):TEXT.index("## The file")]
    for limit in PLAUSIBLE.values():
        row = next((r for r in table.splitlines() if r.startswith(f"| {limit.shown} |")), None)
        assert row is not None, f"no row for {limit.shown}"
        assert _metres(row.split("|")[2]) == pytest.approx(limit.low)
        assert _metres(row.split("|")[3]) == pytest.approx(limit.high)


def _metres(cell: str) -> float:
    number, unit = cell.split()
    return float(number) * {"m": 1.0, "cm": 0.01, "mm": 0.001}[unit]


def test_the_mistake_shown_is_the_one_ligging_prints() -> None:
    shown = TEXT[TEXT.index("## Mistakes"):]
    line = re.search(r"^ligging: (.*)$", shown, re.MULTILINE).group(1)  # type: ignore[union-attr]
    (_, cable, _) = EXAMPLES[1]
    assert "cover: 0.50" in cable
    with pytest.raises(LiggingError) as caught:
        parse_case(cable.replace("cover: 0.50", "cover: 60"), "case.yaml")
    assert caught.value.diagnostic.one_line() == line


def _example(name: str) -> tuple[str, str, int]:
    """Return the example of the page whose case is called `name`."""
    (found,) = [e for e in EXAMPLES if re.search(rf"^name: {re.escape(name)}$", e[1], re.MULTILINE)]
    return found


def _pairs(kind: str, text: str, line: int, engine: Engine) -> set[tuple[str, tuple[str, ...]]]:
    return {(f.rule, f.subjects) for f in engine.evaluate(_section(kind, text, line))}  # type: ignore[arg-type]


def test_the_time_table_is_the_street_ligging_sees_in_each_year() -> None:
    _, text, line = _example("Time")
    table = TEXT[TEXT.index("| year | the street |"):TEXT.index("## A whole street")]
    rows = re.findall(r"^\| (\d{4})[^|]* \| (.*) \|$", table, re.MULTILINE)
    assert len(rows) >= 3
    planned = parse_case(text, PAGE.name, line - 1).planned
    for year, street in rows:
        shown = dict(re.findall(r"`([a-z0-9-]+)` (planned|existing|disused)", street))
        # the year of the works is what a plain check shows; any year is what --at shows
        for section in ([parse_case(text, PAGE.name, line - 1)] if planned.startswith(year) else []) + \
                [parse_case(text, PAGE.name, line - 1, at=int(year))]:
            assert {o.id: o.status for o in section.objects} == shown, f"{year}: the page says {shown}"


def test_a_house_connection_neither_crosses_nor_overlaps_its_main_or_its_rack(engine: Engine) -> None:
    kind, text, line = _example("House connection")
    assert ", connects: gas-1}" in text
    found = {rule for rule, subjects in _pairs(kind, text, line, engine) if "hak-gas" in subjects}
    assert found == set()
    without = {rule for rule, subjects in _pairs(kind, text.replace(", connects: gas-1}", "}"), line, engine)
               if "hak-gas" in subjects}
    assert {"LIG-OVERLAP", "VKLS-KRUISEN"} <= without  # what the page says it would be without


def test_a_street_lighting_cable_is_left_out_of_the_order(engine: Engine) -> None:
    kind, text, line = _example("Street lighting")
    assert ", purpose: openbare-verlichting}" in text
    assert not any(rule.startswith("NEN-ORDER") for rule, _ in _pairs(kind, text, line, engine))
    without = _pairs(kind, text.replace(", purpose: openbare-verlichting}", "}"), line, engine)
    assert any(rule == "NEN-ORDER-BESTAAND" and "ov-1" in subjects for rule, subjects in without)
