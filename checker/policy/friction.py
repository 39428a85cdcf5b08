"""What kind of regulatory friction a case shows: rules that rub, classified, each with its evidence.

The harmonisation backlog holds regulations that rub, not findings. For one checked case
this module keeps the findings that are friction — not plain design errors, which a move
of a planned object clears — folds rules that agree into one (two authorities asking the
same thing of the same object is not friction between them), and says for each remaining
rule, or pair of rules, what it is:

- **contradiction**: two rules that cannot both hold. Found from the rules alone (lint's
  contradictions: a cover minimum above another rule's maximum, a cycle of order relations)
  or in the case: every move of the planned objects that meets rule A (the suggestion
  engine's own candidates, re-evaluated) breaks rule B. Meeting the cover a telecom cable
  needs in a VKLS rack means lowering the rack below the depth VKLS allows.
- **space**: the rule does not fit the room the case has: no tried move meets it, or the
  moves that do only run into another object, meet the same rule elsewhere or break rules
  whose values are placeholders; or the objects lie as they are (existing, trees, crossings).
- **data**: the rule's value is a placeholder (`illustrative`), or the measurement that
  decides the finding rests on a depth the data only declares or assumes (an imported KLIC
  line without a depth point: the net's standaardDieptelegging, or the packs' minimum
  cover): the question is the value, or the depth, before it is the friction. A depth
  decides when moving that object `DEPTH_PROBE` deeper or higher changes what the finding
  measures, or clears it.
- **praktijktoets**: a rule that keeps a harmonisation proposal from working in a case
  (`ligging whatif --log`, see `checker.policy.whatif`).

Every friction carries its evidence: one sentence with the numbers that show it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from checker.advice.suggest import MAX_TRIES, _Kept, _movable, _physical, candidates, moved
from checker.engine.evaluate import Engine
from checker.engine.lint import contradicting_pairs
from checker.model.findings import SEVERITIES, UNMEASURED, Finding, counts
from checker.model.section import TOLERANCE, Section
from dsl import ast
from dsl.packs import PackRule, PackSet, in_force

CLASSES = ("contradiction", "praktijktoets", "space", "data")  # strongest first: an entry shows the strongest seen
PHYSICAL_PACK = "ligging"  # the engine's own overlap check: physics, not an authority's rule
# metres: IMKL's finest depth accuracy class (tot30cm); a depth nobody measured is known no better
DEPTH_PROBE = 0.30


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A rule in friction: where it comes from, the instrument it lives in, and its part (rubs or agrees)."""

    rule: str
    pack: str
    version: str
    authority: str
    source: str
    instrument_kind: str = ""
    instrument: str = ""
    changed_by: str = ""
    role: str = "rubs"


@dataclass(frozen=True, slots=True)
class Friction:
    """One observation of friction in one case, ready to be logged as an occurrence of its entry."""

    kind: str
    rules: tuple[RuleRef, ...]
    title: str
    severity: str
    fingerprint: str
    case_path: str
    municipality: str
    planned: str
    subjects: tuple[str, ...]
    measured: float | None
    required: float | None
    op: str
    amount: float | None
    unit: str
    message: str
    evidence: str = ""
    accepted: str = ""
    place: str = ""

    @property
    def key(self) -> str:
        """Return the entry this friction belongs to: its rubbing rule ids, sorted, joined by '+'."""
        return rules_key(r.rule for r in self.rules if r.role == "rubs")


def rules_key(rule_ids: Iterable[str]) -> str:
    """Return the entry key of a rule or rule pair: the ids sorted and joined by '+'."""
    return "+".join(sorted(set(rule_ids)))


def rule_ref(pr: PackRule, role: str = "rubs") -> RuleRef:
    """Return a pack rule as the backlog records it."""
    found = pr.instrument
    return RuleRef(pr.rule.id, pr.pack.name, pr.pack.version, pr.pack.authority, pr.rule.source,
                   found.kind if found else "", found.citation if found else "", pr.changed_by, role)


def pack_rule(packs: PackSet, rule_id: str, pack: str | None = None, planned: str | None = None) -> PackRule | None:
    """Return the version of a rule in force on `planned` (else its first version), or None."""
    versions = [pr for pr in packs.find(rule_id) if pack is None or pr.pack.name == pack]
    return next((pr for pr in versions if in_force(pr, planned)), versions[0] if versions else None)


def is_design_error(finding: Finding) -> bool:
    """Tell whether a designer can clear the finding by moving a planned object (a move is suggested)."""
    if finding.baseline or finding.exception or finding.accepted:
        return False
    return any(s.move is not None for s in finding.suggestions)


