"""Parser robustness and diagnostics: common mistakes are named; no input raises anything else.

The property tests: `dsl.parser.parse_pack` must end every input — random text, token
soup, a mutated shipped pack — in a `RulePack` or a `LiggingError` (with a position),
never another exception. The example tests pin the named mistakes to their column.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsl import ast
from dsl.diagnostics import LiggingError
from dsl.packs import shipped_dir
from dsl.parser import parse_pack

TEXTS = [p.read_text(encoding="utf-8") for p in sorted(shipped_dir().glob("*.rules"))
         + sorted((shipped_dir() / "examples").glob("*.rules"))]
WORDS = ["pack", "rule", "title", "severity", "source", "require", "otherwise", "unless", "then", "approved",
         "by", "where", "valid", "from", "to", "include", "group", "thema", "colour", "overrides", "cover",
         "clearance", "crossing", "order", "zone", "exclusion", "access", "capacity", "only", "may", "cross",
         "bounds", "within", "not", "under", "inside", "rack", "between", "and", "or", "any", "edge", "axis",
         "left-to-right", "top-to-bottom", "root-zone", "width", "depth", "sides", "profile", "fixed",
         ">=", "<=", "=>", "=", "!=", "<", ">", ":", ",", "(", ")", "[", "]", '"x"', "0.6", "m", "mm", "kV",
         "kg", "1e999", "-0.5", "2024-02-30", "2024", "water", "gas", "NEN-X", "\n", "  ", "#", "'", "\\",
         # second edition
         "above", "below", "beside", "outside", "inside and outside rack", "outside rack", "without crossings",
         "by axis", "by extent", "touching", "strip", "stack", "in any", "attribute", "text", "diameter", "of",
         "root-radius", "larger", "smaller", "+", "-", "*", "/", "0", "facade", "far-edge", "18 in", "10 ft"]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ends_well(text: str) -> None:
    try:
        pack = parse_pack(text, "fuzz.rules")
    except LiggingError as exc:
        span = exc.diagnostic.span
        assert span.file == "fuzz.rules" and span.line >= 1 and span.column >= 1
        assert exc.diagnostic.message
        return
    assert isinstance(pack, ast.RulePack)


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(TEXTS))
    tokens = re.findall(r"\s+|[^\s]+", text)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["del_char", "ins_char", "swap_char", "del_tok", "ins_tok", "swap_tok", "dup_tok"]))
        if op.endswith("_char"):
            flat = "".join(tokens)
            i = draw(st.integers(0, max(len(flat) - 1, 0)))
            if op == "del_char":
                flat = flat[:i] + flat[i + 1:]
            elif op == "ins_char":
                flat = flat[:i] + draw(st.characters(codec="utf-8")) + flat[i:]
            elif len(flat) > i + 1:
                flat = flat[:i] + flat[i + 1] + flat[i] + flat[i + 2:]
            tokens = re.findall(r"\s+|[^\s]+", flat)
            continue
        if not tokens:
            continue
        i = draw(st.integers(0, len(tokens) - 1))
        if op == "del_tok":
            del tokens[i]
        elif op == "ins_tok":
            tokens.insert(i, draw(st.sampled_from(WORDS)) + " ")
        elif op == "dup_tok":
            tokens.insert(i, tokens[i])
        else:
            j = draw(st.integers(0, len(tokens) - 1))
            tokens[i], tokens[j] = tokens[j], tokens[i]
    return "".join(tokens)


@SETTINGS
@given(mutated())
def test_mutated_shipped_packs_parse_or_diagnose(text: str) -> None:
    _ends_well(text)


@SETTINGS
@given(st.lists(st.sampled_from(WORDS), max_size=40).map(" ".join))
def test_random_token_soup_parses_or_diagnoses(text: str) -> None:
    _ends_well('pack t\n  title "T"\n  authority "A"\n  version "1"\n' + text)


@SETTINGS
@given(st.text(max_size=300))
def test_random_text_parses_or_diagnoses(text: str) -> None:
    _ends_well(text)


RULE = 'pack t\n  title "T"\n  authority "A"\n  version "1"\nrule T-R\n  title "x"\n  severity error\n  source "s"\n'


@pytest.mark.parametrize("line, column, fix", [
    ("  require cover water => 0.6 m", 23, "'>='"),
    ("  require cover water =< 0.6 m", 23, "'<='"),
    ("  require cover water >= 0.6", 26, "0.6 m"),
    ("  require cover water >= 0,6 m", 27, "0.6"),
    ("  require cvoer water >= 0.6 m", 11, "'cover'"),
    ("  requre cover water >= 0.6 m", 3, "'require'"),
    ("  require order left-to-rigth: gas, water", 17, "'left-to-right'"),
    ("  require zone riool within rijbaan parkeren", 37, "','"),
    ("  require cover water >= 0.6 m\n    unles mantelbuis approved by \"P\"", 5, "'unless'"),
])
def test_common_mistakes_are_named_at_their_column(line: str, column: int, fix: str) -> None:
    with pytest.raises(LiggingError) as exc:
        parse_pack(RULE + line + "\n", "t.rules")
    diagnostic = exc.value.diagnostic
    assert diagnostic.span.line == 9 + line.count("\n") and diagnostic.span.column == column
    assert fix in diagnostic.message
    caret = diagnostic.with_caret().splitlines()[-1]
    assert caret.index("^") - 2 == column - 1


def test_a_lone_number_is_a_diagnostic() -> None:
    with pytest.raises(LiggingError):
        parse_pack("0", "t.rules")
