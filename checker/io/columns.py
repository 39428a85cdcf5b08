"""JSON Lines straight into columns: a whole chunk of a batch decoded into one `Table`.

`read_chunk(data, path, first)` decodes every line of a chunk with orjson and builds the
chunk's columns (section number, kind, network, status, x, cover, sizes, spans, zones) for
all lines at once; validation is vectorised over the columns (types, units, ranges, keys
per kind, contiguous zones, unique ids, what holds what). It accepts only what it can judge
exactly as the YAML loader (`checker.io.loader.parse_case`) judges it: a line with any
problem, or anything unusual (escapes, exponents, duplicate keys, expect/accept blocks, odd
characters), goes to the exact per-line path (`parse_json_case`), which builds its Section
or reports its error at its line and column as before. So a line read here gives the very
`Section` the loader gives (`Table.section`), and every error message still comes from one
place; `tests/test_columns.py` holds the two to that.

Object spans (the columns of each object's `{...}` on its line) come from one pass over
the chunk's bytes: quotes, brackets and braces found with NumPy, strings told apart by
quote parity (a line with a backslash is not read here), each bracket paired with its
mate by nesting level.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from numpy.typing import NDArray

from checker.io.jsonl import lines
from checker.io.loader import (
    COMMON_KEYS,
    FORMAT_VERSION,
    KIND_KEYS,
    MAX_FILE_BYTES,
    MAX_NODES,
    MAX_NUMBER,
    PLACE_KEYS,
    PLACE_SLACK,
    RD_BOUNDS,
    SOURCE_KEYS,
    TOP_KEYS,
    UNITS,
    parse_json_case,
)
from checker.model.section import (
    CABLE_THEMAS,
    CLIMATE_KINDS,
    DEPTH_BASES,
    KINDS,
    LINE_KINDS,
    STATUSES,
    THEMAS,
    TOLERANCE,
    Place,
    Section,
    Source,
)
from checker.model.table import DATED, SIDES, Table
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.units import ATTRIBUTE_DIMENSIONS, UnitProblem, quantity_si, si_value
from nen7171.zones import ZONE_KINDS

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]

# a key of tags or attributes longer than this goes the exact way (YAML refuses implicit keys over 1024 characters)
_LONGEST_KEY = 512
# lines holding these keys go the exact way: they are rare in batches and carry their own spans
_EXACT_KEYS = frozenset({"expect", "accept"})
# an object's years, a reservation's claim and likelihood, a house connection's main, and the climate kinds
# go the exact way too: the street in time (`checker.model.moment`) is the loader's to build
_DATED_KEYS = frozenset(DATED)
_ALLOWED = {kind: frozenset(COMMON_KEYS + keys) - _DATED_KEYS if kind not in CLIMATE_KINDS else frozenset()
            for kind, keys in KIND_KEYS.items()}
_NETWORKED = frozenset(LINE_KINDS + ("crossing",))
_KIND_CODE = {k: c for c, k in enumerate(KINDS)}
_THEMA_CODE = {t: c for c, t in enumerate(THEMAS)}
_STATUS_CODE = {s: c for c, s in enumerate(STATUSES)}
_UNIT_CODE = {u: c for c, u in enumerate(UNITS)}
_ZONE_KINDS = frozenset(ZONE_KINDS)

# bytes that send a line the exact way when they occur anywhere in it (outside printable ASCII a line is
# screened character by character, as the per-line path screens it): controls, backslash (escapes), DEL
_ODD_BYTE = np.zeros(256, dtype=bool)
_ODD_BYTE[:0x20] = True
_ODD_BYTE[0x5C] = True
_ODD_BYTE[0x7F] = True
_HIGH_BYTE = np.zeros(256, dtype=bool)
_HIGH_BYTE[0x80:] = True
# structure: 1 quote, 2 opening brace or bracket, 3 closing one, 4 colon (one per key: duplicates are told by count)
_STRUCTURE = np.zeros(256, dtype=np.int8)
_STRUCTURE[ord('"')] = 1
_STRUCTURE[[ord("{"), ord("[")]] = 2
_STRUCTURE[[ord("}"), ord("]")]] = 3
_STRUCTURE[ord(":")] = 4
# what counts toward the YAML path's node budget (as the per-line path counts it)
_NODE_BYTES = np.zeros(256, dtype=np.int8)
_NODE_BYTES[ord(":")] = 2
_NODE_BYTES[[ord(","), ord("["), ord("{")]] = 1
_DIGIT = np.zeros(256, dtype=bool)
_DIGIT[ord("0"):ord("9") + 1] = True
_E = np.zeros(256, dtype=bool)
_E[[ord("e"), ord("E")]] = True
# characters JSON and YAML read alike on one line (as checker.io.loader's per-line path screens them)
_UNUSUAL = re.compile(r"[^\x20-\x5b\x5d-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


class _Decline(Exception):
    """The line goes the exact way."""


@dataclass(frozen=True, slots=True)
class Columns:
    """A chunk of a batch read into columns: the table, each section's identity, the bad lines' diagnostics."""

    table: Table
    cases: list[str]
    errors: list[Diagnostic]


def text_screen(line: str) -> bool:
    """Tell whether a line holds only characters both JSON and YAML read alike (and no control or format character).

    Printable ASCII without a backslash passes before this is asked; a line with other
    characters is screened here, one line at a time.
    """
    return _UNUSUAL.search(line) is None


def normal_ids(ids: list[str]) -> list[str]:
    """Return ids in the form ids are stored and compared in (identity for ASCII ids)."""
    return ids


def plausible(limit: str, metres: FloatArray) -> BoolArray:
    """Tell, per value, whether a length is plausible for what it sizes (every value is, until a table says otherwise)."""
    return np.ones(len(metres), dtype=bool)


def read_chunk(data: bytes, path: str, first: int, at: int | None = None) -> Columns:
    """Read the lines of a chunk of a `.jsonl` file (numbered from `first`) into one table.

    Lines the columns cannot judge are read by the exact per-line path; a bad line becomes
    a diagnostic and the others are read all the same. A street asked for in another year
    (`at`, `checker.model.moment`) is read the exact way, line by line.
    """
    numbers: list[int] = []
    raws: list[bytes] = []
    for number, raw in lines(data, first):
        if raw.strip():
            numbers.append(number)
            raws.append(raw)
    reader = _Reader(path, numbers, raws)
    good = reader.read() if at is None else set()
    parts: list[Table] = []
    cases: list[str] = []
    errors: list[Diagnostic] = []
    run: list[int] = []
    exact: list[Section] = []

    def flush_exact() -> None:
        if exact:
            parts.append(Table.of(list(exact)))
            exact.clear()

    for k, number in enumerate(numbers):
        if k in good:
            flush_exact()
            run.append(k)
            cases.append(f"{path}:{number}")
            continue
        if run:
            parts.append(reader.table(run))
            run = []
        section = _exact(raws[k], path, number, errors, at)
        if section is not None:
            exact.append(section)
            cases.append(f"{path}:{number}")
    if run:
        parts.append(reader.table(run))
    flush_exact()
    table = Table.concat(parts) if parts else Table.of([])
    return Columns(table, cases, errors)


def _exact(raw: bytes, path: str, number: int, errors: list[Diagnostic], at: int | None = None) -> Section | None:
    """Read one line the exact way; a bad one is reported in `errors`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        column = len(raw[: exc.start].decode("utf-8", "replace")) + 1
        errors.append(Diagnostic(Span(path, number, column), "not UTF-8 text"))
        return None
    try:
        return parse_json_case(text, path, line_offset=number - 1, at=at)
    except LiggingError as exc:
        errors.append(exc.diagnostic)
        return None


