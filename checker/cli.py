"""The `ligging` command line: a thin typer layer over the library.

Every command wires its arguments to library functions and prints their results. All
user-facing errors leave through `fail_input`, which prints one line
`ligging: file:line:col: message` and exits 2; `--debug` shows the traceback instead.
"""

from __future__ import annotations

import json
import math
import sys
from enum import Enum
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console
from typer.core import TyperCommand

from checker.engine import lint as lint_lib
from checker.engine.evaluate import Engine
from checker.engine.explain import explain as explain_rule
from checker.io.sarif import sarif_log
from checker.io.text import print_case, print_total
from checker.pipeline.run import check_paths, exit_code, load_one
from checker.views.progress import track, wants_progress
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import PackSet, load_packs


class Plain(TyperCommand):
    """A command whose help names its arguments as a user writes them (CASE...), not by their Python type."""

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        """Return the usage line's pieces: [OPTIONS] and each argument by its metavar."""
        pieces = [self.options_metavar] if self.options_metavar else []
        return pieces + [_argument(p) for p in self.get_params(ctx) if p.param_type_name == "argument"]

    def format_options(self, ctx: typer.Context, formatter: typer.core._click.HelpFormatter) -> None:  # type: ignore[name-defined]
        """Write the arguments (name and help) and the options (flags, metavar, help)."""
        arguments = [(_argument(p), getattr(p, "help", None) or "") for p in self.get_params(ctx)
                     if p.param_type_name == "argument"]
        options = [record for p in self.get_params(ctx) if p.param_type_name == "option" and (record := p.get_help_record(ctx))]
        for title, rows in (("Arguments", arguments), ("Options", options)):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


def _argument(param: typer.core.click.Parameter) -> str:  # type: ignore[name-defined]
    """Return how the help shows an argument: CASE, CASE... for several, [RULES...] when optional."""
    name = param.metavar or (param.name or "").upper()
    if param.nargs != 1 and not name.endswith("..."):
        name += "..."
    return name if param.required else f"[{name}]"


app = typer.Typer(
    add_completion=False, no_args_is_help=True, rich_markup_mode=None,
    help="Check where cables and pipes may lie under a Dutch street cross-section.",
)
command = app.command
STATE = {"debug": False}
COMMAND_LINE = "<command line>"  # the file name of a Span that points at an argument, not into a file
CASES_HELP = "Case folders, case.yaml files, directories of cases, or FILE.jsonl batches (one case per line)."
ONE_CASE_HELP = "A case folder, a case.yaml file, or one section of a batch as FILE.jsonl:LINE."
PACK_HELP = "Pack name or .rules file (repeatable); default: all shipped packs."
AUTHORITY_HELP = "Only the rules this authority sets, across packs (e.g. Liander: its own pack and its tree rule)."
BACKLOG_HELP = "Backlog: a file, or postgresql://user@host/db for a shared one (default: $LIGGING_BACKLOG or backlog.db)."


class Format(str, Enum):
    text = "text"
    json = "json"
    sarif = "sarif"
    jsonl = "jsonl"
    parquet = "parquet"
    geojson = "geojson"


class ReportFormat(str, Enum):
    text = "text"
    json = "json"


class BatchEngine(str, Enum):
    local = "local"
    dask = "dask"


