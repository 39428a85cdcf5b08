"""Evaluate rule packs on sections: the engine every command runs.

`Engine(packs)` compiles every rule once (selectors resolved, one batch evaluator per
alternative from `columnar.RelationCompiler`). `Engine.evaluate_many(sections)` evaluates
all sections at once (DESIGN §8): their objects in one `columnar.Batch`, each rule run
once per batch over the sections it is in force for (validity dates and `where`
conditions), and Python work only for the rows that become findings. It applies
exceptions (a requirement met only through a measure becomes a warning naming the
measure and the approving party) and alternatives (a subject set passes when any
alternative passes; otherwise the closest alternative is reported), adds physical
overlaps, marks baseline findings and accepted deviations, and returns each section's
findings in a deterministic order. `Engine.evaluate(section)` is a batch of one.
Comparisons use a 1 mm tolerance. `tests/reference_engine.py` says the same in plain
loops, and the property tests hold the two equal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from checker.engine import columnar
from checker.engine.select import compare, compare_many
from checker.model.findings import SEVERITIES, Finding
from checker.model.geometry import BoolArray, FloatArray, IntArray
from checker.model.section import TOLERANCE, Obj, Section
from dsl import ast
from dsl.diagnostics import Span
from dsl.packs import PackRule, PackSet, in_force

OVERLAP_RULE = "LIG-OVERLAP"

@dataclass(frozen=True, slots=True)
class Row:
    """One failing (or exception-met) subject set of one requirement."""

    subjects: tuple[str, ...]
    measured: float | None
    required: float | None
    op: str
    unit: str
    alternative: int
    exception: ast.Exception_ | None

def exclusion_applies(objects: tuple[Obj, ...], rack_of: IntArray, s: int, t: int) -> bool:
    """Tell whether an exclusion judges subject s against target t.

    Not an object against itself or its own rack, and not a network against the space
    reserved for that same network.
    """
    if s == t or rack_of[s] == t or rack_of[t] == s:
        return False
    sobj, tobj = objects[s], objects[t]
    return not (tobj.kind == "reservation" and sobj.network is not None and sobj.network == tobj.network)


RELATION_KIND = {
    ast.Cover: "cover", ast.Clearance: "clearance", ast.CrossingClearance: "crossing", ast.Order: "order",
    ast.ZoneRule: "zone", ast.Exclusion: "exclusion", ast.Access: "access", ast.Capacity: "capacity",
    ast.CrossPermission: "crossing", ast.Bounds: "bounds",
}


class CompiledRule:
    """A rule ready for batches: its pack rule, one batch evaluator per alternative, its findings' fixed fields."""

    def __init__(self, pack_rule: PackRule, runs: tuple[columnar.Run, ...]) -> None:
        self.pack_rule = pack_rule
        self.rule = pack_rule.rule
        self.pack = pack_rule.pack.name
        self.runs = runs
        alternatives = self.rule.alternatives
        self.kinds = tuple(RELATION_KIND[type(req.relation)] for req in alternatives)
        self.rule_at = tuple(req.relation.span if k else self.rule.span for k, req in enumerate(alternatives))


def conditions_hold(rule: ast.Rule, section: Section) -> bool:
    """Tell whether a rule's `where` conditions hold for a case (a missing tag fails)."""
    for cond in rule.conditions:
        got = section.tag(cond.name)
        if got is None:
            return False
        if isinstance(cond.value, float):
            if not isinstance(got, float) or not compare(got, cond.op, cond.value):
                return False
        elif (str(got) == cond.value) != (cond.op == "="):
            return False
    return True


