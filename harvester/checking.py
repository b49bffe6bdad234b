"""The harvester's public checking interface: what ``ltc validate`` and ``/valider`` use.

A feed is checked exactly as a harvest would read it: fetched with the harvester's
protections (public addresses only, time, size and redirect limits), parsed in any
accepted syntax with the same limits, normalised, and validated record by record
against the registry's shapes. Nothing is stored. This module is the only part of the
harvester the web service may import.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from core.config import Settings
from core.harvest_files import RecordFindings
from harvester.errors import FeedError
from harvester.feed import check_feed as _check_feed
from harvester.feed import source_id_for
from harvester.fetch import fetch, policy_from
from harvester.parse import syntax_names
from harvester.report import dumps_json, json_report, summary, text_report, turtle_report
from harvester.validate import DEFAULT_ENGINE, ENGINES, FeedValidation, record_findings

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINE_NAMES",
    "FeedCheck",
    "FeedError",
    "check_feed",
    "dumps_json",
    "fetch_feed",
    "syntax_names",
    "turtle",
]

ENGINE_NAMES = tuple(ENGINES)


@dataclass
class FeedCheck:
    """The outcome of checking one feed."""

    feed: str  # the file name or URL the feed came from
    validation: FeedValidation

    @property
    def rejected(self) -> bool:
        """Some records would be rejected."""
        return bool(self.validation.rejected)

    @property
    def counts(self) -> dict[str, int]:
        """records, accepted, rejected, warned, ignored_statements."""
        return summary(self.validation)

    @cached_property
    def records(self) -> list[RecordFindings]:
        """Every record with a finding, in record order."""
        return record_findings(self.validation)

    def text(self, lang: str = "fr") -> str:
        return text_report(self.validation, self.feed, lang)

    def json(self, lang: str = "fr") -> dict[str, Any]:
        return json_report(self.validation, self.feed, lang)


def fetch_feed(url: str, settings: Settings) -> tuple[bytes, str | None]:
    """A feed's bytes and Content-Type, fetched with the harvester's protections;
    FeedError says why it could not be."""
    result = fetch(url, policy_from(settings))
    return result.content, result.content_type


def check_feed(
    data: bytes,
    *,
    feed: str,
    settings: Settings,
    content_type: str | None = None,
    syntax: str | None = None,
    engine: str = DEFAULT_ENGINE,
    source: str | None = None,
    filename: str | None = None,
) -> FeedCheck:
    """Parse, normalise and validate one feed named ``feed``; FeedError when it cannot be
    read. ``source`` scopes the IRIs minted for blank nodes (default: from ``feed``);
    ``filename`` helps detect the syntax (default: ``feed``)."""
    validation = _check_feed(
        data,
        source=source or source_id_for(feed),
        settings=settings,
        filename=feed if filename is None else filename or None,
        content_type=content_type,
        syntax=syntax,
        engine=engine,
    )
    return FeedCheck(feed, validation)


def turtle(checks: list[FeedCheck]) -> str:
    """The ``sh:ValidationReport`` of every feed checked, as one Turtle document."""
    return turtle_report([check.validation for check in checks])
