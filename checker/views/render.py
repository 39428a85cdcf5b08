"""Draw a cross-section (dwarsprofiel) to scale as SVG, and rasterise it to PNG.

The SVG is written by hand, element by element, so tests can read it back with an XML
parser: every object is a `<g class="object">` carrying its id, kind, network, status, x
and cover in metres, and the root `<svg>` carries the scale (`data-scale`, px per metre)
and the origin (`data-x0`, `data-y0`, the facade at maaiveld) so positions can be checked
to the millimetre. Colours are the IMKL PMKL 3.0 palette of the loaded packs (`thema ...
colour`).

Nothing written on the drawing covers anything else. Object labels stand upright in a lane
under the section, each joined to its object by a leader, spread so that none touch; the
contents of a rack are drawn again, larger, in a detail per rack, tier by tier. Findings
are drawn last, numbered in the order of the findings list: a distance along the plane it
measures (a horizontal clearance as a horizontal line between the faces it is measured
from), an outline for a single object; a baseline finding grey, an accepted deviation
green. Every piece of text that comes from a case or rule file is XML-escaped. PNG output
goes through CairoSVG, which renders this SVG without a browser.
"""

from __future__ import annotations

import html
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import shapely
from shapely.ops import nearest_points

from checker.engine.evaluate import Engine
from checker.engine.select import compile_selector
from checker.model.findings import Finding
from checker.model.geometry import shape
from checker.model.numbers import fixed
from checker.model.section import Obj, Section
from checker.pipeline.run import load_one
from dsl import ast
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import PackSet

FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
FALLBACK_COLOUR = "#808080"
FINDING_COLOUR = "#e00000"
BASELINE_COLOUR = "#8a8a8a"
ACCEPTED_COLOUR = "#2e7d32"
ROOT_COLOUR = "#2e7d32"
TRUNK_COLOUR = "#8b5a2b"
STRUCTURE_COLOUR = "#9e9e9e"
CONTAINER_COLOUR = "#d4d4d4"
LEADER_COLOUR = "#9e9e9e"
# climate adaptation objects: an infiltration crate (water blue), a wadi (grass green), a tree's rooting volume (soil brown)
CLIMATE_COLOURS = {"infiltration": "#4f83b8", "wadi": "#6aa84f", "tree-soil": "#8d6e3f"}
ZONE_COLOURS = {"trottoir": "#c9c2b8", "rijbaan": "#6b6b6b", "fietspad": "#b5524a", "parkeren": "#8e8e8e",
                "groen": "#7cb342", "kade": "#a1887f"}
LEFT, RIGHT, TOP = 80.0, 190.0, 140.0
LABEL_SIZE = 9.0
# a label's width in px per character at LABEL_SIZE (DejaVu Sans averages a little under 0.6 em)
CHAR = 0.6 * LABEL_SIZE
LANE_GAP = LABEL_SIZE + 3.0
MAX_SCALE = 300.0
DETAIL_HEIGHT = 300.0
MAX_DETAIL_SCALE = 800.0

Box = tuple[float, float, float, float]


def _e(text: object) -> str:
    """Escape text for XML content and attribute values."""
    return html.escape(str(text), quote=True)


def _n(value: float) -> str:
    """Format a pixel coordinate (0.01 px is far below 1 mm at every scale used)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _m(value: float) -> str:
    """Format a length in metres for a data attribute (0.1 mm)."""
    return f"{value:.4f}"


def _width(text: str, size: float = LABEL_SIZE) -> float:
    """Return the width in px a line of text takes at a font size (an estimate on the safe side)."""
    return 0.6 * size * len(text)


@dataclass(frozen=True, slots=True)
class Frame:
    """The mapping from section metres to drawing pixels."""

    scale: float
    x0: float
    y0: float
    depth: float
    width: float

    def px(self, x: float) -> float:
        """Return the drawing x of a section x (metres from the facade)."""
        return self.x0 + x * self.scale

    def py(self, depth: float) -> float:
        """Return the drawing y of a depth below maaiveld."""
        return self.y0 + depth * self.scale

    @property
    def bottom(self) -> float:
        """Return the drawing y of the lowest depth drawn."""
        return self.py(self.depth)

    @property
    def right(self) -> float:
        """Return the drawing x of the far edge of the profile."""
        return self.px(self.width)


def _extent(section: Section) -> float:
    """Return the depth to draw: everything in the section plus a margin, in 0.5 m steps."""
    deepest = 1.5
    for o in section.objects:
        deepest = max(deepest, o.bottom, o.root_depth or 0.0)
    return math.ceil((deepest + 0.3) / 0.5) * 0.5


def frame_for(section: Section) -> Frame:
    """Choose one scale for both axes so the section fits about 1100 x 650 px."""
    depth = _extent(section)
    width = max(section.width, max((o.x + o.half_width for o in section.objects), default=0.0))
    scale = min(1100.0 / width, 650.0 / depth, MAX_SCALE)
    return Frame(scale, LEFT, TOP, depth, width)


def colour_of(obj: Obj, packs: PackSet) -> str:
    """Return the PMKL colour of an object's thema (grey when the packs define none)."""
    if obj.network is not None and obj.network in packs.themas:
        return packs.themas[obj.network].colour
    if obj.kind == "structure":
        return STRUCTURE_COLOUR
    if obj.kind == "container":
        return CONTAINER_COLOUR
    if obj.kind == "tree":
        return TRUNK_COLOUR
    return CLIMATE_COLOURS.get(obj.kind, FALLBACK_COLOUR)


def spread(wanted: list[float], gap: float, low: float = -math.inf) -> list[float]:
    """Return positions as near as possible to `wanted`, at least `gap` apart, none below `low`, in input order.

    Touching runs are merged into clusters that sit centred on what their members want
    (the least squares placement of a run at fixed spacing).

    >>> spread([10, 12, 40], 10)
    [6.0, 16.0, 40.0]
    """
    order = sorted(range(len(wanted)), key=lambda k: wanted[k])
    clusters: list[tuple[float, list[int]]] = []
    for k in order:
        clusters.append((max(wanted[k], low), [k]))
        while len(clusters) > 1:
            (start_a, members_a), (start_b, members_b) = clusters[-2], clusters[-1]
            if start_a + len(members_a) * gap <= start_b + 1e-9:
                break
            members = members_a + members_b
            start = max(sum(wanted[m] - i * gap for i, m in enumerate(members)) / len(members), low)
            clusters[-2:] = [(start, members)]
    out = [0.0] * len(wanted)
    for start, members in clusters:
        for i, m in enumerate(members):
            out[m] = start + i * gap
    return out


class _Space:
    """The rectangles already taken on the page, so that new text lands where nothing is drawn."""

    def __init__(self) -> None:
        self.boxes: list[Box] = []

    def free(self, box: Box) -> bool:
        """Tell whether a box touches nothing taken."""
        return not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in self.boxes)

    def take(self, box: Box) -> None:
        """Mark a box as taken."""
        self.boxes.append(box)

    def near(self, x: float, y: float, w: float, h: float, reach: float = 90.0) -> tuple[float, float] | None:
        """Return the top-left corner of a free w x h box near (x, y) and take it; None when none is in reach."""
        ring = 0.0
        while ring <= reach:
            for dx, dy in ((ring, -h / 2), (-ring - w, -h / 2), (-w / 2, -ring - h), (-w / 2, ring),
                           (ring, -ring - h), (-ring - w, -ring - h), (ring, ring), (-ring - w, ring)):
                box = (x + dx, y + dy, x + dx + w, y + dy + h)
                if self.free(box):
                    self.take(box)
                    return box[0], box[1]
            ring += 6.0
        return None


