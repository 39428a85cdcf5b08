"""Benchmark of the layout solver (not a test): generated streets with 12 and 25 planned lines.

Each street has a trottoir on both sides and a rijbaan between; sewers lie in the rijbaan,
every other line on one side of it (the sides take turns: a network is laid for the plots on
both sides). The planned lines start at random positions on their side (fixed seed), so the
solver has to untangle clearances. A trottoir takes at most eight lines (the packs' own
NEN-NUTSSTROOK-VOL placeholder, an info rule); a side with more gets a berm of 2.5 m beside
its trottoir, as a main road has, and its further lines start there. Until the packs forbade
stacking different networks and K&L under the rijbaan, 25 lines went into two 3 m trottoirs
and the rijbaan; `crowded` keeps that street (lines kept on their side) as a stress case.

Reports, per run, the wall time and the CPU time of `checker.advice.layout.layout` with all
shipped packs, whether the least movement was proven (within the solver's MOVE_GAP) or the
time limit stopped it and how far from the least it may be, and the machine's load.

    python bench/layout_bench.py            # 12 and 25 lines, seeds 0-4
    python bench/layout_bench.py --crowded  # also the 20 m street of the earlier benchmark, 12 and 25 lines
    python bench/layout_bench.py --crowded --without-conventions   # the same without the convention rules
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import time
from dataclasses import replace

from checker.advice.layout import layout
from checker.engine.evaluate import Engine
from checker.model.section import Obj, Section, Zone
from dsl.diagnostics import Span
from dsl.packs import load_packs

SPAN = Span("bench", 1, 1)
MIX = (("datatransport", 0.05), ("datatransport", 0.04), ("laagspanning", 0.05), ("gasLageDruk", 0.11),
       ("water", 0.11), ("middenspanning", 0.07), ("rioolVrijverval", 0.4))
TROTTOIR = 3.0
BERM = 2.5
RIJBAAN = 14.0
PER_TROTTOIR = 8


def _kind(net: str) -> str:
    return "cable" if net in ("datatransport", "laagspanning", "middenspanning") else "pipe"


def street(n: int, seed: int) -> Section:
    """Return a street with n planned lines: trottoirs (a berm beside a full one), a rijbaan with the sewers."""
    rng = random.Random(seed)
    lines = [MIX[k % len(MIX)] for k in range(n)]
    per_side = [0, 0]
    for k, (net, _) in enumerate(lines):
        if net != "rioolVrijverval":
            per_side[k % 2] += 1
    berm = [BERM if count > PER_TROTTOIR else 0.0 for count in per_side]
    left = TROTTOIR + berm[0]
    width = left + RIJBAAN + berm[1] + TROTTOIR
    zones = [Zone("trottoir", 0.0, TROTTOIR, SPAN)]
    if berm[0]:
        zones.append(Zone("berm", TROTTOIR, left, SPAN))
    zones.append(Zone("rijbaan", left, left + RIJBAAN, SPAN))
    if berm[1]:
        zones.append(Zone("berm", left + RIJBAAN, left + RIJBAAN + berm[1], SPAN))
    zones.append(Zone("trottoir", width - TROTTOIR, width, SPAN))
    objs = []
    placed = [0, 0]
    for k, (net, d) in enumerate(lines):
        if net == "rioolVrijverval":
            x = rng.uniform(left + 2.0, left + RIJBAAN - 2.0)
            cover = rng.uniform(1.2, 2.0)
        else:
            side = k % 2
            # the first eight of a side start in its trottoir, the others in its berm
            lo, hi = (0.0, TROTTOIR) if placed[side] < PER_TROTTOIR else (TROTTOIR, TROTTOIR + berm[side])
            placed[side] += 1
            x = rng.uniform(lo + 0.2, hi - 0.2)
            if side == 1:
                x = width - x
            cover = rng.uniform(0.5, 1.0)
        objs.append(Obj(f"{net}-{k}", _kind(net), net, None, "planned", round(x, 3), round(cover, 3), diameter=d,
                        span=SPAN))
    return Section("bench.yaml", "bench", width, tuple(zones), tuple(objs), tags=(("street_type", "woonstraat"),),
                   planned="2026")


def crowded(n: int, seed: int) -> Section:
    """Return the street of the earlier benchmark: 20 m, two 3 m trottoirs, lines scattered over both at random."""
    rng = random.Random(seed)
    zones = (Zone("trottoir", 0.0, 3.0, SPAN), Zone("rijbaan", 3.0, 17.0, SPAN), Zone("trottoir", 17.0, 20.0, SPAN))
    objs = []
    for k in range(n):
        net, d = MIX[k % len(MIX)]
        if net == "rioolVrijverval":
            x = rng.uniform(5.0, 15.0)
            cover = rng.uniform(1.2, 2.0)
        else:
            side = rng.random() < 0.5
            x = rng.uniform(0.2, 2.8) if side else rng.uniform(17.2, 19.8)
            cover = rng.uniform(0.5, 1.0)
        objs.append(Obj(f"{net}-{k}", _kind(net), net, None, "planned", round(x, 3), round(cover, 3), diameter=d,
                        span=SPAN))
    return Section("bench.yaml", "bench", 20.0, zones, tuple(objs), tags=(("street_type", "woonstraat"),),
                   planned="2026")


def run(name: str, make, n: int, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    """Time the solver on five seeds of one street; print each run and the median."""
    walls, cpus = [], []
    for seed in range(5):
        section = make(n, seed)
        load = os.getloadavg()[0]
        start, cpu = time.perf_counter(), time.process_time()
        result = layout(section, engine, alternatives=False)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
        status = "ok" if result.feasible and not result.deviations else f"{len(result.deviations)} deviations"
        if not result.feasible:
            status = "no layout"
        if result.timed_out:
            bound = f"at most {100 * result.gap:.0f} % above the least" if result.gap is not None else "no bound"
            proof = f"stopped at the limit, {bound}"
        else:
            proof = "least movement proven" + (f" within {100 * result.gap:.1f} %" if result.gap else "")
        sys.stdout.write(f"  {name} n={n} seed={seed} wall {walls[-1]:.2f} s cpu {cpus[-1]:.2f} s load {load:.1f}  "
                         f"{status}, {len(result.findings)} findings left, movement {result.cost:.3f} m, {proof}\n")
    sys.stdout.write(f"{name} n={n}: median wall {statistics.median(walls):.2f} s (max {max(walls):.2f}), "
                     f"median cpu {statistics.median(cpus):.2f} s (max {max(cpus):.2f})\n")
    sys.stdout.flush()


# the conventions added as rules (issue 15): what they cost is the difference with them left out
CONVENTIONS = ("NEN-NIET-GESTAPELD", "NEN-NUTSSTROOK", "NEN-ZIJDE", "NEN-RIOOL-DIEPTE", "WRM-PAAR-NAAST",
               "WRM-PAAR-DIEPTE", "WRM-COV", "WRM-COV-MAX", "VKLS-ONTWERP")


def main() -> None:
    """Time the solver on 12 and 25 lines (and the crowded street when asked, with or without the conventions)."""
    packs = load_packs()
    if "--without-conventions" in sys.argv[1:]:
        packs = replace(packs, rules=tuple(r for r in packs.rules if r.rule.id not in CONVENTIONS))
    engine = Engine(packs)
    if "--only-crowded" not in sys.argv[1:]:
        for n in (12, 25):
            run("street", street, n, engine)
    if "--crowded" in sys.argv[1:] or "--only-crowded" in sys.argv[1:]:
        for n in (12, 25):
            run("crowded", crowded, n, engine)


if __name__ == "__main__":
    main()
