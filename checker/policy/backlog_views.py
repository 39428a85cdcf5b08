"""The backlog as people read it: terminal list and entry, XLSX, Markdown, and a self-contained HTML view.

`render_list` fits the terminal: the columns a policy officer scans first (urgency, class,
the rules that rub, what, status and phase, cases, deviation) wrap to the width; `wide`
adds every column and the urgency's parts. `render_detail` prints one entry with its
rules (authority, instrument, who can change it, source), the computed evidence per case
and the history. The XLSX has a sheet of entries and one of occurrences, laid out for
reading (widths, wrapped text, frozen header, filters). The HTML view is one file without
scripts or external resources: a summary per class and phase, then every entry with its
rules and occurrences. Text cells a spreadsheet would run as a formula are neutralised.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from rich import box
from rich.console import Console
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from checker.model.numbers import plural
from checker.policy.backlog import Detail, Item, Occurrence
from checker.policy.backlog_schema import CLASSES, PHASES, STATUSES
from checker.policy.backlog_store import error
from checker.policy.friction import RuleRef

DANGEROUS_LEAD = ("=", "+", "-", "@", "\t", "\r")
CLASS_WORDS = {
    "contradiction": "two rules that cannot both hold",
    "praktijktoets": "a rule that blocks a harmonisation proposal",
    "space": "a rule that does not fit the space available",
    "data": "a placeholder value, or a depth the data only declares or assumes",
}


def neutralise(value: str | int | float | None) -> str | int | float | None:
    """Prefix a text cell a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(DANGEROUS_LEAD):
        return "'" + value
    return value


def restore(value: str) -> str:
    """Undo `neutralise` on a text cell read back."""
    if value.startswith("'") and value[1:].startswith(DANGEROUS_LEAD):
        return value[1:]
    return value


def deviation_text(amount: float | None, unit: str) -> str:
    """Say a deviation: `0.270 m`, or a dash without magnitude."""
    return "—" if amount is None else f"{amount:.3f} {unit}".strip()


def rules_text(rules: Sequence[RuleRef]) -> str:
    """Say the rules of an entry: `A ↔ B`, with agreeing rules after '='."""
    rubbing = " ↔ ".join(r.rule for r in rules if r.role == "rubs")
    agreeing = [r.rule for r in rules if r.role == "agrees"]
    return rubbing + (f" (= {', '.join(agreeing)})" if agreeing else "")


def _short_case(case: str) -> str:
    path = Path(case)
    return path.parent.name if path.name == "case.yaml" and path.parent.name else case


# ---- terminal --------------------------------------------------------------------------------

