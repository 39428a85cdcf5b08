"""Positions and diagnostics shared by the whole tool.

Every AST node and every case object carries a `Span`; every problem the tool reports
about its input — a syntax error in a rule pack, a bad value in a case file, a lint
finding — is a `Diagnostic`. `LiggingError` carries one diagnostic out of the core to
the single error path in the CLI, which prints it as `ligging: file:line:col: message`.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsl.safe_text import printable


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source file; lines and columns count from 1."""

    file: str
    line: int
    column: int
    end_line: int = 0
    end_column: int = 0

    def where(self) -> str:
        """Return `file:line:column` for messages (a file name's control characters shown as escapes)."""
        return f"{printable(self.file)}:{self.line}:{self.column}"

    def as_json(self) -> dict[str, object]:
        """Return the `{"file", "line", "column"}` object of the findings contract."""
        return {"file": self.file, "line": self.line, "column": self.column}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in an input file, with where it is and what was expected."""

    span: Span
    message: str
    severity: str = "error"
    code: str = ""
    source_line: str = ""

    def one_line(self) -> str:
        """Return the diagnostic as `file:line:col: message` on a single line, safe for a terminal."""
        text = printable(" ".join(self.message.split()))
        return f"{self.span.where()}: {text}"

    def with_caret(self) -> str:
        """Return the one-line form followed by the source line and a caret under the column."""
        head = self.one_line()
        if not self.source_line:
            return head
        line = printable(self.source_line.rstrip("\n").expandtabs(1))
        caret = " " * max(self.span.column - 1, 0) + "^"
        return f"{head}\n  {line}\n  {caret}"


class LiggingError(Exception):
    """Bad input: carries the diagnostic that the CLI prints before exiting with 2."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.one_line())
        self.diagnostic = diagnostic


def fail(span: Span, message: str, source_line: str = "") -> LiggingError:
    """Build the error for bad input at `span` (raise the result)."""
    return LiggingError(Diagnostic(span, message, source_line=source_line))


def line_of(text: str, line: int) -> str:
    """Return line number `line` (1-based) of `text`, or '' when out of range."""
    lines = text.splitlines()
    return lines[line - 1] if 0 < line <= len(lines) else ""
