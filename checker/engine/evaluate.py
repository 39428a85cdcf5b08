"""Evaluate rule packs on sections: the engine every command runs.

`Engine(packs)` compiles every rule once (selectors resolved, one batch evaluator per
relation of each alternative from `columnar.RelationCompiler`). `Engine.evaluate_many(sections)` evaluates
all sections at once (columnar, `checker/engine/columnar.py`): their objects in one `columnar.Batch`, each rule run
once per batch over the sections it is in force for (validity dates and `where`
conditions), and Python work only for the rows that become findings. It joins the
relations of a requirement (`R1 and R2`: each failing subject set reported once, for the
first relation it fails), applies exceptions (a geometric condition that holds for a
failing row's objects passes it silently; a requirement met only through a measure, or a
condition `approved by`, becomes a warning naming it and the approving party) and
alternatives (a subject set passes when some alternative holds for its objects; otherwise
the closest alternative is reported), adds physical overlaps, marks baseline findings and
accepted deviations, and returns each section's findings in a deterministic order.
`Engine.check(table)` keeps the findings as columns (`checker.model.found.Found`: a
template per rule relation, one row per finding) for the batch writers;
`Engine.evaluate(section)` is a batch of one and builds `Finding`s.
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
    """One failing (or exception-met) subject set of one relation of one requirement."""

    subjects: tuple[str, ...]
    measured: float | None
    required: float | None
    op: str
    unit: str
    alternative: int
    exception: ast.Exception_ | None
    relation: int = 0


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
    ast.CrossPermission: "crossing", ast.Bounds: "bounds", ast.Position: "clearance", ast.Keep: "keep",
}


class CompiledRule:
    """A rule ready for batches: its pack rule, its batch evaluators and its findings' fixed fields.

    `runs[k][r]` evaluates relation r of alternative k (relations joined with `and`);
    `exception_runs[k][e]` evaluates the relations of exception e of alternative k (None for
    a measure). An exception's relations judge every pair whatever racks hold it: they are
    asked about a failing row's own objects.
    """

    def __init__(self, pack_rule: PackRule, compiler: columnar.RelationCompiler) -> None:
        self.pack_rule = pack_rule
        self.rule = pack_rule.rule
        self.pack = pack_rule.pack.name
        alternatives = self.rule.alternatives
        self.runs = tuple(tuple(compiler.compile(rel) for rel in req.relations) for req in alternatives)
        self.exception_runs = tuple(
            tuple(tuple(compiler.compile(_every_pair(rel)) for rel in exc.relations) if exc.relations else None
                  for exc in req.exceptions)
            for req in alternatives)
        self.kinds = tuple(tuple(RELATION_KIND[type(rel)] for rel in req.relations) for req in alternatives)
        self.rule_at = tuple(tuple(rel.span if k or r else self.rule.span for r, rel in enumerate(req.relations))
                             for k, req in enumerate(alternatives))
        # one relation, one alternative, no geometric exception: every failing row is a finding
        self.simple = len(self.runs) == 1 and len(self.runs[0]) == 1 and all(e is None for e in self.exception_runs[0])


def _every_pair(rel: ast.Relation) -> ast.Relation:
    """Return a relation judging every pair whatever racks hold it (as an exception's condition does)."""
    if isinstance(rel, (ast.Clearance, ast.Order, ast.Position)):
        return replace(rel, racks="both")
    return rel


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
    """Return a finding's `exception` fields: the measures its subjects carry that the exception names (or its
    condition), its approver."""
    if exc.relations:
        return (("condition", exc.span.where()), ("approval", exc.approver))
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
        self.rules = tuple(CompiledRule(pr, compiler) for pr in packs.rules)
        self._in_force: dict[tuple[str | None, tuple[tuple[str, str | float], ...]], BoolArray] = {}
        # findings sort by rule id: the rank of each id among all of them (the overlap rule's too)
        names = sorted({cr.rule.id for cr in self.rules} | {OVERLAP_RULE})
        self._rule_rank = {name: rank for rank, name in enumerate(names)}
        self.templates: list[Template] = []
        self._template_of: dict[tuple[int, int, int, int], int] = {}
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
            if plan.simple:
                out = plan.runs[0][0](b, act, False)
                if out.groups is None:
                    self._emit(plan, 0, 0, b, out, np.flatnonzero(~out.ok), position, blocks)
                    continue
                outs, geometric = [[out]], [[None for _ in plan.rule.alternatives[0].exceptions]]
            else:
                outs = [[run(b, act, True) for run in runs] for runs in plan.runs]
                geometric = [[None if runs is None else [run(b, act, True) for run in runs] for runs in alternative]
                             for alternative in plan.exception_runs]
            every = [o for outs_k in outs for o in outs_k] + [o for g in geometric for e in g if e for o in e]
            if any(o.groups is not None for o in every):
                self._emit_rows(plan, b, outs, geometric, position, blocks)
            else:
                self._emit_alternatives(plan, b, outs, geometric, position, blocks)
        self._emit_overlaps(b, blocks)
        return self._finish(b, blocks)

    def _add(self, template: Template) -> int:
        """Register a template; return its index."""
        self.templates.append(template)
        self._template_rank.append((SEVERITIES.index(template.severity), self._rule_rank[template.rule]))
        return len(self.templates) - 1

    def _template(self, plan: CompiledRule, position: int, k: int, r: int, e: int, out: columnar.BatchOutcome) -> int:
        """Return (and register on first use) the template of relation r of alternative k, met through exception e (-1: none)."""
        key = (position, k, r, e)
        got = self._template_of.get(key)
        if got is None:
            rule = plan.rule
            req = rule.alternatives[k]
            exc = req.exceptions[e] if e >= 0 else None
            severity = "warning" if exc is not None and rule.severity == "error" else rule.severity
            got = self._add(Template(rule.id, plan.pack, severity, plan.kinds[k][r], out.op, out.unit, rule.source,
                                     plan.rule_at[k][r], rule.title, rule.illustrative, out.measured is not None,
                                     out.required is not None, say_rows(req.relations[r], out.op, out.unit, exc)))
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

    def _emit(self, plan: CompiledRule, k: int, r: int, b: columnar.Batch, out: columnar.BatchOutcome, rows: IntArray,
              position: int, blocks: list[Block], exceptions: IntArray | None = None) -> None:
        """Append the findings of the given rows (one or two subject columns) of relation r of alternative k, as blocks."""
        if len(rows) == 0:
            return
        req = plan.rule.alternatives[k]
        rel = req.relations[r]
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
                    rows, lo, hi, i, j = rows[last], lo[last], hi[last], i[last], j[last]
            later = (b.planned[hi] & ~b.planned[lo]) | ((b.planned[hi] == b.planned[lo]) & (
                (b.line[hi] < b.line[lo]) | ((b.line[hi] == b.line[lo]) & (b.column[hi] < b.column[lo]))))
            anchor = np.where(later, hi, lo)
            baseline = b.existing[lo] & b.existing[hi]
            subjects = np.stack((lo, hi), axis=1)
            columns: tuple[IntArray, ...] = (lo, hi)
            roles: tuple[IntArray, ...] = (i, j)
            # subjects go in id order; a position's or an order's sentence names them in the order it requires
            said = (lo != i) if isinstance(rel, (ast.Position, ast.Order)) else np.zeros(len(rows), dtype=bool)
        else:
            g = out.subjects[0][rows]
            anchor, baseline, subjects, columns = g, b.existing[g], g[:, None], (g,)
            roles = columns
            said = np.zeros(len(rows), dtype=bool)
        measured = out.measured[rows] if out.measured is not None else None
        if exceptions is None:
            exceptions = self._exceptions(req, b, roles, measured)
        flags = b.is_crossing[columns[0]] if isinstance(rel, ast.CrossPermission) else np.zeros(len(rows), dtype=bool)
        values = measured if measured is not None else np.full(len(rows), np.nan)
        if out.limits is not None:
            required = np.asarray(out.limits[rows], dtype=float)
        else:
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
            blocks.append(Block(self._template(plan, position, k, r, e, out), position, sec[pick], subjects[pick],
                                values[pick], required[pick], anchor[pick], baseline[pick], flags[pick], fields,
                                reversed=said[pick]))

    @staticmethod
    def _exceptions(req: ast.Requirement, b: columnar.Batch, columns: tuple[IntArray, ...],
                    measured: FloatArray | None, approved: dict[int, BoolArray] | None = None) -> IntArray:
        """Return, per row, the index of the first exception through which it is still met with approval, or -1.

        A measure meets a row when a subject carries it (and the relaxed limit, if any, holds);
        a geometric exception with `approved by` meets the rows `approved[e]` marks.
        """
        rows = len(columns[0])
        choice = np.full(rows, -1, dtype=np.intp)
        for e, exc in enumerate(req.exceptions):
            if exc.relations:
                if not exc.approver or approved is None or e not in approved:
                    continue
                hit = approved[e]
            else:
                carries = b.has_measure(exc.measures)
                hit = np.zeros(rows, dtype=bool)
                for c in columns:
                    hit |= carries[c]
                if exc.limit is not None:
                    limits = b.threshold_values(exc.limit, columns[0], columns[1] if len(columns) > 1 else None)
                    hit &= compare_many(measured, exc.op, limits if exc.limit.terms else exc.limit.value) \
                        if measured is not None else False
            choice[hit & (choice < 0)] = e
        return choice

    def _emit_alternatives(self, plan: CompiledRule, b: columnar.Batch, outs: list[list[columnar.BatchOutcome]],
                           geometric: list[list[list[columnar.BatchOutcome] | None]], position: int,
                           blocks: list[Block]) -> None:
        """Combine relations, exceptions and alternatives of rows of one or two subjects, in columns.

        A subject set fails where a row of it fails; it passes when some alternative holds for it:
        that alternative judges (some of) its objects and passes every row it forms from them (a
        row met by a silent geometric exception passes). A failing set no alternative holds for is
        reported once, by the first failing relation of each alternative: the one met through an
        approval if any, else the closest.
        """
        n = b.n
        codes = [[_codes(o, n) for o in outs_k] for outs_k in outs]
        oks: list[list[BoolArray]] = []
        approved: list[list[dict[int, BoolArray]]] = []
        for k, req in enumerate(plan.rule.alternatives):
            oks.append([])
            approved.append([])
            for out in outs[k]:
                ok = np.asarray(out.ok, dtype=bool).copy()
                failing = np.flatnonzero(~ok)
                subsets = _row_subsets(out, failing, n)
                marks: dict[int, BoolArray] = {}
                for e, exc in enumerate(req.exceptions):
                    outs_e = geometric[k][e]
                    if outs_e is None:
                        continue
                    met = _holds(outs_e, subsets, n)
                    if exc.approver:
                        marks[e] = np.zeros(len(ok), dtype=bool)
                        marks[e][failing[met]] = True
                    else:
                        ok[failing[met]] = True
                oks[k].append(ok)
                approved[k].append(marks)
        failing_codes = np.unique(np.concatenate(
            [c[~ok] for codes_k, oks_k in zip(codes, oks, strict=True) for c, ok in zip(codes_k, oks_k, strict=True)]
            + [np.empty(0, dtype=np.int64)]))
        if len(failing_codes) == 0:
            return
        key_subsets = _key_subsets(failing_codes, n)
        excused = np.zeros(len(failing_codes), dtype=bool)
        for codes_k, oks_k in zip(codes, oks, strict=True):
            excused |= _within(key_subsets, [c[ok] for c, ok in zip(codes_k, oks_k, strict=True)],
                               [c[~ok] for c, ok in zip(codes_k, oks_k, strict=True)])
        if len(outs) > 1:
            excused |= _judged_within_larger(failing_codes, codes, n)
        reported = failing_codes[~excused]
        # per subject set: (row, exception index, relation, row index) of each alternative's first failing relation
        candidates: dict[int, list[tuple[Row, int, int, int]]] = {}
        for k, req in enumerate(plan.rule.alternatives):
            taken: set[int] = set()
            for r, out in enumerate(outs[k]):
                code, ok = codes[k][r], oks[k][r]
                fail = np.flatnonzero(~ok & np.isin(code, reported))
                if len(fail) == 0:
                    continue
                # within one relation the last row of a subject set counts; within an alternative its first relation
                _, last = np.unique(code[fail][::-1], return_index=True)
                fail = np.sort(fail[len(fail) - 1 - last])
                fail = fail[~np.isin(code[fail], np.array(sorted(taken), dtype=np.int64))]
                if len(fail) == 0:
                    continue
                taken.update(code[fail].tolist())
                columns = tuple(c[fail] for c in out.subjects)
                measured = out.measured[fail] if out.measured is not None else None
                exceptions = self._exceptions(req, b, columns, measured,
                                              {e: m[fail] for e, m in approved[k][r].items()}).tolist()
                values = measured.tolist() if measured is not None else [None] * len(fail)
                required = out.limits[fail].tolist() if out.limits is not None else [out.required] * len(fail)
                for m, index in enumerate(fail.tolist()):
                    exc = req.exceptions[exceptions[m]] if exceptions[m] >= 0 else None
                    row = Row((), values[m], required[m], out.op, out.unit, k, exc, r)
                    candidates.setdefault(int(code[index]), []).append((row, exceptions[m], r, index))
        chosen: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for rows in candidates.values():
            via = [c for c in rows if c[0].exception is not None]
            row, e, r, index = via[0] if via else min(rows, key=lambda c: _closeness(c[0]))
            chosen.setdefault((row.alternative, r), []).append((index, e))
        for (k, r), picked in sorted(chosen.items()):
            picked.sort()
            self._emit(plan, k, r, b, outs[k][r], np.array([i for i, _ in picked], dtype=np.intp), position, blocks,
                       np.array([e for _, e in picked], dtype=np.intp))

    def _emit_rows(self, plan: CompiledRule, b: columnar.Batch, outs: list[list[columnar.BatchOutcome]],
                   geometric: list[list[list[columnar.BatchOutcome] | None]], position: int,
                   blocks: list[Block]) -> None:
        """Combine as `_emit_alternatives` does, row by row, where some rows name groups of objects (capacity).

        Subject sets meet only within one section, so every look-up is within the rows of that section.
        """
        ids = b.ids
        if plan.simple and not plan.rule.alternatives[0].exceptions:
            # one relation, nothing to excuse a row: every failing group is a finding
            out = outs[0][0]
            assert out.groups is not None and out.section is not None
            for index in np.flatnonzero(~np.asarray(out.ok, dtype=bool)).tolist():
                members = out.groups[index].tolist()
                required = out.required if out.limits is None else float(out.limits[index])
                row = Row(tuple(sorted(ids[g] for g in members)), None if out.measured is None else
                          float(out.measured[index]), required, out.op, out.unit, 0, None, 0)
                blocks.append(self._group_block(plan, position, b, out, row, -1, members, int(out.section[index])))
            return
        sets = [[_sets(out, b) for out in outs_k] for outs_k in outs]
        conditions = [[None if outs_e is None else [_sets(o, b) for o in outs_e] for outs_e in geometric_k]
                      for geometric_k in geometric]
        # per alternative and section: every row formed (objects, passes); per (alternative, relation): failing rows
        formed: list[dict[int, list[tuple[frozenset[int], bool]]]] = [{} for _ in outs]
        failing_rows: dict[tuple[int, int], dict[frozenset[int], tuple[int, int]]] = {}
        for k, req in enumerate(plan.rule.alternatives):
            for r, out in enumerate(outs[k]):
                for index, (members, ok) in enumerate(sets[k][r]):
                    if not members:
                        continue  # a passing group nobody asked to name
                    key, exc = frozenset(members), -1
                    if not ok:
                        ok, exc = self._meet(req, conditions[k], key, members, b, out, index)
                    formed[k].setdefault(int(b.sec[members[0]]), []).append((key, ok))
                    if not ok:
                        failing_rows.setdefault((k, r), {})[key] = (index, exc)
        failing = {key for rows in failing_rows.values() for key in rows}
        for key in sorted(failing, key=lambda s: (int(b.sec[min(s)]), tuple(sorted(ids[g] for g in s)))):
            section = int(b.sec[min(key)])
            if any(_holds_for([formed_k.get(section, [])], key) for formed_k in formed):
                continue
            # a set another alternative judges only as part of a larger set is judged with that set
            if len(outs) > 1 and any(key not in {g for g, _ in rows} and any(key < g for g, _ in rows)
                                     for rows in (formed_k.get(section, []) for formed_k in formed)):
                continue
            candidates: list[tuple[Row, int, list[int], columnar.BatchOutcome]] = []
            for k in range(len(outs)):
                for r in range(len(outs[k])):
                    hit = failing_rows.get((k, r), {}).get(key)
                    if hit is None:
                        continue
                    index, exc = hit
                    out = outs[k][r]
                    members = sets[k][r][index][0]
                    measured = None if out.measured is None else float(out.measured[index])
                    required = out.required if out.limits is None else float(out.limits[index])
                    subjects = tuple(sorted(ids[g] for g in members))
                    met = plan.rule.alternatives[k].exceptions[exc] if exc >= 0 else None
                    candidates.append((Row(subjects, measured, required, out.op, out.unit, k, met, r), exc, members, out))
                    break
            via = [c for c in candidates if c[0].exception is not None]
            row, exc, members, out = via[0] if via else min(candidates, key=lambda c: _closeness(c[0]))
            blocks.append(self._group_block(plan, position, b, out, row, exc, members, section))

    def _group_block(self, plan: CompiledRule, position: int, b: columnar.Batch, out: columnar.BatchOutcome, row: Row,
                     e: int, members: list[int], section: int) -> Block:
        """Return the one-row block of a row whose subjects are `members` (in the row's order), met through exception e."""
        rel = plan.rule.alternatives[row.alternative].relations[row.relation]
        group = np.array(sorted(members, key=b.ids.__getitem__), dtype=np.intp)
        planned = np.flatnonzero(b.planned[group])
        among = group[planned] if len(planned) else group
        anchor = int(among[np.lexsort((b.column[among], b.line[among]))[0]])
        # a position or an order is said in the order it requires (`w-1 above r-1`)
        said = isinstance(rel, (ast.Position, ast.Order)) and len(members) == 2 and members[0] != int(group[0])
        exc = row.exception
        fields = [exception_fields(exc, [b.table.measures.get(g, ()) for g in members])] if exc is not None else None
        template = self._template(plan, position, row.alternative, row.relation, e, out)
        return Block(template, position, np.array([section], dtype=np.intp), group[None, :],
                     np.array([np.nan if row.measured is None else row.measured]),
                     np.array([np.nan if row.required is None else row.required]), np.array([anchor], dtype=np.intp),
                     np.array([bool(b.existing[group].all())]), np.array([bool(b.is_crossing[members[0]])]), fields,
                     reversed=np.array([said]))

    def _meet(self, req: ast.Requirement, conditions: list[list[list[tuple[list[int], bool]]] | None],
              key: frozenset[int], members: list[int], b: columnar.Batch, out: columnar.BatchOutcome,
              index: int) -> tuple[bool, int]:
        """Return whether a failing row passes through a silent geometric exception, else which exception meets it."""
        if not req.exceptions:
            return False, -1
        holds = {e: _holds_for([[(frozenset(g), ok) for g, ok in rows] for rows in condition], key)
                 for e, condition in enumerate(conditions) if condition is not None}
        if any(held and not req.exceptions[e].approver for e, held in holds.items()):
            return True, -1
        columns = tuple(np.array([g], dtype=np.intp) for g in members)
        measured = None if out.measured is None else np.array([out.measured[index]])
        approved = {e: np.array([held]) for e, held in holds.items() if req.exceptions[e].approver}
        return False, int(self._exceptions(req, b, columns, measured, approved)[0])

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


def _codes(out: columnar.BatchOutcome, n: int) -> IntArray:
    """Return a code per row naming its subject set: the object for one subject, n + low * n + high for two."""
    if len(out.subjects) == 2:
        i, j = out.subjects
        return np.asarray(n + np.minimum(i, j).astype(np.int64) * n + np.maximum(i, j), dtype=np.int64)
    return np.asarray(out.subjects[0].astype(np.int64), dtype=np.int64)


def _row_subsets(out: columnar.BatchOutcome, rows: IntArray, n: int) -> list[IntArray]:
    """Return the codes of every subject set within each row's set (-1 where there is none), as columns."""
    if len(out.subjects) == 2:
        i, j = out.subjects[0][rows].astype(np.int64), out.subjects[1][rows].astype(np.int64)
        return [i, j, n + np.minimum(i, j) * n + np.maximum(i, j)]
    return [out.subjects[0][rows].astype(np.int64)]


def _key_subsets(codes: IntArray, n: int) -> list[IntArray]:
    """Return the codes of every subject set within each coded set (-1 where there is none), as columns."""
    pair = codes >= n
    low, high = np.divmod(np.where(pair, codes - n, 0), n)
    return [np.where(pair, low, codes), np.where(pair, high, -1), np.where(pair, codes, -1)]


def _within(subsets: list[IntArray], passing: list[IntArray], failing: list[IntArray]) -> BoolArray:
    """Tell, per set, whether the rows formed within it are some and all pass (an alternative or condition holds)."""
    good = np.concatenate(passing + [np.empty(0, dtype=np.int64)])
    bad = np.concatenate(failing + [np.empty(0, dtype=np.int64)])
    hit_pass = np.zeros(len(subsets[0]), dtype=bool)
    hit_fail = np.zeros(len(subsets[0]), dtype=bool)
    for column in subsets:
        present = column >= 0
        hit_pass |= present & np.isin(column, good)
        hit_fail |= present & np.isin(column, bad)
    return np.asarray(hit_pass & ~hit_fail, dtype=bool)


def _judged_within_larger(failing: IntArray, codes: list[list[IntArray]], n: int) -> BoolArray:
    """Tell, per failing set of one object, whether some alternative judges it only within pairs.

    One water pipe failing a cover alternative is judged with its water-sewer pair by the
    clearance alternative, not on its own; sets of two are never within another set of two.
    """
    out = np.zeros(len(failing), dtype=bool)
    single = failing < n
    for codes_k in codes:
        keys = np.concatenate(codes_k + [np.empty(0, dtype=np.int64)])
        pairs = keys[keys >= n] - n
        in_pairs = np.concatenate([pairs // n, pairs % n])
        out |= single & np.isin(failing, in_pairs) & ~np.isin(failing, keys[keys < n])
    return out


def _holds(outs: list[columnar.BatchOutcome], subsets: list[IntArray], n: int) -> BoolArray:
    """Tell, per failing row, whether a geometric exception's relations hold for the row's objects."""
    codes = [_codes(o, n) for o in outs]
    oks = [np.asarray(o.ok, dtype=bool) for o in outs]
    return _within(subsets, [c[ok] for c, ok in zip(codes, oks, strict=True)],
                   [c[~ok] for c, ok in zip(codes, oks, strict=True)])


def _sets(out: columnar.BatchOutcome, b: columnar.Batch) -> list[tuple[list[int], bool]]:
    """Return each row's objects (in the relation's order) and whether it passes; rows not asked for are empty."""
    oks = np.asarray(out.ok, dtype=bool).tolist()
    if out.groups is not None:
        return [(group.tolist(), ok) for group, ok in zip(out.groups, oks, strict=True)]
    columns = [c.tolist() for c in out.subjects]
    return [([column[r] for column in columns], ok) for r, ok in enumerate(oks)]


def _holds_for(relations: list[list[tuple[frozenset[int], bool]]], key: frozenset[int]) -> bool:
    """Tell whether the rows some relations form within a subject set are some and all pass."""
    within = [ok for rows in relations for group, ok in rows if group and group <= key]
    return bool(within) and all(within)


def _closeness(row: Row) -> float:
    """Rank how near a failing row came to its requirement (relative shortfall; no magnitude = 1)."""
    if row.measured is None or row.required is None:
        return 1.0
    gap = row.required - row.measured if row.op == ">=" else row.measured - row.required
    return gap / row.required if row.required else gap


SayOne = Callable[[tuple[str, ...], float | None, "ast.Exception_ | None", bool], str]


def _tail(exc: ast.Exception_ | None) -> str:
    """Return the end of a message for a row met only through an exception (as `describe`)."""
    if exc is None:
        return ""
    if exc.relations:
        return f"; met only through its exception ({exc.span.where()}) — needs approval of {exc.approver}"
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
    if isinstance(rel, ast.Position) and not _to_reference(rel):
        gap = "horizontal" if rel.direction == "beside" else "vertical"
        tail = _required(op, unit, required)

        def placed(subj: tuple[str, ...], measured: float | None, exc: ast.Exception_ | None, flag: bool) -> str:
            return f"{subj[0]} {rel.direction} {subj[1]}: {gap} gap is {fixed(measured, unit)} m{tail}{_tail(exc)}"

        return placed
    head, middle = _halves(rel, op, unit, required)

    def say(subj: tuple[str, ...], measured: float | None, exc: ast.Exception_ | None, flag: bool) -> str:
        return f"{head}{', '.join(subj)} is {fixed(measured, unit)}{middle}{_tail(exc)}"

    return say


def say_rows(rel: ast.Relation, op: str, unit: str, exc: ast.Exception_ | None) -> Say:
    """Return the message maker of a template: `sayer`'s sentence for many rows at once (given each row's required)."""
    if isinstance(rel, ast.CrossPermission):
        def crossings(subjects: list[tuple[str, ...]], measured: list[float | None], required: list[float | None],
                      flags: list[bool]) -> list[str]:
            say = sayer(rel, op, unit, None)
            return [say(subj, None, exc, flag) for subj, flag in zip(subjects, flags, strict=True)]

        return crossings
    if exc is None:
        def plain(subjects: list[tuple[str, ...]], measured: list[float | None], required: list[float | None],
                  flags: list[bool]) -> list[str]:
            return say_many(rel, op, unit, required, subjects, measured)

        return plain

    def met(subjects: list[tuple[str, ...]], measured: list[float | None], required: list[float | None],
            flags: list[bool]) -> list[str]:
        return [sayer(rel, op, unit, need)(subj, value, exc, flag)
                for subj, value, need, flag in zip(subjects, measured, required, flags, strict=True)]

    return met


def say_many(rel: ast.Relation, op: str, unit: str, required: list[float | None], subjects: list[tuple[str, ...]],
             measured: list[float | None]) -> list[str]:
    """Return `describe`'s sentences for rows without an exception (not crossing permissions), each with its requirement."""
    if isinstance(rel, (ast.Order, ast.ZoneRule, ast.Position)) or len(set(required)) > 1:
        says: dict[float | None, Say] = {}
        out = []
        for subj, value, need in zip(subjects, measured, required, strict=True):
            say = says.get(need)
            if say is None:
                say = says[need] = sayer(rel, op, unit, need)
            out.append(say(subj, value, None, False))
        return out
    # the sentence of `sayer`, its fixed halves computed once for all rows
    head, tail = _halves(rel, op, unit, required[0] if required else None)
    return [f"{head}{', '.join(subj)} is {fixed(value, unit)}{tail}" for subj, value in zip(subjects, measured, strict=True)]


def _to_reference(rel: ast.Relation) -> str:
    """Return the reference line (`facade`, `far-edge`) a clearance or `beside` measures to, or ''."""
    if isinstance(rel, (ast.Clearance, ast.Position)):
        for side in (rel.a, rel.b):
            if isinstance(side.selector, ast.SelName) and side.selector.name in ast.REFERENCE_LINES:
                return side.selector.name
    return ""


def _what(rel: ast.Relation) -> str:
    """Return what a finding's message says was measured, e.g. 'horizontal clearance (edge-edge)'."""
    line = _to_reference(rel)
    if line:
        assert isinstance(rel, (ast.Clearance, ast.Position))
        other = rel.b if _side_is(rel.a, line) else rel.a
        return f"horizontal clearance ({other.ref}) from the {line.replace('-', ' ')}"
    if isinstance(rel, ast.Clearance):
        return f"{rel.plane} clearance ({rel.a.ref}-{rel.b.ref})"
    if isinstance(rel, ast.Bounds):
        return "margin inside the profile" if rel.what == "profile" else "bottom depth"
    if isinstance(rel, ast.Capacity):
        if rel.place == "strip":
            assert rel.window is not None
            return f"{rel.measure} in any {rel.window.text} strip"
        if rel.place == "stack":
            return f"{rel.measure} in any stack"
        return f"{rel.measure} under {'/'.join(rel.kinds)}"
    return {
        ast.Cover: "cover", ast.CrossingClearance: "vertical clearance at crossing",
        ast.Exclusion: "distance to exclusion zone", ast.Access: "free trench width",
    }[type(rel)]


def _side_is(side: ast.Side, name: str) -> bool:
    """Tell whether a side is the named reference line."""
    return isinstance(side.selector, ast.SelName) and side.selector.name == name


def _required(op: str, unit: str, required: float | None) -> str:
    """Return the '; required >= 0.300 m' end of a sentence."""
    shown = unit if unit != "count" else ""
    unit_text = shown and " " + shown
    return f"; required {op} {fixed(required, unit)}{unit_text}"


def _halves(rel: ast.Relation, op: str, unit: str, required: float | None) -> tuple[str, str]:
    """Return the fixed text before the subjects and after the measured value of `describe`'s sentence."""
    shown = unit if unit != "count" else ""
    unit_text = shown and " " + shown
    return f"{_what(rel)} of ", f"{unit_text}{_required(op, unit, required)}"
