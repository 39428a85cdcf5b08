"""Load `case.yaml` into a frozen `Section`, with precise errors for every mistake.

YAML is composed into nodes with PyYAML's safe composer — no object is ever
constructed from a tag — and converted here, so every value keeps its line and
column. Aliases are followed against a budget (no alias bombs), nesting is bounded,
and every value is checked: known keys only, lengths with length units, positive
finite sizes, unique ids, contiguous zones, `holds` naming real objects.
"""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from checker.model import moment
from checker.model.section import (
    CABLE_THEMAS,
    CLIMATE_KINDS,
    DEPTH_BASES,
    KINDS,
    LIKELIHOODS,
    LINE_KINDS,
    PLAUSIBLE,
    STATUSES,
    THEMAS,
    TOLERANCE,
    Accepted,
    Expected,
    Obj,
    Place,
    Section,
    Source,
    Zone,
)
from dsl.diagnostics import Diagnostic, LiggingError, Span, line_of
from dsl.units import ATTRIBUTE_DIMENSIONS, UnitProblem, parse_quantity, quantity_si, si_value, to_si
from nen7171.zones import ZONE_KINDS

FORMAT_VERSION = 1
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 40
MAX_OBJECTS = 5_000
MAX_NUMBER = 10**15
UNITS = ("m", "cm", "mm")
SOURCE_KEYS = ("feature", "depth", "tolerance", "point")
PLACE_KEYS = ("from", "to", "station", "delivery")
# RD New (EPSG:28992) is defined over the Netherlands: x -7000..300000, y 289000..629000 (EPSG area of use)
RD_BOUNDS = ((-7000.0, 300000.0), (289000.0, 629000.0))
PLACE_SLACK = 0.01  # metres the place line's length may differ from the profile width (rounding of RD coordinates)

TOP_KEYS = (
    "ligging",
    "name",
    "municipality",
    "street_type",
    "planned",
    "width",
    "units",
    "zones",
    "objects",
    "expect",
    "accept",
    "tags",
    "description",
    "place",
)
COMMON_KEYS = ("id", "kind", "network", "owner", "status", "attributes", "measures", "label", "note", "source",
               "built", "disused", "removed")
# the years an object may carry are plain years; a case far outside this range is a typo
YEARS = (1800, 2200)
# a rectangular body given by from/to (or x/width), cover and height
BOX_KEYS = ("from", "to", "x", "cover", "width", "height")
KIND_KEYS: dict[str, tuple[str, ...]] = {
    # a rectangular cable or pipe may be a bed, duct or sleeve that `holds` lines (an IMKL container)
    "cable": ("x", "cover", "diameter", "width", "height", "holds"),
    "pipe": ("x", "cover", "diameter", "width", "height", "holds"),
    "crossing": ("from", "to", "cover", "diameter", "connects"),
    "tree": ("x", "diameter", "root_zone"),
    "structure": ("x", "cover", "width", "height"),
    "container": ("x", "cover", "width", "height"),
    "rack": ("x", "cover", "width", "height", "sides", "holds"),
    "reservation": BOX_KEYS + ("claim", "likelihood"),
    "infiltration": BOX_KEYS,
    "wadi": BOX_KEYS,
    "tree-soil": BOX_KEYS,
}
ZONE_KEYS = ("kind", "from", "to", "name")
ROOT_ZONE_KEYS = ("radius", "depth")
EXPECT_KEYS = ("rule", "kind", "subjects")
ACCEPT_KEYS = ("rule", "subjects", "reason", "approved_by", "until", "measured")
COLLECTION_TAGS = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
SCALAR_TAGS = {
    "tag:yaml.org,2002:str": "text",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "text",
}


@dataclass(frozen=True, slots=True)
class Node:
    """A YAML value with the span it was written at; mappings hold (key span, Node) pairs."""

    value: Any
    span: Span


class _Reader:
    """Turn composed YAML nodes into `Node`s, within the alias and depth budgets."""

    def __init__(self, path: str, text: str, line_offset: int = 0) -> None:
        self.path = path
        self.text = text
        self.seen = 0
        self.offset = line_offset

    def span(self, node: yaml.Node) -> Span:
        mark = node.start_mark
        end = node.end_mark
        return Span(self.path, mark.line + 1 + self.offset, mark.column + 1, end.line + 1 + self.offset, end.column + 1)

    def error(self, span: Span, message: str) -> LiggingError:
        return LiggingError(Diagnostic(span, message, source_line=line_of(self.text, span.line - self.offset)))

    def read(self, node: yaml.Node, depth: int = 0) -> Node:
        self.seen += 1
        span = self.span(node)
        if self.seen > MAX_NODES:
            raise self.error(span, f"more than {MAX_NODES} values (after following aliases) — refused")
        if depth > MAX_DEPTH:
            raise self.error(span, f"nesting deeper than {MAX_DEPTH} levels — refused")
        if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and node.tag not in COLLECTION_TAGS:
            raise self.error(span, f"tag '{node.tag}' is not allowed in a case file (plain values only)")
        if isinstance(node, yaml.MappingNode):
            out: dict[str, tuple[Span, Node]] = {}
            for key_node, value_node in node.value:
                key = self.read(key_node, depth + 1)
                if not isinstance(key.value, str):
                    raise self.error(key.span, f"keys must be text, not {_show(key.value)}")
                if key.value in out:
                    raise self.error(key.span, f"key '{key.value}' appears twice")
                out[key.value] = (key.span, self.read(value_node, depth + 1))
            return Node(out, span)
        if isinstance(node, yaml.SequenceNode):
            return Node([self.read(item, depth + 1) for item in node.value], span)
        kind = SCALAR_TAGS.get(node.tag)
        if kind is None:
            raise self.error(span, f"tag '{node.tag}' is not allowed in a case file (plain values only)")
        text = node.value
        if kind in ("int", "float"):
            return self.number(text, span)
        if kind == "bool":
            return Node(text.lower() in ("true", "yes", "on", "y"), span)
        if kind == "null":
            return Node(None, span)
        return Node(text, span)

    def number(self, text: str, span: Span) -> Node:
        """Convert a YAML number, refusing what no length or year can be (inf, nan, 1e400, 10**30)."""
        digits = text.replace("_", "")
        shown = text if len(text) <= 24 else text[:20] + "..."
        if digits.lower().lstrip("+-") in (".nan", ".inf"):
            raise self.error(span, f"'{text}' is not a finite number")
        if ":" in digits:
            # YAML 1.1 base-60 numbers (1:30) are almost always a typo; keep them as text
            return Node(text, span)
        value: float | int
        try:
            value = int(digits, 0)
        except ValueError:
            try:
                value = float(digits)
            except ValueError:
                return Node(text, span)
        if isinstance(value, int):
            if abs(value) > MAX_NUMBER:
                raise self.error(span, f"'{shown}' is out of range (numbers are limited to {MAX_NUMBER:.0e})")
        elif not math.isfinite(value) or abs(value) > MAX_NUMBER:
            raise self.error(span, f"'{shown}' is not a finite number in range (numbers are limited to {MAX_NUMBER:.0e})")
        return Node(value, span)


