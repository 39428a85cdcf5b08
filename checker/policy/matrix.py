"""Verbeelding: the rules of every authority side by side, as one HTML or Markdown matrix.

`ligging rules matrix` reads packs (default: all shipped) and lays out, per pair of
networks (IMKL themas, groups expanded through the packs, plus the object kinds rules
name such as trees), the clearance each authority requires — value, reference geometry
(edge or axis), plane — with every value linked to its rule and the rule's source; the
cover range (minimum and maximum) per network per authority; and each authority's order
relations. Where the authorities that speak about a pair or a network ask different
things, their cells carry the CSS class `differs`; rules that `ligging rules lint` finds
contradictory (its L3xx findings) carry `contradiction` and are listed with the lint
message. Overridden rules are shown struck through, so what each authority wrote stays
visible. The HTML is one self-contained file (inline CSS, no scripts), everything escaped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from checker.engine.explain import selector_words
from checker.engine.lint import lint_packs
from checker.engine.select import members
from checker.model.section import CABLE_THEMAS, THEMAS
from dsl import ast
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import PackRule, PackSet, load_packs

# Object kinds a rule may name besides networks, in the order the matrix lists them.
OBJECT_KINDS = ("crossing", "tree", "structure", "container", "rack", "reservation", "infiltration", "wadi", "tree-soil")
LABELS = THEMAS + OBJECT_KINDS
SYMBOL = {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "=", "!=": "≠"}
CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5rem;color:#1b1b1b;background:#fff}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5rem 0;font-size:.85rem}
th,td{border:1px solid #bbb;padding:.25rem .45rem;vertical-align:top;text-align:left;max-width:22rem}
thead th{background:#eef1f5;position:sticky;top:0}
th.net{white-space:nowrap;background:#f7f7f7}
td.differs{background:#fff1c2}
td.empty{background:#fafafa}
.entry{display:block;margin-bottom:.2rem}
.entry.overridden{color:#888;text-decoration:line-through}
.entry.contradiction{outline:2px solid #c0392b;background:#fde2e0}
.note{display:block;color:#555;font-size:.78rem}
.legend .note,th .note{display:inline}
.legend span{display:inline-block;padding:.1rem .4rem;margin-right:.6rem;border:1px solid #bbb}
a{color:#0b4f8a}
"""


@dataclass(frozen=True, slots=True)
class Entry:
    """One requirement of one rule as it applies to a cell: value, geometry, plane, qualifications."""

    rule: str
    pack: str
    op: str
    value: float
    ref: str
    plane: str
    note: str
    overridden: bool
    version: int = 1
    relaxed: tuple[tuple[str, float], ...] = ()

    def key(self) -> tuple[object, ...]:
        """Return what must agree between authorities for a cell not to differ (exceptions included)."""
        return (self.op, round(self.value, 4), self.ref, self.plane, self.relaxed)

    def text(self) -> str:
        """Return the requirement as a short phrase: `≥ 0.30 m edge-edge horizontal`."""
        geometry = " ".join(p for p in (self.ref, self.plane) if p)
        return f"{SYMBOL.get(self.op, self.op)} {self.value:.2f} m" + (f" {geometry}" if geometry else "")


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """What the matrix says about a rule it links to."""

    pack: str
    authority: str
    rule: ast.Rule
    overridden_by: str
    version: int

    @property
    def anchor(self) -> str:
        """Return the HTML id of the rule's row in the rules table (later versions of an id get `-vN`)."""
        return f"rule-{self.pack}-{self.rule.id}" + (f"-v{self.version}" if self.version > 1 else "")


