"""Praktijktoets: try a harmonisation proposal on the whole case library before proposing it.

A proposal changes the rules — a new limit for a rule (`--set DW-COV-MIN=0.60 m`), a new
relaxed limit for a rule's exception (`--set RULE.exception=0.20 m`), or a replacement
pack (`--pack candidate.rules`, replacing the loaded pack of the same name or adding it).
Limits are changed on the AST with `dataclasses.replace`, never by editing rule text.
Every case is checked twice, with the rules as they stand and with the proposal, and the
two runs are compared finding by finding (rule + fingerprint): what disappears, what
appears, what changes severity or requirement, how many metres of deviation are no
longer needed, which cases lose all their errors, and which become feasible under `layout`
(the solver finds a placement with every rule held, no deviation). Cases come as
folders, case.yaml files or JSON Lines batches (one case per line). Several proposals
are ranked by impact: cases unblocked first, then deviation metres saved, then fewest
new conflicts. Given a backlog, the result names the open entries whose friction the
change removes, and can be stored on them as a proposal (exact rule text and impact).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from checker.advice import layout as solver
from checker.engine.evaluate import Engine
from checker.model.findings import SEVERITIES, Finding, counts
from checker.model.numbers import plural
from checker.model.section import Section
from checker.pipeline.batch import sections as batch_sections
from checker.policy import backlog as bl
from checker.policy.friction import PHYSICAL_PACK, Friction, RuleRef, pack_rule, rule_ref
from checker.policy.urgency import load_weights
from dsl import ast
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import PackSet, compose, load_packs, shipped_dir
from dsl.units import UnitProblem, to_si

SET_PATTERN = re.compile(
    r"^(?P<rule>[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*)"
    r"(?:\.(?P<alt>\d+))?(?:\.(?P<exception>exception))?=(?P<value>.*)$")
NUMBER_PATTERN = re.compile(r"^\s*(?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)\s*(?P<unit>.*?)\s*$")
# A written quantity in rule text: a number and, unless a keyword follows, its unit.
QUANTITY_TEXT = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?"
                           r"(?:[ \t]*(?!(?:unless|otherwise|approved|then)\b)[A-Za-z°µ%][A-Za-z0-9_°µ%*/^]*)?")


@dataclass(frozen=True, slots=True)
class SetChange:
    """`RULE[.N][.exception]=VALUE`: a new limit for one requirement (or its exception) of a rule."""

    rule: str
    alternative: int | None
    exception: bool
    value: str
    written: str


@dataclass(frozen=True, slots=True)
class Proposal:
    """A named change to the rules: limit changes and replacement pack files."""

    name: str
    sets: tuple[SetChange, ...] = ()
    packs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Edit:
    """One change to one rule — a limit set, or a rule a candidate pack adds, rewrites or drops — with its text after."""

    rule: str
    pack: str
    target: str
    before: str
    after: str
    text: str

    def line(self) -> str:
        """Say the edit in one line: `DW-COV-MIN (drinkwater) limit: >= 0.7 m → >= 0.5 m`."""
        change = f": {self.before} → {self.after}" if self.before or self.after else ""
        return f"{self.rule} ({self.pack}) {self.target}{change}"

    def as_json(self) -> dict[str, str]:
        """Return the edit as a JSON object."""
        return {"rule": self.rule, "pack": self.pack, "target": self.target, "before": self.before,
                "after": self.after, "text": self.text}


@dataclass(frozen=True, slots=True)
class CaseDelta:
    """One case checked before and after a proposal."""

    case: str
    name: str
    before: tuple[Finding, ...]
    after: tuple[Finding, ...]
    feasible_before: bool | None = None
    feasible_after: bool | None = None
    municipality: str = ""
    planned: str = ""
    racks: tuple[tuple[str, ...], ...] = ()  # each rack with what it holds: objects that move together

    def _keyed(self, findings: tuple[Finding, ...]) -> dict[tuple[str, str], Finding]:
        return {(f.rule, f.fingerprint): f for f in findings}

    @property
    def disappeared(self) -> list[Finding]:
        """Return findings present before and gone after."""
        after = self._keyed(self.after)
        return [f for k, f in self._keyed(self.before).items() if k not in after]

    @property
    def appeared(self) -> list[Finding]:
        """Return findings absent before and present after."""
        before = self._keyed(self.before)
        return [f for k, f in self._keyed(self.after).items() if k not in before]

    @property
    def changed(self) -> list[tuple[Finding, Finding]]:
        """Return findings kept but with another severity or requirement."""
        after = self._keyed(self.after)
        return [(f, after[k]) for k, f in self._keyed(self.before).items()
                if k in after and (f.severity != after[k].severity or f.required != after[k].required)]

    @property
    def unblocked(self) -> bool:
        """Tell whether the case had counting errors before and has none after."""
        return _errors(self.before) > 0 and _errors(self.after) == 0

    @property
    def layout_unblocked(self) -> bool:
        """Tell whether `layout` could not place the planned objects before and can after, deviation-free."""
        return self.feasible_before is False and self.feasible_after is True

    @property
    def blocked(self) -> bool:
        """Tell whether the case had no counting errors before and has some after."""
        return _errors(self.before) == 0 and _errors(self.after) > 0

    @property
    def metres_saved(self) -> float:
        """Return the deviation (sum of shortfalls in metres) no longer needed; negative when more is needed."""
        return deviation_metres(self.before) - deviation_metres(self.after)

    @property
    def new_conflicts(self) -> int:
        """Return how many counting errors appear that were not there before."""
        return sum(1 for f in self.appeared if counts(f) and f.severity == "error")

    def as_json(self) -> dict[str, Any]:
        """Return the case delta as a JSON object."""
        return {
            "case": self.case, "name": self.name,
            "before": summary(self.before), "after": summary(self.after),
            "disappeared": [_brief(f) for f in self.disappeared],
            "appeared": [_brief(f) for f in self.appeared],
            "changed": [{"before": _brief(a), "after": _brief(b)} for a, b in self.changed],
            "metres_saved": round(self.metres_saved, 4), "unblocked": self.unblocked,
            "layout_feasible_before": self.feasible_before, "layout_feasible_after": self.feasible_after,
            "layout_unblocked": self.layout_unblocked,
        }


@dataclass(frozen=True, slots=True)
class Resolution:
    """A backlog entry whose friction a proposal removes in every tried case it was seen in."""

    entry: int
    status: str
    title: str
    rules: tuple[str, ...]
    cases: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """Return the resolution as a JSON object."""
        return {"entry": self.entry, "status": self.status, "title": self.title, "rules": list(self.rules),
                "cases": list(self.cases)}


@dataclass(frozen=True, slots=True)
class WhatIf:
    """A proposal tried on every case: its edits, per-case deltas, totals, and the backlog entries it resolves."""

    proposal: Proposal
    edits: tuple[Edit, ...]
    cases: tuple[CaseDelta, ...]
    resolves: tuple[Resolution, ...] | None = None

    def totals(self) -> dict[str, Any]:
        """Return the run's totals over all cases."""
        before = dict.fromkeys(SEVERITIES, 0)
        after = dict.fromkeys(SEVERITIES, 0)
        for c in self.cases:
            for sev, n in summary(c.before).items():
                before[sev] += n
            for sev, n in summary(c.after).items():
                after[sev] += n
        return {
            "cases": len(self.cases), "before": before, "after": after,
            "disappeared": sum(len(c.disappeared) for c in self.cases),
            "appeared": sum(len(c.appeared) for c in self.cases),
            "changed": sum(len(c.changed) for c in self.cases),
            "cases_unblocked": sum(c.unblocked or c.layout_unblocked for c in self.cases),
            "errors_cleared": sum(c.unblocked for c in self.cases),
            "layout_unblocked": sum(c.layout_unblocked for c in self.cases)
            if any(c.feasible_before is not None for c in self.cases) else None,
            "cases_blocked": sum(c.blocked for c in self.cases),
            "metres_saved": round(sum(c.metres_saved for c in self.cases), 4),
            "new_conflicts": sum(c.new_conflicts for c in self.cases),
        }

    def impact(self) -> tuple[int, float, int]:
        """Return the ranking key: more cases unblocked, more metres saved, fewer new conflicts."""
        t = self.totals()
        return (-int(t["cases_unblocked"]), -float(t["metres_saved"]), int(t["new_conflicts"]))

    def as_json(self) -> dict[str, Any]:
        """Return the what-if result as a JSON object."""
        return {
            "proposal": self.proposal.name,
            "changes": [e.as_json() for e in self.edits],
            "packs": list(self.proposal.packs),
            "totals": self.totals(),
            "resolves": None if self.resolves is None else [r.as_json() for r in self.resolves],
            "cases": [c.as_json() for c in self.cases],
        }


