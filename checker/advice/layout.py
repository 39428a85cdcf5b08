"""The layout solver: place the planned objects so every rule holds, or say which deviations it takes.

A section and the rules in force become a mixed-integer linear programme (SciPy `milp`,
HiGHS). Each movable unit — a planned cable, pipe, container or rack (a rack carries its
contents) — gets a continuous axis `x` and cover; existing objects, crossings, trees,
structures and reservations stay where they are. Each unit lies wholly in one surface
zone (a binary per zone), so zone rules and the per-zone left-to-right order become
linear. Clearances are disjunctions written with big-M binaries: `horizontal` is "left
of or right of by d", `vertical` "above or below by d", and `shortest` (and physical
non-overlap) "apart by d horizontally or vertically", which is never looser than the
engine's exact distance. Alternatives (`otherwise`) are one more disjunction. The
objective is the L1 movement from the start positions (the proposal, or the NEN 7171
reference layout). When no layout exists, each negotiable rule gets a slack — metres for
rules with a magnitude, a waiver binary for the others — weighted by negotiability times
severity weight (error 10, warning 3, info 1); fixed rules get none. The result names
each deviation as `RULE (source): required 0.30 m → 0.18 m`, a minimal conflicting set
of rules (deletion filtering), and the next-best deviation set (the cheapest one
forbidden). Every layout is re-checked with the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rich.console import Console
from rich.table import Table
from rich.text import Text
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array

from checker.engine.evaluate import Engine, exclusion_applies
from checker.engine.select import Predicate, compile_selector, mask
from checker.model import geometry as geo
from checker.model.findings import Finding, counts
from checker.model.numbers import fixed
from checker.model.section import TOLERANCE, Section
from dsl import ast
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import PackRule, PackSet

SEVERITY_WEIGHT = {"error": 10.0, "warning": 3.0, "info": 1.0}
MOVABLE_KINDS = ("cable", "pipe", "container", "rack")
OVERLAP = "LIG-OVERLAP"
MAX_SLACK = 10.0
EPS = 1e-6
TIME_LIMIT = 8.0
# a deviation of whole metres is priced against movement of centimetres: deviate only when moving cannot help
DEVIATION_PRICE = 1000.0
# trust regions (metres of movement) tried in turn; None is the whole profile
MOVE_GAP = 0.02
TRUST_RADII: tuple[float | None, ...] = (0.75, 2.5, None)


class Lin:
    """A linear expression over model variables: coefficients plus a constant."""

    __slots__ = ("coef", "const")

    def __init__(self, coef: dict[int, float] | None = None, const: float = 0.0) -> None:
        self.coef = coef or {}
        self.const = float(const)

    def __add__(self, other: Lin | float) -> Lin:
        if not isinstance(other, Lin):
            return Lin(dict(self.coef), self.const + other)
        coef = dict(self.coef)
        for k, v in other.coef.items():
            coef[k] = coef.get(k, 0.0) + v
        return Lin(coef, self.const + other.const)

    __radd__ = __add__

    def __neg__(self) -> Lin:
        return Lin({k: -v for k, v in self.coef.items()}, -self.const)

    def __sub__(self, other: Lin | float) -> Lin:
        return self + (-other)

    def __rsub__(self, other: float) -> Lin:
        return (-self) + other

    def __mul__(self, k: float) -> Lin:
        return Lin({i: v * k for i, v in self.coef.items()}, self.const * k)

    __rmul__ = __mul__

    def value(self, sol: np.ndarray) -> float:
        """Return the expression's value under a solution vector."""
        return self.const + float(sum(v * float(sol[i]) for i, v in self.coef.items()))


# a relative position, complete: (L|A, first object, its reference, second object, its reference, distance)
Side = tuple[str, int, str, int, str, float]


@dataclass(frozen=True, slots=True)
class Row:
    """One requirement `lin >= 0`; `magnitude` rows are relaxed by metres, others only by a waiver.

    `side` names the relative position a row requires, completely: `("L", i, ref_i, j, ref_j, d)` is
    "i (measured at ref_i) left of j (at ref_j) by d", `"A"` the same for above. Rows with equal
    sides are the same constraint, so rules that state it share one binary (two rules asking
    the same distance of a pair cost four binaries, not eight); rows that differ in distance
    must not share, or choosing a side for one rule would impose the other rule's distance there.
    """

    lin: Lin
    magnitude: bool
    side: Side | None = None


Clause = list[list[Row]]  # at least one alternative holds entirely


@dataclass(frozen=True, slots=True)
class Move:
    """How far the solver moved one unit from its proposed position."""

    id: str
    x: float
    cover: float
    dx: float
    dz: float


@dataclass(frozen=True, slots=True)
class Deviation:
    """A rule relaxed so the section fits: to a new limit, or waived (no magnitude)."""

    rule: str
    pack: str
    source: str
    op: str
    required: float | None
    to: float | None
    unit: str
    cost: float

    def describe(self) -> str:
        """Say the deviation as an engineer reads it: `RULE (source): required 0.30 m → 0.18 m`."""
        if self.to is None or self.required is None:
            return f"{self.rule} ({self.source}): waived"
        unit = f" {self.unit}" if self.unit != "count" else ""
        return f"{self.rule} ({self.source}): required {self.op} {self.required:.2f}{unit} → {self.to:.2f}{unit}"


@dataclass(frozen=True, slots=True)
class Layout:
    """What `layout` found: the new section (None when even deviations cannot help) and why."""

    section: Section | None
    moves: tuple[Move, ...]
    deviations: tuple[Deviation, ...]
    conflict: tuple[str, ...]
    alternative: tuple[Deviation, ...]
    findings: tuple[Finding, ...]
    cost: float
    timed_out: bool = False
    # when the time limit stopped a solve that had a layout: how far above the least movement it may be (0.25 = 25 %)
    gap: float | None = None
    solver_error: bool = False

    @property
    def feasible(self) -> bool:
        """Tell whether a layout was found (possibly needing deviations)."""
        return self.section is not None


