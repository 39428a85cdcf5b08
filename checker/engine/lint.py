"""Static checks of rule packs: `ligging rules lint`, before any case is checked.

Lint reads packs (each with its includes), then looks for what a rule author gets
wrong and what packs get wrong together: unknown names (with the pack to include when a
shipped pack defines the group), undeclared attributes and unknown zone kinds in
selectors (with a "did you mean"), quantities of the wrong dimension, `where` conditions
on what a case does not have, duplicate ids, cover minimums above another rule's maximum
for overlapping selections, cycles in order relations of one direction across packs, sets
of networks whose horizontal order and clearances need a profile wider than the one given
(reporting the width W they need), rules that are shadowed by a stricter rule or can never
apply (an error: a rule that never fires is a silent mistake), and scopes that drop pairs
without saying so. Every problem is a `Diagnostic` with a code (L1xx names, units and metadata,
L2xx ids, L3xx contradictions, L4xx dead rules and scopes) and a severity, ordered by position.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from checker.engine.select import GEOMETRIC, PAIR_FIELDS, PSEUDO_KINDS, unknown_name, zone_kind
from checker.model.section import CABLE_THEMAS, KINDS, THEMAS, TOLERANCE
from checker.model.sizes import MAX_DIAMETER, MAX_LINES, typical_diameter
from dsl import ast
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import PackRule, PackSet, load_packs, shipped_names
from dsl.units import UnitProblem, length

SEVERITIES = ("error", "warning", "info")
KNOWN_ATTRIBUTES: dict[str, str] = {
    "diameter": "length", "width": "length", "height": "length", "cover": "length",
    "voltage": "voltage", "pressure": "pressure", "temperature": "temperature",
    # from a KLIC delivery: the INSPIRE currentStatus, and the operating voltage beside the nominal one
    "condition": "text", "operating_voltage": "voltage",
    "owner": "text", "status": "text", "kind": "text", "network": "text", "id": "text", "zone": "text",
    "measure": "text",
    # time (checker.model.moment): years an object is laid, taken out of service, dug out; a reservation's claim
    "built": "number", "disused": "number", "removed": "number", "claim": "number", "likelihood": "text",
    # what a line is for, where the network alone does not say (a street-lighting cable is laagspanning)
    "purpose": "text", "connects": "text",
}
# The tags every case has (`where` tests them); any other name is a key under `tags:`.
CASE_TAGS: dict[str, str] = {"street_type": "text", "municipality": "text", "planned": "number"}
# Atoms a selector can match: (class, thema) for networked objects, (kind, "") for the rest.
NETWORKED = ("line", "crossing", "reservation")
PLAIN_KINDS = ("tree", "structure", "container", "rack", "reservation", "infiltration", "wadi", "tree-soil")
UNIVERSE = frozenset({(c, t) for c in NETWORKED for t in THEMAS} | {(k, "") for k in PLAIN_KINDS})

Atoms = frozenset[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Selection:
    """What a selector can match: its atoms, and the text tests that narrow it further."""

    atoms: Atoms
    narrowed: bool
    equals: tuple[tuple[str, str], ...]


def _diag(span: Span, severity: str, code: str, message: str) -> Diagnostic:
    return Diagnostic(span, message, severity=severity, code=code)


def _hint(word: str, options: list[str] | tuple[str, ...]) -> str:
    near = difflib.get_close_matches(word, list(options), n=1)
    return f" — did you mean '{near[0]}'?" if near else ""


class _Linter:
    """One lint run over a composed (possibly conflicting) set of packs."""

    def __init__(self, packs: tuple[ast.RulePack, ...]) -> None:
        self.out: list[Diagnostic] = []
        self.pairs: dict[frozenset[str], str] = {}  # two rules that cannot both hold, with lint's reason
        groups: dict[str, tuple[str, ...]] = {}
        themas: dict[str, ast.Thema] = {}
        for pack in packs:
            for group in pack.groups:
                groups.setdefault(group.name, group.members)
            for thema in pack.themas:
                themas[thema.name] = thema
        every = [PackRule(rule, pack) for pack in packs for rule in pack.rules]
        overridden = {tuple(pr.rule.overrides.split(":", 1)) for pr in every if pr.rule.overrides}
        rules = tuple(pr for pr in every if (pr.pack.name, pr.rule.id) not in overridden)
        self.packs = PackSet(packs, groups, themas, rules,
                             tuple(pr for pr in every if (pr.pack.name, pr.rule.id) in overridden))
        self.names = sorted(set(THEMAS) | set(groups) | set(KINDS) | set(PSEUDO_KINDS) | {"any"})
        self.attributes: dict[str, str] = dict(KNOWN_ATTRIBUTES)
        for pack in packs:
            for declared in pack.attributes:
                self.attributes.setdefault(declared.name, declared.kind)

    # ------------------------------------------------------------ selectors

    def group_themas(self, name: str, seen: tuple[str, ...] = ()) -> frozenset[str]:
        """Return the thema values a group stands for (nested groups followed, cycles cut)."""
        out: set[str] = set()
        for member in self.packs.groups.get(name, ()):
            if member in self.packs.groups and member not in seen:
                out |= self.group_themas(member, seen + (name,))
            elif member in THEMAS:
                out.add(member)
        return frozenset(out)

    def name_atoms(self, sel: ast.SelName, report: bool) -> Atoms:
        """Return the atoms of a bare name; report an unknown one."""
        name = sel.name
        themas: frozenset[str] | None = None
        if name in THEMAS:
            themas = frozenset({name})
        elif name in self.packs.groups:
            themas = self.group_themas(name)
        if themas is not None:
            return frozenset((c, t) for c in NETWORKED for t in themas)
        if name in ("line", "racked"):
            return frozenset(("line", t) for t in THEMAS)
        if name == "cable":
            return frozenset(("line", t) for t in CABLE_THEMAS)
        if name == "pipe":
            return frozenset(("line", t) for t in THEMAS if t not in CABLE_THEMAS)
        if name == "crossing":
            return frozenset(("crossing", t) for t in THEMAS)
        if name == "reservation":
            return frozenset(("reservation", t) for t in THEMAS) | {("reservation", "")}
        if name in PLAIN_KINDS:
            return frozenset({(name, "")})
        if report:
            self.out.append(_diag(sel.span, "error", "L101", unknown_name(name, self.names, self.packs.groups)))
        return frozenset()

    def selection(self, sel: ast.Selector, report: bool = False) -> Selection:
        """Return what a selector can match, reporting unknown names, attributes and units once."""
        if isinstance(sel, ast.SelAny):
            return Selection(UNIVERSE, False, ())
        if isinstance(sel, ast.SelName):
            # whether a line is held by a rack is known only in a case
            return Selection(self.name_atoms(sel, report), sel.name == "racked", ())
        if isinstance(sel, ast.SelUnion):
            parts = [self.selection(p, report) for p in sel.parts]
            return Selection(frozenset().union(*(p.atoms for p in parts)), any(p.narrowed for p in parts), ())
        if isinstance(sel, ast.SelAnd):
            every = [self.selection(p, report) for p in sel.parts]
            atoms = frozenset(UNIVERSE).intersection(*(p.atoms for p in every))
            return Selection(atoms, any(p.narrowed for p in every), tuple(e for p in every for e in p.equals))
        if isinstance(sel, ast.SelNot):
            part = self.selection(sel.part, report)
            return Selection(UNIVERSE if part.narrowed else UNIVERSE - part.atoms, part.narrowed, ())
        base = self.selection(sel.base, report)
        atoms, narrowed, equals = base.atoms, base.narrowed, list(base.equals)
        for test in sel.tests:
            if report:
                self.attr_test(test)
            value = test.value
            if test.name in ("network", "kind") and isinstance(value, str):
                named = self.name_atoms(ast.SelName(value, test.span), report)
                atoms = atoms & named if test.op == "=" else atoms - named
            elif isinstance(value, str) and test.op == "=":
                narrowed = True
                equals.append((test.name, value))
            else:
                narrowed = True
        return Selection(atoms, narrowed, tuple(equals))

    def attr_test(self, test: ast.AttrTest) -> None:
        """Report an undeclared attribute, an unknown zone kind, or a value of the wrong kind."""
        expected = self.attributes.get(test.name)
        if expected is None:
            hint = _hint(test.name, tuple(self.attributes))
            self.out.append(_diag(test.span, "error", "L102",
                                  f"unknown attribute '{test.name}'{hint} — no pack declares it, so the test can "
                                  f"never match as meant; declare it: `attribute {test.name} text` (or number, length, "
                                  "voltage, pressure, temperature)"))
            return
        if isinstance(test.value, ast.Quantity):
            if expected == "number" and test.value.dimension != "number":
                self.out.append(_diag(test.value.span, "error", "L104",
                                      f"{test.name} is a plain number; '{test.value.text}' is a {test.value.dimension}"))
            elif expected != "number" and test.value.dimension != expected:
                self.out.append(_diag(test.value.span, "error", "L104",
                                      f"{test.name} is {'text' if expected == 'text' else 'a ' + expected}; "
                                      f"'{test.value.text}' is a {test.value.dimension}"))
        elif expected != "text":
            self.out.append(_diag(test.span, "error", "L104",
                                  f"{test.name} is a {expected}; '{test.value}' is text — write a quantity such as '0.5 m'"))
        elif test.name == "zone":
            self.zone_kind(test.value, test.span)

    def pairing(self, pairing: ast.Pairing) -> None:
        """Report a `with same|different` field that objects do not carry (or that never pairs)."""
        for name in pairing.names:
            if name in PAIR_FIELDS:
                continue
            if name in self.attributes and self.attributes[name] != "text" and name not in GEOMETRIC:
                continue
            if name in KNOWN_ATTRIBUTES:
                self.out.append(_diag(pairing.span, "error", "L104",
                                      f"'{name}' cannot pair objects; pair on {', '.join(PAIR_FIELDS)} or an attribute"))
                continue
            if name in self.attributes:
                continue
            self.out.append(_diag(pairing.span, "error", "L102",
                                  f"unknown attribute '{name}'{_hint(name, PAIR_FIELDS + tuple(self.attributes))} — no pack "
                                  f"declares it; declare it: `attribute {name} text`"))

    def zone_kind(self, kind: str, span: Span) -> None:
        """Report a zone kind that nen7171/zones.py does not know (and `check` refuses alike)."""
        problem = zone_kind(kind)
        if problem is not None:
            self.out.append(_diag(span, "error", "L103", problem))

    # ------------------------------------------------------------ per rule

    def selectors(self, rel: ast.Relation) -> list[ast.Selector]:
        """Return every selector a relation uses (reference lines such as `facade` aside)."""
        if isinstance(rel, (ast.Clearance, ast.CrossingClearance, ast.Position)):
            return [side.selector for side in (rel.a, rel.b) if not _reference(side.selector)]
        if isinstance(rel, ast.Order):
            return list(rel.sequence)
        if isinstance(rel, ast.Exclusion):
            return [rel.selector, rel.target]
        if isinstance(rel, ast.CrossPermission):
            return [rel.allowed, rel.target]
        return [rel.selector]

    def check_rule(self, pr: PackRule) -> None:
        """Report names, units, zone kinds, dead parts and silent scopes of one rule."""
        rule = pr.rule
        self.unreachable_dates(pr)
        self.impossible_conditions(rule)
        self.case_conditions(rule)
        several = len(rule.alternatives) > 1
        for k, req in enumerate(rule.alternatives):
            which = f" (alternative {k + 1})" if several else ""
            for rel in req.relations:
                self.check_relation(rule, rel, which)
            for exc in req.exceptions:
                for rel in exc.relations:
                    # an exception judges the failing row's own objects: no scope of its own drops pairs
                    self.check_relation(rule, rel, which + " (in its exception)", scoped=False)
            limit = getattr(req.relation, "limit", None)
            for exc in req.exceptions:
                if exc.limit is not None and isinstance(limit, ast.Quantity) and exc.limit.dimension != limit.dimension:
                    self.out.append(_diag(exc.limit.span, "error", "L104",
                                          f"the exception relaxes a {limit.dimension} to '{exc.limit.text}', "
                                          f"a {exc.limit.dimension} — write e.g. '{exc.limit.text} m'"))

    def check_relation(self, rule: ast.Rule, rel: ast.Relation, which: str, scoped: bool = True) -> None:
        """Report the names, zone kinds, reference lines, dimensions and scope of one relation."""
        known_before = sum(d.code == "L101" for d in self.out)
        sels = [self.selection(s, report=True) for s in self.selectors(rel)]
        unknown = sum(d.code == "L101" for d in self.out) > known_before
        if isinstance(rel, ast.ZoneRule) or (isinstance(rel, ast.Capacity) and rel.place == "zones"):
            for kind in rel.kinds:
                self.zone_kind(kind, rel.span)
        self.reference_lines(rel)
        if isinstance(rel, ast.Clearance) and rel.pairing is not None:
            self.pairing(rel.pairing)
        empty = [sel for sel in sels if not sel.atoms]
        live = [sel for sel in sels if sel.atoms]
        dead = (isinstance(rel, ast.Order) and len(live) < 2) or (not isinstance(rel, ast.Order) and empty)
        if dead and not unknown:  # an unknown name is reported already
            self.out.append(_diag(rel.span, "error", "L402",
                                  f"rule {rule.id}{which} can never apply: a selector matches no object"))
        self.dimensions(rule, rel, which)
        if scoped:
            self.scope(rule, rel, which)

    def reference_lines(self, rel: ast.Relation) -> None:
        """Report `facade` / `far-edge` where they cannot be measured to."""
        sides = (rel.a, rel.b) if isinstance(rel, (ast.Clearance, ast.CrossingClearance, ast.Position)) else ()
        for side in sides:
            if not _reference(side.selector):
                continue
            name = side.selector.name  # type: ignore[union-attr]
            if isinstance(rel, ast.CrossingClearance):
                problem = "a crossing passes a line, not a reference line"
            elif isinstance(rel, ast.Clearance) and rel.plane == "vertical":
                problem = "it is a vertical line: measure to it horizontally (or shortest)"
            elif isinstance(rel, ast.Position) and rel.direction != "beside":
                problem = "it is a vertical line from the surface down: nothing lies above or below it; use `beside`"
            else:
                continue
            self.out.append(_diag(side.span, "error", "L101", f"'{name}' cannot be used here: {problem}"))
        if sides and all(_reference(side.selector) for side in sides):
            self.out.append(_diag(rel.span, "error", "L402", "both sides are reference lines; nothing is judged"))

    def dimensions(self, rule: ast.Rule, rel: ast.Relation, which: str) -> None:
        """Report a threshold that takes a root zone from a side that can never be a tree."""
        limit = getattr(rel, "limit", None)
        if not isinstance(limit, ast.Quantity):
            return
        sides = {"a": getattr(rel, "selector", None), "b": getattr(rel, "target", None)}
        if isinstance(rel, (ast.Clearance, ast.CrossingClearance, ast.Position)):
            sides = {"a": rel.a.selector, "b": rel.b.selector}
        for term in limit.terms:
            if not term.dimension.startswith("root-"):
                continue
            chosen = [sides.get(term.side)] if term.side in ("a", "b") else list(sides.values())
            trees = [sel for sel in chosen if sel is not None and not _reference(sel)
                     and ("tree", "") in self.selection(sel).atoms]
            if not trees:
                self.out.append(_diag(term.span, "error", "L402",
                                      f"rule {rule.id}{which} can never apply: only a tree has a {term.dimension}, "
                                      "and this side never selects one"))

    def scope(self, rule: ast.Rule, rel: ast.Relation, which: str) -> None:
        """Report (info) pairs a rule's scope drops without saying so: rack pairs, crossings under `any`."""
        if isinstance(rel, (ast.Clearance, ast.Position)):
            sides = [rel.a.selector, rel.b.selector]
        elif isinstance(rel, ast.Order) and rel.direction == "top-to-bottom":
            sides = list(rel.sequence)
        else:
            return
        racked = [s for s in sides if not _reference(s) and any(c == "line" for c, _ in self.selection(s).atoms)]
        if not rel.racks_written and len(racked) >= 2:
            self.out.append(_diag(rel.span, "info", "L403",
                                  f"rule {rule.id}{which} skips pairs held by one rack; write `outside rack` to say "
                                  "so, or `inside and outside rack` to judge them too"))
        if isinstance(rel, ast.Clearance) and not rel.crossings_written and rel.racks != "inside" \
                and any(_names_crossings(s) for s in sides):
            self.out.append(_diag(rel.span, "info", "L403",
                                  f"rule {rule.id}{which}: a clearance never judges crossings (`crossing between …` "
                                  "does); write `without crossings` to say so"))

    def case_conditions(self, rule: ast.Rule) -> None:
        """Report `where` conditions on what a case does not have, or of the wrong kind for a case tag."""
        for cond in rule.conditions:
            tag = CASE_TAGS.get(cond.name)
            if tag is None and cond.name in KNOWN_ATTRIBUTES:
                example = f"line[{cond.name} {cond.op} {cond.value if isinstance(cond.value, str) else f'{cond.value:g}'}]"
                self.out.append(_diag(cond.span, "error", "L106",
                                      f"`where` tests the case (street_type, municipality, planned, tags); '{cond.name}' "
                                      f"belongs to objects, so this rule never fires — test it in the selector: "
                                      f"`{example}`"))
            elif tag == "number" and isinstance(cond.value, str):
                self.out.append(_diag(cond.span, "error", "L106",
                                      f"'{cond.name}' is a year, never the text '{cond.value}'; this rule never fires"))
            elif tag == "text" and isinstance(cond.value, float):
                self.out.append(_diag(cond.span, "error", "L106",
                                      f"'{cond.name}' is text, never the number {cond.value:g}; this rule never fires"))

    def unreachable_dates(self, pr: PackRule) -> None:
        """Report a rule whose validity lies outside its pack's validity."""
        rv, pv = pr.rule.validity, pr.pack.validity
        if rv is None or pv is None:
            return
        start = max(rv.start or "0000", pv.start or "0000")
        end = min(rv.end or "9999", pv.end or "9999")
        if start > end:
            self.out.append(_diag(rv.span, "error", "L402",
                                  f"rule {pr.rule.id} is valid only outside its pack's validity; it is never in force"))

    def impossible_conditions(self, rule: ast.Rule) -> None:
        """Report `where` conditions that no case can satisfy together."""
        by_name: dict[str, list[ast.Condition]] = {}
        for cond in rule.conditions:
            by_name.setdefault(cond.name, []).append(cond)
        for name, conds in by_name.items():
            if not _satisfiable(conds):
                self.out.append(_diag(conds[-1].span, "error", "L402",
                                      f"rule {rule.id} can never apply: the conditions on '{name}' contradict each other"))

    # ------------------------------------------------------------ across rules

    def duplicates(self) -> None:
        """Report a rule id defined twice without an override, or twice in force at once."""
        by_id: dict[str, list[PackRule]] = {}
        for pr in self.packs.rules:
            by_id.setdefault(pr.rule.id, []).append(pr)
        for rule_id, versions in by_id.items():
            for i, first in enumerate(versions):
                for second in versions[i + 1:]:
                    if first.pack.name != second.pack.name:
                        self.out.append(_diag(second.rule.span, "error", "L201",
                                              f"rule {rule_id} is already defined by pack '{first.pack.name}' "
                                              f"({first.rule.span.where()}); write `overrides {first.pack.name}:{rule_id}`"))
                    elif _windows_overlap(first, second):
                        self.out.append(_diag(second.rule.span, "error", "L201",
                                              f"rule {rule_id} is defined twice with overlapping validity "
                                              f"(first at {first.rule.span.where()})"))

    def single(self) -> Iterator[tuple[PackRule, ast.Requirement]]:
        """Yield each rule's first requirement (the one that must hold when no alternative does).

        Only requirements of one relation with a constant threshold: the comparisons below read
        one limit per rule, which a subject-dependent threshold does not have.
        """
        for pr in self.packs.rules:
            req = pr.rule.alternatives[0]
            limit = getattr(req.relation, "limit", None)
            if not req.also and not (isinstance(limit, ast.Quantity) and limit.terms):
                yield pr, req

    def cover_contradictions(self) -> None:
        """Report a cover minimum above another rule's maximum (cover or bottom depth) for shared objects."""
        minima = [(pr, r.relation) for pr, r in self.single()
                  if isinstance(r.relation, ast.Cover) and r.relation.op == ">=" and len(pr.rule.alternatives) == 1]
        maxima: list[tuple[PackRule, ast.Cover | ast.Bounds]] = []
        for pr, req in self.single():
            rel = req.relation
            if len(pr.rule.alternatives) == 1 and ((isinstance(rel, ast.Cover) and rel.op == "<=")
                                                   or (isinstance(rel, ast.Bounds) and rel.what == "depth")):
                maxima.append((pr, rel))
        for (lo_pr, lo), (hi_pr, hi) in itertools.product(minima, maxima):
            assert hi.limit is not None
            if lo.limit.value <= hi.limit.value + TOLERANCE or not _coexist(lo_pr, hi_pr):
                continue
            shared = _overlap(self.selection(lo.selector), self.selection(hi.selector))
            if not shared:
                continue
            what = "maximum cover" if isinstance(hi, ast.Cover) else "maximum bottom depth"
            message = (f"cover minimum {lo.limit.value:.2f} m of {lo_pr.rule.id} ({lo_pr.pack.name}, "
                       f"{lo.span.where()}) is above the {what} {hi.limit.value:.2f} m of "
                       f"{hi_pr.rule.id} ({hi_pr.pack.name}) for {_atoms_words(shared)}")
            self.out.append(_diag(hi.span, "error", "L301", message))
            self.pairs[frozenset((lo_pr.rule.id, hi_pr.rule.id))] = message

    def order_graphs(self) -> dict[tuple[str, bool], dict[tuple[str, str], list[str]]]:
        """Return, per direction and rack scope, the edges 'u before v' with the rules that ask it."""
        graphs: dict[tuple[str, bool], dict[tuple[str, str], list[str]]] = {}
        for pr in self.packs.rules:
            for req in pr.rule.alternatives[:1]:
                rel = req.relation
                if not isinstance(rel, ast.Order):
                    continue
                edges = graphs.setdefault((rel.direction, rel.inside_rack), {})
                sets = [{t for c, t in self.selection(s).atoms if c == "line"} for s in rel.sequence]
                for i, j in itertools.combinations(range(len(sets)), 2):
                    for u in sorted(sets[i] - sets[j]):
                        for v in sorted(sets[j] - sets[i]):
                            edges.setdefault((u, v), [])
                            if pr.rule.id not in edges[(u, v)]:
                                edges[(u, v)].append(pr.rule.id)
        return graphs

    def order_cycles(self) -> None:
        """Report cycles in the order relations of one direction (across all packs)."""
        spans = {pr.rule.id: pr.rule.span for pr in self.packs.rules}
        for (direction, inside), edges in sorted(self.order_graphs().items()):
            reported: set[frozenset[str]] = set()
            for (u, v) in sorted(edges):
                path = _path(edges, v, u)
                if path is None:
                    continue
                cycle = [u] + path
                steps = list(itertools.pairwise(cycle))
                rules = frozenset(r for step in steps for r in edges[step][:1])
                if len(rules) < 2 or rules in reported:
                    continue
                reported.add(rules)
                scope = " inside rack" if inside else ""
                words = ", ".join(f"{a} before {b} ({edges[(a, b)][0]})" for a, b in steps)
                last = max((spans[r] for r in rules), key=lambda s: (s.file, s.line))
                message = f"order cycle ({direction}{scope}): {words} — no layout meets all of {', '.join(sorted(rules))}"
                self.out.append(_diag(last, "error", "L302", message))
                if len(rules) == 2:
                    self.pairs[rules] = message

    def widths(self, networks: tuple[tuple[str, float], ...] | None, width: float | None) -> None:
        """Report the width the horizontal order and clearances need for a set of networks."""
        sets: list[tuple[tuple[tuple[str, float], ...], Span]] = []
        if networks:
            sets.append((networks, Span("<command line>", 1, 1)))
        else:
            for pr in self.packs.rules:
                rel = pr.rule.alternatives[0].relation
                if isinstance(rel, ast.Order) and rel.direction == "left-to-right" and not rel.inside_rack:
                    chosen = tuple((name, typical_diameter(name)) for name in
                                   (_first_thema(self.selection(s).atoms) for s in rel.sequence))
                    if all(name for name, _ in chosen) and (chosen, rel.span) not in sets:
                        sets.append((chosen, rel.span))
        seen: set[tuple[tuple[str, float], ...]] = set()
        for chosen, span in sets:
            if chosen in seen:
                continue
            seen.add(chosen)
            need, arrangement = required_width(self.packs, chosen)
            sizes = dict(chosen)
            names = ", ".join(f"{n} ({sizes[n] * 1000:.0f} mm)" for n in arrangement)
            if width is not None and need > width + TOLERANCE:
                self.out.append(_diag(span, "error", "L303",
                                      f"{names} need a profile at least {need:.2f} m wide for their order and horizontal "
                                      f"clearances; {width:.2f} m is too narrow"))
            else:
                self.out.append(_diag(span, "info", "L304", f"{names} need a profile at least {need:.2f} m wide "
                                                            "for their order and horizontal clearances"))

    def shadowed(self) -> None:
        """Report rules whose every subject set is already judged by a stricter rule of the same relation."""
        plain = [(pr, req) for pr, req in self.single()
                 if len(pr.rule.alternatives) == 1 and not req.exceptions]
        # a rule already known to be dead is not also reported as shadowed
        reported = {id(pr) for pr in self.packs.rules
                    if any(d.code == "L402" and d.message.startswith(f"rule {pr.rule.id} ") for d in self.out)}
        for (r_pr, r_req), (s_pr, s_req) in itertools.permutations(plain, 2):
            if id(r_pr) in reported or not self._covers(s_pr, s_req.relation, r_pr, r_req.relation):
                continue
            if self._covers(r_pr, r_req.relation, s_pr, s_req.relation) and \
                    (r_pr.rule.span.file, r_pr.rule.span.line) < (s_pr.rule.span.file, s_pr.rule.span.line):
                continue  # equivalent rules: report only the later one
            reported.add(id(r_pr))
            self.out.append(_diag(r_pr.rule.span, "warning", "L401",
                                  f"rule {r_pr.rule.id} is shadowed by {s_pr.rule.id} ({s_pr.pack.name}, "
                                  f"{s_pr.rule.span.where()}), which judges the same objects at least as strictly"))

    def _wider(self, outer: ast.Selector, inner: ast.Selector) -> bool:
        a, b = self.selection(outer), self.selection(inner)
        return not a.narrowed and bool(b.atoms) and b.atoms <= a.atoms

    def _covers(self, s_pr: PackRule, s: ast.Relation, r_pr: PackRule, r: ast.Relation) -> bool:
        """Tell whether rule S judges every subject set of rule R at least as strictly."""
        if type(s) is not type(r) or s_pr.rule.id == r_pr.rule.id:
            return False
        if SEVERITIES.index(s_pr.rule.severity) > SEVERITIES.index(r_pr.rule.severity):
            return False
        if not {(c.name, c.op, c.value) for c in s_pr.rule.conditions} <= \
                {(c.name, c.op, c.value) for c in r_pr.rule.conditions}:
            return False
        if (s_pr.rule.validity or s_pr.pack.validity) is not None and \
                (s_pr.rule.validity or s_pr.pack.validity) != (r_pr.rule.validity or r_pr.pack.validity):
            return False
        if isinstance(s, ast.Cover) and isinstance(r, ast.Cover):
            stricter = s.limit.value >= r.limit.value - TOLERANCE if s.op == ">=" else s.limit.value <= r.limit.value + TOLERANCE
            return s.op == r.op and stricter and self._wider(s.selector, r.selector)
        if isinstance(s, ast.Clearance) and isinstance(r, ast.Clearance):
            if (s.plane, s.inside_rack, s.op, s.a.ref, s.b.ref) != (r.plane, r.inside_rack, r.op, r.a.ref, r.b.ref):
                return False
            if s.pairing is not None and (r.pairing is None or (s.pairing.mode, s.pairing.names)
                                          != (r.pairing.mode, r.pairing.names)):
                return False
            sides = (self._wider(s.a.selector, r.a.selector) and self._wider(s.b.selector, r.b.selector)) or \
                    (s.a.ref == s.b.ref and self._wider(s.a.selector, r.b.selector) and self._wider(s.b.selector, r.a.selector))
            return s.op == ">=" and s.limit.value >= r.limit.value - TOLERANCE and sides
        if isinstance(s, ast.Bounds) and isinstance(r, ast.Bounds) and s.what == r.what == "depth":
            assert s.limit is not None and r.limit is not None
            return s.limit.value <= r.limit.value + TOLERANCE and self._wider(s.selector, r.selector)
        return False

    def group_members(self) -> None:
        """Report group members that are neither a thema nor another group."""
        for pack in self.packs.packs:
            for group in pack.groups:
                for member in group.members:
                    if member not in THEMAS and member not in self.packs.groups:
                        self.out.append(_diag(group.span, "error", "L101",
                                              f"group '{group.name}' names unknown thema '{member}'{_hint(member, THEMAS)}"))

    def instruments(self) -> None:
        """Report packs whose rules do not name the legal instrument they live in (the backlog needs it)."""
        for pack in self.packs.packs:
            if pack.instrument is not None:
                continue
            bare = [r.id for r in pack.rules if r.instrument is None]
            if bare:
                more = f" and {len(bare) - 3} more" if len(bare) > 3 else ""
                self.out.append(_diag(pack.span, "info", "L105",
                                      f"pack {pack.name}: {', '.join(bare[:3])}{more} do not name the legal instrument "
                                      "they live in (write `instrument KIND \"...\"` in the pack header or the rule); "
                                      "the backlog cannot say who can change them"))

    def run(self, networks: tuple[tuple[str, float], ...] | None, width: float | None) -> list[Diagnostic]:
        """Run every check and return the diagnostics ordered by position."""
        self.group_members()
        self.instruments()
        for pr in self.packs.rules:
            self.check_rule(pr)
        self.duplicates()
        self.cover_contradictions()
        self.order_cycles()
        self.widths(networks, width)
        self.shadowed()
        unique = {(d.span, d.code, d.message): d for d in self.out}
        return sorted(unique.values(), key=lambda d: (d.span.file, d.span.line, d.span.column, d.code, d.message))


