"""Human-readable output of `ligging check`: findings grouped by case and severity.

Each finding names its rule, the objects involved, measured and required values and the
rule's source, so an engineer can take the line to the netbeheerder as it stands.
Baseline findings (existing objects only) and accepted deviations are listed apart.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from checker.model.findings import SEVERITIES, CaseResult, Finding, counts

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def _line(f: Finding) -> Text:
    text = Text()
    text.append(f"  {f.severity:<7} ", style=STYLE[f.severity])
    text.append(f"{f.rule}", style="bold")
    text.append(f" [{f.kind}] {', '.join(f.subjects)}: {f.message}")
    text.append(f"\n          {f.case_at.where()}", style="dim")
    text.append(f"\n          source: {f.source}", style="dim")
    if f.illustrative:
        text.append(f"\n          illustrative value: {f.illustrative}", style="dim italic")
    if f.exception:
        info = dict(f.exception)
        text.append(f"\n          exception via {info['measure']}: approval of {info['approval']} needed", style="yellow")
    if f.accepted:
        info = dict(f.accepted)
        if info["state"] == "pending":
            text.append(f"\n          accepted pending approval (still counts): {info['reason'] or 'no reason yet'}"
                        f" (approved by {info['approved_by'] or '—'}, until {info['until'] or '—'})", style="yellow")
        else:
            text.append(f"\n          {info['state']}: {info['reason']}"
                        f" (approved by {info['approved_by']}, until {info['until']})",
                        style="green" if info["state"] == "accepted" else "red")
    for s in f.suggestions:
        if s.move is not None:
            text.append(f"\n          suggestion: move {s.move} by dx={s.dx:+.3f} m, dz={s.dz:+.3f} m", style="green")
        else:
            text.append(f"\n          suggestion: deviate from {s.deviate} to {s.to:.3f} {f.unit}", style="green")
    return text


def print_case(console: Console, result: CaseResult) -> None:
    """Print one case's findings: judged ones by severity, then accepted, then baseline."""
    s = result.section
    when = f"  as of {s.moment}" if s.moment is not None else ""
    console.print(Text(f"{s.name}", style="bold underline"), Text(f"  ({result.path}){when}", style="dim"))
    judged = [f for f in result.findings if counts(f)]
    accepted = [f for f in result.findings if not f.baseline and not counts(f)]
    baseline = [f for f in result.findings if f.baseline]
    if not result.findings:
        console.print(Text("  no findings", style="green"))
    for severity in SEVERITIES:
        for f in judged:
            if f.severity == severity:
                console.print(_line(f))
    if accepted:
        console.print(Text("  accepted deviations:", style="green"))
        for f in accepted:
            console.print(_line(f))
    if baseline:
        console.print(Text(f"  baseline ({len(baseline)} findings among existing objects only):", style="dim"))
        for f in baseline:
            console.print(_line(f))
    for note in result.notes:
        console.print(Text(f"  note: {note}", style="yellow"))
    summary = result.summary()
    console.print(Text(f"  {summary['error']} errors, {summary['warning']} warnings, {summary['info']} info"
                       f" · {len(baseline)} baseline", style="bold"))
    console.print()


def print_total(console: Console, results: list[CaseResult]) -> None:
    """Print the closing summary line over all cases."""
    totals = dict.fromkeys(SEVERITIES, 0)
    for r in results:
        for key, value in r.summary().items():
            totals[key] += value
    failing = sum(1 for r in results if r.summary()["error"])
    console.print(escape(f"{len(results)} cases checked: {failing} with errors · "
                         f"{totals['error']} errors, {totals['warning']} warnings, {totals['info']} info"))
