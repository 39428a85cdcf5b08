"""The rule language as frozen data: packs, rules, selectors and relations.

The parser maps text to these nodes and does nothing else; the checker compiles them
into evaluations. Every node carries the `Span` it came from so that findings, lint
and `explain` can point back at the rule text. Quantities are already SI floats.
"""

from __future__ import annotations

from dataclasses import dataclass

from dsl.diagnostics import Span


@dataclass(frozen=True, slots=True)
class Quantity:
    """A written quantity (`0.60 m`) as an SI float with its dimension and text."""

    value: float
    dimension: str
    text: str
    span: Span


# ---------------------------------------------------------------- selectors


@dataclass(frozen=True, slots=True)
class SelName:
    """A thema, group or kind name (`water`, `gas`, `tree`); resolved against the pack set."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class SelAny:
    """Every object."""

    span: Span


@dataclass(frozen=True, slots=True)
class AttrTest:
    """A condition inside `[...]`: `voltage >= 10 kV`, `owner = "Liander"`, `status = existing`."""

    name: str
    op: str
    value: Quantity | str
    span: Span


@dataclass(frozen=True, slots=True)
class SelWhere:
    """A selector narrowed by attribute conditions: `middenspanning[voltage >= 10 kV]`."""

    base: Selector
    tests: tuple[AttrTest, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class SelUnion:
    """Objects matching any of the parts: `gas or water`."""

    parts: tuple[Selector, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class SelNot:
    """Objects not matching the part: `not datatransport`."""

    part: Selector
    span: Span


Selector = SelName | SelAny | SelWhere | SelUnion | SelNot


# ---------------------------------------------------------------- relations


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a two-object relation, with its reference geometry (edge or axis)."""

    selector: Selector
    ref: str
    span: Span


@dataclass(frozen=True, slots=True)
class Cover:
    """`cover SEL >= Q`: depth of the top of each selected object (dekking)."""

    selector: Selector
    op: str
    limit: Quantity
    span: Span


@dataclass(frozen=True, slots=True)
class Pairing:
    """`with same owner` / `with different network`: which pairs of the two selections a relation judges.

    `same` keeps the pairs whose every named field is equal (two objects without the field
    count as equal); `different` keeps the pairs where any named field differs.
    """

    mode: str
    names: tuple[str, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Clearance:
    """`clearance PLANE [inside rack] between SIDE and SIDE [with same|different F] OP Q`: distance between two selections.

    Pairs held by the same rack are the rack's own business: a plain clearance skips them,
    one written `inside rack` looks only at them. A `pairing` narrows the pairs further.
    """

    plane: str
    inside_rack: bool
    a: Side
    b: Side
    op: str
    limit: Quantity
    span: Span
    pairing: Pairing | None = None


@dataclass(frozen=True, slots=True)
class CrossingClearance:
    """`crossing between CROSSINGS and SIDE >= Q`: vertical clearance where a crossing passes a line."""

    plane: str
    a: Side
    b: Side
    op: str
    limit: Quantity
    span: Span


@dataclass(frozen=True, slots=True)
class Order:
    """`order left-to-right|top-to-bottom [inside rack]: S1, S2, ...`."""

    direction: str
    ref: str
    inside_rack: bool
    sequence: tuple[Selector, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class ZoneRule:
    """`zone SEL within K, ...` or `zone SEL not under K, ...` over surface zone kinds."""

    selector: Selector
    mode: str
    kinds: tuple[str, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Exclusion:
    """`exclusion SEL from TARGET [root-zone] [>= Q]`: keep out of (or away from) a zone."""

    selector: Selector
    target: Selector
    part: str
    op: str
    limit: Quantity | None
    span: Span


@dataclass(frozen=True, slots=True)
class Access:
    """`access beside SEL width >= Q [depth >= Q] [sides one|both|declared]`: free trench space."""

    selector: Selector
    width: Quantity
    depth: Quantity | None
    sides: str
    span: Span


@dataclass(frozen=True, slots=True)
class Capacity:
    """`capacity in K, ...: count|width of SEL <= N`: how much may lie under one zone."""

    kinds: tuple[str, ...]
    measure: str
    selector: Selector
    op: str
    limit: Quantity
    span: Span


@dataclass(frozen=True, slots=True)
class CrossPermission:
    """`only SEL may cross TARGET`: which crossings may pass a rack (or other object)."""

    allowed: Selector
    target: Selector
    span: Span


@dataclass(frozen=True, slots=True)
class Bounds:
    """`bounds SEL within profile` or `bounds SEL depth <= Q` (bottom of the object)."""

    selector: Selector
    what: str
    limit: Quantity | None
    span: Span


@dataclass(frozen=True, slots=True)
class Keep:
    """`keep depth|position|side SEL`: part of the drawn place is a design input the solver leaves alone.

    `depth`: a gravity sewer's depth follows from its fall; `position`: depth and x; `side`:
    the side of the carriageway (a line serves the plots on its side). Layout, fit and
    suggestions hold it as drawn. A check has nothing to compare it with, so the relation
    never yields a finding.
    """

    selector: Selector
    what: str
    span: Span


Relation = (Cover | Clearance | CrossingClearance | Order | ZoneRule | Exclusion | Access
            | Capacity | CrossPermission | Bounds | Keep)


@dataclass(frozen=True, slots=True)
class Exception_:
    """`unless M1, M2 [then OP Q] approved by "P"`: a relaxed requirement met through a measure."""

    measures: tuple[str, ...]
    op: str
    limit: Quantity | None
    approver: str
    span: Span


@dataclass(frozen=True, slots=True)
class Requirement:
    """A relation with the exceptions that may relax it."""

    relation: Relation
    exceptions: tuple[Exception_, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Condition:
    """`where TAG OP VALUE`: a condition on the case (street_type, municipality, planned, ...)."""

    name: str
    op: str
    value: str | float
    span: Span


@dataclass(frozen=True, slots=True)
class Validity:
    """The dates a pack or rule is in force, as ISO strings (`to` inclusive)."""

    start: str | None
    end: str | None
    span: Span


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: metadata, conditions, and requirements tried in order (`otherwise`)."""

    id: str
    title: str
    severity: str
    negotiability: float | None
    source: str
    illustrative: str | None
    note: str
    conditions: tuple[Condition, ...]
    validity: Validity | None
    overrides: str | None
    alternatives: tuple[Requirement, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Group:
    """`group gas = gasLageDruk, gasHogeDruk`: a named set of thema values."""

    name: str
    members: tuple[str, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class Thema:
    """`thema water colour "#0000ff" label "Blauw"`: an IMKL thema and its PMKL colour."""

    name: str
    colour: str
    label: str
    span: Span


@dataclass(frozen=True, slots=True)
class Include:
    """`include imkl`: another pack whose groups, themas and rules this pack builds on."""

    name: str
    span: Span


@dataclass(frozen=True, slots=True)
class RulePack:
    """A parsed `.rules` file."""

    name: str
    title: str
    authority: str
    version: str
    validity: Validity | None
    includes: tuple[Include, ...]
    groups: tuple[Group, ...]
    themas: tuple[Thema, ...]
    rules: tuple[Rule, ...]
    path: str
    span: Span