class _Case:
    """Validate the converted tree and build the `Section`."""

    def __init__(self, reader: _Reader, at: int | None = None) -> None:
        self.reader = reader
        self.unit = "m"
        self.at = at

    def error(self, span: Span, message: str) -> LiggingError:
        return self.reader.error(span, message)

    # -------------------------------------------------------------- generic checks

    def mapping(self, node: Node, what: str, allowed: tuple[str, ...]) -> dict[str, tuple[Span, Node]]:
        if not isinstance(node.value, dict):
            raise self.error(node.span, f"{what} must be a mapping of keys to values")
        for key, (kspan, _) in node.value.items():
            if key not in allowed:
                near = difflib.get_close_matches(key, allowed, n=1)
                hint = f" — did you mean '{near[0]}'?" if near else f"; allowed: {', '.join(allowed)}"
                raise self.error(kspan, f"unknown key '{key}' in {what}{hint}")
        return dict(node.value)

    def required(self, fields: dict[str, tuple[Span, Node]], key: str, what: str, span: Span) -> Node:
        if key not in fields:
            raise self.error(span, f"{what} has no '{key}'")
        return fields[key][1]

    def text(self, node: Node, what: str) -> str:
        if isinstance(node.value, bool) or not isinstance(node.value, (str, int, float)):
            raise self.error(node.span, f"{what} must be text")
        value = str(node.value).strip()
        if not value:
            raise self.error(node.span, f"{what} is empty")
        return value

    def length(self, node: Node, what: str, positive: bool = False, signed: bool = False, limit: str | None = None) -> float:
        value = node.value
        try:
            if isinstance(value, bool) or value is None or not isinstance(value, (int, float, str)):
                raise UnitProblem(f'expected a length such as 0.6 or "110 mm", got {_show(value)}')
            if isinstance(value, str):
                measure = parse_quantity(value, self.unit)
            else:
                measure = to_si(float(value), self.unit)
            if measure.dimension != "length":
                raise UnitProblem(f"'{measure.text}' is a {measure.dimension}, expected a length")
        except (UnitProblem, OverflowError) as exc:
            raise self.error(node.span, f"{what}: {exc}") from None
        result = measure.value
        if not math.isfinite(result) or abs(result) > 1e5:
            raise self.error(node.span, f"{what}: {value} is out of range")
        if positive and result <= 0:
            raise self.error(node.span, f"{what} must be greater than zero, got {_show(value)}")
        if not signed and not positive and result < 0:
            raise self.error(node.span, f"{what} cannot be negative, got {_show(value)}")
        if limit is not None:
            number, unit = measure.text.split(" ", 1)
            problem = PLAUSIBLE[limit].problem(result, float(number), unit)
            if problem:
                raise self.error(node.span, f"{what}: {problem}")
        return result

    def listing(self, node: Node, what: str) -> list[Node]:
        if not isinstance(node.value, list):
            raise self.error(node.span, f"{what} must be a list")
        return list(node.value)

    def choice(self, node: Node, what: str, options: tuple[str, ...]) -> str:
        value = self.text(node, what)
        if value not in options:
            near = difflib.get_close_matches(value, options, n=1)
            hint = f" — did you mean '{near[0]}'?" if near else f"; expected one of {', '.join(options)}"
            raise self.error(node.span, f"unknown {what} '{value}'{hint}")
        return value

    # -------------------------------------------------------------- section

    def section(self, root: Node) -> Section:
        top = self.mapping(root, "the case file", TOP_KEYS)
        version = self.required(top, "ligging", "the case file", root.span)
        if version.value != FORMAT_VERSION or isinstance(version.value, bool):
            raise self.error(
                version.span, f"unsupported format version {_show(version.value)}; this ligging reads version {FORMAT_VERSION}"
            )
        if "units" in top:
            self.unit = self.choice(top["units"][1], "units", UNITS)
        name = self.text(self.required(top, "name", "the case file", root.span), "name")
        width = self.length(self.required(top, "width", "the case file", root.span), "width", positive=True, limit="width")
        tags: list[tuple[str, str | float]] = []
        for key in ("municipality", "street_type"):
            if key in top:
                tags.append((key, self.text(top[key][1], key)))
        planned = None
        if "planned" in top:
            planned = self.planned(top["planned"][1])
            tags.append(("planned", float(planned[:4])))
        if "tags" in top:
            tags_node = top["tags"][1]
            free = tuple(tags_node.value) if isinstance(tags_node.value, dict) else ()  # any key is a tag
            for key, (kspan, value) in self.mapping(tags_node, "tags", free).items():
                if key in dict(tags):
                    raise self.error(kspan, f"tag '{key}' is already set at the top of the file")
                tags.append((key, self.tag_value(value, key)))
        zones = self.zones(self.required(top, "zones", "the case file", root.span), width)
        objects = self.objects(self.required(top, "objects", "the case file", root.span))
        expect = tuple(self.expected(n) for n in self.listing(top["expect"][1], "expect")) if "expect" in top else ()
        accept = tuple(self.accepted(n) for n in self.listing(top["accept"][1], "accept")) if "accept" in top else ()
        place = self.place(top["place"][1], width) if "place" in top else None
        section = Section(self.reader.path, name, width, zones, objects, tuple(tags), planned, expect, accept, root.span,
                          place)
        return moment.as_of(section, self.at)

    def place(self, node: Node, width: float) -> Place:
        fields = self.mapping(node, "place", PLACE_KEYS)
        start = self.rd_point(self.required(fields, "from", "place", node.span), "place from")
        end = self.rd_point(self.required(fields, "to", "place", node.span), "place to")
        length = math.dist(start, end)
        if abs(length - width) > PLACE_SLACK:
            raise self.error(node.span, f"place from and to are {length:.3f} m apart but the profile is {width:g} m wide")
        station = self.length(fields["station"][1], "place station", signed=True) if "station" in fields else None
        delivery = self.text(fields["delivery"][1], "place delivery") if "delivery" in fields else None
        return Place(start, end, station, delivery)

    def rd_point(self, node: Node, what: str) -> tuple[float, float]:
        """Read [x, y] in RD New metres, inside the area RD New is defined for."""
        items = node.value
        if not isinstance(items, list) or len(items) != 2 or not all(
                isinstance(n.value, (int, float)) and not isinstance(n.value, bool) for n in items):
            raise self.error(node.span, f"{what} must be [x, y] in RD New metres, e.g. [155000.0, 388000.0]")
        x, y = float(items[0].value), float(items[1].value)
        for value, (low, high), axis, item in ((x, RD_BOUNDS[0], "x", items[0]), (y, RD_BOUNDS[1], "y", items[1])):
            if not low <= value <= high:
                raise self.error(item.span, f"{what} {axis} = {value:g} is outside RD New ({low:g} to {high:g})")
        return (x, y)

    def tag_value(self, node: Node, what: str) -> str | float:
        if isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            return float(node.value)
        return self.text(node, what)

    def planned(self, node: Node) -> str:
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool) and 1900 <= value <= 2200:
            return f"{value}-01-01"
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value):
            full = value if len(value) == 10 else value + "-01"
            try:
                dt.date.fromisoformat(full)
            except ValueError:
                raise self.error(node.span, f"planned: '{value}' is not a date") from None
            return full
        raise self.error(node.span, f"planned must be a year (2027) or a date (2027-03-01), got {_show(value)}")

    def zones(self, node: Node, width: float) -> tuple[Zone, ...]:
        out: list[Zone] = []
        for item in self.listing(node, "zones"):
            fields = self.mapping(item, "a zone", ZONE_KEYS)
            kind = self.choice(self.required(fields, "kind", "a zone", item.span), "zone kind", tuple(ZONE_KINDS))
            start = self.length(self.required(fields, "from", "a zone", item.span), "zone from")
            end = self.length(self.required(fields, "to", "a zone", item.span), "zone to")
            if end <= start + TOLERANCE:
                raise self.error(item.span, f"zone {kind} ends ({end:g} m) before it starts ({start:g} m)")
            expected_start = out[-1].end if out else 0.0
            if abs(start - expected_start) > TOLERANCE:
                gap = "overlaps the previous zone" if start < expected_start else "leaves a gap after the previous zone"
                raise self.error(
                    fields["from"][1].span,
                    f"zone {kind} starts at {start:g} m but {gap} (expected {expected_start:g} m); zones must be contiguous",
                )
            out.append(Zone(kind, start, end, item.span))
        if not out:
            raise self.error(node.span, "zones is empty; give at least one surface zone from 0 to the width")
        if abs(out[-1].end - width) > TOLERANCE:
            raise self.error(out[-1].span, f"the last zone ends at {out[-1].end:g} m but the profile is {width:g} m wide")
        return tuple(out)

    # -------------------------------------------------------------- objects

    def objects(self, node: Node) -> tuple[Obj, ...]:
        items = self.listing(node, "objects")
        if len(items) > MAX_OBJECTS:
            raise self.error(node.span, f"{len(items)} objects; at most {MAX_OBJECTS} per section")
        objs: list[Obj] = []
        ids: dict[str, Span] = {}
        for item in items:
            obj = self.obj(item)
            if obj.id in ids:
                raise self.error(obj.span, f"duplicate id '{obj.id}' (first at line {ids[obj.id].line})")
            ids[obj.id] = obj.span
            objs.append(obj)
        by_id = {o.id: o for o in objs}
        held_by: dict[str, str] = {}
        for obj in objs:
            for held in obj.holds:
                if held not in by_id:
                    near = difflib.get_close_matches(held, list(by_id), n=1)
                    hint = f" — did you mean '{near[0]}'?" if near else ""
                    raise self.error(obj.span, f"{obj.kind} {obj.id} holds '{held}', which is not an object in this case{hint}")
                if held == obj.id:
                    raise self.error(obj.span, f"{obj.kind} {obj.id} cannot hold itself")
                if by_id[held].kind not in LINE_KINDS:
                    raise self.error(obj.span, f"{obj.kind} {obj.id} holds {held}, a {by_id[held].kind}; "
                                               f"it can hold cables and pipes only")
                if by_id[held].holds:
                    raise self.error(obj.span, f"{obj.kind} {obj.id} holds {held}, which holds lines itself; "
                                               f"a holder holds loose cables and pipes only")
                if held in held_by:
                    raise self.error(obj.span, f"{held} is held by both {held_by[held]} and {obj.id}")
                held_by[held] = obj.id
        for obj in objs:
            if obj.connects is None:
                continue
            main = by_id.get(obj.connects)
            if main is None:
                near = difflib.get_close_matches(obj.connects, list(by_id), n=1)
                hint = f" — did you mean '{near[0]}'?" if near else ""
                raise self.error(obj.span, f"crossing {obj.id} connects '{obj.connects}', which is not an object in "
                                           f"this case{hint}")
            if main.kind not in LINE_KINDS:
                raise self.error(obj.span, f"crossing {obj.id} connects {main.id}, a {main.kind}; a house connection "
                                           f"leaves a cable or pipe")
            if main.network != obj.network:
                raise self.error(obj.span, f"crossing {obj.id} ({obj.network}) connects {main.id} ({main.network}); "
                                           f"a house connection is of its main's network")
        return tuple(objs)

    def obj(self, node: Node) -> Obj:
        if not isinstance(node.value, dict):
            raise self.error(node.span, "each object must be a mapping (id, network, x, cover, ...)")
        raw = node.value
        ident = self.text(self.required(raw, "id", "an object", node.span), "id")
        if "kind" in raw:
            kind = self.choice(raw["kind"][1], "object kind", KINDS)
        elif "network" in raw:
            kind = "cable" if raw["network"][1].value in CABLE_THEMAS else "pipe"
        else:
            raise self.error(node.span, f"object {ident} has neither kind nor network")
        what = f"object {ident}"
        fields = self.mapping(node, what, COMMON_KEYS + KIND_KEYS[kind])
        network = self.choice(fields["network"][1], "network", THEMAS) if "network" in fields else None
        if kind in LINE_KINDS + ("crossing",) and network is None:
            raise self.error(node.span, f"{what} is a {kind} and needs a network (one of the IMKL themas)")
        owner = self.text(fields["owner"][1], "owner") if "owner" in fields else None
        status = self.choice(fields["status"][1], "status", STATUSES) if "status" in fields else "planned"
        common: dict[str, Any] = {
            "id": ident,
            "kind": kind,
            "network": network,
            "owner": owner,
            "status": status,
            "span": node.span,
            "measures": self.measures(fields["measures"][1]) if "measures" in fields else (),
            "attributes": self.attributes(fields["attributes"][1], what) if "attributes" in fields else (),
            "source": self.source(fields["source"][1], what) if "source" in fields else None,
            **self.years(fields, what, status),
        }
        get = lambda key: self.required(fields, key, what, node.span)  # noqa: E731
        if kind in LINE_KINDS:
            x = self.length(get("x"), f"{what} x", signed=True)
            cover = self.length(get("cover"), f"{what} cover", limit="cover")
            if "diameter" in fields:
                if "width" in fields or "height" in fields:
                    raise self.error(fields["diameter"][0], f"{what} has a diameter and a width/height; give one shape")
                if "holds" in fields:
                    raise self.error(fields["holds"][0], f"{what} is round; only a rectangular bed, duct or sleeve "
                                                         f"(width and height) holds lines")
                diameter = self.length(get("diameter"), f"{what} diameter", positive=True, limit="diameter")
                return Obj(x=x, cover=cover, diameter=diameter, **common)
            if "width" not in fields or "height" not in fields:
                raise self.error(node.span, f"{what} needs a diameter (round) or a width and height (rectangular)")
            return Obj(
                x=x,
                cover=cover,
                width=self.length(get("width"), f"{what} width", positive=True, limit="line size"),
                height=self.length(get("height"), f"{what} height", positive=True, limit="line size"),
                holds=self.holds(fields["holds"][1], what) if "holds" in fields else (),
                **common,
            )
        if kind == "crossing":
            start = self.length(get("from"), f"{what} from", signed=True)
            end = self.length(get("to"), f"{what} to", signed=True)
            if end <= start:
                raise self.error(fields["to"][1].span, f"{what} runs from {start:g} m to {end:g} m; 'to' must be beyond 'from'")
            cover_node = get("cover")
            if isinstance(cover_node.value, list):
                if len(cover_node.value) != 2:
                    raise self.error(cover_node.span, f"{what} cover is one depth or [depth at from, depth at to]")
                c0 = self.length(cover_node.value[0], f"{what} cover", limit="cover")
                c1 = self.length(cover_node.value[1], f"{what} cover", limit="cover")
            else:
                c0 = c1 = self.length(cover_node, f"{what} cover", limit="cover")
            return Obj(
                x=0.5 * (start + end),
                cover=c0,
                cover_end=c1,
                start=start,
                end=end,
                diameter=self.length(get("diameter"), f"{what} diameter", positive=True, limit="diameter"),
                connects=self.text(fields["connects"][1], f"{what} connects") if "connects" in fields else None,
                **common,
            )
        if kind == "tree":
            x = self.length(get("x"), f"{what} x", signed=True)
            trunk = (self.length(fields["diameter"][1], f"{what} diameter", positive=True, limit="trunk")
                     if "diameter" in fields else None)
            radius = depth = None
            if "root_zone" in fields:
                rz = self.mapping(fields["root_zone"][1], f"{what} root_zone", ROOT_ZONE_KEYS)
                radius = self.length(self.required(rz, "radius", f"{what} root_zone", node.span), f"{what} root_zone radius",
                                     positive=True, limit="root radius")
                depth = self.length(self.required(rz, "depth", f"{what} root_zone", node.span), f"{what} root_zone depth",
                                    positive=True, limit="root depth")
            return Obj(x=x, cover=0.0, diameter=trunk, root_radius=radius, root_depth=depth, **common)
        if kind == "reservation":
            if "claim" in fields:
                common["claim"] = self.year(fields["claim"][1], f"{what} claim")
            if "likelihood" in fields:
                common["likelihood"] = self.choice(fields["likelihood"][1], "likelihood", LIKELIHOODS)
        if kind == "reservation" or kind in CLIMATE_KINDS:
            cover = self.length(get("cover"), f"{what} cover", limit="cover")
            height = self.length(get("height"), f"{what} height", positive=True, limit="body size")
            if "from" in fields or "to" in fields:
                start = self.length(get("from"), f"{what} from", signed=True)
                end = self.length(get("to"), f"{what} to", signed=True)
                if end <= start:
                    raise self.error(fields["to"][1].span, f"{what}: 'to' ({end:g} m) must be beyond 'from' ({start:g} m)")
                return Obj(x=0.5 * (start + end), cover=cover, width=end - start, height=height, **common)
            return Obj(
                x=self.length(get("x"), f"{what} x", signed=True),
                cover=cover,
                width=self.length(get("width"), f"{what} width", positive=True, limit="body size"),
                height=height,
                **common,
            )
        extra: dict[str, Any] = {}
        if kind == "rack":
            extra["sides"] = self.choice(fields["sides"][1], "sides", ("single", "double")) if "sides" in fields else "single"
            extra["holds"] = self.holds(fields["holds"][1], what) if "holds" in fields else ()
        return Obj(
            x=self.length(get("x"), f"{what} x", signed=True),
            cover=self.length(get("cover"), f"{what} cover", limit="cover"),
            width=self.length(get("width"), f"{what} width", positive=True, limit="body size"),
            height=self.length(get("height"), f"{what} height", positive=True, limit="body size"),
            **extra,
            **common,
        )

    def year(self, node: Node, what: str) -> int:
        """Read a plain year (2028)."""
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int) or not YEARS[0] <= value <= YEARS[1]:
            raise self.error(node.span, f"{what} must be a year ({YEARS[0]} to {YEARS[1]}), got {_show(value)}")
        return value

    def years(self, fields: dict[str, tuple[Span, Node]], what: str, status: str) -> dict[str, int]:
        """Read an object's years (built, disused, removed) and check that they follow each other."""
        got = {key: self.year(fields[key][1], f"{what} {key}") for key in ("built", "disused", "removed") if key in fields}
        if "disused" in got and status == "disused":
            raise self.error(fields["disused"][0], f"{what} is disused already (status) and again from {got['disused']}; "
                                                   f"give one of them")
        order = [key for key in ("built", "disused", "removed") if key in got]
        for early, late in itertools.pairwise(order):
            if got[late] < got[early]:
                raise self.error(fields[late][0], f"{what} is {late} in {got[late]}, before it is {early} ({got[early]})")
        return got

    def holds(self, node: Node, what: str) -> tuple[str, ...]:
        return tuple(self.text(n, f"{what} holds") for n in self.listing(node, f"{what} holds"))

    def source(self, node: Node, what: str) -> Source:
        """Read where an imported object came from: `{feature: ID, depth: measured|declared|assumed, ...}`."""
        fields = self.mapping(node, f"{what} source", SOURCE_KEYS)
        feature = self.text(self.required(fields, "feature", f"{what} source", node.span), f"{what} source feature")
        depth = self.choice(self.required(fields, "depth", f"{what} source", node.span), "depth basis", DEPTH_BASES)
        tolerance = self.length(fields["tolerance"][1], f"{what} source tolerance") if "tolerance" in fields else None
        point = self.text(fields["point"][1], f"{what} source point") if "point" in fields else None
        if depth != "measured" and (tolerance is not None or point is not None):
            key = "tolerance" if tolerance is not None else "point"
            raise self.error(fields[key][0], f"{what} source: '{key}' belongs to a measured depth, not a {depth} one")
        return Source(feature, depth, tolerance, point)

    def measures(self, node: Node) -> tuple[str, ...]:
        return tuple(sorted({self.text(n, "measure") for n in self.listing(node, "measures")}))

    def attributes(self, node: Node, what: str) -> tuple[tuple[str, float | str], ...]:
        if not isinstance(node.value, dict):
            raise self.error(node.span, f"{what} attributes must be a mapping (voltage: 10 kV, ...)")
        out: list[tuple[str, float | str]] = []
        for key, (_, value) in sorted(node.value.items()):
            raw = value.value
            expected = ATTRIBUTE_DIMENSIONS.get(key)
            if isinstance(raw, bool) or raw is None or isinstance(raw, (list, dict)):
                raise self.error(value.span, f"{what} attribute {key} must be a quantity or text")
            if isinstance(raw, (int, float)) or re.match(r"^\s*[-+]?\d", str(raw)):
                try:
                    measure = parse_quantity(str(raw), "")
                except UnitProblem as exc:
                    raise self.error(value.span, f"{what} attribute {key}: {exc}") from None
                if expected and measure.dimension != expected:
                    raise self.error(value.span, f"{what} attribute {key} must be a {expected}, got '{raw}'")
                out.append((key, measure.value))
            else:
                if expected:
                    raise self.error(value.span, f"{what} attribute {key} must be a {expected} with a unit, got '{raw}'")
                out.append((key, str(raw)))
        return tuple(out)

    def expected(self, node: Node) -> Expected:
        fields = self.mapping(node, "an expect entry", EXPECT_KEYS)
        subjects = tuple(
            sorted(
                self.text(n, "subject")
                for n in self.listing(self.required(fields, "subjects", "an expect entry", node.span), "subjects")
            )
        )
        return Expected(
            self.text(self.required(fields, "rule", "an expect entry", node.span), "rule"),
            self.text(self.required(fields, "kind", "an expect entry", node.span), "kind"),
            subjects,
            node.span,
        )

    def accepted(self, node: Node) -> Accepted:
        fields = self.mapping(node, "an accept entry", ACCEPT_KEYS)
        get = lambda key: self.required(fields, key, "an accept entry", node.span)  # noqa: E731
        # reason, approved_by and until written but left empty: a deviation asked for, not yet granted
        blank = lambda key: "" if get(key).value is None else self.text(get(key), key)  # noqa: E731
        until_node = get("until")
        until = "" if until_node.value is None else str(until_node.value)
        try:
            if until:
                dt.date.fromisoformat(until if len(until) == 10 else f"{until}-12-31")
        except ValueError:
            raise self.error(
                until_node.span, f"until must be a date (2027-12-31) or a year, got {_show(until_node.value)}"
            ) from None
        subjects = (
            tuple(sorted(self.text(n, "subject") for n in self.listing(fields["subjects"][1], "subjects")))
            if "subjects" in fields
            else ()
        )
        measured = self.length(fields["measured"][1], "measured", signed=True) if "measured" in fields else None
        return Accepted(
            self.text(get("rule"), "rule"),
            subjects,
            blank("reason"),
            blank("approved_by"),
            until if len(until) in (0, 10) else f"{until}-12-31",
            measured,
            node.span,
        )