@dataclass(frozen=True, slots=True)
class Matrix:
    """The rules of a pack set arranged per network pair, network and authority."""

    packs: tuple[ast.RulePack, ...]
    columns: tuple[str, ...]
    clearances: dict[tuple[str, str], dict[str, list[Entry]]]
    covers: dict[str, dict[str, list[Entry]]]
    orders: dict[str, list[tuple[RuleInfo, str]]]
    rules: dict[tuple[str, str, int], RuleInfo]
    contradictions: tuple[tuple[Diagnostic, tuple[str, ...]], ...]

    def contradicted(self) -> set[str]:
        """Return the ids of rules involved in a contradiction."""
        return {rule for _, rules in self.contradictions for rule in rules}


def differs(cells: dict[str, list[Entry]]) -> bool:
    """Tell whether the authorities that speak about a cell ask different things."""
    said = [frozenset(e.key() for e in entries) for entries in cells.values()]
    said = [s for s in said if s]
    return len(set(said)) > 1


def cover_range(entries: Iterable[Entry]) -> tuple[float | None, float | None]:
    """Return the strictest minimum and maximum cover among the entries of one authority."""
    live = list(entries)
    lows = [e.value for e in live if e.op in (">=", ">")]
    highs = [e.value for e in live if e.op in ("<=", "<")]
    return (max(lows) if lows else None, min(highs) if highs else None)


def range_text(low: float | None, high: float | None) -> str:
    """Write a cover range: `0.70 to 1.00 m`, `≥ 0.60 m` or `≤ 1.00 m`."""
    if low is not None and high is not None:
        return f"{low:.2f} to {high:.2f} m"
    if low is not None:
        return f"≥ {low:.2f} m"
    return f"≤ {high:.2f} m" if high is not None else ""


# ---------------------------------------------------------------- building


def labels(sel: ast.Selector, packs: PackSet) -> tuple[frozenset[str], bool]:
    """Return the networks and object kinds a selector can pick, and whether attribute tests narrow it."""
    if isinstance(sel, ast.SelAny):
        return frozenset(LABELS), False
    if isinstance(sel, ast.SelName):
        name = sel.name
        if name in THEMAS or name in OBJECT_KINDS:
            return frozenset({name}), False
        if name in packs.groups:
            return frozenset(members(packs, name)), False
        if name == "cable":
            return frozenset(CABLE_THEMAS), False
        if name == "pipe":
            return frozenset(t for t in THEMAS if t not in CABLE_THEMAS), False
        # `line` and `racked` are any cable or pipe
        return frozenset(THEMAS), False
    if isinstance(sel, ast.SelUnion):
        parts = [labels(p, packs) for p in sel.parts]
        return frozenset().union(*(p[0] for p in parts)), any(p[1] for p in parts)
    if isinstance(sel, ast.SelAnd):
        parts = [labels(p, packs) for p in sel.parts]
        return frozenset.intersection(*(p[0] for p in parts)), any(p[1] for p in parts)
    if isinstance(sel, ast.SelNot):
        if isinstance(sel.part, ast.SelName) and sel.part.name == "racked":
            # held by a rack or not says nothing about the network: it only narrows
            return frozenset(LABELS), True
        inner, _ = labels(sel.part, packs)
        return frozenset(LABELS) - inner, True
    base, _ = labels(sel.base, packs)
    return base, True


def _pair(a: str, b: str) -> tuple[str, str]:
    return (a, b) if LABELS.index(a) <= LABELS.index(b) else (b, a)


def _qualifiers(pr: PackRule, k: int, req: ast.Requirement) -> list[str]:
    """Return the notes that qualify a requirement: conditions, alternative, exceptions."""
    notes: list[str] = []
    for cond in pr.rule.conditions:
        value = f"{cond.value:g}" if isinstance(cond.value, float) else cond.value
        notes.append(f"where {cond.name} {cond.op} {value}")
    if pr.rule.validity is not None:
        v = pr.rule.validity
        notes.append(" ".join(p for p in ("valid", f"from {v.start}" if v.start else "", f"to {v.end}" if v.end else "") if p))
    if len(pr.rule.alternatives) > 1:
        notes.append(f"alternative {k + 1} of {len(pr.rule.alternatives)} (meeting any one suffices)")
    for exc in req.exceptions:
        relaxed = f" then {SYMBOL.get(exc.op, exc.op)} {exc.limit.text}" if exc.limit is not None else ""
        notes.append(f"unless {', '.join(exc.measures)}{relaxed} (approval {exc.approver})")
    return notes


