"""The backlog as CSV: an export that imports back exactly, and an import that refuses bad rows by position.

One row per occurrence, with its entry's fields repeated (an entry without occurrences gets
one row with the occurrence columns empty), so a spreadsheet can filter and pivot it and
`import` rebuilds every entry and every occurrence: export → import into an empty backlog →
export gives the same file but for the entry ids. Lists inside a cell (the rules and what
belongs to each) are one per line; subjects are a JSON list. Text cells a spreadsheet would
run as a formula get a leading apostrophe, undone on import.

Import also reads the entry-per-row CSV of ligging 0.1 (its `occurrences` count spread over
its cases, at most `MAX_LEGACY_OCCURRENCES` per row). Every field is checked before anything
is written: unknown values, numbers that are not finite, dates that are not dates, counts
out of range, fields over the csv module's limit — each a one-line error naming file and line,
and nothing imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from checker.model.findings import SEVERITIES, fingerprint
from checker.policy.backlog import (
    Item,
    Occurrence,
    add_history,
    add_occurrence,
    create_entry,
    default_who,
    find_entry,
    store_rules,
)
from checker.policy.backlog_schema import (
    CLASSES,
    ORIGINS,
    PHASES,
    STATUSES,
    TRIAGE_CLASSES,
    legacy_class,
    now,
    open_backlog,
    phase_of_status,
)
from checker.policy.backlog_store import Store, error
from checker.policy.backlog_views import neutralise, restore
from checker.policy.friction import Friction, RuleRef, rules_key
from dsl.diagnostics import LiggingError

ENTRY = ("entry", "key", "class", "title", "status", "triage", "phase", "severity")
RULES = ("rules", "roles", "packs", "versions", "authorities", "instrument_kinds", "instruments", "changed_by", "sources")
OCCURRENCE = ("occurrence_class", "case", "municipality", "planned", "subjects", "place", "measured", "required", "op",
              "amount", "unit", "message", "evidence", "accepted", "fingerprint", "origin", "run", "input", "at", "who")
COLUMNS = ENTRY + RULES + OCCURRENCE
LEGACY = ("fingerprint", "case", "rules", "friction", "title", "severity", "status", "occurrences")
MAX_CSV_BYTES = 200_000_000
MAX_LEGACY_OCCURRENCES = 1000
MAX_SUBJECTS = 1000
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _number(value: float | None) -> str:
    return "" if value is None else repr(value)


def rows(items: Sequence[Item], occurrences: dict[int, Sequence[Occurrence]]) -> list[list[str]]:
    """Return the CSV rows (without header) of the entries and their occurrences."""
    out = []
    for i in items:
        entry = [str(i.id), i.key, i.friction, i.title, i.status, i.triage or "", i.phase, i.severity]
        rules = ["\n".join(getattr(r, name) for r in i.rules) for name in
                 ("rule", "role", "pack", "version", "authority", "instrument_kind", "instrument", "changed_by",
                  "source")]
        occ = occurrences.get(i.id, ())
        if not occ:
            out.append(entry + rules + [""] * len(OCCURRENCE))
        for o in occ:
            out.append(entry + rules + [
                o.friction, o.case_path, o.municipality, o.planned, json.dumps(list(o.subjects)), o.place,
                _number(o.measured), _number(o.required), o.op, _number(o.amount), o.unit, o.message, o.evidence,
                o.accepted, o.fingerprint, o.origin, o.run_id, o.input, o.at, o.who])
    return out


def export(items: Sequence[Item], occurrences: dict[int, Sequence[Occurrence]], out: Path) -> None:
    """Write the entries and their occurrences as CSV (formula-like text neutralised)."""
    try:
        with out.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS)
            writer.writerows([[neutralise(v) for v in row] for row in rows(items, occurrences)])
    except OSError as exc:
        raise error(out, f"cannot write the export: {exc.strerror or exc}") from None


# ---- import -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import added."""

    path: str
    entries_added: int
    entries_present: int
    occurrences_added: int
    created: bool

    def line(self) -> str:
        """Say in one line what was imported where."""
        made = " (new backlog created)" if self.created else ""
        return (f"backlog {self.path}{made}: imported {self.entries_added} entries ({self.entries_present} already "
                f"present), {self.occurrences_added} occurrences")


@dataclass(frozen=True, slots=True)
class _Row:
    line: int
    friction: Friction
    status: str
    triage: str | None
    phase: str
    entry_title: str
    entry_class: str
    origin: str
    run: str
    input: str
    at: str
    who: str