class Severity(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


def fail_input(diagnostic: Diagnostic) -> NoReturn:
    """Print a bad-input diagnostic as one line and exit with 2 (the one error path).

    A mistake on the command line has no file position worth showing: it reads as a usage error.
    """
    if diagnostic.span.file == COMMAND_LINE:
        sys.stderr.write(f"ligging: usage: {diagnostic.message}\n")
    else:
        sys.stderr.write(f"ligging: {diagnostic.one_line()}\n")
    sys.exit(2)


def _packs(pack: list[str] | None, authority: str | None = None) -> PackSet:
    """Load the named packs (default: all shipped), narrowed to one authority's rules when asked."""
    packs = load_packs(list(pack or []))
    return packs.of_authority(authority) if authority is not None else packs


def _usage(message: str) -> NoReturn:
    """Refuse a combination of options the parser cannot see, as a usage error."""
    raise LiggingError(Diagnostic(Span(COMMAND_LINE, 1, 1), message))


@app.callback()
def main(debug: bool = typer.Option(False, "--debug", help="Show tracebacks (for developers).")) -> None:
    """ligging: dwarsprofielen against liggingseisen, NEN 7171 and VKLS."""
    STATE["debug"] = debug


@command(cls=Plain)
def check(
    paths: list[Path] = typer.Argument(..., metavar="CASE...", help=CASES_HELP),
    pack: list[str] | None = typer.Option(None, "--pack", metavar="PACK", help=PACK_HELP),
    authority: str | None = typer.Option(None, "--authority", metavar="NAME", help=AUTHORITY_HELP),
    fmt: Format = typer.Option(Format.text, "--format", metavar="FORMAT",
                               help="text, json (one findings document per case), sarif, jsonl (one finding per line), "
                                    "parquet (a table of findings) or geojson (findings on the map, for sections with "
                                    "a place)."),
    brief: bool = typer.Option(False, "--brief",
                               help="Text: one line per finding, its sources by number ([S27] in docs/sources.md)."),
    fail_on: Severity = typer.Option(Severity.error, "--fail-on", metavar="SEVERITY",
                                     help="Lowest severity that makes the exit code 1: error, warning or info."),
    jobs: int = typer.Option(1, "-j", "--jobs", metavar="N",
                             help="Worker processes for --format jsonl and parquet (at least 1)."),
    engine_kind: BatchEngine = typer.Option(BatchEngine.local, "--engine", metavar="WHERE",
                                            help="Where --format jsonl and parquet run: local or dask."),
    scheduler: str | None = typer.Option(None, "--scheduler", metavar="ADDRESS",
                                         help="Dask scheduler address (tcp://host:8786)."),
    log: bool = typer.Option(False, "--log", help="Log friction findings (not plain design errors) in the backlog."),
    backlog: str | None = typer.Option(
        None, "--backlog", metavar="BACKLOG",
        help="Backlog for --log: a file or postgresql://… (default: $LIGGING_BACKLOG or backlog.db)."
    ),
    at: int | None = typer.Option(
        None, "--at", metavar="YEAR",
        help="Check the street as it stands in this year, 1800 to 2200 (objects' built, disused and removed "
             "years, reservations' claim).",
    ),
) -> None:
    """Check cross-sections against rule packs; exit 1 when findings reach --fail-on.

    Every format reads case files and FILE.jsonl batches alike; `--format jsonl` streams one
    finding per line, {"case": "file.jsonl:LINE", ...}, in input order, on -j workers; a bad
    line is reported with its line number while every other line is still checked, and the run
    then exits 2. `--format parquet` writes the same findings as one Parquet table (a row per
    finding) to stdout.
    """
    if jobs < 1:
        _usage(f"-j takes a number of worker processes, at least 1 (got {jobs})")
    if at is not None and not 1800 <= at <= 2200:
        _usage(f"--at takes a year, 1800 to 2200 (got {at})")
    if brief and fmt is not Format.text:
        _usage("--brief shortens the text output; it does not apply to --format " + fmt.value)
    if fmt in (Format.jsonl, Format.parquet):
        from checker.pipeline import batch

        if log:
            _usage("--log applies to text, json, sarif and geojson output")
        if authority is not None:
            _usage("--authority applies to text, json, sarif and geojson output; for a batch, name the packs with --pack")
        if at is not None:
            _usage("--at applies to text, json, sarif and geojson output")
        if fmt is Format.parquet and sys.stdout.isatty():
            _usage("--format parquet writes a binary file: redirect it (> findings.parquet)")

        total = batch.count(paths) if wants_progress(sys.stderr, 2) else 0
        checked = batch.run_batch(paths, list(pack or []), jobs, engine_kind.value, scheduler, fmt=fmt.value)
        sys.stdout.flush()
        shown = track(checked, total, sys.stderr, weight=lambda done: done.sections + len(done.errors))
        raise typer.Exit(batch.write_batch(shown, sys.stdout.buffer, sys.stderr, fail_on.value, fmt.value))
    if jobs > 1 or engine_kind is not BatchEngine.local:
        _usage("-j and --engine apply to --format jsonl and parquet")
    engine = Engine(_packs(pack, authority))
    console = Console(highlight=False, soft_wrap=True)
    results = []
    from checker.pipeline.batch import count

    total = count(paths) if wants_progress(sys.stderr, 2) else 0
    # a map shows where findings are; it does not carry suggestions (each costs re-evaluations)
    checked = check_paths(paths, engine, suggestions=fmt is not Format.geojson, at=at)
    for result in track(checked, total, sys.stderr):
        results.append(result)
        if fmt is Format.json:
            sys.stdout.write(json.dumps(result.as_json(engine.packs), ensure_ascii=False) + "\n")
        elif fmt is Format.text:
            print_case(console, result, brief)
    if fmt is Format.text:
        print_total(console, results)
    elif fmt is Format.sarif:
        sys.stdout.write(json.dumps(sarif_log(results, engine.packs), ensure_ascii=False, indent=2) + "\n")
    elif fmt is Format.geojson:
        from checker.io.geojson import findings_geojson

        sys.stdout.write(json.dumps(findings_geojson(results), ensure_ascii=False) + "\n")
    if log:
        from checker.policy.backlog import log_results

        sys.stderr.write(log_results(backlog, results, engine).line() + "\n")
    raise typer.Exit(exit_code(results, fail_on.value))


@command("whatif", cls=Plain)
def whatif_cmd(
    paths: list[Path] = typer.Argument(..., metavar="CASE...", help=CASES_HELP),
    sets: list[str] | None = typer.Option(
        None,
        "--set",
        metavar="RULE=VALUE",
        help="RULE=VALUE (e.g. DW-COV-MIN=0.60m), RULE.N=VALUE for "
        "alternative N, RULE.exception=VALUE for the relaxed limit (repeatable).",
    ),
    candidate: list[str] | None = typer.Option(
        None, "--pack", metavar="FILE",
        help="Candidate .rules file replacing the loaded pack of the same name, or added (repeatable)."
    ),
    proposals: Path | None = typer.Option(
        None, "--proposals", metavar="FILE",
        help="YAML list of named proposals, ranked by impact: '- {name: N, set: {RULE: VALUE}, pack: FILE}'."
    ),
    base: list[str] | None = typer.Option(None, "--base", metavar="PACK",
                                          help="Packs as they stand (repeatable); default: all shipped."),
    with_layout: bool = typer.Option(
        True,
        "--layout/--no-layout",
        help="Also ask the layout solver whether each case fits without deviations, before and after.",
    ),
    backlog: str | None = typer.Option(None, "--backlog", metavar="BACKLOG",
                                       help="Backlog (file or postgresql://…): report the open entries each proposal resolves."),
    log: bool = typer.Option(False, "--log", help="Log the rules that keep the best-ranked proposal from working "
                                                 "(praktijktoets friction) in --backlog."),
    save_proposal: bool = typer.Option(
        False,
        "--save-proposal",
        help="Store the best-ranked proposal (rule text "
        "and measured impact) on the triaged entries it resolves (needs --backlog).",
    ),
    fmt: ReportFormat = typer.Option(ReportFormat.text, "--format", metavar="FORMAT",
                                     help="text (tables) or json (one document)."),
) -> None:
    """Praktijktoets: check every case as the rules stand and with a proposed change, and compare.

    Cases: folders, case.yaml files, case directories, FILE.jsonl batches. Proposals are ranked by impact.
    """
    from checker.policy import whatif as wi

    chosen = wi.proposals_from_args(list(sets or []), list(candidate or []), proposals)
    for flag, on in (("--save-proposal", save_proposal), ("--log", log)):
        if on and backlog is None:
            raise LiggingError(Diagnostic(Span(flag, 1, 1), f"{flag} needs --backlog PATH"))
    packs = load_packs(list(base or []))
    results = wi.run_all(paths, packs, chosen, with_layout, backlog)
    if save_proposal and backlog is not None:
        for entry, what in wi.save_proposal(results[0], backlog):
            sys.stderr.write(f"backlog: entry {entry} {what} ({results[0].proposal.name})\n")
    if log and backlog is not None:
        sys.stderr.write(wi.log_blockers(results[0], packs, backlog).line() + "\n")
    if fmt is ReportFormat.json:
        sys.stdout.write(json.dumps(wi.as_json(results), ensure_ascii=False) + "\n")
    else:
        # the per-case table needs about 90 columns; piped output is not squeezed to rich's default 80
        wi.render(Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 100), results)


