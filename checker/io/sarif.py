"""SARIF 2.1.0 output of `ligging check --format sarif`, so CI systems and editors show findings.

One log holds one run for all checked cases. The driver lists every rule that produced a
result, with its title, its source (the document and clause it cites), its pack, its
negotiability and whether its value is illustrative. Each result points into the case
file by line and column, carries the finding's fingerprint as a partial fingerprint and
its numbers as properties. Findings among existing objects only are marked
`baselineState: unchanged` (the rest `new`); deviations granted in the case's `accept:`
list appear as external suppressions whose justification is the reason and approver.
"""

from __future__ import annotations

from importlib import metadata
from pathlib import PurePath
from typing import Any

from checker.model.findings import CaseResult, Finding
from dsl.packs import PackSet

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
FINGERPRINT_KEY = "ligging/v1"


def _version() -> str:
    """Return the installed ligging version (the driver's version)."""
    try:
        return metadata.version("ligging")
    except metadata.PackageNotFoundError:
        return "0"


def _uri(path: str) -> str:
    """Return a case path as a relative URI reference with forward slashes."""
    return PurePath(path).as_posix()


def _rule(finding: Finding, packs: PackSet) -> dict[str, Any]:
    """Return the reportingDescriptor of the rule behind a finding (packs first, else the finding)."""
    versions = [pr for pr in packs.find(finding.rule) if pr.pack.name == finding.pack] \
        or packs.find(finding.rule)
    title = finding.title or finding.rule
    source = finding.source
    negotiability: float | None = None
    illustrative = finding.illustrative
    if versions:
        rule = versions[0].rule
        title = rule.title or title
        source = rule.source or source
        negotiability = rule.negotiability
        illustrative = rule.illustrative if rule.illustrative is not None else illustrative
    help_text = f"Source: {source}"
    if illustrative:
        help_text += f"\nIllustrative value: {illustrative}"
    return {
        "id": finding.rule,
        "name": finding.rule,
        "shortDescription": {"text": title},
        "fullDescription": {"text": f"{title}. Source: {source}"},
        "help": {"text": help_text},
        "defaultConfiguration": {"level": LEVELS[finding.severity]},
        "properties": {
            "pack": finding.pack,
            "kind": finding.kind,
            "source": source,
            "negotiability": negotiability,
            "illustrative": illustrative is not None,
            "tags": [finding.pack, finding.kind],
        },
    }


def _result(finding: Finding, rule_index: int) -> dict[str, Any]:
    """Return the SARIF result of one finding."""
    span = finding.case_at
    out: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{', '.join(finding.subjects)}: {finding.message}"},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": _uri(span.file)},
                "region": {"startLine": max(span.line, 1), "startColumn": max(span.column, 1)},
            },
        }],
        "partialFingerprints": {FINGERPRINT_KEY: finding.fingerprint},
        "baselineState": "unchanged" if finding.baseline else "new",
        "properties": {
            "kind": finding.kind,
            "subjects": list(finding.subjects),
            "measured": finding.measured,
            "required": finding.required,
            "op": finding.op,
            "unit": finding.unit,
            "shortfall": finding.shortfall,
        },
    }
    accepted = dict(finding.accepted)
    if accepted.get("state") == "accepted":
        out["suppressions"] = [{
            "kind": "external",
            "justification": f"{accepted['reason']} (approved by {accepted['approved_by']}, until {accepted['until']})",
        }]
    return out


def sarif_log(results: list[CaseResult], packs: PackSet) -> dict[str, Any]:
    """Return one SARIF 2.1.0 log with one run covering every checked case."""
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    out_results: list[dict[str, Any]] = []
    artifacts: list[str] = []
    for case in results:
        # the file the case was read from: a JSON Lines batch is one artifact for all its sections
        if _uri(case.section.path) not in artifacts:
            artifacts.append(_uri(case.section.path))
        for finding in case.findings:
            if finding.rule not in index:
                index[finding.rule] = len(rules)
                rules.append(_rule(finding, packs))
            out_results.append(_result(finding, index[finding.rule]))
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {
                "name": "ligging",
                "version": _version(),
                "rules": rules,
            }},
            "artifacts": [{"location": {"uri": uri}} for uri in artifacts],
            "columnKind": "unicodeCodePoints",
            "results": out_results,
            "properties": {"packs": [{"name": p.name, "version": p.version} for p in packs.packs]},
        }],
    }
