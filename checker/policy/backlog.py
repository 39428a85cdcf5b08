"""The harmonisation backlog (OT6 register): one entry per regulation that rubs, with its occurrences.

An entry is a rule, or a pair of rules, that rubs — keyed by their ids, so logging more
cases only adds occurrences beneath it (case, place, amount, planned date, evidence, who,
when). It records the class of friction (`checker.policy.friction`: contradiction,
praktijktoets, space, data), the rules with their authority, source, legal instrument and
who can change it, a triage class, a status that moves new → triaged → proposed →
harmonised | rejected, the OT6 phase (inzicht → prioriteren → integratie → praktijktoets,
or parked on the back-log), and every change in a history. Every logged run and every
hand-added friction has its own run id, so nothing collapses into one occurrence.
Storage (SQLite or PostgreSQL), migrations and the write lock live in `backlog_store` and
`backlog_schema`; listing, exports and the HTML view in `backlog_views`; CSV import in
`backlog_csv`. See docs/backlog.md.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from checker.advice.layout import Layout
from checker.engine.evaluate import Engine
from checker.io.loader import load_case
from checker.model.findings import SEVERITIES, CaseResult, fingerprint
from checker.model.numbers import plural
from checker.model.section import Section
from checker.pipeline.run import discover
from checker.policy.backlog_schema import (
    CLASSES,
    PHASES,
    STATUSES,
    TRIAGE_CLASSES,
    now,
    open_backlog,
    subjects_text,
)
from checker.policy.backlog_store import Store, error
from checker.policy.friction import Classifier, Friction, RuleRef, pack_rule, rule_ref, strongest
from checker.policy.urgency import Urgency, Weights, score
from dsl.packs import PackSet

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("triaged", "rejected"),
    "triaged": ("proposed", "rejected"),
    "proposed": ("harmonised", "rejected", "triaged"),
    "harmonised": (),
    "rejected": ("triaged",),
}
# The phase an entry moves to when its status changes (a later phase is never moved back by a status).
PHASE_FOR_STATUS = {"triaged": "prioriteren", "proposed": "integratie"}
ORIGINS = ("check", "layout", "whatif", "manual", "import")

Where = Path | str | None


@dataclass(frozen=True, slots=True)
class Deviation:
    """A deviation a layout needs: the rule, its required value and the value proposed instead."""

    rule: str
    pack: str
    source: str
    required: float
    proposed: float
    unit: str
    authority: str = ""
    version: str = ""
    severity: str = "error"
    title: str = ""
    op: str = ""


@dataclass(frozen=True, slots=True)
class LogSummary:
    """What one logging call added, and where."""

    path: str
    frictions: int
    new_entries: int
    new_occurrences: int
    created: bool = False

    def line(self) -> str:
        """Say in one line what was logged where (and that the backlog was created, when it was)."""
        made = " (new backlog created)" if self.created else ""
        return (f"backlog {self.path}{made}: {plural(self.frictions, 'friction')}, "
                f"{plural(self.new_entries, 'new entry', 'new entries')}, {plural(self.new_occurrences, 'new occurrence')}")


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One observation beneath an entry: where, how much, what showed it, from which run."""

    id: int
    run_id: str
    origin: str
    friction: str
    fingerprint: str
    case_path: str
    municipality: str
    planned: str
    subjects: tuple[str, ...]
    place: str
    measured: float | None
    required: float | None
    op: str
    amount: float | None
    unit: str
    message: str
    evidence: str
    accepted: str
    input: str
    at: str
    who: str


