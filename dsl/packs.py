"""Find, read and compose rule packs: includes, explicit overrides, rule versions.

A pack is named (`nen7171`, looked up among the shipped packs) or given as a file.
`load_packs` reads the requested packs and everything they include, refuses include
cycles and includes that leave the allowed roots (symlinks resolved), and composes a
`PackSet`: all groups and themas, and every rule with the pack it came from. A rule
id defined by two packs is an error unless one `overrides` the other; one pack may
define several versions of a rule id when their validity periods do not overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from dsl import ast
from dsl.diagnostics import Diagnostic, LiggingError, Span, line_of
from dsl.parser import parse_pack

MAX_PACK_BYTES = 2_000_000
MAX_PACKS = 64
MAX_RULES = 5_000


@dataclass(frozen=True, slots=True)
class PackRule:
    """A rule together with the pack that defines it."""

    rule: ast.Rule
    pack: ast.RulePack

    @property
    def instrument(self) -> ast.Instrument | None:
        """Return the legal instrument the rule lives in: its own, else its pack's."""
        return self.rule.instrument or self.pack.instrument

    @property
    def changed_by(self) -> str:
        """Return who can change the rule: the instrument's `by`, else the pack's authority."""
        found = self.instrument
        return found.changed_by if found is not None and found.changed_by else self.pack.authority


@dataclass(frozen=True, slots=True)
class PackSet:
    """Packs composed for evaluation: in load order, with their vocabulary and rules."""

    packs: tuple[ast.RulePack, ...]
    groups: dict[str, tuple[str, ...]]
    themas: dict[str, ast.Thema]
    rules: tuple[PackRule, ...]
    overridden: tuple[PackRule, ...]

    def find(self, rule_id: str) -> list[PackRule]:
        """Return every version of a rule id (overridden rules excluded)."""
        return [r for r in self.rules if r.rule.id == rule_id]

    def of_authority(self, name: str) -> PackSet:
        """Return the set holding only the rules an authority sets, across packs; refuse a name no rule has.

        A rule belongs to the authority that can change it (`PackRule.changed_by`) and to its
        pack's authority, matched without regard to case: Liander's tree rule lives in the
        `bomen` pack but is changed by Liander, so `of_authority("liander")` keeps it.
        """
        wanted = name.strip().lower()
        kept = tuple(pr for pr in self.rules
                     if wanted and (wanted in pr.changed_by.lower() or wanted in pr.pack.authority.lower()))
        if not kept:
            known = sorted({pr.changed_by for pr in self.rules} | {pr.pack.authority for pr in self.rules})
            raise LiggingError(Diagnostic(Span("<command line>", 1, 1),
                                          f"--authority: no rule of an authority named '{name}'; known: {' · '.join(known)}"))
        return PackSet(self.packs, self.groups, self.themas, kept, self.overridden)


def shipped_dir() -> Path:
    """Return the directory of the shipped packs (package data of `rules`)."""
    return Path(str(resources.files("rules")))


def shipped_names() -> list[str]:
    """Return the names of all shipped packs, sorted."""
    return sorted(p.stem for p in shipped_dir().glob("*.rules"))


@lru_cache(maxsize=1)
def shipped_groups() -> dict[str, str]:
    """Return each group a shipped pack defines, with that pack's name (to say what to include)."""
    found: dict[str, str] = {}
    for name in shipped_names():
        path = shipped_dir() / f"{name}.rules"
        for group in parse_pack(path.read_text(encoding="utf-8"), _display(path)).groups:
            found.setdefault(group.name, name)
    return found


def _error(span: Span, message: str, text: str = "") -> LiggingError:
    return LiggingError(Diagnostic(span, message, source_line=line_of(text, span.line) if text else ""))


def _inside(path: Path, roots: tuple[Path, ...]) -> bool:
    resolved = path.resolve()
    return any(resolved == root or root in resolved.parents for root in roots)


class _Loader:
    def __init__(self, roots: tuple[Path, ...]) -> None:
        self.roots = tuple(r.resolve() for r in roots)
        self.by_path: dict[Path, ast.RulePack] = {}
        self.order: list[ast.RulePack] = []
        self.texts: dict[str, str] = {}

    def locate(self, ref: str, near: Path | None, span: Span) -> Path:
        """Resolve a pack name or path to a file inside the allowed roots."""
        candidates: list[Path] = []
        if ref.endswith(".rules") or "/" in ref or "\\" in ref:
            candidates.append(Path(ref) if near is None else near.parent / ref)
        else:
            if near is not None:
                candidates.append(near.parent / f"{ref}.rules")
            candidates.append(shipped_dir() / f"{ref}.rules")
        for cand in candidates:
            if cand.is_file():
                if near is not None and not _inside(cand, self.roots):
                    raise _error(span, f"include '{ref}' resolves outside the allowed pack directories ({cand.resolve()})")
                return cand
        if ref.endswith(".rules") or "/" in ref:
            raise _error(span, f"no rule pack file '{ref}'")
        import difflib

        near_names = difflib.get_close_matches(ref, shipped_names(), n=1)
        hint = f" — did you mean '{near_names[0]}'?" if near_names else f"; shipped packs: {', '.join(shipped_names())}"
        raise _error(span, f"no rule pack named '{ref}'{hint}")

    def load(self, path: Path, stack: tuple[Path, ...], display: str) -> ast.RulePack:
        key = path.resolve()
        if key in stack:
            chain = " -> ".join(p.stem for p in stack + (key,))
            raise _error(Span(display, 1, 1), f"include cycle: {chain}")
        if key in self.by_path:
            return self.by_path[key]
        if len(self.by_path) + len(stack) >= MAX_PACKS:  # packs still being included count too
            raise _error(Span(display, 1, 1), f"more than {MAX_PACKS} packs included — refused")
        try:
            if path.stat().st_size > MAX_PACK_BYTES:
                raise _error(Span(display, 1, 1), f"rule pack larger than {MAX_PACK_BYTES} bytes — refused")
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            raise _error(Span(display, 1, 1), "not UTF-8 text (is this a .rules file?)") from None
        except OSError as exc:
            raise _error(Span(display, 1, 1), f"cannot read: {exc.strerror or exc}") from None
        pack = parse_pack(text, display)
        self.texts[display] = text
        for inc in pack.includes:
            target = self.locate(inc.name, path, inc.span)
            self.load(target, stack + (key,), _display(target))
        self.by_path[key] = pack
        self.order.append(pack)
        return pack


