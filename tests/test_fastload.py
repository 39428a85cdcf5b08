"""The JSON Lines fast path of the loader builds exactly the `Section` the YAML path builds.

`fast_json_case` may decline a line (None: the YAML path decides), but whatever it
returns must equal `parse_case` on the same text, spans included, and it must decline
every line `parse_case` refuses, so every error message still comes from one place.
Checked on generated bench sections, on the shipped cases written as JSON, and on
random value and text mutations of both.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
from typing import Any

import pytest
import yaml

from bench.generate import sections
from checker.io.loader import fast_json_case, parse_case, parse_json_case
from dsl.diagnostics import LiggingError
from tests.conftest import ROOT

PATH = "batch.jsonl"


def _outcome(text: str, line: int = 7) -> tuple[str, Any]:
    try:
        return "ok", parse_case(text, PATH, line_offset=line - 1)
    except LiggingError as exc:
        return "error", exc.diagnostic


def _agree(text: str, line: int = 7) -> bool:
    """Assert the fast path agrees with the YAML path on `text`; return whether it took the line."""
    fast = fast_json_case(text, PATH, line_offset=line - 1)
    kind, slow = _outcome(text, line)
    if kind == "error":
        assert fast is None, f"fast path accepted a line the YAML path refuses ({slow.message}): {text[:200]}"
        return False
    if fast is not None:
        assert fast == slow, f"fast and YAML paths differ on: {text[:200]}"
        return True
    return False


def _shipped() -> list[dict[str, Any]]:
    out = []
    for case in sorted((ROOT / "cases").glob("*/case.yaml")):
        data = yaml.safe_load(case.read_text(encoding="utf-8"))
        out.append(json.loads(json.dumps(data, default=lambda v: v.isoformat() if isinstance(v, dt.date) else str(v))))
    return out


def test_generated_sections_take_the_fast_path_and_agree() -> None:
    taken = 0
    for number, data in enumerate(sections(300, None, seed=11)):
        for separators in ((",", ":"), (", ", ": ")):
            text = json.dumps(data, separators=separators) + "\n"
            assert _agree(text, line=number + 1), text[:200]
            taken += 1
    assert taken == 600


def test_shipped_cases_as_json_agree() -> None:
    cases = _shipped()
    assert len(cases) >= 9
    taken = sum(_agree(json.dumps(data, ensure_ascii=False)) for data in cases)
    # the cases carry expect/accept blocks, descriptions and dates: most still take the fast path
    assert taken >= len(cases) // 2


def test_parse_json_case_is_parse_case() -> None:
    data = next(sections(1, 20, seed=3))
    text = json.dumps(data)
    assert parse_json_case(text, PATH, 4) == parse_case(text, PATH, 4)
    bad = text.replace('"width": ', '"width": -', 1)
    with pytest.raises(LiggingError) as fast_error:
        parse_json_case(bad, PATH, 4)
    with pytest.raises(LiggingError) as slow_error:
        parse_case(bad, PATH, 4)
    assert fast_error.value.diagnostic == slow_error.value.diagnostic
    with pytest.raises(LiggingError) as not_json:
        parse_json_case(text[:-1], PATH, 4)  # the closing brace cut off
    assert not_json.value.diagnostic.message.startswith("JSON: ")
    assert not_json.value.diagnostic.span.line == 5


JUNK: list[Any] = [
    None, True, False, 0, -1, -0.5, 1e-9, 1e300, 2.5e3, 40, "40", "40 mm", "-40 mm", "0.4 m", "3 ft", "1.5 kg",
    "12 °C", "", " ", "abc", "laagspanning", "gas", "trottoir", "rijbaan", "planned", "existing", "2026-02-30",
    "2026-05", 2026, "2026-05-01", [], [1, 2], ["a"], {}, {"radius": 1, "depth": 1}, {"x": 1},
    "e5", "1e5", "1.5e+3", "NaN", "inf", "ø", "é\u2028", "tab\there", "back\\slash", "{brace}", "x" * 600,
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_paths(item, prefix + (key,)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out.extend(_paths(item, prefix + (index,)))
    return out


def _mutate(data: Any, rng: random.Random) -> Any:
    data = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(data)[1:])
        parent = data
        for step in path[:-1]:
            parent = parent[step]
        action = rng.random()
        if action < 0.6:
            parent[path[-1]] = copy.deepcopy(rng.choice(JUNK))
        elif action < 0.8 and isinstance(parent, dict):
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[rng.choice(["zzz", "kind", "network", "diameter", "cover", "width", "holds", "tags", "status"])] = copy.deepcopy(rng.choice(JUNK))
        else:
            parent.append(copy.deepcopy(rng.choice(JUNK)))
    return data


def test_value_mutations_agree() -> None:
    rng = random.Random(5)
    bases = list(sections(40, None, seed=21)) + _shipped()
    declined = 0
    for _ in range(1500):
        text = json.dumps(_mutate(rng.choice(bases), rng), ensure_ascii=rng.random() < 0.5)
        if not _agree(text):
            declined += 1
    assert declined > 100  # the mutations do reach the YAML path's errors


def test_text_mutations_agree() -> None:
    rng = random.Random(9)
    bases = [json.dumps(data, separators=(",", ":")) for data in sections(20, 8, seed=4)]
    pieces = ['"', "{", "}", "[", "]", ",", ":", "\\", "e", "E", "-", "0", " ", "\t", "\u0085", "\ufeff", "#", "&", "*", "!"]
    for _ in range(1500):
        text = rng.choice(bases)
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(text))
            if rng.random() < 0.5:
                text = text[:at] + rng.choice(pieces) + text[at:]
            else:
                text = text[:at] + text[at + 1:]
        _agree(text)


@pytest.mark.parametrize("text", [
    '{"ligging": 1, "ligging": 1}',                      # duplicate keys: YAML refuses, fast path declines
    '{"ligging": 1, "name": "a\\u00e9"}',                 # an escape
    '{"ligging": 1, "name": "{"}',                        # a brace inside a string
    '[1, 2]',
    '',
    'not json',
    '{"ligging": 1.5e+1}',
])
def test_unusual_lines_are_declined_or_agree(text: str) -> None:
    _agree(text)
