"""Evaluate rule packs on sections: the engine every command runs.

`Engine(packs)` compiles every rule once (selectors resolved, one batch evaluator per
alternative from `columnar.RelationCompiler`). `Engine.evaluate_many(sections)` evaluates
all sections at once (columnar, `checker/engine/columnar.py`): their objects in one `columnar.Batch`, each rule run
once per batch over the sections it is in force for (validity dates and `where`
conditions), and Python work only for the rows that become findings. It applies
exceptions (a requirement met only through a measure becomes a warning naming the
measure and the approving party) and alternatives (a subject set passes when any
alternative passes; otherwise the closest alternative is reported), adds physical
overlaps, marks baseline findings and accepted deviations, and returns each section's
findings in a deterministic order. `Engine.check(table)` keeps the findings as columns
(`checker.model.found.Found`: a template per rule alternative, one row per finding) for the
batch writers; `Engine.evaluate(section)` is a batch of one and builds `Finding`s.
Comparisons use a 1 mm tolerance. `tests/reference_engine.py` says the same in plain
loops, and the property tests hold the two equal.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from checker.engine import columnar
from checker.engine.select import compare, compare_many
from checker.model.findings import SEVERITIES, UNMEASURED, Finding
from checker.model.found import Block, Found, Say, Template
from checker.model.geometry import BoolArray, FloatArray, IntArray
from checker.model.numbers import fixed
from checker.model.section import TOLERANCE, Obj, Section
from checker.model.table import Table
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

    Not an object against itself or its own rack, not a network against the space
    reserved for that same network, and not an object against a reservation whose claim
    comes only after the object is dug out (a reservation blocks what is still there then).
    """
    if s == t or rack_of[s] == t or rack_of[t] == s:
        return False
    sobj, tobj = objects[s], objects[t]
    if tobj.kind != "reservation":
        return True
    if sobj.removed is not None and tobj.claim is not None and sobj.removed <= tobj.claim:
        return False
    return not (sobj.network is not None and sobj.network == tobj.network)


