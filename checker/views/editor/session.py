"""One editing session of one case: the text as edited, its history, and what the engine says of it.

The case text is the truth. Every edit goes through `checker.io.case_edit` (a splice that
keeps the rest of the file as written), is validated by the normal loader, and becomes a
new step of the undo history; the section is re-checked with the engine and drawn by
`checker.views.render`. A drag is a *preview*: the object is moved in memory only and
checked, nothing enters the history until the drop. Existing objects (bestaande ligging)
are locked until unlocked on purpose. The HTTP layer (`server.py`) only maps requests here.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from typing import Any

from checker.advice import layout as lay
from checker.advice.suggest import moved, suggest
from checker.engine.evaluate import OVERLAP_RULE, Engine
from checker.engine.explain import explain
from checker.io import case_edit as ce
from checker.io.loader import parse_case
from checker.model.findings import CaseResult, Finding, counts
from checker.model.section import CABLE_THEMAS, THEMAS, Obj, Section
from checker.views.render import colour_of, render_svg
from dsl.diagnostics import LiggingError

MAX_HISTORY = 500
SETTABLE = ("x", "cover", "diameter", "width", "height", "owner", "status")
LENGTH_FIELDS = ("x", "cover", "diameter", "width", "height")
STATUSES = ("planned", "existing", "disused")


class EditRefused(ValueError):
    """An edit the session will not make; the message is shown to the user as it is."""


@dataclass(frozen=True, slots=True)
class Proposal:
    """The layout solver's proposal for one version of the text: where objects would go, and at what deviation."""

    version: int
    positions: tuple[tuple[str, float, float], ...]
    deviations: tuple[str, ...]
    remaining: int
    feasible: bool
    note: str


