"""The findings contract's per-finding values, computed from columns for many findings at once.

The writers of batch output (`checker.io.jsonl`, `checker.io.parquet`) read a `Found`
(findings as columns); what the contract derives from a finding — lengths rounded to
0.1 mm, the shortfall, the fingerprint (hash of rule and sorted subject ids) — is computed
here for whole columns, with exactly the values `Finding.as_json` gives one finding:
rounding is NumPy's where it provably equals Python's `round(v, 4)` and Python's on the
few values within an ulp of a half, and number text is orjson's (the shortest
round-tripping digits, as `repr`), checked against `repr` for any value orjson would
write otherwise.
"""

from __future__ import annotations

import numpy as np
import orjson
from numpy.typing import NDArray

from checker.model.findings import fingerprint
from checker.model.found import Found

FloatArray = NDArray[np.float64]
_FINGERPRINTS: dict[tuple[str, tuple[str, ...]], str] = {}
_CACHE_LIMIT = 1 << 17
# orjson writes 1e16 where repr writes 1e+16; lengths and counts never come near, but a rule's limit might
_PLAIN_LIMIT = 1e15


def rounded(values: FloatArray) -> FloatArray:
    """Return values rounded to 0.1 mm exactly as `round(v, 4)` does (zero without a sign; NaN stays NaN)."""
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = values * 1e4
        out = np.rint(scaled) / 1e4
        # rint of the product differs from decimal rounding only where the product lies within an ulp of a half
        near_half = np.abs(scaled - np.floor(scaled) - 0.5) <= 2 * np.spacing(np.abs(scaled))
    for k in np.flatnonzero(near_half & np.isfinite(values)).tolist():
        out[k] = round(float(values[k]), 4)
    return np.where(out == 0, 0.0, out)


def number_texts(values: FloatArray) -> list[str]:
    """Return each value rounded to 0.1 mm as the contract writes it (`null` for NaN: no value)."""
    if len(values) == 0:
        return []
    r = rounded(np.asarray(values, dtype=float))
    texts = orjson.dumps(r, option=orjson.OPT_SERIALIZE_NUMPY).decode("ascii")[1:-1].split(",")
    odd = ~np.isnan(r) & ~(np.abs(r) < _PLAIN_LIMIT)
    for k in np.flatnonzero(odd).tolist():
        texts[k] = float.__repr__(float(r[k]))
    return texts


def shortfalls(found: Found) -> FloatArray:
    """Return by how much each finding misses its requirement (as `Finding.shortfall`; NaN without a magnitude)."""
    ops = np.array([t.op in (">=", ">") for t in found.templates], dtype=bool)
    has = np.array([t.measured and t.required for t in found.templates], dtype=bool)
    up = ops[found.template]
    with np.errstate(invalid="ignore"):
        value = np.where(up, found.required - found.measured, found.measured - found.required)
    return np.where(has[found.template], value, np.nan)


def measured_values(found: Found) -> tuple[FloatArray, FloatArray]:
    """Return measured and required columns with NaN where a finding's template has no value."""
    has_m = np.array([t.measured for t in found.templates], dtype=bool)[found.template]
    has_r = np.array([t.required for t in found.templates], dtype=bool)[found.template]
    return np.where(has_m, found.measured, np.nan), np.where(has_r, found.required, np.nan)


def fingerprints(found: Found, subjects: list[tuple[str, ...]]) -> list[str]:
    """Return each finding's fingerprint, remembered per rule and subjects: batches repeat both."""
    rules = [t.rule for t in found.templates]
    out = []
    cache = _FINGERPRINTS
    if len(cache) > _CACHE_LIMIT:
        cache.clear()
    for t, subj in zip(found.template.tolist(), subjects, strict=True):
        key = (rules[t], subj)
        got = cache.get(key)
        if got is None:
            got = fingerprint(*key)
            cache[key] = got
        out.append(got)
    return out
