"""Measure how fast `ligging edit` answers a drag: server-side check and drawing, and the browser round trip.

For each shipped case, `ligging edit` is started on a copy and opened in headless Chromium
(/usr/bin/chromium, as the tests use). The first free planned cable or pipe (else a
planned rack, with its contents) is dragged in
`--steps` 1 cm steps, one preview at a time, and the page's own measurements are read back:
the engine's evaluate time and the render time on the server (wall clock, and the CPU time
of the serving thread, which does not grow when other processes share the cores), and the round trip from the
pointer move to the new drawing painted (request, check, SVG, DOM swap, next animation
frame). Then one drop (the edit committed as a case_edit splice, re-parsed and re-checked)
is timed. Results are appended to bench/EDITOR.md as a Markdown table.

    python -m bench.editor_bench --steps 40
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from checker.io.loader import load_case

ROOT = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    """Return the q-quantile (0..1) of values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def measure(case: Path, steps: int, browser: str) -> dict[str, float | str]:
    """Drag one planned line of a case in Chromium; return the medians and p90s of the page's timings."""
    from playwright.sync_api import sync_playwright

    section = load_case(case)
    held = {h for o in section.objects for h in o.holds}
    # a free planned line, else a planned rack (it drags its contents along)
    target = next((o for o in section.objects if o.status == "planned" and o.kind in ("cable", "pipe") and o.id not in held),
                  None) or next(o for o in section.objects if o.status == "planned" and o.kind == "rack")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / case.name
        shutil.copytree(case, copy)
        script = Path(sys.executable).with_name("ligging")
        proc = subprocess.Popen([str(script), "edit", str(copy), "--no-browser"], stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().split(": ", 1)[1].strip()
            with sync_playwright() as pw:
                chrome = pw.chromium.launch(executable_path=browser, headless=True, args=["--no-sandbox"])
                page = chrome.new_page(viewport={"width": 1500, "height": 950})
                page.goto(url)
                page.wait_for_function("() => window.__ligging.ready")
                page.wait_for_function("() => window.__ligging.suggested !== undefined", timeout=120_000)
                svg = page.locator("#drawing svg")
                scale = float(svg.get_attribute("data-scale") or 0)
                pixels = (svg.bounding_box() or {"width": 0})["width"] / float(svg.get_attribute("width") or 1)
                box = page.locator(f'#drawing g.object[data-id="{target.id}"] .body').bounding_box()
                assert box is not None
                x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
                page.mouse.move(x, y)
                page.mouse.down()
                net = 0
                for step in range(1, steps + 2):
                    if step > steps and net:
                        break  # one more step only when back and forth ended where it began (nothing to commit)
                    direction = 1 if ((step - 1) // 15) % 2 == 0 else -1  # back and forth, inside the profile
                    net += direction
                    x += direction * 0.01 * scale * pixels  # 1 cm: two snap steps, never rounded away
                    page.mouse.move(x, y)
                    page.wait_for_function(f"() => window.__ligging.previews >= {step}", timeout=60_000)
                started = time.perf_counter()
                page.mouse.up()
                page.wait_for_function("() => !document.getElementById('undo').disabled", timeout=60_000)
                commit = (time.perf_counter() - started) * 1000
                timings = page.evaluate("window.__ligging.timings")
                chrome.close()
        finally:
            proc.terminate()
            proc.wait()
    rows = {key: [t[key] for t in timings] for key in ("evaluate_ms", "render_ms", "evaluate_cpu_ms", "render_cpu_ms",
                                                        "round_trip_ms")}
    out: dict[str, float | str] = {"case": case.name, "objects": len(section.objects), "dragged": target.id,
                                   "previews": len(timings), "commit_ms": commit}
    for key, values in rows.items():
        out[f"{key}_p50"] = statistics.median(values)
        out[f"{key}_p90"] = percentile(values, 0.9)
    return out


def main() -> None:
    """Measure every shipped case and append the table to bench/EDITOR.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="Drag steps (previews) per case.")
    parser.add_argument("--cases", nargs="*", default=None, help="Case folders (default: all under cases/).")
    args = parser.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("bench: Chromium is needed (apt-get install chromium)")
    cases = [Path(c) for c in args.cases] if args.cases else sorted(p.parent for p in (ROOT / "cases").glob("*/case.yaml"))
    load = os.getloadavg()
    # a case with nothing planned (a KLIC cut of what lies there) has nothing to drag
    cases = [c for c in cases if any(o.status == "planned" and o.kind in ("cable", "pipe", "rack")
                                     for o in load_case(c).objects)]
    results = [measure(case, args.steps, browser) for case in cases]
    lines = [f"\n## {time.strftime('%Y-%m-%d %H:%M')} · {platform.python_version()} · {os.cpu_count()} cores · "
             f"load {load[0]:.1f} at start · {args.steps} drag steps per case\n",
             "| case | objects | dragged | previews | evaluate p50 / p90 (ms) | render p50 / p90 (ms) "
             "| evaluate + render CPU p50 (ms) | on screen p50 / p90 (ms) | drop → committed (ms) |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['case']} | {r['objects']} | {r['dragged']} | {r['previews']} "
                     f"| {r['evaluate_ms_p50']:.1f} / {r['evaluate_ms_p90']:.1f} "
                     f"| {r['render_ms_p50']:.1f} / {r['render_ms_p90']:.1f} "
                     f"| {r['evaluate_cpu_ms_p50']:.1f} + {r['render_cpu_ms_p50']:.1f} "
                     f"| {r['round_trip_ms_p50']:.0f} / {r['round_trip_ms_p90']:.0f} | {r['commit_ms']:.0f} |")
    text = "\n".join(lines) + "\n"
    target = ROOT / "bench" / "EDITOR.md"
    if not target.exists():
        target.write_text("# Live editor: how fast a drag is answered\n\nWritten by `python -m bench.editor_bench`; "
                          "newest run last. A frame is 16.7 ms at 60 Hz.\n", encoding="utf-8")
    with target.open("a", encoding="utf-8") as out:
        out.write(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
