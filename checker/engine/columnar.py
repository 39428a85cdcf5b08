"""Columnar evaluation of many sections at once.

A `Batch` holds every object of many sections in one set of NumPy columns, with a
section number per object; zones are a padded (section by zone) matrix. Candidate pairs
are generated for all sections in bulk (`Batch.pairs`), so each relation runs once per
batch: `RelationCompiler.compile` turns a relation into a function of the batch and a mask of
the objects whose section has the rule in force, returning a `BatchOutcome` (subject
index columns, measured values, pass/fail per row). Values use the floating-point
operations of `checker.model.geometry` (frame, gaps), so a plain per-section evaluation
(`tests/reference_engine.py`) agrees exactly. Shapely is called only for rows whose exact shape decides the outcome
(a circle or crossing whose bounding box touches an exclusion zone or another body and
that closed-form bounds cannot clear); those shapes are cached per batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from checker.engine.select import (
    GEOMETRIC,
    PAIR_FIELDS,
    Predicate,
    check_relation,
    compare_many,
    compile_selector,
    in_service,
    members,
)
from checker.model import geometry as geo
from checker.model.geometry import BoolArray, FloatArray, Frame, IntArray
from checker.model.section import KINDS, LINE_KINDS, STATUSES, THEMAS, TOLERANCE, YEAR_FIELDS, Obj, Section
from checker.model.table import SIDES, Table
from checker.model.zoning import in_stack, in_zone, place_starts, probes
from dsl import ast
from dsl.diagnostics import Diagnostic, LiggingError
from dsl.packs import PackSet
from nen7171.zones import UNKNOWN_ZONE

# textual attribute tests answered from columns; the rest are asked per object
COLUMN_ATTRIBUTES = ("owner", "status", "kind", "network", "id")
# sizes a selector compares, and the table column holding each (NaN where the object has none)
SIZE_COLUMNS = {"diameter": "diameter", "width": "size_width", "height": "size_height", "cover": "cover"}
# the section handed to a test of a case attribute, which reads the object only (a zone test reads its section)
_OBJECT_ONLY = Section("<object>", "", 0.0, (), ())
# names a selector test reads from the object itself (`select._attr`); any other name is a case attribute
OBJECT_FIELDS = frozenset(("zone", "measure", "owner", "status", "kind", "network", "id", "likelihood", "connects",
                           *GEOMETRIC, *YEAR_FIELDS))
EMPTY = np.empty(0, dtype=np.intp)
# `Batch.near`: objects wider than twice this are paired with everything; sections are this far apart on one sort key
WIDE = 2.0
SPAN = 1e6
# textual fields kept as codes in the table: the names a code stands for and the column holding the codes
_CODED = {"kind": (KINDS, "kind"), "network": (THEMAS, "network"), "status": (STATUSES, "status")}


class Batch:
    """Many sections' objects as flat columns, grouped by section, with per-batch caches.

    Built on a `Table` (or a list of `Section`s, made into one); `Obj`s and `Section`s are
    materialised only where a relation asks for one (`obj`, `section`, `objects`, `sections`).
    """

    def __init__(self, data: Table | list[Section]) -> None:
        t = data if isinstance(data, Table) else Table.of(data)
        self.table = t
        self.count = t.count
        self.n = t.n
        self.starts = t.starts
        self.sec = t.sec
        self.ids = t.ids
        self.kind = t.kind
        # network codes are indices into THEMAS (-1 without a network)
        self.network_code = t.network
        self.network_codes = {name: c for c, name in enumerate(THEMAS)}
        self.status_code = t.status
        self.planned = t.status == STATUSES.index("planned")
        # in the ground: findings among these objects only are a baseline
        self.existing = ~self.planned
        self.line = t.line
        self.column = t.column
        self.x = t.x
        self.cover = t.cover
        diameter = t.diameter
        has_diameter = ~np.isnan(diameter)
        # `value or 0.0`: None and -0.0 become 0.0
        self.diameter0 = np.where(has_diameter, diameter, 0.0) + 0.0
        self.start0 = np.where(np.isnan(t.start), 0.0, t.start) + 0.0
        self.end0 = np.where(np.isnan(t.end), 0.0, t.end) + 0.0
        self.has_cover_end = ~np.isnan(t.cover_end)
        self.cover_end = np.where(self.has_cover_end, t.cover_end, self.cover)
        width0 = np.where(np.isnan(t.size_width), 0.0, t.size_width) + 0.0
        height0 = np.where(np.isnan(t.size_height), 0.0, t.size_height) + 0.0
        is_tree = self.kind == KINDS.index("tree")
        is_crossing = self.kind == KINDS.index("crossing")
        self.is_tree = is_tree
        self.is_crossing = is_crossing
        # Obj.round, Obj.half_width, Obj.body_height, Obj.bottom
        self.obj_round = has_diameter & ~is_tree & ~is_crossing
        self.half_width = np.where(is_crossing, 0.5 * np.abs(self.end0 - self.start0),
                                   np.where(is_tree | self.obj_round, 0.5 * self.diameter0, 0.5 * width0))
        self.body_height = np.where(is_tree, 0.0, np.where(is_crossing | self.obj_round, self.diameter0, height0))
        top = np.where(self.has_cover_end, np.maximum(self.cover, self.cover_end), self.cover)
        self.obj_bottom = top + self.body_height
        # the frame of geometry.frame, for all objects at once
        cross_top = np.minimum(self.cover, self.cover_end)
        z = np.where(is_crossing, 0.5 * (cross_top + self.obj_bottom), self.cover + 0.5 * self.body_height)
        hh = np.where(is_crossing, 0.5 * (self.obj_bottom - cross_top), 0.5 * self.body_height)
        self.frame = Frame(Section("<batch>", "", 0.0, (), ()), (), self.x, z, self.half_width, hh,
                           self.obj_round | is_tree, is_crossing, {})
        self.left = self.x - self.half_width
        self.right = self.x + self.half_width
        self.top = z - hh
        self.bottom = z + hh
        self.rack_of = self._racks()
        self.width = t.width
        # years (checker.model.moment); a missing year never compares true
        self.removed = np.full(self.n, np.inf)
        self.claim = np.full(self.n, -np.inf)
        for g, dated in t.dated.items():
            self.removed[g] = dated.get("removed", np.inf)
            self.claim[g] = dated.get("claim", -np.inf)
        self._zones()
        self._kinds: dict[tuple[str, ...], BoolArray] = {}
        self._masks: dict[int, BoolArray] = {}
        self._shapes: dict[int, BaseGeometry] = {}
        self._columns: dict[str, object] = {}
        self._objects: dict[int, Obj] = {}

    def obj(self, g: int) -> Obj:
        """Return object g (materialised once, on first use)."""
        got = self._objects.get(g)
        if got is None:
            got = self.table.obj(g)
            self._objects[g] = got
        return got

    @property
    def objects(self) -> list[Obj]:
        """Return every object of the batch (materialises them all: for rare, per-object questions)."""
        return [self.obj(g) for g in range(self.n)]

    def section(self, s: int) -> Section:
        """Return section s (materialised once, on first use)."""
        return self.table.section(s)

    @property
    def sections(self) -> list[Section]:
        """Return every section of the batch (materialises them all)."""
        return [self.table.section(s) for s in range(self.count)]

    def _racks(self) -> IntArray:
        """Return, per object, the global index of the rack that holds it, or -1 (as geometry.rack_column).

        A house connection (a crossing that `connects` a line) belongs to its main's holder: it leaves
        the rack from its main's tier. `self.held` keeps what holders hold themselves; `self.main` is
        each connection's main (-1 elsewhere).
        """
        out = np.full(self.n, -1, dtype=np.intp)
        self.main = np.full(self.n, -1, dtype=np.intp)
        t = self.table
        holders = sorted(set(t.holds) | {g for g, dated in t.dated.items() if "connects" in dated})
        index: dict[int, dict[str, int]] = {}
        connections: list[tuple[int, int]] = []
        for g in holders:
            s = int(self.sec[g])
            base = int(self.starts[s])
            local = index.get(s)
            if local is None:
                local = {name: base + k for k, name in enumerate(self.ids[base:int(self.starts[s + 1])].tolist())}
                index[s] = local
            for held in t.holds.get(g, ()):
                out[local[held]] = g
            main = t.dated.get(g, {}).get("connects")
            if main is not None:
                connections.append((g, local[str(main)]))
        self.held = out.copy()
        for g, m in connections:
            self.main[g] = m
            out[g] = out[m]
        return out

    def _zones(self) -> None:
        """Build the padded zone matrices (start, end, kind, centre) of all sections."""
        t = self.table
        count = max(int(t.zone_count.max(initial=0)), 1)
        shape = (self.count, count)
        self.zone_start = np.full(shape, np.inf)
        self.zone_end = np.full(shape, -np.inf)
        self.zone_kind = np.full(shape, "", dtype=object)
        row = np.repeat(np.arange(self.count), t.zone_count)
        col = np.arange(len(row)) - t.zone_starts[row]
        self.zone_start[row, col] = t.zone_start
        self.zone_end[row, col] = t.zone_end
        self.zone_kind[row, col] = t.zone_kind
        self.zone_real = np.isfinite(self.zone_start)
        # the zone that ends its section's profile keeps the far edge
        self.zone_last = np.arange(count)[None, :] == (np.asarray(t.zone_count, dtype=np.intp)[:, None] - 1)
        self.zone_centre = 0.5 * (np.where(self.zone_real, self.zone_start, 0.0) + np.where(self.zone_real, self.zone_end, 0.0))

    def kinds(self, *names: str) -> BoolArray:
        """Return (and cache) the mask of objects of the given kinds."""
        got = self._kinds.get(names)
        if got is None:
            table = np.zeros(len(KINDS) + 1, dtype=bool)
            table[[KINDS.index(n) for n in names]] = True
            got = np.asarray(table[self.kind])
            self._kinds[names] = got
        return got

    def networks(self, names: tuple[str, ...]) -> BoolArray:
        """Return the mask of objects whose network is one of `names`."""
        codes = [self.network_codes[n] for n in names if n in self.network_codes]
        if len(codes) == 1:
            return np.asarray(self.network_code == codes[0])
        table = np.zeros(len(self.network_codes) + 1, dtype=bool)
        table[codes] = True
        return np.asarray(table[self.network_code])

    def attribute(self, name: str) -> NDArray[np.object_]:
        """Return (and cache) an object column of a textual field (owner, status, kind, network, id)."""
        got = self._columns.get(name)
        if got is None:
            t = self.table
            if name in _CODED:
                names, codes = _CODED[name]
                got = np.array([None] + list(names), dtype=object)[getattr(t, codes) + 1]
            else:
                got = t.ids if name == "id" else t.owner
            self._columns[name] = got
        return got  # type: ignore[return-value]

    def equals(self, name: str, text: str) -> BoolArray:
        """Return (and cache) the mask of objects whose textual field `name` is `text`; coded fields compare codes."""
        key = f"={name}={text}"
        got = self._columns.get(key)
        if got is None:
            if name in _CODED:
                names, codes = _CODED[name]
                code = names.index(text) if text in names else -2
                got = np.asarray(getattr(self.table, codes) == code)
            else:
                got = np.asarray(self.attribute(name) == text, dtype=bool)
            self._columns[key] = got
        return got  # type: ignore[return-value]

    def pair_column(self, name: str) -> NDArray[np.object_]:
        """Return (and cache) the values a pairing compares (`select.pair_field`): a field, or an attribute (None if absent)."""
        if name in PAIR_FIELDS:
            return self.attribute(name)
        key = f"attribute:{name}"
        got = self._columns.get(key)
        if got is None:
            got = np.full(self.n, None, dtype=object)
            for g, pairs in self.table.attributes.items():
                for attr, value in pairs:
                    if attr == name:
                        got[g] = value
            self._columns[key] = got
        return got  # type: ignore[return-value]

    def paired(self, i: IntArray, j: IntArray, pairing: ast.Pairing | None) -> BoolArray:
        """Return which pairs (i[k], j[k]) a relation's `with same|different` pairing keeps (as `select.paired`)."""
        if pairing is None or len(i) == 0:
            return np.ones(len(i), dtype=bool)
        equal = np.ones(len(i), dtype=bool)
        for name in pairing.names:
            column = self.pair_column(name)
            equal &= np.asarray(column[i] == column[j], dtype=bool)
        # `same a, b`: every named field is equal; `different a, b`: some named field differs
        return equal if pairing.mode == "same" else ~equal

    def select(self, key: int, column: Callable[[Batch], BoolArray]) -> BoolArray:
        """Return (and cache) the mask of a compiled selector."""
        got = self._masks.get(key)
        if got is None:
            got = column(self)
            self._masks[key] = got
        return got

    def has_measure(self, names: tuple[str, ...]) -> BoolArray:
        """Return the mask of objects carrying any of the named measures."""
        out = np.zeros(self.n, dtype=bool)
        wanted = set(names)
        for g, measures in self.table.measures.items():
            if wanted.intersection(measures):
                out[g] = True
        return out

    def shape(self, g: int) -> BaseGeometry:
        """Return (and cache) the shapely body of object g."""
        got = self._shapes.get(g)
        if got is None:
            got = geo.shape(self.obj(g))
            self._shapes[g] = got
        return got

    def shapes(self, idx: IntArray) -> NDArray[np.object_]:
        """Return the shapely bodies of objects idx (as geometry.shape), built in bulk and cached per object."""
        missing = np.unique(idx[np.fromiter((int(g) not in self._shapes for g in idx), dtype=bool, count=len(idx))])
        if len(missing):
            made = np.empty(len(missing), dtype=object)
            rnd = self.obj_round[missing]
            if rnd.any():
                g = missing[rnd]
                r = 0.5 * self.diameter0[g]
                made[rnd] = shapely.buffer(shapely.points(self.x[g], self.cover[g] + r), r, quad_segs=32)
            cross = self.is_crossing[missing]
            if cross.any():
                g = missing[cross]
                s, e, c0, c1, d = self.start0[g], self.end0[g], self.cover[g], self.cover_end[g], self.diameter0[g]
                ring = np.stack([np.stack([s, c0], 1), np.stack([e, c1], 1), np.stack([e, c1 + d], 1),
                                 np.stack([s, c0 + d], 1)], 1)
                made[cross] = shapely.polygons(ring)
            plain = ~rnd & ~cross & ~self.is_tree[missing]
            if plain.any():
                g = missing[plain]
                hw = self.half_width[g]
                made[plain] = shapely.box(self.x[g] - hw, self.cover[g], self.x[g] + hw,
                                          self.cover[g] + self.body_height[g])
            for k in np.flatnonzero(self.is_tree[missing]):
                made[k] = geo.shape(self.obj(int(missing[k])))
            for g, geom in zip(missing.tolist(), made, strict=True):
                self._shapes[g] = geom
        out = np.empty(len(idx), dtype=object)
        out[:] = [self._shapes[g] for g in idx.tolist()]
        return out

    def bands(self, idx: IntArray) -> geo.Bands:
        """Return the bands of crossings idx."""
        return geo.Bands(self.start0[idx], self.end0[idx], self.cover[idx], self.cover_end[idx], self.diameter0[idx])

    def regions(self, idx: IntArray) -> geo.Regions:
        """Return the bodies of objects idx (round or rectangular, not crossings or trees) as discs and boxes."""
        return geo.bodies(self.x[idx], self.cover[idx], self.half_width[idx], self.body_height[idx], self.obj_round[idx])

    def boxes(self, idx: IntArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Return the bounding boxes of objects idx: frame boxes; the bounds of the body shape for crossings and trees."""
        minx = self.left[idx].copy()
        miny = self.top[idx].copy()
        maxx = self.right[idx].copy()
        maxy = self.bottom[idx].copy()
        cross = np.flatnonzero(self.is_crossing[idx])
        if len(cross):
            # the bounds of the crossing's polygon: extremes of its corner coordinates
            g = idx[cross]
            s, e, c0, c1, d = self.start0[g], self.end0[g], self.cover[g], self.cover_end[g], self.diameter0[g]
            depths = (c0, c1, c1 + d, c0 + d)
            minx[cross], maxx[cross] = np.minimum(s, e), np.maximum(s, e)
            miny[cross], maxy[cross] = np.minimum.reduce(depths), np.maximum.reduce(depths)
        for k in np.flatnonzero(self.is_tree[idx]):
            minx[k], miny[k], maxx[k], maxy[k] = self.shape(int(idx[k])).bounds
        return minx, miny, maxx, maxy

    def pairs(self, a: BoolArray, b: BoolArray, dedup: bool = True) -> tuple[IntArray, IntArray]:
        """Return all pairs (i in a, j in b, i != j) within one section, for all sections at once.

        With `dedup` a pair selected both ways is kept once (i < j);
        pairs come i-major, then j, in object order.
        """
        ia = np.flatnonzero(a)
        ib = np.flatnonzero(b)
        if len(ia) == 0 or len(ib) == 0:
            return EMPTY, EMPTY
        per = np.bincount(self.sec[ib], minlength=self.count)
        offset = np.cumsum(per) - per
        sa = self.sec[ia]
        reps = per[sa]
        total = int(reps.sum())
        if total == 0:
            return EMPTY, EMPTY
        gi = np.repeat(ia, reps)
        first = np.cumsum(reps) - reps
        within = np.arange(total, dtype=np.intp) - np.repeat(first, reps)
        gj = ib[np.repeat(offset[sa], reps) + within]
        keep = gi != gj
        if dedup:
            both = a[gi] & b[gi] & a[gj] & b[gj]
            keep &= ~both | (gi < gj)
        return gi[keep], gj[keep]

    def membership(self, mode: str, idx: IntArray) -> BoolArray:
        """Return, for objects idx, whether each is in each zone of its section (`zoning.in_zone`), padded."""
        s = self.sec[idx]
        start, end = self.zone_start[s], self.zone_end[s]
        inside = in_zone(mode, self.left[idx, None], self.right[idx, None], self.x[idx, None], start, end,
                         self.zone_last[s], self.width[s, None])
        return np.asarray(inside & self.zone_real[s], dtype=bool)

    def near(self, a: BoolArray, b: BoolArray, ext_a: FloatArray, ext_b: FloatArray, reach: float,
             dedup: bool = True) -> tuple[IntArray, IntArray]:
        """Return the pairs of `pairs(a, b, dedup)` whose horizontal gap is at most `reach`, without forming the rest.

        The horizontal gap of i and j is |x_i - x_j| - ext_i - ext_j (ext: half widths, or 0 for
        an axis). Objects of b are sorted by left edge per section and each object of a looks
        only at the window that can reach it, so spaced objects cost what their neighbours do,
        not the square of their number; the few wide objects (crossings, long reservations)
        are paired with everything. Pairs come i-major, then j, as from `pairs`.
        """
        ia, ib = np.flatnonzero(a), np.flatnonzero(b)
        if len(ia) == 0 or len(ib) == 0:
            return EMPTY, EMPTY
        wide = np.zeros(self.n, dtype=bool)
        wide[ib[ext_b[ib] > WIDE]] = True
        gi_wide, gj_wide = self.pairs(a, wide, dedup=False) if wide.any() else (EMPTY, EMPTY)
        narrow = ib[~wide[ib]]
        gi, gj = EMPTY, EMPTY
        if len(narrow):
            # one sorted key over all sections: a section's objects lie in their own band of SPAN metres
            band = self.sec.astype(float) * SPAN
            left = self.x - ext_b
            order = narrow[np.lexsort((left[narrow], self.sec[narrow]))]
            keys = band[order] + left[order]
            slack = 0.01 + 1e-9 * float(np.max(np.abs(band[ia]), initial=0.0))
            lo = np.searchsorted(keys, band[ia] + self.x[ia] - ext_a[ia] - reach - 2 * WIDE - slack, side="left")
            hi = np.searchsorted(keys, band[ia] + self.x[ia] + ext_a[ia] + reach + slack, side="right")
            counts = np.maximum(hi - lo, 0)
            total = int(counts.sum())
            gi = np.repeat(ia, counts)
            within = np.arange(total, dtype=np.intp) - np.repeat(np.cumsum(counts) - counts, counts)
            gj = order[np.repeat(lo, counts) + within]
        gi, gj = np.concatenate((gi, gi_wide)), np.concatenate((gj, gj_wide))
        gap = np.abs(self.x[gi] - self.x[gj]) - ext_a[gi] - ext_b[gj]
        keep = (gap <= reach + 1e-6) & (gi != gj) & (self.sec[gi] == self.sec[gj])
        if dedup:
            both = a[gi] & b[gi] & a[gj] & b[gj]
            keep &= ~both | (gi < gj)
        gi, gj = gi[keep], gj[keep]
        ranked = np.lexsort((gj, gi))
        return gi[ranked], gj[ranked]

    def below(self, a: BoolArray, c: BoolArray, group: IntArray, limit: FloatArray,
              key: FloatArray) -> tuple[IntArray, IntArray]:
        """Return the pairs (i in a, j in c) of one group with key_j below limit_i (give or take 1 cm), in bulk.

        c is sorted by key per group and each i takes the run of its group below its limit, so
        the work follows the pairs returned, not all pairs: the candidates of an order
        relation, whose failing pairs are those whose `behind` lies below the other's `ahead`.
        """
        ia, ic = np.flatnonzero(a), np.flatnonzero(c)
        if len(ia) == 0 or len(ic) == 0:
            return EMPTY, EMPTY
        band = group.astype(float) * SPAN
        order = ic[np.lexsort((key[ic], group[ic]))]
        keys = band[order] + key[order]
        slack = 0.01 + 1e-9 * float(np.max(np.abs(band[ia]), initial=0.0))
        lo = np.searchsorted(keys, band[ia] - 0.5 * SPAN, side="left")
        hi = np.searchsorted(keys, band[ia] + limit[ia] + slack, side="right")
        counts = np.maximum(hi - lo, 0)
        gi = np.repeat(ia, counts)
        within = np.arange(int(counts.sum()), dtype=np.intp) - np.repeat(np.cumsum(counts) - counts, counts)
        gj = order[np.repeat(lo, counts) + within]
        keep = group[gi] == group[gj]
        return gi[keep], gj[keep]

    def zone_columns(self) -> tuple[IntArray, BoolArray]:
        """Return each object's surface zone index within its section (-1 outside) and whether it is mirrored.

        An object is in the zone that holds its axis (`zoning.in_zone` by axis): one zone at most.
        """
        inside = self.membership("axis", np.arange(self.n, dtype=np.intp))
        idx = np.where(inside.any(axis=1), inside.argmax(axis=1), -1)
        centre = self.zone_centre[self.sec, np.maximum(idx, 0)]
        mirrored = np.where(idx >= 0, centre > 0.5 * self.width[self.sec], False)
        return np.asarray(idx, dtype=np.intp), np.asarray(mirrored, dtype=bool)

    def dimension(self, name: str) -> FloatArray:
        """Return (and cache) a dimension of every object (`Obj.dimension`), NaN where an object has none."""
        key = f"dimension:{name}"
        got = self._columns.get(key)
        if got is None:
            t = self.table
            has_diameter = ~np.isnan(t.diameter)
            if name == "diameter":
                got = np.array(t.diameter, dtype=float)
            elif name == "radius":
                got = 0.5 * t.diameter
            elif name == "width":
                has = has_diameter | ~np.isnan(t.size_width) | self.is_crossing
                got = np.where(has, 2.0 * self.half_width, np.nan)
            elif name == "height":
                has = ~self.is_tree & (has_diameter | ~np.isnan(t.size_height))
                got = np.where(has, self.body_height, np.nan)
            elif name == "root-radius":
                got = np.array(t.root_radius, dtype=float)
            elif name == "root-depth":
                got = np.array(t.root_depth, dtype=float)
            else:
                raise ValueError(f"unknown dimension {name!r}")
            self._columns[key] = got
        return got  # type: ignore[return-value]

    def thresholds(self, q: ast.Quantity, i: IntArray, j: IntArray | None = None,
                   *more: FloatArray) -> tuple[FloatArray | None, tuple[Any, ...]]:
        """Return each row's threshold when it depends on the subjects (None when constant), and the rows kept.

        A row's threshold is the constant part plus each term's coefficient times its subject's
        dimension, added in written order (`tests/reference_engine.py` adds them alike); a row
        whose subject lacks the dimension is not judged, so it is dropped from every column.
        """
        columns = (i,) if j is None else (i, j)
        if not q.terms:
            return None, columns + more
        out = self.threshold_values(q, i, j)
        keep = ~np.isnan(out)
        return out[keep], tuple(c[keep] for c in columns + more)

    def threshold_values(self, q: ast.Quantity, i: IntArray, j: IntArray | None = None) -> FloatArray:
        """Return each row's threshold (`thresholds`), NaN where a subject lacks a dimension it needs."""
        out = np.full(len(i), q.value)
        for term in q.terms:
            di = self.dimension(term.dimension)[i]
            dj = di if j is None else self.dimension(term.dimension)[j]
            if term.side == "a":
                d = di
            elif term.side == "b":
                d = dj
            else:
                pick = np.maximum if term.side == "larger" else np.minimum
                d = np.where(np.isnan(di) | np.isnan(dj), np.nan, pick(di, dj))
            out = out + term.coefficient * d
        return np.asarray(out, dtype=float)


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    """What one relation found in a batch: subject columns (global indices), values, pass/fail per row.

    `groups` replaces `subjects` for relations whose rows name a variable number of objects
    (capacity); it holds the group of each row that was asked for, else an empty array.
    `limits` holds each row's threshold when it depends on the subjects (`required` is then
    the constant part only).
    """

    subjects: tuple[IntArray, ...]
    measured: FloatArray | None
    ok: BoolArray
    required: float | None
    op: str
    unit: str = "m"
    groups: list[IntArray] | None = None
    section: IntArray | None = None
    limits: FloatArray | None = None


Run = Callable[[Batch, BoolArray, bool], BatchOutcome]


def box_gaps(a: tuple[FloatArray, ...], b: tuple[FloatArray, ...]) -> FloatArray:
    """Return the distances between rows of two box columns (minx, miny, maxx, maxy), negative when they overlap.

    A lower bound of the distance between any shapes inside the boxes.
    """
    dx = np.maximum(b[0] - a[2], a[0] - b[2])
    dy = np.maximum(b[1] - a[3], a[1] - b[3])
    return np.asarray(np.where((dx > 0) & (dy > 0), np.hypot(dx, dy), np.maximum(dx, dy)), dtype=float)


def point_box(px: FloatArray, pz: FloatArray, box: tuple[FloatArray, ...]) -> FloatArray:
    """Return the distance from points to boxes (0 inside)."""
    ox = np.maximum(np.maximum(box[0] - px, px - box[2]), 0.0)
    oz = np.maximum(np.maximum(box[1] - pz, pz - box[3]), 0.0)
    return np.asarray(np.hypot(ox, oz), dtype=float)


def _distances_apart(a: NDArray[np.object_], b: NDArray[np.object_]
                     ) -> tuple[FloatArray, NDArray[np.object_], BoolArray]:
    """Return the distances of the rows that do not meet (the others left to fill), the intersections, and which are apart."""
    inter = shapely.intersection(a, b)
    apart = np.asarray(shapely.is_empty(inter) | (shapely.area(inter) <= 1e-12), dtype=bool)
    out = np.empty(len(a))
    if apart.any():
        out[apart] = shapely.distance(a[apart], b[apart])
    return out, inter, apart


def shape_gaps(a: NDArray[np.object_], b: NDArray[np.object_]) -> FloatArray:
    """Return the distances between rows of two shape columns; where they intersect, minus the smaller side of the intersection.

    The overlap depth is exact for axis-aligned boxes and near-exact for the circles drawn;
    one GEOS call per operation for all rows.
    """
    out, inter, apart = _distances_apart(a, b)
    meet = ~apart
    if meet.any():
        bounds = shapely.bounds(inter[meet])
        out[meet] = -np.minimum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    return out


def exclusion_gaps(a: NDArray[np.object_], b: NDArray[np.object_]) -> FloatArray:
    """Return the distances from bodies to exclusion zones; for a body inside, minus how far it must move to leave.

    See `geometry.exit_distance`: not the body's own size, the move that clears the zone.
    """
    out, _, apart = _distances_apart(a, b)
    for k in np.flatnonzero(~apart).tolist():
        # to the micrometre: the move is a length found by a polygon intersection, its last digits are noise
        out[k] = -round(geo.exit_distance(a[k], b[k]), 6)
    return out


def gaps(b: Batch, i: IntArray, j: IntArray, plane: str, ref_a: str = "edge", ref_b: str = "edge") -> FloatArray:
    """Return geometry.gaps for pairs of the batch; the shortest gap of two round bodies skips the box formulas.

    Values are those of geometry.gaps: the same formula per row, computed only for the rows that use it.
    """
    if plane != "shortest" or ref_a != "edge" or ref_b != "edge":
        return geo.gaps(b.frame, i, j, plane, ref_a, ref_b)
    both = b.frame.round[i] & b.frame.round[j]
    if not both.all():
        out = np.empty(len(i))
        out[~both] = geo.gaps(b.frame, i[~both], j[~both], plane)
        k = np.flatnonzero(both)
        i, j = i[k], j[k]
    x, z, hw = b.x, b.frame.z, b.half_width
    values = np.hypot(np.abs(x[i] - x[j]), np.abs(z[i] - z[j])) - hw[i] - hw[j]
    if len(values) == len(both):
        return np.asarray(values, dtype=float)
    out[k] = values
    return out


# --- selectors ---------------------------------------------------------------------------

ColumnMask = Callable[[Batch], BoolArray]


def column_selector(sel: ast.Selector, packs: PackSet) -> ColumnMask:
    """Return a selector as a function of the batch's columns (attribute tests asked per object only if needed).

    Names resolve as in `checker.engine.select.compile_selector`, which is always compiled first,
    so unknown names are reported there.
    """
    if isinstance(sel, ast.SelAny):
        return lambda b: np.ones(b.n, dtype=bool)
    if isinstance(sel, ast.SelName):
        name = sel.name
        if name in THEMAS:
            return lambda b: b.networks((name,))
        if name in packs.groups:
            allowed = tuple(sorted(members(packs, name)))
            return lambda b: b.networks(allowed)
        if name in KINDS:
            return lambda b: b.kinds(name).copy()
        if name == "line":
            return lambda b: b.kinds(*LINE_KINDS).copy()
        if name == "racked":
            rack = KINDS.index("rack")
            return lambda b: np.asarray((b.held >= 0) & (b.kind[np.maximum(b.held, 0)] == rack))
        pred = compile_selector(sel, packs)
        return lambda b: np.fromiter((pred(b.section(int(b.sec[g])), b.obj(g)) for g in range(b.n)), dtype=bool, count=b.n)
    if isinstance(sel, ast.SelUnion):
        parts = [column_selector(p, packs) for p in sel.parts]

        def union(b: Batch) -> BoolArray:
            out = parts[0](b)
            for part in parts[1:]:
                out = out | part(b)
            return out

        return union
    if isinstance(sel, ast.SelAnd):
        every = [column_selector(p, packs) for p in sel.parts]

        def intersection(b: Batch) -> BoolArray:
            out = every[0](b)
            for part in every[1:]:
                out = out & part(b)
            return out

        return intersection
    if isinstance(sel, ast.SelNot):
        inner = column_selector(sel.part, packs)
        return lambda b: ~inner(b)
    assert isinstance(sel, ast.SelWhere)
    base = column_selector(sel.base, packs)
    tests = [_column_test(t, packs) for t in sel.tests]

    def narrowed(b: Batch) -> BoolArray:
        out = base(b)
        for test in tests:
            out = test(b, out)
        return out

    return narrowed


def _column_test(test: ast.AttrTest, packs: PackSet) -> Callable[[Batch, BoolArray], BoolArray]:
    """Return a function narrowing a mask by one attribute test."""
    if isinstance(test.value, str) and test.name in COLUMN_ATTRIBUTES:
        name, text, equal = test.name, test.value, test.op == "="

        def textual(b: Batch, out: BoolArray) -> BoolArray:
            return np.asarray(out & (b.equals(name, text) == equal))

        return textual
    pred: Predicate = compile_selector(ast.SelWhere(ast.SelAny(test.span), (test,), test.span), packs)
    if isinstance(test.value, ast.Quantity) and test.name in SIZE_COLUMNS:
        column, op, limit = SIZE_COLUMNS[test.name], test.op, test.value.value

        def size(b: Batch, out: BoolArray) -> BoolArray:
            # an object without the size (NaN) fails every comparison, as None does in `select`
            values = getattr(b.table, column)
            with np.errstate(invalid="ignore"):
                return np.asarray(out & compare_many(values, op, limit) & ~np.isnan(values))

        return size
    if test.name not in OBJECT_FIELDS:
        # a case attribute: only objects that carry attributes can have it; for the others it is absent
        absent = isinstance(test.value, str) and test.op != "="

        def attribute(b: Batch, out: BoolArray) -> BoolArray:
            carried = b.table.attributes
            got = out & absent
            for g in np.flatnonzero(out).tolist():
                if g in carried:
                    got[g] = pred(_OBJECT_ONLY, b.obj(g))
            return np.asarray(got)

        return attribute

    def each(b: Batch, out: BoolArray) -> BoolArray:
        # other tests stay per object, but only for the objects still selected
        out = out.copy()
        for g in np.flatnonzero(out):
            out[g] = pred(b.section(int(b.sec[g])), b.obj(g))
        return out

    return each


# --- relations ---------------------------------------------------------------------------


class RelationCompiler:
    """Turn relations into batch evaluation functions; selectors are compiled once and cached per batch."""

    def __init__(self, packs: PackSet) -> None:
        self.packs = packs
        self.count = 0

    def sel(self, selector: ast.Selector) -> Callable[[Batch], BoolArray]:
        """Return the cached batch mask of a selector."""
        selector = in_service(selector)
        compile_selector(selector, self.packs)  # reports unknown names
        key = self.count
        self.count += 1
        column = column_selector(selector, self.packs)
        return lambda b: b.select(key, column)

    def compile(self, rel: ast.Relation) -> Run:
        """Return the batch evaluator of a relation."""
        check_relation(rel)
        method = getattr(self, "c_" + type(rel).__name__.lower())
        result: Run = method(rel)
        return result

    def c_cover(self, rel: ast.Cover) -> Run:
        sel = self.sel(rel.selector)
        limit = rel.limit.value

        def run(b: Batch, act: BoolArray, everything: bool) -> BatchOutcome:
            idx = np.flatnonzero(sel(b) & act & ~b.is_tree)
            limits, (idx,) = b.thresholds(rel.limit, idx)
            measured = b.top[idx]
            return BatchOutcome((idx,), measured, compare_many(measured, rel.op, limit if limits is None else limits),
                                limit, rel.op, limits=limits)

        return run

    def c_clearance(self, rel: ast.Clearance) -> Run:
        if _reference(rel.a.selector) or _reference(rel.b.selector):
            return self._to_reference_line(rel, rel.plane, rel.a, rel.b, rel.op, rel.limit)
        sa, sb = self.sel(rel.a.selector), self.sel(rel.b.selector)
        limit = rel.limit.value

        # with one alternative only failing rows matter, and a gap at least the horizontal one fails only near
        # (a threshold from the objects' dimensions has no one reach to prune by)
        prunable = rel.plane != "vertical" and rel.op in (">=", ">") and not rel.limit.terms

        def run(b: Batch, act: BoolArray, everything: bool) -> BatchOutcome:
            line_like = act & ~b.is_crossing
            if prunable and not everything:
                ext_a = b.half_width if rel.a.ref == "edge" else np.zeros(b.n)
                ext_b = b.half_width if rel.b.ref == "edge" else np.zeros(b.n)
                i, j = b.near(sa(b) & line_like, sb(b) & line_like, ext_a, ext_b, limit + TOLERANCE)
            else:
                i, j = b.pairs(sa(b) & line_like, sb(b) & line_like)
            keep = geo.rack_scope(b.rack_of, i, j, rel.racks)
            i, j = i[keep], j[keep]
            keep = b.paired(i, j, rel.pairing)
            i, j = i[keep], j[keep]
            limits, (i, j) = b.thresholds(rel.limit, i, j)
            measured = gaps(b, i, j, rel.plane, rel.a.ref, rel.b.ref)
            return BatchOutcome((i, j), measured, compare_many(measured, rel.op, limit if limits is None else limits),
                                limit, rel.op, limits=limits)

        return run

    def _to_reference_line(self, rel: ast.Relation, plane: str, a: ast.Side, b_side: ast.Side, op: str,
                           q: ast.Quantity) -> Run:
        """Return the evaluator of a clearance (or `beside`) measured to the facade or the far edge: one row per object."""
        line, other = (a, b_side) if _reference(a.selector) else (b_side, a)
        if _reference(other.selector) or plane == "vertical":
            raise LiggingError(Diagnostic(rel.span, "a reference line (facade, far-edge) is measured to horizontally, "
                                                    "from an object: write `clearance horizontal between facade and line`"))
        name = line.selector.name  # type: ignore[union-attr]
        sel = self.sel(other.selector)
        limit = q.value

        def run(b: Batch, act: BoolArray, everything: bool) -> BatchOutcome:
            idx = np.flatnonzero(sel(b) & act & ~b.is_crossing)
            limits, (idx,) = b.thresholds(q, idx)
            hw = b.half_width[idx] if other.ref == "edge" else np.zeros(len(idx))
            if name == "facade":
                measured = b.x[idx] - hw
            else:
                measured = b.width[b.sec[idx]] - (b.x[idx] + hw)
            return BatchOutcome((idx,), measured, compare_many(measured, op, limit if limits is None else limits),
                                limit, op, limits=limits)

        return run

    def c_position(self, rel: ast.Position) -> Run:
        if rel.direction == "beside" and (_reference(rel.a.selector) or _reference(rel.b.selector)):
            return self._to_reference_line(rel, "horizontal", rel.a, rel.b, rel.op, rel.limit)
        if _reference(rel.a.selector) or _reference(rel.b.selector):
            raise LiggingError(Diagnostic(rel.span, "nothing lies above or below a reference line; use `beside`"))
        sa, sb = self.sel(rel.a.selector), self.sel(rel.b.selector)
        limit = rel.limit.value
        beside = rel.direction == "beside"

        def run(b: Batch, act: BoolArray, everything: bool) -> BatchOutcome:
            usable = act & ~b.is_crossing if beside else act
            i, j = b.pairs(sa(b) & usable, sb(b) & usable, dedup=False)
            keep = geo.rack_scope(b.rack_of, i, j, rel.racks) & ~(b.is_crossing[i] & b.is_crossing[j])
            i, j = i[keep], j[keep]
            if beside:
                measured = gaps(b, i, j, "horizontal", rel.a.ref, rel.b.ref)
            else:
                i, j, measured = signed_vertical(b, i, j, rel.direction, rel.a.ref, rel.b.ref)
            limits, (i, j, measured) = b.thresholds(rel.limit, i, j, measured)
            return BatchOutcome((i, j), measured, compare_many(measured, rel.op, limit if limits is None else limits),
                                limit, rel.op, limits=limits)

        return run

    def c_crossingclearance(self, rel: ast.CrossingClearance) -> Run:
        sa, sb = self.sel(rel.a.selector), self.sel(rel.b.selector)
        limit = rel.limit.value

        def run(b: Batch, act: BoolArray, everything: bool) -> BatchOutcome:
            crossings = sa(b) & act & b.is_crossing
            others = sb(b) & act & ~b.kinds("crossing", "tree", "reservation")
            c, o = b.pairs(crossings, others, dedup=False)
            start, end = b.start0[c], b.end0[c]
            left, right = b.left[o], b.right[o]
            meets = ~((right < start) | (left > end)) & (b.rack_of[o] != c)
            # a house connection leaving its main's tier passes the rack's staggered lines by design
            meets &= (b.main[c] != o) & ~((b.rack_of[c] >= 0) & (b.rack_of[c] == b.rack_of[o]))
            c, o, start, end, left, right = c[meets], o[meets], start[meets], end[meets], left[meets], right[meets]
            rnd = b.obj_round[o]
            c0, c1 = b.cover[c], b.cover_end[c]
            diameter = b.diameter0[c]
            o_top, o_bottom = b.cover[o], b.cover[o] + b.body_height[o]
            best = None
            for pos in (np.where(rnd, b.x[o], np.maximum(left, start)), np.where(rnd, b.x[o], np.minimum(right, end))):
                with np.errstate(divide="ignore", invalid="ignore"):
                    t = np.where(end == start, 0.0, (pos - start) / np.where(end == start, 1.0, end - start))
                top = c0 + (c1 - c0) * np.minimum(np.maximum(t, 0.0), 1.0)
                bottom = top + diameter
                gap = np.maximum(o_top - bottom, top - o_bottom)
                best = gap if best is None else np.minimum(best, gap)
            measured = np.asarray(best, dtype=float)
            limits, (c, o, measured) = b.thresholds(rel.limit, c, o, measured)
            return BatchOutcome((c, o), measured, compare_many(measured, rel.op, limit if limits is None else limits),
                                limit, rel.op, limits=limits)

        return run

    def c_order(self, rel: ast.Order) -> Run:
        sels = [self.sel(s) for s in rel.sequence]
        ltr = rel.direction == "left-to-right"

        def run(b: Batch, act: BoolArray, everything: bool) -> BatchOutcome:
            eligible = act & ~b.kinds("crossing", "tree", "reservation")
            if ltr:
                eligible &= (b.rack_of < 0) & ~b.kinds("rack")
            masks = [s(b) & eligible for s in sels]
            if not everything:
                return failing(b, masks)
            cols_i: list[IntArray] = []
            cols_j: list[IntArray] = []
            # the pairs of each two levels (a before c), formed only where both levels hold objects
            for first in range(len(masks)):
                for later in range(first + 1, len(masks)):
                    i, j = b.pairs(masks[first] & ~masks[later], masks[later] & ~masks[first], dedup=False)
                    cols_i.append(i)
                    cols_j.append(j)
            i = np.concatenate(cols_i) if cols_i else EMPTY
            j = np.concatenate(cols_j) if cols_j else EMPTY
            keep = geo.rack_scope(b.rack_of, i, j, rel.racks)
            i, j = i[keep], j[keep]
            f = b.frame
            i, j, ok = geo.in_order(i, j, ltr, rel.ref == "axis", b.zone_columns, f.x, f.z, b.left, b.right, b.bottom,
                                    b.top, TOLERANCE)
            return BatchOutcome((i, j), None, ok, None, "order", "")

        def failing(b: Batch, masks: list[BoolArray]) -> BatchOutcome:
            # with one alternative only pairs out of order matter: each level's candidates found by sorting
            f = b.frame
            axis = rel.ref == "axis"
            if ltr:
                zone, mirrored = b.zone_columns()
                group = b.sec * (b.zone_start.shape[1] + 1) + zone + 1
                near_edge, far_edge = (f.x, f.x) if axis else (b.right, b.left)
                ahead = np.where(mirrored, -(f.x if axis else b.left), near_edge)
                behind = np.where(mirrored, -(f.x if axis else b.right), far_edge)
            else:
                group = b.sec
                ahead, behind = (f.z, f.z) if axis else (b.bottom, b.top)
            if rel.inside_rack:
                # pairs within one rack only: grouped by rack, loose objects never paired
                group = b.rack_of
                masks = [m & (b.rack_of >= 0) for m in masks]
            cols_i: list[IntArray] = []
            cols_j: list[IntArray] = []
            for first in range(len(masks)):
                for later in range(first + 1, len(masks)):
                    i, j = b.below(masks[first] & ~masks[later], masks[later] & ~masks[first], group,
                                   ahead - TOLERANCE, behind)
                    cols_i.append(i)
                    cols_j.append(j)
            i = np.concatenate(cols_i) if cols_i else EMPTY
            j = np.concatenate(cols_j) if cols_j else EMPTY
            keep = geo.rack_scope(b.rack_of, i, j, rel.racks)
            i, j, ok = geo.in_order(i[keep], j[keep], ltr, axis, b.zone_columns, f.x, f.z, b.left, b.right, b.bottom,
                                    b.top, TOLERANCE)
            return BatchOutcome((i[~ok], j[~ok]), None, ok[~ok], None, "order", "")

        return run

    def c_zonerule(self, rel: ast.ZoneRule) -> Run:
        sel = self.sel(rel.selector)
        kinds = np.array(sorted(set(rel.kinds)), dtype=object)

        def run(b: Batch, act: BoolArray, everything: bool) -> BatchOutcome:
            idx = np.flatnonzero(sel(b) & act & ~b.kinds("crossing", "tree"))
            s = b.sec[idx]
            inside = b.membership(rel.membership, idx)
            listed = np.isin(b.zone_kind, kinds) & b.zone_real
            if rel.mode == "within":
                # a surface not known (onbekend) is not judged
                listed = listed | (b.zone_kind == UNKNOWN_ZONE)
                ok = ~np.any(inside & ~listed[s], axis=1) & np.any(inside, axis=1)
            else:
                ok = ~np.any(inside & listed[s], axis=1)
            return BatchOutcome((idx,), None, np.asarray(ok), None, rel.mode, "")

        return run

    def c_exclusion(self, rel: ast.Exclusion) -> Run:
        sel, target = self.sel(rel.selector), self.sel(rel.target)
        margin = rel.limit.value if rel.limit is not None else 0.0
        roots = rel.part == "root-zone"

        def run(b: Batch, act: BoolArray, everything: bool) -> BatchOutcome:
            targets = target(b) & act
            if roots:
                targets &= b.is_tree & ~np.isnan(b.table.root_radius) & ~np.isnan(b.table.root_depth)
            t, s = b.pairs(targets, sel(b) & act & ~b.is_tree, dedup=False)
            keep = (b.rack_of[s] != t) & (b.rack_of[t] != s)
            reserved = b.kind[t] == KINDS.index("reservation")
            keep &= ~(reserved & (b.network_code[s] >= 0) & (b.network_code[s] == b.network_code[t]))
            # an object dug out by the reservation's claim year is not in its way
            keep &= ~(reserved & (b.removed[s] <= b.claim[t]))
            t, s = t[keep], s[keep]
            limits, (s, t) = b.thresholds(rel.limit, s, t) if rel.limit is not None else (None, (s, t))
            edge: FloatArray | float = margin if limits is None else limits
            zb = self._zone_boxes(b, t, roots)
            sb = b.boxes(s)
            measured = box_gaps(sb, zb)
            near = np.flatnonzero(measured <= edge + TOLERANCE)
            # discs, boxes (round and rectangular bodies, root zones) and crossing bands in closed form;
            # two crossings, and trunks, by shape
            sn, tn = s[near], t[near]
            band_s, band_t = b.is_crossing[sn], b.is_crossing[tn] & (not roots)
            closed = ~(band_s & band_t) & (roots | ~b.is_tree[tn])
            if closed.any():
                k = near[closed]
                sg, tg = s[k], t[k]
                if roots:
                    r, depth = b.table.root_radius[tg], b.table.root_depth[tg]
                    zones = geo.boxes(b.x[tg] - r, np.zeros(len(tg)), b.x[tg] + r, depth)
                else:
                    zones = b.regions(tg)
                plain, by_s, by_t = ~band_s[closed] & ~band_t[closed], band_s[closed], band_t[closed]
                if plain.any():
                    kp, body, zone = k[plain], b.regions(sg[plain]), zones[plain]
                    measured[kp] = geo.region_gaps(body, zone)
                    inside = measured[kp] < 0
                    if inside.any():
                        # inside the zone: minus how far the body must move to leave it (as `exclusion_gaps`)
                        measured[kp[inside]] = 0.0 - np.round(geo.region_exits(body[inside], zone[inside]), 6)
                if by_s.any():
                    measured[k[by_s]] = geo.band_gaps(b.bands(sg[by_s]), zones[by_s])
                if by_t.any():
                    measured[k[by_t]] = geo.band_gaps(b.bands(tg[by_t]), b.regions(sg[by_t]))
            shaped = near[~closed]
            if closed.any():
                # a crossing band inside a zone, or a body inside a band: the move out by shape
                banded = k[~plain & (measured[k] < 0)]
                shaped = np.concatenate((shaped, banded))
            if len(shaped):
                tg = t[shaped]
                if roots:
                    r, depth = b.table.root_radius[tg], b.table.root_depth[tg]
                    shapes = shapely.box(b.x[tg] - r, 0.0, b.x[tg] + r, depth)
                else:
                    shapes = b.shapes(tg)
                measured[shaped] = exclusion_gaps(b.shapes(s[shaped]), shapes)
            if limits is None:
                ok = measured >= margin - TOLERANCE if margin > 0 else measured >= -TOLERANCE
            else:
                ok = np.where(limits > 0, measured >= limits - TOLERANCE, measured >= -TOLERANCE)
            return BatchOutcome((s, t), measured, np.asarray(ok), margin, ">=", limits=limits)

        return run

    @staticmethod
    def _zone_boxes(b: Batch, t: IntArray, roots: bool) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """Return the bounds of each row's exclusion zone (root zone or body) as shapely would."""
        if roots:
            r, depth = b.table.root_radius[t], b.table.root_depth[t]
            x = b.x[t]
            lo, hi = x - r, x + r
            return np.minimum(lo, hi), np.minimum(0.0, depth), np.maximum(lo, hi), np.maximum(0.0, depth)
        hw = b.half_width[t]
        x, cover = b.x[t], b.cover[t]
        lo, hi = x - hw, x + hw
        bottom = cover + b.body_height[t]
        out = (np.minimum(lo, hi), np.minimum(cover, bottom), np.maximum(lo, hi), np.maximum(cover, bottom))
        for k in np.flatnonzero(b.obj_round[t] | b.is_crossing[t] | b.is_tree[t]):
            out[0][k], out[1][k], out[2][k], out[3][k] = b.shape(int(t[k])).bounds
        return out

    def c_access(self, rel: ast.Access) -> Run:
        sel = self.sel(rel.selector)
        required = rel.width.value

        def run(b: Batch, act: BoolArray, everything: bool) -> BatchOutcome:
            idx = np.flatnonzero(sel(b) & act & ~b.kinds("crossing", "tree", "reservation"))
            limits, (idx,) = b.thresholds(rel.width, idx)
            depths: FloatArray | None = None
            if rel.depth is not None:
                depths, (idx,) = b.thresholds(rel.depth, idx)
                if limits is not None:
                    limits, _ = b.thresholds(rel.width, idx)
            width: FloatArray | float = required if limits is None else limits
            chosen = np.zeros(b.n, dtype=bool)
            chosen[idx] = True
            margin = rel.margin.value if rel.margin is not None else 0.0
            # an object further than the width asked for (and the margin kept from it) cannot narrow the free strip
            reach = float(np.max(width, initial=0.0)) if limits is not None else required
            i, j = b.near(chosen, act, b.half_width, b.half_width, reach + margin + TOLERANCE, dedup=False)
            row = np.searchsorted(idx, i)
            if rel.depth is None:
                depth = b.bottom[idx]
            else:
                depth = np.full(len(idx), rel.depth.value) if depths is None else depths
            valid = ~((b.rack_of[j] == i) | b.kinds("crossing", "reservation")[j]) & ~(b.top[j] >= depth[row])
            sides = []
            for side in (-1, +1):
                edge = b.left[idx] if side < 0 else b.right[idx]
                room = edge if side < 0 else b.width[b.sec[idx]] - edge
                free = np.minimum(np.maximum(room, 0.0), width)
                e = edge[row]
                if side < 0:
                    distance, beyond = e - b.right[j], e - b.left[j]
                else:
                    distance, beyond = b.left[j] - e, b.right[j] - e
                hit = valid & (beyond > 0)
                np.minimum.at(free, row[hit], np.maximum(distance[hit] - margin, 0.0))
                sides.append(free)
            left, right = sides
            if rel.sides == "street":
                # the side away from the nearer facade
                street = b.x[idx] <= 0.5 * b.width[b.sec[idx]]
                measured = np.where(street, right, left)
                return BatchOutcome((idx,), measured, compare_many(measured, ">=", width), required, ">=", limits=limits)
            if rel.sides == "declared":
                both = b.table.sides[idx] == SIDES.index("double")
            else:
                both = np.full(len(idx), rel.sides == "both")
            measured = np.where(both, np.minimum(left, right), np.maximum(left, right))
            return BatchOutcome((idx,), measured, compare_many(measured, ">=", width), required, ">=", limits=limits)

        return run

    def c_capacity(self, rel: ast.Capacity) -> Run:
        if rel.place != "zones":
            return self._capacity_anywhere(rel)
        sel = self.sel(rel.selector)
        limit = rel.limit.value
        kinds = np.array(sorted(set(rel.kinds)), dtype=object)

        def run(b: Batch, act: BoolArray, everything: bool) -> BatchOutcome:
            chosen = np.flatnonzero(sel(b) & act & ~b.kinds("crossing", "tree", "reservation"))
            listed = np.isin(b.zone_kind, kinds) & b.zone_real
            s = b.sec[chosen]
            inside = b.membership(rel.membership, chosen) & listed[s]
            rows_k, zone = np.nonzero(inside)
            width = b.zone_start.shape[1]
            cell = b.sec[chosen[rows_k]] * width + zone
            counts = np.bincount(cell, minlength=b.count * width)
            cells = np.flatnonzero(counts)
            section = cells // width
            if rel.measure == "count":
                measured = counts[cells].astype(float)
            else:
                measured = np.empty(len(cells))
            members_of = chosen[rows_k]
            order = np.argsort(cell, kind="stable")
            sorted_cells = cell[order]
            lo, hi = np.searchsorted(sorted_cells, cells), np.searchsorted(sorted_cells, cells, side="right")

            def group(k: int) -> IntArray:
                return np.asarray(members_of[order[lo[k]:hi[k]]])

            if rel.measure != "count":
                for k in range(len(cells)):
                    z = int(cells[k] % width)
                    zs, ze = b.zone_start[section[k], z], b.zone_end[section[k], z]
                    measured[k] = geo.occupied_width([(max(b.left[g], zs), min(b.right[g], ze)) for g in group(k)])
            ok = compare_many(measured, "<=", limit)
            # the members of a group are named only where a finding may need them
            groups = [group(k) if everything or not ok[k] else EMPTY for k in range(len(cells))]
            return BatchOutcome((EMPTY,), measured, ok, limit, "<=", "m" if rel.measure == "width" else "count",
                                groups=groups, section=section)

        return run

    def _capacity_anywhere(self, rel: ast.Capacity) -> Run:
        """Return the evaluator of `capacity in any W strip` / `in any stack`: every largest group a place holds."""
        sel = self.sel(rel.selector)
        limit = rel.limit.value
        w = rel.window.value if rel.window is not None else 0.0

        def run(b: Batch, act: BoolArray, everything: bool) -> BatchOutcome:
            chosen = np.flatnonzero(sel(b) & act & ~b.kinds("crossing", "tree", "reservation"))
            per = np.bincount(b.sec[chosen], minlength=b.count)
            # a section with no more objects than the limit cannot fail; its groups matter only next to alternatives
            wanted = np.flatnonzero(per > (0 if everything else limit))
            found: list[IntArray] = []
            section: list[int] = []
            for s in wanted.tolist():
                idx = chosen[b.sec[chosen] == s]
                for group in place_groups(rel.place, rel.membership, b.left[idx], b.right[idx], b.x[idx], w):
                    found.append(idx[group])
                    section.append(s)
            measured = np.array([float(len(g)) for g in found], dtype=float)
            ok = compare_many(measured, "<=", limit)
            groups = [g if everything or not ok[k] else EMPTY for k, g in enumerate(found)]
            return BatchOutcome((EMPTY,), measured, ok, limit, "<=", "count", groups=groups,
                                section=np.array(section, dtype=np.intp))

        return run

    def c_crosspermission(self, rel: ast.CrossPermission) -> Run:
        allowed, target = self.sel(rel.allowed), self.sel(rel.target)

        def run(b: Batch, act: BoolArray, everything: bool) -> BatchOutcome:
            i, j = b.pairs(b.is_crossing & act, target(b) & act & ~b.is_crossing)
            # a house connection leaves its own rack; it does not cross it
            meets = (b.left[i] < b.right[j] - TOLERANCE) & (b.right[i] > b.left[j] + TOLERANCE) & (b.rack_of[i] != j)
            i, j = i[meets], j[meets]
            return BatchOutcome((i, j), None, np.asarray(allowed(b)[i]), None, "may cross", "")

        return run

    def c_keep(self, rel: ast.Keep) -> Run:
        def run(b: Batch, act: BoolArray, everything: bool) -> BatchOutcome:
            # a drawn depth is judged against the drawing by the solver, never by a check
            none = np.empty(0, dtype=np.intp)
            return BatchOutcome((none,), None, np.ones(0, dtype=bool), None, "keep", "")

        return run

    def c_bounds(self, rel: ast.Bounds) -> Run:
        sel = self.sel(rel.selector)

        def run(b: Batch, act: BoolArray, everything: bool) -> BatchOutcome:
            idx = np.flatnonzero(sel(b) & act)
            if rel.what == "profile":
                measured = np.minimum(b.left[idx], b.width[b.sec[idx]] - b.right[idx])
                return BatchOutcome((idx,), measured, compare_many(measured, ">=", 0.0), 0.0, ">=")
            assert rel.limit is not None
            idx = idx[~b.is_tree[idx]]
            limits, (idx,) = b.thresholds(rel.limit, idx)
            measured = b.bottom[idx]
            limit = rel.limit.value
            return BatchOutcome((idx,), measured, compare_many(measured, "<=", limit if limits is None else limits),
                                limit, "<=", limits=limits)

        return run


def place_groups(place: str, mode: str, left: FloatArray, right: FloatArray, x: FloatArray, w: float) -> list[IntArray]:
    """Return the largest groups of one section's objects that one strip of width w (or one stack) holds.

    Membership changes only at the positions `zoning.place_starts` gives, so the groups at those
    positions and between them are all the groups there are; a group contained in another is
    not reported.
    """
    starts = [p for k in range(len(x)) for p in place_starts(place, mode, float(left[k]), float(right[k]), float(x[k]), w)]
    if not starts:
        return []
    t = np.array(probes(starts))[None, :]
    if place == "stack":
        inside = in_stack(left[:, None], right[:, None], x[:, None], t)
    else:
        inside = in_zone(mode, left[:, None], right[:, None], x[:, None], t, t + w, True, np.inf)
    columns = {tuple(np.flatnonzero(inside[:, k]).tolist()) for k in range(inside.shape[1])}
    columns.discard(())
    largest = [c for c in columns if not any(set(c) < set(d) for d in columns)]
    return [np.array(c, dtype=np.intp) for c in sorted(largest)]


def signed_vertical(b: Batch, i: IntArray, j: IntArray, direction: str, ref_i: str, ref_j: str
                    ) -> tuple[IntArray, IntArray, FloatArray]:
    """Return the pairs judged and the signed vertical gap of `i above j` (or `i below j`).

    The gap runs from the upper object's underside down to the lower object's top (centres
    for an `axis` reference). Where one of the two is a crossing it is measured where the
    crossing passes the other (the smaller gap over the other's extent) and the pair is
    dropped where it does not pass it.
    """
    upper, lower = (i, j) if direction == "above" else (j, i)
    ref_up, ref_low = (ref_i, ref_j) if direction == "above" else (ref_j, ref_i)
    z = b.frame.z
    gap = (z[lower] if ref_low == "axis" else b.top[lower]) - (z[upper] if ref_up == "axis" else b.bottom[upper])
    crossing = b.is_crossing[upper] | b.is_crossing[lower]
    keep = np.ones(len(i), dtype=bool)
    k = np.flatnonzero(crossing)
    if len(k):
        up_is_c = b.is_crossing[upper[k]]
        c = np.where(up_is_c, upper[k], lower[k])
        o = np.where(up_is_c, lower[k], upper[k])
        ref_c = np.where(up_is_c, ref_up == "axis", ref_low == "axis")
        ref_o = np.where(up_is_c, ref_low == "axis", ref_up == "axis")
        start, end = b.start0[c], b.end0[c]
        left, right = b.left[o], b.right[o]
        keep[k] = ~((right < start) | (left > end))
        rnd = b.obj_round[o]
        c0, c1 = b.cover[c], b.cover_end[c]
        diameter = b.diameter0[c]
        o_top, o_bottom = b.cover[o], b.cover[o] + b.body_height[o]
        o_mid = b.cover[o] + 0.5 * b.body_height[o]
        best = None
        for pos in (np.where(rnd, b.x[o], np.maximum(left, start)), np.where(rnd, b.x[o], np.minimum(right, end))):
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(end == start, 0.0, (pos - start) / np.where(end == start, 1.0, end - start))
            top = c0 + (c1 - c0) * np.minimum(np.maximum(t, 0.0), 1.0)
            bottom = top + diameter
            mid = top + 0.5 * diameter
            # crossing above the other: other's top minus crossing's underside; below: crossing's top minus other's underside
            c_face = np.where(up_is_c, np.where(ref_c, mid, bottom), np.where(ref_c, mid, top))
            o_face = np.where(up_is_c, np.where(ref_o, o_mid, o_top), np.where(ref_o, o_mid, o_bottom))
            value = np.where(up_is_c, o_face - c_face, c_face - o_face)
            best = value if best is None else np.minimum(best, value)
        gap[k] = np.asarray(best, dtype=float)
    return i[keep], j[keep], np.asarray(gap[keep], dtype=float)


def _reference(sel: ast.Selector) -> bool:
    """Tell whether a side is a reference line of the profile (`facade`, `far-edge`)."""
    return isinstance(sel, ast.SelName) and sel.name in ast.REFERENCE_LINES


def overlaps(b: Batch) -> tuple[IntArray, IntArray, FloatArray]:
    """Return the pairs of physical bodies that intersect (gap < -1 mm) in all sections, and their gaps."""
    # soil bodies (a wadi, a tree's rooting volume) hold lines physically; rules keep lines out of them
    physical = ~b.kinds("tree", "reservation", "wadi", "tree-soil")
    # bodies apart horizontally cannot overlap
    i, j = b.near(physical, physical, b.half_width, b.half_width, 0.0)
    own = (b.rack_of[i] == j) | (b.rack_of[j] == i) | (b.main[i] == j) | (b.main[j] == i)
    i, j = i[~own], j[~own]
    plain = ~(b.is_crossing[i] | b.is_crossing[j])
    gap = np.zeros(len(i))
    gap[plain] = gaps(b, i[plain], j[plain], "shortest")
    k = np.flatnonzero(~plain)
    if len(k):
        ci, cj = i[k], j[k]
        boxed = box_gaps(b.boxes(ci), b.boxes(cj)) < 0
        k, ci, cj = k[boxed], ci[boxed], cj[boxed]
        # a crossing's band against a disc or a box in closed form; two crossings by shape
        one = b.is_crossing[ci] != b.is_crossing[cj]
        band = np.where(b.is_crossing[ci], ci, cj)[one]
        other = np.where(b.is_crossing[ci], cj, ci)[one]
        gap[k[one]] = geo.band_gaps(b.bands(band), b.regions(other))
        two = k[~one]
        gap[two] = shape_gaps(b.shapes(i[two]), b.shapes(j[two]))
    bad = gap < -TOLERANCE
    return i[bad], j[bad], gap[bad]