def _reference(sel: ast.Selector) -> bool:
    """Tell whether a side is a reference line of the profile (`facade`, `far-edge`)."""
    return isinstance(sel, ast.SelName) and sel.name in ast.REFERENCE_LINES


def _names_crossings(sel: ast.Selector) -> bool:
    """Tell whether a selector says `any` or `crossing` in so many words (where skipping crossings surprises)."""
    if isinstance(sel, ast.SelAny):
        return True
    if isinstance(sel, ast.SelName):
        return sel.name == "crossing"
    if isinstance(sel, (ast.SelUnion, ast.SelAnd)):
        return any(_names_crossings(p) for p in sel.parts)
    if isinstance(sel, ast.SelWhere):
        return _names_crossings(sel.base)
    return False


def _satisfiable(conds: list[ast.Condition]) -> bool:
    """Tell whether conditions on one tag can hold together."""
    equal = {c.value for c in conds if c.op == "="}
    if len(equal) > 1:
        return False
    differ = {c.value for c in conds if c.op == "!="}
    if equal & differ:
        return False
    low, high = float("-inf"), float("inf")
    low_open = high_open = False
    for c in conds:
        if not isinstance(c.value, float):
            continue
        v = c.value
        if c.op in (">", ">=") and (v > low or (v == low and c.op == ">")):
            low, low_open = v, c.op == ">"
        if c.op in ("<", "<=") and (v < high or (v == high and c.op == "<")):
            high, high_open = v, c.op == "<"
    for fixed in equal:
        if isinstance(fixed, float) and not (low <= fixed <= high):
            return False
    return low < high or (low == high and not (low_open or high_open))


