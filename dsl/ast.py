"""The rule language as frozen data: packs, rules, selectors and relations.

The parser maps text to these nodes and does nothing else; the checker compiles them
into evaluations. Every node carries the `Span` it came from so that findings, lint
and `explain` can point back at the rule text. Quantities are already SI floats.

The defaults a rule does not spell out are resolved here, once, so every reader of the
AST sees the same meaning: which reference geometry, which rack scope, and how an object
is "in" a surface zone (`MEMBERSHIPS`).
"""

from __future__ import annotations

from dataclasses import dataclass

from dsl.diagnostics import Span

# How an object is "in" a surface zone; one definition for selectors and relations alike
# (the engine implements it once). `axis`: the zone holding its axis, boundaries belonging to
# the zone that starts there (the last zone keeps the far edge); `extent`: its whole
# horizontal extent lies in the zone (1 mm tolerance); `touching`: its extent overlaps the
# zone by more than 1 mm, so an object may be in several zones.
MEMBERSHIPS = ("axis", "extent", "touching")
# Defaults when the rule does not say: a selector `[zone = K]`, a capacity and an order locate
# an object by its axis; `zone … within` / `not under` are about the whole body, so touching.
SELECTOR_MEMBERSHIP = "axis"
CAPACITY_MEMBERSHIP = "axis"
ZONE_RULE_MEMBERSHIP = "touching"
# Which pairs a two-sided relation judges with respect to racks. `outside`: not two objects
# held by one rack (the default: what lies in a rack is the rack's own business); `inside`:
# only pairs held by one rack; `both`: every pair. A rack and its own content never pair.
RACK_SCOPES = ("outside", "inside", "both")
# The dimensions a threshold may take from its subjects (`root-radius of tree`).
DIMENSIONS = ("diameter", "radius", "width", "height", "root-radius", "root-depth")
# Whose dimension: one side of the relation, or the larger / smaller of the subjects'.
DIMENSION_SIDES = ("a", "b", "larger", "smaller")


@dataclass(frozen=True, slots=True)
class Term:
    """One subject-dependent part of a threshold: `coefficient` times a dimension of a subject.

    `side` is `a` (the relation's first or only selection), `b` (its second), or `larger` /
    `smaller` (the larger or smaller value over the row's subjects).
    """

    coefficient: float
    dimension: str
    side: str
    span: Span


@dataclass(frozen=True, slots=True)
class Quantity:
    """A written quantity (`0.60 m`) as an SI float with its dimension and text.

    A threshold may depend on its subjects (`root-radius of tree + 1.0 m`): `value` is then
    the constant part and `terms` the rest, so the threshold of a row is `value` plus each
    term's coefficient times that subject's dimension. `text` is the threshold as written.
    """

    value: float
    dimension: str
    text: str
    span: Span
    terms: tuple[Term, ...] = ()


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
    """A condition inside `[...]`: `voltage >= 10 kV`, `owner = "Liander"`, `zone = trottoir by extent`.

    `membership` says how a `zone` test locates the object (see MEMBERSHIPS).
    """

    name: str
    op: str
    value: Quantity | str
    span: Span
    membership: str = SELECTOR_MEMBERSHIP


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
class SelAnd:
    """Objects matching every part: `line and water`."""

    parts: tuple[Selector, ...]
    span: Span


@dataclass(frozen=True, slots=True)
class SelNot:
    """Objects not matching the part: `not datatransport`."""

    part: Selector
    span: Span


Selector = SelName | SelAny | SelWhere | SelUnion | SelAnd | SelNot

# Reference lines of the profile that two-sided relations may measure to, as if objects:
# the facade (x = 0) and the far edge of the profile (x = width), each from the surface down.
REFERENCE_LINES = ("facade", "far-edge")


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
    """`clearance PLANE [RACKS] [without crossings] between SIDE and SIDE >= Q`: distance between two selections.

    `racks` is the rack scope (RACK_SCOPES; `outside` unless written), `racks_written` tells
    whether the rule said it. A clearance never judges crossings (`crossing between` does);
    `crossings_written` tells whether the rule said `without crossings`.
    A `pairing` (`with same owner`, `with different network`) narrows the pairs further.
    """

    plane: str
    racks: str
    a: Side
    b: Side
    op: str
    limit: Quantity
    span: Span
    racks_written: bool = False
    crossings_written: bool = False
    pairing: Pairing | None = None

    @property
    def inside_rack(self) -> bool:
        """Tell whether only pairs held by one rack are judged."""
        return self.racks == "inside"


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
    """`order left-to-right|top-to-bottom [(REF)] [RACKS]: S1, S2, ...`.

    Left to right compares axes unless `(edge)` is written (the sequence from the facade, not
    the spacing, which is the clearances' business); top to bottom compares edges unless
    `(axis)` is written (the whole body lies above).
    """

    direction: str
    ref: str
    racks: str
    sequence: tuple[Selector, ...]
    span: Span
    racks_written: bool = False

    @property
    def inside_rack(self) -> bool:
        """Tell whether only pairs held by one rack are judged."""
        return self.racks == "inside"