class _Cells:
    """One CSV row's cells with the checks every field gets, each failing with the row's position."""

    def __init__(self, source: Path, line: int, cells: dict[str, str]) -> None:
        self.source, self.line, self.cells = source, line, cells

    def bad(self, message: str) -> LiggingError:
        return error(self.source, message, self.line)

    def text(self, key: str) -> str:
        return self.cells.get(key, "")

    def choice(self, key: str, allowed: Sequence[str], empty: bool = False) -> str:
        value = self.text(key)
        if (empty and not value) or value in allowed:
            return value
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise self.bad(f"column {key}: '{shown}' is not one of {', '.join(allowed)}")

    def number(self, key: str) -> float | None:
        text = self.text(key).strip()
        if not text:
            return None
        try:
            value = float(text)
        except ValueError:
            raise self.bad(f"column {key}: '{text[:40]}' is not a number") from None
        if not math.isfinite(value):
            raise self.bad(f"column {key}: '{text[:40]}' is not a finite number")
        return value

    def count(self, key: str, low: int, high: int) -> int:
        text = self.text(key).strip()
        if not re.fullmatch(r"[+-]?\d+", text):
            raise self.bad(f"column {key}: '{text[:40]}' is not a whole number")
        if len(text) > 12 or not low <= int(text) <= high:
            raise self.bad(f"column {key}: {text[:40]} is outside {low}..{high}")
        return int(text)

    def date(self, key: str) -> str:
        text = self.text(key).strip()
        if not text:
            return ""
        if re.fullmatch(r"\d{4}", text):
            return f"{text}-01-01"
        try:
            if DATE.match(text):
                dt.date.fromisoformat(text)
                return text
        except ValueError:
            pass
        raise self.bad(f"column {key}: '{text[:40]}' is not a date (YYYY-MM-DD) or a year")

    def subjects(self, key: str) -> tuple[str, ...]:
        text = self.text(key).strip()
        if not text:
            return ()
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            raise self.bad(f"column {key}: not a JSON list of object ids") from None
        if not isinstance(value, list) or len(value) > MAX_SUBJECTS or not all(isinstance(v, str) for v in value):
            raise self.bad(f"column {key}: not a JSON list of at most {MAX_SUBJECTS} object ids")
        return tuple(value)


def _current(source: Path, line: int, cells: dict[str, str]) -> _Row:
    """Check one row of the current export format and turn it into the friction it records."""
    c = _Cells(source, line, cells)
    rules = _rules(c)
    key, expected = c.text("key"), rules_key(r.rule for r in rules if r.role == "rubs")
    if key != expected:
        raise c.bad(f"column key: '{key[:60]}' does not match the rules that rub ({expected})")
    entry_class = c.choice("class", CLASSES)
    severity = c.choice("severity", SEVERITIES)
    status, phase = c.choice("status", STATUSES), c.choice("phase", PHASES)
    triage = c.choice("triage", TRIAGE_CLASSES, empty=True) or None
    run = c.text("run")
    kind = c.choice("occurrence_class", CLASSES, empty=not run) or entry_class
    origin = c.choice("origin", ORIGINS, empty=not run)
    fr = Friction(kind, rules, c.text("title"), severity, c.text("fingerprint") or fingerprint(key, ()),
                  c.text("case"), c.text("municipality"), c.date("planned"), c.subjects("subjects"),
                  c.number("measured"), c.number("required"), c.text("op"), c.number("amount"), c.text("unit"),
                  c.text("message"), c.text("evidence"), c.text("accepted"), c.text("place"))
    return _Row(line, fr, status, triage, phase, c.text("title"), entry_class, origin, run, c.text("input"),
                c.text("at"), c.text("who"))


def _rules(c: _Cells) -> tuple[RuleRef, ...]:
    columns = {k: c.text(k).split("\n") for k in RULES}
    if not c.text("rules").strip():
        raise c.bad("column rules must name the rule (or rules) of the entry")
    refs = []
    for k, rule in enumerate(columns["rules"]):
        def at(name: str, k: int = k) -> str:
            values = columns[name]
            return values[k] if k < len(values) else ""

        role = at("roles") or "rubs"
        if role not in ("rubs", "agrees"):
            raise c.bad(f"column roles: '{role[:40]}' is not rubs or agrees")
        refs.append(RuleRef(rule, at("packs"), at("versions"), at("authorities"), at("sources"), at("instrument_kinds"),
                            at("instruments"), at("changed_by"), role))
    if not any(r.role == "rubs" for r in refs) or sum(r.role == "rubs" for r in refs) > 2:
        raise c.bad("column roles: an entry has one rule that rubs, or two")
    return tuple(refs)


