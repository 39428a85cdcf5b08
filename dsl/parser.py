"""Parse rule-pack text into `dsl.ast` nodes, or a diagnostic with a caret.

The grammar (`grammar.lark`, package data) is loaded once. `parse_pack` maps the Lark
tree to frozen AST nodes and checks what the grammar cannot: units of the right
dimension, known severities, mandatory metadata. Syntax errors name the common
mistakes — a misspelt keyword gets a "did you mean", an unknown relation lists the
relations — and point at the column with a caret.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark import __version__ as lark_version
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from dsl import ast
from dsl.diagnostics import Diagnostic, LiggingError, Span, line_of
from dsl.units import ATTRIBUTE_DIMENSIONS, UnitProblem, to_si

SEVERITIES = ("error", "warning", "info")
RELATIONS = ("cover", "clearance", "crossing", "order", "zone", "exclusion", "access",
             "capacity", "only", "bounds", "keep")
POSITIONS = ("above", "below", "beside")
ATTRIBUTE_KINDS = ("text", "number", "length", "voltage", "pressure", "temperature")
MEMBERSHIP_WORDS = {"by axis": "axis", "by extent": "extent", "touching": "touching"}
RACK_WORDS = {"inside rack": "inside", "outside rack": "outside", "inside and outside rack": "both"}
# relations whose value an exception may relax with `then`
LIMITED = (ast.Cover, ast.Clearance, ast.CrossingClearance, ast.Access, ast.Capacity, ast.Bounds, ast.Exclusion,
           ast.Position)
RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
CAPACITY_MEASURES = ("count", "width")
SIDES = ("one", "both", "declared", "street")
MAX_RULE_TEXT = 2_000_000
MAX_NESTING = 50
# Parentheses outside strings and comments: the only construct of the language that nests.
_NESTING_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[()]')


def _grammar_cache() -> str | bool:
    """Return the file where lark keeps the analysed grammar, or False to build it each time.

    Building the LALR tables is most of a command's start-up. The file lives in the user's
    own cache folder (XDG_CACHE_HOME or ~/.cache), never in a shared temporary folder: lark
    unpickles it, so only a folder that no one else can write is used. Lark stores the
    grammar's hash in the file and rebuilds it when the grammar changes.
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = os.path.join(base, "ligging")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        status = os.stat(folder)
    except OSError:
        return False
    if status.st_uid != os.getuid() or status.st_mode & 0o022:
        return False
    return os.path.join(folder, f"grammar-lark{lark_version}-py{sys.version_info[0]}{sys.version_info[1]}.cache")


@lru_cache(maxsize=1)
def _lark() -> Lark:
    """Load the grammar once (package data next to this module), its parser tables from the user's cache."""
    return Lark.open_from_package("dsl", "grammar.lark", parser="lalr", propagate_positions=True,
                                  maybe_placeholders=False, cache=_grammar_cache())


def _keywords() -> dict[str, str]:
    """Map the grammar's keyword terminals to the word they spell."""
    words: dict[str, str] = {}
    for term in _lark().terminals:
        pattern = term.pattern
        if pattern.type == "str" and re.fullmatch(r"[a-z][a-z-]*", pattern.value):
            words[term.name] = pattern.value
    words["REF"] = "edge|axis"
    words["PLANE"] = "horizontal|vertical|shortest"
    words["DIRECTION"] = "left-to-right|top-to-bottom"
    words["PAIRING"] = "same|different"
    return words


@dataclass(frozen=True, slots=True)
class _Ref:
    """A subject dimension as written, before the relation says which side it names."""

    dimension: str
    of: ast.Selector | None
    pick: str
    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class _Expr:
    """A threshold being built: constant + sum of coefficient * dimension reference."""

    value: float
    dimension: str
    terms: tuple[tuple[float, _Ref], ...]
    text: str
    span: Span

    @property
    def constant(self) -> bool:
        """Tell whether no subject dimension takes part."""
        return not self.terms


@dataclass(frozen=True, slots=True)
class _PendingException:
    """A measure exception whose relaxed threshold still needs the requirement's sides."""

    measures: tuple[str, ...]
    op: str
    limit: _Expr | None
    approver: str
    span: Span


def _shape(sel: ast.Selector) -> object:
    """Return a selector's structure without positions, to tell whether two are written alike."""
    if isinstance(sel, ast.SelName):
        return ("name", sel.name)
    if isinstance(sel, ast.SelAny):
        return ("any",)
    if isinstance(sel, ast.SelNot):
        return ("not", _shape(sel.part))
    if isinstance(sel, (ast.SelUnion, ast.SelAnd)):
        return (type(sel).__name__, tuple(_shape(p) for p in sel.parts))
    tests = tuple((t.name, t.op, t.value if isinstance(t.value, str) else (t.value.value, t.value.dimension),
                   t.membership) for t in sel.tests)
    return ("where", _shape(sel.base), tests)


def same_selector(a: ast.Selector, b: ast.Selector) -> bool:
    """Tell whether two selectors are written alike (positions aside)."""
    return _shape(a) == _shape(b)