@dataclass
class _Model:
    """Variables, bounds, costs and rows of the MILP being built."""

    lb: list[float] = field(default_factory=list)
    ub: list[float] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)
    integer: list[int] = field(default_factory=list)
    rows: list[Lin] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    timed_out: bool = False
    gap: float | None = None
    solver_error: bool = False

    def var(self, lo: float, hi: float, cost: float = 0.0, integer: bool = False) -> Lin:
        """Add a variable and return it as an expression."""
        self.lb.append(lo)
        self.ub.append(hi)
        self.cost.append(cost)
        self.integer.append(1 if integer else 0)
        return Lin({len(self.lb) - 1: 1.0})

    def ge(self, lin: Lin, rule: str) -> None:
        """Require `lin >= 0`; a violated constant requirement marks the model broken by `rule`."""
        coef = {k: v for k, v in lin.coef.items() if abs(v) > 1e-12}
        if not coef:
            if lin.const < -TOLERANCE:
                self.broken.append(rule)
            return
        self.rows.append(Lin(coef, lin.const))

    def floor(self, lin: Lin) -> float:
        """Return the least value `lin` can take within the variable bounds (for a tight big-M)."""
        low = lin.const
        for k, v in lin.coef.items():
            bound = self.lb[k] if v > 0 else self.ub[k]
            if not math.isfinite(bound):
                return -math.inf
            low += v * bound
        return low

    def solve(self, time_limit: float | None = None, gap: float = 1e-4) -> np.ndarray | None:
        """Solve; return the solution vector, or None when infeasible (or nothing found in time)."""
        if self.broken:
            return None
        n = len(self.lb)
        if not self.rows:
            return np.array(self.lb, dtype=float)
        r, c, v = [], [], []
        for k, row in enumerate(self.rows):
            for i, val in row.coef.items():
                r.append(k)
                c.append(i)
                v.append(val)
        a = coo_array((v, (r, c)), shape=(len(self.rows), n)).tocsr()
        lo = np.array([-row.const for row in self.rows])
        options = {"time_limit": TIME_LIMIT if time_limit is None else time_limit, "mip_rel_gap": gap}
        for presolve in (True, False):
            res = milp(np.array(self.cost), integrality=np.array(self.integer), bounds=Bounds(self.lb, self.ub),
                       constraints=LinearConstraint(a, lo, np.full(len(lo), np.inf)),
                       options={**options, "presolve": presolve})
            # status 4 is HiGHS giving up on numerics (seen in presolve on models with 1 mm of room), not a
            # proof of infeasibility: solve once more without presolve before believing anything
            if res.status != 4:
                break
        # status 1: the time (or iteration) limit stopped the solver; what it has is not proven best
        self.timed_out = self.timed_out or res.status == 1
        self.solver_error = self.solver_error or res.status == 4
        if res.x is None:
            return None
        if res.status == 1 and getattr(res, "mip_gap", None) is not None and math.isfinite(res.mip_gap):
            self.gap = float(res.mip_gap)
        return np.asarray(res.x)


@dataclass(frozen=True, slots=True)
class Problem:
    """A section prepared for modelling: units, start positions, and the rules in force."""

    section: Section
    packs: PackSet
    rules: tuple[PackRule, ...]
    start: dict[str, tuple[float, float]]
    allowed: dict[str, frozenset[int]] = field(default_factory=dict)


