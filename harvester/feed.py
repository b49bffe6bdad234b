"""From the bytes of one feed to its validated records: parse, normalise, validate."""

from __future__ import annotations

import re

from core.config import Settings
from core.vocab import RELATIVE_BASE
from harvester.normalise import normalise
from harvester.parse import ParseLimits, parse_feed
from harvester.validate import DEFAULT_ENGINE, FeedValidation, validate_triples


def parse_limits(settings: Settings) -> ParseLimits:
    return ParseLimits(
        max_bytes=settings.max_feed_bytes,
        max_json_depth=settings.max_json_depth,
        max_triples=settings.max_triples,
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
    """Parse, normalise and validate one feed; raises FeedError when it cannot be read."""
    triples = parse_feed(
        data,
        syntax=syntax,
        filename=filename,
        content_type=content_type,
        base_iri=base_iri or default_base(source),
        limits=parse_limits(settings),
    )
    return validate_triples(normalise(triples, source), source, engine=engine)
