"""Every shipped rule against its own named cases (rules/NAME.tests.yaml), and the meta-test.

Each case runs with only its rule's pack (and includes): an `expect: fail` case must
make that rule yield a finding, an `expect: pass` case must not. The meta-test fails
when a shipped rule lacks a passing or a failing case, or a case names an unknown rule.
"""

from __future__ import annotations

import pytest

from checker.engine.explain import RuleCase, load_rule_cases, run_rule_case, versions_exercised
from dsl.packs import load_packs, shipped_dir, shipped_names

PACKS = load_packs(shipped_names())
OWN = [p for p in PACKS.packs]
# the rule-language guide's examples (rules/examples/, not loaded by default) run the same way
EXAMPLES = sorted((shipped_dir() / "examples").glob("*.rules"))
EXAMPLE_PACKS = [load_packs([str(path)]).packs[-1] for path in EXAMPLES]
CASES = [c for pack in OWN + EXAMPLE_PACKS for c in load_rule_cases(pack)]


@pytest.mark.parametrize("rc", CASES, ids=[c.ident for c in CASES])
def test_rule_case(rc: RuleCase) -> None:
    findings = run_rule_case(rc)
    assert bool(findings) == (rc.expect == "fail"), [f.message for f in findings]
    assert all(f.rule == rc.rule for f in findings)
    if rc.severity is not None:
        assert {f.severity for f in findings} == {rc.severity}


def test_every_shipped_rule_version_has_a_passing_and_a_failing_case() -> None:
    # a case exercises the versions of its rule in force on its planned date under its tags
    covered = {(pack.name, rule.span.line, e) for pack in OWN for rc in load_rule_cases(pack)
               for pr in versions_exercised(rc) for rule, e in [(pr.rule, rc.expect)]}
    missing = [f"{pack.name}:{rule.id}@{rule.span.line}:{e}" for pack in OWN for rule in pack.rules
               for e in ("pass", "fail") if (pack.name, rule.span.line, e) not in covered]
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
