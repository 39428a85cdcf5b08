"""Read a KLIC delivery (IMKL 2.0 or 3.0) from its zip or its GML, streaming, into a `Delivery`.

A KLIC delivery (`Levering_<meldnummer>_<n>.zip`) holds one `GI_gebiedsinformatielevering_*.xml`:
a GML 3.2 FeatureCollection in the IMKL namespace `http://www.geostandaarden.nl/imkl/wibon`
with the INSPIRE `net`, `us-net-*` and `base` namespaces. The GML is parsed with lxml's
`iterparse`, one `gml:featureMember` at a time: each member is turned into frozen data and
then cleared from the tree, so memory holds what is kept (nets, elements, link lines, depth
points), never the XML itself. lxml rather than defusedxml (stdlib expat): it reports the
source line of every element, so a bad value is named at its line; it is told not to
resolve entities, not to load a DTD and not to touch the network, and a document with a
DTD at all is refused — no entity can be declared, none expanded. Zip members are read
through a counter that stops at `MAX_GML_BYTES`, whatever the member's header claims, and
a member that inflates more than `MAX_RATIO` times is refused as a zip bomb.

What is read: Utiliteitsnet (thema, standaardDieptelegging), the KabelOfLeiding classes and
the containers Kabelbed, Mantelbuis and Duct (net, links, currentStatus, diameters and
widths with their uom, voltage, pressure, what a container holds, linked depth points, XY
accuracy, bronhoudercode), UtilityLink centrelines, DiepteTovMaaiveld and DiepteNAP, and
each Beheerder's name. Everything else (annotation, dimensioning, appurtenances, polygons)
is skipped. Every error is one `LiggingError` naming file, line and column.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import shapely
from lxml import etree
from shapely.geometry.base import BaseGeometry

from checker.io.imkl.delivery import CONTAINER_CLASSES, LINE_CLASSES, STATUSES, Delivery, DepthPoint, Element, Net
from checker.model.section import THEMAS
from dsl.diagnostics import Diagnostic, LiggingError, Span

IMKL = "http://www.geostandaarden.nl/imkl/wibon"
GML = "http://www.opengis.net/gml/3.2"
XLINK = "http://www.w3.org/1999/xlink"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
US_NET_COMMON = "http://inspire.ec.europa.eu/schemas/us-net-common/4.0"
# IMKL 1.x (IMKL2015) namespaces: KLIC stopped delivering it in 2022
OLD_IMKL = ("http://www.geostandaarden.nl/imkl/2015/wion/1.2", "http://www.geonovum.nl/wion/2015/1.0")
VERSIONS = ("2.0", "3.0")
SCHEMA_VERSION = re.compile(r"gmlapplicatieschema/imkl/(\d+)\.(\d+)")
GI_MEMBER = re.compile(r"(^|/)GI_gebiedsinformatielevering[^/]*\.xml$", re.IGNORECASE)
MAX_GML_BYTES = 1 << 30  # 1 GiB of GML: far beyond any delivery (KLIC's own guideline is 50 MB)
MAX_RATIO = 200  # a member that inflates more than this many times its compressed size is refused
RATIO_FLOOR = 1 << 20  # small members may compress well (a few repeated lines); judge ratios above 1 MiB
PROBE = 1 << 16  # bytes read ahead to check the root element before streaming
MEMBERS = (f"{{{GML}}}featureMember", f"{{{GML}}}featureMembers")
# the features the reader keeps; the parser reports only these and the members
READ_TAGS = (*MEMBERS, f"{{{US_NET_COMMON}}}UtilityLink",
             *(f"{{{IMKL}}}{name}" for name in (*LINE_CLASSES, *CONTAINER_CLASSES, "Utiliteitsnet", "DiepteTovMaaiveld",
                                                "DiepteNAP", "Beheerder")))
MAX_WARNINGS = 50
# a kabelDiameter above this is no cable's (the IMKL 3.0 example has 2 m ones: a uom mistake); it is ignored
MAX_CABLE = 0.25
RD_SRS = re.compile(r"(EPSG:+(28992|7415)$)|(/EPSG/0/(28992|7415)$)", re.IGNORECASE)
LENGTH_UOM = {"m": 1.0, "cm": 0.01, "mm": 0.001}
VOLTAGE_UOM = {"v": 1.0, "kv": 1000.0}
PRESSURE_UOM = {"bar": 1e5, "mbar": 100.0, "pa": 1.0, "kpa": 1000.0}
# IMKL accuracy classes (NauwkeurigheidXYvalue, NauwkeurigheidDiepteValue) in metres
ACCURACY = {"tot30cm": 0.30, "tot50cm": 0.50, "tot100cm": 1.00}


@dataclass(frozen=True, slots=True)
class Area:
    """The part of the map a caller needs: links and depth points outside its box are not kept."""

    minx: float
    miny: float
    maxx: float
    maxy: float

    def touches(self, minx: float, miny: float, maxx: float, maxy: float) -> bool:
        """Tell whether a bounding box meets the area."""
        return not (maxx < self.minx or minx > self.maxx or maxy < self.miny or miny > self.maxy)


def area_around(geometry: BaseGeometry, margin: float) -> Area:
    """Return the box around a geometry (a section line, a street axis) widened by `margin` metres."""
    minx, miny, maxx, maxy = geometry.bounds
    return Area(minx - margin, miny - margin, maxx + margin, maxy + margin)


class _TooBig(Exception):
    """A zip member inflated past the limit while it was read."""


class _Counted:
    """A read-only stream that refuses to deliver more than `limit` bytes."""

    def __init__(self, raw: IO[bytes], limit: int) -> None:
        self.raw = raw
        self.limit = limit
        self.seen = 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.seen += len(data)
        if self.seen > self.limit:
            raise _TooBig
        return data


def _error(where: str, message: str, line: int = 1, column: int = 1) -> LiggingError:
    return LiggingError(Diagnostic(Span(where, line, column), message))


@contextmanager
def _open(path: Path) -> Iterator[tuple[_Counted, str]]:
    """Open the GML of a delivery (the GI member of a zip, or the file) as a counted byte stream."""
    shown = str(path)
    try:
        is_zip = zipfile.is_zipfile(path)
        with path.open("rb") as head:
            magic = head.read(4)
    except OSError as exc:
        raise _error(shown, f"cannot read: {exc.strerror or exc}") from None
    if not is_zip and magic.startswith(b"PK\x03\x04"):
        raise _error(shown, "a broken zip file (its local header is there, its directory is not)")
    if not is_zip:
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise _error(shown, f"cannot read: {exc.strerror or exc}") from None
        with handle:
            yield _Counted(handle, MAX_GML_BYTES), shown
        return
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _error(shown, f"not a readable zip file: {exc}") from None
    with archive:
        members = [i for i in archive.infolist() if GI_MEMBER.search(i.filename) and not i.is_dir()]
        if not members:
            raise _error(shown, "no GI_gebiedsinformatielevering_*.xml in this zip: is it a KLIC delivery "
                                "(Levering_<meldnummer>_<n>.zip)?")
        if len(members) > 1:
            raise _error(shown, f"{len(members)} GI_gebiedsinformatielevering_*.xml files in this zip "
                                f"({members[0].filename}, {members[1].filename}); a delivery holds one")
        info = members[0]
        where = f"{shown}!{info.filename}"
        if info.flag_bits & 0x1:
            raise _error(where, "the member is encrypted; KLIC deliveries are not")
        if info.file_size > MAX_GML_BYTES:
            raise _error(where, f"the member unpacks to {info.file_size} bytes; at most {MAX_GML_BYTES} are read")
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise _error(where, f"the member inflates {info.file_size // max(info.compress_size, 1)} times "
                                f"(at most {MAX_RATIO}): refused as a zip bomb")
        # the header may lie: the counter also holds the stream to the declared size and the ratio
        limit = min(MAX_GML_BYTES, max(RATIO_FLOOR, MAX_RATIO * max(info.compress_size, 1)))
        try:
            handle = archive.open(info)
        except (NotImplementedError, RuntimeError, zipfile.BadZipFile, OSError) as exc:
            raise _error(where, f"cannot unpack: {exc}") from None
        with handle:
            yield _Counted(handle, limit), where


_LOCAL: dict[object, str] = {}


def _local(tag: object) -> str:
    """Return the local name of an element tag ({namespace}name → name); a delivery repeats few tags, so cache them."""
    got = _LOCAL.get(tag)
    if got is None:
        got = (tag if isinstance(tag, str) else "").rpartition("}")[2]
        if len(_LOCAL) < 4096:
            _LOCAL[tag] = got
    return got


def _namespace(tag: object) -> str:
    text = tag if isinstance(tag, str) else ""
    return text[1:].split("}", 1)[0] if text.startswith("{") else ""


def _href_value(href: str) -> str:
    """Return the last segment of a code-list URI (…/Thema/water → water)."""
    return href.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class _Reader:
    """State of one pass over the GML: what is kept, the version, and the warnings."""

    where: str
    area: Area | None
    version: str = ""
    nets: dict[str, Net] = field(default_factory=dict)
    elements: list[Element] = field(default_factory=list)
    links: dict[str, BaseGeometry] = field(default_factory=dict)
    depths: dict[str, DepthPoint] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    dropped: int = 0

    # ------------------------------------------------------------------ helpers

    def error(self, element: Any, message: str) -> LiggingError:
        return _error(self.where, message, element.sourceline or 1)

    def warn(self, element: Any, message: str) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(f"{self.where}:{element.sourceline or 1}: {message}")
        else:
            self.dropped += 1

    @staticmethod
    def children(element: Any, name: str) -> list[Any]:
        return [c for c in element if _local(c.tag) == name]

    def child(self, element: Any, name: str) -> Any | None:
        for c in element:
            if _local(c.tag) == name:
                return c
        return None

    @staticmethod
    def href(element: Any) -> str | None:
        value = element.get(f"{{{XLINK}}}href")
        return value.strip() if value and value.strip() else None

    def hrefs(self, element: Any, name: str) -> tuple[str, ...]:
        return tuple(h for c in self.children(element, name) if (h := self.href(c)) is not None)

    def identity(self, feature: Any) -> str | None:
        """Return the identifier references use: the gml:id, else namespace-localId of the INSPIRE or NEN 3610 id."""
        gml_id = feature.get(f"{{{GML}}}id")
        if gml_id:
            return str(gml_id)
        for holder, record, local, space in (("inspireId", "Identifier", "localId", "namespace"),
                                             ("identificatie", "NEN3610ID", "lokaalID", "namespace")):
            for wrapper in feature.iter():
                if _local(wrapper.tag) != holder:
                    continue
                node = self.child(wrapper, record)
                if node is None:
                    continue
                lid, ns = self.child(node, local), self.child(node, space)
                if lid is not None and ns is not None and (lid.text or "").strip() and (ns.text or "").strip():
                    return f"{ns.text.strip()}-{lid.text.strip()}"
        return None

    def owner_code(self, ident: str) -> str | None:
        """Return the bronhoudercode in an identifier (`nl.imkl-KL1031.abc` → KL1031)."""
        local = ident.split("-", 1)[1] if "-" in ident else ident
        code = local.split(".", 1)[0]
        return code if code and code != local else None

    def number(self, element: Any, what: str) -> float | None:
        """Return an element's text as a finite float, None when it is nil or empty."""
        text = (element.text or "").strip()
        if not text or element.get(f"{{{XSI}}}nil") == "true":
            return None
        try:
            value = float(text)
        except ValueError:
            raise self.error(element, f"{what}: '{text[:40]}' is not a number") from None
        if not math.isfinite(value):
            raise self.error(element, f"{what}: '{text[:40]}' is not a finite number")
        return value

    def measure(self, element: Any, what: str, units: dict[str, float], default: str | None = None) -> float | None:
        """Return a measure in SI units from its `uom`; None (with a warning) when the uom is not one of `units`."""
        value = self.number(element, what)
        if value is None:
            return None
        uom = element.get("uom") or default or ""
        unit = uom.rsplit(":", 1)[-1].strip().lower()
        if unit not in units:
            self.warn(element, f"{what} {value:g} has uom '{uom}', which is not one of {', '.join(units)}: ignored")
            return None
        return value * units[unit]

    # ------------------------------------------------------------------ geometry

    def coordinates(self, element: Any, dimension: int, what: str) -> list[tuple[float, float]]:
        """Return the (x, y) pairs of a posList or pos; a third (NAP height) ordinate is dropped."""
        dim_text = element.get("srsDimension") or dimension
        try:
            dim = int(dim_text)
        except ValueError:
            raise self.error(element, f"{what}: srsDimension '{dim_text}' is not a whole number") from None
        if dim not in (2, 3):
            raise self.error(element, f"{what}: srsDimension {dim}; IMKL coordinates have 2 (or 3) ordinates")
        parts = (element.text or "").split()
        if len(parts) % dim:
            raise self.error(element, f"{what}: {len(parts)} numbers do not make whole {dim}D positions")
        try:
            values = [float(p) for p in parts]
        except ValueError:
            bad = next(p for p in parts if not _is_float(p))
            raise self.error(element, f"{what}: '{bad[:40]}' is not a number") from None
        if not all(math.isfinite(v) for v in values):
            raise self.error(element, f"{what}: a coordinate is not a finite number")
        return [(values[k], values[k + 1]) for k in range(0, len(values), dim)]

    def check_srs(self, geometry: Any) -> int:
        """Refuse a geometry in another reference system than RD New; return its srsDimension (default 2)."""
        srs = geometry.get("srsName")
        if srs and not RD_SRS.search(srs.strip()):
            raise self.error(geometry, f"geometry in '{srs}'; IMKL geometry is in RD New (EPSG:28992)")
        dim = geometry.get("srsDimension")
        return int(dim) if dim and dim.strip().isdigit() else 2

    def curves(self, geometry: Any, dimension: int) -> list[list[tuple[float, float]]]:
        """Return the lines of a LineString, Curve (LineStringSegments) or MultiCurve."""
        name = _local(geometry.tag)
        if name == "LineString":
            pos_list = self.child(geometry, "posList")
            points = (self.coordinates(pos_list, dimension, "LineString posList") if pos_list is not None
                      else [p for pos in self.children(geometry, "pos")
                            for p in self.coordinates(pos, dimension, "LineString pos")])
            return [points]
        if name == "Curve":
            points: list[tuple[float, float]] = []
            for segments in self.children(geometry, "segments"):
                for segment in segments:
                    if _local(segment.tag) != "LineStringSegment":
                        raise self.error(segment, f"a {_local(segment.tag)} in a gml:Curve; IMKL curves are "
                                                  f"LineStringSegments")
                    pos_list = self.child(segment, "posList")
                    if pos_list is None:
                        raise self.error(segment, "a LineStringSegment without posList")
                    part = self.coordinates(pos_list, dimension, "LineStringSegment posList")
                    points.extend(part if not points or not part or part[0] != points[-1] else part[1:])
            return [points]
        if name == "MultiCurve":
            out: list[list[tuple[float, float]]] = []
            for member in geometry:
                if _local(member.tag) not in ("curveMember", "curveMembers"):
                    continue
                for inner in member:
                    out.extend(self.curves(inner, self.check_srs(inner) if inner.get("srsName") else dimension))
            return out
        raise self.error(geometry, f"a {name} as centreline; IMKL centrelines are LineString, Curve or MultiCurve")

    def line_geometry(self, holder: Any) -> BaseGeometry | None:
        """Return a centreline as a shapely (Multi)LineString, or None when it lies outside the area."""
        geometry = next(iter(holder), None)
        if geometry is None:
            raise self.error(holder, "centrelineGeometry holds no geometry")
        lines = [line for line in self.curves(geometry, self.check_srs(geometry)) if line]
        for line in lines:
            if len(line) < 2:
                raise self.error(geometry, "a centreline with fewer than two positions")
        if not lines:
            raise self.error(geometry, "an empty centreline")
        xs = [p[0] for line in lines for p in line]
        ys = [p[1] for line in lines for p in line]
        if self.area is not None and not self.area.touches(min(xs), min(ys), max(xs), max(ys)):
            return None
        if len(lines) == 1:
            return shapely.linestrings(lines[0])
        return shapely.multilinestrings(lines)

    # ------------------------------------------------------------------ features

    def feature(self, feature: Any) -> None:
        """Keep what a cut needs of one feature; skip the rest."""
        tag = feature.tag
        if not isinstance(tag, str):
            return
        name, space = _local(tag), _namespace(tag)
        if space == US_NET_COMMON and name == "UtilityLink":
            self.utility_link(feature)
        elif space != IMKL:
            return
        elif name in LINE_CLASSES or name in CONTAINER_CLASSES:
            self.element(feature, name)
        elif name == "Utiliteitsnet":
            self.net(feature)
        elif name in ("DiepteTovMaaiveld", "DiepteNAP"):
            self.depth(feature, name)
        elif name == "Beheerder":
            self.beheerder(feature)

    def required_id(self, feature: Any) -> str:
        ident = self.identity(feature)
        if ident is None:
            raise self.error(feature, f"{_local(feature.tag)} has no gml:id and no identifier (inspireId or "
                                      f"identificatie)")
        return ident

    def net(self, feature: Any) -> None:
        ident = self.required_id(feature)
        thema_node = self.child(feature, "thema")
        thema = None
        if thema_node is not None and (href := self.href(thema_node)):
            thema = _href_value(href)
            if thema not in THEMAS:
                self.warn(thema_node, f"Utiliteitsnet {ident}: thema '{thema}' is not one of the 15 IMKL themas")
                thema = None
        if thema is None:
            self.warn(feature, f"Utiliteitsnet {ident} has no IMKL thema; its lines are left out")
        depth_node = self.child(feature, "standaardDieptelegging")
        depth = self.measure(depth_node, "standaardDieptelegging", LENGTH_UOM) if depth_node is not None else None
        if depth is not None and depth < 0:
            self.warn(depth_node, f"standaardDieptelegging {depth:g} m is negative: ignored")
            depth = None
        self.nets[ident] = Net(ident, thema, depth, feature.sourceline or 1)

    def element(self, feature: Any, cls: str) -> None:
        ident = self.required_id(feature)
        named: dict[str, list[Any]] = {}
        for c in feature:
            named.setdefault(_local(c.tag), []).append(c)

        def hrefs(name: str) -> tuple[str, ...]:
            return tuple(h for c in named.get(name, ()) if (h := self.href(c)) is not None)

        nets = hrefs("inNetwork")
        links = hrefs("link")
        status_node = named["currentStatus"][0] if "currentStatus" in named else None
        status = _href_value(self.href(status_node) or "") if status_node is not None else ""
        if status not in STATUSES:
            self.warn(status_node if status_node is not None else feature,
                      f"{cls} {ident}: currentStatus '{status or 'missing'}' is not functional, disused or projected; "
                      f"read as functional")
            status = "functional"
        diameter = width = None
        attributes: list[tuple[str, float | str]] = []
        for c in feature:
            local = _local(c.tag)
            if local in ("pipeDiameter", "kabelDiameter") and diameter is None:
                diameter = self.measure(c, local, LENGTH_UOM)
                if local == "kabelDiameter" and diameter is not None and diameter > MAX_CABLE:
                    self.warn(c, f"{cls} {ident}: kabelDiameter {diameter:g} m is no cable's (more than "
                                 f"{MAX_CABLE:g} m): ignored")
                    diameter = None
            elif local == "ductWidth":
                width = self.measure(c, local, LENGTH_UOM)
            elif local in ("nominalVoltage", "operatingVoltage"):
                volt = self.measure(c, local, VOLTAGE_UOM)
                if volt is not None and volt <= 0:
                    self.warn(c, f"{cls} {ident}: {local} {volt:g} V is not a voltage: ignored")
                elif volt is not None:
                    attributes.append(("voltage" if local == "nominalVoltage" else "operating_voltage", volt))
            elif local == "pressure":
                pa = self.measure(c, local, PRESSURE_UOM)
                if pa is not None and pa < 0:
                    self.warn(c, f"{cls} {ident}: pressure {pa:g} Pa is negative: ignored")
                elif pa is not None:
                    attributes.append(("pressure", pa))
        for key, size in (("diameter", diameter), ("width", width)):
            if size is not None and size <= 0:
                self.warn(feature, f"{cls} {ident}: {key} {size:g} m is not a size: taken as not given")
                diameter = None if key == "diameter" else diameter
                width = None if key == "width" else width
        accuracy_node = named["geoNauwkeurigheidXY"][0] if "geoNauwkeurigheidXY" in named else None
        accuracy = ACCURACY.get(_href_value(self.href(accuracy_node) or "")) if accuracy_node is not None else None
        holds = tuple(dict.fromkeys(h for name in ("cables", "pipes", "ducts") for h in hrefs(name) if h != ident))
        self.elements.append(Element(
            id=ident, cls=cls, net=nets[0] if nets else None, links=links, status=status,
            line=feature.sourceline or 1, diameter=diameter, width=width,
            attributes=tuple(dict(attributes).items()), holds=holds if cls in CONTAINER_CLASSES else (),
            depths=hrefs("dieptelegging"), accuracy=accuracy, owner=self.owner_code(ident)))
        if not links:
            self.warn(feature, f"{cls} {ident} has no net:link: it has no centreline and cannot be cut")

    def utility_link(self, feature: Any) -> None:
        ident = self.required_id(feature)
        holder = self.child(feature, "centrelineGeometry")
        if holder is None:
            raise self.error(feature, f"UtilityLink {ident} has no centrelineGeometry")
        geometry = self.line_geometry(holder)
        if geometry is not None:
            self.links[ident] = geometry

    def depth(self, feature: Any, cls: str) -> None:
        ident = self.required_id(feature)
        value_node = self.child(feature, "dieptePeil")
        if value_node is None:
            self.warn(feature, f"{cls} {ident} has no dieptePeil: ignored")
            return
        value = self.measure(value_node, "dieptePeil", LENGTH_UOM)
        place = self.child(feature, "ligging")
        point = next(iter(place), None) if place is not None else None
        if value is None or point is None or _local(point.tag) != "Point":
            self.warn(feature, f"{cls} {ident} has no dieptePeil value or no point (ligging): ignored")
            return
        pos = self.child(point, "pos")
        if pos is None:
            raise self.error(point, "a gml:Point without gml:pos")
        coordinates = self.coordinates(pos, self.check_srs(point), "Point pos")
        if len(coordinates) != 1:
            raise self.error(pos, f"a gml:Point with {len(coordinates)} positions")
        x, y = coordinates[0]
        if self.area is not None and not self.area.touches(x, y, x, y):
            return
        ground = None
        if cls == "DiepteNAP":
            ground_node = self.child(feature, "maaiveldPeil")
            ground = self.measure(ground_node, "maaiveldPeil", LENGTH_UOM) if ground_node is not None else None
        accuracy_node = self.child(feature, "diepteNauwkeurigheid")
        accuracy = ACCURACY.get(_href_value(self.href(accuracy_node) or "")) if accuracy_node is not None else None
        at_node = self.child(feature, "diepteAangrijpingspunt")
        at = _href_value(self.href(at_node) or "") if at_node is not None else "bovenkant"
        if at not in ("bovenkant", "binnenonderkantBuis"):
            self.warn(at_node, f"{cls} {ident}: diepteAangrijpingspunt '{at}' unknown: read as bovenkant")
            at = "bovenkant"
        nets = self.hrefs(feature, "inNetwork")
        self.depths[ident] = DepthPoint(ident, "maaiveld" if cls == "DiepteTovMaaiveld" else "NAP", value, (x, y),
                                        nets[0] if nets else None, feature.sourceline or 1, ground, accuracy, at)

    def beheerder(self, feature: Any) -> None:
        code_node = self.child(feature, "bronhoudercode")
        code = (code_node.text or "").strip() if code_node is not None else ""
        name = ""
        for node in feature.iter():
            if _local(node.tag) == "Organisatie":
                naam = self.child(node, "naam")
                name = (naam.text or "").strip() if naam is not None else ""
                break
        if code and name:
            self.owners[code] = name

    # ------------------------------------------------------------------ the document

    def root(self, root: Any) -> None:
        """Check the document: a GML FeatureCollection in the IMKL namespace, no DTD, a known version."""
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise _error(self.where, "the document has a DTD (<!DOCTYPE>); an IMKL delivery has none, and "
                                     "entities and external references are refused")
        if root.tag != f"{{{GML}}}FeatureCollection":
            raise self.error(root, f"the root element is {_local(root.tag)}, not a GML 3.2 FeatureCollection: "
                                   f"not an IMKL delivery")
        spaces = set(root.nsmap.values())
        old = spaces & set(OLD_IMKL)
        if old:
            raise self.error(root, f"IMKL 1.x (IMKL2015, namespace {sorted(old)[0]}) is not read; KLIC delivers "
                                   f"IMKL 2.0 since 2022")
        location = root.get(f"{{{XSI}}}schemaLocation") or ""
        found = SCHEMA_VERSION.search(location)
        if found:
            version = f"{found[1]}.{found[2][:1]}"
            if version not in VERSIONS:
                raise self.error(root, f"IMKL version {found[1]}.{found[2]} (schemaLocation); this ligging reads "
                                       f"IMKL {' and '.join(VERSIONS)}")
            self.version = version
        elif IMKL in spaces:
            self.version = "2.0/3.0"  # the wibon namespace without a schema location: both read the same way
        else:
            raise self.error(root, f"no IMKL namespace ({IMKL}) on the FeatureCollection: not an IMKL delivery")

    def probe(self, head: bytes) -> None:
        """Check the root element (and that there is no DTD) from the first bytes, before streaming the rest."""
        pull = etree.XMLPullParser(events=("start",), resolve_entities=False, no_network=True, load_dtd=False,
                                   huge_tree=False, remove_comments=True, remove_pis=True)
        try:
            pull.feed(head)
            for _, element in pull.read_events():
                self.root(element)
                return
        except etree.XMLSyntaxError:
            return  # the streaming parse reports it, at its position
        if len(head) >= PROBE:
            raise _error(self.where, f"no XML element in the first {PROBE} bytes: not an IMKL delivery")

    def parse(self, stream: _Counted) -> None:
        """Stream the document, feature by feature, clearing each from the tree once read.

        Only the elements kept are reported by the parser (`tag`): members and the feature
        classes read; everything else is built by libxml2 and dropped with its member.
        """
        try:
            head = stream.read(PROBE)
            self.probe(head)
            parser = etree.iterparse(_Prefixed(head, stream), events=("end",), tag=READ_TAGS, resolve_entities=False,
                                     no_network=True, load_dtd=False, huge_tree=False, remove_comments=True,
                                     remove_pis=True)
            for _, element in parser:
                if element.tag in MEMBERS:
                    element.clear(keep_tail=False)
                    holder = element.getparent()
                    while holder is not None and element.getprevious() is not None:
                        del holder[0]
                    continue
                parent = element.getparent()
                if parent is None or parent.tag not in MEMBERS:
                    continue  # a feature class nested in another feature: not a feature of the collection
                self.feature(element)
                if parent.tag == MEMBERS[1]:
                    # gml:featureMembers holds all features in one element: drop each as it is read
                    element.clear(keep_tail=False)
                    while element.getprevious() is not None:
                        del parent[0]
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (1, 1)
            message = str(exc.msg or exc).split(", line ")[0].replace(", use XML_PARSE_HUGE option", "")
            raise _error(self.where, f"broken XML: {message}", max(line, 1), max(column, 1)) from None
        except _TooBig:
            raise _error(self.where, f"the GML inflates past {stream.limit} bytes: refused (zip bomb or not a "
                                     f"delivery)") from None
        if not self.version:
            raise _error(self.where, "an empty document: no GML FeatureCollection")


class _Prefixed:
    """A stream that first returns the bytes already read ahead, then the rest."""

    def __init__(self, head: bytes, rest: _Counted) -> None:
        self.head = head
        self.rest = rest

    def read(self, size: int = -1) -> bytes:
        if self.head:
            if size < 0 or size >= len(self.head):
                out, self.head = self.head, b""
                return out
            out, self.head = self.head[:size], self.head[size:]
            return out
        return self.rest.read(size)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_delivery(path: Path, area: Area | None = None) -> Delivery:
    """Read a KLIC delivery (zip or GML); with an `area`, keep only the links and depth points that meet it.

    Raises `LiggingError` (file, line, column) for a broken or foreign document.
    """
    with _open(path) as (stream, where):
        reader = _Reader(where, area)
        reader.parse(stream)
    warnings = list(reader.warnings)
    if reader.dropped:
        warnings.append(f"{where}: {reader.dropped} more warnings not shown")
    return Delivery(str(path), reader.version, reader.nets, tuple(reader.elements), reader.links, reader.depths,
                    reader.owners, tuple(warnings))
