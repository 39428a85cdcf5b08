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