def _amount(finding: Finding) -> float | None:
    """Return the size of the deviation a finding needs (None without magnitude)."""
    short = finding.shortfall
    return None if short is None else round(abs(short), 4)


def _agree(a: Finding, b: Finding) -> bool:
    """Tell whether two findings on the same objects ask the same thing (same kind, direction and value)."""
    return (a.subjects == b.subjects and a.kind == b.kind and a.op == b.op and a.unit == b.unit
            and a.required is not None and b.required is not None and abs(a.required - b.required) <= TOLERANCE)


def _place(section: Section, subjects: Sequence[str]) -> str:
    """Say where the subjects lie: x and cover of each, as an engineer reads a dwarsprofiel."""
    objs = section.by_id()
    parts = []
    for sid in subjects:
        o = objs.get(sid)
        if o is None:
            continue
        parts.append(f"{sid} x {o.x:.2f} m, dekking {o.cover:.2f} m" if o.kind not in ("crossing",)
                     else f"{sid} x {o.start or 0:.2f} to {o.end or 0:.2f} m, dekking {o.cover:.2f} m")
    return "; ".join(parts)


def _requirement(f: Finding) -> str:
    if f.required is None:
        return f.message
    return f"{f.op} {f.required:.2f} {f.unit}".strip() + (f", measured {f.measured:.3f} {f.unit}"
                                                            if f.measured is not None else "")


def _move_words(uid: str, dx: float, dz: float) -> str:
    parts = []
    if dx:
        parts.append(f"{abs(dx):.3f} m {'away from' if dx > 0 else 'towards'} the facade")
    if dz:
        parts.append(f"{abs(dz):.3f} m {'deeper' if dz > 0 else 'higher'}")
    return f"moving {uid} {' and '.join(parts)}"


@dataclass(frozen=True, slots=True)
class _Try:
    """One probing move and what it changed: whether the finding went, and the new counting findings."""

    size: float
    words: str
    cleared: bool
    new: tuple[Finding, ...]
    kept: bool = False  # a move a `keep` rule forbids, probed for what it would break


@dataclass(frozen=True, slots=True)
class _Case:
    """What classifying one finding needs to know about its case."""

    section: Section
    path: str
    findings: tuple[Finding, ...]
    before: frozenset[str]
    probes: dict[tuple[str, float], list[Finding]]  # the findings with an unmeasured depth moved (_depth_probes)


