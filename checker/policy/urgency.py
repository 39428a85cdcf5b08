"""The urgency of a harmonisation backlog entry: a documented formula with weights from TOML.

The score is the sum of four weighted parts, each between 0 and 1 (docs/backlog.md):
cases affected `n / (n + half)`, the severity of the rule, the size of the deviation
`min(1, amount / full[unit])`, and how soon works run into it: for each planned date among
the entry's cases `1 - days_until / (horizon * 365.25)`, 1 for works started less than
`overdue` years ago, 0 for older ones; the soonest counts. The default weights ship as package data in
`checker/policy/urgency.toml`; a user's file given with `--weights` overrides only the keys it
sets. Keeping every part visible lets a policy officer see why an entry ranks where it does.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsl.diagnostics import Diagnostic, LiggingError, Span

PARTS = ("cases", "severity", "deviation", "soon")


@dataclass(frozen=True, slots=True)
class Weights:
    """The weights and scales of the urgency formula."""

    cases: float
    severity: float
    deviation: float
    soon: float
    cases_half: float
    severity_levels: tuple[tuple[str, float], ...]
    deviation_unknown: float
    deviation_full: tuple[tuple[str, float], ...]
    horizon: float
    overdue: float
    unplanned: float


@dataclass(frozen=True, slots=True)
class Urgency:
    """The weighted parts of one entry's score (points, not fractions) and their sum."""

    cases: float
    severity: float
    deviation: float
    soon: float

    @property
    def total(self) -> float:
        """Return the score: the sum of the parts."""
        return self.cases + self.severity + self.deviation + self.soon


def _default_text() -> str:
    """Return the shipped weights file (package data next to this module)."""
    return Path(__file__).with_name("urgency.toml").read_text(encoding="utf-8")


def _parse(text: str, where: str) -> dict[str, Any]:
    """Parse TOML text, turning a syntax error into a one-line diagnostic with its position."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"line (\d+), column (\d+)", str(exc))
        line, col = (int(found.group(1)), int(found.group(2))) if found else (1, 1)
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(exc))
        raise LiggingError(Diagnostic(Span(where, line, col), f"not valid TOML: {message}")) from None


def _merge(base: dict[str, Any], over: dict[str, Any], where: str, prefix: str = "") -> dict[str, Any]:
    """Overlay `over` on `base`, refusing keys the default file does not know and non-numbers."""
    out = dict(base)
    for key, value in over.items():
        name = f"{prefix}{key}"
        if key not in base:
            known = ", ".join(sorted(base))
            raise LiggingError(Diagnostic(Span(where, 1, 1), f"unknown urgency setting '{name}' (expected one of: {known})"))
        if isinstance(base[key], dict):
            if not isinstance(value, dict):
                raise LiggingError(Diagnostic(Span(where, 1, 1), f"urgency setting '{name}' must be a table"))
            out[key] = _merge(base[key], value, where, f"{name}.")
        elif isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise LiggingError(Diagnostic(Span(where, 1, 1), f"urgency setting '{name}' must be a number >= 0, got {value!r}"))
        else:
            out[key] = float(value)
    return out


def load_weights(path: Path | None = None) -> Weights:
    """Return the shipped weights, overlaid with the keys set in `path` when given."""
    data = _parse(_default_text(), "checker/policy/urgency.toml")
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LiggingError(Diagnostic(Span(str(path), 1, 1), f"cannot read weights file: {exc}")) from None
        data = _merge(data, _parse(text, str(path)), str(path))
    w, dev, soon = data["weights"], data["deviation"], data["soon"]
    if data["cases"]["half"] <= 0 or soon["horizon"] <= 0 or any(v <= 0 for v in dev["full"].values()):
        raise LiggingError(Diagnostic(Span(str(path or "checker/policy/urgency.toml"), 1, 1),
                                      "cases.half, soon.horizon and deviation.full values must be > 0"))
    return Weights(
        cases=float(w["cases"]), severity=float(w["severity"]), deviation=float(w["deviation"]), soon=float(w["soon"]),
        cases_half=float(data["cases"]["half"]),
        severity_levels=tuple((k, float(v)) for k, v in data["severity"].items()),
        deviation_unknown=float(dev["unknown"]),
        deviation_full=tuple((k, float(v)) for k, v in dev["full"].items()),
        horizon=float(soon["horizon"]), overdue=float(soon["overdue"]), unplanned=float(soon["unplanned"]),
    )


def soonness(weights: Weights, planned: str, today: dt.date) -> float:
    """Return how soon works planned on an ISO date (or year) run into a rule, between 0 and 1.

    >>> w = load_weights()
    >>> day = dt.date(2026, 12, 1)
    >>> [round(soonness(w, d, day), 3) for d in ("2026-12-01", "2027-12-01", "2031-12-01", "2026-01-01", "2024-06-01")]
    [1.0, 0.8, 0.0, 1.0, 0.0]
    """
    try:
        when = dt.date.fromisoformat(planned if len(planned) == 10 else f"{planned[:4]}-01-01")
    except ValueError:
        return 0.0
    days = (when - today).days
    if days < 0:
        return 1.0 if -days <= weights.overdue * 365.25 else 0.0
    return max(0.0, min(1.0, 1.0 - days / (weights.horizon * 365.25)))


def score(weights: Weights, cases: int, severity: str, amount: float | None, unit: str,
          planned: Iterable[str], today: dt.date) -> Urgency:
    """Return the weighted parts of the urgency of an entry (`planned`: the ISO dates of its cases' works).

    >>> w = load_weights()
    >>> u = score(w, cases=2, severity="error", amount=0.25, unit="m", planned=["2028-12-01"], today=dt.date(2026, 12, 1))
    >>> (u.cases, u.severity, u.deviation, u.soon, u.total)
    (20.0, 20.0, 10.0, 12.0, 62.0)
    """
    cases_part = cases / (cases + weights.cases_half) if cases > 0 else 0.0
    severity_part = min(1.0, dict(weights.severity_levels).get(severity, 0.0))
    full = dict(weights.deviation_full).get(unit)
    if amount is None or full is None:
        deviation_part = min(1.0, weights.deviation_unknown)
    else:
        deviation_part = min(1.0, abs(amount) / full)
    dates = [d for d in planned if d]
    soon_part = max((soonness(weights, d, today) for d in dates), default=min(1.0, weights.unplanned))
    return Urgency(
        cases=round(weights.cases * cases_part, 2), severity=round(weights.severity * severity_part, 2),
        deviation=round(weights.deviation * deviation_part, 2), soon=round(weights.soon * soon_part, 2),
    )
