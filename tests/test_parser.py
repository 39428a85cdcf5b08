"""The rule-language parser: every relation parses, mistakes are named with a caret."""

from __future__ import annotations

import pytest

from dsl import ast
from dsl.diagnostics import LiggingError
from dsl.parser import parse_pack

HEAD = 'pack t\n  title "T"\n  authority "A"\n  version "1"\n'
RULE = 'rule T-R\n  title "x"\n  severity error\n  source "s"\n'


def parse_rule(body: str) -> ast.Rule:
    return parse_pack(HEAD + RULE + body, "t.rules").rules[0]


@pytest.mark.parametrize("body, node", [
    ("require cover water >= 0.6 m", ast.Cover),
    ("require cover gas or water[diameter > 200 mm] <= 1.2 m", ast.Cover),
    ("require clearance horizontal between gas and water >= 300 mm", ast.Clearance),
    ("require clearance axis vertical inside rack between water and warmte >= 0.3 m", ast.Clearance),
    ("require crossing between rioolVrijverval and any >= 0.2 m", ast.CrossingClearance),
    ("require order left-to-right: datatransport, laagspanning, gas", ast.Order),
    ("require order top-to-bottom (axis) inside rack: telecom, water", ast.Order),
    ("require zone riool within rijbaan, parkeren", ast.ZoneRule),
    ("require zone any not under kade", ast.ZoneRule),
    ("require exclusion line from tree root-zone", ast.Exclusion),
    ("require exclusion line from structure >= 0.5 m", ast.Exclusion),
    ("require access beside rack width >= 0.6 m depth >= 1.2 m sides both", ast.Access),
    ("require capacity in trottoir: count of line <= 6", ast.Capacity),
    ("require capacity in trottoir, berm: width of line <= 1.5 m", ast.Capacity),
    ("require only rioolVrijverval may cross rack", ast.CrossPermission),
    ("require bounds any within profile", ast.Bounds),
    ("require bounds line depth <= 3 m", ast.Bounds),
])
def test_every_relation_parses(body: str, node: type) -> None:
    assert isinstance(parse_rule(body).alternatives[0].relation, node)


def test_quantities_are_si_and_refs_explicit() -> None:
    rel = parse_rule("require clearance horizontal between tree (axis) and line >= 250 cm").alternatives[0].relation
    assert isinstance(rel, ast.Clearance)
    assert rel.limit.value == pytest.approx(2.5)
    assert (rel.a.ref, rel.b.ref, rel.plane) == ("axis", "edge", "horizontal")


def test_alternatives_exceptions_conditions() -> None:
    rule = parse_rule(
        "where street_type = binnenstad and planned >= 2025\n"
        "  valid from 2024-02-01\n"
        "  require clearance horizontal between tree (axis) and line >= 2.5 m\n"
        '    unless wortelscherm, damwand then >= 1.0 m approved by "netbeheerder"\n'
        "  otherwise order top-to-bottom: water, rioolVrijverval\n")
    assert len(rule.alternatives) == 2
    exc = rule.alternatives[0].exceptions[0]
    assert exc.measures == ("wortelscherm", "damwand") and exc.approver == "netbeheerder"
    assert exc.limit is not None and exc.limit.value == pytest.approx(1.0)
    assert [c.name for c in rule.conditions] == ["street_type", "planned"]
    assert rule.validity is not None and rule.validity.start == "2024-02-01"


@pytest.mark.parametrize("body, fragment, line, column", [
    ("require cover water >= 0.6", "write '0.6 m'", 9, 24),
    ("require distance between a and b >= 1 m", "unknown relation 'distance'", 9, 9),
    ("require clearance horizontl between a and b >= 1 m", "did you mean 'horizontal'", 9, 19),
    ("require cover water >= 0.6 kg", "mass", 9, 28),
    ("require cover water >= 0.6 m\n  severity eror", "did you mean 'error'", 10, 12),
    ("require cover water >= 0.6 m\n  title 'x'", "double quotes", 10, 9),
    ("require cover water[voltage >= 2 m] >= 0.6 m", "voltage is a voltage", 9, 32),
])
def test_mistakes_are_named_with_position(body: str, fragment: str, line: int, column: int) -> None:
    with pytest.raises(LiggingError) as caught:
        parse_pack(HEAD + RULE + body, "t.rules")
    diag = caught.value.diagnostic
    assert fragment in diag.message
    assert (diag.span.file, diag.span.line, diag.span.column) == ("t.rules", line, column)
    caret = diag.with_caret().splitlines()
    assert caret[-1].strip() == "^" and len(caret[-1]) - 2 == column


def test_rule_without_source_is_refused() -> None:
    with pytest.raises(LiggingError, match="source"):
        parse_pack(HEAD + 'rule T-R\n  title "x"\n  severity error\n  require cover water >= 0.6 m\n', "t.rules")


# ---------------------------------------------------------------- second edition


def test_grammar_has_no_hidden_conflicts() -> None:
    # lark resolves a shift/reduce conflict silently as a shift; strict mode refuses it (and terminal collisions)
    from lark import Lark

    Lark.open_from_package("dsl", "grammar.lark", parser="lalr", strict=True)


