"""A KLIC delivery as frozen data: utility nets, the cables, pipes and containers on them, depth points.

The reader (`checker.io.imkl.reader`) fills these from the GML. Everything is already in SI
units and RD New metres: diameters and widths in metres, voltage in volt, pressure in
pascal, depths in metres. Identifiers are the strings the delivery refers to features by
(`nl.imkl-KL1031.abc`): the `gml:id` where the feature has one, else its INSPIRE or
NEN 3610 identifier joined as `namespace-localId` — the form `xlink:href` uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from shapely.geometry.base import BaseGeometry

# IMKL KabelOfLeiding classes and the object kind each becomes in a section
LINE_CLASSES = {
    "Elektriciteitskabel": "cable",
    "Telecommunicatiekabel": "cable",
    "Waterleiding": "pipe",
    "Rioolleiding": "pipe",
    "OlieGasChemicalienPijpleiding": "pipe",
    "ThermischePijpleiding": "pipe",
    "Overig": "pipe",
}
# IMKL KabelEnLeidingContainer classes: they hold cables, pipes and other containers
CONTAINER_CLASSES = ("Kabelbed", "Mantelbuis", "Duct")
STATUSES = ("functional", "disused", "projected")


@dataclass(frozen=True, slots=True)
class Net:
    """A Utiliteitsnet: its IMKL thema and declared standard depth (standaardDieptelegging, metres)."""

    id: str
    thema: str | None
    standard_depth: float | None
    line: int


@dataclass(frozen=True, slots=True)
class Element:
    """A cable, pipe or container: its class, net, links (centrelines) and what the delivery says of it.

    `status` is the INSPIRE currentStatus (functional, disused, projected); `diameter` the
    pipeDiameter or kabelDiameter and `width` a duct's or bed's ductWidth, in metres;
    `holds` the features a container refers to through cables, pipes and ducts; `depths`
    the depth points linked through dieptelegging; `accuracy` the XY accuracy class in
    metres; `owner` the bronhoudercode.
    """

    id: str
    cls: str
    net: str | None
    links: tuple[str, ...]
    status: str
    line: int
    diameter: float | None = None
    width: float | None = None
    attributes: tuple[tuple[str, float | str], ...] = ()
    holds: tuple[str, ...] = ()
    depths: tuple[str, ...] = ()
    accuracy: float | None = None
    owner: str | None = None

    @property
    def container(self) -> bool:
        """Tell whether the element is a Kabelbed, Mantelbuis or Duct."""
        return self.cls in CONTAINER_CLASSES


@dataclass(frozen=True, slots=True)
class DepthPoint:
    """A DiepteTovMaaiveld (`reference` maaiveld) or DiepteNAP (`reference` NAP) at a point.

    `value` is dieptePeil in metres: below maaiveld, or the NAP level of the measured point;
    `ground` the maaiveldPeil (NAP level of the ground) of a DiepteNAP; `accuracy` the depth
    accuracy class in metres (None when `onbekend`); `at` the measured point of the line
    (`bovenkant`, the top, or `binnenonderkantBuis`, a sewer's inner bottom).
    """

    id: str
    reference: str
    value: float
    point: tuple[float, float]
    net: str | None
    line: int
    ground: float | None = None
    accuracy: float | None = None
    at: str = "bovenkant"


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a delivery holds, read once: version, nets, elements, their link geometry, depth points, owners."""

    path: str
    version: str
    nets: dict[str, Net]
    elements: tuple[Element, ...]
    links: dict[str, BaseGeometry]
    depths: dict[str, DepthPoint]
    owners: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def by_id(self) -> dict[str, Element]:
        """Return the elements keyed by identifier."""
        return {e.id: e for e in self.elements}

    def thema(self, element: Element) -> str | None:
        """Return the IMKL thema of an element's net, or None when the net is not in the delivery."""
        net = self.nets.get(element.net or "")
        return net.thema if net else None

    def owner(self, element: Element) -> str | None:
        """Return the name of the element's beheerder (its bronhoudercode when the delivery names none)."""
        if element.owner is None:
            return None
        return self.owners.get(element.owner, element.owner)
