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
    ("  require crossing above water >= 0.2 m", 11, "`(crossing) above"),
    ("  require cover (line and water) >= 0.6 m and clearance between gas and water and line >= 0.3 m", 79, "`(line and water)`"),
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


# Grammar-directed: well-formed second-edition requirements, built from their parts, parse into the
# structure they say (the property tests above only prove that nothing raises).
NAMES = st.sampled_from(["water", "gas", "riool", "laagspanning", "line", "cable", "crossing", "racked", "tree"])
RACKS = st.sampled_from(["", " outside rack", " inside rack", " inside and outside rack"])
LIMIT = st.sampled_from(["0.30 m", "18 in", "10 ft", "300 mm"])


@st.composite
def selectors(draw: st.DrawFn) -> tuple[str, type]:
    """Return a selector as written (loose: may stand where `and` has no other reading) and its AST type."""
    a, b = draw(NAMES), draw(NAMES)
    return draw(st.sampled_from([(a, ast.SelName), (f"{a} and not {b}", ast.SelAnd), (f"{a} and {b}", ast.SelAnd),
                                 (f"{a} or {b}", ast.SelUnion), (f"not {a}", ast.SelNot),
                                 (f"{a}[zone = trottoir {draw(st.sampled_from(['by axis', 'by extent', 'touching']))}]",
                                  ast.SelWhere)]))


@st.composite
def thresholds(draw: st.DrawFn) -> tuple[str, int]:
    """Return a length threshold as written and how many subject terms it has."""
    const = draw(LIMIT)
    terms = draw(st.lists(st.sampled_from(["diameter of a", "radius of b", "2 * width of a", "larger diameter",
                                           "smaller diameter / 2"]), max_size=2))
    return " + ".join([*terms, const]), len(terms)


@st.composite
def relations(draw: st.DrawFn) -> tuple[str, type]:
    """Return one second-edition relation as written and its AST type."""
    sel, _ = draw(selectors())
    # a bare `crossing` first would begin the relation `crossing between …` (tested by name below)
    a, b = f"({draw(NAMES)})", draw(NAMES)
    limit, _ = draw(thresholds())
    # `of` names a side as written; sides written alike need `larger`/`smaller`, which thresholds() also draws
    limit = limit.replace(" of a", " of " + a).replace(" of b", " of " + b) if a.strip("()") != b else draw(LIMIT)
    direction = draw(st.sampled_from(["above", "below", "beside"]))
    return draw(st.sampled_from([
        (f"{a} {direction} {b}{draw(RACKS)} >= {limit}", ast.Position),
        (f"{a} {direction} ({sel}){draw(RACKS)} >= {draw(LIMIT)}", ast.Position),
        (f"({sel}) {direction} {b}", ast.Position),
        (f"clearance horizontal{draw(RACKS)} between {a} and {b} >= {limit}", ast.Clearance),
        (f"clearance horizontal{draw(RACKS)} without crossings between ({sel}) and {b} >= {draw(LIMIT)}",
         ast.Clearance),
        (f"capacity in any {draw(LIMIT)} strip{draw(st.sampled_from(['', ' by extent', ' touching']))}: "
         f"count of {sel} <= 3", ast.Capacity),
        (f"capacity in any stack: count of {sel} <= 1", ast.Capacity),
        (f"clearance horizontal between {draw(st.sampled_from(['facade', 'far-edge']))} and ({sel}) >= {draw(LIMIT)}",
         ast.Clearance),
        (f"cover {sel} >= {draw(LIMIT)}", ast.Cover),
    ]))


@SETTINGS
@given(st.lists(relations(), min_size=1, max_size=3), st.lists(relations(), max_size=2),
       st.sampled_from(["", ' approved by "netbeheerder"']))
def test_second_edition_requirements_parse_into_what_they_say(
        joined: list[tuple[str, type]], unless: list[tuple[str, type]], approval: str) -> None:
    text = "  require " + "\n    and ".join(r for r, _ in joined)
    if unless:
        text += "\n    unless " + " and ".join(r for r, _ in unless) + approval
    pack = parse_pack(RULE + text + "\n", "t.rules")
    [req] = pack.rules[0].alternatives
    assert [type(r) for r in req.relations] == [t for _, t in joined]
    if unless:
        [exc] = req.exceptions
        assert [type(r) for r in exc.relations] == [t for _, t in unless] and exc.measures == ()
        assert exc.approver == approval.partition('"')[2].rstrip('"')
    else:
        assert req.exceptions == ()


@SETTINGS
@given(selectors(), thresholds(), st.sampled_from(["above", "below", "beside"]), RACKS)
def test_positions_and_thresholds_keep_their_parts(sel: tuple[str, type], limit: tuple[str, int], direction: str,
                                                    racks: str) -> None:
    written, kind = sel
    threshold, terms = limit
    threshold = threshold.replace(" of a", " of water").replace(" of b", " of riool")
    pack = parse_pack(RULE + f"  require water {direction} riool{racks} >= {threshold}\n"
                      f"  otherwise cover {written} >= 0.6 m\n", "t.rules")
    position, cover = (alt.relation for alt in pack.rules[0].alternatives)
    assert isinstance(position, ast.Position) and position.direction == direction
    assert position.racks == {"": "outside", " outside rack": "outside", " inside rack": "inside",
                              " inside and outside rack": "both"}[racks]
    assert position.limit is not None and len(position.limit.terms) == terms
    assert isinstance(cover, ast.Cover) and isinstance(cover.selector, kind)