def test_and_joins_selectors_tighter_than_or() -> None:
    rel = parse_rule("require cover gas or water and line and not racked >= 0.6 m").alternatives[0].relation
    assert isinstance(rel, ast.Cover) and isinstance(rel.selector, ast.SelUnion)
    gas, rest = rel.selector.parts
    assert isinstance(gas, ast.SelName) and isinstance(rest, ast.SelAnd)
    assert [type(p) for p in rest.parts] == [ast.SelName, ast.SelName, ast.SelNot]


def test_and_joins_relations_and_geometric_exceptions() -> None:
    req = parse_rule("require water beside riool >= 10 ft\n"
                     "    and cover water >= 0.9 m\n"
                     "    unless water above riool >= 18 in and water beside riool\n"
                     '    unless mantelbuis approved by "netbeheerder"').alternatives[0]
    assert [type(r) for r in req.relations] == [ast.Position, ast.Cover]
    geometric, measure = req.exceptions
    assert [type(r) for r in geometric.relations] == [ast.Position, ast.Position]
    assert geometric.measures == () and geometric.approver == ""
    above = geometric.relations[0]
    assert isinstance(above, ast.Position) and above.direction == "above"
    assert above.limit.value == pytest.approx(18 * 0.0254)
    beside = geometric.relations[1]
    assert isinstance(beside, ast.Position) and beside.limit.value == 0.0
    assert measure.measures == ("mantelbuis",) and measure.relations == ()


def test_positions_read_as_written() -> None:
    rel = parse_rule("require water (axis) below riool inside and outside rack >= 0.3 m").alternatives[0].relation
    assert isinstance(rel, ast.Position)
    assert (rel.a.ref, rel.direction, rel.b.ref, rel.racks, rel.racks_written) == ("axis", "below", "edge", "both", True)


@pytest.mark.parametrize("threshold, value, terms", [
    ("root-radius of tree + 1.0 m", 1.0, [(1.0, "root-radius", "a")]),
    ("4 * 3.1416 * diameter of tree", 0.0, [(12.5664, "diameter", "a")]),
    ("(diameter of tree + diameter of line) / 2 + 10 cm", 0.1, [(0.5, "diameter", "a"), (0.5, "diameter", "b")]),
    ("larger diameter - 0.05 m", -0.05, [(1.0, "diameter", "larger")]),
    ("2.5 m", 2.5, []),
])
def test_thresholds_take_the_subjects_dimensions(threshold: str, value: float, terms: list[tuple[float, str, str]]) -> None:
    rel = parse_rule(f"require clearance horizontal between tree (axis) and line >= {threshold}").alternatives[0].relation
    assert isinstance(rel, ast.Clearance)
    assert rel.limit.value == pytest.approx(value) and rel.limit.text == threshold
    assert [(pytest.approx(t.coefficient), t.dimension, t.side) for t in rel.limit.terms] == terms


def test_capacity_places_and_zone_membership() -> None:
    strip = parse_rule("require capacity in any 30 cm strip by extent: count of cable <= 3").alternatives[0].relation
    assert isinstance(strip, ast.Capacity) and strip.place == "strip" and strip.membership == "extent"
    assert strip.window is not None and strip.window.value == pytest.approx(0.3) and strip.kinds == ()
    stack = parse_rule("require capacity in any stack: count of line and not racked <= 1").alternatives[0].relation
    assert isinstance(stack, ast.Capacity) and stack.place == "stack"
    zones = parse_rule("require capacity in trottoir touching: count of line <= 8").alternatives[0].relation
    assert isinstance(zones, ast.Capacity) and (zones.place, zones.kinds, zones.membership) == ("zones", ("trottoir",), "touching")
    plain = parse_rule("require capacity in trottoir: count of line <= 8").alternatives[0].relation
    assert isinstance(plain, ast.Capacity) and plain.membership == ast.CAPACITY_MEMBERSHIP
    zone = parse_rule("require zone riool within rijbaan by axis").alternatives[0].relation
    assert isinstance(zone, ast.ZoneRule) and zone.membership == "axis"
    cover = parse_rule("require cover line[zone = rijbaan by extent] >= 0.6 m").alternatives[0].relation
    assert isinstance(cover, ast.Cover) and isinstance(cover.selector, ast.SelWhere)
    assert cover.selector.tests[0].membership == "extent"


def test_scope_words_are_recorded() -> None:
    rel = parse_rule("require clearance horizontal outside rack without crossings between gas and water >= 0.3 m"
                     ).alternatives[0].relation
    assert isinstance(rel, ast.Clearance)
    assert (rel.racks, rel.racks_written, rel.crossings_written, rel.inside_rack) == ("outside", True, True, False)
    plain = parse_rule("require clearance horizontal between gas and water >= 0.3 m").alternatives[0].relation
    assert isinstance(plain, ast.Clearance) and (plain.racks, plain.racks_written) == ("outside", False)