class _Builder:
    """Build the MILP of one Problem, with or without slack for negotiable rules."""

    def __init__(self, problem: Problem, rules: Iterable[PackRule], slack: bool,
                 radius: float | None = None) -> None:
        self.p = problem
        self.radius = radius
        s = problem.section
        self.s = s
        self.f = geo.frame(s)
        self.m = _Model()
        self.slack = slack
        self.objs = s.objects
        n = len(self.objs)
        self.rack_of = geo.rack_column(self.f)
        self.kind = np.array([o.kind for o in self.objs], dtype=object)
        self.depth_max = max([3.0] + [float(b) + 1.0 for b in self.f.bottom])
        self.big = 4.0 * (s.width + self.depth_max) + 20.0
        self.unit_of = np.full(n, -1, dtype=np.intp)
        self.units: list[int] = []
        for i, o in enumerate(self.objs):
            if o.status == "planned" and o.kind in MOVABLE_KINDS and self.rack_of[i] < 0:
                self.unit_of[i] = i
                self.units.append(i)
        for i in range(n):
            r = self.rack_of[i]
            if r >= 0 and self.unit_of[r] >= 0:
                self.unit_of[i] = r
        self.X: dict[int, Lin] = {}
        self.C: dict[int, Lin] = {}
        self.Y: dict[int, dict[int, Lin]] = {}
        self._preds: dict[int, Predicate] = {}
        self.slacks: dict[str, tuple[Lin | None, Lin | None, PackRule]] = {}
        self.flags: dict[str, list[Lin]] = {}
        self.sides: dict[Side, Lin] = {}
        self.move_vars: list[int] = []
        self.pending: dict[tuple[str, ...], list[_Pending]] = {}
        self._place_units()
        for pr in rules:
            self.add_rule(pr)
        self.add_overlaps()
        self.flush()

    # ------------------------------------------------------------------ variables

    def _place_units(self) -> None:
        s, f, m = self.s, self.f, self.m
        for u in self.units:
            o = self.objs[u]
            x0, c0 = self.p.start.get(o.id, (o.x, o.cover))
            hw = f.hw[u]
            sub = [i for i in range(len(self.objs)) if self.unit_of[i] == u]
            lo_top = min(f.top[i] - f.top[u] for i in sub)
            hi_bot = max(f.bottom[i] - f.top[u] for i in sub)
            x_lo, x_hi = hw, max(hw, s.width - hw)
            c_lo, c_hi = max(0.0, -lo_top), max(0.0, self.depth_max - hi_bot)
            if self.radius is not None:
                # a trust region: near the start, so pairs that cannot meet need no binaries
                x_lo, x_hi = _window(x0, self.radius, x_lo, x_hi)
                c_lo, c_hi = _window(c0, self.radius, c_lo, c_hi)
            self.X[u] = m.var(x_lo, x_hi)
            self.C[u] = m.var(c_lo, c_hi)
            ex = m.var(0.0, math.inf, 1.0)
            ez = m.var(0.0, math.inf, 1.0)
            self.move_vars.extend(k for e in (ex, ez) for k in e.coef)
            m.ge(ex - (self.X[u] - x0), "move")
            m.ge(ex + (self.X[u] - x0), "move")
            m.ge(ez - (self.C[u] - c0), "move")
            m.ge(ez + (self.C[u] - c0), "move")
            ys: dict[int, Lin] = {}
            allowed = self.p.allowed.get(o.id)
            for k, z in enumerate(s.zones):
                reachable = z.start + hw <= x_hi + EPS and z.end - hw >= x_lo - EPS
                if z.end - z.start + EPS >= 2 * hw and reachable and (allowed is None or k in allowed):
                    y = m.var(0.0, 1.0, 0.0, True)
                    ys[k] = y
                    for row in (self.X[u] - hw - z.start, z.end - hw - self.X[u]):
                        m.ge(row + (1.0 - y) * max(0.0, -m.floor(row)), "zone")
            if not ys:
                self.m.broken.append("zone")
            total = Lin()
            for y in ys.values():
                total = total + y
            m.ge(total - 1.0, "zone")
            m.ge(1.0 - total, "zone")
            self.Y[u] = ys

    def x(self, i: int) -> Lin:
        """Return object i's axis as an expression."""
        u = self.unit_of[i]
        if u < 0:
            return Lin(const=float(self.f.x[i]))
        return self.X[u] + float(self.f.x[i] - self.f.x[u])

    def top(self, i: int) -> Lin:
        """Return the depth of object i's top as an expression."""
        u = self.unit_of[i]
        if u < 0:
            return Lin(const=float(self.f.top[i]))
        return self.C[u] + float(self.f.top[i] - self.f.top[u])

    def zones_of(self, i: int) -> dict[int, Lin]:
        """Return, per zone index, the expression telling whether object i lies in that zone (0/1)."""
        u = self.unit_of[i]
        if u >= 0:
            return self.Y[u]
        zone = self.s.zones
        starts = np.array([z.start for z in zone])
        k = int(np.searchsorted(starts, self.f.x[i], side="right") - 1)
        if self.f.x[i] < 0 or self.f.x[i] > self.s.width:
            return {}
        return {k: Lin(const=1.0)}

    def box(self, i: int, ref: str = "edge") -> tuple[Lin, Lin, Lin, Lin]:
        """Return (left, right, top, bottom) of object i; `axis` shrinks it to its centre."""
        hw = float(self.f.hw[i]) if ref == "edge" else 0.0
        hh = float(self.f.hh[i])
        x = self.x(i)
        if self.f.crossing[i]:
            zc = Lin(const=float(self.f.z[i]))
        else:
            zc = self.top(i) + hh
        h = hh if ref == "edge" else 0.0
        return x - hw, x + hw, zc - h, zc + h

    def sel(self, selector: ast.Selector) -> np.ndarray:
        """Return the mask of a selector on the section."""
        key = id(selector)
        pred = self._preds.get(key)
        if pred is None:
            pred = compile_selector(selector, self.p.packs)
            self._preds[key] = pred
        return mask(pred, self.s)

    def kinds(self, *names: str) -> np.ndarray:
        """Return the mask of objects of the given kinds."""
        return np.isin(self.kind, names)

    def movable(self, i: int) -> bool:
        """Tell whether object i moves with a unit."""
        return bool(self.unit_of[i] >= 0)

    # ------------------------------------------------------------------ rules

    def add_rule(self, pr: PackRule) -> None:
        """Turn one rule into clauses, keyed by subject set, and add them to the model."""
        rule = pr.rule
        merged: dict[tuple[str, ...], Clause] = {}
        for req in rule.alternatives:
            rel = req.relation
            for key, clause in self.relation(rel, None).items():
                merged.setdefault(key, []).extend(clause)
        amount: Lin | None = None
        waive: Lin | None = None
        negotiable = self.slack and rule.negotiability is not None
        weight = (rule.negotiability or 0.0) * SEVERITY_WEIGHT.get(rule.severity, 1.0) * DEVIATION_PRICE
        for key, clause in sorted(merged.items()):
            if all(self.objs[self.f.index[k]].status == "existing" for k in key if k in self.f.index):
                continue
            if negotiable:
                if amount is None and any(r.magnitude for alt in clause for r in alt):
                    flag = self.m.var(0.0, 1.0, 0.01 * weight, True)
                    amount = self.m.var(0.0, MAX_SLACK, weight)
                    self.m.ge(flag * MAX_SLACK - amount, rule.id)
                    self.slacks[rule.id] = (amount, self.slacks.get(rule.id, (None, None, pr))[1], pr)
                    self.flags.setdefault(rule.id, []).append(flag)
                if waive is None and any(not r.magnitude for alt in clause for r in alt):
                    waive = self.m.var(0.0, 1.0, weight, True)
                    self.slacks[rule.id] = (self.slacks.get(rule.id, (None, None, pr))[0], waive, pr)
                    self.flags.setdefault(rule.id, []).append(waive)
            self.clause(key, clause, rule.id, amount, waive)

    def clause(self, subjects: tuple[str, ...], clause: Clause, rule: str, amount: Lin | None,
               waive: Lin | None) -> None:
        """Queue a disjunction of conjunctions on a subject set, each row relaxed by the rule's slack if it has one."""
        def relax(row: Row) -> Lin:
            if row.magnitude and amount is not None:
                return row.lin + amount
            if not row.magnitude and waive is not None:
                return row.lin + waive * self.big
            return row.lin

        alive: list[list[Lin]] = []
        keys: list[Side | None] = []
        for alt in clause:
            rows = [relax(r) for r in alt]
            relaxed = any(a is not r.lin for a, r in zip(rows, alt, strict=True))
            # within the variable bounds an alternative may hold always (the clause is met) or never
            if all(self.m.floor(r) >= -TOLERANCE for r in rows):
                return
            if any(-self.m.floor(-r) < -TOLERANCE for r in rows):
                continue
            alive.append(rows)
            sides = {r.side for r in alt}
            # a row relaxed by this rule's slack is this rule's own: it shares no binary
            keys.append(alt[0].side if len(sides) == 1 and not relaxed else None)
        if not alive:
            self.m.broken.append(rule)
            return
        self.pending.setdefault(subjects, []).append(_Pending(rule, alive, keys))

    def flush(self) -> None:
        """Add the queued clauses, leaving out each one another clause on the same subjects already implies.

        Rules often bind one pair several times (gas-water 0.30 m side by side, every line 0.20 m,
        no overlap): the strongest clause makes the others redundant, and each left out saves the
        solver four binaries.
        """
        for group in self.pending.values():
            kept: list[_Pending] = []
            for c in group:
                if any(_implies(k.alive, c.alive) for k in kept):
                    continue
                kept = [k for k in kept if not _implies(c.alive, k.alive)] + [c]
            for c in kept:
                self._emit(c.rule, c.alive, c.keys)
        self.pending.clear()

    def _emit(self, rule: str, alive: list[list[Lin]], keys: list[Side | None]) -> None:
        """Add one disjunction to the model: plain rows for a single alternative, big-M rows otherwise."""
        if len(alive) == 1:
            for r in alive[0]:
                self.m.ge(r, rule)
            return
        total = Lin()
        for rows, key in zip(alive, keys, strict=True):
            b = self.sides.get(key) if key is not None else None
            if b is None:
                b = self.m.var(0.0, 1.0, 0.0, True)
                if key is not None:
                    self.sides[key] = b
                    mirror = self.sides.get(_mirror(key))
                    if mirror is not None:
                        # i left of j and j left of i exclude each other: a cut the solver need not find
                        self.m.ge(1.0 - b - mirror, rule)
            total = total + b
            for r in rows:
                self.m.ge(r + (1.0 - b) * self.big_m(r), rule)
        self.m.ge(total - 1.0, rule)

    def big_m(self, lin: Lin) -> float:
        """Return the least big-M that switches `lin >= 0` off within the variable bounds (a tight relaxation)."""
        low = self.m.floor(lin)
        return self.big if not math.isfinite(low) else max(0.0, -low) + TOLERANCE

    def relation(self, rel: ast.Relation, limit: float | None) -> dict[tuple[str, ...], Clause]:
        """Return the clauses of one relation, keyed by sorted subject ids."""
        method: Callable[[Any, float | None], dict[tuple[str, ...], Clause]] = getattr(
            self, "r_" + type(rel).__name__.lower())
        return method(rel, limit)

    def key(self, *idx: int) -> tuple[str, ...]:
        """Return the sorted ids of objects."""
        return tuple(sorted(self.objs[i].id for i in idx))

    def r_cover(self, rel: ast.Cover, limit: float | None) -> dict[tuple[str, ...], Clause]:
        lim = rel.limit.value if limit is None else limit
        out: dict[tuple[str, ...], Clause] = {}
        for i in np.flatnonzero(self.sel(rel.selector) & ~self.kinds("tree")).tolist():
            t = self.top(i)
            out[self.key(i)] = [[Row(t - lim if rel.op == ">=" else lim - t, True)]]
        return out

    def _separate(self, i: int, j: int, ra: str, rb: str, plane: str, d: float, magnitude: bool = True) -> Clause:
        """Return the clause 'i and j apart by d' in a plane (shortest: horizontally or vertically)."""
        li, ri, ti, bi = self.box(i, ra)
        lj, rj, tj, bj = self.box(j, rb)
        horizontal = [[Row(lj - ri - d, magnitude, ("L", i, ra, j, rb, d))],
                      [Row(li - rj - d, magnitude, ("L", j, rb, i, ra, d))]]
        vertical = [[Row(tj - bi - d, magnitude, ("A", i, ra, j, rb, d))],
                    [Row(ti - bj - d, magnitude, ("A", j, rb, i, ra, d))]]
        if plane == "horizontal":
            return horizontal
        if plane == "vertical":
            return vertical
        return horizontal + vertical

    def _scope(self, i: np.ndarray, j: np.ndarray, inside: bool) -> np.ndarray:
        ri, rj = self.rack_of[i], self.rack_of[j]
        same = (ri == rj) & (ri >= 0)
        own = (ri == j) | (rj == i)
        return np.asarray((same if inside else ~same) & ~own)

    def r_clearance(self, rel: ast.Clearance, limit: float | None) -> dict[tuple[str, ...], Clause]:
        lim = rel.limit.value if limit is None else limit
        line_like = ~self.kinds("crossing")
        i, j = _pairs(self.sel(rel.a.selector) & line_like, self.sel(rel.b.selector) & line_like)
        keep = self._scope(i, j, rel.inside_rack)
        out: dict[tuple[str, ...], Clause] = {}
        for a, b in zip(i[keep].tolist(), j[keep].tolist(), strict=True):
            if rel.op == ">=":
                out[self.key(a, b)] = self._separate(a, b, rel.a.ref, rel.b.ref, rel.plane, lim)
        return out

    def _crossing(self, c: int, o: int, d: float, magnitude: bool = True) -> Clause:
        """Return the clause 'o passes crossing c at vertical distance d, or does not meet it'."""
        cr = self.objs[c]
        start, end = cr.start or 0.0, cr.end or 0.0
        c0 = cr.cover
        c1 = cr.cover_end if cr.cover_end is not None else c0
        slope = 0.0 if end == start else (c1 - c0) / (end - start)
        dia = cr.diameter or 0.0
        left, right, top, bottom = self.box(o)
        positions = [self.x(o)] if self.objs[o].round else [left, right]
        above = [Row(c0 + (p - start) * slope - bottom - d, magnitude, ("A", o, "edge", c, "crossing", d))
                 for p in positions]
        below = [Row(top - (c0 + (p - start) * slope + dia) - d, magnitude, ("A", c, "crossing", o, "edge", d))
                 for p in positions]
        tol = 2 * TOLERANCE
        return [above, below, [Row(start - tol - right, False, ("L", o, "edge", c, "crossing", -tol))],
                [Row(left - end - tol, False, ("L", c, "crossing", o, "edge", -tol))]]

    def r_crossingclearance(self, rel: ast.CrossingClearance, limit: float | None) -> dict[tuple[str, ...], Clause]:
        lim = rel.limit.value if limit is None else limit
        crossings = np.flatnonzero(self.sel(rel.a.selector) & self.kinds("crossing")).tolist()
        others = np.flatnonzero(self.sel(rel.b.selector) & ~self.kinds("crossing", "tree", "reservation")).tolist()
        out: dict[tuple[str, ...], Clause] = {}
        for c in crossings:
            for o in others:
                if self.rack_of[o] != c and (self.movable(o) or geo.crossing_gap(self.objs[c], self.objs[o])
                                             is not None):
                    out[self.key(c, o)] = self._crossing(c, o, lim)
        return out

    def r_order(self, rel: ast.Order, limit: float | None) -> dict[tuple[str, ...], Clause]:
        eligible = ~self.kinds("crossing", "tree", "reservation")
        if rel.direction == "left-to-right":
            eligible &= (self.rack_of < 0) & ~self.kinds("rack")
        masks = [self.sel(s) & eligible for s in rel.sequence]
        out: dict[tuple[str, ...], Clause] = {}
        half = 0.5 * self.s.width
        for first in range(len(masks)):
            for later in range(first + 1, len(masks)):
                a = masks[first] & ~masks[later]
                b = masks[later] & ~masks[first]
                i, j = _pairs(a, b)
                keep = a[i] & b[j] & self._scope(i, j, rel.inside_rack)
                for p, q in zip(i[keep].tolist(), j[keep].tolist(), strict=True):
                    _, rp, _, bp = self.box(p, rel.ref)
                    lq, _, tq, _ = self.box(q, rel.ref)
                    if rel.direction != "left-to-right":
                        out[self.key(p, q)] = [[Row(tq - bp, False)]]
                        continue
                    rows: list[Row] = []
                    zp, zq = self.zones_of(p), self.zones_of(q)
                    for k in sorted(set(zp) & set(zq)):
                        z = self.s.zones[k]
                        mirrored = 0.5 * (z.start + z.end) > half
                        gap = (rp - lq) if mirrored else (lq - rp)
                        # switched off unless both lie in zone k
                        rows.append(Row(gap + (2.0 - zp[k] - zq[k]) * self.big_m(gap), False))
                    if rows:
                        out[self.key(p, q)] = [rows]
        return out

    def r_zonerule(self, rel: ast.ZoneRule, limit: float | None) -> dict[tuple[str, ...], Clause]:
        kinds = set(rel.kinds)
        out: dict[tuple[str, ...], Clause] = {}
        for i in np.flatnonzero(self.sel(rel.selector) & ~self.kinds("crossing", "tree")).tolist():
            rows = []
            if self.movable(i):
                for k, y in self.zones_of(i).items():
                    bad = (self.s.zones[k].kind in kinds) != (rel.mode == "within")
                    if bad:
                        rows.append(Row(-y, False))
            else:
                f = self.f
                under = {z.kind for z in self.s.zones
                         if min(f.right[i], z.end) - max(f.left[i], z.start) > TOLERANCE}
                ok = under <= kinds if rel.mode == "within" else not (under & kinds)
                rows.append(Row(Lin(const=0.0 if ok else -1.0), False))
            out[self.key(i)] = [rows]
        return out

    def r_exclusion(self, rel: ast.Exclusion, limit: float | None) -> dict[tuple[str, ...], Clause]:
        margin = rel.limit.value if rel.limit is not None else 0.0
        if limit is not None:
            margin = limit
        # a bare exclusion (keep out) has no magnitude to negotiate, only a waiver
        magnitude = rel.limit is not None
        subjects = np.flatnonzero(self.sel(rel.selector) & ~self.kinds("tree")).tolist()
        targets = np.flatnonzero(self.sel(rel.target)).tolist()
        out: dict[tuple[str, ...], Clause] = {}
        for t in targets:
            tobj = self.objs[t]
            if rel.part == "root-zone":
                if tobj.root_radius is None or tobj.root_depth is None:
                    continue
                x = self.x(t)
                zone = (x - tobj.root_radius, x + tobj.root_radius, Lin(), Lin(const=tobj.root_depth))
            else:
                zone = self.box(t)
            for s in subjects:
                if not exclusion_applies(self.objs, self.rack_of, s, t):
                    continue
                ls, rs, ts, bs = self.box(s)
                lz, rz, tz, bz = zone
                part = rel.part
                out[self.key(s, t)] = [[Row(lz - rs - margin, magnitude, ("L", s, "edge", t, part, margin))],
                                       [Row(ls - rz - margin, magnitude, ("L", t, part, s, "edge", margin))],
                                       [Row(tz - bs - margin, magnitude, ("A", s, "edge", t, part, margin))],
                                       [Row(ts - bz - margin, magnitude, ("A", t, part, s, "edge", margin))]]
        return out

    def r_access(self, rel: ast.Access, limit: float | None) -> dict[tuple[str, ...], Clause]:
        width = rel.width.value if limit is None else limit
        out: dict[tuple[str, ...], Clause] = {}
        for i in np.flatnonzero(self.sel(rel.selector) & ~self.kinds("crossing", "tree", "reservation")).tolist():
            sides = rel.sides
            if sides == "declared":
                sides = "both" if self.objs[i].sides == "double" else "one"
            li, ri, _, bi = self.box(i)
            depth = Lin(const=rel.depth.value) if rel.depth is not None else bi
            ignore = {int(j) for j in np.flatnonzero((self.rack_of == i) | self.kinds("crossing", "reservation"))}
            # with one side required, a binary picks it; the other side's rows are switched off
            gate = {-1: Lin(), 1: Lin()}
            if sides != "both":
                pick = self.m.var(0.0, 1.0, 0.0, True)
                gate = {-1: (1.0 - pick) * self.big, 1: pick * self.big}
            room = {-1: li - width, 1: self.s.width - ri - width}
            base = self.key(i)
            out[base] = [[Row(room[side] + gate[side], True) for side in (-1, 1)]]
            for j in range(len(self.objs)):
                if j == i or j in ignore:
                    continue
                lj, rj, tj, _ = self.box(j)
                beside = {-1: (lj - li, li - rj - width), 1: (ri - rj, lj - ri - width)}
                for side in (-1, 1):
                    behind, free = beside[side]
                    out[base + (f"{self.objs[j].id}@{side}",)] = [
                        [Row(tj - depth + gate[side], False)], [Row(behind + gate[side], False)],
                        [Row(free + gate[side], True)]]
        return out

    def r_capacity(self, rel: ast.Capacity, limit: float | None) -> dict[tuple[str, ...], Clause]:
        lim = rel.limit.value if limit is None else limit
        chosen = np.flatnonzero(self.sel(rel.selector) & ~self.kinds("crossing", "tree", "reservation")).tolist()
        out: dict[tuple[str, ...], Clause] = {}
        for k, zone in enumerate(self.s.zones):
            if zone.kind not in rel.kinds:
                continue
            total = Lin()
            members = []
            for i in chosen:
                y = self.zones_of(i).get(k)
                if y is None:
                    continue
                members.append(i)
                total = total + y * (1.0 if rel.measure == "count" else 2.0 * float(self.f.hw[i]))
            if members:
                out[self.key(*members) + (f"@{k}",)] = [[Row(lim - total, True)]]
        return out

    def r_crosspermission(self, rel: ast.CrossPermission, limit: float | None) -> dict[tuple[str, ...], Clause]:
        allowed = self.sel(rel.allowed)
        out: dict[tuple[str, ...], Clause] = {}
        i, j = _pairs(self.kinds("crossing"), self.sel(rel.target) & ~self.kinds("crossing"))
        for c, t in zip(i.tolist(), j.tolist(), strict=True):
            if allowed[c]:
                continue
            cr = self.objs[c]
            lt, rt, _, _ = self.box(t)
            tol = TOLERANCE
            out[self.key(c, t)] = [[Row((cr.start or 0.0) + tol - rt, False)], [Row(lt - (cr.end or 0.0) + tol, False)]]
        return out

    def r_bounds(self, rel: ast.Bounds, limit: float | None) -> dict[tuple[str, ...], Clause]:
        out: dict[tuple[str, ...], Clause] = {}
        chosen = self.sel(rel.selector)
        if rel.what == "profile":
            for i in np.flatnonzero(chosen).tolist():
                left, right, _, _ = self.box(i)
                out[self.key(i)] = [[Row(left, True), Row(self.s.width - right, True)]]
            return out
        assert rel.limit is not None
        lim = rel.limit.value if limit is None else limit
        for i in np.flatnonzero(chosen & ~self.kinds("tree")).tolist():
            _, _, _, bottom = self.box(i)
            out[self.key(i)] = [[Row(lim - bottom, True)]]
        return out

    def add_overlaps(self) -> None:
        """Forbid physical overlap between bodies (never negotiable)."""
        physical = ~self.kinds("tree", "reservation")
        i, j = _pairs(physical, physical)
        for a, b in zip(i.tolist(), j.tolist(), strict=True):
            if self.rack_of[a] == b or self.rack_of[b] == a or not (self.movable(a) or self.movable(b)):
                continue
            if self.unit_of[a] >= 0 and self.unit_of[a] == self.unit_of[b]:
                continue
            if self.f.crossing[a] or self.f.crossing[b]:
                c, o = (a, b) if self.f.crossing[a] else (b, a)
                if self.f.crossing[o]:
                    continue
                self.clause(self.key(c, o), self._crossing(c, o, 0.0), OVERLAP, None, None)
            else:
                self.clause(self.key(a, b), self._separate(a, b, "edge", "edge", "shortest", 0.0), OVERLAP, None, None)


