"""Domain errors become HTTP answers here, in one place: plain text, French then English,
never a traceback."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask, Response, current_app
from werkzeug.exceptions import HTTPException

from core.store import StoreError, StoreFailed
from registry.places import SearchError
from registry.query_workers import QueryFailed, QueryInvalid, QueryTimeout
from registry.rate_limit import Busy, RateLimited
from registry.runtime import app_settings
from registry.sparql_guard import QueryRefused


def text_error(status: int, message_fr: str, message_en: str, **headers: Any) -> Response:
    """A plain-text error answer, French then English, not cached."""
    response = Response(f"{message_fr}\n{message_en}\n", status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = str(value)
    return response


def register_errors(app: Flask) -> None:
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
        # the store's fault, not the query's: a waiting client would get the same answer
        current_app.logger.error("query failed: %s", error)
        return text_error(
            502,
            f"le magasin de données du registre n'a pas pu exécuter la requête : "
            f"{_without_addresses(error)}",
            f"the registry's data store could not run the query: {_without_addresses(error)}",
        )

    @app.errorhandler(StoreFailed)
    def store_failed(error: StoreFailed) -> Response:
        current_app.logger.error("store failed: %s", error)
        return text_error(
            502,
            f"le magasin de données du registre a échoué : {_without_addresses(error)}",
            f"the registry's data store failed: {_without_addresses(error)}",
        )

    @app.errorhandler(StoreError)
    def unavailable(error: StoreError) -> Response:
        current_app.logger.warning("store unavailable: %s", error)
        return text_error(
            503,
            "le registre n'a pas encore de données publiées",
            "the registry has no published data yet",
        )

    @app.errorhandler(Busy)
    def busy(error: Busy) -> Response:
        return text_error(
            503,
            f"tous les exécuteurs de requêtes SPARQL sont occupés : réessayez dans "
            f"{error.retry_after} s",
            f"every SPARQL query worker is busy: retry in {error.retry_after} s",
            Retry_After=error.retry_after,
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


def _without_addresses(error: Exception) -> str:
    """An error's message for the public: the store's own words, without the addresses
    of the registry's internal servers (the log keeps them)."""
    return re.sub(r" at https?://\S+", "", str(error))


_FRENCH = {
    400: "requête incorrecte",
    404: "ressource introuvable",
    405: "méthode non permise",
    406: "aucun format disponible ne convient à l'en-tête Accept",
    413: "corps de requête trop gros",
    415: "type de contenu non pris en charge",
    500: "erreur interne du serveur",
}