def _errors(findings: Sequence[Finding]) -> int:
    return sum(1 for f in findings if counts(f) and f.severity == "error")


def summary(findings: Sequence[Finding]) -> dict[str, int]:
    """Count counting findings per severity, exactly as `ligging check` summarises a case."""
    out = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        if counts(f):
            out[f.severity] += 1
    return out


def deviation_metres(findings: Sequence[Finding]) -> float:
    """Return the summed shortfall in metres of the counting findings that have one."""
    return sum(f.shortfall or 0.0 for f in findings if counts(f) and f.unit == "m" and (f.shortfall or 0.0) > 0)


def _brief(f: Finding) -> dict[str, Any]:
    return {"rule": f.rule, "severity": f.severity, "subjects": list(f.subjects), "fingerprint": f.fingerprint,
            "shortfall": None if f.shortfall is None else round(f.shortfall, 4)}


# ---------------------------------------------------------------- reading proposals


def _arg_error(where: str, message: str, column: int = 1) -> LiggingError:
    return LiggingError(Diagnostic(Span(where, 1, column), message))


def parse_set(text: str, where: str = "--set") -> SetChange:
    """Parse `RULE[.N][.exception]=VALUE` (VALUE a quantity such as `0.40m` or `0.40 m`)."""
    m = SET_PATTERN.match(text.strip())
    if m is None:
        raise _arg_error(where, f"'{text}' is not RULE=VALUE (or RULE.N=VALUE, RULE.exception=VALUE), "
                                "e.g. DW-COV-MIN=0.60m")
    if not m["value"].strip():
        raise _arg_error(where, f"'{text}' gives no value after '='", len(text))
    return SetChange(m["rule"], int(m["alt"]) if m["alt"] else None, bool(m["exception"]), m["value"].strip(),
                     text.strip())


