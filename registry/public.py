"""The public lookup pages, in French: the search (``/``), the place page (``/lieu``), the
embeddable widget (``/widget``) and the suggestions behind the search field
(``/suggestions``).

Every page is complete without JavaScript (a GET form, a paginated list); ``public.js``
adds suggestions as you type, "Autour de moi" and the map. Communes and postcodes are
resolved by the offline gazetteer: no request leaves the server.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from gazetteer.lookup import Commune, default_gazetteer
from registry.api import THEME_BASE, checked_iri
from registry.assets import vendor_url
from registry.caching import cached
from registry.directory import Directory
from registry.places import Results, Search, SearchError, place_detail, search
from registry.runtime import app_settings, directory, now, read_store
from registry.security import allow_framing
from registry.vocabularies import in_scheme, label

blueprint = Blueprint("public", __name__)

RADII = (1, 2, 5, 10, 20, 30, 50)
DEFAULT_RADIUS = 10.0
MIN_RADIUS, MAX_RADIUS = 1.0, 50.0
PER_PAGE = 20
MAX_QUERY = 200
LINK_SCHEMES = ("http://", "https://", "mailto:", "tel:")
NAME_KINDS = {"place": "lieu", "organisation": "organisation", "network": "réseau"}
_THEME_ID = re.compile(r"^[a-z0-9-]{1,60}$")


# -- what the visitor asked -----------------------------------------------------------------


@dataclass
class Form:
    """The search form as the visitor filled it (strings kept as typed, to show them back)."""

    q: str = ""
    lat: str = ""
    lon: str = ""
    radius: float = DEFAULT_RADIUS
    themes: tuple[str, ...] = ()  # short identifiers: "energie"
    networks: tuple[str, ...] = ()  # IRIs
    open_now: bool = False
    names_only: bool = False  # "nom=1": the text is a name, even if a commune has it
    page: int = 1
    commune: str = ""  # the widget's preset commune
    problems: list[str] = field(default_factory=list)

    @property
    def has_point(self) -> bool:
        return bool(self.lat.strip() and self.lon.strip())

    @property
    def is_empty(self) -> bool:
        return not (self.q or self.has_point or self.themes or self.networks or self.open_now)


def read_form(args: MultiDict[str, str]) -> Form:
    """The form from a query string; wrong values are reported, never a crash."""
    form = Form(
        q=args.get("q", "").strip()[:MAX_QUERY],
        lat=args.get("lat", "").strip()[:40],
        lon=args.get("lon", "").strip()[:40],
        open_now=args.get("open_now", "") in ("1", "on", "oui", "true"),
        names_only=args.get("nom", "") == "1",
        commune=args.get("commune", "").strip()[:MAX_QUERY],
    )
    if not form.q and form.commune and not form.has_point:
        form.q = form.commune
    form.radius = _radius(args.get("radius", "").strip(), form.problems)
    themes = {t.strip() for raw in args.getlist("theme") for t in raw.split(",") if t.strip()}
    known_themes = {c.iri.removeprefix(THEME_BASE) for c in in_scheme("theme")}
    form.themes = tuple(sorted(t for t in themes if _THEME_ID.match(t) and t in known_themes))
    if len(form.themes) < len(themes):
        form.problems.append("Un thème demandé n’existe pas : il est ignoré.")
    networks = {n.strip() for n in args.getlist("network") if n.strip()}
    form.networks = tuple(sorted(n for n in networks if n.startswith(("http://", "https://"))))
    page = args.get("page", "1").strip()
    form.page = int(page) if page.isdigit() and 0 < len(page) <= 5 and int(page) > 0 else 1
    return form


def _radius(raw: str, problems: list[str]) -> float:
    if not raw:
        return DEFAULT_RADIUS
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and MIN_RADIUS <= value <= MAX_RADIUS):
        problems.append(
            f"Le rayon doit être compris entre {MIN_RADIUS:g} et {MAX_RADIUS:g} km : "
            f"la recherche utilise {DEFAULT_RADIUS:g} km."
        )
        return DEFAULT_RADIUS
    return value


# -- what the registry answers --------------------------------------------------------------


@dataclass
class Centre:
    """The point a search is around, and what the page says of it."""

    label: str
    lat: float
    lon: float
    exact: bool
    kind: str  # "commune" or "position"


@dataclass
class Lookup:
    """Everything a search page shows."""

    form: Form
    centre: Centre | None = None
    text: str = ""  # the name searched for, when the text is not a commune
    choices: list[Commune] = field(default_factory=list)  # homonyms: "which one?"
    did_you_mean: list[Commune] = field(default_factory=list)
    unknown: bool = False
    other_names: int = 0  # places also named like the commune typed
    results: Results | None = None
    theme_counts: list[tuple[str, str, int]] = field(default_factory=list)  # id, label, n

    @property
    def api_args(self) -> list[tuple[str, str]]:
        """The same search for the JSON API (``/api/places.geojson`` feeds the map)."""
        args: list[tuple[str, str]] = []
        if self.centre is not None:
            args += [("lat", f"{self.centre.lat:.6f}"), ("lon", f"{self.centre.lon:.6f}")]
            args.append(("radius", f"{self.form.radius:g}"))
        if self.text:
            args.append(("q", self.text))
        args += [("theme", t) for t in self.form.themes]
        args += [("network", n) for n in self.form.networks]
        if self.form.open_now:
            args.append(("open_now", "1"))
        return args


def lookup(form: Form, found: Directory, moment: datetime) -> Lookup:
    """Resolve the form (commune, postcode, coordinates or name) and run the search."""
    answer = Lookup(form)
    if form.q and not form.names_only:
        resolution = default_gazetteer().resolve(form.q)
        if resolution.status == "found" and resolution.lat is not None:
            answer.centre = Centre(
                resolution.label,
                resolution.lat,
                resolution.lon,  # type: ignore[arg-type]
                resolution.exact,
                "commune",
            )
            answer.other_names = len(found.names.search(form.q, limit=1000))
        else:
            answer.text = form.q
            if resolution.status == "ambiguous":
                answer.choices = resolution.matches[:30]
            elif not found.names.search(form.q, limit=1):
                answer.unknown = True
                answer.did_you_mean = resolution.suggestions
    elif form.q:
        answer.text = form.q
    if answer.centre is None and form.has_point:
        point = _point(form)
        if point is None:
            return answer
        answer.centre = Centre("votre position", point[0], point[1], True, "position")
    if answer.unknown or (answer.choices and not found.names.search(form.q, limit=1)):
        return answer  # nothing to list: the page offers choices instead
    if answer.centre is None and form.is_empty:
        return answer  # the bare form
    try:
        query = Search(
            lat=answer.centre.lat if answer.centre else None,
            lon=answer.centre.lon if answer.centre else None,
            radius_km=form.radius,
            themes=tuple(THEME_BASE + t for t in form.themes),
            networks=form.networks,
            open_now=form.open_now,
            text=answer.text,
            page=form.page,
            per_page=PER_PAGE,
        )
    except SearchError as error:  # the form's checks should have caught it: say it anyway
        form.problems.append(error.message_fr[:1].upper() + error.message_fr[1:] + ".")
        return answer
    answer.results = search(found, query, moment)
    answer.theme_counts = _theme_counts(answer.results)
    return answer


def _point(form: Form) -> tuple[float, float] | None:
    try:
        lat, lon = float(form.lat.replace(",", ".")), float(form.lon.replace(",", "."))
    except ValueError:
        lat = lon = math.nan
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        form.problems.append(
            "Coordonnées incorrectes : latitude entre -90 et 90, longitude entre -180 et 180, "
            "en degrés décimaux (47.39 et 0.69 par exemple)."
        )
        return None
    return lat, lon


def _theme_counts(results: Results) -> list[tuple[str, str, int]]:
    counts: dict[str, int] = {}
    for card, _ in results.all_cards:
        for theme in card.themes:
            counts[theme] = counts.get(theme, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], label(item[0]).casefold()))
    return [(iri.removeprefix(THEME_BASE), label(iri), n) for iri, n in ordered]


# -- template helpers -----------------------------------------------------------------------


def link_target(url: str | None) -> str | None:
    """A harvested address that may become a link: http, https, mailto and tel only."""
    url = (url or "").strip()
    if not url.lower().startswith(LINK_SCHEMES) or any(c in url for c in "\r\n\t\x00"):
        return None
    return url


def telephone_link(number: str) -> str | None:
    """``tel:`` link of a phone number written with digits, spaces, dots or dashes."""
    digits = re.sub(r"[\s.\-()]", "", number or "")
    return "tel:" + digits if re.fullmatch(r"\+?\d{3,20}", digits) else None


def email_link(address: str) -> str | None:
    """``mailto:`` link of a plain e-mail address."""
    address = (address or "").strip().removeprefix("mailto:")
    return "mailto:" + address if re.fullmatch(r"[^\s@<>\"']+@[^\s@<>\"']+", address) else None


def kilometres(value: float | None) -> str:
    """French distance: "350 m", "1,2 km", "12 km"."""
    if value is None:
        return ""
    metres = round(value * 1000, -1)
    if metres < 1000:
        return f"{metres:.0f} m"
    text = f"{value:.1f}" if value < 9.95 else f"{value:.0f}"
    return text.replace(".", ",") + " km"


def harvest_date(moment: str) -> str:
    """ "2026-11-29T04:00:00+00:00" → "29/11/2026 à 04 h 00 (UTC)"; unparsable text as is."""
    try:
        parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError:
        return moment
    zone = "UTC" if parsed.utcoffset() is not None and not parsed.utcoffset() else ""
    return parsed.strftime("%d/%m/%Y à %H h %M") + (f" ({zone})" if zone else "")


def _self_url(endpoint: str, args: MultiDict[str, str], **changes: Any) -> str:
    """This page's URL with some parameters changed (``None`` removes one)."""
    params = args.to_dict(flat=False)
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value if isinstance(value, list) else [str(value)]
    query = urlencode(sorted(params.items()), doseq=True)
    return url_for(endpoint) + ("?" + query if query else "")


