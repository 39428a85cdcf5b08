"""Draw a cross-section (dwarsprofiel) to scale as SVG, and rasterise it to PNG.

The SVG is written by hand, element by element, so tests can read it back with an XML
parser: every object is a `<g class="object">` carrying its id, kind, network, status, x
and cover in metres, and the root `<svg>` carries the scale (`data-scale`, px per metre)
and the origin (`data-x0`, `data-y0`, the facade at maaiveld) so positions can be checked
to the millimetre. Colours are the IMKL PMKL 3.0 palette of the loaded packs (`thema ...
colour`). Findings are drawn on top and numbered in the order of the findings list.
Every piece of text that comes from a case or rule file is XML-escaped. PNG output goes
through CairoSVG, which renders this SVG without a browser.
"""

from __future__ import annotations

import html
import itertools
import math
from dataclasses import dataclass
from pathlib import Path

import shapely
from shapely.ops import nearest_points

from checker.engine.evaluate import Engine
from checker.io.loader import load_case
from checker.model.findings import Finding
from checker.model.geometry import shape
from checker.model.section import Obj, Section
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import PackSet

FONT = "DejaVu Sans, Liberation Sans, Arial, sans-serif"
FALLBACK_COLOUR = "#808080"
FINDING_COLOUR = "#e00000"
ROOT_COLOUR = "#2e7d32"
TRUNK_COLOUR = "#8b5a2b"
STRUCTURE_COLOUR = "#9e9e9e"
CONTAINER_COLOUR = "#d4d4d4"
# climate adaptation objects: an infiltration crate (water blue), a wadi (grass green), a tree's rooting volume (soil brown)
CLIMATE_COLOURS = {"infiltration": "#4f83b8", "wadi": "#6aa84f", "tree-soil": "#8d6e3f"}
ZONE_COLOURS = {"trottoir": "#c9c2b8", "rijbaan": "#6b6b6b", "fietspad": "#b5524a", "parkeren": "#8e8e8e",
                "groen": "#7cb342", "kade": "#a1887f"}
LEFT, RIGHT, TOP = 80.0, 190.0, 116.0
LABEL_SIZE = 9.0
MAX_SCALE = 300.0


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


class _Labels:
    """Greedy placement of object labels so they do not overlap each other."""

    def __init__(self) -> None:
        self.boxes: list[tuple[float, float, float, float]] = []

    def place(self, x: float, y: float, text: str) -> tuple[float, float]:
        """Return a free baseline position near (x, y) for a one-line label."""
        w = 0.56 * LABEL_SIZE * len(text)
        h = LABEL_SIZE + 2
        for step in range(60):
            ty = y + step * h
            box = (x, ty - LABEL_SIZE, x + w, ty + 2)
            if not any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in self.boxes):
                self.boxes.append(box)
                return x, ty
        self.boxes.append((x, y - LABEL_SIZE, x + w, y + 2))
        return x, y


