"""The finding: what the engine reports, and its JSON form (the contract, docs/contracts.md).

A `Finding` is frozen data. `as_json` writes exactly the contract's keys in the
contract's order, followed by extensions (`title`, `illustrative`, `exception`,
`accepted`, `depth_basis`) that consumers may ignore. The fingerprint hashes the rule and the sorted
subject ids, so it is stable across runs and does not move when the geometry does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from checker.model.section import Section
from dsl.diagnostics import Span
from dsl.packs import PackSet

SEVERITIES = ("error", "warning", "info")
KINDS = ("cover", "clearance", "crossing", "order", "zone", "exclusion", "access", "capacity", "bounds",
         "overlap", "lint")


def fingerprint(rule: str, subjects: tuple[str, ...]) -> str:
    """Return the stable hash of a rule id and its sorted subject ids."""
    text = rule + "\x1f" + "\x1f".join(sorted(subjects))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A way to clear a finding: move one planned object, or deviate from the rule."""

    move: str | None = None
    dx: float = 0.0
    dz: float = 0.0
    deviate: str | None = None
    to: float | None = None

    def as_json(self) -> dict[str, Any]:
        """Return the contract's suggestion object."""
        if self.move is not None:
            return {"move": self.move, "dx": _round(self.dx), "dz": _round(self.dz)}
        return {"deviate": self.deviate, "to": _round(self.to)}


@dataclass(frozen=True, slots=True)
class Finding:
    """One violation (or exception-met warning) of one rule by one set of subjects."""

    rule: str
    pack: str
    severity: str
    kind: str
    subjects: tuple[str, ...]
    measured: float | None
    required: float | None
    op: str
    unit: str
    message: str
    source: str
    rule_at: Span
    case_at: Span
    baseline: bool
    title: str = ""
    illustrative: str | None = None
    exception: tuple[tuple[str, str], ...] = ()
    accepted: tuple[tuple[str, str], ...] = ()
    suggestions: tuple[Suggestion, ...] = field(default_factory=tuple)
    depth_basis: tuple[tuple[str, str], ...] = ()

    @property
    def shortfall(self) -> float | None:
        """Return by how much the requirement is missed (positive), or None without magnitude."""
        if self.measured is None or self.required is None:
            return None
        if self.op in (">=", ">"):
            return self.required - self.measured
        return self.measured - self.required

    @property
    def fingerprint(self) -> str:
        """Return the stable identity of this finding."""
        return fingerprint(self.rule, self.subjects)

    def as_json(self) -> dict[str, Any]:
        """Return the finding as the contract's JSON object."""
        out: dict[str, Any] = {
            "rule": self.rule, "pack": self.pack, "severity": self.severity, "kind": self.kind,
            "subjects": list(self.subjects),
            "measured": _round(self.measured), "required": _round(self.required), "op": self.op,
            "unit": self.unit, "shortfall": _round(self.shortfall),
            "message": self.message, "source": self.source,
            "rule_at": self.rule_at.as_json(), "case_at": self.case_at.as_json(),
            "fingerprint": self.fingerprint, "baseline": self.baseline,
            "suggestions": [s.as_json() for s in self.suggestions],
            "title": self.title,
        }
        if self.illustrative is not None:
            out["illustrative"] = self.illustrative
        if self.exception:
            out["exception"] = dict(self.exception)
        if self.accepted:
            out["accepted"] = dict(self.accepted)
        if self.depth_basis:
            out["depth_basis"] = dict(self.depth_basis)
        return out

    def sort_key(self) -> tuple[Any, ...]:
        """Order findings: severity, then rule, then subjects (deterministic output)."""
        return (SEVERITIES.index(self.severity), self.rule, self.subjects)


UNMEASURED = {
    "declared": "the net's declared standard depth (standaardDieptelegging), not measured",
    "assumed": "assumed (a minimum cover of the packs; the delivery gives no depth)",
}


def note_depth_bases(findings: Iterable[Finding], section: Section) -> list[Finding]:
    """Say in each finding which of its subjects' cover was declared or assumed rather than measured.

    The basis goes into the message and into `depth_basis` ({id: basis}); the contract's keys stay.
    """
    unmeasured = {o.id: o.source.depth for o in section.objects if o.source is not None and o.source.depth in UNMEASURED}
    if not unmeasured:
        return list(findings)
    out = []
    for f in findings:
        basis = tuple((s, unmeasured[s]) for s in f.subjects if s in unmeasured)
        if basis:
            f = replace(f, message=with_basis(f.message, basis), depth_basis=basis)
        out.append(f)
    return out


def with_basis(message: str, basis: tuple[tuple[str, str], ...]) -> str:
    """Return a message naming the subjects whose cover was declared or assumed rather than measured."""
    said = "; ".join(f"cover of {s} is {UNMEASURED[d]}" for s, d in basis)
    return f"{message} ({said})"


def _round(value: float | None) -> float | None:
    """Round lengths to 0.1 mm so JSON output is stable across platforms."""
    if value is None:
        return None
    rounded = round(value, 4)
    return 0.0 if rounded == 0 else rounded


def counts(finding: Finding) -> bool:
    """Tell whether a finding counts against the exit code (not baseline, not validly accepted)."""
    return not finding.baseline and dict(finding.accepted).get("state") not in ("accepted",)


FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class CaseResult:
    """A checked case: its section, where it was read, and its findings."""

    section: Section
    path: str
    findings: tuple[Finding, ...]
    # what the reader should know about how the findings were produced (a budget that stopped a search)
    notes: tuple[str, ...] = ()

    def summary(self) -> dict[str, int]:
        """Count findings per severity (baseline and accepted ones excluded)."""
        out = dict.fromkeys(SEVERITIES, 0)
        for f in self.findings:
            if counts(f):
                out[f.severity] += 1
        return out

    def as_json(self, packs: PackSet) -> dict[str, Any]:
        """Return the findings document of the contract (docs/contracts.md)."""
        return {
            "ligging": FORMAT_VERSION,
            "case": self.path,
            "packs": [{"name": p.name, "version": p.version} for p in packs.packs],
            "findings": [f.as_json() for f in self.findings],
            "summary": self.summary(),
        } | ({"notes": list(self.notes)} if self.notes else {}) | (
            {"at": self.section.moment} if self.section.moment is not None else {})