@dataclass(frozen=True, slots=True)
class _Pending:
    """A disjunction waiting to be added: its rule, the alternatives that can hold, their shared sides."""

    rule: str
    alive: list[list[Lin]]
    keys: list[Side | None]


def _implies(a: list[list[Lin]], b: list[list[Lin]]) -> bool:
    """Tell whether disjunction `a` holding forces `b` to hold: each alternative of a implies one of b.

    An alternative implies another when each row of the other has a row in it over the same
    variables with the same coefficients and a constant no larger (`e + c1 >= 0` gives `e + c2 >= 0`
    for c2 >= c1). Rows relaxed by a rule's slack carry its slack variable, so they imply only rows
    relaxed by the same slack.
    """
    def alt_implies(x: list[Lin], y: list[Lin]) -> bool:
        return all(any(r.coef == q.coef and r.const <= q.const + 1e-12 for r in x) for q in y)

    return all(any(alt_implies(x, y) for y in b) for x in a)


def _mirror(side: Side) -> Side:
    """Return the opposite relative position (j left of i for i left of j), same references and distance."""
    what, i, ref_i, j, ref_j, d = side
    return (what, j, ref_j, i, ref_i, d)


def _window(centre: float, radius: float, lo: float, hi: float) -> tuple[float, float]:
    """Return [centre - radius, centre + radius] clipped to [lo, hi] (never empty)."""
    a = min(max(lo, centre - radius), hi)
    b = max(min(hi, centre + radius), a)
    return a, b


