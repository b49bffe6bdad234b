"""``POST /sources/<id>/ping``: a network asks for its source to be harvested now.

The secret (``ltc sources token SOURCE``) comes in ``Authorization: Bearer …``; missing,
401; wrong, 403; either way nothing is recorded and the log names the source and the
client's network, never the secret. A secret in the address (``?token=…``) is refused
before anything else, and the access log never writes this route's query string
(``registry.access_log``). An accepted ping is recorded in the data folder
(``core.ping``), where the harvesting process takes it within ``ping_poll_seconds``:
202 with the request's place in the queue.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, jsonify, request

from core.catalog import CatalogError, disabled_sources, load_catalog
from core.ping import SOURCE_ID, check_token, record_ping
from registry.access_log import anonymised_address
from registry.runtime import app_settings, client

blueprint = Blueprint("ping", __name__)
log = logging.getLogger("ltc.ping")


def _answer(status: int, message: str, **fields: object) -> Response:
    response = jsonify(message=message, **fields)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.post("/sources/<source_id>/ping")
def ping(source_id: str) -> Response:
    """Record a harvest request for the source, if the secret is one of its own."""
    settings = app_settings()
    who = anonymised_address(client())
    if request.query_string:
        log.warning("ping source=%s client=%s refused: parameters in the address", source_id, who)
        return _answer(
            400,
            "Le secret ne doit jamais figurer dans l'adresse (elle finit dans les journaux) : "
            "envoyez-le dans l'en-tête « Authorization: Bearer … », et révoquez celui-ci "
            "(ltc sources token SOURCE --revoke ID) s'il y a été écrit.",
        )
    if not SOURCE_ID.match(source_id):
        return _answer(404, "Source inconnue.")
    try:
        known = {source.id for source in load_catalog(settings)}
    except CatalogError:
        known = set()
    if source_id not in known:
        return _answer(404, "Source inconnue : vérifiez son identifiant dans le catalogue.")
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        log.warning("ping source=%s client=%s refused: no secret", source_id, who)
        response = _answer(
            401,
            "Secret manquant : envoyez « Authorization: Bearer <secret> » (le secret que "
            "l'opérateur du registre vous a remis pour cette source).",
        )
        response.headers["WWW-Authenticate"] = 'Bearer realm="ltc"'
        return response
    if not check_token(settings.data_dir, source_id, token.strip()):
        log.warning("ping source=%s client=%s refused: wrong secret", source_id, who)
        return _answer(403, "Secret refusé pour cette source (révoqué, ou d'une autre source).")
    if source_id in disabled_sources(settings.data_dir):
        return _answer(409, "Cette source est désactivée : elle n'est plus moissonnée.")
    result = record_ping(settings.data_dir, source_id, settings.ping_rate_limit)
    if not result.accepted:
        log.info("ping source=%s client=%s refused: rate limit", source_id, who)
        response = _answer(
            429,
            f"Trop de signalements pour cette source (au plus {settings.ping_rate_limit} "
            "par heure) : la moisson demandée viendra ; réessayez plus tard.",
            retry_after=result.retry_after,
        )
        response.headers["Retry-After"] = str(result.retry_after)
        return response
    log.info(
        "ping source=%s client=%s accepted coalesced=%s position=%d",
        source_id,
        who,
        result.coalesced,
        result.position,
    )
    if result.running:
        message = "Moisson en cours : une nouvelle moisson de la source suivra."
    elif result.coalesced:
        message = "Une moisson de la source était déjà demandée : ce signalement s'y joint."
    else:
        message = "Moisson de la source demandée : elle commence dans quelques secondes."
    return _answer(
        202,
        message,
        queued=True,
        source=source_id,
        position=result.position,
        coalesced=result.coalesced,
        running=result.running,
    )
