"""Cut a dwarsprofiel from a KLIC delivery along a line in RD New: the case mapping of the section.

The section runs from the line's first point (x = 0, the facade side) to its second. What
the delivery's centrelines do there becomes the section's objects:

- a cable or pipe whose centreline **crosses** the line is a round `existing` object at
  the crossing's x (a line crossed twice gives two objects, unless the two lie within its
  own size of each other: then the section cuts a bend of it, one object at their middle);
- a stretch that **runs along** the line — within `corridor` metres of it and within
  `ALONG_ANGLE` degrees of its direction, for at least `MIN_ALONG` metres, typically a house
  connection — is a `crossing` object from where it enters to where it leaves;
- a **container** (Kabelbed, Duct, Mantelbuis) is a rectangular line object of its net's
  thema that `holds` the cables and pipes it refers to (through cables, pipes, ducts)
  where they cross near it; they are placed side by side inside it, vertically centred.
  A Mantelbuis is drawn as the square around its circle. Width is the ductWidth (a
  Mantelbuis: its diameter); height the largest diameter it holds, else its width.

Status: functional → `existing`, disused → `disused` (takes space, not judged by an
operator's rules), projected → `planned` (someone's design, judged like a proposal); the
INSPIRE value is kept as the attribute `condition`. Every object records its feature and
depth basis (`checker.io.imkl.depth`) under `source`. A line or container the delivery
gives no size is drawn at its thema's typical diameter (`checker.model.sizes`, illustrative)
and says so in its `note`. Objects get short ids
by thema or container class, numbered from the facade.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from checker.io.imkl.delivery import LINE_CLASSES, Delivery, Element
from checker.io.imkl.depth import REACH, Depth, DepthFinder, weakest
from checker.model.section import CABLE_THEMAS, Zone
from checker.model.sizes import typical_diameter
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import PackSet
from nen7171.zones import UNKNOWN_ZONE

CORRIDOR = 1.0  # metres each side of the section line: IMKL's least XY accuracy (±1 m)
INFER = 0.10  # metres beyond a container's half width within which its beheerder's unlisted lines lie in it
BUNDLE = 0.01  # metres: lines of one beheerder crossing this close were drawn on one centreline
ALONG_ANGLE = 20.0  # degrees between a segment and the section within which it runs along it
MIN_ALONG = 0.5  # metres: a shorter stretch along the section is not a crossing
MERGE = 0.05  # metres between stretches along the section that are one crossing
MIN_WIDTH, MAX_WIDTH = 1.0, 250.0  # metres: a section line this short or long is a mistake
DIGITS = 3  # millimetres in the written case
STATUS = {"functional": "existing", "disused": "disused", "projected": "planned"}
PREFIX = {
    "datatransport": "dt", "laagspanning": "ls", "middenspanning": "ms", "hoogspanning": "hs",
    "landelijkHoogspanningsnet": "lhs", "gasLageDruk": "gld", "gasHogeDruk": "ghd",
    "buisleidingGevaarlijkeInhoud": "bgi", "water": "w", "warmte": "wa", "rioolVrijverval": "rv",
    "rioolOnderOverOfOnderdruk": "rd", "petrochemie": "pc", "wees": "wees", "overig": "ov",
}
CONTAINER_PREFIX = {"Kabelbed": "kb", "Mantelbuis": "mb", "Duct": "duct"}
ARG = Span("<command line>", 1, 1)


@dataclass(frozen=True, slots=True)
class Hit:
    """Where one element meets the section: a crossing at `x`, or a stretch along it from `start` to `end`."""

    element: Element
    x: float | None = None
    start: float | None = None
    end: float | None = None
    bend: tuple[float, ...] = ()  # the crossings of a bend in the line, cut as one at `x`


@dataclass(frozen=True, slots=True)
class Cut:
    """A cut section: the case mapping, and what the reader and the cut had to say about the data."""

    case: dict[str, Any]
    warnings: tuple[str, ...]


def _bad(message: str) -> LiggingError:
    return LiggingError(Diagnostic(ARG, message))


def parse_points(text: str, what: str) -> list[tuple[float, float]]:
    """Parse `"X1,Y1 X2,Y2 ..."` (RD New metres) into points.

    >>> parse_points("155000,388000 155012.5,388000", "--line")
    [(155000.0, 388000.0), (155012.5, 388000.0)]
    """
    points = []
    for part in text.split():
        xs, _, ys = part.partition(",")
        try:
            x, y = float(xs), float(ys)
        except ValueError:
            raise _bad(f"{what}: '{part}' is not X,Y (RD New metres, e.g. \"155000,388000 155012,388000\")") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise _bad(f"{what}: '{part}' is not a finite point")
        points.append((x, y))
    if len(points) < 2:
        raise _bad(f"{what} needs at least two points X1,Y1 X2,Y2")
    return points


def element_lines(delivery: Delivery, elements: Iterable[Element] | None = None) -> dict[str, BaseGeometry]:
    """Return each element's centreline (all its links together), for the elements with links in the delivery."""
    out: dict[str, BaseGeometry] = {}
    for e in delivery.elements if elements is None else elements:
        parts = [delivery.links[link] for link in e.links if link in delivery.links]
        if parts:
            out[e.id] = parts[0] if len(parts) == 1 else shapely.union_all(parts)
    return out