class Engine:
    """Rules compiled once for a pack set; `evaluate` runs them on any number of sections."""

    def __init__(self, packs: PackSet, today: dt.date | None = None) -> None:
        self.packs = packs
        self.today = (today or dt.date.today()).isoformat()
        compiler = columnar.RelationCompiler(packs)
        self.rules = tuple(CompiledRule(pr, tuple(compiler.compile(req.relation) for req in pr.rule.alternatives))
                           for pr in packs.rules)
        self._in_force: dict[tuple[str | None, tuple[tuple[str, str | float], ...]], BoolArray] = {}

    def rules_for(self, section: Section) -> list[CompiledRule]:
        """Return the rules in force on the case's planned date whose conditions hold."""
        return [cr for cr in self.rules if in_force(cr.pack_rule, section.planned) and conditions_hold(cr.rule, section)]

    def evaluate(self, section: Section) -> list[Finding]:
        """Return every finding for a section, deterministically ordered (a batch of one)."""
        return self.evaluate_many([section])[0]

    def evaluate_many(self, sections: list[Section]) -> list[list[Finding]]:
        """Return each section's findings, exactly as `evaluate` would, in input order.

        All sections are evaluated together (DESIGN §8): one `columnar.Batch` of their
        objects, each rule run once over the sections it is in force for, and Python work
        only for the rows that become findings.
        """
        if not sections:
            return []
        b = columnar.Batch(list(sections))
        active = self._active(b.sections)
        found: list[list[tuple[tuple[int, str, tuple[str, ...], int], Finding]]] = [[] for _ in sections]
        for position, plan in enumerate(self.rules):
            in_force_here = active[:, position]
            if not in_force_here.any():
                continue
            act = in_force_here[b.sec]
            if len(plan.runs) == 1:
                out = plan.runs[0](b, act, False)
                if out.groups is None:
                    self._emit(plan, 0, b, out, np.flatnonzero(~out.ok), position, found)
                    continue
                outs = [out]
            else:
                outs = [run(b, act, True) for run in plan.runs]
            if any(o.groups is not None for o in outs):
                self._emit_rows(plan, b, outs, position, found)
            else:
                self._emit_alternatives(plan, b, outs, position, found)
        self._emit_overlaps(b, found)
        result: list[list[Finding]] = []
        for section, entries in zip(b.sections, found, strict=True):
            entries.sort(key=_first)
            findings = [f for _, f in entries]
            if section.accept:
                findings = [self._accept(f, section) for f in findings]
            result.append(findings)
        return result

    def _active(self, sections: list[Section]) -> BoolArray:
        """Return a (section, rule) mask of the rules in force whose conditions hold (cached per date and tags)."""
        rows = []
        for section in sections:
            key = (section.planned, section.tags)
            got = self._in_force.get(key)
            if got is None:
                if len(self._in_force) > 4096:
                    self._in_force.clear()
                got = np.array([in_force(cr.pack_rule, section.planned) and conditions_hold(cr.rule, section)
                                for cr in self.rules], dtype=bool)
                self._in_force[key] = got
            rows.append(got)
        return np.array(rows, dtype=bool).reshape(len(sections), len(self.rules))

    def _emit(self, plan: CompiledRule, k: int, b: columnar.Batch, out: columnar.BatchOutcome, rows: IntArray, position: int,
              found: list[list[tuple[tuple[int, str, tuple[str, ...], int], Finding]]],
              exceptions: list[ast.Exception_ | None] | None = None) -> None:
        """Append findings for the given rows (one or two subject columns) of alternative k."""
        if len(rows) == 0:
            return
        req = plan.rule.alternatives[k]
        if len(out.subjects) == 2:
            i, j = out.subjects[0][rows], out.subjects[1][rows]
            swap = np.asarray(b.ids[i] > b.ids[j], dtype=bool)
            lo, hi = np.where(swap, j, i), np.where(swap, i, j)
            if exceptions is None:
                # a subject set found twice (an order judged at two levels, an exclusion both ways) is
                # one finding: the last row found, as `_rows` keeps it
                _, back = np.unique((lo * b.n + hi)[::-1], return_index=True)
                if len(back) < len(rows):
                    last = np.sort(len(rows) - 1 - back)
                    rows, lo, hi = rows[last], lo[last], hi[last]
            later = (b.planned[hi] & ~b.planned[lo]) | ((b.planned[hi] == b.planned[lo]) & (
                (b.line[hi] < b.line[lo]) | ((b.line[hi] == b.line[lo]) & (b.column[hi] < b.column[lo]))))
            anchor = np.where(later, hi, lo).tolist()
            baseline = (b.existing[lo] & b.existing[hi]).tolist()
            subjects: list[tuple[str, ...]] = list(zip(b.ids[lo].tolist(), b.ids[hi].tolist(), strict=True))
            columns: tuple[IntArray, ...] = (lo, hi)
        else:
            g = out.subjects[0][rows]
            anchor = g.tolist()
            baseline = b.existing[g].tolist()
            subjects = [(s,) for s in b.ids[g].tolist()]
            columns = (g,)
        section = b.sec[columns[0]].tolist()
        measured = out.measured[rows].tolist() if out.measured is not None else [None] * len(rows)
        if exceptions is None:
            exceptions = self._exceptions(req, b, columns, out.measured[rows] if out.measured is not None else None)
        say = sayer(req.relation, out.op, out.unit, out.required)
        flags = b.is_crossing[columns[0]].tolist() if isinstance(req.relation, ast.CrossPermission) \
            else [False] * len(subjects)
        rule_id, pack, kind, severity = plan.rule.id, plan.pack, plan.kinds[k], plan.rule.severity
        rank = SEVERITIES.index(severity)
        required, op, unit = out.required, out.op, out.unit
        source, rule_at, title, illustrative = plan.rule.source, plan.rule_at[k], plan.rule.title, plan.rule.illustrative
        spans = b.spans
        if not any(exceptions):
            if isinstance(req.relation, ast.CrossPermission):
                messages = [say(subj, None, None, flag) for subj, flag in zip(subjects, flags, strict=True)]
            else:
                messages = say_many(req.relation, op, unit, required, subjects, measured)
            for subj, value, text, a, base, s in zip(subjects, measured, messages, anchor, baseline, section,
                                                     strict=True):
                found[s].append(((rank, rule_id, subj, position),
                                 Finding(rule_id, pack, severity, kind, subj, value, required, op, unit, text, source,
                                         rule_at, spans[a], base, title, illustrative)))
            return
        for n, subj in enumerate(subjects):
            exc = exceptions[n]
            if exc is None:
                finding = Finding(rule_id, pack, severity, kind, subj, measured[n], required, op, unit,
                                  say(subj, measured[n], None, flags[n]), source, rule_at, spans[anchor[n]],
                                  baseline[n], title, illustrative)
                found[section[n]].append(((rank, rule_id, subj, position), finding))
                continue
            objs = [b.objects[int(c[n])] for c in columns]
            finding = self._exception_finding(plan, k, subj, measured[n], required, op, unit, exc, objs,
                                              spans[anchor[n]], baseline[n], say(subj, measured[n], exc, flags[n]))
            found[section[n]].append(((SEVERITIES.index(finding.severity), rule_id, subj, position), finding))

    def _exception_finding(self, plan: CompiledRule, k: int, subjects: tuple[str, ...], measured: float | None,
                           required: float | None, op: str, unit: str, exc: ast.Exception_, objs: list[Obj],
                           anchor: Span, baseline: bool, message: str) -> Finding:
        """Return a finding met only through an exception (as `_finding` builds it)."""
        rule = plan.rule
        severity = "warning" if rule.severity == "error" else rule.severity
        used = sorted({m for o in objs for m in o.measures} & set(exc.measures))
        exception: tuple[tuple[str, str], ...] = (("measure", ", ".join(used)), ("approval", exc.approver))
        if exc.limit is not None:
            exception += (("relaxed_to", f"{exc.limit.value:g}"),)
        return Finding(rule.id, plan.pack, severity, plan.kinds[k], subjects, measured, required, op, unit, message,
                       rule.source, plan.rule_at[k], anchor, baseline, rule.title, rule.illustrative, exception)

    @staticmethod
    def _exceptions(req: ast.Requirement, b: columnar.Batch, columns: tuple[IntArray, ...],
                    measured: FloatArray | None) -> list[ast.Exception_ | None]:
        """Return, per row, the exception through which it is still met (as `_exception`), or None."""
        rows = len(columns[0])
        if not req.exceptions:
            return [None] * rows
        choice = np.full(rows, -1, dtype=np.intp)
        for e, exc in enumerate(req.exceptions):
            carries = b.has_measure(exc.measures)
            hit = np.zeros(rows, dtype=bool)
            for c in columns:
                hit |= carries[c]
            if exc.limit is not None:
                hit &= compare_many(measured, exc.op, exc.limit.value) if measured is not None else False
            choice[hit & (choice < 0)] = e
        return [req.exceptions[c] if c >= 0 else None for c in choice.tolist()]

    def _emit_alternatives(self, plan: CompiledRule, b: columnar.Batch, outs: list[columnar.BatchOutcome], position: int,
                           found: list[list[tuple[tuple[int, str, tuple[str, ...], int], Finding]]]) -> None:
        """Combine alternatives as `_rows` does: a subject set passes if any alternative passes it."""
        n = b.n
        codes = []
        for out in outs:
            if len(out.subjects) == 2:
                i, j = out.subjects
                codes.append(n + np.minimum(i, j).astype(np.int64) * n + np.maximum(i, j))
            else:
                codes.append(out.subjects[0].astype(np.int64))
        passed = np.concatenate([c[o.ok] for c, o in zip(codes, outs, strict=True)])
        candidates: dict[int, list[tuple[Row, int, int]]] = {}
        for k, (code, out) in enumerate(zip(codes, outs, strict=True)):
            fail = np.flatnonzero(~out.ok & ~np.isin(code, passed))
            if len(fail) == 0:
                continue
            # within one alternative the last row of a subject set counts
            _, last = np.unique(code[fail][::-1], return_index=True)
            fail = np.sort(fail[len(fail) - 1 - last])
            columns = tuple(c[fail] for c in out.subjects)
            measured = out.measured[fail] if out.measured is not None else None
            exceptions = self._exceptions(plan.rule.alternatives[k], b, columns, measured)
            values = measured.tolist() if measured is not None else [None] * len(fail)
            for m, r in enumerate(fail.tolist()):
                row = Row((), values[m], out.required, out.op, out.unit, k, exceptions[m])
                candidates.setdefault(int(code[r]), []).append((row, k, r))
        chosen: dict[int, list[tuple[int, ast.Exception_ | None]]] = {}
        for rows in candidates.values():
            via = [c for c in rows if c[0].exception is not None]
            row, k, r = via[0] if via else min(rows, key=lambda c: _closeness(c[0]))
            chosen.setdefault(k, []).append((r, row.exception))
        for k, picked in sorted(chosen.items()):
            picked.sort()
            self._emit(plan, k, b, outs[k], np.array([r for r, _ in picked], dtype=np.intp), position, found,
                       [e for _, e in picked])

    def _emit_rows(self, plan: CompiledRule, b: columnar.Batch, outs: list[columnar.BatchOutcome], position: int,
                   found: list[list[tuple[tuple[int, str, tuple[str, ...], int], Finding]]]) -> None:
        """Combine alternatives with variable subject groups (capacity) row by row, as `_rows` does."""
        multi = len(outs) > 1
        per_alt: list[dict[tuple[int, tuple[str, ...]], Row]] = []
        passed: set[tuple[int, tuple[str, ...]]] = set()
        members: dict[tuple[int, tuple[str, ...]], list[int]] = {}
        ids = b.ids
        for k, (req, out) in enumerate(zip(plan.rule.alternatives, outs, strict=True)):
            rows: dict[tuple[int, tuple[str, ...]], Row] = {}
            wanted = range(len(out.ok)) if multi else np.flatnonzero(~np.asarray(out.ok, dtype=bool)).tolist()
            for r in wanted:
                if out.groups is not None:
                    group = out.groups[r].tolist()
                    assert out.section is not None
                    s = int(out.section[r])
                else:
                    group = [int(c[r]) for c in out.subjects]
                    s = int(b.sec[group[0]])
                group.sort(key=ids.__getitem__)
                key = (s, tuple(ids[g] for g in group))
                if bool(out.ok[r]):
                    passed.add(key)
                    continue
                measured = None if out.measured is None else float(out.measured[r])
                exc = None
                if req.exceptions:
                    columns = tuple(np.array([g], dtype=np.intp) for g in group)
                    exc = self._exceptions(req, b, columns, None if measured is None else np.array([measured]))[0]
                rows[key] = Row(key[1], measured, out.required, out.op, out.unit, k, exc)
                members[key] = group
            per_alt.append(rows)
        for key in sorted({key for rows in per_alt for key in rows} - passed):
            candidates = [rows[key] for rows in per_alt if key in rows]
            via = [c for c in candidates if c.exception is not None]
            row = via[0] if via else min(candidates, key=_closeness)
            finding = self._finding_of(plan, row, [b.objects[g] for g in members[key]])
            found[key[0]].append(((SEVERITIES.index(finding.severity), finding.rule, finding.subjects, position),
                                  finding))

    def _emit_overlaps(self, b: columnar.Batch,
                       found: list[list[tuple[tuple[int, str, tuple[str, ...], int], Finding]]]) -> None:
        """Append the physical overlaps of all sections (as `_overlaps`)."""
        i, j, gap = columnar.overlaps(b)
        swap = np.asarray(b.ids[i] > b.ids[j], dtype=bool)
        lo, hi = np.where(swap, j, i).tolist(), np.where(swap, i, j).tolist()
        position = len(self.rules)
        rank = SEVERITIES.index("error")
        for a, c, g in zip(lo, hi, gap.tolist(), strict=True):
            finding = overlap_finding(b.objects[a], b.objects[c], g)
            found[int(b.sec[a])].append(((rank, OVERLAP_RULE, finding.subjects, position), finding))

    def _finding_of(self, cr: CompiledRule, row: Row, objs: list[Obj]) -> Finding:
        """Return the finding of a row whose subjects are `objs` (in the row's order)."""
        rule = cr.rule
        req = rule.alternatives[row.alternative]
        planned = [o for o in objs if o.status == "planned"]
        anchor = min(planned or objs, key=lambda o: (o.span.line, o.span.column))
        severity = rule.severity
        exception: tuple[tuple[str, str], ...] = ()
        if row.exception is not None:
            severity = "warning" if rule.severity == "error" else rule.severity
            used = sorted({m for o in objs for m in o.measures} & set(row.exception.measures))
            exception = (("measure", ", ".join(used)), ("approval", row.exception.approver))
            if row.exception.limit is not None:
                exception += (("relaxed_to", f"{row.exception.limit.value:g}"),)
        return Finding(
            rule=rule.id, pack=cr.pack, severity=severity, kind=cr.kinds[row.alternative],
            subjects=row.subjects, measured=row.measured, required=row.required, op=row.op, unit=row.unit,
            message=describe(req.relation, row, objs), source=rule.source,
            rule_at=cr.rule_at[row.alternative], case_at=anchor.span,
            baseline=all(o.status == "existing" for o in objs), title=rule.title,
            illustrative=rule.illustrative, exception=exception,
        )

    def _accept(self, finding: Finding, section: Section) -> Finding:
        """Mark a finding covered by an `accept:` entry: granted, pending approval, expired, or stale."""
        for acc in section.accept:
            if acc.rule != finding.rule or (acc.subjects and acc.subjects != finding.subjects):
                continue
            state = "accepted"
            if acc.pending:
                state = "pending"
            elif acc.until < self.today:
                state = "expired"
            elif acc.measured is not None and finding.measured is not None \
                    and abs(acc.measured - finding.measured) > TOLERANCE:
                state = "stale"
            return replace(finding, accepted=(("state", state), ("reason", acc.reason),
                                              ("approved_by", acc.approved_by), ("until", acc.until)))
        return finding


