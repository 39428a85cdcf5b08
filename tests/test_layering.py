"""The import direction the README's map promises: dsl ← nen7171 ← checker, and inside checker
model ← io ← engine ← advice ← pipeline ← policy, views ← cli. Every import counts, also those
inside functions, so a late import cannot hide a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEVEL = {"model": 0, "io": 1, "engine": 2, "advice": 3, "pipeline": 4, "policy": 5, "views": 5, "cli": 6}


def imports(path: Path) -> list[tuple[int, str]]:
    """Return (line, module) for every import in a file, absolute names only."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
            out.extend((node.lineno, f"{node.module}.{a.name}") for a in node.names)
        elif isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
    return out


def part(module: str) -> str | None:
    """Name the part of checker a dotted module name belongs to (None outside checker)."""
    bits = module.split(".")
    if bits[0] != "checker" or len(bits) < 2:
        return None
    return "cli" if bits[1] == "cli" else bits[1] if bits[1] in LEVEL else None


FILES = sorted(p for top in ("dsl", "nen7171", "checker") for p in (ROOT / top).rglob("*.py"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_one_way(path: Path) -> None:
    rel = path.relative_to(ROOT)
    top = rel.parts[0]
    here = "cli" if rel.parts[1:] == ("cli.py",) else rel.parts[1] if top == "checker" and len(rel.parts) > 2 else None
    for line, module in imports(path):
        head = module.split(".")[0]
        if top == "dsl":
            assert head not in ("checker", "nen7171"), f"{rel}:{line}: dsl imports {module}"
        elif top == "nen7171":
            assert head != "checker", f"{rel}:{line}: nen7171 imports {module}"
        elif here is not None and (there := part(module)) is not None and there != here:
            assert LEVEL[there] < LEVEL[here], f"{rel}:{line}: checker.{here} imports {module} (points up or sideways)"


def test_every_part_of_checker_is_placed() -> None:
    """A new folder under checker/ must get its place in the order (and in the README's map)."""
    folders = {p.name for p in (ROOT / "checker").iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders <= set(LEVEL), folders - set(LEVEL)