class _ToAst(Transformer[Token, Any]):
    """Map the parse tree to AST nodes; raise `LiggingError` on what grammar cannot check."""

    def __init__(self, path: str, text: str) -> None:
        super().__init__()
        self.path = path
        self.text = text

    # -------------------------------------------------------------- helpers

    def span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.path, 1, 1)
        return Span(self.path, meta.line, meta.column, meta.end_line, meta.end_column)

    def tspan(self, token: Token) -> Span:
        return Span(self.path, token.line or 1, token.column or 1,
                    token.end_line or token.line or 1, token.end_column or token.column or 1)

    def error(self, span: Span, message: str) -> LiggingError:
        return LiggingError(Diagnostic(span, message, source_line=line_of(self.text, span.line)))

    @staticmethod
    def unquote(token: Token) -> str:
        body = str(token)[1:-1]
        return re.sub(r"\\(.)", r"\1", body)

    def length(self, q: ast.Quantity, what: str) -> ast.Quantity:
        if q.dimension != "length":
            hint = f" — write '{q.text} m'" if q.dimension == "number" else ""
            raise self.error(q.span, f"{what} must be a length, got '{q.text}'{hint}")
        if q.value < 0:
            raise self.error(q.span, f"{what} cannot be negative ('{q.text}')")
        return q

    def op(self, token: Token, allowed: tuple[str, ...], what: str) -> str:
        if str(token) not in allowed:
            raise self.error(self.tspan(token), f"{what} takes {' or '.join(allowed)}, not '{token}'")
        return str(token)

    # -------------------------------------------------------------- pack

    @v_args(meta=True)
    def start(self, meta: Any, children: list[Any]) -> ast.RulePack:
        header, *items = children
        name, fields, hspan = header
        rules = tuple(i for i in items if isinstance(i, ast.Rule))
        return ast.RulePack(
            name=name,
            title=fields.get("title", ""),
            authority=fields.get("authority", ""),
            version=fields.get("version", ""),
            validity=fields.get("validity"),
            includes=tuple(i for i in items if isinstance(i, ast.Include)),
            groups=tuple(i for i in items if isinstance(i, ast.Group)),
            themas=tuple(i for i in items if isinstance(i, ast.Thema)),
            rules=rules,
            path=self.path,
            span=hspan,
            instrument=fields.get("instrument"),
            attributes=tuple(i for i in items if isinstance(i, ast.Attribute)),
        )

    @v_args(meta=True)
    def header(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span]:
        name, *fields = children
        out: dict[str, Any] = {}
        for key, value, *_ in fields:
            if key == "instrument" and key in out:
                raise self.error(value.span, f"pack '{name}' sets 'instrument' twice")
            out[key] = value
        for required in ("title", "authority", "version"):
            if required not in out:
                raise self.error(self.tspan(name), f"pack '{name}' has no {required} (write `{required} \"...\"`)")
        return str(name), out, self.tspan(name)

    def title(self, c: list[Token]) -> tuple[str, str]:
        return "title", self.unquote(c[0])

    def authority(self, c: list[Token]) -> tuple[str, str]:
        return "authority", self.unquote(c[0])

    def version(self, c: list[Token]) -> tuple[str, str]:
        return "version", self.unquote(c[0])

    @v_args(meta=True)
    def valid_from(self, meta: Any, c: list[Token]) -> tuple[str, ast.Validity]:
        start = self.date(c[0], start=True)
        end = self.date(c[1], start=False) if len(c) > 1 else None
        if end is not None and end < start:
            raise self.error(self.tspan(c[1]), f"validity ends ({end}) before it starts ({start})")
        return "validity", ast.Validity(start, end, self.span(meta))

    @v_args(meta=True)
    def valid_to(self, meta: Any, c: list[Token]) -> tuple[str, ast.Validity]:
        return "validity", ast.Validity(None, self.date(c[0], start=False), self.span(meta))

    def date(self, token: Token, start: bool) -> str:
        text = str(token)
        if len(text) == 4:
            return f"{text}-01-01" if start else f"{text}-12-31"
        month, day = int(text[5:7]), int(text[8:10])
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise self.error(self.tspan(token), f"'{text}' is not a date (expected YYYY-MM-DD)")
        return text

    def include(self, c: list[Token]) -> ast.Include:
        return ast.Include(str(c[0]), self.tspan(c[0]))

    def group(self, c: list[Token]) -> ast.Group:
        return ast.Group(str(c[0]), tuple(str(t) for t in c[1:]), self.tspan(c[0]))

    def attribute(self, c: list[Token]) -> ast.Attribute:
        name, kind = str(c[0]), str(c[1])
        if kind not in ATTRIBUTE_KINDS:
            near = difflib.get_close_matches(kind, ATTRIBUTE_KINDS, n=1)
            hint = f" — did you mean '{near[0]}'?" if near else ""
            raise self.error(self.tspan(c[1]), f"an attribute is one of {', '.join(ATTRIBUTE_KINDS)}, not '{kind}'{hint}")
        known = ATTRIBUTE_DIMENSIONS.get(name)
        if known is not None and known != kind:
            raise self.error(self.tspan(c[1]), f"'{name}' is always a {known}; it cannot be declared a {kind}")
        return ast.Attribute(name, kind, self.tspan(c[0]))

    def thema(self, c: list[Token]) -> ast.Thema:
        colour = self.unquote(c[1])
        if not re.fullmatch(r"#[0-9a-fA-F]{6}", colour):
            raise self.error(self.tspan(c[1]), f"colour '{colour}' is not of the form #rrggbb")
        label = self.unquote(c[2]) if len(c) > 2 else c[0]
        return ast.Thema(str(c[0]), colour.lower(), str(label), self.tspan(c[0]))

    # -------------------------------------------------------------- rule

    def rule(self, c: list[Any]) -> ast.Rule:
        ident: Token = c[0]
        span = self.tspan(ident)
        if not RULE_ID.match(str(ident)):
            raise self.error(span, f"rule id '{ident}' must be upper case words joined by '-' (e.g. NEN-COV-LS)")
        fields: dict[str, Any] = {}
        for key, value, fspan in c[1:]:
            if key in fields and key != "where":
                raise self.error(fspan, f"rule {ident} sets '{key}' twice")
            if key == "where":
                fields[key] = fields.get(key, ()) + value
            else:
                fields[key] = value
        for required in ("title", "severity", "source", "require"):
            if required not in fields:
                raise self.error(span, f"rule {ident} has no {required}"
                                 + (" — every rule must cite its source" if required == "source" else ""))
        return ast.Rule(
            id=str(ident),
            title=fields["title"],
            severity=fields["severity"],
            negotiability=fields.get("negotiability", 1.0),
            source=fields["source"],
            illustrative=fields.get("illustrative"),
            note=fields.get("note", ""),
            conditions=fields.get("where", ()),
            validity=fields.get("validity"),
            overrides=fields.get("overrides"),
            alternatives=fields["require"],
            span=span,
            instrument=fields.get("instrument"),
        )

    @v_args(meta=True)
    def f_title(self, meta: Any, c: list[Token]) -> tuple[str, str, Span]:
        return "title", self.unquote(c[0]), self.span(meta)

    @v_args(meta=True)
    def f_severity(self, meta: Any, c: list[Token]) -> tuple[str, str, Span]:
        value = str(c[0])
        if value not in SEVERITIES:
            near = difflib.get_close_matches(value, SEVERITIES, n=1)
            hint = f" — did you mean '{near[0]}'?" if near else ""
            raise self.error(self.tspan(c[0]), f"severity must be error, warning or info, not '{value}'{hint}")
        return "severity", value, self.span(meta)

    @v_args(meta=True)
    def f_negotiability(self, meta: Any, c: list[Token]) -> tuple[str, float | None, Span]:
        if c[0].type == "FIXED":
            return "negotiability", None, self.span(meta)
        value = float(c[0])
        if not 0 < value <= 10:
            raise self.error(self.tspan(c[0]),
                             f"negotiability is a cost weight from 0 (exclusive) to 10, or 'fixed'; got {value:g}")
        return "negotiability", value, self.span(meta)

    @v_args(meta=True)
    def f_source(self, meta: Any, c: list[Token]) -> tuple[str, str, Span]:
        text = self.unquote(c[0]).strip()
        if not text:
            raise self.error(self.tspan(c[0]), "source is empty — cite document, edition and clause")
        return "source", text, self.span(meta)

    @v_args(meta=True)
    def f_illustrative(self, meta: Any, c: list[Token]) -> tuple[str, str, Span]:
        return "illustrative", self.unquote(c[0]) if c else "value not sourced", self.span(meta)

    @v_args(meta=True)
    def f_note(self, meta: Any, c: list[Token]) -> tuple[str, str, Span]:
        return "note", self.unquote(c[0]), self.span(meta)

    @v_args(meta=True)
    def f_where(self, meta: Any, c: list[ast.Condition]) -> tuple[str, tuple[ast.Condition, ...], Span]:
        return "where", tuple(c), self.span(meta)

    @v_args(meta=True)
    def f_validity(self, meta: Any, c: list[Any]) -> tuple[str, ast.Validity, Span]:
        return "validity", c[0][1], self.span(meta)

    @v_args(meta=True)
    def f_overrides(self, meta: Any, c: list[Token]) -> tuple[str, str, Span]:
        return "overrides", f"{c[0]}:{c[1]}", self.span(meta)

    @v_args(meta=True)
    def instrument(self, meta: Any, c: list[Token]) -> tuple[str, ast.Instrument, Span]:
        kind = str(c[0])
        if kind not in ast.INSTRUMENT_KINDS:
            near = difflib.get_close_matches(kind, ast.INSTRUMENT_KINDS, n=1)
            hint = f" — did you mean '{near[0]}'?" if near else f" (one of: {', '.join(ast.INSTRUMENT_KINDS)})"
            raise self.error(self.tspan(c[0]), f"unknown instrument kind '{kind}'{hint}")
        citation = self.unquote(c[1]).strip()
        if not citation:
            raise self.error(self.tspan(c[1]), "instrument is empty — name the document it lives in")
        changed_by = self.unquote(c[2]).strip() if len(c) > 2 else ""
        span = self.span(meta)
        return "instrument", ast.Instrument(kind, citation, changed_by, span), span

    @v_args(meta=True)
    def f_require(self, meta: Any, c: list[ast.Requirement]) -> tuple[str, tuple[ast.Requirement, ...], Span]:
        return "require", tuple(c), self.span(meta)

    @v_args(meta=True)
    def condition(self, meta: Any, c: list[Token]) -> ast.Condition:
        name, op, value = c
        parsed: str | float
        if value.type == "NUMBER":
            parsed = float(value)
        elif value.type == "STRING":
            parsed = self.unquote(value)
        else:
            parsed = str(value)
        if isinstance(parsed, str) and str(op) not in ("=", "!="):
            raise self.error(self.tspan(op), f"'{op}' compares numbers; '{parsed}' is text (use = or !=)")
        return ast.Condition(str(name), str(op), parsed, self.span(meta))

    @v_args(meta=True)
    def requirement(self, meta: Any, c: list[Any]) -> ast.Requirement:
        relations, *pending = c
        first = relations[0]
        exceptions = []
        for exc in pending:
            if isinstance(exc, ast.Exception_):
                exceptions.append(exc)
                continue
            limit = None
            if exc.limit is not None:
                if len(relations) > 1:
                    raise self.error(exc.limit.span, f"`then` relaxes the value of one relation; this requirement joins "
                                                     f"{len(relations)} with `and` — give each its own rule")
                if not isinstance(first, LIMITED):
                    raise self.error(exc.span, "this relation has no value to relax: drop `then ...` from the exception")
                # a relaxed limit of the wrong dimension is lint's L104, not a syntax error
                limit = self.resolve(exc.limit, self.sides(first), "relaxed limit", None)
            exceptions.append(ast.Exception_(exc.measures, exc.op, limit, exc.approver, exc.span))
        return ast.Requirement(first, tuple(exceptions), self.span(meta), tuple(relations[1:]))

    def relations(self, c: list[ast.Relation]) -> tuple[ast.Relation, ...]:
        return tuple(c)

    @v_args(meta=True)
    def exc_measure(self, meta: Any, c: list[Any]) -> _PendingException:
        approver = self.unquote(c[-1])
        body = c[:-1]
        measures = tuple(str(t) for t in body if isinstance(t, Token) and t.type == "NAME")
        op = next((str(t) for t in body if isinstance(t, Token) and t.type == "OP"), "")
        limit = next((q for q in body if isinstance(q, _Expr)), None)
        return _PendingException(measures, op, limit, approver, self.span(meta))

    @v_args(meta=True)
    def exc_relation(self, meta: Any, c: list[Any]) -> ast.Exception_:
        relations = c[0]
        approver = self.unquote(c[1]) if len(c) > 1 else ""
        if len(c) > 1 and not approver.strip():
            raise self.error(self.tspan(c[1]), "name the approving party (`approved by \"netbeheerder\"`), or drop `approved by`")
        return ast.Exception_((), "", None, approver, self.span(meta), relations)

    # -------------------------------------------------------------- thresholds

    def sides(self, rel: ast.Relation) -> dict[str, ast.Selector]:
        """Return the selections a relation's threshold may take dimensions from (a, and b if two-sided)."""
        if isinstance(rel, (ast.Clearance, ast.CrossingClearance, ast.Position)):
            return {"a": rel.a.selector, "b": rel.b.selector}
        if isinstance(rel, ast.Exclusion):
            return {"a": rel.selector, "b": rel.target}
        if isinstance(rel, (ast.Cover, ast.Access, ast.Bounds)):
            return {"a": rel.selector}
        return {}

    def resolve(self, expr: _Expr, sides: dict[str, ast.Selector], what: str,
                dimension: str | None = "length") -> ast.Quantity:
        """Resolve a written threshold against the relation's sides; check its dimension (unless None)."""
        if dimension is not None and expr.dimension != dimension:
            hint = f" — write '{expr.text} m'" if expr.dimension == "number" and dimension == "length" else ""
            article = "a " if dimension != "number" else "a plain "
            raise self.error(expr.span, f"{what} must be {article}{dimension}, got '{expr.text}'{hint}")
        terms = []
        for coefficient, ref in expr.terms:
            if not sides:
                raise self.error(ref.span, f"{what} is a number of objects; it cannot take an object's {ref.dimension}")
            terms.append(ast.Term(coefficient, ref.dimension, self.side_of(ref, sides), ref.span))
        if not terms and expr.value < 0:
            raise self.error(expr.span, f"{what} cannot be negative ('{expr.text}')")
        return ast.Quantity(expr.value, expr.dimension, expr.text, expr.span, tuple(terms))

    def side_of(self, ref: _Ref, sides: dict[str, ast.Selector]) -> str:
        """Say which side `DIMENSION of SELECTOR` names: the one written alike."""
        if ref.of is None:
            return ref.pick
        hits = [key for key, sel in sides.items() if same_selector(sel, ref.of)]
        written = ref.text
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise self.error(ref.span, f"both sides are the same selection, so '{written}' is ambiguous — write "
                                       f"`larger {ref.dimension}` or `smaller {ref.dimension}`")
        names = " or ".join(f"`{ref.dimension} of {self.atom(sel)}`" for sel in sides.values())
        raise self.error(ref.span, f"'{written}' names no side of this relation; write {names}")

    def offset(self, span: Span, end: bool = False) -> int:
        """Return the character offset of a span's start (or end) in the pack text."""
        line, column = (span.end_line, span.end_column) if end else (span.line, span.column)
        starts = [0] + [m.end() for m in re.finditer("\n", self.text)]
        return starts[line - 1] + column - 1 if 0 < line <= len(starts) else 0

    def source(self, sel: ast.Selector) -> str:
        """Return a selector as written."""
        span = sel.span
        return " ".join(self.text[self.offset(span):self.offset(span, end=True)].split())

    def atom(self, sel: ast.Selector) -> str:
        """Return a selector as written, in parentheses where `of` needs them (`diameter of (gas or water)`)."""
        text = self.source(sel)
        return f"({text})" if isinstance(sel, (ast.SelUnion, ast.SelAnd, ast.SelNot)) else text

    def threshold(self, c: list[Any]) -> _Expr:
        return self.expr(c[0])

    @staticmethod
    def expr(item: ast.Quantity | _Expr) -> _Expr:
        """Return a threshold part as an expression (a plain quantity is a constant one)."""
        if isinstance(item, _Expr):
            return item
        return _Expr(item.value, item.dimension, (), item.text, item.span)

    def expr_text(self, meta: Any) -> str:
        return " ".join(self.text[meta.start_pos:meta.end_pos].split())

    @v_args(meta=True)
    def sum(self, meta: Any, c: list[Any]) -> _Expr:
        c = [self.expr(x) if not isinstance(x, Token) else x for x in c]
        out: _Expr = c[0]
        for op, right in zip(c[1::2], c[2::2], strict=True):
            if right.dimension != out.dimension:
                raise self.error(self.tspan(op), f"cannot {'add' if str(op) == '+' else 'subtract'} a {right.dimension} "
                                                 f"and a {out.dimension} ('{out.text}' {op} '{right.text}')"
                                 + (" — write the unit, e.g. '1.0 m'" if "number" in (right.dimension, out.dimension) else ""))
            sign = 1.0 if str(op) == "+" else -1.0
            out = _Expr(out.value + sign * right.value, out.dimension,
                        out.terms + tuple((sign * k, r) for k, r in right.terms), "", out.span)
        return _Expr(out.value, out.dimension, out.terms, self.expr_text(meta), self.span(meta))

    @v_args(meta=True)
    def product(self, meta: Any, c: list[Any]) -> _Expr:
        c = [self.expr(x) if not isinstance(x, Token) else x for x in c]
        out: _Expr = c[0]
        for op, right in zip(c[1::2], c[2::2], strict=True):
            if str(op) == "*":
                if out.dimension != "number" and right.dimension != "number":
                    raise self.error(self.tspan(op), f"multiply a {right.dimension} only by a plain number "
                                                     f"('{out.text}' * '{right.text}')")
                scale, other = (out, right) if out.dimension == "number" else (right, out)
                out = _Expr(scale.value * other.value, other.dimension,
                            tuple((scale.value * k, r) for k, r in other.terms), "", out.span)
            else:
                if right.dimension != "number" or not right.constant:
                    raise self.error(self.tspan(op), f"divide only by a plain number, not '{right.text}'")
                if right.value == 0:
                    raise self.error(right.span, "division by zero")
                out = _Expr(out.value / right.value, out.dimension,
                            tuple((k / right.value, r) for k, r in out.terms), "", out.span)
        return _Expr(out.value, out.dimension, out.terms, self.expr_text(meta), self.span(meta))

    def dimension_word(self, token: Token) -> str:
        word = str(token)
        if word not in ast.DIMENSIONS:
            near = difflib.get_close_matches(word, ast.DIMENSIONS, n=1)
            hint = f" — did you mean '{near[0]}'?" if near else f"; a threshold may use {', '.join(ast.DIMENSIONS)}"
            raise self.error(self.tspan(token), f"'{word}' is not a dimension of an object{hint}")
        return word

    @v_args(meta=True)
    def dim_of(self, meta: Any, c: list[Any]) -> _Expr:
        word = self.dimension_word(c[0])
        span = self.span(meta)
        text = self.expr_text(meta)
        return _Expr(0.0, "length", ((1.0, _Ref(word, c[1], "", text, span)),), text, span)

    @v_args(meta=True)
    def dim_pair(self, meta: Any, c: list[Token]) -> _Expr:
        pick = str(c[0])
        if pick not in ("larger", "smaller"):
            raise self.error(self.tspan(c[0]), f"write `larger {c[1]}`, `smaller {c[1]}` or `{c[1]} of SELECTOR`, "
                                               f"not '{pick} {c[1]}'")
        word = self.dimension_word(c[1])
        span = self.span(meta)
        text = self.expr_text(meta)
        return _Expr(0.0, "length", ((1.0, _Ref(word, None, pick, text, span)),), text, span)

    # -------------------------------------------------------------- relations

    @v_args(meta=True)
    def cover(self, meta: Any, c: list[Any]) -> ast.Cover:
        sel, op, expr = c
        return ast.Cover(sel, self.op(op, (">=", "<="), "cover"), self.resolve(expr, {"a": sel}, "cover"),
                         self.span(meta))

    @staticmethod
    def racks(token: Token) -> str:
        return RACK_WORDS[" ".join(str(token).split())]

    @staticmethod
    def membership(token: Token) -> str:
        return MEMBERSHIP_WORDS[" ".join(str(token).split())]

    @v_args(meta=True)
    def clearance(self, meta: Any, c: list[Any]) -> ast.Clearance:
        ref, plane, racks, racks_written, crossings = "edge", "", "outside", False, False
        pairing = next((item for item in c if isinstance(item, ast.Pairing)), None)
        rest = [item for item in c if not isinstance(item, ast.Pairing)]
        while rest and isinstance(rest[0], Token):
            token = rest.pop(0)
            if token.type == "REF":
                ref = str(token)
            elif token.type == "RACKS":
                racks, racks_written = self.racks(token), True
            elif token.type == "NO_CROSSINGS":
                crossings = True
            else:
                plane = str(token)
        a, b, op, expr = rest
        a = a if a.ref else ast.Side(a.selector, ref, a.span)
        b = b if b.ref else ast.Side(b.selector, ref, b.span)
        rel = ast.Clearance(plane or "shortest", racks, a, b, self.op(op, (">=", "<="), "clearance"),
                            ast.Quantity(0.0, "length", "", self.span(meta)), self.span(meta), racks_written, crossings,
                            pairing)
        return replace(rel, limit=self.resolve(expr, self.sides(rel), "clearance"))

    @v_args(meta=True)
    def pairing(self, meta: Any, c: list[Token]) -> ast.Pairing:
        mode, *fields = c
        names = tuple(str(f) for f in fields)
        repeated = next((n for k, n in enumerate(names) if n in names[:k]), None)
        if repeated is not None:
            raise self.error(self.span(meta), f"'{repeated}' is named twice after 'with {mode}'")
        return ast.Pairing(str(mode), names, self.span(meta))

    @v_args(meta=True)
    def crossing(self, meta: Any, c: list[Any]) -> ast.CrossingClearance:
        rest = list(c)
        plane = str(rest.pop(0)) if isinstance(rest[0], Token) else "vertical"
        a, b, op, expr = rest
        a = a if a.ref else ast.Side(a.selector, "edge", a.span)
        b = b if b.ref else ast.Side(b.selector, "edge", b.span)
        rel = ast.CrossingClearance(plane, a, b, self.op(op, (">=",), "crossing clearance"),
                                    ast.Quantity(0.0, "length", "", self.span(meta)), self.span(meta))
        return replace(rel, limit=self.resolve(expr, self.sides(rel), "crossing clearance"))

    @v_args(meta=True)
    def side(self, meta: Any, c: list[Any]) -> ast.Side:
        ref = str(c[1]) if len(c) > 1 else ""
        return ast.Side(c[0], ref, self.span(meta))

    @v_args(meta=True)
    def position(self, meta: Any, c: list[Any]) -> ast.Position:
        a, direction, b, *rest = c
        racks, written = "outside", False
        if rest and isinstance(rest[0], Token) and rest[0].type == "RACKS":
            racks, written = self.racks(rest.pop(0)), True
        span = self.span(meta)
        a = a if a.ref else ast.Side(a.selector, "edge", a.span)
        b = b if b.ref else ast.Side(b.selector, "edge", b.span)
        rel = ast.Position(a, str(direction), b, racks, ">=", ast.Quantity(0.0, "length", "0 m", span), span, written)
        if rest:
            op, expr = rest
            rel = ast.Position(a, str(direction), b, racks, self.op(op, (">=", "<="), str(direction)),
                               rel.limit, span, written)
            rel = replace(rel, limit=self.resolve(expr, self.sides(rel), f"the distance {direction}"))
        return rel

    @v_args(meta=True)
    def order(self, meta: Any, c: list[Any]) -> ast.Order:
        direction = str(c[0])
        ref = "axis" if direction == "left-to-right" else "edge"
        racks, written = "outside", False
        sequence = []
        for item in c[1:]:
            if isinstance(item, Token) and item.type == "REF":
                ref = str(item)
            elif isinstance(item, Token) and item.type == "RACKS":
                racks, written = self.racks(item), True
            else:
                sequence.append(item)
        if direction == "left-to-right" and written and racks != "outside":
            raise self.error(self.span(meta), "order left-to-right judges loose lines only (a rack orders its own "
                                              "contents top to bottom); drop the rack scope or write top-to-bottom")
        return ast.Order(direction, ref, racks, tuple(sequence), self.span(meta), written)

    @v_args(meta=True)
    def zone(self, meta: Any, c: list[Any]) -> ast.ZoneRule:
        sel, mode, *rest = c
        membership = ast.ZONE_RULE_MEMBERSHIP
        if rest and isinstance(rest[-1], Token) and rest[-1].type == "MEMBERSHIP":
            membership = self.membership(rest.pop())
        return ast.ZoneRule(sel, "within" if str(mode) == "within" else "not-under",
                            tuple(str(k) for k in rest), self.span(meta), membership)

    @v_args(meta=True)
    def exclusion(self, meta: Any, c: list[Any]) -> ast.Exclusion:
        sel, target, *rest = c
        part = "body"
        op, expr = ">=", None
        for item in rest:
            if isinstance(item, Token) and item.type == "ROOT_ZONE":
                part = "root-zone"
            elif isinstance(item, Token) and item.type == "OP":
                op = self.op(item, (">=",), "exclusion margin")
            elif isinstance(item, _Expr):
                expr = item
        limit = self.resolve(expr, {"a": sel, "b": target}, "exclusion margin") if expr is not None else None
        return ast.Exclusion(sel, target, part, op, limit, self.span(meta))

    @v_args(meta=True)
    def access(self, meta: Any, c: list[Any]) -> ast.Access:
        sel = c[0]
        sides_of = {"a": sel}
        self.op(c[1], (">=",), "access width")
        width = self.resolve(c[2], sides_of, "access width")
        depth = None
        sides = "declared"
        rest = c[3:]
        if len(rest) >= 2 and isinstance(rest[1], _Expr):
            self.op(rest[0], (">=",), "access depth")
            depth = self.resolve(rest[1], sides_of, "access depth")
            rest = rest[2:]
        margin = None
        if rest and isinstance(rest[-1], ast.Quantity):
            margin = self.length(rest.pop(), "access margin")
        if rest:
            sides = str(rest[0])
            if sides not in SIDES:
                raise self.error(self.tspan(rest[0]), f"sides must be one of {', '.join(SIDES)}, not '{sides}'")
        return ast.Access(sel, width, depth, sides, self.span(meta), margin)

    def in_zones(self, c: list[Token]) -> tuple[str, tuple[str, ...], ast.Quantity | None, str]:
        membership = ast.CAPACITY_MEMBERSHIP
        if c and c[-1].type == "MEMBERSHIP":
            membership = self.membership(c.pop())
        return "zones", tuple(str(k) for k in c), None, membership

    def in_strip(self, c: list[Any]) -> tuple[str, tuple[str, ...], ast.Quantity | None, str]:
        window = self.length(c[0], "strip width")
        membership = self.membership(c[1]) if len(c) > 1 else ast.CAPACITY_MEMBERSHIP
        return "strip", (), window, membership

    def in_stack(self, c: list[Any]) -> tuple[str, tuple[str, ...], ast.Quantity | None, str]:
        return "stack", (), None, "touching"

    @v_args(meta=True)
    def capacity(self, meta: Any, c: list[Any]) -> ast.Capacity:
        (place, kinds, window, membership), measure, sel, op, expr = c
        if str(measure) not in CAPACITY_MEASURES:
            raise self.error(self.tspan(measure), f"capacity measures count or width, not '{measure}'")
        if place != "zones" and str(measure) != "count":
            raise self.error(self.tspan(measure), f"in any {'strip' if place == 'strip' else 'stack'} a capacity counts "
                                                  "objects: write `count of …`")
        self.op(op, ("<=",), "capacity")
        if str(measure) == "width":
            q = self.resolve(expr, {}, "capacity width")
        else:
            q = self.resolve(expr, {}, "a capacity count", "number")
            if q.value != int(q.value) or q.value < 0:
                raise self.error(q.span, f"a capacity count is a whole number without unit, not '{q.text}'")
        return ast.Capacity(kinds, str(measure), sel, str(op), q, self.span(meta), place, window, membership)

    @v_args(meta=True)
    def permission(self, meta: Any, c: list[Any]) -> ast.CrossPermission:
        return ast.CrossPermission(c[0], c[1], self.span(meta))

    @v_args(meta=True)
    def keep_depth(self, meta: Any, c: list[Any]) -> ast.Keep:
        return ast.Keep(c[0], "depth", self.span(meta))

    @v_args(meta=True)
    def keep_position(self, meta: Any, c: list[Any]) -> ast.Keep:
        return ast.Keep(c[0], "position", self.span(meta))

    @v_args(meta=True)
    def keep_side(self, meta: Any, c: list[Any]) -> ast.Keep:
        return ast.Keep(c[0], "side", self.span(meta))

    @v_args(meta=True)
    def bounds_profile(self, meta: Any, c: list[Any]) -> ast.Bounds:  # c: selector, WITHIN
        return ast.Bounds(c[0], "profile", None, self.span(meta))

    @v_args(meta=True)
    def bounds_depth(self, meta: Any, c: list[Any]) -> ast.Bounds:
        self.op(c[1], ("<=",), "bounds depth")
        return ast.Bounds(c[0], "depth", self.resolve(c[2], {"a": c[0]}, "bounds depth"), self.span(meta))

    # -------------------------------------------------------------- selectors

    @v_args(meta=True)
    def sel_union(self, meta: Any, c: list[ast.Selector]) -> ast.Selector:
        return c[0] if len(c) == 1 else ast.SelUnion(tuple(c), self.span(meta))

    @v_args(meta=True)
    def sel_inter(self, meta: Any, c: list[ast.Selector]) -> ast.Selector:
        return c[0] if len(c) == 1 else ast.SelAnd(tuple(c), self.span(meta))

    @v_args(meta=True)
    def sel_negate(self, meta: Any, c: list[ast.Selector]) -> ast.Selector:
        return ast.SelNot(c[0], self.span(meta))

    @v_args(meta=True)
    def sel_where(self, meta: Any, c: list[Any]) -> ast.Selector:
        return c[0] if len(c) == 1 else ast.SelWhere(c[0], tuple(c[1:]), self.span(meta))

    def sel_name(self, c: list[Token]) -> ast.Selector:
        return ast.SelName(str(c[0]), self.tspan(c[0]))

    @v_args(meta=True)
    def sel_any(self, meta: Any, c: list[Any]) -> ast.Selector:
        return ast.SelAny(self.span(meta))

    @v_args(meta=True)
    def attr_test(self, meta: Any, c: list[Any]) -> ast.AttrTest:
        name, op, value, *rest = c
        span = self.span(meta)
        membership = ast.SELECTOR_MEMBERSHIP
        if rest:
            if str(name) != "zone":
                raise self.error(self.tspan(rest[0]), f"'{' '.join(str(rest[0]).split())}' says how an object is in a "
                                                      f"zone; it belongs to a `zone = …` test, not to '{name}'")
            membership = self.membership(rest[0])
        if isinstance(value, ast.Quantity):
            expected = ATTRIBUTE_DIMENSIONS.get(str(name))
            if expected and value.dimension != expected:
                raise self.error(value.span, f"{name} is a {expected}; '{value.text}' is a {value.dimension}")
            return ast.AttrTest(str(name), str(op), value, span, membership)
        text = self.unquote(value) if value.type == "STRING" else str(value)
        if str(op) not in ("=", "!="):
            raise self.error(self.tspan(op), f"'{op}' compares quantities; '{text}' is text (use = or !=)")
        return ast.AttrTest(str(name), str(op), text, span, membership)

    def quantity(self, c: list[Token]) -> ast.Quantity:
        number = c[0]
        unit = str(c[1]) if len(c) > 1 else ""
        span = self.tspan(number)
        try:
            measure = to_si(float(number), unit)
        except UnitProblem as exc:
            raise self.error(self.tspan(c[1]) if len(c) > 1 else span, str(exc)) from None
        return ast.Quantity(measure.value, measure.dimension, measure.text, span)


