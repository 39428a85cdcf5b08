"""Benchmark the KLIC reader and cut on a generated IMKL 2.0 delivery of a chosen size.

The delivery is a grid of streets (seeded): along each street a bundle of lines of
several themas and beheerders (one UtilityLink each, a polyline with a few vertices),
house connections branching off them to the facade, a Utiliteitsnet per thema and
beheerder (each with its standaardDieptelegging), wrapped in a zip as
`Levering_<n>_1.zip` with its `GI_gebiedsinformatielevering_*.xml`. Each measurement runs
in a fresh interpreter and reports wall time, CPU time and its peak RSS (VmHWM of the child).

    python -m bench.imkl_bench --mb 20            # generate, then measure read / cut / axis run
    python -m bench.imkl_bench --mb 20 --keep DIR # also keep the generated delivery
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

THEMAS = (("laagspanning", "Elektriciteitskabel", "electricity", 40),
          ("middenspanning", "Elektriciteitskabel", "electricity", 60),
          ("datatransport", "Telecommunicatiekabel", "telecommunications", 25), ("water", "Waterleiding", "water", 110),
          ("gasLageDruk", "OlieGasChemicalienPijpleiding", "oilGasChemicals", 110))
OWNERS = ("KL1001", "KL1002", "KL1003", "KL1004")
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml/3.2" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:imkl="http://www.geostandaarden.nl/imkl/wibon" xmlns:net="http://inspire.ec.europa.eu/schemas/net/4.0" '
        'xmlns:base="http://inspire.ec.europa.eu/schemas/base/3.3" '
        'xmlns:us-net-common="http://inspire.ec.europa.eu/schemas/us-net-common/4.0" '
        'xmlns:us-net-el="http://inspire.ec.europa.eu/schemas/us-net-el/4.0" gml:id="ID_bench" '
        'xsi:schemaLocation="http://www.geostandaarden.nl/imkl/wibon '
        'http://register.geostandaarden.nl/gmlapplicatieschema/imkl/2.0.0/imkl-wibon.xsd">\n')
X0, Y0 = 150000.0, 380000.0


def _member(body: str) -> str:
    return f"  <gml:featureMember>\n{body}  </gml:featureMember>\n"


def _ident(owner: str, local: str) -> str:
    return (f'      <net:inspireId><base:Identifier><base:localId>{owner}.{local}</base:localId>'
            f'<base:namespace>nl.imkl</base:namespace></base:Identifier></net:inspireId>\n')


def _net(owner: str, thema: str, kind: str, depth: float) -> str:
    return _member(
        f'    <imkl:Utiliteitsnet gml:id="nl.imkl-{owner}.net_{thema}">\n'
        f'      <us-net-common:utilityNetworkType xlink:href="http://inspire.ec.europa.eu/codelist/UtilityNetworkTypeValue/{kind}"/>\n'
        f'      <us-net-common:authorityRole xlink:href="http://inspire.ec.europa.eu/codelist/RelatedPartyRoleValue/operator"/>\n'
        f'      <imkl:identificatie><imkl:NEN3610ID><imkl:namespace>nl.imkl</imkl:namespace><imkl:lokaalID>{owner}.net_{thema}'
        f'</imkl:lokaalID></imkl:NEN3610ID></imkl:identificatie>\n'
        f'      <imkl:beginLifespanVersion>2022-01-03T09:00:00+01:00</imkl:beginLifespanVersion>\n'
        f'      <imkl:thema xlink:href="http://definities.geostandaarden.nl/imkl2015/id/waarde/Thema/{thema}"/>\n'
        f'      <imkl:standaardDieptelegging uom="urn:ogc:def:uom:OGC::m">{depth}</imkl:standaardDieptelegging>\n'
        f'    </imkl:Utiliteitsnet>\n')


def _link(owner: str, local: str, net: str, points: list[tuple[float, float]]) -> str:
    pos = " ".join(f"{x:.3f} {y:.3f}" for x, y in points)
    return _member(
        f'    <us-net-common:UtilityLink gml:id="nl.imkl-{owner}.{local}">\n'
        f'      <net:beginLifespanVersion>2022-01-03T09:00:00+01:00</net:beginLifespanVersion>\n{_ident(owner, local)}'
        f'      <net:inNetwork xlink:href="nl.imkl-{owner}.{net}"/>\n'
        f'      <net:centrelineGeometry><gml:LineString srsName="urn:ogc:def:crs:EPSG::28992" '
        f'gml:id="nl.imkl-{owner}.{local}_geo">'
        f'<gml:posList srsDimension="2">{pos}</gml:posList></gml:LineString></net:centrelineGeometry>\n'
        f'      <net:fictitious>false</net:fictitious>\n'
        f'    </us-net-common:UtilityLink>\n')


def _element(cls: str, owner: str, local: str, net: str, link: str, size: str, extra: str = "") -> str:
    return _member(
        f'    <imkl:{cls} gml:id="nl.imkl-{owner}.{local}">\n'
        f'      <net:beginLifespanVersion>2022-01-03T09:00:00+01:00</net:beginLifespanVersion>\n{_ident(owner, local)}'
        f'      <net:inNetwork xlink:href="nl.imkl-{owner}.{net}"/>\n      <net:link xlink:href="nl.imkl-{owner}.{link}"/>\n'
        f'      <us-net-common:currentStatus xlink:href="http://inspire.ec.europa.eu/codelist/ConditionOfFacilityValue/functional"/>\n'
        f'      <us-net-common:validFrom>2010-01-01T00:00:00+01:00</us-net-common:validFrom>\n'
        f'      <us-net-common:verticalPosition>underground</us-net-common:verticalPosition>\n{size}{extra}'
        f'    </imkl:{cls}>\n')


def generate(path: Path, megabytes: float, seed: int = 1) -> dict[str, float]:
    """Write a delivery zip of about `megabytes` MB of GML; return its street grid (for the cut and axis)."""
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    parts = [HEAD]
    size = len(HEAD)
    for owner in OWNERS:
        for thema, _, kind, _ in THEMAS:
            text = _net(owner, thema, kind, rng.choice((0.6, 0.8, 1.0)))
            parts.append(text)
            size += len(text)
    street, n = 0, 0
    while size < target:
        # streets run east-west, 40 m apart, 400 m long; lines lie 0.5-11.5 m from the north facade
        y_north = Y0 + 40.0 * street
        for k in range(12):
            owner = OWNERS[k % len(OWNERS)]
            thema, cls, _, mm = THEMAS[k % len(THEMAS)]
            offset = 0.5 + k * 0.9 + rng.uniform(-0.1, 0.1)
            points = [(X0 + 50.0 * i, y_north - offset + rng.uniform(-0.05, 0.05)) for i in range(9)]
            n += 1
            size_tag = ("kabelDiameter" if cls.endswith("kabel") else "pipeDiameter")
            ns = "imkl" if size_tag == "kabelDiameter" else "us-net-common"
            text = (_link(owner, f"l{n}", f"net_{thema}", points)
                    + _element(cls, owner, f"e{n}", f"net_{thema}", f"l{n}",
                               f'      <{ns}:{size_tag} uom="urn:ogc:def:uom:OGC::mm">{mm}</{ns}:{size_tag}>\n'))
            for _ in range(rng.randint(0, 3)):  # house connections to the north facade
                n += 1
                x = X0 + rng.uniform(5, 395)
                text += (_link(owner, f"l{n}", f"net_{thema}", [(x, y_north - offset), (x + 0.2, y_north)])
                         + _element(cls, owner, f"e{n}", f"net_{thema}", f"l{n}",
                                    f'      <{ns}:{size_tag} uom="urn:ogc:def:uom:OGC::mm">{max(mm // 3, 20)}'
                                    f'</{ns}:{size_tag}>\n'))
            parts.append(text)
            size += len(text)
        street += 1
    parts.append("</gml:FeatureCollection>\n")
    gml = "".join(parts)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("GI_gebiedsinformatielevering_26G0000001_1.xml", gml)
    return {"bytes": len(gml.encode()), "streets": street, "features": n}


CHILD = """
import json, resource, sys, time
from pathlib import Path
start = time.perf_counter()
{body}
usage = resource.getrusage(resource.RUSAGE_SELF)
# VmHWM is this process's own peak (ru_maxrss may carry the forking parent's over exec)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({{"seconds": time.perf_counter() - start, "cpu": usage.ru_utime + usage.ru_stime,
                  "rss_mb": hwm / 1024, "result": result}}))
