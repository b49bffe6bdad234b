"""From the bytes of one feed to its validated records: parse, normalise, validate."""

from __future__ import annotations

import re

from core.config import Settings
from core.vocab import RELATIVE_BASE
from harvester.budget import AFTER_NORMALISING, AFTER_SPLITTING, MIB, MemoryBudget
from harvester.normalise import normalise
from harvester.parse import ParseLimits, parse_feed
from harvester.records import split_records
from harvester.validate import DEFAULT_ENGINE, FeedValidation, validate_split


def parse_limits(settings: Settings) -> ParseLimits:
    return ParseLimits(
        max_bytes=settings.max_feed_bytes,
        max_json_depth=settings.max_json_depth,
        max_triples=settings.max_triples,
        max_memory=settings.max_feed_memory * MIB,
    )


def source_id_for(name: str) -> str:
    """A source id from a file name or URL, for feeds checked outside the catalog."""
    stem = re.sub(r"^[a-z]+://", "", name.lower()).rsplit("/", 1)[-1].split(".")[0]
    return re.sub(r"[^a-z0-9]+", "-", stem).strip("-") or "flux"


def default_base(source: str) -> str:
    """Base IRI for a feed read from a file: relative IRIs and unknown short names of the
    JSON-LD context resolve inside the registry's space (where shapes and authority catch
    them) instead of vanishing."""
    return f"{RELATIVE_BASE}{source}/"


def check_feed(
    data: bytes,
    *,
    source: str,
    settings: Settings,
    filename: str | None = None,
    content_type: str | None = None,
    syntax: str | None = None,
    base_iri: str | None = None,
    engine: str = DEFAULT_ENGINE,
) -> FeedValidation:
    """Parse, normalise and validate one feed; raises FeedError when it cannot be read
    (or would take more memory than ``max_feed_memory``)."""
    limits = parse_limits(settings)
    budget = MemoryBudget(limits.max_memory)
    triples = parse_feed(
        data,
        syntax=syntax,
        filename=filename,
        content_type=content_type,
        base_iri=base_iri or default_base(source),
        limits=limits,
        budget=budget,
    )
    normalised = normalise(triples, source)
    del triples
    budget.check(AFTER_NORMALISING, len(normalised), "normalisation", "normalisation")
    split = split_records(normalised, source)
    del normalised
    budget.check(AFTER_SPLITTING, len(split.owner), "découpage en fiches", "splitting")
    return validate_split(split, source, engine=engine)