@dataclass(frozen=True, slots=True)
class Item:
    """A backlog entry as listed: the regulation, its state, aggregates over its occurrences, and urgency."""

    id: int
    key: str
    friction: str
    title: str
    status: str
    triage: str | None
    phase: str
    severity: str
    rules: tuple[RuleRef, ...]
    occurrences: int
    cases: tuple[str, ...]
    municipalities: tuple[str, ...]
    planned: str
    amount: float | None
    unit: str
    evidence: str
    place: str
    urgency: Urgency
    related: tuple[int, ...]
    seen: tuple[tuple[str, str], ...]  # (case, finding fingerprint) of every occurrence

    @property
    def rubbing(self) -> tuple[RuleRef, ...]:
        """Return the rules that rub (one, or a pair), without those that only agree."""
        return tuple(r for r in self.rules if r.role == "rubs")


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
    occurrences: tuple[Occurrence, ...]
    merged: tuple[int, ...] = field(default_factory=tuple)


def default_who() -> str:
    """Return who is making a change: $USER, else the login name, else 'unknown'."""
    user = os.environ.get("USER")
    if user:
        return user
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def new_run_id(origin: str) -> str:
    """Return a run id that no other run shares, on any machine (a random UUID)."""
    return f"{origin}:{uuid.uuid4().hex}"


def case_key(path: str) -> str:
    """Return the case path as stored: relative to the working folder when inside it, POSIX slashes."""
    p = Path(path)
    if p.is_absolute():
        try:
            p = p.relative_to(Path.cwd())
        except ValueError:
            pass
    return p.as_posix()


def input_digest(case_path: str, packs: PackSet, extra: str = "") -> str:
    """Return a hash of what a run read: the case file's bytes and the packs' names, versions and texts."""
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


# ---- writing: entries and occurrences ------------------------------------------------------

def add_history(db: Store, entry: int, who: str, at: str, what: str, old: str, new: str, note: str) -> None:
    """Record one change of an entry (inside the caller's write transaction)."""
    db.execute("INSERT INTO history (entry_id, at, who, field, old, new, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
               (entry, at, who, what, old, new, note))


def _live(db: Store, entry: int) -> int:
    """Follow merge pointers from an entry to the live entry it ended in."""
    seen = set()
    while entry not in seen:
        seen.add(entry)
        target = db.value("SELECT merged_into FROM entries WHERE id = ?", (entry,))
        if target is None:
            return entry
        entry = int(target)
    raise error(db.display, f"backlog entries merged in a circle through entry {entry}")


def find_entry(db: Store, key: str) -> int | None:
    """Return the live entry for a rule key (following merges), or None."""
    rows = db.rows("SELECT id, merged_into FROM entries WHERE rules_key = ? ORDER BY id", (key,))
    live = [r for r in rows if r["merged_into"] is None]
    if live:
        return int(live[0]["id"])
    return _live(db, int(rows[0]["id"])) if rows else None


def store_rules(db: Store, entry: int, rules: Sequence[RuleRef]) -> None:
    """Record an entry's rules; known ones get their latest pack version, source and instrument."""
    start = int(db.value("SELECT count(*) FROM entry_rules WHERE entry_id = ?", (entry,)))
    for k, r in enumerate(rules):
        db.execute("INSERT INTO entry_rules (entry_id, position, role, rule, pack, version, authority, source, "
                   "instrument_kind, instrument, changed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                   "ON CONFLICT (entry_id, rule) DO UPDATE SET pack = excluded.pack, version = excluded.version, "
                   "authority = excluded.authority, source = excluded.source, "
                   "instrument_kind = excluded.instrument_kind, instrument = excluded.instrument, "
                   "changed_by = excluded.changed_by",
                   (entry, start + k, r.role, r.rule, r.pack, r.version, r.authority, r.source, r.instrument_kind,
                    r.instrument, r.changed_by))


