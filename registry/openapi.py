"""The OpenAPI 3.1 description of ``/api`` (served at ``/api/openapi.json``)."""

from __future__ import annotations

from typing import Any

from core.config import Settings
from registry.places import MAX_MAP_RESULTS, MAX_PER_PAGE
from registry.spatial import MAX_RADIUS_KM


def _param(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict:
    return {"name": name, "in": "query", "description": description, "schema": schema, **extra}


SEARCH_PARAMETERS = [
    _param("lat", "Latitude of the centre (WGS 84 degrees); with lon.", {"type": "number"}),
    _param("lon", "Longitude of the centre (WGS 84 degrees); with lat.", {"type": "number"}),
    _param(
        "radius",
        f"Radius in km around lat/lon (default 10, at most {MAX_RADIUS_KM:g}).",
        {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_RADIUS_KM},
    ),
    _param(
        "bbox",
        "Bounding box south,west,north,east (degrees); west > east crosses ±180°.",
        {"type": "string", "example": "47.3,0.6,47.5,0.8"},
    ),
    _param(
        "theme",
        "Theme short name (alimentation, energie…) or IRI; repeat for any of several.",
        {"type": "array", "items": {"type": "string"}},
        explode=True,
    ),
    _param(
        "network",
        "Network IRI (see /api/networks); repeat for any of several.",
        {"type": "array", "items": {"type": "string", "format": "iri"}},
        explode=True,
    ),
    _param("open_now", "Only places open now, in their own time zone.", {"type": "boolean"}),
    _param(
        "open_at",
        "Only places open at this moment (ISO 8601 with offset); implies the filter.",
        {"type": "string", "format": "date-time"},
    ),
    _param("q", "Words of a place's, organisation's or network's name.", {"type": "string"}),
    _param("page", "Page number, from 1.", {"type": "integer", "minimum": 1}),
    _param(
        "per_page",
        f"Places per page (default 20, at most {MAX_PER_PAGE}).",
        {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE},
    ),
]
CENTRE_PARAMETERS = [
    _param(
        "commune",
        "A commune to search around, resolved offline: its name (« Tours », « Saint-Denis 93 »)"
        " or its INSEE code; with radius. An unknown or ambiguous name is refused (400, with"
        " suggestions or the homonyms). Not with lat/lon or bbox.",
        {"type": "string", "example": "Tours"},
    ),
    _param(
        "postcode",
        "A postcode to search around (its communes' point); with commune, picks among homonyms."
        " Not with lat/lon or bbox.",
        {"type": "string", "pattern": "^[0-9][0-9AB][0-9]{3}$", "example": "37000"},
    ),
]
SEARCH_PARAMETERS = [*SEARCH_PARAMETERS[:2], *CENTRE_PARAMETERS, *SEARCH_PARAMETERS[2:]]

TEXT_ERROR = {"text/plain": {"schema": {"type": "string"}}}
ERRORS = {
    "304": {"description": "Not modified: the client's copy (If-None-Match) is current."},
    "400": {
        "description": "A bad parameter; the text says which, in French then English.",
        "content": TEXT_ERROR,
    },
    "429": {
        "description": "Too many requests; see Retry-After.",
        "headers": {"Retry-After": {"schema": {"type": "integer"}}},
        "content": TEXT_ERROR,
    },
    "503": {"description": "Nothing published yet.", "content": TEXT_ERROR},
}
ETAG = {
    "ETag": {
        "description": "Validator of this answer (send it back in If-None-Match).",
        "schema": {"type": "string"},
    },
    "Cache-Control": {"schema": {"type": "string", "example": "public, max-age=60"}},
}
CONDITIONAL = _param(
    "If-None-Match",
    "The ETag of a copy the client holds: 304 when it is current.",
    {"type": "string"},
) | {"in": "header"}


def _string(description: str, **extra: Any) -> dict[str, Any]:
    return {"type": "string", "description": description, **extra}


def _nullable(kind: str, description: str, **extra: Any) -> dict[str, Any]:
    return {"type": [kind, "null"], "description": description, **extra}


def _array(items: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "array", "items": items, "description": description}


APPROXIMATE = (
    "True when no record gives the place's coordinates: lat/lon are then its commune's "
    "point, from the registry's offline gazetteer (not the network's data)."
)


def _object(properties: dict[str, Any], description: str, required: bool = True) -> dict:
    """A closed object: every field documented, all present (``required``)."""
    schema: dict[str, Any] = {
        "type": "object",
        "description": description,
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = sorted(properties)
    return schema


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


IRI = {"type": "string", "format": "iri"}
URL = {"type": "string", "format": "uri"}


def schemas() -> dict[str, Any]:
    """Every body the API answers with, every field described."""
    named_iri = _object(
        {"iri": IRI | {"description": "IRI."}, "name": _string("Name.")},
        "A network: its IRI and name.",
    )
    return {
        "Source": _object(
            {
                "id": _string("Identifier of the source in the catalog (/sources/{id})."),
                "title": _string("Title of the source."),
                "license": _string(
                    "Licence of the source's data (an IRI); credit it when you reuse the data."
                ),
                "network": _string("IRI of the member network publishing the source."),
                "last_harvest": _string(
                    "Moment of the source's last successful harvest (ISO 8601), or empty."
                ),
                "stale": {
                    "type": "boolean",
                    "description": "True when the source has not been harvested successfully "
                    "for stale_after_days days: its data may be out of date.",
                },
                "page": URL | {"description": "The source's quality page (/sources/{id})."},
            },
            "A source (a network's feed) credited by an answer.",
        ),
        "Address": _object(
            {
                "street": _string("Street address, or empty."),
                "postcode": _string("Postcode, or empty."),
                "locality": _string("Commune, or empty."),
            },
            "A place's postal address.",
        ),
        "Theme": _object(
            {
                "iri": IRI | {"description": "IRI of the theme (SKOS concept)."},
                "label": _string("French label."),
            },
            "A transition theme.",
        ),
        "Network": named_iri,
        "Place": _object(
            {
                "iri": IRI | {"description": "IRI of the place record."},
                "name": _string("Name of the place."),
                "detail": URL | {"description": "/api/place?iri=… for everything at the place."},
                "address": _ref("Address"),
                "lat": {"type": "number", "description": "Latitude (WGS 84)."},
                "lon": {"type": "number", "description": "Longitude (WGS 84)."},
                "approximate": {"type": "boolean", "description": APPROXIMATE},
                "distance_km": _nullable("number", "Distance from the centre in km, if any."),
                "themes": _array(_ref("Theme"), "Themes of the place."),
                "networks": _array(_ref("Network"), "Networks present at the place."),
                "open_now": _nullable(
                    "boolean", "Open at the moment asked (now or open_at); null: no hours."
                ),
                "next_opening": _nullable("string", "When it next opens, in French words."),
                "same_place": _array(
                    IRI,
                    "IRIs of the other records of the same physical place (other networks' "
                    "records of it), listed once here.",
                ),
                "sources": _array(_ref("Source"), "Sources saying what is shown."),
            },
            "One place of a result list.",
        ),
        "Centre": _object(
            {
                "label": _string("The commune or postcode as resolved: « Tours (37000) »."),
                "insee": _array({"type": "string"}, "INSEE codes of the communes resolved."),
                "lat": {"type": "number", "description": "Latitude of the centre."},
                "lon": {"type": "number", "description": "Longitude of the centre."},
                "exact": {
                    "type": "boolean",
                    "description": "False when the point is approximate (a postcode's mean).",
                },
            },
            "The point searched around, when given as a commune or postcode.",
        ),
        "PlaceList": _object(
            {
                "generation": _string("The published generation this answer comes from."),
                "centre": {
                    "oneOf": [_ref("Centre"), {"type": "null"}],
                    "description": "The commune or postcode searched around; null otherwise.",
                },
                "total": {"type": "integer", "description": "Places matching."},
                "page": {"type": "integer", "description": "This page's number."},
                "per_page": {"type": "integer", "description": "Places per page."},
                "pages": {"type": "integer", "description": "Number of pages."},
                "next": _nullable("string", "URL of the next page, or null.", format="uri"),
                "previous": _nullable("string", "URL of the previous page, or null.", format="uri"),
                "places": _array(_ref("Place"), "The places of this page, nearest first."),
                "licenses": _array({"type": "string"}, "Licences of the sources of this page."),
            },
            "One page of places.",
        ),
        "Fact": _object(
            {
                "value": _string("The value (text, or an IRI)."),
                "source": _nullable("string", "Id of the source saying it."),
                "place": _string("IRI of the place record it is said of."),
            },
            "One fact about a place, with the source that says it.",
        ),
        "Organisation": _object(
            {
                "iri": IRI | {"description": "IRI of the organisation."},
                "name": _string("Name."),
                "networks": _array(_ref("Network"), "Its networks."),
                "roles": _array({"type": "string"}, "Its roles at the place (French labels)."),
                "activities": _array({"type": "string"}, "Its activities there."),
                "opening_hours": _array({"type": "string"}, "Its own hours, in French words."),
                "url": _string("Website, or empty."),
                "telephone": _string("Telephone, or empty."),
                "email": _string("E-mail address, or empty."),
                "themes": _array({"type": "string"}, "Its themes (French labels)."),
                "presence": _string("IRI of its presence record at the place."),
                "source": _nullable("string", "Id of the source saying it."),
            },
            "An organisation present at the place.",
        ),
        "Event": _object(
            {
                "iri": IRI | {"description": "IRI of the event."},
                "name": _string("Name."),
                "start": _string("Start (ISO 8601)."),
                "end": _string("End (ISO 8601), or empty."),
                "organizer": _string("IRI or name of the organiser, or empty."),
                "url": _string("Web page, or empty."),
                "source": _nullable("string", "Id of the source saying it."),
            },
            "An upcoming event at the place.",
        ),
        "ConvergenceLabel": _object(
            {
                "status": _string("Status: candidat, pilote, labellisé…"),
                "charter_date": _nullable("string", "Date the charter was signed, if any."),
                "source": _nullable("string", "Id of the source saying it."),
            },
            "A Lieu de Convergence label of the place.",
        ),
        "PlaceDetail": _object(
            {
                "iri": IRI | {"description": "IRI of the place asked for."},
                "name": _string("Name."),
                "records": _array(IRI, "Every record of this physical place, across networks."),
                "lat": _nullable("number", "Latitude, if known."),
                "lon": _nullable("number", "Longitude, if known."),
                "approximate": {"type": "boolean", "description": APPROXIMATE},
                "timezone": _string("IANA time zone of the place."),
                "open_now": _nullable("boolean", "Open now; null when no hours are published."),
                "next_opening": _nullable("string", "When it next opens, in French words."),
                "facts": {
                    "type": "object",
                    "description": "Facts by key (nom, description, rue, codePostal, commune, "
                    "telephone, email, siteWeb, themes…), each with its source.",
                    "additionalProperties": _array(_ref("Fact"), "Values of one key."),
                },
                "opening_hours": _array({"type": "string"}, "The place's hours, in French."),
                "links": {
                    "type": "object",
                    "description": "Links elsewhere by kind (openstreetmap, wikidata…).",
                    "additionalProperties": _array({"type": "string"}, "URLs of one kind."),
                },
                "organisations": _array(_ref("Organisation"), "Organisations present."),
                "events": _array(_ref("Event"), "Upcoming events."),
                "convergence_labels": _array(_ref("ConvergenceLabel"), "Convergence labels."),
                "sources": _array(_ref("Source"), "Sources saying what is shown."),
                "licenses": _array({"type": "string"}, "Their licences."),
            },
            "Everything present at one place, across networks.",
        ),
        "NotFound": _object(
            {"error": _string("What is missing."), "iri": _string("The IRI asked for.")},
            "No such place.",
        ),
        "NetworkList": _object(
            {
                "generation": _string("The published generation this answer comes from."),
                "networks": _array(
                    _object(
                        {
                            "iri": IRI | {"description": "IRI of the network."},
                            "name": _string("Name."),
                            "url": _string("Website, or empty."),
                            "places": {
                                "type": "integer",
                                "description": "Places where its organisations are present.",
                            },
                        },
                        "A member network.",
                    ),
                    "The member networks, by name.",
                ),
            },
            "The member networks.",
        ),
        "ThemeList": _object(
            {
                "themes": _array(
                    _object(
                        {
                            "iri": IRI | {"description": "IRI of the theme (SKOS concept)."},
                            "id": _string("Short name, for the theme parameter."),
                            "label": _string("French label."),
                            "places": {"type": "integer", "description": "Places having it."},
                        },
                        "A transition theme.",
                    ),
                    "Every theme of the scheme.",
                ),
            },
            "The transition themes.",
        ),
        "FeatureCollection": _object(
            {
                "type": {"const": "FeatureCollection", "description": "GeoJSON type."},
                "features": _array(
                    _object(
                        {
                            "type": {"const": "Feature", "description": "GeoJSON type."},
                            "id": _string("IRI of the place record."),
                            "geometry": _object(
                                {
                                    "type": {"const": "Point", "description": "GeoJSON type."},
                                    "coordinates": {
                                        "type": "array",
                                        "items": {"type": "number"},
                                        "minItems": 2,
                                        "maxItems": 2,
                                        "description": "Longitude, latitude.",
                                    },
                                },
                                "The place's point.",
                            ),
                            "properties": _object(
                                {
                                    "name": _string("Name."),
                                    "locality": _string("Commune, or empty."),
                                    "postcode": _string("Postcode, or empty."),
                                    "approximate": {"type": "boolean", "description": APPROXIMATE},
                                    "distance_km": _nullable("number", "Distance, if any."),
                                    "themes": _array({"type": "string"}, "Theme labels."),
                                    "networks": _array({"type": "string"}, "Network names."),
                                    "sources": _array({"type": "string"}, "Source ids."),
                                    "detail": URL | {"description": "/api/place?iri=…"},
                                },
                                "What the map shows of the place.",
                            ),
                        },
                        "A place.",
                    ),
                    f"Every match, up to {MAX_MAP_RESULTS}.",
                ),
                "total": {"type": "integer", "description": "Places matching."},
                "truncated": {
                    "type": "boolean",
                    "description": f"True when more than {MAX_MAP_RESULTS} matched.",
                },
                "licenses": _array({"type": "string"}, "Licences of the sources."),
            },
            "The search as GeoJSON.",
        ),
    }


def _ok(description: str, media_type: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "description": description,
        "headers": ETAG,
        "content": {media_type: {"schema": schema}},
    }


def description(settings: Settings) -> dict[str, Any]:
    """The OpenAPI document; paths are relative to the server the client reached."""
    search = [*SEARCH_PARAMETERS, CONDITIONAL]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Registre LTC — API",
            "version": "1",
            "description": (
                "Places of the transition networks of the Lieux de Convergence de la "
                "Transition, across networks. Every answer names its sources and their "
                "licences; credit them when you reuse the data. SPARQL: /sparql. Any "
                "website may call it (CORS)."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/places": {
                "get": {
                    "summary": "Places near a point, in a box or by name (paginated JSON).",
                    "parameters": search,
                    "responses": {
                        "200": _ok(
                            "One page of places, nearest first.",
                            "application/json",
                            _ref("PlaceList"),
                        ),
                        **ERRORS,
                    },
                }
            },
            "/api/places.geojson": {
                "get": {
                    "summary": f"The same search as GeoJSON (up to {MAX_MAP_RESULTS} places).",
                    "parameters": search,
                    "responses": {
                        "200": _ok(
                            "A FeatureCollection of points.",
                            "application/geo+json",
                            _ref("FeatureCollection"),
                        ),
                        **ERRORS,
                    },
                }
            },
            "/api/places.csv": {
                "get": {
                    "summary": f"The same search as CSV (up to {MAX_MAP_RESULTS} rows).",
                    "parameters": search,
                    "responses": {
                        "200": _ok(
                            "CSV, UTF-8, one row per place; columns: iri, name, street, "
                            "postcode, locality, lat, lon, distance_km, themes, networks, "
                            "sources, licenses (lists separated by « | »).",
                            "text/csv",
                            {"type": "string"},
                        ),
                        **ERRORS,
                    },
                }
            },
            "/api/place": {
                "get": {
                    "summary": "Everything present at one place, each fact with its source.",
                    "parameters": [
                        _param(
                            "iri",
                            "The place's IRI.",
                            {"type": "string", "format": "iri"},
                            required=True,
                        ),
                        CONDITIONAL,
                    ],
                    "responses": {
                        "200": _ok("The place.", "application/json", _ref("PlaceDetail")),
                        "404": {
                            "description": "No such place.",
                            "content": {"application/json": {"schema": _ref("NotFound")}},
                        },
                        **ERRORS,
                    },
                }
            },
            "/api/networks": {
                "get": {
                    "summary": "The member networks, with their number of places.",
                    "parameters": [CONDITIONAL],
                    "responses": {
                        "200": _ok("Networks.", "application/json", _ref("NetworkList")),
                        **ERRORS,
                    },
                }
            },
            **change_paths(),
            "/api/themes": {
                "get": {
                    "summary": "The transition themes (SKOS), with their number of places.",
                    "parameters": [CONDITIONAL],
                    "responses": {
                        "200": _ok("Themes.", "application/json", _ref("ThemeList")),
                        **ERRORS,
                    },
                }
            },
        },
        "components": {"schemas": {**schemas(), **change_schemas()}},
        "externalDocs": {"description": "SPARQL endpoint", "url": settings.base_iri + "sparql"},
    }


