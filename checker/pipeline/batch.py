"""Check many sections in one run: JSON Lines input, parallel workers, a Dask cluster.

A batch is a list of items, each one section: a line of a `.jsonl` file (one case
mapping per line, docs/case-format.md; its identity is `file.jsonl:LINE`) or a case.yaml found
as `ligging check` finds it. JSON lines load by the loader's fast path (`fast_json_case`,
falling back to the YAML path for anything unusual). Items are checked in chunks, each
chunk in one columnar pass of the engine (`Engine.evaluate_many`), locally in this process
(`jobs=1`), in a pool of worker processes, or on a Dask distributed cluster; each
worker compiles the packs once. Results come back in input order, one JSON line per
finding (`{"case": identity, ...finding}`), and at most a few chunks per worker are in
flight, so memory stays flat however many sections the batch holds. Suggestions are
left out: each one costs many re-evaluations of its section (run `ligging check` on a
case for them).
"""

from __future__ import annotations

import json
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from checker.engine.evaluate import Engine
from checker.io.loader import load_case, parse_json_case
from checker.model.findings import SEVERITIES, Finding, counts
from checker.model.section import Section
from checker.pipeline.run import discover
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import load_packs

# sections per columnar pass: evaluate_many has a fixed cost of a few ms per call (bench/RESULTS.md)
CHUNK = 256
IN_FLIGHT_PER_WORKER = 3
NONE_COUNTING = len(SEVERITIES)
# json.dumps(..., ensure_ascii=False) builds a new encoder per call; one encoder serves every finding line
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


@dataclass(frozen=True, slots=True)
class Item:
    """One section to check: its identity, and either its JSON text (with its line) or its case file."""

    case: str
    path: str
    line: int = 0
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Checked:
    """A checked section: its finding lines and the most severe counting finding's rank.

    `text` is the section's JSON lines joined, each ending in a newline ("" without
    findings): one string pickles between processes far faster than one per finding.
    """

    case: str
    text: str
    worst: int


def items(paths: list[Path]) -> Iterator[Item]:
    """Yield the sections named by `paths`: every non-blank line of a .jsonl file, or each case.yaml."""
    for path in paths:
        if path.is_file() and path.suffix == ".jsonl":
            yield from _jsonl(path)
        else:
            for file in discover([path]):
                yield Item(str(file), str(file))


def _jsonl(path: Path) -> Iterator[Item]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise LiggingError(Diagnostic(Span(str(path), 1, 1), f"cannot read: {exc.strerror or exc}")) from None
    with handle:
        number = 0
        try:
            for number, text in enumerate(handle, start=1):
                if text.strip():
                    yield Item(f"{path}:{number}", str(path), number, text)
        except UnicodeDecodeError:
            raise LiggingError(Diagnostic(Span(str(path), number + 1, 1), "not UTF-8 text")) from None


def count(paths: list[Path]) -> int:
    """Return how many sections `paths` hold (reads .jsonl files once, without parsing)."""
    return sum(1 for _ in items(paths))


def load_item(item: Item) -> Section:
    """Load one section; a bad section raises `LiggingError` naming file:line:column."""
    if item.text is None:
        return load_case(Path(item.path))
    return parse_json_case(item.text, item.path, line_offset=item.line - 1)


def _checked(case: str, findings: list[Finding]) -> Checked:
    lines = []
    worst = NONE_COUNTING
    for finding in findings:
        lines.append(_ENCODE({"case": case, **finding.as_json()}) + "\n")
        if counts(finding):
            worst = min(worst, SEVERITIES.index(finding.severity))
    return Checked(case, "".join(lines), worst)


def check_chunk(engine: Engine, chunk: list[Item]) -> list[Checked] | Diagnostic:
    """Check a chunk in order, all its sections in one columnar pass (`Engine.evaluate_many`).

    Returns the first bad section's diagnostic instead of raising it: the diagnostic
    (plain frozen data) crosses process boundaries; the exception would not.
    """
    try:
        sections = [load_item(item) for item in chunk]
    except LiggingError as exc:
        return exc.diagnostic
    found = engine.evaluate_many(sections)
    return [_checked(item.case, findings) for item, findings in zip(chunk, found, strict=True)]


