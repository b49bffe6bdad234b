"""``/valider``: a volunteer pastes a feed URL or uploads a file and reads the same report
as ``ltc validate``, in French.

A spreadsheet (CSV, XLSX or ODS following the standard template, uploaded, or the URL of
an online spreadsheet's CSV export) gets its report by row and column, and the JSON-LD
it became is offered for download. The template's files (``/publier/…``) are served here
too: they come from the harvester's public checking interface, which only this module
may import (``registry.publish_page`` links to them).

Everything goes through the harvester's public checking interface
(``harvester.checking``), as ``ltc validate`` does: the protected fetcher (a URL reaching
a loopback, private or reserved address is refused unless ``fetch_allow_networks``
allows it; time, size and redirect limits), the parser's limits, normalisation and the
shapes. Uploads may be as large as a feed (``max_feed_bytes``), so this blueprint lifts
the application's small request-body limit for ``POST /valider`` only. Validation is
CPU-heavy: POSTs are rate-limited per address and at most ``MAX_RUNNING`` run at once in
a process.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from werkzeug.exceptions import RequestEntityTooLarge

from harvester.checking import (
    CONVERTED_SHOWN,
    PLACEHOLDER_NAMESPACE,
    TEMPLATE_FILES,
    FeedError,
    check_feed,
    fetch_feed,
    syntax_names,
    template_file,
)
from registry.caching import MAX_AGE
from registry.readable_report import readable_report
from registry.runtime import app_settings

blueprint = Blueprint("validator", __name__)

MAX_RUNNING = 2  # validations at once per web process; more get 503
FORM_OVERHEAD = 64 * 1024  # multipart boundaries and the other fields, beyond the file
_RUNNING = threading.BoundedSemaphore(MAX_RUNNING)
SYNTAX_LABELS = {
    "": "Détection automatique",
    "turtle": "Turtle",
    "trig": "TriG",
    "n-triples": "N-Triples",
    "n-quads": "N-Quads",
    "rdf-xml": "RDF/XML",
    "json-ld": "JSON-LD",
    "csv": "Tableur en CSV",
    "xlsx": "Tableur Excel (XLSX)",
    "ods": "Tableur LibreOffice (ODS)",
}
TABLE_ACCEPT = ".csv,.tsv,.xlsx,.ods"


@blueprint.before_request
def _limits() -> None:
    """An upload may be as large as a feed; the app's limit fits SPARQL queries only."""
    if request.method == "POST":
        request.max_content_length = app_settings().max_feed_bytes + FORM_OVERHEAD


@blueprint.errorhandler(RequestEntityTooLarge)
def _too_large(_error: Exception) -> Response:
    limit = app_settings().max_feed_bytes
    return _page(
        413,
        error=f"Fichier trop gros : le registre accepte des flux de {_size(limit)} au plus "
        f"({limit} octets). Publiez votre flux à une adresse web et collez-la ici, ou "
        "découpez-le.",
    )


def _size(count: int) -> str:
    for unit, factor in (("Gio", 1 << 30), ("Mio", 1 << 20), ("Kio", 1 << 10)):
        if count >= factor:
            return f"{count / factor:.3g} {unit}"
    return f"{count} octets"


def _page(status: int = 200, **context: Any) -> Response:
    settings = app_settings()
    context.setdefault("form", {})
    body = render_template(
        "valider.html",
        syntaxes=SYNTAX_LABELS,
        max_size=_size(settings.max_feed_bytes),
        deadline=settings.fetch_deadline,
        table_accept=TABLE_ACCEPT,
        placeholder_namespace=PLACEHOLDER_NAMESPACE,
        **context,
    )
    response = Response(body, status=status, mimetype="text/html")
    if status != 200 or request.method == "POST":
        response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.route("/valider", methods=["GET"])
def form() -> Response:
    """The form: a URL, or a file, and the syntax (detected by default). It needs no
    store, so it is validated by a digest of its content, not by the generation."""
    response = _page()
    response.add_etag()
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    return response.make_conditional(request)