@command("render", cls=Plain)
def render_cmd(
    case: Path = typer.Argument(..., metavar="CASE", help=ONE_CASE_HELP),
    output: Path = typer.Option(..., "-o", "--output", metavar="FILE", help="Drawing to write: FILE.svg or FILE.png."),
    pack: list[str] | None = typer.Option(None, "--pack", metavar="PACK", help=PACK_HELP),
    authority: str | None = typer.Option(None, "--authority", metavar="NAME", help=AUTHORITY_HELP),
    no_findings: bool = typer.Option(False, "--no-findings", help="Draw the section without its findings."),
) -> None:
    """Draw a cross-section to scale (SVG or PNG), with its findings marked."""
    from checker.views.render import render_case_file

    render_case_file(case, output, Engine(_packs(pack, authority)), show_findings=not no_findings)


@command("edit", cls=Plain)
def edit_cmd(
    case: Path = typer.Argument(..., metavar="CASE", help="A case folder or case.yaml file (it is saved back there)."),
    port: int = typer.Option(0, "--port", metavar="PORT", help="Port on 127.0.0.1, 1 to 65535 (default: a free one)."),
    no_browser: bool = typer.Option(False, "--no-browser", help="Only print the address; do not open a browser."),
    layout: bool = typer.Option(False, "--layout", help="Show the layout solver's proposal as a ghost to accept or not."),
    pack: list[str] | None = typer.Option(None, "--pack", metavar="PACK", help=PACK_HELP),
) -> None:
    """Edit a cross-section in the browser: drag objects, see the rules answer, save back to the case file."""
    from checker.io.loader import case_file
    from checker.views.editor.server import serve

    if not 0 <= port <= 65535:
        _usage(f"--port takes a port number from 1 to 65535, or 0 for a free one (got {port})")

    file = case_file(case)
    if not file.is_file():
        raise LiggingError(Diagnostic(Span(str(case), 1, 1), "edit opens one case: expected a case folder holding "
                                                             "case.yaml, or a case.yaml file"))
    serve(file, Engine(load_packs(list(pack or []))), port, open_browser=not no_browser, layout=layout)


class Start(str, Enum):
    proposed = "proposed"
    standard = "standard"