def overlap_finding(first: Obj, second: Obj, gap: float) -> Finding:
    """Return the finding of two bodies (in id order) that overlap by `-gap` metres."""
    objs = [o for o in (first, second) if o.status == "planned"] or [first, second]
    anchor = min(objs, key=lambda o: (o.span.line, o.span.column))
    return Finding(
        rule=OVERLAP_RULE, pack="ligging", severity="error", kind="overlap",
        subjects=(first.id, second.id), measured=gap, required=0.0, op=">=", unit="m",
        message=f"{first.id} and {second.id} physically overlap by {-gap * 1000:.0f} mm",
        source="physical: two bodies cannot occupy the same space",
        rule_at=Span("ligging", 1, 1), case_at=anchor.span,
        baseline=first.status == "existing" and second.status == "existing", title="Objects overlap",
    )


def _closeness(row: Row) -> float:
    """Rank how near a failing row came to its requirement (relative shortfall; no magnitude = 1)."""
    if row.measured is None or row.required is None:
        return 1.0
    gap = row.required - row.measured if row.op == ">=" else row.measured - row.required
    return gap / row.required if row.required else gap


def describe(rel: ast.Relation, row: Row, objs: list[Obj]) -> str:
    """Say in one sentence what is wrong, with the numbers."""
    crossing_first = bool(objs) and objs[0].kind == "crossing"
    return sayer(rel, row.op, row.unit, row.required)(row.subjects, row.measured, row.exception, crossing_first)