def _legacy(source: Path, line: int, cells: dict[str, str]) -> list[_Row]:
    """Check one row of a ligging 0.1 export (an entry per row) and spread it into occurrences."""
    c = _Cells(source, line, cells)
    old_kind = c.choice("friction", ("space", "authority", "accepted", "manual"))
    severity, status = c.choice("severity", SEVERITIES), c.choice("status", STATUSES)
    triage = c.choice("triage", TRIAGE_CLASSES, empty=True) or None
    if not c.text("fingerprint") or not c.text("rules").strip():
        raise c.bad("columns fingerprint and rules must not be empty")
    ids = [r for r in c.text("rules").split("\n") if r]
    _, kind, agreeing = legacy_class(old_kind, ids)
    columns = {k: c.text(k).split("\n") for k in ("rules", "packs", "versions", "authorities", "sources")}
    refs = tuple(RuleRef(r, *(columns[k][n] if n < len(columns[k]) else "" for k in
                              ("packs", "versions", "authorities", "sources")),
                         changed_by=columns["authorities"][n] if n < len(columns["authorities"]) else "",
                         role="agrees" if r in agreeing else "rubs")
                 for n, r in enumerate(columns["rules"]) if r)
    planned = ""
    if c.text("planned").strip():
        planned = f"{c.count('planned', 1000, 9999)}-01-01"
    count = c.count("occurrences", 1, MAX_LEGACY_OCCURRENCES) if c.text("occurrences").strip() else 1
    cases = [x for x in c.text("cases").split("\n") if x] or [c.text("case")]
    spread = [(cases[0], max(1, count - len(cases) + 1))] + [(x, 1) for x in cases[1:]]
    fr = Friction(kind, refs, c.text("title"), severity, c.text("fingerprint"), c.text("case"), c.text("municipality"),
                  planned, (), None, None, "", c.number("amount"), c.text("unit"), c.text("title"),
                  c.text("evidence") or "imported from a ligging 0.1 export, which kept no computed evidence",
                  "accepted" if old_kind == "accepted" else "")
    out = []
    for case, n in spread:
        for k in range(n):
            out.append(_Row(line, replace(fr, case_path=case), status, triage, phase_of_status(status),
                            c.text("title"), kind, "import", f"import:{source.name}:{line}:{case}:{k}", "", "", ""))
    return out


def _read(source: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Read a CSV file into its header and (line, cells) rows; a malformed file is a one-line error."""
    try:
        size = source.stat().st_size
        if size > MAX_CSV_BYTES:
            raise error(source, f"the CSV file is {size} bytes; at most {MAX_CSV_BYTES} are read")
        text = source.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(source, f"cannot read the CSV file: {exc}") from None
    reader = csv.reader(text.splitlines(keepends=True))
    out: list[tuple[int, dict[str, str]]] = []
    header: list[str] = []
    try:
        for row in reader:
            if not header:
                header = row
                continue
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise error(source, f"{len(row)} fields where the header has {len(header)}", reader.line_num)
            out.append((reader.line_num, {k: restore(v) for k, v in zip(header, row, strict=True)}))
    except csv.Error as exc:
        raise error(source, f"not a readable CSV row: {exc}", max(1, reader.line_num)) from None
    return header, out


def import_csv(db: Path | str | None, source: Path, who: str | None = None) -> ImportSummary:
    """Add the entries and occurrences of a CSV export the backlog does not hold yet (nothing on a bad row)."""
    header, body = _read(source)
    if set(COLUMNS) <= set(header):
        parsed = [_current(source, line, cells) for line, cells in body]
    elif set(LEGACY) <= set(header):
        parsed = [r for line, cells in body for r in _legacy(source, line, cells)]
    else:
        missing = [k for k in COLUMNS if k not in header]
        raise error(source, f"not a backlog CSV export: missing column(s) {', '.join(missing[:6])}"
                            + (" …" if len(missing) > 6 else ""))
    actor = who or default_who()

    def work(s: Store) -> tuple[int, int, int]:
        added = present = occ = 0
        at = now()
        seen: set[str] = set()
        for row in parsed:
            fr = row.friction
            entry = find_entry(s, fr.key)
            if entry is None:
                entry = create_entry(s, Friction(row.entry_class, fr.rules, row.entry_title, fr.severity,
                                                  fr.fingerprint, "", "", "", (), None, None, "", None, "", ""),
                                      actor, at, row.status, row.triage, row.phase,
                                      f"imported from {source.name}:{row.line}")
                if row.status != "new":
                    add_history(s, entry, actor, at, "phase", "", row.phase, f"imported from {source.name}:{row.line}")
                added += 1
                seen.add(fr.key)
            elif fr.key not in seen:
                present += 1
                seen.add(fr.key)
                store_rules(s, entry, [r for r in fr.rules if r.version or r.authority])
            if row.run:
                occ += add_occurrence(s, entry, fr, row.run, row.origin, row.input, row.who or actor, row.at or at)
        return added, present, occ

    with open_backlog(db, "create") as store:
        added, present, occ = store.write(work)
        return ImportSummary(store.display, added, present, occ, store.created)