def _pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return all index pairs (i in a, j in b, i != j), each unordered pair once (as the engine does)."""
    ia, ib = np.flatnonzero(a), np.flatnonzero(b)
    if len(ia) == 0 or len(ib) == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    mi, mj = np.meshgrid(ia, ib, indexing="ij")
    gi, gj = mi.ravel(), mj.ravel()
    keep = gi != gj
    both = a[gi] & b[gi] & a[gj] & b[gj]
    keep &= ~both | (gi < gj)
    return gi[keep], gj[keep]


def problem(section: Section, engine: Engine, start: dict[str, tuple[float, float]] | None = None,
            allowed: dict[str, frozenset[int]] | None = None) -> Problem:
    """Prepare a section for the solver: the rules in force, start positions, zones each unit may use."""
    rules = tuple(cr.pack_rule for cr in engine.rules_for(section))
    return Problem(section, engine.packs, rules, start or {}, allowed or {})


def _build(p: Problem, rules: Iterable[PackRule], slack: bool, radius: float | None = None) -> _Builder:
    """Return the model of a problem over the given rules, optionally within a trust region."""
    return _Builder(p, rules, slack, radius)


def _interior(b: _Builder, sol: np.ndarray) -> bool:
    """Tell whether no unit of a trust-region solution presses against the region's edge."""
    if b.radius is None:
        return True
    for u in b.units:
        for var in (b.X[u], b.C[u]):
            (k,) = var.coef
            lo, hi = b.m.lb[k], b.m.ub[k]
            value = sol[k]
            # an edge that is the profile's own bound does not count
            full = b.p.section.width if var is b.X[u] else b.depth_max
            hw = float(b.f.hw[u])
            if (value - lo < 1e-3 and lo > 1e-9 + hw) or (hi - value < 1e-3 and hi < full - 1e-3 - hw):
                return False
    return True


