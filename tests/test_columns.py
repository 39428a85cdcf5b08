"""The column reader (`checker.io.columns`) gives the very Sections and errors the per-line loader gives.

A batch chunk is decoded straight into columns; whatever it cannot judge goes the exact
per-line path. These tests hold the two to each other on generated streets, the shipped
cases written as JSON lines, and seeded mutations of both (wrong types, units, negative
sizes, unknown keys and kinds, duplicate ids, escapes, the time fields of
`checker.model.moment`, house connections): for every line, the same `Section` (spans
included) or the same one-line error at the same line and column.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest

from checker.io.columns import read_chunk
from checker.io.loader import parse_json_case
from checker.model.section import Section
from dsl.diagnostics import Diagnostic, LiggingError
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT))

from bench.generate import sections

PATH = "streets.jsonl"


def _exact(lines: list[str]) -> tuple[list[Section], list[Diagnostic]]:
    """Read each line the per-line way."""
    good, bad = [], []
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            good.append(parse_json_case(text, PATH, line_offset=number - 1))
        except LiggingError as exc:
            bad.append(exc.diagnostic)
    return good, bad


def _columns(lines: list[str], first: int = 1) -> tuple[list[Section], list[Diagnostic], list[str]]:
    """Read all lines as one chunk into columns; give back the Sections the table holds."""
    got = read_chunk(("\n".join(lines) + "\n").encode("utf-8"), PATH, first)
    table = got.table
    return [table.section(s) for s in range(table.count)], list(got.errors), got.cases


def _assert_same(lines: list[str]) -> None:
    want_good, want_bad = _exact(lines)
    got = read_chunk(("\n".join(lines) + "\n").encode("utf-8"), PATH, 1)
    table = got.table
    # sections rebuilt from the columns, not ones handed over by the exact path
    table._sections.clear()
    assert [table.section(s) for s in range(table.count)] == want_good
    assert got.errors == want_bad
    numbers = [n for n, text in enumerate(lines, start=1) if text.strip()]
    bad_lines = {d.span.line for d in want_bad}
    assert got.cases == [f"{PATH}:{n}" for n in numbers if n not in bad_lines]


def _shipped() -> list[dict[str, Any]]:
    """Return the shipped cases that JSON can carry, as mappings."""
    import yaml

    out = []
    for case in sorted((ROOT / "cases").glob("*/case.yaml")):
        data = yaml.safe_load(case.read_text(encoding="utf-8"))
        try:
            json.dumps(data)
        except TypeError:
            continue  # a YAML date, say: not a JSON line
        out.append(data)
    return out


def test_generated_streets_read_as_the_loader_reads_them() -> None:
    lines = [json.dumps(case) for case in sections(120, None, 5)]
    lines.insert(7, "")
    got, errors, _ = _columns(lines)
    assert errors == []
    assert len(got) == 120
    _assert_same(lines)


def test_shipped_cases_as_json_lines_read_as_the_loader_reads_them() -> None:
    cases = _shipped()
    assert len(cases) >= 5
    _assert_same([json.dumps(c) for c in cases])


# each mutation changes one thing a user (or a hostile file) might; most make the line bad or send it the exact way
def _mutations(rng: random.Random, case: dict[str, Any]) -> dict[str, Any]:
    case = json.loads(json.dumps(case))
    objs = case.get("objects") or []
    obj = rng.choice(objs) if objs else {}
    pick = rng.randrange(24)
    if pick == 0 and "diameter" in obj:
        obj["diameter"] = -abs(obj["diameter"]) if isinstance(obj["diameter"], (int, float)) else "-110 mm"
    elif pick == 1:
        obj["cover"] = "0.6 kg"
    elif pick == 2:
        obj["cover"] = "60 cm"
    elif pick == 3:
        obj["colour"] = "blue"
    elif pick == 4:
        obj["kind"] = "wadi"
    elif pick == 5 and len(objs) > 1:
        objs[1]["id"] = objs[0]["id"]
    elif pick == 6:
        obj["built"] = 2030
    elif pick == 7:
        obj["removed"] = 2020
    elif pick == 8:
        obj["id"] = "é\u00e9-\\n"
    elif pick == 9:
        case["width"] = "wide"
    elif pick == 10:
        case["unit"] = "mm"
    elif pick == 11:
        obj["x"] = 1e400 if rng.random() < 0.5 else 1e12
    elif pick == 12:
        obj["network"] = "gas"
    elif pick == 13:
        obj["status"] = "disused"
    elif pick == 14 and obj.get("kind") == "crossing":
        obj["connects"] = objs[0]["id"]
    elif pick == 15:
        case["planned"] = "2031-02-30"
    elif pick == 16:
        obj["measures"] = ["mantelbuis"]
    elif pick == 17:
        obj["attributes"] = {"material": "PE", "pressure": "8 bar"}
    elif pick == 18:
        case["objects"] = objs + [{"id": "r", "kind": "reservation", "from": 0.1, "to": 0.9, "cover": 0.5, "height": 0.4,
                                   "network": "warmte", "claim": 2029}]
    elif pick == 19:
        obj.pop("cover", None)
    elif pick == 20:
        case["zones"] = list(reversed(case.get("zones", [])))
    elif pick == 21:
        obj["id"] = 12
    elif pick == 22:
        obj["x"] = True
    else:
        case["tags"] = {"street_type": "woonstraat", "planned": 2027}
    return case


@pytest.mark.parametrize("seed", range(4))
def test_mutated_lines_give_the_same_sections_and_errors(seed: int) -> None:
    rng = random.Random(seed)
    base = [*sections(40, None, 100 + seed), *_shipped()]
    lines = []
    for case in base:
        lines.append(json.dumps(_mutations(rng, case) if rng.random() < 0.6 else case))
        if rng.random() < 0.05:
            lines.append("{not json")
    _assert_same(lines)


def test_a_line_of_another_year_is_the_street_then() -> None:
    # the time fields go the exact way; asked for another year (`at`), every line does
    case = next(iter(sections(1, 12, 3)))
    case["planned"] = "2026-05-01"
    case["objects"][0]["built"] = 2030
    line = json.dumps(case)
    got = read_chunk((line + "\n").encode("utf-8"), PATH, 1)
    assert [o.id for o in got.table.section(0).objects] == [o.id for o in case_objects(case)][1:]
    later = read_chunk((line + "\n").encode("utf-8"), PATH, 1, at=2031)
    assert later.table.section(0) == parse_json_case(line, PATH, at=2031)
    assert later.table.section(0).moment == 2031
    assert case["objects"][0]["id"] in [o.id for o in later.table.section(0).objects]


def case_objects(case: dict[str, Any]) -> list[Any]:
    """Return the objects of a case mapping as the loader reads them (as drawn, without the time model)."""
    plain = json.loads(json.dumps(case))
    for o in plain["objects"]:
        o.pop("built", None)
    return list(parse_json_case(json.dumps(plain), PATH).objects)


def test_chunk_numbering_follows_the_file(tmp_path: Path) -> None:
    lines = [json.dumps(case) for case in sections(3, 8, 9)]
    lines[1] = lines[1].replace('"cover": ', '"cover": "x', 1) if '"cover": ' in lines[1] else "{"
    _, errors, cases = _columns(lines, first=41)
    assert [d.span.line for d in errors] == [42]
    assert cases == [f"{PATH}:41", f"{PATH}:43"]
