"""The harmonisation backlog (OT6 register) on SQLite and on PostgreSQL: one entry per regulation,
concurrency and crashes, reads that never wait, the workflow, urgency, exports that read well and
import back exactly, and the migration of a backlog written by release 0.1.0."""

from __future__ import annotations

import datetime as dt
import multiprocessing as mp
import os
import shutil
import signal
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook

from checker.io.loader import load_case
from checker.policy import backlog as bl
from checker.policy import backlog_csv, backlog_views
from checker.policy.backlog_schema import MIGRATIONS, open_backlog
from checker.policy.friction import Friction, RuleRef
from checker.policy.urgency import load_weights
from dsl.diagnostics import LiggingError
from tests import postgres
from tests.conftest import ROOT

RELEASE_0_1 = ROOT / "tests" / "data" / "backlog-0.1.0.db"
TODAY = dt.date(2026, 12, 1)


def ref(rule: str, authority: str = "Test authority") -> RuleRef:
    return RuleRef(rule, "test", "1", authority, f"source of {rule}", "norm", "test norm", authority)


def friction(i: int, case: str = "cases/x/case.yaml", amount: float = 0.1, planned: str = "2027-06-01",
             kind: str = "space") -> Friction:
    return Friction(kind, (ref(f"T-R{i}"),), f"friction {i}", "error", f"fp{i:04d}", case, "Leiden", planned,
                    ("a", "b"), 0.2, 0.3, ">=", amount, "m", f"evidence {i}", f"computed evidence {i}")


# ---- where the backlog lives: an SQLite file, or a database on a real PostgreSQL server ----------

@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    if not postgres.available():
        if postgres.REQUIRED:
            pytest.fail("LIGGING_TEST_POSTGRES=required but the PostgreSQL server binaries are missing")
        pytest.skip("PostgreSQL server binaries are not installed (Debian postgresql; .ci/run installs them)")
    with postgres.server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "backlog.db")
        return
    with postgres.database(request.getfixturevalue("pg_url")) as url:
        yield url


def count(where: str, table: str, condition: str = "") -> int:
    with open_backlog(where, "read") as db:
        return int(db.read(lambda s: s.value(f"SELECT count(*) FROM {table} {condition}")))


def cli(*args: str) -> int:
    from checker.cli import run

    with pytest.raises(SystemExit) as info:
        run(list(args))
    return int(info.value.code or 0)


# ---- concurrency, crashes, reads -------------------------------------------------------------

def _writer(where: str, proc: int, start: mp.synchronize.Event, errors: mp.Queue) -> None:  # type: ignore[name-defined]
    try:
        start.wait(10)
        for batch in range(20):
            bl.log_frictions(where, [friction(batch * 10 + k) for k in range(10)], f"run-{proc}", who=f"w{proc}")
    except BaseException as exc:
        errors.put(f"{type(exc).__name__}: {exc}")
        raise


def test_eight_concurrent_writers_lose_nothing_and_duplicate_nothing(where: str) -> None:
    bl.log_frictions(where, [], "setup")  # create it: the eight race to add entries, not to create the schema
    ctx = mp.get_context("fork")
    start, errors = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(where, p, start, errors)) for p in range(8)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 8
    assert errors.empty()
    assert count(where, "entries") == 200  # every writer logged the same 200 regulations: one entry each
    assert count(where, "occurrences") == 1600
    with open_backlog(where, "read") as db:
        per_entry = db.read(lambda s: s.rows("SELECT entry_id, count(*) AS n, count(DISTINCT run_id) AS runs "
                                             "FROM occurrences GROUP BY entry_id"))
        keys = db.read(lambda s: s.value("SELECT count(DISTINCT rules_key) FROM entries"))
    assert {(r["n"], r["runs"]) for r in per_entry} == {(8, 8)} and keys == 200


def _killed_writer(where: str, inside: mp.synchronize.Event) -> None:  # type: ignore[name-defined]
    for batch in range(3):
        bl.log_frictions(where, [friction(batch * 10 + k) for k in range(10)], "committed")
    with open_backlog(where, "create") as db:
        def hang(s: bl.Store) -> None:
            bl.record(s, [friction(1000 + k) for k in range(500)], "uncommitted", "w")
            inside.set()
            signal.pause()

        db.write(hang)


def test_writer_killed_mid_transaction_leaves_exactly_the_committed_entries(where: str) -> None:
    ctx = mp.get_context("fork")
    inside = ctx.Event()
    proc = ctx.Process(target=_killed_writer, args=(where, inside))
    proc.start()
    assert inside.wait(60)
    os.kill(proc.pid or 0, signal.SIGKILL)
    proc.join(10)
    assert proc.exitcode == -signal.SIGKILL
    bl.log_frictions(where, [friction(1)], "after")  # the next writer gets the lock
    assert count(where, "entries") == 30
    assert count(where, "occurrences", "WHERE run_id = 'committed'") == 30
    assert count(where, "occurrences", "WHERE run_id = 'uncommitted'") == 0
    if not where.startswith("postgresql"):
        import sqlite3

        con = sqlite3.connect(where)
        assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        con.close()


def _holder(where: str, inside: mp.synchronize.Event, release: mp.synchronize.Event) -> None:  # type: ignore[name-defined]
    with open_backlog(where, "create") as db:
        def hold(s: bl.Store) -> None:
            bl.record(s, [friction(99)], "holder", "w")
            inside.set()
            release.wait(60)

        db.write(hold)