def create_entry(db: Store, fr: Friction, who: str, at: str, status: str = "new", triage: str | None = None,
                  phase: str = "inzicht", note: str = "") -> int:
    """Create the entry a friction belongs to, with its rules and a first history line; return its id."""
    entry = db.insert("INSERT INTO entries (rules_key, friction, title, severity, triage, status, phase, created_at, "
                      "created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                      (fr.key, fr.kind, fr.title, fr.severity, triage, status, phase, at, who))
    store_rules(db, entry, fr.rules)
    add_history(db, entry, who, at, "status", "", status, note or f"logged ({fr.kind})")
    return entry


def add_occurrence(db: Store, entry: int, fr: Friction, run_id: str, origin: str, input_: str, who: str, at: str) -> bool:
    """Add an occurrence beneath an entry; False when this run already recorded it (same case and objects)."""
    cur = db.execute(
        "INSERT INTO occurrences (entry_id, run_id, origin, friction, fingerprint, case_path, municipality, planned, "
        "subjects, place, measured, required, op, amount, unit, message, evidence, accepted, input, at, who) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (entry, run_id, origin, fr.kind, fr.fingerprint, fr.case_path, fr.municipality, fr.planned,
         subjects_text(fr.subjects), fr.place, fr.measured, fr.required, fr.op, fr.amount, fr.unit, fr.message,
         fr.evidence, fr.accepted, input_, at, who))
    return int(cur.rowcount) == 1


def record(db: Store, frictions: Iterable[Friction], run_id: str, who: str, origin: str = "check",
           inputs: dict[str, str] | None = None) -> tuple[int, int]:
    """Add friction observations inside an open write transaction; return (new entries, new occurrences)."""
    at = now()
    new_entries = new_occ = 0
    for fr in frictions:
        entry = find_entry(db, fr.key)
        if entry is None:
            entry = create_entry(db, fr, who, at)
            new_entries += 1
        else:
            row = db.rows("SELECT friction, severity FROM entries WHERE id = ?", (entry,))[0]
            kind = strongest((row["friction"], fr.kind))
            worst = min(row["severity"], fr.severity, key=SEVERITIES.index)
            if (kind, worst) != (row["friction"], row["severity"]):
                db.execute("UPDATE entries SET friction = ?, severity = ? WHERE id = ?", (kind, worst, entry))
            store_rules(db, entry, [r for r in fr.rules if r.version or r.authority])
        new_occ += add_occurrence(db, entry, fr, run_id, origin, (inputs or {}).get(fr.case_path, ""), who, at)
    return new_entries, new_occ


def log_frictions(db: Where, frictions: Sequence[Friction], run_id: str | None = None, who: str | None = None,
                  origin: str = "check", inputs: dict[str, str] | None = None) -> LogSummary:
    """Log the friction of one run in one transaction (a run id of its own unless given)."""
    rid = run_id or new_run_id(origin)
    with open_backlog(db, "create") as store:
        made, occ = store.write(lambda s: record(s, frictions, rid, who or default_who(), origin, inputs))
        return LogSummary(store.display, len(frictions), made, occ, store.created)


def frictions_of(results: Iterable[CaseResult], engine: Engine) -> tuple[list[Friction], dict[str, str]]:
    """Return the friction among checked cases, and the input digest of each case."""
    classifier = Classifier(engine)
    out: list[Friction] = []
    inputs: dict[str, str] = {}
    for r in results:
        key = case_key(r.path)
        inputs[key] = input_digest(r.path, engine.packs)
        out.extend(classifier.frictions(r.findings, r.section, key))
    return out, inputs


def log_results(db: Where, results: Iterable[CaseResult], engine: Engine, run_id: str | None = None,
                who: str | None = None) -> LogSummary:
    """Log the friction among checked cases (`checker.pipeline.run.CaseResult`s) as one run."""
    frictions, inputs = frictions_of(results, engine)
    return log_frictions(db, frictions, run_id, who, "check", inputs)


