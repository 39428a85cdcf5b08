"""The layout solver: place the planned objects so every rule holds, or say which deviations it takes.

A section and the rules in force become a mixed-integer linear programme, solved by HiGHS
(highspy: it takes a start solution and says whether the one it returns is feasible; every
vector it returns is checked against the rows all the same). Each movable unit — a planned
cable, pipe, container or rack (a rack carries its contents) — gets a continuous axis `x`
and cover; existing objects, crossings, trees, structures and reservations stay where they
are, and so does whatever a `keep` rule keeps (a gravity sewer's depth). Each unit lies
wholly in one surface zone (a binary per zone), inside the profile and below ground, so zone
rules and the per-zone left-to-right order become linear. Clearances are disjunctions
written with big-M binaries: `horizontal` is "left of or right of by d", `vertical` "above
or below by d", and `shortest` (and physical
non-overlap, which holds whatever packs are loaded) "apart by d horizontally or
vertically", which is never looser than the engine's exact distance; a `<=` clearance is
a conjunction. Alternatives (`otherwise`) are one more disjunction.

What the rules mean decides how they bind. Info rules never constrain. Error rules hold
strictly; warning rules are soft — each subject set gets its own slack, priced against
movement (`SOFT_PRICE` metres of movement per metre short, `SOFT_WAIVER` per waiver, times
the rule's negotiability) — and so is a rule met through its exception (a measure the
objects carry, with the approval it needs). The objective is the L1 movement from the
start positions (the proposal, or the NEN 7171 reference layout) plus those prices. When
no layout holds the error rules, each negotiable error rule gets a slack per subject set
too, weighted by negotiability times severity weight; fixed rules get none. The cheapest
deviations are found first, then the least movement with them. A deviation is scoped:
it names the rule and the subjects it is needed for, and every other subject set is
still held to the rule. Every layout is re-checked with the engine: the deviations it
reports are the findings of that re-check (`RULE a, b (source): required 0.30 m → 0.18 m`),
so accepting exactly those leaves nothing. A minimal conflicting set of error rules
(deletion filtering) and the next-best deviation set (the cheapest one forbidden) explain
a section that needs deviations.

Solving is staged so that the answer is proven where it can be and never lost to the clock
(`_solve_firm`): any layout first, then, because a cheaper layout moves no unit further than
that one costs, a model that keeps units that close to their starts, which falls apart into
groups that cannot meet (the two sides of a street); each group is optimised on its own,
warm-started. A solve stopped by the time limit keeps its best layout and reports a gap that
holds for the whole street; a stopped solve with nothing found says so and is never read as
"the rules conflict".
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from rich.text import Text

from checker.engine.evaluate import Engine, exclusion_applies
from checker.engine.select import Predicate, compile_selector, in_service, mask, paired
from checker.io.case_edit import EditError, add_accept, move_object, read_case_text, remove_expect, validate
from checker.model import geometry as geo
from checker.model.findings import Finding, counts
from checker.model.numbers import fixed
from checker.model.section import TOLERANCE, Accepted, Section
from checker.model.zoning import in_zone
from dsl import ast
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import PackRule, PackSet
from nen7171.zones import UNKNOWN_ZONE, side_runs, utility_zones

SEVERITY_WEIGHT = {"error": 10.0, "warning": 3.0, "info": 1.0}
MOVABLE_KINDS = ("cable", "pipe", "container", "rack")
OVERLAP = "LIG-OVERLAP"
MAX_SLACK = 10.0
EPS = 1e-6
TIME_LIMIT = 8.0
# a limit on branch-and-bound nodes per solve: a stop that does not depend on how busy the machine is (tests)
NODE_LIMIT: int | None = None
# an error rule's deviation of whole metres is priced against movement of centimetres: deviate only when
# moving cannot help
DEVIATION_PRICE = 1000.0
# a warning is soft: a metre short weighs as SOFT_PRICE metres of movement (a centimetre as 10 cm), a
# waiver (order, zone) as SOFT_WAIVER metres, each times the rule's negotiability; a rule met through
# its exception (a measure, with approval) is priced the same way
SOFT_PRICE = 10.0
SOFT_WAIVER = 2.0
# how the rules bind: every rule strict (is there a layout at all?), errors strict and warnings soft
# (the layout), or negotiable errors relaxed too (the cheapest deviations)
STRICT, FIRM, SLACK = "strict", "firm", "slack"
# trust regions (metres of movement) tried in turn; None is the whole profile
MOVE_GAP = 0.02
TRUST_RADIUS = 0.75


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
    """A rule relaxed for some subjects so the section fits: to the value measured, or waived (no magnitude).

    `subjects` is the place: every other subject set is still held to the rule. `severity`
    is the finding's (a rule met through its exception reads as a warning); `exception` names
    the measure and whose approval it needs when that is how the rule is met.
    """

    rule: str
    pack: str
    source: str
    op: str
    required: float | None
    to: float | None
    unit: str
    cost: float
    subjects: tuple[str, ...] = ()
    severity: str = "error"
    exception: str = ""

    def describe(self) -> str:
        """Say the deviation as an engineer reads it: `RULE a, b (source): required >= 0.30 m → 0.18 m`."""
        where = f" {', '.join(self.subjects)}" if self.subjects else ""
        via = f"; {self.exception}" if self.exception else ""
        if self.to is None or self.required is None:
            return f"{self.rule}{where} ({self.source}): waived{via}"
        unit = f" {self.unit}" if self.unit != "count" else ""
        return (f"{self.rule}{where} ({self.source}): required {self.op} {self.required:.2f}{unit} → "
                f"{self.to:.2f}{unit}{via}")


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


def unplaced(rule: ast.Rule) -> str:
    """Name what the rule language's second edition lets a rule say that the layout model does not place yet ('' if none).

    Placing these would be silently wrong (a threshold read as its constant part, a joined
    relation dropped), so the layout refuses the rule instead of laying out around it.
    """
    found: list[str] = []
    for req in rule.alternatives:
        if req.also and len(rule.alternatives) > 1:
            found.append("relations joined with `and` next to `otherwise`")
        if any(exc.relations and exc.approver for exc in req.exceptions):
            found.append("a geometric exception that needs approval")
        relations = [*req.relations, *(r for exc in req.exceptions for r in exc.relations)]
        for rel in relations:
            limit = getattr(rel, "limit", None)
            if isinstance(rel, ast.Position) and rel.op != ">=":
                found.append(f"`{rel.direction} … {rel.op}`")
            if isinstance(limit, ast.Quantity) and limit.terms:
                found.append("a threshold from the objects' dimensions")
            if isinstance(rel, ast.Capacity) and rel.place != "zones":
                found.append(f"`in any {rel.place}`")
            sides = (rel.a, rel.b) if isinstance(rel, (ast.Clearance, ast.Position)) else ()
            if any(isinstance(side.selector, ast.SelName) and side.selector.name in ast.REFERENCE_LINES for side in sides):
                found.append("a reference line (facade, far-edge)")
    return ", ".join(dict.fromkeys(found))


class _Unplaceable(Exception):
    """A relation met something on this section that the layout model cannot place (named in the message)."""


def _both(first: Clause, second: Clause) -> Clause:
    """Return the clause that holds where both clauses hold (each is a disjunction of conjunctions)."""
    return [a + b for a in first for b in second]


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
    bound: float = -math.inf
    objective: float = math.inf

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

    def matrix(self) -> tuple[Any, np.ndarray, np.ndarray]:
        """Return the rows as a sparse matrix, their lower sides, and the part of each column then each row.

        Variables that share a row belong to one part; parts share nothing and are solved apart.
        """
        from scipy.sparse import coo_array
        from scipy.sparse.csgraph import connected_components

        n = len(self.lb)
        r, c, v = [], [], []
        for k, row in enumerate(self.rows):
            for i, val in row.coef.items():
                r.append(k)
                c.append(i)
                v.append(val)
        a = coo_array((v, (r, c)), shape=(len(self.rows), n)).tocsr()
        lo = np.array([-row.const for row in self.rows])
        link = coo_array((np.ones(len(c)), (np.array(r, dtype=np.intp) + n, np.array(c, dtype=np.intp))),
                         shape=(n + len(self.rows), n + len(self.rows)))
        _, label = connected_components(link, directed=False)
        return a, lo, label

    def part_costs(self, x: np.ndarray) -> dict[int, float]:
        """Return the objective of a solution per part of the model (a column in no row is a part of its own)."""
        label = self.matrix()[2][: len(self.lb)]
        out: dict[int, float] = {}
        for k, value in zip(label.tolist(), (np.array(self.cost) * x).tolist(), strict=True):
            out[k] = out.get(k, 0.0) + value
        return out

    def solve(self, time_limit: float | None = None, gap: float = 1e-4, start: np.ndarray | None = None
              ) -> np.ndarray | None:
        """Solve; return the solution vector, or None when infeasible or nothing was found in time.

        The model falls apart into independent parts (the two sides of a street, say) once
        the bounds keep them from meeting; each part is solved on its own, which HiGHS does
        not do for itself. `start` is a layout known to hold (the trust region's): each
        part starts from it, so a solve cut short by the time limit still has it. Whatever
        HiGHS returns is checked against every row before it is believed. Afterwards `bound`
        is the proven least objective, `gap` how far the solution may be above it, and
        `timed_out` whether the limit stopped a part.
        """
        self.bound = -math.inf
        self.objective = math.inf
        if self.broken:
            return None
        n = len(self.lb)
        lb, ub, cost = np.array(self.lb), np.array(self.ub), np.array(self.cost)
        x = np.where(cost >= 0, lb, ub).astype(float)
        if not self.rows:
            self.bound = self.objective = float(cost @ x)
            return x
        a, lo, label = self.matrix()
        deadline = _clock() + (TIME_LIMIT if time_limit is None else time_limit)
        integer = np.array(self.integer, dtype=bool)
        bound = objective = 0.0
        for part in np.unique(label[n:]):
            cols = np.flatnonzero(label[:n] == part)
            rows = np.flatnonzero(label[n:] == part)
            got = _solve_part(a[rows][:, cols].tocsc(), lo[rows], lb[cols], ub[cols], cost[cols], integer[cols],
                              max(0.0, deadline - _clock()), gap, None if start is None else start[cols])
            self.timed_out = self.timed_out or got.timed_out
            self.solver_error = self.solver_error or got.error
            if got.x is None:
                return None
            x[cols] = got.x
            bound += got.bound
            objective += got.objective
        if not _holds(a, lo, lb, ub, integer, x):
            # HiGHS's answer breaks a row: not a layout, whatever its status said
            self.solver_error = True
            return None
        self.bound, self.objective = bound, float(cost @ x)
        self.gap = None
        if math.isfinite(bound) and objective - bound > 1e-9 * max(1.0, abs(objective)):
            self.gap = (objective - bound) / max(abs(objective), 1e-9)
        return x


@dataclass(frozen=True, slots=True)
class _Part:
    """What HiGHS made of one independent part of a model."""

    x: np.ndarray | None
    objective: float
    bound: float
    timed_out: bool
    error: bool


_SILENT: list[bool] = []


def _highs() -> Any:
    """Return a silent HiGHS instance (highspy is imported on first use: most commands never solve)."""
    import highspy

    if _SILENT:
        h = highspy.Highs()
    else:
        # HiGHS writes a banner to the process's stdout when the first solver is made, before any option
        # can silence it; ligging's stdout may be JSON Lines, so the banner goes to /dev/null
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "wb") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _SILENT.append(True)
    h.setOptionValue("output_flag", False)
    return h


def _run(a: Any, lo: np.ndarray, lb: np.ndarray, ub: np.ndarray, cost: np.ndarray, integer: np.ndarray,
         options: dict[str, Any], start: np.ndarray | None) -> tuple[str, np.ndarray | None, float]:
    """Run HiGHS once: return (status name, solution or None, proven lower bound of the objective)."""
    import highspy

    h = _highs()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = len(lb), len(lo)
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = cost, lb, ub
    lp.row_lower_, lp.row_upper_ = lo, np.full(len(lo), highspy.kHighsInf)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = a.indptr, a.indices, a.data
    lp.integrality_ = [highspy.HighsVarType.kInteger if k else highspy.HighsVarType.kContinuous for k in integer]
    h.passModel(lp)
    for key, value in options.items():
        h.setOptionValue(key, value)
    if start is not None:
        sol = highspy.HighsSolution()
        sol.col_value = list(map(float, start))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    status = h.getModelStatus().name
    info = h.getInfo()
    found = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    x = np.array(h.getSolution().col_value, dtype=float) if found else None
    bound = float(info.mip_dual_bound) if integer.any() else float(info.objective_function_value)
    return status, x, bound


def _solve_part(a: Any, lo: np.ndarray, lb: np.ndarray, ub: np.ndarray, cost: np.ndarray, integer: np.ndarray,
                time_limit: float, gap: float, start: np.ndarray | None) -> _Part:
    """Solve one part within the time left; a start that holds is kept when HiGHS finds nothing better in time."""
    if start is not None and not _holds(a, lo, lb, ub, integer, start):
        start = None
    # one thread: the parts are small, and ligging runs its own workers; HiGHS's second thread only competes
    options: dict[str, Any] = {"time_limit": max(time_limit, 1e-3), "mip_rel_gap": gap, "threads": 1}
    if NODE_LIMIT is not None:
        options["mip_max_nodes"] = NODE_LIMIT
    for presolve in ("on", "off"):
        status, x, bound = _run(a, lo, lb, ub, cost, integer, {**options, "presolve": presolve}, start)
        # a solve error is HiGHS giving up on numerics (seen in presolve on models with 1 mm of room), not a
        # proof of infeasibility: solve once more without presolve before believing anything
        if status not in _FAILED:
            break
    timed_out = status in _STOPPED
    error = status in _FAILED
    if x is not None and not _holds(a, lo, lb, ub, integer, x):
        x = None
        error = True
    if x is None and start is not None:
        # the start holds every row: without anything better in time it is the answer; HiGHS calling the part
        # infeasible despite it is a numerical failure
        x = start
        error = error or not timed_out
    if x is None:
        return _Part(None, math.inf, -math.inf, timed_out, error)
    value = float(cost @ x)
    if not math.isfinite(bound):
        bound = -math.inf
    return _Part(x, value, min(bound, value), timed_out, error)


# HiGHS stopped before it proved anything either way: a limit (time, nodes, iterations) or an interrupt
_STOPPED = frozenset({"kTimeLimit", "kIterationLimit", "kSolutionLimit", "kInterrupt", "kHighsInterrupt", "kMemoryLimit"})
_FAILED = frozenset({"kSolveError", "kPresolveError", "kPostsolveError", "kUnknown", "kLoadError", "kModelError"})


def _holds(a: Any, lo: np.ndarray, lb: np.ndarray, ub: np.ndarray, integer: np.ndarray, x: np.ndarray,
           tol: float = 1e-6) -> bool:
    """Tell whether a vector meets every row, bound and integrality of a model (within a solver's tolerance)."""
    if len(x) != len(lb) or not np.all(np.isfinite(x)):
        return False
    if np.any(x < lb - tol) or np.any(x > ub + tol):
        return False
    if np.any(np.abs(x[integer] - np.round(x[integer])) > tol):
        return False
    return bool(np.all(a @ x >= lo - tol * np.maximum(1.0, np.abs(lo))))


def _clock() -> float:
    """Return a monotonic clock in seconds (the solver's deadline)."""
    return time.monotonic()


@dataclass(frozen=True, slots=True)
class Problem:
    """A section prepared for modelling: units, start positions, and the rules in force."""

    section: Section
    packs: PackSet
    rules: tuple[PackRule, ...]
    start: dict[str, tuple[float, float]]
    allowed: dict[str, frozenset[int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Relief:
    """The slack of one rule on one subject set: metres (or a count) and a waiver, each priced."""

    amount: Lin | None
    waive: Lin | None
    rule: PackRule
    hard: bool  # an error rule's own deviation (not a warning's softness or an exception's relief)


class _Builder:
    """Build the MILP of one Problem: every rule strict, warnings soft (`FIRM`), or errors relaxed too (`SLACK`)."""

    def __init__(self, problem: Problem, rules: Iterable[PackRule], mode: str,
                 radius: float | dict[str, float] | None = None,
                 at: dict[str, tuple[float, float]] | None = None) -> None:
        self.p = problem
        self.radius = radius
        self.at = at or {}
        self._labels: np.ndarray | None = None
        s = problem.section
        self.s = s
        self.f = geo.frame(s)
        self.m = _Model()
        self.mode = mode
        self.objs = s.objects
        rules = tuple(rules)
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
        # per (rule, subjects): the slack that lets the rule give way there
        self.reliefs: dict[tuple[str, tuple[str, ...]], list[_Relief]] = {}
        self.flags: dict[str, list[Lin]] = {}
        self.sides: dict[Side, Lin] = {}
        self.move_vars: list[int] = []
        self.soft_vars: list[int] = []
        self.slack_ub: dict[int, float] = {}
        self.pending: dict[tuple[str, ...], list[_Pending]] = {}
        self.kept_depth: set[int] = set()
        self.kept_x: set[int] = set()
        self.kept_side: dict[int, frozenset[int]] = {}
        self.banned: dict[int, frozenset[int]] = {}
        # units whose least cover some loaded rule states; any other keeps at least its drawn cover
        self.cover_ruled: set[int] = set()
        for pr in rules:
            if _keeps(pr):
                self.keep(pr)
            else:
                self.ban_zones(pr)
                self.note_cover(pr)
        self._place_units()
        for pr in rules:
            if not _keeps(pr):
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
            allowed = self.p.allowed.get(o.id)
            if u in self.kept_side:
                allowed = self.kept_side[u] if allowed is None else allowed & self.kept_side[u]
            banned = self.banned.get(u, frozenset())
            homes = [k for k, z in enumerate(s.zones) if z.end - z.start + EPS >= 2 * hw
                     and (allowed is None or k in allowed) and k not in banned]
            x_lo, x_hi = hw, max(hw, s.width - hw)
            if homes:
                # the unit lies in one of its zones: its axis stays within their hull, so pairs on the far side of
                # the street are apart within the bounds and need no binaries
                x_lo = max(x_lo, min(s.zones[k].start for k in homes) + hw)
                x_hi = max(x_lo, min(x_hi, max(s.zones[k].end for k in homes) - hw))
            c_lo, c_hi = max(0.0, -lo_top), max(0.0, self.depth_max - hi_bot)
            near = self.radius.get(o.id) if isinstance(self.radius, dict) else self.radius
            if near is not None:
                # a trust region: near the start, so pairs that cannot meet need no binaries
                x_lo, x_hi = _window(x0, near, x_lo, x_hi)
                c_lo, c_hi = _window(c0, near, c_lo, c_hi)
            # what a `keep` rule keeps stays as drawn, wherever the layout starts from
            if u not in self.cover_ruled and o.kind != "rack":
                # without a rule on how shallow it may lie, the drawn cover is the only word on its depth:
                # the advice never lifts a line towards the paving on its own account
                c_lo = min(max(c_lo, o.cover), c_hi)
            if u in self.kept_depth:
                c_lo = c_hi = c0 = o.cover
            if u in self.kept_x:
                x_lo = x_hi = x0 = o.x
            if o.id in self.at:
                # held where an earlier layout put it (another part of the street is being solved)
                x_lo = x_hi = self.at[o.id][0]
                c_lo = c_hi = self.at[o.id][1]
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
            reach = [k for k in homes if s.zones[k].start + hw <= x_hi + EPS and s.zones[k].end - hw >= x_lo - EPS]
            for k in reach:
                z = s.zones[k]
                # one zone within reach needs no binary: the unit lies in it
                y = m.var(0.0, 1.0, 0.0, True) if len(reach) > 1 else Lin(const=1.0)
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

    def zones_of(self, i: int, mode: str = "axis") -> dict[int, Lin]:
        """Return, per zone index, the expression telling whether object i is in that zone (0/1) by `mode`.

        A movable unit lies wholly in one zone, so every mode agrees for it; an object that
        stays where it is answers by the one definition (checker/model/zoning.py).
        """
        u = self.unit_of[i]
        if u >= 0:
            return self.Y[u]
        f, last = self.f, len(self.s.zones) - 1
        left, right, x = float(f.left[i]), float(f.right[i]), float(f.x[i])
        return {k: Lin(const=1.0) for k, z in enumerate(self.s.zones)
                if bool(in_zone(mode, left, right, x, z.start, z.end, k == last, self.s.width))}

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
            pred = compile_selector(in_service(selector), self.p.packs)
            self._preds[key] = pred
        return mask(pred, self.s)

    def kinds(self, *names: str) -> np.ndarray:
        """Return the mask of objects of the given kinds."""
        return np.isin(self.kind, names)

    def groups(self) -> list[frozenset[str]]:
        """Return the units that share a part of the model (through their axis or their cover), smallest group first."""
        part_units: dict[int, set[str]] = {}
        for u in self.units:
            for k in self.unit_parts(u):
                part_units.setdefault(k, set()).add(self.objs[u].id)
        merged: list[set[str]] = []
        for units in part_units.values():
            touching = [g for g in merged if g & units]
            for g in touching:
                merged.remove(g)
                units = units | g
            merged.append(set(units))
        return sorted((frozenset(g) for g in merged), key=lambda g: (len(g), sorted(g)))

    def unit_parts(self, u: int) -> set[int]:
        """Return the parts of the model a unit's axis and cover belong to (see `_Model.matrix`)."""
        if self._labels is None:
            self._labels = self.m.matrix()[2]
        return {int(self._labels[next(iter(var.coef))]) for var in (self.X[u], self.C[u])}

    def movable(self, i: int) -> bool:
        """Tell whether object i moves with a unit."""
        return bool(self.unit_of[i] >= 0)

    # ------------------------------------------------------------------ rules

    def keep(self, pr: PackRule) -> None:
        """Mark the units a `keep depth|position` rule holds as drawn."""
        for req in pr.rule.alternatives:
            rel = req.relation
            assert isinstance(rel, ast.Keep)
            for i in np.flatnonzero(self.sel(rel.selector)).tolist():
                u = int(self.unit_of[i])
                if u < 0:
                    continue
                if rel.what == "side":
                    self.kept_side[u] = side_of(self.s, self.objs[u].x)
                    continue
                self.kept_depth.add(u)
                if rel.what == "position":
                    self.kept_x.add(u)

    def note_cover(self, pr: PackRule) -> None:
        """Record the units a least-cover rule of this pack speaks about."""
        for req in pr.rule.alternatives:
            rel = req.relation
            if isinstance(rel, ast.Cover) and rel.op == ">=":
                for i in np.flatnonzero(self.sel(rel.selector)).tolist():
                    if self.unit_of[i] >= 0:
                        self.cover_ruled.add(int(self.unit_of[i]))

    def binds(self, pr: PackRule, subjects: Iterable[int]) -> bool:
        """Tell whether a rule holds strictly on these subjects in this mode (no softness, deviation or exception)."""
        rule = pr.rule
        if self.mode == STRICT or rule.negotiability is None:
            return True
        if rule.severity == "warning" or (rule.severity == "error" and self.mode == SLACK):
            return False
        measures = {m for i in subjects for m in self.objs[i].measures}
        return not any(set(exc.measures) & measures for req in rule.alternatives for exc in req.exceptions)

    def ban_zones(self, pr: PackRule) -> None:
        """Take the zones a strictly binding zone rule forbids out of each unit's choice before it is modelled."""
        if len(pr.rule.alternatives) != 1:
            return
        rel = pr.rule.alternatives[0].relation
        if not isinstance(rel, ast.ZoneRule):
            return
        kinds = set(rel.kinds)
        bad = frozenset(k for k, z in enumerate(self.s.zones) if (z.kind in kinds) != (rel.mode == "within"))
        for i in np.flatnonzero(self.sel(rel.selector) & ~self.kinds("crossing", "tree")).tolist():
            u = int(self.unit_of[i])
            if u >= 0 and self.binds(pr, (i,)):
                self.banned[u] = self.banned.get(u, frozenset()) | bad

    def add_rule(self, pr: PackRule) -> None:
        """Turn one rule into clauses, keyed by subject set, each with its own slack where the rule may give way."""
        rule = pr.rule
        missing = unplaced(rule)
        if missing:
            raise LiggingError(Diagnostic(rule.span, f"layout cannot place rule {rule.id} yet: it uses {missing}; "
                                                     "`ligging check` judges it"))
        merged: dict[tuple[str, ...], Clause] = {}
        try:
            for req in rule.alternatives:
                for key, clause in self.requirement(req).items():
                    merged.setdefault(key, []).extend(clause)
        except _Unplaceable as exc:
            raise LiggingError(Diagnostic(rule.span, f"layout cannot place rule {rule.id} yet: {exc}; "
                                                     "`ligging check` judges it")) from None
        negotiable = rule.negotiability is not None and self.mode != STRICT
        soft = negotiable and rule.severity == "warning"
        hard = negotiable and rule.severity == "error" and self.mode == SLACK
        ub = _slack_bound(rule)
        for key, clause in sorted(merged.items()):
            if all(self.objs[self.f.index[k]].in_ground for k in key if k in self.f.index):
                continue
            where = _finding_key(key)
            amounts: list[Lin] = []
            waivers: list[Lin] = []
            magnitude = any(r.magnitude for alt in clause for r in alt)
            plain = any(not r.magnitude for alt in clause for r in alt)
            if soft or hard:
                self._relief(pr, where, magnitude, plain, ub, hard, amounts, waivers)
            if self.mode != STRICT:
                self._exception_relief(pr, where, magnitude, plain, ub, amounts, waivers)
            amount = _sum(amounts)
            waive = _sum(waivers)
            self.clause(key, clause, rule.id, amount, waive)

    def _relief(self, pr: PackRule, where: tuple[str, ...], magnitude: bool, plain: bool, ub: float, hard: bool,
                amounts: list[Lin], waivers: list[Lin]) -> None:
        """Give a rule slack on one subject set (shared by the clauses of that set), priced by severity."""
        rule = pr.rule
        neg = rule.negotiability or 0.0
        got = self.reliefs.setdefault((rule.id, where), [])
        mine = next((r for r in got if r.hard == hard and r.rule is pr), None)
        if mine is None:
            amount = waive = None
            if hard:
                weight = neg * SEVERITY_WEIGHT.get(rule.severity, 1.0) * DEVIATION_PRICE
                price, waiver = weight, weight
            else:
                price, waiver = SOFT_PRICE * neg, SOFT_WAIVER * neg
            if magnitude:
                amount = self._slack_var(0.0, ub, price, hard)
                if hard:
                    flag = self.m.var(0.0, 1.0, 0.01 * price, True)
                    self.m.ge(flag * ub - amount, rule.id)
                    self.flags.setdefault(rule.id, []).append(flag)
            if plain:
                waive = self._slack_var(0.0, 1.0, waiver, hard, integer=True)
                if hard:
                    self.flags.setdefault(rule.id, []).append(waive)
            mine = _Relief(amount, waive, pr, hard)
            got.append(mine)
        if mine.amount is not None:
            amounts.append(mine.amount)
        if mine.waive is not None:
            waivers.append(mine.waive)

    def _exception_relief(self, pr: PackRule, where: tuple[str, ...], magnitude: bool, plain: bool, ub: float,
                          amounts: list[Lin], waivers: list[Lin]) -> None:
        """Let a rule give way, at a soft price, where its subjects carry a measure one of its exceptions names."""
        measures = {m for sid in where if sid in self.f.index for m in self.objs[self.f.index[sid]].measures}
        if not measures:
            return
        neg = pr.rule.negotiability if pr.rule.negotiability is not None else 1.0
        for req in pr.rule.alternatives:
            for exc in req.exceptions:
                if not set(exc.measures) & measures:
                    continue
                rel = req.relation
                limit = getattr(rel, "limit", None)
                if exc.limit is not None and magnitude and isinstance(limit, ast.Quantity) \
                        and getattr(rel, "op", ">=") == ">=" and exc.limit.value < limit.value:
                    amounts.append(self._slack_var(0.0, limit.value - exc.limit.value, SOFT_PRICE * neg, False))
                elif exc.limit is None:
                    if magnitude:
                        amounts.append(self._slack_var(0.0, ub, SOFT_PRICE * neg, False))
                    if plain:
                        waivers.append(self._slack_var(0.0, 1.0, SOFT_WAIVER * neg, False, integer=True))
                return

    def _slack_var(self, lo: float, hi: float, cost: float, hard: bool, integer: bool = False) -> Lin:
        """Add a slack variable; soft ones are priced with movement, hard ones before it."""
        var = self.m.var(lo, hi, cost, integer)
        (k,) = var.coef
        self.slack_ub[k] = hi
        if not hard:
            self.soft_vars.append(k)
        return var

    def clause(self, subjects: tuple[str, ...], clause: Clause, rule: str, amount: Lin | None,
               waive: Lin | None) -> None:
        """Queue a disjunction of conjunctions on a subject set, each row relaxed by the rule's slack if it has one."""
        def relax(row: Row) -> Lin:
            if row.magnitude and amount is not None:
                return row.lin + amount
            if not row.magnitude and waive is not None:
                return row.lin + waive * self.big_m(row.lin)
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
                if any(_implies(k.alive, c.alive, self.slack_ub) for k in kept):
                    continue
                kept = [k for k in kept if not _implies(c.alive, k.alive, self.slack_ub)] + [c]
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

    def requirement(self, req: ast.Requirement) -> dict[tuple[str, ...], Clause]:
        """Return the clauses of one requirement: its relations together, or else a geometric exception.

        Relations joined with `and` that judge the same objects must hold together; a geometric
        exception (one without approval, which passes silently) is one more way out for a subject
        set, made of the exception's relations on that set's own objects, whatever racks hold them.
        """
        out: dict[tuple[str, ...], Clause] = {}
        for rel in req.relations:
            for key, clause in self.relation(rel, None).items():
                out[key] = _both(out[key], clause) if key in out else clause
        for exc in req.exceptions:
            if not exc.relations:
                continue
            ways: dict[tuple[str, ...], Clause] = {}
            for rel in exc.relations:
                loose = replace(rel, racks="both") if hasattr(rel, "racks") else rel
                for key, clause in self.relation(loose, None).items():
                    ways[key] = _both(ways[key], clause) if key in ways else clause
            for key in out:
                # the exception's relations judged on the row's objects (at least one set of them)
                inside = [clause for k, clause in ways.items() if set(k) <= set(key)]
                if inside:
                    way = inside[0]
                    for clause in inside[1:]:
                        way = _both(way, clause)
                    out[key] = out[key] + way
        return out

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

    def r_position(self, rel: ast.Position, limit: float | None) -> dict[tuple[str, ...], Clause]:
        lim = rel.limit.value if limit is None else limit
        ia, ib = np.flatnonzero(self.sel(rel.a.selector)), np.flatnonzero(self.sel(rel.b.selector))
        mi, mj = np.meshgrid(ia, ib, indexing="ij")
        i, j = mi.ravel(), mj.ravel()
        keep = (i != j) & self._scope(i, j, rel.racks)
        out: dict[tuple[str, ...], Clause] = {}
        for p, q in zip(i[keep].tolist(), j[keep].tolist(), strict=True):
            crossings = int(self.f.crossing[p]) + int(self.f.crossing[q])
            if crossings == 2 or (crossings and rel.direction == "beside"):
                continue  # a crossing passes a line, it never lies beside it (as the engine judges)
            upper, lower = (p, q) if rel.direction == "above" else (q, p)
            if crossings:
                if rel.a.ref != "edge" or rel.b.ref != "edge":
                    raise _Unplaceable("a position measured at a crossing's axis")
                c, o = (p, q) if self.f.crossing[p] else (q, p)
                above, below, *misses = self._crossing(c, o, lim)
                clause = [above if o == upper else below, *misses]
            elif rel.direction == "beside":
                clause = self._separate(p, q, rel.a.ref, rel.b.ref, "horizontal", lim)
            else:
                ref_up, ref_low = (rel.a.ref, rel.b.ref) if upper == p else (rel.b.ref, rel.a.ref)
                _, _, _, bottom = self.box(upper, ref_up)
                _, _, top, _ = self.box(lower, ref_low)
                clause = [[Row(top - bottom - lim, True, ("A", upper, ref_up, lower, ref_low, lim))]]
            key = self.key(p, q)
            out[key] = _both(out[key], clause) if key in out else clause
        return out

    def _scope(self, i: np.ndarray, j: np.ndarray, racks: str) -> np.ndarray:
        return geo.rack_scope(self.rack_of, i, j, racks)

    def r_clearance(self, rel: ast.Clearance, limit: float | None) -> dict[tuple[str, ...], Clause]:
        lim = rel.limit.value if limit is None else limit
        line_like = ~self.kinds("crossing")
        i, j = _pairs(self.sel(rel.a.selector) & line_like, self.sel(rel.b.selector) & line_like)
        keep = self._scope(i, j, rel.racks)
        i, j = i[keep], j[keep]
        keep = paired(self.objs, i, j, rel.pairing)
        out: dict[tuple[str, ...], Clause] = {}
        for a, b in zip(i[keep].tolist(), j[keep].tolist(), strict=True):
            if rel.op == ">=":
                out[self.key(a, b)] = self._separate(a, b, rel.a.ref, rel.b.ref, rel.plane, lim)
            elif not (self.movable(a) or self.movable(b)):
                continue
            else:
                out[self.key(a, b)] = [self._within(a, b, rel.a.ref, rel.b.ref, rel.plane, lim)]
        return out

    def _within(self, i: int, j: int, ra: str, rb: str, plane: str, d: float) -> list[Row]:
        """Return the rows 'i and j at most d apart' in a plane (one conjunction; shortest read as L1, never looser)."""
        li, ri, ti, bi = self.box(i, ra)
        lj, rj, tj, bj = self.box(j, rb)
        horizontal = [Row(d - (lj - ri), True), Row(d - (li - rj), True)]
        vertical = [Row(d - (tj - bi), True), Row(d - (ti - bj), True)]
        if plane == "horizontal":
            return horizontal
        if plane == "vertical":
            return vertical
        # the engine's shortest distance (exact for circles, boxes and points) is never more than the
        # horizontal plus the vertical distance between the box parts, minus the radii of round parts
        xi, _, zi, _ = self.box(i, "axis")
        xj, _, zj, _ = self.box(j, "axis")
        half: list[tuple[float, float, float]] = []
        for k, ref in ((i, ra), (j, rb)):
            if ref == "axis":
                half.append((0.0, 0.0, 0.0))
            elif self.f.round[k]:
                half.append((0.0, 0.0, float(self.f.hw[k])))
            else:
                half.append((float(self.f.hw[k]), float(self.f.hh[k]), 0.0))
        (wi, hi_, rad_i), (wj, hj, rad_j) = half
        gh = self.m.var(0.0, math.inf)
        gv = self.m.var(0.0, math.inf)
        for row in (gh - (xj - xi) + wi + wj, gh - (xi - xj) + wi + wj):
            self.m.ge(row, "within")
        for row in (gv - (zj - zi) + hi_ + hj, gv - (zi - zj) + hi_ + hj):
            self.m.ge(row, "within")
        return [Row(d + rad_i + rad_j - gh - gv, True)]

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
                keep = a[i] & b[j] & self._scope(i, j, rel.racks)
                for p, q in zip(i[keep].tolist(), j[keep].tolist(), strict=True):
                    lp, rp, _, bp = self.box(p, rel.ref)
                    lq, rq, tq, _ = self.box(q, rel.ref)
                    if rel.direction != "left-to-right":
                        out[self.key(p, q)] = [[Row(tq - bp, False, ("A", p, rel.ref, q, rel.ref, 0.0))]]
                        continue
                    rows: list[Row] = []
                    zp, zq = self.zones_of(p), self.zones_of(q)
                    for k in sorted(set(zp) & set(zq)):
                        z = self.s.zones[k]
                        # from the facade nearer the zone: on the far half of the street p lies right of q
                        mirrored = 0.5 * (z.start + z.end) > half
                        gap = (lp - rq) if mirrored else (lq - rp)
                        side = ("L", q, rel.ref, p, rel.ref, 0.0) if mirrored else ("L", p, rel.ref, q, rel.ref, 0.0)
                        switch = 2.0 - zp[k] - zq[k]
                        if not switch.coef:
                            # both surely lie in zone k: the row is "p before q" itself, a side other rules share
                            rows.append(Row(gap, False, side))
                        else:
                            # switched off unless both lie in zone k
                            rows.append(Row(gap + switch * self.big_m(gap), False))
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
                    kind = self.s.zones[k].kind
                    bad = (kind in kinds) != (rel.mode == "within") and not (rel.mode == "within" and kind == UNKNOWN_ZONE)
                    if bad:
                        rows.append(Row(-y, False))
            else:
                under = {self.s.zones[k].kind for k in self.zones_of(i, rel.membership)}
                ok = under - {UNKNOWN_ZONE} <= kinds if rel.mode == "within" else not (under & kinds)
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
            margin = rel.margin.value if rel.margin is not None else 0.0
            li, ri, _, bi = self.box(i)
            depth = Lin(const=rel.depth.value) if rel.depth is not None else bi
            ignore = {int(j) for j in np.flatnonzero((self.rack_of == i) | self.kinds("crossing", "reservation"))}
            # with one side required, a binary picks it; the other side's rows are switched off
            gate = {-1: Lin(), 1: Lin()}
            if sides == "street":
                # the side away from the facade nearer the drawn position; the other side is switched off
                away = 1 if self.objs[i].x <= 0.5 * self.s.width else -1
                gate = {away: Lin(), -away: Lin(const=self.big)}
            elif sides != "both":
                pick = self.m.var(0.0, 1.0, 0.0, True)
                gate = {-1: (1.0 - pick) * self.big, 1: pick * self.big}
            room = {-1: li - width, 1: self.s.width - ri - width}
            base = self.key(i)
            out[base] = [[Row(room[side] + gate[side], True) for side in (-1, 1)]]
            for j in range(len(self.objs)):
                if j == i or j in ignore:
                    continue
                lj, rj, tj, _ = self.box(j)
                beside = {-1: (lj - li, li - rj - width - margin), 1: (ri - rj, lj - ri - width - margin)}
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
                y = self.zones_of(i, rel.membership).get(k)
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


def _implies(a: list[list[Lin]], b: list[list[Lin]], slack_ub: dict[int, float]) -> bool:
    """Tell whether disjunction `a` holding forces `b` to hold: each alternative of a implies one of b.

    An alternative implies another when each row of the other has a row in it over the same
    variables with the same coefficients and a constant no larger (`e + c1 >= 0` gives `e + c2 >= 0`
    for c2 >= c1). Slack only loosens a row: a row relaxed by slack s <= S implies what the row
    with constant c1 + S implies, and the implied row's own slack can be left out.
    """
    def strip(r: Lin) -> tuple[dict[int, float], float]:
        coef = {k: v for k, v in r.coef.items() if k not in slack_ub}
        loose = sum(v * slack_ub[k] for k, v in r.coef.items() if k in slack_ub and v > 0)
        return coef, loose

    def alt_implies(x: list[Lin], y: list[Lin]) -> bool:
        xs = [(strip(r), r.const) for r in x]
        ys = [(strip(q)[0], q.const) for q in y]
        return all(any(rc == qc and c1 + loose <= c2 + 1e-12 for (rc, loose), c1 in xs) for qc, c2 in ys)

    return all(any(alt_implies(x, y) for y in b) for x in a)


def side_of(section: Section, x: float) -> frozenset[int]:
    """Return the zones on the same side of the carriageway as x (both sides for x under a carriageway).

    A side without a nutsstrook (a quay, a median) has no plots for a line to serve: a line
    drawn there may go to any side.
    """
    every = frozenset(range(len(section.zones)))
    runs = side_runs([z.kind for z in section.zones])
    found = [k for k, z in enumerate(section.zones) if z.start - TOLERANCE <= x <= z.end + TOLERANCE]
    if not found:
        return every
    side = frozenset().union(*(runs[k] for k in found))
    hosts = utility_zones()
    return side if any(section.zones[k].kind in hosts for k in side) else every


def _keeps(pr: PackRule) -> bool:
    """Tell whether a rule is a `keep` rule (it fixes variables instead of adding rows)."""
    return any(isinstance(req.relation, ast.Keep) for req in pr.rule.alternatives)


def _finding_key(key: tuple[str, ...]) -> tuple[str, ...]:
    """Return the subjects a clause's finding names: its key without the sub-clause tags (`id@side`, `@zone`)."""
    return tuple(k for k in key if "@" not in k)


def _slack_bound(rule: ast.Rule) -> float:
    """Return the most a rule's limit may give way: down to zero for minima, MAX_SLACK otherwise."""
    limits = [getattr(req.relation, "limit", None) for req in rule.alternatives]
    if isinstance(rule.alternatives[0].relation, ast.Access):
        limits = [req.relation.width for req in rule.alternatives if isinstance(req.relation, ast.Access)]
    ops = {getattr(req.relation, "op", ">=") for req in rule.alternatives}
    values = [q.value for q in limits if isinstance(q, ast.Quantity)]
    if ops == {">="} and values and min(values) > TOLERANCE:
        return max(values)
    return MAX_SLACK


def _sum(parts: list[Lin]) -> Lin | None:
    """Return the sum of expressions, or None for none."""
    if not parts:
        return None
    total = Lin()
    for part in parts:
        total = total + part
    return total


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
    """Prepare a section for the solver: the rules in force that constrain (info never does), starts, zones."""
    rules = tuple(cr.pack_rule for cr in engine.rules_for(section) if cr.rule.severity != "info")
    return Problem(section, engine.packs, rules, start or {}, allowed or {})


def _build(p: Problem, rules: Iterable[PackRule], mode: str, radius: float | dict[str, float] | None = None,
           at: dict[str, tuple[float, float]] | None = None) -> _Builder:
    """Return the model of a problem over the given rules, optionally within a trust region, some units held."""
    return _Builder(p, rules, mode, radius, at)


def _solve_firm(p: Problem) -> tuple[_Builder, np.ndarray | None]:
    """Solve with the error rules strict and warnings soft: the least movement, proven within MOVE_GAP when time allows.

    1. Any layout: a trust region (every unit within TRUST_RADIUS of its start, or the whole
       profile when nothing fits there) solved for feasibility alone, which HiGHS does in a
       fraction of the time it takes to optimise, then the best positions for the sides it
       chose (a linear programme).
    2. That layout bounds the search: a cheaper one moves no unit further than its cost. With
       every unit kept that close to its start, the units fall into groups that cannot meet
       (the two sides of a street); the least movement is the least of each group, found
       with the other groups held where the layout put them.
    3. Per group, the trust region first: when its least movement there is no more than the
       radius it is the least anywhere (a layout outside moves some unit further). Otherwise
       the group's units are kept within the group's own cost of their starts, and HiGHS
       starts from the layout found.
    A solve the limit stops keeps the best layout it has and says how far from the least it
    may be (the bound holds everywhere: outside each model every layout costs more); a
    timeout is never read as "no layout".
    """
    deadline = _clock() + TIME_LIMIT
    b = _build(p, p.rules, FIRM, radius=TRUST_RADIUS)
    first = _first(b, deadline)
    if first is None and not (b.m.timed_out or b.m.solver_error):
        b = _build(p, p.rules, FIRM)
        first = _first(b, deadline)
    if first is None:
        return b, None
    timed_out, error = b.m.timed_out, b.m.solver_error
    at = _positions(b, first)
    whole = _build(p, p.rules, FIRM, radius={b.objs[u].id: b.m.objective + MOVE_GAP for u in b.units})
    start = _complete(whole, at, deadline)
    if start is None:
        # the layout found lies within its own cost of the starts by construction; only a numerical failure
        # gets here: keep it as it is, not proven the least
        b.m.timed_out, b.m.gap = True, None
        return b, first
    groups = whole.groups()
    bound = 0.0
    for n, group in enumerate(groups):
        share = max(0.0, (deadline - _clock()) / (len(groups) - n))
        got, low, stopped, failed = _solve_group(p, group, at, _clock() + share)
        at.update(got)
        bound += low
        timed_out, error = timed_out or stopped, error or failed
    # every unit where its group put it: the model of the whole street, completed, for the re-check
    sol = _complete(whole, at, deadline)
    if sol is None:
        b.m.timed_out, b.m.gap = True, None
        return b, first
    whole.m.timed_out, whole.m.solver_error = timed_out, error
    whole.m.objective = float(np.array(whole.m.cost) @ sol)
    whole.m.bound = bound
    excess = whole.m.objective - bound
    whole.m.gap = excess / whole.m.objective if math.isfinite(bound) and excess > 1e-9 and whole.m.objective > 0 else None
    return whole, sol


def _solve_group(p: Problem, group: frozenset[str], at: dict[str, tuple[float, float]], deadline: float
                 ) -> tuple[dict[str, tuple[float, float]], float, bool, bool]:
    """Find the least movement of one group of units, the others held: (positions, proven lower bound, stopped, failed)."""
    held = {k: v for k, v in at.items() if k not in group}
    mine = {k: v for k, v in at.items() if k in group}
    b = _build(p, p.rules, FIRM, radius=TRUST_RADIUS, at=held)
    start = _complete(b, at, deadline)
    sol = b.m.solve(time_limit=max(0.0, 0.5 * (deadline - _clock())), gap=MOVE_GAP, start=start) \
        if start is not None else None
    cost = _group_cost(b, group, sol) if sol is not None else math.inf
    if sol is not None and not b.m.timed_out and cost <= TRUST_RADIUS:
        # nothing outside the region can be cheaper: it moves some unit further than the radius
        return _positions(b, sol, group), _group_bound(b, group, sol), False, b.m.solver_error
    if sol is not None:
        mine = _positions(b, sol, group)
    else:
        cost = math.inf
    # the trust region stopping early proves nothing either way; what counts is the next solve
    failed = b.m.solver_error
    here = _build(p, p.rules, FIRM, at=held,
                  radius=None if not math.isfinite(cost) else {k: cost + MOVE_GAP for k in group})
    start = _complete(here, {**held, **mine}, deadline) if mine else None
    got = here.m.solve(time_limit=max(0.0, deadline - _clock()), gap=MOVE_GAP, start=start)
    if got is None:
        return mine, -math.inf, True, failed or here.m.solver_error
    return (_positions(here, got, group), _group_bound(here, group, got), here.m.timed_out,
            failed or here.m.solver_error)


def _positions(b: _Builder, sol: np.ndarray, only: frozenset[str] | None = None) -> dict[str, tuple[float, float]]:
    """Return where a solution puts each unit (axis and cover), optionally only some."""
    return {b.objs[u].id: (float(b.X[u].value(sol)), float(b.C[u].value(sol))) for u in b.units
            if only is None or b.objs[u].id in only}


def _group_cost(b: _Builder, group: frozenset[str], sol: np.ndarray) -> float:
    """Return the objective of the parts of model b that hold the group's units."""
    costs = b.m.part_costs(sol)
    return sum(costs[k] for k in set().union(*(b.unit_parts(u) for u in b.units if b.objs[u].id in group)))


def _group_bound(b: _Builder, group: frozenset[str], sol: np.ndarray) -> float:
    """Return a proven lower bound of the group's objective: its cost less the model's gap (the parts are apart)."""
    slack = b.m.objective - b.m.bound if math.isfinite(b.m.bound) else math.inf
    return _group_cost(b, group, sol) - slack


def _complete(b: _Builder, at: dict[str, tuple[float, float]], deadline: float) -> np.ndarray | None:
    """Return a full solution of model b with every unit at the given position (binaries and slacks follow)."""
    m = b.m
    lb, ub = list(m.lb), list(m.ub)
    for u in b.units:
        where = at.get(b.objs[u].id)
        if where is None:
            continue
        for var, value in ((b.X[u], where[0]), (b.C[u], where[1])):
            (k,) = var.coef
            if value < lb[k] - 1e-7 or value > ub[k] + 1e-7:
                return None
            lb[k] = ub[k] = min(max(value, m.lb[k]), m.ub[k])
    trial = _Model(lb, ub, list(m.cost), list(m.integer), list(m.rows), list(m.broken))
    # with every position fixed the rest follows in a moment; it gets a second even past the deadline, or a
    # layout found would be lost to the clock
    return trial.solve(time_limit=max(1.0, deadline - _clock()), gap=MOVE_GAP)


def _first(b: _Builder, deadline: float) -> np.ndarray | None:
    """Return a layout of model b, found for feasibility first and then placed best for the sides it chose."""
    m = b.m
    trial = _Model(list(m.lb), list(m.ub), [0.0] * len(m.cost), list(m.integer), list(m.rows), list(m.broken))
    found = trial.solve(time_limit=max(0.0, deadline - _clock()), gap=1.0)
    m.timed_out, m.solver_error = trial.timed_out, trial.solver_error
    if found is None:
        return None
    lb, ub = list(m.lb), list(m.ub)
    for k, whole in enumerate(m.integer):
        if whole:
            lb[k] = ub[k] = float(round(found[k]))
    fixed = _Model(lb, ub, list(m.cost), list(m.integer), list(m.rows), list(m.broken))
    placed = fixed.solve(time_limit=max(0.0, deadline - _clock()), gap=MOVE_GAP)
    got = placed if placed is not None else found
    m.objective = float(np.array(m.cost) @ got)
    return got


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
    # a house connection keeps reaching its main: its end there moves along (the file is written the same way)
    was = {o.id: o for o in b.objs}
    objects = tuple(o.following(was[o.connects].x, new[o.connects][0] - was[o.connects].x,
                                new[o.connects][1] - was[o.connects].cover)
                    if o.kind == "crossing" and o.connects in new and o.id not in new else o for o in objects)
    return replace(b.s, objects=objects), tuple(moves)


def _recheck(engine: Engine, b: _Builder, sol: np.ndarray, new: Section
             ) -> tuple[tuple[Deviation, ...], tuple[Finding, ...]]:
    """Re-check a solved layout: the findings the model let through are its deviations; any other is left over.

    Info findings never count. A finding is a deviation when the model gave its rule slack on
    exactly its subjects (or an exception's relief); the deviation carries the measured value,
    so accepting it (`accepting`) makes the re-check come out clean.
    """
    deviations: list[Deviation] = []
    left: list[Finding] = []
    for f in engine.evaluate(new):
        if not counts(f) or f.severity == "info":
            continue
        reliefs = b.reliefs.get((f.rule, f.subjects), [])
        used = [r for r in reliefs if _used(r, sol)]
        if not used and not f.exception:
            left.append(f)
            continue
        pr = next((r.rule for r in reliefs), None) or engine.packs.find(f.rule)[0]
        rule = pr.rule
        weight = (rule.negotiability or 0.0) * (SEVERITY_WEIGHT.get(rule.severity, 1.0) * DEVIATION_PRICE
                                               if any(r.hard for r in used) else SOFT_PRICE)
        short = f.shortfall
        cost = weight * (short if short is not None else 1.0)
        via = ""
        if f.exception:
            got = dict(f.exception)
            via = f"met through {got.get('measure', '')}, approval of {got.get('approval', '')}"
        deviations.append(Deviation(f.rule, f.pack, f.source, f.op if f.measured is not None else "", f.required,
                                    f.measured, f.unit, round(cost, 6), f.subjects, f.severity, via))
    return tuple(deviations), tuple(left)


def _used(r: _Relief, sol: np.ndarray) -> bool:
    """Tell whether a relief's slack is in use in a solution."""
    return any(v is not None and v.value(sol) > EPS for v in (r.amount, r.waive))


def accepting(section: Section, deviations: Iterable[Deviation]) -> Section:
    """Return the section with each deviation recorded as granted for exactly its subjects and value."""
    span = Span(section.path, 1, 1)
    extra = tuple(Accepted(d.rule, d.subjects, "layout deviation", "layout", "9999-12-31", d.to, span)
                  for d in deviations)
    return replace(section, accept=section.accept + extra)


def feasible(p: Problem, rules: Iterable[PackRule]) -> bool:
    """Tell whether the planned objects can be placed with every given rule held strictly."""
    b = _build(p, rules, STRICT)
    return b.m.solve() is not None


def _hard(p: Problem) -> list[PackRule]:
    """Return the rules a layout must hold without deviation: errors, fixed warnings, `keep` rules."""
    return [pr for pr in p.rules if pr.rule.severity == "error" or pr.rule.negotiability is None or _keeps(pr)]


def conflict_set(p: Problem) -> tuple[str, ...]:
    """Return a minimal set of rule ids that together admit no layout (deletion filtering over the hard rules)."""
    # rules tried for removal first are the likelier to leave the set: what keeps a design as drawn (a rack's
    # depth) goes last, so a conflict with the design is named as one rather than through a third rule
    keep = sorted(_hard(p), key=_keeps)
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
    """Solve with slack: the cheapest error deviations first, then the least movement and softness with them."""
    b = _build(p, p.rules, SLACK)
    if forbid:
        total = Lin()
        for rid in forbid:
            # a rule deviates when any of its flags is set: one indicator per rule, at least each flag
            flags = b.flags.get(rid, [])
            if not flags:
                continue
            some = b.m.var(0.0, 1.0)
            for f in flags:
                b.m.ge(some - f, "alternative")
            total = total + some
        # no-good cut: not every rule of the forbidden set may deviate again
        b.m.ge(float(len(forbid) - 1) - total, "alternative")
    first = list(b.m.cost)
    later = set(b.move_vars) | set(b.soft_vars)
    b.m.cost = [0.0 if k in later else c for k, c in enumerate(first)]
    sol = b.m.solve()
    if sol is None:
        return None
    # phase 2: keep every error deviation no larger than found, minimise movement and softness
    hard_vars = [k for k, c in enumerate(first) if c > 0 and k not in later]
    for k in hard_vars:
        b.m.ub[k] = float(sol[k]) + 1e-7 if b.m.integer[k] == 0 else round(float(sol[k]))
    b.m.cost = [c if k in later else 0.0 for k, c in enumerate(first)]
    sol2 = b.m.solve(start=sol)
    return (b, sol2 if sol2 is not None else sol)


def layout(section: Section, engine: Engine, start: dict[str, tuple[float, float]] | None = None,
           alternatives: bool = True, allowed: dict[str, frozenset[int]] | None = None,
           explain: bool = True, minimal: bool = True) -> Layout:
    """Place the planned objects so every rule holds, or find the cheapest deviations that admit them.

    Without `explain`, a section the error rules do not admit returns at once (no deviations,
    no conflict set); without `minimal`, the deviations come without the minimal conflicting set.
    """
    p = problem(section, engine, start, allowed)
    b, sol = _solve_firm(p)
    if sol is not None:
        new, moves = _placed(b, sol)
        deviations, left = _recheck(engine, b, sol, new)
        return Layout(new, moves, deviations, (), (), left, float(sum(abs(m.dx) + abs(m.dz) for m in moves)),
                      b.m.timed_out, b.m.gap, b.m.solver_error)
    if not explain or b.m.timed_out or b.m.solver_error:
        # a solve stopped by the time limit or by HiGHS failing has proven nothing: deviations are not
        # looked for as if the rules had been shown to conflict
        return Layout(None, (), (), (), (), (), math.inf, b.m.timed_out, b.m.gap, b.m.solver_error)
    conflict = conflict_set(p) if minimal else ()
    got = _solve_slack(p)
    if got is None:
        return Layout(None, (), (), conflict, (), (), math.inf, b.m.timed_out, b.m.gap, b.m.solver_error)
    b, sol = got
    new, moves = _placed(b, sol)
    deviations, left = _recheck(engine, b, sol, new)
    alternative: tuple[Deviation, ...] = ()
    hard = tuple(sorted({d.rule for d in deviations if d.severity == "error" and not d.exception}))
    if alternatives and hard:
        other = _solve_slack(p, hard)
        if other is not None:
            alternative = _recheck(engine, other[0], other[1], _placed(*other)[0])[0]
    return Layout(new, moves, deviations, conflict, alternative, left, sum(d.cost for d in deviations),
                  b.m.timed_out, b.m.gap, b.m.solver_error)


def start_from_standard(section: Section, packs: PackSet) -> dict[str, tuple[float, float]]:
    """Return the NEN 7171 reference positions of the section's planned units as start positions."""
    from nen7171.reference import Line, reference_layout

    zones = [(z.kind, z.start, z.end) for z in section.zones]
    lines = [Line(o.id, o.network or "overig", 2 * o.half_width, o.body_height) for o in section.objects
             if o.status == "planned" and o.kind in ("cable", "pipe") and o.network is not None
             and not any(o.id in r.holds for r in section.objects)]
    return dict(reference_layout(zones, lines, packs))


def write_case(source: Path, result: Layout, out: Path) -> Path:
    """Write the laid-out case next to the user's own text: moves, no stale `expect:`, deviations to approve.

    The case text is edited, not re-dumped (checker/io/case_edit.py): comments, key order and
    units stay as written. Each moved unit (a rack with what it holds) is moved; the `expect:`
    block, which described the old positions, goes; each deviation the layout needs becomes
    an `accept:` entry for exactly its rule, subjects and value, with the reason, approver and
    date left to fill in — until then the re-check shows it as pending approval, and nothing
    else. A folder (or a missing parent folder) is created; the file written is returned.
    """
    if result.section is None:
        raise LiggingError(Diagnostic(Span(str(source), 1, 1), "no layout to write: the rules admit none"))
    opened = read_case_text(source)
    text = opened.text
    for m in result.moves:
        try:
            text = move_object(text, m.id, dx=m.dx, dz=m.dz)
        except EditError as exc:
            raise LiggingError(Diagnostic(Span(str(source), exc.line, 1), f"cannot write the layout: {exc.message}")) from None
    text = remove_expect(text)
    for d in result.deviations:
        text = add_accept(text, d.rule, d.subjects, measured=d.to)
    target = out / "case.yaml" if out.is_dir() else out
    validate(text, str(target))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        raise LiggingError(Diagnostic(Span(str(target), 1, 1), f"cannot write: {exc.strerror or exc}")) from None
    return target


def report(console: Console, result: Layout, title: str, moves: bool = True) -> None:
    """Print a layout: the moves as a table, deviations with their sources, the conflict and the alternative."""
    console.print(Text(title, style="bold underline"))
    if result.timed_out:
        bound = f" (at most {result.gap:.0%} more than the least possible)" if result.gap is not None else ""
        console.print(Text(f"  stopped at a solver limit (time limit {TIME_LIMIT:g} s): "
                           + (f"the layout holds every rule but is not proven to move the least{bound}"
                              if result.feasible else "no layout found in time (not proven impossible)"),
                           style="yellow"))
    if result.solver_error:
        console.print(Text("  the MILP solver (HiGHS) reported a numerical failure on part of the model; "
                           "the result is not proven", style="yellow"))
    if not result.feasible and not (result.timed_out or result.solver_error):
        console.print(Text("  no layout: the fixed rules conflict", style="bold red"))
    elif not moves:
        pass
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
