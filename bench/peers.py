"""The three peer rules (cover, clearance, order) as ligging rules and as a columnar NumPy peer.

The benchmark compares ligging with other ways of checking the same rules on the same
sections: PostGIS (`bench/postgis.py`), a straightforward shapely loop
(`bench/naive.py`), and NumPy here. The rules, as ligging writes them (`PEER_PACK`):

- PEER-COV: every cable or pipe has at least 0.60 m cover;
- PEER-CLR: cables and pipes keep 0.20 m edge to edge, shortest distance (pairs in one
  rack excepted);
- PEER-ORDER: datatransport lies wholly above water (pairs in one rack excepted).

Every implementation returns findings as `Key`s (section number, rule, sorted subject
ids, measured value rounded to 0.1 mm or None), so agreement is a set comparison.
`Columns` holds all objects of many sections in flat arrays with section ids;
`numpy_findings` evaluates the rules on all sections at once, and `floor` only computes
every pairwise gap — the least any implementation must do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from checker.engine.evaluate import Engine
from checker.io.columns import read_chunk
from checker.model.section import LINE_KINDS, Section
from checker.model.table import Table
from checker.pipeline.batch import CHUNK
from dsl.packs import PackSet, compose
from dsl.parser import parse_pack

TOLERANCE = 0.001
COVER = 0.60
CLEARANCE = 0.20
Key = tuple[int, str, tuple[str, ...], float | None]

PEER_PACK = """
pack peers
  title "Benchmark peer rules"
  authority "ligging benchmark"
  version "1"

rule PEER-COV
  title "Cover of cables and pipes"
  severity error
  negotiability 1
  source "benchmark rule, illustrative"
  illustrative "benchmark only"
  require cover line >= 0.60 m

rule PEER-CLR
  title "Clearance between cables and pipes"
  severity error
  negotiability 1
  source "benchmark rule, illustrative"
  illustrative "benchmark only"
  require clearance shortest between line and line >= 0.20 m

rule PEER-ORDER
  title "Telecom above water"
  severity warning
  negotiability 1
  source "benchmark rule, illustrative"
  illustrative "benchmark only"
  require order top-to-bottom: datatransport, water
