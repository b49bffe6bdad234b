"""``/sources``: every source's last harvest, its validation report and its history.

Read through ``core.harvest_files``, the documented files the harvester leaves in the data
folder: enough when the web tier runs on the harvester's host. Pages are cached by the
published generation plus the files' modification times, so a harvest shows at once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import pyoxigraph as ox
from flask import Blueprint, Response, abort, render_template, request, url_for

from core.catalog import Source, load_catalog
from core.harvest_files import SourceFiles, SourceState
from core.iris import Iris
from core.store import StoreError
from core.vocab import LTC_SHAPES, SCHEMA, SH
from registry.caching import MAX_AGE, cached
from registry.readable_report import readable_report
from registry.runtime import app_settings

blueprint = Blueprint("sources", __name__)

HISTORY_SHOWN = 20  # harvests on a source's page and in historique.json
ATOM_HARVESTS = 50  # harvests looked at for the Atom feed
STATUS_FR = {
    "loaded": "chargée",
    "unchanged": "inchangée",
    "failed": "échec",
    "held": "retenue",
    None: "jamais moissonnée",
}
ATOM = "http://www.w3.org/2005/Atom"
LICENCES = {  # usual open-data licences by IRI (without the scheme), as a volunteer knows them
    "creativecommons.org/licenses/by/4.0/": "CC BY 4.0",
    "creativecommons.org/licenses/by-sa/4.0/": "CC BY-SA 4.0",
    "creativecommons.org/publicdomain/zero/1.0/": "CC0 1.0",
    "opendatacommons.org/licenses/odbl/1-0/": "ODbL 1.0",
    "opendatacommons.org/licenses/odbl/1.0/": "ODbL 1.0",
    "www.etalab.gouv.fr/licence-ouverte-open-licence/": "Licence Ouverte 2.0",
    "www.etalab.gouv.fr/wp-content/uploads/2017/04/ETALAB-Licence-Ouverte-v2.0.pdf": (
        "Licence Ouverte 2.0"
    ),
}


# -- what the pages show ---------------------------------------------------------------------


@dataclass
class SourceView:
    source: Source
    state: SourceState

    @property
    def status_fr(self) -> str:
        return STATUS_FR.get(self.state.status, self.state.status or "")

    @property
    def last_harvest(self) -> str:
        return french_time(self.state.last_attempt)

    @property
    def stale(self) -> bool:
        """No successful harvest for ``stale_after_days`` (as ``ltc sources`` says)."""
        last = _parse_time(self.state.last_success)
        limit = timedelta(days=app_settings().stale_after_days)
        return last is not None and datetime.now(UTC) - last > limit

    def as_json(self) -> dict[str, Any]:
        state = self.state
        return {
            "id": self.source.id,
            "title": self.source.title,
            "network": self.source.network,
            "license": self.source.license,
            "contact": self.source.contact,
            "graph": Iris(app_settings().base_iri).source_graph(self.source.id),
            "last_harvest": state.last_attempt,
            "last_success": state.last_success,
            "last_loaded": state.last_loaded,
            "status": state.status,
            "message": state.message,
            "accepted": state.accepted,
            "rejected": state.rejected,
            "warnings": state.warned,
            "consecutive_failures": state.failures,
            "stale": self.stale,
            "report": url_for("sources.report_turtle", source_id=self.source.id, _external=True),
            "page": url_for("sources.source_page", source_id=self.source.id, _external=True),
        }


def french_time(moment: str | None) -> str:
    """``2026-11-30T04:40:47.243579Z`` → ``30/11/2026 à 04:40 UTC``."""
    parsed = _parse_time(moment)
    return parsed.strftime("%d/%m/%Y à %H:%M UTC") if parsed else "—"


def _parse_time(moment: str | None) -> datetime | None:
    if not moment:
        return None
    try:
        return datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return None


def safe_link(url: str | None) -> str | None:
    """Only http(s) and mailto addresses become links."""
    return url if url and url.startswith(("http://", "https://", "mailto:")) else None


def licence_label(iri: str) -> str:
    """A licence's usual short name, or its IRI."""
    bare = iri.split("://", 1)[-1]
    return LICENCES.get(bare) or LICENCES.get(bare + "/") or iri


def _catalog() -> list[Source]:
    return load_catalog(app_settings())


def _views() -> list[SourceView]:
    data_dir = app_settings().data_dir
    return [SourceView(s, SourceFiles(data_dir, s.id).load_state()) for s in _catalog()]


def _find(source_id: str) -> SourceView:
    for view in _views():
        if view.source.id == source_id:
            return view
    abort(404)


def _files(source_id: str) -> SourceFiles:
    return SourceFiles(app_settings().data_dir, source_id)


def _fingerprint(*source_ids: str) -> tuple[int, ...]:
    """The sources' files change the pages even before (or without) a new generation."""
    return tuple(stamp for source_id in source_ids for stamp in _files(source_id).fingerprint())


def _cached(build: Callable[[], Response], *parts: object) -> Response:
    """``registry.caching.cached``; before anything is published (no generation yet) the
    pages still work, validated by a digest of their content."""
    try:
        return cached(build, *parts)
    except StoreError:
        response = build()
        response.add_etag()
        response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
        return response.make_conditional(request)


def _html(template: str, status: int = 200, **context: Any) -> Response:
    context.setdefault("safe_link", safe_link)
    context.setdefault("licence_label", licence_label)
    return Response(render_template(template, **context), status=status, mimetype="text/html")


# -- routes ------------------------------------------------------------------------------------


@blueprint.errorhandler(404)
def _not_found(_error: Exception) -> Response:
    return _html(
        "sources_introuvable.html",
        404,
        source_id=request.view_args.get("source_id") if request.view_args else None,
    )


