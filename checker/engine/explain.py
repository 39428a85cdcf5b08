"""Explain a rule in words, with the example cases that ship next to its pack.

Every pack `rules/NAME.rules` has a sibling `rules/NAME.tests.yaml`: a list of small
named cases `{rule, name, expect: pass|fail, [severity], case: {...}}`, where `case` is a
case.yaml mapping (docs/case-format.md) completed with defaults (4 m wide, one trottoir zone).
This module reads those cases, runs one with only its rule's pack (and includes), and
renders `ligging explain RULE`: what the rule checks (from its AST), why (its note),
its source, pack, version and validity, and a compliant and a non-compliant example.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from checker.engine.evaluate import Engine
from checker.io.loader import parse_case
from checker.model.findings import SEVERITIES, Finding
from checker.model.section import Obj, Section
from dsl import ast
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import PackRule, PackSet, load_packs, shipped_dir

EXPECTS = ("pass", "fail", "kept")
LABELS = {"pass": "compliant", "fail": "non-compliant", "kept": "held by the layout solver"}
REQUIRED_KEYS = {"rule", "name", "expect", "case"}
CASE_DEFAULTS: dict[str, Any] = {"ligging": 1, "width": 4.0}


@dataclass(frozen=True, slots=True)
class RuleCase:
    """One named example: its rule, whether it must pass or fail (and at which severity), the case."""

    rule: str
    name: str
    expect: str
    case: dict[str, Any]
    pack_ref: str
    span: Span
    severity: str | None = None

    @property
    def ident(self) -> str:
        """Return the test id `<RULE>_<name>`."""
        return f"{self.rule}_{self.name}"


def pack_file(pack: ast.RulePack) -> Path:
    """Return the file a pack was read from (shipped packs are shown as rules/NAME.rules)."""
    shown = Path(pack.path)
    if pack.path.startswith("rules/") and not shown.is_file():
        return shipped_dir() / shown.name
    return shown


def tests_file(pack: ast.RulePack) -> Path:
    """Return the sibling test-case file of a pack: NAME.tests.yaml next to NAME.rules."""
    path = pack_file(pack)
    return path.with_name(path.name.removesuffix(".rules") + ".tests.yaml")


def pack_ref(pack: ast.RulePack) -> str:
    """Return how to load a pack again: its name when shipped, else its file."""
    path = pack_file(pack)
    return pack.name if path.resolve().parent == shipped_dir().resolve() else str(path)


def load_rule_cases(pack: ast.RulePack) -> list[RuleCase]:
    """Read a pack's example cases ([] when the pack has no tests file)."""
    path = tests_file(pack)
    if not path.is_file():
        return []
    shown = str(path)
    text = path.read_text(encoding="utf-8")
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise LiggingError(Diagnostic(Span(shown, line, column), f"not valid YAML: {getattr(exc, 'problem', exc)}")) from None
    if data is None:
        return []
    if not isinstance(data, list) or not isinstance(root, yaml.SequenceNode):
        raise LiggingError(Diagnostic(Span(shown, 1, 1), "a rule tests file is a list of {rule, name, expect, case}"))
    cases: list[RuleCase] = []
    for node, item in zip(root.value, data, strict=True):
        span = Span(shown, node.start_mark.line + 1, node.start_mark.column + 1)
        if not isinstance(item, dict) or not REQUIRED_KEYS <= set(item) <= REQUIRED_KEYS | {"severity"}:
            raise LiggingError(Diagnostic(span, "each rule test has the keys rule, name, expect, case "
                                                "(and, for a failing case, optionally severity)"))
        if item["expect"] not in EXPECTS or not isinstance(item["case"], dict):
            raise LiggingError(Diagnostic(span, "expect is pass, fail or kept (a `keep` rule held by the layout), "
                                                "and case is a case.yaml mapping"))
        severity = item.get("severity")
        if severity is not None and (item["expect"] != "fail" or severity not in SEVERITIES):
            raise LiggingError(Diagnostic(span, "severity (error, warning or info) belongs to a failing case"))
        cases.append(RuleCase(str(item["rule"]), str(item["name"]), item["expect"], item["case"],
                              pack_ref(pack), span, severity))
    return cases