class Classifier:
    """Friction in checked cases, for one engine (its packs, and lint's contradictions between them)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.packs = engine.packs
        self._static = contradicting_pairs(engine.packs)

    def frictions(self, findings: Sequence[Finding], section: Section, case_path: str) -> list[Friction]:
        """Return the friction among a case's findings, one per rule or rule pair, in a stable order."""
        pool = [f for f in findings if f.severity in ("error", "warning") and f.pack != PHYSICAL_PACK
                and not is_design_error(f)]
        case = _Case(section, case_path, tuple(findings),
                     frozenset(g.fingerprint for g in findings if counts(g) and g.severity != "info"),
                     self._depth_probes(pool, section))
        out: list[Friction] = []
        taken: set[int] = set()
        for f in sorted(pool, key=lambda g: (g.subjects, g.rule)):
            if id(f) in taken:
                continue
            agreeing = [g for g in pool if g is not f and id(g) not in taken and _agree(f, g)]
            taken.add(id(f))
            taken.update(id(g) for g in agreeing)
            out.extend(self._classify(f, agreeing, case))
        return sorted(out, key=lambda x: (x.key, x.subjects, x.kind))

    # ---- one finding ---------------------------------------------------------------------

    def _ref(self, f: Finding, planned: str | None, role: str = "rubs") -> RuleRef:
        pr = pack_rule(self.packs, f.rule, f.pack, planned)
        if pr is None:
            return RuleRef(f.rule, f.pack, "", "", f.source, role=role)
        return rule_ref(pr, role)

    def _title(self, f: Finding) -> str:
        pr = pack_rule(self.packs, f.rule, f.pack)
        return (pr.rule.title if pr is not None else "") or f.title or f.rule

    def _make(self, kind: str, f: Finding, rules: Sequence[RuleRef], title: str, evidence: str, case: _Case,
              severity: str | None = None) -> Friction:
        granted = dict(f.accepted)
        if granted:
            evidence += (f"; deviation {granted.get('state')}: granted by {granted.get('approved_by')} until "
                         f"{granted.get('until')} ({granted.get('reason')})")
        return Friction(kind, tuple(rules), title, severity or f.severity, f.fingerprint, case.path,
                        str(case.section.tag("municipality") or ""), case.section.planned or "", f.subjects,
                        f.measured, f.required, f.op, _amount(f), f.unit, f.message, evidence,
                        granted.get("state", ""), _place(case.section, f.subjects))

    def _classify(self, f: Finding, agreeing: list[Finding], case: _Case) -> list[Friction]:
        planned = case.section.planned
        own = [self._ref(f, planned)] + [self._ref(g, planned, "agrees") for g in agreeing]
        asks = f"{f.rule} asks {_requirement(f)} of {', '.join(f.subjects)}" + "".join(
            f" ({g.rule} of {ref.authority or ref.pack} asks the same: not friction between them)"
            for g, ref in zip(agreeing, own[1:], strict=True))
        title = self._title(f)
        pr = pack_rule(self.packs, f.rule, f.pack, planned)
        depth = self._depth_question(f, case)
        if pr is not None and pr.rule.illustrative:
            return [self._make("data", f, own, title, f"{asks}, but its value is a placeholder: "
                                                      f"{pr.rule.illustrative}" + (f"; and {depth}" if depth else ""),
                               case)]
        static = self._static_partners(f, case.findings)
        if static:
            return [self._pair(f, own, title, other, [], f"always, from the rules alone: {why}", asks, case)
                    for other, why in static]
        if depth:
            return [self._make("data", f, own, title, f"{asks}, but {depth}", case)]
        tries = self._probe(f, case)
        if tries is None:
            still = ("its objects all exist already: the street as it lies" if f.baseline else
                     "none of its objects may be moved here (existing objects, trees, structures, crossings)")
            return [self._make("space", f, own, title, f"{asks}; {still}", case)]
        clearing = [t for t in tries if t.cleared and not t.kept]
        if any(not t.new for t in clearing):
            return []  # a move or swap meets it and breaks nothing: a design choice, not friction
        if not clearing:
            # only a move the design forbids meets it (lowering a rack, a sewer): friction with what that move breaks,
            # room when it breaks nothing else
            clearing = [t for t in tries if t.cleared and t.kept and self._blockers(t, own)]
            tries = [t for t in tries if not t.kept] + clearing
        if not clearing:
            reach = f" (up to {max(t.size for t in tries):.2f} m)" if tries else ""
            return [self._make("space", f, own, title, f"{asks}; none of {len(tries)} tried moves{reach} meets it "
                                                       "in the room the profile has", case)]
        blockers = [self._blockers(t, own) for t in clearing]
        roomy = [t for t, b in zip(clearing, blockers, strict=True) if not b]
        if roomy:
            t = roomy[0]
            after = "; ".join(dict.fromkeys(_after_words(g) for g in t.new))
            return [self._make("space", f, own, title, f"{asks}; {t.words} meets it, but then {after}", case)]
        common = set.intersection(*(set(b) for b in blockers))
        if not common:
            shown_ = "; ".join(f"{t.words} breaks {', '.join(sorted(b))}"
                               for t, b in list(zip(clearing, blockers, strict=True))[:3])
            return [self._make("space", f, own, title, f"{asks}; every way to meet it breaks another rule: {shown_}",
                               case)]
        t = clearing[0]
        firm = [g for g in t.new if g.rule in common and not self._illustrative(g.rule, planned)]
        if not firm:
            # no rule with a real value stands in the way: the room, as the packs encode it for now
            names = ", ".join(sorted(common))
            return [self._make("space", f, own, title, f"{asks}; every way to meet it breaks only rules whose values "
                                                       f"are placeholders ({names}), so the room as encoded does not "
                                                       "hold it; their real values may change that", case)]
        out = []
        used: set[int] = set()
        for g in sorted(firm, key=lambda x: (x.rule, x.subjects)):
            if id(g) in used or any(o.rules[0].rule == g.rule or o.rules[1].rule == g.rule for o in out):
                continue
            also = [h for h in firm if h is not g and id(h) not in used and _agree(g, h)]
            used.update([id(g)] + [id(h) for h in also])
            why = f"in this case, {t.words} to meet {f.rule} breaks {g.rule}: {g.message}"
            out.append(self._pair(f, own, title, g, also, why, asks, case))
        return out

    def _pair(self, f: Finding, own: list[RuleRef], title: str, other: Finding, other_agreeing: list[Finding],
              why: str, asks: str, case: _Case) -> Friction:
        """Return the contradiction between finding f's rule and another rule (shown by one of its findings)."""
        planned = case.section.planned
        theirs = [self._ref(other, planned)] + [self._ref(h, planned, "agrees") for h in other_agreeing]
        rubbing = sorted([own[0], theirs[0]], key=lambda r: r.rule)
        titles = {f.rule: title, other.rule: self._title(other)}
        agreed = "".join(f" ({h.rule} asks the same as {other.rule})" for h in other_agreeing)
        worst = min(f.severity, other.severity, key=SEVERITIES.index)
        return self._make("contradiction", f, rubbing + own[1:] + theirs[1:],
                          " ↔ ".join(titles[r.rule] for r in rubbing), f"{asks}; {why}{agreed}", case, worst)

    def _depth_probes(self, findings: Sequence[Finding], section: Section) -> dict[tuple[str, float], list[Finding]]:
        """Return the case's findings with each unmeasured-depth object of `findings` moved, by (unit moved, dz).

        Each subject whose cover is declared or assumed (`Finding.depth_basis`) is moved as
        its outermost holder, with all that holds, DEPTH_PROBE deeper and DEPTH_PROBE higher
        as far as the ground allows. Findings sharing an object share its probes: one batch
        evaluation per case.
        """
        wanted = dict.fromkeys((_outermost(section, sid), dz) for f in findings for sid, _ in f.depth_basis
                               for dz in _probe_steps(section, sid))
        afters = self.engine.evaluate_many([_deepened(section, unit, dz) for unit, dz in wanted])
        return dict(zip(wanted, afters, strict=True))

    def _depth_question(self, f: Finding, case: _Case) -> str | None:
        """Say which unmeasured depths decide f's measurement, and how (None when none does).

        A depth decides when, with its object moved (`_depth_probes`), the finding measures
        more than 1 mm otherwise, or is met.
        """
        said: dict[str, list[str]] = {}
        decides: set[str] = set()
        for sid, _ in f.depth_basis:
            unit = _outermost(case.section, sid)
            for dz in _probe_steps(case.section, sid):
                if (unit, dz) not in case.probes:
                    continue
                same = next((g for g in case.probes[unit, dz] if g.fingerprint == f.fingerprint), None)
                way = f"{abs(dz):.2f} m {'deeper' if dz > 0 else 'higher'}"
                if same is None:
                    said.setdefault(sid, []).append(f"{way} it is met")
                    decides.add(sid)
                elif same.measured is not None and f.measured is not None:
                    said.setdefault(sid, []).append(f"{way} it measures {same.measured:.3f} {f.unit}".rstrip())
                    if abs(same.measured - f.measured) > TOLERANCE:
                        decides.add(sid)
        if not decides:
            return None
        objs = case.section.by_id()
        parts = []
        for sid, basis in f.depth_basis:
            if sid not in decides:
                continue
            o = objs[sid]
            feature = f" ({o.source.feature})" if o.source is not None else ""
            parts.append(f"the cover of {sid}{feature}, {o.cover:.2f} m, is {UNMEASURED.get(basis, basis)}: "
                         + ", ".join(said[sid]))
        return ("the measurement rests on depths nobody measured: " + "; ".join(parts)
                + f" (±{DEPTH_PROBE:.2f} m: IMKL's finest depth accuracy class)")

    def _illustrative(self, rule_id: str, planned: str | None) -> bool:
        pr = pack_rule(self.packs, rule_id, None, planned)
        return pr is not None and pr.rule.illustrative is not None

    def _static_partners(self, f: Finding, findings: Sequence[Finding]) -> list[tuple[Finding, str]]:
        """Return findings of rules that lint proves contradict f's rule, on objects f shares."""
        out: dict[str, tuple[Finding, str]] = {}
        for g in findings:
            why = self._static.get(frozenset((f.rule, g.rule)))
            if why and g.rule != f.rule and set(g.subjects) & set(f.subjects):
                out.setdefault(g.rule, (g, why))
        return [out[k] for k in sorted(out)]

    def _probe(self, f: Finding, case: _Case) -> list[_Try] | None:
        """Try the moves (and, for an order, the swap) that could meet f; None when nothing of it may move."""
        section = case.section
        units = _movable(section, f)
        kept = _Kept(self.engine, section) if units else None
        tries: list[tuple[float, str, Section]] = []
        designed: list[tuple[float, str, Section]] = []
        for unit in units:
            for dx, dz in candidates(section, f, unit):
                # the moves the suggestion engine would try: inside the profile, below ground, as `keep` rules allow;
                # a move a `keep` rule forbids (a rack's or a sewer's designed depth) is probed apart: what it would
                # break is the friction the design stands in
                if _physical(section, unit, dx, dz) and kept is not None:
                    (tries if kept.allows(section, unit, dx, dz) else designed).append(
                        (math.hypot(dx, dz), _move_words(unit.id, dx, dz), moved(section, unit.id, dx, dz)))
        tries = sorted(tries, key=lambda t: (t[0], t[1]))[:MAX_TRIES]
        designed = sorted(designed, key=lambda t: (t[0], t[1]))[:MAX_TRIES]
        swap = _swapped(section, f)
        if swap is not None:
            tries.insert(0, (0.0, f"swapping {' and '.join(f.subjects)}", swap))
        if not units and swap is None:
            return None
        every = tries + designed
        afters = self.engine.evaluate_many([s for _, _, s in every]) if every else []
        out = []
        for n, ((size, words, _), after) in enumerate(zip(every, afters, strict=True)):
            cleared = f.fingerprint not in {g.fingerprint for g in after}
            new = tuple(g for g in after if counts(g) and g.severity != "info" and g.fingerprint not in case.before)
            out.append(_Try(size, words, cleared, new, kept=n >= len(tries)))
        return out

    def _blockers(self, t: _Try, own: list[RuleRef]) -> list[str]:
        """Return the other rules a move breaks (the profile, physics and f's own rules are room, not rules)."""
        mine = {r.rule for r in own}
        out: list[str] = []
        for g in t.new:
            if g.pack == PHYSICAL_PACK or g.rule in mine or self._profile_bound(g):
                continue
            if g.rule not in out:
                out.append(g.rule)
        return out

    def _profile_bound(self, g: Finding) -> bool:
        """Tell whether a finding is of a rule keeping objects inside the profile (the room itself)."""
        pr = pack_rule(self.packs, g.rule, g.pack)
        if pr is None:
            return False
        return any(isinstance(req.relation, ast.Bounds) and req.relation.what == "profile"
                   for req in pr.rule.alternatives)


