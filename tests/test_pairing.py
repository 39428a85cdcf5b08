"""`with same|different F`: a clearance judges only the pairs the pairing keeps, in both engine paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from checker.engine.evaluate import Engine
from checker.engine.explain import relation_words
from checker.engine.lint import lint_packs
from checker.model.section import Obj, Section, Zone
from dsl import ast
from dsl.diagnostics import LiggingError, Span
from dsl.packs import load_packs
from dsl.parser import parse_pack

SPAN = Span("t", 1, 1)
HEAD = 'pack t\n  title "T"\n  authority "A"\n  version "1"\ninclude imkl\n'


def pack(body: str) -> str:
    return HEAD + f'rule T-R\n  title "x"\n  severity error\n  source "s"\n  require {body}\n'


def engine(body: str, tmp_path: Path) -> Engine:
    file = tmp_path / "t.rules"
    file.write_text(pack(body), encoding="utf-8")
    return Engine(load_packs([str(file)]))


def pipe(oid: str, net: str, x: float, cover: float, owner: str | None = None,
         attributes: tuple[tuple[str, float | str], ...] = ()) -> Obj:
    return Obj(oid, "pipe", net, owner, "planned", x, cover, diameter=0.1, attributes=attributes, span=SPAN)


def section(*objs: Obj) -> Section:
    return Section("t.yaml", "t", 6.0, (Zone("trottoir", 0.0, 6.0, SPAN),), objs)


def found(e: Engine, s: Section) -> set[tuple[str, ...]]:
    single = {f.subjects for f in e.evaluate(s)}
    (batch,) = e.evaluate_many([s])
    assert {f.subjects for f in batch} == single
    return single


def test_pairing_parses_and_names_a_repeated_field() -> None:
    rel = parse_pack(pack("clearance horizontal between warmte and warmte with same owner, circuit <= 0.5 m"),
                     "t.rules").rules[0].alternatives[0].relation
    assert isinstance(rel, ast.Clearance) and rel.pairing is not None
    assert (rel.pairing.mode, rel.pairing.names) == ("same", ("owner", "circuit"))
    assert "same owner and circuit" in relation_words(rel)
    with pytest.raises(LiggingError, match="named twice"):
        parse_pack(pack("clearance horizontal between line and line with different network, network >= 0 m"), "t.rules")


def test_different_network_skips_pairs_of_one_network(tmp_path: Path) -> None:
    e = engine("clearance horizontal between line and line with different network >= 0.00 m", tmp_path)
    s = section(pipe("g", "gasLageDruk", 1.0, 0.6), pipe("w", "water", 1.0, 1.0), pipe("w2", "water", 1.02, 1.3))
    # gas over both water pipes is found; the two water pipes over each other are one network's business
    assert found(e, s) == {("g", "w"), ("g", "w2")}


def test_same_owner_pairs_only_one_owners_pipes_and_missing_equals_missing(tmp_path: Path) -> None:
    e = engine("clearance horizontal between warmte and warmte with same owner <= 0.50 m", tmp_path)
    s = section(pipe("a1", "warmte", 0.5, 0.8, "A"), pipe("a2", "warmte", 2.5, 0.8, "A"),
                pipe("b1", "warmte", 4.0, 0.8, "B"), pipe("n1", "warmte", 5.0, 0.8), pipe("n2", "warmte", 5.8, 0.8))
    assert found(e, s) == {("a1", "a2"), ("n1", "n2")}


def test_same_attribute_separates_two_circuits(tmp_path: Path) -> None:
    e = engine("clearance horizontal between warmte and warmte with same owner, circuit <= 0.50 m", tmp_path)
    s = section(pipe("a1", "warmte", 0.5, 0.8, "A", (("circuit", "1"),)),
                pipe("a2", "warmte", 0.9, 0.8, "A", (("circuit", "1"),)),
                pipe("c1", "warmte", 3.0, 0.8, "A", (("circuit", "2"),)),
                pipe("c2", "warmte", 3.4, 0.8, "A", (("circuit", "2"),)))
    assert found(e, s) == set()


def test_lint_knows_pairing_fields() -> None:
    imkl = load_packs(["imkl"]).packs
    diags = lint_packs(imkl + (parse_pack(pack("clearance horizontal between line and line with same circuit <= 1 m"),
                                          "t.rules"),))
    assert [d.code for d in diags if d.code in ("L102", "L104")] == ["L102"]
    diags = lint_packs(imkl + (parse_pack(pack("clearance horizontal between line and line with same diameter <= 1 m"),
                                          "t.rules"),))
    assert "L104" in [d.code for d in diags]
    diags = lint_packs(imkl + (parse_pack(pack("clearance horizontal between line and line with same owner <= 1 m"),
                                          "t.rules"),))
    assert [d.code for d in diags if d.code in ("L102", "L104")] == []