def _segments(geometry: BaseGeometry) -> np.ndarray:
    """Return every segment of a (multi)line as rows (x0, y0, x1, y1)."""
    rows = []
    for part in shapely.get_parts(geometry):
        c = shapely.get_coordinates(part)
        if len(c) >= 2:
            rows.append(np.hstack([c[:-1], c[1:]]))
    return np.vstack(rows) if rows else np.empty((0, 4))


def _merge(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Merge stretches that touch (within MERGE) and drop those shorter than MIN_ALONG."""
    out: list[list[float]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1] + MERGE:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out if b - a >= MIN_ALONG]


def hits(element: Element, line: BaseGeometry, start: tuple[float, float], end: tuple[float, float],
         corridor: float = CORRIDOR, size: float = 0.0) -> list[Hit]:
    """Return where a centreline of `size` metres across meets the section from `start` to `end`.

    Stretches along the section come first (see the module docstring). Every other place
    where the centreline meets the section line is a crossing: a point, or the middle of a
    piece lying on the line that is too short to be a stretch. Where the line meets the
    section again within its own size, the section cuts one bend of it (a line doubling
    back, a vertex touching the section, digitising noise), not two lines: such crossings
    are one, at their middle, keeping the crossings it stands for in `bend`. A crossing
    within its size of a stretch is where that stretch turns away; the stretch is widened
    to it.
    """
    width = math.dist(start, end)
    ux, uy = (end[0] - start[0]) / width, (end[1] - start[1]) / width
    section = shapely.linestrings([start, end])
    band = section.buffer(corridor, cap_style="flat")
    along: list[tuple[float, float]] = []
    seg = _segments(line)
    if len(seg):
        dx, dy = seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]
        length = np.hypot(dx, dy)
        with np.errstate(invalid="ignore", divide="ignore"):
            sine = np.abs(dx * uy - dy * ux) / length
        for k in np.flatnonzero((length > 0) & (sine <= math.sin(math.radians(ALONG_ANGLE)))):
            inside = shapely.intersection(shapely.linestrings([seg[k, :2], seg[k, 2:]]), band)
            for part in shapely.get_parts(inside):
                c = shapely.get_coordinates(part)
                if len(c) < 2:
                    continue
                t = (c[:, 0] - start[0]) * ux + (c[:, 1] - start[1]) * uy
                a, b = max(float(t.min()), 0.0), min(float(t.max()), width)
                if b > a:
                    along.append((a, b))
    stretches = _merge(along)
    xs: list[float] = []
    for part in shapely.get_parts(shapely.intersection(line, section)):
        c = shapely.get_coordinates(part)
        if len(c):
            t = (c[:, 0] - start[0]) * ux + (c[:, 1] - start[1]) * uy
            xs.append(min(max(0.5 * (float(t.min()) + float(t.max())), 0.0), width))
    reach = max(MERGE, size)
    widened = True
    while widened:  # a widened stretch may reach the next crossing
        widened = False
        for x in list(xs):
            near = [i for i, (a, b) in enumerate(stretches) if a - reach <= x <= b + reach]
            if near:
                a, b = stretches[near[0]]
                stretches[near[0]] = (min(a, x), max(b, x))
                xs.remove(x)
                widened = True
    out = [Hit(element, start=a, end=b) for a, b in _merge(stretches)]
    for run in _runs(sorted(xs), size):
        out.append(Hit(element, x=0.5 * (run[0] + run[-1]), bend=tuple(run) if len(run) > 1 else ()))
    return out


def _runs(xs: list[float], size: float) -> list[list[float]]:
    """Group sorted crossings of one line that lie less than its size apart (at least a micrometre)."""
    runs: list[list[float]] = []
    for x in xs:
        if runs and x - runs[-1][-1] < max(size, 1e-6):
            runs[-1].append(x)
        else:
            runs.append([x])
    return runs


def _r(value: float) -> float:
    rounded = round(value, DIGITS)
    return 0.0 if rounded == 0 else rounded


def _size(element: Element, thema: str) -> tuple[float, bool]:
    """Return a line's diameter and whether it came from the delivery (else the thema's typical one, illustrative)."""
    if element.diameter is not None:
        return element.diameter, True
    return typical_diameter(thema), False


class Cutter:
    """Cut sections from one delivery: its lines, depth finder and packs, shared by every section."""

    def __init__(self, delivery: Delivery, packs: PackSet, corridor: float = CORRIDOR, reach: float = REACH) -> None:
        self.delivery = delivery
        self.packs = packs
        self.corridor = corridor
        self.warnings: list[str] = list(delivery.warnings)
        usable = []
        for e in delivery.elements:
            if delivery.thema(e) is None:
                if e.net not in delivery.nets:
                    self.warnings.append(f"{delivery.path}:{e.line}: {e.cls} {e.id}: its Utiliteitsnet {e.net} is not "
                                         f"in the delivery; left out")
                continue
            usable.append(e)
        self.lines = element_lines(delivery, usable)
        self.ids = list(self.lines)
        self.tree = shapely.STRtree([self.lines[i] for i in self.ids])
        self.elements = delivery.by_id()
        self.finder = DepthFinder(delivery, self.lines, packs, reach)
        self.keys = 0

    def key(self) -> str:
        """Return a fresh placeholder id (objects are numbered from the facade once all are known)."""
        self.keys += 1
        return f"#{self.keys}"

    def cut(self, start: tuple[float, float], end: tuple[float, float], zones: tuple[Zone, ...] | None = None,
            name: str | None = None, station: float | None = None, delivery_ref: str | None = None) -> Cut:
        """Return the case mapping of the section from `start` (x = 0) to `end`."""
        width = math.dist(start, end)
        if width < MIN_WIDTH or width > MAX_WIDTH:
            raise _bad(f"the section line is {width:.2f} m long; a dwarsprofiel is {MIN_WIDTH:g} to {MAX_WIDTH:g} m")
        section = shapely.linestrings([start, end])
        found: list[Hit] = []
        for k in self.tree.query(section.buffer(self.corridor + 0.01)):
            ident = self.ids[int(k)]
            element = self.elements[ident]
            found.extend(hits(element, self.lines[ident], start, end, self.corridor, self.extent(element)))
        ux, uy = (end[0] - start[0]) / width, (end[1] - start[1]) / width

        def rd(x: float) -> tuple[float, float]:
            return (start[0] + x * ux, start[1] + x * uy)

        objects = self._objects(found, rd)
        case: dict[str, Any] = {"ligging": 1}
        case["name"] = name or f"{self.delivery.path.rsplit('/', 1)[-1]}: dwarsprofiel " + (
            f"station {station:g} m" if station is not None else f"{start[0]:.0f},{start[1]:.0f} → {end[0]:.0f},{end[1]:.0f}")
        bases = [o["source"]["depth"] for o in objects]
        case["description"] = (f"Cut from KLIC delivery {self.delivery.path} (IMKL {self.delivery.version}): "
                               f"{len(objects)} objects; cover measured {bases.count('measured')}, declared "
                               f"{bases.count('declared')}, assumed {bases.count('assumed')}.")
        case["width"] = _r(width)
        case["zones"] = self._zones(zones, width)
        case["objects"] = objects
        place: dict[str, Any] = {"from": [_r(start[0]), _r(start[1])], "to": [_r(end[0]), _r(end[1])]}
        if station is not None:
            place["station"] = _r(station)
        if delivery_ref is not None:
            place["delivery"] = delivery_ref
        case["place"] = place
        return Cut(case, tuple(self.warnings))

    @staticmethod
    def _zones(zones: tuple[Zone, ...] | None, width: float) -> list[dict[str, Any]]:
        if not zones:
            return [{"kind": UNKNOWN_ZONE, "from": 0.0, "to": _r(width)}]
        total = zones[-1].end
        if abs(total - width) > 0.01:
            raise _bad(f"--zones add up to {total:g} m but the section is {width:.3f} m long")
        out = [{"kind": z.kind, "from": _r(z.start), "to": _r(z.end)} for z in zones]
        out[-1]["to"] = _r(width)
        return out

    # ------------------------------------------------------------------ objects

    def _objects(self, found: list[Hit], rd: Any) -> list[dict[str, Any]]:
        """Turn hits into case objects: containers with what they hold, bundles of lines, stretches along."""
        points = sorted((h for h in found if h.x is not None), key=lambda h: (h.x or 0.0, h.element.id))
        claims = self._claims(points)
        claimed = {j for js in claims.values() for j in js}
        objects: list[tuple[float, str, dict[str, Any]]] = []
        loose: list[Hit] = []
        for k, h in enumerate(points):
            if k in claimed:
                continue
            if not h.element.container:
                loose.append(h)
                continue
            # everything inside, however deep: lines are drawn in this container, inner containers named
            inside, stack = [], list(claims.get(k, []))
            while stack:
                j = stack.pop()
                inside.append(j)
                stack.extend(claims.get(j, []))
            lines = sorted((j for j in inside if not points[j].element.container), key=lambda j: (points[j].x or 0.0, j))
            inner = sorted({points[j].element.id for j in inside if points[j].element.container})
            objects.extend(self._container(h, [points[j] for j in lines], inner, rd))
        for bundle in _bundles(loose, self.delivery.thema):
            objects.extend(self._bundle(bundle, rd))
        for h in found:
            if h.start is not None:
                objects.append(self._along(h, rd))
        ordered = sorted(objects, key=lambda item: (item[0], item[1], item[2]["source"]["feature"]))
        numbered: dict[str, int] = {}
        final: dict[str, str] = {}
        for _, prefix, obj in ordered:
            numbered[prefix] = numbered.get(prefix, 0) + 1
            final[obj["id"]] = f"{prefix}-{numbered[prefix]}"
        out = []
        for _, _, obj in ordered:
            obj["id"] = final[obj["id"]]
            if "holds" in obj:
                obj["holds"] = [final[i] for i in obj["holds"]]
            out.append(_tidy(obj))
        return out

    def _claims(self, points: list[Hit]) -> dict[int, list[int]]:
        """Return, per container hit, the hits that lie directly in it.

        A container that names what it holds (cables, pipes, ducts) claims those features
        where they cross within its half width plus the IMKL ±1 m; one that names nothing
        claims the lines and smaller containers of its own beheerder and thema that cross
        within its half width plus `INFER` — deliveries often draw what lies in a bed on the
        bed's own centreline without listing it. Outer containers claim first (a Kabelbed,
        then a Duct, then a Mantelbuis); each hit lies in one container.
        """
        taken: set[int] = set()
        claims: dict[int, list[int]] = {}
        by_element: dict[str, list[int]] = {}
        for k, h in enumerate(points):
            by_element.setdefault(h.element.id, []).append(k)
        for k, h in sorted(enumerate(points), key=lambda item: (-_order(item[1].element), item[0])):
            if not h.element.container:
                continue
            half = 0.5 * (h.element.width or h.element.diameter or 0.0)
            x = h.x or 0.0
            mine: list[int] = []
            if h.element.holds:
                for content in h.element.holds:
                    near = [j for j in by_element.get(content, []) if j not in taken and j != k
                            and abs((points[j].x or 0.0) - x) <= half + CORRIDOR]
                    if near:
                        mine.append(min(near, key=lambda j: abs((points[j].x or 0.0) - x)))
                        taken.add(mine[-1])
            else:
                thema = self.delivery.thema(h.element)
                for j, other in enumerate(points):
                    if (j != k and j not in taken and other.element.owner == h.element.owner
                            and self.delivery.thema(other.element) == thema and _order(other.element) < _order(h.element)
                            and abs((other.x or 0.0) - x) <= half + INFER):
                        mine.append(j)
                        taken.add(j)
            if mine:
                claims[k] = mine
        # a container claimed by another one claims first in the order above only if it is outer;
        # drop claims that would make a cycle (two containers naming each other)
        for k in list(claims):
            claims[k] = [j for j in claims[k] if k not in claims.get(j, [])]
        return claims

    def extent(self, element: Element) -> float:
        """Return how wide an element is drawn across the section: a container's width, else its diameter."""
        if element.container and element.width:
            return element.width
        return _size(element, self.thema(element))[0]

    def thema(self, element: Element) -> str:
        """Return an element's thema (its net's; `overig` when the net names none)."""
        return self.delivery.thema(element) or "overig"

    def _common(self, element: Element, key: str) -> dict[str, Any]:
        """Return the fields every imported object carries (id is a placeholder until numbering)."""
        thema = self.delivery.thema(element) or "overig"
        default = "cable" if thema in CABLE_THEMAS else "pipe"
        kind = LINE_CLASSES.get(element.cls) or ("pipe" if element.cls == "Mantelbuis" else default)
        obj: dict[str, Any] = {"id": key}
        if kind != default:
            obj["kind"] = kind
        obj["network"] = thema
        owner = self.delivery.owner(element)
        if owner:
            obj["owner"] = owner
        obj["status"] = STATUS[element.status]
        attributes: dict[str, Any] = {"condition": element.status}
        for name, value in element.attributes:
            attributes[name] = _quantity(name, value)
        obj["attributes"] = attributes
        return obj

    def _bundle(self, bundle: list[Hit], rd: Any) -> list[tuple[float, str, dict[str, Any]]]:
        """Return loose lines; lines of one beheerder drawn on one centreline are placed side by side there."""
        sizes = [_size(h.element, self.thema(h.element)) for h in bundle]
        centre = sum(h.x or 0.0 for h in bundle) / len(bundle)
        left = centre - 0.5 * sum(size for size, _ in sizes)
        out = []
        for h, (size, given) in zip(bundle, sizes, strict=True):
            e = h.element
            x = left + 0.5 * size if len(bundle) > 1 else h.x or 0.0
            left += size
            depth = self.finder.depth(e, rd(h.x or 0.0))
            obj = self._common(e, self.key())
            obj.update({"x": _r(x), "cover": _r(depth.cover), "diameter": _r(size)})
            notes = []
            if len(bundle) > 1:
                notes.append(f"one of {len(bundle)} lines of its beheerder drawn on one centreline in the delivery: "
                             f"placed side by side")
            if h.bend:
                notes.append(_bend_note(h))
            if not given:
                notes.append(f"no diameter in the delivery: drawn {size * 1000:.0f} mm (illustrative)")
            if notes:
                obj["note"] = "; ".join(notes)
            obj["source"] = _source(depth, e.id)
            out.append((x, PREFIX[obj["network"]], obj))
        return out

    def _container(self, h: Hit, held: list[Hit], inner: list[str], rd: Any) -> list[tuple[float, str, dict[str, Any]]]:
        """Return a container and the lines in it, side by side inside it, vertically centred.

        Containers inside it (a Duct in a Kabelbed, a Mantelbuis in a Duct) are protective
        layers around the same lines: they are named in its note, not drawn.
        """
        e = h.element
        x = h.x or 0.0
        depth = self.finder.depth(e, rd(x))
        sized = [_size(c.element, self.thema(c.element)) for c in held]
        sizes = [size for size, _ in sized]
        width, height, notes = _box(e, sizes, self.thema(e))
        if sum(sizes) > width + 1e-9:
            notes.append(f"{e.cls} {width * 1000:.0f} mm wide in the delivery, narrower than the "
                         f"{sum(sizes) * 1000:.0f} mm it holds: drawn {sum(sizes) * 1000:.0f} mm wide")
            width = sum(sizes)
        if inner:
            notes.append("around what it holds also " + ", ".join(inner) + " (not drawn)")
        if h.bend:
            notes.append(_bend_note(h))
        obj = self._common(e, self.key())
        obj.update({"x": _r(x), "cover": _r(depth.cover), "width": _r(width), "height": _r(height)})
        if notes:
            obj["note"] = "; ".join(notes)
        obj["source"] = _source(depth, e.id)
        out = []
        slack = max(width - sum(sizes), 0.0) / (len(sizes) + 1)
        left = x - 0.5 * width + slack
        keys = []
        for c, (size, given) in zip(held, sized, strict=True):
            line = self._common(c.element, self.key())
            centre = left + 0.5 * size
            line.update({"x": _r(centre), "cover": _r(depth.cover + max(height - size, 0.0) / 2), "diameter": _r(size)})
            held_notes = [_bend_note(c)] if c.bend else []
            if not given:
                held_notes.append(f"no diameter in the delivery: drawn {size * 1000:.0f} mm (illustrative)")
            if held_notes:
                line["note"] = "; ".join(held_notes)
            line["source"] = _source(depth, c.element.id)
            keys.append(line["id"])
            out.append((centre, PREFIX[line["network"]], line))
            left += size + slack
        if keys:
            obj["holds"] = keys
        out.append((x, CONTAINER_PREFIX[e.cls], obj))
        return out

    def _along(self, h: Hit, rd: Any) -> tuple[float, str, dict[str, Any]]:
        e = h.element
        a, b = h.start or 0.0, h.end or 0.0
        first, last = self.finder.depth(e, rd(a)), self.finder.depth(e, rd(b))
        size = e.width if e.container and e.width else _size(e, self.thema(e))[0]
        given = (e.width if e.container else e.diameter) is not None
        obj = self._common(e, self.key())
        obj.pop("kind", None)
        obj = {"id": obj["id"], "kind": "crossing", **{k: v for k, v in obj.items() if k != "id"}}
        cover: float | list[float] = _r(first.cover) if abs(first.cover - last.cover) < 1e-9 else [_r(first.cover),
                                                                                                     _r(last.cover)]
        obj.update({"from": _r(a), "to": _r(b), "cover": cover, "diameter": _r(size)})
        notes = [f"{e.cls} running along the section"]
        if not given:
            notes.append(f"no size in the delivery: drawn {size * 1000:.0f} mm (illustrative)")
        obj["note"] = "; ".join(notes)
        basis = weakest([first, last])
        obj["source"] = _source(basis, e.id)
        prefix = CONTAINER_PREFIX[e.cls] if e.container else PREFIX[obj["network"]]
        return a, prefix, obj