def _syntax_error(exc: UnexpectedInput, path: str, text: str) -> LiggingError:
    """Turn a Lark error into a diagnostic that says, in words, what fits where the text went wrong.

    The parser's exact set of acceptable terminals (`accepts`) at the error is the context,
    as in lark's `UnexpectedInput.match_examples(use_accepts=True)`, without its dependence on
    the stack depth: the same place in a rule has the same accepted set whatever came before
    it. Named mistakes come first (a comparison typo, a decimal comma, a missing comma or unit,
    an unknown relation, `and` where it would join two things), then a did-you-mean on an
    accepted keyword, then the accepted terminals in words.
    """
    line = getattr(exc, "line", 1) or 1
    column = getattr(exc, "column", 1) or 1
    span = Span(path, line, column)
    source = line_of(text, line)
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = text[pos] if 0 <= pos < len(text) else "?"
        message = f"unexpected character {char!r}"
        if char == "'":
            message += " — strings use double quotes"
        return LiggingError(Diagnostic(span, message, source_line=source))
    if isinstance(exc, UnexpectedEOF):
        last = max(len(text.splitlines()), 1)
        return LiggingError(Diagnostic(Span(path, last, 1), f"file ends too early; expected {_fits(set(exc.expected))}",
                                       source_line=line_of(text, last)))
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    accepts = set(exc.accepts or exc.expected)
    named = _named_mistake(exc, accepts, path, text)
    if named is not None:
        return named
    if token.type == "$END":
        last = max(len(text.splitlines()), 1)
        return LiggingError(Diagnostic(Span(path, last, 1), f"file ends too early; expected {_fits(accepts)}",
                                       source_line=line_of(text, last)))
    word = _word_at(text, token)
    options = [w for t in accepts for w in _keyword_words(t)]
    near = difflib.get_close_matches(word, options, n=1, cutoff=0.6) if token.type in ("NAME", "UNIT") else []
    after = _previous_word(text[:token.start_pos or 0])
    where = f" after `{after}`" if after else ""
    if near:
        message = f"unknown keyword '{word}' — did you mean '{near[0]}'? ({_fits(accepts)} fits{where})"
    else:
        message = f"unexpected '{word}'{where}; expected {_fits(accepts)}"
    if _missing_unit(exc):
        message = f"missing unit after the number — write e.g. '0.60 m' ({message})"
    return LiggingError(Diagnostic(span, message, source_line=source))


