"""`ligging explain RULE`: every shipped rule explains itself with examples from its tests."""

from __future__ import annotations

import pytest

from checker.cli import run
from checker.engine.explain import explain, relation_words, rule_words
from dsl import ast
from dsl.diagnostics import LiggingError
from dsl.packs import load_packs, shipped_dir, shipped_names
from dsl.parser import parse_pack

PACKS = load_packs(shipped_names())
IDS = sorted({pr.rule.id for pr in PACKS.rules} | {pr.rule.id for pr in PACKS.overridden})


@pytest.mark.parametrize("rule_id", IDS)
def test_every_shipped_rule_explains_with_both_examples(rule_id: str) -> None:
    text = explain(rule_id, PACKS)
    versions = PACKS.find(rule_id) or [pr for pr in PACKS.overridden if pr.rule.id == rule_id]
    assert text.count(f"{rule_id} — ") == len(versions)
    assert text.count(" example '") == 2 * len(versions)
    assert "no compliant example" not in text and "no non-compliant example" not in text and "no held" not in text
    if all(isinstance(req.relation, ast.Keep) for pr in versions for req in pr.rule.alternatives):
        # a `keep` rule never yields a finding: its second example is one the layout solver holds
        assert text.count("held by the layout solver example '") == len(versions)
        return
    assert text.count("non-compliant example '") == len(versions)
    # the non-compliant example shows what the rule reports
    assert text.count("    -> ") >= len(versions)
    for pr in versions:
        assert pr.rule.source in text and pr.pack.name in text and pr.rule.span.where() in text


def test_unknown_rule_suggests_the_nearest() -> None:
    with pytest.raises(LiggingError) as exc:
        explain("NEN-COV-LX", PACKS)
    assert "NEN-COV-LS" in exc.value.diagnostic.message


def test_words_come_from_the_ast() -> None:
    head = 'pack t\n  title "T"\n  authority "A"\n  version "1"\n'
    body = ('rule T-R\n  title "x"\n  severity error\n  source "s"\n  where street_type = binnenstad\n'
            '  require clearance horizontal between gas and water[diameter > 200 mm] >= 0.30 m\n'
            '    unless mantelbuis then >= 0.15 m approved by "Stedin"\n'
            '  otherwise order top-to-bottom: gas, water\n')
    rule = parse_pack(head + body, "t.rules").rules[0]
    words = rule_words(rule)
    for part in ("street_type = binnenstad", "horizontal", "water with diameter > 200 mm", "at least 0.3 m",
                 "mantelbuis", "then at least 0.15 m", "Stedin", "or else", "from top to bottom"):
        assert part in words
    assert relation_words(rule.alternatives[1].relation).startswith("from top to bottom")


def test_cli_explain(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        run(["explain", "VKLS-DEPTH"])
    assert exc.value.code == 0 and "VKLS-DEPTH" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        run(["explain", "NOPE-RULE"])
    assert exc.value.code == 2


EXAMPLE_PACKS = load_packs([str(p) for p in sorted((shipped_dir() / "examples").glob("*.rules"))])
EXAMPLE_IDS = sorted({pr.rule.id for pr in EXAMPLE_PACKS.rules})


@pytest.mark.parametrize("rule_id", EXAMPLE_IDS)
def test_every_guide_example_explains_with_both_examples(rule_id: str) -> None:
    text = explain(rule_id, EXAMPLE_PACKS)
    assert "no compliant example" not in text and "no non-compliant example" not in text
    assert text.count("    -> ") >= 1


def test_second_edition_words() -> None:
    head = 'pack t\n  title "T"\n  authority "A"\n  version "1"\n'
    body = ('rule T-R\n  title "x"\n  severity error\n  source "s"\n'
            '  require water beside riool outside rack >= 10 ft\n'
            '    and cover line and not racked >= 0.6 m + diameter of (line and not racked)\n'
            '    unless water above riool >= 18 in and water beside riool\n'
            '  otherwise capacity in any 0.30 m strip by extent: count of cable <= 3\n'
            '  otherwise capacity in any stack: count of line <= 1\n'
            '  otherwise zone line within rijbaan by axis\n'
            '  otherwise clearance horizontal inside and outside rack between facade and line[zone = rijbaan by extent] >= 0.3 m\n')
    words = rule_words(parse_pack(head + body, "t.rules").rules[0])
    for part in ("every water lies beside every riool, the horizontal gap at least 10 ft",
                 ", and the cover", "line and not racked", "at least 0.6 m + diameter of (line and not racked)",
                 "unless every water lies above every riool", "(no approval needed)",
                 "in any horizontal strip 0.3 m wide (objects in it with their whole extent)",
                 "at any x (objects stacked on one vertical line)", "within rijbaan (by its axis)",
                 "in and outside racks", "zone = rijbaan (by extent)"):
        assert part in words, part
