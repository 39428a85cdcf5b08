"""Find the cases a user named and check them: the library behind `ligging check`.

A path may be a case folder (holding case.yaml), a case.yaml itself, a directory of
case folders (searched one level down, sorted, so output order is stable), or a JSON Lines
batch (`FILE.jsonl`, one case per line, each checked as `FILE.jsonl:LINE`).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

from checker.advice.suggest import suggest_all
from checker.engine.evaluate import Engine
from checker.io.loader import load_case, parse_json_case
from checker.model.findings import SEVERITIES, CaseResult, counts
from checker.model.section import Section
from dsl.diagnostics import Diagnostic, LiggingError, Span


def _in_folder(folder: Path) -> list[Path]:
    """Return a case folder's case.yaml, or else its JSON Lines batches (a folder of many sections)."""
    if (folder / "case.yaml").is_file():
        return [folder / "case.yaml"]
    return sorted(p for p in folder.glob("*.jsonl") if p.is_file())


def discover(paths: list[Path]) -> list[Path]:
    """Expand the given paths into case.yaml files, in a stable order; a folder without one gives its .jsonl batches."""
    found: list[Path] = []
    for path in paths:
        if path.is_file():
            found.append(path)
        elif path.is_dir() and _in_folder(path):
            found.extend(_in_folder(path))
        elif path.is_dir():
            try:
                inner = sorted(p / "case.yaml" for p in path.iterdir() if (p / "case.yaml").is_file())
            except OSError as exc:
                raise LiggingError(Diagnostic(Span(str(path), 1, 1), f"cannot list: {exc.strerror or exc}")) from None
            if not inner:
                raise LiggingError(Diagnostic(Span(str(path), 1, 1), "no case.yaml here or in its subfolders"))
            found.extend(inner)
        else:
            raise LiggingError(Diagnostic(Span(str(path), 1, 1), "no such file or directory"))
    return found


def check_paths(paths: list[Path], engine: Engine, suggestions: bool = True, at: int | None = None) -> Iterator[CaseResult]:
    """Load and check each case in turn (a bad case stops the run with its error); `suggestions` adds them.

    `at` checks each street as it stands in that year (`checker.model.moment`), not in the year of its works.
    """
    from checker.pipeline.batch import sections

    for path in paths:
        loaded: Iterator[tuple[str, Section]]
        if (path.suffix == ".jsonl" and path.is_file()) or path.is_dir():
            # a batch, or a folder that may hold case folders or batches: one item per section
            loaded = sections([path], at)
        else:
            loaded = ((str(file), load_case(file, at=at)) for file in discover([path]))
        for where, section in loaded:
            findings = engine.evaluate(section)
            if not suggestions:
                yield CaseResult(section, where, tuple(findings))
                continue
            got = suggest_all(engine, section, findings)
            yield CaseResult(section, where, got.findings, (got.note(),) if got.unsearched else ())


def load_one(path: Path) -> Section:
    """Load the one case a single-case command names: a case folder or file, FILE.jsonl:LINE, or a one-line FILE.jsonl."""
    named = re.fullmatch(r"(.+\.jsonl):([0-9]+)", str(path))
    if named is not None and not path.exists():
        file, wanted = Path(named.group(1)), int(named.group(2))
        for number, text in _json_lines(file):
            if number == wanted:
                return parse_json_case(text, str(file), line_offset=number - 1)
        raise LiggingError(Diagnostic(Span(str(file), wanted, 1), "no section on this line"))
    if path.suffix == ".jsonl" and path.is_file():
        found = list(itertools.islice(_json_lines(path), 2))
        if len(found) > 1:
            raise LiggingError(Diagnostic(Span(str(path), found[1][0], 1),
                                          f"holds more than one section; name one as {path}:LINE"))
        if not found:
            raise LiggingError(Diagnostic(Span(str(path), 1, 1), "holds no section"))
        number, text = found[0]
        return parse_json_case(text, str(path), line_offset=number - 1)
    return load_case(path)


def _json_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Yield the non-blank lines of a JSON Lines file with their numbers, reading one line at a time."""
    try:
        with path.open(encoding="utf-8") as handle:
            number = 0
            try:
                for number, text in enumerate(handle, start=1):
                    if text.strip():
                        yield number, text
            except UnicodeDecodeError:
                raise LiggingError(Diagnostic(Span(str(path), number + 1, 1), "not UTF-8 text")) from None
    except OSError as exc:
        raise LiggingError(Diagnostic(Span(str(path), 1, 1), f"cannot read: {exc.strerror or exc}")) from None


def exit_code(results: list[CaseResult], fail_on: str) -> int:
    """Return 1 when any counting finding is at or above `fail_on`, else 0."""
    limit = SEVERITIES.index(fail_on)
    for result in results:
        for finding in result.findings:
            if counts(finding) and SEVERITIES.index(finding.severity) <= limit:
                return 1
    return 0
