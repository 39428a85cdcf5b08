"""Coverage-guided fuzzing of the case loader with atheris (run by hand, not by pytest).

Every input must end in a `Section` or a `LiggingError`; any other exception, a crash or a
hang is a finding. Seeds are the shipped cases and the malformed corpus. Run it with

    /work/venv/bin/python tests/fuzz/atheris_case_loader.py -max_total_time=60 -rss_limit_mb=2048

(libFuzzer options after the script name; `-max_len=` bounds the input size).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from checker.io.loader import parse_case
    from dsl.diagnostics import LiggingError

ROOT = Path(__file__).resolve().parents[2]


def test_one_input(data: bytes) -> None:
    """Feed one input to the loader the way `load_case` does: UTF-8 text without NUL bytes."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    if "\x00" in text:
        return
    try:
        parse_case(text, "fuzz.yaml")
    except LiggingError:
        pass


def seed_corpus() -> str:
    """Copy the shipped and the malformed cases into a fresh seed folder; return its path."""
    folder = Path(tempfile.mkdtemp(prefix="ligging-atheris-"))
    seeds = sorted(ROOT.glob("cases/*/case.yaml")) + sorted((ROOT / "tests" / "malformed").glob("*.yaml"))
    for i, path in enumerate(seeds):
        (folder / f"seed-{i:03d}").write_bytes(path.read_bytes())
    return str(folder)


def main() -> None:
    """Run libFuzzer over the loader, seeded with the shipped and malformed cases."""
    atheris.Setup(sys.argv + [seed_corpus()], test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
