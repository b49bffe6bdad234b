"""The JSON API (``/api/…``), its GeoJSON and CSV twins, and its OpenAPI description.

Every answer carrying harvested data names its sources and their licences. Parameters
are checked here and turned into a ``places.Search``; a bad one gets a 400 saying which
and why (``SearchError``, answered by ``registry.app``).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import pyoxigraph as ox
from flask import Blueprint, Response, jsonify, render_template, request

from core.vocab import LTC_THEME
from gazetteer.lookup import Resolution, default_gazetteer
from registry.caching import cached
from registry.directory import Directory, PlaceCard, SourceInfo
from registry.places import (
    MAX_MAP_RESULTS,
    Hit,
    PlaceDetail,
    Results,
    Search,
    SearchError,
    place_detail,
    search,
)
from registry.runtime import app_settings, directory, now, read_store
from registry.vocabularies import in_scheme, label

blueprint = Blueprint("api", __name__, url_prefix="/api")

THEME_BASE = LTC_THEME
# CORS (any origin, preflights with If-None-Match): registry.cors, for every route


# -- parameters -----------------------------------------------------------------------------


def _number(name: str, default: float | None = None) -> float | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        raise SearchError(
            f"le paramètre {name} doit être un nombre, pas {raw[:40]!r}",
            f"parameter {name} must be a number, not {raw[:40]!r}",
        ) from None


def _integer(name: str, default: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or len(raw) > 6:
        raise SearchError(
            f"le paramètre {name} doit être un entier positif",
            f"parameter {name} must be a positive integer",
        )
    return int(raw)


def _flag(name: str) -> bool:
    return request.args.get(name, "").strip().lower() in ("1", "true", "oui", "on", "yes")


def _iris(name: str, base: str = "") -> tuple[str, ...]:
    """Repeated or comma-separated values; short names are completed with ``base``."""
    values = []
    for raw in request.args.getlist(name):
        for value in raw.split(","):
            value = value.strip()
            if not value:
                continue
            if base and ":" not in value:
                value = base + value
            if not value.startswith(("http://", "https://")) or len(value) > 2000:
                raise SearchError(
                    f"{name} : valeur incorrecte {value[:60]!r} (un nom court ou une IRI http)",
                    f"{name}: bad value {value[:60]!r} (a short name or an http IRI)",
                )
            values.append(value)
    return tuple(sorted(set(values)))


def _bbox() -> tuple[float, float, float, float] | None:
    raw = request.args.get("bbox", "").strip()
    if not raw:
        return None
    parts = raw.split(",")
    try:
        south, west, north, east = (float(p) for p in parts)
    except ValueError:
        raise SearchError(
            "bbox : quatre nombres séparés par des virgules (sud,ouest,nord,est)",
            "bbox: four comma-separated numbers (south,west,north,east)",
        ) from None
    return south, west, north, east


def _moment() -> tuple[datetime, bool]:
    """The moment "open" refers to (``open_at``, else now) and whether to filter on it."""
    raw = request.args.get("open_at", "").strip()
    if not raw:
        return now(), _flag("open_now")
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise SearchError(
            "open_at : une date et heure ISO 8601 avec fuseau (2026-12-01T10:00+01:00)",
            "open_at: an ISO 8601 date-time with its offset (2026-12-01T10:00+01:00)",
        )
    return moment, True


def _centre() -> tuple[float | None, float | None, Resolution | None]:
    """The point to search around: ``lat``/``lon``, or ``commune`` and/or ``postcode``
    resolved by the offline gazetteer (400 when unknown or ambiguous, or with another
    centre)."""
    lat, lon = _number("lat"), _number("lon")
    commune = request.args.get("commune", "").strip()[:200]
    postcode = request.args.get("postcode", "").strip()[:20]
    if not commune and not postcode:
        return lat, lon, None
    if lat is not None or lon is not None or request.args.get("bbox", "").strip():
        raise SearchError(
            "commune ou postcode ne se combinent pas avec lat/lon ni bbox : un seul centre",
            "commune or postcode cannot be combined with lat/lon or bbox: one centre only",
        )
    if postcode and not (len(postcode) == 5 and postcode.isalnum()):
        raise SearchError(
            f"postcode : un code postal de cinq caractères est attendu, pas {postcode!r}",
            f"postcode: a five-character postcode is expected, not {postcode!r}",
        )
    text = f"{commune} {postcode}" if commune and postcode else commune or postcode
    found = default_gazetteer().resolve(text)
    if found.status == "found" and found.lat is not None and found.lon is not None:
        return found.lat, found.lon, found
    if found.status == "ambiguous":
        choices = ", ".join(f"{c.name} ({c.postcode}, INSEE {c.insee})" for c in found.matches[:8])
        raise SearchError(
            f"commune ambiguë {text!r} : {choices} ; précisez le code postal (postcode) ou "
            "donnez le code INSEE",
            f"ambiguous commune {text!r}: {choices}; add the postcode (postcode) or give the "
            "INSEE code",
        )
    close = ", ".join(c.label for c in found.suggestions)
    raise SearchError(
        f"commune ou code postal inconnu : {text!r}"
        + (f" (vouliez-vous dire {close} ?)" if close else ""),
        f"unknown commune or postcode: {text!r}" + (f" (did you mean {close}?)" if close else ""),
    )


def search_from_args(default_per_page: int = 20) -> tuple[Search, datetime]:
    """The search the request's query string asks for, and the moment it refers to."""
    moment, open_filter = _moment()
    lat, lon, _resolved = _centre()
    query = Search(
        lat=lat,
        lon=lon,
        radius_km=_number("radius", 10.0) or 0.0,
        bbox=_bbox(),
        themes=_iris("theme", THEME_BASE),
        networks=_iris("network"),
        open_now=open_filter,
        text=request.args.get("q", "").strip()[:200],
        page=_integer("page", 1),
        per_page=_integer("per_page", default_per_page),
    )
    return query, moment