def _bundles(hits: list[Hit], thema: Any) -> list[list[Hit]]:
    """Group crossings (sorted by x) of different lines of one beheerder and thema within BUNDLE of each other.

    Two crossings of one line are never a bundle: `hits` has made a bend of those that close.
    """
    groups: dict[tuple[str | None, str | None], list[list[Hit]]] = {}
    for h in hits:
        key = (h.element.owner, thema(h.element))
        runs = groups.setdefault(key, [])
        if (runs and (h.x or 0.0) - (runs[-1][-1].x or 0.0) <= BUNDLE
                and all(other.element.id != h.element.id for other in runs[-1])):
            runs[-1].append(h)
        else:
            runs.append([h])
    return [run for runs in groups.values() for run in runs]


def _bend_note(h: Hit) -> str:
    """Say that a crossing stands for a bend the section cuts, and where the line meets the section there."""
    where = ", ".join(f"{x:.3f}" for x in h.bend)
    return f"the section cuts a bend of it, meeting it at x = {where} m: one object at their middle"


def _order(element: Element) -> int:
    """Rank containers from the outside in (Kabelbed, Duct, Mantelbuis; a line is innermost)."""
    return {"Kabelbed": 3, "Duct": 2, "Mantelbuis": 1}.get(element.cls, 0)