def case_section(rc: RuleCase) -> Section:
    """Build the section of an example case (defaults: 4 m wide, one trottoir zone)."""
    mapping = dict(CASE_DEFAULTS)
    mapping["name"] = rc.ident
    mapping.update(rc.case)
    mapping.setdefault("zones", [{"kind": "trottoir", "from": 0, "to": mapping["width"]}])
    return parse_case(yaml.safe_dump(mapping, sort_keys=False, allow_unicode=True), f"{rc.span.where()}")


@lru_cache(maxsize=32)
def pack_engine(ref: str) -> Engine:
    """Return an engine over one pack and its includes (compiled once per pack)."""
    return Engine(load_packs([ref]))


def run_rule_case(rc: RuleCase) -> list[Finding]:
    """Return the findings the case's own rule yields with only its pack loaded."""
    return [f for f in pack_engine(rc.pack_ref).evaluate(case_section(rc)) if f.rule == rc.rule]


def versions_exercised(rc: RuleCase) -> list[PackRule]:
    """Return the versions of the case's rule in force for it (planned date and conditions)."""
    section = case_section(rc)
    return [cr.pack_rule for cr in pack_engine(rc.pack_ref).rules_for(section) if cr.rule.id == rc.rule]


# ---------------------------------------------------------------- rendering in words


def selector_words(sel: ast.Selector) -> str:
    """Say which objects a selector picks."""
    if isinstance(sel, ast.SelAny):
        return "any object"
    if isinstance(sel, ast.SelName):
        return sel.name
    if isinstance(sel, ast.SelUnion):
        return " or ".join(selector_words(p) for p in sel.parts)
    if isinstance(sel, ast.SelAnd):
        return " and ".join(f"({selector_words(p)})" if isinstance(p, ast.SelUnion) else selector_words(p)
                            for p in sel.parts)
    if isinstance(sel, ast.SelNot):
        return f"not {selector_words(sel.part)}"
    tests = ", ".join(_test_words(t) for t in sel.tests)
    return f"{selector_words(sel.base)} with {tests}"


def _test_words(test: ast.AttrTest) -> str:
    """Say one attribute test; a zone test says how the object is in the zone."""
    value = test.value.text if isinstance(test.value, ast.Quantity) else test.value
    if test.name == "zone":
        return f"zone {test.op} {value} (by {test.membership})" if test.membership != "touching" \
            else f"zone {test.op} {value} (touching)"
    return f"{test.name} {test.op} {value}"


def _racks(racks: str) -> str:
    """Say which pairs a rack scope judges."""
    return {"outside": "", "inside": " within one rack", "both": " in and outside racks"}[racks]


def _membership(mode: str, many: bool = False) -> str:
    """Say how an object (or objects) is in a zone."""
    if many:
        return {"axis": "by their axes", "extent": "with their whole extent", "touching": "touching it"}[mode]
    return {"axis": "by its axis", "extent": "with its whole extent", "touching": "touching it"}[mode]


def pairing_words(pairing: ast.Pairing | None) -> str:
    """Say which pairs a `with same|different` pairing keeps (empty without one)."""
    if pairing is None:
        return ""
    joined = " and ".join(pairing.names)
    if pairing.mode == "same":
        return f", for pairs with the same {joined}"
    return f", for pairs that differ in {' or '.join(pairing.names)}"


def _bound(op: str, q: ast.Quantity) -> str:
    return f"{'at least' if op in ('>=', '>') else 'at most'} {q.text}"


