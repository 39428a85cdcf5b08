"""Batch mode: JSON Lines in, one finding per line out, same order with -j 2 and on Dask."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.engine.evaluate import Engine
from checker.io.loader import parse_case
from checker.pipeline import batch
from checker.pipeline.run import discover
from dsl.diagnostics import LiggingError
from dsl.packs import load_packs
from tests.conftest import ROOT

sys.path.insert(0, str(ROOT))

from bench.generate import sections


@pytest.fixture(scope="module")
def jsonl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("batch") / "streets.jsonl"
    lines = [json.dumps(case) for case in sections(40, None, 11)]
    lines.insert(5, "")  # blank lines are skipped, and line numbers still count them
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _expected(path: Path) -> list[dict[str, object]]:
    engine = Engine(load_packs([]))
    out = []
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if text:
            section = parse_case(text, str(path), line_offset=number - 1)
            out.extend({"case": f"{path}:{number}", **f.as_json()} for f in engine.evaluate(section))
    return out


def _run(path: Path, **options: object) -> tuple[list[dict[str, object]], int]:
    got, code, errors = _run_with_errors(path, **options)
    assert errors == ""
    return got, code


def _run_with_errors(path: Path, **options: object) -> tuple[list[dict[str, object]], int, str]:
    out, err = io.BytesIO(), io.StringIO()
    code = batch.write_jsonl(batch.run_batch([path], [], **options), out, err, "error")  # type: ignore[arg-type]
    return [json.loads(line) for line in out.getvalue().decode("utf-8").splitlines()], code, err.getvalue()


def test_jsonl_lines_are_the_engine_findings_with_case_identity(jsonl: Path) -> None:
    got, code = _run(jsonl)
    expected = _expected(jsonl)
    assert got == expected
    assert code == 1
    assert {g["case"] for g in got} >= {f"{jsonl}:1", f"{jsonl}:7"}
    assert f"{jsonl}:6" not in {g["case"] for g in got}
    first = next(g for g in got if g["case"] == f"{jsonl}:7")
    assert first["case_at"]["line"] == 7  # type: ignore[index]


@pytest.mark.parametrize("chunk", [1, 7, 1000])
def test_chunk_size_does_not_change_the_output(jsonl: Path, chunk: int) -> None:
    # each chunk is one columnar pass: boundaries must not leak between sections
    assert _run(jsonl, chunk=chunk)[0] == _expected(jsonl)


def test_two_processes_give_identical_output(jsonl: Path) -> None:
    assert _run(jsonl, jobs=2, chunk=4) == _run(jsonl, jobs=1)


def test_malformed_line_names_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps(next(iter(sections(1, 6, 2))))
    path.write_text(good + "\n" + good + "\n" + '{"ligging": 1 "name": "x"}\n', encoding="utf-8")
    got, code, errors = _run_with_errors(path, jobs=2, chunk=1)
    assert code == 2
    assert errors == f"ligging: {path}:3:15: JSON: Expecting ',' delimiter\n"
    assert {g["case"] for g in got} == {f"{path}:1", f"{path}:2"}
    out = subprocess.run([sys.executable, "-c", "from checker.cli import run; run()", "check", str(path),
                          "--format", "jsonl"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.startswith(f"ligging: {path}:3:15:")
    assert "Traceback" not in out.stderr
    assert [json.loads(line)["case"] for line in out.stdout.splitlines()] == [g["case"] for g in got]


def test_bad_case_value_is_reported_at_its_line(tmp_path: Path) -> None:
    case = next(iter(sections(1, 6, 2)))
    case["width"] = -3
    path = tmp_path / "neg.jsonl"
    path.write_text("\n\n" + json.dumps(case) + "\n", encoding="utf-8")
    got, code, errors = _run_with_errors(path)
    assert (got, code) == ([], 2)
    assert errors.startswith(f"ligging: {path}:3:")


def _good_lines(path: Path) -> list[dict[str, object]]:
    """Return what the batch must print for a file: the findings of every line that loads, in order."""
    engine = Engine(load_packs([]))
    out = []
    for number, raw in enumerate(path.read_bytes().split(b"\n"), start=1):
        try:
            section = parse_case(raw.decode("utf-8"), str(path), line_offset=number - 1) if raw.strip() else None
        except (LiggingError, UnicodeDecodeError):
            continue
        if section is not None:
            out.extend({"case": f"{path}:{number}", **f.as_json()} for f in engine.evaluate(section))
    return out


@pytest.mark.parametrize("jobs, chunk", [(1, 256), (2, 256), (2, 7)])
def test_a_bad_line_drops_no_good_line(tmp_path: Path, jobs: int, chunk: int) -> None:
    # issue 19: a bad line 500 in 1,000 reported as line 500; lines 1-499 and 501-1000 all checked, in order
    texts = [json.dumps(case) for case in sections(1000, 5, 4)]
    texts[499] = '{"ligging": 1 "name": 2}'
    data = "\n".join(texts).encode("utf-8") + b"\n"
    parts = data.split(b"\n")
    parts[4] = parts[4][:30] + b"\xff" + parts[4][31:]  # a bad byte on line 5
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join(parts))
    got, code, errors = _run_with_errors(path, jobs=jobs, chunk=chunk)
    assert code == 2
    assert errors.splitlines() == [f"ligging: {path}:5:31: not UTF-8 text",
                                   f"ligging: {path}:500:15: JSON: Expecting ',' delimiter"]
    assert got == _good_lines(path)
    lines_seen = {int(str(g["case"]).rsplit(":", 1)[1]) for g in got}
    assert max(lines_seen) > 990 and {5, 500}.isdisjoint(lines_seen) and len(lines_seen) > 700


def test_an_over_long_line_is_refused_unread(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 19: a 24 MB line cost 3.6 GB before it was refused; now it is measured, never decoded
    from checker.pipeline import batch as module

    monkeypatch.setattr(module, "MAX_LINE_BYTES", 5000)
    monkeypatch.setattr(module, "READ_BLOCK", 4096)  # the long line spans several blocks
    good = [json.dumps(case) for case in sections(3, 6, 8)]
    long = '{"ligging": 1, "name": "' + "x" * 20_000 + '"}'
    path = tmp_path / "long.jsonl"
    path.write_text("\n".join([good[0], long, good[1], long[:6000]]) + "\n" + good[2], encoding="utf-8")
    got, code, errors = _run_with_errors(path, chunk=2)
    assert code == 2
    assert [line.split(": line is")[0] for line in errors.splitlines()] == [f"ligging: {path}:2:1", f"ligging: {path}:4:1"]
    assert {str(g["case"]) for g in got} <= {f"{path}:1", f"{path}:3", f"{path}:5"}
    assert got == [g for g in _good_lines(path)]


def test_deep_nesting_in_a_line_is_a_one_line_error(tmp_path: Path) -> None:
    # issue 19: a RecursionError (exit 3) before; now the loader's own depth limit, with its place
    path = tmp_path / "deep.jsonl"
    good = json.dumps(next(iter(sections(1, 6, 2))))
    path.write_text("[" * 100_000 + "]" * 100_000 + "\n" + '{"a":' * 5000 + "1" + "}" * 5000 + "\n" + good + "\n")
    got, code, errors = _run_with_errors(path)
    assert code == 2
    assert [e.split(": ", 2)[1] for e in errors.splitlines()] == [f"{path}:1:41", f"{path}:2:201"]
    assert all("nesting deeper than" in e for e in errors.splitlines())
    assert {g["case"] for g in got} == {f"{path}:3"}


def test_case_folders_stream_too() -> None:
    got, code = _run(ROOT / "cases")
    engine = Engine(load_packs([]))
    with_findings = {str(p) for p in (ROOT / "cases").glob("*/case.yaml")
                     if engine.evaluate(parse_case(p.read_text(encoding="utf-8"), str(p)))}
    assert code == 1
    assert {g["case"] for g in got} == with_findings
    order = [str(p) for p in discover([ROOT / "cases"]) if str(p) in with_findings]
    assert list(dict.fromkeys(g["case"] for g in got)) == order


def test_dask_local_cluster_gives_identical_output(jsonl: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        assert _run(jsonl, engine="dask", scheduler=cluster.scheduler_address, chunk=8) == _run(jsonl, jobs=1)


def test_parquet_rows_are_the_jsonl_lines(jsonl: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    expected, code = _run(jsonl)
    for jobs in (1, 2):
        target = tmp_path / f"out{jobs}.parquet"
        with target.open("wb") as out:
            err = io.StringIO()
            got_code = batch.write_batch(batch.run_batch([jsonl], [], jobs=jobs, chunk=6, fmt="parquet"), out, err,
                                         "error", "parquet")
        assert (got_code, err.getvalue()) == (code, "")
        rows = pq.read_table(target).to_pylist()
        assert len(rows) == len(expected)
        for row, line in zip(rows, expected, strict=True):
            assert row["case"] == line["case"] and row["subjects"] == line["subjects"]
            for key in ("rule", "pack", "severity", "kind", "measured", "required", "op", "unit", "shortfall", "message",
                        "source", "fingerprint", "baseline", "title"):
                assert row[key] == line[key], key
            assert (row["case_line"], row["case_column"]) == (line["case_at"]["line"], line["case_at"]["column"])  # type: ignore[index]
            assert row["exception"] == (json.dumps(line["exception"], ensure_ascii=False) if "exception" in line else None)
            assert row["section"].startswith("bench section") and row["station"] is None


def test_spill_files_are_spliced_and_removed(jsonl: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # pool workers write their chunk's lines to files of their own; the parent copies them in order and removes them
    import tempfile

    spills = tmp_path / "spills"
    spills.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spills))
    seen = []
    out, err = io.BytesIO(), io.StringIO()
    results = batch.run_batch([jsonl], [], jobs=2, chunk=5)
    for done in results:
        seen.append(done.spill)
        batch.write_batch([done], out, err, "error")
    assert any(seen) and all(s is None or not Path(s).exists() for s in seen)
    assert list(spills.iterdir()) == []
    assert [json.loads(line) for line in out.getvalue().decode("utf-8").splitlines()] == _expected(jsonl)