def _box(e: Element, sizes: list[float], thema: str) -> tuple[float, float, list[str]]:
    """Return a container's rectangle (width, height) from the delivery, and notes on what was not given."""
    notes: list[str] = []
    if e.cls == "Mantelbuis":
        if e.diameter is not None:
            return e.diameter, e.diameter, ["a Mantelbuis, drawn as the square around its circle"]
        side = max(sizes, default=typical_diameter(thema))
        return side, side, [f"no pipeDiameter in the delivery: drawn {side * 1000:.0f} mm square (illustrative)"]
    if e.width is not None:
        width = e.width
    else:
        width = sum(sizes) if sizes else typical_diameter(thema)
        notes.append(f"no ductWidth in the delivery: drawn {width * 1000:.0f} mm wide"
                     + (" (what it holds, side by side)" if sizes else " (illustrative)"))
    if sizes:
        height = max(sizes)
        notes.append("height: the largest line it holds (not in the delivery)")
    else:
        height = width
        notes.append("height not in the delivery: taken equal to the width")
    return width, height, notes


def _source(depth: Depth, feature: str) -> dict[str, Any]:
    out: dict[str, Any] = {"feature": feature, "depth": depth.basis}
    if depth.tolerance is not None:
        out["tolerance"] = _r(depth.tolerance)
    if depth.point is not None:
        out["point"] = depth.point
    return out


def _quantity(name: str, value: float | str) -> float | str:
    """Return an attribute as the case file writes it (a quantity with its SI unit)."""
    if isinstance(value, str):
        return value
    unit = {"voltage": "V", "operating_voltage": "V", "pressure": "Pa"}.get(name)
    return f"{value:.10g} {unit}" if unit else float(f"{value:.10g}")


def _tidy(obj: dict[str, Any]) -> dict[str, Any]:
    """Order an object's keys as the case format writes them."""
    order = ("id", "kind", "network", "owner", "status", "x", "from", "to", "cover", "diameter", "width", "height",
             "holds", "attributes", "source", "note")
    return {k: obj[k] for k in order if k in obj}
