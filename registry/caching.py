"""HTTP caching for every read: an ETag derived from the published generation (data only
changes when a harvest publishes a new one) and a short public Cache-Control."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable

from flask import Response, current_app, request

from registry.runtime import generation

MAX_AGE = 60  # seconds: a harvest is seen by caches within a minute
KEPT_BYTES = 64 * 1024 * 1024  # bodies kept per process (``cached(keep=True)``)


class KeptBodies:
    """Bodies of costly answers, by ETag (which names the generation), least recently
    used dropped first beyond ``limit`` bytes in all."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._kept: OrderedDict[str, tuple[bytes, int, list[tuple[str, str]]]] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str, build: Callable[[], Response]) -> Response:
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
        if kept is not None:
            body, status, headers = kept
            return Response(body, status=status, headers=headers)
        response = build()
        body = response.get_data()
        if response.status_code == 200 and len(body) <= self.limit // 4:
            headers = [(k, v) for k, v in response.headers.items() if k != "Content-Length"]
            with self._lock:
                if key not in self._kept:
                    self._kept[key] = (body, response.status_code, headers)
                    self._size += len(body)
                while self._size > self.limit:
                    _key, (dropped, _status, _headers) = self._kept.popitem(last=False)
                    self._size -= len(dropped)
        return response


def _kept() -> KeptBodies:
    """The application's kept bodies (one application per web process)."""
    return current_app.extensions.setdefault("ltc_kept_bodies", KeptBodies(KEPT_BYTES))


def kept_bodies() -> KeptBodies:
    """The application's kept bodies, for a view that keys its answers itself (SPARQL:
    generation, query, format and graphs)."""
    return _kept()


def etag_for(*parts: object) -> str:
    """A strong validator for a representation: the generation plus what selects it."""
    digest = hashlib.sha256(repr((generation(), *parts)).encode("utf-8"))
    return digest.hexdigest()[:32]


def cached(build: Callable[[], Response], *parts: object, keep: bool = False) -> Response:
    """Answer 304 when the client's copy is current; otherwise ``build()`` the response.

    ``parts`` name the representation (path, query arguments, negotiated type), so two
    representations of one resource never share an ETag. ``keep``: the body is kept in
    the process (``KeptBodies``) and served again to anyone asking for the same representation
    of the same generation, for answers costly to build (exports).
    """
    etag = etag_for(request.path, sorted(request.args.items(multi=True)), *parts)
    if etag in request.if_none_match:
        response = Response(status=304)
    elif keep:
        response = _kept().get(etag, build)
    else:
        response = build()
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response
