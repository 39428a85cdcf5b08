"""Evaluate rule packs on a section: one evaluation path per relation kind.

`Engine(packs)` compiles every rule once (selectors resolved, conditions bound);
`Engine.evaluate(section)` picks the rule versions in force on the case's planned
date, evaluates each relation for all candidate subjects at once with NumPy, applies
exceptions (a requirement met only through a measure becomes a warning naming the
measure and the approving party) and alternatives (a subject set passes when any
alternative passes; otherwise the closest alternative is reported), adds physical
overlaps, marks baseline findings and accepted deviations, and returns findings in a
deterministic order. Comparisons use a 1 mm tolerance.

`Engine.evaluate_many(sections)` returns exactly `[evaluate(s) for s in sections]`, but
evaluates all sections at once (DESIGN §8): their objects in one `columnar.Batch`, each
rule run once per batch over the sections it is in force for, and Python work only for
the rows that become findings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from shapely.geometry.base import BaseGeometry

from checker.engine import columnar
from checker.engine.select import Predicate, check_relation, compare, compare_many, compile_selector, mask, members
from checker.model import geometry as geo
from checker.model.findings import SEVERITIES, Finding
from checker.model.geometry import BoolArray, FloatArray, Frame, IntArray
from checker.model.section import KINDS, LINE_KINDS, THEMAS, TOLERANCE, Obj, Section
from dsl import ast
from dsl.diagnostics import Span
from dsl.packs import PackRule, PackSet, in_force

OVERLAP_RULE = "LIG-OVERLAP"
NON_PHYSICAL = ("tree", "reservation")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one relation found: subject index columns, measured values, pass/fail per row."""

    subjects: tuple[IntArray, ...]
    measured: FloatArray | None
    ok: BoolArray
    required: float | None
    op: str
    unit: str = "m"


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


class Context:
    """Per-section state shared by all rules: the frame, cached masks, rack membership."""

    def __init__(self, section: Section) -> None:
        self.section = section
        self.frame: Frame = geo.frame(section)
        self.objects = section.objects
        self.rack_of = geo.rack_column(self.frame)
        self.kind = np.array([o.kind for o in section.objects], dtype=object)
        self.network = np.array([o.network or "" for o in section.objects], dtype=object)
        self._masks: dict[int, BoolArray] = {}
        self._kinds: dict[tuple[str, ...], BoolArray] = {}
        self._nets: dict[tuple[str, ...], BoolArray] = {}
        self._shapes: dict[int, BaseGeometry] = {}

    def select(self, key: int, pred: Predicate, column: ColumnMask | None = None) -> BoolArray:
        """Return (and cache) the mask of a compiled selector, from columns when it has a column form."""
        got = self._masks.get(key)
        if got is None:
            got = column(self) if column is not None else mask(pred, self.section)
            self._masks[key] = got
        return got

    def shape(self, i: int) -> BaseGeometry:
        """Return (and cache) the shapely body of object i."""
        got = self._shapes.get(i)
        if got is None:
            got = geo.shape(self.objects[i])
            self._shapes[i] = got
        return got

    def zone_columns(self) -> tuple[IntArray, BoolArray]:
        """Return each object's surface zone index (-1 outside) and whether that zone counts from the far facade."""
        zones = self.section.zones
        starts = np.array([z.start for z in zones])
        idx = np.searchsorted(starts, self.frame.x, side="right") - 1
        idx = np.where((self.frame.x < 0) | (self.frame.x > self.section.width), -1, idx)
        centres = np.array([0.5 * (z.start + z.end) for z in zones])
        mirrored = np.where(idx >= 0, centres[np.maximum(idx, 0)] > 0.5 * self.section.width, False)
        return np.asarray(idx, dtype=np.intp), np.asarray(mirrored, dtype=bool)

    def box(self, i: int) -> tuple[float, float, float, float]:
        """Return object i's bounding box (minx, mindepth, maxx, maxdepth) from the frame, without shapely."""
        f = self.frame
        if self.frame.crossing[i] or self.kind[i] == "tree":
            return self.shape(i).bounds  # type: ignore[no-any-return]
        return (float(f.x[i] - f.hw[i]), float(f.z[i] - f.hh[i]), float(f.x[i] + f.hw[i]), float(f.z[i] + f.hh[i]))

    def networks(self, names: tuple[str, ...]) -> BoolArray:
        """Return (and cache) the mask of objects whose network is one of `names`."""
        got = self._nets.get(names)
        if got is None:
            got = np.zeros(len(self.network), dtype=bool)
            for name in names:
                got |= self.network == name
            self._nets[names] = got
        return got.copy()

    def kinds(self, *names: str) -> BoolArray:
        """Return (and cache) the mask of objects of the given kinds."""
        got = self._kinds.get(names)
        if got is None:
            got = np.zeros(len(self.kind), dtype=bool)
            for name in names:
                got |= self.kind == name
            self._kinds[names] = got
        return got