def test_reads_do_not_wait_for_a_writer(where: str) -> None:
    bl.log_frictions(where, [friction(1), friction(2)], "r1")
    ctx = mp.get_context("fork")
    inside, release = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_holder, args=(where, inside, release))
    proc.start()
    try:
        assert inside.wait(60)
        started = time.monotonic()
        items = bl.list_items(where, load_weights())
        took = time.monotonic() - started
    finally:
        release.set()
        proc.join(60)
    assert proc.exitcode == 0
    assert sorted(i.key for i in items) == ["T-R1", "T-R2"]  # the holder's entry is not committed yet
    assert took < 3.0  # a reader that queued for the write lock would wait the full 60 s
    assert sorted(i.key for i in bl.list_items(where, load_weights())) == ["T-R1", "T-R2", "T-R99"]


def test_each_add_and_each_run_is_its_own_occurrence(where: str) -> None:
    entries = {bl.add_manual(where, [ref("T-HAND")], f"add {k}", who="ann").entry for k in range(48)}
    assert len(entries) == 1 and count(where, "occurrences") == 48
    bl.log_frictions(where, [friction(1)])
    bl.log_frictions(where, [friction(1)])
    assert count(where, "occurrences") == 50 and count(where, "entries") == 2
    with open_backlog(where, "read") as db:
        runs = db.read(lambda s: s.value("SELECT count(DISTINCT run_id) FROM occurrences"))
    assert runs == 50


# ---- the shipped cases: entries per regulation, classes a policy officer agrees with ------------