# What the parser can accept at a place, in the words a rule author uses; in this order.
RELATION_STARTS = frozenset({"COVER", "CLEARANCE", "CROSSING", "ORDER", "ZONE", "EXCLUSION", "ACCESS", "CAPACITY",
                             "ONLY", "BOUNDS"})
RULE_FIELDS = frozenset({"TITLE", "SEVERITY", "NEGOTIABILITY", "SOURCE", "ILLUSTRATIVE", "NOTE", "WHERE", "VALID",
                         "OVERRIDES", "REQUIRE"})
SELECTOR_MORE = frozenset({"LSQB", "OR", "AND", "LPAR"})
PHRASES: tuple[tuple[frozenset[str], str], ...] = (
    (RELATION_STARTS, "a relation (cover, clearance, crossing, order, zone, exclusion, access, capacity, only, bounds) "
                      "or a position (`A above|below|beside B`)"),
    (frozenset({"PLANE"}), "a plane (horizontal, vertical, shortest)"),
    (frozenset({"REF"}), "a reference (edge, axis)"),
    (frozenset({"RACKS"}), "a rack scope (inside rack, outside rack, inside and outside rack)"),
    (frozenset({"NO_CROSSINGS"}), "`without crossings`"),
    (frozenset({"BETWEEN"}), "`between A and B`"),
    (frozenset({"DIRECTION"}), "a direction (left-to-right, top-to-bottom)"),
    (frozenset({"POSITION"}), "above, below or beside"),
    (frozenset({"WITHIN", "NOT_UNDER"}), "`within` or `not under` and zone kinds"),
    (frozenset({"IN"}), "`in` and zone kinds, `in any 0.30 m strip` or `in any stack`"),
    (frozenset({"STACK"}), "a strip width (`0.30 m strip`) or `stack`"),
    (frozenset({"STRIP"}), "`strip`"),
    (frozenset({"FROM"}), "`from` and what to keep away from"),
    (frozenset({"ROOT_ZONE"}), "`root-zone`"),
    (frozenset({"MAY"}), "`may cross`"),
    (frozenset({"CROSS"}), "`cross`"),
    (frozenset({"BESIDE"}), "`beside`"),
    (frozenset({"WIDTH"}), "`width >= …`"),
    (frozenset({"DEPTH"}), "`depth`"),
    (frozenset({"SIDES"}), "`sides one|both|declared|street`"),
    (frozenset({"PROFILE"}), "`profile`"),
    (frozenset({"OF"}), "`of`"),
    (frozenset({"MEMBERSHIP"}), "how an object is in a zone (by axis, by extent, touching)"),
    (frozenset({"OP"}), "a comparison (>=, <=, =, !=, >, <)"),
    (frozenset({"UNIT"}), "a unit (m, mm, kV, …)"),
    (frozenset({"APPROVED"}), "`approved by \"…\"`"),
    (frozenset({"BY"}), "`by`"),
    (frozenset({"THEN"}), "`then >= …` (the relaxed limit)"),
    (frozenset({"UNLESS"}), "an exception (`unless …`)"),
    (frozenset({"OTHERWISE"}), "an alternative (`otherwise …`)"),
    (RULE_FIELDS, "a rule field (title, severity, negotiability, source, illustrative, note, where, valid, overrides, "
                  "require)"),
    (frozenset({"INSTRUMENT"}), "`instrument KIND \"citation\"`"),
    (frozenset({"TITLE", "AUTHORITY", "VERSION"}), "a pack field (title, authority, version, valid)"),
    (frozenset({"RULE", "INCLUDE", "GROUP", "THEMA", "ATTRIBUTE"}),
     "the next `rule`, `include`, `group`, `thema` or `attribute`"),
    (frozenset({"PACK"}), "`pack NAME` (a pack file starts with its header)"),
    (frozenset({"FROM", "TO"}), "`from DATE` or `to DATE`"),
    (frozenset({"COLOUR"}), "`colour \"#rrggbb\"`"),
    (frozenset({"LABEL"}), "`label \"…\"`"),
    (frozenset({"FIXED"}), "`fixed`"),
    (frozenset({"DATE"}), "a date (YYYY or YYYY-MM-DD)"),
    (frozenset({"STRING"}), "a \"quoted text\""),
    (frozenset({"EQUAL"}), "'='"),
    (frozenset({"COLON"}), "':'"),
    (frozenset({"COMMA"}), "','"),
    (frozenset({"RPAR"}), "')'"),
    (frozenset({"RSQB"}), "']'"),
    (frozenset({"NOT"}), "`not`"),
    (frozenset({"ANY"}), "`any`"),
    (frozenset({"ADDOP", "MULOP"}), "`+`, `-`, `*` or `/` to continue the threshold"),
    (frozenset({"AND"}), "`and`"),
)


