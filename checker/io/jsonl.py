"""JSON Lines in and out of a batch: lines cut from bytes, findings written as lines.

Reading: `lines(data, first)` cuts a block of a `.jsonl` file into numbered lines; a line
longer than `MAX_LINE_BYTES` (the case-file limit: one line is one case) is refused
before it is decoded, so its size never multiplies in memory.

Writing: `found_lines(cases, found, table)` returns the bytes of `{"case": CASE, ...finding}`
lines for a batch's findings kept as columns (`checker.model.found.Found`), exactly as
`json.dumps(..., ensure_ascii=False)` writes `Finding.as_json()` (the findings contract,
docs/contracts.md): what a template's findings share (rule, pack, severity, kind, source,
rule_at, title, ...) is encoded once into a line pattern, the per-finding values (subjects,
numbers, message, anchor, fingerprint) are computed column by column (`checker.io.contract`),
and each line is one `%` of its pattern. `finding_lines(case, findings)` writes `Finding`
objects the same way, from fragments. Both are byte-identical to the dict-and-encoder
form; `tests/test_jsonl.py` holds them to that.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from json.encoder import encode_basestring

import numpy as np

from checker.io.contract import fingerprints, measured_values, number_texts, shortfalls
from checker.model.findings import Finding
from checker.model.found import Found, Template, joined_rows
from checker.model.table import Table

# a JSON line is one case: the same limit as a case file (checker.io.loader.MAX_FILE_BYTES)
MAX_LINE_BYTES = 4 * 1024 * 1024

_FIXED: dict[tuple[object, ...], tuple[bytes, bytes]] = {}
_TEXT: dict[str, str] = {}
_FINGERPRINTS: dict[tuple[str, tuple[str, ...]], str] = {}
_CACHE_LIMIT = 1 << 16


def lines(data: bytes, first: int) -> Iterator[tuple[int, bytes]]:
    """Yield (line number, line without its newline) for each line of `data`, numbered from `first`."""
    number = first
    start = 0
    end = len(data)
    while start < end:
        stop = data.find(b"\n", start)
        if stop < 0:
            stop = end
        yield number, data[start:stop]
        number += 1
        start = stop + 1


def _text(value: str) -> str:
    """Return a JSON string literal (as json.dumps with ensure_ascii=False), remembered for repeated text."""
    got = _TEXT.get(value)
    if got is None:
        got = encode_basestring(value)
        if len(_TEXT) > _CACHE_LIMIT:
            _TEXT.clear()
        _TEXT[value] = got
    return got


def _number(value: float | None) -> str:
    """Return a rounded length as the findings contract writes it (0.1 mm; null without a value)."""
    if value is None:
        return "null"
    rounded = round(value, 4)
    return "0.0" if rounded == 0 else float.__repr__(rounded)


def _fixed(f: Finding) -> tuple[bytes, bytes]:
    """Return the encoded text before the subjects and after the fingerprint, shared by a rule's findings."""
    key = (f.rule, f.pack, f.severity, f.kind, f.op, f.unit, f.required, f.source, f.rule_at.file, f.rule_at.line,
           f.rule_at.column, f.title, f.illustrative, f.exception, f.accepted, f.suggestions, f.depth_basis)
    got = _FIXED.get(key)
    if got is None:
        head = (f', "rule": {_text(f.rule)}, "pack": {_text(f.pack)}, "severity": {_text(f.severity)}, '
                f'"kind": {_text(f.kind)}, "subjects": [')
        rest = {"baseline": None, "suggestions": [s.as_json() for s in f.suggestions], "title": f.title}
        if f.illustrative is not None:
            rest["illustrative"] = f.illustrative
        if f.exception:
            rest["exception"] = dict(f.exception)
        if f.accepted:
            rest["accepted"] = dict(f.accepted)
        if f.depth_basis:
            rest["depth_basis"] = dict(f.depth_basis)
        tail = json.dumps(rest, ensure_ascii=False)
        # everything after "baseline": its value is per finding
        tail = tail[tail.index('"suggestions"') - 2:]
        got = (head.encode("utf-8"), tail.encode("utf-8") + b"\n")
        if len(_FIXED) > _CACHE_LIMIT:
            _FIXED.clear()
        _FIXED[key] = got
    return got


def _fingerprint(f: Finding) -> str:
    """Return a finding's fingerprint, remembered: batches repeat rules and ids."""
    key = (f.rule, f.subjects)
    got = _FINGERPRINTS.get(key)
    if got is None:
        got = f.fingerprint
        if len(_FINGERPRINTS) > _CACHE_LIMIT:
            _FINGERPRINTS.clear()
        _FINGERPRINTS[key] = got
    return got


