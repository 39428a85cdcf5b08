"""The HTML report: one self-contained file with every checked case, its drawing and findings.

`build_report` turns checked cases into a single HTML document with inline CSS and inline
SVG drawings — no scripts, no fonts, nothing fetched over the network — so it can be
mailed or archived as it is. It opens with a summary table over all cases, then gives
each case its drawing, its findings (numbered as in the drawing) with sources and
suggestions, and its accepted deviations. Sections that know where they lie (cut from a
KLIC delivery) also get a plan view (`checker.views.plan`): the delivery's lines and the
section lines, each linking to its drawing. Other modules add whole sections (for
instance the harmonisation backlog) through `extra_sections`, as HTML they have escaped
themselves. All text from case and rule files is escaped here.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from checker.engine.evaluate import Engine
from checker.model.findings import CaseResult, Finding, Suggestion, counts
from checker.model.numbers import fixed, plural
from checker.pipeline.run import check_paths
from checker.views.plan import plan_svg
from checker.views.render import render_svg
from dsl.diagnostics import Diagnostic, LiggingError, Span

CSS = """
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 2em; color: #212121; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.3em; border-bottom: 2px solid #cfd8dc; padding-bottom: 0.2em; margin-top: 2em; }
h3 { font-size: 1.05em; margin-top: 1.4em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.85em; }
th, td { border: 1px solid #cfd8dc; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
th { background: #eceff1; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.error td.severity { color: #b71c1c; font-weight: bold; }
tr.warning td.severity { color: #e65100; font-weight: bold; }
tr.info td.severity { color: #01579b; }
tr.baseline, tr.accepted { color: #757575; }
.drawing svg { max-width: 100%; height: auto; border: 1px solid #eceff1; }
.meta, .path, .none { color: #616161; font-size: 0.9em; }
.illustrative { color: #6d4c41; font-style: italic; }
ul.suggestions { margin: 0; padding-left: 1.1em; }
ul.plan-legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 0.3em 1.2em; font-size: 0.85em; }
.swatch { display: inline-block; width: 1.4em; height: 0.6em; margin-right: 0.4em; vertical-align: middle; }
"""


def _e(text: object) -> str:
    """Escape text for HTML content and attribute values."""
    return html.escape(str(text), quote=True)


def _length(value: float | None, op: str = "", unit: str = "m") -> str:
    """Format a length in metres (a count whole), or a dash when the relation has no magnitude."""
    if value is None:
        return "—"
    shown = "" if unit == "count" else unit
    return f"{op} {fixed(value, unit)} {shown}".strip()


def _suggestion(s: Suggestion, unit: str) -> str:
    """Say one suggestion in words."""
    if s.move is not None:
        return f"move {s.move} by dx {fixed(s.dx, signed=True)} m, dz {fixed(s.dz, signed=True)} m"
    to = "—" if s.to is None else f"{fixed(s.to, unit)} {'' if unit == 'count' else unit}".strip()
    return f"deviate from {s.deviate} to {to}"


def _status(f: Finding) -> str:
    """Return the row status: baseline, accepted (or its state), or empty for a judged finding."""
    if f.baseline:
        return "baseline"
    if f.accepted:
        return str(dict(f.accepted).get("state", "accepted"))
    return ""


def _findings_table(findings: tuple[Finding, ...]) -> str:
    """Return the findings table, numbered as in the drawing."""
    if not findings:
        return '<p class="none">No findings.</p>'
    rows = []
    for n, f in enumerate(findings, start=1):
        status = _status(f)
        classes = " ".join(c for c in (f.severity, "baseline" if f.baseline else "", "accepted" if f.accepted else "") if c)
        source = _e(f.source) + (f'<div class="illustrative">illustrative: {_e(f.illustrative)}</div>' if f.illustrative else "")
        if f.exception:
            info = dict(f.exception)
            source += (f'<div class="exception">exception via {_e(info.get("measure", ""))}: approval of '
                       f'{_e(info.get("approval", ""))}</div>')
        suggestions = ('<ul class="suggestions">' + "".join(f"<li>{_e(_suggestion(s, f.unit))}</li>" for s in f.suggestions)
                       + "</ul>") if f.suggestions else ""
        rows.append(
            f'<tr class="finding {classes}" data-index="{n}" data-rule="{_e(f.rule)}">'
            f'<td class="num">{n}</td><td class="severity">{_e(f.severity)}</td>'
            f'<td class="rule"><b>{_e(f.rule)}</b><div class="meta">{_e(f.title)}</div>'
            f'<div class="meta">{_e(f.rule_at.where())}</div></td>'
            f'<td>{_e(f.kind)}</td><td class="subjects">{_e(", ".join(f.subjects))}</td>'
            f'<td class="num measured">{_e(_length(f.measured, unit=f.unit))}</td>'
            f'<td class="num required">{_e(_length(f.required, f.op, f.unit))}</td>'
            f'<td class="message">{_e(f.message)}</td><td class="source">{source}</td>'
            f'<td class="suggestion-cell">{suggestions}</td><td class="status">{_e(status)}</td></tr>')
    head = ("<tr><th>#</th><th>severity</th><th>rule</th><th>kind</th><th>subjects</th><th>measured</th>"
            "<th>required</th><th>message</th><th>source</th><th>suggestions</th><th>status</th></tr>")
    return f'<table class="findings"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>'


def _accepted_table(findings: tuple[Finding, ...]) -> str:
    """Return the table of accepted deviations (granted in the case file), or nothing."""
    rows = []
    for n, f in enumerate(findings, start=1):
        if not f.accepted:
            continue
        info = dict(f.accepted)
        rows.append(f'<tr class="deviation" data-rule="{_e(f.rule)}"><td class="num">{n}</td><td>{_e(f.rule)}</td>'
                    f'<td>{_e(", ".join(f.subjects))}</td><td>{_e(info.get("state", ""))}</td>'
                    f'<td>{_e(info.get("reason", ""))}</td><td>{_e(info.get("approved_by", ""))}</td>'
                    f'<td>{_e(info.get("until", ""))}</td></tr>')
    if not rows:
        return ""
    head = ("<tr><th>#</th><th>rule</th><th>subjects</th><th>state</th><th>reason</th><th>approved by</th>"
            "<th>until</th></tr>")
    return (f'<h3>Accepted deviations</h3><table class="accepted"><thead>{head}</thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _counts(result: CaseResult) -> tuple[dict[str, int], int, int]:
    """Return the per-severity summary, the baseline count and the accepted count of a case."""
    baseline = sum(1 for f in result.findings if f.baseline)
    accepted = sum(1 for f in result.findings if not f.baseline and not counts(f))
    return result.summary(), baseline, accepted


def _summary(results: Sequence[CaseResult]) -> str:
    """Return the summary table over all cases, with totals."""
    rows, totals = [], [0, 0, 0, 0, 0]
    for i, r in enumerate(results, start=1):
        s, baseline, accepted = _counts(r)
        numbers = [s["error"], s["warning"], s["info"], baseline, accepted]
        totals = [a + b for a, b in zip(totals, numbers, strict=True)]
        rows.append(f'<tr class="case-row{" failing" if s["error"] else ""}"><td><a href="#case-{i}">{_e(r.section.name)}</a>'
                    f'<div class="path">{_e(r.path)}</div></td>'
                    + "".join(f'<td class="num">{v}</td>' for v in numbers) + "</tr>")
    head = ("<tr><th>case</th><th>errors</th><th>warnings</th><th>info</th><th>baseline</th>"
            "<th>accepted</th></tr>")
    foot = (f'<tr><th>{plural(len(results), "case")}</th>' + "".join(f'<th class="num">{v}</th>' for v in totals) + "</tr>")
    return (f'<section id="summary"><h2>Summary</h2><table class="summary"><thead>{head}</thead>'
            f'<tbody>{"".join(rows)}</tbody><tfoot>{foot}</tfoot></table></section>')


def _tag(value: str | float) -> str:
    """Format a case tag: whole numbers (a planned year) without a decimal point."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _case(i: int, result: CaseResult, engine: Engine) -> str:
    """Return one case's section: heading, drawing, findings and accepted deviations."""
    s = result.section
    summary, baseline, accepted = _counts(result)
    tags = " · ".join(f"{k}: {_tag(v)}" for k, v in s.tags)
    drawing = render_svg(s, result.findings, engine.packs, id_prefix=f"c{i}-")
    return (f'<section class="case" id="case-{i}"><h2>{_e(s.name)}</h2>'
            f'<p class="path">{_e(result.path)}{" · " + _e(tags) if tags else ""}</p>'
            f'<p class="meta">{plural(summary["error"], "error")}, {plural(summary["warning"], "warning")}, '
            f'{summary["info"]} info · '
            f'{baseline} baseline · {accepted} accepted</p>'
            f'<div class="drawing">{drawing}</div><h3>Findings</h3>{_findings_table(result.findings)}'
            f'{_accepted_table(result.findings)}</section>')


def _version() -> str:
    """Return the installed ligging version, or 'dev' when run from a bare checkout."""
    try:
        return version("ligging")
    except PackageNotFoundError:
        return "dev"


def build_report(results: Sequence[CaseResult], engine: Engine, extra_sections: Sequence[str] = (),
                 title: str = "ligging — dwarsprofielen") -> str:
    """Return the report as one self-contained HTML document; `extra_sections` are appended as given."""
    packs = ", ".join(f"{p.name} {p.version}" for p in engine.packs.packs)
    body = "".join(_case(i, r, engine) for i, r in enumerate(results, start=1))
    return (f'<!DOCTYPE html>\n<html lang="nl"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{_e(title)}</title><style>{CSS}</style></head><body>'
            f'<header><h1>{_e(title)}</h1><p class="meta">packs: {_e(packs)} · ligging {_e(_version())}</p>'
            f'<p class="meta">Rule values marked illustrative are placeholders; check the packs against the '
            f'licensed documents before using findings for decisions.</p></header>'
            f'{_summary(results)}{plan_svg(list(enumerate(results, start=1)), engine.packs)}{body}'
            f'{"".join(extra_sections)}</body></html>\n')


def write_report(paths: list[Path], engine: Engine, output: Path, extra_sections: Sequence[str] = ()) -> list[CaseResult]:
    """Check the cases under `paths`, write the HTML report to `output`, and return the results."""
    results = list(check_paths(paths, engine))
    try:
        output.write_text(build_report(results, engine, extra_sections), encoding="utf-8")
    except OSError as exc:
        raise LiggingError(Diagnostic(Span(str(output), 1, 1), f"cannot write the report: {exc.strerror}")) from exc
    return results
