"""Run the benchmark: throughput, latency and memory of `ligging check`, and the peer comparison.

For each size (default 1k, 10k, 100k sections of 20 objects) the seeded generator writes a
JSON Lines file; each measurement then runs in a fresh process (so peak memory is its
own): the batch path of `ligging check FILE --format jsonl -j N` end to end (parse,
evaluate, write JSON), and, for latency, the engine alone on each parsed section. The
peer comparison evaluates the three peer rules (bench/peers.py) with ligging, NumPy,
the NumPy floor, the naive shapely loop and PostGIS on one set, checks that all agree,
and reports the ratios. Results are appended to bench/RESULTS.md as Markdown tables.

    python -m bench.run --sizes 1000 10000 --jobs 1 2
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.generate import sections

ROOT = Path(__file__).resolve().parent.parent


def write_set(path: Path, count: int, objects: int, seed: int) -> None:
    """Write a generated set to `path` (streamed: memory does not grow with count)."""
    with path.open("w", encoding="utf-8") as out:
        for case in sections(count, objects, seed):
            out.write(json.dumps(case, separators=(",", ":")) + "\n")


def measure_batch(path: Path, jobs: int, fmt: str = "jsonl") -> dict[str, Any]:
    """Check a JSON Lines file through the batch path (JSON lines or Parquet), discarding output; return rate and memory."""
    from checker.pipeline import batch

    class Sink(io.RawIOBase):
        """Discard the output, counting finding lines (JSON lines) on the way."""

        lines = 0

        def writable(self) -> bool:
            return True

        def write(self, data: Any) -> int:
            if fmt == "jsonl":
                self.lines += bytes(data).count(b"\n")
            return len(data)

    start = time.perf_counter()
    cpu0 = _cpu()
    done = 0
    sink = Sink()
    with open(os.devnull, "w", encoding="utf-8") as errors:
        def counted() -> Any:
            nonlocal done
            for checked in batch.run_batch([path], [], jobs, fmt=fmt):
                done += checked.sections
                yield checked
        batch.write_batch(counted(), sink, errors, "error", fmt)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    cpu = _cpu() - cpu0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"sections": done, "seconds": elapsed, "rate": done / elapsed, "maxrss_mb": max(own, children) / 1024,
            "cpu_ms": 1000 * cpu / max(done, 1), "per_section": sink.lines / max(done, 1) if fmt == "jsonl" else None}


def _cpu() -> float:
    """Return the CPU seconds used so far by this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure_engine(path: Path, limit: int) -> dict[str, Any]:
    """Time loading and the engine alone on the first `limit` sections (CPU time).

    Loading is timed both ways (the YAML path `parse_case`, the batch's JSON fast path);
    the engine both ways too: `evaluate` one section at a time (its latency, median and
    p95) and `evaluate_many` over chunks of `batch.CHUNK` sections (the batch path).
    """
    from checker.engine.evaluate import Engine
    from checker.io.loader import fast_json_case, parse_case
    from checker.pipeline.batch import CHUNK
    from dsl.packs import load_packs

    engine = Engine(load_packs([]))
    times: list[float] = []
    parse: list[float] = []
    fast: list[float] = []
    sections = []
    with path.open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            if number > limit:
                break
            # CPU time, not wall time: other processes on the machine do not inflate it
            t0 = time.process_time()
            section = parse_case(text, str(path), number - 1)
            t1 = time.process_time()
            if fast_json_case(text, str(path), number - 1) != section:
                raise SystemExit(f"fast load differs from parse_case on line {number}")
            t2 = time.process_time()
            fast_json_case(text, str(path), number - 1)
            t3 = time.process_time()
            engine.evaluate(section)
            times.append(time.process_time() - t3)
            parse.append(t1 - t0)
            fast.append(t3 - t2)
            sections.append(section)
    t0 = time.process_time()
    for start in range(0, len(sections), CHUNK):
        engine.evaluate_many(sections[start:start + CHUNK])
    many = time.process_time() - t0
    times.sort()
    return {"sections": len(times), "rate": len(times) / max(sum(times), 1e-9), "median_ms": 1000 * statistics.median(times),
            "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))], "parse_median_ms": 1000 * statistics.median(parse),
            "fast_median_ms": 1000 * statistics.median(fast), "many_rate": len(sections) / max(many, 1e-9),
            "many_ms": 1000 * many / max(len(sections), 1), "chunk": CHUNK}


