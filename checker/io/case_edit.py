"""Edit a case.yaml in place, keeping everything the edit does not touch byte for byte.

Engineers comment their case files, wrap long flow mappings over two lines and choose
between bare numbers (`x: 0.35`) and quantities (`diameter: 110 mm`). A YAML dump would
reflow all of that — even ruamel.yaml's round-trip emitter joins the continuation lines of
a flow mapping — so edits here are splices: the YAML composer the loader uses gives the
exact start and end of every node, and an edit replaces, inserts or removes text at those
marks only. Comments, key order, blank lines and every untouched byte stay as written.

The API is a handful of pure functions from text to text, plus reading and writing:

    opened = read_case_text(path)                    # text + digest of what was read
    text = set_value(opened.text, "kpn-1", "cover", 0.6)   # 0.40 -> 0.60, "50 mm" stays in mm
    text = move_object(text, "vkls-1", dx=0.2)       # a rack moves with what it holds
    text = add_object(text, {"id": "w-2", "network": "water", "x": 1.2, "cover": 1.0, "diameter": 0.11})
    text = delete_object(text, "w-2")
    text = remove_expect(text)
    text = add_accept(text, "NEN-CLR-GAS-WATER", ("gas-1", "w-1"), measured=0.18)
    opened = write_case_text(opened, text)          # validated, atomic, refuses a file changed on disk

Lengths are passed in metres and written in the unit the file used for that value (or,
for a new value, the unit the file uses most for that key). `add_accept` writes an entry
whose `reason`, `approved_by` and `until` are left empty to fill in: the loader reads such
an entry as a deviation *pending approval*, which the engine marks but still counts.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from checker.io.loader import MAX_FILE_BYTES, parse_case
from checker.model.section import Section
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.units import UnitProblem, parse_quantity, to_si

LENGTH_KEYS = ("x", "cover", "diameter", "width", "height", "from", "to", "radius", "depth", "measured")
# finest step written per unit: 0.1 mm, whatever the unit
_STEP_DECIMALS = {"m": 4, "cm": 2, "mm": 1}
_QUANTITY = re.compile(r"^(?P<number>[-+]?(?:\d+\.?\d*|\.\d+))(?P<space>\s*)(?P<unit>[A-Za-zµ]+)$")
_PLAIN_SAFE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_ .+/-]*$")
_WRAP = 100
# the loader's own YAML reader (YAML 1.1, libyaml when present): its marks are the loader's
# positions, and it decides which text needs quotes (`yes`, `on`, `1e3` are not text to it)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class EditError(ValueError):
    """An edit that cannot be made, and the line of the case text it concerns."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = line

    def at(self, path: str) -> LiggingError:
        """Return the one-line error naming the case file."""
        return LiggingError(Diagnostic(Span(path, self.line, 1), self.message))


@dataclass(frozen=True, slots=True)
class CaseText:
    """A case file as read for editing: where, its text, and the SHA-256 of its bytes."""

    path: Path
    text: str
    digest: str