def layout_frictions(section: Section, result: Layout, packs: PackSet) -> list[Friction]:
    """Return what a layout's deviations say about the rules: each rule that must give way, and a two-rule conflict."""
    path = case_key(section.path)
    municipality = str(section.tag("municipality") or "")
    out: list[Friction] = []
    deviations = backlog_deviations(result, packs)
    folded: dict[str, list[Deviation]] = {}
    for d in deviations:
        first = next((k for k in folded if _same_deviation(packs, deviations, k, d)), d.rule)
        folded.setdefault(first, []).append(d)
    for d in deviations:
        if d.rule not in folded:
            continue
        pr = pack_rule(packs, d.rule, d.pack, section.planned)
        ref = rule_ref(pr) if pr is not None else RuleRef(d.rule, d.pack, d.version, d.authority, d.source)
        agreeing = [rule_ref(p, "agrees") for a in folded[d.rule][1:]
                    if (p := pack_rule(packs, a.rule, a.pack, section.planned)) is not None]
        same = "".join(f"; {a.rule} asks the same and gives way by as much: not friction between them"
                       for a in folded[d.rule][1:])
        kind = "data" if pr is not None and pr.rule.illustrative else "space"
        amount = round(abs(d.required - d.proposed), 4)
        conflict = f"; the rules that together admit no layout: {', '.join(result.conflict)}" if result.conflict else ""
        placeholder = f"; its value is a placeholder: {pr.rule.illustrative}" if kind == "data" and pr else ""
        out.append(Friction(
            kind, (ref, *agreeing), d.title or d.rule, d.severity, fingerprint(d.rule, ()), path, municipality,
            section.planned or "", (), d.proposed, d.required, d.op or "deviate", amount, d.unit,
            f"layout needs {d.rule}: {d.required:g} {d.unit} → {d.proposed:g} {d.unit}",
            f"no placement of the planned objects meets every rule: the cheapest layout needs {d.rule} "
            f"{d.op} {d.required:.2f} {d.unit} relaxed to {d.proposed:.2f} {d.unit}{conflict}{placeholder}{same}"))
    if len(result.conflict) == 2:
        refs = []
        for rule_id in sorted(result.conflict):
            pr = pack_rule(packs, rule_id, None, section.planned)
            refs.append(rule_ref(pr) if pr is not None else RuleRef(rule_id, "", "", "", ""))
        out.append(Friction(
            "contradiction", tuple(refs), " ↔ ".join(r.rule for r in refs), "error",
            fingerprint("+".join(r.rule for r in refs), ()), path, municipality, section.planned or "", (),
            None, None, "", None, "m", "layout: no placement meets both",
            f"the layout solver proves that {refs[0].rule} and {refs[1].rule} together admit no placement of "
            "the planned objects in this case (a minimal conflicting set)"))
    return out


def _same_deviation(packs: PackSet, deviations: list[Deviation], first: str, d: Deviation) -> bool:
    """Tell whether deviation d is of a rule asking the same as rule `first`, giving way by as much."""
    a = next(x for x in deviations if x.rule == first)
    if (a.op, a.unit, round(a.required, 3), round(a.proposed, 3)) != (d.op, d.unit, round(d.required, 3),
                                                                       round(d.proposed, 3)):
        return False
    pa, pb = pack_rule(packs, a.rule, a.pack), pack_rule(packs, d.rule, d.pack)
    if pa is None or pb is None:
        return False
    ra, rb = pa.rule.alternatives[0].relation, pb.rule.alternatives[0].relation
    return type(ra) is type(rb) and getattr(ra, "op", "") == getattr(rb, "op", "")


def log_layout(db: Where, section: Section, result: Layout, packs: PackSet, who: str | None = None) -> LogSummary:
    """Log what a layout needs in a case (deviations, a two-rule conflict) as one run."""
    return log_frictions(db, layout_frictions(section, result, packs), None, who, "layout",
                         {case_key(section.path): input_digest(section.path, packs, "layout")})


@dataclass(frozen=True, slots=True)
class Added:
    """What a hand-logged friction became: its entry, and whether the backlog was created for it."""

    entry: int
    path: str
    created: bool