@blueprint.app_template_filter("link_target")
def _link_target_filter(url: str | None) -> str | None:
    return link_target(url)


def _page_context(endpoint: str, answer: Lookup, found: Directory) -> dict[str, Any]:
    args = request.args

    def page_url(page: int) -> str:
        return _self_url(endpoint, args, page=page)

    def with_theme(theme: str) -> str:
        return _self_url(endpoint, args, theme=[theme], page=None)

    def commune_url(commune: Commune) -> str:
        return _self_url(endpoint, args, q=commune.label, page=None, nom=None, lat=None, lon=None)

    def names_url() -> str:
        return _self_url(endpoint, args, nom="1", page=None)

    settings = app_settings()
    radii = sorted({*RADII, answer.form.radius})
    return {
        "answer": answer,
        "form": answer.form,
        "endpoint": endpoint,
        "themes": [(c.iri.removeprefix(THEME_BASE), c.label) for c in in_scheme("theme")],
        "networks": sorted(found.networks.values(), key=lambda n: n.name.casefold()),
        "network_name": found.network_name,
        "theme_label": label,
        "radii": radii,
        "page_url": page_url,
        "with_theme": with_theme,
        "commune_url": commune_url,
        "names_url": names_url,
        "kilometres": kilometres,
        "geojson_url": url_for("api.places_geojson") + "?" + urlencode(answer.api_args),
        "tile_url": settings.tile_url,
        "tile_attribution": settings.tile_attribution,
        "leaflet": {
            "js": vendor_url("leaflet", "leaflet.js"),
            "css": vendor_url("leaflet", "leaflet.css"),
            "cluster_js": vendor_url("leaflet.markercluster", "leaflet.markercluster.js"),
            "cluster_css": vendor_url("leaflet.markercluster", "MarkerCluster.css"),
            "cluster_theme": vendor_url("leaflet.markercluster", "MarkerCluster.Default.css"),
        },
    }