@command("layout", cls=Plain)
def layout_cmd(
    case: Path = typer.Argument(..., metavar="CASE", help=ONE_CASE_HELP),
    start: Start = typer.Option(Start.proposed, "--from", metavar="START",
                                help="proposed (move as little as possible from the case) or standard (from the NEN 7171 "
                                     "reference layout)."),
    pack: list[str] | None = typer.Option(None, "--pack", metavar="PACK", help=PACK_HELP),
    output: Path | None = typer.Option(None, "-o", "--output", metavar="FILE", help="Write the laid-out case file here."),
    drawing: Path | None = typer.Option(None, "--svg", metavar="FILE", help="Write a drawing of the layout (SVG) here."),
    log: bool = typer.Option(False, "--log", help="Log the deviations the layout needs to the harmonisation backlog."),
    backlog: str | None = typer.Option(None, "--backlog", metavar="BACKLOG", help=BACKLOG_HELP),
) -> None:
    """Place the planned objects so every rule holds; else the cheapest deviations, each with its source."""
    from checker.advice import layout as lay
    from checker.io.loader import case_file

    engine = Engine(load_packs(list(pack or [])))
    file = case_file(case)
    if output is not None and file.suffix != ".yaml" and not file.is_file():
        _usage(f"-o rewrites a case.yaml; {case} is a section of a JSON Lines batch (draw it with --svg)")
    section = load_one(case)
    begin = lay.start_from_standard(section, engine.packs) if start is Start.standard else None
    result = lay.layout(section, engine, begin)
    lay.report(Console(highlight=False, soft_wrap=True), result, f"{section.name}   ({file})")
    if output is not None:
        lay.write_case(file, result, output)
    if drawing is not None and result.section is not None:
        from checker.views.render import render_svg

        drawing.write_text(render_svg(result.section, result.findings, engine.packs), encoding="utf-8")
    if log and (result.deviations or len(result.conflict) == 2):
        from checker.policy.backlog import log_layout

        sys.stderr.write(log_layout(backlog, section, result, engine.packs).line() + "\n")
    raise typer.Exit(0 if result.feasible and not result.deviations else 1)


@command("fit", cls=Plain)
def fit_cmd(
    what: list[str] = typer.Argument(..., metavar="NETWORK...",
                                     help="Networks (water:160mm, warmte:2x250mm, datatransport), or one case with --add."),
    add: list[str] | None = typer.Option(None, "--add", metavar="NETWORK",
                                         help="Network to add to the case (repeatable), e.g. warmte:2x250mm."),
    zones: str = typer.Option("trottoir:2.0", "--zones", metavar="ZONES",
                              help="Zones from the facade, kind:width, comma-separated."),
    pack: list[str] | None = typer.Option(None, "--pack", metavar="PACK", help=PACK_HELP),
) -> None:
    """Capacity: the minimum profile width for a set of networks, or whether more networks still fit a case."""
    from checker.advice import fit as ft

    engine = Engine(load_packs(list(pack or [])))
    console = Console(highlight=False, soft_wrap=True)
    if add:
        if len(what) != 1:
            raise LiggingError(Diagnostic(ft.ARG, "with --add, name exactly one case"))
        section = load_one(Path(what[0]))
        got = ft.fit_case(section, list(add), engine)
        verdict = "fits" if got.fits else "does not fit without new deviations"
        added = {o.id for o in got.layout.section.objects if o.id.startswith("nieuw-")} if got.layout.section else set()
        ft.print_fit(console, got, f"{section.name} + {', '.join(add)}: {verdict}", added)
        for d in got.blocking:
            console.print(f"  blocked by: {d.describe()}")
        raise typer.Exit(0 if got.fits else 1)
    found = ft.min_width(list(what), zones, engine)
    if found.width is None:
        console.print(f"no profile up to {ft.MAX_WIDTH:g} m fits {', '.join(what)}")
        raise typer.Exit(1)
    ft.print_fit(console, found, f"minimum profile width {found.width:.3f} m for {', '.join(what)}")


@command("report", cls=Plain)
def report_cmd(
    paths: list[Path] = typer.Argument(..., metavar="CASE...", help=CASES_HELP),
    output: Path = typer.Option(..., "-o", "--output", metavar="FILE", help="HTML file to write."),
    pack: list[str] | None = typer.Option(None, "--pack", metavar="PACK", help=PACK_HELP),
    authority: str | None = typer.Option(None, "--authority", metavar="NAME", help=AUTHORITY_HELP),
    backlog: str | None = typer.Option(None, "--backlog", metavar="BACKLOG",
                                       help="Add the most urgent entries of this backlog (a file or postgresql://…)."),
) -> None:
    """Write one self-contained HTML report: summary, drawings, findings, accepted deviations."""
    from checker.views.report import write_report

    extra = []
    if backlog is not None:
        from checker.policy.backlog import list_items
        from checker.policy.backlog_store import shown
        from checker.policy.backlog_views import report_section
        from checker.policy.urgency import load_weights

        extra.append(report_section(list_items(backlog, load_weights()), shown(backlog)))
    write_report(paths, Engine(_packs(pack, authority)), output, extra)


rules_app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None, help="Work with rule packs.")
app.add_typer(rules_app, name="rules")


