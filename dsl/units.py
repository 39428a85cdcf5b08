"""Conversion of written quantities to SI floats; the one pint unit registry, loaded only when needed.

Rule packs and case files write quantities with units (`0.60 m`, `110 mm`, `10 kV`,
`25 degC`). Everything past this module works with plain floats in SI base units —
lengths in metres — so that the engine never touches pint in its hot paths. The units
cases and packs nearly always write (m, cm, mm, kV, bar, ...) convert without pint.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# SI = scale * value for the units cases and packs write nearly always; pint (a second to import) is
# loaded only for any other unit. tests/test_units.py holds each entry equal to pint's own conversion.
COMMON: dict[str, tuple[float, float, str]] = {
    "m": (1.0, 0.0, "length"), "cm": (0.01, 0.0, "length"), "mm": (0.001, 0.0, "length"),
    "km": (1000.0, 0.0, "length"), "V": (1.0, 0.0, "voltage"), "kV": (1000.0, 0.0, "voltage"),
    "bar": (100000.0, 0.0, "pressure"), "mbar": (100.0, 0.0, "pressure"), "Pa": (1.0, 0.0, "pressure"),
    "kPa": (1000.0, 0.0, "pressure"),
}


@lru_cache(maxsize=1)
def registry() -> Any:
    """Return the one pint unit registry, created (and pint imported) on first use."""
    import pint

    return pint.UnitRegistry(autoconvert_offset_to_baseunit=True)


@lru_cache(maxsize=1)
def dimensions() -> dict[str, str]:
    """Return the physical dimensions a rule or case may talk about, keyed by pint dimensionality, named as engineers say them."""
    return {
        str(registry().parse_units(unit).dimensionality): name
        for unit, name in (("m", "length"), ("V", "voltage"), ("Pa", "pressure"),
                           ("K", "temperature"), ("dimensionless", "number"))
    }


# Attributes whose dimension is known, so a lint can flag `voltage >= 0.6 m`.
ATTRIBUTE_DIMENSIONS: dict[str, str] = {
    "diameter": "length",
    "width": "length",
    "height": "length",
    "cover": "length",
    "depth": "length",
    "voltage": "voltage",
    "operating_voltage": "voltage",
    "pressure": "pressure",
    "temperature": "temperature",
}


# pint evaluates unit text as an arithmetic expression, so `m**10**10` would compute a
# ten-billion-digit number and `(((...m...)))` would exhaust the recursion limit. Only
# products and quotients of unit names with one-digit exponents reach pint.
_NAME = r"[A-Za-z_°µΩ%][A-Za-z0-9_°µΩ%]*(?:\s*(?:\*\*|\^)\s*-?[0-9])?"
UNIT_TEXT = re.compile(rf"{_NAME}(?:\s*[*/]\s*{_NAME})*")
MAX_UNIT_TEXT = 40


class UnitProblem(ValueError):
    """A unit that pint does not know, or a quantity of the wrong dimension."""


@dataclass(frozen=True, slots=True)
class Measure:
    """A quantity converted to SI: `value` in base units, `dimension` as named by `dimensions()`."""

    value: float
    dimension: str
    text: str


def dimension_of(unit: str) -> str:
    """Return the dimension name of a unit expression, e.g. 'mm' -> 'length'."""
    if len(unit) > MAX_UNIT_TEXT or not UNIT_TEXT.fullmatch(unit):
        shown = unit if len(unit) <= MAX_UNIT_TEXT else unit[:MAX_UNIT_TEXT] + "..."
        raise UnitProblem(f"unknown unit '{shown}' (a unit is a name such as mm, kV or bar, "
                          "optionally combined with *, / and a one-digit exponent)")
    try:
        units = registry().parse_units(unit)
    except Exception as exc:  # pint's expression evaluator fails in many ways (ZeroDivisionError, TokenError, ...)
        raise UnitProblem(f"unknown unit '{unit}'") from exc
    dims = str(units.dimensionality)
    if dims not in dimensions():
        raise UnitProblem(f"unit '{unit}' is a {dims}, not a length, voltage, pressure or temperature")
    return dimensions()[dims]


@lru_cache(maxsize=512)
def _conversion(unit: str) -> tuple[float, float, str]:
    """Return (scale, offset, dimension) such that SI = scale * value + offset for `unit`.

    Every unit we accept is affine in its SI base unit (degC has an offset), so two
    pint conversions per distinct unit replace one per value — loading a case file
    spends most of its time here otherwise.
    """
    if unit in COMMON:
        return COMMON[unit]
    dim = dimension_of(unit)
    import pint

    try:
        zero = float(registry().Quantity(0.0, unit).to_base_units().magnitude)
        one = float(registry().Quantity(1.0, unit).to_base_units().magnitude)
    except (pint.errors.PintError, ArithmeticError, ValueError, TypeError) as exc:
        raise UnitProblem(f"unit '{unit}' cannot be converted: {exc}") from exc
    return one - zero, zero, dim


def to_si(value: float, unit: str) -> Measure:
    """Convert `value unit` to a float in SI base units, with its dimension."""
    if not math.isfinite(value):
        raise UnitProblem(f"'{value}' is not a finite number")
    if not unit:
        return Measure(float(value), "number", f"{value:g}")
    si, dim = si_value(value, unit)
    return Measure(si, dim, f"{value:g} {unit}")


def si_value(value: float, unit: str) -> tuple[float, str]:
    """Return `value unit` (a finite number, a non-empty unit) in SI base units, with its dimension.

    `to_si` without building the Measure: the JSON fast path of the loader converts
    every length here, so both paths compute the same float by the same expression.
    """
    scale, offset, dim = _conversion(unit)
    si = scale * value + offset
    if not math.isfinite(si):
        raise UnitProblem(f"'{value} {unit}' is out of range")
    return si, dim


# a number and what follows it: "110 mm", "60cm" (a unit glued to its number is read too), "0.6"
_QUANTITY = re.compile(r"\s*([-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)\s*(.*?)\s*", re.DOTALL)


def parse_quantity(text: str, default_unit: str) -> Measure:
    """Parse a written quantity such as '110 mm', '60cm' or '0.6' (in `default_unit`)."""
    if not text.strip():
        raise UnitProblem("empty quantity")
    match = _QUANTITY.fullmatch(text)
    if match is None:
        raise UnitProblem(f"'{text}' is not a number followed by a unit, such as 110 mm")
    number, unit = float(match.group(1)), match.group(2)
    if unit[:1] in (",", "."):
        raise UnitProblem(f"'{text}': write the decimal with a point, not a comma ({text.strip().replace(',', '.', 1)})")
    return to_si(number, unit or default_unit)


@lru_cache(maxsize=4096)
def quantity_si(text: str, default_unit: str) -> tuple[float, str]:
    """Return (SI value, dimension) of a written quantity, remembered: case files repeat a few sizes."""
    measure = parse_quantity(text, default_unit)
    return measure.value, measure.dimension


def length(text_or_number: str | float, default_unit: str = "m") -> float:
    """Return a length in metres from a number (in `default_unit`) or a written quantity."""
    if isinstance(text_or_number, bool):
        raise UnitProblem("expected a length, got a yes/no value")
    if isinstance(text_or_number, (int, float)):
        measure = to_si(float(text_or_number), default_unit)
    else:
        measure = parse_quantity(text_or_number, default_unit)
    if measure.dimension != "length":
        raise UnitProblem(f"'{measure.text}' is a {measure.dimension}, expected a length")
    return measure.value
