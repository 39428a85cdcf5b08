"""The README a newcomer reads first: its two commands, its sample output, its links, its pictures."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "cases" / "README.md"]


def test_the_first_two_commands_install_and_run_then_test() -> None:
    first_block = re.search(r"```sh\n(.*?)```", README, re.DOTALL).group(1)  # type: ignore[union-attr]
    install_and_run, test = first_block.strip().splitlines()
    # the first command installs no extra (no test tools, browsers or clusters for every user) and checks the cases
    assert ".venv/bin/pip install -e . " in install_and_run + " " and "[" not in install_and_run
    assert ".venv/bin/ligging check cases/" in install_and_run
    assert '".[test]"' in test and test.rstrip().endswith("pytest -q")
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    runtime = " ".join(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"])
    for package in ("pytest", "playwright", "hypothesis", "dask", "psycopg", "atheris"):
        assert package not in runtime
        assert any(package in " ".join(deps) for deps in extras.values())


def test_the_sample_output_is_what_ligging_prints() -> None:
    block = re.search(r"```text\n\$ (ligging check [^\n]*)\n(.*?)```", README, re.DOTALL)
    assert block is not None
    command, shown = block.group(1), block.group(2)
    out = subprocess.run([sys.executable, "-c", "from checker.cli import run; run()", *shlex.split(command)[1:]],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.rstrip() == shown.rstrip()


def test_every_link_in_the_documentation_resolves_inside_the_repository() -> None:
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://")):
                continue
            assert (page.parent / target).resolve().exists(), f"{page.name} links to {target}, which is not there"


def test_there_is_a_picture_of_every_shipped_case() -> None:
    cases = sorted(p.parent.name for p in (ROOT / "cases").glob("*/case.yaml"))
    pictures = sorted(p.stem for p in (ROOT / "docs" / "drawings").glob("*.png"))
    assert pictures == cases


def test_ci_runs_the_readme_commands_on_upgraded_dependencies() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "venv --clear" in ci  # a new environment on every run: nothing carried over from the last
    runtime_install = ci.index("pip install --quiet -e .\n")
    upgraded = re.search(r'pip install [^\n]*--upgrade --upgrade-strategy eager -e "\.\[test\]"', ci)
    assert upgraded is not None, "CI does not test with every dependency upgraded"
    assert runtime_install < ci.index("ligging check cases/") < upgraded.start() < ci.index("pytest -q")


def _anchors(page: Path) -> set[str]:
    """Return the anchors GitHub makes of a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.DOTALL)
    headings = re.findall(r"^#{1,6} (.+)$", text, re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_every_link_to_a_heading_finds_it() -> None:
    for page in PAGES:
        for target, anchor in re.findall(r"\]\(([^)#\s]*)#([^)\s]+)\)", page.read_text(encoding="utf-8")):
            linked = (page.parent / target).resolve() if target else page
            if target.startswith(("http://", "https://")) or linked.suffix != ".md":
                continue
            assert anchor in _anchors(linked), f"{page.name} links to {target}#{anchor}, a heading that is not there"
