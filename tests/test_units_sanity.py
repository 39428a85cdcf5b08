"""Units as engineers write them, and sizes that cannot exist in a street.

A unit glued to its number is read; a decimal comma and a YAML tab get a plain message;
a bare number whose size does not exist (a 60 m cover, a 110 m pipe) is refused with the
unit probably meant. The JSON Lines path refuses exactly what the YAML path refuses.
"""

from __future__ import annotations

import json

import pytest

from checker.io.loader import fast_json_case, parse_case, parse_json_case
from checker.model.section import PLAUSIBLE
from dsl.diagnostics import LiggingError
from tests.conftest import case_text


def _error(text: str) -> str:
    with pytest.raises(LiggingError) as caught:
        parse_case(text, "case.yaml")
    return caught.value.diagnostic.message


@pytest.mark.parametrize("written, metres", [("60cm", 0.6), ("110mm", 0.11), ("0.6m", 0.6), ("60 cm", 0.6), (".5m", 0.5)])
def test_a_unit_glued_to_its_number_is_read(written: str, metres: float) -> None:
    section = parse_case(case_text(f'- {{id: a, network: water, x: 1, cover: "{written}", diameter: 110 mm}}'), "c")
    assert section.objects[0].cover == pytest.approx(metres)


def test_a_decimal_comma_is_named() -> None:
    message = _error(case_text('- {id: a, network: water, x: 1, cover: "1,2 m", diameter: 110 mm}'))
    assert "comma" in message and "1.2 m" in message


def test_a_tab_is_named_with_its_fix() -> None:
    text = case_text("- {id: a, network: water, x: 1, cover: 1, diameter: 110 mm}").replace("  - {kind", "\t- {kind")
    with pytest.raises(LiggingError) as caught:
        parse_case(text, "case.yaml")
    diagnostic = caught.value.diagnostic
    assert "tab" in diagnostic.message and "spaces" in diagnostic.message
    assert (diagnostic.span.line, diagnostic.span.column) == (5, 1)


@pytest.mark.parametrize("objects, key, meant", [
    ("- {id: a, network: water, x: 1, cover: 60, diameter: 110 mm}", "cover", "60 cm"),
    ("- {id: a, network: water, x: 1, cover: 1, diameter: 110}", "diameter", "110 mm"),
    ("- {id: a, network: water, x: 1, cover: 1, width: 300, height: 0.1}", "width", "300 mm"),
    ("- {id: b, kind: tree, x: 1, diameter: 40}", "diameter", "40 cm"),
    ("- {id: b, kind: tree, x: 1, root_zone: {radius: 150, depth: 1}}", "radius", "150 cm"),
    ("- {id: k, kind: structure, x: 1, cover: 0, width: 400, height: 3}", "width", "400 cm"),
    ("- {id: h, kind: crossing, network: water, from: 0, to: 2, cover: [0.6, 90], diameter: 0.1}", "cover", "90 cm"),
])
def test_a_size_that_does_not_exist_is_refused_with_the_unit_meant(objects: str, key: str, meant: str) -> None:
    message = _error(case_text(objects))
    assert f"{key}:" in message and "out of range" in message and f"did you mean {meant}?" in message


def test_a_too_small_size_under_declared_units_suggests_metres() -> None:
    message = _error(case_text("- {id: a, network: water, x: 100, cover: 100, diameter: 0.11}", extra="units: cm\n", width=400))
    assert "diameter" in message and "did you mean 0.11 m?" in message


def test_a_profile_width_in_millimetres_is_caught() -> None:
    message = _error(case_text("", width=20000))
    assert "width" in message and "did you mean 20000 mm?" in message


def test_plausible_sizes_in_any_unit_load() -> None:
    section = parse_case(case_text("- {id: a, network: water, x: 1, cover: 1.2, diameter: 1.2 m}\n"
                                   "- {id: k, kind: structure, x: 2, cover: 12, width: 8, height: 7}"), "c")
    assert section.objects[0].diameter == pytest.approx(1.2)
    assert section.objects[1].width == pytest.approx(8.0)


@pytest.mark.parametrize("limit", sorted(PLAUSIBLE))
def test_each_limit_suggests_only_sizes_inside_it(limit: str) -> None:
    plausible = PLAUSIBLE[limit]
    assert plausible.low < plausible.high
    problem = plausible.problem(plausible.high * 1000, plausible.high * 1000, "m")
    assert problem is not None and "out of range" in problem
    assert plausible.problem(plausible.high, plausible.high, "m") is None
    assert plausible.problem(plausible.low, plausible.low, "m") is None


def test_the_json_lines_path_refuses_the_same_sizes_with_the_same_message() -> None:
    case = {"ligging": 1, "name": "t", "width": 4, "zones": [{"kind": "trottoir", "from": 0, "to": 4}],
            "objects": [{"id": "a", "network": "water", "x": 1, "cover": 60, "diameter": "110 mm"}]}
    line = json.dumps(case)
    assert fast_json_case(line, "b.jsonl") is None
    with pytest.raises(LiggingError) as caught:
        parse_json_case(line, "b.jsonl")
    assert "did you mean 60 cm?" in caught.value.diagnostic.message
    case["objects"][0]["cover"] = "60cm"  # type: ignore[index]
    fast = fast_json_case(json.dumps(case), "b.jsonl")
    assert fast is not None and fast.objects[0].cover == pytest.approx(0.6)