def _solve_hard(p: Problem) -> tuple[_Builder, np.ndarray | None]:
    """Solve with every rule strict, in growing trust regions, the last one the whole profile."""
    for radius in TRUST_RADII:
        b = _build(p, p.rules, slack=False, radius=radius)
        # movement is minimised to within MOVE_GAP: the last centimetres are not worth seconds
        sol = b.m.solve(gap=MOVE_GAP)
        if sol is not None and _interior(b, sol):
            return b, sol
    return b, sol


def _placed(b: _Builder, sol: np.ndarray) -> tuple[Section, tuple[Move, ...]]:
    """Return the section with every unit at its solved position, and the moves."""
    new: dict[str, tuple[float, float]] = {}
    moves = []
    for u in b.units:
        o = b.objs[u]
        x = round(float(b.X[u].value(sol)), 4)
        c = round(float(b.C[u].value(sol)), 4)
        dx, dz = x - o.x, c - o.cover
        for i in range(len(b.objs)):
            if b.unit_of[i] == u:
                oi = b.objs[i]
                new[oi.id] = (round(oi.x + dx, 4), round(oi.cover + dz, 4))
        if abs(dx) > EPS or abs(dz) > EPS:
            moves.append(Move(o.id, x, c, round(dx, 4), round(dz, 4)))
    objects = tuple(replace(o, x=new[o.id][0], cover=new[o.id][1]) if o.id in new else o for o in b.objs)
    return replace(b.s, objects=objects), tuple(moves)


