"""Findings as a columnar table: Apache Parquet for DuckDB, Polars, pandas or QGIS.

One row per finding, with the section it belongs to (`case`: `file.jsonl:LINE` or the case
file; `section`: the case name; `station`: the section's `station` tag when it has one, as
cut along an axis) and every field of the findings contract as a column; `exception` and
`accepted` are JSON text (null when absent), `subjects` a list of ids. A batch worker turns
its chunk into an Arrow IPC stream (`chunk_bytes`); the parent appends each chunk as row
groups to one Parquet file (`ParquetOut`), in input order. pyarrow is imported here only:
`pip install 'ligging[parquet]'`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, BinaryIO

from checker.model.findings import Finding
from checker.model.section import Section
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


def _rounded(value: float | None) -> float | None:
    """Round as the JSON contract does (0.1 mm), so both outputs carry the same numbers."""
    if value is None:
        return None
    rounded = round(value, 4)
    return 0.0 if rounded == 0 else rounded


def table(checked: Sequence[tuple[str, Section, Sequence[Finding]]]) -> Any:
    """Return the findings of checked sections (identity, section, findings) as an Arrow table."""
    pa = _pyarrow()
    rows = [(case, section, f) for case, section, found in checked for f in found]
    stations = {}
    for case, section, _ in checked:
        station = section.tag("station")
        stations[case] = station if isinstance(station, float) else None
    columns = {
        "case": [c for c, _, _ in rows],
        "section": [s.name for _, s, _ in rows],
        "station": [stations[c] for c, _, _ in rows],
        "rule": [f.rule for _, _, f in rows],
        "pack": [f.pack for _, _, f in rows],
        "severity": [f.severity for _, _, f in rows],
        "kind": [f.kind for _, _, f in rows],
        "subjects": [list(f.subjects) for _, _, f in rows],
        "measured": [_rounded(f.measured) for _, _, f in rows],
        "required": [_rounded(f.required) for _, _, f in rows],
        "op": [f.op for _, _, f in rows],
        "unit": [f.unit for _, _, f in rows],
        "shortfall": [_rounded(f.shortfall) for _, _, f in rows],
        "message": [f.message for _, _, f in rows],
        "source": [f.source for _, _, f in rows],
        "rule_file": [f.rule_at.file for _, _, f in rows],
        "rule_line": [f.rule_at.line for _, _, f in rows],
        "rule_column": [f.rule_at.column for _, _, f in rows],
        "case_file": [f.case_at.file for _, _, f in rows],
        "case_line": [f.case_at.line for _, _, f in rows],
        "case_column": [f.case_at.column for _, _, f in rows],
        "fingerprint": [f.fingerprint for _, _, f in rows],
        "baseline": [f.baseline for _, _, f in rows],
        "title": [f.title for _, _, f in rows],
        "illustrative": [f.illustrative for _, _, f in rows],
        "exception": [json.dumps(dict(f.exception), ensure_ascii=False) if f.exception else None for _, _, f in rows],
        "accepted": [json.dumps(dict(f.accepted), ensure_ascii=False) if f.accepted else None for _, _, f in rows],
    }
    return pa.table(columns, schema=schema())


def chunk_bytes(checked: Sequence[tuple[str, Section, Sequence[Finding]]]) -> bytes:
    """Return a chunk's findings as an Arrow IPC stream (what a worker hands the parent)."""
    pa = _pyarrow()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema()) as writer:
        writer.write_table(table(checked))
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
