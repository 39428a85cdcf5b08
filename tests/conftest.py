"""Shared fixtures: the repository root, a case-text builder, the golden refresh flag, property-test budgets."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def examples(default: int) -> int:
    """Return a property test's example budget: `default`, or $LIGGING_EXAMPLES for a long run by hand."""
    return int(os.environ.get("LIGGING_EXAMPLES", default))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--refresh-golden", action="store_true", default=False,
                     help="rewrite the golden expected output of cases/ (read the diff before committing)")


@pytest.fixture
def refresh_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--refresh-golden"))


def case_text(objects: str, extra: str = "", width: float = 4.0) -> str:
    """Return a minimal valid case file with the given objects block (YAML list items)."""
    head = textwrap.dedent(f"""\
        ligging: 1
        name: test
        width: {width}
        zones:
          - {{kind: trottoir, from: 0, to: {width}}}
        """)
    body = "objects:\n" + textwrap.indent(textwrap.dedent(objects), "  ") if objects.strip() else "objects: []\n"
    return head + textwrap.dedent(extra) + body