def measure_peers(path: Path, limit: int, postgis: bool) -> dict[str, Any]:
    """Evaluate the peer rules every way on the first `limit` sections; check agreement; return timings."""
    from bench.naive import naive_findings
    from bench.peers import columns, floor, ligging_columns, ligging_findings, ligging_tables, numpy_findings, peer_packs
    from checker.engine.evaluate import Engine
    from checker.io.loader import parse_case, parse_json_case
    from checker.pipeline.batch import CHUNK

    with path.open(encoding="utf-8") as lines:
        texts = list(itertools.islice(lines, limit))
    sample = [parse_json_case(text, str(path), n) for n, text in enumerate(texts)]
    if sample != [parse_case(text, str(path), n) for n, text in enumerate(texts)]:
        raise SystemExit("the JSON fast path differs from parse_case")
    engine = Engine(peer_packs())
    # ligging as `ligging check FILE.jsonl` runs: lines read into column tables, checked as columns; warmed as
    # the PostGIS peer is, best of 3
    ligging_columns(engine, ligging_tables(texts[:CHUNK]))
    load = check = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        tables = ligging_tables(texts)
        load = min(load, time.perf_counter() - t)
        t = time.perf_counter()
        ours = ligging_columns(engine, tables)
        check = min(check, time.perf_counter() - t)
    out: dict[str, Any] = {"sections": len(sample), "ligging_load": load, "ligging": check}
    if ligging_findings(engine, sample) != ours:
        raise SystemExit("the columnar findings differ from evaluate_many's")
    t = time.perf_counter()
    cols = columns(sample)
    got = numpy_findings(cols)
    out["numpy"] = time.perf_counter() - t
    t = time.perf_counter()
    floor(columns(sample))
    out["floor"] = time.perf_counter() - t
    t = time.perf_counter()
    naive = naive_findings(sample)
    out["naive"] = time.perf_counter() - t
    out["findings"] = len(ours)
    out["agree_numpy"] = got == ours
    out["agree_naive"] = naive == ours
    if postgis:
        from bench.postgis import postgis_findings

        pg, timing = postgis_findings(cols)
        out["postgis"] = timing["query"]
        out["postgis_load"] = timing["load"]
        out["agree_postgis"] = pg == ours
    return out