def render_list(console: Console, items: Sequence[Item], wide: bool = False) -> None:
    """Print the backlog ranked as given, fitted to the console's width; `wide` shows every column.

    The rules and what they ask share one column that wraps; the status and phase, then the
    deviation, are left out when the console is too narrow for them.
    """
    counts = Counter(i.friction for i in items)
    summary = ", ".join(f"{counts[k]} {k}" for k in CLASSES if counts[k])
    width = console.width
    show_status = wide or width >= 88
    show_deviation = wide or width >= 72
    table = Table(title=f"harmonisation backlog: {plural(len(items), 'entry', 'entries')}" + (f" ({summary})" if summary else ""),
                  title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, expand=not wide)
    table.add_column("id", justify="right", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("class", no_wrap=True)
    if wide:
        table.add_column("rules that rub, and what", max_width=60)
    else:
        table.add_column("rules that rub, and what", ratio=1, min_width=24)
    if show_status:
        table.add_column("status\nphase", no_wrap=True)
    table.add_column("cases", justify="right", no_wrap=True)
    if show_deviation:
        table.add_column("deviation", justify="right", no_wrap=True)
    if wide:
        for name in ("triage", "severity", "can be changed by", "instrument", "municipalities", "soonest works",
                     "occ.", "+cases", "+sev", "+dev", "+soon"):
            table.add_column(name, justify="right" if name.startswith(("+", "occ")) else "left")
    for i in items:
        u = i.urgency
        what = Text(rules_text(i.rules), style="bold")
        what.append("\n" + i.title, style="")
        row: list[str | Text] = [str(i.id), f"{u.total:.1f}", i.friction, what]
        if show_status:
            row.append(Text(i.status + "\n") + Text(i.phase, style="dim"))
        row.append(str(len(i.cases)))
        if show_deviation:
            row.append(deviation_text(i.amount, i.unit))
        if wide:
            rubbing = i.rubbing
            row += [i.triage or "", i.severity, Text("; ".join(dict.fromkeys(r.changed_by or r.authority
                                                                            for r in rubbing))),
                    Text("; ".join(dict.fromkeys(f"{r.instrument_kind}: {r.instrument}" if r.instrument_kind else "—"
                                                 for r in rubbing))),
                    Text(", ".join(i.municipalities)), i.planned or "—", str(i.occurrences), f"{u.cases:.1f}",
                    f"{u.severity:.1f}", f"{u.deviation:.1f}", f"{u.soon:.1f}"]
        table.add_row(*row, end_section=True)
    console.print(table)
    if not wide:
        console.print("score: urgency (docs/backlog.md). --wide: instrument, who can change it, the score's parts. "
                      "`ligging backlog show ID`: the evidence.", style="dim", markup=False)


def render_detail(console: Console, d: Detail) -> None:
    """Print one entry: what rubs and why, its rules and instruments, urgency, evidence per case, history."""
    i, u = d.item, d.item.urgency

    def out(text: str, indent: int = 2, style: str = "") -> None:
        # wrapped lines keep their indent, so a long source or evidence stays readable
        console.print(Padding(Text(text, style=style), (0, 0, 0, indent)))

    out(f"entry {i.id}: {rules_text(i.rules)}", 0, "bold")
    out(i.title)
    out(f"class {i.friction}: {CLASS_WORDS.get(i.friction, '')}")
    out(f"status {i.status}   phase {i.phase}   triage {i.triage or '—'}   severity {i.severity}")
    for r in i.rules:
        out(f"{'agrees' if r.role == 'agrees' else 'rubs'}: {r.rule}  ({r.pack} {r.version}, {r.authority or '—'})")
        if r.instrument_kind:
            out(f"instrument: {r.instrument_kind}, {r.instrument}", 6)
        out(f"can be changed by: {r.changed_by or r.authority or '—'}", 6)
        out(f"source: {r.source}", 6)
    out(f"urgency {u.total:.1f} = cases {u.cases:.1f} + severity {u.severity:.1f} + deviation {u.deviation:.1f} "
        f"+ soon {u.soon:.1f}   (soonest works: {i.planned or '—'})")
    out(f"{_plural(i.occurrences, 'occurrence')} in {_plural(len(i.cases), 'case')}; largest deviation "
        f"{deviation_text(i.amount, i.unit)}")
    out("evidence, latest per case and place:")
    for o in _latest(d.occurrences):
        where = (_short_case(o.case_path) or "(no case)") + (f", {o.municipality}" if o.municipality else "") + \
            (f", works {o.planned}" if o.planned else "")
        out(f"{where}: {o.place or ', '.join(o.subjects) or '—'}", 4)
        out(o.evidence or o.message, 6)
        times = _times(d.occurrences, o)
        out(f"{o.origin} run {o.run_id[:22]}, {o.at}, {o.who}; seen {'once' if times == 1 else f'{times} times'}",
            6, "dim")
    if i.related:
        out(f"related entries (sharing a rule): {', '.join(str(x) for x in i.related)}")
    if d.merged:
        out(f"merged in: {', '.join(str(x) for x in d.merged)}")
    out("history:")
    for h in d.history:
        change = f"+ entry {h.new}" if h.field == "merge" else f"{h.old or '∅'} → {h.new}"
        out(f"{h.at}  {h.who}  {h.field}: {change}  {h.note}", 4)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _latest(occurrences: Sequence[Occurrence]) -> list[Occurrence]:
    """Return the latest occurrence per (case, subjects), in case order."""
    latest: dict[tuple[str, tuple[str, ...]], Occurrence] = {}
    for o in occurrences:
        latest[(o.case_path, o.subjects)] = o
    return [latest[k] for k in sorted(latest)]


def _times(occurrences: Sequence[Occurrence], o: Occurrence) -> int:
    return sum(1 for x in occurrences if (x.case_path, x.subjects) == (o.case_path, o.subjects))


# ---- tables for files ------------------------------------------------------------------------

ENTRY_COLUMNS: tuple[tuple[str, int], ...] = (  # name, width in the XLSX (characters)
    ("id", 6), ("urgency", 9), ("class", 14), ("rules", 28), ("title", 44), ("status", 11), ("phase", 13),
    ("triage", 20), ("severity", 9), ("authorities", 30), ("instruments", 44), ("can be changed by", 30),
    ("cases", 7), ("occurrences", 12), ("municipalities", 20), ("soonest works", 13), ("deviation", 10),
    ("unit", 6), ("urgency: cases", 9), ("urgency: severity", 9), ("urgency: deviation", 9), ("urgency: soon", 9),
    ("latest evidence", 70), ("sources", 60), ("key", 26),
)
OCCURRENCE_COLUMNS: tuple[tuple[str, int], ...] = (
    ("entry", 6), ("rules", 28), ("class", 14), ("case", 36), ("municipality", 14), ("works planned", 13),
    ("place", 36), ("amount", 9), ("unit", 6), ("measured", 9), ("required", 9), ("evidence", 80),
    ("deviation granted", 12), ("origin", 8), ("at", 20), ("who", 10), ("run", 24),
)


def entry_row(i: Item) -> list[str | int | float | None]:
    """Return an entry as a row of ENTRY_COLUMNS (lists inside a cell one per line)."""
    u = i.urgency
    rubbing = i.rubbing
    return [
        i.id, round(u.total, 2), i.friction, rules_text(i.rules), i.title, i.status, i.phase, i.triage or "",
        i.severity, "\n".join(dict.fromkeys(r.authority for r in i.rules)),
        "\n".join(f"{r.instrument_kind}: {r.instrument}" for r in rubbing if r.instrument_kind),
        "\n".join(dict.fromkeys(r.changed_by or r.authority for r in rubbing)), len(i.cases), i.occurrences,
        "\n".join(i.municipalities), i.planned, i.amount, i.unit, u.cases, u.severity, u.deviation, u.soon,
        i.evidence, "\n".join(f"{r.rule}: {r.source}" for r in i.rules), i.key,
    ]


def occurrence_row(i: Item, o: Occurrence) -> list[str | int | float | None]:
    """Return an occurrence as a row of OCCURRENCE_COLUMNS."""
    return [i.id, rules_text(i.rules), o.friction, o.case_path, o.municipality, o.planned,
            o.place or ", ".join(o.subjects), o.amount, o.unit, o.measured, o.required, o.evidence or o.message,
            o.accepted, o.origin, o.at, o.who, o.run_id]


def export_xlsx(items: Sequence[Item], occurrences: dict[int, Sequence[Occurrence]], out: Path) -> None:
    """Write the entries and their occurrences as an XLSX workbook laid out for reading."""
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    book = Workbook()
    first = book.active
    assert first is not None  # a new workbook has one sheet
    sheets = (
        (first, "entries", ENTRY_COLUMNS, [entry_row(i) for i in items]),
        (book.create_sheet(), "occurrences", OCCURRENCE_COLUMNS,
         [occurrence_row(i, o) for i in items for o in occurrences.get(i.id, ())]),
    )
    head_fill = PatternFill("solid", fgColor="ECEFF1")
    for sheet, title, columns, rows in sheets:
        sheet.title = title
        sheet.append([name for name, _ in columns])
        for row in rows:
            sheet.append([neutralise(v) for v in row])
        for k, (_name, width) in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(k)].width = width
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.fill = head_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for line in sheet.iter_rows(min_row=2):
            for cell in line:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                if isinstance(cell.value, float):
                    cell.number_format = "0.000"
        sheet.freeze_panes = "B2"
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{max(1, len(rows) + 1)}"
    book.save(out)