def load_proposals(path: Path) -> list[Proposal]:
    """Read a YAML list of proposals: each `{name, set: {RULE: VALUE, ...}, pack: FILE | [FILE, ...]}`."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _arg_error(where, f"cannot read proposals file: {exc}") from None
    try:
        root = yaml.compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        raise LiggingError(Diagnostic(Span(where, line, col), f"not valid YAML: {getattr(exc, 'problem', exc)}")) from None
    if not isinstance(root, yaml.SequenceNode):
        line = root.start_mark.line + 1 if root is not None else 1
        raise LiggingError(Diagnostic(Span(where, line, 1), "expected a list of proposals (- name: ..., set: {...})"))
    proposals: list[Proposal] = []
    for item in root.value:
        span = Span(where, item.start_mark.line + 1, item.start_mark.column + 1)
        if not isinstance(item, yaml.MappingNode):
            raise LiggingError(Diagnostic(span, "expected a proposal mapping with name, set and/or pack"))
        fields = {k.value: v for k, v in item.value}
        unknown = sorted(set(fields) - {"name", "set", "pack"})
        if unknown:
            raise LiggingError(Diagnostic(span, f"unknown proposal key '{unknown[0]}'; expected name, set, pack"))
        name_node = fields.get("name")
        if not isinstance(name_node, yaml.ScalarNode) or not str(name_node.value).strip():
            raise LiggingError(Diagnostic(span, "a proposal needs a name"))
        sets: list[SetChange] = []
        set_node = fields.get("set")
        if set_node is not None:
            if not isinstance(set_node, yaml.MappingNode):
                raise LiggingError(Diagnostic(span, "`set` must map RULE to VALUE"))
            for key, value in set_node.value:
                kspan = f"{where}:{key.start_mark.line + 1}"
                sets.append(parse_set(f"{key.value}={value.value}", kspan))
        packs: list[str] = []
        pack_node = fields.get("pack")
        if isinstance(pack_node, yaml.ScalarNode):
            packs.append(str(path.parent / pack_node.value))
        elif isinstance(pack_node, yaml.SequenceNode):
            packs.extend(str(path.parent / p.value) for p in pack_node.value)
        elif pack_node is not None:
            raise LiggingError(Diagnostic(span, "`pack` must be a file name or a list of file names"))
        if not sets and not packs:
            raise LiggingError(Diagnostic(span, f"proposal '{name_node.value}' changes nothing (give set or pack)"))
        proposals.append(Proposal(str(name_node.value), tuple(sets), tuple(packs)))
    return proposals


# ---------------------------------------------------------------- applying proposals


def _quantity(change: SetChange, old: ast.Quantity, where: str) -> ast.Quantity:
    """Convert the written value to a Quantity of the old limit's dimension."""
    m = NUMBER_PATTERN.match(change.value)
    if m is None:
        raise _arg_error(where, f"'{change.value}' is not a number with a unit, e.g. 0.60m or '0.60 m'")
    unit = m["unit"] or ("m" if old.dimension == "length" else "")
    try:
        measure = to_si(float(m["number"]), unit)
    except UnitProblem as exc:
        raise _arg_error(where, f"{change.rule}: {exc}") from None
    if measure.dimension != old.dimension:
        raise _arg_error(where, f"{change.rule}: '{change.value}' is a {measure.dimension}; "
                                f"the rule's limit ({old.text}) is a {old.dimension}")
    if measure.value < 0:
        raise _arg_error(where, f"{change.rule}: a limit cannot be negative ('{change.value}')")
    return ast.Quantity(measure.value, measure.dimension, measure.text, old.span)


