"""Opening hours as people type them in a spreadsheet cell, in French or in the
OpenStreetMap ``opening_hours`` syntax, turned into LTC ``horaires`` entries.

What is read: days in full or short (``lundi``, ``lun.``, ``Me``, ``Mo``), ranges of days
(« du lundi au vendredi », « lundi-vendredi », ``Mo-Fr``), lists (« lundi et jeudi »,
``Mo,We``), « en semaine », « le week-end », « tous les jours », times (``9h``,
``9h30``, ``18:00``, « midi »), ranges of times (« de 18h à 19h30 », ``9h-12h``), several
ranges (« 9h-12h / 14h-18h », ``09:00-12:00,14:00-18:00``), closed days (« fermé le
dimanche », ``Su off``) and exceptions (« sauf le mercredi »), days before or after the
times. Rules are separated by ``;`` or line breaks, or simply follow each other.

Nothing is guessed: a rule (the text between two ``;`` or line breaks) with a word that
is not understood, a time without its end (« 17h30 »), days without times or times without
days is not turned into hours at all. It comes back as a problem, with its text and the
reason, and the caller keeps the text on the record: nothing is ever dropped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

WEEK = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")

# Every spelling of a day, folded (lower case, no accent, no final dot): French in full,
# plural, short, two-letter (Lu Ma Me Je Ve Sa Di); OpenStreetMap's (Mo Tu We Th Fr Sa Su)
# and English names. The two-letter codes of both languages differ except Sa.
_DAY_SPELLINGS = (
    ("lundi", "lundis", "lun", "lu", "mo", "mon", "monday"),
    ("mardi", "mardis", "mar", "ma", "tu", "tue", "tues", "tuesday"),
    ("mercredi", "mercredis", "mer", "merc", "mercr", "me", "we", "wed", "wednesday"),
    ("jeudi", "jeudis", "jeu", "je", "th", "thu", "thur", "thurs", "thursday"),
    ("vendredi", "vendredis", "ven", "vend", "ve", "fr", "fri", "friday"),
    ("samedi", "samedis", "sam", "sa", "sat", "saturday"),
    ("dimanche", "dimanches", "dim", "di", "su", "sun", "sunday"),
)
DAY_WORDS = {word: index for index, words in enumerate(_DAY_SPELLINGS) for word in words}
_GROUPS = {
    "semaine": tuple(range(5)),  # « en semaine »
    "weekend": (5, 6),
    "jours": tuple(range(7)),  # « tous les jours »
    "tlj": tuple(range(7)),
    "quotidien": tuple(range(7)),
}
_RANGE_WORDS = {"au", "a", "jusqu", "jusqua", "to"}
_LIST_WORDS = {"et", "and", "puis"}
_CLOSED_WORDS = {"ferme", "fermee", "fermes", "fermees", "fermeture", "off", "closed"}
_EXCEPT_WORDS = {"sauf", "hors", "except"}
_NOISE_WORDS = {
    "le", "les", "la", "l", "de", "d", "du", "des", "tous", "toutes", "chaque", "en",
    "ouvert", "ouverte", "ouverts", "ouvertes", "horaire", "horaires", "h", "on", "from",
    "the", "every",
}  # fmt: skip

_TOKEN = re.compile(
    r"""
    (?P<alldays>7\s*j\s*/\s*7|7\s*/\s*7)
  | (?P<hour>(?P<hh>\d{1,2})\s*(?:h|heures?)(?:\s*(?P<hm>\d{2})(?!\s*(?:h|\d)))?)
  | (?P<colon>(?P<ch>\d{1,2})\s*[:.]\s*(?P<cm>\d{2})(?::\d{2})?)
  | (?P<ordinal>\d+\s*(?:er|re|ere|e|eme|ème|nd|nde)\b)
  | (?P<number>\d+)
  | (?P<word>[^\W\d_]+\.?)
  | (?P<dash>[-–—‑~])
  | (?P<list>[,/&+])
  | (?P<rule>[;|\n])
  | (?P<space>[\s:()'’"«»]+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.IGNORECASE,
)


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).rstrip(".")


@dataclass(frozen=True)
class HoursProblem:
    """A rule of the cell that did not become hours: its text and why, in two languages."""

    text: str
    fr: str
    en: str