def build(packs: PackSet) -> Matrix:
    """Arrange every rule of the pack set (overridden ones included, marked) into the matrix."""
    every = [(pr, False) for pr in packs.rules] + [(pr, True) for pr in packs.overridden]
    every.sort(key=lambda item: (packs.packs.index(item[0].pack), item[0].rule.span.line))
    clearances: dict[tuple[str, str], dict[str, list[Entry]]] = {}
    covers: dict[str, dict[str, list[Entry]]] = {}
    orders: dict[str, list[tuple[RuleInfo, str]]] = {}
    rules: dict[tuple[str, str, int], RuleInfo] = {}
    used: set[str] = set()
    for pr, overridden in every:
        pack = pr.pack.name
        by = ""
        if overridden:
            by = ", ".join(o.rule.id for o in packs.rules if o.rule.overrides == f"{pack}:{pr.rule.id}")
        version = 1 + sum(1 for (p, rid, _) in rules if p == pack and rid == pr.rule.id)
        rules[(pack, pr.rule.id, version)] = RuleInfo(pack, pr.pack.authority, pr.rule, by, version)
        for k, req in enumerate(pr.rule.alternatives):
            rel = req.relation
            notes = _qualifiers(pr, k, req)
            if overridden:
                notes.insert(0, f"overridden by {by}")
            relaxed = tuple((e.op, round(e.limit.value, 4)) for e in req.exceptions if e.limit is not None)
            if isinstance(rel, ast.Cover):
                found, narrowed = labels(rel.selector, packs)
                note = "; ".join(([f"only {selector_words(rel.selector)}"] if narrowed else []) + notes)
                for name in found:
                    covers.setdefault(name, {}).setdefault(pack, []).append(
                        Entry(pr.rule.id, pack, rel.op, rel.limit.value, "", "", note, overridden, version, relaxed))
                used.add(pack)
            elif isinstance(rel, (ast.Clearance, ast.CrossingClearance, ast.Exclusion)):
                if isinstance(rel, ast.Exclusion):
                    sides = (rel.selector, rel.target)
                    part = "root zone" if rel.part == "root-zone" else "body"
                    ref, plane, op = f"outside {part}", "shortest", ">="
                    value = rel.limit.value if rel.limit is not None else 0.0
                else:
                    sides = (rel.a.selector, rel.b.selector)
                    ref, plane, op, value = f"{rel.a.ref}-{rel.b.ref}", rel.plane, rel.op, rel.limit.value
                found_a, narrow_a = labels(sides[0], packs)
                found_b, narrow_b = labels(sides[1], packs)
                if isinstance(rel, ast.CrossingClearance):
                    # every crossing is one row label; a selector naming only some networks narrows it
                    found_a, narrow_a = frozenset({"crossing"}), narrow_a or not found_a >= frozenset(THEMAS)
                extra = []
                if narrow_a or narrow_b:
                    extra.append(f"only {selector_words(sides[0])} with {selector_words(sides[1])}")
                if isinstance(rel, (ast.Clearance)) and rel.inside_rack:
                    extra.append("inside one rack")
                if isinstance(rel, ast.Clearance) and rel.pairing is not None:
                    extra.append(f"pairs with {rel.pairing.mode} {', '.join(rel.pairing.names)}")
                note = "; ".join(extra + notes)
                entry = Entry(pr.rule.id, pack, op, value, ref, plane, note, overridden, version, relaxed)
                for pair in {_pair(a, b) for a in found_a for b in found_b}:
                    clearances.setdefault(pair, {}).setdefault(pack, []).append(entry)
                used.add(pack)
            elif isinstance(rel, ast.Order):
                scope = " inside rack" if rel.inside_rack else ""
                text = f"{rel.direction}{scope} ({rel.ref}): " + " → ".join(selector_words(s) for s in rel.sequence)
                if notes:
                    text += " — " + "; ".join(notes)
                orders.setdefault(pack, []).append((rules[(pack, pr.rule.id, version)], text))
                used.add(pack)
    contradictions = []
    for diag in lint_packs(packs.packs):
        # L3xx are lint's contradictions; an info-level L3xx only reports a needed width
        if not diag.code.startswith("L3") or diag.severity == "info":
            continue
        involved = tuple(sorted({info.rule.id for info in rules.values()
                                 if re.search(rf"(?<![\w-]){re.escape(info.rule.id)}(?![\w-])", diag.message)
                                 or _contains(info.rule, diag.span)}))
        contradictions.append((diag, involved))
    columns = tuple(p.name for p in packs.packs if p.name in used)
    return Matrix(packs.packs, columns, clearances, covers, orders, rules, tuple(contradictions))