def _show(value: Any) -> str:
    """Show a YAML value in a message the way the user wrote it."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value) if isinstance(value, str) else str(value)


def _check_depth(text: str, path: str, line_offset: int, loader: type) -> None:
    """Refuse nesting deeper than MAX_DEPTH before composing: the composer recurses per level."""
    try:
        _scan_depth(text, path, line_offset, loader)
    except yaml.MarkedYAMLError as exc:
        # libyaml ≥ 0.2.5 (PyYAML 6.0.3+) refuses deep flow nesting itself while scanning ahead, at
        # the far end of the run; the pure-Python scanner reaches our own limit first, at its place.
        if loader is yaml.SafeLoader or "nesting depth" not in str(exc.problem):
            raise
        _scan_depth(text, path, line_offset, yaml.SafeLoader)


def _scan_depth(text: str, path: str, line_offset: int, loader: type) -> None:
    """Walk the parse events and raise at the first collection deeper than MAX_DEPTH."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                mark = event.start_mark
                raise LiggingError(
                    Diagnostic(
                        Span(path, mark.line + 1 + line_offset, mark.column + 1),
                        f"nesting deeper than {MAX_DEPTH} levels — refused",
                        source_line=line_of(text, mark.line + 1),
                    )
                )
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def parse_case(text: str, path: str, line_offset: int = 0, at: int | None = None) -> Section:
    """Parse case-file text; raise `LiggingError` naming file, line and column on any mistake.

    `line_offset` is added to every line number, for a case that is one line of a larger
    file (a JSON Lines batch). The section is the street in year `at` (default: the year of its
    works, `planned`; see `checker.model.moment`).
    """
    reader = _Reader(path, text, line_offset)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        _check_depth(text, path, line_offset, loader)
        root = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        column = mark.column + 1 if mark else 1
        problem = exc.problem or exc.context or "malformed YAML"
        if "cannot start any token" in problem and line_of(text, line)[column - 1: column] == "\t":
            # PyYAML says "found character '\t' that cannot start any token": name the tab and the fix
            problem = "a tab character; YAML indents with spaces only — replace the tab with spaces"
        raise LiggingError(
            Diagnostic(Span(path, line + line_offset, column), f"YAML: {problem}", source_line=line_of(text, line))
        ) from None
    except yaml.YAMLError as exc:
        raise LiggingError(Diagnostic(Span(path, 1 + line_offset, 1), f"YAML: {str(exc).splitlines()[0]}")) from None
    if root is None:
        raise LiggingError(Diagnostic(Span(path, 1 + line_offset, 1), "the case file is empty"))
    return _Case(reader, at).section(reader.read(root))


