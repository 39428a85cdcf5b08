"""Parse rule-pack text into `dsl.ast` nodes, or a diagnostic with a caret.

The grammar (`grammar.lark`, package data) is loaded once. `parse_pack` maps the Lark
tree to frozen AST nodes and checks what the grammar cannot: units of the right
dimension, known severities, mandatory metadata. Syntax errors name the common
mistakes — a misspelt keyword gets a "did you mean", an unknown relation lists the
relations — and point at the column with a caret.
"""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from dsl import ast
from dsl.diagnostics import Diagnostic, LiggingError, Span, line_of
from dsl.units import ATTRIBUTE_DIMENSIONS, UnitProblem, to_si

SEVERITIES = ("error", "warning", "info")
RELATIONS = ("cover", "clearance", "crossing", "order", "zone", "exclusion", "access",
             "capacity", "only", "bounds", "keep")
RULE_ID = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z0-9]+)+$")
CAPACITY_MEASURES = ("count", "width")
SIDES = ("one", "both", "declared")
MAX_RULE_TEXT = 2_000_000
MAX_NESTING = 50
# Parentheses outside strings and comments: the only construct of the language that nests.
_NESTING_TOKENS = re.compile(r'"(?:[^"\\\n]|\\.)*"|#[^\n]*|[()]')