def _fits(accepts: set[str]) -> str:
    """Say in words what the accepted terminals allow at a place."""
    left = set(accepts) - {"$END"}
    parts: list[str] = []
    selector = {"NAME", "ANY", "NOT", "LPAR"}
    if {"NUMBER", "NAME", "LPAR"} <= left and not left & RELATION_STARTS:
        parts.append("a threshold: a length such as `0.30 m`, a subject's dimension such as `diameter of tree` or "
                     "`larger diameter`, or a sum of these")
        left -= {"NUMBER", "NAME", "LPAR"}
    elif selector <= left | {"ANY", "NOT"} and "NAME" in left and not left & RELATION_STARTS:
        parts.append("a selection (a thema, group or kind such as `water`, `gas`, `tree`, or `any`)")
        left -= selector
    elif left & RELATION_STARTS:
        left -= selector
    for terminals, phrase in PHRASES:
        if left & terminals:
            parts.append(phrase)
            left -= terminals
    more = [w for t, w in (("NUMBER", "a number"), ("NAME", "a name")) if t in left]
    left -= {"NUMBER", "NAME"}
    parts += more
    if left & SELECTOR_MORE:
        parts.append("more of the selection (`[…]`, `or`, `and`, `(edge)`)")
        left -= SELECTOR_MORE
    parts += sorted(t.lower() for t in left)
    if "$END" in accepts:
        parts.append("the end of the file")
    return ", ".join(parts[:-1]) + (" or " if len(parts) > 1 else "") + parts[-1] if parts else "nothing more"