def add_manual(db: Where, rules: Sequence[RuleRef], title: str, kind: str = "", severity: str = "warning",
               case_path: str = "", municipality: str = "", planned: str = "", amount: float | None = None,
               unit: str = "m", note: str = "", who: str | None = None) -> Added:
    """Add friction logged by hand as an occurrence of its entry (the rules' key); return the entry."""
    if not rules or len(rules) > 2:
        raise error("--rule", "name the rule that rubs, or the two rules that rub against each other")
    if severity not in SEVERITIES:
        raise error("--severity", f"severity must be one of {', '.join(SEVERITIES)}, got '{severity}'")
    kind = kind or ("contradiction" if len(rules) == 2 else "space")
    if kind not in CLASSES:
        raise error("--class", f"class must be one of {', '.join(CLASSES)}, got '{kind}'")
    if kind == "contradiction" and len(rules) != 2:
        raise error("--class", "a contradiction is between two rules: give --rule twice")
    case = case_key(case_path) if case_path else ""
    ids = tuple(sorted(r.rule for r in rules))
    fr = Friction(kind, tuple(sorted(rules, key=lambda r: r.rule)), title, severity, fingerprint("+".join(ids), ()),
                  case, municipality, planned, (), None, None, "", amount, unit, title,
                  f"logged by hand by {who or default_who()}" + (f": {note}" if note else ""))
    actor = who or default_who()
    run = new_run_id("manual")

    def work(s: Store) -> int:
        record(s, [fr], run, actor, "manual")
        entry = find_entry(s, fr.key)
        assert entry is not None  # record() just made or found it
        return entry

    with open_backlog(db, "create") as store:
        return Added(store.write(work), store.display, store.created)


def add_by_hand(db: Where, packs: PackSet, rule_ids: Sequence[str], title: str, case: Path | None = None,
                severity: str = "warning", amount: float | None = None, unit: str = "m", note: str = "",
                who: str | None = None, kind: str = "") -> Added:
    """Log friction by hand: look the rules up in the packs, read municipality and date from the case."""
    refs = []
    for rule_id in rule_ids:
        pr = pack_rule(packs, rule_id)
        if pr is None:
            raise error("--rule", f"unknown rule '{rule_id}' in the loaded packs")
        refs.append(rule_ref(pr))
    if case is None:
        return add_manual(db, refs, title, kind, severity, amount=amount, unit=unit, note=note, who=who)
    section = load_case(discover([case])[0])
    return add_manual(db, refs, title, kind, severity, section.path, str(section.tag("municipality") or ""),
                      section.planned or "", amount, unit, note, who)


# ---- working the backlog -----------------------------------------------------------------

def _entry_row(db: Store, entry: int) -> dict[str, object]:
    rows = db.rows("SELECT * FROM entries WHERE id = ?", (entry,))
    if not rows:
        raise error(db.display, f"no backlog entry {entry}")
    if rows[0]["merged_into"] is not None:
        raise error(db.display, f"backlog entry {entry} was merged into entry {_live(db, entry)}")
    return rows[0]


def _advance_phase(db: Store, entry: int, row: dict[str, object], phase: str, who: str, at: str, note: str) -> None:
    """Move an entry to a phase when that is further along than where it is (back-log aside)."""
    old = str(row["phase"])
    if old == "back-log" or PHASES.index(phase) <= PHASES.index(old):
        return
    db.execute("UPDATE entries SET phase = ? WHERE id = ?", (phase, entry))
    add_history(db, entry, who, at, "phase", old, phase, note)


def triage(db: Where, entry: int, triage_class: str, note: str = "", who: str | None = None) -> None:
    """Set an entry's triage class; a new entry becomes triaged (phase prioriteren)."""
    if triage_class not in TRIAGE_CLASSES:
        raise error("triage", f"unknown triage class '{triage_class}' (expected one of: {', '.join(TRIAGE_CLASSES)})")
    actor = who or default_who()

    def work(s: Store) -> None:
        row = _entry_row(s, entry)
        at = now()
        s.execute("UPDATE entries SET triage = ? WHERE id = ?", (triage_class, entry))
        add_history(s, entry, actor, at, "triage", str(row["triage"] or ""), triage_class, note)
        if row["status"] == "new":
            s.execute("UPDATE entries SET status = 'triaged' WHERE id = ?", (entry,))
            add_history(s, entry, actor, at, "status", "new", "triaged", note or f"triaged as {triage_class}")
            _advance_phase(s, entry, row, "prioriteren", actor, at, note or "triaged")

    with open_backlog(db, "update") as store:
        store.write(work)


