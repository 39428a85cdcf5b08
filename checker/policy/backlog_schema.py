"""The backlog's schema and its migrations, the same for SQLite and PostgreSQL.

`MIGRATIONS` are applied in order; the store records how many have run (`PRAGMA
user_version`, or `ligging.meta` on PostgreSQL). Never edit a shipped one: add the next.

1-2 (release 0.1): one entry per finding and case, with its rules, occurrences, history and
    links between entries about the same rules.
3   one entry per regulation that rubs: a rule, or a pair of rules, keyed by their ids. The
    entries of a 0.1 backlog about the same rules are folded into one (the one with the
    most work on it stays; the others become pointers to it, their history kept), each
    occurrence moves to its entry, old friction kinds become classes (space and accepted:
    space; authority: contradiction, unless the shipped packs show the rules ask the same,
    then one entry with the others agreeing; a rule marked illustrative: data), and the
    links are dropped (what they linked is now one entry). Rules gain their instrument, who
    can change it and their part (rubs or agrees); entries gain the OT6 phase;
    occurrences gain where they came from, the computed evidence, the place and the
    case's planned date.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from checker.model.findings import SEVERITIES
from checker.policy.backlog_store import Store, error, in_memory_copy, opened, writable
from dsl.packs import PackSet, load_packs

CLASSES = ("contradiction", "praktijktoets", "space", "data")
TRIAGE_CLASSES = ("encoding-error", "regulatory-friction", "data-problem", "accepted-open-norm")
STATUSES = ("new", "triaged", "proposed", "harmonised", "rejected")
PHASES = ("inzicht", "prioriteren", "integratie", "praktijktoets", "back-log")
ORIGINS = ("check", "layout", "whatif", "manual", "import", "0.1")
ROLES = ("rubs", "agrees")

Migration = str | Callable[[Store], None]

_V1 = """
CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    friction TEXT NOT NULL CHECK (friction IN ('space', 'authority', 'accepted', 'manual')),
    title TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
    triage TEXT CHECK (triage IS NULL OR triage IN ('encoding-error', 'regulatory-friction', 'data-problem',
                                                    'accepted-open-norm')),
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'triaged', 'proposed', 'harmonised', 'rejected')),
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
"""

_V2 = """
ALTER TABLE entries ADD COLUMN merged_into INTEGER REFERENCES entries(id);
CREATE TABLE links (
    a INTEGER NOT NULL REFERENCES entries(id),
    b INTEGER NOT NULL REFERENCES entries(id),
    reason TEXT NOT NULL,
    PRIMARY KEY (a, b),
    CHECK (a < b)
);
"""

_V3_TABLES = f"""
CREATE TABLE entries_v3 (
    id INTEGER PRIMARY KEY,
    rules_key TEXT NOT NULL,
    friction TEXT NOT NULL CHECK (friction IN {CLASSES!r}),
    title TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN {SEVERITIES!r}),
    triage TEXT CHECK (triage IS NULL OR triage IN {TRIAGE_CLASSES!r}),
    status TEXT NOT NULL DEFAULT 'new' CHECK (status IN {STATUSES!r}),
    phase TEXT NOT NULL DEFAULT 'inzicht' CHECK (phase IN {PHASES!r}),
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    merged_into INTEGER REFERENCES entries_v3(id)
);
CREATE TABLE entry_rules_v3 (
    entry_id INTEGER NOT NULL REFERENCES entries_v3(id),
    position INTEGER NOT NULL,
    role TEXT NOT NULL CHECK (role IN {ROLES!r}),
    rule TEXT NOT NULL,
    pack TEXT NOT NULL,
    version TEXT NOT NULL,
    authority TEXT NOT NULL,
    source TEXT NOT NULL,
    instrument_kind TEXT NOT NULL,
    instrument TEXT NOT NULL,
    changed_by TEXT NOT NULL,
    PRIMARY KEY (entry_id, rule)
);
CREATE TABLE occurrences_v3 (
    id INTEGER PRIMARY KEY,
    entry_id INTEGER NOT NULL REFERENCES entries_v3(id),
    run_id TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN {ORIGINS!r}),
    friction TEXT NOT NULL CHECK (friction IN {CLASSES!r}),
    fingerprint TEXT NOT NULL,
    case_path TEXT NOT NULL,
    municipality TEXT NOT NULL,
    planned TEXT NOT NULL,
    subjects TEXT NOT NULL,
    place TEXT NOT NULL,
    measured REAL,
    required REAL,
    op TEXT NOT NULL,
    amount REAL,
    unit TEXT NOT NULL,
    message TEXT NOT NULL,
    evidence TEXT NOT NULL,
    accepted TEXT NOT NULL,
    input TEXT NOT NULL,
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    UNIQUE (run_id, entry_id, case_path, subjects)
);
CREATE TABLE history_v3 (
    id INTEGER PRIMARY KEY,
    entry_id INTEGER NOT NULL REFERENCES entries_v3(id),
    at TEXT NOT NULL,
    who TEXT NOT NULL,
    field TEXT NOT NULL,
    old TEXT NOT NULL,
    new TEXT NOT NULL,
    note TEXT NOT NULL
)
"""

_V3_INDEXES = """
CREATE UNIQUE INDEX entries_live_key ON entries (rules_key) WHERE merged_into IS NULL;
CREATE INDEX entry_rules_rule ON entry_rules (rule);
CREATE INDEX occurrences_entry ON occurrences (entry_id);
CREATE INDEX history_entry ON history (entry_id)
"""

# How far along the workflow a status is: the entry with the most work on it survives a fold.
_PROGRESS = {"new": 0, "rejected": 1, "triaged": 2, "proposed": 3, "harmonised": 4}
_PHASE_OF = {"new": "inzicht", "triaged": "prioriteren", "proposed": "integratie", "harmonised": "integratie",
             "rejected": "inzicht"}


def phase_of_status(status: str) -> str:
    """Return the OT6 phase an entry of a given status is in when nothing else is known."""
    return _PHASE_OF[status]


def _statements(text: str) -> Iterator[str]:
    return (s for s in text.split(";") if s.strip())


def _origin(run_id: str) -> str:
    """Return where a 0.1 occurrence came from, read off its run id."""
    for prefix, origin in (("manual:", "manual"), ("layout:", "layout"), ("import:", "import")):
        if run_id.startswith(prefix):
            return origin
    return "check"


@cache
def _shipped() -> PackSet:
    """Return the shipped packs (read once: folding a 0.1 backlog asks them about many rules)."""
    return load_packs()


def _agreeing(rule_ids: list[str]) -> bool:
    """Tell whether the shipped packs show these rules ask the same (one relation, operator and value)."""
    packs = _shipped()
    shapes = set()
    for rule_id in rule_ids:
        found = packs.find(rule_id)
        if not found:
            return False
        rel = found[0].rule.alternatives[0].relation
        limit = getattr(rel, "limit", None)
        shapes.add((type(rel).__name__, getattr(rel, "op", ""), None if limit is None else round(limit.value, 3)))
    return len(shapes) == 1 and None not in {s[2] for s in shapes}


def _illustrative(rule_id: str) -> bool:
    found = _shipped().find(rule_id)
    return bool(found) and found[0].rule.illustrative is not None


def legacy_class(kind: str, rule_ids: list[str]) -> tuple[str, str, list[str]]:
    """Return the entry key, class and agreeing rules of a 0.1 entry (friction kind and rule ids)."""
    ids = sorted(set(rule_ids))
    if len(ids) > 1 and kind == "authority" and _agreeing(ids):
        return ids[0], "data" if _illustrative(ids[0]) else "space", ids[1:]
    if len(ids) > 1:
        return "+".join(ids), "contradiction", []
    return "+".join(ids), "data" if ids and _illustrative(ids[0]) else "space", []


def _to_v3(db: Store) -> None:
    """Fold a 0.1 backlog (one entry per finding) into entries per regulation (see the module docstring)."""
    for statement in _statements(_V3_TABLES):
        db.run_ddl(statement)
    entries = db.rows("SELECT * FROM entries ORDER BY id")
    rules: dict[int, list[dict[str, object]]] = {}
    for r in db.rows("SELECT * FROM entry_rules ORDER BY entry_id, rule"):
        rules.setdefault(int(r["entry_id"]), []).append(r)
    plan: dict[int, tuple[str, str, list[str]]] = {}  # entry -> (key, class, agreeing rule ids)
    for e in entries:
        ids = [str(r["rule"]) for r in rules.get(int(e["id"]), [])]
        key, cls, agreeing = legacy_class(str(e["friction"]), ids)
        plan[int(e["id"])] = (key or f"entry-{e['id']}", cls, agreeing)
    groups: dict[str, list[dict[str, object]]] = {}
    for e in entries:
        groups.setdefault(plan[int(e["id"])][0], []).append(e)
    survivor: dict[int, int] = {}
    for members in groups.values():
        live = [m for m in members if m["merged_into"] is None] or members
        keep = max(live, key=lambda m: (_PROGRESS[str(m["status"])], -int(str(m["id"]))))
        for m in members:
            survivor[int(str(m["id"]))] = int(str(keep["id"]))
    for e in entries:
        eid = int(e["id"])
        key, cls, agreeing = plan[eid]
        db.execute("INSERT INTO entries_v3 (id, rules_key, friction, title, severity, triage, status, phase, created_at, "
                   "created_by, merged_into) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                   (eid, key, cls, e["title"], e["severity"], e["triage"], e["status"], _PHASE_OF[str(e["status"])],
                    e["created_at"], e["created_by"]))
        for position, r in enumerate(rules.get(eid, [])):
            db.execute("INSERT INTO entry_rules_v3 (entry_id, position, role, rule, pack, version, authority, source, "
                       "instrument_kind, instrument, changed_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', '', ?)",
                       (eid, position, "agrees" if r["rule"] in agreeing else "rubs", r["rule"], r["pack"],
                        r["version"], r["authority"], r["source"], r["authority"]))
    for h in db.rows("SELECT * FROM history ORDER BY id"):
        db.execute("INSERT INTO history_v3 (entry_id, at, who, field, old, new, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (h["entry_id"], h["at"], h["who"], h["field"], h["old"], h["new"], h["note"]))
    at = now()
    for e in entries:  # pointers and fold notes once every row exists (foreign keys are checked per statement)
        eid = int(e["id"])
        if e["merged_into"] is not None:
            db.execute("UPDATE entries_v3 SET merged_into = ? WHERE id = ?", (e["merged_into"], eid))
        elif survivor[eid] != eid:
            db.execute("UPDATE entries_v3 SET merged_into = ? WHERE id = ?", (survivor[eid], eid))
            note = (f"schema 3: entry {eid} is about the same rules ({plan[eid][0]}), folded in; it was {e['status']}"
                    + (f", triaged as {e['triage']}" if e["triage"] else ""))
            for target, field_, value in ((survivor[eid], "merge", str(eid)), (eid, "merged_into", str(survivor[eid]))):
                db.execute("INSERT INTO history_v3 (entry_id, at, who, field, old, new, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (target, at, "ligging", field_, "", value, note))
    for o in db.rows("SELECT * FROM occurrences ORDER BY id"):
        old = int(str(o["entry_id"]))
        target = survivor[old]
        year = o["planned_year"]
        db.execute("INSERT INTO occurrences_v3 (entry_id, run_id, origin, friction, fingerprint, case_path, municipality, "
                   "planned, subjects, place, measured, required, op, amount, unit, message, evidence, accepted, input, "
                   "at, who) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?, ?, '', ?, ?)",
                   (target, o["run_id"], _origin(str(o["run_id"])), plan[old][1], o["fingerprint"], o["case_path"],
                    o["municipality"], f"{year}-01-01" if year is not None else "", o["subjects"], o["measured"],
                    o["required"], o["op"], o["amount"], o["unit"], o["message"],
                    "logged by ligging 0.1, which kept no computed evidence", o["accepted"], o["at"], o["who"]))
    for table in ("links", "history", "occurrences", "entry_rules", "entries"):
        db.run_ddl(f"DROP TABLE {table}")
    for table in ("entries", "entry_rules", "occurrences", "history"):
        db.run_ddl(f"ALTER TABLE {table}_v3 RENAME TO {table}")
    for statement in _statements(_V3_INDEXES):
        db.run_ddl(statement)


MIGRATIONS: tuple[Migration, ...] = (_V1, _V2, _to_v3)


def migrate(db: Store) -> None:
    """Apply the migrations the backlog has not seen yet, in order (inside the caller's write transaction)."""
    version = db.version()
    if version > len(MIGRATIONS):
        raise error(db.display, f"the backlog has schema version {version}, newer than this ligging knows "
                                f"({len(MIGRATIONS)}); upgrade ligging")
    for number in range(version, len(MIGRATIONS)):
        step = MIGRATIONS[number]
        if isinstance(step, str):
            for statement in _statements(step):
                db.run_ddl(statement)
        else:
            step(db)
        db.set_version(number + 1)


def now() -> str:
    """Return the current UTC time, to the second, in ISO form."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


@contextmanager
def open_backlog(where: Path | str | None = None, mode: str = "create") -> Iterator[Store]:
    """Open a backlog for `mode` (read, update, create) with its schema brought up to date; close it after."""
    with opened(where, mode, len(MIGRATIONS)) as db:
        if db.version() < len(MIGRATIONS) or db.created:
            if mode == "read" and db.kind == "sqlite" and db.path is not None and not writable(db.path):
                # an older backlog this process may not write: upgrade a private copy to read it
                copy = in_memory_copy(db)
                try:
                    copy.write(migrate)
                    yield copy
                finally:
                    copy.close()
                return
            db.write(migrate)
        yield db


def subjects_text(subjects: tuple[str, ...] | list[str]) -> str:
    """Return subjects as stored: a JSON list."""
    return json.dumps(list(subjects))