ColumnMask = Callable[[Context], BoolArray]


def column_selector(sel: ast.Selector, packs: PackSet) -> ColumnMask | None:
    """Return a selector as a function of the Context's columns, or None when it tests attributes.

    Names resolve as in `checker.engine.select.compile_selector` (which is always compiled first, so
    unknown names are reported there); this form replaces a Python loop over objects by one
    comparison per column.
    """
    if isinstance(sel, ast.SelAny):
        return lambda ctx: np.ones(len(ctx.kind), dtype=bool)
    if isinstance(sel, ast.SelName):
        name = sel.name
        if name in THEMAS:
            return lambda ctx: np.asarray(ctx.network == name)
        if name in packs.groups:
            allowed = tuple(sorted(members(packs, name)))
            return lambda ctx: ctx.networks(allowed)
        if name in KINDS:
            return lambda ctx: ctx.kinds(name).copy()
        if name == "line":
            return lambda ctx: ctx.kinds(*LINE_KINDS).copy()
        if name == "racked":
            return lambda ctx: np.asarray(ctx.rack_of >= 0)
        return None
    if isinstance(sel, ast.SelUnion):
        parts = [column_selector(p, packs) for p in sel.parts]
        if any(p is None for p in parts):
            return None
        done = [p for p in parts if p is not None]

        def union(ctx: Context) -> BoolArray:
            out = done[0](ctx)
            for part in done[1:]:
                out = out | part(ctx)
            return out

        return union
    if isinstance(sel, ast.SelNot):
        inner = column_selector(sel.part, packs)
        if inner is None:
            return None
        return lambda ctx: ~inner(ctx)
    if isinstance(sel, ast.SelWhere):
        base = column_selector(sel.base, packs)
        if base is None:
            return None
        tests = [compile_selector(ast.SelWhere(ast.SelAny(sel.span), (t,), sel.span), packs) for t in sel.tests]

        def narrowed(ctx: Context) -> BoolArray:
            # attribute tests stay per object, but only for the objects the base selects
            out = base(ctx)
            for i in np.flatnonzero(out):
                out[i] = all(t(ctx.section, ctx.objects[i]) for t in tests)
            return out

        return narrowed
    return None


def _pairs(a: BoolArray, b: BoolArray) -> tuple[IntArray, IntArray]:
    """Return all index pairs (i in a, j in b, i != j), each unordered pair once."""
    ia = np.flatnonzero(a)
    ib = np.flatnonzero(b)
    if len(ia) == 0 or len(ib) == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    gi = np.repeat(ia, len(ib))
    gj = np.tile(ib, len(ia))
    keep = gi != gj
    # a pair selected both ways (i in a∩b, j in a∩b) is kept once
    both = a[gi] & b[gi] & a[gj] & b[gj]
    keep &= ~both | (gi < gj)
    return gi[keep], gj[keep]


