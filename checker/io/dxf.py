"""DXF drawings of a cross-section, for AutoCAD, Civil 3D and BricsCAD, in both directions.

Convention: one drawing unit is one metre (`$INSUNITS` = metres); the reference point —
the facade at maaiveld — is the origin; DXF x is the case's x (metres from the facade,
into the street) and DXF y is minus the depth (y = -depth: maaiveld at y = 0, everything
below ground at negative y). Each network thema has a layer of its own, named after the
thema and coloured in its IMKL PMKL 3.0 colour (true colour, taken from the packs);
zones, trees, structures, containers, racks and reservations have layers `ligging-*`.
Round cables and pipes are circles; rectangular ones, structures, containers, racks,
reservations and root zones are closed rectangles; a crossing is a closed band sloping
from its cover at `from` to its cover at `to`; a tree trunk is a circle standing on
maaiveld. Every object's id is a TEXT entity centred on it; surface zones are closed
bands above maaiveld labelled with their kind. A title block (block `LIGGING_TITLE`, a
table of labelled attributes right of the section) records the case name, width, zones,
scale and reference point; what geometry cannot say (owner, status, attributes, a rack's
holds) travels as XDATA under the application name `LIGGING`, which CAD programs keep
and show.

`import_dxf` reads such a drawing back, and also plain drawings made in CAD: circles and
closed polylines on thema layers become cables and pipes, ids come from the nearest
TEXT, and drawing coordinates map to metres as `(X - origin_x) * scale` and
`-(Y - origin_y) * scale`, with scale and origin from the command line, else the title
block, else `$INSUNITS`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ezdxf import units
from ezdxf.document import Drawing
from ezdxf.entities.circle import Circle
from ezdxf.entities.dxfentity import DXFEntity
from ezdxf.entities.dxfgfx import DXFGraphic
from ezdxf.entities.insert import Insert
from ezdxf.entities.line import Line
from ezdxf.entities.lwpolyline import LWPolyline
from ezdxf.entities.mtext import MText
from ezdxf.entities.polyline import Polyline
from ezdxf.entities.text import Text
from ezdxf.enums import InsertUnits, TextEntityAlignment
from ezdxf.filemanagement import new, readfile
from ezdxf.lldxf.const import DXFError

from checker.io.case_text import case_yaml
from checker.model.section import CABLE_THEMAS, LINE_KINDS, STATUSES, THEMAS, Obj, Section
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import PackSet
from dsl.units import ATTRIBUTE_DIMENSIONS
from nen7171.zones import ZONE_KINDS

APP = "LIGGING"
TITLE_BLOCK = "LIGGING_TITLE"
LAYER_ZONES = "ligging-zones"
LAYER_GROUND = "ligging-maaiveld"
LAYER_TITLE = "ligging-title"
KIND_LAYERS = {
    "tree": "ligging-trees",
    "structure": "ligging-structures",
    "container": "ligging-containers",
    "rack": "ligging-racks",
    "reservation": "ligging-reservations",
    "infiltration": "ligging-infiltration",
    "wadi": "ligging-wadis",
    "tree-soil": "ligging-tree-soil",
}
LAYER_KINDS = {layer: kind for kind, layer in KIND_LAYERS.items()}
OTHER_COLOURS = {LAYER_ZONES: 8, LAYER_GROUND: 7, LAYER_TITLE: 7, "ligging-trees": 3, "ligging-structures": 8,
                 "ligging-containers": 8, "ligging-racks": 5, "ligging-reservations": 6, "ligging-infiltration": 5,
                 "ligging-wadis": 3, "ligging-tree-soil": 34}
ZONE_BAND = 0.25  # height of the zone bands above maaiveld, in metres
TEXT_HEIGHT = 0.04
SI_UNITS = {"length": "m", "voltage": "V", "pressure": "Pa", "temperature": "K"}
CROSSING_MIN_WIDTH = 1.0  # a flat band on a thema layer at least this wide and
CROSSING_MIN_RATIO = 10.0  # this many times wider than high is read as a crossing
DIGITS = 4  # metres rounded to 0.1 mm in the written case file


# ---------------------------------------------------------------------------- export


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    """Return (r, g, b) of a '#rrggbb' colour."""
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _xdata(obj: Obj) -> list[tuple[int, str]]:
    """Return the XDATA of an object: what its geometry cannot say, one `key=value` per string."""
    pairs: list[tuple[str, Any]] = [("id", obj.id), ("kind", obj.kind), ("status", obj.status)]
    if obj.network:
        pairs.append(("network", obj.network))
    if obj.owner:
        pairs.append(("owner", obj.owner))
    if obj.sides:
        pairs.append(("sides", obj.sides))
    pairs += [("holds", held) for held in obj.holds]
    pairs += [("measure", m) for m in obj.measures]
    pairs += [("attribute", json.dumps([k, v])) for k, v in obj.attributes]
    # time (checker.model.moment) and a house connection's main; a disused year that has come is the status
    years = {"built": obj.built, "disused": None if obj.status == "disused" else obj.disused, "removed": obj.removed,
             "claim": obj.claim}
    pairs += [(key, year) for key, year in years.items() if year is not None]
    if obj.likelihood is not None:
        pairs.append(("likelihood", obj.likelihood))
    if obj.connects is not None:
        pairs.append(("connects", obj.connects))
    if obj.source is not None:
        # where an imported object came from (feature id and depth basis): one JSON string per field
        # keeps each XDATA string within its 255 characters
        pairs += [("source", json.dumps([k, v])) for k, v in (("feature", obj.source.feature), ("depth", obj.source.depth),
                                                              ("tolerance", obj.source.tolerance),
                                                              ("point", obj.source.point)) if v is not None]
    return [(1000, f"{key}={value}"[:255]) for key, value in pairs]


def _rectangle(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    """Return the corners of an axis-parallel rectangle, counter-clockwise."""
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _add_text(doc: Drawing, text: str, at: tuple[float, float], layer: str) -> None:
    """Add a TEXT centred at `at`."""
    entity = doc.modelspace().add_text(text, height=TEXT_HEIGHT, dxfattribs={"layer": layer})
    entity.set_placement(at, align=TextEntityAlignment.MIDDLE_CENTER)


def _object_layer(obj: Obj) -> str:
    """Return the layer an object is drawn on: its kind's layer, else its thema's."""
    if obj.kind in KIND_LAYERS:
        return KIND_LAYERS[obj.kind]
    return obj.network or "overig"


def _draw_object(doc: Drawing, obj: Obj) -> None:
    """Draw one object with its id text; XDATA goes on its main entity."""
    msp = doc.modelspace()
    layer = _object_layer(obj)
    attribs = {"layer": layer}
    main: DXFGraphic
    centre: tuple[float, float]
    if obj.kind == "tree":
        trunk = obj.diameter or 0.0
        if obj.root_radius is not None and obj.root_depth is not None:
            main = msp.add_lwpolyline(_rectangle(obj.x - obj.root_radius, -obj.root_depth, obj.x + obj.root_radius, 0.0),
                                      close=True, dxfattribs=attribs)
            if trunk:
                msp.add_circle((obj.x, 0.5 * trunk), 0.5 * trunk, dxfattribs=attribs)
        elif trunk:
            main = msp.add_circle((obj.x, 0.5 * trunk), 0.5 * trunk, dxfattribs=attribs)
        else:
            main = msp.add_line((obj.x, 0.0), (obj.x, 1.0), dxfattribs=attribs)
        centre = (obj.x, 0.5 * trunk + 0.1)
    elif obj.kind == "crossing":
        start, end = obj.start or 0.0, obj.end or 0.0
        c0, c1, d = obj.cover, obj.cover_end if obj.cover_end is not None else obj.cover, obj.diameter or 0.0
        main = msp.add_lwpolyline([(start, -c0), (end, -c1), (end, -c1 - d), (start, -c0 - d)], close=True, dxfattribs=attribs)
        centre = (0.5 * (start + end), -0.5 * (c0 + c1) - 0.5 * d)
    elif obj.round:
        radius = 0.5 * (obj.diameter or 0.0)
        centre = (obj.x, -obj.cover - radius)
        main = msp.add_circle(centre, radius, dxfattribs=attribs)
    else:
        half, height = 0.5 * (obj.width or 0.0), obj.height or 0.0
        main = msp.add_lwpolyline(_rectangle(obj.x - half, -obj.cover - height, obj.x + half, -obj.cover),
                                  close=True, dxfattribs=attribs)
        centre = (obj.x, -obj.cover - 0.5 * height)
    main.set_xdata(APP, _xdata(obj))
    _add_text(doc, obj.id, centre, layer)


def _zones_text(section: Section) -> str:
    """Return the zones as one line for the title block."""
    return "; ".join(f"{z.kind} {z.start:g}-{z.end:g}" for z in section.zones)[:250]


# the title block's rows: attribute tag and the label printed beside its value
TITLE_ROWS = (("NAME", "naam"), ("MUNICIPALITY", "gemeente"), ("STREET_TYPE", "straattype"), ("PLANNED", "uitvoering"),
              ("WIDTH", "breedte profiel (m)"), ("ZONES", "zones (m vanaf gevel)"), ("SCALE", "schaal (m per eenheid)"),
              ("ORIGIN", "referentiepunt (gevel, maaiveld)"), ("CONVENTION", "conventie"))
TITLE_TEXT = 2 * TEXT_HEIGHT  # text height in the title block
TITLE_ROW = 2.2 * TITLE_TEXT
TITLE_GAP = 1.0  # metres between the section and the title block


def _title(doc: Drawing, section: Section) -> None:
    """Add the title block right of the section: a table of labelled rows, each value an attribute.

    The block is drawn outside everything the section holds, so that it covers no object;
    the values are ATTRIBs (and header custom properties) that `import_dxf` reads back.
    """
    values = {
        "NAME": section.name[:250],
        "WIDTH": f"{section.width:g}",
        "ZONES": _zones_text(section),
        "SCALE": "1",
        "ORIGIN": "0,0",
        "CONVENTION": "x from facade, y = -depth, 1 unit = 1 m",
    }
    for key in ("municipality", "street_type"):
        value = section.tag(key)
        if value is not None:
            values[key.upper()] = str(value)[:250]
    if section.planned:
        values["PLANNED"] = section.planned
    rows = [(tag, label) for tag, label in TITLE_ROWS if tag in values]
    char = 0.7 * TITLE_TEXT  # the width of a character, on the safe side
    pad = TITLE_TEXT
    label_width = 2 * pad + char * max(len(label) for _, label in rows)
    value_width = max(3.0, 2 * pad + char * max(len(values[tag]) for tag, _ in rows))
    height = TITLE_ROW * (len(rows) + 1)
    block = doc.blocks.new(name=TITLE_BLOCK)
    attribs = {"layer": LAYER_TITLE}
    block.add_lwpolyline(_rectangle(0.0, -height, label_width + value_width, 0.0), close=True, dxfattribs=attribs)
    block.add_line((label_width, -TITLE_ROW), (label_width, -height), dxfattribs=attribs)
    header = block.add_text("ligging · dwarsprofiel", height=TITLE_TEXT, dxfattribs=attribs)
    header.set_placement((pad, -0.5 * TITLE_ROW), align=TextEntityAlignment.MIDDLE_LEFT)
    for row, (tag, label) in enumerate(rows, start=1):
        top = -row * TITLE_ROW
        block.add_line((0.0, top), (label_width + value_width, top), dxfattribs=attribs)
        text = block.add_text(label, height=TITLE_TEXT, dxfattribs=attribs)
        text.set_placement((pad, top - 0.5 * TITLE_ROW), align=TextEntityAlignment.MIDDLE_LEFT)
        block.add_attdef(tag, (label_width + pad, top - 0.5 * TITLE_ROW - 0.5 * TITLE_TEXT),
                         dxfattribs={"height": TITLE_TEXT, "layer": LAYER_TITLE, "prompt": label})
    right = max([section.width] + [_right_edge(o) for o in section.objects])
    ref = doc.modelspace().add_blockref(TITLE_BLOCK, (right + TITLE_GAP, ZONE_BAND), dxfattribs=attribs)
    ref.add_auto_attribs(values)
    for key, value in values.items():
        doc.header.custom_vars.append(f"ligging.{key.lower()}", value)


def _right_edge(obj: Obj) -> float:
    """Return how far right an object is drawn, its root zone included."""
    if obj.kind == "crossing":
        return max(obj.start or 0.0, obj.end or 0.0)
    return obj.x + max(obj.half_width, obj.root_radius or 0.0)


def build_drawing(section: Section, packs: PackSet) -> Drawing:
    """Return the DXF drawing of a section (see the module docstring for the convention)."""
    doc = new("R2010", setup=True)
    doc.units = units.M
    doc.header["$MEASUREMENT"] = 1
    doc.appids.add(APP)
    for thema in THEMAS:
        info = packs.themas.get(thema)
        layer = doc.layers.add(thema, color=7)
        if info is not None:
            layer.rgb = _hex_rgb(info.colour)
            layer.description = f"IMKL thema {thema}, PMKL colour {info.label} {info.colour}"
    for name, colour in OTHER_COLOURS.items():
        doc.layers.add(name, color=colour)
    msp = doc.modelspace()
    msp.add_line((0.0, 0.0), (section.width, 0.0), dxfattribs={"layer": LAYER_GROUND})
    for zone in section.zones:
        msp.add_lwpolyline(_rectangle(zone.start, 0.0, zone.end, ZONE_BAND), close=True, dxfattribs={"layer": LAYER_ZONES})
        _add_text(doc, zone.kind, (0.5 * (zone.start + zone.end), 0.5 * ZONE_BAND), LAYER_ZONES)
    for obj in section.objects:
        _draw_object(doc, obj)
    _title(doc, section)
    return doc


def export_dxf(section: Section, packs: PackSet, out: Path) -> Drawing:
    """Write a section's drawing to `out` and return it."""
    doc = build_drawing(section, packs)
    try:
        doc.saveas(out)
    except OSError as exc:
        raise LiggingError(Diagnostic(Span(str(out), 1, 1), f"cannot write: {exc.strerror or exc}")) from None
    return doc