def _keyword_words(terminal: str) -> tuple[str, ...]:
    """Return the words a keyword terminal spells (`PLANE` -> horizontal, vertical, shortest)."""
    spelled = {"REF": ("edge", "axis"), "PLANE": ("horizontal", "vertical", "shortest"),
               "DIRECTION": ("left-to-right", "top-to-bottom"), "POSITION": POSITIONS,
               "ROOT_ZONE": ("root-zone",), "FIXED": ("fixed",), "WITHIN": ("within",)}
    if terminal in spelled:
        return spelled[terminal]
    word = _keywords().get(terminal)
    return (word,) if word else ()


def _previous_word(before: str) -> str:
    """Return the word written last before the error, a quantity whole (to say "after `clearance`", "after `0.6 m`")."""
    code = re.sub(r"#[^\n]*", "", before)
    words = code.split()
    if not words or '"' in words[-1]:
        return ""
    if len(words) > 1 and re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", words[-2]):
        return f"{words[-2]} {words[-1]}"
    return words[-1]


COMPARISON_TYPOS = {"=>": ">=", "=<": "<=", "==": "=", "<>": "!=", "=!": "!=", "!": "!="}


def _word_at(text: str, token: Token) -> str:
    """Return the whole word the lexer stopped in (`left-to-rigth`, not `left`)."""
    pos = token.start_pos if token.start_pos is not None else -1
    found = re.match(r"[A-Za-z_][A-Za-z0-9_-]*", text[pos:]) if 0 <= pos < len(text) else None
    return found.group() if found and found.group().startswith(str(token)) else str(token)