def _edit_requirement(req: ast.Requirement, change: SetChange,
                      where: str) -> tuple[ast.Requirement, str, str, ast.Quantity]:
    """Return the requirement with its limit (or exception limit) replaced, what changed, and the new limit."""
    if change.exception:
        relaxed = [k for k, e in enumerate(req.exceptions) if e.limit is not None]
        if not relaxed:
            raise _arg_error(where, f"{change.rule} has no exception with a relaxed limit (`unless ... then OP Q`)")
        if len(relaxed) > 1:
            raise _arg_error(where, f"{change.rule} has {len(relaxed)} exceptions with a limit; ligging changes "
                                    "only a single one — use --pack with a candidate pack instead")
        k = relaxed[0]
        exc = req.exceptions[k]
        assert exc.limit is not None
        new = _quantity(change, exc.limit, where)
        excs = req.exceptions[:k] + (replace(exc, limit=new),) + req.exceptions[k + 1:]
        return replace(req, exceptions=excs), "exception", f"{exc.op} {exc.limit.text}", new
    rel = req.relation
    old = _limit_of(rel)
    if old is None:
        raise _arg_error(where, f"{change.rule}: a {type(rel).__name__.lower()} requirement has no limit to set")
    new = _quantity(change, old, where)
    return replace(req, relation=_with_limit(rel, new)), "limit", f"{_op(rel)} {old.text}", new


def _limit_of(rel: ast.Relation) -> ast.Quantity | None:
    """Return the limit a relation holds objects to (None for orders, zones, permissions, plain bounds)."""
    if isinstance(rel, ast.Access):
        return rel.width
    if isinstance(rel, (ast.Cover, ast.Clearance, ast.CrossingClearance, ast.Capacity, ast.Bounds, ast.Exclusion)):
        return rel.limit
    return None


def _with_limit(rel: ast.Relation, limit: ast.Quantity) -> ast.Relation:
    """Return the relation with its limit replaced (only called on relations that have one)."""
    if isinstance(rel, ast.Access):
        return replace(rel, width=limit)
    assert isinstance(rel, (ast.Cover, ast.Clearance, ast.CrossingClearance, ast.Capacity, ast.Bounds, ast.Exclusion))
    return replace(rel, limit=limit)


def _op(rel: ast.Relation) -> str:
    """Return the comparison a relation's limit is held to (access widths are always minimums)."""
    return str(getattr(rel, "op", ">="))


def _rule_text(pack: ast.RulePack, rule: ast.Rule) -> list[str]:
    """Return the source lines of a rule as written in its pack file."""
    path = Path(pack.path)
    if not path.is_file() and pack.path.startswith("rules/"):
        path = shipped_dir() / pack.path.removeprefix("rules/")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return [f"rule {rule.id}"]
    # the rule's own span is its name; its text runs to the end of its last requirement
    end = max([rule.span.line] + [s.end_line or s.line for req in rule.alternatives
                                   for s in (req.span, *(e.span for e in req.exceptions))])
    return lines[rule.span.line - 1:end]