@blueprint.route("/sources")
def sources_page() -> Response:
    """Every source of the catalog with its last harvest (HTML, or ``?format=json``)."""
    views = _views()
    wants_json = request.args.get("format") == "json"

    def build() -> Response:
        if wants_json:
            body = json.dumps({"sources": [v.as_json() for v in views]}, ensure_ascii=False)
            return Response(body, mimetype="application/json")
        return _html("sources.html", views=views)

    return _cached(build, wants_json, _fingerprint(*(v.source.id for v in views)))


@blueprint.route("/sources/<source_id>")
def source_page(source_id: str) -> Response:
    """A source: its last harvest, its history and its validation report, in French."""
    view = _find(source_id)
    files = _files(source_id)

    def build() -> Response:
        history = list(reversed(files.history(HISTORY_SHOWN)))
        return _html(
            "source.html",
            view=view,
            history=history,
            report=readable_report(files.findings()),
            french_time=french_time,
            status_fr=STATUS_FR,
        )

    return _cached(build, _fingerprint(source_id))


@blueprint.route("/sources/<source_id>/rapport.ttl")
def report_turtle(source_id: str) -> Response:
    """The source's ``sh:ValidationReport`` as Turtle, to download."""
    _find(source_id)
    files = _files(source_id)

    def build() -> Response:
        prefixes = {"sh": SH, "ltcsh": LTC_SHAPES, "schema": SCHEMA}
        body = ox.serialize(
            ox.parse(files.report(), format=ox.RdfFormat.N_TRIPLES),
            format=ox.RdfFormat.TURTLE,
            prefixes=prefixes,
        )
        response = Response(body, mimetype="text/turtle")
        response.charset = "utf-8"
        response.headers["Content-Disposition"] = f'attachment; filename="rapport-{source_id}.ttl"'
        return response

    return _cached(build, _fingerprint(source_id))


@blueprint.route("/sources/<source_id>/historique.json")
def history_json(source_id: str) -> Response:
    """The source's last harvests, newest first."""
    _find(source_id)
    files = _files(source_id)

    def build() -> Response:
        history = list(reversed(files.history(HISTORY_SHOWN)))
        body = json.dumps({"source": source_id, "harvests": history}, ensure_ascii=False)
        return Response(body, mimetype="application/json")

    return _cached(build, _fingerprint(source_id))


@blueprint.route("/sources/<source_id>/atom")
def atom_feed(source_id: str) -> Response:
    """Atom 1.0 feed of the source's harvest problems: one entry per harvest that failed,
    was held, or loaded with rejected records or warnings."""
    view = _find(source_id)
    files = _files(source_id)

    def build() -> Response:
        body = atom_document(view, files.history(ATOM_HARVESTS), request.url)
        return Response(body, mimetype="application/atom+xml")

    return _cached(build, _fingerprint(source_id))


def is_problem(harvest: dict[str, Any]) -> bool:
    """A harvest worth telling the network about. An ``unchanged`` harvest repeats the
    counts of the last load, which already had its entry."""
    status = harvest.get("status")
    if status in ("failed", "held"):
        return True
    return status == "loaded" and bool(harvest.get("rejected") or harvest.get("warned"))


def _atom_time(moment: str | None) -> str:
    parsed = _parse_time(moment)
    return parsed.strftime("%Y-%m-%dT%H:%M:%SZ") if parsed else "1970-01-01T00:00:00Z"


def _entry_summary(harvest: dict[str, Any]) -> str:
    status = harvest.get("status")
    if status in ("failed", "held"):
        word = "Échec" if status == "failed" else "Moisson retenue"
        return f"{word} : {harvest.get('message') or 'raison inconnue'}"
    return (
        f"{harvest.get('accepted', 0)} fiches acceptées, {harvest.get('rejected', 0)} rejetées, "
        f"{harvest.get('warned', 0)} avec avertissements"
    )


def atom_document(view: SourceView, history: list[dict[str, Any]], self_url: str) -> bytes:
    """The Atom XML of a source's harvest problems (entries newest first)."""
    ET.register_namespace("", ATOM)
    source = view.source
    iris = Iris(app_settings().base_iri)
    page = url_for("sources.source_page", source_id=source.id, _external=True)
    problems = [h for h in reversed(history) if is_problem(h)]
    # without any problem, the feed's date is stable: the oldest harvest remembered
    first_seen = history[0].get("ended") if history else None
    feed = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "fr"})

    def add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    add(feed, "id", iris.source(source.id) + "#problemes")
    add(feed, "title", f"Problèmes de moisson — {source.title}")
    add(feed, "updated", _atom_time(problems[0].get("ended") if problems else first_seen))
    author = add(feed, "author")
    add(author, "name", "Registre LTC")
    add(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    add(feed, "link", rel="alternate", href=page, type="text/html")
    for harvest in problems:
        started = _parse_time(harvest.get("started"))
        entry = add(feed, "entry")
        if started is None:  # a damaged history line: still a stable id
            digest = hashlib.sha256(json.dumps(harvest, sort_keys=True).encode()).hexdigest()
            entry_id = f"{iris.source(source.id)}#moisson-{digest[:16]}"
        else:
            entry_id = iris.harvest(source.id, started)
        add(entry, "id", entry_id)
        status = STATUS_FR.get(harvest.get("status"), str(harvest.get("status")))
        add(entry, "title", f"Moisson du {french_time(harvest.get('started'))} : {status}")
        add(entry, "updated", _atom_time(harvest.get("ended")))
        add(entry, "link", rel="alternate", href=page, type="text/html")
        add(entry, "summary", _entry_summary(harvest))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
