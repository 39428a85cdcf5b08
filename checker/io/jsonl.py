"""JSON Lines in and out of a batch: lines cut from bytes, findings written as lines.

Reading: `lines(data, first)` cuts a block of a `.jsonl` file into numbered lines; a line
longer than `MAX_LINE_BYTES` (the case-file limit: one line is one case) is refused
before it is decoded, so its size never multiplies in memory.

Writing: `finding_lines(case, findings)` returns the bytes of `{"case": CASE, ...finding}`
lines exactly as `json.dumps(..., ensure_ascii=False)` writes them (the findings contract,
docs/contracts.md), but from fragments: what a rule's findings share (rule, pack, severity, kind,
source, rule_at, title, ...) is encoded once per rule and kept, and only the subjects,
numbers, message, anchor and fingerprint are encoded per finding. The output is
byte-identical to the dict-and-encoder form; `tests/test_jsonl.py` holds it to that.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from json.encoder import encode_basestring

from checker.model.findings import Finding

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