def _text(value: Any) -> str:
    """Return a text value as the loader reads it (stripped; a number as written), or decline."""
    kind = type(value)
    if kind is str:
        out = value.strip()
    elif (kind is int or kind is float) and abs(value) <= MAX_NUMBER:
        out = str(value).strip()
    else:
        raise _Decline
    if not out:
        raise _Decline
    return out


def _plain(value: Any) -> None:
    """Accept a value nothing checks (description, label, zone name) if it is a plain scalar in range."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return
    if (kind is int or kind is float) and abs(value) <= MAX_NUMBER:
        return
    raise _Decline


def _scale(unit: str) -> tuple[float, float]:
    """Return (scale, offset) of a length unit, so that SI = scale * value + offset as `si_value` computes it."""
    offset = si_value(0.0, unit)[0]
    return si_value(1.0, unit)[0] - offset, offset


_SCALES = np.array([_scale(u) for u in UNITS], dtype=float)


def _length_one(value: Any, unit: str) -> float | None:
    """Return a length in metres as the loader converts it, or None when it is not a length it accepts."""
    kind = type(value)
    try:
        if kind is float or kind is int:
            if abs(value) > MAX_NUMBER:
                return None
            result, dimension = si_value(float(value), unit)
        elif kind is str:
            result, dimension = quantity_si(value, unit)
        else:
            return None
    except (UnitProblem, OverflowError, ValueError):
        return None
    if dimension != "length" or not math.isfinite(result) or abs(result) > 1e5:
        return None
    return result


class _Reader:
    """Decode and judge a chunk's lines; build the columns of those it accepts."""

    def __init__(self, path: str, numbers: list[int], raws: list[bytes]) -> None:
        self.path = path
        self.numbers = numbers
        self.raws = raws
        self.roots: dict[int, dict[str, Any]] = {}

    # ------------------------------------------------------------------ lines

    def read(self) -> set[int]:
        """Return the indices of the lines read into columns (the rest go the exact way)."""
        raws = self.raws
        if not raws:
            return set()
        lengths = np.fromiter(map(len, raws), dtype=np.intp, count=len(raws))
        data = b"\n".join(raws)
        arr = np.frombuffer(data, dtype=np.uint8)
        starts = np.concatenate(([0], np.cumsum(lengths[:-1] + 1))).astype(np.intp)

        def lines_at(positions: IntArray) -> IntArray:
            return np.asarray(np.searchsorted(starts, positions, side="right") - 1, dtype=np.intp)

        bad = np.zeros(len(raws), dtype=bool)
        odd = np.flatnonzero(_ODD_BYTE[arr])
        odd = odd[arr[odd] != 10]  # the newlines between lines are not in any line
        bad[lines_at(odd)] = True
        high = np.zeros(len(raws), dtype=bool)
        high[lines_at(np.flatnonzero(arr >= 0x80))] = True
        exponent = np.flatnonzero(_E[arr])
        exponent = exponent[exponent > 0]
        bad[lines_at(exponent[_DIGIT[arr[exponent - 1]]])] = True
        # only a long line can hold more values than the YAML path's node budget
        for k in np.flatnonzero(lengths > MAX_NODES // 2).tolist():
            piece = arr[starts[k]:starts[k] + lengths[k]]
            bad[k] |= int(_NODE_BYTES[piece].sum(dtype=np.int64)) + 1 > MAX_NODES or lengths[k] > MAX_FILE_BYTES
        self.high = high
        accepted: dict[int, dict[str, Any]] = {}
        for k in np.flatnonzero(~bad).tolist():
            raw = raws[k]
            if high[k]:
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    continue
                if not text_screen(text):
                    continue
            try:
                root = orjson.loads(raw)
            except orjson.JSONDecodeError:
                continue
            if type(root) is dict and not _EXACT_KEYS.intersection(root):
                accepted[k] = root
        self.roots = accepted
        self.data, self.arr, self.starts = data, arr, starts
        return self._judge()

    def _judge(self) -> set[int]:
        """Validate the decoded lines: sections one by one, zones and objects in columns; return the lines that pass."""
        sections: dict[int, _Top] = {}
        for k, root in self.roots.items():
            try:
                sections[k] = _Top.of(root)
            except (_Decline, UnitProblem, ValueError, OverflowError):
                continue
        self.sections = sections
        keys = sorted(sections)
        for _ in range(2):
            zones_ok = self._zones(keys)
            objects_ok = self._objects(keys)
            passed = [k for k in keys if zones_ok.get(k, False) and objects_ok.get(k, False)]
            if passed == keys:
                break
            keys = passed  # the columns are built again without the lines that failed
        spans_ok = self._spans(keys)
        good = [k for k in keys if spans_ok.get(k, False)]
        if good != keys:
            self._zones(good)
            self._objects(good)
            self._spans(good)
        self.good = good
        return set(good)

    # ------------------------------------------------------------------ zones

    def _zones(self, keys: list[int]) -> dict[int, bool]:
        """Judge and build the zones of the given lines, all at once; return whether each line's zones pass."""
        items: list[Any] = []
        count: list[int] = []
        ok_line = dict.fromkeys(keys, True)
        for k in keys:
            zones = self.sections[k].zones
            count.append(len(zones))
            items.extend(zones)
        counts = np.array(count, dtype=np.intp)
        line = np.repeat(np.arange(len(keys), dtype=np.intp), counts)
        n = len(items)
        ok = np.ones(n, dtype=bool)
        if any(type(z) is not dict for z in items):
            ok &= np.fromiter((type(z) is dict for z in items), dtype=bool, count=n)
            items = [z if type(z) is dict else {} for z in items]
        for z_k, z in enumerate(items):
            if not z.keys() <= {"kind", "from", "to", "name"}:
                ok[z_k] = False
        kinds = [z.get("kind") for z in items]
        kind_text = []
        for z_k, value in enumerate(kinds):
            try:
                text = _text(value)
            except _Decline:
                ok[z_k] = False
                text = ""
            if text not in _ZONE_KINDS:
                ok[z_k] = False
            kind_text.append(text)
        for z_k, z in enumerate(items):
            if "name" in z:
                try:
                    _plain(z["name"])
                except _Decline:
                    ok[z_k] = False
        units = np.array([self.sections[keys[i]].unit for i in line.tolist()], dtype=np.intp)
        start, ok_s = _lengths([z.get("from") for z in items], units, "nonneg")
        end, ok_e = _lengths([z.get("to") for z in items], units, "nonneg")
        ok &= ok_s & ok_e
        ok &= end > start + TOLERANCE
        first = np.concatenate(([0], np.cumsum(counts)))[:-1]
        previous = np.concatenate(([0.0], end[:-1])) if n else end
        if n:
            previous[first[counts > 0]] = 0.0
        ok &= np.abs(start - previous) <= TOLERANCE
        width = np.array([self.sections[k].width for k in keys], dtype=float)
        last = first + counts - 1
        line_ok = np.bincount(line[~ok], minlength=len(keys)) == 0
        line_ok &= counts > 0
        has = counts > 0
        ends = np.full(len(keys), np.inf)
        ends[has] = end[last[has]]
        line_ok &= np.abs(ends - width) <= TOLERANCE
        for i, k in enumerate(keys):
            ok_line[k] = bool(line_ok[i])
        zone_keys = np.bincount(line, weights=np.fromiter(map(len, items), dtype=float, count=n), minlength=len(keys))
        self.zone_keys = dict(zip(keys, zone_keys.astype(np.intp).tolist(), strict=True))
        self.zone_line, self.zone_kind, self.zone_start, self.zone_end = line, kind_text, start, end
        self.zone_counts = counts
        return ok_line

    # ------------------------------------------------------------------ objects

    def _objects(self, keys: list[int]) -> dict[int, bool]:
        """Judge and build the objects of the given lines, all at once; return whether each line's objects pass."""
        objs: list[Any] = []
        count: list[int] = []
        for k in keys:
            items = self.sections[k].objects
            count.append(len(items))
            objs.extend(items)
        counts = np.array(count, dtype=np.intp)
        line = np.repeat(np.arange(len(keys), dtype=np.intp), counts)
        cols = _Objects(objs, line, np.array([self.sections[k].unit for k in keys], dtype=np.intp)[line])
        ok = cols.judge()
        # unique ids per section, and what holds what
        ok_line = np.bincount(line[~ok], minlength=len(keys)) == 0
        codes: dict[str, int] = {}
        code = np.fromiter((codes.setdefault(name, len(codes)) for name in cols.ids), dtype=np.intp, count=len(objs))
        keyed = line.astype(np.int64) * max(len(codes), 1) + code
        unique, counted = np.unique(keyed, return_counts=True)
        dup_lines = (unique[counted > 1] // max(len(codes), 1)).astype(np.intp)
        ok_line[dup_lines] = False
        if cols.holds:
            starts = np.concatenate(([0], np.cumsum(counts))).astype(np.intp)
            for g, held in cols.holds.items():
                i = int(line[g])
                if not ok_line[i]:
                    continue
                members = dict(zip(cols.ids[starts[i]:starts[i + 1]], range(starts[i], starts[i + 1]), strict=True))
                for name in held:
                    h = members.get(name)
                    if h is None or h == g or cols.kind[h] not in (_KIND_CODE["cable"], _KIND_CODE["pipe"]) \
                            or h in cols.holds:
                        ok_line[i] = False
                holders = [name for other, names in cols.holds.items() if int(line[other]) == i for name in names]
                if len(holders) != len(set(holders)):
                    ok_line[i] = False
        object_keys = np.bincount(line, weights=cols.keys.astype(float), minlength=len(keys)).astype(np.intp).tolist()
        self.keys = {k: self.sections[k].keys + self.zone_keys[k] + object_keys[i] for i, k in enumerate(keys)}
        self.objects_cols, self.object_line, self.object_counts = cols, line, counts
        return {k: bool(ok_line[i]) for i, k in enumerate(keys)}

    # ------------------------------------------------------------------ spans

    def _spans(self, keys: list[int]) -> dict[int, bool]:
        """Find the spans of each line's root, zones and objects (their `{...}` on the line); return the lines that agree.

        A line agrees when its keys, containers, zones and objects counted in its text are
        those decoded (a key written twice, or a brace the decoder saw otherwise, does not).
        """
        out = dict.fromkeys(keys, False)
        empty = np.empty((0, 2), dtype=np.intp)
        self.root_span, self.zone_span, self.object_span = empty, empty, empty
        if not keys:
            return out
        arr, starts = self.arr, self.starts
        lines = len(self.raws)
        structural = np.flatnonzero(_STRUCTURE[arr])
        line_of = np.asarray(np.searchsorted(starts, structural, side="right") - 1, dtype=np.intp)
        wanted = np.zeros(lines, dtype=bool)
        wanted[keys] = True
        keep = wanted[line_of]
        structural, line_of = structural[keep], line_of[keep]
        kind = _STRUCTURE[arr[structural]]
        quote = kind == 1
        # quotes before each position within its line (a line that decoded has balanced strings)
        cq = np.cumsum(quote)
        first = np.searchsorted(line_of, line_of, side="left")
        before = cq - quote - (cq[first] - quote[first])
        outside = ~quote & (before % 2 == 0)
        # a key written twice: JSON decoders keep one, YAML refuses the line
        colons = np.bincount(line_of[outside & (kind == 4)], minlength=lines)
        outside &= kind != 4
        pos, kind, line_of = structural[outside], kind[outside], line_of[outside]
        step = np.where(kind == 2, 1, -1)
        depth = np.cumsum(step)
        first = np.searchsorted(line_of, line_of, side="left")
        depth = depth - (depth[first] - step[first])  # depth after each bracket, within its line
        level = np.where(kind == 2, depth, depth + 1)
        order = np.lexsort((pos, level, line_of))
        opens, closes = order[0::2], order[1::2]
        if len(opens) != len(closes) or (kind[opens] != 2).any() or (kind[closes] != 3).any():
            return out
        at = np.argsort(pos[opens], kind="stable")
        opens, closes = opens[at], closes[at]
        open_pos, close_pos, open_level, open_line = pos[opens], pos[closes], level[opens], line_of[opens]
        if self.high[keys].any():
            # columns count characters: continuation bytes of UTF-8 do not start one
            cont = np.concatenate(([0], np.cumsum((arr & 0xC0) == 0x80)))

            def column(p: IntArray, line: IntArray) -> IntArray:
                s = starts[line]
                return np.asarray(p - s - (cont[p] - cont[s]) + 1, dtype=np.intp)
        else:
            def column(p: IntArray, line: IntArray) -> IntArray:
                return np.asarray(p - starts[line] + 1, dtype=np.intp)

        start_col, end_col = column(open_pos, open_line), column(close_pos, open_line) + 1
        key_array = np.array(keys, dtype=np.intp)
        tops = [self.sections[k] for k in keys]
        expected_keys = np.array([self.keys[k] for k in keys], dtype=np.intp)
        ok = colons[key_array] == expected_keys
        # the root (level 1), its container values in key order (level 2), their items (level 3)
        is_root = np.flatnonzero(open_level == 1)
        roots = np.full(lines, -1, dtype=np.intp)
        roots[open_line[is_root]] = is_root
        root_count = np.bincount(open_line[is_root], minlength=lines)
        ok &= root_count[key_array] == 1
        level2 = np.flatnonzero(open_level == 2)
        line2 = open_line[level2]
        count2 = np.bincount(line2, minlength=lines)
        ok &= count2[key_array] == np.array([t.containers for t in tops], dtype=np.intp)
        first2 = np.searchsorted(line2, key_array, side="left")
        safe = np.minimum(first2, max(len(level2) - 1, 0))
        zone_c = np.full(lines, -1, dtype=np.intp)
        object_c = np.full(lines, -1, dtype=np.intp)
        if len(level2):
            zr = np.minimum(safe + np.array([t.zones_rank for t in tops], dtype=np.intp), len(level2) - 1)
            orank = np.minimum(safe + np.array([t.objects_rank for t in tops], dtype=np.intp), len(level2) - 1)
            zone_c[key_array], object_c[key_array] = level2[zr], level2[orank]
        level3 = np.flatnonzero(open_level == 3)
        # each item's container: the last level-2 opening before it (containers of one line do not nest)
        parent = level2[np.maximum(np.searchsorted(open_pos[level2], open_pos[level3], side="right") - 1, 0)] \
            if len(level2) else np.full(len(level3), -1, dtype=np.intp)
        line3 = open_line[level3]
        zones = level3[parent == zone_c[line3]]
        objects = level3[parent == object_c[line3]]
        ok &= np.bincount(open_line[zones], minlength=lines)[key_array] == \
            np.array([len(t.zones) for t in tops], dtype=np.intp)
        ok &= np.bincount(open_line[objects], minlength=lines)[key_array] == \
            np.array([len(t.objects) for t in tops], dtype=np.intp)
        if not ok.all():
            return {k: bool(ok[i]) for i, k in enumerate(keys)}
        root = roots[key_array]
        self.root_span = np.stack((start_col[root], end_col[root]), axis=1)
        self.zone_span = np.stack((start_col[zones], end_col[zones]), axis=1)
        self.object_span = np.stack((start_col[objects], end_col[objects]), axis=1)
        return dict.fromkeys(keys, True)

    # ------------------------------------------------------------------ table

    def table(self, run: list[int]) -> Table:
        """Return the table of the accepted lines `run` (consecutive in the chunk, in order)."""
        good = self.good
        first = good.index(run[0])
        picked = np.arange(first, first + len(run), dtype=np.intp)
        cols: _Objects = self.objects_cols
        ostarts = np.concatenate(([0], np.cumsum(self.object_counts))).astype(np.intp)
        zstarts = np.concatenate(([0], np.cumsum(self.zone_counts))).astype(np.intp)
        o = np.arange(ostarts[picked[0]], ostarts[picked[-1] + 1], dtype=np.intp)
        z = np.arange(zstarts[picked[0]], zstarts[picked[-1] + 1], dtype=np.intp)
        tops = [self.sections[k] for k in run]
        path = self.path
        numbers = [self.numbers[k] for k in run]
        line = np.repeat(np.array(numbers, dtype=np.intp), self.object_counts[picked])
        zone_line = np.repeat(np.array(numbers, dtype=np.intp), self.zone_counts[picked])
        zone_span = self.zone_span[z]
        base = int(o[0]) if len(o) else 0

        def sparse(values: dict[int, Any]) -> dict[int, Any]:
            return {g - base: v for g, v in values.items() if (len(o) and o[0] <= g <= o[-1])}

        return Table(
            paths=[path] * len(run), names=[t.name for t in tops], width=np.array([t.width for t in tops], dtype=float),
            planned=[t.planned for t in tops], tags=[t.tags for t in tops],
            spans=[Span(path, n, int(s), n, int(e)) for n, (s, e) in zip(numbers, self.root_span[picked].tolist(),
                                                                           strict=True)],
            zone_count=self.zone_counts[picked].copy(), zone_kind=[self.zone_kind[k] for k in z.tolist()],
            zone_start=self.zone_start[z], zone_end=self.zone_end[z],
            zone_spans=[Span(path, n, s, n, e) for n, (s, e) in zip(zone_line.tolist(), zone_span.tolist(), strict=True)],
            expect={}, accept={}, place={j: t.place for j, t in enumerate(tops) if t.place is not None},
            starts=np.concatenate(([0], np.cumsum(self.object_counts[picked]))).astype(np.intp),
            ids=np.array(cols.ids, dtype=object)[o] if len(o) else np.empty(0, dtype=object),
            kind=cols.kind[o], network=cols.network[o],
            owner=np.array(cols.owner, dtype=object)[o] if len(o) else np.empty(0, dtype=object),
            status=cols.status[o], x=cols.x[o], cover=cols.cover[o], diameter=cols.diameter[o],
            size_width=cols.width[o], size_height=cols.height[o], start=cols.start[o], end=cols.end[o],
            cover_end=cols.cover_end[o], root_radius=cols.root_radius[o], root_depth=cols.root_depth[o],
            sides=cols.sides[o], line=line, column=self.object_span[o, 0].astype(np.intp), end_line=line.copy(),
            end_column=self.object_span[o, 1].astype(np.intp), holds=sparse(cols.holds), measures=sparse(cols.measures),
            attributes=sparse(cols.attributes), source=sparse(cols.source),
        )


@dataclass(frozen=True, slots=True)
class _Top:
    """A line's section-level fields, judged (zones and objects are judged in columns)."""

    name: str
    width: float
    unit: int
    tags: tuple[tuple[str, str | float], ...]
    planned: str | None
    place: Place | None
    zones: list[Any]
    objects: list[Any]
    containers: int
    zones_rank: int
    objects_rank: int
    keys: int

    @staticmethod
    def of(top: dict[str, Any]) -> _Top:
        """Judge the top level of a decoded line (as `_Case.section`), or decline."""
        for key in top:
            if key not in TOP_KEYS:
                raise _Decline
        version = top.get("ligging")
        if type(version) is bool or version != FORMAT_VERSION:
            raise _Decline
        unit = "m"
        if "units" in top:
            unit = _text(top["units"])
            if unit not in UNITS:
                raise _Decline
        name = _text(top.get("name"))
        width = _length_one(top.get("width"), unit)
        if width is None or width <= 0 or not plausible("width", np.array([width]))[0]:
            raise _Decline
        tags: list[tuple[str, str | float]] = []
        for key in ("municipality", "street_type"):
            if key in top:
                tags.append((key, _text(top[key])))
        planned = None
        if "planned" in top:
            planned = _planned(top["planned"])
            tags.append(("planned", float(planned[:4])))
        if "tags" in top:
            free = top["tags"]
            if type(free) is not dict:
                raise _Decline
            for key, value in free.items():
                if key in dict(tags) or len(key) > _LONGEST_KEY:
                    raise _Decline
                if (type(value) is int or type(value) is float) and abs(value) <= MAX_NUMBER:
                    tags.append((key, float(value)))
                else:
                    tags.append((key, _text(value)))
        if "description" in top:
            _plain(top["description"])
        zones, objects = top.get("zones"), top.get("objects")
        if type(zones) is not list or type(objects) is not list or not zones or len(objects) > 5000:
            raise _Decline
        place = _place(top["place"], width, unit) if "place" in top else None
        containers = [key for key, value in top.items() if type(value) is dict or type(value) is list]
        keys = len(top) + (len(top["tags"]) if "tags" in top else 0) + (len(top["place"]) if "place" in top else 0)
        return _Top(name, width, _UNIT_CODE[unit], tuple(tags), planned, place, zones, objects, len(containers),
                    containers.index("zones"), containers.index("objects"), keys)


def _planned(value: Any) -> str:
    """Return the planned date of a case as the loader reads it, or decline."""
    import datetime as dt

    if type(value) is int and 1900 <= value <= 2200:
        return f"{value}-01-01"
    if type(value) is str and re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", value):
        full = value if len(value) == 10 else value + "-01"
        try:
            dt.date.fromisoformat(full)
        except ValueError:
            raise _Decline from None
        return full
    raise _Decline


def _place(value: Any, width: float, unit: str) -> Place:
    """Return where a section lies (as `_Case.place`), or decline."""
    if type(value) is not dict or not value.keys() <= set(PLACE_KEYS) or "from" not in value or "to" not in value:
        raise _Decline
    start, end = _rd_point(value["from"]), _rd_point(value["to"])
    if abs(math.dist(start, end) - width) > PLACE_SLACK:
        raise _Decline
    station = None
    if "station" in value:
        station = _length_one(value["station"], unit)
        if station is None:
            raise _Decline
    delivery = _text(value["delivery"]) if "delivery" in value else None
    return Place(start, end, station, delivery)


def _rd_point(value: Any) -> tuple[float, float]:
    """Return [x, y] in RD New metres inside RD New's area, or decline."""
    if type(value) is not list or len(value) != 2 or not all(type(v) is int or type(v) is float for v in value):
        raise _Decline
    x, y = float(value[0]), float(value[1])
    if not (RD_BOUNDS[0][0] <= x <= RD_BOUNDS[0][1] and RD_BOUNDS[1][0] <= y <= RD_BOUNDS[1][1]):
        raise _Decline
    return (x, y)


def _lengths(values: list[Any], units: IntArray, mode: str, limit: str | None = None) -> tuple[FloatArray, BoolArray]:
    """Return lengths in metres as the loader converts them, and whether each is one it accepts.

    `mode` is "signed", "nonneg" or "positive"; a missing value (None) is not accepted.
    Numbers are converted in bulk (the same two IEEE operations as `si_value`), written
    quantities once per distinct text and unit.
    """
    n = len(values)
    out = np.zeros(n)
    ok = np.zeros(n, dtype=bool)
    if not n:
        return out, ok
    types = set(map(type, values))
    if types <= {int, float}:
        raw = np.array(values, dtype=float)
        numeric = np.ones(n, dtype=bool)
    else:
        numeric = np.fromiter(((type(v) is int or type(v) is float) for v in values), dtype=bool, count=n)
        raw = np.array([v if (type(v) is int or type(v) is float) else 0.0 for v in values], dtype=float)
    with np.errstate(invalid="ignore", over="ignore"):
        scale = _SCALES[units]
        si = scale[:, 0] * raw + scale[:, 1]
        in_range = numeric & (np.abs(raw) <= MAX_NUMBER)
    out[numeric] = si[numeric]
    ok[numeric] = in_range[numeric]
    if not numeric.all():
        # written quantities ("110 mm"): each distinct text and unit converted once
        known: dict[tuple[str, int], float | None] = {}
        for g in np.flatnonzero(~numeric).tolist():
            value = values[g]
            if type(value) is str:
                memo = (value, int(units[g]))
                if memo in known:
                    got = known[memo]
                else:
                    got = known[memo] = _length_one(value, UNITS[memo[1]])
                if got is not None:
                    out[g] = got
                    ok[g] = True
    with np.errstate(invalid="ignore"):
        ok &= np.isfinite(out) & (np.abs(out) <= 1e5)
        if mode == "positive":
            ok &= out > 0
        elif mode == "nonneg":
            ok &= out >= 0
    if limit is not None:
        ok &= plausible(limit, out)
    return out, ok


def _codes(values: list[Any], codes: dict[str, int]) -> IntArray:
    """Return the code of each text value (read as `_text` reads it), -1 where it is none of `codes` or not text."""
    types = set(map(type, values))
    if types <= {str, type(None)}:
        return np.fromiter((-1 if v is None else codes.get(v.strip(), -1) for v in values), dtype=np.intp,
                           count=len(values))
    out = np.full(len(values), -1, dtype=np.intp)
    for k, value in enumerate(values):
        try:
            out[k] = codes.get(_text(value), -1)
        except _Decline:
            pass
    return out


class _Objects:
    """The objects of the lines of a chunk as columns, judged as `_Case.obj` judges each (`judge`)."""

    def __init__(self, objs: list[Any], line: IntArray, units: IntArray) -> None:
        self.objs = objs
        self.line = line
        self.units = units
        n = len(objs)
        self.n = n
        nan = np.nan
        self.kind = np.full(n, -1, dtype=np.intp)
        self.network = np.full(n, -1, dtype=np.intp)
        self.status = np.zeros(n, dtype=np.intp)
        self.sides = np.zeros(n, dtype=np.intp)
        self.x = np.zeros(n)
        self.cover = np.zeros(n)
        for name in ("diameter", "width", "height", "start", "end", "cover_end", "root_radius", "root_depth"):
            setattr(self, name, np.full(n, nan))
        self.ids: list[str] = []
        self.keys = np.zeros(n, dtype=np.intp)
        self.columns: dict[str, list[Any]] = {}
        self.owner: list[str | None] = []
        self.holds: dict[int, tuple[str, ...]] = {}
        self.measures: dict[int, tuple[str, ...]] = {}
        self.attributes: dict[int, tuple[tuple[str, float | str], ...]] = {}
        self.source: dict[int, Source] = {}

    def judge(self) -> BoolArray:
        """Fill the columns; return whether each object is one the loader accepts as read here."""
        objs, n = self.objs, self.n
        ok = np.ones(n, dtype=bool)
        if not n:
            return ok
        if set(map(type, objs)) != {dict}:
            ok &= np.fromiter((type(o) is dict for o in objs), dtype=bool, count=n)
            objs = self.objs = [o if type(o) is dict else {"id": None} for o in objs]
        self.keys = np.fromiter(map(len, objs), dtype=np.intp, count=n)
        # the keys each object has, told once per distinct key order
        signatures: dict[tuple[str, ...], int] = {}
        sig = np.fromiter((signatures.setdefault(tuple(o), len(signatures)) for o in objs), dtype=np.intp, count=n)
        key_sets = [frozenset(s) for s in signatures]

        def has(key: str) -> BoolArray:
            table = np.array([key in s for s in key_sets], dtype=bool)
            return np.asarray(table[sig])

        values = self.values

        # id and kind
        ids = self._texts(values("id"), ok)
        self.ids = normal_ids(ids)
        has_kind = has("kind")
        has_network = has("network")
        kind = _codes(values("kind"), _KIND_CODE)
        ok &= ~has_kind | (kind >= 0)
        # without a kind, a network makes a line a cable or a pipe (as written: the name is judged below)
        cables = np.fromiter((v in CABLE_THEMAS for v in values("network")), dtype=bool, count=n)
        kind = np.where(has_kind, kind, np.where(has_network,
                                                 np.where(cables, _KIND_CODE["cable"], _KIND_CODE["pipe"]), -1))
        ok &= kind >= 0
        # keys allowed for the kind, told once per distinct (keys, kind)
        combo = sig * (len(KINDS) + 1) + kind + 1
        distinct, back = np.unique(combo, return_inverse=True)
        allowed = np.array([(c % (len(KINDS) + 1)) > 0 and key_sets[c // (len(KINDS) + 1)]
                            <= _ALLOWED[KINDS[c % (len(KINDS) + 1) - 1]] for c in distinct.tolist()], dtype=bool)
        ok &= allowed[back.reshape(-1)]
        kind = np.where(ok, kind, -1)
        self.kind = kind
        code = {name: kind == c for name, c in _KIND_CODE.items()}
        # network, owner, status
        network = _codes(values("network"), _THEMA_CODE)
        ok &= ~has_network | (network >= 0)
        self.network = np.where(has_network, network, -1)
        ok &= ~(np.isin(kind, [_KIND_CODE[k] for k in _NETWORKED]) & ~has_network)
        owners = has("owner")
        self.owner = [None] * n
        if owners.any():
            idx = np.flatnonzero(owners)
            for g, value in zip(idx.tolist(), self._texts(values("owner", idx), ok, idx), strict=True):
                self.owner[g] = value
        status = _codes(values("status"), _STATUS_CODE)
        given = has("status")
        ok &= ~given | (status >= 0)
        self.status = np.where(given, status, _STATUS_CODE["planned"])
        # keys of the mappings inside objects count toward the line's keys (a key written twice is told by count)
        for key in ("root_zone", "attributes", "source"):
            for g in np.flatnonzero(has(key)).tolist():
                nested = objs[g][key]
                if type(nested) is dict:
                    self.keys[g] += len(nested)
        # rare fields, one object at a time
        for key, read in (("measures", self._measures), ("attributes", self._attributes), ("source", self._source),
                          ("label", None), ("note", None)):
            for g in np.flatnonzero(has(key)).tolist():
                try:
                    if read is None:
                        _plain(objs[g][key])
                    else:
                        read(g, objs[g][key])
                except (_Decline, UnitProblem, ValueError, OverflowError):
                    ok[g] = False
        # geometry, per kind
        line = code["cable"] | code["pipe"]
        has_d, has_w, has_h = has("diameter"), has("width"), has("height")
        rect = line & ~has_d
        ok &= ~(line & has_d & (has_w | has_h))
        ok &= ~(line & has_d & has("holds"))
        ok &= ~(rect & ~(has_w & has_h))
        placed = line | code["tree"] | code["structure"] | code["container"] | code["rack"]
        res = code["reservation"]
        res_span = res & (has("from") | has("to"))
        self._length("x", placed | (res & ~res_span), "signed", ok, self.x)
        boxed = code["structure"] | code["container"] | code["rack"]
        self._length("cover", line | boxed | res, "nonneg", ok, self.cover, "cover")
        self._length("diameter", line & has_d, "positive", ok, self.diameter, "diameter")
        self._length("width", rect, "positive", ok, self.width, "line size")
        self._length("height", rect, "positive", ok, self.height, "line size")
        self._length("width", boxed | (res & ~res_span), "positive", ok, self.width, "body size")
        self._length("height", boxed | res, "positive", ok, self.height, "body size")
        # a tree's trunk is optional; its root zone a {radius, depth} mapping
        self._length("diameter", code["tree"] & has_d, "positive", ok, self.diameter, "trunk")
        trees = np.flatnonzero(code["tree"] & has("root_zone"))
        zone = [objs[g]["root_zone"] for g in trees.tolist()]
        fine = np.array([type(z) is dict and z.keys() <= {"radius", "depth"} for z in zone], dtype=bool)
        ok[trees[~fine]] = False
        units = self.units[trees]
        radius, ok_r = _lengths([z.get("radius") if type(z) is dict else None for z in zone], units, "positive",
                                "root radius")
        depth, ok_d = _lengths([z.get("depth") if type(z) is dict else None for z in zone], units, "positive",
                               "root depth")
        ok[trees[~(ok_r & ok_d)]] = False
        self.root_radius[trees], self.root_depth[trees] = radius, depth
        # crossings and reservations given by from/to
        spanned = code["crossing"] | res_span
        start = np.full(n, np.nan)
        end = np.full(n, np.nan)
        self._length("from", spanned, "signed", ok, start)
        self._length("to", spanned, "signed", ok, end)
        with np.errstate(invalid="ignore"):
            ok &= ~(spanned & ~(end > start))
        middle = 0.5 * (start + end)
        self.x = np.where(spanned, middle, self.x)
        self.width = np.where(res_span, end - start, self.width)
        for key in ("x", "width"):
            for g in np.flatnonzero(res_span & has(key)).tolist():
                try:
                    _plain(objs[g][key])
                except _Decline:
                    ok[g] = False
        crossing = np.flatnonzero(code["crossing"])
        self.start[crossing], self.end[crossing] = start[crossing], end[crossing]
        self._length("diameter", code["crossing"], "positive", ok, self.diameter, "diameter")
        covers = values("cover", crossing)
        two = np.array([type(c) is list for c in covers], dtype=bool)
        single = crossing[~two]
        self._length("cover", np.isin(np.arange(n), single), "nonneg", ok, self.cover, "cover")
        self.cover_end[single] = self.cover[single]
        pairs = crossing[two]
        lists = [covers[k] for k in np.flatnonzero(two).tolist()]
        right = np.array([len(c) == 2 for c in lists], dtype=bool)
        ok[pairs[~right]] = False
        units = self.units[pairs]
        c0, ok0 = _lengths([c[0] if len(c) == 2 else None for c in lists], units, "nonneg", "cover")
        c1, ok1 = _lengths([c[1] if len(c) == 2 else None for c in lists], units, "nonneg", "cover")
        ok[pairs[~(ok0 & ok1)]] = False
        self.cover[pairs], self.cover_end[pairs] = c0, c1
        # racks: sides and what they hold; beds and sleeves (rectangular lines) may hold lines too
        racks = np.flatnonzero(code["rack"])
        self.sides[racks] = SIDES.index("single")
        idx = np.flatnonzero(code["rack"] & has("sides"))
        for g, value in zip(idx.tolist(), self._texts(values("sides", idx), ok, idx), strict=True):
            if value in ("single", "double"):
                self.sides[g] = SIDES.index(value)
            else:
                ok[g] = False
        for g in np.flatnonzero((code["rack"] | rect) & has("holds")).tolist():
            held = objs[g]["holds"]
            try:
                if type(held) is not list:
                    raise _Decline
                names = normal_ids([_text(v) for v in held])
            except _Decline:
                ok[g] = False
                continue
            if names:
                self.holds[g] = tuple(names)
        return ok

    def values(self, key: str, idx: IntArray | None = None) -> list[Any]:
        """Return every object's value of `key` (None where it has none), or those of the objects idx."""
        got = self.columns.get(key)
        if got is None:
            got = [o.get(key) for o in self.objs]
            self.columns[key] = got
        return got if idx is None else [got[g] for g in idx.tolist()]

    def _texts(self, values: list[Any], ok: BoolArray, idx: IntArray | None = None) -> list[str]:
        """Return text values as the loader reads them; a value that is not text marks its object not ok."""
        if all(type(v) is str for v in values):
            out = list(map(str.strip, values))
            if all(out):
                return out
        result = []
        for k, value in enumerate(values):
            try:
                result.append(_text(value))
            except _Decline:
                ok[k if idx is None else int(idx[k])] = False
                result.append("")
        return result

    def _length(self, key: str, where: BoolArray, mode: str, ok: BoolArray, into: FloatArray,
                limit: str | None = None) -> None:
        """Read length `key` of the objects `where` (required there) into a column."""
        idx = np.flatnonzero(where)
        if not len(idx):
            return
        got, fine = _lengths(self.values(key, idx), self.units[idx], mode, limit)
        into[idx] = got
        ok[idx[~fine]] = False

    def _measures(self, g: int, value: Any) -> None:
        if type(value) is not list:
            raise _Decline
        names = tuple(sorted({_text(v) for v in value}))
        if names:
            self.measures[g] = names

    def _attributes(self, g: int, value: Any) -> None:
        if type(value) is not dict:
            raise _Decline
        out: list[tuple[str, float | str]] = []
        for key, raw in sorted(value.items()):
            out.append(_attribute(key, raw))
        if out:
            self.attributes[g] = tuple(out)

    def _source(self, g: int, value: Any) -> None:
        if type(value) is not dict or not value.keys() <= set(SOURCE_KEYS) or "feature" not in value or \
                "depth" not in value:
            raise _Decline
        feature = _text(value["feature"])
        depth = _text(value["depth"])
        if depth not in DEPTH_BASES:
            raise _Decline
        tolerance = None
        if "tolerance" in value:
            tolerance = _length_one(value["tolerance"], UNITS[self.units[g]])
            if tolerance is None or tolerance < 0:
                raise _Decline
        point = _text(value["point"]) if "point" in value else None
        if depth != "measured" and (tolerance is not None or point is not None):
            raise _Decline
        self.source[g] = Source(feature, depth, tolerance, point)


_ATTRIBUTES: dict[tuple[str, Any, type], tuple[str, float | str] | None] = {}


def _attribute(key: str, raw: Any) -> tuple[str, float | str]:
    """Return one attribute as the loader reads it (a quantity in SI or text), or decline; remembered per value."""
    kind = type(raw)
    if not (kind is str or kind is int or kind is float):
        raise _Decline
    memo = (key, raw, kind)
    if memo in _ATTRIBUTES:
        got = _ATTRIBUTES[memo]
        if got is None:
            raise _Decline
        return got
    got = None
    if len(key) <= _LONGEST_KEY and (kind is str or abs(raw) <= MAX_NUMBER):
        expected = ATTRIBUTE_DIMENSIONS.get(key)
        shown = str(raw)
        if kind is not str or re.match(r"^\s*[-+]?\d", shown):
            try:
                number, dimension = quantity_si(shown, "")
            except (UnitProblem, ValueError, OverflowError):
                number, dimension = math.nan, ""
            if dimension and (not expected or dimension == expected) and abs(number) <= MAX_NUMBER:
                got = (key, number)
        elif not expected:
            got = (key, shown)
    if len(_ATTRIBUTES) > 1 << 14:
        _ATTRIBUTES.clear()
    _ATTRIBUTES[memo] = got
    if got is None:
        raise _Decline
    return got