def set_status(db: Where, entry: int, status: str, note: str, who: str | None = None) -> None:
    """Move an entry to a new status, refusing transitions the workflow does not allow."""
    if status not in STATUSES:
        raise error("status", f"unknown status '{status}' (expected one of: {', '.join(STATUSES)})")
    actor = who or default_who()

    def work(s: Store) -> None:
        row = _entry_row(s, entry)
        old = str(row["status"])
        if status not in TRANSITIONS[old]:
            allowed = ", ".join(TRANSITIONS[old]) or "none (final)"
            raise error(s.display, f"entry {entry} cannot go from {old} to {status} (allowed: {allowed})")
        if status == "triaged" and row["triage"] is None:
            raise error(s.display, f"entry {entry} has no triage class: run `ligging backlog triage {entry} CLASS`")
        at = now()
        s.execute("UPDATE entries SET status = ? WHERE id = ?", (status, entry))
        add_history(s, entry, actor, at, "status", old, status, note)
        if status in PHASE_FOR_STATUS:
            _advance_phase(s, entry, row, PHASE_FOR_STATUS[status], actor, at, note)

    with open_backlog(db, "update") as store:
        store.write(work)


def set_phase(db: Where, entry: int, phase: str, note: str, who: str | None = None) -> None:
    """Put an entry in an OT6 phase by hand (any phase; kept in the history with the note)."""
    if phase not in PHASES:
        raise error("phase", f"unknown phase '{phase}' (expected one of: {', '.join(PHASES)})")
    actor = who or default_who()

    def work(s: Store) -> None:
        row = _entry_row(s, entry)
        if row["phase"] == phase:
            return
        s.execute("UPDATE entries SET phase = ? WHERE id = ?", (phase, entry))
        add_history(s, entry, actor, now(), "phase", str(row["phase"]), phase, note)

    with open_backlog(db, "update") as store:
        store.write(work)


def merge(db: Where, keep: int, other: int, note: str = "", who: str | None = None) -> None:
    """Merge entry `other` into `keep`: occurrences and rules move; `other` stays as a pointer to `keep`."""
    if keep == other:
        raise error("merge", "cannot merge an entry into itself")
    actor = who or default_who()

    def work(s: Store) -> None:
        kept, gone = _entry_row(s, keep), _entry_row(s, other)
        at = now()
        s.execute("UPDATE occurrences SET entry_id = ? WHERE entry_id = ?", (keep, other))
        moved = [r for r in s.rows("SELECT * FROM entry_rules WHERE entry_id = ? ORDER BY position", (other,))]
        known = {r["rule"] for r in s.rows("SELECT rule FROM entry_rules WHERE entry_id = ?", (keep,))}
        store_rules(s, keep, [RuleRef(str(r["rule"]), str(r["pack"]), str(r["version"]), str(r["authority"]),
                                       str(r["source"]), str(r["instrument_kind"]), str(r["instrument"]),
                                       str(r["changed_by"]), str(r["role"])) for r in moved if r["rule"] not in known])
        worst = min(str(kept["severity"]), str(gone["severity"]), key=SEVERITIES.index)
        kind = strongest((str(kept["friction"]), str(gone["friction"])))
        s.execute("UPDATE entries SET severity = ?, friction = ? WHERE id = ?", (worst, kind, keep))
        s.execute("UPDATE entries SET merged_into = ? WHERE id = ?", (keep, other))
        add_history(s, keep, actor, at, "merge", "", str(other), note or f"entry {other} merged in")
        add_history(s, other, actor, at, "merged_into", "", str(keep), note or f"merged into entry {keep}")

    with open_backlog(db, "update") as store:
        store.write(work)


# ---- reading the backlog --------------------------------------------------------------------