def relation_words(rel: ast.Relation) -> str:
    """Say what one relation requires, in one sentence."""
    if isinstance(rel, ast.Cover):
        return f"the cover (depth of the top) of every {selector_words(rel.selector)} is {_bound(rel.op, rel.limit)}"
    if isinstance(rel, ast.Clearance):
        return (f"the {rel.plane} clearance ({rel.a.ref} to {rel.b.ref}) between {selector_words(rel.a.selector)} "
                f"and {selector_words(rel.b.selector)}{_racks(rel.racks)}{pairing_words(rel.pairing)} "
                f"is {_bound(rel.op, rel.limit)}")
    if isinstance(rel, ast.Position):
        how = {"above": "lies above", "below": "lies below", "beside": "lies beside"}[rel.direction]
        gap = "vertical" if rel.direction != "beside" else "horizontal"
        refs = f" ({rel.a.ref} to {rel.b.ref})" if (rel.a.ref, rel.b.ref) != ("edge", "edge") else ""
        return (f"every {selector_words(rel.a.selector)} {how} every {selector_words(rel.b.selector)}{_racks(rel.racks)}, "
                f"the {gap} gap{refs} {_bound(rel.op, rel.limit)}")
    if isinstance(rel, ast.CrossingClearance):
        return (f"where a {selector_words(rel.a.selector)} crossing passes {selector_words(rel.b.selector)}, "
                f"the {rel.plane} clearance is {_bound(rel.op, rel.limit)}")
    if isinstance(rel, ast.Order):
        way = "from the facade outward" if rel.direction == "left-to-right" else "from top to bottom"
        scope = {"outside": "", "inside": " within each rack", "both": " in and outside racks"}[rel.racks]
        return f"{way}{scope} (by {rel.ref}): " + ", then ".join(selector_words(s) for s in rel.sequence)
    if isinstance(rel, ast.ZoneRule):
        verb = "lies within" if rel.mode == "within" else "does not lie under"
        how = "" if rel.membership == ast.ZONE_RULE_MEMBERSHIP else f" ({_membership(rel.membership)})"
        return f"every {selector_words(rel.selector)} {verb} {' or '.join(rel.kinds)}{how}"
    if isinstance(rel, ast.Exclusion):
        part = "root zone" if rel.part == "root-zone" else "body"
        margin = f" by {_bound(rel.op, rel.limit)}" if rel.limit is not None else ""
        return f"every {selector_words(rel.selector)} stays out of the {part} of every {selector_words(rel.target)}{margin}"
    if isinstance(rel, ast.Access):
        depth = f" down to {rel.depth.text}" if rel.depth is not None else " down to its bottom"
        sides = {"one": "on at least one side", "both": "on both sides",
                 "declared": "on the sides the object declares",
                 "street": "on the side away from the nearer facade"}[rel.sides]
        margin = f", {rel.margin.text} clear of every other body" if rel.margin is not None else ""
        return (f"beside every {selector_words(rel.selector)} a free trench {_bound('>=', rel.width)} wide{depth}, "
                f"{sides}{margin}")
    if isinstance(rel, ast.Capacity):
        what = "number" if rel.measure == "count" else "occupied width"
        if rel.place == "strip":
            assert rel.window is not None
            place = f"in any horizontal strip {rel.window.text} wide (objects in it {_membership(rel.membership, True)})"
        elif rel.place == "stack":
            place = "at any x (objects stacked on one vertical line)"
        else:
            how = "" if rel.membership == ast.CAPACITY_MEMBERSHIP else \
                f" (objects in it {_membership(rel.membership, True)})"
            place = f"under each {' or '.join(rel.kinds)} zone{how}"
        return f"{place}, the {what} of {selector_words(rel.selector)} is {_bound(rel.op, rel.limit)}"
    if isinstance(rel, ast.CrossPermission):
        return f"only {selector_words(rel.allowed)} crossings may cross {selector_words(rel.target)}"
    if isinstance(rel, ast.Keep):
        what = {"depth": "depth", "position": "position (x and depth)",
                "side": "side of the carriageway"}[rel.what]
        return (f"every planned {selector_words(rel.selector)} keeps its drawn {what}: layout, fit and "
                "suggestions do not move it that way (a check has nothing to compare)")
    if rel.what == "profile":
        return f"every {selector_words(rel.selector)} lies inside the profile width"
    assert rel.limit is not None
    return f"the bottom of every {selector_words(rel.selector)} is {_bound('<=', rel.limit)} deep"


def requirement_words(req: ast.Requirement) -> str:
    """Say what a requirement asks, with the exceptions that relax it."""
    text = ", and ".join(relation_words(rel) for rel in req.relations)
    for exc in req.exceptions:
        if exc.relations:
            approval = f" (approval of {exc.approver})" if exc.approver else " (no approval needed)"
            text += f"; unless {', and '.join(relation_words(rel) for rel in exc.relations)}{approval}"
            continue
        relaxed = f", then {_bound(exc.op, exc.limit)}" if exc.limit is not None else ""
        text += f"; unless {' or '.join(exc.measures)}{relaxed} (approval of {exc.approver})"
    return text


