"""The public lookup pages, in French: the search (``/``, which opens on the map of
France), the place page (``/lieu``), the embeddable widget (``/widget``), the
suggestions behind the search field (``/suggestions``) and the map's grouped places
(``/carte.json``, ``registry.map_view``).

Every page is complete without JavaScript (a GET form, a paginated list); ``public.js``
adds suggestions as you type, "Autour de moi", the list/map switch on phones and the
maps. Communes and postcodes are resolved by the offline gazetteer: no request leaves
the server. Every search is a GET URL, so a search can be shared as a link.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

import phonenumbers
from flask import Blueprint, Response, jsonify, render_template, request, url_for
from markupsafe import escape
from werkzeug.datastructures import MultiDict

from gazetteer.grammar import de
from gazetteer.lookup import Commune, default_gazetteer
from registry import map_view
from registry.api import THEME_BASE, checked_iri
from registry.assets import icons_url, vendor_url
from registry.caching import cached
from registry.directory import Directory
from registry.hours import FRENCH_DAYS, SCHEMA_DAYS, Slot, french_time
from registry.places import PlaceDetail, Results, Search, SearchError, place_detail, search
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
    near: Commune | None = None  # for a position: the commune nearest to it

    @property
    def of(self) -> str:
        """The centre after « à moins de 10 km … »: « d'Orléans (45000) », « de vous »."""
        return "de vous" if self.kind == "position" else de(self.label)

    @property
    def around(self) -> str:
        """« autour d'Orléans (45000) », « autour de vous »."""
        return "autour " + self.of

    @property
    def near_text(self) -> str:
        """« près de Tours (37000) » for a position, "" when no commune is near."""
        return "près " + de(self.near.label) if self.near is not None else ""


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
            else:
                # a misspelt commune is offered even when some names also match
                answer.did_you_mean = resolution.suggestions
                answer.unknown = not found.names.search(form.q, limit=1)
    elif form.q:
        answer.text = form.q
    if answer.centre is None and form.has_point:
        point = _point(form)
        if point is None:
            return answer
        near = default_gazetteer().nearest(point[0], point[1])
        answer.centre = Centre("votre position", point[0], point[1], True, "position", near)
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
    """``tel:`` link of a phone number: the number read as the spreadsheets' path reads
    it (``+33…``), else its digits as written; None for anything else."""
    parsed = _phone(number)
    if parsed is not None:
        return "tel:" + phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    digits = re.sub(r"[\s.\-()]", "", number or "")
    return "tel:" + digits if re.fullmatch(r"\+?\d{3,20}", digits) else None


def telephone_text(number: str) -> str:
    """A phone number in one French format: "02 47 05 12 34" for a French number,
    "+32 2 123 45 67" for a foreign one; unreadable text as written. Numbers are read as
    the spreadsheets' path reads them (``phonenumbers``, region FR, the first number)."""
    parsed = _phone(number)
    if parsed is None:
        return (number or "").strip()
    formats = phonenumbers.PhoneNumberFormat
    french = phonenumbers.region_code_for_number(parsed) in FRENCH_REGIONS
    return phonenumbers.format_number(parsed, formats.NATIONAL if french else formats.INTERNATIONAL)


# France and the overseas departments and collectivities: numbers dialled as at home
FRENCH_REGIONS = {"FR", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF"}


def _phone(number: str) -> phonenumbers.PhoneNumber | None:
    text = (number or "").strip().removeprefix("tel:")
    if not text or len(text) > 60:
        return None
    found = [m.number for m in phonenumbers.PhoneNumberMatcher(text, "FR")]
    if found:
        return found[0]
    try:
        parsed = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_possible_number(parsed) else None


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


FRENCH_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)  # fmt: skip
PARIS = ZoneInfo("Europe/Paris")


def french_date(day: date) -> str:
    """ "2026-11-01" → "1er novembre 2026"."""
    return f"{'1er' if day.day == 1 else day.day} {FRENCH_MONTHS[day.month - 1]} {day.year}"


def harvest_date(moment: str) -> str:
    """A moment in French, in French local time: "2026-11-29T04:00:00+00:00" → "29
    novembre 2026 à 5 h 00"; a date alone → "29 novembre 2026"; unparsable text as is."""
    text = (moment or "").strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if len(text) <= 10:
        return french_date(parsed.date())
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(PARIS)
    return f"{french_date(parsed.date())} à {french_time(parsed.time())}"


