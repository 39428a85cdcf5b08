"""Hostile and mangled KLIC deliveries: each ends in a case or in one line with exit 2, nothing written.

`tests/malformed-imkl/` holds one file per way a delivery can be broken or hostile
(entities, external DTDs, zip bombs, truncation, foreign versions and reference systems);
each is run through the real CLI in a forked child (`tests.test_malformed.run_cli`). The
fuzz tests mutate an IMKL 2.0 fixture line by line, and feed random bytes, to the reader
and the cut: a section or a `LiggingError`, never another exception. Run them longer by hand
with `LIGGING_EXAMPLES=2000` (and `--hypothesis-seed=N`).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.io.imkl.cut import Cutter
from checker.io.imkl.reader import read_delivery
from dsl.diagnostics import LiggingError
from dsl.packs import load_packs
from tests.conftest import ROOT, examples
from tests.test_malformed import assert_refused, run_cli, snapshot

CORPUS = Path(__file__).resolve().parent / "malformed-imkl"
FILES = sorted(p.name for p in CORPUS.iterdir())
LINE = "155020,388014 155020,388026"
NEN = load_packs(["nen7171"])
FIXTURE = ROOT / "tests" / "data" / "imkl" / "imkl2" / "container.xml"


def test_the_corpus_covers_each_family() -> None:
    for family in ("billion-laughs", "external-entity", "external-dtd", "truncated", "imkl-1.2", "imkl-unknown-version",
                   "poslist-", "srs-", "zip-bomb", "zip-without-gi", "deep-nesting", "empty"):
        assert any(name.startswith(family) for name in FILES), family


@pytest.mark.parametrize("name", FILES)
def test_a_hostile_delivery_is_refused_in_one_line_without_writing(name: str, tmp_path: Path) -> None:
    before = snapshot(CORPUS)
    out = tmp_path / "case.yaml"
    code, stderr = run_cli(["import", name, "--line", LINE, "-o", str(out)], CORPUS)
    assert_refused(code, stderr, name)
    assert not out.exists()
    assert snapshot(CORPUS) == before


def import_bytes(data: bytes, tmp_path: Path) -> None:
    """Read and cut bytes as a delivery: a case mapping or a one-line LiggingError, nothing else."""
    path = tmp_path / "GI_gebiedsinformatielevering_fuzz.xml"
    path.write_bytes(data)
    try:
        Cutter(read_delivery(path), NEN).cut((155020.0, 388014.0), (155020.0, 388026.0))
    except LiggingError as exc:
        assert "\n" not in exc.diagnostic.one_line()


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.data())
def test_a_mutated_delivery_reads_or_fails_cleanly(tmp_path: Path, data: st.DataObject) -> None:
    lines = FIXTURE.read_text(encoding="utf-8").splitlines()
    for _ in range(data.draw(st.integers(1, 6))):
        k = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["drop", "garble", "number", "swap", "duplicate"]))
        if action == "drop":
            del lines[k]
        elif action == "garble":
            lines[k] = data.draw(st.text(max_size=16))
        elif action == "number":
            lines[k] = lines[k].replace("155040", data.draw(st.sampled_from(["nan", "inf", "-1e400", "1e308", "", "0x1"])))
        elif action == "swap":
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[k], lines[j] = lines[j], lines[k]
        else:
            lines.insert(k, lines[k])
    import_bytes("\n".join(lines).encode("utf-8", "replace"), tmp_path)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2048))
def test_random_bytes_fail_cleanly(tmp_path: Path, data: bytes) -> None:
    import_bytes(data, tmp_path)