def audit_errors(doc: Drawing) -> list[str]:
    """Return the errors ezdxf's auditor finds in a drawing (empty when it opens cleanly in CAD)."""
    auditor = doc.audit()
    return [str(entry.message) for entry in auditor.errors]


# ---------------------------------------------------------------------------- import


@dataclass(frozen=True, slots=True)
class Frame:
    """How drawing coordinates map to metres: x = (X - ox) * scale, depth = -(Y - oy) * scale."""

    scale: float = 1.0
    origin: tuple[float, float] = (0.0, 0.0)

    def x(self, value: float) -> float:
        """Return metres from the facade for a drawing X."""
        return (value - self.origin[0]) * self.scale

    def depth(self, value: float) -> float:
        """Return the depth in metres for a drawing Y."""
        return -(value - self.origin[1]) * self.scale

    def length(self, value: float) -> float:
        """Return a drawing length in metres."""
        return abs(value) * self.scale


@dataclass(slots=True)
class _Shape:
    """A candidate object read from the drawing, before its id is known."""

    layer: str
    kind: str
    centre: tuple[float, float]
    fields: dict[str, Any]
    xdata: dict[str, list[str]] = field(default_factory=dict)
    trunk: float | None = None


def _error(path: str, message: str, line: int = 1) -> LiggingError:
    """Build the error for a bad drawing."""
    return LiggingError(Diagnostic(Span(path, line, 1), message))


