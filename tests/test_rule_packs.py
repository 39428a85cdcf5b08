"""Every shipped rule against its own named cases (rules/NAME.tests.yaml), and the meta-test.

Each case runs with only its rule's pack (and includes): an `expect: fail` case must
make that rule yield a finding, an `expect: pass` case must not. The meta-test fails
when a shipped rule lacks a passing or a failing case, or a case names an unknown rule.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from checker.advice.layout import layout, side_of
from checker.engine.evaluate import Engine
from checker.engine.explain import (
    RuleCase,
    case_section,
    expectations,
    load_rule_cases,
    pack_engine,
    run_rule_case,
    versions_exercised,
)
from checker.engine.select import compile_selector, mask
from dsl import ast
from dsl.packs import PackSet, load_packs, shipped_dir, shipped_names

PACKS = load_packs(shipped_names())
OWN = [p for p in PACKS.packs]
# the rule-language guide's examples (rules/examples/, not loaded by default) run the same way
EXAMPLES = sorted((shipped_dir() / "examples").glob("*.rules"))
EXAMPLE_PACKS = [load_packs([str(path)]).packs[-1] for path in EXAMPLES]
CASES = [c for pack in OWN + EXAMPLE_PACKS for c in load_rule_cases(pack)]


@pytest.mark.parametrize("rc", CASES, ids=[c.ident for c in CASES])
def test_rule_case(rc: RuleCase) -> None:
    if rc.expect == "kept":
        held_by_the_layout(rc)
        return
    findings = run_rule_case(rc)
    assert bool(findings) == (rc.expect == "fail"), [f.message for f in findings]
    assert all(f.rule == rc.rule for f in findings)
    if rc.severity is not None:
        assert {f.severity for f in findings} == {rc.severity}


def held_by_the_layout(rc: RuleCase) -> None:
    """A `keep` rule's example: laid out with its pack, what the rule keeps stays; without it, it would move."""
    engine = pack_engine(rc.pack_ref)
    section = case_section(rc)
    (pr,) = [pr for pr in versions_exercised(rc) if pr.rule.id == rc.rule]
    (req,) = pr.rule.alternatives
    rel = req.relation
    assert isinstance(rel, ast.Keep)
    kept = {o.id for o, hit in zip(section.objects, mask(compile_selector(rel.selector, engine.packs), section),
                                   strict=True) if hit and o.status == "planned"}
    assert kept, "the example has nothing the rule keeps"

    def moved(packs: PackSet) -> set[str]:
        result = layout(section, Engine(packs), alternatives=False, minimal=False)
        assert result.section is not None
        after = result.section.by_id()
        if rel.what == "side":
            return {o.id for o in section.objects if o.id in kept
                    and not side_of(section, after[o.id].x) <= side_of(section, o.x)}
        return {o.id for o in section.objects if o.id in kept
                and (abs(after[o.id].cover - o.cover) > 1e-6 or (rel.what == "position" and abs(after[o.id].x - o.x) > 1e-6))}

    assert moved(engine.packs) == set()
    without = replace(engine.packs, rules=tuple(r for r in engine.packs.rules if r.rule.id != rc.rule))
    assert moved(without), "without the rule the layout would keep them too: the example does not exercise it"


def test_every_shipped_rule_version_has_a_passing_and_a_failing_case() -> None:
    # a case exercises the versions of its rule in force on its planned date under its tags;
    # a `keep` rule has nothing to fail in a check: its second example is one the layout holds
    covered = {(pack.name, rule.span.line, e) for pack in OWN for rc in load_rule_cases(pack)
               for pr in versions_exercised(rc) for rule, e in [(pr.rule, rc.expect)]}
    missing = [f"{pack.name}:{rule.id}@{rule.span.line}:{e}" for pack in OWN for rule in pack.rules
               for e in expectations(rule) if (pack.name, rule.span.line, e) not in covered]
    assert sorted(missing) == []


def test_cases_name_rules_of_their_own_pack_and_ids_are_unique() -> None:
    for pack in OWN:
        ids = {r.id for r in pack.rules}
        cases = load_rule_cases(pack)
        assert {c.rule for c in cases} <= ids, pack.name
        assert len({c.ident for c in cases}) == len(cases), pack.name


def test_every_example_rule_of_the_guide_has_a_passing_and_a_failing_case() -> None:
    assert EXAMPLE_PACKS
    for pack in EXAMPLE_PACKS:
        cases = load_rule_cases(pack)
        have = {(c.rule, c.expect) for c in cases}
        assert {(r.id, e) for r in pack.rules for e in ("pass", "fail")} <= have, pack.name
        assert {c.rule for c in cases} <= {r.id for r in pack.rules}, pack.name
