"""The harmonisation backlog: concurrency, crash safety, refusal of foreign files, logging, workflow, exports."""

from __future__ import annotations

import csv
import multiprocessing as mp
import os
import signal
import sqlite3
import textwrap
from pathlib import Path

import pytest
from openpyxl import load_workbook

from checker.engine.evaluate import Engine
from checker.io.loader import load_case
from checker.model.findings import CaseResult
from checker.policy import backlog as bl
from checker.policy.urgency import load_weights, score
from dsl.diagnostics import LiggingError
from dsl.packs import load_packs
from tests.conftest import ROOT, case_text

RULE = bl.RuleRef("TEST-RULE", "test", "1", "Test authority", "test source")


def friction(i: int, case: str = "cases/x/case.yaml", amount: float = 0.1) -> bl.Friction:
    return bl.Friction("space", (RULE,), f"friction {i}", "error", f"fp{i:04d}", case, "Leiden", 2027, ("a", "b"),
                       0.2, 0.3, ">=", amount, "m", f"evidence {i}")


def count(path: Path, table: str) -> int:
    con = sqlite3.connect(path)
    try:
        return int(con.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        con.close()


def _writer(path: str, proc: int, start: mp.synchronize.Event, errors: mp.Queue) -> None:  # type: ignore[name-defined]
    try:
        start.wait(10)
        with bl.open_backlog(path) as db:
            for batch in range(20):
                bl.log_frictions(db, [friction(batch * 10 + k) for k in range(10)], f"run-{proc}", who=f"w{proc}")
    except BaseException as exc:
        errors.put(f"{type(exc).__name__}: {exc}")
        raise


def test_eight_concurrent_writers_lose_nothing_and_duplicate_nothing(tmp_path: Path) -> None:
    path = tmp_path / "backlog.db"
    bl.open_backlog(path).close()
    ctx = mp.get_context("fork")
    start, errors = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(str(path), p, start, errors)) for p in range(8)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0] * 8
    assert errors.empty()
    assert count(path, "occurrences") == 1600
    assert count(path, "entries") == 200
    con = sqlite3.connect(path)
    per_entry = con.execute("SELECT entry_id, count(*), count(DISTINCT run_id) FROM occurrences GROUP BY entry_id").fetchall()
    dupes = con.execute("SELECT count(*) FROM (SELECT fingerprint, case_path, run_id FROM occurrences "
                        "GROUP BY 1, 2, 3 HAVING count(*) > 1)").fetchone()[0]
    con.close()
    assert {(n, runs) for _, n, runs in per_entry} == {(8, 8)}
    assert dupes == 0


def _killed_writer(path: str, inside: mp.synchronize.Event) -> None:  # type: ignore[name-defined]
    with bl.open_backlog(path) as db:
        for batch in range(3):
            bl.log_frictions(db, [friction(batch * 10 + k) for k in range(10)], "committed")

        def hang(con: sqlite3.Connection) -> None:
            bl.record(con, [friction(1000 + k) for k in range(500)], "uncommitted", "w")
            inside.set()
            signal.pause()

        db.write(hang)


def test_writer_killed_mid_transaction_leaves_exactly_the_committed_entries(tmp_path: Path) -> None:
    path = tmp_path / "backlog.db"
    ctx = mp.get_context("fork")
    inside = ctx.Event()
    proc = ctx.Process(target=_killed_writer, args=(str(path), inside))
    proc.start()
    assert inside.wait(30)
    os.kill(proc.pid or 0, signal.SIGKILL)
    proc.join(10)
    assert proc.exitcode == -signal.SIGKILL
    with bl.open_backlog(path) as db:
        assert db.con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert db.con.execute("SELECT count(*) FROM entries").fetchone()[0] == 30
        assert db.con.execute("SELECT count(DISTINCT run_id) FROM occurrences").fetchall() == [(1,)]
        assert db.con.execute("SELECT count(*) FROM occurrences").fetchone()[0] == 30