def _read(path: Path) -> Drawing:
    """Read a DXF file, turning every failure into a one-line LiggingError."""
    shown = str(path)
    try:
        return readfile(path)
    except DXFError as exc:
        text = str(exc)
        found = re.search(r"line:?\s*(\d+)", text)
        raise _error(shown, f"not a readable DXF drawing: {text.splitlines()[0] if text else type(exc).__name__}",
                     int(found.group(1)) if found else 1) from None
    except (OSError, UnicodeDecodeError, ValueError, OverflowError, EOFError, IndexError, KeyError, TypeError) as exc:
        raise _error(shown, f"not a readable DXF drawing: {exc}") from None


def _parse_number(text: str, what: str, path: str) -> float:
    """Parse a finite float from a title-block or option value."""
    try:
        value = float(text)
    except ValueError:
        raise _error(path, f"{what} must be a number, got '{text}'") from None
    if not math.isfinite(value):
        raise _error(path, f"{what} must be a finite number, got '{text}'")
    return value


def parse_origin(text: str, where: str = "--origin") -> tuple[float, float]:
    """Parse 'X,Y' (drawing units) into a reference point."""
    parts = text.split(",")
    if len(parts) != 2:
        raise _error(where, f"origin must be 'X,Y' in drawing units, got '{text}'")
    return _parse_number(parts[0], "origin X", where), _parse_number(parts[1], "origin Y", where)


