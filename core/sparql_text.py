"""One lexer for SPARQL text, for the code that must look at a query before (or instead
of) a parser: the public query guard (``registry.sparql_guard``) and the remote store's
``VALUES`` injection (``core.store.base.with_values``).

It is not a parser. It cuts the text into tokens so that what sits inside a string, an
IRI or a comment is never mistaken for syntax: a ``}`` in ``"a } b"``, ``DELETE`` in
``<http://example.org/delete>`` or ``SERVICE`` after a ``#`` are inside one token whose
kind says to skip it. ``TOKENS.finditer(text)`` (or ``tokens(text)``) yields ``re.Match``
objects; ``match.lastgroup`` is the kind and ``match.group()`` the text:

``string``
    A literal's quoted text: ``\"\"\"…\"\"\"`` and ``'''…'''`` (tried first, may span
    lines) and ``"…"`` and ``'…'`` (no raw line break), with ``\\`` escapes. A quote that
    opens no complete string is an ``other`` token and lexing goes on right after it, so
    an unterminated quote hides nothing from the checks.
``iri``
    ``<…>`` following the grammar's IRIREF rule: no space, ``<``, ``>``, ``"``, ``{``,
    ``}``, ``|``, ``^``, backquote or backslash inside, so ``?a < ?b`` stays an operator.
``comment``
    ``#`` to the end of the line.
``langtag``
    ``@fr``, ``@pt-BR``: kept whole so ``"x"@copy`` shows no keyword.
``open`` / ``close``
    One of ``{ ( [`` / ``} ) ]``; the token's text tells which bracket (the guard bounds
    the nesting of all three, ``with_values`` counts braces only).
``var``
    ``?name`` or ``$name`` (a variable's name is never a keyword).
``word``
    A run of letters, digits, ``_ : % -`` with dots allowed inside but not at the end
    (the dot that ends a triple is ``other``): keywords, prefixed names (``ex:a.b``),
    numbers, ``a``, ``true``.
``space``
    Whitespace.
``other``
    Any other single character (``.``, ``;``, ``,``, ``*``, ``=``, ``<``, ``!``, a lone
    quote…).

Properties the guard relies on: every character of the text is in exactly one token,
in order and without gaps (``other`` takes anything the other rules do not), so no
input makes the lexer skip text or fail; the scan is a single regex pass with no
recursion, linear in practice, so deeply nested or long queries cost no more than their
length; strings, IRIs and comments are recognised exactly as above, before anything
else, so a keyword is only ever seen in a ``word`` token outside them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Token kinds (the names of the pattern's groups).
STRING = "string"
IRI = "iri"
COMMENT = "comment"
LANGTAG = "langtag"
OPEN = "open"
CLOSE = "close"
VAR = "var"
WORD = "word"
SPACE = "space"
OTHER = "other"

# Order matters: long strings before short ones; IRIREF is the SPARQL grammar's rule
# (no spaces, so ``?a < ?b`` stays an operator).
TOKENS = re.compile(
    r'(?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""'
    r"|'''(?:[^'\\]|\\.|'(?!''))*'''"
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|'(?:[^'\\\n\r]|\\.)*')"
    r"|(?P<iri><[^<>\"{}|^`\\\x00-\x20]*>)"
    r"|(?P<comment>#[^\n\r]*)"
    r"|(?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)"
    r"|(?P<open>[{(\[])|(?P<close>[})\]])"
    r"|(?P<var>[?$]\w*)"
    r"|(?P<word>[\w:%-]+(?:\.+[\w:%-]+)*)"
    r"|(?P<space>\s+)"
    r"|(?P<other>.)",
    re.DOTALL,
)


def tokens(text: str, start: int = 0) -> Iterator[re.Match[str]]:
    """The tokens of ``text`` from ``start`` on (kind: ``match.lastgroup``)."""
    return TOKENS.finditer(text, start)


def matching_close(text: str, start: int, opening: str = "{", closing: str = "}") -> int | None:
    """The position of the bracket closing the one at ``start`` (``{`` by default),
    counting only that kind of bracket and skipping strings, IRIs and comments; None
    when it is never closed."""
    depth = 0
    for match in TOKENS.finditer(text, start):
        kind = match.lastgroup
        if kind == OPEN and match.group() == opening:
            depth += 1
        elif kind == CLOSE and match.group() == closing:
            depth -= 1
            if depth == 0:
                return match.start()
    return None
