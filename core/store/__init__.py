"""The registry's RDF store: one interface, an embedded and a remote backend.

``open_store(settings, writer=True)`` is for the harvester, the only writer;
everything else opens readers. See ``base.Store`` for the operations and each backend
for how readers are kept from seeing half-written data.
"""

from __future__ import annotations

from core.config import Settings
from core.store.base import (
    GENERATION_GRAPH,
    RESERVED_GRAPHS,
    Store,
    StoreError,
    StoreFailed,
    Term,
    row_text,
)

BACKENDS = ("embedded", "sparql")

__all__ = [
    "BACKENDS",
    "GENERATION_GRAPH",
    "RESERVED_GRAPHS",
    "Store",
    "StoreError",
    "StoreFailed",
    "Term",
    "open_store",
    "row_text",
]


def open_store(settings: Settings, *, writer: bool) -> Store:
    """Open the configured backend; ``writer=True`` only in the harvester."""
    if settings.store_backend == "embedded":
        from core.store.embedded import EmbeddedStore

        return EmbeddedStore(settings, writer=writer)
    if settings.store_backend == "sparql":
        from core.store.remote import RemoteStore

        return RemoteStore(settings, writer=writer)
    raise StoreError(
        f"unknown store_backend {settings.store_backend!r}: use one of "
        f"{', '.join(BACKENDS)} (setting store_backend, variable LTC_STORE_BACKEND)"
    )