def _occurrence(o: dict[str, object]) -> Occurrence:
    def num(v: object) -> float | None:
        return None if v is None else float(str(v))

    return Occurrence(int(str(o["id"])), str(o["run_id"]), str(o["origin"]), str(o["friction"]),
                      str(o["fingerprint"]), str(o["case_path"]), str(o["municipality"]), str(o["planned"]),
                      tuple(json.loads(str(o["subjects"]))), str(o["place"]), num(o["measured"]),
                      num(o["required"]), str(o["op"]), num(o["amount"]), str(o["unit"]), str(o["message"]),
                      str(o["evidence"]), str(o["accepted"]), str(o["input"]), str(o["at"]), str(o["who"]))


@dataclass(frozen=True, slots=True)
class _Snapshot:
    entries: list[dict[str, object]]
    rules: dict[int, list[RuleRef]]
    occurrences: dict[int, list[Occurrence]]


def _snapshot(s: Store) -> _Snapshot:
    """Read live entries, their rules and occurrences in one consistent snapshot."""
    entries = s.rows("SELECT * FROM entries WHERE merged_into IS NULL ORDER BY id")
    rules: dict[int, list[RuleRef]] = {}
    for r in s.rows("SELECT * FROM entry_rules ORDER BY entry_id, position"):
        rules.setdefault(int(str(r["entry_id"])), []).append(RuleRef(
            str(r["rule"]), str(r["pack"]), str(r["version"]), str(r["authority"]), str(r["source"]),
            str(r["instrument_kind"]), str(r["instrument"]), str(r["changed_by"]), str(r["role"])))
    occ: dict[int, list[Occurrence]] = {}
    for o in s.rows("SELECT * FROM occurrences ORDER BY id"):
        occ.setdefault(int(str(o["entry_id"])), []).append(_occurrence(o))
    return _Snapshot(entries, rules, occ)


def _item(e: dict[str, object], snap: _Snapshot, weights: Weights, today: dt.date,
          related: tuple[int, ...]) -> Item:
    eid = int(str(e["id"]))
    rows = snap.occurrences.get(eid, [])
    latest: dict[tuple[str, tuple[str, ...]], Occurrence] = {}
    for o in rows:
        latest[(o.case_path, o.subjects)] = o
    sized = [o for o in latest.values() if o.amount is not None]
    worst = max(sized, key=lambda o: o.amount or 0.0) if sized else (rows[-1] if rows else None)
    cases = tuple(sorted({o.case_path for o in rows if o.case_path}))
    dates = [o.planned for o in rows if o.planned]
    upcoming = sorted(d for d in dates if d[:10] >= today.isoformat())
    last = rows[-1] if rows else None
    return Item(
        id=eid, key=str(e["rules_key"]), friction=str(e["friction"]), title=str(e["title"]), status=str(e["status"]),
        triage=None if e["triage"] is None else str(e["triage"]), phase=str(e["phase"]),
        severity=str(e["severity"]), rules=tuple(snap.rules.get(eid, [])), occurrences=len(rows), cases=cases,
        municipalities=tuple(sorted({o.municipality for o in rows if o.municipality})),
        planned=(upcoming or sorted(dates, reverse=True) or [""])[0],
        amount=worst.amount if worst is not None else None, unit=worst.unit if worst is not None else "",
        evidence=last.evidence if last is not None else "", place=last.place if last is not None else "",
        urgency=score(weights, len(cases) or (1 if rows else 0), str(e["severity"]),
                      worst.amount if worst is not None else None, worst.unit if worst is not None else "",
                      dates, today),
        related=related, seen=tuple(sorted({(o.case_path, o.fingerprint) for o in rows})),
    )


def _items(snap: _Snapshot, weights: Weights, today: dt.date) -> list[Item]:
    by_rule: dict[str, set[int]] = {}
    for e in snap.entries:
        for r in snap.rules.get(int(str(e["id"])), []):
            by_rule.setdefault(r.rule, set()).add(int(str(e["id"])))
    out = []
    for e in snap.entries:
        eid = int(str(e["id"]))
        related = set().union(*(by_rule[r.rule] for r in snap.rules.get(eid, []) if r.role == "rubs")) - {eid}
        out.append(_item(e, snap, weights, today, tuple(sorted(related))))
    return out


