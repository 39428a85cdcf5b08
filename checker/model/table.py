"""Many sections as flat columns: what the engine reads, built without an `Obj` per object.

A `Table` holds every object of many sections in one set of NumPy columns (section
number, kind, network, status, x, cover, sizes, span) and the sections' own fields in
per-section columns (width, zones, tags, planned date, ...). The JSON Lines reader
(`checker.io.columns`) fills it straight from decoded lines; `Table.of(sections)` fills it
from `Section`s the YAML loader built. `obj(g)` and `section(s)` give back the frozen
`Obj` and `Section` — exactly those the loader would have built — only where a caller
needs one (an exception's measures, an exact shape, a consumer of `Finding`s).

Optional numbers are NaN where the object has none; rare fields (holds, measures,
attributes, source, and the time fields: years, a reservation's likelihood, a house
connection's main) are kept only for the objects that have them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from checker.model.section import KINDS, STATUSES, THEMAS, Accepted, Expected, Obj, Place, Section, Source, Zone
from dsl.diagnostics import Span

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.intp]
SIDES = (None, "single", "double")
# depth bases an object's source may give; a finding names the subjects whose cover is not measured
DEPTH_BASIS = (None, "measured", "declared", "assumed")
Attributes = tuple[tuple[str, float | str], ...]
# an object's time fields (`checker.model.moment`) and a house connection's main, kept only where set
DATED = ("built", "disused", "removed", "claim", "likelihood", "connects")


def _none(value: float) -> float | None:
    """Return a column value, or None where the column holds NaN (the object has no such field)."""
    return None if value != value else value


@dataclass(eq=False)
class Table:
    """Sections (per-section columns) and their objects (per-object columns, grouped by section)."""

    # per section
    paths: list[str]
    names: list[str]
    width: FloatArray
    planned: list[str | None]
    tags: list[tuple[tuple[str, str | float], ...]]
    spans: list[Span]
    zone_count: IntArray
    zone_kind: list[str]
    zone_start: FloatArray
    zone_end: FloatArray
    zone_spans: list[Span]
    expect: dict[int, tuple[Expected, ...]]
    accept: dict[int, tuple[Accepted, ...]]
    place: dict[int, Place]
    # per object
    starts: IntArray
    ids: NDArray[np.object_]
    kind: IntArray
    network: IntArray
    owner: NDArray[np.object_]
    status: IntArray
    x: FloatArray
    cover: FloatArray
    diameter: FloatArray
    size_width: FloatArray
    size_height: FloatArray
    start: FloatArray
    end: FloatArray
    cover_end: FloatArray
    root_radius: FloatArray
    root_depth: FloatArray
    sides: IntArray
    line: IntArray
    column: IntArray
    end_line: IntArray
    end_column: IntArray
    holds: dict[int, tuple[str, ...]] = field(default_factory=dict)
    measures: dict[int, tuple[str, ...]] = field(default_factory=dict)
    attributes: dict[int, Attributes] = field(default_factory=dict)
    source: dict[int, Source] = field(default_factory=dict)
    dated: dict[int, dict[str, int | str]] = field(default_factory=dict)
    _sections: dict[int, Section] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.sec = np.repeat(np.arange(len(self.names), dtype=np.intp), np.diff(self.starts))
        self.zone_starts = np.concatenate(([0], np.cumsum(self.zone_count))).astype(np.intp)

    @property
    def count(self) -> int:
        """Return how many sections the table holds."""
        return len(self.names)

    @property
    def n(self) -> int:
        """Return how many objects the table holds."""
        return len(self.ids)

    def obj(self, g: int) -> Obj:
        """Return object g as the loader builds it."""
        s = int(self.sec[g])
        return Obj(
            id=self.ids[g], kind=KINDS[self.kind[g]], network=THEMAS[self.network[g]] if self.network[g] >= 0 else None,
            owner=self.owner[g], status=STATUSES[self.status[g]], x=float(self.x[g]), cover=float(self.cover[g]),
            diameter=_none(float(self.diameter[g])), width=_none(float(self.size_width[g])),
            height=_none(float(self.size_height[g])), start=_none(float(self.start[g])), end=_none(float(self.end[g])),
            cover_end=_none(float(self.cover_end[g])), root_radius=_none(float(self.root_radius[g])),
            root_depth=_none(float(self.root_depth[g])), sides=SIDES[self.sides[g]], holds=self.holds.get(g, ()),
            measures=self.measures.get(g, ()), attributes=self.attributes.get(g, ()),
            span=Span(self.paths[s], int(self.line[g]), int(self.column[g]), int(self.end_line[g]), int(self.end_column[g])),
            source=self.source.get(g), **self.dated.get(g, {}),  # type: ignore[arg-type]
        )

    def objects(self, s: int) -> tuple[Obj, ...]:
        """Return the objects of section s, in order."""
        return tuple(self.obj(g) for g in range(int(self.starts[s]), int(self.starts[s + 1])))

    def zones(self, s: int) -> tuple[Zone, ...]:
        """Return the zones of section s."""
        return tuple(Zone(self.zone_kind[k], float(self.zone_start[k]), float(self.zone_end[k]), self.zone_spans[k])
                     for k in range(int(self.zone_starts[s]), int(self.zone_starts[s + 1])))

    def section(self, s: int) -> Section:
        """Return section s as the loader builds it (built once, then kept)."""
        got = self._sections.get(s)
        if got is None:
            got = Section(self.paths[s], self.names[s], float(self.width[s]), self.zones(s), self.objects(s), self.tags[s],
                          self.planned[s], self.expect.get(s, ()), self.accept.get(s, ()), self.spans[s], self.place.get(s))
            self._sections[s] = got
        return got

    def tag(self, s: int, name: str) -> str | float | None:
        """Return a tag of section s (as `Section.tag`)."""
        for key, value in self.tags[s]:
            if key == name:
                return value
        return None

    @staticmethod
    def of(sections: Sequence[Section]) -> Table:
        """Return the table of sections built by the loader (their objects become columns)."""
        objs = [o for s in sections for o in s.objects]
        sizes = np.array([len(s.objects) for s in sections], dtype=np.intp)
        kinds = {k: c for c, k in enumerate(KINDS)}
        themas = {t: c for c, t in enumerate(THEMAS)}
        statuses = {k: c for c, k in enumerate(STATUSES)}
        nan = np.nan

        def floats(values: list[float | None]) -> FloatArray:
            return np.array([nan if v is None else v for v in values], dtype=float)

        zones = [z for s in sections for z in s.zones]
        spans = [o.span for o in objs]
        table = Table(
            paths=[s.path for s in sections], names=[s.name for s in sections],
            width=np.array([s.width for s in sections], dtype=float), planned=[s.planned for s in sections],
            tags=[s.tags for s in sections], spans=[s.span for s in sections],
            zone_count=np.array([len(s.zones) for s in sections], dtype=np.intp), zone_kind=[z.kind for z in zones],
            zone_start=np.array([z.start for z in zones], dtype=float), zone_end=np.array([z.end for z in zones], dtype=float),
            zone_spans=[z.span for z in zones],
            expect={k: s.expect for k, s in enumerate(sections) if s.expect},
            accept={k: s.accept for k, s in enumerate(sections) if s.accept},
            place={k: s.place for k, s in enumerate(sections) if s.place is not None},
            starts=np.concatenate(([0], np.cumsum(sizes))).astype(np.intp),
            ids=np.array([o.id for o in objs] or [], dtype=object),
            kind=np.array([kinds[o.kind] for o in objs], dtype=np.intp),
            network=np.array([-1 if o.network is None else themas[o.network] for o in objs], dtype=np.intp),
            owner=np.array([o.owner for o in objs] or [], dtype=object),
            status=np.array([statuses[o.status] for o in objs], dtype=np.intp),
            x=np.array([o.x for o in objs], dtype=float), cover=np.array([o.cover for o in objs], dtype=float),
            diameter=floats([o.diameter for o in objs]), size_width=floats([o.width for o in objs]),
            size_height=floats([o.height for o in objs]), start=floats([o.start for o in objs]),
            end=floats([o.end for o in objs]), cover_end=floats([o.cover_end for o in objs]),
            root_radius=floats([o.root_radius for o in objs]), root_depth=floats([o.root_depth for o in objs]),
            sides=np.array([SIDES.index(o.sides) for o in objs], dtype=np.intp),
            line=np.array([sp.line for sp in spans], dtype=np.intp), column=np.array([sp.column for sp in spans], dtype=np.intp),
            end_line=np.array([sp.end_line for sp in spans], dtype=np.intp),
            end_column=np.array([sp.end_column for sp in spans], dtype=np.intp),
            holds={g: o.holds for g, o in enumerate(objs) if o.holds},
            measures={g: o.measures for g, o in enumerate(objs) if o.measures},
            attributes={g: o.attributes for g, o in enumerate(objs) if o.attributes},
            source={g: o.source for g, o in enumerate(objs) if o.source is not None},
            dated={g: d for g, d in enumerate({k: getattr(o, k) for k in DATED if getattr(o, k) is not None} for o in objs)
                   if d},
        )
        table._sections = dict(enumerate(sections))
        return table

    @staticmethod
    def concat(parts: Sequence[Table]) -> Table:
        """Return one table holding the sections of `parts`, in order."""
        if len(parts) == 1:
            return parts[0]
        base = np.cumsum([0] + [p.n for p in parts])
        first = np.cumsum([0] + [p.count for p in parts])

        def cat(name: str) -> NDArray[np.generic]:
            return np.concatenate([getattr(p, name) for p in parts])

        def joined(name: str) -> list[object]:
            return [item for p in parts for item in getattr(p, name)]

        def sparse(name: str, offsets: NDArray[np.intp]) -> dict[int, object]:
            return {int(offsets[k]) + key: value for k, p in enumerate(parts) for key, value in getattr(p, name).items()}

        starts = np.concatenate([[0]] + [p.starts[1:] + base[k] for k, p in enumerate(parts)]).astype(np.intp)
        table = Table(
            paths=joined("paths"), names=joined("names"), width=cat("width"), planned=joined("planned"), tags=joined("tags"),
            spans=joined("spans"), zone_count=cat("zone_count"), zone_kind=joined("zone_kind"), zone_start=cat("zone_start"),
            zone_end=cat("zone_end"), zone_spans=joined("zone_spans"), expect=sparse("expect", first),
            accept=sparse("accept", first), place=sparse("place", first), starts=starts, ids=cat("ids"), kind=cat("kind"),
            network=cat("network"), owner=cat("owner"), status=cat("status"), x=cat("x"), cover=cat("cover"),
            diameter=cat("diameter"), size_width=cat("size_width"), size_height=cat("size_height"), start=cat("start"),
            end=cat("end"), cover_end=cat("cover_end"), root_radius=cat("root_radius"), root_depth=cat("root_depth"),
            sides=cat("sides"), line=cat("line"), column=cat("column"), end_line=cat("end_line"),
            end_column=cat("end_column"), holds=sparse("holds", base), measures=sparse("measures", base),
            attributes=sparse("attributes", base), source=sparse("source", base),
            dated=sparse("dated", base),  # type: ignore[arg-type]
        )
        table._sections = sparse("_sections", first)  # type: ignore[assignment]
        return table
