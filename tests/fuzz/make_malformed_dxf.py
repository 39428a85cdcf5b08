"""Write the hostile DXF drawings of tests/malformed/ (run by hand: python -m tests.fuzz.make_malformed_dxf).

Each drawing is a small valid cross-section (one zone band with its kind, one water pipe
with its id) with exactly one thing wrong, as a broken CAD export or a hostile file would
have it. DXF R12 keeps the files small; the $INSUNITS drawings need R2000. The files are
committed: this script documents how they were made and remakes them after a change.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import ezdxf
from ezdxf.document import Drawing

CORPUS = Path(__file__).resolve().parent.parent / "malformed"


def base(version: str = "R12", xdata: list[tuple[int, str]] | None = None, title: dict[str, str] | None = None) -> Drawing:
    """Return a valid drawing: a trottoir zone band from 0 to 4 m and a 100 mm water pipe w-1."""
    doc = ezdxf.new(version)
    doc.appids.add("LIGGING")
    msp = doc.modelspace()
    corners = [(0.0, 0.0), (4.0, 0.0), (4.0, 0.25), (0.0, 0.25)]
    if version == "R12":
        msp.add_polyline2d(corners, close=True, dxfattribs={"layer": "ligging-zones"})
    else:
        msp.add_lwpolyline(corners, close=True, dxfattribs={"layer": "ligging-zones"})
    msp.add_text("trottoir", dxfattribs={"layer": "ligging-zones", "insert": (2.0, 0.1)})
    pipe = msp.add_circle((1.0, -1.0), 0.05, dxfattribs={"layer": "water"})
    msp.add_text("w-1", dxfattribs={"layer": "water", "insert": (1.0, -1.0)})
    if xdata is not None:
        pipe.set_xdata("LIGGING", xdata)
    if title is not None:
        block = doc.blocks.new(name="LIGGING_TITLE")
        for row, tag in enumerate(title):
            block.add_attdef(tag.upper(), (0.0, -0.2 * row), dxfattribs={"height": 0.08})
        msp.add_blockref("LIGGING_TITLE", (0.0, 1.0)).add_auto_attribs({k.upper(): v for k, v in title.items()})
    return doc


def with_insunits(code: int) -> Drawing:
    """Return the base drawing in R2000 with a $INSUNITS code."""
    doc = base("R2000")
    doc.header["$INSUNITS"] = code
    return doc


def with_circle(x: float, y: float, radius: float) -> Drawing:
    """Return the base drawing with a second pipe at (x, y)."""
    doc = base()
    doc.modelspace().add_circle((x, y), radius, dxfattribs={"layer": "water"})
    return doc


def duplicate_ids() -> Drawing:
    """Return the base drawing with a second pipe carrying the same id text."""
    doc = base()
    doc.modelspace().add_circle((2.0, -1.0), 0.05, dxfattribs={"layer": "water"})
    doc.modelspace().add_text("w-1", dxfattribs={"layer": "water", "insert": (2.0, -1.0)})
    return doc


def rack_holding_nothing() -> Drawing:
    """Return a rack rectangle whose XDATA says it holds an object that is not in the drawing."""
    doc = base()
    rack = doc.modelspace().add_polyline2d([(2.0, -0.5), (2.6, -0.5), (2.6, -1.4), (2.0, -1.4)], close=True,
                                           dxfattribs={"layer": "ligging-racks"})
    rack.set_xdata("LIGGING", [(1000, "id=r-1"), (1000, "kind=rack"), (1000, "holds=nothing")])
    return doc


def zero_width_id() -> Drawing:
    """Return a DXF R2010 drawing (UTF-8) whose pipe's id ends in a zero-width space."""
    doc = base("R2010")
    next(iter(doc.modelspace().query("CIRCLE"))).set_xdata("LIGGING", [(1000, "id=w-1\u200b")])
    return doc


def rack_circle() -> Drawing:
    """Return a circle that its XDATA calls a rack (a rack is a rectangle)."""
    return base(xdata=[(1000, "id=r-1"), (1000, "kind=rack")])