@pytest.mark.parametrize("content", [
    b"just some text, not a database\n",
    b"SQLite format 3\x00" + bytes(range(256)) * 20,
    "truncated",
    "foreign",
])
def test_corrupt_or_foreign_file_exits_2_and_is_left_untouched(tmp_path: Path, content: bytes | str,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "backlog.db"
    if content == "truncated":
        with bl.open_backlog(path) as db:
            bl.log_frictions(db, [friction(i) for i in range(300)], "r")
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
    from checker.cli import run

    with pytest.raises(SystemExit) as exit_info:
        run(["backlog", "list", "--backlog", str(path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"ligging: {path}:1:1: ") and err.count("\n") == 1
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backlog.db"]


def test_check_log_twice_on_the_shipped_cases_does_not_double(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from checker.cli import run

    monkeypatch.chdir(ROOT)
    path = tmp_path / "backlog.db"
    sizes = []
    for _ in range(2):
        with pytest.raises(SystemExit) as exit_info:
            run(["check", "cases/", "--format", "json", "--log", "--backlog", str(path)])
        assert exit_info.value.code == 1
        sizes.append((count(path, "entries"), count(path, "occurrences"), count(path, "history")))
    assert sizes[0] == sizes[1]
    assert sizes[0][0] > 0
    kinds = {r[0] for r in sqlite3.connect(path).execute("SELECT DISTINCT friction FROM entries")}
    assert {"space", "accepted", "authority"} <= kinds


def _packs_and_results(case: Path) -> tuple[Engine, CaseResult]:
    engine = Engine(load_packs([]))
    section = load_case(case)
    return engine, CaseResult(section, str(case), tuple(engine.evaluate(section)))


ACCEPT = textwrap.dedent("""\
    planned: 2027
    municipality: Leiden
    accept:
      - {rule: TEL-COV-DT, subjects: [t1], reason: geen ruimte, approved_by: gemeente, until: 2099-12-31, measured: 0.40}
      - {rule: TEL-COV-DT, subjects: [t2], reason: geen ruimte, approved_by: gemeente, until: 2020-12-31, measured: 0.40}
      - {rule: TEL-COV-DT, subjects: [t3], reason: geen ruimte, approved_by: gemeente, until: 2099-12-31, measured: 0.30}
    """)


def test_accepted_deviations_are_honoured_flagged_and_logged(tmp_path: Path) -> None:
    case = tmp_path / "case.yaml"
    case.write_text(case_text("".join(f"- {{id: t{i}, network: datatransport, x: {0.5 + 0.8 * i}, cover: 0.4, "
                                      f"diameter: 0.05}}\n" for i in range(1, 5)), ACCEPT), encoding="utf-8")
    engine, result = _packs_and_results(case)
    states = {f.subjects: dict(f.accepted).get("state") for f in result.findings if f.rule == "TEL-COV-DT"}
    assert states == {("t1",): "accepted", ("t2",): "expired", ("t3",): "stale", ("t4",): None}
    assert result.summary()["error"] == 3  # the granted one does not count
    found = bl.select_friction(result.findings, result.section, result.path, engine.packs)
    # t4 is a plain design error (a move clears it): not friction
    assert sorted((f.subjects, f.kind, f.accepted) for f in found) == [
        (("t1",), "accepted", "accepted"), (("t2",), "accepted", "expired"), (("t3",), "accepted", "stale")]
    assert {f.rules[0].authority for f in found} == {engine.packs.find("TEL-COV-DT")[0].pack.authority}
    assert {(f.municipality, f.planned_year, f.amount) for f in found} == {("Leiden", 2027, 0.2)}


def populated(tmp_path: Path) -> Path:
    path = tmp_path / "backlog.db"
    with bl.open_backlog(path) as db:
        bl.log_frictions(db, [friction(1, "cases/a/case.yaml", 0.5), friction(2, "cases/b/case.yaml", 0.05)], "r1")
        bl.log_frictions(db, [bl.Friction("authority", (RULE, bl.RuleRef("OTHER", "o", "2", "Other", "s")), "pair",
                                          "warning", "fpair", "cases/c/case.yaml", "Delft", 2040, ("w",), None, None,
                                          "", None, "m", "pair evidence")], "r1")
    return path


def test_status_transitions_are_validated_and_every_change_has_history(tmp_path: Path) -> None:
    path = populated(tmp_path)
    with pytest.raises(LiggingError):
        bl.set_status(path, 1, "proposed", "too early", who="ann")
    with pytest.raises(LiggingError):
        bl.set_status(path, 1, "triaged", "no class yet", who="ann")
    with pytest.raises(LiggingError):
        bl.triage(path, 1, "no-such-class")
    bl.triage(path, 1, "regulatory-friction", "two rules rub", who="ann")
    bl.set_status(path, 1, "proposed", "draft to OT6", who="bob")
    bl.set_status(path, 1, "harmonised", "adopted", who="bob")
    with pytest.raises(LiggingError):
        bl.set_status(path, 1, "rejected", "after the fact", who="bob")
    bl.set_status(path, 2, "rejected", "data problem in the case", who="cy")
    d = bl.detail(path, 1, load_weights())
    assert d.item.status == "harmonised" and d.item.triage == "regulatory-friction"
    assert [(h.who, h.field, h.old, h.new) for h in d.history] == [
        (bl.default_who(), "status", "", "new"), ("ann", "triage", "", "regulatory-friction"),
        ("ann", "status", "new", "triaged"), ("bob", "status", "triaged", "proposed"),
        ("bob", "status", "proposed", "harmonised")]
    assert all(h.at for h in d.history)
    assert [h.note for h in d.history][-2:] == ["draft to OT6", "adopted"]


def test_merge_moves_occurrences_and_rules_and_hides_the_other(tmp_path: Path) -> None:
    path = populated(tmp_path)
    bl.merge(path, 1, 2, "same friction", who="ann")
    items = bl.list_items(path, load_weights(), rank="id")
    assert [i.id for i in items] == [1, 3]
    first = items[0]
    assert first.occurrences == 2 and first.cases == ("cases/a/case.yaml", "cases/b/case.yaml")
    assert first.cases_affected == 2
    with pytest.raises(LiggingError):
        bl.merge(path, 2, 3)
    with pytest.raises(LiggingError):
        bl.merge(path, 1, 1)
    # logging the merged entry's finding again lands on the surviving entry
    with bl.open_backlog(path) as db:
        bl.log_frictions(db, [friction(2, "cases/b/case.yaml")], "r2")
    assert bl.detail(path, 1, load_weights()).item.occurrences == 3


def test_entries_about_the_same_rules_are_linked_and_counted_as_cases(tmp_path: Path) -> None:
    path = populated(tmp_path)
    items = {i.id: i for i in bl.list_items(path, load_weights(), rank="id")}
    assert items[1].linked == (2,) and items[2].linked == (1,) and items[3].linked == ()
    assert items[1].cases_affected == 2 and items[3].cases_affected == 1
    assert [r.rule for r in items[3].rules] == ["TEST-RULE", "OTHER"]
    assert [i.id for i in bl.list_items(path, load_weights(), authority="other")] == [3]
    assert [i.id for i in bl.list_items(path, load_weights(), rule="OTHER")] == [3]
    assert bl.list_items(path, load_weights(), status="triaged") == []


def test_urgency_parts_follow_the_formula_and_weights_override(tmp_path: Path) -> None:
    path = populated(tmp_path)
    items = bl.list_items(path, load_weights(), this_year=2027)
    assert [i.id for i in items] == [1, 2, 3]
    u = items[0].urgency
    assert (u.cases, u.severity, u.deviation, u.soon) == (20.0, 20.0, 20.0, 20.0)
    assert items[2].urgency == score(load_weights(), 1, "warning", None, "m", 2040, 2027)
    assert items[2].urgency.deviation == 10.0 and items[2].urgency.soon == 0.0
    override = tmp_path / "w.toml"
    override.write_text("[weights]\ncases = 0\n[soon]\nhorizon = 20\n", encoding="utf-8")
    other = bl.list_items(path, load_weights(override), this_year=2027)
    assert other[0].urgency.cases == 0.0 and other[-1].urgency.soon == pytest.approx(20 * (1 - 13 / 20), abs=0.01)
    override.write_text("[weights]\ncasess = 1\n", encoding="utf-8")
    with pytest.raises(LiggingError):
        load_weights(override)
    override.write_text("[weights\n", encoding="utf-8")
    with pytest.raises(LiggingError):
        load_weights(override)


def test_exports_hold_the_same_rows_as_list_and_neutralise_formulas(tmp_path: Path) -> None:
    path = populated(tmp_path)
    bl.add_manual(path, [RULE], "=HYPERLINK(\"http://evil\")", note="@SUM(A1)", case_path="cases/d/case.yaml",
                  who="ann")
    items = bl.list_items(path, load_weights())
    listed = [bl.row_values(i) for i in items]
    bl.export(items, "csv", tmp_path / "out.csv")
    bl.export(items, "xlsx", tmp_path / "out.xlsx")
    bl.export(items, "md", tmp_path / "out.md")
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == list(bl.COLUMNS)
    assert [int(r[0]) for r in rows[1:]] == [i.id for i in items]
    sheet = load_workbook(tmp_path / "out.xlsx").active
    assert sheet is not None
    cells = [[c.value for c in row] for row in sheet.iter_rows()]
    assert cells[0] == list(bl.COLUMNS)
    assert [r[0] for r in cells[1:]] == [i.id for i in items]
    score_col = bl.COLUMNS.index("urgency")
    assert [r[score_col] for r in cells[1:]] == [row[score_col] for row in listed]
    title, evidence = bl.COLUMNS.index("title"), bl.COLUMNS.index("evidence")
    manual = next(r for r in cells[1:] if str(r[title]).startswith("'"))
    assert manual[title] == "'=HYPERLINK(\"http://evil\")" and manual[evidence] == "'@SUM(A1)"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    csv_manual = next(r for r in rows[1:] if r[title].startswith("'"))
    assert csv_manual[title].startswith("'=") and csv_manual[evidence].startswith("'@")
    md = (tmp_path / "out.md").read_text(encoding="utf-8").splitlines()
    assert len(md) == 2 + len(items)


def test_csv_import_round_trips(tmp_path: Path) -> None:
    path = populated(tmp_path)
    bl.add_manual(path, [RULE], "=1+1", case_path="cases/d/case.yaml")
    bl.triage(path, 3, "data-problem")
    bl.export(bl.list_items(path, load_weights()), "csv", tmp_path / "a.csv")
    other = tmp_path / "other.db"
    assert bl.import_csv(other, tmp_path / "a.csv") == (4, 0)
    assert bl.import_csv(other, tmp_path / "a.csv") == (0, 4)
    bl.export(bl.list_items(other, load_weights()), "csv", tmp_path / "b.csv")

    def rows(file: Path) -> list[list[str]]:
        with file.open(encoding="utf-8", newline="") as fh:
            out = list(csv.reader(fh))
        skip = {bl.COLUMNS.index(c) for c in ("id", "linked")}
        return [[v for k, v in enumerate(r) if k not in skip] for r in out]

    assert rows(tmp_path / "a.csv") == rows(tmp_path / "b.csv")
    titles = {i.title for i in bl.list_items(other, load_weights())}
    assert "=1+1" in titles
    bad = tmp_path / "bad.csv"
    bad.write_text((tmp_path / "a.csv").read_text(encoding="utf-8").replace(",new,", ",open,", 1), encoding="utf-8")
    with pytest.raises(LiggingError) as info:
        bl.import_csv(tmp_path / "third.db", bad)
    assert info.value.diagnostic.span.line == 2


def test_layout_deviations_are_logged_once_per_run(tmp_path: Path) -> None:
    section = load_case(ROOT / "cases" / "leiden-vkls" / "case.yaml")
    devs = [bl.Deviation("NEN-CLR-GAS-WATER", "nen7171", "src", 0.30, 0.18, "m", ("gas-1", "w-1"))]
    path = tmp_path / "backlog.db"
    first = bl.log_deviations(path, section, devs)
    again = bl.log_deviations(path, section, devs)
    assert (first.new_entries, first.new_occurrences, again.new_entries, again.new_occurrences) == (1, 1, 0, 0)
    item = bl.list_items(path, load_weights())[0]
    assert (item.friction, item.amount, item.unit, item.municipality) == ("space", 0.12, "m", "Leiden")


def test_migrations_apply_in_order_and_keep_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "backlog.db"
    monkeypatch.setattr(bl, "MIGRATIONS", bl.MIGRATIONS[:1])
    con = sqlite3.connect(path, isolation_level=None)
    bl._migrate(con)
    con.execute("INSERT INTO entries (friction, title, severity, case_path, municipality, created_at, created_by) "
                "VALUES ('manual', 't', 'error', '', '', 'now', 'me')")
    con.close()
    monkeypatch.undo()
    with bl.open_backlog(path) as db:
        assert db.con.execute("PRAGMA user_version").fetchone()[0] == len(bl.MIGRATIONS) == 2
        assert db.con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.con.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert db.con.execute("SELECT title, merged_into FROM entries").fetchall() == [("t", None)]
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version = {len(bl.MIGRATIONS) + 1}")
    con.commit()
    con.close()
    with pytest.raises(LiggingError):
        bl.open_backlog(path)


def test_cli_backlog_commands_wire_to_the_library(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from checker.cli import run

    path = populated(tmp_path)
    monkeypatch.setenv("LIGGING_BACKLOG", str(path))
    monkeypatch.setenv("COLUMNS", "200")

    def cli(*args: str) -> int:
        with pytest.raises(SystemExit) as info:
            run(list(args))
        return int(info.value.code or 0)

    assert cli("backlog", "add", "--rule", "NEN-COV-LS", "--rule", "TEL-COV-DT", "--title", "cover of cables in a rack",
               "--case", str(ROOT / "cases" / "leiden-vkls"), "--amount", "0.15") == 0
    assert capsys.readouterr().out == "backlog entry 4\n"
    assert cli("backlog", "triage", "4", "regulatory-friction", "--who", "ann") == 0
    assert cli("backlog", "status", "4", "proposed", "--note", "to OT6") == 0
    assert cli("backlog", "status", "4", "new", "--note", "back") == 2
    assert cli("backlog", "merge", "1", "2") == 0
    capsys.readouterr()
    assert cli("backlog", "list", "--rank", "id") == 0
    out = capsys.readouterr().out
    assert [line.split()[1] for line in out.splitlines() if line.startswith("│")] == ["1", "3", "4"]
    assert cli("backlog", "show", "4") == 0
    shown = capsys.readouterr().out
    assert "NEN-COV-LS" in shown and "TEL-COV-DT" in shown and "Leiden" in shown
    assert cli("backlog", "export", "--format", "xlsx", "-o", str(tmp_path / "x.xlsx")) == 0
    assert load_workbook(tmp_path / "x.xlsx").active.max_row == 4  # type: ignore[union-attr]
    assert cli("backlog", "import", str(tmp_path / "missing.csv")) == 2
    assert cli("backlog", "add", "--rule", "NO-SUCH-RULE", "--title", "x") == 2


def test_report_gains_an_escaped_backlog_section(tmp_path: Path) -> None:
    from checker.cli import run

    path = populated(tmp_path)
    bl.add_manual(path, [RULE], "<script>alert(1)</script>", amount=3.0, unit="m")
    section = bl.backlog_section(path, top=2)
    assert section.count("<tr>") == 3 and "<script>" not in section and "&lt;script&gt;" in section
    assert "evidence 1" in section and "test source" in section
    out = tmp_path / "r.html"
    with pytest.raises(SystemExit) as info:
        run(["report", str(ROOT / "cases" / "nen-nieuwbouw-trottoir"), "-o", str(out), "--backlog", str(path)])
    assert info.value.code == 0
    html_text = out.read_text(encoding="utf-8")
    assert html_text.count('<section id="backlog">') == 1 and html_text.count("<tr><td class=\"num\">") >= 4
    with pytest.raises(LiggingError):
        bl.backlog_section(tmp_path / "absent.db")
