"""The collective's decisions on place identity (``convergence/curation.toml``)."""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PATH = Path(__file__).with_name("curation.toml")
_KEYS = {"a", "b", "note", "par", "date"}
_SECTIONS = {"confirme": "confirmed", "rejete": "rejected"}


class CurationError(ValueError):
    """A curation file that cannot be used; the message names the file and the entry."""


@dataclass(frozen=True)
class Decision:
    """One confirmed or rejected pair (``a`` < ``b``)."""

    a: str
    b: str
    note: str
    by: str = ""
    date: str = ""

    @property
    def pair(self) -> tuple[str, str]:
        return (self.a, self.b)


@dataclass(frozen=True)
class Curation:
    """Confirmed and rejected pairs."""

    confirmed: tuple[Decision, ...] = ()
    rejected: tuple[Decision, ...] = ()
    _decided: frozenset[tuple[str, str]] = field(
        init=False, repr=False, compare=False, default=frozenset()
    )

    @property
    def confirmed_pairs(self) -> list[tuple[str, str]]:
        return [d.pair for d in self.confirmed]

    @property
    def rejected_pairs(self) -> list[tuple[str, str]]:
        return [d.pair for d in self.rejected]

    def __post_init__(self) -> None:
        # asked once per inferred link: a set, built once
        pairs = frozenset(d.pair for d in (*self.confirmed, *self.rejected))
        object.__setattr__(self, "_decided", pairs)

    def decided(self, a: str, b: str) -> bool:
        """The collective has confirmed or rejected this pair (in either order)."""
        return ((a, b) if a < b else (b, a)) in self._decided


def _iri(value: object, where: str, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CurationError(f"{where} : la clé « {key} » doit être une IRI (texte non vide)")
    value = value.strip()
    if not value.startswith(("http://", "https://")) or any(c in value for c in ' <>"{}|\\^`'):
        raise CurationError(f"{where} : « {key} » n'est pas une IRI http(s) valide : {value!r}")
    return value


def _decision(entry: object, where: str) -> Decision:
    if not isinstance(entry, dict):
        raise CurationError(f"{where} : une entrée doit être une table (a = …, b = …, note = …)")
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise CurationError(
            f"{where} : clé(s) inconnue(s) {', '.join(unknown)} "
            f"(clés possibles : {', '.join(sorted(_KEYS))})"
        )
    a = _iri(entry.get("a"), where, "a")
    b = _iri(entry.get("b"), where, "b")
    if a == b:
        raise CurationError(f"{where} : a et b désignent la même fiche ({a})")
    note = entry.get("note")
    if not isinstance(note, str) or not note.strip():
        raise CurationError(f"{where} : la clé « note » (pourquoi cette décision) est obligatoire")
    by = entry.get("par", "")
    if not isinstance(by, str):
        raise CurationError(f"{where} : « par » doit être un texte")
    date = entry.get("date", "")
    if isinstance(date, dt.date):
        date = date.isoformat()
    elif date and (not isinstance(date, str) or not _is_date(date)):
        raise CurationError(f"{where} : « date » doit être une date AAAA-MM-JJ, pas {date!r}")
    a, b = sorted((a, b))
    return Decision(a, b, note.strip(), by.strip(), date)


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def parse_curation(text: str, name: str = "curation.toml") -> Curation:
    """Decisions from the TOML text of a curation file; ``name`` is used in errors."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CurationError(f"{name} : TOML illisible : {error}") from error
    unknown = sorted(set(table) - set(_SECTIONS))
    if unknown:
        raise CurationError(
            f"{name} : section(s) inconnue(s) {', '.join(unknown)} "
            "(seules [[confirme]] et [[rejete]] existent)"
        )
    found: dict[str, list[Decision]] = {"confirme": [], "rejete": []}
    first_seen: dict[tuple[str, str], str] = {}
    for section in ("confirme", "rejete"):
        entries = table.get(section, [])
        if not isinstance(entries, list):
            raise CurationError(f"{name} : « {section} » doit s'écrire [[{section}]]")
        for number, entry in enumerate(entries, 1):
            where = f"{name}, [[{section}]] n° {number}"
            decision = _decision(entry, where)
            if decision.pair in first_seen:
                raise CurationError(
                    f"{where} : la paire {decision.a} ↔ {decision.b} est déjà décidée "
                    f"({first_seen[decision.pair]})"
                )
            first_seen[decision.pair] = where
            found[section].append(decision)
    return Curation(tuple(found["confirme"]), tuple(found["rejete"]))


def load_curation(path: Path | str | None = None) -> Curation:
    """Decisions from a curation file (the repository's ``convergence/curation.toml``
    by default); a missing file means no decision."""
    file = Path(path) if path is not None else DEFAULT_PATH
    if not file.exists():
        if path is None:
            return Curation()
        raise CurationError(f"{file} : fichier de curation introuvable")
    return parse_curation(file.read_text(encoding="utf-8"), str(file))
