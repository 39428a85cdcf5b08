"""The plan view of a report: a KLIC delivery's lines on the map, with the checked section lines on top.

For the checked sections that know where they lie (`place`, written by `ligging import`),
`plan_svg` draws, in RD New seen from above, the delivery's cables, pipes and containers
around them in their PMKL colours (the packs' `thema ... colour`; projected lines dashed
4/16 and disused ones 40/12/8/12 as the PMKL guide draws them), and each section line
coloured by its worst finding — solid when a finding counts, dashed when the worst is in
the baseline (existing lines only, as in a section cut from a delivery) — each a link to
its drawing further down the report. The delivery is read again, only the area around the
sections, from the path the case records (relative to the case file).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from pathlib import Path

import shapely

from checker.io.imkl.cut import element_lines
from checker.io.imkl.reader import Area, read_delivery
from checker.model.findings import SEVERITIES, CaseResult, counts
from dsl.diagnostics import LiggingError
from dsl.packs import PackSet

WIDTH = 900.0  # px
MARGIN = 25.0  # metres of delivery drawn around the sections
FALLBACK = "#808080"
WORST_COLOURS = {"error": "#d32f2f", "warning": "#f57c00", "info": "#1976d2", "none": "#2e7d32"}
DASHES = {"projected": "4 16", "disused": "40 12 8 12"}  # PMKL 3.0 line styles, in px


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def worst(result: CaseResult) -> tuple[str, bool]:
    """Return a section's worst severity and whether it only comes from the baseline (or 'none')."""
    judged = [SEVERITIES.index(f.severity) for f in result.findings if counts(f)]
    if judged:
        return SEVERITIES[min(judged)], False
    base = [SEVERITIES.index(f.severity) for f in result.findings if f.baseline]
    return (SEVERITIES[min(base)], True) if base else ("none", False)


def delivery_of(result: CaseResult) -> Path | None:
    """Return the delivery a section was cut from, resolved against its case file, or None."""
    place = result.section.place
    if place is None or place.delivery is None:
        return None
    return (Path(result.section.path).parent / place.delivery).resolve()