def child(kind: str, *args: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its result."""
    code = f"import json, sys; from bench.run import {kind}; print(json.dumps({kind}(*json.loads(sys.argv[1]))))"
    converted: list[Any] = [Path(args[0]), *(json.loads(a) for a in args[1:])]
    payload = json.dumps([str(converted[0]), *converted[1:]])
    wrapped = code.replace(f"{kind}(*json.loads(sys.argv[1]))",
                           f"{kind}(__import__('pathlib').Path(json.loads(sys.argv[1])[0]), *json.loads(sys.argv[1])[1:])")
    done = subprocess.run([sys.executable, "-c", wrapped, payload], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{kind} failed:\n{done.stderr.strip()}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def machine() -> str:
    """Describe the machine: cores, CPU model, Python."""
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    return f"nproc {os.cpu_count()}, CPU {model}, Python {platform.python_version()}, load average at start {load}"


def main(argv: list[str] | None = None) -> None:
    """Run the configured measurements and append the tables to the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1000, 10000, 100000])
    parser.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--formats", nargs="+", default=["jsonl"], choices=["jsonl", "parquet"])
    parser.add_argument("--objects", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-sections", type=int, default=1000)
    parser.add_argument("--peers", type=int, default=10000, help="sections in the peer comparison (0: skip)")
    parser.add_argument("--postgis", action="store_true", help="include PostGIS in the peer comparison")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    command = "python -m bench.run " + " ".join(argv if argv is not None else sys.argv[1:])
    lines = [f"\n## Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n", f"Machine: {machine()}  ",
             f"Command: `{command}`\n"]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            biggest = max([*args.sizes, args.peers, args.latency_sections])
            path = Path(tmp) / "sections.jsonl"
            write_set(path, biggest, args.objects, args.seed)
            if args.sizes:
                lines += ["| sections | format | -j | findings per section | sections/s (end to end, wall) | seconds "
                          "| CPU ms per section | peak RSS MB |", "|---:|---|---:|---:|---:|---:|---:|---:|"]
            for size in args.sizes:
                part = Path(tmp) / f"s{size}.jsonl"
                with path.open(encoding="utf-8") as src, part.open("w", encoding="utf-8") as dst:
                    for text in itertools.islice(src, size):
                        dst.write(text)
                for fmt, jobs in itertools.product(args.formats, args.jobs):
                    r = child("measure_batch", str(part), json.dumps(jobs), json.dumps(fmt))
                    density = "" if r["per_section"] is None else f"{r['per_section']:.1f}"
                    lines.append(f"| {size} | {fmt} | {jobs} | {density} | {r['rate']:.0f} | {r['seconds']:.1f} "
                                 f"| {r['cpu_ms']:.2f} | {r['maxrss_mb']:.0f} |")
                    print(lines[-1], flush=True)
            if args.latency_sections:
                e = child("measure_engine", str(path), json.dumps(args.latency_sections))
                lines += ["", "| engine alone, -j 1, CPU time | sections | sections/s | median ms | p95 ms |",
                          "|---|---:|---:|---:|---:|",
                          f"| `evaluate`, one section at a time | {e['sections']} | {e['rate']:.0f} | {e['median_ms']:.2f} "
                          f"| {e['p95_ms']:.2f} |",
                          f"| `evaluate_many`, chunks of {e['chunk']} | {e['sections']} | {e['many_rate']:.0f} "
                          f"| {e['many_ms']:.2f} (mean) | |",
                          "", "| loading, CPU time per section | median ms |", "|---|---:|",
                          f"| YAML path (`parse_case`) | {e['parse_median_ms']:.2f} |",
                          f"| JSON fast path (`fast_json_case`, used by batch) | {e['fast_median_ms']:.3f} |"]
                print("\n".join(lines[-9:]), flush=True)
            if args.peers:
                p = child("measure_peers", str(path), json.dumps(args.peers), json.dumps(args.postgis))
                n = p["sections"]
                rows = [("ligging (engine, peer pack; load excluded)", p["ligging"]),
                        ("ligging, load + check (JSON lines read into columns)", p["ligging"] + p["ligging_load"]),
                        ("NumPy, all sections at once", p["numpy"]),
                        ("NumPy floor (pairwise gaps only)", p["floor"]), ("naive shapely loop", p["naive"])]
                if "postgis" in p:
                    rows.append(("PostGIS, tuned (queries; load excluded)", p["postgis"]))
                    rows.append(("PostGIS, load + queries (COPY, index, VACUUM ANALYZE)", p["postgis"] + p["postgis_load"]))
                lines += ["", f"Peer rules on {n} sections ({p['findings']} findings, {p['findings'] / n:.1f} per section); "
                          "agreement: numpy "
                          f"{p['agree_numpy']}, naive {p['agree_naive']}"
                          + (f", PostGIS {p['agree_postgis']}" if "agree_postgis" in p else ""), "",
                          "| implementation | seconds | sections/s | ligging / this (throughput ratio; load+check vs "
                          "load+queries) |", "|---|---:|---:|---:|"]
                for name, seconds in rows:
                    ours = p["ligging"] + p["ligging_load"] if "load +" in name else p["ligging"]
                    lines.append(f"| {name} | {seconds:.2f} | {n / seconds:.0f} | {seconds / ours:.2f} |")
                print("\n".join(lines[-len(rows) - 4:]), flush=True)
    finally:
        # what was measured is kept even when a later measurement fails
        with args.out.open("a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