def _title_values(doc: Drawing) -> dict[str, str]:
    """Return the title block's attributes (tag -> text), or the header's custom properties."""
    for ref in doc.modelspace().query("INSERT"):
        if isinstance(ref, Insert) and ref.dxf.name == TITLE_BLOCK:
            return {attrib.dxf.tag.upper(): attrib.dxf.text for attrib in ref.attribs}
    out: dict[str, str] = {}
    for tag, value in doc.header.custom_vars:
        if tag.startswith("ligging."):
            out[tag[len("ligging."):].upper()] = str(value)
    return out


def _frame(doc: Drawing, title: dict[str, str], scale: float | None, origin: tuple[float, float] | None,
           path: str) -> Frame:
    """Choose scale and reference point: options first, then the title block, then $INSUNITS."""
    if scale is None and "SCALE" in title:
        scale = _parse_number(title["SCALE"], "title block SCALE", path)
    if scale is None:
        insunits = doc.header.get("$INSUNITS", 0)
        scale = units.conversion_factor(InsertUnits(insunits), InsertUnits.Meters) if insunits else 1.0
    if scale <= 0:
        raise _error(path, f"scale must be greater than zero, got {scale:g}")
    if origin is None and "ORIGIN" in title:
        origin = parse_origin(title["ORIGIN"], path)
    return Frame(scale, origin or (0.0, 0.0))


