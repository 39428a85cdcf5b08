"""Check many sections in one run: JSON Lines input, parallel workers, a Dask cluster.

A batch is a list of sections: the lines of `.jsonl` files (one case mapping per line,
docs/case-format.md; its identity is `file.jsonl:LINE`) and case.yaml files found as `ligging check`
finds them. The parent cuts the input into chunks without decoding it: a byte range of a
`.jsonl` file holding up to `CHUNK` lines (`plan`), or a few case files. Each chunk is
checked in one columnar pass of the engine (`Engine.evaluate_many`) — here (`jobs=1`), in
a pool of forked worker processes that inherit the engine compiled once by the parent, or
on a Dask cluster. A worker reads its own byte range and writes its chunk's finding lines
to its own spill file; the parent splices the spill files to the output in input order,
so no finding crosses a process boundary as a Python object. At most a few chunks per
worker are in flight, so memory stays flat however many sections the batch holds.

A bad line never costs a good one: it is reported with its own line number (a line over
`MAX_LINE_BYTES` without being read into memory, a line that is not UTF-8 at the line of
the bad byte), every other line is checked and its findings printed in order, and the
run ends with exit code 2. Suggestions are left out: each one costs many re-evaluations
of its section (run `ligging check` on a case for them).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TextIO

import numpy as np

from checker.engine.evaluate import Engine
from checker.io.columns import Columns, read_chunk
from checker.io.jsonl import MAX_LINE_BYTES, found_lines
from checker.io.loader import load_case
from checker.model.findings import SEVERITIES
from checker.model.found import Found
from checker.model.section import Section
from checker.model.table import Table
from checker.pipeline.run import discover
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import load_packs

# sections per columnar pass: evaluate_many has a fixed cost of a few ms per call (bench/RESULTS.md)
CHUNK = 256
IN_FLIGHT_PER_WORKER = 3
NONE_COUNTING = len(SEVERITIES)
READ_BLOCK = 1 << 20
# a chunk is cut early when its lines are large, so a worker never holds much more than this
CHUNK_BYTES = 16 << 20


@dataclass(frozen=True, slots=True)
class Chunk:
    """A unit of work: lines `first`.. of a .jsonl file at bytes [start, end), or case files, or a refused line."""

    path: str
    start: int = 0
    end: int = 0
    first: int = 0
    files: tuple[str, ...] = ()
    refused: Diagnostic | None = None


@dataclass(frozen=True, slots=True)
class Done:
    """A checked chunk: how many sections it held, its finding lines, the worst counting rank, its bad lines.

    The finding lines are `output` (in memory) or the bytes of the file `spill` (a pool
    worker's; the parent splices and removes it).
    """

    sections: int
    worst: int
    errors: tuple[Diagnostic, ...]
    output: bytes = b""
    spill: str | None = None


def plan(paths: list[Path], size: int = CHUNK) -> Iterator[Chunk]:
    """Yield the chunks of `paths` in input order: byte ranges of .jsonl files, groups of case files."""
    files: list[str] = []
    for path in paths:
        if path.is_file() and path.suffix == ".jsonl":
            if files:
                yield Chunk(files[0], files=tuple(files))
                files = []
            yield from _ranges(path, size)
            continue
        for file in discover([path]):
            if file.suffix == ".jsonl":
                # a case folder holding batches instead of a case.yaml
                if files:
                    yield Chunk(files[0], files=tuple(files))
                    files = []
                yield from _ranges(file, size)
                continue
            files.append(str(file))
            if len(files) == size:
                yield Chunk(files[0], files=tuple(files))
                files = []
    if files:
        yield Chunk(files[0], files=tuple(files))


def _ranges(path: Path, size: int) -> Iterator[Chunk]:
    """Cut a .jsonl file into byte ranges of at most `size` lines; refuse lines over the byte limit unread.

    Only line ends are looked for here, a block at a time: nothing is decoded or kept.
    """
    shown = str(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise LiggingError(Diagnostic(Span(shown, 1, 1), f"cannot read: {exc.strerror or exc}")) from None
    with handle:
        start, first, lines_in = 0, 1, 0  # the chunk being cut: its first byte, first line, lines so far
        number, line_start, read = 1, 0, 0  # the current line: its number and first byte; bytes read so far
        while data := handle.read(READ_BLOCK):
            base = read
            read += len(data)
            position = data.find(b"\n")
            while position >= 0:
                end = base + position + 1
                if end - 1 - line_start > MAX_LINE_BYTES:
                    yield from _refuse(shown, start, line_start, first, number, end - 1 - line_start)
                    start, first, lines_in = end, number + 1, 0
                else:
                    lines_in += 1
                    if lines_in == size or end - start >= CHUNK_BYTES:
                        yield Chunk(shown, start, end, first)
                        start, first, lines_in = end, number + 1, 0
                number += 1
                line_start = end
                position = data.find(b"\n", position + 1)
        if read - line_start > MAX_LINE_BYTES:
            yield from _refuse(shown, start, line_start, first, number, read - line_start)
        elif read > start:
            yield Chunk(shown, start, read, first)


def _refuse(path: str, start: int, line_start: int, first: int, number: int, length: int) -> Iterator[Chunk]:
    """Yield the lines before an over-long line, then the refusal of that line."""
    if line_start > start:
        yield Chunk(path, start, line_start, first)
    message = f"line is {length} bytes; a JSON line is one case and is limited to {MAX_LINE_BYTES} bytes"
    yield Chunk(path, refused=Diagnostic(Span(path, number, 1), message))


def count(paths: list[Path]) -> int:
    """Return how many sections `paths` hold (reads .jsonl files once, without parsing)."""
    total = 0
    for path in paths:
        if path.is_file() and path.suffix == ".jsonl":
            try:
                with path.open("rb") as handle:
                    for data in iter(lambda h=handle: h.read(READ_BLOCK), b""):  # type: ignore[misc]
                        total += data.count(b"\n")
            except OSError:
                continue
        else:
            total += len(discover([path]))
    return total


def _read(chunk: Chunk) -> bytes:
    """Return the bytes of a chunk's range of its .jsonl file."""
    try:
        with open(chunk.path, "rb") as handle:
            handle.seek(chunk.start)
            return handle.read(chunk.end - chunk.start)
    except OSError as exc:
        raise LiggingError(Diagnostic(Span(chunk.path, chunk.first, 1), f"cannot read: {exc.strerror or exc}")) from None


def read(chunk: Chunk, at: int | None = None) -> Columns:
    """Read a chunk into one table, each section as the street stands in year `at` (bad lines become diagnostics).

    A `.jsonl` byte range goes through the column reader (`checker.io.columns`), which
    sends only the lines it cannot judge to the exact per-line path; case files are loaded
    one by one and made into a table.
    """
    if chunk.refused is not None:
        return Columns(Table.of([]), [], [chunk.refused])
    if not chunk.files:
        return read_chunk(_read(chunk), chunk.path, chunk.first, at)
    good: list[Section] = []
    cases: list[str] = []
    bad: list[Diagnostic] = []
    for file in chunk.files:
        try:
            good.append(load_case(Path(file), at=at))
            cases.append(file)
        except LiggingError as exc:
            bad.append(exc.diagnostic)
    return Columns(Table.of(good), cases, bad)


def load(chunk: Chunk, at: int | None = None) -> tuple[list[tuple[str, Section]], list[Diagnostic]]:
    """Load a chunk's sections (each as the street stands in year `at`) with their identities.

    Each bad one becomes a diagnostic; the rest still load.
    """
    got = read(chunk, at)
    return [(case, got.table.section(s)) for s, case in enumerate(got.cases)], list(got.errors)


def sections(paths: list[Path], at: int | None = None) -> Iterator[tuple[str, Section]]:
    """Yield every section `paths` name with its identity, in input order; the first bad one raises its error."""
    for chunk in plan(paths):
        good, bad = load(chunk, at)
        if bad:
            raise LiggingError(bad[0])
        yield from good


def _worst(found: Found) -> int:
    """Return the rank of the most severe counting finding (NONE_COUNTING without one)."""
    counting = ~found.baseline
    for r, fields in found.accepted.items():
        if dict(fields).get("state") == "accepted":
            counting[r] = False
    if not counting.any():
        return NONE_COUNTING
    ranks = np.array([SEVERITIES.index(t.severity) for t in found.templates], dtype=np.intp)
    return int(ranks[found.template[counting]].min())


def check_chunk(engine: Engine, chunk: Chunk, spill: str | None = None, fmt: str = "jsonl") -> Done:
    """Check a chunk in one columnar pass; its output (JSON lines or an Arrow stream) goes to `spill`, or into the result.

    From the bytes of the chunk to the bytes of its output the sections and findings stay
    columns: no `Obj` or `Finding` is built unless an exception or an exact shape needs one.
    """
    got = read(chunk)
    found = engine.check(got.table)
    if fmt == "parquet":
        from checker.io.parquet import chunk_bytes

        output = chunk_bytes(got.cases, found, got.table)
    else:
        output = found_lines(got.cases, found, got.table)
    worst = _worst(found)
    if spill is not None and output:
        with open(spill, "wb") as handle:
            handle.write(output)
        return Done(len(got.cases), worst, tuple(got.errors), spill=spill)
    return Done(len(got.cases), worst, tuple(got.errors), output=output)


_ENGINES: dict[tuple[str, ...], Engine] = {}


def _engine(packs: tuple[str, ...]) -> Engine:
    """Return this process's engine for a pack set, compiling it on first use (forked workers inherit it)."""
    got = _ENGINES.get(packs)
    if got is None:
        got = Engine(load_packs(list(packs)))
        _ENGINES[packs] = got
    return got


def remote_chunk(packs: tuple[str, ...], chunk: Chunk, spill: str | None = None, fmt: str = "jsonl") -> Done:
    """Check a chunk in a worker process (pool or Dask), with the worker's engine."""
    return check_chunk(_engine(packs), chunk, spill, fmt)


def run_batch(paths: list[Path], packs: list[str], jobs: int = 1, engine: str = "local",
              scheduler: str | None = None, chunk: int = CHUNK, fmt: str = "jsonl") -> Iterator[Done]:
    """Yield every chunk's result in input order, checked locally, in `jobs` processes, or on Dask.

    `fmt` is what each chunk's output holds: finding lines ("jsonl") or an Arrow IPC stream ("parquet").
    """
    refs = tuple(packs)
    local = _engine(refs)  # compiled here, once: a bad pack fails before any work starts
    chunks = plan(paths, chunk)
    if engine == "dask":
        if not scheduler:
            raise LiggingError(Diagnostic(Span("<command line>", 1, 1), "--engine dask needs --scheduler ADDRESS"))
        yield from _dask(refs, chunks, scheduler, fmt)
    elif jobs <= 1:
        for part in chunks:
            yield check_chunk(local, part, None, fmt)
    else:
        yield from _pool(refs, chunks, jobs, fmt)


def _pool(refs: tuple[str, ...], chunks: Iterator[Chunk], jobs: int, fmt: str) -> Iterator[Done]:
    """Run chunks on a process pool, a bounded window ahead of the consumer; each result spills to a file."""
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    folder = tempfile.mkdtemp(prefix="ligging-batch-")
    try:
        with context.Pool(jobs) as pool:
            window: deque[Any] = deque()
            for n, part in enumerate(chunks):
                window.append(pool.apply_async(remote_chunk, (refs, part, os.path.join(folder, f"{n}.out"), fmt)))
                if len(window) >= jobs * IN_FLIGHT_PER_WORKER:
                    yield window.popleft().get()
            while window:
                yield window.popleft().get()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _dask(refs: tuple[str, ...], chunks: Iterator[Chunk], scheduler: str, fmt: str) -> Iterator[Done]:
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
            window.append(client.submit(remote_chunk, refs, part, None, fmt, pure=False))
            if len(window) >= workers * IN_FLIGHT_PER_WORKER:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()


def _splice(done: Done, out: BinaryIO) -> None:
    """Write a chunk's finding lines: from memory, or from its spill file (then removed)."""
    if done.spill is None:
        out.write(done.output)
        return
    with open(done.spill, "rb") as handle:
        shutil.copyfileobj(handle, out, READ_BLOCK)
    os.unlink(done.spill)


def _stream(done: Done) -> bytes:
    """Return a chunk's output bytes: from memory, or read from its spill file (then removed)."""
    if done.spill is None:
        return done.output
    with open(done.spill, "rb") as handle:
        data = handle.read()
    os.unlink(done.spill)
    return data


def write_batch(results: Iterable[Done], out: BinaryIO, err: TextIO, fail_on: str, fmt: str = "jsonl") -> int:
    """Write each chunk's output and bad lines as they arrive, in input order; return the exit code.

    JSON lines are spliced to `out` as they come; for "parquet" each chunk's Arrow stream
    becomes row groups of one Parquet file. The code is 2 when any line was bad (after every
    good one was checked and written), else 1 when a counting finding reaches `fail_on`, else 0.
    """
    limit = SEVERITIES.index(fail_on)
    code = 0
    bad = False
    table = None
    if fmt == "parquet":
        from checker.io.parquet import ParquetOut

        table = ParquetOut(out)
    try:
        for done in results:
            if table is None:
                _splice(done, out)
                out.flush()
            else:
                data = _stream(done)
                if data:
                    table.write(data)
            for diagnostic in done.errors:
                err.write(f"ligging: {diagnostic.one_line()}\n")
                bad = True
            if done.errors:
                err.flush()
            if done.worst <= limit:
                code = 1
    finally:
        if table is not None:
            table.close()
    return 2 if bad else code


def write_jsonl(results: Iterable[Done], out: BinaryIO, err: TextIO, fail_on: str) -> int:
    """Write the finding lines of each chunk as they arrive (`write_batch` for JSON lines); return the exit code."""
    return write_batch(results, out, err, fail_on)