@lru_cache(maxsize=1)
def _lark() -> Lark:
    """Load the grammar once (package data next to this module)."""
    return Lark.open_from_package("dsl", "grammar.lark", parser="lalr",
                                  propagate_positions=True, maybe_placeholders=False)


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
    words["KEPT"] = "depth|position|side"
    return words


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
        )

    @v_args(meta=True)
    def header(self, meta: Any, children: list[Any]) -> tuple[str, dict[str, Any], Span]:
        name, *fields = children
        out: dict[str, Any] = {}
        for key, value in fields:
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
        relation, *exceptions = c
        has_limit = isinstance(relation, (ast.Cover, ast.Clearance, ast.CrossingClearance, ast.Access,
                                          ast.Capacity, ast.Bounds, ast.Exclusion))
        for exc in exceptions:
            if exc.limit is not None and not has_limit:
                raise self.error(exc.span, "this relation has no value to relax: drop `then ...` from the exception")
        return ast.Requirement(relation, tuple(exceptions), self.span(meta))

    @v_args(meta=True)
    def exception(self, meta: Any, c: list[Any]) -> ast.Exception_:
        approver = self.unquote(c[-1])
        body = c[:-1]
        measures = tuple(str(t) for t in body if isinstance(t, Token) and t.type == "NAME")
        op = next((str(t) for t in body if isinstance(t, Token) and t.type == "OP"), "")
        limit = next((q for q in body if isinstance(q, ast.Quantity)), None)
        return ast.Exception_(measures, op, limit, approver, self.span(meta))

    # -------------------------------------------------------------- relations

    @v_args(meta=True)
    def cover(self, meta: Any, c: list[Any]) -> ast.Cover:
        sel, op, q = c
        return ast.Cover(sel, self.op(op, (">=", "<="), "cover"), self.length(q, "cover"), self.span(meta))

    def _two_sided(self, c: list[Any]) -> tuple[bool, str, ast.Side, ast.Side, str, ast.Quantity]:
        ref, plane, inside = "edge", "", False
        rest = [item for item in c if not isinstance(item, ast.Pairing)]
        while rest and isinstance(rest[0], Token):
            token = rest.pop(0)
            if token.type == "REF":
                ref = str(token)
            elif token.type == "INSIDE_RACK":
                inside = True
            else:
                plane = str(token)
        a, b, op, q = rest
        a = a if a.ref else ast.Side(a.selector, ref, a.span)
        b = b if b.ref else ast.Side(b.selector, ref, b.span)
        return inside, plane, a, b, str(op), q

    @v_args(meta=True)
    def clearance(self, meta: Any, c: list[Any]) -> ast.Clearance:
        inside, plane, a, b, op, q = self._two_sided(c)
        self.op(c[-2], (">=", "<="), "clearance")
        pairing = next((item for item in c if isinstance(item, ast.Pairing)), None)
        return ast.Clearance(plane or "shortest", inside, a, b, op, self.length(q, "clearance"), self.span(meta),
                             pairing)

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
        _, plane, a, b, op, q = self._two_sided(c)
        self.op(c[-2], (">=",), "crossing clearance")
        return ast.CrossingClearance(plane or "vertical", a, b, op, self.length(q, "crossing clearance"),
                                     self.span(meta))

    @v_args(meta=True)
    def side(self, meta: Any, c: list[Any]) -> ast.Side:
        ref = str(c[1]) if len(c) > 1 else ""
        return ast.Side(c[0], ref, self.span(meta))

    @v_args(meta=True)
    def order(self, meta: Any, c: list[Any]) -> ast.Order:
        direction = str(c[0])
        ref = "axis" if direction == "left-to-right" else "edge"
        inside = False
        sequence = []
        for item in c[1:]:
            if isinstance(item, Token) and item.type == "REF":
                ref = str(item)
            elif isinstance(item, Token) and item.type == "INSIDE_RACK":
                inside = True
            else:
                sequence.append(item)
        return ast.Order(direction, ref, inside, tuple(sequence), self.span(meta))

    @v_args(meta=True)
    def zone(self, meta: Any, c: list[Any]) -> ast.ZoneRule:
        sel, mode, *kinds = c
        return ast.ZoneRule(sel, "within" if str(mode) == "within" else "not-under",
                            tuple(str(k) for k in kinds), self.span(meta))

    @v_args(meta=True)
    def exclusion(self, meta: Any, c: list[Any]) -> ast.Exclusion:
        sel, target, *rest = c
        part = "body"
        op, limit = ">=", None
        for item in rest:
            if isinstance(item, Token) and item.type == "ROOT_ZONE":
                part = "root-zone"
            elif isinstance(item, Token) and item.type == "OP":
                op = self.op(item, (">=",), "exclusion margin")
            elif isinstance(item, ast.Quantity):
                limit = self.length(item, "exclusion margin")
        return ast.Exclusion(sel, target, part, op, limit, self.span(meta))

    @v_args(meta=True)
    def access(self, meta: Any, c: list[Any]) -> ast.Access:
        sel = c[0]
        self.op(c[1], (">=",), "access width")
        width = self.length(c[2], "access width")
        depth = None
        sides = "declared"
        rest = c[3:]
        if len(rest) >= 2 and isinstance(rest[1], ast.Quantity):
            self.op(rest[0], (">=",), "access depth")
            depth = self.length(rest[1], "access depth")
            rest = rest[2:]
        if rest:
            sides = str(rest[0])
            if sides not in SIDES:
                raise self.error(self.tspan(rest[0]), f"sides must be one of {', '.join(SIDES)}, not '{sides}'")
        return ast.Access(sel, width, depth, sides, self.span(meta))

    @v_args(meta=True)
    def capacity(self, meta: Any, c: list[Any]) -> ast.Capacity:
        *kinds, measure, sel, op, q = c
        if str(measure) not in CAPACITY_MEASURES:
            raise self.error(self.tspan(measure), f"capacity measures count or width, not '{measure}'")
        self.op(op, ("<=",), "capacity")
        if str(measure) == "width":
            q = self.length(q, "capacity width")
        elif q.dimension != "number" or q.value != int(q.value) or q.value < 0:
            raise self.error(q.span, f"a capacity count is a whole number without unit, not '{q.text}'")
        return ast.Capacity(tuple(str(k) for k in kinds), str(measure), sel, str(op), q, self.span(meta))

    @v_args(meta=True)
    def permission(self, meta: Any, c: list[Any]) -> ast.CrossPermission:
        return ast.CrossPermission(c[0], c[1], self.span(meta))

    @v_args(meta=True)
    def keep(self, meta: Any, c: list[Any]) -> ast.Keep:
        return ast.Keep(c[1], str(c[0]), self.span(meta))

    @v_args(meta=True)
    def bounds_profile(self, meta: Any, c: list[Any]) -> ast.Bounds:  # c: selector, WITHIN
        return ast.Bounds(c[0], "profile", None, self.span(meta))

    @v_args(meta=True)
    def bounds_depth(self, meta: Any, c: list[Any]) -> ast.Bounds:
        self.op(c[1], ("<=",), "bounds depth")
        return ast.Bounds(c[0], "depth", self.length(c[2], "bounds depth"), self.span(meta))

    # -------------------------------------------------------------- selectors

    @v_args(meta=True)
    def sel_union(self, meta: Any, c: list[ast.Selector]) -> ast.Selector:
        return c[0] if len(c) == 1 else ast.SelUnion(tuple(c), self.span(meta))

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
        name, op, value = c
        span = self.span(meta)
        if isinstance(value, ast.Quantity):
            expected = ATTRIBUTE_DIMENSIONS.get(str(name))
            if expected and value.dimension != expected:
                raise self.error(value.span, f"{name} is a {expected}; '{value.text}' is a {value.dimension}")
            return ast.AttrTest(str(name), str(op), value, span)
        text = self.unquote(value) if value.type == "STRING" else str(value)
        if str(op) not in ("=", "!="):
            raise self.error(self.tspan(op), f"'{op}' compares quantities; '{text}' is text (use = or !=)")
        return ast.AttrTest(str(name), str(op), text, span)

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
    """Turn a Lark error into a diagnostic that names the likely mistake."""
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
        expected = sorted(_describe(t) for t in exc.expected)
        return LiggingError(Diagnostic(Span(path, max(len(text.splitlines()), 1), 1),
                                       f"file ends too early; expected {', '.join(expected[:6])}",
                                       source_line=source))
    assert isinstance(exc, UnexpectedToken)
    token = exc.token
    if token.type == "$END":
        expected = sorted(_describe(t) for t in exc.expected)
        last = max(len(text.splitlines()), 1)
        return LiggingError(Diagnostic(Span(path, last, 1), f"file ends too early; expected {', '.join(expected[:6])}",
                                       source_line=line_of(text, last)))
    named = _named_mistake(exc, path, text)
    if named is not None:
        return named
    word = _word_at(text, token)
    keywords = _keywords()
    expected_words = sorted({keywords[t] for t in exc.expected if t in keywords})
    expects_relation = "cover" in expected_words and "clearance" in expected_words
    if expects_relation:
        near = difflib.get_close_matches(word, RELATIONS, n=1)
        hint = f" — did you mean '{near[0]}'?" if near else ""
        message = f"unknown relation '{word}'{hint}; relations are {', '.join(RELATIONS)}"
    elif token.type in ("NAME", "UNIT") and expected_words:
        options = [w for e in expected_words for w in e.split("|")]
        near = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
        if near:
            message = f"unknown keyword '{word}' — did you mean '{near[0]}'?"
        else:
            message = f"unexpected '{word}'; expected {', '.join(expected_words[:8])}"
    elif token.type == "OP" and "UNIT" in exc.expected:
        message = f"unexpected '{word}'"
    else:
        expected = sorted(_describe(t) for t in exc.expected)
        message = f"unexpected '{word}'; expected {', '.join(expected[:8])}"
    if _missing_unit(exc):
        message = f"missing unit after the number — write e.g. '0.60 m' ({message})"
    return LiggingError(Diagnostic(span, message, source_line=source))