def _changed_text(pack: ast.RulePack, rule: ast.Rule, span: Span, new_text: str) -> str:
    """Return the rule's text with the quantity at `span` (number and unit) shown at its new value."""
    lines = _rule_text(pack, rule)
    k = span.line - rule.span.line
    if 0 <= k < len(lines):
        line, col = lines[k], span.column - 1
        m = QUANTITY_TEXT.match(line[col:])
        if m is not None:
            lines[k] = line[:col] + new_text + line[col + m.end():]
    return "\n".join(lines)


def apply_sets(packs: PackSet, sets: Sequence[SetChange]) -> tuple[PackSet, list[Edit]]:
    """Return the pack set with the given limits changed, and the edits made."""
    pack_list = list(packs.packs)
    edits: list[Edit] = []
    for change in sets:
        where = f"--set {change.written}"
        versions = packs.find(change.rule)
        shadowed = [pr for pr in packs.overridden if pr.rule.id == change.rule]
        if not versions and shadowed:
            by = [pr.rule.id for pr in packs.rules if pr.rule.overrides == f"{shadowed[0].pack.name}:{change.rule}"]
            raise _arg_error(where, f"{change.rule} is overridden by {', '.join(by)} in the loaded packs; "
                                    f"set {by[0] if by else 'the overriding rule'} instead")
        if not versions:
            known = sorted({pr.rule.id for pr in packs.rules})
            near = difflib.get_close_matches(change.rule, known, n=1)
            hint = f" — did you mean {near[0]}?" if near else ""
            raise _arg_error(where, f"no rule {change.rule} in the loaded packs{hint}")
        for version in versions:
            k = next(i for i, p in enumerate(pack_list) if p.name == version.pack.name)
            pack = pack_list[k]
            r = next(i for i, rule in enumerate(pack.rules) if rule.id == change.rule and rule.span == version.rule.span)
            rule = pack.rules[r]
            alts = rule.alternatives
            if change.alternative is None and len(alts) > 1:
                raise _arg_error(where, f"{change.rule} has {len(alts)} alternatives; write {change.rule}.1=... "
                                        f"to {change.rule}.{len(alts)}=...")
            a = (change.alternative or 1) - 1
            if not 0 <= a < len(alts):
                raise _arg_error(where, f"{change.rule} has {len(alts)} alternative(s), not {a + 1}")
            req, target, before, new = _edit_requirement(alts[a], change, where)
            new_rule = replace(rule, alternatives=alts[:a] + (req,) + alts[a + 1:])
            pack_list[k] = replace(pack, rules=pack.rules[:r] + (new_rule,) + pack.rules[r + 1:])
            after = before.split(" ", 1)[0] + " " + new.text
            text = _changed_text(pack, rule, new.span, new.text)
            edits.append(Edit(change.rule, pack.name, target if a == 0 else f"{target} of alternative {a + 1}",
                              before, after, text))
    return compose(tuple(pack_list)), edits


def _pack_edits(old: ast.RulePack | None, new: ast.RulePack) -> list[Edit]:
    """Return the rules a candidate pack adds, rewrites or drops, with their text as the candidate writes them."""
    before = {r.id: "\n".join(_rule_text(old, r)) for r in old.rules} if old is not None else {}
    edits = []
    for rule in new.rules:
        text = "\n".join(_rule_text(new, rule))
        if rule.id not in before:
            edits.append(Edit(rule.id, new.name, "rule added", "", "", text))
        elif before[rule.id] != text:
            edits.append(Edit(rule.id, new.name, "rule rewritten", "", "", text))
    kept = {r.id for r in new.rules}
    edits.extend(Edit(rid, new.name, "rule removed", "", "", "") for rid in before if rid not in kept)
    return edits


def apply_pack_files(packs: PackSet, files: Sequence[str]) -> tuple[PackSet, list[Edit]]:
    """Return the pack set with each candidate pack replacing the loaded pack of its name (or added), and the edits."""
    pack_list = list(packs.packs)
    edits: list[Edit] = []
    for file in files:
        if not Path(file).is_file():
            raise _arg_error(file, "no such candidate pack file")
        loaded = load_packs([file]).packs
        candidate = loaded[-1]
        names = [p.name for p in pack_list]
        old = pack_list[names.index(candidate.name)] if candidate.name in names else None
        edits.extend(_pack_edits(old, candidate))
        if candidate.name in names:
            pack_list[names.index(candidate.name)] = candidate
        for extra in loaded[:-1]:
            if extra.name not in [p.name for p in pack_list]:
                pack_list.insert(0, extra)
        if candidate.name not in names:
            pack_list.append(candidate)
    return compose(tuple(pack_list)), edits


