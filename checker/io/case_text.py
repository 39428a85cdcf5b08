"""A case mapping written out as case-file text: YAML for one case, a JSON line per case for a batch.

Importers (DXF drawings, KLIC deliveries) build the plain mapping of a case file
(docs/case-format.md) and write it here. YAML keeps the head in block style and every zone and
object on one flow-style line, so a generated case reads like a hand-written one. The
`save_*` writers parse what they are about to write with the normal loader first and
refuse to write a case that would not load again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from checker.io.loader import parse_case, parse_json_case
from dsl.diagnostics import Diagnostic, LiggingError, Span

FLOW_KEYS = ("zones", "objects")
TAIL_KEYS = ("place",)


def _flow(value: Any) -> str:
    return str(yaml.safe_dump(value, sort_keys=False, allow_unicode=True, default_flow_style=True, width=100_000)).strip()


def case_yaml(case: dict[str, Any]) -> str:
    """Return a case mapping as case.yaml text, one zone and one object per line."""
    head = {k: v for k, v in case.items() if k not in FLOW_KEYS + TAIL_KEYS}
    text = str(yaml.safe_dump(head, sort_keys=False, allow_unicode=True, width=1000))
    for key in FLOW_KEYS:
        if key in case:
            text += f"{key}:\n"
            for item in case[key]:
                text += f"  - {_flow(item)}\n"
    for key in TAIL_KEYS:
        if key in case:
            text += f"{key}: {_flow(case[key])}\n"
    return text


def case_json(case: dict[str, Any]) -> str:
    """Return a case mapping as one JSON line (no newline)."""
    return json.dumps(case, ensure_ascii=False, separators=(",", ":"))


def _refuse(out: Path, exc: LiggingError) -> LiggingError:
    """Say that a generated case would not load, and why (a bug in the importer or data it cannot express)."""
    return LiggingError(Diagnostic(Span(str(out), 1, 1), f"the case would not load again, so it was not written: "
                                                          f"{exc.diagnostic.one_line()}"))


def save_case(case: dict[str, Any], out: Path) -> None:
    """Write one case as YAML to `out`, after checking that it loads."""
    text = case_yaml(case)
    try:
        parse_case(text, str(out))
    except LiggingError as exc:
        raise _refuse(out, exc) from None
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LiggingError(Diagnostic(Span(str(out), 1, 1), f"cannot write: {exc.strerror or exc}")) from None


def save_lines(cases: Iterable[dict[str, Any]], out: Path) -> int:
    """Write cases as JSON Lines to `out`, each checked to load first; return how many were written."""
    lines = []
    for number, case in enumerate(cases, start=1):
        line = case_json(case)
        try:
            parse_json_case(line, str(out), line_offset=number - 1)
        except LiggingError as exc:
            raise _refuse(out, exc) from None
        lines.append(line + "\n")
    try:
        out.write_text("".join(lines), encoding="utf-8")
    except OSError as exc:
        raise LiggingError(Diagnostic(Span(str(out), 1, 1), f"cannot write: {exc.strerror or exc}")) from None
    return len(lines)
