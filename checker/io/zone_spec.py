"""Surface zones written on the command line: `trottoir:1.8,rijbaan:5.5,...` from the facade.

`fit` builds a profile from such a spec, `import` lays it over a section cut from a KLIC
delivery. One parser, so both read the same spec the same way.
"""

from __future__ import annotations

from checker.model.section import Zone
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.units import UnitProblem, length
from nen7171.zones import ZONE_KINDS, is_zone_kind

ARG = Span("<command line>", 1, 1)


def _bad(message: str) -> LiggingError:
    return LiggingError(Diagnostic(ARG, message))


def parse_zones(spec: str) -> tuple[Zone, ...]:
    """Parse `trottoir:2.0,rijbaan:5.5` into contiguous zones from the facade.

    >>> [(z.kind, z.start, z.end) for z in parse_zones("trottoir:1.8, rijbaan:5.5")]
    [('trottoir', 0.0, 1.8), ('rijbaan', 1.8, 7.3)]
    """
    zones = []
    at = 0.0
    for part in spec.split(","):
        kind, _, size = part.strip().partition(":")
        if not is_zone_kind(kind):
            raise _bad(f"unknown zone kind '{kind}' in --zones (expected e.g. trottoir:2.0,rijbaan:5.5; "
                       f"kinds: {', '.join(ZONE_KINDS)})")
        try:
            width = length(size or "", "m")
        except UnitProblem as exc:
            raise _bad(f"zone '{kind}': {exc}") from None
        if width <= 0:
            raise _bad(f"zone '{kind}' must have a positive width")
        zones.append(Zone(kind, at, at + width, ARG))
        at += width
    return tuple(zones)