class _Compiler:
    """Turn relations into evaluation functions over a Context."""

    def __init__(self, packs: PackSet) -> None:
        self.packs = packs
        self.preds: list[Predicate] = []

    def sel(self, selector: ast.Selector) -> Callable[[Context], BoolArray]:
        key = len(self.preds)
        pred = compile_selector(selector, self.packs)
        column = column_selector(selector, self.packs)
        self.preds.append(pred)
        return lambda ctx: ctx.select(key, pred, column)

    def compile(self, rel: ast.Relation) -> Callable[[Context], Outcome]:
        check_relation(rel)
        method = getattr(self, "c_" + type(rel).__name__.lower())
        result: Callable[[Context], Outcome] = method(rel)
        return result

    def c_cover(self, rel: ast.Cover) -> Callable[[Context], Outcome]:
        sel = self.sel(rel.selector)

        def run(ctx: Context) -> Outcome:
            m = sel(ctx) & ~ctx.kinds("tree")
            idx = np.flatnonzero(m)
            measured = ctx.frame.top[idx]
            return Outcome((idx,), measured, compare_many(measured, rel.op, rel.limit.value), rel.limit.value, rel.op)

        return run

    def c_clearance(self, rel: ast.Clearance) -> Callable[[Context], Outcome]:
        sa, sb = self.sel(rel.a.selector), self.sel(rel.b.selector)

        def run(ctx: Context) -> Outcome:
            line_like = ~ctx.kinds("crossing")
            i, j = _pairs(sa(ctx) & line_like, sb(ctx) & line_like)
            keep = geo.rack_scope(ctx.rack_of, i, j, rel.inside_rack)
            i, j = i[keep], j[keep]
            measured = geo.gaps(ctx.frame, i, j, rel.plane, rel.a.ref, rel.b.ref)
            return Outcome((i, j), measured, compare_many(measured, rel.op, rel.limit.value), rel.limit.value, rel.op)

        return run

    def c_crossingclearance(self, rel: ast.CrossingClearance) -> Callable[[Context], Outcome]:
        sa, sb = self.sel(rel.a.selector), self.sel(rel.b.selector)

        def run(ctx: Context) -> Outcome:
            crossings = np.flatnonzero(sa(ctx) & ctx.kinds("crossing"))
            others = np.flatnonzero(sb(ctx) & ~ctx.kinds("crossing", "tree", "reservation"))
            rows_i, rows_j, values = [], [], []
            for c in crossings:
                for o in others:
                    gap = geo.crossing_gap(ctx.objects[c], ctx.objects[o])
                    if gap is not None and ctx.rack_of[o] != c:
                        rows_i.append(c)
                        rows_j.append(o)
                        values.append(gap)
            measured = np.array(values, dtype=float)
            return Outcome((np.array(rows_i, dtype=np.intp), np.array(rows_j, dtype=np.intp)), measured,
                           compare_many(measured, rel.op, rel.limit.value), rel.limit.value, rel.op)

        return run

    def c_order(self, rel: ast.Order) -> Callable[[Context], Outcome]:
        sels = [self.sel(s) for s in rel.sequence]

        def run(ctx: Context) -> Outcome:
            f = ctx.frame
            eligible = ~ctx.kinds("crossing", "tree", "reservation")
            if rel.direction == "left-to-right":
                # a rack orders its contents vertically; the horizontal order is about loose lines
                eligible &= (ctx.rack_of < 0) & ~ctx.kinds("rack")
            masks = [s(ctx) & eligible for s in sels]
            cols_i: list[IntArray] = []
            cols_j: list[IntArray] = []
            for first in range(len(masks)):
                for later in range(first + 1, len(masks)):
                    a = masks[first] & ~masks[later]
                    b = masks[later] & ~masks[first]
                    i, j = _pairs(a, b)
                    keep = a[i] & b[j]
                    cols_i.append(i[keep])
                    cols_j.append(j[keep])
            i = np.concatenate(cols_i) if cols_i else np.empty(0, dtype=np.intp)
            j = np.concatenate(cols_j) if cols_j else np.empty(0, dtype=np.intp)
            keep = geo.rack_scope(ctx.rack_of, i, j, rel.inside_rack)
            i, j = i[keep], j[keep]
            i, j, ok = geo.in_order(i, j, rel.direction == "left-to-right", rel.ref == "axis", ctx.zone_columns,
                                    f.x, f.z, f.left, f.right, f.bottom, f.top, TOLERANCE)
            return Outcome((i, j), None, ok, None, "order", "")

        return run

    def c_zonerule(self, rel: ast.ZoneRule) -> Callable[[Context], Outcome]:
        sel = self.sel(rel.selector)
        kinds = set(rel.kinds)

        def run(ctx: Context) -> Outcome:
            f = ctx.frame
            idx = np.flatnonzero(sel(ctx) & ~ctx.kinds("crossing", "tree"))
            ok = np.ones(len(idx), dtype=bool)
            for k, i in enumerate(idx):
                under = {z.kind for z in ctx.section.zones
                         if min(f.right[i], z.end) - max(f.left[i], z.start) > TOLERANCE}
                ok[k] = under <= kinds if rel.mode == "within" else not (under & kinds)
            return Outcome((idx,), None, ok, None, rel.mode, "")

        return run

    def c_exclusion(self, rel: ast.Exclusion) -> Callable[[Context], Outcome]:
        sel, target = self.sel(rel.selector), self.sel(rel.target)
        margin = rel.limit.value if rel.limit is not None else 0.0

        def run(ctx: Context) -> Outcome:
            subjects = np.flatnonzero(sel(ctx) & ~ctx.kinds("tree"))
            targets = np.flatnonzero(target(ctx))
            rows_i, rows_j, values = [], [], []
            for t in targets:
                tobj = ctx.objects[t]
                zone = geo.root_zone(tobj) if rel.part == "root-zone" else ctx.shape(int(t))
                if zone is None:
                    continue
                zb = zone.bounds
                for s in subjects:
                    if not exclusion_applies(ctx.objects, ctx.rack_of, int(s), int(t)):
                        continue
                    rows_i.append(s)
                    rows_j.append(t)
                    # bounding boxes this far apart pass whatever the exact distance (a lower bound
                    # is enough: a passing row's measure is never reported)
                    apart = geo.box_gap(ctx.box(int(s)), zb)
                    values.append(apart if apart > margin + TOLERANCE else geo.shape_gap(ctx.shape(int(s)), zone))
            measured = np.array(values, dtype=float)
            ok = measured >= margin - TOLERANCE if margin > 0 else measured >= -TOLERANCE
            return Outcome((np.array(rows_i, dtype=np.intp), np.array(rows_j, dtype=np.intp)), measured,
                           np.asarray(ok), margin, ">=")

        return run

    def c_access(self, rel: ast.Access) -> Callable[[Context], Outcome]:
        sel = self.sel(rel.selector)
        width = rel.width.value

        def run(ctx: Context) -> Outcome:
            f = ctx.frame
            idx = np.flatnonzero(sel(ctx) & ~ctx.kinds("crossing", "tree", "reservation"))
            measured = np.empty(len(idx))
            for k, i in enumerate(idx):
                depth = rel.depth.value if rel.depth is not None else f.bottom[i]
                ignore = {int(j) for j in np.flatnonzero((ctx.rack_of == i) | ctx.kinds("crossing", "reservation"))}
                left = geo.strip_free_width(f, int(i), -1, depth, width, ignore)
                right = geo.strip_free_width(f, int(i), +1, depth, width, ignore)
                sides = rel.sides
                if sides == "declared":
                    sides = "both" if ctx.objects[i].sides == "double" else "one"
                measured[k] = min(left, right) if sides == "both" else max(left, right)
            return Outcome((idx,), measured, compare_many(measured, ">=", width), width, ">=")

        return run

    def c_capacity(self, rel: ast.Capacity) -> Callable[[Context], Outcome]:
        sel = self.sel(rel.selector)
        limit = rel.limit.value

        def run(ctx: Context) -> Outcome:
            f = ctx.frame
            chosen = sel(ctx) & ~ctx.kinds("crossing", "tree", "reservation")
            cols: list[IntArray] = []
            values: list[float] = []
            for zone in ctx.section.zones:
                if zone.kind not in rel.kinds:
                    continue
                inside = np.flatnonzero(chosen & (f.x >= zone.start) & (f.x < zone.end))
                if len(inside) == 0:
                    continue
                if rel.measure == "count":
                    value = float(len(inside))
                else:
                    value = geo.occupied_width([(max(f.left[i], zone.start), min(f.right[i], zone.end)) for i in inside])
                cols.append(inside)
                values.append(value)
            measured = np.array(values, dtype=float)
            outcome = Outcome((np.empty(0, dtype=np.intp),), measured, compare_many(measured, "<=", limit), limit, "<=",
                              "m" if rel.measure == "width" else "count")
            return replace(outcome, subjects=(_ragged(cols),))

        return run

    def c_crosspermission(self, rel: ast.CrossPermission) -> Callable[[Context], Outcome]:
        allowed, target = self.sel(rel.allowed), self.sel(rel.target)

        def run(ctx: Context) -> Outcome:
            f = ctx.frame
            i, j = _pairs(ctx.kinds("crossing"), target(ctx) & ~ctx.kinds("crossing"))
            meets = (f.left[i] < f.right[j] - TOLERANCE) & (f.right[i] > f.left[j] + TOLERANCE)
            i, j = i[meets], j[meets]
            ok = allowed(ctx)[i]
            return Outcome((i, j), None, np.asarray(ok), None, "may cross", "")

        return run

    def c_bounds(self, rel: ast.Bounds) -> Callable[[Context], Outcome]:
        sel = self.sel(rel.selector)

        def run(ctx: Context) -> Outcome:
            f = ctx.frame
            idx = np.flatnonzero(sel(ctx))
            if rel.what == "profile":
                measured = np.minimum(f.left[idx], ctx.section.width - f.right[idx])
                return Outcome((idx,), measured, compare_many(measured, ">=", 0.0), 0.0, ">=")
            assert rel.limit is not None
            idx = idx[~ctx.kinds("tree")[idx]]
            measured = f.bottom[idx]
            return Outcome((idx,), measured, compare_many(measured, "<=", rel.limit.value), rel.limit.value, "<=")

        return run


