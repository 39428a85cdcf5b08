"""The `ligging` command line: a thin typer layer over the library.

Every command wires its arguments to library functions and prints their results. All
user-facing errors leave through `fail_input`, which prints one line
`ligging: file:line:col: message` and exits 2; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import NoReturn, Optional

import typer
from rich.console import Console

from checker.engine import Engine
from checker.run import check_paths, exit_code
from checker.textout import print_case, print_total
from dsl.diagnostics import Diagnostic, LiggingError
from dsl.packs import load_packs

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Check where cables and pipes may lie under a Dutch street cross-section.")
STATE = {"debug": False}


class Format(str, Enum):
    text = "text"
    json = "json"


class Severity(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


def fail_input(diagnostic: Diagnostic) -> NoReturn:
    """Print a bad-input diagnostic as one line and exit with 2 (the one error path)."""
    sys.stderr.write(f"ligging: {diagnostic.one_line()}\n")
    sys.exit(2)


@app.callback()
def main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks (for developers).")) -> None:
    """ligging: dwarsprofielen against liggingseisen, NEN 7171 and VKLS."""
    STATE["debug"] = debug


@app.command()
def check(
    paths: list[Path] = typer.Argument(..., help="Case folders, case.yaml files, or directories of cases."),
    pack: Optional[list[str]] = typer.Option(None, "--pack", help="Pack name or .rules file (repeatable); default: all shipped packs."),
    fmt: Format = typer.Option(Format.text, "--format", help="Output format."),
    fail_on: Severity = typer.Option(Severity.error, "--fail-on", help="Lowest severity that makes the exit code 1."),
) -> None:
    """Check cross-sections against rule packs; exit 1 when findings reach --fail-on."""
    engine = Engine(load_packs(list(pack or [])))
    console = Console(highlight=False, soft_wrap=True)
    results = []
    for result in check_paths(paths, engine):
        results.append(result)
        if fmt is Format.json:
            sys.stdout.write(json.dumps(result.as_json(engine), ensure_ascii=False) + "\n")
        else:
            print_case(console, result)
    if fmt is Format.text:
        print_total(console, results)
    raise typer.Exit(exit_code(results, fail_on.value))


def run(argv: list[str] | None = None) -> None:
    """Entry point of the console script: run the app behind the one error path."""
    try:
        code = app(args=argv, standalone_mode=False)
    except LiggingError as exc:
        if STATE["debug"]:
            raise
        fail_input(exc.diagnostic)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("ligging: aborted\n")
        sys.exit(2)
    except Exception as exc:
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            # a usage error from the command-line parser
            sys.stderr.write(f"ligging: usage: {exc.format_message()}\n")
            sys.exit(2)
        if STATE["debug"]:
            raise
        sys.stderr.write(f"ligging: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)\n")
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)