# -- representations ------------------------------------------------------------------------


def source_json(source: SourceInfo) -> dict[str, str]:
    return {
        "id": source.id,
        "title": source.title,
        "license": source.license,
        "network": source.network,
        "last_harvest": source.last_success,
        "stale": source.stale(now(), app_settings().stale_after_days),
        "page": f"{request.host_url}sources/{source.id}",
    }


def card_sources(card: PlaceCard, found: Directory) -> list[SourceInfo]:
    sources = (found.source_of_graph(graph) for graph in card.graphs)
    return sorted({s.id: s for s in sources if s is not None}.values(), key=lambda s: s.id)


def hit_json(hit: Hit, found: Directory, sources: dict[str, dict] | None = None) -> dict[str, Any]:
    """One place of a result list; ``sources`` memoises the sources' JSON over a list."""
    card = hit.card
    sources = {} if sources is None else sources
    credited = card_sources(card, found)
    for source in credited:
        if source.id not in sources:
            sources[source.id] = source_json(source)
    return {
        "iri": card.iri,
        "name": card.name,
        "detail": _detail_url(card.iri),
        "address": {"street": card.street, "postcode": card.postcode, "locality": card.locality},
        "lat": card.lat,
        "lon": card.lon,
        "approximate": card.approximate,
        "distance_km": None if hit.distance_km is None else round(hit.distance_km, 3),
        "themes": [{"iri": t, "label": label(t)} for t in card.themes],
        "networks": [{"iri": n, "name": found.network_name(n)} for n in card.networks],
        "open_now": hit.open_now,
        "next_opening": hit.next_opening,
        "same_place": [m for m in found.clusters.get(card.iri, ()) if m != card.iri],
        "sources": [sources[s.id] for s in credited],
    }


def _detail_url(iri: str) -> str:
    """``/api/place?iri=…`` (built by hand: ``url_for`` per place costs more than the rest
    of the place's JSON)."""
    return f"{request.host_url}api/place?{urlencode({'iri': iri})}"


def _page_link(page: int) -> str:
    args = request.args.to_dict(flat=False)
    args["page"] = [str(page)]
    return request.base_url + "?" + urlencode(args, doseq=True)


def centre_json() -> dict[str, Any] | None:
    """The commune or postcode the search is around, as the gazetteer resolved it."""
    lat, lon, resolved = _centre()
    if resolved is None:
        return None
    return {
        "label": resolved.label,
        "insee": [c.insee for c in resolved.matches],
        "lat": lat,
        "lon": lon,
        "exact": resolved.exact,
    }


