"""Cross-origin reads (CORS), in one place for every route.

Everything the registry serves to be read is public and needs no credentials, so any
website may read it with ``fetch()``: every answer to a GET or HEAD (errors included, so
a script sees a 404 or a 429 and its ``Retry-After``), and SPARQL queries sent by POST,
carry ``Access-Control-Allow-Origin: *``. Preflights (``OPTIONS``) allow the headers
clients send — ``Accept``, ``If-None-Match`` for a conditional read, ``Content-Type``
for a SPARQL POST — and are cached a day. The online validator's POST stays
same-origin: it fetches URLs on the submitter's behalf.

``install(blueprint)`` hooks ``add_cors_headers`` on the whole application through a
blueprint (``after_app_request``): the application factory needs no change.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

ALLOW_ORIGIN = {"Access-Control-Allow-Origin": "*"}
EXPOSED = (
    "ETag, Link, Retry-After, X-LTC-Truncated, X-LTC-Generation, Content-Disposition, "
    "Content-Language"
)
ALLOWED_HEADERS = (
    "Accept, Accept-Language, Content-Type, If-None-Match, If-Modified-Since, Cache-Control"
)
MAX_AGE = "86400"
# endpoints whose POST is a read (a SPARQL query), so other origins may send it
READ_BY_POST = frozenset({"sparql.sparql"})


def add_cors_headers(response: Response) -> Response:
    """``after_request`` for the whole application."""
    method = request.method
    post_read = method == "POST" and request.endpoint in READ_BY_POST
    if method not in ("GET", "HEAD", "OPTIONS") and not post_read:
        return response
    response.headers.update(ALLOW_ORIGIN)
    response.headers["Access-Control-Expose-Headers"] = EXPOSED
    if method == "OPTIONS":
        methods = (
            "GET, HEAD, POST, OPTIONS"
            if request.endpoint in READ_BY_POST
            else ("GET, HEAD, OPTIONS")
        )
        response.headers["Access-Control-Allow-Methods"] = methods
        response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
        response.headers["Access-Control-Max-Age"] = MAX_AGE
    return response


def install(blueprint: Blueprint) -> None:
    """Apply ``add_cors_headers`` to every answer of the application ``blueprint`` joins."""
    blueprint.after_app_request(add_cors_headers)
