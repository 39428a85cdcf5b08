"""Property tests: every input to the case loader and the CLI ends in a result or exit 2.

Hypothesis draws random bytes and text, mutations of the shipped case files (tokens that
break YAML, units, numbers and tags spliced in at random places) and random argument
lists from a vocabulary of subcommands, options and paths. The loader must return a
`Section` or raise `LiggingError` with a position; the CLI must exit 0, 1 or 2 — never 3
(internal error) and never with a traceback. Budgets are bounded (`max_examples`, no
deadline) so the whole file runs in a few seconds.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.io.loader import load_case, parse_case
from checker.model.section import Section
from dsl.diagnostics import LiggingError
from tests.conftest import ROOT, case_text
from tests.test_malformed import CORPUS, run_cli

CASES = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "cases").glob("*/case.yaml"))]
FRAGMENTS = ["[", "]", "{", "}", ": ", "- ", ",", "&a ", "*a", "*b", "<<: ", "!!python/object/apply:os.system ['x']",
             "!!binary aGk=", "!Ref ", "? ", "|", ">", "'", '"', "#", "\t", "\n", "\n  ", "~", "null", "yes", ".nan",
             "-.inf", "1e400", "1.0e+400", "0x" + "f" * 40, "1" + "0" * 30, "1:30", "-0", "0", "110 mm", "110 kg",
             '"1 m**10**10"', '"1 degC/0"', '"1 (m"', "m", "kV", "%", "\x00", "\ufeff", "\u2028", "\\", "---", "...",
             "id: ", "holds: [x]", "kind: rack", "network: water", "ligging: 1"]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))


def outcome(text: str) -> Section | LiggingError:
    """Parse case text; return the section or the error (anything else propagates and fails)."""
    try:
        return parse_case(text, "fuzz.yaml")
    except LiggingError as exc:
        span = exc.diagnostic.span
        assert span.file == "fuzz.yaml" and span.line >= 1 and span.column >= 1
        assert "\n" not in exc.diagnostic.one_line()
        return exc


@st.composite
def mutated_case(draw: st.DrawFn) -> str:
    """Draw a shipped case file with a few fragments spliced in and slices cut out."""
    text: str = draw(st.sampled_from(CASES))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(st.sampled_from(FRAGMENTS)) + text[at:]
        else:
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
    return text


@SETTINGS
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    outcome(text)


@SETTINGS
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join))
def test_yaml_token_soup(text: str) -> None:
    outcome(case_text("") + text)


@SETTINGS
@given(mutated_case())
def test_mutated_shipped_cases(text: str) -> None:
    outcome(text)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=600))
def test_random_bytes_from_a_file(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "case.yaml"
        path.write_bytes(data)
        try:
            load_case(path)
        except LiggingError as exc:
            assert exc.diagnostic.span.file == str(path)


# ------------------------------------------------------------------ the command line

VOCABULARY = ["check", "explain", "rules", "lint", "render", "--pack", "--format", "--fail-on", "-o", "--output",
              "json", "text", "sarif", "error", "warning", "info", "bogus", "imkl", "nen7171", "NEN-COV-LS", "--help",
              "--no-findings", "-", "--", "", "good", "empty", "missing", "good/case.yaml", "out.svg", "out.txt",
              str(CORPUS / "nan-cover.yaml"), str(CORPUS / "rules-missing-unit.rules"),
              str(CORPUS / "deep-nesting-flow-10000.yaml"), str(CORPUS / "rules-include-cycle-a.rules")]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding one valid case (good/) and an empty folder (empty/)."""
    folder = tmp_path_factory.mktemp("cli-fuzz")
    (folder / "good").mkdir()
    (folder / "good" / "case.yaml").write_text(
        case_text("- {id: w, network: water, x: 1, cover: 1, diameter: 110 mm}\n"), encoding="utf-8")
    (folder / "empty").mkdir()
    return folder


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(argv=st.lists(st.sampled_from(VOCABULARY), min_size=0, max_size=6))
def test_cli_argument_paths(work: Path, argv: list[str]) -> None:
    code, stderr = run_cli(argv, work)
    assert code in (0, 1, 2), (argv, code, stderr)
    assert "Traceback" not in stderr, (argv, stderr)
    if code == 2 and stderr:
        assert stderr.startswith("ligging: "), (argv, stderr)