def results_json(results: Results, found: Directory) -> dict[str, Any]:
    sources: dict[str, dict] = {}
    places = [hit_json(hit, found, sources) for hit in results.hits]
    page = results.search.page
    return {
        "generation": found.generation,
        "centre": centre_json(),
        "total": results.total,
        "page": page,
        "per_page": results.search.per_page,
        "pages": results.pages,
        "next": _page_link(page + 1) if page < results.pages else None,
        "previous": _page_link(page - 1) if page > 1 else None,
        "places": places,
        "licenses": sorted({s["license"] for p in places for s in p["sources"] if s["license"]}),
    }


def detail_json(detail: PlaceDetail) -> dict[str, Any]:
    def fact(f: Any) -> dict[str, Any]:
        return {"value": f.value, "source": f.source.id if f.source else None, "place": f.place}

    return {
        "iri": detail.iri,
        "name": detail.name,
        "records": detail.records,
        "lat": detail.lat,
        "lon": detail.lon,
        "approximate": detail.approximate,
        "timezone": detail.timezone,
        "open_now": detail.open_now,
        "next_opening": detail.next_opening,
        "facts": {key: [fact(f) for f in facts] for key, facts in detail.facts.items()},
        "opening_hours": [slot.label() for slot in detail.hours],
        "links": detail.links,
        "organisations": [
            {
                "iri": o.iri,
                "name": o.name,
                "networks": [{"iri": iri, "name": name} for iri, name in o.networks],
                "roles": o.roles,
                "activities": o.activities,
                "opening_hours": [slot.label() for slot in o.hours],
                "url": o.url,
                "telephone": o.telephone,
                "email": o.email,
                "themes": o.themes,
                "presence": o.presence,
                "source": o.source.id if o.source else None,
            }
            for o in detail.organisations
        ],
        "events": [
            {
                "iri": e.iri,
                "name": e.name,
                "start": e.start,
                "end": e.end,
                "organizer": e.organizer,
                "url": e.url,
                "source": e.source.id if e.source else None,
            }
            for e in detail.events
        ],
        "convergence_labels": [
            {"status": status, "charter_date": charter or None, "source": s.id if s else None}
            for status, charter, s in detail.labels
        ],
        "sources": [source_json(s) for s in detail.sources],
        "licenses": sorted({s.license for s in detail.sources if s.license}),
    }