def apply(packs: PackSet, proposal: Proposal) -> tuple[PackSet, list[Edit]]:
    """Return the pack set as the proposal would make it (packs replaced first, then limits set), and the edits."""
    changed, edits = apply_pack_files(packs, proposal.packs) if proposal.packs else (packs, [])
    changed, more = apply_sets(changed, proposal.sets)
    return changed, edits + more


# ---------------------------------------------------------------- running


def load_sections(paths: Sequence[Path]) -> list[tuple[str, Section]]:
    """Load every case named by `paths`: folders, case.yaml files, directories of cases, .jsonl batches."""
    return list(batch_sections(list(paths)))


def feasible(section: Section, engine: Engine) -> bool:
    """Tell whether the layout solver can place the planned objects with every rule in force held."""
    problem = solver.problem(section, engine)
    return solver.feasible(problem, problem.rules)


def whatif(sections: Sequence[tuple[str, Section]], packs: PackSet, proposal: Proposal,
           with_layout: bool = True) -> WhatIf:
    """Check every case with the packs as they stand and as the proposal changes them (and try layout)."""
    changed, edits = apply(packs, proposal)
    before_engine, after_engine = Engine(packs), Engine(changed)
    deltas = []
    for path, section in sections:
        delta = CaseDelta(path, section.name, tuple(before_engine.evaluate(section)),
                          tuple(after_engine.evaluate(section)), None, None, str(section.tag("municipality") or ""),
                          section.planned or "", tuple((o.id, *o.holds) for o in section.objects if o.holds))
        if with_layout:
            delta = replace(delta, feasible_before=feasible(section, before_engine),
                            feasible_after=feasible(section, after_engine))
        deltas.append(delta)
    return WhatIf(proposal, tuple(edits), tuple(deltas))


def rank(results: Sequence[WhatIf]) -> list[WhatIf]:
    """Order what-if results by impact (cases unblocked, metres saved, fewest new conflicts), stably."""
    return sorted(results, key=WhatIf.impact)


def proposals_from_args(sets: Sequence[str], packs: Sequence[str], proposals_file: Path | None) -> list[Proposal]:
    """Build the proposals of one run: `--set`/`--pack` as one proposal, plus those of a proposals file."""
    out: list[Proposal] = []
    if sets or packs:
        name = ", ".join([*sets, *(Path(p).name for p in packs)])
        out.append(Proposal(name, tuple(parse_set(s) for s in sets), tuple(packs)))
    if proposals_file is not None:
        out.extend(load_proposals(proposals_file))
    if not out:
        raise _arg_error("whatif", "nothing to try: give --set RULE=VALUE, --pack CANDIDATE.rules or --proposals FILE")
    return out


def run_all(paths: Sequence[Path], base: PackSet, proposals: Sequence[Proposal],
            with_layout: bool = True, backlog: str | Path | None = None) -> list[WhatIf]:
    """Load the cases once and try every proposal on them (and on the backlog); return them ranked by impact."""
    sections = load_sections(paths)
    results = [whatif(sections, base, p, with_layout) for p in proposals]
    if backlog is not None:
        results = [replace(r, resolves=resolved_entries(r, backlog)) for r in results]
    return rank(results)


def resolved_entries(result: WhatIf, db: str | Path) -> tuple[Resolution, ...]:
    """Return the open backlog entries whose friction was present before and is gone after, in every tried case."""
    before = {(bl.case_key(c.case), f.fingerprint) for c in result.cases for f in c.before}
    after = {(bl.case_key(c.case), f.fingerprint) for c in result.cases for f in c.after}
    out = []
    for item in bl.list_items(db, load_weights(), rank="id"):
        if item.status in ("harmonised", "rejected"):
            continue
        seen = [key for key in item.seen if key in before]
        if seen and not any(key in after for key in seen):
            out.append(Resolution(item.id, item.status, item.title, tuple(r.rule for r in item.rubbing),
                                  tuple(sorted({case for case, _ in seen}))))
    return tuple(out)