def _display(path: Path) -> str:
    """Show shipped packs as rules/NAME.rules and others as given."""
    try:
        return f"rules/{path.resolve().relative_to(shipped_dir().resolve())}"
    except ValueError:
        return str(path)


def load_packs(refs: list[str] | None = None, roots: tuple[Path, ...] = ()) -> PackSet:
    """Load packs by name or file (default: every shipped pack) and compose them."""
    names = refs if refs else shipped_names()
    # a pack named on the command line opens its own folder (as written and, for a symlink, its target's)
    given = [Path(r) for r in names if r.endswith(".rules")]
    loader = _Loader((shipped_dir(),) + tuple(roots) + tuple(p.resolve().parent for p in given)
                     + tuple(p.absolute().parent for p in given))
    for ref in names:
        path = loader.locate(ref, None, Span(ref, 1, 1))
        loader.load(path, (), _display(path))
    return compose(tuple(loader.order), loader.texts)


def _overlaps(a: ast.Validity | None, b: ast.Validity | None) -> bool:
    a_start = a.start if a and a.start else "0000-00-00"
    a_end = a.end if a and a.end else "9999-99-99"
    b_start = b.start if b and b.start else "0000-00-00"
    b_end = b.end if b and b.end else "9999-99-99"
    return a_start <= b_end and b_start <= a_end


def compose(packs: tuple[ast.RulePack, ...], texts: dict[str, str] | None = None) -> PackSet:
    """Compose parsed packs: merge vocabulary, apply overrides, refuse silent redefinitions."""
    texts = texts or {}
    names: dict[str, ast.RulePack] = {}
    for pack in packs:
        if pack.name in names and names[pack.name].path != pack.path:
            raise _error(pack.span, f"two packs are named '{pack.name}' ({names[pack.name].path} and {pack.path})",
                         texts.get(pack.path, ""))
        names[pack.name] = pack
    groups: dict[str, tuple[str, ...]] = {}
    themas: dict[str, ast.Thema] = {}
    for pack in packs:
        for group in pack.groups:
            if group.name in groups and groups[group.name] != group.members:
                raise _error(group.span, f"group '{group.name}' is defined differently by another pack",
                             texts.get(pack.path, ""))
            groups[group.name] = group.members
        for thema in pack.themas:
            themas[thema.name] = thema
    all_rules = [PackRule(rule, pack) for pack in packs for rule in pack.rules]
    if len(all_rules) > MAX_RULES:
        raise _error(packs[0].span, f"{len(all_rules)} rules; at most {MAX_RULES} may be loaded at once")
    overridden_keys: set[tuple[str, str]] = set()
    for pr in all_rules:
        if pr.rule.overrides is None:
            continue
        pack_name, rule_id = pr.rule.overrides.split(":", 1)
        targets = [t for t in all_rules if t.pack.name == pack_name and t.rule.id == rule_id]
        if not targets:
            raise _error(pr.rule.span, f"rule {pr.rule.id} overrides {pr.rule.overrides}, which is not loaded "
                         f"(include pack '{pack_name}' or load it)", texts.get(pr.pack.path, ""))
        overridden_keys.add((pack_name, rule_id))
    rules = [pr for pr in all_rules if (pr.pack.name, pr.rule.id) not in overridden_keys]
    overridden = [pr for pr in all_rules if (pr.pack.name, pr.rule.id) in overridden_keys]
    by_id: dict[str, list[PackRule]] = {}
    for pr in rules:
        by_id.setdefault(pr.rule.id, []).append(pr)
    for rule_id, versions in by_id.items():
        for i, first in enumerate(versions):
            for second in versions[i + 1:]:
                if first.pack.name != second.pack.name:
                    raise _error(second.rule.span,
                                 f"rule {rule_id} is already defined by pack '{first.pack.name}' "
                                 f"({first.rule.span.where()}); write `overrides {first.pack.name}:{rule_id}` "
                                 "to replace it, or choose a new id", texts.get(second.pack.path, ""))
                if _overlaps(first.rule.validity or first.pack.validity, second.rule.validity or second.pack.validity):
                    raise _error(second.rule.span,
                                 f"rule {rule_id} is defined twice with overlapping validity "
                                 f"(first at {first.rule.span.where()}); give each version its own `valid from ... to ...`",
                                 texts.get(second.pack.path, ""))
    return PackSet(packs, groups, themas, tuple(rules), tuple(overridden))


def in_force(pr: PackRule, date: str | None) -> bool:
    """Tell whether a rule (and its pack) is in force on `date` (ISO); None means the current version."""
    for validity in (pr.rule.validity, pr.pack.validity):
        if validity is None:
            continue
        if date is None:
            if validity.end is not None:
                return False
            continue
        if validity.start is not None and date < validity.start:
            return False
        if validity.end is not None and date > validity.end:
            return False
    return True
