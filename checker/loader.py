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
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from checker.model import CABLE_THEMAS, KINDS, LINE_KINDS, THEMAS, Accepted, Expected, Obj, Section, Zone
from dsl.diagnostics import Diagnostic, LiggingError, Span, line_of
from dsl.units import ATTRIBUTE_DIMENSIONS, UnitProblem, parse_quantity, to_si
from nen7171.zones import ZONE_KINDS

FORMAT_VERSION = 1
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_NODES = 200_000
MAX_DEPTH = 40
MAX_OBJECTS = 5_000
MAX_NUMBER = 10**15
TOLERANCE = 0.001
UNITS = ("m", "cm", "mm")

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
)
COMMON_KEYS = ("id", "kind", "network", "owner", "status", "attributes", "measures", "label", "note")
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "cable": ("x", "cover", "diameter", "width", "height"),
    "pipe": ("x", "cover", "diameter", "width", "height"),
    "crossing": ("from", "to", "cover", "diameter"),
    "tree": ("x", "diameter", "root_zone"),
    "structure": ("x", "cover", "width", "height"),
    "container": ("x", "cover", "width", "height"),
    "rack": ("x", "cover", "width", "height", "sides", "holds"),
    "reservation": ("from", "to", "x", "cover", "width", "height"),
}
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

    def __init__(self, reader: _Reader) -> None:
        self.reader = reader
        self.unit = "m"

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

    def length(self, node: Node, what: str, positive: bool = False, signed: bool = False) -> float:
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
        width = self.length(self.required(top, "width", "the case file", root.span), "width", positive=True)
        tags: list[tuple[str, str | float]] = []
        for key in ("municipality", "street_type"):
            if key in top:
                tags.append((key, self.text(top[key][1], key)))
        planned = None
        if "planned" in top:
            planned = self.planned(top["planned"][1])
            tags.append(("planned", float(planned[:4])))
        if "tags" in top:
            for key, (kspan, value) in self.mapping(top["tags"][1], "tags", tuple(top["tags"][1].value or ())).items():
                if key in dict(tags):
                    raise self.error(kspan, f"tag '{key}' is already set at the top of the file")
                tags.append((key, self.tag_value(value, key)))
        zones = self.zones(self.required(top, "zones", "the case file", root.span), width)
        objects = self.objects(self.required(top, "objects", "the case file", root.span))
        expect = tuple(self.expected(n) for n in self.listing(top["expect"][1], "expect")) if "expect" in top else ()
        accept = tuple(self.accepted(n) for n in self.listing(top["accept"][1], "accept")) if "accept" in top else ()
        return Section(self.reader.path, name, width, zones, objects, tuple(tags), planned, expect, accept, root.span)

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
            fields = self.mapping(item, "a zone", ("kind", "from", "to", "name"))
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
                    raise self.error(obj.span, f"rack {obj.id} holds '{held}', which is not an object in this case{hint}")
                if held == obj.id:
                    raise self.error(obj.span, f"rack {obj.id} cannot hold itself")
                if by_id[held].kind not in LINE_KINDS:
                    raise self.error(obj.span, f"rack {obj.id} holds {held}, a {by_id[held].kind}; a rack holds cables and pipes")
                if held in held_by:
                    raise self.error(obj.span, f"{held} is held by both {held_by[held]} and {obj.id}")
                held_by[held] = obj.id
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
        status = self.choice(fields["status"][1], "status", ("planned", "existing")) if "status" in fields else "planned"
        common: dict[str, Any] = {
            "id": ident,
            "kind": kind,
            "network": network,
            "owner": owner,
            "status": status,
            "span": node.span,
            "measures": self.measures(fields["measures"][1]) if "measures" in fields else (),
            "attributes": self.attributes(fields["attributes"][1], what) if "attributes" in fields else (),
        }
        get = lambda key: self.required(fields, key, what, node.span)  # noqa: E731
        if kind in LINE_KINDS:
            x = self.length(get("x"), f"{what} x", signed=True)
            cover = self.length(get("cover"), f"{what} cover")
            if "diameter" in fields:
                if "width" in fields or "height" in fields:
                    raise self.error(fields["diameter"][0], f"{what} has a diameter and a width/height; give one shape")
                return Obj(x=x, cover=cover, diameter=self.length(get("diameter"), f"{what} diameter", positive=True), **common)
            if "width" not in fields or "height" not in fields:
                raise self.error(node.span, f"{what} needs a diameter (round) or a width and height (rectangular)")
            return Obj(
                x=x,
                cover=cover,
                width=self.length(get("width"), f"{what} width", positive=True),
                height=self.length(get("height"), f"{what} height", positive=True),
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
                c0 = self.length(cover_node.value[0], f"{what} cover")
                c1 = self.length(cover_node.value[1], f"{what} cover")
            else:
                c0 = c1 = self.length(cover_node, f"{what} cover")
            return Obj(
                x=0.5 * (start + end),
                cover=c0,
                cover_end=c1,
                start=start,
                end=end,
                diameter=self.length(get("diameter"), f"{what} diameter", positive=True),
                **common,
            )
        if kind == "tree":
            x = self.length(get("x"), f"{what} x", signed=True)
            trunk = self.length(fields["diameter"][1], f"{what} diameter", positive=True) if "diameter" in fields else None
            radius = depth = None
            if "root_zone" in fields:
                rz = self.mapping(fields["root_zone"][1], f"{what} root_zone", ("radius", "depth"))
                radius = self.length(
                    self.required(rz, "radius", f"{what} root_zone", node.span), "root_zone radius", positive=True
                )
                depth = self.length(self.required(rz, "depth", f"{what} root_zone", node.span), "root_zone depth", positive=True)
            return Obj(x=x, cover=0.0, diameter=trunk, root_radius=radius, root_depth=depth, **common)
        if kind == "reservation":
            cover = self.length(get("cover"), f"{what} cover")
            height = self.length(get("height"), f"{what} height", positive=True)
            if "from" in fields or "to" in fields:
                start = self.length(get("from"), f"{what} from", signed=True)
                end = self.length(get("to"), f"{what} to", signed=True)
                if end <= start:
                    raise self.error(fields["to"][1].span, f"{what}: 'to' ({end:g} m) must be beyond 'from' ({start:g} m)")
                return Obj(x=0.5 * (start + end), cover=cover, width=end - start, height=height, **common)
            return Obj(
                x=self.length(get("x"), f"{what} x", signed=True),
                cover=cover,
                width=self.length(get("width"), f"{what} width", positive=True),
                height=height,
                **common,
            )
        extra: dict[str, Any] = {}
        if kind == "rack":
            extra["sides"] = self.choice(fields["sides"][1], "sides", ("single", "double")) if "sides" in fields else "single"
            extra["holds"] = (
                tuple(self.text(n, f"{what} holds") for n in self.listing(get("holds"), f"{what} holds"))
                if "holds" in fields
                else ()
            )
        return Obj(
            x=self.length(get("x"), f"{what} x", signed=True),
            cover=self.length(get("cover"), f"{what} cover"),
            width=self.length(get("width"), f"{what} width", positive=True),
            height=self.length(get("height"), f"{what} height", positive=True),
            **extra,
            **common,
        )

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
        fields = self.mapping(node, "an expect entry", ("rule", "kind", "subjects"))
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
        fields = self.mapping(node, "an accept entry", ("rule", "subjects", "reason", "approved_by", "until", "measured"))
        get = lambda key: self.required(fields, key, "an accept entry", node.span)  # noqa: E731
        until_node = get("until")
        until = str(until_node.value)
        try:
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
            self.text(get("reason"), "reason"),
            self.text(get("approved_by"), "approved_by"),
            until if len(until) == 10 else f"{until}-12-31",
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


def parse_case(text: str, path: str, line_offset: int = 0) -> Section:
    """Parse case-file text; raise `LiggingError` naming file, line and column on any mistake.

    `line_offset` is added to every line number, for a case that is one line of a larger
    file (a JSON Lines batch).
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
        raise LiggingError(
            Diagnostic(Span(path, line + line_offset, column), f"YAML: {problem}", source_line=line_of(text, line))
        ) from None
    except yaml.YAMLError as exc:
        raise LiggingError(Diagnostic(Span(path, 1 + line_offset, 1), f"YAML: {str(exc).splitlines()[0]}")) from None
    if root is None:
        raise LiggingError(Diagnostic(Span(path, 1 + line_offset, 1), "the case file is empty"))
    return _Case(reader).section(reader.read(root))


def case_file(path: Path) -> Path:
    """Return the case.yaml for a case folder or file path."""
    return path / "case.yaml" if path.is_dir() else path


def load_case(path: Path, display: str | None = None) -> Section:
    """Read and parse a case file (or folder holding case.yaml)."""
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
    return parse_case(text, shown)