DRAWINGS: dict[str, Callable[[], Drawing]] = {
    "dxf-insunits-999": lambda: with_insunits(999),
    "dxf-insunits-microinches": lambda: with_insunits(8),
    "dxf-insunits-us-survey-feet": lambda: with_insunits(21),
    "dxf-insunits-lightyears": lambda: with_insunits(19),
    "dxf-xdata-attribute-not-json": lambda: base(xdata=[(1000, "id=w-1"), (1000, "attribute=notjson")]),
    "dxf-xdata-attribute-three-items": lambda: base(xdata=[(1000, "id=w-1"), (1000, "attribute=[1,2,3]")]),
    "dxf-xdata-attribute-string-ab": lambda: base(xdata=[(1000, "id=w-1"), (1000, 'attribute="ab"')]),
    "dxf-xdata-attribute-nested": lambda: base(xdata=[(1000, "id=w-1"), (1000, "attribute=" + "[" * 120 + "]" * 120)]),
    "dxf-xdata-attribute-nan": lambda: base(xdata=[(1000, "id=w-1"), (1000, 'attribute=["voltage", NaN]')]),
    "dxf-xdata-attribute-bool": lambda: base(xdata=[(1000, "id=w-1"), (1000, 'attribute=["voltage", true]')]),
    "dxf-xdata-attribute-huge-int": lambda: base(xdata=[(1000, "id=w-1"), (1000, 'attribute=["voltage", ' + "9" * 200 + "]")]),
    "dxf-xdata-attribute-huge-digits": lambda: base(xdata=[(1000, "id=w-1"), (1000, 'attribute=["n", ' + "9" * 240 + "]")]),
    "dxf-xdata-kind-rack-on-circle": rack_circle,
    "dxf-xdata-kind-unknown": lambda: base(xdata=[(1000, "id=w-1"), (1000, "kind=teapot")]),
    "dxf-xdata-network-unknown": lambda: base(xdata=[(1000, "id=w-1"), (1000, "network=lemonade")]),
    "dxf-xdata-id-escape-sequence": lambda: base(xdata=[(1000, "id=w\x1b]0;owned\x07")]),
    "dxf-xdata-id-zero-width": zero_width_id,
    "dxf-xdata-holds-unknown": rack_holding_nothing,
    "dxf-title-planned-2026-13-45": lambda: base(title={"planned": "2026-13-45"}),
    "dxf-title-planned-superscript": lambda: base(title={"planned": "\u00b2\u2070\u00b2\u2076"}),
    "dxf-title-scale-nan": lambda: base(title={"scale": "nan"}),
    "dxf-title-scale-inf": lambda: base(title={"scale": "inf"}),
    "dxf-title-scale-huge": lambda: base(title={"scale": "1e300"}),
    "dxf-title-scale-negative": lambda: base(title={"scale": "-1"}),
    "dxf-title-width-text": lambda: base(title={"width": "wide"}),
    "dxf-title-origin-text": lambda: base(title={"origin": "left,top"}),
    "dxf-title-name-control": lambda: base(title={"name": "Straat\x1b[2J"}),
    "dxf-circle-nan-centre": lambda: with_circle(math.nan, -1.0, 0.05),
    "dxf-circle-inf-radius": lambda: with_circle(2.0, -1.0, math.inf),
    "dxf-circle-huge-coordinate": lambda: with_circle(1e200, -1.0, 0.05),
    "dxf-duplicate-ids": duplicate_ids,
}


def main() -> None:
    """Write every drawing, plus a few that are not DXF at all."""
    for name, make in DRAWINGS.items():
        make().saveas(CORPUS / f"{name}.dxf")
    (CORPUS / "dxf-empty.dxf").write_bytes(b"")
    (CORPUS / "dxf-binary-garbage.dxf").write_bytes(bytes(range(256)) * 4)
    text = (CORPUS / "dxf-duplicate-ids.dxf").read_text(encoding="utf-8")
    (CORPUS / "dxf-truncated.dxf").write_text(text[: len(text) // 2], encoding="utf-8")
    (CORPUS / "support" / "drawing.dxf").write_text(_text(base()), encoding="utf-8")


def _text(doc: Drawing) -> str:
    """Return a drawing as DXF text."""
    from io import StringIO

    stream = StringIO()
    doc.write(stream)
    return stream.getvalue()


if __name__ == "__main__":
    main()