def _xdata_of(entity: DXFEntity) -> dict[str, list[str]]:
    """Return an entity's LIGGING XDATA as key -> values."""
    out: dict[str, list[str]] = {}
    if entity.has_xdata(APP):
        for code, value in entity.get_xdata(APP):
            if code == 1000 and "=" in str(value):
                key, _, text = str(value).partition("=")
                out.setdefault(key, []).append(text)
    return out


def _polygon(entity: DXFEntity) -> list[tuple[float, float]] | None:
    """Return the vertices of a closed LWPOLYLINE or POLYLINE, else None."""
    if isinstance(entity, LWPolyline) and entity.closed:
        return [(float(p[0]), float(p[1])) for p in entity.get_points("xy")]
    if isinstance(entity, Polyline) and entity.is_closed and entity.is_2d_polyline:
        return [(float(v.dxf.location.x), float(v.dxf.location.y)) for v in entity.vertices]
    return None


def _band(points: list[tuple[float, float]], frame: Frame) -> dict[str, float] | None:
    """Read a 4-vertex closed band with vertical sides: left/right x and top/bottom depth at each side."""
    if len(points) != 4:
        return None
    xs = sorted({round(p[0], 9) for p in points})
    if len(xs) != 2:
        return None
    left = sorted(frame.depth(p[1]) for p in points if round(p[0], 9) == xs[0])
    right = sorted(frame.depth(p[1]) for p in points if round(p[0], 9) == xs[1])
    if len(left) != 2 or len(right) != 2:
        return None
    x0, x1 = sorted((frame.x(xs[0]), frame.x(xs[1])))
    if frame.x(xs[0]) > frame.x(xs[1]):
        left, right = right, left
    return {"x0": x0, "x1": x1, "top0": left[0], "bottom0": left[1], "top1": right[0], "bottom1": right[1]}


def _r(value: float) -> float:
    """Round metres to 0.1 mm for the case file."""
    rounded = round(value, DIGITS)
    return 0.0 if rounded == 0 else rounded


