"""The harmonisation backlog: regulatory friction from real cases, stored in one SQLite file.

An entry records friction between a rule and the space available, a rule of another
authority, or an accepted deviation (or is logged by hand): the rules involved with
their pack, version, authority and source, the case it was found in, the deviation
needed, a triage class and a status that moves new → triaged → proposed → harmonised |
rejected, every change kept in a history table. Re-runs add occurrences, never
duplicate entries. The file is opened in WAL mode with foreign keys on; every write is
one `BEGIN IMMEDIATE` transaction retried while another writer holds the lock, so
concurrent engineers' runs and a crash mid-write leave a consistent file. A file that
is not a ligging backlog is refused before anything is written next to it.
See docs/backlog.md for the friction criterion and the urgency formula.
"""

from __future__ import annotations

import csv
import datetime as dt
import getpass
import hashlib
import html
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

from checker.advice.layout import Layout
from checker.io.loader import load_case
from checker.model.findings import SEVERITIES, CaseResult, Finding, fingerprint
from checker.model.numbers import plural
from checker.model.section import Section
from checker.pipeline.run import discover
from checker.policy.urgency import Urgency, Weights, score
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import PackSet, in_force

T = TypeVar("T")

ENV_VAR = "LIGGING_BACKLOG"
DEFAULT_PATH = "backlog.db"
APPLICATION_ID = 0x4C494747  # "LIGG": marks the file as a ligging backlog
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_S = 5.0
RETRIES = 8

FRICTIONS = ("space", "authority", "accepted", "manual")
TRIAGE_CLASSES = ("encoding-error", "regulatory-friction", "data-problem", "accepted-open-norm")
STATUSES = ("new", "triaged", "proposed", "harmonised", "rejected")
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("triaged", "rejected"),
    "triaged": ("proposed", "rejected"),
    "proposed": ("harmonised", "rejected", "triaged"),
    "harmonised": (),
    "rejected": ("triaged",),
}
PHYSICAL_PACK = "ligging"  # the engine's own overlap check: physics, not an authority's rule
DANGEROUS_LEAD = ("=", "+", "-", "@", "\t", "\r")

# Applied in order; `PRAGMA user_version` holds how many have run. Never edit a shipped one.
MIGRATIONS: tuple[str, ...] = (
    f"""
    CREATE TABLE entries (
        id INTEGER PRIMARY KEY,
        friction TEXT NOT NULL CHECK (friction IN {FRICTIONS!r}),
        title TEXT NOT NULL,
        severity TEXT NOT NULL CHECK (severity IN {SEVERITIES!r}),
        triage TEXT CHECK (triage IS NULL OR triage IN {TRIAGE_CLASSES!r}),
        status TEXT NOT NULL DEFAULT 'new' CHECK (status IN {STATUSES!r}),
        case_path TEXT NOT NULL,
        municipality TEXT NOT NULL,
        planned_year INTEGER,
        created_at TEXT NOT NULL,
        created_by TEXT NOT NULL
    );
    CREATE TABLE entry_rules (
        entry_id INTEGER NOT NULL REFERENCES entries(id),
        rule TEXT NOT NULL,
        pack TEXT NOT NULL,
        version TEXT NOT NULL,
        authority TEXT NOT NULL,
        source TEXT NOT NULL,
        PRIMARY KEY (entry_id, rule)
    );
    CREATE TABLE occurrences (
        id INTEGER PRIMARY KEY,
        entry_id INTEGER NOT NULL REFERENCES entries(id),
        fingerprint TEXT NOT NULL,
        case_path TEXT NOT NULL,
        run_id TEXT NOT NULL,
        at TEXT NOT NULL,
        who TEXT NOT NULL,
        municipality TEXT NOT NULL,
        planned_year INTEGER,
        subjects TEXT NOT NULL,
        measured REAL,
        required REAL,
        op TEXT NOT NULL,
        amount REAL,
        unit TEXT NOT NULL,
        message TEXT NOT NULL,
        accepted TEXT NOT NULL,
        UNIQUE (fingerprint, case_path, run_id)
    );
    CREATE INDEX occurrences_entry ON occurrences (entry_id);
    CREATE TABLE history (
        id INTEGER PRIMARY KEY,
        entry_id INTEGER NOT NULL REFERENCES entries(id),
        at TEXT NOT NULL,
        who TEXT NOT NULL,
        field TEXT NOT NULL,
        old TEXT NOT NULL,
        new TEXT NOT NULL,
        note TEXT NOT NULL
    );
    CREATE INDEX history_entry ON history (entry_id);
    """,
    """
    ALTER TABLE entries ADD COLUMN merged_into INTEGER REFERENCES entries(id);
    CREATE TABLE links (
        a INTEGER NOT NULL REFERENCES entries(id),
        b INTEGER NOT NULL REFERENCES entries(id),
        reason TEXT NOT NULL,
        PRIMARY KEY (a, b),
        CHECK (a < b)
    );
    """,
)


@dataclass(frozen=True, slots=True)
class RuleRef:
    """A rule involved in friction, with where it comes from."""

    rule: str
    pack: str
    version: str
    authority: str
    source: str


@dataclass(frozen=True, slots=True)
class Friction:
    """One observation of friction in one case, ready to be logged as an occurrence."""

    kind: str
    rules: tuple[RuleRef, ...]
    title: str
    severity: str
    fingerprint: str
    case_path: str
    municipality: str
    planned_year: int | None
    subjects: tuple[str, ...]
    measured: float | None
    required: float | None
    op: str
    amount: float | None
    unit: str
    message: str
    accepted: str = ""


@dataclass(frozen=True, slots=True)
class Deviation:
    """A deviation a layout needs: the rule, its required value and the value proposed instead."""

    rule: str
    pack: str
    source: str
    required: float
    proposed: float
    unit: str
    subjects: tuple[str, ...] = ()
    authority: str = ""
    version: str = ""
    severity: str = "error"
    title: str = ""


