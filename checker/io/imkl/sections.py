"""`ligging import DELIVERY`: cut one section along a line, or one per station along a street axis, and write them.

One section goes to a case.yaml, a run along an axis to JSON Lines (one case per line,
each with its station), both checked to load before they are written. Each case records
where it lies (`place`: its RD end points, its station, the delivery as a path relative
to the written file) so findings can go back on the map and the report can draw the plan.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import shapely

from checker.io.case_text import save_case, save_lines
from checker.io.imkl.axis import stations
from checker.io.imkl.cut import ARG, CORRIDOR, Cutter, parse_points
from checker.io.imkl.depth import REACH
from checker.io.imkl.reader import area_around, read_delivery
from checker.io.zone_spec import parse_zones
from dsl.diagnostics import Diagnostic, LiggingError
from dsl.packs import PackSet


@dataclass(frozen=True, slots=True)
class Written:
    """What an import wrote: the file, how many sections and objects, the depth bases, the warnings."""

    path: Path
    sections: int
    objects: int
    bases: dict[str, int]
    warnings: tuple[str, ...]

    def line(self) -> str:
        """Say in one line what was written."""
        said = ", ".join(f"{n} {basis}" for basis, n in sorted(self.bases.items()))
        return (f"{self.path}: {self.sections} section{'s' if self.sections != 1 else ''}, {self.objects} objects"
                + (f" (cover {said})" if said else ""))


def _reference(source: Path, output: Path) -> str:
    """Return the delivery's path as the written case records it: relative to the case's folder."""
    return Path(os.path.relpath(source.resolve(), output.resolve().parent)).as_posix()


def _bases(cases: list[dict[str, object]]) -> tuple[int, dict[str, int]]:
    counted: Counter[str] = Counter()
    total = 0
    for case in cases:
        for obj in case["objects"]:  # type: ignore[attr-defined]
            counted[obj["source"]["depth"]] += 1
            total += 1
    return total, dict(counted)


def cut_line(source: Path, output: Path, line: str, packs: PackSet, zones: str | None = None,
             name: str | None = None, corridor: float = CORRIDOR, reach: float = REACH) -> Written:
    """Cut the section along `line` ("X1,Y1 X2,Y2") and write it as a case.yaml."""
    points = parse_points(line, "--line")
    if len(points) != 2:
        raise LiggingError(Diagnostic(ARG, f"--line takes two points (the section's ends), got {len(points)}; "
                                           f"for a street axis use --axis"))
    zone_list = parse_zones(zones) if zones else None
    delivery = read_delivery(source, area_around(shapely.linestrings(points), corridor + reach + 2.0))
    cut = Cutter(delivery, packs, corridor, reach).cut(points[0], points[1], zone_list, name,
                                                        delivery_ref=_reference(source, output))
    save_case(cut.case, output)
    total, bases = _bases([cut.case])
    return Written(output, 1, total, bases, cut.warnings)


def cut_axis(source: Path, output: Path, axis: str, every: float, width: float, packs: PackSet,
             zones: str | None = None, name: str | None = None, corridor: float = CORRIDOR,
             reach: float = REACH) -> Written:
    """Cut a section every `every` metres along the street axis and write them as JSON Lines."""
    points = parse_points(axis, "--axis")
    try:
        run = stations(points, every, width)
    except ValueError as exc:
        raise LiggingError(Diagnostic(ARG, f"--axis: {exc}")) from None
    zone_list = parse_zones(zones) if zones else None
    delivery = read_delivery(source, area_around(shapely.linestrings(points), 0.5 * width + corridor + reach + 2.0))
    cutter = Cutter(delivery, packs, corridor, reach)
    reference = _reference(source, output)
    title = name or source.name
    cases = [cutter.cut(s.start, s.end, zone_list, f"{title}: station {s.chainage:g} m", s.chainage, reference).case
             for s in run]
    save_lines(cases, output)
    total, bases = _bases(cases)
    return Written(output, len(cases), total, bases, tuple(cutter.warnings))