def _contains(rule: ast.Rule, span: Span) -> bool:
    """Tell whether a position lies in the text of a rule (from its name to its last requirement)."""
    end = max([rule.span.line] + [r.span.end_line or r.span.line for r in rule.alternatives])
    return rule.span.file == span.file and rule.span.line <= span.line <= end


def matrix_for(refs: list[str] | None = None) -> Matrix:
    """Load packs by name or file (default: all shipped) and build their matrix."""
    return build(load_packs(list(refs or [])))


# ---------------------------------------------------------------- HTML


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _entry_html(m: Matrix, e: Entry, bad: set[str]) -> str:
    classes = ["entry"] + (["overridden"] if e.overridden else []) + (["contradiction"] if e.rule in bad else [])
    info = m.rules[(e.pack, e.rule, e.version)]
    note = f'<span class="note">{_e(e.note)}</span>' if e.note else ""
    return (f'<span class="{" ".join(classes)}">{_e(e.text())} '
            f'<a href="#{_e(info.anchor)}" title="{_e(info.rule.source)}">{_e(e.rule)}</a>{note}</span>')


def _cells_html(m: Matrix, head: str, cells: dict[str, list[Entry]], bad: set[str], cover: bool) -> str:
    diff = differs(cells)
    out = [f'<tr><th class="net" scope="row">{head}</th>']
    for pack in m.columns:
        entries = cells.get(pack, [])
        if not entries:
            out.append('<td class="empty"></td>')
            continue
        cls = ' class="differs"' if diff else ""
        body = ""
        if cover and len(entries) > 1:
            body = f"<strong>{_e(range_text(*cover_range(entries)))}</strong>"
        body += "".join(_entry_html(m, e, bad) for e in entries)
        out.append(f'<td{cls} data-pack="{_e(pack)}">{body}</td>')
    return "".join(out) + "</tr>"


def _head_html(m: Matrix, first: str) -> str:
    authority = {p.name: p.authority for p in m.packs}
    cols = "".join(f'<th scope="col">{_e(c)}<br><span class="note">{_e(authority[c])}</span></th>' for c in m.columns)
    return f'<thead><tr><th scope="col">{_e(first)}</th>{cols}</tr></thead>'