def event_date(moment: str) -> str:
    """An event's start or end as written by its network, in French ("12 décembre 2026
    à 18 h 30"; a date alone, "12 décembre 2026"), in the place's local time as given."""
    text = (moment or "").strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if len(text) <= 10:
        return french_date(parsed.date())
    return f"{french_date(parsed.date())} à {french_time(parsed.time())}"


def convergence_status(status: str) -> str:
    """A status label in words: "candidat" → "Lieu de Convergence candidat"."""
    return f"Lieu de Convergence {status}".strip()


def hours_by_day(slots: list[Slot]) -> list[tuple[str, str]]:
    """Slots grouped by weekday, in words: [("mardi", "14 h 00 – 17 h 00"), …]."""
    days: dict[int, list[str]] = {}
    for slot in sorted(slots, key=lambda s: (s.day, s.opens)):
        text = f"{french_time(slot.opens)} – {french_time(slot.closes)}"
        if slot.valid_from or slot.valid_through:
            period = " ".join(
                part
                for part in (
                    f"du {french_date(slot.valid_from)}" if slot.valid_from else "",
                    f"au {french_date(slot.valid_through)}" if slot.valid_through else "",
                )
                if part
            )
            text += f" ({period})"
        if text not in days.setdefault(slot.day, []):
            days[slot.day].append(text)
    return [(FRENCH_DAYS[day], ", ".join(texts)) for day, texts in sorted(days.items())]


def closing_time(slots: list[Slot], moment: datetime, timezone: str) -> str | None:
    """When a place open at ``moment`` closes ("17 h 00"), from the slot it is in."""
    local = moment.astimezone(ZoneInfo(timezone))
    today, now_time = local.date(), local.time().replace(tzinfo=None)
    yesterday = date.fromordinal(today.toordinal() - 1)
    found = []
    for slot in slots:
        if slot.day == today.weekday() and slot.valid_on(today):
            if slot.opens <= now_time < slot.closes or (slot.overnight and now_time >= slot.opens):
                found.append(slot.closes)
        elif (
            slot.overnight
            and slot.day == yesterday.weekday()
            and slot.valid_on(yesterday)
            and now_time < slot.closes
        ):
            found.append(slot.closes)
    return french_time(max(found)) if found else None


def opening_words(detail: PlaceDetail, moment: datetime) -> str:
    """The place's opening now, in words: « Ouvert en ce moment, jusqu'à 17 h 00 »,
    « Fermé en ce moment · ouvre demain à 9 h 00 », « Horaires non publiés »."""
    if detail.open_now is None:
        return "Horaires non publiés"
    if detail.open_now:
        slots = detail.hours + [slot for org in detail.organisations for slot in org.hours]
        until = closing_time(slots, moment, detail.timezone)
        return "Ouvert en ce moment" + (f", jusqu'à {until}" if until else "")
    return "Fermé en ce moment" + (f" · ouvre {detail.next_opening}" if detail.next_opening else "")


PROVENANCE = (
    ("nom", "Nom"),
    ("nomAlternatif", "Autre nom"),
    ("typeLieu", "Type de lieu"),
    ("themes", "Thèmes"),
    ("rue", "Rue"),
    ("codePostal", "Code postal"),
    ("commune", "Commune"),
    ("codeInsee", "Code INSEE"),
    ("telephone", "Téléphone"),
    ("dateModification", "Mise à jour"),
)


def provenance(detail: PlaceDetail) -> list[tuple[str, list[tuple[str, Any]]]]:
    """Each fact of the place once, with the sources saying it: [("Thèmes",
    [("Énergie, Alimentation", source)]), …] — the values one source gives joined."""
    rows = []
    for key, title in PROVENANCE:
        by_source: dict[str, tuple[list[str], Any]] = {}
        for fact in detail.facts.get(key, []):
            value = fact.value
            if key == "telephone":
                value = telephone_text(value)
            elif key == "dateModification":
                value = harvest_date(value)
            source_key = fact.source.id if fact.source else ""
            values, _ = by_source.setdefault(source_key, ([], fact.source))
            if value not in values:
                values.append(value)
        if by_source:
            rows.append((title, [(", ".join(v), source) for v, source in by_source.values()]))
    return rows


def directions_url(lat: float, lon: float) -> str:
    """An itinerary to a point, on OpenStreetMap (the visitor's start left to choose)."""
    return "https://www.openstreetmap.org/directions?route=" + quote(f";{lat:.6f},{lon:.6f}")


def osm_url(lat: float, lon: float) -> str:
    return (
        f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=17/{lat:.6f}/{lon:.6f}"
    )


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