def _swapped(section: Section, f: Finding) -> Section | None:
    """Return the section with the two planned objects of an order finding in each other's place, or None."""
    if f.kind != "order" or len(f.subjects) != 2:
        return None
    objs = section.by_id()
    a, b = (objs.get(s) for s in f.subjects)
    if a is None or b is None or "planned" not in (a.status,) or b.status != "planned" or a.kind != b.kind:
        return None
    place = {a.id: (b.x, b.cover), b.id: (a.x, a.cover)}
    return replace(section, objects=tuple(replace(o, x=place[o.id][0], cover=place[o.id][1]) if o.id in place else o
                                          for o in section.objects))


def _outermost(section: Section, oid: str) -> str:
    """Return the object that holds an object, however deep (the object itself when nothing holds it)."""
    holder = {held: o.id for o in section.objects for held in o.holds}
    seen = {oid}
    while oid in holder and holder[oid] not in seen:
        oid = holder[oid]
        seen.add(oid)
    return oid


def _probe_steps(section: Section, oid: str) -> tuple[float, ...]:
    """Return how far to move an object's depth to probe it: DEPTH_PROBE deeper, and higher as the ground allows."""
    objs = section.by_id()
    top = min((objs[u].cover for u in _with_contents(section, _outermost(section, oid))), default=0.0)
    return tuple(dz for dz in (DEPTH_PROBE, -min(DEPTH_PROBE, max(top, 0.0))) if dz)


def _with_contents(section: Section, unit: str) -> list[str]:
    """Return an object and everything it holds, however deep."""
    objs = section.by_id()
    out, stack = [], [unit]
    while stack:
        oid = stack.pop()
        if oid in objs and oid not in out:
            out.append(oid)
            stack.extend(objs[oid].holds)
    return out


def _deepened(section: Section, unit: str, dz: float) -> Section:
    """Return the section with an object and what it holds lying dz deeper (a crossing: both ends)."""
    shift = set(_with_contents(section, unit))
    return replace(section, objects=tuple(
        replace(o, cover=o.cover + dz, cover_end=None if o.cover_end is None else o.cover_end + dz)
        if o.id in shift else o for o in section.objects))


def _after_words(g: Finding) -> str:
    if g.pack == PHYSICAL_PACK:
        return g.message
    return f"{g.rule}: {g.message}"


def strongest(kinds: Iterable[str]) -> str:
    """Return the strongest class among those seen (contradiction before praktijktoets, space, data)."""
    seen = [k for k in kinds if k in CLASSES]
    return min(seen, key=CLASSES.index) if seen else "space"
