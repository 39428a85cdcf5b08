"""Time in the model: objects' years, reservations' claims, and `check --at YEAR`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from checker.engine.evaluate import Engine
from checker.io.loader import parse_case, parse_json_case
from dsl.diagnostics import LiggingError
from dsl.packs import compose
from dsl.parser import parse_pack

HEAD = """ligging: 1
name: phases
planned: 2025
width: 4
zones: [{kind: trottoir, from: 0, to: 4}]
objects:
"""


def case(*objects: str, head: str = HEAD) -> str:
    return head + "".join(f"  - {o}\n" for o in objects)


GAS = "{id: gas, network: gasLageDruk, x: 1.0, cover: 0.6, diameter: 110 mm, status: existing, disused: 2030, removed: 2034}"
HEAT = "{id: heat, network: warmte, x: 2.5, cover: 0.6, diameter: 110 mm, built: 2028}"
RES = "{id: res, kind: reservation, network: warmte, from: 2.2, to: 2.8, cover: 0.5, height: 0.5, claim: 2028}"
SEWER = "{id: sewer, network: rioolVrijverval, x: 3.5, cover: 1.4, diameter: 300 mm, built: 2025}"


@pytest.mark.parametrize(("at", "expected"), [
    (None, {"gas": "existing", "res": "planned", "sewer": "planned"}),
    (2028, {"gas": "existing", "heat": "planned", "sewer": "existing"}),
    (2031, {"gas": "disused", "heat": "existing", "sewer": "existing"}),
    (2040, {"heat": "existing", "sewer": "existing"}),
])
def test_the_street_in_a_year_holds_what_lies_there_then_in_its_state(at: int | None, expected: dict[str, str]) -> None:
    section = parse_case(case(GAS, HEAT, RES, SEWER), "c.yaml", at=at)
    assert {o.id: o.status for o in section.objects} == expected
    assert section.moment == at


def test_asking_for_a_year_judges_the_rules_in_force_then() -> None:
    section = parse_case(case(HEAT), "c.yaml", at=2029)
    assert section.planned == "2029-01-01"
    assert section.tag("planned") == 2029.0
    assert parse_case(case(HEAT), "c.yaml").planned == "2025-01-01"


def test_a_case_without_years_or_works_year_is_taken_as_drawn() -> None:
    text = case(HEAT, head=HEAD.replace("planned: 2025\n", ""))
    assert [o.id for o in parse_case(text, "c.yaml").objects] == ["heat"]


def test_json_lines_with_years_give_the_same_street() -> None:
    text = json.dumps({"ligging": 1, "name": "j", "planned": 2025, "width": 4,
                       "zones": [{"kind": "trottoir", "from": 0, "to": 4}],
                       "objects": [{"id": "heat", "network": "warmte", "x": 2.5, "cover": 0.6, "diameter": "110 mm",
                                    "built": 2028}]})
    assert parse_json_case(text, "b.jsonl").objects == ()
    assert [o.status for o in parse_json_case(text, "b.jsonl", at=2028).objects] == ["planned"]


@pytest.mark.parametrize(("obj", "message"), [
    ("{id: a, network: water, x: 1, cover: 1, diameter: 110 mm, built: 2030, removed: 2029}", "removed in 2029, before it is built"),
    ("{id: a, network: water, x: 1, cover: 1, diameter: 110 mm, built: 20.5}", "built must be a year"),
    ("{id: a, network: water, x: 1, cover: 1, diameter: 110 mm, status: disused, disused: 2030}", "give one of them"),
    ("{id: a, network: water, x: 1, cover: 1, diameter: 110 mm, claim: 2030}", "unknown key 'claim'"),
    ("{id: r, kind: reservation, network: warmte, x: 1, width: 1, cover: 1, height: 1, likelihood: maybe}",
     "unknown likelihood 'maybe'"),
])
def test_bad_years_and_claims_are_one_line_errors_at_their_place(obj: str, message: str) -> None:
    with pytest.raises(LiggingError) as caught:
        parse_case(case(obj), "c.yaml")
    assert message in caught.value.diagnostic.message
    assert caught.value.diagnostic.span.line == 7


PACK = """pack p
  title "t"
  authority "a"
  version "1"
rule T-RES
  title "t"
  severity error
  source "s"
  require exclusion line from reservation
rule T-LATE
  title "t"
  severity info
  source "s"
  require cover line[built >= 2028] >= 2.0 m
rule T-SOON
  title "t"
  severity info
  source "s"
  require exclusion line from reservation[claim <= 2030, likelihood = likely]
"""


def engine() -> Engine:
    return Engine(compose((parse_pack(PACK, "p.rules"),)))


def test_a_reservation_blocks_what_is_still_there_at_its_claim() -> None:
    # the old main lies in the reserved space but is dug out the year the heat network comes
    gone = "{id: old, network: water, x: 2.5, cover: 0.6, diameter: 110 mm, status: existing, removed: 2028}"
    stays = "{id: new, network: water, x: 2.5, cover: 0.6, diameter: 110 mm}"
    assert [f.rule for f in engine().evaluate(parse_case(case(gone, RES), "c.yaml"))] == []
    assert [(f.rule, f.subjects) for f in engine().evaluate(parse_case(case(stays, RES), "c.yaml"))] == [
        ("T-RES", ("new", "res"))]


def test_rules_speak_of_phase_through_years_and_likelihood() -> None:
    found = engine().evaluate(parse_case(case(HEAT), "c.yaml", at=2028))
    assert [(f.rule, f.subjects) for f in found] == [("T-LATE", ("heat",))]
    likely = RES.replace("claim: 2028", "claim: 2028, likelihood: likely")
    line = "{id: new, network: water, x: 2.5, cover: 0.6, diameter: 110 mm}"
    assert {f.rule for f in engine().evaluate(parse_case(case(line, likely), "c.yaml"))} == {"T-RES", "T-SOON"}
    assert {f.rule for f in engine().evaluate(parse_case(case(line, RES), "c.yaml"))} == {"T-RES"}


def ligging(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "from checker.cli import run; run()", *args],
                          capture_output=True, text=True, timeout=120)


def test_check_at_prints_the_year_and_refuses_it_for_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(case(GAS, HEAT, RES), encoding="utf-8")
    got = ligging("check", str(path), "--format", "json", "--at", "2031")
    assert got.returncode in (0, 1), got.stderr
    assert json.loads(got.stdout.splitlines()[0])["at"] == 2031
    assert "as of 2031" in ligging("check", str(path), "--at", "2031").stdout
    refused = ligging("check", str(path), "--format", "jsonl", "--at", "2031")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1 and "--at applies" in refused.stderr


def test_componistenbuurt_in_2028_judges_the_heat_network_under_the_tree_of_2025() -> None:
    from checker.io.loader import load_case
    from dsl.packs import load_packs
    from tests.conftest import ROOT

    shipped = Engine(load_packs())
    works = shipped.evaluate(load_case(ROOT / "cases" / "dordrecht-componistenbuurt"))
    later = shipped.evaluate(load_case(ROOT / "cases" / "dordrecht-componistenbuurt", at=2028))
    judged = {(f.rule, f.subjects) for f in later if not f.baseline}
    assert ("BOOM-HART-TRACE", ("boom-1", "warmte-retour")) in judged
    assert ("BOOM-RESERVERING", ("boom-1", "res-warmte")) in {(f.rule, f.subjects) for f in works}
    # the works of 2025 are in the ground by 2028: what they found then is baseline now
    assert all(f.baseline for f in later if "warmte-aanvoer" not in f.subjects and "warmte-retour" not in f.subjects)
