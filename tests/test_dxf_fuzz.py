"""Fuzz the DXF importer: mutated exports and random bytes end in a case or a LiggingError."""

from __future__ import annotations

import tempfile
from functools import lru_cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from checker.io.dxf import export_dxf, import_dxf
from checker.io.loader import load_case
from dsl.diagnostics import LiggingError
from dsl.packs import load_packs
from tests.conftest import ROOT


@lru_cache(maxsize=1)
def exported() -> bytes:
    """Return the DXF export of a shipped case, as bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "case.dxf"
        export_dxf(load_case(ROOT / "cases" / "leiden-vkls"), load_packs(["imkl"]), out)
        return out.read_bytes()


def import_bytes(data: bytes) -> None:
    """Import bytes as a DXF file: a case mapping or a LiggingError, nothing else."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.dxf"
        path.write_bytes(data)
        try:
            import_dxf(path)
        except LiggingError as exc:
            assert "\n" not in exc.diagnostic.one_line()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutated_export_imports_or_fails_cleanly(data: st.DataObject) -> None:
    lines = exported().decode("utf-8", "replace").splitlines()
    for _ in range(data.draw(st.integers(1, 6))):
        k = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["drop", "garble", "number", "swap"]))
        if action == "drop":
            del lines[k]
        elif action == "garble":
            lines[k] = data.draw(st.text(max_size=12))
        elif action == "number":
            lines[k] = data.draw(st.sampled_from(["nan", "inf", "-1e400", "1e308", "0", "-0.0", "  10  "]))
        else:
            j = data.draw(st.integers(0, len(lines) - 1))
            lines[k], lines[j] = lines[j], lines[k]
    import_bytes("\n".join(lines).encode("utf-8", "replace"))


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_fail_cleanly(data: bytes) -> None:
    import_bytes(data)