def _named_mistake(exc: UnexpectedToken, accepts: set[str], path: str, text: str) -> LiggingError | None:
    """Name a comparison typo (`=>`), a decimal comma, a missing list comma, an unknown relation, an ambiguous `and`."""
    token = exc.token
    pos = len(text) if token.type == "$END" else token.start_pos
    if pos is None or not 0 <= pos <= len(text):
        return None
    before = text[:pos].rstrip(" \t") if token.type != "$END" else text.rstrip()
    line = token.line or 1
    source = line_of(text, line)

    def at(column: int, message: str) -> LiggingError:
        return LiggingError(Diagnostic(Span(path, line, max(column, 1)), message, source_line=source))

    ops = re.search(r"[<>=!]+$", before)
    after = re.match(r"[<>=!]*", text[pos:])
    if ops and after and after.group():
        written = ops.group() + after.group()
        if written in COMPARISON_TYPOS:
            return at((token.column or 1) - (pos - ops.start()),
                      f"'{written}' is not a comparison — did you mean '{COMPARISON_TYPOS[written]}'?")
    if str(token) == "," and re.search(r"\d$", before) and re.match(r",\d", text[pos:]):
        return at(token.column or 1, "decimal comma — write numbers with a point (0.6, not 0,6)")
    line_before = before.rsplit("\n", 1)[-1]
    in_list = re.search(r"(\bwithin|\bunder|[:,])\s*[A-Za-z0-9_, -]*[A-Za-z0-9_]$", line_before)
    if token.type in ("NAME", "UNIT") and "COMMA" in accepts and in_list:
        return at(token.column or 1, f"missing ',' before '{token}' (list items are separated by commas)")
    starts = re.search(r"(?:^|\s)(require|otherwise|and|unless)\s+([A-Za-z_][A-Za-z0-9_-]*)$", before)
    previous = re.search(r"(\S+)\s+and\s+[A-Za-z_][A-Za-z0-9_-]*$", before)
    if "POSITION" in accepts and not accepts & RELATION_STARTS and starts and token.type != "LSQB":
        # a single word where a relation begins was read as the first side of a position
        word, start = starts.group(2), starts.start(2)
        word_line = text.count("\n", 0, start) + 1
        word_column = start - (text.rfind("\n", 0, start) + 1) + 1
        near = difflib.get_close_matches(word, RELATIONS + POSITIONS, n=1)
        hint = f" — did you mean '{near[0]}'?" if near else ""
        joined = (" (if `and` was meant to join two selections, put them in parentheses: "
                  f"`({previous.group(1)} and {word})`)") if starts.group(1) == "and" and previous else ""
        return LiggingError(Diagnostic(Span(path, word_line, word_column),
                                       f"unknown relation '{word}'{hint}; relations are {', '.join(RELATIONS)}, or a "
                                       f"position `A above|below|beside B`{joined}", source_line=line_of(text, word_line)))
    keyword = re.search(r"(?:^|\s)(crossing|zone|cover|order|capacity|access|bounds|exclusion|keep)$", before)
    if str(token) in POSITIONS and keyword:
        # the kind `crossing` (or another relation's keyword) opened a relation instead of a position's first side
        word = keyword.group(1)
        return at((token.column or 1) - (pos - keyword.start(1)),
                  f"'{word}' here begins the relation `{word} …`; as the first side of a position write it in "
                  f"parentheses: `({word}) {token} …`")
    if token.type == "AND" and "AND" not in accepts:
        return at(token.column or 1, f"`and` cannot continue here: the selection before it has ended (in `between … and "
                                     f"…`, in a list and at the end of a relation, a selection joined with `and` goes in "
                                     f"parentheses: `(line and water)`); expected {_fits(accepts)}")
    return None


