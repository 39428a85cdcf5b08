"""How deep a delivered line lies where a section cuts it, and on what basis.

A KLIC delivery gives depth sparsely. In the order a Dutch engineer would trust them:

1. **measured** — a depth point (DiepteTovMaaiveld, or DiepteNAP with its maaiveldPeil)
   within `reach` metres of the cut: first those the line itself links (`dieptelegging`),
   then points of the same net that lie on the line (within its XY accuracy, at least the
   ±1 m IMKL allows) and nearer to it than to any other line of that net — IMKL attaches a
   depth to the net when the source registration did not link it to a line. The nearest
   one wins; its depth accuracy class becomes the tolerance.
2. **declared** — the net's `standaardDieptelegging`.
3. **assumed** — no depth in the delivery: the largest minimum cover the rule packs
   require of the thema (`nen7171.reference.min_cover`; by default the NEN 7171 and drinkwater packs'
   cover rules). A thema no cover rule names takes the deepest minimum any rule sets.

`dieptePeil` is the depth of the top (`bovenkant`) unless the point says
`binnenonderkantBuis` (a sewer's inner bottom): then the top is that depth minus the
pipe's outer diameter — the wall thickness is not in the delivery, so the cover comes
out up to one wall too shallow. For DiepteNAP the cover is maaiveldPeil - dieptePeil
(both NAP levels, upward positive); a DiepteNAP without maaiveldPeil gives no cover.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import shapely
from shapely.geometry.base import BaseGeometry

from checker.io.imkl.delivery import Delivery, DepthPoint, Element
from checker.model.section import Source
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import PackSet
from nen7171.reference import min_cover

REACH = 5.0  # metres from the cut within which a depth point counts as measured there
MIN_XY = 1.0  # IMKL's least XY accuracy (±1 m): how far an unlinked depth point may lie from its line
WEAKER = {"measured": 0, "declared": 1, "assumed": 2}


@dataclass(frozen=True, slots=True)
class Depth:
    """A cover (depth of the top, metres) and where it came from."""

    cover: float
    basis: str
    tolerance: float | None = None
    point: str | None = None

    def source(self, feature: str) -> Source:
        """Return the case's record of this depth for a feature."""
        return Source(feature, self.basis, self.tolerance, self.point)


def weakest(depths: list[Depth]) -> Depth:
    """Return the depth with the weakest basis (assumed before declared before measured); ties: the first."""
    return max(depths, key=lambda d: WEAKER[d.basis])


class DepthFinder:
    """Answer `depth(element, point)` for the lines of one delivery, with its nets and the packs' minima."""

    def __init__(self, delivery: Delivery, geometry: dict[str, BaseGeometry], packs: PackSet,
                 reach: float = REACH) -> None:
        self.delivery = delivery
        self.geometry = geometry
        self.packs = packs
        self.reach = reach
        linked = {d for e in delivery.elements for d in e.depths}
        self.loose: dict[str, list[DepthPoint]] = {}
        for point in delivery.depths.values():
            if point.id not in linked and point.net is not None:
                self.loose.setdefault(point.net, []).append(point)
        self.by_net: dict[str, list[Element]] = {}
        for e in delivery.elements:
            if e.net is not None and e.id in geometry:
                self.by_net.setdefault(e.net, []).append(e)

    def cover_of(self, point: DepthPoint, element: Element) -> float | None:
        """Return the cover a depth point gives a line, or None when it cannot give one."""
        if point.reference == "maaiveld":
            top = point.value
        elif point.ground is not None:
            top = point.ground - point.value
        else:
            return None
        if point.at == "binnenonderkantBuis":
            if element.diameter is None:
                return None
            top -= element.diameter
        return top if top >= 0 and math.isfinite(top) else None

    def measured(self, element: Element, at: tuple[float, float]) -> Depth | None:
        """Return the nearest usable depth point within reach: linked ones first, then the net's own."""
        linked = [self.delivery.depths[d] for d in element.depths if d in self.delivery.depths]
        for candidates in (linked, self._loose_on(element)):
            usable = []
            for point in candidates:
                distance = math.dist(point.point, at)
                cover = self.cover_of(point, element) if distance <= self.reach else None
                if cover is not None:
                    usable.append((distance, point.id, point, cover))
            if usable:
                _, _, point, cover = min(usable)
                return Depth(cover, "measured", point.accuracy, point.id)
        return None

    def _loose_on(self, element: Element) -> list[DepthPoint]:
        """Return the net's unlinked depth points that lie on this line rather than on another of its net."""
        line = self.geometry.get(element.id)
        if line is None or element.net is None:
            return []
        near = max(element.accuracy or MIN_XY, MIN_XY)
        out = []
        for point in self.loose.get(element.net, []):
            p = shapely.Point(point.point)
            distance = line.distance(p)
            if distance > near:
                continue
            others = (o for o in self.by_net.get(element.net, []) if o.id != element.id)
            if any(self.geometry[o.id].distance(p) < distance for o in others):
                continue
            out.append(point)
        return out

    def depth(self, element: Element, at: tuple[float, float]) -> Depth:
        """Return the cover of a line at a point of it, and its basis."""
        found = self.measured(element, at)
        if found is not None:
            return found
        net = self.delivery.nets.get(element.net or "")
        if net is not None and net.standard_depth is not None:
            return Depth(net.standard_depth, "declared")
        thema = net.thema if net is not None and net.thema else "overig"
        cover = min_cover(thema, self.packs)
        if cover <= 0:
            raise LiggingError(Diagnostic(Span(self.delivery.path, element.line, 1),
                                          f"{element.cls} {element.id} has no depth in the delivery and the packs "
                                          f"set no minimum cover to assume; add a pack with cover rules (--pack nen7171)"))
        return Depth(cover, "assumed")