@dataclass(frozen=True, slots=True)
class LogSummary:
    """What one logging call added."""

    path: str
    frictions: int
    new_entries: int
    new_occurrences: int

    def line(self) -> str:
        """Say in one line what was logged where."""
        return (f"backlog {self.path}: {plural(self.frictions, 'friction finding')}, "
                f"{plural(self.new_entries, 'new entry', 'new entries')}, {plural(self.new_occurrences, 'new occurrence')}")


@dataclass(frozen=True, slots=True)
class Item:
    """A backlog entry as listed: its fields, aggregates over occurrences and links, and urgency."""

    id: int
    status: str
    triage: str | None
    friction: str
    title: str
    rules: tuple[RuleRef, ...]
    case_path: str
    municipality: str
    planned_year: int | None
    severity: str
    amount: float | None
    unit: str
    occurrences: int
    cases: tuple[str, ...]
    cases_affected: int
    linked: tuple[int, ...]
    fingerprint: str
    evidence: str
    urgency: Urgency


@dataclass(frozen=True, slots=True)
class HistoryRow:
    """One recorded change of an entry."""

    at: str
    who: str
    field: str
    old: str
    new: str
    note: str


@dataclass(frozen=True, slots=True)
class Detail:
    """Everything `show` prints about one entry."""

    item: Item
    history: tuple[HistoryRow, ...]
    per_case: tuple[tuple[str, int, str, str], ...]  # case, occurrences, first seen, last seen
    merged: tuple[int, ...] = field(default_factory=tuple)


def _error(path: Path | str, message: str, line: int = 1, column: int = 1) -> LiggingError:
    """Build the one-line error for a problem with the backlog file."""
    return LiggingError(Diagnostic(Span(str(path), line, column), message))