def _shape(entity: DXFEntity, frame: Frame, path: str) -> _Shape | None:
    """Read one entity as an object candidate, or None when it is not one."""
    layer = entity.dxf.layer
    if layer not in THEMAS and layer not in LAYER_KINDS:
        return None
    xdata = _xdata_of(entity)
    kind = xdata.get("kind", [LAYER_KINDS.get(layer, "")])[0]
    if not isinstance(entity, DXFGraphic):
        return None
    if isinstance(entity, Line) and layer == KIND_LAYERS["tree"]:
        x = float(entity.dxf.start.x)
        return _Shape(layer, "tree", (x, float(entity.dxf.start.y)), {"x": _r(frame.x(x))}, xdata)
    if isinstance(entity, Circle):
        cx, cy = float(entity.dxf.center.x), float(entity.dxf.center.y)
        radius = frame.length(float(entity.dxf.radius))
        if layer == KIND_LAYERS["tree"]:
            return _Shape(layer, "tree", (cx, cy), {"x": _r(frame.x(cx))}, xdata, trunk=_r(2 * radius))
        if layer not in THEMAS:
            return None
        fields = {"x": _r(frame.x(cx)), "cover": _r(frame.depth(cy) - radius), "diameter": _r(2 * radius)}
        return _Shape(layer, kind or ("cable" if layer in CABLE_THEMAS else "pipe"), (cx, cy), fields, xdata)
    points = _polygon(entity)
    if points is None:
        return None
    band = _band(points, frame)
    if band is None:
        raise _error(path, f"a closed polyline on layer {layer} (handle {entity.dxf.handle}) is not a band with vertical "
                           "sides; draw objects as circles or 4-corner rectangles")
    cx, cy = (sum(p[0] for p in points) / 4, sum(p[1] for p in points) / 4)
    width = band["x1"] - band["x0"]
    height0, height1 = band["bottom0"] - band["top0"], band["bottom1"] - band["top1"]
    sloped = abs(band["top0"] - band["top1"]) > 1e-6
    if layer == KIND_LAYERS["tree"]:
        return _Shape(layer, "tree", (cx, cy), {"x": _r(0.5 * (band["x0"] + band["x1"])),
                                                "root_zone": {"radius": _r(0.5 * width), "depth": _r(band["bottom0"])}}, xdata)
    if layer in THEMAS and (kind == "crossing" or sloped
                            or (not kind and width >= CROSSING_MIN_WIDTH and width >= CROSSING_MIN_RATIO * height0)):
        return _Shape(layer, "crossing", (cx, cy), {"from": _r(band["x0"]), "to": _r(band["x1"]),
                                                    "cover": [_r(band["top0"]), _r(band["top1"])],
                                                    "diameter": _r(0.5 * (height0 + height1))}, xdata)
    if sloped:
        raise _error(path, f"a sloped band on layer {layer} (handle {entity.dxf.handle}); only crossings slope")
    if layer in THEMAS and not kind:
        kind = "cable" if layer in CABLE_THEMAS else "pipe"
    if kind in ("reservation", "infiltration", "wadi", "tree-soil"):
        return _Shape(layer, kind, (cx, cy), {"from": _r(band["x0"]), "to": _r(band["x1"]), "cover": _r(band["top0"]),
                                              "height": _r(height0)}, xdata)
    return _Shape(layer, kind, (cx, cy), {"x": _r(0.5 * (band["x0"] + band["x1"])), "cover": _r(band["top0"]),
                                          "width": _r(width), "height": _r(height0)}, xdata)


def _texts(doc: Drawing, layers: set[str]) -> list[tuple[str, tuple[float, float]]]:
    """Return (text, position) of TEXT and MTEXT entities on the given layers."""
    out: list[tuple[str, tuple[float, float]]] = []
    for entity in doc.modelspace().query("TEXT MTEXT"):
        if entity.dxf.layer not in layers:
            continue
        if isinstance(entity, Text):
            _, point, _ = entity.get_placement()
            content = entity.dxf.text
        elif isinstance(entity, MText):
            point = entity.dxf.insert
            content = entity.plain_text()
        else:
            continue
        text = str(content).strip()
        if text:
            out.append((text, (float(point[0]), float(point[1]))))
    return out