def _window(pr: PackRule) -> tuple[str, str]:
    v = pr.rule.validity or pr.pack.validity
    return ((v.start if v and v.start else "0000-00-00"), (v.end if v and v.end else "9999-99-99"))


def _windows_overlap(a: PackRule, b: PackRule) -> bool:
    (a0, a1), (b0, b1) = _window(a), _window(b)
    return a0 <= b1 and b0 <= a1


def _coexist(a: PackRule, b: PackRule) -> bool:
    """Tell whether two rules can be in force for the same case (dates and conditions)."""
    return _windows_overlap(a, b) and all(_satisfiable([x for x in a.rule.conditions + b.rule.conditions if x.name == n])
                                          for n in {c.name for c in a.rule.conditions + b.rule.conditions})


def _overlap(a: Selection, b: Selection) -> Atoms:
    """Return the atoms two selections share (none when their text tests exclude each other)."""
    for name, value in a.equals:
        if any(n == name and v != value for n, v in b.equals):
            return frozenset()
    return a.atoms & b.atoms


def _atoms_words(atoms: Atoms) -> str:
    themas = sorted({t for _, t in atoms if t})
    kinds = sorted({c for c, t in atoms if not t})
    return ", ".join(themas + kinds)


def _first_thema(atoms: Atoms) -> str:
    """Return a representative thema for an order element (the first in IMKL order)."""
    themas = {t for c, t in atoms if c == "line"}
    return next((t for t in THEMAS if t in themas), "")