def _now() -> str:
    """Return the current UTC time, to the second, in ISO form."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def default_who() -> str:
    """Return who is making a change: $USER, else the login name, else 'unknown'."""
    user = os.environ.get("USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def resolve_path(path: Path | str | None) -> Path:
    """Return the backlog path: the one given, else $LIGGING_BACKLOG, else backlog.db."""
    if path is not None:
        return Path(path)
    return Path(os.environ.get(ENV_VAR) or DEFAULT_PATH)


def _busy(exc: sqlite3.OperationalError) -> bool:
    """Tell whether an SQLite error means another connection holds the lock."""
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _verify(path: Path) -> None:
    """Refuse a file that is not a healthy ligging backlog, reading it only (nothing is written)."""
    if not path.is_file():
        raise _error(path, "the backlog path exists but is not a file")
    with path.open("rb") as fh:
        head = fh.read(len(SQLITE_HEADER))
    if not head:
        return  # an empty file is an empty SQLite database
    if head != SQLITE_HEADER:
        raise _error(path, "not a ligging backlog: the file is not an SQLite database")
    sidecars = [Path(f"{path}{suffix}") for suffix in ("-wal", "-shm")]
    existed = [p.exists() for p in sidecars]
    problem = ""
    try:
        con = sqlite3.connect(f"file:{path.resolve().as_posix()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        try:
            rows = con.execute("PRAGMA quick_check").fetchall()
            if rows != [("ok",)]:
                problem = f"the backlog is corrupt ({rows[0][0]}); restore it from a copy"
            else:
                app_id = con.execute("PRAGMA application_id").fetchone()[0]
                version = con.execute("PRAGMA user_version").fetchone()[0]
                tables = con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
                if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables):
                    problem = "not a ligging backlog: an SQLite database made by another program"
                elif version > len(MIGRATIONS):
                    problem = (f"the backlog has schema version {version}, newer than this ligging knows "
                               f"({len(MIGRATIONS)}); upgrade ligging")
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        problem = f"the backlog is corrupt or not an SQLite database ({exc})"
    if problem:
        for sidecar, was in zip(sidecars, existed, strict=True):
            if not was and sidecar.exists():
                sidecar.unlink()  # the read-only check may have made them; leave the directory as it was
        raise _error(path, problem)


class Backlog:
    """An open backlog file: every write goes through `write`, one retried transaction."""

    def __init__(self, path: Path, con: sqlite3.Connection) -> None:
        self.path = path
        self.con = con

    def __enter__(self) -> Backlog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection."""
        self.con.close()

    def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` inside one BEGIN IMMEDIATE transaction, retrying while another writer holds the lock."""
        delay = 0.05
        for attempt in range(RETRIES):
            try:
                self.con.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or attempt == RETRIES - 1:
                    raise self._locked(exc) from None
                time.sleep(delay)
                delay = min(delay * 2, 1.0)
                continue
            try:
                result = work(self.con)
                self.con.execute("COMMIT")
                return result
            except sqlite3.OperationalError as exc:
                if self.con.in_transaction:
                    self.con.execute("ROLLBACK")
                if not _busy(exc) or attempt == RETRIES - 1:
                    raise self._locked(exc) from None
                time.sleep(delay)
            except BaseException:
                if self.con.in_transaction:
                    self.con.execute("ROLLBACK")
                raise
        raise self._locked(sqlite3.OperationalError("database is locked"))

    def _locked(self, exc: sqlite3.OperationalError) -> LiggingError:
        """Turn an SQLite operational error into the one-line user error."""
        if _busy(exc):
            return _error(self.path, f"the backlog stayed locked by another writer for {RETRIES} attempts "
                                     f"of {BUSY_TIMEOUT_S:g} s; try again")
        return _error(self.path, f"cannot write the backlog: {exc}")


def open_backlog(path: Path | str | None = None) -> Backlog:
    """Open (creating if absent) the backlog file, check it, and bring its schema up to date."""
    where = resolve_path(path)
    if where.exists():
        _verify(where)
    elif not where.parent.is_dir():
        raise _error(where, f"cannot create the backlog: folder {where.parent} does not exist")
    try:
        con = sqlite3.connect(where, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as exc:
        raise _error(where, f"cannot open the backlog: {exc}") from None
    db = Backlog(where, con)
    try:
        con.execute("PRAGMA foreign_keys = ON")
        con.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        _set_wal(db)
        con.execute("PRAGMA synchronous = FULL")
        db.write(_migrate)
    except sqlite3.DatabaseError as exc:
        con.close()
        raise _error(where, f"cannot open the backlog: {exc}") from None
    except LiggingError:
        con.close()
        raise
    return db


def _set_wal(db: Backlog) -> None:
    """Switch the file to WAL mode (persistent), waiting while another connection holds it."""
    for _ in range(RETRIES):
        try:
            mode = db.con.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
            time.sleep(0.05)
            continue
        if str(mode).lower() == "wal":
            return
        time.sleep(0.05)
    raise _error(db.path, "cannot switch the backlog to WAL mode: another program holds it")


def _migrate(con: sqlite3.Connection) -> None:
    """Apply the migrations the file has not seen yet, in order (inside the caller's transaction)."""
    version = con.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS):
        raise _error("backlog", f"schema version {version} is newer than this ligging knows ({len(MIGRATIONS)})")
    if version == 0:
        con.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    for number in range(version, len(MIGRATIONS)):
        for statement in MIGRATIONS[number].split(";"):
            if statement.strip():
                con.execute(statement)
        con.execute(f"PRAGMA user_version = {number + 1}")


@contextmanager
def _opened(db: Backlog | Path | str | None) -> Iterator[Backlog]:
    """Yield an open backlog: the one given, or a file opened (and closed) for this call."""
    if isinstance(db, Backlog):
        yield db
        return
    with open_backlog(db) as opened:
        yield opened


# ---- selecting friction -------------------------------------------------------------------

def case_key(path: str) -> str:
    """Return the case path as stored: relative to the working folder when inside it, POSIX slashes."""
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(Path.cwd())
        except ValueError:
            pass
    return p.as_posix()


def _year(planned: str | None) -> int | None:
    """Return the year of a case's planned date, or None."""
    return int(planned[:4]) if planned else None


def _rule_ref(packs: PackSet, finding: Finding, planned: str | None) -> RuleRef:
    """Return the rule of a finding with its pack's version and authority."""
    versions = [pr for pr in packs.find(finding.rule) if pr.pack.name == finding.pack]
    chosen = next((pr for pr in versions if in_force(pr, planned)), versions[0] if versions else None)
    if chosen is None:
        return RuleRef(finding.rule, finding.pack, "", PHYSICAL_PACK if finding.pack == PHYSICAL_PACK else "",
                       finding.source)
    return RuleRef(finding.rule, finding.pack, chosen.pack.version, chosen.pack.authority, chosen.rule.source)


def _amount(finding: Finding) -> float | None:
    """Return the size of the deviation a finding needs (None without magnitude)."""
    short = finding.shortfall
    return None if short is None else round(abs(short), 4)


def is_design_error(finding: Finding) -> bool:
    """Tell whether a designer can clear the finding by moving a planned object (a move is suggested)."""
    if finding.baseline or finding.exception or finding.accepted:
        return False
    return any(s.move is not None for s in finding.suggestions)


def _space(finding: Finding) -> bool:
    """Tell whether a finding shows a rule rubbing against the space the case has."""
    deviate_only = any(s.deviate is not None for s in finding.suggestions) and \
        not any(s.move is not None for s in finding.suggestions)
    return finding.baseline or bool(finding.exception) or finding.illustrative is not None or deviate_only


def select_friction(findings: Sequence[Finding], section: Section, case_path: str, packs: PackSet) -> list[Friction]:
    """Return the friction among a case's findings (the criterion of docs/backlog.md), in a stable order."""
    case = case_key(case_path)
    municipality = str(section.tag("municipality") or "")
    year = _year(section.planned)
    candidates = [f for f in findings if f.severity in ("error", "warning") and not is_design_error(f)]
    refs = {(f.rule, f.pack): _rule_ref(packs, f, section.planned) for f in candidates}

    def single(f: Finding, kind: str) -> Friction:
        return Friction(kind, (refs[(f.rule, f.pack)],), f.title or f.rule, f.severity, f.fingerprint, case,
                        municipality, year, f.subjects, f.measured, f.required, f.op, _amount(f), f.unit, f.message,
                        dict(f.accepted).get("state", ""))

    out: list[Friction] = []
    rest: list[Finding] = []
    for f in candidates:
        if f.accepted:
            out.append(single(f, "accepted"))
        else:
            rest.append(f)
    by_subjects: dict[tuple[str, ...], list[Finding]] = {}
    for f in rest:
        if f.pack != PHYSICAL_PACK:
            by_subjects.setdefault(f.subjects, []).append(f)
    grouped: set[int] = set()
    for subjects, group in by_subjects.items():
        authorities = {refs[(f.rule, f.pack)].authority for f in group}
        if len(authorities) < 2:
            continue
        group = sorted(group, key=lambda f: f.rule)
        grouped.update(id(f) for f in group)
        worst = max(group, key=lambda f: (_amount(f) or 0.0))
        rules = tuple(refs[(f.rule, f.pack)] for f in group)
        out.append(Friction(
            "authority", rules, " vs ".join(f"{r.rule} ({r.authority})" for r in rules),
            min((f.severity for f in group), key=SEVERITIES.index),
            fingerprint("+".join(r.rule for r in rules), subjects), case, municipality, year, subjects,
            worst.measured, worst.required, worst.op, _amount(worst), worst.unit,
            " | ".join(f"{f.rule}: {f.message}" for f in group)))
    for f in rest:
        if id(f) not in grouped and _space(f):
            out.append(single(f, "space"))
    return sorted(out, key=lambda x: (x.fingerprint, x.kind))


# ---- logging ------------------------------------------------------------------------------

def _rules_key(rules: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(rules)))


def _history(con: sqlite3.Connection, entry: int, who: str, at: str, what: str, old: str, new: str, note: str) -> None:
    con.execute("INSERT INTO history (entry_id, at, who, field, old, new, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (entry, at, who, what, old, new, note))


def _link_same_rules(con: sqlite3.Connection, entry: int, rules: tuple[str, ...]) -> None:
    """Link an entry to every live entry about exactly the same rule (pair)."""
    rows = con.execute(
        "SELECT r.entry_id, r.rule FROM entry_rules r JOIN entries e ON e.id = r.entry_id "
        "WHERE e.merged_into IS NULL AND r.entry_id != ? AND r.entry_id IN "
        "(SELECT entry_id FROM entry_rules WHERE rule = ?)", (entry, rules[0])).fetchall()
    sets: dict[int, set[str]] = {}
    for other, rule in rows:
        sets.setdefault(other, set()).add(rule)
    for other, found in sorted(sets.items()):
        if _rules_key(found) == rules:
            con.execute("INSERT OR IGNORE INTO links (a, b, reason) VALUES (?, ?, ?)",
                        (min(entry, other), max(entry, other), "same rules: " + " + ".join(rules)))


def _find_entry(con: sqlite3.Connection, fp: str, case: str) -> int | None:
    row = con.execute("SELECT entry_id FROM occurrences WHERE fingerprint = ? AND case_path = ? LIMIT 1",
                      (fp, case)).fetchone()
    return None if row is None else int(row[0])


def _create_entry(con: sqlite3.Connection, fr: Friction, who: str, at: str, status: str = "new",
                  triage: str | None = None, note: str = "") -> int:
    cur = con.execute(
        "INSERT INTO entries (friction, title, severity, triage, status, case_path, municipality, planned_year, "
        "created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (fr.kind, fr.title, fr.severity, triage, status, fr.case_path, fr.municipality, fr.planned_year, at, who))
    entry = int(cur.lastrowid or 0)
    con.executemany("INSERT OR IGNORE INTO entry_rules (entry_id, rule, pack, version, authority, source) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [(entry, r.rule, r.pack, r.version, r.authority, r.source) for r in fr.rules])
    _history(con, entry, who, at, "status", "", status, note or f"logged ({fr.kind} friction)")
    _link_same_rules(con, entry, _rules_key(r.rule for r in fr.rules))
    return entry


def _occur(con: sqlite3.Connection, entry: int, fr: Friction, run_id: str, who: str, at: str) -> bool:
    cur = con.execute(
        "INSERT OR IGNORE INTO occurrences (entry_id, fingerprint, case_path, run_id, at, who, municipality, "
        "planned_year, subjects, measured, required, op, amount, unit, message, accepted) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (entry, fr.fingerprint, fr.case_path, run_id, at, who, fr.municipality, fr.planned_year,
         json.dumps(list(fr.subjects)), fr.measured, fr.required, fr.op, fr.amount, fr.unit, fr.message, fr.accepted))
    return cur.rowcount == 1


def record(con: sqlite3.Connection, frictions: Iterable[Friction], run_id: str, who: str) -> tuple[int, int]:
    """Add friction observations inside an open transaction; return (new entries, new occurrences)."""
    at = _now()
    new_entries = new_occ = 0
    for fr in frictions:
        entry = _find_entry(con, fr.fingerprint, fr.case_path)
        if entry is None:
            entry = _create_entry(con, fr, who, at)
            new_entries += 1
        new_occ += _occur(con, entry, fr, run_id, who, at)
    return new_entries, new_occ


def log_frictions(db: Backlog | Path | str | None, frictions: Sequence[Friction], run_id: str,
                  who: str | None = None) -> LogSummary:
    """Log friction observations of one run in one transaction; the same run logged twice adds nothing."""
    with _opened(db) as opened:
        made, occ = opened.write(lambda con: record(con, frictions, run_id, who or default_who()))
        return LogSummary(str(opened.path), len(frictions), made, occ)


def run_id_for(case_path: str, packs: PackSet, extra: str = "") -> str:
    """Return the id of a run: a hash of the case file's bytes and the packs' names, versions and texts."""
    digest = hashlib.sha256()
    try:
        digest.update(Path(case_path).read_bytes())
    except OSError:
        digest.update(case_path.encode("utf-8"))
    for pack in packs.packs:
        digest.update(f"\x1f{pack.name}@{pack.version}".encode())
        try:
            digest.update(Path(pack.path).read_bytes())
        except OSError:
            pass
    digest.update(extra.encode("utf-8"))
    return "sha256:" + digest.hexdigest()[:20]


def log_results(db: Backlog | Path | str | None, results: Iterable[CaseResult], packs: PackSet,
                run_id: str | None = None, who: str | None = None) -> LogSummary:
    """Log the friction among checked cases (`checker.pipeline.run.CaseResult`s), one transaction for all."""
    batches = [(select_friction(r.findings, r.section, r.path, packs), run_id or run_id_for(r.path, packs))
               for r in results]

    def work(con: sqlite3.Connection) -> tuple[int, int]:
        made = occ = 0
        for frictions, rid in batches:
            m, o = record(con, frictions, rid, who or default_who())
            made, occ = made + m, occ + o
        return made, occ

    with _opened(db) as opened:
        made, occ = opened.write(work)
        return LogSummary(str(opened.path), sum(len(b) for b, _ in batches), made, occ)


def log_deviations(db: Backlog | Path | str | None, case: Section, deviations: Iterable[Deviation],
                   run_id: str | None = None, who: str | None = None) -> LogSummary:
    """Log the deviations a layout needs in a case as space friction (one transaction)."""
    chosen = list(deviations)
    municipality, year, path = str(case.tag("municipality") or ""), _year(case.planned), case_key(case.path)
    frictions = [
        Friction("space", (RuleRef(d.rule, d.pack, d.version, d.authority, d.source),), d.title or d.rule, d.severity,
                 fingerprint(d.rule, tuple(sorted(d.subjects))), path, municipality, year, tuple(sorted(d.subjects)),
                 d.proposed, d.required, "deviate", round(abs(d.required - d.proposed), 4), d.unit,
                 f"layout needs {d.rule}: {d.required:g} {d.unit} → {d.proposed:g} {d.unit}")
        for d in chosen
    ]
    if run_id is None:
        listing = "".join(f"\x1e{d.rule}\x1f{d.required!r}\x1f{d.proposed!r}\x1f{d.subjects}" for d in chosen)
        digest = hashlib.sha256(path.encode("utf-8") + b"layout" + listing.encode("utf-8"))
        try:
            digest.update(Path(case.path).read_bytes())
        except OSError:
            pass
        run_id = "layout:" + digest.hexdigest()[:20]
    return log_frictions(db, frictions, run_id, who)


def add_manual(db: Backlog | Path | str | None, rules: Sequence[RuleRef], title: str, severity: str = "warning",
               case_path: str = "", municipality: str = "", planned_year: int | None = None,
               amount: float | None = None, unit: str = "m", note: str = "", who: str | None = None) -> int:
    """Add friction logged by hand; return the entry id (the same rules, title and case give the same entry)."""
    if not rules:
        raise _error("backlog", "a hand-logged entry needs at least one rule")
    if severity not in SEVERITIES:
        raise _error("backlog", f"severity must be one of {', '.join(SEVERITIES)}, got '{severity}'")
    case = case_key(case_path) if case_path else ""
    fr = Friction("manual", tuple(rules), title, severity, fingerprint("+".join(sorted(r.rule for r in rules)),
                  (title,)), case, municipality, planned_year, (), None, None, "", amount, unit, note or title)
    actor = who or default_who()

    def work(con: sqlite3.Connection) -> int:
        record(con, [fr], f"manual:{_now()}:{actor}", actor)
        entry = _find_entry(con, fr.fingerprint, fr.case_path)
        assert entry is not None  # record() just made or found it
        return entry

    with _opened(db) as opened:
        return opened.write(work)


def add_by_hand(db: Backlog | Path | str | None, packs: PackSet, rule_ids: Sequence[str], title: str,
                case: Path | None = None, severity: str = "warning", amount: float | None = None, unit: str = "m",
                note: str = "", who: str | None = None) -> int:
    """Log friction by hand: look the rules up in the packs, read municipality and year from the case."""
    refs = []
    for rule_id in rule_ids:
        found = packs.find(rule_id)
        if not found:
            raise _error("--rule", f"unknown rule '{rule_id}' in the loaded packs")
        pr = found[-1]
        refs.append(RuleRef(rule_id, pr.pack.name, pr.pack.version, pr.pack.authority, pr.rule.source))
    if case is None:
        return add_manual(db, refs, title, severity, amount=amount, unit=unit, note=note, who=who)
    section = load_case(discover([case])[0])
    return add_manual(db, refs, title, severity, section.path, str(section.tag("municipality") or ""),
                      _year(section.planned), amount, unit, note, who)


# ---- working the backlog -----------------------------------------------------------------

def _entry_row(con: sqlite3.Connection, path: Path, entry: int) -> sqlite3.Row:
    con.row_factory = sqlite3.Row
    try:
        row = con.execute("SELECT * FROM entries WHERE id = ?", (entry,)).fetchone()
    finally:
        con.row_factory = None
    if not isinstance(row, sqlite3.Row):
        raise _error(path, f"no backlog entry {entry}")
    if row["merged_into"] is not None:
        raise _error(path, f"backlog entry {entry} was merged into entry {row['merged_into']}")
    return row


def triage(db: Backlog | Path | str | None, entry: int, triage_class: str, note: str = "",
           who: str | None = None) -> None:
    """Set an entry's triage class; a new entry becomes triaged."""
    if triage_class not in TRIAGE_CLASSES:
        raise _error("triage", f"unknown triage class '{triage_class}' (expected one of: {', '.join(TRIAGE_CLASSES)})")
    actor = who or default_who()
    with _opened(db) as opened:
        def work(con: sqlite3.Connection) -> None:
            row = _entry_row(con, opened.path, entry)
            at = _now()
            con.execute("UPDATE entries SET triage = ? WHERE id = ?", (triage_class, entry))
            _history(con, entry, actor, at, "triage", row["triage"] or "", triage_class, note)
            if row["status"] == "new":
                con.execute("UPDATE entries SET status = 'triaged' WHERE id = ?", (entry,))
                _history(con, entry, actor, at, "status", "new", "triaged", note or f"triaged as {triage_class}")
        opened.write(work)


def set_status(db: Backlog | Path | str | None, entry: int, status: str, note: str, who: str | None = None) -> None:
    """Move an entry to a new status, refusing transitions the workflow does not allow."""
    if status not in STATUSES:
        raise _error("status", f"unknown status '{status}' (expected one of: {', '.join(STATUSES)})")
    actor = who or default_who()
    with _opened(db) as opened:
        def work(con: sqlite3.Connection) -> None:
            row = _entry_row(con, opened.path, entry)
            old = row["status"]
            if status not in TRANSITIONS[old]:
                allowed = ", ".join(TRANSITIONS[old]) or "none (final)"
                raise _error(opened.path, f"entry {entry} cannot go from {old} to {status} (allowed: {allowed})")
            if status == "triaged" and row["triage"] is None:
                raise _error(opened.path, f"entry {entry} has no triage class: run `ligging backlog triage {entry} CLASS`")
            con.execute("UPDATE entries SET status = ? WHERE id = ?", (status, entry))
            _history(con, entry, actor, _now(), "status", old, status, note)
        opened.write(work)


def merge(db: Backlog | Path | str | None, keep: int, other: int, note: str = "", who: str | None = None) -> None:
    """Merge entry `other` into `keep`: occurrences, rules and links move; `other` stays as a pointer."""
    if keep == other:
        raise _error("merge", "cannot merge an entry into itself")
    actor = who or default_who()
    with _opened(db) as opened:
        def work(con: sqlite3.Connection) -> None:
            kept, gone = _entry_row(con, opened.path, keep), _entry_row(con, opened.path, other)
            at = _now()
            con.execute("UPDATE occurrences SET entry_id = ? WHERE entry_id = ?", (keep, other))
            con.execute("INSERT OR IGNORE INTO entry_rules SELECT ?, rule, pack, version, authority, source "
                        "FROM entry_rules WHERE entry_id = ?", (keep, other))
            for a, b, reason in con.execute("SELECT a, b, reason FROM links WHERE a = ? OR b = ?",
                                            (other, other)).fetchall():
                peer = b if a == other else a
                if peer != keep:
                    con.execute("INSERT OR IGNORE INTO links (a, b, reason) VALUES (?, ?, ?)",
                                (min(keep, peer), max(keep, peer), reason))
            con.execute("DELETE FROM links WHERE a = ? OR b = ?", (other, other))
            worst = min(kept["severity"], gone["severity"], key=SEVERITIES.index)
            con.execute("UPDATE entries SET severity = ? WHERE id = ?", (worst, keep))
            con.execute("UPDATE entries SET merged_into = ? WHERE id = ?", (keep, other))
            _history(con, keep, actor, at, "merge", "", str(other), note or f"entry {other} merged in")
            _history(con, other, actor, at, "merged_into", "", str(keep), note or f"merged into entry {keep}")
        opened.write(work)


def _read(db: Backlog) -> tuple[list[sqlite3.Row], dict[int, list[RuleRef]], dict[int, list[sqlite3.Row]],
                                 dict[int, set[int]]]:
    """Read live entries, their rules, occurrences and links in one snapshot."""
    con = db.con
    con.row_factory = sqlite3.Row
    con.execute("BEGIN")
    try:
        entries = con.execute("SELECT * FROM entries WHERE merged_into IS NULL ORDER BY id").fetchall()
        rules: dict[int, list[RuleRef]] = {}
        for r in con.execute("SELECT * FROM entry_rules ORDER BY entry_id, rowid"):
            rules.setdefault(r["entry_id"], []).append(RuleRef(r["rule"], r["pack"], r["version"], r["authority"],
                                                               r["source"]))
        occ: dict[int, list[sqlite3.Row]] = {}
        for o in con.execute("SELECT * FROM occurrences ORDER BY id"):
            occ.setdefault(o["entry_id"], []).append(o)
        links: dict[int, set[int]] = {}
        for a, b in con.execute("SELECT a, b FROM links"):
            links.setdefault(a, set()).add(b)
            links.setdefault(b, set()).add(a)
    finally:
        con.execute("COMMIT")
        con.row_factory = None
    return entries, rules, occ, links


def list_items(db: Backlog | Path | str | None, weights: Weights, rank: str = "urgency", status: str | None = None,
               authority: str | None = None, rule: str | None = None, this_year: int | None = None) -> list[Item]:
    """Return the live entries, filtered, with their urgency; ranked by urgency (then id) or by id."""
    if rank not in ("urgency", "id"):
        raise _error("list", f"--rank must be 'urgency' or 'id', got '{rank}'")
    if status is not None and status not in STATUSES:
        raise _error("list", f"unknown status '{status}' (expected one of: {', '.join(STATUSES)})")
    year = this_year or dt.date.today().year
    with _opened(db) as opened:
        entries, rules, occ, links = _read(opened)
    live = {e["id"] for e in entries}
    own_cases = {e["id"]: {o["case_path"] for o in occ.get(e["id"], [])} for e in entries}
    years: dict[int, list[int]] = {
        e["id"]: [o["planned_year"] for o in occ.get(e["id"], []) if o["planned_year"] is not None] for e in entries}
    items: list[Item] = []
    for e in entries:
        eid = e["id"]
        refs = tuple(rules.get(eid, []))
        if status is not None and e["status"] != status:
            continue
        if authority is not None and not any(authority.lower() in r.authority.lower() for r in refs):
            continue
        if rule is not None and not any(r.rule == rule for r in refs):
            continue
        linked = tuple(sorted(x for x in links.get(eid, set()) if x in live))
        cluster_cases = set(own_cases[eid]).union(*(own_cases[x] for x in linked))
        cluster_years = years[eid] + [y for x in linked for y in years[x]]
        rows = occ.get(eid, [])
        latest: dict[tuple[str, str], sqlite3.Row] = {}
        for o in rows:
            latest[(o["fingerprint"], o["case_path"])] = o
        sized = [o for o in latest.values() if o["amount"] is not None]
        worst = max(sized, key=lambda o: o["amount"]) if sized else (rows[-1] if rows else None)
        amount = worst["amount"] if worst is not None else None
        unit = worst["unit"] if worst is not None else ""
        planned = min(cluster_years) if cluster_years else None
        items.append(Item(
            id=eid, status=e["status"], triage=e["triage"], friction=e["friction"], title=e["title"], rules=refs,
            case_path=e["case_path"], municipality=e["municipality"], planned_year=e["planned_year"],
            severity=e["severity"], amount=amount, unit=unit, occurrences=len(rows), cases=tuple(sorted(own_cases[eid])),
            cases_affected=len(cluster_cases), linked=linked, fingerprint=rows[0]["fingerprint"] if rows else "",
            evidence=rows[-1]["message"] if rows else "",
            urgency=score(weights, len(cluster_cases), e["severity"], amount, unit, planned, year),
        ))
    if rank == "urgency":
        items.sort(key=lambda i: (-i.urgency.total, i.id))
    return items


def detail(db: Backlog | Path | str | None, entry: int, weights: Weights, this_year: int | None = None) -> Detail:
    """Return one entry with its history, occurrences per case and the entries merged into it."""
    with _opened(db) as opened:
        _entry_row(opened.con, opened.path, entry)
        item = next(i for i in list_items(opened, weights, rank="id", this_year=this_year) if i.id == entry)
        history = tuple(HistoryRow(*r) for r in opened.con.execute(
            "SELECT at, who, field, old, new, note FROM history WHERE entry_id = ? ORDER BY id", (entry,)))
        per_case = tuple((c, int(n), str(first), str(last)) for c, n, first, last in opened.con.execute(
            "SELECT case_path, count(*), min(at), max(at) FROM occurrences WHERE entry_id = ? "
            "GROUP BY case_path ORDER BY case_path", (entry,)))
        merged = tuple(int(r[0]) for r in opened.con.execute(
            "SELECT id FROM entries WHERE merged_into = ? ORDER BY id", (entry,)))
    return Detail(item, history, per_case, merged)


# ---- showing and exporting ----------------------------------------------------------------

COLUMNS = ("id", "status", "triage", "friction", "title", "rules", "packs", "versions", "authorities", "sources",
           "case", "municipality", "planned", "severity", "amount", "unit", "occurrences", "cases", "cases_affected",
           "linked", "urgency_cases", "urgency_severity", "urgency_deviation", "urgency_soon", "urgency",
           "fingerprint", "evidence")


def _deviation_text(item: Item) -> str:
    return "—" if item.amount is None else f"{item.amount:.3f} {item.unit}".strip()


def row_values(item: Item) -> list[str | int | float | None]:
    """Return an item as the export row (COLUMNS order); lists inside a cell are one per line."""
    u = item.urgency
    return [
        item.id, item.status, item.triage or "", item.friction, item.title,
        "\n".join(r.rule for r in item.rules), "\n".join(r.pack for r in item.rules),
        "\n".join(r.version for r in item.rules), "\n".join(r.authority for r in item.rules),
        "\n".join(r.source for r in item.rules),
        item.case_path, item.municipality, item.planned_year, item.severity, item.amount, item.unit,
        item.occurrences, "\n".join(item.cases), item.cases_affected, " ".join(str(x) for x in item.linked),
        u.cases, u.severity, u.deviation, u.soon, round(u.total, 2), item.fingerprint, item.evidence,
    ]


def neutralise(value: str | int | float | None) -> str | int | float | None:
    """Prefix a text cell a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(DANGEROUS_LEAD):
        return "'" + value
    return value


def render_list(console: Console, items: Sequence[Item]) -> None:
    """Print the backlog as a table showing each score's parts."""
    table = Table(title=f"harmonisation backlog ({plural(len(items), 'entry', 'entries')})", title_justify="left",
                  show_lines=False)
    for name, justify in (("id", "right"), ("status", "left"), ("triage", "left"), ("friction", "left"),
                          ("rules", "left"), ("case", "left"), ("deviation", "right"), ("cases", "right"),
                          ("+cases", "right"), ("+sev", "right"), ("+dev", "right"), ("+soon", "right"),
                          ("score", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for i in items:
        u = i.urgency
        table.add_row(str(i.id), i.status, i.triage or "", i.friction, " + ".join(r.rule for r in i.rules),
                      i.case_path or "—", _deviation_text(i), str(i.cases_affected), f"{u.cases:.1f}",
                      f"{u.severity:.1f}", f"{u.deviation:.1f}", f"{u.soon:.1f}", f"{u.total:.1f}")
    console.print(table)


def render_detail(console: Console, d: Detail) -> None:
    """Print one entry: rules with sources, case, deviation, urgency parts, occurrences, links, history."""
    i, u = d.item, d.item.urgency
    console.print(f"entry {i.id}: {i.title}")
    console.print(f"  status {i.status}   triage {i.triage or '—'}   friction {i.friction}   severity {i.severity}")
    for r in i.rules:
        console.print(f"  rule {r.rule}  pack {r.pack} {r.version}  authority {r.authority or '—'}")
        console.print(f"       source: {r.source}")
    console.print(f"  case {i.case_path or '—'}  municipality {i.municipality or '—'}  planned {i.planned_year or '—'}")
    console.print(f"  deviation needed {_deviation_text(i)}   cases affected {i.cases_affected}   "
                  f"occurrences {i.occurrences}")
    console.print(f"  urgency {u.total:.1f} = cases {u.cases:.1f} + severity {u.severity:.1f} + "
                  f"deviation {u.deviation:.1f} + soon {u.soon:.1f}")
    console.print(f"  evidence: {i.evidence}")
    for case, n, first, last in d.per_case:
        console.print(f"  seen in {case or '(no case)'}: {n} times, from {first} to {last}")
    if i.linked:
        console.print(f"  linked entries: {', '.join(str(x) for x in i.linked)}")
    if d.merged:
        console.print(f"  merged in: {', '.join(str(x) for x in d.merged)}")
    console.print("  history:")
    for h in d.history:
        change = f"{h.old or '∅'} → {h.new}" if h.field != "merge" else f"+ entry {h.new}"
        console.print(f"    {h.at}  {h.who}  {h.field}: {change}  {h.note}")


def export(items: Sequence[Item], fmt: str, out: Path) -> None:
    """Write the listed items as CSV, XLSX or Markdown, in the order listed."""
    rows = [row_values(i) for i in items]
    try:
        if fmt == "csv":
            with out.open("w", encoding="utf-8", newline="") as fh:
                writer = csv.writer(fh)
                writer.writerow(COLUMNS)
                writer.writerows([[neutralise(v) for v in row] for row in rows])
        elif fmt == "xlsx":
            _export_xlsx(rows, out)
        elif fmt == "md":
            out.write_text(_markdown(rows), encoding="utf-8")
        else:
            raise _error(out, f"unknown export format '{fmt}' (expected csv, xlsx or md)")
    except OSError as exc:
        raise _error(out, f"cannot write the export: {exc.strerror or exc}") from None


def _export_xlsx(rows: list[list[str | int | float | None]], out: Path) -> None:
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = "backlog"
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([neutralise(v) for v in row])
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if isinstance(cell.value, str) and "\n" in cell.value:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "B2"
    book.save(out)


def _markdown(rows: list[list[str | int | float | None]]) -> str:
    def cell(v: str | int | float | None) -> str:
        text = "" if v is None else str(v)
        return html.escape(text, quote=False).replace("|", "\\|").replace("\n", "<br>")

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def backlog_section(db_path: Path | str, weights: Weights | None = None, top: int = 10) -> str:
    """Return the report's backlog section: the most urgent entries with their evidence, as escaped HTML."""
    path = Path(db_path)
    if not path.is_file():
        raise _error(path, "no backlog file here (log friction with `ligging check --log` first)")
    from checker.policy.urgency import load_weights

    items = list_items(path, weights or load_weights())
    def e(text: object) -> str:
        return html.escape(str(text), quote=True)

    rows = []
    for i in items[:top]:
        u = i.urgency
        rules = "<br>".join(f"{e(r.rule)} <span class=\"meta\">{e(r.pack)} {e(r.version)} · {e(r.authority)}</span>"
                            f"<br><span class=\"meta\">{e(r.source)}</span>" for r in i.rules)
        rows.append(
            f"<tr><td class=\"num\">{i.id}</td><td>{e(i.status)}<br>{e(i.triage or '—')}</td><td>{e(i.friction)}</td>"
            f"<td>{rules}</td><td>{'<br>'.join(e(c) for c in i.cases) or '—'}</td>"
            f"<td class=\"num\">{e(_deviation_text(i))}</td><td class=\"num\">{i.cases_affected}</td>"
            f"<td class=\"num\">{u.total:.1f}<br><span class=\"meta\">{u.cases:.1f} + {u.severity:.1f} + "
            f"{u.deviation:.1f} + {u.soon:.1f}</span></td><td>{e(i.evidence)}</td></tr>")
    head = ("<tr><th>id</th><th>status / triage</th><th>friction</th><th>rules and sources</th><th>cases</th>"
            "<th>deviation</th><th>cases affected</th><th>urgency (cases + severity + deviation + soon)</th>"
            "<th>evidence</th></tr>")
    table = f"<table>{head}{''.join(rows)}</table>" if rows else '<p class="none">The backlog is empty.</p>'
    return (f'<section id="backlog"><h2>Harmonisation backlog</h2>'
            f'<p class="meta">{e(path)}: the {min(top, len(items))} most urgent of {len(items)} entries '
            f"(urgency formula: docs/backlog.md)</p>{table}</section>")


def _restore(value: str) -> str:
    """Undo the export's formula neutralisation of a text cell."""
    if value.startswith("'") and value[1:].startswith(DANGEROUS_LEAD):
        return value[1:]
    return value


def import_csv(db: Backlog | Path | str | None, source: Path, who: str | None = None) -> tuple[int, int]:
    """Add the entries of a CSV export not yet in the backlog; return (added, already present)."""
    try:
        text = source.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise _error(source, f"cannot read the CSV file: {exc}") from None
    reader = csv.DictReader(text.splitlines(keepends=True))
    missing = [c for c in ("fingerprint", "case", "rules", "friction", "title", "severity", "status") if
               c not in (reader.fieldnames or [])]
    if missing:
        raise _error(source, f"not a backlog CSV export: missing column(s) {', '.join(missing)}")
    actor = who or default_who()
    parsed: list[tuple[int, Friction, str, str | None, int, list[str]]] = []
    for row in reader:
        line = reader.line_num
        cells = {k: _restore(v) for k, v in row.items() if isinstance(k, str) and isinstance(v, str)}
        parsed.append(_import_row(source, line, cells))

    def work(con: sqlite3.Connection) -> tuple[int, int]:
        added = present = 0
        at = _now()
        for line, fr, status, triage_class, count, cases in parsed:
            if _find_entry(con, fr.fingerprint, fr.case_path) is not None:
                present += 1
                continue
            entry = _create_entry(con, fr, actor, at, status, triage_class, f"imported from {source.name}:{line}")
            spread = [(cases[0] if cases else fr.case_path, max(1, count - len(cases) + 1))] + \
                     [(c, 1) for c in cases[1:]]
            for case, n in spread:
                for k in range(n):
                    _occur(con, entry, replace(fr, case_path=case),
                           f"import:{source.name}:{line}:{k}", actor, at)
            added += 1
        return added, present

    with _opened(db) as opened:
        return opened.write(work)


def _import_row(source: Path, line: int, cells: dict[str, str]) -> tuple[int, Friction, str, str | None, int,
                                                                               list[str]]:
    """Validate one CSV row and turn it into the friction it records."""
    def get(key: str) -> str:
        return cells.get(key, "")

    def bad(message: str) -> LiggingError:
        return _error(source, message, line)

    def number(key: str, kind: type[int] | type[float]) -> Any:
        text = get(key).strip()
        if not text:
            return None
        try:
            return kind(text)
        except ValueError:
            raise bad(f"column {key}: '{text}' is not a number") from None

    friction, severity, status, triage_class = get("friction"), get("severity"), get("status"), get("triage") or None
    if friction not in FRICTIONS:
        raise bad(f"column friction: '{friction}' is not one of {', '.join(FRICTIONS)}")
    if severity not in SEVERITIES:
        raise bad(f"column severity: '{severity}' is not one of {', '.join(SEVERITIES)}")
    if status not in STATUSES:
        raise bad(f"column status: '{status}' is not one of {', '.join(STATUSES)}")
    if triage_class is not None and triage_class not in TRIAGE_CLASSES:
        raise bad(f"column triage: '{triage_class}' is not one of {', '.join(TRIAGE_CLASSES)}")
    if not get("fingerprint") or not get("rules"):
        raise bad("columns fingerprint and rules must not be empty")
    columns = [get(k).split("\n") for k in ("rules", "packs", "versions", "authorities", "sources")]
    n = len(columns[0])
    refs = tuple(RuleRef(*(col[k] if k < len(col) else "" for col in columns)) for k in range(n))
    cases = [c for c in get("cases").split("\n") if c]
    fr = Friction(friction, refs, get("title"), severity, get("fingerprint"), get("case"), get("municipality"),
                  number("planned", int), (), None, None, "", number("amount", float), get("unit"), get("evidence"))
    return line, fr, status, triage_class, max(1, number("occurrences", int) or 1), cases


def backlog_deviations(result: Layout, packs: PackSet) -> list[Deviation]:
    """Return a layout's deviations with a magnitude as harmonisation-backlog entries (waivers have none)."""
    out = []
    for d in result.deviations:
        if d.to is None or d.required is None:
            continue
        pr = packs.find(d.rule)[0]
        out.append(Deviation(d.rule, d.pack, d.source, d.required, d.to, d.unit, authority=pr.pack.authority,
                                    version=pr.pack.version, severity=pr.rule.severity, title=pr.rule.title))
    return out