@dataclass(frozen=True, slots=True)
class Position:
    """`SIDE above|below|beside SIDE [RACKS] [>= Q]`: a signed vertical or horizontal relation.

    `above`: the vertical gap from `a`'s underside down to `b`'s top is at least Q (negative
    when `a` reaches lower than `b`'s top); `below`: the same with `a` and `b` exchanged;
    `beside`: the horizontal gap is at least Q (negative when their horizontal extents
    overlap). Refs shrink a side to its axis. Without a limit, Q is 0 m. A crossing is judged
    above or below where it passes the other object (not at all where it does not), and
    never beside: a crossing passes a line, it does not run beside it.
    """

    a: Side
    direction: str
    b: Side
    racks: str
    op: str
    limit: Quantity
    span: Span
    racks_written: bool = False


@dataclass(frozen=True, slots=True)
class ZoneRule:
    """`zone SEL within K, ... [MEMBERSHIP]` or `zone SEL not under K, ...` over surface zone kinds.

    `within`: every zone the object is in is of a listed kind (and it is in one); `not under`:
    it is in no zone of a listed kind. `membership` says what "in" means (MEMBERSHIPS).
    """

    selector: Selector
    mode: str
    kinds: tuple[str, ...]
    span: Span
    membership: str = ZONE_RULE_MEMBERSHIP


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
    """`access beside SEL width >= Q [depth >= Q] [sides one|both|declared|street] [margin Q]`: free trench space.

    `street` is the side away from the nearer facade (the VKLS "niet-woningzijde"); `margin` is kept
    clear between the trench and any other body (CROW 500's risicozone around located lines).
    """

    selector: Selector
    width: Quantity
    depth: Quantity | None
    sides: str
    span: Span
    margin: Quantity | None = None


@dataclass(frozen=True, slots=True)
class Capacity:
    """`capacity PLACE: count|width of SEL <= N`: how much may lie in one place.

    The place is a zone (`in trottoir, berm [MEMBERSHIP]`: `place` = `zones`), any horizontal
    strip of a given width (`in any 0.30 m strip [MEMBERSHIP]`: `strip`, `window`), or any
    vertical line (`in any stack`: `stack`, the objects whose extents share one x).
    """

    kinds: tuple[str, ...]
    measure: str
    selector: Selector
    op: str
    limit: Quantity
    span: Span
    place: str = "zones"
    window: Quantity | None = None
    membership: str = CAPACITY_MEMBERSHIP


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
            | Capacity | CrossPermission | Bounds | Position | Keep)


@dataclass(frozen=True, slots=True)
class Exception_:
    """A way out of a failing requirement: a recorded measure, or a geometric condition.

    `unless M1, M2 [then OP Q] approved by "P"`: met through a measure on a subject (the
    relaxed limit Q, if any, still holding), with approval of P. `unless R1 [and R2]
    [approved by "P"]` (`relations` set, `measures` empty): met when the relations hold for
    the row's objects — silently, or with approval of P when written.
    """

    measures: tuple[str, ...]
    op: str
    limit: Quantity | None
    approver: str
    span: Span
    relations: tuple[Relation, ...] = ()


@dataclass(frozen=True, slots=True)
class Requirement:
    """Relations that must hold together (`R1 and R2`), with the exceptions that may relax them.

    `relation` is the first; `also` the ones joined to it with `and`.
    """

    relation: Relation
    exceptions: tuple[Exception_, ...]
    span: Span
    also: tuple[Relation, ...] = ()

    @property
    def relations(self) -> tuple[Relation, ...]:
        """Return every relation of the requirement, in written order."""
        return (self.relation, *self.also)


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


INSTRUMENT_KINDS = ("norm", "voorwaarden", "richtlijn", "beleidsregel", "omgevingsplan", "verordening",
                    "instemmingsbesluit", "wet", "besluit", "projectafspraak")


@dataclass(frozen=True, slots=True)
class Instrument:
    """`instrument KIND "citation" [by "party"]`: the legal instrument rules live in, and who can change it.

    `changed_by` is empty when the pack's authority is the one that can change it.
    """

    kind: str
    citation: str
    changed_by: str
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
    instrument: Instrument | None = None


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
class Attribute:
    """`attribute material text`: an object attribute the pack's selectors may test, and its kind."""

    name: str
    kind: str
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
    instrument: Instrument | None = None
    attributes: tuple[Attribute, ...] = ()
