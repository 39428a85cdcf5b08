"""Generate realistic street cross-sections for benchmarks, as JSON Lines.

Each line is one case mapping in the format of docs/case-format.md (JSON is valid YAML, so
`checker.io.loader.parse_case` reads a line as it stands). Sections are seeded and
reproducible: a footway with a utility strip of cables and pipes at typical covers
(some too shallow, some too close, some out of order), a carriageway with a sewer,
trees in a verge, a VKLS rack holding some lines in about one section in five, and
house connections crossing the profile.

    python bench/generate.py --count 10000 --objects 20 --seed 1 > sections.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Iterator
from typing import Any

# network, owner, typical cover (m), diameter (mm) choices
LINES: tuple[tuple[str, str, float, tuple[int, ...]], ...] = (
    ("datatransport", "KPN", 0.60, (40, 50, 110)),
    ("datatransport", "Ziggo", 0.60, (40, 50)),
    ("laagspanning", "Liander", 0.60, (50, 70)),
    ("middenspanning", "Liander", 0.80, (70, 90)),
    ("gasLageDruk", "Liander", 0.70, (63, 110, 160)),
    ("gasHogeDruk", "Gasunie", 0.90, (110, 160)),
    ("water", "Dunea", 0.90, (63, 110, 160)),
    ("warmte", "Vattenfall", 0.90, (110, 140)),
)
RANK = {name: rank for rank, name in enumerate(
    ("datatransport", "laagspanning", "gasLageDruk", "gasHogeDruk", "water", "middenspanning", "warmte"))}


def section(rng: random.Random, number: int, objects: int) -> dict[str, Any]:
    """Return one case mapping with about `objects` objects (at least 5)."""
    foot = round(rng.uniform(2.5, 4.5), 2)
    verge = round(rng.uniform(1.0, 2.5), 2)
    road = round(rng.uniform(5.0, 7.0), 2)
    width = round(foot + verge + road + 2.0, 2)
    zones = [
        {"kind": "trottoir", "from": 0, "to": foot},
        {"kind": "groen", "from": foot, "to": round(foot + verge, 2)},
        {"kind": "rijbaan", "from": round(foot + verge, 2), "to": round(foot + verge + road, 2)},
        {"kind": "trottoir", "from": round(foot + verge + road, 2), "to": width},
    ]
    objs: list[dict[str, Any]] = []
    trees = rng.randint(0, 2)
    crossings = rng.randint(0, 2)
    sewer = 1
    lines = max(objects - trees - crossings - sewer, 2)
    rack = lines >= 6 and rng.random() < 0.2
    held: list[str] = []
    # lines fill slots across both footways in the customary order from the nearer facade;
    # about one in ten is shallow, shifted or swapped, which is what the rules should catch
    order = sorted(rng.choice(LINES) for _ in range(lines))
    order.sort(key=lambda line: RANK[line[0]])
    near = (lines + 1) // 2
    for k, (network, owner, cover, diameters) in enumerate(order):
        far = k >= near
        slot = (k - near if far else k) + 0.5
        count = lines - near if far else near
        offset = slot * (foot - 0.3) / max(count, 1) + 0.15
        x = width - offset if far else offset
        if rng.random() < 0.1:
            x += rng.uniform(-0.4, 0.4)
        c = cover + rng.uniform(0.0, 0.25) if rng.random() > 0.1 else cover - rng.uniform(0.05, 0.2)
        oid = f"{network[:4]}-{k}"
        obj: dict[str, Any] = {"id": oid, "network": network, "owner": owner, "x": round(min(max(x, 0.1), width - 0.1), 3),
                               "cover": round(c, 3), "diameter": f"{rng.choice(diameters)} mm"}
        if network in ("laagspanning", "middenspanning"):
            obj["attributes"] = {"voltage": "0.4 kV" if network == "laagspanning" else "10 kV"}
        if rng.random() < 0.15:
            obj["status"] = "existing"
        if rack and not far and len(held) < 4 and network != "gasHogeDruk":
            held.append(oid)
        objs.append(obj)
    if rack:
        rx = round(rng.uniform(0.8, foot - 0.6), 3)
        objs.append({"id": "vkls-1", "kind": "rack", "x": rx, "width": 0.6, "cover": 0.3, "height": 1.0,
                     "sides": rng.choice(["single", "double"]), "holds": held})
        for n, oid in enumerate(held):
            obj = next(o for o in objs if o["id"] == oid)
            obj["x"] = round(rx - 0.15 + 0.3 * (n % 2), 3)
            obj["cover"] = round(0.35 + 0.2 * (n // 2), 3)
            obj["diameter"] = "50 mm"
    objs.append({"id": "riool-1", "network": "rioolVrijverval", "owner": "gemeente",
                 "x": round(foot + verge + road / 2 + rng.uniform(-0.5, 0.5), 3),
                 "cover": round(rng.uniform(1.5, 2.2), 3), "diameter": "315 mm", "status": "existing"})
    for t in range(trees):
        objs.append({"id": f"boom-{t}", "kind": "tree", "x": round(foot + verge * rng.uniform(0.4, 0.6), 3),
                     "diameter": "400 mm", "root_zone": {"radius": round(rng.uniform(0.8, 2.0), 2),
                                                         "depth": round(rng.uniform(0.6, 1.2), 2)}})
    for c in range(crossings):
        top = round(rng.uniform(0.3, 1.6), 3)
        objs.append({"id": f"hak-{c}", "kind": "crossing",
                     "network": rng.choice(["rioolVrijverval", "datatransport", "water"]), "owner": "gemeente",
                     "from": 0, "to": round(rng.uniform(2.0, foot + verge + road / 2), 2),
                     "cover": [top, round(top + rng.uniform(0.0, 0.5), 3)], "diameter": "125 mm"})
    return {
        "ligging": 1, "name": f"bench section {number}", "municipality": "Benchdorp",
        "street_type": rng.choice(["woonstraat", "binnenstad", "nieuwbouw"]), "planned": rng.choice([2025, 2026, 2027]),
        "width": width, "zones": zones, "objects": objs,
    }


def sections(count: int, objects: int | None, seed: int) -> Iterator[dict[str, Any]]:
    """Yield `count` sections; `objects` fixes the size, else each has 5 to 40 objects."""
    rng = random.Random(seed)
    for number in range(count):
        yield section(rng, number, objects if objects is not None else rng.randint(5, 40))


def main(argv: list[str] | None = None) -> None:
    """Write generated sections as JSON Lines to stdout or --out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--objects", type=int, default=None, help="objects per section (default: 5 to 40)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default="-")
    args = parser.parse_args(argv)
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
    with out:
        for case in sections(args.count, args.objects, args.seed):
            out.write(json.dumps(case, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
