"""Capacity questions: how wide must a profile be for these networks, and does one more still fit?

`min_width` builds a profile from zone specs (`trottoir:2.0,rijbaan:5.5`), places the
named networks at their NEN 7171 reference positions and narrows or widens the
nutsstrook (the first zone that hosts it) by bisection until the layout solver just
finds a layout with every rule held; the answer is the whole profile width at that
point, with the layout. `fit_case` adds networks (`warmte:2x250mm`) to a case and asks
the solver whether it still fits; if not, it names the rules that block it (a minimal
conflicting set) and the cheapest deviations that would admit it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from checker.advice.layout import Deviation, Layout, layout, start_from_standard
from checker.engine.evaluate import Engine
from checker.io.zone_spec import ARG, parse_zones
from checker.model.section import CABLE_THEMAS, DEFAULT_SIZE, THEMAS, Obj, Section, Zone
from dsl.diagnostics import Diagnostic, LiggingError
from dsl.units import UnitProblem, length
from nen7171.reference import home_zone

PRECISION = 0.005
MAX_WIDTH = 64.0
NETWORK_SPEC = re.compile(r"^(?P<net>[A-Za-z]+)(?::(?:(?P<n>\d+)x)?(?P<size>[0-9.]+)\s*(?P<unit>[a-z]*))?$")


@dataclass(frozen=True, slots=True)
class Fit:
    """The answer to a capacity question: the width, the layout found, and what blocks a fit.

    `blocking` lists the deviations the addition needs beyond those the case already
    needs without it (empty when it fits).
    """

    width: float | None
    layout: Layout
    blocking: tuple[Deviation, ...] = ()

    @property
    def fits(self) -> bool:
        """Tell whether the networks fit without new deviations."""
        return self.layout.feasible and not self.blocking


def _bad(message: str) -> LiggingError:
    return LiggingError(Diagnostic(ARG, message))


def parse_networks(specs: list[str], prefix: str = "") -> list[Obj]:
    """Parse `warmte:2x250mm`, `water:160mm` or `datatransport` into planned lines (x and cover set later)."""
    out: list[Obj] = []
    for spec in specs:
        m = NETWORK_SPEC.match(spec.strip())
        if m is None or m["net"] not in THEMAS:
            raise _bad(f"'{spec}': expected NETWORK[:[Nx]SIZE] with an IMKL thema, e.g. warmte:2x250mm")
        net = m["net"]
        kind = "cable" if net in CABLE_THEMAS else "pipe"
        try:
            size = length(f"{m['size']} {m['unit'] or 'mm'}") if m["size"] else DEFAULT_SIZE[kind]
        except UnitProblem as exc:
            raise _bad(f"'{spec}': {exc}") from None
        for _ in range(int(m["n"] or 1)):
            out.append(Obj(f"{prefix}{net}-{len(out) + 1}", kind, net, None, "planned", 0.0, 0.0,
                           diameter=size, span=ARG))
    return out


def _with_zones(zones: tuple[Zone, ...], stretch: int, width: float) -> tuple[Zone, ...]:
    """Return the zones with zone `stretch` set to `width` and the others shifted after it."""
    out = []
    at = 0.0
    for k, z in enumerate(zones):
        w = width if k == stretch else z.end - z.start
        out.append(replace(z, start=at, end=at + w))
        at += w
    return tuple(out)


def _placed(section: Section, engine: Engine, only: set[str] | None = None, home: bool = False,
            explain: bool = True) -> Layout:
    """Lay out a section, the lines in `only` (default: all planned) starting from their reference positions.

    With `home`, each of those lines must stay in the zone the reference layout gives it.
    """
    start = {k: v for k, v in start_from_standard(section, engine.packs).items() if only is None or k in only}
    objects = tuple(replace(o, x=start[o.id][0], cover=start[o.id][1]) if o.id in start else o
                    for o in section.objects)
    allowed = None
    if home:
        zones = [(z.kind, z.start, z.end) for z in section.zones]
        allowed = {o.id: frozenset({home_zone(o.network or "overig", zones, engine.packs)})
                   for o in objects if o.id in start}
    return layout(replace(section, objects=objects), engine, start, alternatives=False, allowed=allowed,
                  explain=explain)


def min_width(specs: list[str], zones_spec: str, engine: Engine, tags: tuple[tuple[str, str | float], ...] = ()) -> Fit:
    """Return the narrowest profile (stretching the nutsstrook) in which the networks fit every rule."""
    zones = parse_zones(zones_spec)
    lines = tuple(parse_networks(specs))
    if not lines:
        raise _bad("name at least one network")
    stretch = home_zone(lines[0].network or "overig", [(z.kind, z.start, z.end) for z in zones], engine.packs)

    def attempt(w: float) -> Layout:
        zs = _with_zones(zones, stretch, w)
        section = Section("<fit>", "fit", zs[-1].end, zs, lines, tags=tags, span=ARG)
        return _placed(section, engine, home=True, explain=False)

    def ok(result: Layout) -> bool:
        return result.feasible

    lo, hi = 0.0, max(zones[stretch].end - zones[stretch].start, PRECISION)
    best = attempt(hi)
    while not ok(best):
        lo, hi = hi, 2 * hi
        if hi > MAX_WIDTH:
            return Fit(None, best)
        best = attempt(hi)
    while hi - lo > PRECISION:
        mid = 0.5 * (lo + hi)
        got = attempt(mid)
        if ok(got):
            hi, best = mid, got
        else:
            lo = mid
    assert best.section is not None
    return Fit(best.section.width, best)


def fit_case(section: Section, specs: list[str], engine: Engine) -> Fit:
    """Add networks to a case and lay it out: fits, or which rules block it and what deviation admits it."""
    added = parse_networks(specs, prefix="nieuw-")
    taken = {o.id for o in section.objects}
    clash = [o.id for o in added if o.id in taken]
    if clash:
        raise _bad(f"id '{clash[0]}' already exists in the case")
    grown = replace(section, objects=section.objects + tuple(added))
    before = {d.rule: d for d in layout(section, engine, alternatives=False, minimal=False).deviations}
    after = _placed(grown, engine, {o.id for o in added})
    blocking = tuple(d for d in after.deviations if d.rule not in before or _worse(d, before[d.rule]))
    return Fit(section.width, after, blocking)


def _worse(new: Deviation, old: Deviation) -> bool:
    """Tell whether a deviation goes further than the one the case already needed."""
    if new.to is None or old.to is None:
        return new.to is None and old.to is not None
    return abs(new.to - (new.required or 0.0)) > abs(old.to - (old.required or 0.0)) + 0.001