def test_logging_the_shipped_cases_gives_one_entry_per_regulation(where: str, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    assert cli("check", "cases/", "--format", "json", "--log", "--backlog", where) == 1
    assert "new backlog created" in capsys.readouterr().err
    items = {i.key: i for i in bl.list_items(where, load_weights(), today=TODAY)}
    assert len(items) == len({i.id for i in items.values()})
    # VKLS against the cover rules: a contradiction between authorities, computed from the rack
    vkls = items["TEL-COV-DT+VKLS-DEPTH"]
    assert vkls.friction == "contradiction"
    assert len({r.authority for r in vkls.rubbing}) == 2
    assert {r.instrument_kind for r in vkls.rubbing} == {"instemmingsbesluit", "projectafspraak"}
    assert "VKLS-DEPTH" in vkls.evidence and "1.470 m" in vkls.evidence and vkls.amount == pytest.approx(0.27)
    # Dunea's water main is judged by Dunea's own figure only: the drinking-water companies' generic
    # cover (drinkwater: DW-COV-MIN) leaves Dunea's pipes to Dunea, so nothing agrees or rubs with it
    assert not any({"DUN-COV-MIN", "DW-COV-MIN"} <= {r.rule for r in i.rubbing} for i in items.values())
    water = items["DUN-COV-MIN+VKLS-DEPTH"]
    assert [r for r in water.rules if r.role == "agrees"] == []
    # one entry for the tree rule, its occurrences beneath it
    trees = items["BOOM-HART-TRACE"]
    assert trees.friction == "space" and len(trees.cases) >= 4 and trees.occurrences >= 10
    assert items["VKLS-WARMTE-WATER"].friction == "data"
    # the Best cut's medium-voltage cables lie at their net's declared depth: a data question first
    assert items["NEN-COV-MS"].friction == "data" and "standaardDieptelegging" in items["NEN-COV-MS"].evidence
    # a tier swap fixes the non-conform rack: a design error, not friction
    assert "VKLS-ORDER" not in items
    assert all(r.instrument_kind and r.changed_by for i in items.values() for r in i.rubbing)
    before = count(where, "occurrences")
    assert cli("check", "cases/", "--format", "json", "--log", "--backlog", where) == 1
    assert {i.key for i in bl.list_items(where, load_weights())} == set(items)
    assert count(where, "occurrences") == 2 * before  # a second run is a second observation


def test_show_prints_the_computed_evidence(where: str, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("COLUMNS", "100")
    cli("check", "cases/leiden-vkls", "--log", "--backlog", where)
    entry = next(i.id for i in bl.list_items(where, load_weights()) if i.key == "TEL-COV-DT+VKLS-DEPTH")
    capsys.readouterr()
    assert cli("backlog", "show", str(entry), "--backlog", where) == 0
    shown = capsys.readouterr().out
    for text in ("contradiction", "instrument: instemmingsbesluit", "can be changed by: gemeente",
                 "breaks VKLS-DEPTH", "kpn-1 x 0.42 m, dekking 0.33 m", "leiden-vkls, Leiden, works 2026-01-01"):
        assert text in " ".join(shown.split()), text
    assert max(len(line) for line in shown.splitlines()) <= 100


# ---- workflow ----------------------------------------------------------------------------------

def populated(where: str) -> str:
    bl.log_frictions(where, [friction(1, "cases/a/case.yaml", 0.5), friction(2, "cases/b/case.yaml", 0.05)], "r1")
    bl.log_frictions(where, [Friction("contradiction", (ref("T-A", "One"), ref("T-B", "Other")), "pair", "warning",
                                      "fpair", "cases/c/case.yaml", "Delft", "2031-06-01", ("w",), None, None, "", None,
                                      "m", "pair message", "pair evidence")], "r1")
    return where


def test_status_phase_and_history(where: str) -> None:
    populated(where)
    first = bl.list_items(where, load_weights(), rank="id")[0].id
    with pytest.raises(LiggingError):
        bl.set_status(where, first, "proposed", "too early", who="ann")
    with pytest.raises(LiggingError):
        bl.set_status(where, first, "triaged", "no class yet", who="ann")
    with pytest.raises(LiggingError):
        bl.triage(where, first, "no-such-class")
    bl.triage(where, first, "regulatory-friction", "two rules rub", who="ann")
    bl.set_status(where, first, "proposed", "draft to OT6", who="bob")
    bl.set_phase(where, first, "praktijktoets", "tried on Leiden", who="bob")
    bl.set_status(where, first, "harmonised", "adopted", who="bob")
    with pytest.raises(LiggingError):
        bl.set_status(where, first, "rejected", "after the fact", who="bob")
    with pytest.raises(LiggingError):
        bl.set_phase(where, first, "nowhere", "x")
    d = bl.detail(where, first, load_weights())
    assert (d.item.status, d.item.triage, d.item.phase) == ("harmonised", "regulatory-friction", "praktijktoets")
    assert [(h.who, h.field, h.old, h.new) for h in d.history] == [
        (bl.default_who(), "status", "", "new"), ("ann", "triage", "", "regulatory-friction"),
        ("ann", "status", "new", "triaged"), ("ann", "phase", "inzicht", "prioriteren"),
        ("bob", "status", "triaged", "proposed"), ("bob", "phase", "prioriteren", "integratie"),
        ("bob", "phase", "integratie", "praktijktoets"), ("bob", "status", "proposed", "harmonised")]
    assert all(h.at for h in d.history)
    with pytest.raises(LiggingError):
        bl.triage(where, 999, "data-problem")


def test_merge_moves_occurrences_and_logging_lands_on_the_kept_entry(where: str) -> None:
    populated(where)
    ids = {i.key: i.id for i in bl.list_items(where, load_weights())}
    bl.merge(where, ids["T-R1"], ids["T-R2"], "same friction", who="ann")
    items = {i.id: i for i in bl.list_items(where, load_weights(), rank="id")}
    assert sorted(items) == sorted([ids["T-R1"], ids["T-A+T-B"]])
    kept = items[ids["T-R1"]]
    assert kept.occurrences == 2 and kept.cases == ("cases/a/case.yaml", "cases/b/case.yaml")
    assert {r.rule for r in kept.rules} == {"T-R1", "T-R2"}
    with pytest.raises(LiggingError, match="merged into"):
        bl.merge(where, ids["T-R2"], ids["T-A+T-B"])
    with pytest.raises(LiggingError):
        bl.merge(where, ids["T-R1"], ids["T-R1"])
    bl.log_frictions(where, [friction(2, "cases/b/case.yaml")])
    assert bl.detail(where, ids["T-R1"], load_weights()).item.occurrences == 3
    assert count(where, "entries", "WHERE merged_into IS NULL") == 2


def test_filters_and_related_entries(where: str) -> None:
    populated(where)
    bl.log_frictions(where, [Friction("space", (ref("T-A", "One"),), "single", "error", "fa", "cases/d/case.yaml",
                                      "", "", (), None, None, "", None, "m", "m", "e")])
    items = {i.key: i for i in bl.list_items(where, load_weights())}
    assert items["T-A"].related == (items["T-A+T-B"].id,) and items["T-R1"].related == ()
    assert [i.key for i in bl.list_items(where, load_weights(), authority="other")] == ["T-A+T-B"]
    assert [i.key for i in bl.list_items(where, load_weights(), rule="T-B")] == ["T-A+T-B"]
    assert [i.key for i in bl.list_items(where, load_weights(), kind="contradiction")] == ["T-A+T-B"]
    assert bl.list_items(where, load_weights(), phase="integratie") == []
    with pytest.raises(LiggingError):
        bl.list_items(where, load_weights(), kind="authority")


# ---- urgency: timing from the cases' planned dates -------------------------------------------

def test_works_starting_sooner_rank_higher(where: str) -> None:
    frictions = [friction(k, f"cases/{k}/case.yaml", 0.1, planned) for k, planned in
                 enumerate(("2031-12-01", "2027-03-01", "2026-12-15", "2024-01-01", ""), start=1)]
    bl.log_frictions(where, frictions)
    items = bl.list_items(where, load_weights(), today=TODAY)
    soon = {i.key: i.urgency.soon for i in items}
    # works in 5 years or more: 0; in 3 months: nearly all; this month: all; three years ago: done (0); no date: 0
    assert soon == {"T-R1": 0.0, "T-R2": pytest.approx(20 * (1 - 90 / 1826.25), abs=0.01),
                    "T-R3": pytest.approx(20 * (1 - 14 / 1826.25), abs=0.01), "T-R4": 0.0, "T-R5": 0.0}
    assert [i.key for i in items][:2] == ["T-R3", "T-R2"]
    assert {i.key: i.planned for i in items}["T-R4"] == "2024-01-01"
    override = Path(where).with_name("w.toml") if not where.startswith("postgresql") else None
    if override is not None:
        override.write_text("[soon]\nhorizon = 10\n", encoding="utf-8")
        assert {i.key: i.urgency.soon for i in bl.list_items(where, load_weights(override), today=TODAY)}["T-R1"] \
            == pytest.approx(20 * (1 - 1826 / 3652.5), abs=0.01)


# ---- reading: the terminal, XLSX, Markdown, HTML ------------------------------------------------

@pytest.mark.parametrize("width", [60, 80, 100, 140])
def test_list_fits_the_terminal_and_wide_shows_everything(tmp_path: Path, width: int) -> None:
    from io import StringIO

    from rich.console import Console

    where = str(tmp_path / "b.db")
    populated(where)
    bl.log_frictions(where, [Friction("space", (ref("T-" + "LONG-" * 6 + "ID"),), "a title " * 12, "error", "fl",
                                      "cases/e/case.yaml", "Rotterdam", "2027-01-01", (), None, None, "", 0.3, "m",
                                      "m", "e")])
    out = StringIO()
    backlog_views.render_list(Console(file=out, width=width, color_system=None), bl.list_items(where, load_weights()))
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= width
    assert sum("T-A ↔ T-B" in line for line in lines) == 1
    wide = StringIO()
    backlog_views.render_list(Console(file=wide, width=1000, color_system=None), bl.list_items(where, load_weights()),
                              wide=True)
    text = wide.getvalue()
    assert "can be changed by" in text and "norm: test norm" in text and "+soon" in text and "Rotterdam" in text


def test_xlsx_is_laid_out_for_reading(where: str, tmp_path: Path) -> None:
    populated(where)
    bl.add_manual(where, [ref("T-R1")], "=HYPERLINK(\"http://evil\")", note="@SUM(A1)", who="ann")
    items, occurrences = bl.register(where, load_weights())
    out = tmp_path / "out.xlsx"
    backlog_views.write("xlsx", items, dict(occurrences), out, "x", "2026-12-01")
    book = load_workbook(out)
    assert book.sheetnames == ["entries", "occurrences"]
    entries, occ = book["entries"], book["occurrences"]
    assert [c.value for c in entries[1]] == [name for name, _ in backlog_views.ENTRY_COLUMNS]
    assert [r[0].value for r in entries.iter_rows(min_row=2)] == [i.id for i in items]
    assert occ.max_row - 1 == sum(len(v) for v in occurrences.values()) == 4
    for sheet in (entries, occ):
        assert sheet.freeze_panes == "B2" and sheet.auto_filter.ref.startswith("A1:")
        assert all(c.font.bold for c in sheet[1])
        assert sheet.column_dimensions["E"].width >= 10
        assert all(c.alignment.wrap_text for row in sheet.iter_rows(min_row=2) for c in row)
        assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    evidence = [c.value for row in occ.iter_rows(min_row=2) for c in row if isinstance(c.value, str) and "@SUM" in c.value]
    assert evidence and all(v.startswith("logged by hand") for v in evidence)
    assert entries.column_dimensions["E"].width == dict(backlog_views.ENTRY_COLUMNS)["title"]


def test_markdown_and_html_views(tmp_path: Path) -> None:
    where = str(tmp_path / "b.db")
    populated(where)
    bl.add_manual(where, [ref("T-R9")], "<script>alert(1)</script>", case_path="cases/d/case.yaml")
    items, occurrences = bl.register(where, load_weights())
    md = backlog_views.markdown(items).splitlines()
    assert len(md) == 2 + len(items)
    page = backlog_views.register_html(items, dict(occurrences), where, "2026-12-01")
    assert "<script>" not in page and "&lt;script&gt;" in page and "<link" not in page
    assert page.count('<tr class="entry') == len(items) and page.count('<tr class="occurrence"') == 4


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_html_register_renders_in_headless_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("Debian package chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    monkeypatch.chdir(ROOT)
    where = str(tmp_path / "b.db")
    assert cli("check", "cases/", "--log", "--backlog", where, "--format", "json") == 1
    page_file = tmp_path / "register.html"
    assert cli("backlog", "export", "--format", "html", "-o", str(page_file), "--backlog", where) == 0
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=browser, headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 900})
        try:
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_file.as_uri(), wait_until="load")
            rows = page.locator("tr.entry").count()
            contradictions = page.locator("tr.entry.contradiction").count()
            overflow = page.evaluate("document.documentElement.scrollWidth")
            page.locator("tr.more details summary").first.click()
            opened = page.locator("tr.more details[open] table.rules").count()
            shot = page.screenshot(full_page=False)
        finally:
            context.close()
    assert problems == [] and requests == [page_file.as_uri()]
    items = bl.list_items(where, load_weights())
    assert rows == len(items) and contradictions == sum(i.friction == "contradiction" for i in items) > 0
    assert overflow <= 1280  # the register fits the window: long evidence wraps
    assert opened == 1
    import io

    import numpy as np
    from PIL import Image

    image = np.asarray(Image.open(io.BytesIO(shot)).convert("RGB"), dtype=np.uint32)
    packed = (image[..., 0] << 16) | (image[..., 1] << 8) | image[..., 2]
    assert len(np.unique(packed)) > 20 and np.mean(packed != 0xFFFFFF) > 0.03