RELATION_KIND = {
    ast.Cover: "cover", ast.Clearance: "clearance", ast.CrossingClearance: "crossing", ast.Order: "order",
    ast.ZoneRule: "zone", ast.Exclusion: "exclusion", ast.Access: "access", ast.Capacity: "capacity",
    ast.CrossPermission: "crossing", ast.Bounds: "bounds", ast.Keep: "keep",
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
    return tags_hold(rule, section.tags)


def tags_hold(rule: ast.Rule, tags: tuple[tuple[str, str | float], ...]) -> bool:
    """Tell whether a rule's `where` conditions hold for a case with these tags (a missing tag fails)."""
    for cond in rule.conditions:
        got = next((value for key, value in tags if key == cond.name), None)
        if got is None:
            return False
        if isinstance(cond.value, float):
            if not isinstance(got, float) or not compare(got, cond.op, cond.value):
                return False
        elif (str(got) == cond.value) != (cond.op == "="):
            return False
    return True


def exception_fields(exc: ast.Exception_, measures: list[tuple[str, ...]]) -> tuple[tuple[str, str], ...]:
    """Return a finding's `exception` fields: the measures its subjects carry that the exception names, its approver."""
    used = sorted({m for carried in measures for m in carried} & set(exc.measures))
    fields: tuple[tuple[str, str], ...] = (("measure", ", ".join(used)), ("approval", exc.approver))
    if exc.limit is not None:
        fields += (("relaxed_to", f"{exc.limit.value:g}"),)
    return fields


class Engine:
    """Rules compiled once for a pack set; `evaluate` runs them on any number of sections."""

    def __init__(self, packs: PackSet, today: dt.date | None = None) -> None:
        self.packs = packs
        self.today = (today or dt.date.today()).isoformat()
        compiler = columnar.RelationCompiler(packs)
        self.rules = tuple(CompiledRule(pr, tuple(compiler.compile(req.relation) for req in pr.rule.alternatives))
                           for pr in packs.rules)
        self._in_force: dict[tuple[str | None, tuple[tuple[str, str | float], ...]], BoolArray] = {}
        # findings sort by rule id: the rank of each id among all of them (the overlap rule's too)
        names = sorted({cr.rule.id for cr in self.rules} | {OVERLAP_RULE})
        self._rule_rank = {name: rank for rank, name in enumerate(names)}
        self.templates: list[Template] = []
        self._template_of: dict[tuple[int, int, int], int] = {}
        self._template_rank: list[tuple[int, int]] = []
        self._overlap = self._add(Template(
            OVERLAP_RULE, "ligging", "error", "overlap", ">=", "m", "physical: two bodies cannot occupy the same space",
            Span("ligging", 1, 1), "Objects overlap", None, True, True, _say_overlaps))

    def rules_for(self, section: Section) -> list[CompiledRule]:
        """Return the rules in force on the case's planned date whose conditions hold."""
        return [cr for cr in self.rules if in_force(cr.pack_rule, section.planned) and conditions_hold(cr.rule, section)]

    def evaluate(self, section: Section) -> list[Finding]:
        """Return every finding for a section, deterministically ordered (a batch of one)."""
        return self.evaluate_many([section])[0]

    def evaluate_many(self, sections: list[Section]) -> list[list[Finding]]:
        """Return each section's findings, exactly as `evaluate` would, in input order.

        All sections are evaluated together: one `columnar.Batch` of their objects, each
        rule run once over the sections it is in force for; the findings are columns
        (`check`) until the `Finding` objects are built here.
        """
        if not sections:
            return []
        table = Table.of(sections)
        return self.check(table).findings(table)

    def check(self, table: Table) -> Found:
        """Return the findings of every section of a table as columns (`Found`), in contract order per section.

        Each rule runs once per batch over the sections it is in force for; Python work is
        per rule and per template, not per finding (except where an exception's measures, an
        accepted deviation or an unmeasured cover is named).
        """
        b = columnar.Batch(table)
        active = self._active(table)
        blocks: list[Block] = []
        for position, plan in enumerate(self.rules):
            in_force_here = active[:, position]
            if not in_force_here.any():
                continue
            act = in_force_here[b.sec]
            if len(plan.runs) == 1:
                out = plan.runs[0](b, act, False)
                if out.groups is None:
                    self._emit(plan, 0, b, out, np.flatnonzero(~out.ok), position, blocks)
                    continue
                outs = [out]
            else:
                outs = [run(b, act, True) for run in plan.runs]
            if any(o.groups is not None for o in outs):
                self._emit_rows(plan, b, outs, position, blocks)
            else:
                self._emit_alternatives(plan, b, outs, position, blocks)
        self._emit_overlaps(b, blocks)
        return self._finish(b, blocks)

    def _add(self, template: Template) -> int:
        """Register a template; return its index."""
        self.templates.append(template)
        self._template_rank.append((SEVERITIES.index(template.severity), self._rule_rank[template.rule]))
        return len(self.templates) - 1

    def _template(self, plan: CompiledRule, position: int, k: int, e: int, out: columnar.BatchOutcome) -> int:
        """Return (and register on first use) the template of alternative k of a rule, met through exception e (-1: none)."""
        key = (position, k, e)
        got = self._template_of.get(key)
        if got is None:
            rule = plan.rule
            req = rule.alternatives[k]
            exc = req.exceptions[e] if e >= 0 else None
            severity = "warning" if exc is not None and rule.severity == "error" else rule.severity
            got = self._add(Template(rule.id, plan.pack, severity, plan.kinds[k], out.op, out.unit, rule.source,
                                     plan.rule_at[k], rule.title, rule.illustrative, out.measured is not None,
                                     out.required is not None, say_rows(req.relation, out.op, out.unit, exc)))
            self._template_of[key] = got
        return got

    def _active(self, table: Table) -> BoolArray:
        """Return a (section, rule) mask of the rules in force whose conditions hold (cached per date and tags)."""
        rows = []
        for planned, tags in zip(table.planned, table.tags, strict=True):
            key = (planned, tags)
            got = self._in_force.get(key)
            if got is None:
                if len(self._in_force) > 4096:
                    self._in_force.clear()
                got = np.array([in_force(cr.pack_rule, planned) and tags_hold(cr.rule, tags) for cr in self.rules],
                               dtype=bool)
                self._in_force[key] = got
            rows.append(got)
        return np.array(rows, dtype=bool).reshape(table.count, len(self.rules))

    def _emit(self, plan: CompiledRule, k: int, b: columnar.Batch, out: columnar.BatchOutcome, rows: IntArray, position: int,
              blocks: list[Block], exceptions: IntArray | None = None) -> None:
        """Append the findings of the given rows (one or two subject columns) of alternative k, as blocks of columns."""
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
            anchor = np.where(later, hi, lo)
            baseline = b.existing[lo] & b.existing[hi]
            subjects = np.stack((lo, hi), axis=1)
            columns: tuple[IntArray, ...] = (lo, hi)
            # subjects go in id order; an order's sentence names them in the order it requires
            said = (lo != out.subjects[0][rows]) if isinstance(req.relation, ast.Order) else np.zeros(len(rows), dtype=bool)
        else:
            g = out.subjects[0][rows]
            anchor, baseline, subjects, columns = g, b.existing[g], g[:, None], (g,)
            said = np.zeros(len(rows), dtype=bool)
        measured = out.measured[rows] if out.measured is not None else None
        if exceptions is None:
            exceptions = self._exceptions(req, b, columns, measured)
        flags = b.is_crossing[columns[0]] if isinstance(req.relation, ast.CrossPermission) \
            else np.zeros(len(rows), dtype=bool)
        values = measured if measured is not None else np.full(len(rows), np.nan)
        required = np.full(len(rows), np.nan if out.required is None else out.required)
        sec = b.sec[columns[0]]
        for e in np.unique(exceptions).tolist():
            pick = np.flatnonzero(exceptions == e) if e >= 0 or exceptions.max() >= 0 else slice(None)
            fields = None
            if e >= 0:
                exc = req.exceptions[e]
                carried = b.table.measures
                fields = [exception_fields(exc, [carried.get(int(c[n]), ()) for c in columns])
                          for n in pick.tolist()]  # type: ignore[union-attr]
            blocks.append(Block(self._template(plan, position, k, e, out), position, sec[pick], subjects[pick],
                                values[pick], required[pick], anchor[pick], baseline[pick], flags[pick], fields,
                                reversed=said[pick]))

    @staticmethod
    def _exceptions(req: ast.Requirement, b: columnar.Batch, columns: tuple[IntArray, ...],
                    measured: FloatArray | None) -> IntArray:
        """Return, per row, the index of the exception through which it is still met (as `_exception`), or -1."""
        rows = len(columns[0])
        choice = np.full(rows, -1, dtype=np.intp)
        for e, exc in enumerate(req.exceptions):
            carries = b.has_measure(exc.measures)
            hit = np.zeros(rows, dtype=bool)
            for c in columns:
                hit |= carries[c]
            if exc.limit is not None:
                hit &= compare_many(measured, exc.op, exc.limit.value) if measured is not None else False
            choice[hit & (choice < 0)] = e
        return choice

    def _emit_alternatives(self, plan: CompiledRule, b: columnar.Batch, outs: list[columnar.BatchOutcome], position: int,
                           blocks: list[Block]) -> None:
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
        candidates: dict[int, list[tuple[Row, int, int, int]]] = {}
        for k, (code, out) in enumerate(zip(codes, outs, strict=True)):
            fail = np.flatnonzero(~out.ok & ~np.isin(code, passed))
            if len(fail) == 0:
                continue
            # within one alternative the last row of a subject set counts
            _, last = np.unique(code[fail][::-1], return_index=True)
            fail = np.sort(fail[len(fail) - 1 - last])
            columns = tuple(c[fail] for c in out.subjects)
            measured = out.measured[fail] if out.measured is not None else None
            exceptions = self._exceptions(plan.rule.alternatives[k], b, columns, measured).tolist()
            values = measured.tolist() if measured is not None else [None] * len(fail)
            req = plan.rule.alternatives[k]
            for m, r in enumerate(fail.tolist()):
                exc = req.exceptions[exceptions[m]] if exceptions[m] >= 0 else None
                row = Row((), values[m], out.required, out.op, out.unit, k, exc)
                candidates.setdefault(int(code[r]), []).append((row, k, r, exceptions[m]))
        chosen: dict[int, list[tuple[int, int]]] = {}
        for rows in candidates.values():
            via = [c for c in rows if c[0].exception is not None]
            row, k, r, e = via[0] if via else min(rows, key=lambda c: _closeness(c[0]))
            chosen.setdefault(k, []).append((r, e))
        for k, picked in sorted(chosen.items()):
            picked.sort()
            self._emit(plan, k, b, outs[k], np.array([r for r, _ in picked], dtype=np.intp), position, blocks,
                       np.array([e for _, e in picked], dtype=np.intp))

    def _emit_rows(self, plan: CompiledRule, b: columnar.Batch, outs: list[columnar.BatchOutcome], position: int,
                   blocks: list[Block]) -> None:
        """Combine alternatives with variable subject groups (capacity) row by row, as `_rows` does."""
        multi = len(outs) > 1
        per_alt: list[dict[tuple[int, tuple[str, ...]], tuple[Row, int]]] = []
        passed: set[tuple[int, tuple[str, ...]]] = set()
        members: dict[tuple[int, tuple[str, ...]], list[int]] = {}
        ids = b.ids
        for k, (req, out) in enumerate(zip(plan.rule.alternatives, outs, strict=True)):
            rows: dict[tuple[int, tuple[str, ...]], tuple[Row, int]] = {}
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
                e = -1
                if req.exceptions:
                    columns = tuple(np.array([g], dtype=np.intp) for g in group)
                    e = int(self._exceptions(req, b, columns, None if measured is None else np.array([measured]))[0])
                exc = req.exceptions[e] if e >= 0 else None
                rows[key] = (Row(key[1], measured, out.required, out.op, out.unit, k, exc), e)
                members[key] = group
            per_alt.append(rows)
        for key in sorted({key for rows in per_alt for key in rows} - passed):
            candidates = [rows[key] for rows in per_alt if key in rows]
            via = [c for c in candidates if c[0].exception is not None]
            row, e = via[0] if via else min(candidates, key=lambda c: _closeness(c[0]))
            group = np.array(members[key], dtype=np.intp)
            planned = np.flatnonzero(b.planned[group])
            among = group[planned] if len(planned) else group
            anchor = int(among[np.lexsort((b.column[among], b.line[among]))[0]])
            k = row.alternative
            out = outs[k]
            exc = plan.rule.alternatives[k].exceptions[e] if e >= 0 else None
            blocks.append(Block(
                self._template(plan, position, k, e, out), position, np.array([key[0]], dtype=np.intp), group[None, :],
                np.array([np.nan if row.measured is None else row.measured]),
                np.array([np.nan if row.required is None else row.required]), np.array([anchor], dtype=np.intp),
                np.array([bool(b.existing[group].all())]), np.array([bool(b.is_crossing[group[0]])]),
                [exception_fields(exc, [b.table.measures.get(g, ()) for g in members[key]])] if exc is not None else None))

    def _emit_overlaps(self, b: columnar.Batch, blocks: list[Block]) -> None:
        """Append the physical overlaps of all sections (as `_overlaps`)."""
        i, j, gap = columnar.overlaps(b)
        swap = np.asarray(b.ids[i] > b.ids[j], dtype=bool)
        lo, hi = np.where(swap, j, i), np.where(swap, i, j)
        later = (b.planned[hi] & ~b.planned[lo]) | ((b.planned[hi] == b.planned[lo]) & (
            (b.line[hi] < b.line[lo]) | ((b.line[hi] == b.line[lo]) & (b.column[hi] < b.column[lo]))))
        blocks.append(Block(self._overlap, len(self.rules), b.sec[lo], np.stack((lo, hi), axis=1), gap,
                            np.zeros(len(lo)), np.where(later, hi, lo), b.existing[lo] & b.existing[hi],
                            np.zeros(len(lo), dtype=bool)))

    def _finish(self, b: columnar.Batch, blocks: list[Block]) -> Found:
        """Join the blocks into the batch's `Found`: each section's rows in contract order, accepted and depth bases noted."""
        ranks = np.array(self._template_rank, dtype=np.intp).reshape(-1, 2)
        ids = b.ids.tolist()
        names = sorted(set(ids))
        order_of = {name: rank for rank, name in enumerate(names)}
        id_rank = np.array([order_of[name] for name in ids], dtype=np.intp)

        def order(template: IntArray, position: IntArray, sec: IntArray, subjects: IntArray) -> IntArray:
            # severity, rule id, subject ids (a shorter tuple first), rule position; then the order found
            named = np.where(subjects >= 0, id_rank[np.maximum(subjects, 0)] if len(id_rank) else -1, -1)
            keys = [position] + [named[:, c] for c in range(named.shape[1] - 1, -1, -1)]
            keys += [ranks[template, 1], ranks[template, 0], sec]
            return np.lexsort(keys).astype(np.intp)

        found = Found.of(self.templates, blocks, b.count, order)
        table = b.table
        if table.accept:
            self._accept_all(found, table)
        if table.source:
            unmeasured = {g: src.depth for g, src in table.source.items() if src.depth in UNMEASURED}
            if unmeasured:
                marked = np.zeros(b.n + 1, dtype=bool)
                marked[list(unmeasured)] = True
                for r in np.flatnonzero(marked[found.subjects].any(axis=1) & (found.subjects >= 0).any(axis=1)).tolist():
                    found.depth_basis[r] = tuple((ids[g], unmeasured[g]) for g in found.subjects[r].tolist()
                                                 if g >= 0 and g in unmeasured)
        return found

    def _accept_all(self, found: Found, table: Table) -> None:
        """Mark the findings an `accept:` entry covers: granted, pending approval, expired, or stale."""
        ids = table.ids
        for s, entries in table.accept.items():
            for r in found.rows(s):
                t = found.templates[int(found.template[r])]
                subjects = tuple(ids[g] for g in found.subjects[r].tolist() if g >= 0)
                measured = float(found.measured[r]) if t.measured else None
                for acc in entries:
                    if acc.rule != t.rule or (acc.subjects and acc.subjects != subjects):
                        continue
                    state = "accepted"
                    if acc.pending:
                        state = "pending"
                    elif acc.until < self.today:
                        state = "expired"
                    elif acc.measured is not None and measured is not None and abs(acc.measured - measured) > TOLERANCE:
                        state = "stale"
                    found.accepted[r] = (("state", state), ("reason", acc.reason), ("approved_by", acc.approved_by),
                                         ("until", acc.until))
                    break


def overlap_finding(first: Obj, second: Obj, gap: float) -> Finding:
    """Return the finding of two bodies (in id order) that overlap by `-gap` metres."""
    objs = [o for o in (first, second) if o.status == "planned"] or [first, second]
    anchor = min(objs, key=lambda o: (o.span.line, o.span.column))
    return Finding(
        rule=OVERLAP_RULE, pack="ligging", severity="error", kind="overlap",
        subjects=(first.id, second.id), measured=gap, required=0.0, op=">=", unit="m",
        message=overlap_message(first.id, second.id, gap),
        source="physical: two bodies cannot occupy the same space",
        rule_at=Span("ligging", 1, 1), case_at=anchor.span,
        baseline=first.in_ground and second.in_ground, title="Objects overlap",
    )


def overlap_message(first: str, second: str, gap: float) -> str:
    """Say that two bodies overlap, and by how much."""
    return f"{first} and {second} physically overlap by {-gap * 1000:.0f} mm"


def _say_overlaps(subjects: list[tuple[str, ...]], measured: list[float | None], required: list[float | None],
                  flags: list[bool]) -> list[str]:
    """Return the messages of overlap rows."""
    return [overlap_message(subj[0], subj[1], gap or 0.0) for subj, gap in zip(subjects, measured, strict=True)]


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


SayOne = Callable[[tuple[str, ...], float | None, "ast.Exception_ | None", bool], str]


def _tail(exc: ast.Exception_ | None) -> str:
    """Return the end of a message for a row met only through an exception (as `describe`)."""
    if exc is None:
        return ""
    return f"; met only through {', '.join(exc.measures)} — needs approval of {exc.approver}"


def sayer(rel: ast.Relation, op: str, unit: str, required: float | None) -> SayOne:
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
        return f"{head}{', '.join(subj)} is {fixed(measured, unit)}{middle}{_tail(exc)}"

    return say


def say_rows(rel: ast.Relation, op: str, unit: str, exc: ast.Exception_ | None) -> Say:
    """Return the message maker of a template: `describe`'s sentence for many rows at once (given each row's required)."""
    if isinstance(rel, ast.CrossPermission):
        def crossings(subjects: list[tuple[str, ...]], measured: list[float | None], required: list[float | None],
                      flags: list[bool]) -> list[str]:
            say = sayer(rel, op, unit, None)
            return [say(subj, None, exc, flag) for subj, flag in zip(subjects, flags, strict=True)]

        return crossings
    if exc is None:
        def plain(subjects: list[tuple[str, ...]], measured: list[float | None], required: list[float | None],
                  flags: list[bool]) -> list[str]:
            if not subjects:
                return []
            if all(r == required[0] for r in required):
                return say_many(rel, op, unit, required[0], subjects, measured)
            return [say_many(rel, op, unit, need, [subj], [value])[0]
                    for subj, value, need in zip(subjects, measured, required, strict=True)]

        return plain

    def met(subjects: list[tuple[str, ...]], measured: list[float | None], required: list[float | None],
            flags: list[bool]) -> list[str]:
        return [sayer(rel, op, unit, need)(subj, value, exc, flag)
                for subj, value, need, flag in zip(subjects, measured, required, flags, strict=True)]

    return met


def say_many(rel: ast.Relation, op: str, unit: str, required: float | None, subjects: list[tuple[str, ...]],
             measured: list[float | None]) -> list[str]:
    """Return `describe`'s sentences for rows without an exception (not crossing permissions)."""
    if isinstance(rel, (ast.Order, ast.ZoneRule)):
        say = sayer(rel, op, unit, required)
        return [say(subj, None, None, False) for subj in subjects]
    # the sentence of `sayer`, its fixed halves computed once for all rows
    head, tail = _halves(rel, op, unit, required)
    return [f"{head}{', '.join(subj)} is {fixed(value, unit)}{tail}" for subj, value in zip(subjects, measured, strict=True)]


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
    return f"{what} of ", f"{unit_text}; required {op} {fixed(required, unit)}{unit_text}"