@rules_app.command("lint", cls=Plain)
def rules_lint(
    packs: list[str] | None = typer.Argument(None, metavar="PACK...",
                                             help="Pack names or .rules files; default: all shipped packs."),
    networks: str | None = typer.Option(None, "--networks", metavar="LINES",
                                        help="Lines to fit side by side, e.g. 'water:160mm,gasLageDruk:110mm'."),
    width: float | None = typer.Option(None, "--width", metavar="METRES", help="Profile width the --networks must fit in."),
    fmt: ReportFormat = typer.Option(ReportFormat.text, "--format", metavar="FORMAT", help="text or json."),
    fail_on: Severity = typer.Option(Severity.error, "--fail-on", metavar="SEVERITY",
                                     help="Lowest severity that makes the exit code 1: error, warning or info."),
) -> None:
    """Check rule packs for mistakes and contradictions; exit 1 when findings reach --fail-on."""
    found = lint_lib.lint(list(packs or []), lint_lib.parse_networks(networks) if networks else None, width)
    if fmt is ReportFormat.json:
        sys.stdout.write(json.dumps(lint_lib.as_json(found), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(lint_lib.as_text(found) + "\n")
    raise typer.Exit(lint_lib.exit_code(found, fail_on.value))


@rules_app.command("matrix", cls=Plain)
def rules_matrix(
    pack: list[str] | None = typer.Option(None, "--pack", metavar="PACK", help=PACK_HELP),
    output: Path = typer.Option(..., "-o", "--output", metavar="FILE", help="File to write: .html (self-contained) or .md."),
) -> None:
    """Write the rules of every authority side by side: clearances per network pair, cover ranges, orders."""
    from checker.policy import matrix

    matrix.write(matrix.matrix_for(list(pack or [])), output)


@command(cls=Plain)
def explain(
    rule: str = typer.Argument(..., metavar="RULE", help="Rule id, e.g. NEN-COV-LS."),
    pack: list[str] | None = typer.Option(None, "--pack", metavar="PACK", help=PACK_HELP),
) -> None:
    """Explain a rule: what it checks, why, its source, and a compliant and a non-compliant example."""
    sys.stdout.write(explain_rule(rule, load_packs(list(pack or []))) + "\n")


@command("export", cls=Plain)
def export_cmd(
    case: Path = typer.Argument(..., metavar="CASE", help=ONE_CASE_HELP),
    output: Path = typer.Option(..., "-o", "--output", metavar="FILE", help="Drawing to write (FILE.dxf)."),
    pack: list[str] | None = typer.Option(None, "--pack", metavar="PACK",
                                          help="Pack name or .rules file (repeatable) for the thema colours; "
                                               "default: all shipped packs."),
) -> None:
    """Write a cross-section as a DXF drawing: one coloured layer per network thema, ids as text, a title block."""
    from checker.io.dxf import export_dxf

    export_dxf(load_one(case), load_packs(list(pack or [])), output)


IMKL_SUFFIXES = (".zip", ".xml", ".gml")


@command("import", cls=Plain)
def import_cmd(
    source: Path = typer.Argument(..., metavar="SOURCE",
                                  help="A DXF drawing of a cross-section, or a KLIC delivery (Levering_*.zip, its GML)."),
    output: Path = typer.Option(..., "-o", "--output", metavar="FILE", help="case.yaml to write (FILE.jsonl for --axis)."),
    line: str | None = typer.Option(None, "--line", metavar="'X1,Y1 X2,Y2'",
                                    help="KLIC: the section line 'X1,Y1 X2,Y2' in RD New; x = 0 at the first."),
    axis: str | None = typer.Option(None, "--axis", metavar="'X1,Y1 X2,Y2 ...'",
                                    help="KLIC: a street axis 'X1,Y1 X2,Y2 ...' (RD New), cut per station."),
    every: float = typer.Option(20.0, "--every", metavar="METRES", help="KLIC --axis: metres between stations."),
    width: float = typer.Option(12.0, "--width", metavar="METRES",
                                help="KLIC --axis: length of each section, centred on the axis (metres)."),
    zones: str | None = typer.Option(None, "--zones", metavar="ZONES",
                                     help="KLIC: surface zones from x = 0, e.g. trottoir:1.8,rijbaan:5.5 "
                                          "(default: one zone 'onbekend')."),
    name: str | None = typer.Option(None, "--name", metavar="NAME", help="KLIC: the case name."),
    pack: list[str] | None = typer.Option(
        None, "--pack", metavar="PACK",
        help="KLIC: packs whose minimum covers stand in for a depth the delivery lacks (default: nen7171 and drinkwater)."
    ),
    corridor: float = typer.Option(1.0, "--corridor", metavar="METRES",
                                   help="KLIC: metres each side of the section in which a line running "
                                        "along it (a house connection) is a crossing."),
    reach: float = typer.Option(5.0, "--reach", metavar="METRES",
                                help="KLIC: metres from the cut within which a depth point counts as measured."),
    scale: float | None = typer.Option(None, "--scale", metavar="METRES",
                                       help="DXF: metres per drawing unit (default: title block, $INSUNITS)."),
    origin: str | None = typer.Option(None, "--origin", metavar="X,Y",
                                      help="DXF: reference point X,Y in drawing units (facade at maaiveld)."),
) -> None:
    """Make a case from a DXF drawing, or cut dwarsprofielen from a KLIC delivery (IMKL 2.0 or 3.0).

    A KLIC delivery needs --line (one section, written as case.yaml) or --axis (a section every
    --every metres along a street, written as JSON Lines for `ligging check FILE.jsonl`).
    """
    if source.suffix.lower() in IMKL_SUFFIXES:
        from checker.io.imkl import sections

        if scale is not None or origin is not None:
            raise LiggingError(Diagnostic(Span(COMMAND_LINE, 1, 1), "--scale and --origin are for DXF drawings"))
        if (line is None) == (axis is None):
            raise LiggingError(Diagnostic(Span(COMMAND_LINE, 1, 1), "a KLIC delivery needs --line \"X1,Y1 X2,Y2\" "
                                                                        "or --axis \"X1,Y1 X2,Y2 ...\" (one of them)"))
        for value, option in ((corridor, "--corridor"), (reach, "--reach")):
            if not 0 <= value <= 50:
                raise LiggingError(Diagnostic(Span(COMMAND_LINE, 1, 1), f"{option} must be 0 to 50 metres"))
        packs = load_packs(list(pack or ["nen7171", "drinkwater"]))
        if line is not None:
            written = sections.cut_line(source, output, line, packs, zones, name, corridor, reach)
        else:
            written = sections.cut_axis(source, output, axis or "", every, width, packs, zones, name, corridor, reach)
        for warning in written.warnings:
            sys.stderr.write(f"ligging: warning: {warning}\n")
        sys.stderr.write(f"ligging import: {written.line()}\n")
        return
    if source.suffix.lower() != ".dxf":
        raise LiggingError(Diagnostic(Span(str(source), 1, 1), f"'{source.suffix or source.name}' is neither a DXF drawing "
                                                              f"(.dxf) nor a KLIC delivery ({', '.join(IMKL_SUFFIXES)})"))
    if line is not None or axis is not None or zones is not None:
        raise LiggingError(Diagnostic(Span(COMMAND_LINE, 1, 1), "--line, --axis and --zones are for KLIC deliveries"))
    from checker.io.dxf import import_dxf, parse_origin, write_case

    write_case(import_dxf(source, scale, parse_origin(origin) if origin is not None else None), output)


backlog_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="The harmonisation backlog (OT6 register): regulations that rub, ranked by urgency.",
)
app.add_typer(backlog_app, name="backlog")
WHO_HELP = "Who makes the change (default: $USER)."
MAX_ENTRY = 2**62  # entry ids are 64-bit integers in both stores


class Rank(str, Enum):
    urgency = "urgency"
    id = "id"


class ExportFormat(str, Enum):
    csv = "csv"
    xlsx = "xlsx"
    md = "md"
    html = "html"


class FrictionClass(str, Enum):
    contradiction = "contradiction"
    praktijktoets = "praktijktoets"
    space = "space"
    data = "data"


def _list_console() -> Console:
    """Return a console as wide as the terminal (piped: $COLUMNS, else 100 columns)."""
    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else _columns())


