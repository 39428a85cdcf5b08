"""Provenance of the shipped packs: every rule cites a source, unsourced values say so."""

from __future__ import annotations

import re

from dsl.packs import load_packs, shipped_names

UNSOURCED = re.compile(r"not sourced|no retrievable source|not confirmed|placeholder|no sourced", re.IGNORECASE)


def test_every_shipped_rule_has_a_source_or_an_illustrative_mark() -> None:
    packs = load_packs()
    rules = [pr for pr in packs.rules] + [pr for pr in packs.overridden]
    assert rules
    for pr in rules:
        rule = pr.rule
        assert rule.source.strip(), f"{rule.id} has no source"
        if UNSOURCED.search(rule.source):
            assert rule.illustrative, f"{rule.id}: its source admits the value is unsourced but it is not marked illustrative"


def test_every_shipped_rule_names_its_instrument_and_who_can_change_it() -> None:
    from dsl.ast import INSTRUMENT_KINDS

    packs = load_packs()
    for pr in list(packs.rules) + list(packs.overridden):
        instrument = pr.instrument
        assert instrument is not None, f"{pr.rule.id} does not name the legal instrument it lives in"
        assert instrument.kind in INSTRUMENT_KINDS and instrument.citation.strip()
        assert pr.changed_by.strip(), f"{pr.rule.id}: nobody can change it"
    assert packs.find("TEL-COV-DT")[0].instrument.kind == "instemmingsbesluit"  # type: ignore[union-attr]
    assert packs.find("NEN-CLR-LINES")[0].instrument.kind == "norm"  # type: ignore[union-attr]


def test_expected_packs_are_shipped() -> None:
    assert {"imkl", "nen7171", "vkls", "bomen", "liander", "dunea", "telecom", "warmte"} <= set(shipped_names())


def test_imkl_defines_every_thema_colour_and_the_groups() -> None:
    from checker.model.section import THEMAS

    packs = load_packs(["imkl"])
    assert set(packs.themas) == set(THEMAS)
    assert packs.themas["water"].colour == "#0000ff"
    assert set(packs.groups) >= {"elektriciteit", "gas", "riool", "telecom"}


def test_telecom_overrides_nen_cover_explicitly() -> None:
    packs = load_packs()
    assert [pr.pack.name for pr in packs.find("TEL-COV-DT")] == ["telecom"]
    assert [pr.rule.id for pr in packs.overridden] == ["NEN-COV-DT"]