def test_report_gains_an_escaped_backlog_section(tmp_path: Path) -> None:
    where = str(tmp_path / "b.db")
    populated(where)
    bl.add_manual(where, [ref("T-R7")], "<script>alert(1)</script>", amount=3.0, unit="m")
    out = tmp_path / "r.html"
    assert cli("report", str(ROOT / "cases" / "nen-nieuwbouw-trottoir"), "-o", str(out), "--backlog", where) == 0
    text = out.read_text(encoding="utf-8")
    assert text.count('<section id="backlog">') == 1 and text.count('<tr class="entry') == 4
    assert "<script>" not in text and "&lt;script&gt;" in text and "computed evidence 1" in text
    assert cli("report", str(ROOT / "cases" / "nen-nieuwbouw-trottoir"), "-o", str(out), "--backlog",
               str(tmp_path / "absent.db")) == 2


# ---- CSV: an exact round trip, and bad rows refused by position ---------------------------------

def _csv_rows(file: Path) -> list[list[str]]:
    import csv

    with file.open(encoding="utf-8", newline="") as fh:
        return [row[1:] for row in csv.reader(fh)]  # all but the entry id


def test_csv_export_import_is_an_exact_round_trip(where: str, tmp_path: Path) -> None:
    populated(where)
    for k in range(3):
        bl.add_manual(where, [ref("T-R1")], f"=1+{k}", who="ann")
    bl.triage(where, bl.list_items(where, load_weights(), rank="id")[0].id, "data-problem")
    items, occurrences = bl.register(where, load_weights())
    backlog_csv.export(items, dict(occurrences), tmp_path / "a.csv")
    other = str(tmp_path / "other.db")
    first = backlog_csv.import_csv(other, tmp_path / "a.csv")
    assert (first.entries_added, first.entries_present, first.occurrences_added, first.created) == (3, 0, 6, True)
    again = backlog_csv.import_csv(other, tmp_path / "a.csv")
    assert (again.entries_added, again.entries_present, again.occurrences_added) == (0, 3, 0)
    items2, occurrences2 = bl.register(other, load_weights())
    backlog_csv.export(items2, dict(occurrences2), tmp_path / "b.csv")
    assert _csv_rows(tmp_path / "a.csv") == _csv_rows(tmp_path / "b.csv")
    assert count(other, "occurrences") == count(where, "occurrences") == 6