def test_attribute_declarations() -> None:
    pack = parse_pack(HEAD + "attribute material text\nattribute sdr number\n" + RULE
                      + 'require cover water[material = "PE"] >= 0.6 m', "t.rules")
    assert [(a.name, a.kind) for a in pack.attributes] == [("material", "text"), ("sdr", "number")]


@pytest.mark.parametrize("body, fragment, line, column", [
    ("require clearance foo between a and b >= 1 m",
     "a plane (horizontal, vertical, shortest)", 9, 19),
    ("require clearance between a and b and c >= 1 m", "parentheses", 9, 35),
    ("require only x may cross rack and water", "`(rack and water)`", 9, 35),
    ("require water abov riool", "unknown relation 'water'", 9, 9),
    ("require cover water >= diamter of water", "did you mean 'diameter'", 9, 24),
    ("require cover water >= diameter of gas", "`diameter of water`", 9, 24),
    ("require clearance between line and line >= diameter of line", "`larger diameter`", 9, 44),
    ("require cover water >= 0.6 m + 2", "cannot add a number and a length", 9, 30),
    ("require clearance between a and b >= diameter of a * diameter of b", "only by a plain number", 9, 52),
    ("require clearance between a and b >= diameter of a / diameter of b", "divide only by a plain number", 9, 52),
    ("require capacity in any stack: width of line <= 1 m", "count of", 9, 32),
    ("require capacity in any 0.3 m strip: count of line <= 2.5", "whole number", 9, 55),
    ("require cover water[owner = x touching] >= 1 m", "belongs to a `zone = …` test", 9, 31),
    ("require order left-to-right inside rack: gas, water", "loose lines only", 9, 9),
    ("require cover water >= 0.6 m and clearance between a and b >= 0.1 m\n"
     '    unless x then >= 0.3 m approved by "P"', "`then` relaxes the value of one relation", 10, 22),
    ("require cover water >= 0.6 m\n  foo", "expected an exception (`unless …`)", 10, 3),
])
def test_second_edition_mistakes_are_named_in_words(body: str, fragment: str, line: int, column: int) -> None:
    with pytest.raises(LiggingError) as caught:
        parse_pack(HEAD + RULE + body, "t.rules")
    diag = caught.value.diagnostic
    assert fragment in diag.message, diag.message
    assert (diag.span.line, diag.span.column) == (line, column), diag.one_line()


def test_errors_never_list_the_lalr_token_names() -> None:
    for body in ("require cover water >= 0.6 m unless", "require clearance horizontal foo", "require order top-to-bottom: a b",
                 "require exclusion line from tree root-zone >=", "require capacity in any", "require water above riool >="):
        with pytest.raises(LiggingError) as caught:
            parse_pack(HEAD + RULE + body, "t.rules")
        message = caught.value.diagnostic.message
        assert not any(name in message for name in ("LPAR", "LSQB", "$END", "__ANON", "NAME", "OP,")), message


def test_instrument_on_the_pack_and_overridden_per_rule() -> None:
    from dsl.packs import PackRule

    head = HEAD + '  instrument voorwaarden "Liander: voorwaarden schadepreventie" by "Liander"\n'
    pack = parse_pack(head + RULE + 'require cover water >= 0.6 m\n'
                      + 'rule T-S\n  title "y"\n  severity error\n  source "s"\n'
                      + '  instrument instemmingsbesluit "Telecommunicatiewet art. 5.4"\n  require cover water >= 0.6 m\n',
                      "t.rules")
    assert pack.instrument is not None
    assert (pack.instrument.kind, pack.instrument.citation, pack.instrument.changed_by) == (
        "voorwaarden", "Liander: voorwaarden schadepreventie", "Liander")
    first, second = (PackRule(r, pack) for r in pack.rules)
    assert first.instrument == pack.instrument and first.changed_by == "Liander"
    assert second.instrument is not None and second.instrument.kind == "instemmingsbesluit"
    assert second.changed_by == "A"  # no `by`: the pack's authority
    assert parse_rule("require cover water >= 0.6 m").instrument is None


@pytest.mark.parametrize("text, fragment, line, column", [
    (HEAD + '  instrument wett "x"\n', "did you mean 'wet'", 5, 14),
    (HEAD + '  instrument norm ""\n', "instrument is empty", 5, 19),
    (HEAD + '  instrument norm "a"\n  instrument norm "b"\n', "sets 'instrument' twice", 6, 3),
    (HEAD + RULE + '  instrument norm "a"\n  instrument wet "b"\n  require cover water >= 0.6 m\n',
     "sets 'instrument' twice", 10, 3),
])
def test_instrument_mistakes_are_named_with_position(text: str, fragment: str, line: int, column: int) -> None:
    body = text if "rule" in text else text + RULE + "  require cover water >= 0.6 m\n"
    with pytest.raises(LiggingError) as caught:
        parse_pack(body, "t.rules")
    diag = caught.value.diagnostic
    assert fragment in diag.message
    assert (diag.span.line, diag.span.column) == (line, column)