def _filtered(items: list[Item], rank: str, status: str | None, authority: str | None, rule: str | None,
              kind: str | None, phase: str | None) -> list[Item]:
    if rank not in ("urgency", "id"):
        raise error("--rank", f"--rank must be 'urgency' or 'id', got '{rank}'")
    for value, allowed, name in ((status, STATUSES, "status"), (kind, CLASSES, "class"), (phase, PHASES, "phase")):
        if value is not None and value not in allowed:
            raise error(f"--{name}", f"unknown {name} '{value}' (expected one of: {', '.join(allowed)})")
    items = [i for i in items
             if (status is None or i.status == status) and (kind is None or i.friction == kind)
             and (phase is None or i.phase == phase)
             and (authority is None or any(authority.lower() in (r.authority + " " + r.changed_by).lower()
                                           for r in i.rules))
             and (rule is None or any(r.rule == rule for r in i.rules))]
    if rank == "urgency":
        items.sort(key=lambda i: (-i.urgency.total, i.id))
    return items


def register(db: Where, weights: Weights, rank: str = "urgency", status: str | None = None,
             authority: str | None = None, rule: str | None = None, kind: str | None = None,
             phase: str | None = None, today: dt.date | None = None
             ) -> tuple[list[Item], dict[int, tuple[Occurrence, ...]]]:
    """Return the live entries (filtered, ranked as `list_items`) with the occurrences of each, from one snapshot."""
    _filtered([], rank, status, authority, rule, kind, phase)  # refuse bad filters before opening anything
    with open_backlog(db, "read") as store:
        snap = store.read(_snapshot)
    items = _filtered(_items(snap, weights, today or dt.date.today()), rank, status, authority, rule, kind, phase)
    return items, {i.id: tuple(snap.occurrences.get(i.id, [])) for i in items}


def list_items(db: Where, weights: Weights, rank: str = "urgency", status: str | None = None,
               authority: str | None = None, rule: str | None = None, kind: str | None = None,
               phase: str | None = None, today: dt.date | None = None) -> list[Item]:
    """Return the live entries, filtered, with their urgency; ranked by urgency (then id) or by id."""
    return register(db, weights, rank, status, authority, rule, kind, phase, today)[0]


def detail(db: Where, entry: int, weights: Weights, today: dt.date | None = None) -> Detail:
    """Return one entry with its history, its occurrences and the entries merged into it."""
    def work(s: Store) -> tuple[_Snapshot, list[dict[str, object]], list[int]]:
        _entry_row(s, entry)
        history = s.rows("SELECT at, who, field, old, new, note FROM history WHERE entry_id = ? ORDER BY id", (entry,))
        merged = [int(str(r["id"])) for r in s.rows("SELECT id FROM entries WHERE merged_into = ? ORDER BY id",
                                                    (entry,))]
        return _snapshot(s), history, merged

    with open_backlog(db, "read") as store:
        snap, history, merged = store.read(work)
    item = next(i for i in _items(snap, weights, today or dt.date.today()) if i.id == entry)
    return Detail(item, tuple(HistoryRow(*(str(h[k]) for k in ("at", "who", "field", "old", "new", "note")))
                              for h in history),
                  tuple(snap.occurrences.get(entry, [])), tuple(merged))


# ---- layout deviations ------------------------------------------------------------------------

def backlog_deviations(result: Layout, packs: PackSet) -> list[Deviation]:
    """Return a layout's deviations with a magnitude as backlog deviations (waivers have none)."""
    out = []
    for d in result.deviations:
        if d.to is None or d.required is None:
            continue
        pr = pack_rule(packs, d.rule, d.pack)
        if pr is None:
            continue
        out.append(Deviation(d.rule, d.pack, d.source, d.required, d.to, d.unit, authority=pr.pack.authority,
                             version=pr.pack.version, severity=pr.rule.severity, title=pr.rule.title, op=d.op))
    return out