LEGACY_HEADER = ("id,status,triage,friction,title,rules,packs,versions,authorities,sources,case,municipality,planned,"
                 "severity,amount,unit,occurrences,cases,cases_affected,linked,urgency_cases,urgency_severity,"
                 "urgency_deviation,urgency_soon,urgency,fingerprint,evidence")


def legacy_row(occurrences: str = "3", planned: str = "2027", amount: str = "0.2", friction_: str = "space",
               rules: str = "TEL-COV-DT") -> str:
    return (f'1,triaged,regulatory-friction,{friction_},ondiep,"{rules}",telecom,2024,gemeente,src,'
            f"cases/a/case.yaml,Leiden,{planned},error,{amount},m,{occurrences},cases/a/case.yaml,1,,1,1,1,1,4,"
            "sha256:abc,evidence")


def test_a_release_0_1_csv_export_imports(tmp_path: Path) -> None:
    file = tmp_path / "old.csv"
    file.write_text(LEGACY_HEADER + "\n" + legacy_row() + "\n" + legacy_row(
        friction_="authority", rules="DUN-COV-MIN\nDW-COV-MIN").replace(",ondiep,", ",water,") + "\n", encoding="utf-8")
    where = str(tmp_path / "b.db")
    done = backlog_csv.import_csv(where, file)
    assert (done.entries_added, done.occurrences_added) == (2, 6)
    items = {i.key: i for i in bl.list_items(where, load_weights())}
    assert set(items) == {"TEL-COV-DT", "DUN-COV-MIN"}  # Dunea and the drinking-water practice ask the same: one entry
    assert [r.role for r in items["DUN-COV-MIN"].rules] == ["rubs", "agrees"]
    assert (items["TEL-COV-DT"].status, items["TEL-COV-DT"].phase) == ("triaged", "prioriteren")
    assert backlog_csv.import_csv(where, file).occurrences_added == 0


