"""The change feed: ``/api/changes`` (JSON, paginated) and ``/api/changes.atom``.

A reuser takes the dump (``/dump.nq.gz``, which states its generation), then asks for
the changes since that generation, applies them in order, and keeps the generation the
last page gives to resume from. Added and changed entries carry the record's statements
as JSON-LD (as ``/resource`` serves them): applying one means replacing the record
(its IRI's statements and those of the nodes it owns, in its graph); a removal carries
the IRI, its kind and its source. Changes come from ``core.changes`` (written by the
publishing process); an answer never goes beyond the generation its request serves.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, request

from core.changes import Change, ChangeIndex, ChangeLog, GenerationEntry, newer, parse_moment
from core.store.base import generation_number
from registry.caching import cached
from registry.places import SearchError
from registry.runtime import app_settings, generation

blueprint = Blueprint("changes", __name__, url_prefix="/api")
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
DUMP = "/dump.nq.gz"
ATOM = "http://www.w3.org/2005/Atom"


class TooOld(Exception):
    """The changes since that point are no longer kept."""

    def __init__(self, oldest: str) -> None:
        super().__init__(oldest)
        self.oldest = oldest


@dataclass(frozen=True)
class Page:
    since: str
    served: str
    items: list[tuple[GenerationEntry, Change]]
    next_cursor: str | None


def _limit() -> int:
    raw = request.args.get("limit", "").strip()
    if not raw:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise SearchError(
            f"le paramètre limit doit être un entier de 1 à {MAX_LIMIT}",
            f"parameter limit must be an integer from 1 to {MAX_LIMIT}",
        )
    return int(raw)


def _since(index: ChangeIndex, raw: str) -> str:
    """The generation the client holds: given as such, or the last one published at or
    before a moment (ISO 8601)."""
    if generation_number(raw) >= 0:
        if generation_number(raw) < generation_number(index.base):
            raise TooOld(index.base)
        return raw
    moment = parse_moment(raw)
    if moment is None:
        raise SearchError(
            "le paramètre since doit être une génération (g000042-…) ou une date ISO 8601",
            "parameter since must be a generation (g000042-…) or an ISO 8601 moment",
        )
    base_moment = parse_moment(index.base_published)
    if base_moment is None or moment < base_moment:
        raise TooOld(index.base)
    held = index.base
    for entry in index.generations:
        published = parse_moment(entry.published)
        if published is not None and published <= moment:
            held = entry.generation
    return held


def _cursor(raw: str) -> tuple[str, int]:
    name, _, offset = raw.rpartition(".")
    if generation_number(name) < 0 or not offset.isdigit():
        raise SearchError("le paramètre from est invalide", "parameter from is invalid")
    return name, int(offset)


def page(log: ChangeLog, index: ChangeIndex, since: str, served: str, limit: int) -> Page:
    """One page of changes after ``since`` up to ``served``, from the cursor ``from``."""
    start = _cursor(request.args["from"]) if request.args.get("from") else None
    items: list[tuple[GenerationEntry, Change]] = []
    for entry in newer(index.generations, since, served):
        if start is not None and generation_number(entry.generation) < generation_number(start[0]):
            continue
        changes = log.changes(entry.generation)
        offset = start[1] if start is not None and entry.generation == start[0] else 0
        for position in range(offset, len(changes)):
            if len(items) == limit:
                return Page(since, served, items, f"{entry.generation}.{position}")
            items.append((entry, changes[position]))
    return Page(since, served, items, None)


def _jsonld(statements: str) -> object:
    triples = list(ox.parse(statements.encode("utf-8"), format=ox.RdfFormat.N_TRIPLES))
    return json.loads(ox.serialize(triples, format=ox.RdfFormat.JSON_LD))


def _entry(entry: GenerationEntry, change: Change) -> dict:
    item = {
        "generation": entry.generation,
        "published": entry.published,
        "op": change.op,
        "iri": change.iri,
        "kind": change.kind,
        "source": change.source,
        "graph": change.graph,
    }
    if change.op != "removed":
        item["record"] = _jsonld(change.statements)
    return item


def _next_link(current: Page, limit: int, path: str) -> str | None:
    if current.next_cursor is None:
        return None
    query = {"since": current.since, "limit": limit, "from": current.next_cursor}
    return f"{path}?{urlencode(query)}"


def _gone(oldest: str) -> Response:
    response = jsonify(
        error="gone",
        message=(
            "Les changements depuis ce point ne sont plus conservés : reprenez l'export "
            f"complet ({DUMP}, qui indique sa génération), puis suivez les changements "
            "depuis cette génération."
        ),
        oldest=oldest,
        dump=DUMP,
    )
    response.status_code = 410
    response.headers["Link"] = f'<{DUMP}>; rel="alternate"; type="application/gzip"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_started() -> Response:
    return _gone("")


def _prepare() -> tuple[ChangeLog, ChangeIndex, str] | Response:
    served = generation()
    log = ChangeLog(app_settings().data_dir)
    index = log.index()
    if index is None:
        return _not_started()
    return log, index, served


@blueprint.get("/changes")
def changes() -> Response:
    """The changes since a generation or a moment (default: every change kept), oldest
    first, ``limit`` a page."""
    raw = request.args.get("since", "").strip()
    limit = _limit()
    prepared = _prepare()
    if isinstance(prepared, Response):
        return prepared
    log, index, served = prepared
    try:
        since = _since(index, raw) if raw else index.base
    except TooOld as old:
        return _gone(old.oldest)

    def build() -> Response:
        current = page(log, index, since, served, limit)
        complete = current.next_cursor is None
        return jsonify(
            since=since,
            generation=served,
            resume_from=served if complete else None,
            complete=complete,
            next=_next_link(current, limit, request.path),
            oldest=index.base,
            dump=DUMP,
            changes=[_entry(entry, change) for entry, change in current.items],
        )

    return cached(build)


@blueprint.get("/changes.atom")
def changes_atom() -> Response:
    """The same changes as an Atom feed; without ``since``, the latest ``limit``."""
    limit = _limit()
    prepared = _prepare()
    if isinstance(prepared, Response):
        return prepared
    log, index, served = prepared
    raw = request.args.get("since", "").strip()
    try:
        since = _since(index, raw) if raw else _recent_start(index, served, limit)
    except TooOld as old:
        return _gone(old.oldest)

    def build() -> Response:
        current = page(log, index, since, served, limit)
        body = _atom(current, limit, request.url_root.rstrip("/"))
        return Response(body, mimetype="application/atom+xml")

    return cached(build)


def _recent_start(index: ChangeIndex, served: str, limit: int) -> str:
    """The generation after which the latest ``limit`` changes start (about: a page
    starts with a whole generation)."""
    entries = newer(index.generations, index.base, served)
    count = 0
    for position in range(len(entries) - 1, -1, -1):
        entry = entries[position]
        count += entry.added + entry.changed + entry.removed
        if count >= limit:
            return entries[position - 1].generation if position else index.base
    return index.base


def _atom(current: Page, limit: int, root: str) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"{root}/api/changes.atom"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = "Registre LTC : changements des fiches"
    updated = current.items[-1][0].published if current.items else "1970-01-01T00:00:00Z"
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "Registre LTC"
    query = urlencode({"since": current.since})
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{root}/api/changes.atom?{query}")
    json_link = f"{root}/api/changes?{query}"
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", type="application/json", href=json_link)
    following = _next_link(current, limit, "/api/changes.atom")
    if following:
        ET.SubElement(feed, f"{{{ATOM}}}link", rel="next", href=root + following)
    words = {"added": "ajoutée", "changed": "modifiée", "removed": "retirée"}
    for entry, change in current.items:
        item = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(item, f"{{{ATOM}}}id").text = f"{change.iri}#{entry.generation}-{change.op}"
        where = change.source or "registre"
        ET.SubElement(
            item, f"{{{ATOM}}}title"
        ).text = f"Fiche {words[change.op]} ({change.kind}, {where}) : {change.iri}"
        ET.SubElement(item, f"{{{ATOM}}}updated").text = entry.published
        ET.SubElement(item, f"{{{ATOM}}}link", href=change.iri)
        for scheme, term in (("op", change.op), ("kind", change.kind), ("source", where)):
            ET.SubElement(
                item, f"{{{ATOM}}}category", scheme=f"{root}/api/changes#{scheme}", term=term
            )
        if change.op != "removed":
            content = ET.SubElement(item, f"{{{ATOM}}}content", type="text")
            content.text = json.dumps(_jsonld(change.statements), ensure_ascii=False)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