def _path(edges: dict[tuple[str, str], list[str]], start: str, goal: str) -> list[str] | None:
    """Return a shortest node path start..goal along edges, or None."""
    frontier, came = [start], {start: ""}
    while frontier:
        nxt = []
        for node in frontier:
            if node == goal:
                path = [node]
                while came[path[-1]]:
                    path.append(came[path[-1]])
                return path[::-1]
            for (u, v) in edges:
                if u == node and v not in came:
                    came[v] = node
                    nxt.append(v)
        frontier = sorted(nxt)
    return None


def _edge_gap(packs: PackSet, linter: _Linter, a: str, b: str, da: float, db: float) -> float:
    """Return the centre distance two lines of themas a, b need side by side (horizontal clearances)."""
    need = 0.5 * (da + db)
    for pr in packs.rules:
        rel = pr.rule.alternatives[0].relation
        if not isinstance(rel, ast.Clearance) or rel.op != ">=" or rel.inside_rack or rel.plane == "vertical" \
                or pr.rule.conditions or (pr.rule.validity is not None and pr.rule.validity.end is not None) \
                or rel.limit.terms or any(_reference(side.selector) for side in (rel.a, rel.b)):
            continue
        if rel.pairing is not None and rel.pairing.names == ("network",) and (a == b) != (rel.pairing.mode == "same"):
            continue
        sa, sb = linter.selection(rel.a.selector), linter.selection(rel.b.selector)
        for (x, dx), (y, dy), ra, rb in (((a, da), (b, db), rel.a.ref, rel.b.ref), ((b, db), (a, da), rel.a.ref, rel.b.ref)):
            if ("line", x) in sa.atoms and ("line", y) in sb.atoms and not (sa.narrowed or sb.narrowed):
                pad = (0.5 * dx if ra == "edge" else 0.0) + (0.5 * dy if rb == "edge" else 0.0)
                need = max(need, rel.limit.value + pad)
    return need


