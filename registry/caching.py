"""HTTP caching for every read: an ETag derived from the published generation (data only
changes when a harvest publishes a new one) and a short public Cache-Control."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from flask import Response, request

from registry.runtime import generation

MAX_AGE = 60  # seconds: a harvest is seen by caches within a minute


def etag_for(*parts: object) -> str:
    """A strong validator for a representation: the generation plus what selects it."""
    digest = hashlib.sha256(repr((generation(), *parts)).encode("utf-8"))
    return digest.hexdigest()[:32]


def cached(build: Callable[[], Response], *parts: object) -> Response:
    """Answer 304 when the client's copy is current; otherwise ``build()`` the response.

    ``parts`` name the representation (path, query arguments, negotiated type), so two
    representations of one resource never share an ETag.
    """
    etag = etag_for(request.path, sorted(request.args.items(multi=True)), *parts)
    response = Response(status=304) if etag in request.if_none_match else build()
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response