@dataclass
class ParsedHours:
    """The hours understood (LTC ``horaires`` entries) and the rules left as text."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    problems: list[HoursProblem] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)  # days said to be closed

    @property
    def understood(self) -> bool:
        return not self.problems


class _NotUnderstood(Exception):
    def __init__(self, fr: str, en: str) -> None:
        super().__init__(en)
        self.fr, self.en = fr, en


@dataclass(frozen=True)
class _Token:
    kind: str  # day, days, time, number, range, list, closed, except, noise, unknown
    text: str
    days: tuple[int, ...] = ()
    minutes: int = 0  # a time, in minutes after midnight (24:00 is 1440)


def _word_token(text: str, folded: str) -> _Token:
    if folded in DAY_WORDS:
        return _Token("day", text, days=(DAY_WORDS[folded],))
    if folded in _GROUPS:
        return _Token("days", text, days=_GROUPS[folded])
    if folded == "midi":
        return _Token("time", text, minutes=12 * 60)
    if folded == "minuit":
        return _Token("time", text, minutes=24 * 60)
    for words, kind in (
        (_RANGE_WORDS, "range"),
        (_LIST_WORDS, "list"),
        (_CLOSED_WORDS, "closed"),
        (_EXCEPT_WORDS, "except"),
        (_NOISE_WORDS, "noise"),
    ):
        if folded in words:
            return _Token(kind, text)
    return _Token("unknown", text)


def _time(text: str, hours: str, minutes: str | None) -> _Token:
    h, m = int(hours), int(minutes or 0)
    if h > 24 or m > 59 or (h == 24 and m):
        return _Token("unknown", text)
    return _Token("time", text, minutes=h * 60 + m)


def _tokens(rule: str) -> list[_Token]:
    out: list[_Token] = []
    # « week-end », « jusqu'à »: one word each
    rule = re.sub(r"week[\s-]*end", "weekend", rule, flags=re.IGNORECASE)
    for found in _TOKEN.finditer(rule):
        kind, text = found.lastgroup, found.group(0)
        if kind == "alldays":
            out.append(_Token("days", text, days=tuple(range(7))))
        elif kind == "hour":
            out.append(_time(text, found.group("hh"), found.group("hm")))
        elif kind == "colon":
            out.append(_time(text, found.group("ch"), found.group("cm")))
        elif kind == "number":
            value = int(text) if len(text) <= 2 else 99
            out.append(_Token("number", text, minutes=value * 60))
        elif kind == "word":
            out.append(_word_token(text, _fold(text)))
        elif kind == "dash":
            out.append(_Token("range", text))
        elif kind == "list":
            out.append(_Token("list", text))
        elif kind == "ordinal":
            out.append(_Token("unknown", text))
        elif kind in ("space", "rule"):
            continue
        else:
            out.append(_Token("unknown", text))
    kept: list[_Token] = []
    for token in out:
        if token.kind == "noise" or (token.kind == "range" and kept and kept[-1].kind == "range"):
            continue  # « jusqu'à »: one separator
        kept.append(token)
    return kept


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def _label(minutes: int) -> str:
    return f"{minutes // 60}h{minutes % 60:02d}" if minutes % 60 else f"{minutes // 60}h"


class _Rule:
    """One rule being read: the days, then (or before) the time ranges."""

    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.at = 0
        self.clauses: list[tuple[list[int], list[tuple[int, int]]]] = []
        self.closed: set[int] = set()
        self.days: list[int] = []
        self.excepted: set[int] = set()
        self.times: list[tuple[int, int]] = []
        self.times_first = False
        self.last = ""  # "days" or "times": what the previous expression was

    def peek(self, offset: int = 0) -> _Token | None:
        index = self.at + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def read(self) -> tuple[list[tuple[list[int], list[tuple[int, int]]]], set[int]]:
        pending_closed = pending_except = False
        while (token := self.peek()) is not None:
            if token.kind in ("day", "days"):
                days = self.day_expression()
                if pending_closed:
                    self.closed.update(days)
                    pending_closed = False
                elif pending_except:
                    self.excepted.update(days)
                    pending_except = False
                else:
                    self.add_days(days)
            elif token.kind in ("time", "number"):
                self.add_time(self.time_expression())
            elif token.kind == "closed":
                self.at += 1
                if self.days and not self.times:
                    self.closed.update(self.days)
                    self.days = []
                    self.last = ""
                else:
                    pending_closed = True
            elif token.kind == "except":
                self.at += 1
                pending_except = True
            elif token.kind in ("list", "range"):
                self.at += 1  # separators: the grouping follows from what comes next
            else:
                raise _NotUnderstood(
                    f"« {token.text} » n'est pas compris", f"'{token.text}' is not understood"
                )
        if pending_closed or pending_except:
            raise _NotUnderstood(
                "il manque les jours après « fermé » ou « sauf »",
                "days are missing after 'closed' or 'except'",
            )
        self.close_clause(final=True)
        return self.clauses, self.closed

    def day_expression(self) -> list[int]:
        first = self.peek()
        assert first is not None
        self.at += 1
        separator, second = self.peek(), self.peek(1)
        if (
            first.kind == "day"
            and separator is not None
            and separator.kind == "range"
            and second is not None
            and second.kind == "day"
        ):
            self.at += 2
            start, end = first.days[0], second.days[0]
            span = range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)]
            return list(span)
        return list(first.days)

    def time_expression(self) -> tuple[int, int]:
        first = self.peek()
        assert first is not None
        self.at += 1
        separator, second = self.peek(), self.peek(1)
        if (
            separator is not None
            and separator.kind == "range"
            and second is not None
            and second.kind in ("time", "number")
            and "time" in (first.kind, second.kind)
        ):
            self.at += 2
            opens, closes = first.minutes, second.minutes
            if opens >= 24 * 60 or closes > 24 * 60:
                raise _NotUnderstood(
                    f"heure impossible dans « {first.text}-{second.text} »",
                    f"impossible time in '{first.text}-{second.text}'",
                )
            if closes == 24 * 60:
                raise _NotUnderstood(
                    "une fermeture à minuit ne s'écrit pas en heures : écrivez 23h59",
                    "closing at midnight cannot be written as hours: write 23:59",
                )
            if closes <= opens:
                raise _NotUnderstood(
                    f"la fin ({_label(closes)}) n'est pas après le début ({_label(opens)})",
                    f"the end ({_label(closes)}) is not after the start ({_label(opens)})",
                )
            return opens, closes
        if first.kind == "number":
            raise _NotUnderstood(
                f"« {first.text} » n'est pas une heure (écrivez 18h ou 18:00)",
                f"'{first.text}' is not a time (write 18:00)",
            )
        raise _NotUnderstood(
            f"l'heure de fin manque après {_label(first.minutes)} "
            f"(écrivez par exemple {_label(first.minutes)}-{_label(first.minutes + 60)})",
            f"the end time is missing after {_clock(first.minutes)[:5]}",
        )

    def add_days(self, days: list[int]) -> None:
        if self.days and self.times and not self.times_first:
            self.close_clause()
        elif self.times and not self.days:
            self.times_first = True
        self.days += [d for d in days if d not in self.days]
        self.last = "days"

    def add_time(self, span: tuple[int, int]) -> None:
        if self.times_first and self.days and self.last == "days":
            self.close_clause()
        if not self.days and not self.times:
            self.times_first = False
        self.times.append(span)
        self.last = "times"

    def close_clause(self, final: bool = False) -> None:
        if not self.days and not self.times:
            return
        if self.excepted and not self.days:
            self.days = list(range(7))  # « 9h-18h sauf le dimanche »
        days = [d for d in self.days if d not in self.excepted]
        if self.times and not self.days:
            raise _NotUnderstood(
                "les jours manquent (par exemple « lundi » ou « du lundi au vendredi »)",
                "the days are missing (for example 'Mo' or 'Mo-Fr')",
            )
        if self.days and not self.times:
            raise _NotUnderstood(
                "les heures manquent (par exemple « 9h-12h »)",
                "the times are missing (for example '09:00-12:00')",
            )
        self.clauses.append((days, list(self.times)))
        self.days, self.times, self.excepted = [], [], set()
        self.times_first = False
        self.last = ""


def hours_entries(ranges: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """(day, opens, closes) triples → ``horaires`` entries, days sharing a range grouped."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for day, opens, closes in ranges:
        days = grouped.setdefault((opens, closes), [])
        if day not in days:
            days.append(day)
    entries = []
    for (opens, closes), days in grouped.items():
        days.sort(key=WEEK.index)
        entries.append({"type": "Horaires", "jours": days, "ouverture": opens, "fermeture": closes})
    entries.sort(key=lambda e: (WEEK.index(e["jours"][0]), e["ouverture"], e["fermeture"]))
    return entries


def split_rules(text: str) -> list[str]:
    """The rules of a cell: the pieces between ``;``, ``|`` and line breaks."""
    return [rule.strip() for rule in re.split(r"[;|\r\n]+", text) if rule.strip()]


def parse_hours(text: str) -> ParsedHours:
    """Read a cell of opening hours (French or OpenStreetMap syntax); see the module."""
    result = ParsedHours()
    ranges: list[tuple[int, int, int]] = []
    closed: set[int] = set()
    for rule in split_rules(text):
        try:
            clauses, rule_closed = _Rule(_tokens(rule)).read()
        except _NotUnderstood as problem:
            result.problems.append(HoursProblem(rule[:200], problem.fr, problem.en))
            continue
        closed |= rule_closed
        ranges += [(day, opens, closes) for days, spans in clauses for day in days
                   for opens, closes in spans]  # fmt: skip
    result.entries = hours_entries(
        [(WEEK[day], _clock(o), _clock(c)) for day, o, c in ranges if day not in closed]
    )
    result.closed = [WEEK[day] for day in sorted(closed)]
    return result
