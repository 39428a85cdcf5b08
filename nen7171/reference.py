"""The NEN 7171 reference layout: where each network lies in a standard profile.

`reference_layout(zones, lines, packs)` reads the order and distances from the rule
packs themselves — the left-to-right `order` relation (NEN-ORDER), the minimum `cover`
per network, the horizontal and shortest `clearance` rules between lines, and `zone`
rules that send a network elsewhere (sewers to the carriageway) — and places the lines
in the nutsstrook: the first zone from the facade that normally hosts it (trottoir,
berm, plein). Lines follow the order from the facade, each one the largest applicable
clearance from its neighbour (the first that distance from the facade); lines the order
does not name follow the ordered ones. This is the start the layout solver moves from,
not a guarantee that every rule holds: the strip may be too narrow, which the solver
then resolves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dsl import ast
from dsl.packs import PackSet
from nen7171.zones import utility_zones

LINE_KINDS = ("line", "cable", "pipe")


@dataclass(frozen=True, slots=True)
class Line:
    """A line to place: its id, IMKL network, and body width and height in metres."""

    id: str
    network: str
    width: float
    height: float


def _members(packs: PackSet, name: str, seen: tuple[str, ...] = ()) -> frozenset[str]:
    """Return the networks a group (or a single network name) stands for."""
    if name not in packs.groups or name in seen:
        return frozenset({name})
    out: set[str] = set()
    for member in packs.groups[name]:
        out |= _members(packs, member, seen + (name,))
    return frozenset(out)


def matches(selector: ast.Selector, network: str, packs: PackSet) -> bool:
    """Tell whether a line of `network` could match a selector (attribute tests are not judged)."""
    if isinstance(selector, ast.SelAny):
        return True
    if isinstance(selector, ast.SelName):
        return selector.name in LINE_KINDS or network in _members(packs, selector.name)
    if isinstance(selector, ast.SelUnion):
        return any(matches(p, network, packs) for p in selector.parts)
    if isinstance(selector, ast.SelAnd):
        return all(matches(p, network, packs) for p in selector.parts)
    if isinstance(selector, ast.SelNot):
        return not matches(selector.part, network, packs)
    return matches(selector.base, network, packs)


def _relations(packs: PackSet) -> list[ast.Relation]:
    """Return every unconditional requirement of the packs (first alternative of each rule)."""
    return [pr.rule.alternatives[0].relation for pr in packs.rules if pr.rule.alternatives]


def order_of(packs: PackSet) -> tuple[ast.Selector, ...]:
    """Return the left-to-right order of the packs (the longest such relation), or ()."""
    orders = [r for r in _relations(packs) if isinstance(r, ast.Order) and r.direction == "left-to-right"]
    return max((o.sequence for o in orders), key=len, default=())


def min_cover(network: str, packs: PackSet) -> float:
    """Return the largest minimum cover the packs require of a network.

    A network no cover rule names starts as deep as the deepest minimum cover of any
    line, rather than at the surface (a start position, not a requirement).
    """
    covers = [r for r in _relations(packs) if isinstance(r, ast.Cover) and r.op == ">="]
    limits = [r.limit.value for r in covers if matches(r.selector, network, packs)]
    return max(limits, default=max((r.limit.value for r in covers), default=0.0))


def clearance(a: str, b: str, packs: PackSet) -> float:
    """Return the largest horizontal or shortest edge clearance the packs require between two networks."""
    best = 0.0
    for r in _relations(packs):
        if not isinstance(r, ast.Clearance) or r.inside_rack or r.plane == "vertical" or r.op != ">=":
            continue
        if "axis" in (r.a.ref, r.b.ref):
            continue
        ab = matches(r.a.selector, a, packs) and matches(r.b.selector, b, packs)
        ba = matches(r.a.selector, b, packs) and matches(r.b.selector, a, packs)
        if ab or ba:
            best = max(best, r.limit.value)
    return best


def home_zone(network: str, zones: Sequence[tuple[str, float, float]], packs: PackSet) -> int:
    """Return the index of the zone a network belongs in: a `within` zone rule's zone, else the nutsstrook."""
    for r in _relations(packs):
        if isinstance(r, ast.ZoneRule) and r.mode == "within" and matches(r.selector, network, packs) \
                and not (isinstance(r.selector, ast.SelName) and r.selector.name in LINE_KINDS):
            for k, (kind, _, _) in enumerate(zones):
                if kind in r.kinds:
                    return k
    hosts = utility_zones()
    for k, (kind, _, _) in enumerate(zones):
        if kind in hosts:
            return k
    return 0


def reference_layout(zones: Sequence[tuple[str, float, float]], lines: Sequence[Line],
                     packs: PackSet) -> list[tuple[str, tuple[float, float]]]:
    """Return each line's standard (axis x, cover) in the zones `(kind, start, end)`, in input order."""
    order = order_of(packs)

    def rank(line: Line) -> int:
        for k, sel in enumerate(order):
            if matches(sel, line.network, packs):
                return k
        return len(order)

    placed: dict[str, tuple[float, float]] = {}
    by_zone: dict[int, list[Line]] = {}
    for line in lines:
        by_zone.setdefault(home_zone(line.network, zones, packs), []).append(line)
    for k, group in sorted(by_zone.items()):
        _, start, end = zones[k]
        ordered = sorted(group, key=lambda ln: (rank(ln), ln.id))
        if len(ordered) == 1 and rank(ordered[0]) == len(order):
            # a line outside the order (a sewer in the carriageway) lies mid-zone
            placed[ordered[0].id] = (0.5 * (start + end), min_cover(ordered[0].network, packs))
            continue
        edge = start
        previous: Line | None = None
        for line in ordered:
            gap = clearance(previous.network, line.network, packs) if previous else clearance(line.network,
                                                                                              line.network, packs)
            left = edge + gap
            placed[line.id] = (left + 0.5 * line.width, min_cover(line.network, packs))
            edge = left + line.width
            previous = line
    return [(line.id, placed[line.id]) for line in lines]
