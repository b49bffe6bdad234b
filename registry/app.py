"""The registry's web application: ``create_app()`` builds it (Flask application factory).

Shared resources live in ``app.extensions`` and are made on first use: one read-only
store handle (for the generation), one ``QueryPool`` of killable query workers, one
rate limiter. Domain errors become HTTP answers here, in one place (``_register_errors``):
plain text, French then English, never a traceback.
"""

from __future__ import annotations

import atexit
import threading
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, current_app, jsonify
from werkzeug.exceptions import HTTPException

from core.config import Settings, load_settings
from core.iris import Iris
from core.store import Store, StoreError, open_store
from core.store.remote import RemoteStore
from registry.directory import Directory
from registry.places import SearchError
from registry.query_workers import QueryFailed, QueryInvalid, QueryPool, QueryTimeout
from registry.rate_limit import RateLimited, TokenBuckets
from registry.remote_queries import RemoteQueries
from registry.sparql_guard import QueryRefused
from registry.spatial import IndexHolder

_LOCK = threading.Lock()


def create_app(settings: Settings | None = None) -> Flask:
    """Build the application; ``settings`` default to ``load_settings()``."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.config.update(
        LTC_SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.sparql_max_body,
        MAX_FORM_MEMORY_SIZE=settings.sparql_max_body,
        JSON_AS_ASCII=False,
    )
    app.extensions["ltc_rate_limit"] = TokenBuckets(settings.sparql_rate_limit)

    from registry import api, convergences, dataset, linked_data, sources, sparql, validator

    for area in (sparql, api, linked_data, sources, validator, dataset, convergences):
        app.register_blueprint(area.blueprint)
    from registry.assets import blueprint as assets_blueprint
    from registry.public import blueprint as public_blueprint
    from registry.security import security_headers

    app.register_blueprint(public_blueprint)
    app.register_blueprint(assets_blueprint)
    app.after_request(security_headers)
    app.add_url_rule("/health", "health", health)
    _register_errors(app)
    return app


def app_settings() -> Settings:
    """The settings of the running application."""
    return current_app.config["LTC_SETTINGS"]


def read_store() -> Store:
    """The process's read-only store handle, reopened on a newer snapshot."""
    extensions = current_app.extensions
    with _LOCK:
        store = extensions.get("ltc_store")
        if store is None:
            store = open_store(app_settings(), writer=False)  # StoreError: nothing published
            extensions["ltc_store"] = store
        refresh = getattr(store, "refresh", None)
        if refresh is not None:
            refresh()
        return store


def current_generation() -> str:
    """The published generation readers see now (StoreError when none yet)."""
    generation = read_store().generation()
    if not generation:
        raise StoreError("nothing has been published yet: run `ltc harvest` first")
    return generation


def directory() -> Directory:
    """The in-memory directory of the published generation (places, names, sources),
    rebuilt in the background when a harvest publishes a new one."""
    extensions = current_app.extensions
    with _LOCK:
        holder = extensions.get("ltc_directory")
        if holder is None:
            settings = app_settings()
            iris = Iris(settings.base_iri)
            holder = IndexHolder(
                open_store(settings, writer=False),
                build=lambda store: Directory.from_store(store, iris),
            )
            extensions["ltc_directory"] = holder
    return holder.index()


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
            assert isinstance(store, RemoteStore)
            pool = extensions["ltc_pool"] = RemoteQueries(app_settings(), store)
        if pool is None:
            settings = app_settings()
            pool = QueryPool(
                settings,
                workers=settings.sparql_workers,
                timeout=settings.sparql_timeout,
                max_rows=settings.sparql_max_rows,
            )
            extensions["ltc_pool"] = pool
            atexit.register(pool.close)
        return pool


def rate_limiter() -> TokenBuckets:
    return current_app.extensions["ltc_rate_limit"]


def health() -> tuple[Response, int]:
    """200 with the published generation, or 503 while nothing is published."""
    try:
        return jsonify(status="ok", generation=current_generation()), 200
    except StoreError:
        current_app.logger.warning("health: nothing published yet")
        return jsonify(status="unavailable", generation=None), 503


def text_error(status: int, message_fr: str, message_en: str, **headers: Any) -> Response:
    """A plain-text error answer, French then English, not cached."""
    response = Response(f"{message_fr}\n{message_en}\n", status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = str(value)
    return response


def _register_errors(app: Flask) -> None:
    @app.errorhandler(QueryRefused)
    def refused(error: QueryRefused) -> Response:
        return text_error(error.status, error.message_fr, error.message_en)

    @app.errorhandler(SearchError)
    def bad_search(error: SearchError) -> Response:
        return text_error(400, error.message_fr, error.message_en)

    @app.errorhandler(QueryInvalid)
    def invalid(error: QueryInvalid) -> Response:
        return text_error(400, f"requête refusée : {error}", f"query refused: {error}")

    @app.errorhandler(QueryTimeout)
    def timeout(error: QueryTimeout) -> Response:
        seconds = app_settings().sparql_timeout
        return text_error(
            503,
            f"requête arrêtée : elle a dépassé {seconds:g} s (ou tous les exécuteurs "
            "étaient occupés) ; simplifiez-la ou ajoutez LIMIT",
            f"query stopped: it ran longer than {seconds:g} s (or every worker was busy); "
            "simplify it or add a LIMIT",
            Retry_After=int(seconds) + 1,
        )

    @app.errorhandler(QueryFailed)
    def failed(error: QueryFailed) -> Response:
        current_app.logger.error("query failed: %s", error)
        return text_error(
            503,
            "la requête n'a pas pu être exécutée ; réessayez dans un instant",
            "the query could not be run; try again in a moment",
        )

    @app.errorhandler(StoreError)
    def unavailable(error: StoreError) -> Response:
        current_app.logger.warning("store unavailable: %s", error)
        return text_error(
            503,
            "le registre n'a pas encore de données publiées",
            "the registry has no published data yet",
        )

    @app.errorhandler(RateLimited)
    def limited(error: RateLimited) -> Response:
        return text_error(
            429,
            f"trop de requêtes : réessayez dans {error.retry_after} s",
            f"too many requests: retry in {error.retry_after} s",
            Retry_After=error.retry_after,
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        code = error.code or 500
        if code == 413:
            limit = app_settings().sparql_max_body
            return text_error(
                413,
                f"corps de requête trop gros ({limit} octets au plus)",
                f"request body too large (at most {limit} bytes)",
            )
        response = text_error(code, _FRENCH.get(code, error.name), error.name)
        valid_methods = getattr(error, "valid_methods", None)
        if valid_methods:
            response.headers["Allow"] = ", ".join(valid_methods)
        return response

    @app.errorhandler(Exception)
    def internal(error: Exception) -> Response:
        current_app.logger.exception("unexpected error")
        return text_error(500, "erreur interne du serveur", "internal server error")


_FRENCH = {
    400: "requête incorrecte",
    404: "ressource introuvable",
    405: "méthode non permise",
    406: "aucun format disponible ne convient à l'en-tête Accept",
    413: "corps de requête trop gros",
    415: "type de contenu non pris en charge",
    500: "erreur interne du serveur",
}