def _columns() -> int:
    """Return the width to lay out for when output is not a terminal: $COLUMNS, else 100."""
    import os

    text = os.environ.get("COLUMNS", "")
    return max(40, min(int(text), 1000)) if text.isdigit() else 100


@backlog_app.command(cls=Plain, name="add")
def backlog_add(
    rule: list[str] = typer.Option(..., "--rule", metavar="RULE",
                                   help="Rule id that rubs (repeat for the rule it rubs against)."),
    title: str = typer.Option(..., "--title", metavar="TEXT", help="What rubs, in one line."),
    kind: FrictionClass | None = typer.Option(
        None, "--class", metavar="CLASS", help="contradiction (two rules), space, data or praktijktoets; default: contradiction "
                              "for two rules, space for one."),
    case: Path | None = typer.Option(None, "--case", metavar="CASE", help="Case folder or case.yaml where it rubs."),
    amount: float | None = typer.Option(None, "--amount", metavar="AMOUNT", help="Deviation needed."),
    unit: str = typer.Option("m", "--unit", metavar="UNIT", help="Unit of --amount."),
    severity: Severity = typer.Option(Severity.warning, "--severity", metavar="SEVERITY",
                                      help="How serious the friction is: error, warning or info."),
    note: str = typer.Option("", "--note", metavar="TEXT", help="Why it was logged."),
    pack: list[str] | None = typer.Option(None, "--pack", metavar="PACK",
                                          help="Packs to look the rules up in; default: all shipped."),
    who: str | None = typer.Option(None, "--who", metavar="NAME", help=WHO_HELP),
    backlog: str | None = typer.Option(None, "--backlog", metavar="BACKLOG", help=BACKLOG_HELP),
) -> None:
    """Log friction by hand: an occurrence of the entry of this rule (or rule pair)."""
    from checker.policy.backlog import add_by_hand

    if amount is not None and not math.isfinite(amount):
        raise LiggingError(Diagnostic(Span("--amount", 1, 1), f"--amount must be a finite number, got {amount}"))
    added = add_by_hand(backlog, load_packs(list(pack or [])), rule, title, case, severity.value, amount, unit, note,
                        who, kind.value if kind else "")
    if added.created:
        sys.stderr.write(f"backlog {added.path}: new backlog created\n")
    sys.stdout.write(f"backlog entry {added.entry}\n")