def read_case_text(path: Path) -> CaseText:
    """Read a case file (or folder holding case.yaml) for editing."""
    file = path / "case.yaml" if path.is_dir() else path
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise _error(str(file), f"cannot read: {exc.strerror or exc}") from None
    if len(data) > MAX_FILE_BYTES:
        raise _error(str(file), f"file is {len(data)} bytes; case files are limited to {MAX_FILE_BYTES}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _error(str(file), "not UTF-8 text (is this a case.yaml?)") from None
    return CaseText(file, text, hashlib.sha256(data).hexdigest())


def validate(text: str, path: str) -> Section:
    """Return the section the text describes, or raise the loader's one-line error."""
    return parse_case(text, path)


def write_case_text(opened: CaseText, text: str) -> CaseText:
    """Validate `text` and write it over the file it was read from; return the new CaseText.

    Refuses (one-line error, file untouched) when the text is not a valid case, or when
    the file on disk is no longer what `opened` read. The text goes to a temporary file
    in the same folder, is flushed to disk, and replaces the file in one rename, so a
    crash leaves either the old file or the new one, never half of one.
    """
    shown = str(opened.path)
    validate(text, shown)
    try:
        current = hashlib.sha256(opened.path.read_bytes()).hexdigest()
    except OSError as exc:
        raise _error(shown, f"cannot read before writing: {exc.strerror or exc}") from None
    if current != opened.digest:
        raise _error(shown, "changed on disk since it was opened; not overwritten (reopen it, or save elsewhere)")
    data = text.encode("utf-8")
    folder = opened.path.parent
    fd, tmp = tempfile.mkstemp(prefix=f".{opened.path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        mode = opened.path.stat().st_mode & 0o777
        os.chmod(tmp, mode)
        os.replace(tmp, opened.path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise _error(shown, f"cannot write: {exc.strerror or exc}") from None
    _sync_folder(folder)
    return CaseText(opened.path, text, hashlib.sha256(data).hexdigest())


def _sync_folder(folder: Path) -> None:
    """Flush the folder entry of a rename to disk (where the platform allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename itself is done
    finally:
        os.close(fd)


# ------------------------------------------------------------------ edits


def set_value(text: str, obj_id: str, key: str, value: float | str | Sequence[float] | None) -> str:
    """Set one key of an object (`root_zone.radius` for a nested one); None removes the key.

    A float is a length in metres for the length keys, written in the unit the file used;
    a sequence of floats replaces a list (a crossing's two covers) element by element.
    """
    doc = _Doc(text)
    item = doc.object(obj_id)
    doc.set(item, key.split("."), value)
    return doc.result()


def set_values(text: str, obj_id: str, values: Mapping[str, float | str | Sequence[float] | None]) -> str:
    """Set several keys of one object at once (one parse, one splice)."""
    doc = _Doc(text)
    item = doc.object(obj_id)
    for key, value in values.items():
        doc.set(item, key.split("."), value)
    return doc.result()


def move_object(text: str, obj_id: str, dx: float = 0.0, dz: float = 0.0) -> str:
    """Move an object by dx (to the right) and dz (deeper); a rack moves with what it holds.

    A house connection (a crossing that `connects` a moved line) keeps reaching its main: its
    end nearer the main moves along, its other end (at the facade) stays.
    """
    doc = _Doc(text)
    item = doc.object(obj_id)
    moved = {obj_id: item}
    holds = _get(item, "holds")
    if _scalar(_get(item, "kind")) == "rack" and isinstance(holds, SequenceNode):
        for held in holds.value:
            moved[str(_scalar(held))] = doc.object(str(_scalar(held)), holds)
    for part in moved.values():
        doc.move(part, dx, dz)
    if dx or dz:
        for other in doc.objects().value:
            main = moved.get(str(_scalar(_get(other, "connects")))) if isinstance(other, MappingNode) else None
            if main is not None and str(_scalar(_get(other, "id"))) not in moved:
                doc.follow(other, main, dx, dz)
    return doc.result()


def add_object(text: str, fields: Mapping[str, Any]) -> str:
    """Append an object written in the style of the file's other objects.

    Values: text, lengths as floats in metres, nested mappings (`attributes`,
    `root_zone`) and lists (`holds`, `measures`, a crossing's `cover`).
    """
    doc = _Doc(text)
    doc.add_object(fields)
    return doc.result()


def delete_object(text: str, obj_id: str) -> str:
    """Remove an object (its lines; comments above it stay) and its id from every rack's `holds`."""
    doc = _Doc(text)
    doc.delete_object(obj_id)
    return doc.result()


def remove_expect(text: str) -> str:
    """Remove the `expect:` block and the comment lines directly above it (a no-op without one)."""
    doc = _Doc(text)
    doc.remove_top("expect")
    return doc.result()


def add_accept(text: str, rule: str, subjects: Iterable[str], measured: float | None = None) -> str:
    """Add an `accept:` entry for a rule and subjects, its reason, approver and date left to fill in."""
    doc = _Doc(text)
    doc.add_accept(rule, tuple(sorted(subjects)), measured)
    return doc.result()


# ------------------------------------------------------------------ the splicing document


class _Doc:
    """One parse of a case text and the splices computed against it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.splices: list[tuple[int, int, str]] = []
        try:
            root = yaml.compose(text, Loader=_LOADER)
        except RecursionError:
            raise EditError("nesting too deep to edit") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            raise EditError(f"YAML: {getattr(exc, 'problem', None) or exc}", line) from None
        if not isinstance(root, MappingNode):
            raise EditError("the case file must be a mapping of keys to values")
        self.root = root
        unit = _scalar(_get(root, "units"))
        self.unit = str(unit) if unit is not None else "m"

    # ---------------------------------------------------------- finding nodes

    def objects(self) -> SequenceNode:
        node = _get(self.root, "objects")
        if not isinstance(node, SequenceNode):
            raise EditError("the case has no objects list to edit", _line(self.root))
        return node

    def object(self, obj_id: str, near: Node | None = None) -> MappingNode:
        for item in self.objects().value:
            if isinstance(item, MappingNode) and _scalar(_get(item, "id")) == obj_id:
                return item
        raise EditError(f"no object with id '{obj_id}'", _line(near or self.objects()))

    # ---------------------------------------------------------- scalar values

    def set(self, mapping: MappingNode, path: list[str], value: Any) -> None:
        key = path[0]
        node = _get(mapping, key)
        if len(path) > 1:
            if isinstance(node, MappingNode):
                self.set(node, path[1:], value)
            elif node is None and value is not None:
                nested: Any = value
                for inner in reversed(path[1:]):
                    nested = {inner: nested}
                self.insert_key(mapping, key, nested)
            elif node is not None:
                raise EditError(f"'{key}' is not a mapping", _line(node))
            return
        if value is None:
            if node is not None:
                self.remove_key(mapping, key)
            return
        if node is None:
            self.insert_key(mapping, key, value)
        elif isinstance(node, SequenceNode) and isinstance(value, (list, tuple)):
            if len(node.value) != len(value):
                raise EditError(f"'{key}' has {len(node.value)} values, got {len(value)}", _line(node))
            for element, new in zip(node.value, value, strict=True):
                self.replace_scalar(element, key, new)
        elif isinstance(node, ScalarNode):
            self.replace_scalar(node, key, value)
        else:
            raise EditError(f"'{key}' holds a {type(node).__name__[:-4].lower()}, not one value", _line(node))

    def replace_scalar(self, node: ScalarNode, key: str, value: Any) -> None:
        old = self.text[node.start_mark.index:node.end_mark.index]
        if node.style in ('"', "'") and isinstance(value, float):
            inner = old[1:-1]
            self.splice(node.start_mark.index + 1, node.end_mark.index - 1, self.length_text(value, inner, key))
            return
        if isinstance(value, float) and not isinstance(value, bool):
            new = self.length_text(value, old, key)
        else:
            new = _text_scalar(str(value)) if node.style not in ('"', "'") else _quoted(str(value), node.style)
        self.splice(node.start_mark.index, node.end_mark.index, new)

    def length_text(self, value: float, old: str | None, key: str) -> str:
        """Write a length in metres the way `old` was written (bare in the file's unit, or with a unit)."""
        if key not in LENGTH_KEYS:
            raise EditError(f"'{key}' is not a length; give it as text")
        unit, space, decimals = self.unit, "", 2
        if old is not None:
            stripped = old.strip()
            match = _QUANTITY.match(stripped)
            if match:
                unit, space = match["unit"], match["space"]
                decimals = _decimals(match["number"])
            else:
                decimals = _decimals(stripped)
        try:
            scale = to_si(1.0, unit).value
        except UnitProblem as exc:
            raise EditError(f"cannot write {key} in '{unit}': {exc}") from None
        number = _number(value / scale, decimals, _STEP_DECIMALS.get(unit, 4))
        return f"{number}{space}{unit}" if match_unit(old) else number

    def typical(self, key: str) -> str | None:
        """Return how the file writes `key` most often among its objects (a sample value), or None."""
        seen: Counter[str] = Counter()
        sample: dict[str, str] = {}
        for item in self.objects().value:
            node = _get(item, key) if isinstance(item, MappingNode) else None
            if isinstance(node, ScalarNode):
                raw = self.text[node.start_mark.index:node.end_mark.index].strip("\"'")
                match = _QUANTITY.match(raw)
                style = match["unit"] if match else "bare"
                seen[style] += 1
                sample.setdefault(style, raw)
        return sample[seen.most_common(1)[0][0]] if seen else None

    # ---------------------------------------------------------- keys

    def insert_key(self, mapping: MappingNode, key: str, value: Any) -> None:
        rendered = self.render(key, value)
        if mapping.flow_style:
            close = mapping.end_mark.index - 1  # the closing brace
            before = self.text[:close].rstrip()
            sep = "" if before.endswith("{") else ", "
            self.splice(close, close, f"{sep}{key}: {rendered}")
            return
        end = _exact_end(mapping)
        first_key = mapping.value[0][0]
        indent = " " * first_key.start_mark.column
        at = self.text.find("\n", end)
        at = len(self.text) if at < 0 else at
        self.splice(at, at, f"\n{indent}{key}: {rendered}")

    def remove_key(self, mapping: MappingNode, key: str) -> None:
        pairs = mapping.value
        index = next(i for i, (k, _) in enumerate(pairs) if k.value == key)
        key_node, value_node = pairs[index]
        end = _exact_end(value_node)
        if mapping.flow_style:
            if index > 0:
                start = _exact_end(pairs[index - 1][1])  # from the comma after the previous value
            else:
                start = key_node.start_mark.index
                if len(pairs) > 1:
                    end = pairs[1][0].start_mark.index  # up to the next key, comma and space included
            self.splice(start, end, "")
            return
        self.splice(*_whole_lines(self.text, key_node.start_mark.index, end), "")

    # ---------------------------------------------------------- objects

    def move(self, item: MappingNode, dx: float, dz: float) -> None:
        if dx:
            for key in ("x", "from", "to"):
                node = _get(item, key)
                if isinstance(node, ScalarNode):
                    self.replace_scalar(node, key, self.length_of(node) + dx)
        if dz:
            node = _get(item, "cover")
            if node is None:
                raise EditError(f"{_scalar(_get(item, 'id'))} has no cover to move", _line(item))
            for element in node.value if isinstance(node, SequenceNode) else [node]:
                self.replace_scalar(element, "cover", self.length_of(element) + dz)

    def follow(self, crossing: MappingNode, main: MappingNode, dx: float, dz: float) -> None:
        """Move the end of a house connection that meets its main (drawn at the main's x) by dx, dz."""
        ends = [_get(crossing, key) for key in ("from", "to")]
        at = _get(main, "x")
        if not all(isinstance(n, ScalarNode) for n in [*ends, at]):
            raise EditError(f"{_scalar(_get(crossing, 'id'))}: cannot follow its main without from, to and the main's x",
                            _line(crossing))
        main_x = self.length_of(at)  # type: ignore[arg-type]
        near = min((0, 1), key=lambda k: abs(self.length_of(ends[k]) - main_x))  # type: ignore[arg-type]
        if dx:
            node = ends[near]
            at_main, far = self.length_of(node), self.length_of(ends[1 - near])  # type: ignore[arg-type]
            if (at_main + dx - far) * (at_main - far) <= 0:
                raise EditError(f"the move takes {_scalar(_get(main, 'id'))} past the far end of its house connection "
                                f"{_scalar(_get(crossing, 'id'))}; move or redraw the connection first", _line(crossing))
            self.replace_scalar(node, ("from", "to")[near], at_main + dx)  # type: ignore[arg-type]
        cover = _get(crossing, "cover")
        if not dz or cover is None:
            return
        if isinstance(cover, SequenceNode) and len(cover.value) == 2:
            element = cover.value[near]
            self.replace_scalar(element, "cover", self.length_of(element) + dz)
        elif isinstance(cover, ScalarNode):
            # one cover for the whole connection: it becomes a slope, the far end stays where it was
            old = self.text[cover.start_mark.index:cover.end_mark.index]
            moved = self.length_text(self.length_of(cover) + dz, old[1:-1] if cover.style in ('"', "'") else old,
                                     "cover")
            pair = [old, moved] if near == 1 else [moved, old]
            self.splice(cover.start_mark.index, cover.end_mark.index, f"[{pair[0]}, {pair[1]}]")
        else:
            raise EditError(f"{_scalar(_get(crossing, 'id'))}: cover must be one length or two", _line(cover))

    def length_of(self, node: ScalarNode) -> float:
        raw = str(node.value).strip()
        try:
            return parse_quantity(raw, self.unit).value if _QUANTITY.match(raw) else to_si(float(raw), self.unit).value
        except (UnitProblem, ValueError) as exc:
            raise EditError(f"'{raw}' is not a length: {exc}", _line(node)) from None

    def add_object(self, fields: Mapping[str, Any]) -> None:
        if "id" not in fields:
            raise EditError("a new object needs an id")
        if any(_scalar(_get(i, "id")) == fields["id"] for i in self.objects().value if isinstance(i, MappingNode)):
            raise EditError(f"an object with id '{fields['id']}' already exists", _line(self.objects()))
        self.append_item(self.objects(), fields)

    def append_item(self, seq: SequenceNode, fields: Mapping[str, Any], block: bool = False) -> None:
        """Append a mapping to a block sequence, as a flow mapping like its last item (or in block style)."""
        if seq.flow_style or not seq.value:
            raise EditError("can only add to a list written one item per line ('- ...')", _line(seq))
        last = seq.value[-1]
        dash = _dash(self.text, last.start_mark.index)
        indent = " " * (dash - self.text.rfind("\n", 0, dash) - 1)
        if block or not (isinstance(last, MappingNode) and last.flow_style):
            body = [f"{key}: {self.render(key, value)}" for key, value in fields.items()]
            lines = f"{indent}- {body[0]}" + "".join(f"\n{indent}  {line}" for line in body[1:])
        else:
            lines = _wrap([f"{key}: {self.render(key, value)}" for key, value in fields.items()], f"{indent}- {{", "}")
        end = self.text.find("\n", _exact_end(last))
        end = len(self.text) if end < 0 else end
        self.splice(end, end, "\n" + lines)

    def delete_object(self, obj_id: str) -> None:
        item = self.object(obj_id)
        start = _dash(self.text, item.start_mark.index)
        self.splice(*_whole_lines(self.text, start, _exact_end(item)), "")
        for other in self.objects().value:
            holds = _get(other, "holds") if isinstance(other, MappingNode) else None
            if isinstance(holds, SequenceNode):
                kept = [n for n in holds.value if _scalar(n) != obj_id]
                if len(kept) != len(holds.value):
                    self.replace_list(holds, [str(_scalar(n)) for n in kept])

    def replace_list(self, seq: SequenceNode, values: list[str]) -> None:
        if not seq.flow_style:
            raise EditError("holds must be written as [a, b] to edit it", _line(seq))
        self.splice(seq.start_mark.index, seq.end_mark.index, "[" + ", ".join(_text_scalar(v) for v in values) + "]")

    # ---------------------------------------------------------- top-level blocks

    def remove_top(self, key: str) -> None:
        pair = next(((k, v) for k, v in self.root.value if k.value == key), None)
        if pair is None:
            return
        key_node, value_node = pair
        start, end = _whole_lines(self.text, key_node.start_mark.index, _exact_end(value_node))
        lines_above = self.text[:start].split("\n")[:-1]
        while lines_above and lines_above[-1].lstrip().startswith("#"):
            start -= len(lines_above.pop()) + 1
        # one blank line between the neighbours, not two
        if (not lines_above or lines_above[-1].strip() == "") and self.text[end:].startswith("\n"):
            end += 1
        self.splice(start, end, "")

    def add_accept(self, rule: str, subjects: tuple[str, ...], measured: float | None) -> None:
        fields: dict[str, Any] = {"rule": rule, "subjects": list(subjects)}
        if measured is not None:
            fields["measured"] = measured
        entry = [f"{k}: {self.render(k, v)}" for k, v in fields.items()]
        entry += ["reason:        # to fill in: why the deviation is needed",
                  "approved_by:   # to fill in: who granted it (pending approval until filled in)",
                  "until:         # to fill in: a date (2030-12-31) or a year"]
        seq = _get(self.root, "accept")
        objects = self.objects()
        first = objects.value[0] if objects.value else None
        dash = _dash(self.text, first.start_mark.index) if first is not None else -1
        indent = " " * (dash - self.text.rfind("\n", 0, dash) - 1) if first is not None else "  "
        block = f"{indent}- {entry[0]}" + "".join(f"\n{indent}  {line}" for line in entry[1:])
        if isinstance(seq, SequenceNode) and not seq.flow_style and seq.value:
            end = self.text.find("\n", _exact_end(seq.value[-1]))
            end = len(self.text) if end < 0 else end
            self.splice(end, end, "\n" + block)
            return
        if seq is not None and not (isinstance(seq, ScalarNode) and seq.value in ("", None)):
            raise EditError("accept must be a list written one item per line to add to it", _line(seq))
        if seq is not None:
            self.remove_top("accept")
        tail = self.text.rstrip("\n")
        self.splice(len(tail), len(self.text), f"\n\naccept:\n{block}\n")

    # ---------------------------------------------------------- text

    def render(self, key: str, value: Any) -> str:
        """Write a new value for `key` in flow style, lengths in the file's usual unit for that key."""
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return self.length_text(float(value), self.typical(key), key)
        if isinstance(value, str):
            return _text_scalar(value)
        if isinstance(value, Mapping):
            return "{" + ", ".join(f"{k}: {self.render(k, v)}" for k, v in value.items()) + "}"
        if isinstance(value, (list, tuple)):
            return "[" + ", ".join(self.render(key, v) for v in value) + "]"
        raise EditError(f"cannot write {type(value).__name__} for '{key}'")

    def splice(self, start: int, end: int, new: str) -> None:
        for s, e, _ in self.splices:
            if start < e and s < end:
                raise EditError("two edits touch the same text")
        self.splices.append((start, end, new))

    def result(self) -> str:
        text = self.text
        for start, end, new in sorted(self.splices, key=lambda s: (s[0], s[1]), reverse=True):
            text = text[:start] + new + text[end:]
        return text


def match_unit(old: str | None) -> bool:
    """Tell whether a written length carries its unit (`110 mm`) rather than being bare."""
    return old is not None and _QUANTITY.match(old.strip()) is not None


def _get(mapping: Node | None, key: str) -> Node | None:
    """Return the value node of `key` in a mapping node, or None."""
    if not isinstance(mapping, MappingNode):
        return None
    for k, v in mapping.value:
        if k.value == key:
            return v  # type: ignore[no-any-return]
    return None


def _scalar(node: Node | None) -> Any:
    """Return a scalar node's text, or None for anything else."""
    return node.value if isinstance(node, ScalarNode) else None


def _line(node: Node) -> int:
    return int(node.start_mark.line) + 1


def _exact_end(node: Node) -> int:
    """Return the index just after a node's last character (block collections end at their last child)."""
    if isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        return _exact_end(last[1] if isinstance(node, MappingNode) else last)
    if isinstance(node, ScalarNode) and node.style in ("|", ">"):
        return int(node.end_mark.index) - 1 if node.end_mark.index else 0
    return int(node.end_mark.index)


def _dash(text: str, index: int) -> int:
    """Return the index of the '- ' that opens the sequence item starting at `index`."""
    at = index - 1
    while at >= 0 and text[at] in " \t":
        at -= 1
    if at < 0 or text[at] != "-":
        raise EditError("expected a '- ' list item", text.count("\n", 0, index) + 1)
    return at


def _whole_lines(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) to whole lines, refusing when other content shares those lines."""
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end + 1
    before, after = text[line_start:start], text[end:line_end].strip()
    if before.strip() or (after and not after.startswith("#")):
        raise EditError("other content shares the lines of the edited entry", text.count("\n", 0, start) + 1)
    return line_start, line_end


def _decimals(number: str) -> int:
    return len(number.split(".", 1)[1]) if "." in number else 0


def _number(value: float, decimals: int, finest: int) -> str:
    """Write `value` with at least `decimals` decimals and as many more (up to `finest`) as it needs."""
    rounded = round(value, finest)
    places = decimals
    while places < finest and abs(round(rounded, places) - rounded) > 10 ** -(finest + 2):
        places += 1
    out = f"{rounded:.{places}f}"
    return out[1:] if out.startswith("-") and float(out) == 0 else out


def _text_scalar(value: str) -> str:
    """Write text as a plain scalar when YAML reads it back as the same text, else double-quoted."""
    if _PLAIN_SAFE.match(value) and value == value.strip():
        try:
            if yaml.safe_load(f"[{value}]") == [value]:
                return value
        except yaml.YAMLError:
            pass
    return _quoted(value, '"')


def _quoted(value: str, style: str) -> str:
    if style == "'":
        return "'" + value.replace("'", "''") + "'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return f'"{escaped}"'


def _wrap(parts: list[str], head: str, tail: str) -> str:
    """Join flow-mapping entries after `head`, wrapping lines at _WRAP under the opening brace."""
    lines = [head]
    continuation = " " * len(head)
    for i, part in enumerate(parts):
        piece = part + ("," if i < len(parts) - 1 else tail)
        if lines[-1] not in (head, continuation) and len(lines[-1]) + 1 + len(piece) > _WRAP:
            lines.append(continuation + piece)
        else:
            lines[-1] += ("" if lines[-1] in (head, continuation) else " ") + piece
    return "\n".join(lines)


def _error(file: str, message: str) -> LiggingError:
    return LiggingError(Diagnostic(Span(file, 1, 1), message))
