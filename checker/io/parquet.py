"""Findings as a columnar table: Apache Parquet for DuckDB, Polars, pandas or QGIS.

One row per finding, with the section it belongs to (`case`: `file.jsonl:LINE` or the case
file; `section`: the case name; `station`: the section's `station` tag when it has one, as
cut along an axis) and every field of the findings contract as a column; `exception` and
`accepted` are JSON text (null when absent), `subjects` a list of ids. The table is built
from the findings kept as columns (`checker.model.found.Found`), not from `Finding`
objects. A batch worker turns its chunk into an Arrow IPC stream (`chunk_bytes`); the parent
appends each chunk as row groups to one Parquet file (`ParquetOut`), in input order.
pyarrow is imported here only: `pip install 'ligging[parquet]'`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, BinaryIO

import numpy as np

from checker.io.contract import fingerprints, measured_values, rounded, shortfalls
from checker.model.found import Found
from checker.model.table import Table
from dsl.diagnostics import Diagnostic, LiggingError, Span


def _pyarrow() -> Any:
    """Return the pyarrow module, or refuse with the extra that installs it."""
    try:
        import pyarrow
        import pyarrow.ipc
        import pyarrow.parquet
    except ImportError:
        raise LiggingError(Diagnostic(Span("<command line>", 1, 1),
                                      "--format parquet needs pyarrow (pip install 'ligging[parquet]')")) from None
    return pyarrow


def schema() -> Any:
    """Return the Arrow schema of the findings table."""
    pa = _pyarrow()
    text, number, count = pa.string(), pa.float64(), pa.int32()
    return pa.schema([
        ("case", text), ("section", text), ("station", number), ("rule", text), ("pack", text), ("severity", text),
        ("kind", text), ("subjects", pa.list_(text)), ("measured", number), ("required", number), ("op", text),
        ("unit", text), ("shortfall", number), ("message", text), ("source", text), ("rule_file", text),
        ("rule_line", count), ("rule_column", count), ("case_file", text), ("case_line", count),
        ("case_column", count), ("fingerprint", text), ("baseline", pa.bool_()), ("title", text),
        ("illustrative", text), ("exception", text), ("accepted", text),
    ])


def table(cases: Sequence[str], found: Found, sections: Table) -> Any:
    """Return the findings of a batch (kept as columns) as an Arrow table, built from the columns without a row loop.

    Template fields (rule, pack, source, ...) and section fields (case, section, station) are
    dictionary columns indexed by the findings' template and section; numbers are rounded as
    the JSON contract rounds them (`checker.io.contract`), so both outputs carry the same values.
    """
    pa = _pyarrow()
    templates = found.templates
    sec = found.sec

    def by_template(values: list[Any], kind: Any = None) -> Any:
        return pa.array(values, type=kind or pa.string()).take(pa.array(found.template))

    def by_section(values: list[Any], kind: Any = None) -> Any:
        return pa.array(values, type=kind or pa.string()).take(pa.array(sec))

    def numbers(values: Any) -> Any:
        r = rounded(values)
        return pa.array(r, mask=np.isnan(r))

    measured, required = measured_values(found)
    stations = [sections.tag(s, "station") for s in range(sections.count)]
    ids = sections.ids
    width = (found.subjects >= 0).sum(axis=1)
    offsets = np.concatenate(([0], np.cumsum(width))).astype(np.int32)
    flat = found.subjects[found.subjects >= 0]
    anchor = found.anchor
    extras = {"exception": found.exception, "accepted": found.accepted}
    columns = {
        "case": by_section(list(cases)),
        "section": by_section(sections.names),
        "station": by_section([v if isinstance(v, float) else None for v in stations], pa.float64()),
        "rule": by_template([t.rule for t in templates]),
        "pack": by_template([t.pack for t in templates]),
        "severity": by_template([t.severity for t in templates]),
        "kind": by_template([t.kind for t in templates]),
        "subjects": pa.ListArray.from_arrays(pa.array(offsets), pa.array(ids[flat].tolist(), type=pa.string())),
        "measured": numbers(measured),
        "required": numbers(required),
        "op": by_template([t.op for t in templates]),
        "unit": by_template([t.unit for t in templates]),
        "shortfall": numbers(shortfalls(found)),
        "message": pa.array(found.messages(ids), type=pa.string()),
        "source": by_template([t.source for t in templates]),
        "rule_file": by_template([t.rule_at.file for t in templates]),
        "rule_line": by_template([t.rule_at.line for t in templates], pa.int32()),
        "rule_column": by_template([t.rule_at.column for t in templates], pa.int32()),
        "case_file": pa.array(sections.paths, type=pa.string()).take(pa.array(sections.sec[anchor])),
        "case_line": pa.array(sections.line[anchor].astype(np.int32)),
        "case_column": pa.array(sections.column[anchor].astype(np.int32)),
        "fingerprint": pa.array(fingerprints(found, found.subject_ids(ids)), type=pa.string()),
        "baseline": pa.array(found.baseline),
        "title": by_template([t.title for t in templates]),
        "illustrative": by_template([t.illustrative for t in templates]),
    }
    for name, rows in extras.items():
        text: list[str | None] = [None] * len(found)
        for r, fields in rows.items():
            text[r] = json.dumps(dict(fields), ensure_ascii=False)
        columns[name] = pa.array(text, type=pa.string())
    return pa.table(columns, schema=schema())


def chunk_bytes(cases: Sequence[str], found: Found, sections: Table) -> bytes:
    """Return a chunk's findings as an Arrow IPC stream (what a worker hands the parent)."""
    pa = _pyarrow()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema()) as writer:
        writer.write_table(table(cases, found, sections))
    return bytes(sink.getvalue().to_pybytes())


class ParquetOut:
    """One Parquet file written to a binary stream, a chunk's Arrow IPC stream at a time, in order."""

    def __init__(self, out: BinaryIO) -> None:
        pa = _pyarrow()
        self._pa = pa
        self._writer = pa.parquet.ParquetWriter(out, schema(), compression="zstd")

    def write(self, ipc: bytes | memoryview) -> None:
        """Append the findings of one chunk (an Arrow IPC stream) as row groups."""
        reader = self._pa.ipc.open_stream(self._pa.py_buffer(ipc))
        found = reader.read_all()
        if found.num_rows:
            self._writer.write_table(found)

    def close(self) -> None:
        """Write the file's footer (a Parquet file is readable only after this)."""
        self._writer.close()
