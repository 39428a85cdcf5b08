"""Compile rule-language selectors into predicates over case objects.

A selector names thema values (`water`), groups from the packs (`gas`), object kinds
(`tree`, `rack`, or `line` for any cable or pipe), joins them (`or`, `and`, `not`) and
narrows them with attribute tests (`[voltage >= 10 kV, owner = "Liander"]`, `[zone =
trottoir by extent]`). Names are resolved once, against the composed pack set; an unknown
name, a zone kind no case can have, and a reference line (`facade`) used as a selection are
errors at the selector's position, for `check` as for `lint` (`unknown_name`, `zone_kind`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import numpy as np

from checker.model.geometry import BoolArray, FloatArray, IntArray
from checker.model.section import KINDS, LINE_KINDS, THEMAS, TOLERANCE, YEAR_FIELDS, Obj, Section
from checker.model.zoning import zones_of
from dsl import ast
from dsl.diagnostics import Diagnostic, LiggingError, Span
from dsl.packs import PackSet, shipped_groups
from nen7171.zones import ZONE_KINDS

Predicate = Callable[[Section, Obj], bool]
PSEUDO_KINDS = ("line", "racked")
GEOMETRIC = ("diameter", "width", "height", "cover")


def names(packs: PackSet) -> tuple[str, ...]:
    """Return every name a selector may use with this pack set."""
    return tuple(THEMAS) + tuple(packs.groups) + KINDS + PSEUDO_KINDS


def unknown_name(name: str, known: tuple[str, ...] | list[str], groups: dict[str, tuple[str, ...]]) -> str:
    """Say why a selector name is unknown: a group of a pack not included, a reference line, or a typo."""
    if name in ast.REFERENCE_LINES:
        return (f"'{name}' is a reference line of the profile, not an object: measure to it in a clearance "
                f"(`clearance horizontal between {name} and line >= …`) or with `beside`")
    owner = shipped_groups().get(name)
    if owner is not None and name not in groups:
        return f"unknown name '{name}' in selector — it is a group of pack '{owner}': add `include {owner}`"
    near = difflib.get_close_matches(name, list(known), n=1)
    hint = f" — did you mean '{near[0]}'?" if near else " (not a thema, group or kind)"
    return f"unknown name '{name}' in selector{hint}"


def zone_kind(kind: str) -> str | None:
    """Say why a zone kind cannot occur in a case (None when it can)."""
    if kind in ZONE_KINDS:
        return None
    near = difflib.get_close_matches(kind, list(ZONE_KINDS), n=1)
    hint = f" — did you mean '{near[0]}'?" if near else f"; zone kinds are {', '.join(ZONE_KINDS)}"
    return f"unknown zone kind '{kind}'{hint}"


def check_zone_kinds(kinds: tuple[str, ...], span: Span) -> None:
    """Refuse zone kinds no case can have: such a rule would never fire."""
    for kind in kinds:
        problem = zone_kind(kind)
        if problem is not None:
            raise LiggingError(Diagnostic(span, problem))


def check_relation(rel: ast.Relation) -> None:
    """Refuse what would make a relation silently dead in `check` (its zone kinds); lint reports the same."""
    if isinstance(rel, ast.ZoneRule) or (isinstance(rel, ast.Capacity) and rel.place == "zones"):
        check_zone_kinds(rel.kinds, rel.span)


def members(packs: PackSet, group: str, seen: tuple[str, ...] = ()) -> frozenset[str]:
    """Return the thema values a group stands for, following nested groups."""
    if group in seen:
        raise ValueError(f"group cycle: {' -> '.join(seen + (group,))}")
    out: set[str] = set()
    for member in packs.groups[group]:
        if member in packs.groups:
            out |= members(packs, member, seen + (group,))
        else:
            out.add(member)
    return frozenset(out)


def names_status(sel: ast.Selector) -> bool:
    """Tell whether a selector tests the status itself (`line[status = disused]`)."""
    if isinstance(sel, ast.SelWhere):
        return any(t.name == "status" for t in sel.tests) or names_status(sel.base)
    if isinstance(sel, (ast.SelUnion, ast.SelAnd)):
        return any(names_status(p) for p in sel.parts)
    if isinstance(sel, ast.SelNot):
        return names_status(sel.part)
    return False


def in_service(sel: ast.Selector) -> ast.Selector:
    """Return a rule's selector narrowed to objects in service, unless it tests the status itself.

    A disused line (buiten gebruik) takes space — it still overlaps, still blocks a trench —
    but no operator's rule judges it: every relation selects through this narrowing.
    """
    if names_status(sel):
        return sel
    return ast.SelWhere(sel, (ast.AttrTest("status", "!=", "disused", sel.span),), sel.span)


def compile_selector(sel: ast.Selector, packs: PackSet) -> Predicate:
    """Return a predicate telling whether an object of a section matches `sel`."""
    if isinstance(sel, ast.SelAny):
        return lambda s, o: True
    if isinstance(sel, ast.SelName):
        return _name(sel, packs)
    if isinstance(sel, ast.SelUnion):
        parts = [compile_selector(p, packs) for p in sel.parts]
        return lambda s, o: any(p(s, o) for p in parts)
    if isinstance(sel, ast.SelAnd):
        every = [compile_selector(p, packs) for p in sel.parts]
        return lambda s, o: all(p(s, o) for p in every)
    if isinstance(sel, ast.SelNot):
        part = compile_selector(sel.part, packs)
        return lambda s, o: not part(s, o)
    base = compile_selector(sel.base, packs)
    tests = [_attr(t) for t in sel.tests]
    return lambda s, o: base(s, o) and all(t(s, o) for t in tests)


def _name(sel: ast.SelName, packs: PackSet) -> Predicate:
    name = sel.name
    if name in THEMAS:
        return lambda s, o: o.network == name
    if name in packs.groups:
        try:
            allowed = members(packs, name)
        except ValueError as exc:
            raise LiggingError(Diagnostic(sel.span, str(exc))) from None
        unknown = sorted(allowed - set(THEMAS))
        if unknown:
            raise LiggingError(Diagnostic(sel.span, f"group '{name}' names unknown thema '{unknown[0]}'"))
        return lambda s, o: o.network in allowed
    if name in KINDS:
        return lambda s, o: o.kind == name
    if name == "line":
        return lambda s, o: o.kind in LINE_KINDS
    if name == "racked":
        # held by a rack (a bed or sleeve that holds lines does not rack them)
        return lambda s, o: any(o.id in r.holds for r in s.objects if r.kind == "rack")
    raise LiggingError(Diagnostic(sel.span, unknown_name(name, names(packs), packs.groups)))


def _compare(value: Any, op: str, limit: float) -> Any:
    # plain operators and abs(): the same expression for a float and, row by row, for an array
    if op == ">=":
        return value >= limit - TOLERANCE
    if op == "<=":
        return value <= limit + TOLERANCE
    if op == ">":
        return value > limit + TOLERANCE
    if op == "<":
        return value < limit - TOLERANCE
    if op == "=":
        return abs(value - limit) <= TOLERANCE
    return abs(value - limit) > TOLERANCE


def compare(value: float, op: str, limit: float) -> bool:
    """Compare with the engine's 1 mm tolerance (in the value's own SI unit)."""
    return bool(_compare(value, op, limit))


def compare_many(values: FloatArray, op: str, limit: float) -> BoolArray:
    """Compare a column of values as `compare` does, row by row."""
    return np.asarray(_compare(values, op, limit), dtype=bool)


def _attr(test: ast.AttrTest) -> Predicate:
    name, op, value = test.name, test.op, test.value
    if isinstance(value, ast.Quantity):
        limit = value.value

        def numeric(s: Section, o: Obj) -> bool:
            got: float | str | None
            if name in GEOMETRIC:
                got = getattr(o, name)
            elif name in YEAR_FIELDS:
                year = getattr(o, name)
                got = None if year is None else float(year)
            else:
                got = o.attribute(name)
            return isinstance(got, float) and compare(got, op, limit)

        return numeric
    text = value
    equal = op == "="
    if name == "zone":
        check_zone_kinds((text,), test.span)
        mode = test.membership
        return lambda s, o: (text in zones_of(s, o, mode)) == equal

    def textual(s: Section, o: Obj) -> bool:
        got: object
        if name == "measure":
            return (text in o.measures) == equal
        elif name in ("owner", "status", "kind", "network", "id", "likelihood", "connects"):
            got = getattr(o, name)
        else:
            got = o.attribute(name)
        return (got == text) == equal

    return textual


def mask(pred: Predicate, section: Section) -> BoolArray:
    """Return the objects of `section` matching `pred`, as a boolean column."""
    return np.fromiter((pred(section, o) for o in section.objects), dtype=bool, count=len(section.objects))


PAIR_FIELDS = ("owner", "network", "kind", "status")


def pair_field(obj: Obj, name: str) -> float | str | None:
    """Return the value a pairing compares: a field of the object, or an attribute from the case (None if absent)."""
    if name in PAIR_FIELDS:
        value: float | str | None = getattr(obj, name)
        return value
    return obj.attribute(name)


def paired(objects: list[Obj] | tuple[Obj, ...], i: IntArray, j: IntArray, pairing: ast.Pairing | None) -> BoolArray:
    """Return which pairs (i[k], j[k]) a relation's `with same|different` pairing keeps (all without one)."""
    if pairing is None or len(i) == 0:
        return np.ones(len(i), dtype=bool)
    equal = np.ones(len(i), dtype=bool)
    for name in pairing.names:
        equal &= np.fromiter((pair_field(objects[a], name) == pair_field(objects[b], name)
                              for a, b in zip(i.tolist(), j.tolist(), strict=True)), dtype=bool, count=len(i))
    # `same a, b`: every named field is equal; `different a, b`: some named field differs
    return equal if pairing.mode == "same" else ~equal
