"""Text folding for search: what people type matches names whatever the accents, case
and punctuation ("Énergie", "energie", "ÉNERGIE" are one key)."""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower case, accents removed, every run of other characters one space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", bare.replace("œ", "oe").replace("æ", "ae")).strip()