"""


def measure(body: str) -> dict[str, object]:
    """Run a snippet in a fresh interpreter; return its wall time, peak RSS and result."""
    out = subprocess.run([sys.executable, "-c", CHILD.format(body=body)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=20.0, help="size of the GML to generate, in MB")
    parser.add_argument("--keep", type=Path, default=None, help="keep the generated delivery in this folder")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp())
    folder.mkdir(parents=True, exist_ok=True)
    zipped = folder / "Levering_26G0000001_1.zip"
    started = time.perf_counter()
    grid = generate(zipped, args.mb)
    print(f"generated {zipped}: {grid['bytes'] / 1e6:.1f} MB GML ({zipped.stat().st_size / 1e6:.1f} MB zip), "
          f"{grid['streets']} streets, {grid['features']} lines, in {time.perf_counter() - started:.1f} s")
    baseline = measure("import checker.io.imkl.reader\nresult = None")
    print(f"interpreter + imports: {baseline['seconds']:.2f} s (CPU {baseline['cpu']:.2f} s), "
          f"peak RSS {baseline['rss_mb']:.0f} MB")
    read = measure("from checker.io.imkl.reader import read_delivery\n"
                   f"d = read_delivery(Path({str(zipped)!r}))\n"
                   "result = [len(d.elements), len(d.links), len(d.nets)]")
    print(f"read whole delivery (elements, links, nets = {read['result']}): {read['seconds']:.2f} s "
          f"(CPU {read['cpu']:.2f} s), peak RSS {read['rss_mb']:.0f} MB")
    y = Y0 + 40.0 * (int(grid["streets"]) // 2)
    line = f"{X0 + 201.0},{y} {X0 + 201.0},{y - 12.0}"
    cut = measure("from checker.cli import run\nimport contextlib, io\n"
                  f"err = io.StringIO()\n"
                  f"with contextlib.redirect_stderr(err):\n"
                  f"    try:\n        run(['import', {str(zipped)!r}, '--line', {line!r}, '-o', {str(folder / 'case.yaml')!r}])\n"
                  f"    except SystemExit as stop:\n        code = stop.code\n"
                  "result = [code, err.getvalue().strip().splitlines()[-1]]")
    print(f"ligging import --line (one section): {cut['seconds']:.2f} s (CPU {cut['cpu']:.2f} s), "
          f"peak RSS {cut['rss_mb']:.0f} MB: {cut['result']}")
    axis = f"{X0 + 10.0},{y - 6.0} {X0 + 390.0},{y - 6.0}"
    run_axis = measure("from checker.cli import run\nimport contextlib, io\nerr = io.StringIO()\n"
                       "with contextlib.redirect_stderr(err):\n"
                       f"    try:\n        run(['import', {str(zipped)!r}, '--axis', {axis!r}, '--every', '20', '--width', '12', "
                       f"'-o', {str(folder / 'street.jsonl')!r}])\n"
                       "    except SystemExit as stop:\n        code = stop.code\n"
                       "result = [code, err.getvalue().strip().splitlines()[-1]]")
    print(f"ligging import --axis (every 20 m over 380 m): {run_axis['seconds']:.2f} s (CPU {run_axis['cpu']:.2f} s), "
          f"peak RSS {run_axis['rss_mb']:.0f} MB: {run_axis['result']}")


if __name__ == "__main__":
    main()
