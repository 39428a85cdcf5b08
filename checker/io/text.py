"""Human-readable output of `ligging check`: findings grouped by case and severity.

The full form names, for each finding, its rule, the objects involved, measured and
required values and the rule's whole source sentence, so an engineer can take it to the
netbeheerder as it stands. The brief form gives one line per finding, its sources by
register number ([S27], see docs/sources.md). Baseline findings (existing objects only)
and accepted deviations are listed apart in both; a table closes a run of several cases.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from checker.model.findings import SEVERITIES, CaseResult, Finding, counts
from checker.model.numbers import fixed, plural

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
CITATION = re.compile(r"\[S\d+\]")
# a source without register numbers is shown this long in the brief form (`ligging explain` shows all of it)
BRIEF_SOURCE = 40


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
        text.append(f"\n          {info['state']}: {info['reason']} (approved by {info['approved_by']}, until {info['until']})",
                    style="green" if info["state"] == "accepted" else "red")
    for s in f.suggestions:
        if s.move is not None:
            dx, dz = fixed(s.dx, signed=True), fixed(s.dz, signed=True)
            text.append(f"\n          suggestion: move {s.move} by dx={dx} m, dz={dz} m", style="green")
        else:
            to = f"{fixed(s.to, f.unit)} {f.unit}".rstrip()
            text.append(f"\n          suggestion: deviate from {s.deviate} to {to}", style="green")
    return text


def cited(f: Finding) -> str:
    """Return a finding's source by its register numbers ('[S27][S28]'), else its first words."""
    numbers = list(dict.fromkeys(CITATION.findall(f.source)))
    if numbers:
        return "".join(numbers)
    if f.pack == "ligging":
        return "built-in check"
    return f.source if len(f.source) <= BRIEF_SOURCE else f.source[: BRIEF_SOURCE - 1].rstrip() + "…"


def _brief(f: Finding) -> Text:
    """Return one line: severity, rule, message, line in the case, sources by number, and what sets it apart."""
    text = Text()
    text.append(f"  {f.severity:<7} ", style=STYLE[f.severity])
    text.append(f.rule, style="bold")
    text.append(f" {f.message}")
    marks = []
    if f.illustrative:
        marks.append("illustrative")
    if f.accepted:
        marks.append(dict(f.accepted)["state"])
    if f.suggestions:
        marks.append(plural(len(f.suggestions), "suggestion"))
    text.append(f"  {cited(f)}  line {f.case_at.line}" + "".join(f"; {m}" for m in marks), style="dim")
    return text


def _groups(result: CaseResult) -> tuple[list[Finding], list[Finding], list[Finding]]:
    """Return a case's findings that count (by severity), the accepted ones and the baseline."""
    judged = sorted((f for f in result.findings if counts(f)), key=lambda f: SEVERITIES.index(f.severity))
    accepted = [f for f in result.findings if not f.baseline and not counts(f)]
    baseline = [f for f in result.findings if f.baseline]
    return judged, accepted, baseline


def print_case(console: Console, result: CaseResult, brief: bool = False) -> None:
    """Print one case's findings: judged ones by severity, then accepted, then baseline."""
    s = result.section
    when = f"  as of {s.moment}" if s.moment is not None else ""
    console.print(Text(f"{s.name}", style="bold underline"), Text(f"  ({result.path}){when}", style="dim"))
    show = _brief if brief else _line
    judged, accepted, baseline = _groups(result)
    if not result.findings:
        console.print(Text("  no findings", style="green"))
    for f in judged:
        console.print(show(f))
    if accepted:
        console.print(Text("  accepted deviations:", style="green"))
        for f in accepted:
            console.print(show(f))
    if baseline:
        console.print(Text(f"  baseline ({plural(len(baseline), 'finding')} among existing objects only):", style="dim"))
        for f in baseline:
            console.print(show(f))
    for note in result.notes:
        console.print(Text(f"  note: {note}", style="yellow"))
    console.print(Text(f"  {_counted(result.summary())} · {len(baseline)} baseline", style="bold"))
    console.print()


def _counted(summary: dict[str, int]) -> str:
    return f"{plural(summary['error'], 'error')}, {plural(summary['warning'], 'warning')}, {summary['info']} info"


def print_total(console: Console, results: Sequence[CaseResult]) -> None:
    """Print a table of the cases (findings per severity, baseline, accepted), then the closing line over all."""
    totals = dict.fromkeys(SEVERITIES, 0)
    for r in results:
        for key, value in r.summary().items():
            totals[key] += value
    if len(results) > 1:
        table = Table(show_edge=False, box=None, pad_edge=False, header_style="bold")
        columns = ("errors", "warnings", "info", "baseline", "accepted")
        names = [r.path.removesuffix("/case.yaml") for r in results]
        longest = max(len("case"), *map(len, names))
        table.add_column("case", no_wrap=True, min_width=longest)
        for name in columns:
            table.add_column(name, justify="right", no_wrap=True, min_width=len(name))
        for r, name in zip(results, names, strict=True):
            _, accepted, baseline = _groups(r)
            s = r.summary()
            numbers = (s["error"], s["warning"], s["info"], len(baseline), len(accepted))
            table.add_row(name, *map(str, numbers), style="red" if s["error"] else None)
        # a case name is never cut or folded (it is what a reader types next), even past the terminal's width;
        # each column is padded by one space on each side
        needed = longest + sum(map(len, columns)) + 2 * (len(columns) + 1)
        # (Console.print caps its width at the console's own, so widen the console for the table)
        width = console.width
        console.width = max(width, needed)
        try:
            console.print(table)
        finally:
            console.width = width
        console.print()
    failing = sum(1 for r in results if r.summary()["error"])
    console.print(Text(f"{plural(len(results), 'case')} checked: {failing} with errors · {_counted(totals)}"))