def markdown(items: Sequence[Item]) -> str:
    """Return the entries as a Markdown table (the columns a reader scans, evidence included)."""
    names = ("id", "urgency", "class", "rules", "title", "status", "phase", "can be changed by", "cases",
             "deviation", "latest evidence")

    def cell(v: object) -> str:
        return html.escape("" if v is None else str(v), quote=False).replace("|", "\\|").replace("\n", "<br>")

    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for i in items:
        row = [i.id, f"{i.urgency.total:.1f}", i.friction, rules_text(i.rules), i.title, i.status, i.phase,
               "; ".join(dict.fromkeys(r.changed_by or r.authority for r in i.rubbing)), len(i.cases),
               deviation_text(i.amount, i.unit), i.evidence]
        lines.append("| " + " | ".join(cell(neutralise(v)) for v in row) + " |")
    return "\n".join(lines) + "\n"


# ---- HTML ------------------------------------------------------------------------------------

CSS = """
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 2em; color: #212121; max-width: 90em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { font-size: 1.25em; border-bottom: 2px solid #cfd8dc; padding-bottom: 0.2em; margin-top: 1.6em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.85em; width: 100%; }
table.register { table-layout: fixed; }
th, td { border: 1px solid #cfd8dc; padding: 0.3em 0.5em; text-align: left; vertical-align: top;
         overflow-wrap: break-word; }
tr.more td { border-top: none; padding-top: 0; }
tr.entry td { border-bottom: none; }
th { background: #eceff1; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.date { white-space: nowrap; }
table.counts { width: auto; }
.meta, .none { color: #616161; font-size: 0.9em; }
.class { display: inline-block; padding: 0.05em 0.45em; border-radius: 0.6em; font-size: 0.85em; white-space: nowrap; }
.class.contradiction { background: #ffcdd2; color: #b71c1c; }
.class.praktijktoets { background: #ffe0b2; color: #e65100; }
.class.space { background: #d7ccc8; color: #4e342e; }
.class.data { background: #e1f5fe; color: #01579b; }
details { margin: 0.2em 0 0.4em; }
summary { cursor: pointer; color: #37474f; }
table.inner { font-size: 0.95em; margin: 0.3em 0; }
.evidence { color: #37474f; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _rules_html(rules: Sequence[RuleRef]) -> str:
    rows = "".join(
        f"<tr><td>{_e(r.rule)}</td><td>{_e(r.role)}</td><td>{_e(r.authority)}</td>"
        f"<td>{_e(r.instrument_kind + ': ' + r.instrument if r.instrument_kind else '—')}</td>"
        f"<td>{_e(r.changed_by or r.authority)}</td><td>{_e(r.source)}</td></tr>" for r in rules)
    return ('<table class="inner rules"><tr><th>rule</th><th>part</th><th>authority</th><th>instrument</th>'
            f"<th>can be changed by</th><th>source</th></tr>{rows}</table>")


def _occurrences_html(occurrences: Sequence[Occurrence]) -> str:
    rows = "".join(
        f'<tr class="occurrence"><td>{_e(_short_case(o.case_path) or "—")}</td><td>{_e(o.municipality)}</td>'
        f"<td>{_e(o.planned or '—')}</td><td>{_e(o.place or ', '.join(o.subjects) or '—')}</td>"
        f'<td class="num">{_e(deviation_text(o.amount, o.unit))}</td>'
        f'<td class="evidence">{_e(o.evidence or o.message)}</td>'
        f"<td>{_e(o.origin)}, {_e(o.at)}, {_e(o.who)}</td></tr>" for o in occurrences)
    return ('<table class="inner occurrences"><tr><th>case</th><th>municipality</th><th>works planned</th>'
            f"<th>place</th><th>deviation</th><th>evidence</th><th>logged</th></tr>{rows}</table>")


def entries_html(items: Sequence[Item], occurrences: dict[int, Sequence[Occurrence]] | None = None) -> str:
    """Return the entries as one HTML table: a row per entry, and under it its rules and occurrences, folded."""
    if not items:
        return '<p class="none">The backlog is empty.</p>'
    rows = []
    for i in items:
        u = i.urgency
        occ = (occurrences or {}).get(i.id, ())
        rows.append(
            f'<tr class="entry {_e(i.friction)}" id="entry-{i.id}"><td class="num">{i.id}</td>'
            f'<td class="num">{u.total:.1f}<br><span class="meta">{u.cases:.1f} · {u.severity:.1f} · '
            f"{u.deviation:.1f} · {u.soon:.1f}</span></td>"
            f'<td><span class="class {_e(i.friction)}">{_e(i.friction)}</span></td>'
            f"<td><strong>{_e(rules_text(i.rules))}</strong><br>{_e(i.title)}"
            f'<br><span class="evidence">{_e(i.evidence)}</span></td>'
            f"<td>{_e(i.status)}<br>{_e(i.phase)}<br><span class=\"meta\">{_e(i.triage or '')}</span></td>"
            f"<td>{_e('; '.join(dict.fromkeys(r.changed_by or r.authority for r in i.rubbing)))}</td>"
            f'<td class="num">{len(i.cases)}<br><span class="meta">{i.occurrences} occ.</span></td>'
            f'<td class="num">{_e(deviation_text(i.amount, i.unit))}</td>'
            f'<td class="date">{_e(i.planned or "—")}</td></tr>')
        rows.append(
            f'<tr class="more"><td></td><td colspan="8">'
            f"<details><summary>rules, instruments and sources</summary>{_rules_html(i.rules)}</details>"
            + (f"<details><summary>{_plural(len(occ), 'occurrence')}</summary>{_occurrences_html(occ)}</details>"
               if occ else "")
            + "</td></tr>")
    widths = "".join(f'<col style="width: {w}">' for w in ("3.2em", "7.5em", "8.5em", "auto", "8em", "10em",
                                                             "4.5em", "6.5em", "7.5em"))
    head = ("<tr><th>id</th><th>urgency<br><span class=\"meta\">cases · severity · deviation · soon</span></th>"
            "<th>class</th><th>rules that rub, what, and the evidence</th><th>status<br>phase</th>"
            "<th>can be changed by</th><th>cases</th><th>deviation</th><th>soonest works</th></tr>")
    return (f'<table class="register"><colgroup>{widths}</colgroup><thead>{head}</thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def register_html(items: Sequence[Item], occurrences: dict[int, Sequence[Occurrence]], where: str,
                  today: str) -> str:
    """Return the whole register as one self-contained HTML document (no scripts, no external resources)."""
    by_class = Counter(i.friction for i in items)
    by_phase = Counter(i.phase for i in items)
    by_status = Counter(i.status for i in items)
    counts = ("<table class=\"counts\"><tr><th>class</th>" + "".join(f"<th>{_e(k)}</th>" for k in CLASSES)
              + "</tr><tr><td>entries</td>" + "".join(f'<td class="num">{by_class[k]}</td>' for k in CLASSES)
              + "</tr></table><table class=\"counts\"><tr><th>OT6 phase</th>"
              + "".join(f"<th>{_e(k)}</th>" for k in PHASES) + "</tr><tr><td>entries</td>"
              + "".join(f'<td class="num">{by_phase[k]}</td>' for k in PHASES) + "</tr></table>"
              + "<table class=\"counts\"><tr><th>status</th>" + "".join(f"<th>{_e(k)}</th>" for k in STATUSES)
              + "</tr><tr><td>entries</td>" + "".join(f'<td class="num">{by_status[k]}</td>' for k in STATUSES)
              + "</tr></table>")
    legend = "".join(f'<li><span class="class {k}">{k}</span> {_e(CLASS_WORDS[k])}</li>' for k in CLASSES)
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Harmonisation backlog</title><style>{CSS}</style></head><body>"
            f"<h1>Harmonisation backlog</h1><p class=\"meta\">{_e(where)}, {len(items)} entries, ranked by urgency "
            f"on {_e(today)} (formula: docs/backlog.md)</p>{counts}<ul class=\"meta\">{legend}</ul>"
            f"<h2>Entries</h2>{entries_html(items, occurrences)}</body></html>\n")


def write(fmt: str, items: Sequence[Item], occurrences: dict[int, Sequence[Occurrence]], out: Path, where: str,
          today: str) -> None:
    """Write the listed entries as XLSX, Markdown or HTML (CSV: `checker.policy.backlog_csv`)."""
    try:
        if fmt == "xlsx":
            export_xlsx(items, occurrences, out)
        elif fmt == "md":
            out.write_text(markdown(items), encoding="utf-8")
        elif fmt == "html":
            out.write_text(register_html(items, occurrences, where, today), encoding="utf-8")
        else:
            raise error(out, f"unknown export format '{fmt}' (expected csv, xlsx, md or html)")
    except OSError as exc:
        raise error(out, f"cannot write the export: {exc.strerror or exc}") from None


def report_section(items: Sequence[Item], where: str, top: int = 10) -> str:
    """Return the report's backlog section: the most urgent entries with their evidence, as escaped HTML."""
    return (f'<section id="backlog"><h2>Harmonisation backlog</h2><p class="meta">{_e(where)}: the '
            f"{min(top, len(items))} most urgent of {len(items)} entries (urgency formula: docs/backlog.md)</p>"
            f"<style>{CSS_SECTION}</style>{entries_html(items[:top])}</section>")


CSS_SECTION = """
.class { display: inline-block; padding: 0.05em 0.45em; border-radius: 0.6em; font-size: 0.85em; }
.class.contradiction { background: #ffcdd2; color: #b71c1c; } .class.praktijktoets { background: #ffe0b2; }
.class.space { background: #d7ccc8; } .class.data { background: #e1f5fe; } .evidence { color: #37474f; }
"""
