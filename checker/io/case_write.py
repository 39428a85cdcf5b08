"""Write a case that an importer made, only after the case loader has accepted it.

Importers (DXF drawings, KLIC deliveries) build a case as a plain mapping from someone
else's file. Whatever they produce goes through the same loader `ligging check` uses
before a byte is written: a case that would not load — a NaN from a broken drawing, a
date that does not exist, too many objects, an attribute of the wrong kind — is refused
with the loader's own message, and the output file is left as it was. The text is then
written to a temporary file beside the target and moved into place, so a crash or a full
disk never leaves half a case behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from checker.io.loader import parse_case
from checker.model.section import Section
from dsl.diagnostics import Diagnostic, LiggingError, Span


def case_yaml(case: Mapping[str, Any]) -> str:
    """Return a case mapping as case.yaml text, one zone and one object per line."""
    head = {k: v for k, v in case.items() if k not in ("zones", "objects")}
    text = str(yaml.safe_dump(head, sort_keys=False, allow_unicode=True, width=1000))
    for key in ("zones", "objects"):
        text += f"{key}:\n"
        for item in case.get(key, ()):
            line = yaml.safe_dump(item, sort_keys=False, allow_unicode=True, default_flow_style=True, width=100_000).strip()
            text += f"  - {line}\n"
    return text


def validated(text: str, out: Path, source: str, line_offset: int = 0) -> Section:
    """Load case text that is about to be written to `out`; refuse it, naming `source`, when the loader would.

    `line_offset` places the text inside a larger file (a line of a JSON Lines batch).
    """
    try:
        return parse_case(text, str(out), line_offset)
    except LiggingError as exc:
        found = exc.diagnostic
        raise LiggingError(Diagnostic(Span(source, 1, 1), f"nothing written to {out}: the case made from this file "
                                      f"would not load (line {found.span.line}: {found.message})")) from None


def write_text_atomically(text: str, out: Path) -> None:
    """Write text to `out` through a temporary file in the same folder, so `out` is never half written.

    A target that exists and is not a regular file (/dev/stdout, a named pipe) is written
    to directly: moving a file over it would replace the device or pipe itself.
    """
    if out.exists() and not out.is_file():
        try:
            with out.open("w", encoding="utf-8") as stream:
                stream.write(text)
        except OSError as exc:
            raise LiggingError(Diagnostic(Span(str(out), 1, 1), f"cannot write: {exc.strerror or exc}")) from None
        return
    try:
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


def write_checked_case(case: Mapping[str, Any], out: Path, source: str) -> Section:
    """Validate a case mapping with the case loader, then write it to `out`; return the loaded section.

    The one "validate before write" of every importer: `source` names the file the case was
    made from, for the error when the loader refuses it (and nothing is written then).
    """
    text = case_yaml(case)
    section = validated(text, out, source)
    write_text_atomically(text, out)
    return section
