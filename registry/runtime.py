"""What a request works with: the settings, the snapshot it answers from, the pool that
runs public SPARQL queries, the rate limiter, the current moment.

Blueprints import these accessors, never the application factory (``registry.app``).
Each shared resource lives in ``app.extensions`` and is made on first use; the
snapshot is taken once per request (``flask.g``), so everything a request reads comes
from one generation.
"""

from __future__ import annotations

import atexit
import threading
from datetime import UTC, datetime

from flask import current_app, g, request

from core.config import Settings
from core.datafolder import DataFolder
from core.iris import Iris
from core.store import Store, StoreError, open_store
from core.store.remote import RemoteStore
from registry.clients import client_address
from registry.directory import Directory, load_directory
from registry.query_workers import QueryPool
from registry.rate_limit import InFlight, TokenBuckets
from registry.remote_queries import RemoteQueries
from registry.snapshot import Snapshot, SnapshotHolder

_LOCK = threading.Lock()
SETTINGS = "LTC_SETTINGS"


def app_settings() -> Settings:
    """The settings of the running application."""
    return current_app.config[SETTINGS]


def snapshots() -> SnapshotHolder[Directory]:
    """The application's snapshot holder (made on first use)."""
    extensions = current_app.extensions
    with _LOCK:
        holder = extensions.get("ltc_snapshots")
        if holder is None:
            current = app_settings()
            iris = Iris(current.base_iri)
            holder = SnapshotHolder(
                lambda: open_store(current, writer=False),
                build=lambda store: load_directory(store, iris, DataFolder(current.data_dir)),
            )
            extensions["ltc_snapshots"] = holder
    return holder


def snapshot() -> Snapshot[Directory]:
    """The snapshot this request answers from: the same for the whole request
    (StoreError while nothing is published)."""
    taken = g.get("ltc_snapshot")
    if taken is None:
        taken = g.ltc_snapshot = snapshots().current()
    return taken


def generation() -> str:
    """The generation this request answers from."""
    return snapshot().generation


def read_store() -> Store:
    """The store handle of this request's snapshot."""
    return snapshot().store


def directory() -> Directory:
    """The in-memory directory of this request's snapshot (places, names, sources)."""
    return snapshot().directory


def now() -> datetime:
    """The current moment, aware (what "ouvert maintenant" refers to)."""
    return datetime.now(UTC)


def query_pool() -> QueryPool | RemoteQueries:
    """What runs public queries: the process's pool of killable query workers (embedded
    store), or the remote store's endpoint; made on first use, closed at exit."""
    extensions = current_app.extensions
    with _LOCK:
        pool = extensions.get("ltc_pool")
        if pool is None and app_settings().store_backend == "sparql":
            store = open_store(app_settings(), writer=False)
            if not isinstance(store, RemoteStore):
                raise StoreError("store_backend sparql did not open a remote store")
            pool = extensions["ltc_pool"] = RemoteQueries(app_settings(), store)
        if pool is None:
            current = app_settings()
            pool = QueryPool(
                current,
                workers=current.sparql_workers,
                timeout=current.sparql_timeout,
                max_rows=current.sparql_max_rows,
            )
            extensions["ltc_pool"] = pool
            atexit.register(pool.close)
        return pool


# each kind of request has its own per-address allowance (setting: requests a minute)
RATE_LIMITS = {
    "sparql": "sparql_rate_limit",
    "validator": "validator_rate_limit",
    "export": "export_rate_limit",
    "search": "search_rate_limit",
    "changes": "changes_rate_limit",
}


# minutes' worth of allowance a client may spend at once: a federated SPARQL join sends a
# hundred or more small sub-queries within two seconds, then nothing
BURSTS = {"sparql": 5.0}


def rate_limiter(kind: str) -> TokenBuckets:
    """The per-address token buckets of one kind of request (``RATE_LIMITS``)."""
    extensions = current_app.extensions
    with _LOCK:
        limiters = extensions.setdefault("ltc_rate_limits", {})
        limiter = limiters.get(kind)
        if limiter is None:
            per_minute = getattr(app_settings(), RATE_LIMITS[kind])
            limiter = limiters[kind] = TokenBuckets(per_minute, burst=BURSTS.get(kind, 1.0))
        return limiter


def sparql_slots() -> InFlight:
    """SPARQL requests in progress in this process: as many as the query workers plus
    ``sparql_queue`` waiting, ``sparql_per_client`` per client."""
    extensions = current_app.extensions
    with _LOCK:
        slots = extensions.get("ltc_sparql_slots")
        if slots is None:
            current = app_settings()
            slots = extensions["ltc_sparql_slots"] = InFlight(
                current.sparql_workers + current.sparql_queue, current.sparql_per_client
            )
        return slots


def client() -> str:
    """The address of this request's client (``X-Forwarded-For`` from a trusted proxy)."""
    return client_address(request.environ, app_settings().trusted_proxies)