def proposal_note(result: WhatIf) -> str:
    """Write the proposal as it is stored on a backlog entry: the exact rule text of the change and its impact."""
    t = result.totals()
    lines = [f"what-if proposal '{result.proposal.name}'"]
    for file in result.proposal.packs:
        lines.append(f"candidate pack: {file}")
    for edit in result.edits:
        lines.append(f"change: {edit.line()}")
        if edit.text:
            lines.append(edit.text)
    lines.append(f"measured on {plural(t['cases'], 'case')}: {t['disappeared']} findings gone, {t['appeared']} new, "
                 f"{t['changed']} changed; errors {t['before']['error']} → {t['after']['error']}; "
                 f"cases unblocked {t['cases_unblocked']}; deviation metres saved {t['metres_saved']:.3f}; "
                 f"new conflicts {t['new_conflicts']}"
                 + ("" if t["layout_unblocked"] is None else f"; newly feasible under layout {t['layout_unblocked']}"))
    return "\n".join(lines)


def save_proposal(result: WhatIf, db: str | Path, who: str | None = None) -> list[tuple[int, str]]:
    """Store the proposal on each entry it resolves: triaged ones become proposed; all reach phase praktijktoets."""
    note = proposal_note(result)
    done = []
    for res in result.resolves or ():
        if res.status == "triaged":
            bl.set_status(db, res.entry, "proposed", note, who)
            bl.set_phase(db, res.entry, "praktijktoets", f"tried on the cases: {result.proposal.name}", who)
            done.append((res.entry, "proposed, phase praktijktoets"))
        elif res.status == "proposed":
            bl.set_phase(db, res.entry, "praktijktoets", note, who)
            done.append((res.entry, "phase praktijktoets"))
        else:
            # the workflow moves only triaged entries to proposed: a new one needs its triage class first
            done.append((res.entry, f"left {res.status} (only triaged entries become proposed)"))
    return done


def blockers(result: WhatIf, packs: PackSet) -> list[Friction]:
    """Return praktijktoets friction: the rules that keep a proposal from working where it changed something.

    In each case where the proposal removed or changed a finding, a counting error or warning
    of another rule that appears with the proposal, or stays on the objects the proposal
    touched (and what moves with them in a rack), blocks it there.
    """
    edited = {e.rule for e in result.edits}
    words = "; ".join(e.line() for e in result.edits) or ", ".join(result.proposal.packs)
    out = []
    for case in result.cases:
        gone = list(case.disappeared) + [a for a, _ in case.changed]
        if not gone:
            continue
        touched = {s for f in gone for s in f.subjects}
        for group in case.racks:
            if touched & set(group):
                touched |= set(group)
        before = {(f.rule, f.fingerprint) for f in case.before}
        for f in case.after:
            if not counts(f) or f.severity not in ("error", "warning") or f.pack == PHYSICAL_PACK or f.rule in edited:
                continue
            appeared = (f.rule, f.fingerprint) not in before
            if not appeared and not touched & set(f.subjects):
                continue
            pr = pack_rule(packs, f.rule, f.pack, case.planned or None)
            ref = rule_ref(pr) if pr is not None else RuleRef(f.rule, f.pack, "", "", f.source)
            how = "newly fails" if appeared else "still fails"
            out.append(Friction(
                "praktijktoets", (ref,), (pr.rule.title if pr else "") or f.rule, f.severity, f.fingerprint,
                bl.case_key(case.case), case.municipality, case.planned, f.subjects, f.measured, f.required, f.op,
                None if f.shortfall is None else round(abs(f.shortfall), 4), f.unit, f.message,
                f"with proposal '{result.proposal.name}' ({words}), {f.rule} {how} on {', '.join(f.subjects)} where "
                f"the proposal changed {', '.join(sorted({g.rule for g in gone}))}: {f.message}"))
    return out


def log_blockers(result: WhatIf, packs: PackSet, db: str | Path, who: str | None = None) -> bl.LogSummary:
    """Log the rules that block a proposal (praktijktoets friction) as one run."""
    return bl.log_frictions(db, blockers(result, packs), None, who, "whatif")


def layout_note(results: Sequence[WhatIf]) -> str:
    """Say whether the layout solver was run for these results."""
    ran = any(c.feasible_before is not None for r in results for c in r.cases)
    return "strict feasibility by the layout solver, before and after" if ran else "not run (--no-layout)"


def as_json(results: Sequence[WhatIf]) -> dict[str, Any]:
    """Return the document `ligging whatif --format json` prints."""
    return {
        "ligging": 1,
        "layout": layout_note(results),
        "ranking": [{"rank": k + 1, "proposal": r.proposal.name,
                     **{key: r.totals()[key] for key in ("cases_unblocked", "metres_saved", "new_conflicts")}}
                    for k, r in enumerate(results)],
        "proposals": [r.as_json() for r in results],
    }