def required_width(packs: PackSet, networks: tuple[tuple[str, float], ...]) -> tuple[float, tuple[str, ...]]:
    """Return the least profile width a row of lines (thema, diameter) needs, and the arrangement.

    Lines lie side by side at one depth; the permutations allowed by the packs'
    left-to-right order relations are tried (up to eight lines), each line placed as near the facade as the
    horizontal (and shortest-distance) clearances to every line before it allow.
    """
    linter = _Linter(packs.packs)
    before: set[tuple[str, str]] = set()
    for (direction, inside), edges in linter.order_graphs().items():
        if direction == "left-to-right" and not inside:
            before |= set(edges)
    names = [n for n, _ in networks]
    gap = {(i, j): _edge_gap(packs, linter, networks[i][0], networks[j][0], networks[i][1], networks[j][1])
           for i in range(len(networks)) for j in range(len(networks)) if i != j}
    best: tuple[float, tuple[str, ...]] | None = None
    # beyond eight lines the permutations explode: keep the order given
    orders = itertools.permutations(range(len(networks))) if len(networks) <= 8 else iter([tuple(range(len(networks)))])
    for perm in orders:
        if any((names[perm[k]], names[perm[m]]) in before and (names[perm[m]], names[perm[k]]) not in before
               for k in range(len(perm)) for m in range(k) if names[perm[k]] != names[perm[m]]):
            continue
        centre: list[float] = []
        for k, i in enumerate(perm):
            x = 0.5 * networks[i][1]
            for m in range(k):
                x = max(x, centre[m] + gap[(perm[m], i)])
            centre.append(x)
        total = max((c + 0.5 * networks[i][1] for c, i in zip(centre, perm, strict=True)), default=0.0)
        if best is None or total < best[0] - 1e-9:
            best = (total, tuple(names[i] for i in perm))
    return best if best is not None else (0.0, tuple(names))