def finding_lines(case: str, findings: list[Finding] | tuple[Finding, ...]) -> bytes:
    """Return one JSON line per finding, `{"case": case, ...finding.as_json()}`, as UTF-8 bytes."""
    if not findings:
        return b""
    opening = ('{"case": ' + _text(case)).encode("utf-8")
    parts: list[bytes] = []
    for f in findings:
        head, tail = _fixed(f)
        shortfall = f.shortfall
        middle = (
            f'{", ".join(_text(s) for s in f.subjects)}], "measured": {_number(f.measured)}, '
            f'"required": {_number(f.required)}, "op": {_text(f.op)}, "unit": {_text(f.unit)}, '
            f'"shortfall": {_number(shortfall)}, "message": {encode_basestring(f.message)}, "source": {_text(f.source)}, '
            f'"rule_at": {{"file": {_text(f.rule_at.file)}, "line": {f.rule_at.line}, "column": {f.rule_at.column}}}, '
            f'"case_at": {{"file": {_text(f.case_at.file)}, "line": {f.case_at.line}, "column": {f.case_at.column}}}, '
            f'"fingerprint": "{_fingerprint(f)}", "baseline": {"true" if f.baseline else "false"}'
        )
        parts += (opening, head, middle.encode("utf-8"), tail)
    return b"".join(parts)


_PATTERNS: dict[Template, tuple[str, ...]] = {}
# the per-finding values of a line, in order; a template's pattern holds the fixed text around them
_SLOTS = ("subjects", "measured", "required", "shortfall", "message", "case_file", "case_line", "case_column",
          "fingerprint", "baseline", "extras")


def _pattern(t: Template) -> tuple[str, ...]:
    """Return the fixed text of a template's lines around the per-finding values (one piece more than `_SLOTS`)."""
    got = _PATTERNS.get(t)
    if got is None:
        rest = {"baseline": None, "suggestions": [], "title": t.title}
        if t.illustrative is not None:
            rest["illustrative"] = t.illustrative
        tail = json.dumps(rest, ensure_ascii=False)
        tail = tail[tail.index('"suggestions"') - 2:-1]
        got = (
            f', "rule": {_text(t.rule)}, "pack": {_text(t.pack)}, "severity": {_text(t.severity)}, '
            f'"kind": {_text(t.kind)}, "subjects": [', '], "measured": ', ', "required": ',
            f', "op": {_text(t.op)}, "unit": {_text(t.unit)}, "shortfall": ', ', "message": ',
            f', "source": {_text(t.source)}, "rule_at": {{"file": {_text(t.rule_at.file)}, "line": {t.rule_at.line}, '
            f'"column": {t.rule_at.column}}}, "case_at": {{"file": ', ', "line": ', ', "column": ', '}, "fingerprint": "',
            '", "baseline": ', tail, "}\n")
        if len(_PATTERNS) > _CACHE_LIMIT:
            _PATTERNS.clear()
        _PATTERNS[t] = got
    return got


def found_lines(cases: Sequence[str], found: Found, table: Table) -> bytes:
    """Return one JSON line per finding of a batch, `{"case": cases[s], ...}`, in order, as UTF-8 bytes.

    Byte-identical to `finding_lines` on the `Finding`s of the same columns (`Found.findings`).
    The lines are assembled as a matrix of text pieces (each row: the fixed text of its
    template between its values) joined once, so the work per finding is copying, not formatting.
    """
    if not len(found):
        return b""
    ids = table.ids
    quoted = np.array([_text(name) for name in ids.tolist()], dtype=object)
    measured, required = measured_values(found)
    anchor = found.anchor
    extras = [""] * len(found)
    for r in sorted(set(found.exception) | set(found.accepted) | set(found.depth_basis)):
        extras[r] = _extras(found, r)
    values = (
        joined_rows(found.subjects, quoted, ", "), number_texts(measured), number_texts(required),
        number_texts(shortfalls(found)), list(map(encode_basestring, found.messages(ids))),
        np.array([_text(path) for path in table.paths], dtype=object)[table.sec[anchor]],
        table.line[anchor].astype(str), table.column[anchor].astype(str),
        fingerprints(found, found.subject_ids(ids)), np.where(found.baseline, "true", "false"), extras,
    )
    pieces = np.empty((len(found), 2 * len(_SLOTS) + 2), dtype=object)
    pieces[:, 0] = np.array(['{"case": ' + _text(case) for case in cases], dtype=object)[found.sec]
    pieces[:, 1::2] = np.array([_pattern(t) for t in found.templates], dtype=object)[found.template]
    for k, column in enumerate(values):
        pieces[:, 2 * k + 2] = column
    return "".join(pieces.ravel().tolist()).encode("utf-8")


def _extras(found: Found, r: int) -> str:
    """Return the optional keys of row r (exception, accepted, depth_basis) as `as_json` writes them."""
    rest: dict[str, dict[str, str]] = {}
    if r in found.exception:
        rest["exception"] = dict(found.exception[r])
    if r in found.accepted:
        rest["accepted"] = dict(found.accepted[r])
    if r in found.depth_basis:
        rest["depth_basis"] = dict(found.depth_basis[r])
    return ", " + json.dumps(rest, ensure_ascii=False)[1:-1]
