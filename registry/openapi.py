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
ERRORS = {
    "400": {"description": "A bad parameter; the text says which, in French then English."},
    "429": {"description": "Too many requests; see Retry-After."},
    "503": {"description": "Nothing published yet."},
}


def description(settings: Settings) -> dict[str, Any]:
    """The OpenAPI document; paths are relative to the server the client reached."""
    place_list = {"$ref": "#/components/schemas/PlaceList"}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Registre LTC — API",
            "version": "1",
            "description": (
                "Places of the transition networks of the Lieux de Convergence de la "
                "Transition, across networks. Every answer names its sources and their "
                "licences; credit them when you reuse the data. SPARQL: /sparql."
            ),
        },
        "servers": [{"url": "/"}],
        "paths": {
            "/api/places": {
                "get": {
                    "summary": "Places near a point, in a box or by name (paginated JSON).",
                    "parameters": SEARCH_PARAMETERS,
                    "responses": {
                        "200": {
                            "description": "One page of places, nearest first.",
                            "content": {"application/json": {"schema": place_list}},
                        },
                        **ERRORS,
                    },
                }
            },
            "/api/places.geojson": {
                "get": {
                    "summary": f"The same search as GeoJSON (up to {MAX_MAP_RESULTS} places).",
                    "parameters": SEARCH_PARAMETERS,
                    "responses": {
                        "200": {
                            "description": "A FeatureCollection of points.",
                            "content": {"application/geo+json": {"schema": {"type": "object"}}},
                        },
                        **ERRORS,
                    },
                }
            },
            "/api/places.csv": {
                "get": {
                    "summary": f"The same search as CSV (up to {MAX_MAP_RESULTS} rows).",
                    "parameters": SEARCH_PARAMETERS,
                    "responses": {
                        "200": {"description": "CSV, UTF-8.", "content": {"text/csv": {}}},
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
                        )
                    ],
                    "responses": {
                        "200": {"description": "The place.", "content": {"application/json": {}}},
                        "404": {"description": "No such place."},
                        **ERRORS,
                    },
                }
            },
            "/api/networks": {
                "get": {
                    "summary": "The member networks, with their number of places.",
                    "responses": {"200": {"description": "Networks."}},
                }
            },
            "/api/themes": {
                "get": {
                    "summary": "The transition themes (SKOS), with their number of places.",
                    "responses": {"200": {"description": "Themes."}},
                }
            },
        },
        "components": {
            "schemas": {
                "Source": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "title": {"type": "string"},
                        "license": {"type": "string", "format": "iri"},
                        "network": {"type": "string", "format": "iri"},
                        "last_harvest": {"type": "string", "format": "date-time"},
                    },
                },
                "Place": {
                    "type": "object",
                    "properties": {
                        "iri": {"type": "string", "format": "iri"},
                        "name": {"type": "string"},
                        "address": {"type": "object"},
                        "lat": {"type": "number"},
                        "lon": {"type": "number"},
                        "distance_km": {"type": ["number", "null"]},
                        "themes": {"type": "array"},
                        "networks": {"type": "array"},
                        "open_now": {"type": ["boolean", "null"]},
                        "next_opening": {"type": ["string", "null"]},
                        "sources": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Source"},
                        },
                    },
                },
                "PlaceList": {
                    "type": "object",
                    "properties": {
                        "generation": {"type": "string"},
                        "total": {"type": "integer"},
                        "page": {"type": "integer"},
                        "per_page": {"type": "integer"},
                        "pages": {"type": "integer"},
                        "next": {"type": ["string", "null"]},
                        "previous": {"type": ["string", "null"]},
                        "places": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Place"},
                        },
                        "licenses": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
        "externalDocs": {"description": "SPARQL endpoint", "url": settings.base_iri},
    }