def _missing_unit(exc: UnexpectedToken) -> bool:
    """Tell whether the parser stopped right after a bare number where a unit was possible."""
    prev = getattr(exc, "token_history", None) or []
    return bool(prev) and prev[-1] is not None and prev[-1].type == "NUMBER" and "UNIT" in exc.expected \
        and exc.token.type in ("NAME",)


def _check_nesting(text: str, path: str) -> None:
    """Refuse parentheses nested deeper than MAX_NESTING (the tree walk recurses per level)."""
    depth = 0
    for match in _NESTING_TOKENS.finditer(text):
        token = match.group()
        if token == "(":
            depth += 1
            if depth > MAX_NESTING:
                line = text.count("\n", 0, match.start()) + 1
                column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
                raise LiggingError(Diagnostic(Span(path, line, column),
                                              f"parentheses nested deeper than {MAX_NESTING} levels — refused",
                                              source_line=line_of(text, line)))
        elif token == ")":
            depth = max(depth - 1, 0)


def parse_pack(text: str, path: str = "<rules>") -> ast.RulePack:
    """Parse one rule pack; raise `LiggingError` with file:line:column on any mistake."""
    if len(text) > MAX_RULE_TEXT:
        raise LiggingError(Diagnostic(Span(path, 1, 1), f"rule pack is larger than {MAX_RULE_TEXT} characters"))
    _check_nesting(text, path)
    try:
        tree: Tree[Token] = _lark().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(exc, path, text) from None
    try:
        pack: ast.RulePack = _ToAst(path, text).transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, LiggingError):
            raise exc.orig_exc from None
        raise
    return pack