@dataclass(frozen=True, slots=True)
class _Mark:
    """How one finding is drawn: its state, the measured segment, extension lines, outlines, a dimension."""

    segment: tuple[tuple[float, float], tuple[float, float]] | None
    extensions: tuple[tuple[tuple[float, float], tuple[float, float]], ...] = ()
    outlines: tuple[tuple[str, Box], ...] = ()
    dimension: tuple[tuple[float, float], tuple[float, float]] | None = None


def finding_state(f: Finding) -> str:
    """Return how a finding is drawn: 'baseline', 'accepted' (granted and in force), or 'open'."""
    if f.baseline:
        return "baseline"
    if dict(f.accepted).get("state") == "accepted":
        return "accepted"
    return "open"


STATE_LOOK = {"open": (FINDING_COLOUR, ""), "baseline": (BASELINE_COLOUR, ' stroke-dasharray="5 3"'),
              "accepted": (ACCEPTED_COLOUR, ' stroke-dasharray="2 2"')}


class _Drawing:
    """Accumulate the SVG of one section."""

    def __init__(self, section: Section, findings: tuple[Finding, ...], packs: PackSet, prefix: str) -> None:
        self.s = section
        self.findings = findings
        self.packs = packs
        self.prefix = prefix
        self.f = frame_for(section)
        self.out: list[str] = []
        self.space = _Space()
        self.patterns: dict[str, str] = {}
        self.by_id = section.by_id()
        self.rack_of = {held: o.id for o in section.objects if o.kind == "rack" for held in o.holds}
        self.racks = [o for o in section.objects if o.kind == "rack"]
        # where each object is drawn large: the detail frame of its rack (letters A, B, ... in rack order)
        self.letters = {r.id: chr(ord("A") + k) if k < 26 else f"R{k + 1}" for k, r in enumerate(self.racks)}
        self.details: dict[str, Frame] = {}
        self.leader_at = 0
        self.lane_right = 0.0
        self.detail_right = 0.0

    def pattern(self, colour: str) -> str:
        """Return the id of a hatch pattern in a colour, defining it once."""
        if colour not in self.patterns:
            self.patterns[colour] = f"{self.prefix}hatch-{colour.lstrip('#')}"
        return self.patterns[colour]

    # -- ground, zones, scales ------------------------------------------------------------
    def ground(self) -> None:
        """Draw the soil, the surface zones named along the top, and the maaiveld line."""
        f = self.f
        self.out.append(f'<rect class="soil" x="{_n(f.px(0))}" y="{_n(f.y0)}" width="{_n(f.right - f.x0)}" '
                        f'height="{_n(f.bottom - f.y0)}" fill="#f6f1e7"/>')
        for i, z in enumerate(self.s.zones):
            a, b = f.px(z.start), f.px(z.end)
            colour = ZONE_COLOURS.get(z.kind, "#bdbdbd")
            half = 0.5 * _width(z.kind, 11)
            name_y = 44 + 12 * (i % 2)
            self.space.take(((a + b) / 2 - half, name_y - 11, (a + b) / 2 + half, name_y + 2))
            self.out.append(f'<g class="zone" data-kind="{_e(z.kind)}" data-from="{_m(z.start)}" data-to="{_m(z.end)}">'
                            f'<rect x="{_n(a)}" y="{_n(f.y0 - 8)}" width="{_n(b - a)}" height="8" fill="{colour}" '
                            f'stroke="#ffffff" stroke-width="0.5"/>'
                            f'<text x="{_n((a + b) / 2)}" y="{_n(name_y)}" text-anchor="middle" '
                            f'font-size="11">{_e(z.kind)}</text>'
                            f'<line x1="{_n(a)}" y1="{_n(f.y0 - 8)}" x2="{_n(a)}" y2="{_n(58 + 12 * (i % 2) - 10)}" '
                            f'stroke="#9e9e9e" stroke-width="0.5"/></g>')
        self.space.take((f.x0, f.y0 - 8, f.right, f.y0))
        self.out.append(f'<line class="maaiveld" x1="{_n(f.px(0) - 10)}" y1="{_n(f.y0)}" x2="{_n(f.right + 10)}" '
                        f'y2="{_n(f.y0)}" stroke="#3e2723" stroke-width="1.5"/>')
        self.out.append(f'<text x="{_n(f.right + 12)}" y="{_n(f.y0 - 5)}" font-size="10" fill="#3e2723">maaiveld</text>')
        self.space.take((f.right + 10, f.y0 - 16, f.right + 12 + _width("maaiveld", 10), f.y0))
        self.out.append(f'<line class="facade" x1="{_n(f.px(0))}" y1="{_n(f.y0 - 70)}" x2="{_n(f.px(0))}" '
                        f'y2="{_n(f.y0)}" stroke="#555555" stroke-width="3"/>')

    def depth_scale(self) -> None:
        """Draw the depth scale along the left edge, in metres below maaiveld."""
        f = self.f
        step = 0.5 if f.depth <= 4 else 1.0
        ax = f.x0 - 14
        parts = [f'<g class="depth-scale"><line x1="{_n(ax)}" y1="{_n(f.y0)}" x2="{_n(ax)}" y2="{_n(f.bottom)}" '
                 f'stroke="#333333"/>']
        d = 0.0
        while d <= f.depth + 1e-9:
            y = f.py(d)
            parts.append(f'<line class="tick" data-depth="{_m(d)}" x1="{_n(ax - 4)}" y1="{_n(y)}" x2="{_n(ax)}" y2="{_n(y)}" '
                         f'stroke="#333333"/><text x="{_n(ax - 6)}" y="{_n(y + 3)}" text-anchor="end" '
                         f'font-size="9">{d:.1f}</text>')
            d += step
        self.space.take((0.0, f.y0 - 6, f.x0, f.bottom + 6))
        parts.append(f'<text x="{_n(ax - 44)}" y="{_n(f.y0 + 12)}" font-size="9" '
                     f'transform="rotate(-90 {_n(ax - 44)} {_n(f.y0 + 12)})" text-anchor="end">diepte (m)</text></g>')
        self.out.append("".join(parts))

    def dimensions(self, top: float) -> float:
        """Draw dimension lines for the zone widths and the profile width from `top`; return the y below them."""
        y1, y2 = top + 12, top + 36
        for z in self.s.zones:
            self.out.append(self._dimension(z.start, z.end, y1, f"{z.end - z.start:.2f}", "zone"))
        self.out.append(self._dimension(0.0, self.s.width, y2, f"{self.s.width:.2f} m", "profile"))
        return y2 + 20

    def _dimension(self, a: float, b: float, y: float, text: str, what: str) -> str:
        """Return one horizontal dimension line from a to b (metres) with its label."""
        xa, xb = self.f.px(a), self.f.px(b)
        return (f'<g class="dimension" data-of="{what}" data-from="{_m(a)}" data-to="{_m(b)}">'
                f'<line x1="{_n(xa)}" y1="{_n(y)}" x2="{_n(xb)}" y2="{_n(y)}" stroke="#333333" stroke-width="0.7"/>'
                f'<line x1="{_n(xa)}" y1="{_n(y - 5)}" x2="{_n(xa)}" y2="{_n(y + 5)}" stroke="#333333" stroke-width="0.7"/>'
                f'<line x1="{_n(xb)}" y1="{_n(y - 5)}" x2="{_n(xb)}" y2="{_n(y + 5)}" stroke="#333333" stroke-width="0.7"/>'
                f'<text x="{_n((xa + xb) / 2)}" y="{_n(y - 3)}" text-anchor="middle" font-size="9">{_e(text)}</text></g>')

    # -- objects ------------------------------------------------------------------------------
    def objects(self) -> None:
        """Draw every object by kind: big and background ones first, lines on top; reserve their space."""
        order = {"structure": 0, "tree": 1, "tree-soil": 1, "wadi": 1, "reservation": 2, "container": 3,
                 "infiltration": 3, "rack": 4, "crossing": 5}
        for o in sorted(self.s.objects, key=lambda o: (order.get(o.kind, 6), o.id)):
            self.out.append(self._object(o, self.f))
            if o.kind not in ("structure", "reservation", "crossing") and o.id not in self.rack_of:
                self.space.take(self._bounds(o, self.f))
        for rack in self.racks:
            _, y0, x1, _ = self._bounds(rack, self.f)
            letter = self.letters[rack.id]
            self.out.append(f'<g class="detail-mark" data-id="{_e(rack.id)}" data-detail="{_e(letter)}">'
                            f'<circle cx="{_n(x1 + 9)}" cy="{_n(y0 + 9)}" r="8" fill="#ffffff" stroke="#263238"/>'
                            f'<text x="{_n(x1 + 9)}" y="{_n(y0 + 12.5)}" font-size="10" text-anchor="middle" '
                            f'font-weight="bold">{_e(letter)}</text></g>')
            self.space.take((x1, y0, x1 + 18, y0 + 18))

    def _object(self, o: Obj, f: Frame, cls: str = "object") -> str:
        """Return the group that draws one object in a frame, carrying its data attributes."""
        colour = colour_of(o, self.packs)
        existing = o.status == "existing"
        look = (' fill-opacity="0.35" stroke-dasharray="4 2"' if existing else
                ' fill-opacity="0.12" stroke-dasharray="1 2"' if o.status == "disused" else ' fill-opacity="0.9"')
        attrs = (f'class="{cls} {_e(o.kind)} {_e(o.status)}" data-id="{_e(o.id)}" data-kind="{_e(o.kind)}" '
                 f'data-network="{_e(o.network or "")}" data-status="{_e(o.status)}" data-x="{_m(o.x)}" '
                 f'data-cover="{_m(o.cover)}" data-colour="{colour}"')
        body: list[str] = []
        if o.kind == "tree":
            attrs += f' data-root-radius="{_m(o.root_radius or 0.0)}" data-root-depth="{_m(o.root_depth or 0.0)}"'
            if o.root_radius is not None and o.root_depth is not None:
                a, b = f.px(o.x - o.root_radius), f.px(o.x + o.root_radius)
                body.append(f'<rect class="root-zone" x="{_n(a)}" y="{_n(f.y0)}" width="{_n(b - a)}" '
                            f'height="{_n(o.root_depth * f.scale)}" fill="{ROOT_COLOUR}" fill-opacity="0.07" '
                            f'stroke="{ROOT_COLOUR}" stroke-dasharray="6 3"/>')
            trunk = max((o.diameter or 0.0) * f.scale, 2.0)
            body.append(f'<circle class="crown" cx="{_n(f.px(o.x))}" cy="{_n(f.y0 - 52)}" r="{_n(min(max(trunk, 12), 24))}" '
                        f'fill="{ROOT_COLOUR}" fill-opacity="0.25" stroke="{ROOT_COLOUR}" stroke-width="0.8"/>')
            body.append(f'<rect class="trunk" x="{_n(f.px(o.x) - trunk / 2)}" y="{_n(f.y0 - 50)}" width="{_n(trunk)}" '
                        f'height="50" fill="{TRUNK_COLOUR}"{look}/>')
        elif o.kind == "crossing":
            d = o.diameter or 0.0
            c1 = o.cover_end if o.cover_end is not None else o.cover
            s, e = o.start or 0.0, o.end or 0.0
            attrs += f' data-from="{_m(s)}" data-to="{_m(e)}" data-cover-end="{_m(c1)}"'
            pts = [(s, o.cover), (e, c1), (e, c1 + d), (s, o.cover + d)]
            body.append(f'<polygon class="body" points="{" ".join(f"{_n(f.px(x))},{_n(f.py(z))}" for x, z in pts)}" '
                        f'fill="{colour}" stroke="{colour}" stroke-width="0.8"{look}/>')
        elif o.round:
            r = 0.5 * (o.diameter or 0.0)
            attrs += f' data-diameter="{_m(o.diameter or 0.0)}"'
            self._cover_line(body, o, f)
            body.append(f'<circle class="body" cx="{_n(f.px(o.x))}" cy="{_n(f.py(o.cover + r))}" r="{_n(r * f.scale)}" '
                        f'fill="{colour}" stroke="#222222" stroke-width="0.6"{look}/>')
        else:
            body.extend(self._box(o, colour, look, f))
            attrs += f' data-width="{_m(o.width or 0.0)}" data-height="{_m(o.height or 0.0)}"'
        if cls != "object":
            # a drawing again (a rack's detail): the object's data attributes stay on its one `object` group
            attrs = f'class="{cls} {_e(o.kind)} {_e(o.status)}" data-id="{_e(o.id)}"'
        return f'<g {attrs}>{"".join(body)}</g>'

    def _cover_line(self, body: list[str], o: Obj, f: Frame) -> None:
        """Add the cover dimension of a planned cable or pipe that lies alone: maaiveld down to its top."""
        if o.status == "existing" or o.cover <= 0 or o.id in self.rack_of:
            return
        x = f.px(o.x)
        body.append(f'<line class="cover-dimension" data-cover="{_m(o.cover)}" x1="{_n(x)}" y1="{_n(f.y0)}" '
                    f'x2="{_n(x)}" y2="{_n(f.py(o.cover))}" stroke="#777777" stroke-width="0.5" '
                    f'stroke-dasharray="1 2"/>')

    def _box(self, o: Obj, colour: str, look: str, f: Frame) -> list[str]:
        """Return the elements of a rectangular object (bed, duct, structure, container, rack, reservation)."""
        hw = o.half_width
        x, y = f.px(o.x - hw), f.py(o.cover)
        w, h = 2 * hw * f.scale, o.body_height * f.scale
        rect = f'x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}"'
        if o.kind == "rack":
            dash = ' stroke-dasharray="4 2"' if o.status == "existing" else ""
            parts = [f'<rect class="body" {rect} fill="#ffffff" fill-opacity="0.6" stroke="#263238" stroke-width="1.5"{dash}/>']
            parts.extend(self._tiers(o, f))
            if "afdekplaat" in o.measures:
                parts.append(f'<line class="cover-plate" x1="{_n(x - 4)}" y1="{_n(y - 2)}" x2="{_n(x + w + 4)}" '
                             f'y2="{_n(y - 2)}" stroke="#455a64" stroke-width="4"/>')
            return parts
        if o.kind == "reservation":
            return [f'<rect class="body" {rect} fill="url(#{self.pattern(colour)})" stroke="{colour}" '
                    f'stroke-width="1" stroke-dasharray="5 3"/>']
        if o.kind in ("wadi", "tree-soil"):
            # a soil body: lines may not pass it, but it is soil, drawn as a tinted band
            dash = ' stroke-dasharray="4 2"' if o.status != "planned" else ""
            return [f'<rect class="body" {rect} fill="{colour}" fill-opacity="0.25" stroke="{colour}" '
                    f'stroke-width="1"{dash}/>']
        if o.kind == "structure":
            return [f'<rect class="body" {rect} fill="{colour}" stroke="#424242" stroke-width="1"{look}/>',
                    f'<rect {rect} fill="url(#{self.pattern("#616161")})" stroke="none"/>']
        if o.kind not in ("container", "infiltration"):
            cover: list[str] = []
            self._cover_line(cover, o, f)
            return cover + [f'<rect class="body" {rect} fill="{colour}" stroke="#222222" stroke-width="0.6"{look}/>']
        return [f'<rect class="body" {rect} fill="{colour}" stroke="#424242" stroke-width="1"{look}/>',
                f'<line x1="{_n(x)}" y1="{_n(y)}" x2="{_n(x + w)}" y2="{_n(y + h)}" stroke="#757575" stroke-width="0.6"/>',
                f'<line x1="{_n(x + w)}" y1="{_n(y)}" x2="{_n(x)}" y2="{_n(y + h)}" stroke="#757575" stroke-width="0.6"/>']

    def tiers(self, rack: Obj) -> list[tuple[float, float, list[Obj]]]:
        """Return a rack's tiers from the top: (top, bottom, objects), objects at one cover level forming one tier."""
        held = [self.by_id[i] for i in rack.holds if i in self.by_id]
        levels = sorted({round(o.cover, 3) for o in held})
        return [(level, max(o.bottom for o in members), members)
                for level in levels for members in [[o for o in held if round(o.cover, 3) == level]]]

    def _tiers(self, rack: Obj, f: Frame) -> list[str]:
        """Return dotted tier lines between the tiers of a rack."""
        parts: list[str] = []
        for (_, upper_bottom, _), (lower, _, _) in itertools.pairwise(self.tiers(rack)):
            depth = 0.5 * (upper_bottom + lower)
            if rack.cover < depth < rack.cover + rack.body_height:
                a, b = f.px(rack.x - rack.half_width), f.px(rack.x + rack.half_width)
                parts.append(f'<line class="tier" data-depth="{_m(depth)}" x1="{_n(a)}" y1="{_n(f.py(depth))}" '
                             f'x2="{_n(b)}" y2="{_n(f.py(depth))}" stroke="#607d8b" stroke-width="0.6" '
                             f'stroke-dasharray="2 2"/>')
        return parts

    def _bounds(self, o: Obj, f: Frame) -> Box:
        """Return the pixel bounds of an object's body in a frame (a tree: its trunk and crown above ground)."""
        if o.kind == "tree":
            half = max(max((o.diameter or 0.0) * f.scale, 2.0) / 2, 12)
            return f.px(o.x) - half, f.y0 - 76, f.px(o.x) + half, f.y0
        minx, miny, maxx, maxy = shape(o).bounds
        return f.px(minx), f.py(miny), f.px(maxx), f.py(maxy)

    # -- labels -------------------------------------------------------------------------------
    def _text(self, o: Obj) -> str:
        """Return the label of an object: id, what it is, its cover, whether it exists."""
        if o.kind == "tree":
            text = f"{o.id} · boom" + (f" · wortelzone {o.root_radius:.2f} m" if o.root_radius else "")
        elif o.kind == "crossing":
            end_cover = o.cover_end if o.cover_end is not None else o.cover
            text = f"{o.id} · {o.network} · {o.cover:.2f} to {end_cover:.2f} m"
        elif o.kind == "rack":
            text = f"{o.id} · rek · {o.cover:.2f} m · detail {self.letters[o.id]}"
        else:
            what = o.network if o.network and o.kind != "reservation" else (
                f"reservering {o.network}" if o.network else o.kind)
            size = f" · Ø {o.diameter * 1000:.0f} mm" if o.round and o.diameter is not None else ""
            text = f"{o.id} · {what}{size} · {o.cover:.2f} m"
        return text + {"existing": " (bestaand)", "disused": " (buiten gebruik)"}.get(o.status, "")

    def lane(self, top: float) -> float:
        """Stand the labels of the objects in the ground upright in a lane from `top`, each on a leader; return its bottom.

        Leaders go into the drawing first, so that the objects, drawn over them, show which is which.
        """
        labelled = sorted((o for o in self.s.objects if o.kind != "tree" and o.id not in self.rack_of),
                          key=lambda o: (self._anchor(o)[0], o.id))
        if not labelled:
            return top
        texts = [self._text(o) for o in labelled]
        xs = spread([self._anchor(o)[0] for o in labelled], LANE_GAP, low=8.0)
        knee = top - 12
        leaders, labels = [], []
        for o, text, lx in zip(labelled, texts, xs, strict=True):
            ax, ay = self._anchor(o)
            leaders.append(f'<polyline class="leader" data-id="{_e(o.id)}" points="{_n(ax)},{_n(ay)} {_n(ax)},{_n(knee)} '
                           f'{_n(lx)},{_n(top)}" fill="none" stroke="{LEADER_COLOUR}" stroke-width="0.5"/>')
            bx = lx + 3.5
            labels.append(f'<g class="label" data-id="{_e(o.id)}"><text x="{_n(bx)}" y="{_n(top + 2)}" '
                          f'font-size="{_n(LABEL_SIZE)}" text-anchor="end" transform="rotate(-90 {_n(bx)} {_n(top + 2)})">'
                          f'{_e(text)}</text></g>')
            self.space.take((lx - LABEL_SIZE / 2 - 1, top, lx + LABEL_SIZE / 2 + 1, top + 4 + _width(text)))
        self.out[self.leader_at:self.leader_at] = leaders
        self.out.extend(labels)
        self.lane_right = max(xs) + LABEL_SIZE
        return top + 6 + max(_width(t) for t in texts)

    def _anchor(self, o: Obj) -> tuple[float, float]:
        """Return where an object's leader starts: the bottom of its body (a crossing: its deeper end)."""
        f = self.f
        if o.kind == "crossing":
            end_cover = o.cover_end if o.cover_end is not None else o.cover
            at_end = end_cover >= o.cover
            x = (o.end if at_end else o.start) or 0.0
            return f.px(x) - (3 if at_end else -3), f.py(max(o.cover, end_cover) + (o.diameter or 0.0))
        return f.px(o.x), f.py(o.bottom)

    def tree_labels(self) -> None:
        """Write each tree's label above ground, beside its crown, where nothing else is."""
        f = self.f
        for o in sorted((o for o in self.s.objects if o.kind == "tree"), key=lambda o: o.x):
            text = self._text(o)
            w, h = _width(text), LABEL_SIZE + 2
            ax, ay = f.px(o.x) + 16, f.y0 - 30
            spot = self.space.near(ax, ay, w, h, reach=200)
            tx, ty = spot if spot is not None else (ax, ay - h / 2)
            self.out.append(f'<g class="label" data-id="{_e(o.id)}"><text x="{_n(tx)}" y="{_n(ty + LABEL_SIZE)}" '
                            f'font-size="{_n(LABEL_SIZE)}">{_e(text)}</text></g>')

    # -- rack details ---------------------------------------------------------------------------
    def detail(self, rack: Obj, top: float) -> float:
        """Draw a rack again at a larger scale, tier by tier, every held line labelled; return the y below it."""
        tiers = self.tiers(rack)
        held = [o for _, _, members in tiers for o in members]
        scale = min(MAX_DETAIL_SCALE, DETAIL_HEIGHT / max(rack.body_height + rack.cover, 0.1))
        names = [f"laag {k}: {', '.join(dict.fromkeys(o.network or o.kind for o in members))} · {tier_top:.2f} m"
                 for k, (tier_top, _, members) in enumerate(tiers, start=1)]
        left = LEFT + 20.0 + max((_width(name) for name in names), default=0.0)
        # the detail's own frame: the rack's left edge 0.1 m right of `left`, maaiveld at top + 30
        f = Frame(scale, left - (rack.x - rack.half_width - 0.1) * scale, top + 30, rack.cover + rack.body_height, 0.0)
        self.details[rack.id] = f
        letter = self.letters[rack.id]
        rx0, rx1 = f.px(rack.x - rack.half_width), f.px(rack.x + rack.half_width)
        title = (f"Detail {letter} — rek {rack.id}, {len(tiers)} lagen, "
                 f"schaal 1:{round(1000 / scale * 3.7795):d} bij 96 dpi")
        parts = [f'<g class="detail" data-id="{_e(rack.id)}" data-detail="{_e(letter)}" data-scale="{scale:.6f}" '
                 f'data-x0="{_n(f.x0)}" data-y0="{_n(f.y0)}">',
                 f'<text x="{_n(LEFT)}" y="{_n(top + 4)}" font-size="11" font-weight="bold">{_e(title)}</text>',
                 f'<line x1="{_n(rx0 - 40)}" y1="{_n(f.y0)}" x2="{_n(rx1 + 40)}" y2="{_n(f.y0)}" stroke="#3e2723" '
                 f'stroke-width="1.2"/><text x="{_n(rx1 + 44)}" y="{_n(f.y0 + 3)}" font-size="9">maaiveld</text>',
                 self._object(rack, f, "detail-object")]
        self.space.take((LEFT, top - 8, LEFT + _width(title, 11), top + 6))
        self.space.take(self._bounds(rack, f))
        for name, (tier_top, tier_bottom, _) in zip(names, tiers, strict=True):
            y = f.py(0.5 * (tier_top + tier_bottom))
            parts.append(f'<text class="tier-name" x="{_n(rx0 - 8)}" y="{_n(y + 3)}" font-size="{_n(LABEL_SIZE)}" '
                         f'text-anchor="end">{_e(name)}</text>')
            self.space.take((rx0 - 8 - _width(name), y - 6, rx0 - 8, y + 5))
        # labels in a column right of the rack, each at its line's height unless that would touch another;
        # the leaders go in before the lines, so that a leader passing a line runs behind it
        texts = [self._text(o) for o in held]
        ys = spread([f.py(o.cover + 0.5 * o.body_height) for o in held], LANE_GAP, low=top + 14)
        column = rx1 + 60
        for o, ly in zip(held, ys, strict=True):
            ay = f.py(o.cover + 0.5 * o.body_height)
            parts.append(f'<polyline class="leader" data-id="{_e(o.id)}" points="{_n(f.px(o.x))},{_n(ay)} '
                         f'{_n(rx1 + 14)},{_n(ay)} {_n(column - 4)},{_n(ly)}" fill="none" stroke="{LEADER_COLOUR}" '
                         f'stroke-width="0.5"/>')
        for o in held:
            parts.append(self._object(o, f, "detail-object"))
            self.space.take(self._bounds(o, f))
        for o, text, ly in zip(held, texts, ys, strict=True):
            parts.append(f'<g class="label" data-id="{_e(o.id)}"><text x="{_n(column)}" y="{_n(ly + 3)}" '
                         f'font-size="{_n(LABEL_SIZE)}">{_e(text)}</text></g>')
            self.space.take((column, ly - 6, column + _width(text), ly + 5))
        parts.append("</g>")
        self.out.append("".join(parts))
        self.detail_right = max(self.detail_right, column + max((_width(t) for t in texts), default=0.0))
        return max(f.bottom, max(ys, default=top) + 6) + 24

    # -- findings -------------------------------------------------------------------------
    def frame_of(self, fnd: Finding) -> tuple[Frame, str]:
        """Return the frame a finding is drawn in and its name: a rack's detail when every subject lies in that rack."""
        racks = {self.rack_of.get(i, i if i in self.details else None) for i in fnd.subjects if i in self.by_id}
        if len(racks) == 1:
            (rack,) = racks
            if rack is not None and rack in self.details and any(i in self.rack_of for i in fnd.subjects):
                return self.details[rack], f"detail-{self.letters[rack]}"
        return self.f, "main"

    def _relation(self, fnd: Finding) -> ast.Relation | None:
        """Return the relation a finding was measured by, looked up in the packs (None for built-in checks)."""
        wanted = {"clearance": ast.Clearance, "crossing": ast.CrossingClearance, "exclusion": ast.Exclusion}.get(fnd.kind)
        if wanted is None:
            return None
        for pr in self.packs.find(fnd.rule):
            for alternative in pr.rule.alternatives:
                for relation in alternative.relations:
                    if isinstance(relation, wanted):
                        return relation
        return None

    def _refs(self, rel: ast.Clearance, a: Obj, b: Obj) -> tuple[str, str]:
        """Return the reference geometry (edge or axis) each of two subjects is measured from."""
        if rel.a.ref == rel.b.ref:
            return rel.a.ref, rel.b.ref
        first = compile_selector(rel.a.selector, self.packs)
        if first(self.s, a) and not first(self.s, b):
            return rel.a.ref, rel.b.ref
        if first(self.s, b) and not first(self.s, a):
            return rel.b.ref, rel.a.ref
        return ("axis", "edge") if a.kind == "tree" else ("edge", "axis") if b.kind == "tree" else ("edge", "edge")

    def mark(self, fnd: Finding, f: Frame) -> _Mark:
        """Return how a finding is drawn in a frame: along the plane its relation measures."""
        subjects = [self.by_id[i] for i in fnd.subjects if i in self.by_id]
        if len(subjects) != 2:
            dimension = None
            if fnd.kind == "cover" and len(subjects) == 1 and f is self.f:
                o = subjects[0]
                x = f.px(o.x) + 4  # beside the object's own dotted cover line
                dimension = ((x, f.y0), (x, f.py(o.cover)))
            return _Mark(None, outlines=tuple((o.id, self._bounds(o, f)) for o in subjects), dimension=dimension)
        a, b = subjects
        rel = self._relation(fnd)
        if fnd.kind == "overlap":
            return _Mark(self._overlap(a, b, f))
        if isinstance(rel, ast.Clearance) and rel.plane in ("horizontal", "vertical"):
            ref_a, ref_b = self._refs(rel, a, b)
            return self._planar(rel.plane, (a, ref_a), (b, ref_b), f)
        if isinstance(rel, ast.CrossingClearance):
            crossing, line = (a, b) if a.kind == "crossing" else (b, a)
            if crossing.kind == "crossing":
                return _Mark(self._at_crossing(crossing, line, f))
        if isinstance(rel, ast.Exclusion):
            zone_owner, other = (a, b) if a.kind in ("tree", "reservation") else (b, a)
            return self._inside(zone_owner, other, f)
        if isinstance(rel, ast.Clearance) and "axis" in (rel.a.ref, rel.b.ref):
            ref_a, ref_b = self._refs(rel, a, b)
            pa = shapely.Point(a.x, a.cover + 0.5 * a.body_height) if ref_a == "axis" else shape(a)
            pb = shapely.Point(b.x, b.cover + 0.5 * b.body_height) if ref_b == "axis" else shape(b)
            return _Mark(self._nearest(pa, pb, f))
        return _Mark(self._nearest(shape(a), shape(b), f))

    def _nearest(self, sa: shapely.Geometry, sb: shapely.Geometry, f: Frame) -> tuple[tuple[float, float], tuple[float, float]]:
        """Return the pixel ends of the shortest line between two shapes, or their centres when they touch."""
        if sa.distance(sb) > 1e-6:
            pa, pb = nearest_points(sa, sb)
        else:
            pa, pb = shapely.centroid(sa), shapely.centroid(sb)
        return (f.px(pa.x), f.py(pa.y)), (f.px(pb.x), f.py(pb.y))

    def _planar(self, plane: str, first: tuple[Obj, str], second: tuple[Obj, str], f: Frame) -> _Mark:
        """Return a horizontal (or vertical) measured line between the faces (or axes) a clearance is measured from.

        The line lies where both bodies are, when they overlap across the plane; else halfway
        between their centres, with extension lines from each face to it.
        """
        horizontal = plane == "horizontal"

        def along(o: Obj, ref: str) -> tuple[float, float]:
            """Return the object's extent along the measured direction (a point for an axis)."""
            if horizontal:
                centre = o.x
                half = 0.0 if ref == "axis" else o.half_width
            else:
                centre = o.cover + 0.5 * o.body_height
                half = 0.0 if ref == "axis" else 0.5 * o.body_height
            return centre - half, centre + half

        def across(o: Obj) -> tuple[float, float]:
            """Return the object's extent across the measured direction."""
            if horizontal:
                return (0.0, 0.0) if o.kind == "tree" else (o.cover, o.cover + o.body_height)
            return o.x - o.half_width, o.x + o.half_width

        (a, ref_a), (b, ref_b) = sorted((first, second), key=lambda p: sum(along(*p)))
        (_, a_far), (b_near, _) = along(a, ref_a), along(b, ref_b)
        span_a, span_b = across(a), across(b)
        low, high = max(span_a[0], span_b[0]), min(span_a[1], span_b[1])
        if low <= high:
            level = 0.5 * (low + high)
        elif a.kind == "tree" or b.kind == "tree":
            # a tree is measured from its trunk at maaiveld: the line runs at the other body's depth
            level = 0.5 * sum(span_b if a.kind == "tree" else span_a)
        else:
            level = 0.25 * (sum(span_a) + sum(span_b))
        extensions = []
        for at, span, o in ((a_far, span_a, a), (b_near, span_b, b)):
            if not span[0] <= level <= span[1]:
                # from the point of the body that lies on the face (a circle's side at its centre) to the line
                start = 0.5 * sum(span) if o.round else (span[0] if level < span[0] else span[1])
                if o.kind == "tree":
                    start = 0.0
                extensions.append(((at, start), (at, level)))

        def point(along_value: float, across_value: float) -> tuple[float, float]:
            x, z = (along_value, across_value) if horizontal else (across_value, along_value)
            return f.px(x), f.py(z)

        return _Mark((point(a_far, level), point(b_near, level)),
                     tuple((point(*p), point(*q)) for p, q in extensions))

    def _at_crossing(self, crossing: Obj, line: Obj, f: Frame) -> tuple[tuple[float, float], tuple[float, float]]:
        """Return the vertical line between a crossing and a line where it passes the line."""
        s, e = crossing.start or 0.0, crossing.end or 0.0
        x = min(max(line.x, s), e)
        c1 = crossing.cover_end if crossing.cover_end is not None else crossing.cover
        top = crossing.cover + (c1 - crossing.cover) * ((x - s) / (e - s) if e > s else 0.0)
        bottom = top + (crossing.diameter or 0.0)
        if bottom <= line.cover:
            ends = (bottom, line.cover)
        elif top >= line.bottom:
            ends = (line.bottom, top)
        else:
            ends = (max(top, line.cover), min(bottom, line.bottom))
        return (f.px(x), f.py(ends[0])), (f.px(x), f.py(ends[1]))

    def _inside(self, owner: Obj, other: Obj, f: Frame) -> _Mark:
        """Return the shortest way out of a root zone or reservation, as the exclusion measures it (see `exit_distance`).

        Sideways the line runs at the body's depth from its face to the zone's side; down (or up,
        while the body stays below ground) it runs at the body's axis from its top (bottom) to
        the zone's bottom (top).
        """
        if owner.kind == "tree":
            if owner.root_radius is None or owner.root_depth is None:
                return _Mark(self._nearest(shape(owner), shape(other), f))
            zone = shapely.box(owner.x - owner.root_radius, 0.0, owner.x + owner.root_radius, owner.root_depth)
        else:
            zone = shape(owner)
        body = shape(other)
        if not zone.intersects(body) or zone.intersection(body).area <= 1e-12:
            return _Mark(self._nearest(zone, body, f))
        zx0, zy0, zx1, zy1 = zone.bounds
        ox0, oy0, ox1, oy1 = body.bounds
        middle, axis = 0.5 * (oy0 + oy1), 0.5 * (ox0 + ox1)
        ways = [(ox1 - zx0, ((zx0, middle), (ox1, middle))), (zx1 - ox0, ((ox0, middle), (zx1, middle))),
                (zy1 - oy0, ((axis, oy0), (axis, zy1)))]
        if oy0 - (oy1 - zy0) >= -1e-9:  # up only while the body's top stays below the surface
            ways.append((oy1 - zy0, ((axis, zy0), (axis, oy1))))
        _, ((x1, z1), (x2, z2)) = min(ways, key=lambda way: way[0])
        return _Mark(((f.px(x1), f.py(z1)), (f.px(x2), f.py(z2))))

    def _overlap(self, a: Obj, b: Obj, f: Frame) -> tuple[tuple[float, float], tuple[float, float]]:
        """Return a horizontal line across the part two bodies share, at its middle depth."""
        both = shape(a).intersection(shape(b))
        if both.is_empty:
            return self._nearest(shape(a), shape(b), f)
        x0, y0, x1, y1 = both.bounds
        return (f.px(x0), f.py(0.5 * (y0 + y1))), (f.px(x1), f.py(0.5 * (y0 + y1)))

    def finding_marks(self) -> None:
        """Draw each finding on top, in the order of the findings list: its measured line or outlines and a badge."""
        seen: dict[tuple[str, ...], int] = {}
        drawn = []
        for n, fnd in enumerate(self.findings, start=1):
            if any(i in self.by_id for i in fnd.subjects):
                f, frame = self.frame_of(fnd)
                drawn.append((n, fnd, f, frame, self.mark(fnd, f)))
        # every measured line is drawn before any text is placed, so no text lands on a line
        for *_, mark in drawn:
            for p, q in [s for s in (mark.segment, mark.dimension) if s is not None] + list(mark.extensions):
                self._take_line(p, q)
        for n, fnd, _, frame, mark in drawn:
            state = finding_state(fnd)
            colour, dash = STATE_LOOK[state]
            parts = [f'<g class="finding" data-index="{n}" data-rule="{_e(fnd.rule)}" data-kind="{_e(fnd.kind)}" '
                     f'data-severity="{_e(fnd.severity)}" data-state="{state}" data-frame="{_e(frame)}" '
                     f'data-subjects="{_e(" ".join(fnd.subjects))}">']
            for p, q in mark.extensions:
                parts.append(f'<line class="finding-extension" x1="{_n(p[0])}" y1="{_n(p[1])}" x2="{_n(q[0])}" '
                             f'y2="{_n(q[1])}" stroke="{colour}" stroke-width="0.6" stroke-dasharray="2 2"/>')
            if mark.segment is not None:
                (ax, ay), (bx, by) = mark.segment
                parts.append(f'<line class="finding-line" x1="{_n(ax)}" y1="{_n(ay)}" x2="{_n(bx)}" y2="{_n(by)}" '
                             f'stroke="{colour}" stroke-width="1.6"{dash}/>')
                # several findings on one pair share the line: their badges go to different places along it
                repeat = seen[fnd.subjects] = seen.get(fnd.subjects, -1) + 1
                t = 0.5 + 0.2 * ((repeat + 1) // 2) * (1 if repeat % 2 else -1)
                anchor = (ax + t * (bx - ax), ay + t * (by - ay))
            else:
                for oid, (x0, y0, x1, y1) in mark.outlines:
                    parts.append(f'<rect class="finding-outline" data-id="{_e(oid)}" x="{_n(x0 - 3)}" y="{_n(y0 - 3)}" '
                                 f'width="{_n(x1 - x0 + 6)}" height="{_n(y1 - y0 + 6)}" fill="none" '
                                 f'stroke="{colour}" stroke-width="1.4"{dash}/>')
                if mark.dimension is not None:
                    (px_, py_), (qx, qy) = mark.dimension
                    parts.append(f'<line class="finding-dimension" x1="{_n(px_)}" y1="{_n(py_)}" x2="{_n(qx)}" '
                                 f'y2="{_n(qy)}" stroke="{colour}" stroke-width="1"{dash}/>')
                x0, y0, x1, _ = mark.outlines[0][1]
                anchor = (x1 + 4, y0 - 4)
            parts.append(self._badge_and_text(fnd, n, anchor, colour))
            parts.append("</g>")
            self.out.append("".join(parts))

    def _take_line(self, p: tuple[float, float], q: tuple[float, float]) -> None:
        """Mark the pixels along a line as taken, a small box every few px."""
        steps = max(1, int(math.hypot(q[0] - p[0], q[1] - p[1]) / 4))
        for k in range(steps + 1):
            x, y = p[0] + (q[0] - p[0]) * k / steps, p[1] + (q[1] - p[1]) * k / steps
            self.space.take((x - 1.5, y - 1.5, x + 1.5, y + 1.5))

    def _badge_and_text(self, fnd: Finding, n: int, anchor: tuple[float, float], colour: str) -> str:
        """Return a numbered badge near `anchor` where nothing else is, with its measured / required text if that fits."""
        ax, ay = anchor
        text = _measure_text(fnd) if fnd.measured is not None and fnd.required is not None else ""
        w = 16 + (4 + _width(text) if text else 0)
        spot = self.space.near(ax + 6, ay, w, 16, reach=60)
        if spot is None and text:
            text, w = "", 16
            spot = self.space.near(ax + 6, ay, w, 16, reach=120)
        if spot is None:
            spot = (ax - 8, ay - 8)
        bx, by = spot[0] + 8, spot[1] + 8
        out = ""
        if math.hypot(bx - ax, by - ay) > 10:
            out += (f'<line class="finding-leader" x1="{_n(ax)}" y1="{_n(ay)}" x2="{_n(bx)}" y2="{_n(by)}" '
                    f'stroke="{colour}" stroke-width="0.5"/>')
        out += _badge(bx, by, n, colour)
        if text:
            out += (f'<text class="finding-text" x="{_n(bx + 10)}" y="{_n(by + 3)}" font-size="9" fill="{colour}" '
                    f'font-weight="bold">{_e(text)}</text>')
        return out

    # -- legend and index ------------------------------------------------------------------
    def legend(self, y: float) -> float:
        """Draw the legend (themas present, statuses, symbols); return the y below it."""
        themas = sorted({o.network for o in self.s.objects if o.network})
        entries: list[tuple[str, str]] = []
        for t in themas:
            known = self.packs.themas.get(t)
            colour = known.colour if known else FALLBACK_COLOUR
            name = f"{t} ({known.label})" if known else f"{t} (no colour in packs)"
            entries.append((f'<circle cx="8" cy="-4" r="6" fill="{colour}" stroke="#222222" stroke-width="0.6"/>', name))
        entries += [
            ('<rect x="2" y="-10" width="12" height="12" fill="#9e9e9e" fill-opacity="0.9" stroke="#222222"/>',
             "gepland (planned)"),
            ('<rect x="2" y="-10" width="12" height="12" fill="#9e9e9e" fill-opacity="0.35" stroke="#222222" '
             'stroke-dasharray="4 2"/>', "bestaand (existing)"),
            ('<rect x="2" y="-10" width="12" height="12" fill="#9e9e9e" fill-opacity="0.12" stroke="#222222" '
             'stroke-dasharray="1 2"/>', "buiten gebruik (disused)"),
            (f'<rect x="2" y="-10" width="12" height="12" fill="{ROOT_COLOUR}" fill-opacity="0.07" stroke="{ROOT_COLOUR}" '
             f'stroke-dasharray="6 3"/>', "wortelzone (root zone)"),
            (f'<rect x="2" y="-10" width="12" height="12" fill="url(#{self.pattern(FALLBACK_COLOUR)})" '
             f'stroke="{FALLBACK_COLOUR}" stroke-dasharray="5 3"/>', "reservering (reservation)"),
            (f'<rect x="2" y="-10" width="12" height="12" fill="{STRUCTURE_COLOUR}" stroke="#424242"/>',
             "constructie (structure)"),
            ('<line x1="0" y1="-8" x2="16" y2="-8" stroke="#455a64" stroke-width="4"/>', "afdekplaat (cover plate)"),
        ]
        # the climate bodies present, each in the colour and look it is drawn with
        kinds = {o.kind for o in self.s.objects}
        for kind, name, fill in (("infiltration", "infiltratiekrat (infiltration)", 'fill-opacity="0.9"'),
                                 ("wadi", "wadi (wadi)", 'fill-opacity="0.25"'),
                                 ("tree-soil", "boomgroeiplaats (tree-soil)", 'fill-opacity="0.25"')):
            if kind in kinds:
                colour = CLIMATE_COLOURS[kind]
                entries.append((f'<rect x="2" y="-10" width="12" height="12" fill="{colour}" {fill} stroke="{colour}"/>',
                                name))
        if self.findings:
            states = {finding_state(f) for f in self.findings}
            for state, name in (("open", "finding: measured / required"), ("baseline", "baseline finding (existing only)"),
                                ("accepted", "accepted deviation")):
                if state in states:
                    colour, dash = STATE_LOOK[state]
                    entries.append((f'<line x1="0" y1="-4" x2="16" y2="-4" stroke="{colour}" stroke-width="1.6"{dash}/>',
                                    name))
        page = max(self.f.right, self.lane_right, self.detail_right)
        columns = max(1, int((page + RIGHT - LEFT) // 240))
        self.out.append(f'<g class="legend"><text x="{_n(LEFT)}" y="{_n(y + 4)}" font-size="11" '
                        f'font-weight="bold">Legenda</text>')
        for k, (symbol, name) in enumerate(entries):
            ex, ey = LEFT + 240 * (k % columns), y + 24 + 18 * (k // columns)
            self.out.append(f'<g class="legend-entry" transform="translate({_n(ex)} {_n(ey)})">{symbol}'
                            f'<text x="22" y="0" font-size="10">{_e(name)}</text></g>')
        self.out.append("</g>")
        return y + 24 + 18 * math.ceil(len(entries) / columns) + 8

    def index(self, y: float) -> float:
        """Write the numbered findings index matching the findings list; return the y below it."""
        if not self.findings:
            return y
        self.out.append(f'<g class="findings-index"><text x="{_n(LEFT)}" y="{_n(y + 4)}" font-size="11" '
                        f'font-weight="bold">Findings</text>')
        for n, fnd in enumerate(self.findings, start=1):
            ty = y + 22 + 15 * (n - 1)
            state = finding_state(fnd)
            colour, _ = STATE_LOOK[state]
            text = f"{fnd.severity} {fnd.rule} [{fnd.kind}] {', '.join(fnd.subjects)}: {_measure_text(fnd)}{_tail(fnd)}"
            self.out.append(f'<g class="index-entry" data-index="{n}" data-rule="{_e(fnd.rule)}" data-state="{state}">'
                            + _badge(LEFT + 7, ty - 4, n, colour) +
                            f'<text x="{_n(LEFT + 20)}" y="{_n(ty)}" font-size="10">{_e(text)}</text></g>')
        self.out.append("</g>")
        return y + 22 + 15 * len(self.findings)

    def svg(self, show_findings: bool, show_index: bool = True) -> str:
        """Assemble the whole drawing."""
        self.ground()
        self.depth_scale()
        self.leader_at = len(self.out)
        self.objects()
        self.tree_labels()
        y = self.lane(self.f.bottom + 24)
        y = self.dimensions(y)
        for rack in self.racks:
            y = self.detail(rack, y + 10)
        y = self.legend(y)
        if show_findings and show_index:
            y = self.index(y)
        if show_findings:
            self.finding_marks()
        f = self.f
        width = max(f.right, self.lane_right, self.detail_right) + RIGHT
        height = max(y, max((b[3] for b in self.space.boxes), default=y)) + 10
        title = f"{self.s.name}" + (f" — {self.s.tag('municipality')}" if self.s.tag("municipality") else "")
        defs = "".join(
            f'<pattern id="{pid}" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)">'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="{colour}" stroke-width="1.5"/></pattern>'
            for colour, pid in sorted(self.patterns.items()))
        return (f'<svg xmlns="http://www.w3.org/2000/svg" class="dwarsprofiel" width="{_n(width)}" height="{_n(height)}" '
                f'viewBox="0 0 {_n(width)} {_n(height)}" font-family="{FONT}" data-scale="{f.scale:.6f}" '
                f'data-x0="{_n(f.x0)}" data-y0="{_n(f.y0)}" data-width="{_m(self.s.width)}" data-depth="{_m(f.depth)}">'
                f'<title>{_e(title)}</title><defs>{defs}</defs>'
                f'<rect class="background" width="100%" height="100%" fill="#ffffff"/>'
                f'<text class="case-name" x="{_n(LEFT)}" y="22" font-size="15" font-weight="bold">{_e(title)}</text>'
                f'<text x="{_n(width - 10)}" y="22" font-size="10" text-anchor="end" fill="#555555">'
                f'schaal 1:{round(1000 / f.scale * 3.7795):d} bij 96 dpi · maten in m</text>'
                + "".join(self.out) + "</svg>")


def _tail(f: Finding) -> str:
    """Return what the index adds to a finding that does not count: baseline, or the deviation granted."""
    if f.baseline:
        return " (baseline: existing objects only)"
    if f.accepted:
        info = dict(f.accepted)
        return f" ({info['state']}: approved by {info['approved_by']}, until {info['until']})"
    return ""


def _badge(x: float, y: float, n: int, colour: str = FINDING_COLOUR) -> str:
    """Return a numbered badge centred at (x, y)."""
    return (f'<circle class="badge" cx="{_n(x)}" cy="{_n(y)}" r="7" fill="{colour}"/>'
            f'<text x="{_n(x)}" y="{_n(y + 3)}" font-size="9" fill="#ffffff" text-anchor="middle" '
            f'font-weight="bold">{n}</text>')


def _measure_text(f: Finding) -> str:
    """Return "measured / required" for a finding with magnitudes, else its rule id."""
    if f.measured is None or f.required is None:
        return f.rule
    unit = "" if f.unit == "count" else f" {f.unit}"
    return f"{fixed(f.measured, f.unit)} / {f.op} {fixed(f.required, f.unit)}{unit}".rstrip()


def render_svg(section: Section, findings: Iterable[Finding], packs: PackSet,
               show_findings: bool = True, id_prefix: str = "d-", show_index: bool = True) -> str:
    """Return the to-scale SVG drawing of a section, with its findings on top unless told not to.

    Without `show_index` the numbered findings list under the drawing is left out (the live
    editor lists them beside it); the numbers on the drawing stay.
    """
    return _Drawing(section, tuple(findings), packs, id_prefix).svg(show_findings, show_index)


def render_png(section: Section, findings: Iterable[Finding], packs: PackSet,
               show_findings: bool = True, zoom: float = 1.5) -> bytes:
    """Return the drawing rasterised to PNG (CairoSVG), `zoom` times the SVG's pixel size."""
    import cairosvg  # type: ignore[import-untyped]  # imported here: only PNG output needs the cairo library

    svg = render_svg(section, findings, packs, show_findings)
    png: bytes = cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=zoom)
    return png


def render_case_file(case: Path, output: Path, engine: Engine, show_findings: bool = True) -> None:
    """Check one case (a case file, or a JSON Lines section) and write its drawing to an .svg or .png file, chosen by suffix."""
    suffix = output.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise LiggingError(Diagnostic(Span(str(output), 1, 1), f"cannot write a drawing as '{suffix or output.name}'; "
                                                               "expected a file name ending in .svg or .png"))
    if case.is_dir() and not (case / "case.yaml").is_file():
        raise LiggingError(Diagnostic(Span(str(case), 1, 1), "render draws one case: expected a case folder "
                                                             "holding case.yaml, a case.yaml file or FILE.jsonl:LINE"))
    section = load_one(case)
    findings = tuple(engine.evaluate(section))
    try:
        if suffix == ".svg":
            output.write_text(render_svg(section, findings, engine.packs, show_findings), encoding="utf-8")
        else:
            output.write_bytes(render_png(section, findings, engine.packs, show_findings))
    except OSError as exc:
        raise LiggingError(Diagnostic(Span(str(output), 1, 1), f"cannot write the drawing: {exc.strerror}")) from exc