class EditSession:
    """The case being edited: text history, lock state, and the latest check."""

    def __init__(self, opened: ce.CaseText, engine: Engine, display: str | None = None) -> None:
        self.opened = opened
        self.engine = engine
        self.display = display or str(opened.path)
        self.history: list[str] = [opened.text]
        self.pos = 0
        self.version = 0
        self.saved = opened.text
        self.unlocked: set[str] = set()
        self.proposal: Proposal | None = None
        self.section = self._parse(opened.text)
        self.findings = tuple(engine.evaluate(self.section))
        self.suggested: tuple[Finding, ...] | None = None
        self.timing: dict[str, float] = {}

    # ---------------------------------------------------------- reading

    @property
    def text(self) -> str:
        """Return the current case text."""
        return self.history[self.pos]

    def locked(self, obj: Obj) -> bool:
        """Tell whether an object is locked: existing (or disused) and not unlocked on purpose."""
        return obj.status != "planned" and obj.id not in self.unlocked

    def state(self, with_svg: bool = True) -> dict[str, Any]:
        """Return everything the page shows: drawing, findings, objects, history and save state."""
        started = time.perf_counter()
        svg = render_svg(self.section, self.findings, self.engine.packs, show_index=False) if with_svg else None
        self.timing["render_ms"] = (time.perf_counter() - started) * 1000
        return {
            "version": self.version, "case": self.display, "name": self.section.name,
            "svg": svg, "findings": self._findings_json(self.suggested or self.findings),
            "suggestions_ready": self.suggested is not None,
            "summary": CaseResult(self.section, self.display, self.findings).summary(),
            "objects": [self._object_json(o) for o in self.section.objects],
            "can_undo": self.pos > 0, "can_redo": self.pos < len(self.history) - 1,
            "dirty": self.text != self.saved, "has_expect": bool(self.section.expect),
            "themas": list(THEMAS), "timing": dict(self.timing),
            "proposal": self._proposal_json(),
        }

    def suggestions(self) -> dict[str, Any]:
        """Attach the verified suggestions to the current findings (slower: each is re-checked)."""
        if self.suggested is None:
            self.keep_suggestions(*self.find_suggestions(self.version, self.section, self.findings))
        return self.suggestions_json()

    def find_suggestions(self, version: int, section: Section, findings: tuple[Finding, ...]
                         ) -> tuple[int, tuple[Finding, ...], float]:
        """Return the findings of one version with their suggestions (may run off the event loop)."""
        started = time.perf_counter()
        found = tuple(suggest(self.engine, section, findings))
        return version, found, (time.perf_counter() - started) * 1000

    def keep_suggestions(self, version: int, found: tuple[Finding, ...], took_ms: float) -> None:
        """Keep suggestions found for the current version (a later edit makes them stale: dropped)."""
        if version == self.version:
            self.suggested = found
            self.timing["suggest_ms"] = took_ms

    def suggestions_json(self) -> dict[str, Any]:
        """Return the current findings with whatever suggestions are known."""
        return {"version": self.version, "findings": self._findings_json(self.suggested or self.findings),
                "ready": self.suggested is not None}

    def explain(self, rule: str) -> str:
        """Return `ligging explain RULE` for a rule of the loaded packs."""
        if rule == OVERLAP_RULE:
            return f"{OVERLAP_RULE} is built into ligging, not a pack rule: two bodies cannot occupy the same space."
        try:
            return explain(rule, self.engine.packs)
        except LiggingError as exc:
            raise EditRefused(exc.diagnostic.message) from None

    # ---------------------------------------------------------- preview (drag, typing)

    def preview(self, obj_id: str, values: dict[str, Any]) -> dict[str, Any]:
        """Check the section with one object changed in memory only; return drawing and findings."""
        obj = self._object(obj_id, for_change=True)
        clean = self._lengths(values)
        section = self.section
        dx = clean.pop("x", obj.x) - obj.x
        dz = clean.pop("cover", obj.cover) - obj.cover
        if obj.kind == "tree" and dz:
            raise EditRefused(f"{obj_id} is a tree: it has no cover to change")
        if dx or dz:
            section = moved(section, obj_id, dx, dz)
        if clean:
            section = replace(section, objects=tuple(replace(o, **clean) if o.id == obj_id else o
                                                     for o in section.objects))
        # wall time is what the user waits; this thread's CPU time is the work itself, whatever else the machine runs
        started, cpu_started = time.perf_counter(), time.thread_time()
        findings = tuple(self.engine.evaluate(section))
        evaluated, cpu_evaluated = time.perf_counter(), time.thread_time()
        svg = render_svg(section, findings, self.engine.packs, show_index=False)
        done, cpu_done = time.perf_counter(), time.thread_time()
        timing = {"evaluate_ms": (evaluated - started) * 1000, "render_ms": (done - evaluated) * 1000,
                  "evaluate_cpu_ms": (cpu_evaluated - cpu_started) * 1000, "render_cpu_ms": (cpu_done - cpu_evaluated) * 1000}
        return {"version": self.version, "svg": svg, "findings": self._findings_json(findings),
                "summary": CaseResult(section, self.display, findings).summary(), "timing": timing}

    # ---------------------------------------------------------- edits

    def edit(self, op: dict[str, Any]) -> dict[str, Any]:
        """Apply one edit from the page (set, move, add, delete, accept, remove_expect, layout) as a history step."""
        kind = op.get("op")
        text = self.text
        try:
            if kind == "set":
                obj = self._object(_text(op, "id"), for_change=True)
                values = op.get("values")
                if not isinstance(values, dict) or not values:
                    raise EditRefused("set needs values")
                unknown = sorted(set(values) - set(SETTABLE))
                if unknown:
                    raise EditRefused(f"cannot set {', '.join(unknown)} here (settable: {', '.join(SETTABLE)})")
                clean: dict[str, Any] = self._lengths({k: v for k, v in values.items() if k in LENGTH_FIELDS})
                for key in ("owner", "status"):
                    if key in values:
                        clean[key] = _text(values, key)
                if clean.get("status") not in (None, *STATUSES):
                    raise EditRefused(f"status must be one of {', '.join(STATUSES)}")
                moves = {k: clean.pop(k) for k in ("x", "cover") if k in clean}
                # a rack moves with what it holds, a line with its house connections' ends
                if moves and obj.kind != "crossing":
                    text = ce.move_object(text, obj.id, moves.get("x", obj.x) - obj.x, moves.get("cover", obj.cover) - obj.cover)
                else:
                    clean.update(moves)
                if clean:
                    text = ce.set_values(text, obj.id, clean)
            elif kind == "move":
                obj = self._object(_text(op, "id"), for_change=True)
                dx, dz = _number(op, "dx", 0.0), _number(op, "dz", 0.0)
                text = ce.move_object(text, obj.id, dx, dz)
            elif kind == "add":
                text = ce.add_object(text, self._new_object(op))
            elif kind == "delete":
                obj = self._object(_text(op, "id"), for_change=True)
                text = ce.delete_object(text, obj.id)
            elif kind == "lock":
                obj = self._object(_text(op, "id"))
                (self.unlocked.discard if op.get("locked", True) else self.unlocked.add)(obj.id)
                return self.state()
            elif kind == "accept":
                finding = self._finding(_text(op, "rule"), op.get("subjects"))
                text = ce.add_accept(text, finding.rule, finding.subjects, finding.measured)
            elif kind == "remove_expect":
                text = ce.remove_expect(text)
            elif kind == "layout":
                text = self._accept_proposal(text, _number(op, "version", -1.0))
            else:
                raise EditRefused(f"unknown edit '{kind}'")
        except ce.EditError as exc:
            raise EditRefused(exc.message) from None
        if text == self.text:
            return self.state()
        section = self._parse(text)
        self._push(text, section)
        return self.state()

    def undo(self) -> dict[str, Any]:
        """Step back one edit."""
        if self.pos > 0:
            self.pos -= 1
            self._load(self.text)
        return self.state()

    def redo(self) -> dict[str, Any]:
        """Step forward one undone edit."""
        if self.pos < len(self.history) - 1:
            self.pos += 1
            self._load(self.text)
        return self.state()

    def save(self) -> dict[str, Any]:
        """Write the current text to the case file (validated, atomic, refused if changed on disk)."""
        try:
            self.opened = ce.write_case_text(self.opened, self.text)
        except LiggingError as exc:
            raise EditRefused(exc.diagnostic.one_line()) from None
        self.saved = self.text
        return self.state(with_svg=False)

    # ---------------------------------------------------------- layout proposal

    def snapshot(self) -> tuple[int, Section]:
        """Return the version and section a layout proposal is computed for."""
        return self.version, self.section

    def solve(self, version: int, section: Section) -> Proposal:
        """Ask the layout solver where the planned objects would go (slow; runs off the event loop)."""
        result = lay.layout(section, self.engine, alternatives=False, minimal=False)
        if result.section is None:
            note = "no layout: the rules admit none, not even with deviations"
            return Proposal(version, (), (), 0, False, note)
        before = section.by_id()
        positions = tuple((o.id, o.x, o.cover) for o in result.section.objects
                          if abs(o.x - before[o.id].x) > 5e-4 or abs(o.cover - before[o.id].cover) > 5e-4)
        note = "time limit reached: the proposal may not move least" if result.timed_out else ""
        return Proposal(version, positions, tuple(d.describe() for d in result.deviations), len(result.findings),
                        True, note)

    def offer(self, proposal: Proposal) -> dict[str, Any]:
        """Keep a computed proposal (when it is for the current text) and return the page state."""
        if proposal.version == self.version:
            self.proposal = proposal
        return self.state()

    def _accept_proposal(self, text: str, version: float) -> str:
        proposal = self.proposal
        if proposal is None or proposal.version != self.version or version != self.version:
            raise EditRefused("the section changed since the layout proposal; ask for a new one")
        by_id = self.section.by_id()
        held = {h for o in self.section.objects for h in o.holds}
        for obj_id, x, cover in proposal.positions:
            if obj_id in held:
                continue  # moves with its rack
            obj = by_id[obj_id]
            text = ce.move_object(text, obj_id, x - obj.x, cover - obj.cover)
        return text

    def _proposal_json(self) -> dict[str, Any] | None:
        p = self.proposal
        if p is None or p.version != self.version:
            return None
        return {"version": p.version, "feasible": p.feasible, "note": p.note, "deviations": list(p.deviations),
                "remaining": p.remaining,
                "moves": [{"id": i, "x": x, "cover": c, "dx": x - self.section.by_id()[i].x,
                           "dz": c - self.section.by_id()[i].cover} for i, x, c in p.positions]}

    # ---------------------------------------------------------- helpers

    def _parse(self, text: str) -> Section:
        try:
            return parse_case(text, self.display)
        except LiggingError as exc:
            raise EditRefused(exc.diagnostic.one_line()) from None

    def _push(self, text: str, section: Section) -> None:
        del self.history[self.pos + 1:]
        self.history.append(text)
        if len(self.history) > MAX_HISTORY:
            del self.history[0]
        self.pos = len(self.history) - 1
        self._adopt(section)

    def _load(self, text: str) -> None:
        self._adopt(self._parse(text))

    def _adopt(self, section: Section) -> None:
        self.version += 1
        self.section = section
        started = time.perf_counter()
        self.findings = tuple(self.engine.evaluate(section))
        self.timing = {"evaluate_ms": (time.perf_counter() - started) * 1000}
        self.suggested = None
        self.unlocked &= set(section.by_id())

    def _object(self, obj_id: str, for_change: bool = False) -> Obj:
        obj = self.section.by_id().get(obj_id)
        if obj is None:
            raise EditRefused(f"no object '{obj_id}' in the case")
        if for_change and self.locked(obj):
            raise EditRefused(f"{obj_id} is {obj.status} (bestaande ligging): unlock it first to change it")
        return obj

    def _finding(self, rule: str, subjects: Any) -> Finding:
        wanted = tuple(sorted(str(s) for s in subjects)) if isinstance(subjects, list) else None
        for f in self.findings:
            if f.rule == rule and (wanted is None or f.subjects == wanted):
                return f
        raise EditRefused(f"no current finding of {rule} to accept")

    def _lengths(self, values: dict[str, Any]) -> dict[str, float]:
        out: dict[str, float] = {}
        for key, value in values.items():
            if key not in LENGTH_FIELDS:
                raise EditRefused(f"'{key}' cannot be changed while dragging")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise EditRefused(f"{key} must be a number of metres")
            if abs(value) > 1e4:
                raise EditRefused(f"{key} {value} m is out of range")
            if key != "x" and value < 0:
                raise EditRefused(f"{key} cannot be negative")
            if key in ("diameter", "width", "height") and value == 0:
                raise EditRefused(f"{key} must be greater than zero")
            out[key] = float(value)
        return out

    def _new_object(self, op: dict[str, Any]) -> dict[str, Any]:
        network = _text(op, "network")
        if network not in THEMAS:
            raise EditRefused(f"unknown IMKL thema '{network}'")
        obj_id = _text(op, "id") if op.get("id") else self._fresh_id(network)
        if obj_id in self.section.by_id():
            raise EditRefused(f"an object with id '{obj_id}' already exists")
        sizes = self._lengths({k: op[k] for k in ("x", "cover", "diameter") if k in op})
        fields: dict[str, Any] = {"id": obj_id, "network": network}
        if op.get("owner"):
            fields["owner"] = _text(op, "owner")
        fields["x"] = sizes.get("x", self.section.width / 2)
        fields["cover"] = sizes.get("cover", 0.6 if network in CABLE_THEMAS else 1.0)
        fields["diameter"] = sizes.get("diameter", 0.05 if network in CABLE_THEMAS else 0.11)
        return fields

    def _fresh_id(self, network: str) -> str:
        taken = self.section.by_id()
        n = 1
        while f"{network}-{n}" in taken:
            n += 1
        return f"{network}-{n}"

    def _findings_json(self, findings: tuple[Finding, ...]) -> list[dict[str, Any]]:
        out = []
        for n, f in enumerate(findings, start=1):
            entry = f.as_json()
            entry["number"] = n
            entry["counts"] = counts(f)
            entry["case_at"] = {"line": f.case_at.line, "column": f.case_at.column}
            entry["rule_at"] = {"line": f.rule_at.line}
            out.append(entry)
        return out

    def _object_json(self, o: Obj) -> dict[str, Any]:
        return {"id": o.id, "kind": o.kind, "network": o.network, "owner": o.owner, "status": o.status,
                "x": o.x, "cover": o.cover, "diameter": o.diameter, "width": o.width, "height": o.height,
                "from": o.start, "to": o.end, "holds": list(o.holds), "locked": self.locked(o),
                "colour": colour_of(o, self.engine.packs)}


def _text(values: dict[str, Any], key: str) -> str:
    value = values.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise EditRefused(f"{key} must be text (1 to 200 characters)")
    return value.strip()


def _number(values: dict[str, Any], key: str, default: float) -> float:
    value = values.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or abs(value) > 1e4:
        raise EditRefused(f"{key} must be a finite number")
    return float(value)
