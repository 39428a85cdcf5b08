"""Benchmark of the layout solver (not a test): generated streets with 12 and 25 planned lines.

Each street has a trottoir on both sides and a rijbaan between; the planned lines start
near their NEN 7171 reference positions, shifted at random (fixed seed) so the solver
has to untangle clearances and order. Reports the median wall time of 5 runs of
`checker.advice.layout.layout` per size with all shipped packs.

    /work/venv/bin/python bench/layout_bench.py
"""

from __future__ import annotations

import random
import statistics
import sys
import time

from checker.advice.layout import layout
from checker.engine.evaluate import Engine
from checker.model.section import Obj, Section, Zone
from dsl.diagnostics import Span
from dsl.packs import load_packs

SPAN = Span("bench", 1, 1)
MIX = (("datatransport", 0.05), ("datatransport", 0.04), ("laagspanning", 0.05), ("gasLageDruk", 0.11),
       ("water", 0.11), ("middenspanning", 0.07), ("rioolVrijverval", 0.4))


def street(n: int, seed: int) -> Section:
    """Return a 20 m street with n planned lines scattered over both trottoirs and the rijbaan."""
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
        kind = "cable" if net in ("datatransport", "laagspanning", "middenspanning") else "pipe"
        objs.append(Obj(f"{net}-{k}", kind, net, None, "planned", round(x, 3), round(cover, 3), diameter=d, span=SPAN))
    return Section("bench.yaml", "bench", 20.0, zones, tuple(objs), tags=(("street_type", "woonstraat"),),
                   planned="2026")


def main() -> None:
    """Time the solver on 12 and 25 planned lines; print the median of 5 runs each."""
    engine = Engine(load_packs())
    for n in (12, 25):
        times = []
        for run in range(5):
            section = street(n, seed=run)
            start = time.perf_counter()
            result = layout(section, engine, alternatives=False)
            times.append(time.perf_counter() - start)
            status = "ok" if result.feasible and not result.deviations else f"{len(result.deviations)} deviations"
            proof = f", time limit: at most {100 * result.gap:.0f} % above the least movement" if result.gap else ""
            sys.stdout.write(f"  n={n} run={run} {times[-1]:.2f} s  {status}, {len(result.findings)} findings left{proof}\n")
        sys.stdout.write(f"n={n}: median {statistics.median(times):.2f} s over 5 runs\n")


if __name__ == "__main__":
    main()