_ENGINES: dict[tuple[str, ...], Engine] = {}


def _engine(packs: tuple[str, ...]) -> Engine:
    """Return this process's engine for a pack set, compiling it on first use."""
    got = _ENGINES.get(packs)
    if got is None:
        got = Engine(load_packs(list(packs)))
        _ENGINES[packs] = got
    return got


def remote_chunk(packs: tuple[str, ...], chunk: list[Item]) -> list[Checked] | Diagnostic:
    """Check a chunk in a worker process (pool or Dask), with the worker's cached engine."""
    return check_chunk(_engine(packs), chunk)


def _chunks(source: Iterable[Item], size: int) -> Iterator[list[Item]]:
    chunk: list[Item] = []
    for item in source:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _unwrap(result: list[Checked] | Diagnostic) -> list[Checked]:
    if isinstance(result, Diagnostic):
        raise LiggingError(result)
    return result


def run_batch(paths: list[Path], packs: list[str], jobs: int = 1, engine: str = "local",
              scheduler: str | None = None, chunk: int = CHUNK) -> Iterator[Checked]:
    """Yield every section's result in input order, checked locally, in `jobs` processes, or on Dask."""
    refs = tuple(packs)
    chunks = _chunks(items(paths), chunk)
    if engine == "dask":
        if not scheduler:
            raise LiggingError(Diagnostic(Span("<command line>", 1, 1), "--engine dask needs --scheduler ADDRESS"))
        yield from _dask(refs, chunks, scheduler)
    elif jobs <= 1:
        local = _engine(refs)
        for part in chunks:
            yield from _unwrap(check_chunk(local, part))
    else:
        yield from _pool(refs, chunks, jobs)


def _pool(refs: tuple[str, ...], chunks: Iterator[list[Item]], jobs: int) -> Iterator[Checked]:
    """Run chunks on a process pool, a bounded window ahead of the consumer."""
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with context.Pool(jobs) as pool:
        window: deque[Any] = deque()
        for part in chunks:
            window.append(pool.apply_async(remote_chunk, (refs, part)))
            if len(window) >= jobs * IN_FLIGHT_PER_WORKER:
                yield from _unwrap(window.popleft().get())
        while window:
            yield from _unwrap(window.popleft().get())


def _dask(refs: tuple[str, ...], chunks: Iterator[list[Item]], scheduler: str) -> Iterator[Checked]:
    """Run chunks on a Dask distributed cluster, a bounded window ahead of the consumer."""
    try:
        from distributed import Client
    except ImportError:
        raise LiggingError(Diagnostic(Span("<command line>", 1, 1),
                                      "--engine dask needs dask[distributed] (pip install 'ligging[dask]')")) from None
    try:
        client = Client(scheduler, timeout=10, set_as_default=False)  # type: ignore[no-untyped-call]
    except OSError as exc:
        raise LiggingError(Diagnostic(Span("<command line>", 1, 1), f"cannot reach Dask scheduler {scheduler}: {exc}")) from None
    with client:
        workers = max(len(client.scheduler_info().get("workers", {})), 1)
        window: deque[Any] = deque()
        for part in chunks:
            window.append(client.submit(remote_chunk, refs, part, pure=False))
            if len(window) >= workers * IN_FLIGHT_PER_WORKER:
                yield from _unwrap(window.popleft().result())
        while window:
            yield from _unwrap(window.popleft().result())


def write_jsonl(results: Iterable[Checked], out: TextIO, fail_on: str) -> int:
    """Write each finding line as it arrives; return the exit code (1 when a counting finding reaches `fail_on`)."""
    limit = SEVERITIES.index(fail_on)
    code = 0
    for checked in results:
        out.write(checked.text)
        out.flush()
        if checked.worst <= limit:
            code = 1
    return code