def _short(case: str) -> str:
    """Name a case by its folder, as engineers refer to it."""
    path = Path(case)
    return path.parent.name if path.name == "case.yaml" and path.parent.name else case


def _fits(case: CaseDelta) -> str:
    if case.feasible_before is None or case.feasible_after is None:
        return ""
    return f"{'yes' if case.feasible_before else 'no'}→{'yes' if case.feasible_after else 'no'}"


def _req(f: Finding) -> str:
    return "" if f.required is None else f"({f.op} {f.required:.3f} {f.unit})"


def _sev(counts_: dict[str, int]) -> str:
    return f"{counts_['error']}/{counts_['warning']}/{counts_['info']}"


def render(console: Console, results: Sequence[WhatIf]) -> None:
    """Print each proposal's per-case table and totals, then the ranking when there are several."""
    for k, result in enumerate(results):
        console.print(Text(f"Proposal {k + 1}: {result.proposal.name}", style="bold"))
        for file in result.proposal.packs:
            console.print(f"  candidate pack {file}", markup=False)
        for edit in result.edits:
            console.print(f"  {edit.line()}", markup=False)
        table = Table(box=box.SIMPLE_HEAD, show_footer=True, pad_edge=False)
        totals = result.totals()
        table.add_column("case", footer=f"total, {plural(totals['cases'], 'case')}", no_wrap=True)
        table.add_column("before", justify="right", footer=_sev(totals["before"]), no_wrap=True)
        table.add_column("after", justify="right", footer=_sev(totals["after"]), no_wrap=True)
        table.add_column("gone", justify="right", footer=str(totals["disappeared"]))
        table.add_column("new", justify="right", footer=str(totals["appeared"]))
        table.add_column("chg", justify="right", footer=str(totals["changed"]))
        table.add_column("m saved", justify="right", footer=f"{totals['metres_saved']:.3f}", no_wrap=True)
        table.add_column("layout", justify="right", no_wrap=True,
                         footer="" if totals["layout_unblocked"] is None else f"+{totals['layout_unblocked']}")
        table.add_column("unbl.", justify="right", footer=str(totals["cases_unblocked"]))
        for case in result.cases:
            table.add_row(Text(_short(case.case)), _sev(summary(case.before)), _sev(summary(case.after)),
                          str(len(case.disappeared)), str(len(case.appeared)), str(len(case.changed)),
                          f"{case.metres_saved:.3f}", _fits(case), "yes" if case.unblocked or case.layout_unblocked else "")
        console.print(table)
        console.print("  before/after: errors/warnings/info that count; m saved: deviation metres no longer "
                      "needed; layout: a deviation-free layout exists (before→after); unbl.: all errors gone or "
                      "layout newly feasible", style="dim", markup=False)
        for case in result.cases:
            name = _short(case.case)
            for f in case.disappeared:
                console.print(f"  - gone     {name}: {f.severity} {f.rule} {', '.join(f.subjects)}", markup=False)
            for f in case.appeared:
                console.print(f"  + new      {name}: {f.severity} {f.rule} {', '.join(f.subjects)}", markup=False)
            for a, b in case.changed:
                console.print(f"  ~ changed  {name}: {a.rule} {', '.join(a.subjects)}: {a.severity} "
                              f"{_req(a)} → {b.severity} {_req(b)}", markup=False)
        console.print()
    if len(results) > 1:
        table = Table(title="Ranking by impact", box=box.SIMPLE_HEAD)
        for name in ("rank", "proposal", "cases unblocked", "metres saved", "new conflicts"):
            table.add_column(name, justify="left" if name == "proposal" else "right")
        for k, result in enumerate(results):
            t = result.totals()
            table.add_row(str(k + 1), Text(result.proposal.name), str(t["cases_unblocked"]),
                          f"{t['metres_saved']:.3f}", str(t["new_conflicts"]))
        console.print(table)
    for k, result in enumerate(results):
        if result.resolves is not None:
            entries = ", ".join(f"#{r.entry} ({r.status}: {', '.join(r.rules)})" for r in result.resolves) or "none"
            console.print(f"backlog entries resolved by proposal {k + 1}: {entries}", markup=False)
    console.print(f"layout: {layout_note(results)}", style="dim", markup=False)
