"""Findings as columns: what the engine found in a batch, before (or instead of) any `Finding`.

A `Found` holds one row per finding: the `Template` it follows (rule, pack, severity, kind,
op, unit, source, rule_at, title, ... and how its message is said), its section, its
subjects (object indices of the batch's `Table`, in id order), the measured and required
values, the object it is anchored at, whether it is a baseline; rows are grouped by section
in the order the findings contract prescribes. The few fields that only some findings
carry (an exception's measures, an accepted deviation, a cover that was not measured) are
kept per row where they occur.

Writers (`checker.io.jsonl`, `checker.io.parquet`) read these columns directly; `findings`
builds the `Finding` objects (`Engine.evaluate` does, for the commands that need them),
equal field by field to what the engine built before findings were columns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from checker.model.findings import Finding, with_basis
from checker.model.table import Table
from dsl.diagnostics import Span

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
BoolArray = NDArray[np.bool_]
# messages of many rows at once: (subject ids per row, measured, required, crossing-first flag) -> text per row
Say = Callable[[list[tuple[str, ...]], list[float | None], list[float | None], list[bool]], list[str]]
Fields = tuple[tuple[str, str], ...]


@dataclass(frozen=True, eq=False)
class Template:
    """What the findings of one rule alternative share (with one exception, or none), and how their message reads."""

    rule: str
    pack: str
    severity: str
    kind: str
    op: str
    unit: str
    source: str
    rule_at: Span
    title: str
    illustrative: str | None
    measured: bool
    required: bool
    say: Say


@dataclass(eq=False)
class Block:
    """Rows of one template found together (the engine appends these; `Found.of` joins them)."""

    template: int
    position: int
    sec: IntArray
    subjects: IntArray
    measured: FloatArray
    required: FloatArray
    anchor: IntArray
    baseline: BoolArray
    flag: BoolArray
    exception: list[Fields] | None = None
    messages: list[str] | None = None
    # rows whose sentence names the subjects against id order (an order names them in the order it requires)
    reversed: BoolArray | None = None


@dataclass(eq=False)
class Found:
    """The findings of a batch as columns, each section's rows together and in contract order."""

    templates: list[Template]
    template: IntArray
    sec: IntArray
    subjects: IntArray
    measured: FloatArray
    required: FloatArray
    anchor: IntArray
    baseline: BoolArray
    flag: BoolArray
    starts: IntArray
    reversed: BoolArray
    exception: dict[int, Fields] = field(default_factory=dict)
    message: dict[int, str] = field(default_factory=dict)
    accepted: dict[int, Fields] = field(default_factory=dict)
    depth_basis: dict[int, Fields] = field(default_factory=dict)
    _ids: list[tuple[str, ...]] | None = None

    def __len__(self) -> int:
        return len(self.template)

    @staticmethod
    def of(templates: list[Template], blocks: Sequence[Block], sections: int, order_key: Callable[..., IntArray]) -> Found:
        """Join blocks into one set of rows; `order_key(template, position, sec, subjects)` returns the row order."""
        blocks = [blk for blk in blocks if len(blk.sec)]
        width = max((blk.subjects.shape[1] for blk in blocks), default=1)

        def cat(name: str, dtype: type) -> NDArray[np.generic]:
            parts = [getattr(blk, name) for blk in blocks]
            return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype=dtype)

        subjects = np.full((sum(len(blk.sec) for blk in blocks), width), -1, dtype=np.intp)
        at = 0
        for blk in blocks:
            subjects[at:at + len(blk.sec), :blk.subjects.shape[1]] = blk.subjects
            at += len(blk.sec)
        template = np.concatenate([np.full(len(blk.sec), blk.template, dtype=np.intp) for blk in blocks]) \
            if blocks else np.empty(0, dtype=np.intp)
        position = np.concatenate([np.full(len(blk.sec), blk.position, dtype=np.intp) for blk in blocks]) \
            if blocks else np.empty(0, dtype=np.intp)
        sec = cat("sec", np.intp)
        order = order_key(template, position, sec, subjects)
        exception: dict[int, Fields] = {}
        message: dict[int, str] = {}
        at = 0
        for blk in blocks:
            if blk.exception is not None:
                exception.update((at + r, fields) for r, fields in enumerate(blk.exception) if fields)
            if blk.messages is not None:
                message.update((at + r, text) for r, text in enumerate(blk.messages))
            at += len(blk.sec)
        rank = np.empty(len(order), dtype=np.intp)
        rank[order] = np.arange(len(order), dtype=np.intp)
        sec = sec[order]
        return Found(
            templates, template[order], sec, subjects[order], cat("measured", float)[order], cat("required", float)[order],
            cat("anchor", np.intp)[order], cat("baseline", bool)[order], cat("flag", bool)[order],
            np.searchsorted(sec, np.arange(sections + 1)).astype(np.intp),
            (np.concatenate([np.zeros(len(blk.sec), dtype=bool) if blk.reversed is None else blk.reversed for blk in blocks])
             if blocks else np.empty(0, dtype=bool))[order],
            {int(rank[r]): v for r, v in exception.items()}, {int(rank[r]): v for r, v in message.items()},
        )

    def rows(self, s: int) -> range:
        """Return the rows of section s."""
        return range(int(self.starts[s]), int(self.starts[s + 1]))

    def subject_ids(self, ids: NDArray[np.object_]) -> list[tuple[str, ...]]:
        """Return each row's subject ids (in id order), computed once."""
        if self._ids is None:
            self._ids = joined_rows(self.subjects, ids)
        return self._ids

    def values(self, rows: IntArray | slice | None = None) -> tuple[list[float | None], list[float | None]]:
        """Return measured and required values (None where the template has none) of the rows."""
        pick = slice(None) if rows is None else rows
        has_m = np.array([t.measured for t in self.templates], dtype=bool)[self.template[pick]]
        has_r = np.array([t.required for t in self.templates], dtype=bool)[self.template[pick]]
        measured = np.where(has_m, self.measured[pick], np.nan).tolist()
        required = np.where(has_r, self.required[pick], np.nan).tolist()
        return ([None if not h else v for v, h in zip(measured, has_m.tolist(), strict=True)],
                [None if not h else v for v, h in zip(required, has_r.tolist(), strict=True)])

    def messages(self, ids: NDArray[np.object_]) -> list[str]:
        """Return every row's message, each template's rows said at once."""
        out: list[str] = [""] * len(self)
        subjects = self.subject_ids(ids)
        if self.reversed.any():
            subjects = list(subjects)
            for r in np.flatnonzero(self.reversed).tolist():
                subjects[r] = subjects[r][::-1]
        measured, required = self.values()
        flags = self.flag.tolist()
        for t in np.unique(self.template).tolist():
            rows = np.flatnonzero(self.template == t).tolist()
            said = self.templates[t].say([subjects[r] for r in rows], [measured[r] for r in rows],
                                         [required[r] for r in rows], [flags[r] for r in rows])
            for r, text in zip(rows, said, strict=True):
                out[r] = text
        for r, text in self.message.items():
            out[r] = text
        for r, basis in self.depth_basis.items():
            out[r] = with_basis(out[r], basis)
        return out

    def findings(self, table: Table) -> list[list[Finding]]:
        """Return each section's findings as `Finding` objects, in contract order."""
        ids = table.ids
        subjects = self.subject_ids(ids)
        messages = self.messages(ids)
        measured, required = self.values()
        out: list[list[Finding]] = []
        paths = table.paths
        for s in range(len(self.starts) - 1):
            found = []
            for r in self.rows(s):
                t = self.templates[int(self.template[r])]
                g = int(self.anchor[r])
                anchor = Span(paths[int(table.sec[g])], int(table.line[g]), int(table.column[g]), int(table.end_line[g]),
                              int(table.end_column[g]))
                found.append(Finding(
                    t.rule, t.pack, t.severity, t.kind, subjects[r], measured[r], required[r], t.op, t.unit,
                    messages[r], t.source, t.rule_at, anchor, bool(self.baseline[r]), t.title, t.illustrative,
                    self.exception.get(r, ()), self.accepted.get(r, ()), (), self.depth_basis.get(r, ())))
            out.append(found)
        return out



def joined_rows(subjects: IntArray, names: NDArray[np.object_], separator: str | None = None) -> list[Any]:
    """Return each row's subject names: a tuple (no separator) or one text joined by `separator`.

    `subjects` is a padded matrix (-1 after a row's last subject); rows of one width are
    taken at once.
    """
    out: list[Any] = [None] * len(subjects)
    if not len(subjects):
        return out
    width = (subjects >= 0).sum(axis=1)
    for w in np.unique(width).tolist():
        rows = np.flatnonzero(width == w)
        if separator is not None and w <= 2:
            text = names[subjects[rows, 0]]
            if w == 2:
                text = text + separator + names[subjects[rows, 1]]
            values = text.tolist()
        else:
            columns = [names[subjects[rows, c]].tolist() for c in range(w)]
            rows_of = list(zip(*columns, strict=True))
            values = rows_of if separator is None else [separator.join(parts) for parts in rows_of]
        if len(rows) == len(out):
            return values
        for r, value in zip(rows.tolist(), values, strict=True):
            out[r] = value
    return out