def plan_svg(results: Sequence[tuple[int, CaseResult]], packs: PackSet) -> str:
    """Return the plan of the placed sections (numbered as in the report) over their deliveries, as inline SVG."""
    placed = [(i, r) for i, r in results if r.section.place is not None]
    if not placed:
        return ""
    ends = [p for _, r in placed for p in (r.section.place.start, r.section.place.end)]  # type: ignore[union-attr]
    minx, maxx = min(p[0] for p in ends) - MARGIN, max(p[0] for p in ends) + MARGIN
    miny, maxy = min(p[1] for p in ends) - MARGIN, max(p[1] for p in ends) + MARGIN
    scale = WIDTH / (maxx - minx)
    height = (maxy - miny) * scale

    def px(x: float, y: float) -> str:
        return f"{(x - minx) * scale:.1f},{(maxy - y) * scale:.1f}"

    parts: list[str] = []
    notes: list[str] = []
    themas: set[str] = set()
    area = Area(minx, miny, maxx, maxy)
    for path in sorted({p for _, r in placed if (p := delivery_of(r)) is not None}):
        try:
            delivery = read_delivery(path, area)
        except LiggingError as exc:
            notes.append(f"delivery not drawn: {exc.diagnostic.one_line()}")
            continue
        lines = element_lines(delivery)
        for e in sorted(delivery.elements, key=lambda e: (e.container, e.id)):
            geometry = lines.get(e.id)
            thema = delivery.thema(e)
            if geometry is None or thema is None:
                continue
            themas.add(thema)
            known = packs.themas.get(thema)
            colour = known.colour if known else FALLBACK
            dash = f' stroke-dasharray="{DASHES[e.status]}"' if e.status in DASHES else ""
            for part in shapely.get_parts(geometry):
                points = " ".join(px(x, y) for x, y in shapely.get_coordinates(part))
                parts.append(f'<polyline class="imkl-line" data-feature="{_e(e.id)}" data-thema="{_e(thema)}" '
                             f'data-status="{_e(e.status)}" points="{points}" fill="none" stroke="{colour}" '
                             f'stroke-width="{3.0 if e.container else 1.6}" stroke-opacity="0.85" pointer-events="none"'
                             f'{dash}/>')
    for i, r in placed:
        place = r.section.place
        assert place is not None
        level, baseline = worst(r)
        colour = WORST_COLOURS[level]
        dash = ' stroke-dasharray="6 3"' if baseline else ""
        (x1, y1), (x2, y2) = place.start, place.end
        label = f"{place.station:g} m" if place.station is not None else str(i)
        angle = math.degrees(math.atan2(-(y2 - y1), x2 - x1))
        parts.append(f'<a class="section-link" href="#case-{i}"><g class="section" data-case="{_e(r.path)}" '
                     f'data-worst="{level}" data-baseline="{str(baseline).lower()}" data-index="{i}">'
                     f'<title>{_e(r.section.name)}: worst {level}{" (baseline)" if baseline else ""}</title>'
                     f'<polyline class="hit" points="{px(x1, y1)} {px(x2, y2)}" stroke="#000000" stroke-opacity="0" '
                     f'stroke-width="14" fill="none" pointer-events="stroke"/>'
                     f'<polyline points="{px(x1, y1)} {px(x2, y2)}" stroke="{colour}" stroke-width="4" fill="none"'
                     f'{dash}/><circle cx="{px(x1, y1).split(",")[0]}" cy="{px(x1, y1).split(",")[1]}" r="3" '
                     f'fill="{colour}"/><text x="{px(x2, y2).split(",")[0]}" y="{px(x2, y2).split(",")[1]}" '
                     f'font-size="10" fill="{colour}" transform="rotate({angle:.1f} {px(x2, y2).replace(",", " ")})" '
                     f'dx="4" dy="3">{_e(label)}</text></g></a>')
    legend = _legend(themas, packs)
    bar = _scale_bar(scale, height)
    svg = (f'<svg class="plan" xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {WIDTH:.0f} {height:.0f}" data-minx="{minx:.3f}" data-maxy="{maxy:.3f}" '
           f'data-scale="{scale:.6f}"><rect width="100%" height="100%" fill="#fafafa" pointer-events="none"/>'
           f'{"".join(parts)}{bar}</svg>')
    said = "".join(f'<p class="meta">{_e(n)}</p>' for n in notes)
    return (f'<section id="plan"><h2>Plan</h2><p class="meta">RD New (EPSG:28992), north up; the delivery\'s lines in '
            f'their PMKL colours, each section line coloured by its worst finding (dashed: only baseline findings, '
            f'among existing lines) and linked to its drawing; the dot marks x = 0.</p>{said}'
            f'<div class="drawing">{svg}</div>{legend}</section>')


def _scale_bar(scale: float, height: float) -> str:
    """Return a scale bar of a round length in the plan's lower left corner."""
    metres = next(m for m in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000) if m * scale >= 60 or m == 2000)
    y = height - 12
    return (f'<g class="scale-bar"><line x1="10" y1="{y:.1f}" x2="{10 + metres * scale:.1f}" y2="{y:.1f}" '
            f'stroke="#212121" stroke-width="2"/><text x="10" y="{y - 4:.1f}" font-size="10">{metres} m</text></g>')


def _legend(themas: set[str], packs: PackSet) -> str:
    """Return the plan's legend: the themas drawn, the line styles, the worst-finding colours."""
    items = []
    for t in sorted(themas):
        known = packs.themas.get(t)
        colour = known.colour if known else FALLBACK
        items.append(f'<li><span class="swatch" style="background:{colour}"></span>{_e(t)}</li>')
    items += [f'<li><span class="swatch" style="background:{c}"></span>section: {_e(level)}</li>'
              for level, c in WORST_COLOURS.items()]
    items.append("<li>dashed 4/16: projected; 40/12/8/12: disused (PMKL)</li>")
    return f'<ul class="legend plan-legend">{"".join(items)}</ul>'
