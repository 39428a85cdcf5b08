"""`ligging rules lint`: seeded mistakes and contradictions are found, shipped packs are clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.cli import app
from checker.engine.lint import exit_code, lint, lint_packs, parse_networks, required_width
from dsl.diagnostics import Diagnostic, LiggingError
from dsl.packs import load_packs
from dsl.parser import parse_pack

DATA = Path(__file__).parent / "data" / "lint"
A, B, M = (str(DATA / f"lint-{n}.rules") for n in ("a", "b", "mistakes"))
HEAD = 'pack t\n  title "T"\n  authority "A"\n  version "1"\ninclude imkl\n'


def codes(found: list[Diagnostic]) -> list[tuple[str, str, int]]:
    return [(d.code, Path(d.span.file).name, d.span.line) for d in found]


def rules_text(body: str) -> list[Diagnostic]:
    imkl = load_packs(["imkl"]).packs
    return lint_packs(imkl + (parse_pack(HEAD + body, "t.rules"),))


def rule(rid: str, body: str) -> str:
    return f'rule {rid}\n  title "x"\n  severity error\n  source "s"\n  {body}\n'


def test_cover_minimum_above_maximum_across_packs() -> None:
    found = [d for d in lint([A, B]) if d.code == "L301"]
    assert codes(found) == [("L301", "lint-b.rules", 14)]
    assert found[0].severity == "error" and "LA-COV-W-MIN" in found[0].message and "LB-COV-W-MAX" in found[0].message


def test_order_cycle_across_two_packs() -> None:
    found = [d for d in lint([A, B]) if d.code == "L302"]
    assert len(found) == 1 and found[0].severity == "error"
    assert "LA-ORDER" in found[0].message and "LB-ORDER" in found[0].message


def test_no_cycle_for_one_pack_or_different_directions() -> None:
    assert [d for d in lint([A]) if d.code == "L302"] == []
    found = rules_text(rule("T-A", "require order left-to-right: water, gas")
                       + rule("T-B", "require order top-to-bottom: gas, water")
                       + rule("T-C", "require order top-to-bottom inside rack: water, gas"))
    assert [d for d in found if d.code == "L302"] == []


def test_duplicate_id_across_packs() -> None:
    assert codes([d for d in lint([A, B]) if d.code == "L201"]) == [("L201", "lint-b.rules", 22)]


def test_infeasible_clearance_set_reports_the_width_it_needs() -> None:
    nets = parse_networks("datatransport:50mm,water:160mm,gasLageDruk:110mm")
    need, arrangement = required_width(load_packs([A]), nets)
    # dt | gas | water: water's centre is 1.5 m + radii beyond telecom's edge: 0.025 + 0.025 + 1.5 + 0.08 + 0.08
    assert need == pytest.approx(1.71) and arrangement == ("datatransport", "gasLageDruk", "water")
    found = [d for d in lint([A], nets, 1.5) if d.code == "L303"]
    assert len(found) == 1 and found[0].severity == "error" and "1.71" in found[0].message
    assert [d.severity for d in lint([A], nets, 1.8) if d.code in ("L303", "L304")] == ["info"]


def test_width_without_networks_uses_each_horizontal_order() -> None:
    found = [d for d in lint([A]) if d.code == "L304"]
    # the 1.50 m telecom-water clearance plus both lines' own typical diameters (50 mm and 110 mm)
    assert len(found) == 1 and f"{1.50 + 0.050 + 0.110:.2f}" in found[0].message


@pytest.mark.parametrize("code, line", [
    ("L101", 15),  # watr
    ("L102", 21),  # colour
    ("L103", 27),  # trotoir
    ("L104", 34),  # exception relaxed to a bare number
    ("L104", 40),  # diameter = big
    ("L402", 46),  # water[network = gas]
    ("L402", 52),  # street_type binnenstad and nieuwbouw
    ("L402", 59),  # valid after its pack
    ("L401", 68),  # shadowed by LM-STRICT
    ("L101", 74),  # group member gasHogDruk
])
def test_each_seeded_mistake_is_found(code: str, line: int) -> None:
    assert (code, "lint-mistakes.rules", line) in codes(lint([M]))


def test_did_you_mean_for_names_and_zone_kinds() -> None:
    found = {(d.code, d.span.line): d.message for d in lint([M])}
    assert "'water'" in found[("L101", 15)] and "'trottoir'" in found[("L103", 27)]
    assert "'gasHogeDruk'" in found[("L101", 74)]


def test_mistakes_fixture_has_nothing_unexpected() -> None:
    assert sorted({c for c, _, _ in codes(lint([M]))}) == ["L101", "L102", "L103", "L104", "L105", "L401", "L402"]


def test_rules_without_an_instrument_are_named_once_per_pack() -> None:
    found = rules_text(rule("T-A", "require cover water >= 0.6 m") + rule("T-B", "require cover gas >= 0.6 m"))
    l105 = [d for d in found if d.code == "L105"]
    assert [(d.severity, d.span.line) for d in l105] == [("info", 1)] and "T-A, T-B" in l105[0].message
    with_one = rules_text(rule("T-A", 'instrument norm "NEN 7171-1"\n  require cover water >= 0.6 m'))
    assert [d for d in with_one if d.code == "L105"] == []
    assert [d for d in lint() if d.code == "L105"] == []


def test_condition_ranges() -> None:
    found = rules_text(rule("T-A", "where planned > 2030 and planned < 2020\n  require cover water >= 0.6 m")
                       + rule("T-B", "where planned >= 2020 and planned <= 2020\n  require cover water >= 0.6 m"))
    assert [(d.code, d.message.split()[1]) for d in found if d.code == "L402"] == [("L402", "T-A")]


def test_shipped_packs_have_no_lint_errors() -> None:
    found = lint()
    assert [d.one_line() for d in found if d.severity == "error"] == []
    assert exit_code(found, "error") == 0


def test_bad_networks_option_is_bad_input() -> None:
    with pytest.raises(LiggingError):
        parse_networks("watr:160mm")


def test_cli_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    from checker.cli import run

    for argv, code in ((["rules", "lint"], 0), (["rules", "lint", A, B], 1),
                       (["rules", "lint", str(DATA / "missing.rules")], 2)):
        with pytest.raises(SystemExit) as exc:
            run(argv)
        assert exc.value.code == code, argv
    assert app is not None


def test_attributes_used_in_shipped_cases_are_known() -> None:
    from checker.engine.lint import KNOWN_ATTRIBUTES
    from checker.io.loader import load_case

    root = Path(__file__).resolve().parent.parent / "cases"
    used = {name for case in sorted(root.glob("*/case.yaml")) for o in load_case(case).objects for name, _ in o.attributes}
    assert used and used <= set(KNOWN_ATTRIBUTES)


# ---------------------------------------------------------------- second edition


def found_codes(body: str, code: str) -> list[Diagnostic]:
    return [d for d in rules_text(body) if d.code == code]


def test_an_undeclared_attribute_is_an_error_and_a_declared_one_is_checked() -> None:
    undeclared = found_codes(rule("T-A", 'require cover water[materiaal = "PE"] >= 0.6 m'), "L102")
    assert [d.severity for d in undeclared] == ["error"] and "attribute materiaal text" in undeclared[0].message
    declared = "attribute materiaal text\nattribute sdr number\n"
    assert found_codes(declared + rule("T-A", 'require cover water[materiaal = "PE"] >= 0.6 m'), "L102") == []
    wrong = found_codes(declared + rule("T-A", "require cover water[sdr >= 11 m] >= 0.6 m"), "L104")
    assert len(wrong) == 1 and "plain number" in wrong[0].message


def test_where_on_an_object_attribute_never_fires() -> None:
    found = found_codes(rule("T-A", "where zone = rijbaan\n  require cover riool >= 1 m")
                        + rule("T-B", "where planned = nieuwbouw\n  require cover riool >= 1 m")
                        + rule("T-C", "where street_type = binnenstad\n  require cover riool >= 1 m"), "L106")
    assert [(d.severity, d.span.line) for d in found] == [("error", 10), ("error", 16)]
    assert "riool[zone = rijbaan]" not in found[0].message and "line[zone = rijbaan]" in found[0].message


def test_a_group_of_an_unincluded_pack_names_the_include() -> None:
    bare = parse_pack('pack t\n  title "T"\n  authority "A"\n  version "1"\n' + rule("T-A", "require cover gas >= 0.6 m"),
                      "t.rules")
    found = [d for d in lint_packs((bare,)) if d.code == "L101"]
    assert len(found) == 1 and "add `include imkl`" in found[0].message


def test_rules_that_can_never_apply_are_errors() -> None:
    found = found_codes(rule("T-A", "require cover water and telecom >= 0.6 m")
                        + rule("T-B", "where planned > 2030 and planned < 2020\n  require cover water >= 0.6 m")
                        + rule("T-C", "require clearance horizontal between line (axis) and water >= root-radius of line + 1 m"),
                        "L402")
    assert [(d.severity, d.message.split()[1]) for d in found] == [("error", "T-A"), ("error", "T-B"), ("error", "T-C")]
    assert "root-radius" in found[2].message


def test_line_and_not_racked_is_alive() -> None:
    assert found_codes(rule("T-A", "require capacity in any stack: count of line and not racked <= 1"), "L402") == []


def test_silent_scopes_are_told() -> None:
    found = found_codes(rule("T-A", "require clearance horizontal between gas and water >= 0.3 m")
                        + rule("T-B", "require clearance shortest between any and line >= 0.2 m")
                        + rule("T-C", "require clearance shortest outside rack without crossings between any and line >= 0.2 m")
                        + rule("T-D", "require order top-to-bottom: telecom, water")
                        + rule("T-E", "require clearance horizontal between tree (axis) and line >= 2.5 m")
                        + rule("T-F", "require water beside riool >= 3 m\n    unless water above riool >= 0.5 m"), "L403")
    told = [(d.severity, d.message.split()[1].rstrip(":")) for d in found]
    assert told == [("info", "T-A"), ("info", "T-B"), ("info", "T-B"), ("info", "T-D"), ("info", "T-F")]
    assert "rack" in found[0].message and "crossing" in found[2].message


def test_reference_lines_only_where_they_can_be_measured_to() -> None:
    found = found_codes(rule("T-A", "require clearance vertical between facade and line >= 0.3 m")
                        + rule("T-B", "require facade above line")
                        + rule("T-C", "require cover facade >= 0.3 m")
                        + rule("T-D", "require clearance horizontal between facade and line >= 0.3 m")
                        + rule("T-E", "require far-edge beside line >= 0.3 m"), "L101")
    assert [d.span.line for d in found] == [10, 15, 20]
    assert "horizontally" in found[0].message and "beside" in found[1].message and "reference line" in found[2].message


def test_example_packs_lint_clean() -> None:
    examples = sorted(str(p) for p in (Path(__file__).resolve().parent.parent / "rules" / "examples").glob("*.rules"))
    assert examples
    found = lint(examples)
    assert [d.one_line() for d in found if d.severity != "info" or d.code == "L403"] == []


def test_an_unknown_zone_kind_stops_check_as_it_stops_lint() -> None:
    from checker.engine.evaluate import Engine
    from dsl.packs import compose

    for body in ("require zone riool within rijbaan, trotoir", "require cover line[zone = rijban] >= 0.6 m",
                 "require capacity in bermm: count of line <= 3"):
        pack = parse_pack(HEAD + rule("T-A", body), "t.rules")
        assert [d.code for d in lint_packs(load_packs(["imkl"]).packs + (pack,)) if d.code == "L103"] == ["L103"]
        with pytest.raises(LiggingError, match="unknown zone kind"):
            Engine(compose(load_packs(["imkl"]).packs + (pack,)))