@backlog_app.command(cls=Plain, name="list")
def backlog_list(
    rank: Rank = typer.Option(Rank.urgency, "--rank", metavar="ORDER", help="Order: urgency (by score) or id."),
    status: str | None = typer.Option(None, "--status", metavar="STATUS", help="Only entries with this status."),
    kind: FrictionClass | None = typer.Option(None, "--class", metavar="CLASS", help="Only entries of this class."),
    phase: str | None = typer.Option(None, "--phase", metavar="PHASE", help="Only entries in this OT6 phase."),
    authority: str | None = typer.Option(
        None, "--authority", metavar="NAME", help="Only entries with a rule of this authority (part of its name)."
    ),
    rule: str | None = typer.Option(None, "--rule", metavar="RULE", help="Only entries involving this rule id."),
    wide: bool = typer.Option(False, "--wide", help="Every column: instrument, who can change it, the score's parts."),
    weights: Path | None = typer.Option(None, "--weights", metavar="FILE", help="TOML file overriding the urgency weights."),
    backlog: str | None = typer.Option(None, "--backlog", metavar="BACKLOG", help=BACKLOG_HELP),
) -> None:
    """List the entries ranked by urgency, fitted to the terminal (--wide for every column)."""
    from checker.policy import backlog as bl
    from checker.policy.backlog_views import render_list
    from checker.policy.urgency import load_weights

    items = bl.list_items(backlog, load_weights(weights), rank.value, status, authority, rule,
                          kind.value if kind else None, phase)
    console = Console(highlight=False, soft_wrap=True, width=10_000) if wide else _list_console()
    render_list(console, items, wide)


@backlog_app.command(cls=Plain, name="show")
def backlog_show(
    entry: int = typer.Argument(..., metavar="ENTRY", min=1, max=MAX_ENTRY, help="Entry id."),
    weights: Path | None = typer.Option(None, "--weights", metavar="FILE", help="TOML file overriding the urgency weights."),
    backlog: str | None = typer.Option(None, "--backlog", metavar="BACKLOG", help=BACKLOG_HELP),
) -> None:
    """Show one entry: what rubs, its rules and instruments, the evidence per case, urgency and history."""
    from checker.policy import backlog as bl
    from checker.policy.backlog_views import render_detail
    from checker.policy.urgency import load_weights

    render_detail(_list_console(), bl.detail(backlog, entry, load_weights(weights)))


@backlog_app.command(cls=Plain, name="triage")
def backlog_triage(
    entry: int = typer.Argument(..., metavar="ENTRY", min=1, max=MAX_ENTRY, help="Entry id."),
    triage_class: str = typer.Argument(
        ..., metavar="CLASS", help="encoding-error, regulatory-friction, data-problem or accepted-open-norm."
    ),
    note: str = typer.Option("", "--note", metavar="TEXT", help="Why."),
    who: str | None = typer.Option(None, "--who", metavar="NAME", help=WHO_HELP),
    backlog: str | None = typer.Option(None, "--backlog", metavar="BACKLOG", help=BACKLOG_HELP),
) -> None:
    """Set an entry's triage class (a new entry becomes triaged, phase prioriteren)."""
    from checker.policy.backlog import triage

    triage(backlog, entry, triage_class, note, who)
    sys.stdout.write(f"backlog entry {entry}: triaged as {triage_class}\n")


@backlog_app.command(cls=Plain, name="status")
def backlog_status(
    entry: int = typer.Argument(..., metavar="ENTRY", min=1, max=MAX_ENTRY, help="Entry id."),
    status: str = typer.Argument(..., metavar="STATUS", help="triaged, proposed, harmonised or rejected."),
    note: str = typer.Option(..., "--note", metavar="TEXT", help="Why (kept in the history)."),
    who: str | None = typer.Option(None, "--who", metavar="NAME", help=WHO_HELP),
    backlog: str | None = typer.Option(None, "--backlog", metavar="BACKLOG", help=BACKLOG_HELP),
) -> None:
    """Move an entry along new → triaged → proposed → harmonised | rejected."""
    from checker.policy.backlog import set_status

    set_status(backlog, entry, status, note, who)
    sys.stdout.write(f"backlog entry {entry}: status {status}\n")