def parse_networks(text: str) -> tuple[tuple[str, float], ...]:
    """Parse `--networks` text: `water:160mm,gasLageDruk:110mm,datatransport` (diameter optional)."""
    out: list[tuple[str, float]] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, _, size = part.partition(":")
        if name not in THEMAS:
            raise LiggingError(Diagnostic(Span("--networks", 1, 1), f"unknown network '{name}'{_hint(name, THEMAS)}"))
        try:
            # `160mm` and `160 mm` both read as a diameter; a bare number is in millimetres; none: the typical size
            diameter = length(re.sub(r"^\s*([-+.\d]+)\s*", r"\1 ", size).strip(), "mm") if size else typical_diameter(name)
        except UnitProblem as exc:
            raise LiggingError(Diagnostic(Span("--networks", 1, 1), f"{name}: {exc}")) from None
        if not 0.0 < diameter <= MAX_DIAMETER:
            raise LiggingError(Diagnostic(Span("--networks", 1, 1),
                                          f"{name}: a diameter is more than 0 and at most {MAX_DIAMETER:g} m"))
        out.append((name, diameter))
        if len(out) > MAX_LINES:
            raise LiggingError(Diagnostic(Span("--networks", 1, 1), f"at most {MAX_LINES} networks in one row"))
    return tuple(out)