@blueprint.app_context_processor
def _icons() -> dict[str, Any]:
    """What every page's icons need: the sprite's URL and the themes' looks."""
    return {"icons_url": icons_url(), "theme_style": map_view.style}


def theme_styles() -> dict[str, dict[str, str]]:
    """Theme short name → label, colour and icon, for the maps' scripts (``data-themes``)."""
    labels = {c.iri.removeprefix(THEME_BASE): c.label for c in in_scheme("theme")}
    every = {**map_view.THEME_STYLES, map_view.OTHER: map_view.OTHER_STYLE}
    return {
        theme: {"label": labels.get(theme, "Autre"), "colour": look.colour, "icon": look.icon}
        for theme, look in every.items()
    }


def _leaflet() -> dict[str, str | None]:
    return {
        "js": vendor_url("leaflet", "leaflet.js"),
        "css": vendor_url("leaflet", "leaflet.css"),
        "cluster_js": vendor_url("leaflet.markercluster", "leaflet.markercluster.js"),
        "cluster_css": vendor_url("leaflet.markercluster", "MarkerCluster.css"),
    }


def _page_context(endpoint: str, answer: Lookup, found: Directory) -> dict[str, Any]:
    args = request.args
    form = answer.form

    def page_url(page: int) -> str:
        return _self_url(endpoint, args, page=page)

    def with_theme(theme: str) -> str:
        return _self_url(endpoint, args, theme=[theme], page=None)

    def commune_url(commune: Commune) -> str:
        return _self_url(endpoint, args, q=commune.label, page=None, nom=None, lat=None, lon=None)

    def names_url() -> str:
        return _self_url(endpoint, args, nom="1", page=None)

    # the filters in force, each with the URL of the same search without it
    chips: list[tuple[str, str, str]] = []  # (label, URL without it, theme or "")
    theme_labels = {c.iri.removeprefix(THEME_BASE): c.label for c in in_scheme("theme")}
    for theme in form.themes:
        rest = [t for t in form.themes if t != theme]
        chips.append((theme_labels[theme], _self_url(endpoint, args, theme=rest, page=None), theme))
    for network in form.networks:
        rest = [n for n in form.networks if n != network]
        chips.append(
            (found.network_name(network), _self_url(endpoint, args, network=rest, page=None), "")
        )
    if form.open_now:
        chips.append(("Ouvert maintenant", _self_url(endpoint, args, open_now=None, page=None), ""))

    settings = app_settings()
    radii = sorted({*RADII, form.radius})
    results = answer.results
    convergences = (
        {hit.card.iri for hit in results.hits if map_view.is_convergence(found, hit.card.iri)}
        if results is not None
        else set()
    )
    return {
        "answer": answer,
        "form": form,
        "endpoint": endpoint,
        "home": endpoint == "public.search_page" and _is_home(answer),
        "themes": [(c.iri.removeprefix(THEME_BASE), c.label) for c in in_scheme("theme")],
        "networks": sorted(found.networks.values(), key=lambda n: n.name.casefold()),
        "network_name": found.network_name,
        "theme_label": label,
        "theme_id": map_view.theme_id,
        "first_theme": map_view.first_theme,
        "theme_styles": theme_styles(),
        "convergences": convergences,
        "chips": chips,
        "radii": radii,
        "page_url": page_url,
        "with_theme": with_theme,
        "commune_url": commune_url,
        "names_url": names_url,
        "kilometres": kilometres,
        "geojson_url": url_for("api.places_geojson") + "?" + urlencode(answer.api_args),
        "map_data_url": url_for("public.map_data"),
        "share_url": request.host_url.rstrip("/") + _self_url(endpoint, args, page=None),
        "page_description": _search_description(answer),
        "tile_url": settings.tile_url,
        "tile_attribution": settings.tile_attribution,
        "leaflet": _leaflet(),
    }


def _is_home(answer: Lookup) -> bool:
    """The bare search page: the map of France and the search, nothing asked yet."""
    return (
        answer.results is None
        and not answer.choices
        and not answer.unknown
        and not answer.form.problems
        and answer.form.is_empty
    )