def to_html(m: Matrix) -> str:
    """Return the matrix as one self-contained HTML document."""
    bad = m.contradicted()
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<title>ligging — rules matrix</title>", f"<style>{CSS}</style></head><body>",
             "<h1>Rules matrix: what each authority requires</h1>",
             '<p class="legend"><span style="background:#fff1c2">authorities differ</span>'
             '<span style="outline:2px solid #c0392b">contradiction (lint)</span>'
             '<span style="color:#888;text-decoration:line-through">overridden</span></p>',
             "<h2>Packs</h2><table><thead><tr><th>pack</th><th>title</th><th>authority</th><th>version</th>"
             "<th>rules</th></tr></thead><tbody>"]
    for p in m.packs:
        parts.append(f'<tr id="pack-{_e(p.name)}"><td>{_e(p.name)}</td><td>{_e(p.title)}</td>'
                     f"<td>{_e(p.authority)}</td><td>{_e(p.version)}</td><td>{len(p.rules)}</td></tr>")
    parts.append("</tbody></table>")
    parts.append('<h2 id="clearances">Clearances between networks</h2><table>' + _head_html(m, "pair") + "<tbody>")
    for (a, b) in sorted(m.clearances, key=lambda k: (LABELS.index(k[0]), LABELS.index(k[1]))):
        parts.append(_cells_html(m, f"{_e(a)} / {_e(b)}", m.clearances[(a, b)], bad, cover=False))
    parts.append("</tbody></table>")
    parts.append('<h2 id="covers">Cover (dekking) per network</h2><table>' + _head_html(m, "network") + "<tbody>")
    for name in sorted(m.covers, key=LABELS.index):
        parts.append(_cells_html(m, _e(name), m.covers[name], bad, cover=True))
    parts.append("</tbody></table>")
    parts.append('<h2 id="orders">Order relations per authority</h2><table><thead><tr><th>pack</th><th>rule</th>'
                 "<th>order</th></tr></thead><tbody>")
    for pack in m.columns:
        for info, text in m.orders.get(pack, []):
            cls = ' class="entry contradiction"' if info.rule.id in bad else ""
            parts.append(f"<tr><td>{_e(pack)}</td><td{cls}><a href=\"#{_e(info.anchor)}\">"
                         f"{_e(info.rule.id)}</a></td><td>{_e(text)}</td></tr>")
    parts.append("</tbody></table>")
    parts.append('<h2 id="contradictions">Contradictions (from ligging rules lint)</h2>')
    if m.contradictions:
        parts.append("<table><thead><tr><th>code</th><th>where</th><th>rules</th><th>message</th></tr></thead><tbody>")
        for diag, rules in m.contradictions:
            parts.append(f"<tr><td>{_e(diag.code)}</td><td>{_e(diag.span.where())}</td><td>{_e(', '.join(rules))}</td>"
                         f"<td>{_e(diag.message)}</td></tr>")
        parts.append("</tbody></table>")
    else:
        parts.append("<p>None found.</p>")
    parts.append('<h2 id="rules">Rules and sources</h2><table><thead><tr><th>rule</th><th>pack</th><th>authority</th>'
                 "<th>title</th><th>source</th><th>where</th></tr></thead><tbody>")
    for info in m.rules.values():
        extra = f'<br><span class="note">illustrative: {_e(info.rule.illustrative)}</span>' \
            if info.rule.illustrative else ""
        over = f'<br><span class="note">overridden by {_e(info.overridden_by)}</span>' if info.overridden_by else ""
        parts.append(f'<tr id="{_e(info.anchor)}"><td>{_e(info.rule.id)}</td><td>{_e(info.pack)}</td>'
                     f"<td>{_e(info.authority)}</td><td>{_e(info.rule.title)}{over}</td>"
                     f"<td>{_e(info.rule.source)}{extra}</td><td>{_e(info.rule.span.where())}</td></tr>")
    parts.append("</tbody></table></body></html>\n")
    return "\n".join(parts)


# ---------------------------------------------------------------- Markdown


def _md(text: object) -> str:
    """Escape text for a Markdown table cell."""
    return re.sub(r"([\\|*_`\[\]<>#])", r"\\\1", str(text)).replace("\n", " ")


