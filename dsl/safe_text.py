"""Text that comes from outside: what an id or a name may hold, and how to show foreign text.

Case files, rule packs, drawings, proposals files, command-line values and file names are
written by someone else. Three rules keep that text harmless:

- `unsafe_char` finds a character that is not text — a control character (C0, DEL, C1), a
  format character (bidi overrides and isolates, zero-width spaces and joiners, the BOM,
  soft hyphen, tag characters), a line or paragraph separator, a lone surrogate or a
  noncharacter (U+FFFE, U+FFFF). The readers refuse such a character in ids, names and
  every other text value, with the position of the value; this is the one check every
  reader uses.
- `printable` shows any text safely on a terminal or in a one-line message: each such
  character becomes a visible escape (`\\x1b`, `\\u202e`), so ESC/OSC sequences, bidi
  tricks and newlines in file names never reach the terminal raw; `markup` does the same
  for SVG, XML and HTML and escapes markup too.
- `normal_id` brings an id to Unicode Normalization Form KC before it is stored or
  compared, as Python does for identifiers (PEP 3131) and Unicode recommends for
  identifiers (UAX #31): `w-1` written in fullwidth letters is `w-1`. Names and other free
  text are kept as written.
"""

from __future__ import annotations

import html
import unicodedata

# Unicode general categories that are never text: Cc control, Cf format, Zl line separator,
# Zp paragraph separator, Cs surrogate.
_NOT_TEXT = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
_NAMES = {0x00: "NUL", 0x07: "BEL", 0x08: "BS", 0x09: "TAB", 0x0A: "LF", 0x0D: "CR", 0x1B: "ESC", 0x7F: "DEL",
          0x85: "NEL", 0x9B: "CSI", 0x9D: "OSC"}


def _not_text(char: str) -> bool:
    """Tell whether one character is a control, format or separator character or a noncharacter."""
    if " " <= char <= "~":
        return False  # printable ASCII, the common case
    code = ord(char)
    # noncharacters (U+FFFE, U+FFFF in every plane, U+FDD0..U+FDEF) are never text; XML refuses U+FFFE/U+FFFF
    return unicodedata.category(char) in _NOT_TEXT or code & 0xFFFE == 0xFFFE or 0xFDD0 <= code <= 0xFDEF


def describe(char: str) -> str:
    """Name a character for a message: `U+001B (ESC)`, `U+202E (RIGHT-TO-LEFT OVERRIDE)`."""
    code = ord(char)
    name = _NAMES.get(code) or unicodedata.name(char, "")
    return f"U+{code:04X}" + (f" ({name})" if name else "")


def unsafe_char(text: str, allow: str = "") -> tuple[int, str] | None:
    """Return (index, description) of the first character that is not text, or None.

    `allow` lists control characters a multi-line free-text field may hold (newline, tab).

    >>> unsafe_char("w-1")
    >>> unsafe_char("w-1\\u200b")
    (3, 'U+200B (ZERO WIDTH SPACE)')
    >>> unsafe_char("line one\\nline two", allow="\\n")
    """
    if text.isascii() and text.isprintable():
        return None
    for index, char in enumerate(text):
        if _not_text(char) and char not in allow:
            return index, describe(char)
    return None


def text_problem(text: str, what: str, allow: str = "") -> str | None:
    """Return the message refusing `text` as the value of `what`, or None when it is plain text.

    >>> text_problem("kpn\\x1b[2J", "id")
    'id contains the control character U+001B (ESC) at position 4; ids and names are plain text'
    """
    found = unsafe_char(text, allow)
    if found is None:
        return None
    index, name = found
    kind = "format character" if unicodedata.category(text[index]) == "Cf" else "control character"
    return f"{what} contains the {kind} {name} at position {index + 1}; ids and names are plain text"


def _escape(char: str) -> str:
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: str) -> str:
    """Return text with every control, format and separator character shown as an escape.

    >>> printable("case\\n\\x1b]0;owned\\x07.yaml")
    'case\\\\n\\\\x1b]0;owned\\\\x07.yaml'
    """
    if text.isascii() and text.isprintable():
        return text
    named = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
    return "".join(named.get(c) or _escape(c) if _not_text(c) else c for c in text)


def markup(text: object) -> str:
    """Return text escaped for XML and HTML content and attribute values, control characters shown as escapes.

    XML 1.0 forbids most control characters even as references, so they become visible
    escapes first and the drawing or report stays well-formed.

    >>> markup('<b a="1">\\x01</b>')
    '&lt;b a=&quot;1&quot;&gt;\\\\x01&lt;/b&gt;'
    """
    return html.escape(printable(str(text)), quote=True)


def safe_json(text: str) -> str:
    """Return JSON text with every control, format and separator character written as a \\u escape.

    The decoded data is unchanged (JSON may escape any character); what a terminal shows
    is plain text. `json.dumps` escapes only C0 itself, not DEL, C1 or bidi characters.

    >>> safe_json('{"case": "a\u202eb"}')
    '{"case": "a\\\\u202eb"}'
    """
    if text.isascii() and text.isprintable():
        return text
    # raw newlines and tabs are JSON whitespace between values (json.dumps escapes them inside strings)
    return "".join("".join(f"\\u{unit:04x}" for unit in _utf16(c)) if _not_text(c) and c not in "\n\r\t" else c
                   for c in text)


def _utf16(char: str) -> tuple[int, ...]:
    """Return the UTF-16 code units of one character (a surrogate pair above the BMP)."""
    code = ord(char)
    if code <= 0xFFFF:
        return (code,)
    code -= 0x10000
    return 0xD800 + (code >> 10), 0xDC00 + (code & 0x3FF)


def normal_id(text: str) -> str:
    """Return an id in Unicode Normalization Form KC, the form ids are stored and compared in.

    >>> normal_id("\\uff57-\\uff11") == "w-1"
    True
    """
    if text.isascii():
        return text
    return unicodedata.normalize("NFKC", text)