def _label(items: list[tuple[float, float]], texts: list[tuple[str, tuple[float, float]]]) -> dict[int, str]:
    """Pair items with texts, nearest pairs first, each text used once (index -> text)."""
    pairs = sorted((math.dist(c, p), i, j) for i, c in enumerate(items) for j, (_, p) in enumerate(texts))
    used_items: set[int] = set()
    used_texts: set[int] = set()
    out: dict[int, str] = {}
    for _, i, j in pairs:
        if i in used_items or j in used_texts:
            continue
        used_items.add(i)
        used_texts.add(j)
        out[i] = texts[j][0]
    return out


def _zones(doc: Drawing, frame: Frame, path: str) -> list[dict[str, Any]]:
    """Read the surface zones: closed bands on the zones layer, kinds from their texts."""
    bands: list[tuple[float, float, tuple[float, float]]] = []
    for entity in doc.modelspace().query("LWPOLYLINE POLYLINE"):
        if entity.dxf.layer != LAYER_ZONES:
            continue
        points = _polygon(entity)
        band = _band(points, frame) if points is not None else None
        if points is None or band is None:
            continue
        centre = (sum(p[0] for p in points) / 4, sum(p[1] for p in points) / 4)
        bands.append((band["x0"], band["x1"], centre))
    if not bands:
        raise _error(path, f"no surface zones: draw each zone as a closed rectangle on layer {LAYER_ZONES} with its kind as text")
    labels = _label([b[2] for b in bands], _texts(doc, {LAYER_ZONES}))
    zones: list[dict[str, Any]] = []
    for i, (x0, x1, _) in sorted(enumerate(bands), key=lambda item: item[1][0]):
        kind = labels.get(i)
        if kind not in ZONE_KINDS:
            shown = f"'{kind}'" if kind else "no text"
            raise _error(path, f"the zone from {x0:g} m to {x1:g} m has {shown}; label it with a zone kind "
                               f"({', '.join(ZONE_KINDS)})")
        zones.append({"kind": kind, "from": _r(x0), "to": _r(x1)})
    return zones


def _attribute_value(key: str, value: float | str) -> float | str:
    """Return an SI attribute value as the case file writes it (with its SI unit where known)."""
    if isinstance(value, str):
        return value
    dimension = ATTRIBUTE_DIMENSIONS.get(key)
    return f"{value:.10g} {SI_UNITS[dimension]}" if dimension else float(f"{value:.10g}")


def _object(shape: _Shape, ident: str) -> dict[str, Any]:
    """Return the case-file mapping of one object."""
    xd = shape.xdata
    out: dict[str, Any] = {"id": ident}
    network = xd["network"][0] if "network" in xd else shape.layer if shape.layer in THEMAS else None
    default = None if network is None else "cable" if network in CABLE_THEMAS else "pipe"
    if shape.kind != default:
        out["kind"] = shape.kind
    if network is not None:
        out["network"] = network
    if "owner" in xd:
        out["owner"] = xd["owner"][0]
    out.update(shape.fields)
    if shape.kind == "tree" and shape.trunk:
        out["diameter"] = shape.trunk
    if shape.kind == "rack":
        out["sides"] = xd.get("sides", ["single"])[0]
    status = xd.get("status", ["planned"])[0]
    if status in STATUSES and status != "planned":
        out["status"] = status
    if "measure" in xd:
        out["measures"] = sorted(xd["measure"])
    for key in ("built", "disused", "removed", "claim"):
        if key in xd:
            # a year as a number; anything else goes to the case loader as written, which says what is wrong
            out[key] = int(xd[key][0]) if xd[key][0].isdigit() else xd[key][0]
    for key in ("likelihood", "connects"):
        if key in xd:
            out[key] = xd[key][0]
    if "attribute" in xd:
        attributes: dict[str, float | str] = {}
        for raw in xd["attribute"]:
            key, value = json.loads(raw)
            attributes[str(key)] = _attribute_value(str(key), value)
        out["attributes"] = attributes
    return out


def _source(raw: list[str], ident: str, path: str) -> dict[str, Any]:
    """Return an imported object's source (feature, depth basis, ...) from its XDATA strings."""
    out: dict[str, Any] = {}
    for text in raw:
        try:
            key, value = json.loads(text)
        except (ValueError, TypeError):
            raise _error(path, f"object {ident}: source XDATA '{text[:60]}' is not a [key, value] pair") from None
        if key in ("feature", "depth", "tolerance", "point"):
            out[str(key)] = value
    return out