def _search_description(answer: Lookup) -> str:
    """The sentence a shared link shows (Open Graph) for a search."""
    results = answer.results
    if results is None:
        return ""
    total = results.total
    text = f"{total} lieu{'x' if total > 1 else ''} de la transition"
    if answer.centre is not None and answer.centre.kind == "commune":
        text += f" à moins de {answer.form.radius:g} km {answer.centre.of}"
    if answer.text:
        text += f" pour « {answer.text} »"
    names = [hit.card.name for hit in results.hits[:3]]
    if names:
        text += " : " + ", ".join(names) + ("…" if total > 3 else "")
    return text + ". Adresses, horaires et contacts."


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
        found = directory()
        detail = place_detail(read_store(), found, node.value, moment)
        if detail is None:
            return _html("public_place.html", 404, detail=None, iri=node.value)
        page = request.host_url.rstrip("/") + url_for("public.place", iri=node.value)
        card = found.cards.get(node.value)
        themes = card.themes if card is not None else ()
        return _html(
            "public_place.html",
            detail=detail,
            iri=node.value,
            page_url=page,
            meta_description=place_summary(detail),
            structured_data=place_structured_data(detail, page),
            telephone_link=telephone_link,
            telephone_text=telephone_text,
            email_link=email_link,
            harvest_date=harvest_date,
            event_date=event_date,
            convergence_status=convergence_status,
            is_convergence=map_view.is_convergence(found, node.value),
            hours_by_day=hours_by_day,
            opening=opening_words(detail, moment),
            provenance=provenance(detail),
            today=FRENCH_DAYS[moment.astimezone(ZoneInfo(detail.timezone)).weekday()],
            place_themes=[(map_view.theme_id(t), label(t)) for t in themes],
            colour_theme=map_view.first_theme(themes),
            directions=_directions(detail),
            osm_url=osm_url,
            theme_styles=theme_styles(),
            leaflet=_leaflet(),
            tile_url=app_settings().tile_url,
            tile_attribution=app_settings().tile_attribution,
            turtle_url=url_for("linked_data.resource", iri=node.value, format="turtle"),
            jsonld_url=url_for("linked_data.resource", iri=node.value, format="jsonld"),
            api_url=url_for("api.place", iri=node.value),
        )

    return cached(build, _minute(moment))


def _directions(detail: PlaceDetail) -> str | None:
    """The « Itinéraire » link: to the place's point, or to its address when the point is
    only its commune's."""
    if detail.lat is not None and detail.lon is not None and not detail.approximate:
        return directions_url(detail.lat, detail.lon)
    address = ", ".join(
        part
        for part in (
            " ".join(detail.values("rue")[:1]),
            " ".join([*detail.values("codePostal")[:1], *detail.values("commune")[:1]]),
        )
        if part
    )
    if not address:
        return None
    return "https://www.openstreetmap.org/directions?" + urlencode({"to": address})


@blueprint.get("/carte.json")
def map_data() -> Response:
    """The places of the map in a box at a zoom, grouped on the server
    (``registry.map_view``): what the home page's map of France draws. ``zoom`` (0–19)
    and ``bbox=south,west,north,east``; compact JSON rows."""
    raw_zoom = request.args.get("zoom", "6").strip()
    zoom = int(raw_zoom) if raw_zoom.isdigit() and len(raw_zoom) <= 2 else 6
    box = map_view.FRANCE
    parts = request.args.get("bbox", "").split(",")
    if len(parts) == 4:
        try:
            south, west, north, east = (float(p) for p in parts)
        except ValueError:
            south = west = north = east = math.nan
        if (
            all(math.isfinite(v) for v in (south, west, north, east))
            and -90 <= south <= north <= 90
            and -180 <= west <= 180
            and -180 <= east <= 180
        ):
            box = (south, west, north, east)
    found = directory()

    def build() -> Response:
        data = map_view.map_data(found, zoom, box)
        body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return Response(body, mimetype="application/json")

    return cached(build)


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


# -- for search engines ---------------------------------------------------------------------


def place_summary(detail: PlaceDetail) -> str:
    """One sentence for ``<meta name="description">``: what the place is, where, who is
    there (at most ~160 characters, what search engines show)."""
    where = ", ".join(
        part
        for part in (
            " ".join(detail.values("rue")[:1]),
            " ".join([*detail.values("codePostal")[:1], *detail.values("commune")[:1]]),
        )
        if part
    )
    names = [o.name for o in detail.organisations[:3]]
    text = detail.name + (f", {where}" if where else "")
    if names:
        text += " : " + ", ".join(names)
        if len(detail.organisations) > 3:
            text += "…"
    text += ". Horaires, contacts et réseaux de la transition présents."
    return text if len(text) <= 200 else text[:197].rstrip() + "…"


