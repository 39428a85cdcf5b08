"""How numbers are shown to people: lengths to the millimetre, counts as whole numbers, words in the plural.

Every sentence ligging prints goes through these, so a count never reads "4.000", a
value that rounds to zero never reads "-0.000", and one finding is "1 finding".
"""

from __future__ import annotations

import math


def fixed(value: float | None, unit: str = "m", places: int = 3, signed: bool = False) -> str:
    """Return a value as text: a count (`unit` "count" or "") whole, else to `places` decimals, never a negative zero.

    >>> fixed(-0.0004), fixed(0.0, signed=True), fixed(4.0, "count"), fixed(0.5504)
    ('0.000', '+0.000', '4', '0.550')
    """
    if value is None or math.isnan(value):
        return "nan"
    if unit in ("count", "") and float(value).is_integer():
        return f"{int(value):+d}" if signed else f"{int(value)}"
    text = f"{value:+.{places}f}" if signed else f"{value:.{places}f}"
    if float(text) == 0:
        text = text.replace("-", "+" if signed else "", 1)
    return text


def plural(count: int, word: str, many: str | None = None) -> str:
    """Return '1 error', '2 errors' (or the given plural).

    >>> plural(1, "error"), plural(2, "entry", "entries"), plural(0, "info", "info")
    ('1 error', '2 entries', '0 info')
    """
    return f"{count} {word if count == 1 else (many or word + 's')}"