def _html(template: str, status: int = 200, **context: Any) -> Response:
    return Response(render_template(template, **context), status=status, mimetype="text/html")


def _minute(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def _search_page(endpoint: str, template: str) -> Response:
    form = read_form(request.args)
    found = directory()
    moment = now()

    def build() -> Response:
        answer = lookup(form, found, moment)
        status = 400 if form.problems and answer.results is None else 200
        return _html(template, status, **_page_context(endpoint, answer, found))

    return cached(build, endpoint, _minute(moment))


# -- routes ---------------------------------------------------------------------------------


@blueprint.get("/")
def search_page() -> Response:
    """The search: form, results list, map."""
    return _search_page("public.search_page", "public_search.html")


@blueprint.get("/widget")
def widget() -> Response:
    """The same search, in a minimal page any website may put in an iframe; preset with
    ``commune``, ``radius`` (km) and ``theme`` in its URL."""
    return allow_framing(_search_page("public.widget", "public_widget.html"))


@blueprint.get("/lieu")
def place() -> Response:
    """Everything present at one place, across networks, each fact with its source."""
    try:
        node = checked_iri(request.args.get("iri"))
    except SearchError:
        return _html("public_place.html", 400, detail=None, iri=request.args.get("iri", ""))
    moment = now()

    def build() -> Response:
        detail = place_detail(read_store(), directory(), node.value, moment)
        if detail is None:
            return _html("public_place.html", 404, detail=None, iri=node.value)
        return _html(
            "public_place.html",
            detail=detail,
            iri=node.value,
            telephone_link=telephone_link,
            email_link=email_link,
            harvest_date=harvest_date,
            turtle_url=url_for("linked_data.resource", iri=node.value, format="turtle"),
            jsonld_url=url_for("linked_data.resource", iri=node.value, format="jsonld"),
        )

    return cached(build, _minute(moment))


@blueprint.get("/suggestions")
def suggestions() -> Response:
    """What the search field suggests as you type: communes and postcodes first, then
    names of places, organisations and networks (JSON)."""
    text = request.args.get("q", "").strip()[:MAX_QUERY]
    found = directory()

    def build() -> Response:
        items: list[dict[str, str]] = []
        if len(text) >= 2:
            for commune in default_gazetteer().suggest(text, limit=6):
                items.append({"label": commune.label, "kind": "commune", "value": commune.label})
            seen: set[str] = set()
            for name, kind, place_iri in found.names.search(text, limit=200):
                if name.casefold() in seen or len(seen) >= 6:
                    continue
                seen.add(name.casefold())
                item = {"label": name, "kind": NAME_KINDS.get(kind, kind), "value": name}
                if kind == "place":
                    item["url"] = url_for("public.place", iri=place_iri)
                items.append(item)
        return jsonify(query=text, suggestions=items)

    return cached(build)