def _deviations(b: _Builder, sol: np.ndarray) -> tuple[Deviation, ...]:
    """Return the deviations a slack solution used, amounts rounded up to whole millimetres."""
    out = []
    for rule_id, (amount, waive, pr) in sorted(b.slacks.items()):
        rule = pr.rule
        weight = (rule.negotiability or 0.0) * SEVERITY_WEIGHT.get(rule.severity, 1.0)
        rel = rule.alternatives[0].relation
        required, op, unit = _limit(rel)
        if waive is not None and waive.value(sol) > 0.5:
            out.append(Deviation(rule_id, pr.pack.name, rule.source, op, required, None, unit, weight))
            continue
        if amount is None:
            continue
        s = amount.value(sol)
        if s <= EPS or required is None:
            continue
        step = math.ceil(s * 1000.0 - 1e-6) / 1000.0
        to = required - step if op == ">=" else required + step
        out.append(Deviation(rule_id, pr.pack.name, rule.source, op, required, round(to, 4), unit, weight * step))
    return tuple(out)


def _limit(rel: ast.Relation) -> tuple[float | None, str, str]:
    """Return a relation's limit, operator and unit (None for relations without a magnitude)."""
    if isinstance(rel, (ast.Cover, ast.Clearance, ast.CrossingClearance)):
        return rel.limit.value, rel.op, "m"
    if isinstance(rel, ast.Access):
        return rel.width.value, ">=", "m"
    if isinstance(rel, ast.Capacity):
        return rel.limit.value, "<=", "m" if rel.measure == "width" else "count"
    if isinstance(rel, ast.Bounds):
        if rel.limit is None:
            return 0.0, ">=", "m"
        return rel.limit.value, "<=", "m"
    if isinstance(rel, ast.Exclusion) and rel.limit is not None:
        return rel.limit.value, ">=", "m"
    return None, "", ""


def feasible(p: Problem, rules: Iterable[PackRule]) -> bool:
    """Tell whether the planned objects can be placed with every given rule held strictly."""
    b = _build(p, rules, slack=False)
    return b.m.solve() is not None


def conflict_set(p: Problem) -> tuple[str, ...]:
    """Return a minimal set of rule ids that together admit no layout (deletion filtering)."""
    keep = list(p.rules)
    if feasible(p, keep):
        return ()
    k = 0
    while k < len(keep):
        trial = keep[:k] + keep[k + 1:]
        if not feasible(p, trial):
            keep = trial
        else:
            k += 1
    return tuple(sorted({pr.rule.id for pr in keep})) or (OVERLAP,)


def _solve_slack(p: Problem, forbid: tuple[str, ...] = ()) -> tuple[_Builder, np.ndarray] | None:
    """Solve with slack: the cheapest deviations first, then the least movement with them fixed."""
    b = _build(p, p.rules, slack=True)
    if forbid:
        total = Lin()
        for rid in forbid:
            # a rule deviates when any of its flags is set; one flag per rule is enough for the cut
            for f in b.flags.get(rid, [])[:1]:
                total = total + f
        # no-good cut: not every rule of the forbidden set may deviate again
        b.m.ge(float(len(forbid) - 1) - total, "alternative")
    move_cost = list(b.m.cost)
    moving = set(b.move_vars)
    b.m.cost = [0.0 if k in moving else c for k, c in enumerate(move_cost)]
    sol = b.m.solve()
    if sol is None:
        return None
    # phase 2: keep every deviation no larger than found, minimise movement
    for amount, waive, _ in b.slacks.values():
        for var in (amount, waive):
            if var is not None:
                (k,) = var.coef
                b.m.ub[k] = float(sol[k]) + 1e-7 if b.m.integer[k] == 0 else round(float(sol[k]))
    b.m.cost = [c if k in moving else 0.0 for k, c in enumerate(move_cost)]
    sol2 = b.m.solve()
    return (b, sol2 if sol2 is not None else sol)