def place_structured_data(detail: PlaceDetail, page: str) -> dict[str, Any]:
    """The place as schema.org JSON-LD for the page's ``<script type="application/ld+json">``:
    name, address, point, hours, contacts, the organisations present and the same place
    elsewhere (OpenStreetMap, Wikidata), so search engines can show the place."""
    first = {key: values[0] for key in _PAGE_FACTS if (values := detail.values(key))}
    place: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "Place",
        "@id": detail.iri,
        "name": detail.name,
        "url": page,
    }
    if "description" in first:
        place["description"] = first["description"]
    address = {
        prop: first[key]
        for key, prop in (
            ("rue", "streetAddress"),
            ("codePostal", "postalCode"),
            ("commune", "addressLocality"),
            ("pays", "addressCountry"),
        )
        if key in first
    }
    if address:
        place["address"] = {"@type": "PostalAddress", **address}
    if detail.lat is not None and detail.lon is not None and not detail.approximate:
        # a commune's point is not the place's: search engines get the address only
        place["geo"] = {"@type": "GeoCoordinates", "latitude": detail.lat, "longitude": detail.lon}
    if "telephone" in first:
        place["telephone"] = first["telephone"]
    if "email" in first:
        place["email"] = first["email"].removeprefix("mailto:")
    hours = []
    for slot in detail.hours:
        hour: dict[str, Any] = {
            "@type": "OpeningHoursSpecification",
            "dayOfWeek": "https://schema.org/" + SCHEMA_DAYS[slot.day],
            "opens": slot.opens.strftime("%H:%M:%S"),
            "closes": slot.closes.strftime("%H:%M:%S"),
        }
        if slot.valid_from:
            hour["validFrom"] = slot.valid_from.isoformat()
        if slot.valid_through:
            hour["validThrough"] = slot.valid_through.isoformat()
        hours.append(hour)
    if hours:
        place["openingHoursSpecification"] = hours
    same = [link for links in detail.links.values() for link in links]
    if detail.values("siteWeb"):
        same += [v for v in detail.values("siteWeb") if link_target(v)]
    if same:
        place["sameAs"] = same
    events = [
        {
            "@type": "Event",
            "name": e.name,
            "startDate": e.start,
            **({"endDate": e.end} if e.end else {}),
            **({"url": e.url} if link_target(e.url) else {}),
            "location": {"@id": detail.iri},
        }
        for e in detail.events
        if e.name and e.start
    ]
    if events:
        place["event"] = events
    organisations = [
        {
            "@type": "Organization",
            "@id": o.iri,
            "name": o.name,
            **({"url": o.url} if link_target(o.url) else {}),
            **({"telephone": o.telephone} if o.telephone else {}),
            "location": {"@id": detail.iri},
        }
        for o in detail.organisations
    ]
    if organisations:
        return {
            "@context": "https://schema.org",
            "@graph": [_without_context(place), *organisations],
        }
    return place


_PAGE_FACTS = ("description", "rue", "codePostal", "commune", "pays", "telephone", "email")


def _without_context(node: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in node.items() if key != "@context"}


SITEMAP_LIMIT = 50_000  # URLs one sitemap file may hold (sitemaps.org)


@blueprint.get("/sitemap.xml")
def sitemap() -> Response:
    """The public pages search engines may index: the search page, the convergences and
    every place page of the published generation (sitemaps.org)."""
    found = directory()

    def build() -> Response:
        root = request.host_url.rstrip("/")
        urls = [root + "/", root + url_for("convergences.convergences_page"), root + "/sources"]
        urls += [
            root + url_for("public.place", iri=iri)
            for iri in sorted(found.cards)
            if iri == found.clusters.get(iri, (iri,))[0]
        ][: SITEMAP_LIMIT - len(urls)]
        lines = [
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
        ]
        lines += [f"  <url><loc>{escape(url)}</loc></url>" for url in urls]
        lines.append("</urlset>")
        response = Response("\n".join(lines) + "\n", mimetype="application/xml")
        response.charset = "utf-8"
        return response

    return cached(build)


@blueprint.get("/robots.txt")
def robots() -> Response:
    """Search engines may index the public pages; the sitemap lists the place pages.
    Machine interfaces (SPARQL, API, exports, linked data) are not for crawlers."""
    root = request.host_url.rstrip("/")
    lines = ["User-agent: *"]
    lines += [
        f"Disallow: {path}"
        for path in ("/sparql", "/api/", "/resource", "/dump.nq.gz", "/valider", "/suggestions")
    ]
    lines.append(f"Sitemap: {root}{url_for('public.sitemap')}")
    response = Response("\n".join(lines) + "\n", mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