Say = Callable[[tuple[str, ...], float | None, "ast.Exception_ | None", bool], str]


def _tail(exc: ast.Exception_ | None) -> str:
    """Return the end of a message for a row met only through an exception (as `describe`)."""
    if exc is None:
        return ""
    return f"; met only through {', '.join(exc.measures)} — needs approval of {exc.approver}"


def sayer(rel: ast.Relation, op: str, unit: str, required: float | None) -> Say:
    """Return a function writing `describe`'s sentence for rows of one relation (subjects, measured, exception, flag).

    The flag tells, for a crossing permission, whether the first subject is the crossing.
    """
    if isinstance(rel, ast.Order):
        where = "nearer the facade than" if rel.direction == "left-to-right" else "above"
        end = f" ({rel.direction}, {rel.ref})"
        return lambda subj, measured, exc, flag: f"{subj[0]} should lie {where} {subj[1]}{end}"
    if isinstance(rel, ast.ZoneRule):
        verb = "must lie within" if rel.mode == "within" else "must not lie under"
        listed = ", ".join(rel.kinds)
        return lambda subj, measured, exc, flag: f"{', '.join(subj)} {verb} {listed}{_tail(exc)}"
    if isinstance(rel, ast.CrossPermission):
        return lambda subj, measured, exc, flag: (f"crossing {subj[0]} may not cross {subj[1]}" if flag
                                                  else f"crossing {subj[1]} may not cross {subj[0]}")
    head, middle = _halves(rel, op, unit, required)

    def say(subj: tuple[str, ...], measured: float | None, exc: ast.Exception_ | None, flag: bool) -> str:
        value = measured if measured is not None else float("nan")
        return f"{head}{', '.join(subj)} is {value:.3f}{middle}{_tail(exc)}"

    return say