GONE = {
    "description": "The changes since that point are no longer kept (changes_keep_days): "
    "take the dump, which states its generation, then follow the changes since it.",
    "content": {"application/json": {"schema": _ref("ChangesGone")}},
}
CHANGE_PARAMETERS = [
    _param(
        "since",
        "The generation the client holds (the dump's X-LTC-Generation, or the last page's "
        "resume_from), or an ISO 8601 moment. Default: the oldest change kept.",
        {"type": "string", "example": "g000042-20261130T021500Z"},
    ),
    _param(
        "limit",
        "Changes per page (default 100, at most 1000).",
        {"type": "integer", "minimum": 1, "maximum": 1000},
    ),
    _param("from", "Where a page starts (from the next link).", {"type": "string"}),
    CONDITIONAL,
]


def change_paths() -> dict[str, Any]:
    """The change feed (registry.changes)."""
    return {
        "/api/changes": {
            "get": {
                "summary": "Records added, changed or removed since a generation (paginated).",
                "parameters": CHANGE_PARAMETERS,
                "responses": {
                    "200": _ok(
                        "One page of changes, oldest first.",
                        "application/json",
                        _ref("ChangeList"),
                    ),
                    "410": GONE,
                    **ERRORS,
                },
            }
        },
        "/api/changes.atom": {
            "get": {
                "summary": "The same changes as an Atom feed (without since: the latest).",
                "parameters": CHANGE_PARAMETERS,
                "responses": {
                    "200": _ok(
                        "An Atom feed; each entry's content is the record's JSON-LD.",
                        "application/atom+xml",
                        {"type": "string"},
                    ),
                    "410": GONE,
                    **ERRORS,
                },
            }
        },
    }