def rule_words(rule: ast.Rule) -> str:
    """Say what a rule checks: its conditions and its alternatives in order."""
    text = "; or else ".join(requirement_words(r) for r in rule.alternatives)
    if rule.conditions:
        where = " and ".join(f"{c.name} {c.op} {c.value:g}" if isinstance(c.value, float) else f"{c.name} {c.op} {c.value}"
                             for c in rule.conditions)
        text = f"where {where}: {text}"
    return text


def _validity(v: ast.Validity | None) -> str:
    if v is None:
        return "always"
    return f"from {v.start or 'the start'} to {v.end or 'further notice'}"


def _object_words(o: Obj) -> str:
    size = f"diameter {o.diameter:.3f} m" if o.diameter is not None else f"{o.width or 0:.2f} m by {o.height or 0:.2f} m"
    what = o.network or o.kind
    # a tree or rack without a network is named by its kind once, not 'tree tree'
    kind = "" if o.kind in ("cable", "pipe") or what == o.kind else " " + o.kind
    measures = f", measures {', '.join(o.measures)}" if o.measures else ""
    return f"{o.id} ({what}{kind}) x {o.x:.2f} m, cover {o.cover:.2f} m, {size}{measures}"


def example_lines(rc: RuleCase) -> list[str]:
    """Render one example case: its objects and, when it fails, what the rule reports."""
    section = case_section(rc)
    label = LABELS[rc.expect]
    lines = [f"{label} example '{rc.name}' ({rc.span.where()}):"]
    tags = [f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}" for k, v in section.tags]
    lines += [f"    case: {', '.join(tags)}"] if tags else []
    lines += [f"    {_object_words(o)}" for o in section.objects]
    for finding in run_rule_case(rc):
        lines.append(f"    -> {finding.severity}: {finding.message}")
    return lines


def expectations(rule: ast.Rule) -> tuple[str, ...]:
    """Return the examples a rule needs: compliant and non-compliant, or for a `keep` rule compliant and held."""
    if any(isinstance(req.relation, ast.Keep) for req in rule.alternatives):
        return ("pass", "kept")
    return ("pass", "fail")


def find_rule(rule_id: str, packs: PackSet) -> list[PackRule]:
    """Return every version of a rule; raise a diagnostic with a did-you-mean when unknown."""
    found = packs.find(rule_id) or [pr for pr in packs.overridden if pr.rule.id == rule_id]
    if found:
        return found
    known = sorted({pr.rule.id for pr in packs.rules})
    near = difflib.get_close_matches(rule_id, known, n=1)
    hint = f" — did you mean '{near[0]}'?" if near else ""
    raise LiggingError(Diagnostic(Span("<command line>", 1, 1), f"no rule '{rule_id}' in the loaded packs{hint}"))


def explain(rule_id: str, packs: PackSet) -> str:
    """Return the explanation of a rule: every version, its metadata and its examples."""
    blocks: list[str] = []
    for pr in find_rule(rule_id, packs):
        rule, pack = pr.rule, pr.pack
        lines = [f"{rule.id} — {rule.title}",
                 f"  pack:          {pack.name} {pack.version} ({pack.authority})",
                 f"  valid:         {_validity(rule.validity or pack.validity)}",
                 f"  severity:      {rule.severity}; negotiability "
                 f"{'fixed' if rule.negotiability is None else f'{rule.negotiability:g}'}",
                 f"  checks:        {rule_words(rule)}",
                 f"  why:           {rule.note or '(no note)'}",
                 f"  source:        {rule.source}"]
        if rule.illustrative is not None:
            lines.append(f"  illustrative:  {rule.illustrative}")
        if rule.overrides is not None:
            lines.append(f"  overrides:     {rule.overrides}")
        replaced_by = [o.rule.id for o in packs.rules if o.rule.overrides == f"{pack.name}:{rule.id}"]
        if replaced_by:
            lines.append(f"  overridden by: {', '.join(replaced_by)} (not evaluated while that pack is loaded)")
        lines.append(f"  defined at:    {rule.span.where()}")
        cases = [c for c in load_rule_cases(pack) if c.rule == rule.id
                 and any(v.rule.span == rule.span for v in versions_exercised(c))]
        for expect in expectations(rule):
            chosen = next((c for c in cases if c.expect == expect), None)
            if chosen is None:
                lines.append(f"  no {LABELS[expect]} example in {tests_file(pack)}")
            else:
                lines += ["  " + line for line in example_lines(chosen)]
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