def _geojson(results: Results, found: Directory) -> dict[str, Any]:
    features = []
    for card, km in results.all_cards[:MAX_MAP_RESULTS]:
        features.append(
            {
                "type": "Feature",
                "id": card.iri,
                "geometry": {"type": "Point", "coordinates": [card.lon, card.lat]},
                "properties": {
                    "name": card.name,
                    "locality": card.locality,
                    "postcode": card.postcode,
                    "approximate": card.approximate,
                    "distance_km": None if km is None else round(km, 3),
                    "themes": [label(t) for t in card.themes],
                    "networks": [found.network_name(n) for n in card.networks],
                    "sources": [s.id for s in card_sources(card, found)],
                    "detail": _detail_url(card.iri),
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "total": results.total,
        "truncated": results.total > len(features),
        "licenses": sorted(
            {s.license for card, _ in results.all_cards for s in card_sources(card, found)} - {""}
        ),
    }


CSV_COLUMNS = (
    "iri",
    "name",
    "street",
    "postcode",
    "locality",
    "lat",
    "lon",
    "distance_km",
    "themes",
    "networks",
    "sources",
    "licenses",
)


def _csv(results: Results, found: Directory) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for card, km in results.all_cards[:MAX_MAP_RESULTS]:
        sources = card_sources(card, found)
        writer.writerow(
            [
                card.iri,
                _cell(card.name),
                _cell(card.street),
                card.postcode,
                _cell(card.locality),
                card.lat,
                card.lon,
                "" if km is None else round(km, 3),
                " | ".join(label(t) for t in card.themes),
                " | ".join(_cell(found.network_name(n)) for n in card.networks),
                " | ".join(s.id for s in sources),
                " | ".join(sorted({s.license for s in sources} - {""})),
            ]
        )
    return out.getvalue()


def _cell(text: str) -> str:
    """Harvested text for a spreadsheet: a leading = + - @ would run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


# -- routes ---------------------------------------------------------------------------------


@blueprint.get("/places")
def places() -> Response:
    """Places near a point, in a box or by name, with filters; paginated."""
    query, moment = search_from_args()
    found = directory()

    def build() -> Response:
        return jsonify(results_json(search(found, query, moment), found))

    return cached(build, "json", _minute(moment))


@blueprint.get("/places.geojson")
def places_geojson() -> Response:
    """The same search as GeoJSON: every match (up to the map cap), not one page."""
    query, moment = search_from_args()
    found = directory()

    def build() -> Response:
        body = json.dumps(_geojson(search(found, query, moment), found), ensure_ascii=False)
        return Response(body, mimetype="application/geo+json")

    return cached(build, "geojson", _minute(moment), keep=True)


@blueprint.get("/places.csv")
def places_csv() -> Response:
    """The same search as CSV (UTF-8, one row per place)."""
    query, moment = search_from_args()
    found = directory()

    def build() -> Response:
        response = Response(_csv(search(found, query, moment), found), mimetype="text/csv")
        response.charset = "utf-8"
        response.headers["Content-Disposition"] = 'attachment; filename="lieux.csv"'
        return response

    return cached(build, "csv", _minute(moment), keep=True)


def _minute(moment: datetime) -> str:
    """ "Open now" answers change with time: they are cached per minute."""
    return moment.strftime("%Y-%m-%dT%H:%M%z")


def checked_iri(raw: str | None) -> ox.NamedNode:
    """The ``iri`` parameter as an IRI, or a SearchError (never pasted into a query)."""
    raw = (raw or "").strip()
    if not raw.startswith(("http://", "https://", "tag:", "urn:")) or len(raw) > 2000:
        raise SearchError(
            "paramètre iri : une IRI absolue (https://…) est attendue",
            "parameter iri: an absolute IRI (https://…) is expected",
        )
    try:
        return ox.NamedNode(raw)
    except ValueError:
        raise SearchError("IRI incorrecte", "malformed IRI") from None


@blueprint.get("/place")
def place() -> Response:
    """Everything present at one place, across networks, each fact with its source."""
    node = checked_iri(request.args.get("iri"))
    moment = now()

    def build() -> Response:
        detail = place_detail(read_store(), directory(), node.value, moment)
        if detail is None:
            missing = jsonify(error="lieu inconnu / unknown place", iri=node.value)
            missing.status_code = 404
            return missing
        return jsonify(detail_json(detail))

    return cached(build, _minute(moment))


@blueprint.get("/networks")
def networks() -> Response:
    """Every network, with the number of places where its organisations are present."""
    found = directory()

    def build() -> Response:
        counts: dict[str, int] = {}
        for card in found.cards.values():
            for network in card.networks:
                counts[network] = counts.get(network, 0) + 1
        items = [
            {"iri": n.iri, "name": n.name, "url": n.url, "places": counts.get(n.iri, 0)}
            for n in sorted(found.networks.values(), key=lambda n: n.name.casefold())
        ]
        return jsonify(generation=found.generation, networks=items)

    return cached(build)


@blueprint.get("/themes")
def themes() -> Response:
    """The transition themes (SKOS), with the number of places having each."""
    found = directory()

    def build() -> Response:
        counts: dict[str, int] = {}
        for card in found.cards.values():
            for theme in card.themes:
                counts[theme] = counts.get(theme, 0) + 1
        items = [
            {
                "iri": c.iri,
                "id": c.iri.rsplit("/", 1)[-1],
                "label": c.label,
                "places": counts.get(c.iri, 0),
            }
            for c in in_scheme("theme")
        ]
        return jsonify(themes=items)

    return cached(build)


@blueprint.get("")
def documentation() -> Response:
    """A page for people: the routes, their parameters, examples to try."""
    from registry.openapi import SEARCH_PARAMETERS

    tours = "lat=47.3948&lon=0.704&radius=10"
    routes = [
        ("/api/places", "lieux autour d'un point, dans un cadre, par nom", f"/api/places?{tours}"),
        ("/api/places.geojson", "la même recherche en GeoJSON", f"/api/places.geojson?{tours}"),
        ("/api/places.csv", "la même recherche en CSV", f"/api/places.csv?{tours}"),
        ("/api/place?iri=…", "tout ce qui est présent en un lieu", "/api/places?per_page=1"),
        ("/api/networks", "les réseaux membres", "/api/networks"),
        ("/api/themes", "les thèmes de la transition", "/api/themes"),
    ]
    return cached(
        lambda: Response(
            render_template("api.html", routes=routes, parameters=SEARCH_PARAMETERS),
            mimetype="text/html",
        )
    )


@blueprint.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API."""
    from registry.openapi import description

    return cached(lambda: jsonify(description(app_settings())))