# ------------------------------------------------------------------ JSON Lines fast path
#
# A batch line is JSON, and JSON is YAML, so `parse_case` reads it — through PyYAML's
# composer, a Node per value and a Span per Node, milliseconds per line. The fast path
# below reads a line with `json.loads` and builds the same `Section` directly. It only
# accepts what it can judge exactly as the YAML path would; anything else (any mistake,
# anything unusual) raises `_Fallback` and the line goes the slow way, so every error
# message comes from one place. tests/test_fastload.py compares both paths field by field.


class _Fallback(Exception):
    """The fast path met something it does not judge itself: the YAML path decides."""


# Characters that JSON and YAML read alike on one line. A backslash (escapes), tabs and
# line breaks (YAML also breaks lines at NEL, LS and PS), a BOM, DEL, surrogates and
# other characters YAML refuses all send the line the slow way.
_UNUSUAL = re.compile(r"[^\x20-\x5b\x5d-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_BRACE = re.compile("[{}]")
# An exponent (1e5) may make YAML 1.1 read a JSON number as text; strings like "2e" set it off too
_EXPONENT = re.compile("[0-9][eE]")
_LONGEST_KEY = 512  # YAML refuses implicit keys over 1024 characters; longer keys go the slow way


def _pairs(made: list[dict[str, Any]]) -> Any:
    """Return an object_pairs_hook that refuses duplicate keys and records mappings in closing order."""

    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out = dict(pairs)
        if len(out) != len(pairs):
            raise _Fallback
        made.append(out)
        return out

    return hook


def _plain_float(text: str) -> float:
    # YAML 1.1 reads a number with an exponent as a float only with a dot and a signed
    # exponent (1.5e+3); let the slow path judge any exponent at all
    if "e" in text or "E" in text:
        raise _Fallback
    return float(text)


def _no_constant(text: str) -> float:
    raise _Fallback


def _plain(value: Any) -> None:
    """Accept a value nothing checks (description, label, zone name) if it is a plain scalar in range."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return
    if (kind is int or kind is float) and abs(value) <= MAX_NUMBER:
        return
    raise _Fallback


class _JsonCase:
    """Build a `Section` from a decoded JSON line, as `_Case` would, or raise `_Fallback`."""

    def __init__(self, path: str, line: int, spans: dict[int, tuple[int, int]], at: int | None = None) -> None:
        self.path = path
        self.line = line
        self.spans = spans
        self.unit = "m"
        self.at = at

    def span(self, value: dict[str, Any]) -> Span:
        start, end = self.spans[id(value)]
        return Span(self.path, self.line, start, self.line, end)

    @staticmethod
    def mapping(value: Any, allowed: tuple[str, ...] | frozenset[str]) -> dict[str, Any]:
        if type(value) is not dict:
            raise _Fallback
        for key in value:
            if key not in allowed:
                raise _Fallback
        return value

    @staticmethod
    def listing(value: Any) -> list[Any]:
        if type(value) is not list:
            raise _Fallback
        return value

    @staticmethod
    def text(value: Any) -> str:
        kind = type(value)
        if kind is str:
            out = value.strip()
        elif (kind is int or kind is float) and abs(value) <= MAX_NUMBER:
            out = str(value).strip()
        else:
            raise _Fallback
        if not out:
            raise _Fallback
        return out

    def choice(self, value: Any, options: tuple[str, ...] | dict[str, Any]) -> str:
        out = self.text(value)
        if out not in options:
            raise _Fallback
        return out

    def length(self, value: Any, positive: bool = False, signed: bool = False, limit: str | None = None) -> float:
        kind = type(value)
        if kind is float or kind is int:
            if abs(value) > MAX_NUMBER:
                raise _Fallback
            result, dimension = si_value(float(value), self.unit)
        elif kind is str:
            result, dimension = quantity_si(value, self.unit)
        else:
            raise _Fallback
        if dimension != "length" or not math.isfinite(result) or abs(result) > 1e5:
            raise _Fallback
        if positive:
            if result <= 0:
                raise _Fallback
        elif not signed and result < 0:
            raise _Fallback
        if limit is not None and not PLAUSIBLE[limit].holds(result):
            raise _Fallback
        return result

    def section(self, root: Any) -> Section:
        top = self.mapping(root, _FAST_TOP_KEYS)
        version = top.get("ligging")
        if type(version) is bool or version != FORMAT_VERSION:
            raise _Fallback
        if "units" in top:
            self.unit = self.choice(top["units"], UNITS)
        name = self.text(top.get("name"))
        width = self.length(top.get("width"), positive=True, limit="width")
        tags: list[tuple[str, str | float]] = []
        for key in ("municipality", "street_type"):
            if key in top:
                tags.append((key, self.text(top[key])))
        planned = None
        if "planned" in top:
            planned = self.planned(top["planned"])
            tags.append(("planned", float(planned[:4])))
        if "tags" in top:
            for key, value in self.mapping(top["tags"], top["tags"]).items():
                if key in dict(tags) or len(key) > _LONGEST_KEY:
                    raise _Fallback
                if (type(value) is int or type(value) is float) and abs(value) <= MAX_NUMBER:
                    tags.append((key, float(value)))
                else:
                    tags.append((key, self.text(value)))
        zones = self.zones(top.get("zones"), width)
        objects = self.objects(top.get("objects"))
        expect = tuple(self.expected(n) for n in self.listing(top["expect"])) if "expect" in top else ()
        accept = tuple(self.accepted(n) for n in self.listing(top["accept"])) if "accept" in top else ()
        if "description" in top:
            _plain(top["description"])
        return moment.as_of(Section(self.path, name, width, zones, objects, tuple(tags), planned, expect, accept,
                                    self.span(root)), self.at)

    @staticmethod
    def planned(value: Any) -> str:
        if type(value) is int and 1900 <= value <= 2200:
            return f"{value}-01-01"
        if type(value) is str and re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value):
            full = value if len(value) == 10 else value + "-01"
            try:
                dt.date.fromisoformat(full)
            except ValueError:
                raise _Fallback from None
            return full
        raise _Fallback

    def zones(self, value: Any, width: float) -> tuple[Zone, ...]:
        out: list[Zone] = []
        for item in self.listing(value):
            fields = self.mapping(item, ZONE_KEYS)
            kind = self.choice(fields.get("kind"), ZONE_KINDS)
            start = self.length(fields.get("from"))
            end = self.length(fields.get("to"))
            if end <= start + TOLERANCE:
                raise _Fallback
            if abs(start - (out[-1].end if out else 0.0)) > TOLERANCE:
                raise _Fallback
            if "name" in fields:
                _plain(fields["name"])
            out.append(Zone(kind, start, end, self.span(item)))
        if not out or abs(out[-1].end - width) > TOLERANCE:
            raise _Fallback
        return tuple(out)

    def objects(self, value: Any) -> tuple[Obj, ...]:
        items = self.listing(value)
        if len(items) > MAX_OBJECTS:
            raise _Fallback
        objs = tuple(self.obj(item) for item in items)
        by_id = {o.id: o for o in objs}
        if len(by_id) != len(objs):
            raise _Fallback
        held_by: set[str] = set()
        for obj in objs:
            for held in obj.holds:
                if held not in by_id or held == obj.id or by_id[held].kind not in LINE_KINDS or held in held_by:
                    raise _Fallback
                held_by.add(held)
        return objs

    def obj(self, raw: Any) -> Obj:
        if type(raw) is not dict:
            raise _Fallback
        ident = self.text(raw.get("id"))
        if "kind" in raw:
            kind = self.choice(raw["kind"], KINDS)
        elif "network" in raw:
            kind = "cable" if raw["network"] in CABLE_THEMAS else "pipe"
        else:
            raise _Fallback
        if kind in CLIMATE_KINDS:
            raise _Fallback
        fields = self.mapping(raw, _OBJECT_KEYS[kind])
        get = fields.get
        length = self.length
        network = self.choice(fields["network"], THEMAS) if "network" in fields else None
        if network is None and kind in _NETWORKED:
            raise _Fallback
        common: dict[str, Any] = {
            "id": ident,
            "kind": kind,
            "network": network,
            "owner": self.text(fields["owner"]) if "owner" in fields else None,
            "status": self.choice(fields["status"], ("planned", "existing")) if "status" in fields else "planned",
            "span": self.span(raw),
            "measures": tuple(sorted({self.text(n) for n in self.listing(fields["measures"])})) if "measures" in fields else (),
            "attributes": self.attributes(fields["attributes"]) if "attributes" in fields else (),
        }
        for key in ("label", "note"):
            if key in fields:
                _plain(fields[key])
        if kind in LINE_KINDS:
            x = length(get("x"), signed=True)
            cover = length(get("cover"), limit="cover")
            if "diameter" in fields:
                if "width" in fields or "height" in fields:
                    raise _Fallback
                return Obj(x=x, cover=cover, diameter=length(fields["diameter"], positive=True, limit="diameter"), **common)
            return Obj(x=x, cover=cover, width=length(get("width"), positive=True, limit="line size"),
                       height=length(get("height"), positive=True, limit="line size"), **common)
        if kind == "crossing":
            start = length(get("from"), signed=True)
            end = length(get("to"), signed=True)
            if end <= start:
                raise _Fallback
            cover_value = get("cover")
            if type(cover_value) is list:
                if len(cover_value) != 2:
                    raise _Fallback
                c0 = length(cover_value[0], limit="cover")
                c1 = length(cover_value[1], limit="cover")
            else:
                c0 = c1 = length(cover_value, limit="cover")
            return Obj(x=0.5 * (start + end), cover=c0, cover_end=c1, start=start, end=end,
                       diameter=length(get("diameter"), positive=True, limit="diameter"), **common)
        if kind == "tree":
            x = length(get("x"), signed=True)
            trunk = length(fields["diameter"], positive=True, limit="trunk") if "diameter" in fields else None
            radius = depth = None
            if "root_zone" in fields:
                zone = self.mapping(fields["root_zone"], ROOT_ZONE_KEYS)
                radius = length(zone.get("radius"), positive=True, limit="root radius")
                depth = length(zone.get("depth"), positive=True, limit="root depth")
            return Obj(x=x, cover=0.0, diameter=trunk, root_radius=radius, root_depth=depth, **common)
        if kind == "reservation":
            cover = length(get("cover"), limit="cover")
            height = length(get("height"), positive=True, limit="body size")
            if "from" in fields or "to" in fields:
                start = length(get("from"), signed=True)
                end = length(get("to"), signed=True)
                if end <= start:
                    raise _Fallback
                # x and width are not read when from/to are given; YAML still refused odd values there
                for key in ("x", "width"):
                    if key in fields:
                        _plain(fields[key])
                return Obj(x=0.5 * (start + end), cover=cover, width=end - start, height=height, **common)
            return Obj(x=length(get("x"), signed=True), cover=cover, width=length(get("width"), positive=True, limit="body size"),
                       height=height, **common)
        extra: dict[str, Any] = {}
        if kind == "rack":
            extra["sides"] = self.choice(fields["sides"], ("single", "double")) if "sides" in fields else "single"
            extra["holds"] = tuple(self.text(n) for n in self.listing(fields["holds"])) if "holds" in fields else ()
        return Obj(x=length(get("x"), signed=True), cover=length(get("cover"), limit="cover"),
                   width=length(get("width"), positive=True, limit="body size"),
                   height=length(get("height"), positive=True, limit="body size"), **extra, **common)

    @staticmethod
    def attributes(value: Any) -> tuple[tuple[str, float | str], ...]:
        if type(value) is not dict:
            raise _Fallback
        out: list[tuple[str, float | str]] = []
        for key, raw in sorted(value.items()):
            kind = type(raw)
            if len(key) > _LONGEST_KEY or not (kind is str or kind is int or kind is float):
                raise _Fallback
            if kind is not str and abs(raw) > MAX_NUMBER:
                raise _Fallback
            expected = ATTRIBUTE_DIMENSIONS.get(key)
            shown = str(raw)
            if kind is not str or re.match(r"^\s*[-+]?\d", shown):
                number, dimension = quantity_si(shown, "")
                if expected and dimension != expected:
                    raise _Fallback
                out.append((key, number))
            elif expected:
                raise _Fallback
            else:
                out.append((key, shown))
        return tuple(out)

    def expected(self, raw: Any) -> Expected:
        fields = self.mapping(raw, EXPECT_KEYS)
        subjects = tuple(sorted(self.text(n) for n in self.listing(fields.get("subjects"))))
        return Expected(self.text(fields.get("rule")), self.text(fields.get("kind")), subjects, self.span(raw))

    def accepted(self, raw: Any) -> Accepted:
        fields = self.mapping(raw, ACCEPT_KEYS)
        until_value = fields.get("until")
        if type(until_value) is not str and type(until_value) is not int:
            raise _Fallback
        until = str(until_value)
        try:
            dt.date.fromisoformat(until if len(until) == 10 else f"{until}-12-31")
        except ValueError:
            raise _Fallback from None
        subjects = tuple(sorted(self.text(n) for n in self.listing(fields["subjects"]))) if "subjects" in fields else ()
        measured = self.length(fields["measured"], signed=True) if "measured" in fields else None
        return Accepted(self.text(fields.get("rule")), subjects, self.text(fields.get("reason")),
                        self.text(fields.get("approved_by")), until if len(until) == 10 else f"{until}-12-31",
                        measured, self.span(raw))


# The fast path does not read the keys of an imported case (a section's `place`, an object's `source`,
# a bed's `holds`), nor an object's years, a reservation's claim or a house connection's main, nor the
# climate kinds: a line carrying them goes the YAML way, so nothing is dropped on the way.
_FAST_TOP_KEYS = tuple(k for k in TOP_KEYS if k != "place")
_SLOW_KEYS = frozenset(("source", "built", "disused", "removed", "claim", "likelihood", "connects"))
_OBJECT_KEYS = {kind: frozenset(k for k in COMMON_KEYS + keys if k not in _SLOW_KEYS
                                and not (k == "holds" and kind in LINE_KINDS))
                for kind, keys in KIND_KEYS.items() if kind not in CLIMATE_KINDS}
_NETWORKED = frozenset(LINE_KINDS + ("crossing",))


def fast_json_case(text: str, path: str, line_offset: int = 0, at: int | None = None) -> Section | None:
    """Return the `Section` `parse_case` would build for one JSON line, or None to leave it to `parse_case`.

    None means only "not judged here": a plain, valid JSON case always gets its Section;
    a mistake or anything unusual (escapes, exponents, duplicate keys, odd characters)
    gets None, so errors keep their one wording, from the YAML path.
    """
    body = text[:-1] if text.endswith("\n") else text
    if len(body) > MAX_FILE_BYTES or _UNUSUAL.search(body):
        return None
    # every key, value and item is a node of the YAML path's budget: count them from above, leave the rest to it
    if 2 * body.count(":") + body.count(",") + body.count("[") + body.count("{") + 1 > MAX_NODES:
        return None
    made: list[dict[str, Any]] = []
    try:
        if _EXPONENT.search(body):
            root = json.loads(body, object_pairs_hook=_pairs(made), parse_float=_plain_float, parse_constant=_no_constant)
        else:
            root = json.loads(body, object_pairs_hook=_pairs(made), parse_constant=_no_constant)
        braces = [m.start() for m in _BRACE.finditer(body)]
        if len(braces) != 2 * len(made):
            return None  # a brace inside a string: positions cannot be told from the text alone
        # mappings close in the order the hook saw them; pair each closing brace with its opening one
        spans: dict[int, tuple[int, int]] = {}
        opened: list[int] = []
        closed = 0
        for position in braces:
            if body[position] == "{":
                opened.append(position)
            else:
                spans[id(made[closed])] = (opened.pop() + 1, position + 2)
                closed += 1
        return _JsonCase(path, line_offset + 1, spans, at).section(root)
    except (_Fallback, ValueError, UnitProblem, RecursionError, KeyError):
        # ValueError: not JSON (json.JSONDecodeError) or a bad number; UnitProblem: a unit
        return None


def parse_json_case(text: str, path: str, line_offset: int = 0, at: int | None = None) -> Section:
    """Parse one JSON line of a batch: the fast path when it judges the line, else `parse_case`.

    A line that is not JSON at all is reported as JSON (message and column of `json`), not
    by the YAML parser, which would accept some non-JSON text.
    """
    section = fast_json_case(text, path, line_offset, at)
    if section is not None:
        return section
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise LiggingError(Diagnostic(Span(path, line_offset + 1, exc.colno), f"JSON: {exc.msg}")) from None
    except RecursionError:
        pass  # nested deeper than Python's stack: the YAML path refuses it at its own depth limit, with the place
    return parse_case(text, path, line_offset, at)


def case_file(path: Path) -> Path:
    """Return the case.yaml for a case folder or file path."""
    return path / "case.yaml" if path.is_dir() else path


def load_case(path: Path, display: str | None = None, at: int | None = None) -> Section:
    """Read and parse a case file (or folder holding case.yaml), as the street stands in year `at`."""
    file = case_file(path)
    shown = display or str(file)
    try:
        size = file.stat().st_size
        if size > MAX_FILE_BYTES:
            raise LiggingError(Diagnostic(Span(shown, 1, 1), f"file is {size} bytes; case files are limited to {MAX_FILE_BYTES}"))
        data = file.read_bytes()
    except OSError as exc:
        raise LiggingError(Diagnostic(Span(shown, 1, 1), f"cannot read: {exc.strerror or exc}")) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LiggingError(Diagnostic(Span(shown, line, 1), "not UTF-8 text (is this a case.yaml?)")) from None
    if "\x00" in text:
        raise LiggingError(
            Diagnostic(Span(shown, text[: text.index("\x00")].count("\n") + 1, 1), "binary data (NUL byte) in a case file")
        )
    return parse_case(text, shown, at=at)
