"""Units: the common units convert without pint, to exactly what pint says; pint stays unloaded for them."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dsl import units
from tests.conftest import ROOT


@pytest.mark.parametrize("unit", sorted(units.COMMON))
def test_common_units_are_pints_own_conversion(unit: str) -> None:
    reg = units.registry()
    zero = float(reg.Quantity(0.0, unit).to_base_units().magnitude)
    one = float(reg.Quantity(1.0, unit).to_base_units().magnitude)
    scale, offset, dimension = units.COMMON[unit]
    assert (scale, offset) == (one - zero, zero)
    assert dimension == units.dimension_of(unit)


def test_checking_a_batch_in_common_units_never_imports_pint() -> None:
    code = ("import sys; from checker.io.loader import parse_json_case; "
            "s = parse_json_case('{\"ligging\": 1, \"name\": \"n\", \"width\": \"400 cm\", \"zones\": [{\"kind\": \"trottoir\", "
            "\"from\": 0, \"to\": 4}], \"objects\": [{\"id\": \"w\", \"network\": \"water\", \"x\": 1, \"cover\": \"0.6 m\", "
            "\"diameter\": \"110 mm\"}]}', 'b.jsonl'); assert s.objects[0].diameter == 0.001 * 110; "
            "print('pint' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr


def test_other_units_still_go_through_pint() -> None:
    assert units.to_si(25.0, "degC").value == pytest.approx(298.15)
    assert units.length("3 dm") == pytest.approx(0.3)
    with pytest.raises(units.UnitProblem):
        units.length("3 kV")
    with pytest.raises(units.UnitProblem):  # pint knows yards; no rule set is written in them
        units.length("3 yd")