COMPARISON_TYPOS = {"=>": ">=", "=<": "<=", "==": "=", "<>": "!=", "=!": "!=", "!": "!="}


def _word_at(text: str, token: Token) -> str:
    """Return the whole word the lexer stopped in (`left-to-rigth`, not `left`)."""
    pos = token.start_pos if token.start_pos is not None else -1
    found = re.match(r"[A-Za-z_][A-Za-z0-9_-]*", text[pos:]) if 0 <= pos < len(text) else None
    return found.group() if found and found.group().startswith(str(token)) else str(token)


def _named_mistake(exc: UnexpectedToken, path: str, text: str) -> LiggingError | None:
    """Name a comparison typo (`=>`), a decimal comma (`0,6`) or a missing list comma."""
    token = exc.token
    pos = token.start_pos
    if pos is None or not 0 <= pos <= len(text):
        return None
    before = text[:pos].rstrip(" \t")
    line = token.line or 1
    source = line_of(text, line)
    ops = re.search(r"[<>=!]+$", before)
    after = re.match(r"[<>=!]*", text[pos:])
    if ops and after and after.group():
        written = ops.group() + after.group()
        if written in COMPARISON_TYPOS:
            column = (token.column or 1) - (pos - ops.start())
            return LiggingError(Diagnostic(Span(path, line, max(column, 1)),
                                           f"'{written}' is not a comparison — did you mean '{COMPARISON_TYPOS[written]}'?",
                                           source_line=source))
    if str(token) == "," and re.search(r"\d$", before) and re.match(r",\d", text[pos:]):
        return LiggingError(Diagnostic(Span(path, line, token.column or 1),
                                       "decimal comma — write numbers with a point (0.6, not 0,6)", source_line=source))
    line_before = before.rsplit("\n", 1)[-1]
    in_list = re.search(r"(\bwithin|\bunder|[:,])\s*[A-Za-z0-9_, -]*[A-Za-z0-9_]$", line_before)
    if token.type in ("NAME", "UNIT") and "COMMA" in exc.expected and in_list:
        return LiggingError(Diagnostic(Span(path, line, token.column or 1),
                                       f"missing ',' before '{token}' (list items are separated by commas)",
                                       source_line=source))
    return None


def _missing_unit(exc: UnexpectedToken) -> bool:
    """Tell whether the parser stopped right after a bare number where a unit was possible."""
    prev = getattr(exc, "token_history", None) or []
    return bool(prev) and prev[-1] is not None and prev[-1].type == "NUMBER" and "UNIT" in exc.expected \
        and exc.token.type in ("NAME",)


def _describe(terminal: str) -> str:
    """Return a readable name for a grammar terminal."""
    keywords = _keywords()
    if terminal in keywords:
        return f"'{keywords[terminal]}'"
    names = {"NAME": "a name", "STRING": "a \"quoted text\"", "NUMBER": "a number", "OP": "a comparison (>=, <=, ...)",
             "UNIT": "a unit", "DATE": "a date (YYYY or YYYY-MM-DD)", "COLON": "':'", "COMMA": "','",
             "LPAR": "'('", "RPAR": "')'", "LSQB": "'['", "RSQB": "']'", "EQUAL": "'='",
             "WITHIN": "'within'", "NOT_UNDER": "'not under'", "INSIDE_RACK": "'inside rack'", "ROOT_ZONE": "'root-zone'",
             "FIXED": "'fixed'"}
    return names.get(terminal, terminal.lower())


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
