"""Finding lines written from fragments are byte-identical to the dict-and-encoder form; lines are cut by number."""

from __future__ import annotations

import json
import random

from bench.generate import section as generated
from checker.engine.evaluate import Engine
from checker.io.jsonl import finding_lines, lines
from checker.io.loader import load_case, parse_case
from checker.model.findings import Finding, Suggestion
from dsl.diagnostics import Span
from dsl.packs import load_packs
from tests.conftest import ROOT

ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def reference(case: str, findings: list[Finding]) -> bytes:
    """Return the lines as the findings contract defines them: json of {"case": ..., **as_json()}."""
    return "".join(ENCODE({"case": case, **f.as_json()}) + "\n" for f in findings).encode("utf-8")


def test_lines_of_cases_and_generated_sections_are_byte_identical() -> None:
    engine = Engine(load_packs())
    rng = random.Random(4)
    sections = [load_case(p) for p in sorted((ROOT / "cases").glob("*/case.yaml"))]
    sections += [parse_case(json.dumps(generated(rng, n, 25)), "g.jsonl", n) for n in range(40)]
    found = engine.evaluate_many(sections)
    assert sum(map(len, found)) > 500
    assert any(f.exception for fs in found for f in fs) and any(f.accepted for fs in found for f in fs)
    for n, findings in enumerate(found):
        assert finding_lines(f"g.jsonl:{n}", findings) == reference(f"g.jsonl:{n}", findings)


def test_unusual_text_and_numbers_are_encoded_as_json_does() -> None:
    base = Finding("R-ÿ\"1", "p\\k", "error", "cover", ("a\u2028b", 'q"uote', "tab\there"), -0.00004, 0.6, ">=", "m",
                   "line one\nline two \x01 ✓", "bron: \"x\"", Span("rules/é.rules", 3, 4), Span("c\n.yaml", 5, 6), True,
                   title="t", illustrative="voorbeeld", exception=(("measure", "mantelbuis"), ("approval", "ö")),
                   accepted=(("state", "stale"), ("until", "2030-01-01")), suggestions=(Suggestion(move="a", dx=0.1),))
    variants = [base, Finding("R", "p", "info", "order", ("x", "y"), None, None, "order", "", "m", "s", Span("f", 1, 1),
                              Span("f", 2, 2), False), Finding("R", "p", "info", "cover", ("x",), 1e-9, 123456.78912,
                                                               "<=", "m", "", "", Span("f", 1, 1), Span("f", 2, 2), False)]
    for case in ("plain.jsonl:1", "naïve \"case\"\n"):
        assert finding_lines(case, variants) == reference(case, variants)
    assert finding_lines("c", []) == b""


def test_lines_are_numbered_from_the_first() -> None:
    assert list(lines(b"a\n\nb\r\nc", 7)) == [(7, b"a"), (8, b""), (9, b"b\r"), (10, b"c")]
    assert list(lines(b"a\n", 1)) == [(1, b"a")]