def say_many(rel: ast.Relation, op: str, unit: str, required: float | None, subjects: list[tuple[str, ...]],
             measured: list[float | None]) -> list[str]:
    """Return `describe`'s sentences for rows without an exception (not crossing permissions)."""
    if isinstance(rel, (ast.Order, ast.ZoneRule)):
        say = sayer(rel, op, unit, required)
        return [say(subj, None, None, False) for subj in subjects]
    # the sentence of `sayer`, its fixed halves computed once for all rows
    nan = float("nan")
    head, tail = _halves(rel, op, unit, required)
    return [f"{head}{', '.join(subj)} is {nan if value is None else value:.3f}{tail}"
            for subj, value in zip(subjects, measured, strict=True)]


def _what(rel: ast.Relation) -> str:
    """Return what a finding's message says was measured, e.g. 'horizontal clearance (edge-edge)'."""
    if isinstance(rel, ast.Clearance):
        return f"{rel.plane} clearance ({rel.a.ref}-{rel.b.ref})"
    if isinstance(rel, ast.Bounds):
        return "margin inside the profile" if rel.what == "profile" else "bottom depth"
    if isinstance(rel, ast.Capacity):
        return f"{rel.measure} under {'/'.join(rel.kinds)}"
    return {
        ast.Cover: "cover", ast.CrossingClearance: "vertical clearance at crossing",
        ast.Exclusion: "distance to exclusion zone", ast.Access: "free trench width",
    }[type(rel)]


def _halves(rel: ast.Relation, op: str, unit: str, required: float | None) -> tuple[str, str]:
    """Return the fixed text before the subjects and after the measured value of `describe`'s sentence."""
    shown = unit if unit != "count" else ""
    unit_text = shown and " " + shown
    what = _what(rel)
    return f"{what} of ", f"{unit_text}; required {op} {required if required is not None else float('nan'):.3f}{unit_text}"


def _first(entry: tuple[tuple[int, str, tuple[str, ...], int], Finding]) -> tuple[int, str, tuple[str, ...], int]:
    """Return the sort key of a (key, finding) entry."""
    return entry[0]