def exclusion_applies(objects: tuple[Obj, ...], rack_of: IntArray, s: int, t: int) -> bool:
    """Tell whether an exclusion judges subject s against target t.

    Not an object against itself or its own rack, and not a network against the space
    reserved for that same network.
    """
    if s == t or rack_of[s] == t or rack_of[t] == s:
        return False
    sobj, tobj = objects[s], objects[t]
    return not (tobj.kind == "reservation" and sobj.network is not None and sobj.network == tobj.network)


def _ragged(cols: list[IntArray]) -> IntArray:
    """Pack variable-length subject groups into one object column."""
    out = np.empty(len(cols), dtype=object)
    for k, col in enumerate(cols):
        out[k] = col
    return out


RELATION_KIND = {
    ast.Cover: "cover", ast.Clearance: "clearance", ast.CrossingClearance: "crossing", ast.Order: "order",
    ast.ZoneRule: "zone", ast.Exclusion: "exclusion", ast.Access: "access", ast.Capacity: "capacity",
    ast.CrossPermission: "crossing", ast.Bounds: "bounds",
}


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to run: its pack, conditions, and one evaluator per alternative."""

    pack_rule: PackRule
    evaluators: tuple[Callable[[Context], Outcome], ...]

    @property
    def rule(self) -> ast.Rule:
        """Return the rule's AST."""
        return self.pack_rule.rule


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
        compiler = _Compiler(packs)
        self.rules = tuple(
            CompiledRule(pr, tuple(compiler.compile(req.relation) for req in pr.rule.alternatives))
            for pr in packs.rules
        )
        self._plans: tuple[_Plan, ...] | None = None
        self._in_force: dict[tuple[str | None, tuple[tuple[str, str | float], ...]], BoolArray] = {}

    def rules_for(self, section: Section) -> list[CompiledRule]:
        """Return the rules in force on the case's planned date whose conditions hold."""
        return [cr for cr in self.rules if in_force(cr.pack_rule, section.planned) and conditions_hold(cr.rule, section)]

    def evaluate(self, section: Section) -> list[Finding]:
        """Return every finding for a section, deterministically ordered."""
        ctx = Context(section)
        findings: list[Finding] = []
        for cr in self.rules_for(section):
            for row in self._rows(cr, ctx):
                findings.append(self._finding(cr, row, ctx))
        findings.extend(self._overlaps(ctx))
        findings = [self._accept(f, section) for f in findings]
        return sorted(findings, key=Finding.sort_key)

    def evaluate_many(self, sections: list[Section]) -> list[list[Finding]]:
        """Return each section's findings, exactly as `evaluate` would, in input order.

        All sections are evaluated together (DESIGN §8): one `columnar.Batch` of their
        objects, each rule run once over the sections it is in force for, and Python work
        only for the rows that become findings.
        """
        if not sections:
            return []
        plans = self._batch_plans()
        b = columnar.Batch(list(sections))
        active = self._active(b.sections)
        found: list[list[tuple[tuple[int, str, tuple[str, ...], int], Finding]]] = [[] for _ in sections]
        for position, plan in enumerate(plans):
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

    def _batch_plans(self) -> tuple[_Plan, ...]:
        """Return (compiling once) the batch evaluators and fixed finding fields of every rule."""
        if self._plans is None:
            compiler = columnar.RelationCompiler(self.packs)
            self._plans = tuple(_Plan(cr, tuple(compiler.compile(req.relation) for req in cr.rule.alternatives))
                                for cr in self.rules)
        return self._plans

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

    def _emit(self, plan: _Plan, k: int, b: columnar.Batch, out: columnar.BatchOutcome, rows: IntArray, position: int,
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

    def _exception_finding(self, plan: _Plan, k: int, subjects: tuple[str, ...], measured: float | None,
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

    def _emit_alternatives(self, plan: _Plan, b: columnar.Batch, outs: list[columnar.BatchOutcome], position: int,
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

    def _emit_rows(self, plan: _Plan, b: columnar.Batch, outs: list[columnar.BatchOutcome], position: int,
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
            finding = self._finding_of(plan.compiled, row, [b.objects[g] for g in members[key]])
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

    def _rows(self, cr: CompiledRule, ctx: Context) -> list[Row]:
        """Evaluate every alternative; return the subject sets no alternative satisfies outright."""
        alternatives = cr.rule.alternatives
        outcomes = [run(ctx) for run in cr.evaluators]
        per_alt: list[dict[tuple[str, ...], Row]] = []
        passed: set[tuple[str, ...]] = set()
        ids = ctx.frame.ids
        for k, (req, out) in enumerate(zip(alternatives, outcomes, strict=True)):
            rows: dict[tuple[str, ...], Row] = {}
            # a passing row matters only when another alternative might fail it
            wanted = range(len(out.ok)) if len(alternatives) > 1 else np.flatnonzero(~np.asarray(out.ok, dtype=bool))
            ragged = out.subjects[0].dtype == object
            for r in wanted:
                subjects = tuple(ids[int(c[r])] for c in out.subjects) if not ragged \
                    else tuple(ids[int(i)] for i in out.subjects[0][r])
                key = tuple(sorted(subjects))
                if bool(out.ok[r]):
                    passed.add(key)
                    continue
                measured = None if out.measured is None else float(out.measured[r])
                row = Row(key, measured, out.required, out.op, out.unit, k,
                          self._exception(req, subjects, measured, ctx))
                rows[key] = row
            per_alt.append(rows)
        result: list[Row] = []
        keys = sorted({key for rows in per_alt for key in rows} - passed)
        for key in keys:
            candidates = [rows[key] for rows in per_alt if key in rows]
            # an alternative that does not consider this subject set cannot satisfy it;
            # one met through its exception beats reporting the closest plain failure
            via = [c for c in candidates if c.exception is not None]
            result.append(via[0] if via else min(candidates, key=_closeness))
        return result

    def _exception(self, req: ast.Requirement, subjects: tuple[str, ...], measured: float | None,
                   ctx: Context) -> ast.Exception_ | None:
        """Return the exception through which a failing row is still met, if any."""
        if not req.exceptions:
            return None
        objs = [ctx.objects[ctx.frame.index[s]] for s in subjects]
        for exc in req.exceptions:
            if not any(set(exc.measures) & set(o.measures) for o in objs):
                continue
            if exc.limit is None or (measured is not None and compare(measured, exc.op, exc.limit.value)):
                return exc
        return None

    def _finding(self, cr: CompiledRule, row: Row, ctx: Context) -> Finding:
        return self._finding_of(cr, row, [ctx.objects[ctx.frame.index[s]] for s in row.subjects])

    def _finding_of(self, cr: CompiledRule, row: Row, objs: list[Obj]) -> Finding:
        """Return the finding of a row whose subjects are `objs` (in the row's order)."""
        rule = cr.rule
        req = rule.alternatives[row.alternative]
        kind = RELATION_KIND[type(req.relation)]
        planned = [o for o in objs if o.status == "planned"]
        anchor = min(planned or objs, key=lambda o: (o.span.line, o.span.column))
        severity = rule.severity
        exception: tuple[tuple[str, str], ...] = ()
        required = row.required
        if row.exception is not None:
            severity = "warning" if rule.severity == "error" else rule.severity
            used = sorted({m for o in objs for m in o.measures} & set(row.exception.measures))
            exception = (("measure", ", ".join(used)), ("approval", row.exception.approver))
            if row.exception.limit is not None:
                exception += (("relaxed_to", f"{row.exception.limit.value:g}"),)
        return Finding(
            rule=rule.id, pack=cr.pack_rule.pack.name, severity=severity, kind=kind,
            subjects=row.subjects, measured=row.measured, required=required, op=row.op, unit=row.unit,
            message=describe(req.relation, row, objs), source=rule.source,
            rule_at=req.relation.span if row.alternative else rule.span, case_at=anchor.span,
            baseline=all(o.status == "existing" for o in objs), title=rule.title,
            illustrative=rule.illustrative, exception=exception,
        )

    def _overlaps(self, ctx: Context) -> list[Finding]:
        """Report objects whose bodies physically intersect (always, whatever the packs)."""
        physical = ~ctx.kinds(*NON_PHYSICAL)
        i, j = _pairs(physical, physical)
        own = (ctx.rack_of[i] == j) | (ctx.rack_of[j] == i)
        i, j = i[~own], j[~own]
        plain = ~(ctx.frame.crossing[i] | ctx.frame.crossing[j])
        gap = np.zeros(len(i))
        gap[plain] = geo.gaps(ctx.frame, i[plain], j[plain], "shortest")
        for k in np.flatnonzero(~plain):
            # only overlaps are reported; boxes that do not meet cannot hold one
            if geo.box_gap(ctx.box(int(i[k])), ctx.box(int(j[k]))) < 0:
                gap[k] = geo.shape_gap(ctx.shape(int(i[k])), ctx.shape(int(j[k])))
        out = []
        for k in np.flatnonzero(gap < -TOLERANCE):
            first, second = sorted((ctx.objects[i[k]], ctx.objects[j[k]]), key=lambda o: o.id)
            out.append(overlap_finding(first, second, float(gap[k])))
        return out

    def _accept(self, finding: Finding, section: Section) -> Finding:
        """Mark a finding covered by an `accept:` entry: granted, expired, or stale."""
        for acc in section.accept:
            if acc.rule != finding.rule or (acc.subjects and acc.subjects != finding.subjects):
                continue
            state = "accepted"
            if acc.until < self.today:
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


class _Plan:
    """A rule ready for batches: its batch evaluators and the fixed fields of its findings."""

    def __init__(self, cr: CompiledRule, runs: tuple[columnar.Run, ...]) -> None:
        self.compiled = cr
        self.rule = cr.rule
        self.pack = cr.pack_rule.pack.name
        self.runs = runs
        alternatives = cr.rule.alternatives
        self.kinds = tuple(RELATION_KIND[type(req.relation)] for req in alternatives)
        self.rule_at = tuple(req.relation.span if k else cr.rule.span for k, req in enumerate(alternatives))


def _first(entry: tuple[tuple[int, str, tuple[str, ...], int], Finding]) -> tuple[int, str, tuple[str, ...], int]:
    """Return the sort key of a (key, finding) entry."""
    return entry[0]