def change_schemas() -> dict[str, Any]:
    generation = _string("A generation of the registry (g000042-20261130T021500Z).")
    return {
        "Change": {
            "type": "object",
            "description": "One record added, changed or removed in a generation.",
            "properties": {
                "generation": generation,
                "published": _string("When that generation was published (ISO 8601, UTC)."),
                "op": _string("added, changed or removed.", enum=["added", "changed", "removed"]),
                "iri": IRI | {"description": "The record's IRI."},
                "kind": _string(
                    "place, organisation, presence, event, place-cluster (the registry's "
                    "own), network, convergence-label, identity-link or other."
                ),
                "source": _nullable("string", "The source's id; null for the registry's own."),
                "graph": IRI | {"description": "The named graph holding the record."},
                "record": {
                    "type": "array",
                    "items": {"type": "object"},
                    "description": "added and changed: the record's statements and those of "
                    "the nodes it owns, as JSON-LD (replace the record with them).",
                },
            },
            "required": ["generation", "published", "op", "iri", "kind", "source", "graph"],
            "additionalProperties": False,
        },
        "ChangeList": _object(
            {
                "since": generation | {"description": "The generation the changes follow."},
                "generation": generation | {"description": "The generation served now."},
                "resume_from": _nullable(
                    "string", "On the last page: the generation to ask since next time."
                ),
                "complete": {"type": "boolean", "description": "True on the last page."},
                "next": _nullable("string", "The next page's path, or null."),
                "oldest": _string("The oldest generation changes are known since."),
                "dump": _string("The dump's path (/dump.nq.gz)."),
                "changes": _array(_ref("Change"), "The changes, oldest first."),
            },
            "A page of the change feed.",
        ),
        "ChangesGone": _object(
            {
                "error": _string("gone"),
                "message": _string("What to do, in French."),
                "oldest": _string("The oldest generation changes are known since."),
                "dump": _string("The dump's path (/dump.nq.gz)."),
            },
            "The changes since that point are no longer kept.",
        ),
    }