def lint_packs(packs: tuple[ast.RulePack, ...], networks: tuple[tuple[str, float], ...] | None = None,
               width: float | None = None) -> list[Diagnostic]:
    """Lint parsed packs together; `networks` and `width` ask whether a row of lines fits."""
    return _Linter(packs).run(networks, width)


def lint(refs: list[str] | None = None, networks: tuple[tuple[str, float], ...] | None = None,
         width: float | None = None) -> list[Diagnostic]:
    """Read packs by name or file (default: all shipped), each with its includes, and lint them together."""
    seen: dict[str, ast.RulePack] = {}
    for ref in refs or shipped_names():
        for pack in load_packs([ref]).packs:
            seen.setdefault(pack.path, pack)
    return lint_packs(tuple(seen.values()), networks, width)


def contradicting_pairs(packs: PackSet) -> dict[frozenset[str], str]:
    """Return the pairs of rules that lint proves cannot both hold (L301, two-rule L302), with the reason."""
    linter = _Linter(packs.packs)
    linter.cover_contradictions()
    linter.order_cycles()
    return dict(linter.pairs)


def exit_code(diagnostics: list[Diagnostic], fail_on: str) -> int:
    """Return 1 when a diagnostic is at or above `fail_on`, else 0 (as `check` does)."""
    limit = SEVERITIES.index(fail_on)
    return int(any(SEVERITIES.index(d.severity) <= limit for d in diagnostics))


def as_text(diagnostics: list[Diagnostic]) -> str:
    """Render diagnostics one per line (`file:line:col: severity CODE message`) with a count."""
    lines = [f"{d.span.where()}: {d.severity} {d.code} {' '.join(d.message.split())}" for d in diagnostics]
    counts = {s: sum(d.severity == s for d in diagnostics) for s in SEVERITIES}
    lines.append(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info")
    return "\n".join(lines)


def as_json(diagnostics: list[Diagnostic]) -> dict[str, object]:
    """Return the lint document: every diagnostic with its position, and a summary per severity."""
    return {
        "ligging": 1,
        "lint": [{"code": d.code, "severity": d.severity, "kind": "lint", "message": d.message,
                  "at": d.span.as_json()} for d in diagnostics],
        "summary": {s: sum(d.severity == s for d in diagnostics) for s in SEVERITIES},
    }
