"""Capacity questions: how wide must a profile be for these networks, and does one more still fit?

`min_width` answers with the width model of `ligging rules lint` (L303/L304): the lines lie
side by side in a row, in an order the packs allow, each as near the facade as the
horizontal clearances to every line before it permit (`checker.engine.lint.required_width`),
with the diameters given or the typical ones (`checker.model.sizes`). Each line goes to the
zone the reference layout gives it (the nutsstrook, or the carriageway for a sewer); only
those zones make up the profile, so zones named in `--zones` that no line needs change
nothing. The row is then laid out by the solver with every rule in force; where the solver
needs more room than the row (a rule the row does not model), the zone widens until it
fits. The answer names every placed object and the diameter it assumed. `fit_case` adds
networks (`warmte:2x250mm`) to a case and asks the solver whether it still fits; if not, it
names the deviations the addition needs beyond those the case already needs.

Limits (bad input, exit 2): at most `MAX_LINES` lines, `MAX_COPIES` per `N x`, diameters
above 0 and at most `MAX_DIAMETER`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rich.console import Console
from rich.table import Table
from rich.text import Text

from checker.advice.layout import Deviation, Layout, layout, report, start_from_standard
from checker.engine.evaluate import Engine
from checker.engine.lint import required_width
from checker.io import zone_spec
from checker.model.section import CABLE_THEMAS, THEMAS, Obj, Section, Zone
from checker.model.sizes import MAX_COPIES, MAX_DIAMETER, MAX_LINES, typical_diameter
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.units import UnitProblem, length
from nen7171.reference import home_zone

ARG = Span("<command line>", 1, 1)
PRECISION = 0.005
MAX_WIDTH = 64.0
NETWORK_SPEC = re.compile(r"^(?P<net>[A-Za-z]+)(?::(?:(?P<n>\d+)x)?(?P<size>[0-9.]+)\s*(?P<unit>[a-z]*))?$")


@dataclass(frozen=True, slots=True)
class Fit:
    """The answer to a capacity question: the width, the layout found, and what blocks a fit.

    `zones` gives the width of each zone the lines needed (the row model's width or more);
    `assumed` the ids whose diameter was not given. `blocking` lists the deviations the
    addition needs beyond those the case already needs without it (empty when it fits).
    """

    width: float | None
    layout: Layout
    blocking: tuple[Deviation, ...] = ()
    zones: tuple[tuple[str, float], ...] = ()
    assumed: frozenset[str] = frozenset()

    @property
    def fits(self) -> bool:
        """Tell whether the networks fit without new deviations."""
        return self.layout.feasible and not self.blocking


def _bad(message: str) -> LiggingError:
    return LiggingError(Diagnostic(ARG, message))


def parse_zones(spec: str) -> tuple[Zone, ...]:
    """Parse `trottoir:2.0,rijbaan:5.5` as `import` does (checker/io/zone_spec.py), each zone at most MAX_WIDTH."""
    zones = zone_spec.parse_zones(spec)
    for z in zones:
        if z.end - z.start > MAX_WIDTH:
            raise _bad(f"zone '{z.kind}' must be more than 0 and at most {MAX_WIDTH:g} m wide")
    return zones


def parse_networks(specs: list[str], prefix: str = "") -> tuple[list[Obj], frozenset[str]]:
    """Parse `warmte:2x250mm`, `water:160mm` or `datatransport` into planned lines, and the ids whose size was assumed."""
    out: list[Obj] = []
    assumed: set[str] = set()
    for spec in specs:
        m = NETWORK_SPEC.match(spec.strip())
        if m is None or m["net"] not in THEMAS:
            raise _bad(f"'{spec}': expected NETWORK[:[Nx]SIZE] with an IMKL thema, e.g. warmte:2x250mm")
        net = m["net"]
        kind = "cable" if net in CABLE_THEMAS else "pipe"
        try:
            size = length(f"{m['size']} {m['unit'] or 'mm'}") if m["size"] else typical_diameter(net)
        except UnitProblem as exc:
            raise _bad(f"'{spec}': {exc}") from None
        if not 0.0 < size <= MAX_DIAMETER:
            raise _bad(f"'{spec}': a diameter is more than 0 and at most {MAX_DIAMETER:g} m")
        copies = int(m["n"] or 1)
        if not 1 <= copies <= MAX_COPIES:
            raise _bad(f"'{spec}': from 1 to {MAX_COPIES} copies of one network")
        if len(out) + copies > MAX_LINES:
            raise _bad(f"at most {MAX_LINES} lines in one capacity question")
        for _ in range(copies):
            oid = f"{prefix}{net}-{len(out) + 1}"
            out.append(Obj(oid, kind, net, None, "planned", 0.0, 0.0, diameter=size, span=ARG))
            if not m["size"]:
                assumed.add(oid)
    return out, frozenset(assumed)


def _with_widths(zones: tuple[Zone, ...], widths: dict[int, float]) -> tuple[Zone, ...]:
    """Return the zones with the given widths (by index), contiguous from the facade."""
    out = []
    at = 0.0
    for k, z in enumerate(zones):
        w = widths.get(k, z.end - z.start)
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
    """Return the narrowest profile in which the networks fit every rule, row by row as lint measures it."""
    given = parse_zones(zones_spec)
    lines, assumed = parse_networks(specs)
    if not lines:
        raise _bad("name at least one network")
    spans = [(z.kind, z.start, z.end) for z in given]
    homes = {o.id: home_zone(o.network or "overig", spans, engine.packs) for o in lines}
    # only the zones some line lies in make up the profile
    needed = sorted(set(homes.values()))
    zones = tuple(given[k] for k in needed)
    index = {k: n for n, k in enumerate(needed)}
    rows: dict[int, float] = {}
    for n in range(len(zones)):
        row = tuple((o.network or "overig", o.diameter or 0.0) for o in lines if index[homes[o.id]] == n)
        rows[n] = max(required_width(engine.packs, row)[0], PRECISION)

    def attempt(scale: float) -> Layout:
        zs = _with_widths(zones, {n: w * scale for n, w in rows.items()})
        section = Section("<fit>", "fit", zs[-1].end, zs, tuple(lines), tags=tags, span=ARG)
        return _placed(section, engine, home=True, explain=False)

    # the row model's width first; a rule it does not model may need more room: widen, then narrow back
    lo, hi = 1.0, 1.0
    best = attempt(hi)
    while not best.feasible:
        lo, hi = hi, 2 * hi
        if sum(rows.values()) * hi > MAX_WIDTH:
            return Fit(None, best, assumed=assumed)
        best = attempt(hi)
    while hi > 1.0 and (hi - lo) * sum(rows.values()) > PRECISION:
        mid = 0.5 * (lo + hi)
        got = attempt(mid)
        if got.feasible:
            hi, best = mid, got
        else:
            lo = mid
    assert best.section is not None
    widths = tuple((z.kind, round(z.end - z.start, 4)) for z in best.section.zones)
    return Fit(best.section.width, best, zones=widths, assumed=assumed)


def fit_case(section: Section, specs: list[str], engine: Engine) -> Fit:
    """Add networks to a case and lay it out: fits, or which rules block it and what deviation admits it."""
    added, assumed = parse_networks(specs, prefix="nieuw-")
    taken = {o.id for o in section.objects}
    clash = [o.id for o in added if o.id in taken]
    if clash:
        raise _bad(f"id '{clash[0]}' already exists in the case")
    grown = replace(section, objects=section.objects + tuple(added))
    before = {(d.rule, d.subjects): d for d in layout(section, engine, alternatives=False, minimal=False).deviations}
    after = _placed(grown, engine, {o.id for o in added})
    blocking = tuple(d for d in after.deviations
                     if (d.rule, d.subjects) not in before or _worse(d, before[(d.rule, d.subjects)]))
    return Fit(section.width, after, blocking, assumed=assumed)


def _worse(new: Deviation, old: Deviation) -> bool:
    """Tell whether a deviation goes further than the one the case already needed."""
    if new.to is None or old.to is None:
        return new.to is None and old.to is not None
    return abs(new.to - (new.required or 0.0)) > abs(old.to - (old.required or 0.0)) + 0.001


def print_fit(console: Console, found: Fit, title: str, only: set[str] | None = None) -> None:
    """Print a capacity answer: the layout report, then every placed line with the diameter it has (or assumed)."""
    # a minimum width starts from the reference layout: its moves mean nothing to the reader
    report(console, found.layout, title, moves=only is not None)
    if found.zones:
        console.print(Text("  zones: " + ", ".join(f"{kind} {w:.3f} m" for kind, w in found.zones)))
    section = found.layout.section
    if section is None:
        return
    table = Table(box=None, padding=(0, 2), title=None)
    for head in ("placed", "network", "x", "cover", "diameter"):
        table.add_column(head, justify="left" if head in ("placed", "network") else "right")
    for o in section.objects:
        if o.status != "planned" or (only is not None and o.id not in only) or o.kind not in ("cable", "pipe"):
            continue
        size = f"{(o.diameter or 2 * o.half_width) * 1000:.0f} mm" + (" (assumed)" if o.id in found.assumed else "")
        table.add_row(o.id, o.network or "", f"{o.x:.3f}", f"{o.cover:.3f}", size)
    console.print(table)