@blueprint.route("/valider", methods=["POST"])
def validate() -> Response:
    """Validate the URL's feed or the uploaded file; the report, or why it cannot be read."""
    settings = app_settings()
    url = (request.form.get("url") or "").strip()
    upload = request.files.get("fichier")
    syntax = request.form.get("syntaxe") or None
    sheet = (request.form.get("feuille") or "").strip()[:200] or None
    form_values = {"url": url, "syntaxe": syntax or "", "feuille": sheet or ""}
    if syntax is not None and syntax not in syntax_names():
        return _page(400, form=form_values, error="Syntaxe inconnue : choisissez dans la liste.")
    has_file = upload is not None and bool(upload.filename)
    if bool(url) == has_file:
        return _page(
            400,
            form=form_values,
            error="Indiquez soit l'adresse de votre flux, soit un fichier (pas les deux).",
        )
    if not _RUNNING.acquire(blocking=False):
        response = _page(
            503,
            form=form_values,
            error="Le validateur est occupé par d'autres flux : réessayez dans une minute.",
        )
        response.headers["Retry-After"] = "60"
        return response
    try:
        if has_file:
            name = upload.filename or "flux"
            data, content_type = upload.read(settings.max_feed_bytes + 1), upload.mimetype
            if len(data) > settings.max_feed_bytes:
                raise RequestEntityTooLarge()
        else:
            name = url
            data, content_type = fetch_feed(spreadsheet_export_url(url), settings)
        check = check_feed(
            data,
            feed=name,
            settings=settings,
            content_type=content_type,
            syntax=syntax,
            sheet=sheet,
        )
    except FeedError as error:
        return _page(
            422,
            form=form_values,
            error=f"Impossible de lire ce flux : {error.message('fr')}",
            feed=name,
        )
    finally:
        _RUNNING.release()
    if check.table is not None:
        return _page(
            form=form_values,
            feed=name,
            table=check.table,
            converted_url=_data_url(check.converted),
            converted_name=_jsonld_name(name),
        )
    return _page(
        form=form_values,
        feed=name,
        counts=check.counts,
        report=readable_report(check.records, "fr"),
    )


def _data_url(text: str | None) -> str | None:
    """The converted JSON-LD as a ``data:`` link to download, when small enough."""
    if not text or len(text) > CONVERTED_SHOWN:
        return None
    encoded = base64.b64encode(text.encode("utf-8")).decode("ascii")
    return f"data:application/ld+json;charset=utf-8;base64,{encoded}"


def _jsonld_name(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name.rsplit("/", 1)[-1]).strip("-.")
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return f"{stem or 'tableur'}.jsonld"


_GOOGLE_SHEET = re.compile(
    r"^https://docs\.google\.com/spreadsheets/d/([A-Za-z0-9_-]+)/(?:edit|view)[^#]*(?:#gid=(\d+))?"
)
_ETHERCALC = re.compile(r"^(https://(?:www\.)?(?:framacalc\.org|ethercalc\.net)/[^/?#.]+)/?$")


def spreadsheet_export_url(url: str) -> str:
    """The address of an online spreadsheet's CSV export when a volunteer pasted the
    address of its page (Google Sheets, Framacalc/EtherCalc); other URLs as they are."""
    if found := _GOOGLE_SHEET.match(url):
        gid = found.group(2) or (re.search(r"[?&]gid=(\d+)", url) or [None, "0"])[1]
        return (
            f"https://docs.google.com/spreadsheets/d/{found.group(1)}/export?format=csv&gid={gid}"
        )
    if found := _ETHERCALC.match(url):
        return f"{found.group(1)}.csv"
    return url


def template_schema() -> dict[str, Any]:
    """The standard spreadsheet's Table Schema, for the page that describes it."""
    return json.loads(template_file("schema.json")[0])


@blueprint.route("/publier/<name>", methods=["GET"])
def template_download(name: str) -> Response:
    """The standard spreadsheet's files: its Table Schema and ready-to-fill templates."""
    if name not in TEMPLATE_FILES:
        abort(404)
    data, media_type = template_file(name)
    response = Response(data, mimetype=media_type.split(";")[0])
    if ";" in media_type:
        response.headers["Content-Type"] = media_type
    if not name.endswith(".json"):
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.add_etag()
    return response.make_conditional(request)
