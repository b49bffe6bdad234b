"""``/publier``: how a network publishes its places, starting with « J'ai un tableur ».

The standard spreadsheet's templates (CSV, XLSX, ODS) and its Table Schema are offered
for download (served by ``registry.validator``, the registry's one door to the harvester,
at ``/publier/<file>``), each column is described from that schema, and the four steps
follow: download, fill in, check on ``/valider``, send the link to the collective. The
page needs no store: it is validated by a digest of its content.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from registry.caching import MAX_AGE
from registry.validator import TEMPLATE_FILES, template_schema

blueprint = Blueprint("publish_page", __name__)

FILE_LABELS = {
    "modele-lieux.xlsx": "Modèle Excel (XLSX)",
    "modele-lieux.ods": "Modèle LibreOffice (ODS)",
    "modele-lieux.csv": "Modèle CSV (UTF-8, séparateur ;)",
    "schema.json": "Schéma (Table Schema, JSON)",
}


@blueprint.route("/publier", methods=["GET"])
def publish() -> Response:
    """The publishing guide, spreadsheet first."""
    schema = template_schema()
    body = render_template(
        "publier.html",
        files=[(name, FILE_LABELS.get(name, name)) for name in TEMPLATE_FILES],
        schema=schema,
        base=request.host_url,
    )
    response = Response(body, mimetype="text/html")
    response.add_etag()
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response.make_conditional(request)