"""
PEER_RULES = ("PEER-COV", "PEER-CLR", "PEER-ORDER")


def peer_packs() -> PackSet:
    """Return the peer rules as a composed pack set."""
    return compose((parse_pack(PEER_PACK, "bench/peers.py"),))


def measured(value: float | None) -> float | None:
    """Round a measured length the way the findings contract does (0.1 mm)."""
    if value is None:
        return None
    rounded = round(value, 4)
    return 0.0 if rounded == 0 else rounded


def ligging_tables(texts: Sequence[str], path: str = "peers.jsonl") -> list[Table]:
    """Read JSON lines as `ligging check FILE.jsonl` does: chunks of `CHUNK` lines straight into column tables."""
    return [read_chunk("".join(texts[start:start + CHUNK]).encode("utf-8"), path, start + 1).table
            for start in range(0, len(texts), CHUNK)]


def ligging_columns(engine: Engine, tables: Sequence[Table]) -> set[Key]:
    """Return the peer-rule findings of the ligging engine as the batch path keeps them (columns, `Engine.check`).

    Only the keys are made per finding, as the PostGIS peer makes them from its rows.
    """
    out: set[Key] = set()
    base = 0
    for table in tables:
        found = engine.check(table)
        rules = [t.rule for t in found.templates]
        subjects = found.subject_ids(table.ids)
        values, _ = found.values()
        for r, (t, sec) in enumerate(zip(found.template.tolist(), found.sec.tolist(), strict=True)):
            rule = rules[t]
            if rule in PEER_RULES:
                out.add((base + sec, rule, subjects[r], measured(values[r])))
        base += table.count
    return out


def ligging_findings(engine: Engine, sections: Sequence[Section]) -> set[Key]:
    """Return the peer-rule findings of the ligging engine."""
    out: set[Key] = set()
    for start in range(0, len(sections), CHUNK):
        # the batch path: one columnar pass per chunk, as `ligging check FILE.jsonl` runs it
        for number, found in enumerate(engine.evaluate_many(list(sections[start:start + CHUNK])), start=start):
            for f in found:
                if f.rule in PEER_RULES:
                    out.add((number, f.rule, f.subjects, measured(f.measured)))
    return out


@dataclass(frozen=True, slots=True)
class Columns:
    """The lines (cables and pipes) of many sections as flat columns, grouped by section."""

    section: NDArray[np.intp]
    ids: NDArray[np.object_]
    network: NDArray[np.object_]
    x: NDArray[np.float64]
    z: NDArray[np.float64]
    hw: NDArray[np.float64]
    hh: NDArray[np.float64]
    round: NDArray[np.bool_]
    rack: NDArray[np.intp]
    starts: NDArray[np.intp]

    @property
    def top(self) -> NDArray[np.float64]:
        """Return the depths of the tops."""
        return self.z - self.hh

    @property
    def bottom(self) -> NDArray[np.float64]:
        """Return the depths of the undersides."""
        return self.z + self.hh


def columns(sections: Sequence[Section]) -> Columns:
    """Flatten the lines of all sections into columns (rack membership as a global rack number)."""
    sec, ids, net, x, z, hw, hh, rnd, rack = [], [], [], [], [], [], [], [], []
    racks = 0
    for number, section in enumerate(sections):
        held: dict[str, int] = {}
        for o in section.objects:
            if o.kind == "rack":
                for h in o.holds:
                    held[h] = racks
                racks += 1
        for o in section.objects:
            if o.kind not in LINE_KINDS:
                continue
            sec.append(number)
            ids.append(o.id)
            net.append(o.network)
            x.append(o.x)
            z.append(o.cover + 0.5 * o.body_height)
            hw.append(o.half_width)
            hh.append(0.5 * o.body_height)
            rnd.append(o.round)
            rack.append(held.get(o.id, -1))
    section_ids = np.array(sec, dtype=np.intp)
    starts = np.searchsorted(section_ids, np.arange(len(sections) + 1))
    return Columns(section_ids, np.array(ids, dtype=object), np.array(net, dtype=object), np.array(x), np.array(z),
                   np.array(hw), np.array(hh), np.array(rnd, dtype=bool), np.array(rack, dtype=np.intp), starts)


def all_pairs(c: Columns) -> tuple[NDArray[np.intp], NDArray[np.intp]]:
    """Return every pair (i < j) of lines in the same section, for all sections at once."""
    sizes = np.diff(c.starts)
    per = sizes * (sizes - 1) // 2
    total = int(per.sum())
    if total == 0:
        empty = np.empty(0, dtype=np.intp)
        return empty, empty
    # local pair numbers 0..per-1 within each section, mapped to (row, col) of the upper triangle
    owner = np.repeat(np.arange(len(sizes)), per)
    k = np.arange(total) - np.repeat(np.cumsum(per) - per, per)
    n = sizes[owner]
    row = (n - 2 - np.floor(np.sqrt(-8 * k + 4 * n * (n - 1) - 7) / 2 - 0.5)).astype(np.intp)
    col = (k + row + 1 - n * (n - 1) // 2 + (n - row) * ((n - row) - 1) // 2).astype(np.intp)
    base = c.starts[owner]
    return base + row, base + col


def shortest_gaps(c: Columns, i: NDArray[np.intp], j: NDArray[np.intp]) -> NDArray[np.float64]:
    """Return the edge-to-edge shortest distances of round lines (centre distance minus radii)."""
    return np.asarray(np.hypot(np.abs(c.x[i] - c.x[j]), np.abs(c.z[i] - c.z[j])) - c.hw[i] - c.hw[j])


def floor(c: Columns) -> int:
    """Compute every pairwise gap of every section and nothing else; return how many."""
    i, j = all_pairs(c)
    return len(shortest_gaps(c, i, j))


def numpy_findings(c: Columns) -> set[Key]:
    """Evaluate the three peer rules on all sections at once."""
    if not bool(np.all(c.round)):
        raise ValueError("the NumPy peer handles round lines only")
    out: set[Key] = set()
    bad = np.flatnonzero(c.top < COVER - TOLERANCE)
    for k in bad:
        out.add((int(c.section[k]), "PEER-COV", (str(c.ids[k]),), measured(float(c.top[k]))))
    i, j = all_pairs(c)
    shared = (c.rack[i] == c.rack[j]) & (c.rack[i] >= 0)
    i, j = i[~shared], j[~shared]
    gaps = shortest_gaps(c, i, j)
    for k in np.flatnonzero(gaps < CLEARANCE - TOLERANCE):
        pair = tuple(sorted((str(c.ids[i[k]]), str(c.ids[j[k]]))))
        out.add((int(c.section[i[k]]), "PEER-CLR", pair, measured(float(gaps[k]))))
    down_j = (c.network[i] == "datatransport") & (c.network[j] == "water")
    down_i = (c.network[j] == "datatransport") & (c.network[i] == "water")
    up, down = np.where(down_j, i, j), np.where(down_j, j, i)
    mixed = down_i | down_j
    wrong = mixed & (c.bottom[up] > c.top[down] + TOLERANCE)
    for k in np.flatnonzero(wrong):
        pair = tuple(sorted((str(c.ids[up[k]]), str(c.ids[down[k]]))))
        out.add((int(c.section[up[k]]), "PEER-ORDER", pair, None))
    return out
