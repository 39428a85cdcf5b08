"""The rule-language guide's examples are rules the tool reads, and say what the packs say.

Every `text` block of docs/rule-language.md parses: a block with rules as rules (given a pack
header when it has none), a block of `require` lines as one rule each. A rule the guide shows
with its id is the rule of that id in a shipped pack or in an example pack (rules/examples/),
word for word in what it checks, so the guide cannot drift from the packs its tests run.
"""

from __future__ import annotations

import re

import pytest

from checker.engine.explain import requirement_words
from dsl import ast
from dsl.packs import load_packs, shipped_dir, shipped_names
from dsl.parser import parse_pack
from tests.conftest import ROOT

GUIDE = (ROOT / "docs" / "rule-language.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```text\n(.*?)```", GUIDE, flags=re.S)
HEAD = 'pack guide\n  title "G"\n  authority "A"\n  version "1"\ninclude imkl\n'
RULE = 'rule GUIDE-X\n  title "x"\n  severity error\n  source "s"\n'
EXAMPLES = [str(p) for p in sorted((shipped_dir() / "examples").glob("*.rules"))]
KNOWN = {pr.rule.id: pr.rule for pr in load_packs(shipped_names() + EXAMPLES).rules}


def parsed(block: str) -> list[ast.Rule]:
    """Parse a guide block as it would stand in a pack."""
    if block.lstrip().startswith("pack "):
        return list(parse_pack(block, "guide.rules").rules)
    if re.search(r"^\s*rule ", block, flags=re.M) or not re.search(r"^\s*require ", block, flags=re.M):
        return list(parse_pack(HEAD + block, "guide.rules").rules)
    rules: list[ast.Rule] = []
    for n, part in enumerate(re.split(r"\n(?=require )", block.strip())):
        rules += parse_pack(HEAD + RULE.replace("GUIDE-X", f"GUIDE-X{n}") + "  " + part + "\n", "guide.rules").rules
    return rules


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{n}" for n in range(len(BLOCKS))])
def test_every_guide_block_parses(block: str) -> None:
    parsed(block)


def test_rules_shown_with_their_id_are_the_packs_rules() -> None:
    shown = [rule for block in BLOCKS for rule in parsed(block) if not rule.id.startswith("GUIDE-X")]
    assert len(shown) >= 10
    for rule in shown:
        assert rule.id in KNOWN, rule.id
        want = [requirement_words(req) for req in KNOWN[rule.id].alternatives]
        assert [requirement_words(req) for req in rule.alternatives] == want, rule.id


def test_every_new_feature_is_shown() -> None:
    text = "\n".join(BLOCKS)
    for construct in (" and line", " above ", " beside ", "unless water above", "root-radius of tree",
                      "diameter of tree", "in any stack", "0.30 m strip", "by extent", "touching", "facade",
                      "outside rack", "inside rack", "attribute "):
        assert construct in text, construct