def _md_cells(m: Matrix, head: str, cells: dict[str, list[Entry]], bad: set[str], cover: bool) -> str:
    diff = differs(cells)
    out = [_md(head)]
    for pack in m.columns:
        entries = cells.get(pack, [])
        items = []
        if cover and len(entries) > 1:
            items.append(_md(range_text(*cover_range(entries))))
        for e in entries:
            text = f"{_md(e.text())} [{_md(e.rule)}](#{m.rules[(e.pack, e.rule, e.version)].anchor.lower()})"
            if e.overridden:
                text = f"~~{text}~~"
            if e.rule in bad:
                text += " (contradiction)"
            if e.note:
                text += f" — {_md(e.note)}"
            items.append(text)
        cell = "<br>".join(items)
        out.append(f"**≠** {cell}" if diff and entries else cell)
    return "| " + " | ".join(out) + " |"


def to_markdown(m: Matrix) -> str:
    """Return the matrix as GitHub-flavoured Markdown (≠ marks cells where authorities differ)."""
    bad = m.contradicted()
    head = "| {} | " + " | ".join(_md(c) for c in m.columns) + " |\n|" + "---|" * (len(m.columns) + 1)
    lines = ["# Rules matrix: what each authority requires", "",
             "**≠** marks cells where the authorities differ; ~~struck~~ rules are overridden.", "",
             "## Packs", "", "| pack | title | authority | version | rules |", "|---|---|---|---|---|"]
    lines += [f"| {_md(p.name)} | {_md(p.title)} | {_md(p.authority)} | {_md(p.version)} | {len(p.rules)} |"
              for p in m.packs]
    lines += ["", "## Clearances between networks", "", head.format("pair")]
    for (a, b) in sorted(m.clearances, key=lambda k: (LABELS.index(k[0]), LABELS.index(k[1]))):
        lines.append(_md_cells(m, f"{a} / {b}", m.clearances[(a, b)], bad, cover=False))
    lines += ["", "## Cover (dekking) per network", "", head.format("network")]
    for name in sorted(m.covers, key=LABELS.index):
        lines.append(_md_cells(m, name, m.covers[name], bad, cover=True))
    lines += ["", "## Order relations per authority", "", "| pack | rule | order |", "|---|---|---|"]
    for pack in m.columns:
        lines += [f"| {_md(pack)} | [{_md(info.rule.id)}](#{info.anchor.lower()}) | {_md(text)} |"
                  for info, text in m.orders.get(pack, [])]
    lines += ["", "## Contradictions (from ligging rules lint)", ""]
    if m.contradictions:
        lines += ["| code | where | rules | message |", "|---|---|---|---|"]
        lines += [f"| {_md(d.code)} | {_md(d.span.where())} | {_md(', '.join(r))} | {_md(d.message)} |"
                  for d, r in m.contradictions]
    else:
        lines.append("None found.")
    lines += ["", "## Rules and sources", ""]
    for info in m.rules.values():
        lines.append(f'<a id="{_e(info.anchor.lower())}"></a>**{_md(info.rule.id)}** ({_md(info.pack)}, '
                     f"{_md(info.authority)}): {_md(info.rule.title)}. Source: {_md(info.rule.source)}"
                     + (f". Illustrative: {_md(info.rule.illustrative)}" if info.rule.illustrative else "")
                     + (f". Overridden by {_md(info.overridden_by)}" if info.overridden_by else "")
                     + f" — {_md(info.rule.span.where())}")
        lines.append("")
    return "\n".join(lines)


def write(m: Matrix, output: Path) -> None:
    """Write the matrix as HTML or Markdown, chosen by the output file's suffix."""
    suffix = output.suffix.lower()
    if suffix not in (".html", ".htm", ".md"):
        raise LiggingError(Diagnostic(Span(str(output), 1, 1), "the output must end in .html or .md"))
    text = to_html(m) if suffix in (".html", ".htm") else to_markdown(m)
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise LiggingError(Diagnostic(Span(str(output), 1, 1), f"cannot write: {exc.strerror or exc}")) from None