@pytest.mark.parametrize("mutate, fragment", [
    (lambda row: row.replace(",0.2,m,", ",nan,m,"), "not a finite number"),
    (lambda row: row.replace(",0.2,m,", ",inf,m,"), "not a finite number"),
    (lambda row: row.replace(",0.2,m,", ",1e999,m,"), "not a finite number"),
    (lambda row: row.replace(",m,3,", ",m,1000000000000000000000000000000,"), "outside 1..1000"),
    (lambda row: row.replace(",Leiden,2027,", ",Leiden,99999999999999999999999999999,"), "outside 1000..9999"),
    (lambda row: row.replace(",m,3,", ",m,-4,"), "outside 1..1000"),
    (lambda row: row.replace(",space,", ",authority2,"), "is not one of"),
    (lambda row: row.replace(",evidence", ",\"" + "x" * 200_000 + "\""), "field larger than field limit"),
])
def test_bad_legacy_rows_are_refused_with_their_position(tmp_path: Path, mutate: object, fragment: str,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "bad.csv"
    assert callable(mutate)
    file.write_text(LEGACY_HEADER + "\n" + legacy_row() + "\n" + mutate(legacy_row()) + "\n", encoding="utf-8")
    where = tmp_path / "b.db"
    started = time.monotonic()
    with pytest.raises(LiggingError) as info:
        backlog_csv.import_csv(str(where), file)
    assert time.monotonic() - started < 5
    assert fragment in info.value.diagnostic.message and info.value.diagnostic.span.line == 3
    assert not where.exists()  # nothing imported, nothing created
    assert cli("backlog", "import", str(file), "--backlog", str(where)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ligging: {file}:3:") and err.count("\n") == 1


def test_bad_current_rows_are_refused_with_their_position(tmp_path: Path) -> None:
    where = str(tmp_path / "b.db")
    populated(where)
    items, occurrences = bl.register(where, load_weights())
    good = tmp_path / "good.csv"
    backlog_csv.export(items, dict(occurrences), good)
    lines = good.read_text(encoding="utf-8").splitlines(keepends=True)
    for old, new, fragment in ((',"[""a"", ""b""]",', ',"[1, 2]",', "JSON list"),
                               (",2027-06-01,", ",2027-13-45,", "not a date"),
                               (",0.2,0.3,", ",NaN,0.3,", "not a finite number"),
                               (",T-R2,space,", ",T-R9,space,", "does not match the rules")):
        bad = tmp_path / "bad.csv"
        bad.write_text("".join(lines[:2]) + lines[2].replace(old, new, 1) + "".join(lines[3:]), encoding="utf-8")
        assert lines[2].replace(old, new, 1) != lines[2], old
        with pytest.raises(LiggingError) as info:
            backlog_csv.import_csv(str(tmp_path / "fresh.db"), bad)
        assert fragment in info.value.diagnostic.message and info.value.diagnostic.span.line == 3
    header_only = tmp_path / "h.csv"
    header_only.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(LiggingError, match="not a backlog CSV export"):
        backlog_csv.import_csv(str(tmp_path / "fresh.db"), header_only)
    nul = tmp_path / "nul.csv"
    nul.write_text(lines[0] + lines[1].replace("space", "sp\0ace", 1), encoding="utf-8")
    with pytest.raises(LiggingError):
        backlog_csv.import_csv(str(tmp_path / "fresh.db"), nul)
    assert not (tmp_path / "fresh.db").exists()


# ---- the migration from release 0.1.0 --------------------------------------------------------

def test_a_release_0_1_backlog_migrates_without_losing_anything(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "backlog.db"
    shutil.copy(RELEASE_0_1, path)
    old = sqlite3.connect(path)
    old_occ = old.execute("SELECT count(*) FROM occurrences").fetchone()[0]
    old_hist = old.execute("SELECT count(*) FROM history").fetchone()[0]
    old_entries = old.execute("SELECT count(*) FROM entries").fetchone()[0]
    old_keys = {r[0] for r in old.execute("SELECT group_concat(rule, '+') FROM (SELECT entry_id, rule FROM entry_rules "
                                          "ORDER BY entry_id, rule) GROUP BY entry_id")}
    old.close()
    items = {i.key: i for i in bl.list_items(str(path), load_weights(), rank="id")}
    assert count(str(path), "occurrences") == old_occ and count(str(path), "entries") == old_entries
    assert count(str(path), "history") > old_hist
    # NEN-COV-W has left the shipped packs (Dunea's figure under NEN's name): nothing tells the migration
    # that it asked what Dunea asks, so its entry stays as 0.1 logged it
    assert set(items) == old_keys
    trees = items["BOOM-HART-TRACE"]
    assert (trees.status, trees.triage, trees.phase) == ("proposed", "regulatory-friction", "integratie")
    assert len(trees.cases) == 4 and trees.occurrences == 13
    water = items["DUN-COV-MIN+NEN-COV-W"]
    assert [(r.rule, r.role) for r in water.rules] == [("DUN-COV-MIN", "rubs"), ("NEN-COV-W", "rubs")]
    # the rejected TEL-COV-DT entry of 0.1 is folded into the one with more work on it, its state kept in the note
    fibre = bl.detail(str(path), items["TEL-COV-DT"].id, load_weights())
    assert fibre.item.status == "triaged" and any("it was rejected, triaged as encoding-error" in h.note
                                                  for h in fibre.history)
    with pytest.raises(LiggingError, match="merged into"):
        bl.detail(str(path), 2, load_weights())  # an old id still answers
    with open_backlog(str(path), "read") as db:
        assert db.version() == len(MIGRATIONS) == 3
    assert cli("check", str(ROOT / "cases" / "leiden-vkls"), "--log", "--backlog", str(path)) == 1
    assert count(str(path), "entries", "WHERE merged_into IS NULL") > len(items)


def test_migrations_refuse_a_newer_schema(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "backlog.db"
    bl.log_frictions(str(path), [friction(1)])
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    con.commit()
    con.close()
    with pytest.raises(LiggingError, match="newer than this ligging knows"):
        bl.list_items(str(path), load_weights())


# ---- SQLite files: foreign, corrupt, read-only, missing -----------------------------------------

@pytest.mark.parametrize("content", [
    b"just some text, not a database\n",
    b"SQLite format 3\x00" + bytes(range(256)) * 20,
    "truncated",
    "foreign",
])
def test_corrupt_or_foreign_file_exits_2_and_is_left_untouched(tmp_path: Path, content: bytes | str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    import sqlite3

    path = tmp_path / "backlog.db"
    if content == "truncated":
        bl.log_frictions(str(path), [friction(i) for i in range(300)], "r")
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif content == "foreign":
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE orders (id INTEGER)")
        con.commit()
        con.close()
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    before = path.read_bytes()
    for args in (("backlog", "list"), ("backlog", "add", "--rule", "TEL-COV-DT", "--title", "x")):
        assert cli(*args, "--backlog", str(path)) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"ligging: {path}:1:1: ") and err.count("\n") == 1
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backlog.db"]


def test_reading_never_creates_a_backlog_and_writing_says_it_did(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    for args in (("backlog", "list"), ("backlog", "show", "1"), ("backlog", "export", "--format", "csv", "-o", "x.csv"),
                 ("backlog", "triage", "1", "data-problem"), ("backlog", "merge", "1", "2")):
        assert cli(*args, "--backlog", "typo.db") == 2
        err = capsys.readouterr().err
        assert err.startswith("ligging: typo.db:1:1: no backlog here") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
    assert cli("backlog", "add", "--rule", "TEL-COV-DT", "--title", "x", "--backlog", "new.db") == 0
    captured = capsys.readouterr()
    assert captured.err == "backlog new.db: new backlog created\n" and captured.out == "backlog entry 1\n"
    assert cli("backlog", "add", "--rule", "TEL-COV-DT", "--title", "x", "--backlog", "new.db") == 0
    assert capsys.readouterr().err == ""
    assert cli("backlog", "add", "--rule", "TEL-COV-DT", "--title", "x", "--backlog", "nofolder/new.db") == 2


def _as_other_user(fn: object, *args: object) -> object:
    """Run fn(*args) with this process's rights, or as user nobody when the tests run as root."""
    assert callable(fn)
    if os.geteuid() != 0:
        return fn(*args)
    ctx = mp.get_context("fork")
    queue = ctx.Queue()

    def child() -> None:
        os.setgid(65534)
        os.setuid(65534)
        try:
            queue.put(("ok", fn(*args)))
        except BaseException as exc:  # report whatever happened to the parent
            queue.put(("error", f"{type(exc).__name__}: {exc}"))

    proc = ctx.Process(target=child)
    proc.start()
    proc.join(60)
    status, value = queue.get(timeout=5)
    if status == "error":
        raise AssertionError(value)
    return value


def _keys(where: str) -> list[str]:
    return [i.key for i in bl.list_items(where, load_weights())]


def _refused(where: str) -> str:
    try:
        bl.log_frictions(where, [friction(5)])
    except LiggingError as exc:
        return exc.diagnostic.message
    return "written"


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A folder other users may enter (tmp_path is root's own when the tests run as root)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="ligging-backlog-ro-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder, ignore_errors=True)


def test_a_read_only_backlog_is_read_and_leaves_nothing_behind(shared_dir: Path) -> None:
    path = shared_dir / "backlog.db"
    bl.log_frictions(str(path), [friction(1), friction(2)])
    path.chmod(0o444)
    before = path.read_bytes()
    assert _as_other_user(_keys, str(path)) == ["T-R1", "T-R2"]
    assert "read-only" in str(_as_other_user(_refused, str(path)))
    assert sorted(p.name for p in shared_dir.iterdir()) == ["backlog.db"]
    assert path.read_bytes() == before


def test_a_writable_backlog_in_a_read_only_folder_is_read_not_called_corrupt(shared_dir: Path) -> None:
    path = shared_dir / "backlog.db"
    bl.log_frictions(str(path), [friction(1)])
    path.chmod(0o666)
    shared_dir.chmod(0o555)
    assert _as_other_user(_keys, str(path)) == ["T-R1"]
    message = str(_as_other_user(_refused, str(path)))
    assert "folder" in message and "not writable" in message and "corrupt" not in message
    assert sorted(p.name for p in shared_dir.iterdir()) == ["backlog.db"]


def test_a_read_only_release_0_1_backlog_is_read_through_a_private_upgrade(shared_dir: Path) -> None:
    path = shared_dir / "backlog.db"
    shutil.copy(RELEASE_0_1, path)
    path.chmod(0o444)
    before = path.read_bytes()
    keys = _as_other_user(_keys, str(path))
    assert isinstance(keys, list) and "BOOM-HART-TRACE" in keys
    assert path.read_bytes() == before and sorted(p.name for p in shared_dir.iterdir()) == ["backlog.db"]


# ---- PostgreSQL: foreign schemas, unreachable servers, passwords ----------------------------------

def test_postgres_refuses_a_foreign_schema_and_hides_passwords(pg_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    import psycopg

    with postgres.database(pg_url) as url:
        with psycopg.connect(url, autocommit=True) as con:
            con.execute("CREATE SCHEMA ligging")
            con.execute("CREATE TABLE ligging.orders (id int)")
        with pytest.raises(LiggingError, match="made by another program"):
            bl.list_items(url, load_weights())
    with postgres.database(pg_url) as url:
        with pytest.raises(LiggingError, match="no backlog in this database"):
            bl.list_items(url, load_weights())
        with psycopg.connect(url, autocommit=True) as con:
            assert con.execute("SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'ligging'"
                               ).fetchone() == (0,)
    port = pg_url.rsplit(":", 1)[1].split("/")[0]
    dead = f"postgresql://ann:s3cret@127.0.0.1:{int(port) + 1 if int(port) < 65535 else 1}/x"
    assert cli("backlog", "list", "--backlog", dead) == 2
    err = capsys.readouterr().err
    assert err.startswith("ligging: postgresql://ann@127.0.0.1:") and "s3cret" not in err and err.count("\n") == 1


def test_backlog_env_var_selects_the_server(pg_url: str, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    with postgres.database(pg_url) as url:
        monkeypatch.setenv("LIGGING_BACKLOG", url)
        assert cli("backlog", "add", "--rule", "TEL-COV-DT", "--rule", "VKLS-DEPTH", "--title", "rack too shallow") == 0
        assert "new backlog created" in capsys.readouterr().err
        assert [i.key for i in bl.list_items(None, load_weights())] == ["TEL-COV-DT+VKLS-DEPTH"]


def test_layout_log_records_each_rule_that_must_give_way(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    where = str(tmp_path / "b.db")
    # the VKLS rack keeps its designed depth and place (VKLS-ONTWERP): the covers of its shallow tiers give way, and
    # so does the distance between the water and heat tiers
    assert cli("layout", str(ROOT / "cases" / "leiden-vkls-conform"), "--log", "--backlog", where) == 1
    assert "new backlog created" in capsys.readouterr().err
    items = {i.key: i for i in bl.list_items(where, load_weights())}
    assert {"TEL-COV-DT", "NEN-COV-LS", "NEN-COV-MS", "VKLS-WARMTE-WATER", "WRM-WATER"} <= set(items)
    assert "VKLS-DEPTH" not in items
    assert items["VKLS-WARMTE-WATER"].friction == "data" and items["TEL-COV-DT"].friction == "space"
    # the heat operator's 1 m from drinking water is judged inside the rack too: its value is a placeholder
    assert items["WRM-WATER"].friction == "data"
    detail = bl.detail(where, items["TEL-COV-DT"].id, load_weights())
    assert [o.origin for o in detail.occurrences] == ["layout"] and "0.60" in detail.item.evidence


@pytest.mark.parametrize("args", [
    ("backlog", "show", "99999999999999999999999"),
    ("backlog", "merge", "1", "99999999999999999999999"),
    ("backlog", "triage", "0", "data-problem"),
    ("backlog", "add", "--rule", "TEL-COV-DT", "--title", "x", "--amount", "nan"),
    ("backlog", "add", "--rule", "TEL-COV-DT", "--rule", "NEN-COV-LS", "--rule", "VKLS-DEPTH", "--title", "x"),
    ("backlog", "list", "--status", "bogus"),
    ("backlog", "list", "--backlog", "postgresql://ann:pw@127.0.0.1:1/x"),
])
def test_hostile_command_lines_end_in_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...],
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    where = str(tmp_path / "b.db")
    bl.log_frictions(where, [friction(1)])
    full = args if "--backlog" in args else (*args, "--backlog", where)
    assert cli(*full) == 2
    err = capsys.readouterr().err
    assert err.startswith("ligging: ") and err.count("\n") == 1 and "pw@" not in err


# ---- friction on depths nobody measured (imported KLIC lines) ------------------------------------

def occurrences(where: str, key: str) -> list[bl.Occurrence]:
    """Return the occurrences logged beneath the entry of a rule (or rule pair)."""
    entry = next(i.id for i in bl.list_items(where, load_weights()) if i.key == key)
    return list(bl.detail(where, entry, load_weights()).occurrences)


def test_friction_on_a_declared_depth_is_a_data_question(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    where = str(tmp_path / "b.db")
    case = ROOT / "cases" / "best-imkl-voorbeeld" / "case.yaml"
    assert cli("check", str(case), "--log", "--backlog", where, "--format", "json") == 0
    capsys.readouterr()
    items = {i.key: i for i in bl.list_items(where, load_weights())}
    assert items["NEN-COV-MS"].friction == "data"
    features = {o.id: o.source.feature for o in load_case(case).objects if o.source is not None}
    found = occurrences(where, "NEN-COV-MS")
    assert sorted(o.subjects[0] for o in found) == sorted(["kb-1", *(f"ms-{k}" for k in range(1, 10))])
    for o in found:
        (sid,) = o.subjects
        text = " ".join(o.evidence.split())
        assert o.friction == "data" and o.measured == pytest.approx(0.60)
        assert f"the cover of {sid} ({features[sid]}), 0.60 m, is the net's declared standard depth" in text
        # 0.30 m deeper the 0.80 m is met; 0.30 m higher it measures 0.30 m
        assert "0.30 m deeper it is met, 0.30 m higher it measures 0.300 m" in text


DEEP_PACK = """\
pack diep
  title "Testgemeente: waterleidingen dieper"
  authority "Testgemeente"
  version "1"
  instrument beleidsregel "a test pack" by "gemeente"

include imkl

rule DIEP-W
  title "Waterleiding 1,20 m diep"
  severity error
  negotiability 2
  source "a test pack"
  illustrative "a municipality asking more cover of water than the drinking-water companies allow, for this test"
  require cover water >= 1.20 m
"""

SHALLOW_PACK = """\
pack ondiep
  title "Testbedrijf: waterleidingen ten hoogste 1,00 m"
  authority "Testbedrijf"
  version "1"
  instrument voorwaarden "a test pack" by "drinkwaterbedrijf"

include imkl

rule ONDIEP-W
  title "Waterleiding ten hoogste 1,00 m diep"
  severity warning
  negotiability 2
  source "a test pack (a value taken as sourced, so that only the depth can make it a data question)"
  require cover water <= 1.00 m
"""


def test_friction_on_an_assumed_depth_is_data_and_on_a_measured_one_is_not(tmp_path: Path,
                                                                         capsys: pytest.CaptureFixture[str]) -> None:
    pack = tmp_path / "diep.rules"
    pack.write_text(DEEP_PACK, encoding="utf-8")
    shallow = tmp_path / "ondiep.rules"
    shallow.write_text(SHALLOW_PACK, encoding="utf-8")
    cut = tmp_path / "cut.yaml"
    # the water lines have no depth in the delivery: the import assumes the deepest minimum cover, 1.20 m
    assert cli("import", str(ROOT / "tests" / "data" / "imkl" / "imkl2" / "two-crossings.xml"),
               "--line", "155020,388014 155020,388026", "--pack", "nen7171", "--pack", str(pack), "-o", str(cut)) == 0
    main = next(o for o in load_case(cut).objects if o.source is not None and o.source.feature.endswith(".w_main"))
    assert (main.cover, main.source.depth) == (1.2, "assumed")
    assumed = str(tmp_path / "assumed.db")
    # checked against an operator who wants it no deeper than 1.00 m
    assert cli("check", str(cut), "--pack", str(shallow), "--log", "--backlog", assumed, "--format", "json") == 0
    capsys.readouterr()
    found = {o.subjects: o for o in occurrences(assumed, "ONDIEP-W")}
    assert {o.friction for o in found.values()} == {"data"}
    text = " ".join(found[(main.id,)].evidence.split())
    assert f"the cover of {main.id} (nl.imkl-KL9999.w_main), 1.20 m, is assumed" in text
    assert "0.30 m deeper it measures 1.500 m, 0.30 m higher it is met" in text
    # the same cut with the main's depth measured: the street as it lies, no data question
    cut.write_text(cut.read_text(encoding="utf-8").replace(
        "feature: nl.imkl-KL9999.w_main, depth: assumed", "feature: nl.imkl-KL9999.w_main, depth: measured"),
        encoding="utf-8")
    measured = str(tmp_path / "measured.db")
    assert cli("check", str(cut), "--pack", str(shallow), "--log", "--backlog", measured, "--format", "json") == 0
    found = {o.subjects: o for o in occurrences(measured, "ONDIEP-W")}
    assert found[(main.id,)].friction == "space" and "nobody measured" not in found[(main.id,)].evidence
    assert {s: o.friction for s, o in found.items() if s != (main.id,)} == {s: "data" for s in found if s != (main.id,)}


def test_an_assumed_depth_that_decides_nothing_leaves_the_class_alone(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(textwrap.dedent("""\
        ligging: 1
        name: Liander-kabel naast een boom
        width: 4.0
        zones:
          - {kind: trottoir, from: 0, to: 4.0}
        objects:
          - {id: ls-1, network: laagspanning, owner: Liander, status: existing, x: 1.0, cover: 0.5, diameter: 0.04,
             source: {feature: nl.imkl-KL1000.ls, depth: assumed}}
          - {id: boom-1, kind: tree, status: existing, x: 2.5, root_zone: {radius: 0.5, depth: 0.4}}
        """), encoding="utf-8")
    where = str(tmp_path / "b.db")
    assert cli("check", str(case), "--log", "--backlog", where, "--format", "json") == 0
    capsys.readouterr()
    items = {i.key: i for i in bl.list_items(where, load_weights())}
    # how far the cable lies from the tree's heart does not depend on its depth: the room, not the data
    assert items["BOOM-HART-TRACE"].friction == "space" and "nobody measured" not in items["BOOM-HART-TRACE"].evidence
    # its cover does
    assert items["NEN-COV-LS"].friction == "data"
    assert "the cover of ls-1 (nl.imkl-KL1000.ls), 0.50 m, is assumed" in " ".join(items["NEN-COV-LS"].evidence.split())
