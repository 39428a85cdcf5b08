"""The cross-section (dwarsprofiel) as frozen data: zones, objects, tags, accepted deviations.

`checker.io.loader` builds these from `case.yaml`; everything else reads them. All lengths
are floats in metres, x from the facade, depths positive downward, `cover` the depth of
the top of an object. Each object knows the span it was written at.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from dsl.diagnostics import Span

# lengths closer than this (1 mm) are equal: every comparison of the loader, engine, lint and layout uses it
TOLERANCE = 0.001
KINDS = ("cable", "pipe", "crossing", "tree", "structure", "container", "rack", "reservation",
         "infiltration", "wadi", "tree-soil")
# climate adaptation: an infiltration crate (infiltratiekrat), a wadi (a shallow swale with its soil body) and
# the rooting volume of a tree (boomgroeiplaats); rectangular bodies that claim subsurface space as lines do
CLIMATE_KINDS = ("infiltration", "wadi", "tree-soil")
LINE_KINDS = ("cable", "pipe")
# planned: judged; existing: already in the ground (findings among existing objects only are a baseline);
# disused (buiten gebruik): in the ground, out of service — it takes space, but an operator's rules do
# not judge it unless a rule names the status itself (`line[status = disused]`)
STATUSES = ("planned", "existing", "disused")
IN_GROUND = ("existing", "disused")
# how likely a reservation's network is to come (a reservation "for a warmtenet that will probably never come")
LIKELIHOODS = ("certain", "likely", "possible", "unlikely")
# the years an object may carry: laid (built), taken out of service but left in the ground (disused), dug out
# (removed), and for a reservation the year its network is expected (claim)
YEAR_FIELDS = ("built", "disused", "removed", "claim")
# where an object's cover comes from (IMKL import): a depth point, the net's standaardDieptelegging, a pack minimum
DEPTH_BASES = ("measured", "declared", "assumed")
THEMAS = (
    "datatransport", "laagspanning", "middenspanning", "hoogspanning", "landelijkHoogspanningsnet",
    "gasLageDruk", "gasHogeDruk", "buisleidingGevaarlijkeInhoud", "water", "warmte",
    "rioolVrijverval", "rioolOnderOverOfOnderdruk", "petrochemie", "wees", "overig",
)
# Networks that are cables by default (the rest are pipes), for `kind` defaulting.
CABLE_THEMAS = ("datatransport", "laagspanning", "middenspanning", "hoogspanning", "landelijkHoogspanningsnet")


@dataclass(frozen=True, slots=True)
class Plausible:
    """The sizes one quantity takes in a real street, and the units a misread number was meant in.

    A bare number is in the case's `units` (metres by default), so `cover: 60` is 60 m and
    `diameter: 110` a 110 m pipe. Sizes outside these ranges do not exist under a street; the
    loader refuses them and suggests the unit (in `units`, most likely first) that brings the
    number into range. Every reader of cases (YAML, JSON Lines) checks against this one table.
    """

    shown: str
    noun: str
    low: float
    high: float
    units: tuple[str, ...]

    def holds(self, metres: float) -> bool:
        """Tell whether a length in metres lies in the range."""
        return self.low <= metres <= self.high

    def problem(self, metres: float, number: float, unit: str) -> str | None:
        """Return why `number unit` (= `metres`) cannot be this quantity, with the unit probably meant; None when it can."""
        if self.holds(metres):
            return None
        meant = [f"{number:g} {alt}" for alt in self.units if alt != unit and self.holds(number * UNIT_METRES[alt])]
        hint = f"; did you mean {meant[0]}?" if meant else ""
        return f"{number:g} {unit} is out of range for {self.noun} ({_short(self.low)} to {self.high:g} m){hint}"


# metres per unit of the units a case may declare (`units:`), for suggestions
UNIT_METRES = {"m": 1.0, "cm": 0.01, "mm": 0.001}

# the one table of plausible sizes (docs/case-format.md shows it; tests/test_case_format.py keeps them equal)
PLAUSIBLE: dict[str, Plausible] = {
    # generous: 5,000 objects (the most a section holds) half a metre apart; a file written in the wrong unit
    # throughout is caught by its covers and diameters, which have tight limits
    "width": Plausible("profile `width`", "a profile width", 0.1, 5000.0, ("m", "mm", "cm")),
    "cover": Plausible("`cover` of anything", "a cover", 0.0, 30.0, ("cm", "mm", "m")),
    "diameter": Plausible("`diameter` of a cable, pipe or crossing", "a cable or pipe diameter", 0.005, 4.0, ("mm", "cm", "m")),
    "line size": Plausible("`width`, `height` of a cable bed or duct", "a cable bed or duct", 0.005, 4.0, ("mm", "cm", "m")),
    "trunk": Plausible("trunk `diameter` of a tree", "a tree trunk", 0.02, 4.0, ("cm", "mm", "m")),
    "root radius": Plausible("root zone `radius`", "a root zone radius", 0.1, 30.0, ("m", "cm", "mm")),
    "root depth": Plausible("root zone `depth`", "a root zone depth", 0.1, 10.0, ("m", "cm", "mm")),
    "body size": Plausible("`width`, `height` of a structure, container, rack, reservation, infiltration, wadi or "
                           "tree-soil", "a structure, container, rack, reservation or climate body", 0.01, 100.0,
                           ("m", "cm", "mm")),
}


def _short(metres: float) -> str:
    """Show a small length in the unit an engineer would write it in."""
    if metres == 0 or metres >= 0.1:
        return f"{metres:g} m"
    if metres >= 0.01:
        return f"{metres * 100:g} cm"
    return f"{metres * 1000:g} mm"


@dataclass(frozen=True, slots=True)
class Zone:
    """A surface zone (trottoir, rijbaan, ...) from `start` to `end` metres."""

    kind: str
    start: float
    end: float
    span: Span


@dataclass(frozen=True, slots=True)
class Source:
    """Where an imported object came from: the delivery's feature and the basis of its cover.

    `depth` is `measured` (a depth point, `tolerance` its accuracy class in metres when
    known, `point` its id), `declared` (the net's standaardDieptelegging) or `assumed`
    (a minimum cover from the rule packs, no depth in the delivery).
    """

    feature: str
    depth: str
    tolerance: float | None = None
    point: str | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """Where a section lies on the map, in RD New (EPSG:28992).

    `start` is the RD point of x = 0 (the facade side), `end` that of x = width; `station`
    is the chainage along a street axis for sections cut along one, and `delivery` the KLIC
    delivery the section was cut from (a path relative to the case file).
    """

    start: tuple[float, float]
    end: tuple[float, float]
    station: float | None = None
    delivery: str | None = None

    def at(self, x: float, width: float) -> tuple[float, float]:
        """Return the RD point of profile position x (metres from the facade) on a section `width` wide.

        >>> Place((100.0, 200.0), (100.0, 212.0)).at(3.0, 12.0)
        (100.0, 203.0)
        """
        t = x / width if width > 0 else 0.0
        return (self.start[0] + t * (self.end[0] - self.start[0]), self.start[1] + t * (self.end[1] - self.start[1]))


@dataclass(frozen=True, slots=True)
class Obj:
    """One object in the section; fields not used by its kind are None or empty.

    Round objects have `diameter`; rectangular ones `width` and `height`. A crossing runs
    from `start` to `end` with cover `cover` at start and `cover_end` at end. A tree's
    `diameter` is its trunk; its root zone is `root_radius` wide each side, `root_depth` deep.
    Years (`built`, `disused`, `removed`; a reservation's `claim` and `likelihood`) place the object
    in time (`checker.model.moment`); a crossing that `connects` names the line it is the house
    connection of.
    """

    id: str
    kind: str
    network: str | None
    owner: str | None
    status: str
    x: float
    cover: float
    diameter: float | None = None
    width: float | None = None
    height: float | None = None
    start: float | None = None
    end: float | None = None
    cover_end: float | None = None
    root_radius: float | None = None
    root_depth: float | None = None
    sides: str | None = None
    holds: tuple[str, ...] = ()
    measures: tuple[str, ...] = ()
    attributes: tuple[tuple[str, float | str], ...] = ()
    span: Span = field(default_factory=lambda: Span("<case>", 1, 1))
    source: Source | None = None
    built: int | None = None
    disused: int | None = None
    removed: int | None = None
    claim: int | None = None
    likelihood: str | None = None
    connects: str | None = None

    @property
    def in_ground(self) -> bool:
        """Tell whether the object already lies in the ground (existing or disused)."""
        return self.status in IN_GROUND

    @property
    def round(self) -> bool:
        """Tell whether the object is drawn as a circle (a pipe or cable with a diameter)."""
        return self.diameter is not None and self.kind not in ("tree", "crossing")

    @property
    def half_width(self) -> float:
        """Return half the horizontal extent of the body."""
        if self.kind == "crossing":
            return 0.5 * abs((self.end or 0.0) - (self.start or 0.0))
        if self.kind == "tree":
            return 0.5 * (self.diameter or 0.0)
        if self.round:
            return 0.5 * (self.diameter or 0.0)
        return 0.5 * (self.width or 0.0)

    @property
    def body_height(self) -> float:
        """Return the vertical extent of the body (0 for a tree, whose body is above ground)."""
        if self.kind == "tree":
            return 0.0
        if self.kind == "crossing" or self.round:
            return self.diameter or 0.0
        return self.height or 0.0

    @property
    def bottom(self) -> float:
        """Return the depth of the underside (for a crossing: at its deeper end)."""
        top = max(self.cover, self.cover_end) if self.cover_end is not None else self.cover
        return top + self.body_height

    def dimension(self, name: str) -> float | None:
        """Return a dimension a threshold may use (`dsl.ast.DIMENSIONS`), or None when the object has none.

        `diameter` and `radius` of a round body, a crossing's pipe or a tree's trunk; `width` and
        `height` of the body as drawn in the section; `root-radius` and `root-depth` of a tree's
        root zone.
        """
        if name == "diameter":
            return self.diameter
        if name == "radius":
            return None if self.diameter is None else 0.5 * self.diameter
        if name == "width":
            has = self.diameter is not None or self.width is not None or self.kind == "crossing"
            return 2.0 * self.half_width if has else None
        if name == "height":
            has = self.kind != "tree" and (self.diameter is not None or self.height is not None)
            return self.body_height if has else None
        if name == "root-radius":
            return self.root_radius
        if name == "root-depth":
            return self.root_depth
        raise ValueError(f"unknown dimension {name!r}")

    def following(self, main_x: float, dx: float, dz: float) -> Obj:
        """Return this house connection with its end at its main (drawn at main_x) moved along with it by dx, dz."""
        start, end = self.start or 0.0, self.end or 0.0
        cover_end = self.cover if self.cover_end is None else self.cover_end
        if abs(end - main_x) <= abs(start - main_x):
            end, cover_end = end + dx, cover_end + dz
            return replace(self, x=0.5 * (start + end), end=end, cover_end=cover_end)
        start = start + dx
        return replace(self, x=0.5 * (start + end), start=start, cover=self.cover + dz, cover_end=cover_end)

    def attribute(self, name: str) -> float | str | None:
        """Return an attribute value (SI float or text), or None when absent."""
        for key, value in self.attributes:
            if key == name:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Accepted:
    """A deviation granted (rule, optional subjects, who approved, until when) or asked for.

    An entry whose `approved_by` or `until` is left empty ("" here) is pending approval:
    it is shown with its findings but does not excuse them.
    """

    rule: str
    subjects: tuple[str, ...]
    reason: str
    approved_by: str
    until: str
    measured: float | None
    span: Span

    @property
    def pending(self) -> bool:
        """Tell whether the deviation still waits for an approver or an end date."""
        return not self.approved_by or not self.until


@dataclass(frozen=True, slots=True)
class Expected:
    """A finding a golden case must produce (rule, kind, subjects)."""

    rule: str
    kind: str
    subjects: tuple[str, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Section:
    """A whole case: tags, width, zones, objects, expectations and accepted deviations.

    `moment` is the year the section was asked for (`check --at YEAR`), None for the year of its works.
    """

    path: str
    name: str
    width: float
    zones: tuple[Zone, ...]
    objects: tuple[Obj, ...]
    tags: tuple[tuple[str, str | float], ...] = ()
    planned: str | None = None
    expect: tuple[Expected, ...] = ()
    accept: tuple[Accepted, ...] = ()
    span: Span = field(default_factory=lambda: Span("<case>", 1, 1))
    place: Place | None = None
    moment: int | None = None

    def tag(self, name: str) -> str | float | None:
        """Return a case tag (municipality, street_type, planned, ...) or None."""
        for key, value in self.tags:
            if key == name:
                return value
        return None

    def by_id(self) -> dict[str, Obj]:
        """Return the objects keyed by id."""
        return {o.id: o for o in self.objects}

    def zone_at(self, x: float) -> Zone | None:
        """Return the surface zone above x (the left one on a boundary), or None outside."""
        for zone in self.zones:
            if zone.start <= x <= zone.end:
                return zone
        return None