@backlog_app.command(cls=Plain, name="phase")
def backlog_phase(
    entry: int = typer.Argument(..., metavar="ENTRY", min=1, max=MAX_ENTRY, help="Entry id."),
    phase: str = typer.Argument(..., metavar="PHASE", help="inzicht, prioriteren, integratie, praktijktoets or back-log."),
    note: str = typer.Option(..., "--note", metavar="TEXT", help="Why (kept in the history)."),
    who: str | None = typer.Option(None, "--who", metavar="NAME", help=WHO_HELP),
    backlog: str | None = typer.Option(None, "--backlog", metavar="BACKLOG", help=BACKLOG_HELP),
) -> None:
    """Put an entry in an OT6 phase by hand (status changes and whatif move it on their own)."""
    from checker.policy.backlog import set_phase

    set_phase(backlog, entry, phase, note, who)
    sys.stdout.write(f"backlog entry {entry}: phase {phase}\n")


@backlog_app.command(cls=Plain, name="merge")
def backlog_merge(
    keep: int = typer.Argument(..., metavar="KEEP", min=1, max=MAX_ENTRY, help="Entry id that stays."),
    other: int = typer.Argument(..., metavar="OTHER", min=1, max=MAX_ENTRY, help="Entry id merged into it."),
    note: str = typer.Option("", "--note", metavar="TEXT", help="Why."),
    who: str | None = typer.Option(None, "--who", metavar="NAME", help=WHO_HELP),
    backlog: str | None = typer.Option(None, "--backlog", metavar="BACKLOG", help=BACKLOG_HELP),
) -> None:
    """Merge two entries about the same friction: occurrences and rules move to KEEP."""
    from checker.policy.backlog import merge

    merge(backlog, keep, other, note, who)
    sys.stdout.write(f"backlog entry {other} merged into entry {keep}\n")


@backlog_app.command(cls=Plain, name="export")
def backlog_export(
    fmt: ExportFormat = typer.Option(..., "--format", metavar="FORMAT",
                                     help="csv (every occurrence; imports back), xlsx, md or html."),
    output: Path = typer.Option(..., "-o", "--output", metavar="FILE", help="File to write."),
    rank: Rank = typer.Option(Rank.urgency, "--rank", metavar="ORDER", help="Order: urgency (by score) or id."),
    status: str | None = typer.Option(None, "--status", metavar="STATUS", help="Only entries with this status."),
    kind: FrictionClass | None = typer.Option(None, "--class", metavar="CLASS", help="Only entries of this class."),
    phase: str | None = typer.Option(None, "--phase", metavar="PHASE", help="Only entries in this OT6 phase."),
    authority: str | None = typer.Option(None, "--authority", metavar="NAME", help="Only entries with a rule of this authority."),
    rule: str | None = typer.Option(None, "--rule", metavar="RULE", help="Only entries involving this rule id."),
    weights: Path | None = typer.Option(None, "--weights", metavar="FILE", help="TOML file overriding the urgency weights."),
    backlog: str | None = typer.Option(None, "--backlog", metavar="BACKLOG", help=BACKLOG_HELP),
) -> None:
    """Export the listed entries (same order as `list`) with their occurrences: CSV, XLSX, Markdown or HTML."""
    import datetime as dt

    from checker.policy import backlog as bl
    from checker.policy import backlog_csv, backlog_views
    from checker.policy.backlog_store import resolve, shown
    from checker.policy.urgency import load_weights

    items, occurrences = bl.register(backlog, load_weights(weights), rank.value, status, authority, rule,
                                     kind.value if kind else None, phase)
    if fmt is ExportFormat.csv:
        backlog_csv.export(items, dict(occurrences), output)
    else:
        backlog_views.write(fmt.value, items, dict(occurrences), output, shown(resolve(backlog)),
                            dt.date.today().isoformat())


@backlog_app.command(cls=Plain, name="import")
def backlog_import(
    source: Path = typer.Argument(..., metavar="CSV", help="CSV file written by `ligging backlog export --format csv`."),
    who: str | None = typer.Option(None, "--who", metavar="NAME", help=WHO_HELP),
    backlog: str | None = typer.Option(None, "--backlog", metavar="BACKLOG", help=BACKLOG_HELP),
) -> None:
    """Add the entries and occurrences of a CSV export that the backlog does not hold yet."""
    from checker.policy.backlog_csv import import_csv

    sys.stdout.write(import_csv(backlog, source, who).line() + "\n")


def run(argv: list[str] | None = None) -> None:
    """Entry point of the console script: run the app behind the one error path."""
    try:
        code = app(args=argv, standalone_mode=False, prog_name="ligging")
    except LiggingError as exc:
        if STATE["debug"]:
            raise
        fail_input(exc.diagnostic)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        sys.stderr.write("ligging: aborted\n")
        sys.exit(2)
    except Exception as exc:
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            # a usage error from the command-line parser; with no arguments at all the help was printed already
            message = exc.format_message().replace("Value error, ", "")  # typer ≥ 0.2x validates with pydantic
            if message.startswith("Usage:"):
                sys.stdout.write(message.rstrip("\n") + "\n")  # no arguments at all (click ≥ 8.2): the help itself
            elif message.strip():
                sys.stderr.write(f"ligging: usage: {message}\n")
            sys.exit(2)
        if STATE["debug"]:
            raise
        sys.stderr.write(f"ligging: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)\n")
        sys.exit(3)
    sys.exit(code if isinstance(code, int) else 0)