def layout(section: Section, engine: Engine, start: dict[str, tuple[float, float]] | None = None,
           alternatives: bool = True, allowed: dict[str, frozenset[int]] | None = None,
           explain: bool = True, minimal: bool = True) -> Layout:
    """Place the planned objects so every rule holds, or find the cheapest deviations that admit them.

    Without `explain`, an infeasible section returns at once (no deviations, no conflict set);
    without `minimal`, the deviations come without the minimal conflicting set.
    """
    p = problem(section, engine, start, allowed)
    b, sol = _solve_hard(p)
    if sol is not None:
        new, moves = _placed(b, sol)
        found = tuple(f for f in engine.evaluate(new) if counts(f))
        return Layout(new, moves, (), (), (), found, float(sum(abs(m.dx) + abs(m.dz) for m in moves)),
                      b.m.timed_out, b.m.gap, b.m.solver_error)
    if not explain:
        return Layout(None, (), (), (), (), (), math.inf, b.m.timed_out, b.m.gap, b.m.solver_error)
    conflict = conflict_set(p) if minimal else ()
    got = _solve_slack(p)
    if got is None:
        return Layout(None, (), (), conflict, (), (), math.inf, b.m.timed_out, b.m.gap, b.m.solver_error)
    b, sol = got
    deviations = _deviations(b, sol)
    new, moves = _placed(b, sol)
    relaxed = Engine(apply_deviations(engine.packs, deviations), today=_today(engine))
    found = tuple(f for f in relaxed.evaluate(new) if counts(f))
    alternative: tuple[Deviation, ...] = ()
    if alternatives and deviations:
        other = _solve_slack(p, tuple(d.rule for d in deviations))
        if other is not None:
            alternative = _deviations(*other)
    return Layout(new, moves, deviations, conflict, alternative, found, sum(d.cost for d in deviations),
                  b.m.timed_out, b.m.gap, b.m.solver_error)


def _today(engine: Engine) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(engine.today)


def apply_deviations(packs: PackSet, deviations: Iterable[Deviation]) -> PackSet:
    """Return the pack set with each deviated rule's limit moved (or the rule waived)."""
    by_rule = {d.rule: d for d in deviations}
    rules = []
    for pr in packs.rules:
        d = by_rule.get(pr.rule.id)
        if d is None:
            rules.append(pr)
            continue
        if d.to is None:
            continue
        reqs = tuple(replace(req, relation=_relimit(req.relation, d.to)) for req in pr.rule.alternatives)
        rules.append(PackRule(replace(pr.rule, alternatives=reqs), pr.pack))
    return replace(packs, rules=tuple(rules))


def _relimit(rel: ast.Relation, to: float) -> ast.Relation:
    """Return a relation with its limit set to `to` (metres, or a count)."""
    if isinstance(rel, (ast.Cover, ast.Clearance, ast.CrossingClearance, ast.Capacity)):
        return replace(rel, limit=replace(rel.limit, value=to, text=f"{to:g}"))
    if isinstance(rel, ast.Access):
        return replace(rel, width=replace(rel.width, value=to, text=f"{to:g}"))
    if isinstance(rel, (ast.Bounds, ast.Exclusion)) and rel.limit is not None:
        return replace(rel, limit=replace(rel.limit, value=to, text=f"{to:g}"))
    return rel


def start_from_standard(section: Section, packs: PackSet) -> dict[str, tuple[float, float]]:
    """Return the NEN 7171 reference positions of the section's planned units as start positions."""
    from nen7171.reference import Line, reference_layout

    zones = [(z.kind, z.start, z.end) for z in section.zones]
    lines = [Line(o.id, o.network or "overig", 2 * o.half_width, o.body_height) for o in section.objects
             if o.status == "planned" and o.kind in ("cable", "pipe") and o.network is not None
             and not any(o.id in r.holds for r in section.objects)]
    return dict(reference_layout(zones, lines, packs))


def write_case(source: Path, result: Layout, out: Path) -> None:
    """Write the case file with the solved positions (x and cover in metres) of the moved units."""
    if result.section is None:
        raise LiggingError(Diagnostic(Span(str(source), 1, 1), "no layout to write: the rules admit none"))
    data = yaml.safe_load(source.read_text(encoding="utf-8"))
    by_id = result.section.by_id()
    moved = {m.id for m in result.moves}
    moved |= {held for m in result.moves for held in by_id[m.id].holds}
    unit = data.get("units", "m")
    for entry in data.get("objects", []):
        o = by_id.get(str(entry.get("id")))
        if o is None or o.id not in moved:
            continue
        entry["x"] = o.x if unit == "m" else f"{o.x:g} m"
        entry["cover"] = o.cover if unit == "m" else f"{o.cover:g} m"
    out.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110), encoding="utf-8")


def report(console: Console, result: Layout, title: str) -> None:
    """Print a layout: the moves as a table, deviations with their sources, the conflict and the alternative."""
    console.print(Text(title, style="bold underline"))
    if result.timed_out:
        bound = f" (at most {result.gap:.0%} more than the least possible)" if result.gap is not None else ""
        console.print(Text(f"  stopped at the {TIME_LIMIT:g} s time limit: "
                           + (f"the layout holds every rule but is not proven to move the least{bound}"
                              if result.feasible else "no layout found in time (not proven impossible)"),
                           style="yellow"))
    if result.solver_error:
        console.print(Text("  the MILP solver (HiGHS) reported a numerical failure on part of the model; "
                           "the result is not proven", style="yellow"))
    if not result.feasible and not (result.timed_out or result.solver_error):
        console.print(Text("  no layout: the fixed rules conflict", style="bold red"))
    elif not result.moves:
        console.print(Text("  every planned object can stay where it is", style="green"))
    else:
        table = Table(box=None, padding=(0, 2))
        for head in ("object", "x", "cover", "dx", "dz"):
            table.add_column(head, justify="left" if head == "object" else "right")
        for m in result.moves:
            table.add_row(m.id, fixed(m.x), fixed(m.cover), fixed(m.dx, signed=True), fixed(m.dz, signed=True))
        console.print(table)
    if result.deviations:
        console.print(Text("  deviations needed (cheapest set):", style="yellow"))
        for d in result.deviations:
            console.print(Text(f"    {d.describe()}"))
    if result.conflict:
        console.print(Text(f"  conflicting rules (minimal set): {', '.join(result.conflict)}", style="yellow"))
    if result.alternative:
        console.print(Text("  next-best deviation set:", style="dim"))
        for d in result.alternative:
            console.print(Text(f"    {d.describe()}", style="dim"))
    for f in result.findings:
        console.print(Text(f"  remaining: {f.rule} [{f.kind}] {', '.join(f.subjects)}: {f.message}", style="red"))