def _merge_trees(shapes: list[_Shape]) -> list[_Shape]:
    """Join each trunk circle to the root zone around it (same x within 1 mm)."""
    zones = [s for s in shapes if s.kind == "tree" and "root_zone" in s.fields]
    out: list[_Shape] = []
    for shape in shapes:
        if shape.kind == "tree" and shape.trunk is not None:
            host = next((z for z in zones if abs(z.fields["x"] - shape.fields["x"]) <= 0.001 and z.trunk is None), None)
            if host is not None:
                host.trunk = shape.trunk
                continue
        out.append(shape)
    return out


def _holds(rack: dict[str, Any], objects: list[dict[str, Any]]) -> list[str]:
    """Return the ids of the cables and pipes lying inside a rack's rectangle."""
    x0, x1 = rack["x"] - 0.5 * rack["width"], rack["x"] + 0.5 * rack["width"]
    top, bottom = rack["cover"], rack["cover"] + rack["height"]
    inside: list[str] = []
    for obj in objects:
        if obj.get("kind", "cable") not in LINE_KINDS or "x" not in obj:
            continue
        half = 0.5 * obj.get("diameter", obj.get("width", 0.0))
        low = obj["cover"] + obj.get("diameter", obj.get("height", 0.0))
        across = x0 - 0.001 <= obj["x"] - half and obj["x"] + half <= x1 + 0.001
        if across and top - 0.001 <= obj["cover"] and low <= bottom + 0.001:
            inside.append(obj["id"])
    return inside


def import_dxf(path: Path, scale: float | None = None, origin: tuple[float, float] | None = None) -> dict[str, Any]:
    """Read a drawing into the mapping of a case file (docs/case-format.md)."""
    shown = str(path)
    doc = _read(path)
    title = _title_values(doc)
    frame = _frame(doc, title, scale, origin, shown)
    shapes = [s for e in doc.modelspace() if (s := _shape(e, frame, shown)) is not None]
    shapes = _merge_trees(shapes)
    if not shapes:
        raise _error(shown, "no objects: draw cables and pipes as circles or closed rectangles on layers named after "
                            "their IMKL thema")
    id_layers = set(THEMAS) | set(LAYER_KINDS)
    labels = _label([s.centre for s in shapes], _texts(doc, id_layers))
    objects: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, shape in enumerate(shapes):
        ident = shape.xdata.get("id", [labels.get(i, "")])[0] or f"{shape.layer}-{i + 1}"
        if ident in seen:
            raise _error(shown, f"two objects carry the id '{ident}'; give each object its own id text")
        seen.add(ident)
        objects.append(_object(shape, ident))
        if "source" in shape.xdata:
            objects[-1]["source"] = _source(shape.xdata["source"], ident, shown)
    for shape, obj in zip(shapes, objects, strict=True):
        if shape.kind == "rack":
            obj["holds"] = shape.xdata["holds"] if "holds" in shape.xdata else _holds(obj, objects)
            if not obj["holds"]:
                del obj["holds"]
        elif "holds" in shape.xdata and "width" in obj:
            obj["holds"] = shape.xdata["holds"]  # a bed, duct or sleeve holding lines
    zones = _zones(doc, frame, shown)
    width = _parse_number(title["WIDTH"], "title block WIDTH", shown) if "WIDTH" in title else zones[-1]["to"]
    case: dict[str, Any] = {"ligging": 1, "name": title.get("NAME") or path.stem}
    for key in ("MUNICIPALITY", "STREET_TYPE"):
        if title.get(key):
            case[key.lower()] = title[key]
    if title.get("PLANNED"):
        planned = title["PLANNED"]
        case["planned"] = int(planned) if planned.isdigit() else planned
    case["width"] = _r(width)
    case["zones"] = zones
    case["objects"] = objects
    return case


def write_case(case: dict[str, Any], out: Path) -> None:
    """Write a case mapping to `out` as case.yaml text."""
    try:
        out.write_text(case_yaml(case), encoding="utf-8")
    except OSError as exc:
        raise LiggingError(Diagnostic(Span(str(out), 1, 1), f"cannot write: {exc.strerror or exc}")) from None