class _Drawing:
    """Accumulate the SVG of one section."""

    def __init__(self, section: Section, findings: tuple[Finding, ...], packs: PackSet, prefix: str) -> None:
        self.s = section
        self.findings = findings
        self.packs = packs
        self.prefix = prefix
        self.f = frame_for(section)
        self.out: list[str] = []
        self.labels = _Labels()
        self.patterns: dict[str, str] = {}

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
            half = 0.3 * 11 * len(z.kind)
            name_y = 44 + 12 * (i % 2)
            self.labels.boxes.append(((a + b) / 2 - half, name_y - 11, (a + b) / 2 + half, name_y + 2))
            self.out.append(f'<g class="zone" data-kind="{_e(z.kind)}" data-from="{_m(z.start)}" data-to="{_m(z.end)}">'
                            f'<rect x="{_n(a)}" y="{_n(f.y0 - 8)}" width="{_n(b - a)}" height="8" fill="{colour}" '
                            f'stroke="#ffffff" stroke-width="0.5"/>'
                            f'<text x="{_n((a + b) / 2)}" y="{_n(name_y)}" text-anchor="middle" '
                            f'font-size="11">{_e(z.kind)}</text>'
                            f'<line x1="{_n(a)}" y1="{_n(f.y0 - 8)}" x2="{_n(a)}" y2="{_n(58 + 12 * (i % 2) - 10)}" '
                            f'stroke="#9e9e9e" stroke-width="0.5"/></g>')
        self.out.append(f'<line class="maaiveld" x1="{_n(f.px(0) - 10)}" y1="{_n(f.y0)}" x2="{_n(f.right + 10)}" '
                        f'y2="{_n(f.y0)}" stroke="#3e2723" stroke-width="1.5"/>')
        self.out.append(f'<text x="{_n(f.right + 12)}" y="{_n(f.y0 - 5)}" font-size="10" fill="#3e2723">maaiveld</text>')
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
        parts.append(f'<text x="{_n(ax - 44)}" y="{_n(f.y0 + 12)}" font-size="9" '
                     f'transform="rotate(-90 {_n(ax - 44)} {_n(f.y0 + 12)})" text-anchor="end">diepte (m)</text></g>')
        self.out.append("".join(parts))

    def dimensions(self) -> float:
        """Draw dimension lines for the zone widths and the profile width; return the y below them."""
        f = self.f
        y1, y2 = f.bottom + 22, f.bottom + 46
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
        """Draw every object by kind: big and background ones first, lines on top."""
        order = {"structure": 0, "tree": 1, "tree-soil": 1, "wadi": 1, "reservation": 2, "container": 3,
                 "infiltration": 3, "rack": 4, "crossing": 5}
        for o in sorted(self.s.objects, key=lambda o: (order.get(o.kind, 6), o.id)):
            self.out.append(self._object(o))
        for o in sorted(self.s.objects, key=lambda o: (o.cover, o.x)):
            self._label(o)

    def _object(self, o: Obj) -> str:
        """Return the group that draws one object, carrying its data attributes."""
        f = self.f
        colour = colour_of(o, self.packs)
        existing = o.status == "existing"
        look = (' fill-opacity="0.35" stroke-dasharray="4 2"' if existing else
                ' fill-opacity="0.12" stroke-dasharray="1 2"' if o.status == "disused" else ' fill-opacity="0.9"')
        attrs = (f'class="object {_e(o.kind)} {_e(o.status)}" data-id="{_e(o.id)}" data-kind="{_e(o.kind)}" '
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
            self._cover_line(body, o)
            body.append(f'<circle class="body" cx="{_n(f.px(o.x))}" cy="{_n(f.py(o.cover + r))}" r="{_n(r * f.scale)}" '
                        f'fill="{colour}" stroke="#222222" stroke-width="0.6"{look}/>')
        else:
            body.extend(self._box(o, colour, look))
            attrs += f' data-width="{_m(o.width or 0.0)}" data-height="{_m(o.height or 0.0)}"'
        return f'<g {attrs}>{"".join(body)}</g>'

    def _cover_line(self, body: list[str], o: Obj) -> None:
        """Add the cover dimension of a cable or pipe: maaiveld down to its top."""
        if o.status == "existing" or o.cover <= 0:
            return
        x = self.f.px(o.x)
        body.append(f'<line class="cover-dimension" data-cover="{_m(o.cover)}" x1="{_n(x)}" y1="{_n(self.f.y0)}" '
                    f'x2="{_n(x)}" y2="{_n(self.f.py(o.cover))}" stroke="#777777" stroke-width="0.5" '
                    f'stroke-dasharray="1 2"/>')

    def _box(self, o: Obj, colour: str, look: str) -> list[str]:
        """Return the elements of a rectangular object (bed, duct, structure, container, rack, reservation)."""
        f = self.f
        hw = o.half_width
        x, y = f.px(o.x - hw), f.py(o.cover)
        w, h = 2 * hw * f.scale, o.body_height * f.scale
        rect = f'x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}"'
        if o.kind == "rack":
            dash = ' stroke-dasharray="4 2"' if o.status == "existing" else ""
            parts = [f'<rect class="body" {rect} fill="#ffffff" fill-opacity="0.6" stroke="#263238" stroke-width="1.5"{dash}/>']
            parts.extend(self._tiers(o))
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
            self._cover_line(cover, o)
            return cover + [f'<rect class="body" {rect} fill="{colour}" stroke="#222222" stroke-width="0.6"{look}/>']
        return [f'<rect class="body" {rect} fill="{colour}" stroke="#424242" stroke-width="1"{look}/>',
                f'<line x1="{_n(x)}" y1="{_n(y)}" x2="{_n(x + w)}" y2="{_n(y + h)}" stroke="#757575" stroke-width="0.6"/>',
                f'<line x1="{_n(x + w)}" y1="{_n(y)}" x2="{_n(x)}" y2="{_n(y + h)}" stroke="#757575" stroke-width="0.6"/>']

    def _tiers(self, rack: Obj) -> list[str]:
        """Return dotted tier lines between the cover levels of the objects a rack holds."""
        by_id = self.s.by_id()
        held = [by_id[i] for i in rack.holds if i in by_id]
        levels = sorted({round(o.cover, 3) for o in held})
        parts: list[str] = []
        for upper, lower in itertools.pairwise(levels):
            upper_bottom = max(o.bottom for o in held if round(o.cover, 3) == upper)
            depth = 0.5 * (upper_bottom + lower)
            if rack.cover < depth < rack.cover + rack.body_height:
                a, b = self.f.px(rack.x - rack.half_width), self.f.px(rack.x + rack.half_width)
                parts.append(f'<line class="tier" data-depth="{_m(depth)}" x1="{_n(a)}" y1="{_n(self.f.py(depth))}" '
                             f'x2="{_n(b)}" y2="{_n(self.f.py(depth))}" stroke="#607d8b" stroke-width="0.6" '
                             f'stroke-dasharray="2 2"/>')
        return parts

    def _label(self, o: Obj) -> None:
        """Place the label of an object (id, network, cover) beside it, with a leader when moved."""
        f = self.f
        if o.kind == "tree":
            text = f"{o.id} · boom" + (f" · wortelzone {o.root_radius:.2f} m" if o.root_radius else "")
            ax, ay = f.px(o.x) + max((o.diameter or 0.0) * f.scale, 2.0) / 2 + 4, f.y0 - 20.0
        elif o.kind == "crossing":
            end_cover = o.cover_end if o.cover_end is not None else o.cover
            text = f"{o.id} · {o.network} · {o.cover:.2f} to {end_cover:.2f} m"
            ax, ay = f.px(o.end if o.end is not None else o.x) + 4, f.py(end_cover) + 3
        else:
            what = o.network if o.network and o.kind != "reservation" else (
                f"reservering {o.network}" if o.network else o.kind)
            text = f"{o.id} · {what} · {o.cover:.2f} m"
            ax, ay = f.px(o.x + o.half_width) + 3, f.py(o.cover) + 7
        if o.status == "existing":
            text += " (bestaand)"
        elif o.status == "disused":
            text += " (buiten gebruik)"
        tx, ty = self.labels.place(ax, ay, text)
        leader = ""
        if abs(ty - ay) > 1:
            leader = (f'<line x1="{_n(ax - 2)}" y1="{_n(ay - 3)}" x2="{_n(tx)}" y2="{_n(ty - 3)}" stroke="#9e9e9e" '
                      f'stroke-width="0.5"/>')
        self.out.append(f'<g class="label" data-id="{_e(o.id)}">{leader}<text x="{_n(tx)}" y="{_n(ty)}" '
                        f'font-size="{_n(LABEL_SIZE)}">{_e(text)}</text></g>')

    # -- findings -------------------------------------------------------------------------
    def finding_marks(self) -> None:
        """Draw each finding on top: a measured line for a pair, outlines otherwise, numbered."""
        by_id = self.s.by_id()
        seen: dict[tuple[str, ...], int] = {}
        for n, fnd in enumerate(self.findings, start=1):
            subjects = [by_id[i] for i in fnd.subjects if i in by_id]
            dashed = ' stroke-dasharray="5 3"' if fnd.baseline else ""
            head = (f'<g class="finding" data-index="{n}" data-rule="{_e(fnd.rule)}" data-kind="{_e(fnd.kind)}" '
                    f'data-severity="{_e(fnd.severity)}" data-subjects="{_e(" ".join(fnd.subjects))}">')
            if len(subjects) == 2:
                (ax, ay), (bx, by) = self._ends(subjects[0], subjects[1])
                # several findings on one pair share the line: spread their badges along it
                repeat = seen[fnd.subjects] = seen.get(fnd.subjects, -1) + 1
                t = 0.5 + 0.15 * ((repeat + 1) // 2) * (1 if repeat % 2 else -1)
                mx, my = ax + t * (bx - ax), ay + t * (by - ay)
                text = f"{n}: {_measure_text(fnd)}"
                tx, ty = self.labels.place(mx + 10, my - 6, text)
                leader = "" if abs(ty - (my - 6)) <= 1 else (
                    f'<line x1="{_n(mx)}" y1="{_n(my)}" x2="{_n(tx)}" y2="{_n(ty - 3)}" stroke="{FINDING_COLOUR}" '
                    f'stroke-width="0.4"/>')
                self.out.append(head + f'<line class="finding-line" x1="{_n(ax)}" y1="{_n(ay)}" x2="{_n(bx)}" y2="{_n(by)}" '
                                f'stroke="{FINDING_COLOUR}" stroke-width="1.6"{dashed}/>' + leader +
                                f'<text class="finding-text" x="{_n(tx)}" y="{_n(ty)}" font-size="9" fill="{FINDING_COLOUR}" '
                                f'font-weight="bold">{_e(text)}</text>' + _badge(mx, my, n) + "</g>")
            elif subjects:
                parts = [head]
                for o in subjects:
                    x0, y0, x1, y1 = self._bounds(o)
                    parts.append(f'<rect class="finding-outline" data-id="{_e(o.id)}" x="{_n(x0 - 3)}" y="{_n(y0 - 3)}" '
                                 f'width="{_n(x1 - x0 + 6)}" height="{_n(y1 - y0 + 6)}" fill="none" '
                                 f'stroke="{FINDING_COLOUR}" stroke-width="1.4"{dashed}/>')
                x0, y0, x1, _ = self._bounds(subjects[0])
                parts.append(_badge(x1 + 4, y0 - 4, n) + "</g>")
                self.out.append("".join(parts))

    def _bounds(self, o: Obj) -> tuple[float, float, float, float]:
        """Return the pixel bounds of an object's body (a tree: its trunk above ground)."""
        f = self.f
        if o.kind == "tree":
            half = max((o.diameter or 0.0) * f.scale, 2.0) / 2
            return f.px(o.x) - half, f.y0 - 50, f.px(o.x) + half, f.y0
        minx, miny, maxx, maxy = shape(o).bounds
        return f.px(minx), f.py(miny), f.px(maxx), f.py(maxy)

    def _ends(self, a: Obj, b: Obj) -> tuple[tuple[float, float], tuple[float, float]]:
        """Return the pixel ends of the measured line: nearest points, or centres when touching."""
        sa, sb = shape(a), shape(b)
        if sa.distance(sb) > 1e-6:
            pa, pb = nearest_points(sa, sb)
        else:
            pa, pb = shapely.centroid(sa), shapely.centroid(sb)
        return (self.f.px(pa.x), self.f.py(pa.y)), (self.f.px(pb.x), self.f.py(pb.y))

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
        if self.findings:
            entries.append((f'<line x1="0" y1="-4" x2="16" y2="-4" stroke="{FINDING_COLOUR}" stroke-width="1.6"/>',
                            "finding: measured / required"))
        columns = max(1, int((self.f.right + RIGHT - LEFT) // 240))
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
            tail = " (baseline)" if fnd.baseline else ""
            text = f"{fnd.severity} {fnd.rule} [{fnd.kind}] {', '.join(fnd.subjects)}: {_measure_text(fnd)}{tail}"
            self.out.append(f'<g class="index-entry" data-index="{n}" data-rule="{_e(fnd.rule)}">'
                            + _badge(LEFT + 7, ty - 4, n) +
                            f'<text x="{_n(LEFT + 20)}" y="{_n(ty)}" font-size="10">{_e(text)}</text></g>')
        self.out.append("</g>")
        return y + 22 + 15 * len(self.findings)

    def svg(self, show_findings: bool, show_index: bool = True) -> str:
        """Assemble the whole drawing."""
        self.ground()
        self.depth_scale()
        self.objects()
        if show_findings:
            self.finding_marks()
        y = self.dimensions()
        y = self.legend(y)
        if show_findings and show_index:
            y = self.index(y)
        f = self.f
        width, height = f.right + RIGHT, y + 10
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
                f'<text x="{_n(f.right + RIGHT - 10)}" y="22" font-size="10" text-anchor="end" fill="#555555">'
                f'schaal 1:{round(1000 / f.scale * 3.7795):d} bij 96 dpi · maten in m</text>'
                + "".join(self.out) + "</svg>")


def _badge(x: float, y: float, n: int) -> str:
    """Return a numbered red badge centred at (x, y)."""
    return (f'<circle class="badge" cx="{_n(x)}" cy="{_n(y)}" r="7" fill="{FINDING_COLOUR}"/>'
            f'<text x="{_n(x)}" y="{_n(y + 3)}" font-size="9" fill="#ffffff" text-anchor="middle" '
            f'font-weight="bold">{n}</text>')


def _measure_text(f: Finding) -> str:
    """Return "measured / required" for a finding with magnitudes, else its rule id."""
    if f.measured is None or f.required is None:
        return f.rule
    return f"{f.measured:.3f} / {f.op} {f.required:.3f} {f.unit}"


def render_svg(section: Section, findings: list[Finding] | tuple[Finding, ...], packs: PackSet,
               show_findings: bool = True, id_prefix: str = "d-", show_index: bool = True) -> str:
    """Return the to-scale SVG drawing of a section, with its findings on top unless told not to.

    Without `show_index` the numbered findings list under the drawing is left out (the live
    editor lists them beside it); the numbers on the drawing stay.
    """
    return _Drawing(section, tuple(findings), packs, id_prefix).svg(show_findings, show_index)


def render_png(section: Section, findings: list[Finding] | tuple[Finding, ...], packs: PackSet,
               show_findings: bool = True, zoom: float = 1.5) -> bytes:
    """Return the drawing rasterised to PNG (CairoSVG), `zoom` times the SVG's pixel size."""
    import cairosvg  # type: ignore[import-untyped]  # imported here: only PNG output needs the cairo library

    svg = render_svg(section, findings, packs, show_findings)
    png: bytes = cairosvg.svg2png(bytestring=svg.encode("utf-8"), scale=zoom)
    return png


def render_case_file(case: Path, output: Path, engine: Engine, show_findings: bool = True) -> None:
    """Check one case and write its drawing to an .svg or .png file, chosen by suffix."""
    suffix = output.suffix.lower()
    if suffix not in (".svg", ".png"):
        raise LiggingError(Diagnostic(Span(str(output), 1, 1), f"cannot write a drawing as '{suffix or output.name}'; "
                                                               "expected a file name ending in .svg or .png"))
    if case.is_dir() and not (case / "case.yaml").is_file():
        raise LiggingError(Diagnostic(Span(str(case), 1, 1), "render draws one case: expected a case folder "
                                                             "holding case.yaml, or a case.yaml file"))
    section = load_case(case)
    findings = tuple(engine.evaluate(section))
    try:
        if suffix == ".svg":
            output.write_text(render_svg(section, findings, engine.packs, show_findings), encoding="utf-8")
        else:
            output.write_bytes(render_png(section, findings, engine.packs, show_findings))
    except OSError as exc:
        raise LiggingError(Diagnostic(Span(str(output), 1, 1), f"cannot write the drawing: {exc.strerror}")) from exc
