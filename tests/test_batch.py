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
    out = io.StringIO()
    code = batch.write_jsonl(batch.run_batch([path], [], **options), out, "error")  # type: ignore[arg-type]
    return [json.loads(line) for line in out.getvalue().splitlines()], code


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
    with pytest.raises(LiggingError) as err:
        _run(path, jobs=2, chunk=1)
    span = err.value.diagnostic.span
    assert (span.file, span.line, span.column) == (str(path), 3, 15)
    out = subprocess.run([sys.executable, "-c", "from checker.cli import run; run()", "check", str(path),
                          "--format", "jsonl"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.startswith(f"ligging: {path}:3:15:")
    assert "Traceback" not in out.stderr


def test_bad_case_value_is_reported_at_its_line(tmp_path: Path) -> None:
    case = next(iter(sections(1, 6, 2)))
    case["width"] = -3
    path = tmp_path / "neg.jsonl"
    path.write_text("\n\n" + json.dumps(case) + "\n", encoding="utf-8")
    with pytest.raises(LiggingError) as err:
        _run(path)
    assert err.value.diagnostic.span.line == 3


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
