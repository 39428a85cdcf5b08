"""Findings on the map: `ligging check --format geojson` as one GeoJSON FeatureCollection in RD New.

Each checked section that knows where it lies (`place`, written by `ligging import` from a
KLIC delivery) gives a LineString feature of the section line, with its station and its
counts per severity, and one Point feature per finding, placed on the section line at
the finding's subjects (the mean of their x across the profile). Coordinates stay in RD
New (EPSG:28992): the collection carries the GeoJSON 2008 named `crs` member
(`urn:ogc:def:crs:EPSG::28992`), which GDAL's GeoJSON driver — and so QGIS — reads as
the layer's reference system; RFC 7946 dropped that member and allows WGS84 only, so a
strict RFC 7946 reader will not place these. QGIS opens the points and lines as two layers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from checker.model.findings import SEVERITIES, CaseResult, Finding, counts
from checker.model.section import Obj, Section
from dsl.diagnostics import Diagnostic, LiggingError, Span

CRS = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::28992"}}
DIGITS = 3  # millimetres in RD New


def _at(obj: Obj) -> float:
    """Return where an object lies across the profile (a crossing: the middle of its run)."""
    if obj.kind == "crossing" and obj.start is not None and obj.end is not None:
        return 0.5 * (obj.start + obj.end)
    return obj.x


def _point(section: Section, finding: Finding) -> list[float]:
    assert section.place is not None
    by_id = section.by_id()
    xs = [_at(by_id[s]) for s in finding.subjects if s in by_id]
    x = sum(xs) / len(xs) if xs else 0.5 * section.width
    x = min(max(x, 0.0), section.width)
    return [round(v, DIGITS) for v in section.place.at(x, section.width)]


def _worst(findings: Iterable[Finding]) -> str:
    """Return the most severe counting finding's severity, or 'none'."""
    ranks = [SEVERITIES.index(f.severity) for f in findings if counts(f)]
    return SEVERITIES[min(ranks)] if ranks else "none"


def findings_geojson(results: Iterable[CaseResult]) -> dict[str, Any]:
    """Return the findings of checked sections as a GeoJSON FeatureCollection in RD New.

    Raises `LiggingError` for a section without a place: it cannot be put on the map.
    """
    features: list[dict[str, Any]] = []
    for result in results:
        section = result.section
        if section.place is None:
            raise LiggingError(Diagnostic(Span(result.path, 1, 1),
                                          "this section has no place (RD coordinates), so GeoJSON cannot put it on the "
                                          "map; cut sections from a KLIC delivery with `ligging import`, or add "
                                          "`place: {from: [X, Y], to: [X, Y]}` (RD New) to the case"))
        place = section.place
        summary = result.summary()
        features.append({
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[round(v, DIGITS) for v in place.start],
                                                                [round(v, DIGITS) for v in place.end]]},
            "properties": {"layer": "section", "case": result.path, "name": section.name, "station": place.station,
                           "worst": _worst(result.findings), **summary,
                           "baseline": sum(1 for f in result.findings if f.baseline)},
        })
        for f in result.findings:
            out = f.as_json()
            properties = {"layer": "finding", "case": result.path, "station": place.station,
                          **{k: out[k] for k in ("rule", "pack", "severity", "kind", "measured", "required", "op", "unit",
                                                 "shortfall", "message", "source", "fingerprint", "baseline", "title")},
                          "subjects": ", ".join(f.subjects), "counts": counts(f)}
            if f.depth_basis:
                properties["depth_basis"] = ", ".join(f"{s}: {b}" for s, b in f.depth_basis)
            features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": _point(section, f)},
                             "properties": properties})
    return {"type": "FeatureCollection", "name": "ligging", "crs": CRS, "features": features}
