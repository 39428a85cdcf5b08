"""A case mapping written out as case-file text: YAML for one case, a JSON line per case for a batch.

Importers (DXF drawings, KLIC deliveries) build the plain mapping of a case file
(docs/case-format.md) and write it here. YAML keeps the head in block style and every zone and
object on one flow-style line, so a generated case reads like a hand-written one. The
`save_*` writers parse what they are about to write with the normal loader first and
refuse to write a case that would not load again — a NaN from a broken drawing, a date
that does not exist, too many objects, a name with a control character — naming the file
the case was made from. The text then goes to a temporary file beside the target and is
moved into place, so a crash or a full disk never leaves half a case behind.
"""

from __future__ import annotations

import json
import os
import tempfile
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


def _refuse(out: Path, exc: LiggingError, source: str | None) -> LiggingError:
    """Say that a generated case would not load, and why (data the importer cannot express, or a bug in it).

    The error names the file the case was made from (`source`) when there is one: that is where
    the mistake is, and the output file does not exist.
    """
    return LiggingError(Diagnostic(Span(source or str(out), 1, 1), f"the case would not load again, so {out} was not "
                                                                   f"written: {exc.diagnostic.one_line()}"))


def save_case(case: dict[str, Any], out: Path, source: str | None = None) -> None:
    """Write one case as YAML to `out`, after checking that it loads; `source` names the file it was made from."""
    text = case_yaml(case)
    try:
        parse_case(text, str(out))
    except LiggingError as exc:
        raise _refuse(out, exc, source) from None
    write_atomically(text, out)


def save_lines(cases: Iterable[dict[str, Any]], out: Path, source: str | None = None) -> int:
    """Write cases as JSON Lines to `out`, each checked to load first; return how many were written."""
    lines = []
    for number, case in enumerate(cases, start=1):
        line = case_json(case)
        try:
            parse_json_case(line, str(out), line_offset=number - 1)
        except LiggingError as exc:
            raise _refuse(out, exc, source) from None
        lines.append(line + "\n")
    write_atomically("".join(lines), out)
    return len(lines)


def write_atomically(text: str, out: Path) -> None:
    """Write text to `out` through a temporary file in the same folder, so `out` is never half written.

    A target that exists and is not a regular file (/dev/stdout, a named pipe) is written to
    directly: moving a file over it would replace the device or pipe itself.
    """
    try:
        if out.exists() and not out.is_file():
            with out.open("w", encoding="utf-8") as stream:
                stream.write(text)
            return
        handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.chmod(temporary, _mode(out))
            os.replace(temporary, out)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError as exc:
        raise LiggingError(Diagnostic(Span(str(out), 1, 1), f"cannot write: {exc.strerror or exc}")) from None


def _mode(out: Path) -> int:
    """Return the permissions `out` keeps (an existing file's) or gets (a new file's, after the umask)."""
    try:
        return out.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask
