"""The standard spreadsheet (« modèle de tableur LTC »): a table that needs no mapping.

One row is one organisation's presence at a place, in the manner of the French open-data
schemas (the « lieux de médiation numérique » schema is the nearest model). ``COLUMNS``
is the one description of the template: the adapter below reads it, ``schema.json`` (a
Table Schema) and the ready-to-fill CSV, XLSX and ODS files are generated from it
(``harvester.adapters.template_files``), and the report names its columns.

- ``id`` names the row's organisation or activity; rows with the same ``id`` are one
  organisation (present at several places).
- ``id_lieu`` names the place: rows with the same value describe one place (a Maison des
  associations where an AMAP distributes and a repair café meets); empty, the row's place
  is its own (``id`` names it); a full web address is another network's place record.
- IRIs are minted under the source's namespace: ``{ns}organisations/{id}``,
  ``{ns}lieux/{id_lieu or id}``, ``{ns}presences/{id}`` (or ``{ns}presences/{id}/{id_lieu}``
  when the place is named by ``id_lieu``), so they stay the same from one harvest to the
  next as long as the identifiers do.
- ``horaires`` are the organisation's hours at that place (on the presence),
  ``horaires_lieu`` the place's own opening hours.

Unlike a mapping (which copies faithfully), the standard template is read the friendly
way: themes, roles and place types match their labels and synonyms whatever the case,
French hours are understood, phone numbers become international, the leading zero
Excel drops from a postcode is put back; each change that matters is reported with its
row and column, and what cannot be read stays as written for validation to name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from core.vocab import LTC_CONTEXT
from harvester.adapters import cells, vocabulary
from harvester.errors import FeedError
from harvester.french_hours import parse_hours
from harvester.spreadsheet import Table, TableRow, column_letter

if TYPE_CHECKING:
    from harvester.adapters import Adapted, Note, Origins

STANDARD_ADAPTER = "tableur"
PLACEHOLDER_NAMESPACE = "https://mon-reseau.example.org/"
PLACEHOLDER_NETWORK_NAME = "Mon réseau (à remplacer)"
HOURS_TEXT = "schema:openingHours"  # hours not understood, kept as written


@dataclass(frozen=True)
class Column:
    """One column of the template, as the Table Schema describes it."""

    name: str  # the header, spelled exactly so
    title: str
    description: str
    example: str
    record: str  # lieu, organisation, presence or ligne: which record it fills
    key: str | None  # the LTC key (docs/publier.md) it fills
    type: str = "string"  # Table Schema type
    required: bool = False
    format: str | None = None
    pattern: str | None = None
    enum: tuple[str, ...] = ()
    text_format: bool = False  # kept as text in the template (no lost zero)


COLUMNS: tuple[Column, ...] = (
    Column(
        "id", "Identifiant de la ligne",
        "Identifiant de l'organisation ou de l'activité, choisi une fois pour toutes et "
        "jamais réutilisé : lettres, chiffres et tirets. Il sert à fabriquer l'adresse "
        "web stable de la fiche ; deux lignes de même id sont la même organisation "
        "présente dans deux lieux.",
        "amap-trois-ruisseaux", "organisation", None, required=True,
        pattern=r"^[^\s/?#]+$",
    ),
    Column(
        "id_lieu", "Identifiant du lieu",
        "Identifiant du lieu quand plusieurs lignes décrivent le même lieu (une maison des "
        "associations où une AMAP distribue et où un repair café se réunit) : même valeur "
        "sur ces lignes. Vide : le lieu de la ligne est le sien. Une adresse web "
        "(https://…) désigne la fiche de lieu publiée par un autre réseau.",
        "maison-des-associations", "lieu", None,
    ),
    Column(
        "nom", "Nom", "Nom de l'organisation ou de l'activité.",
        "AMAP des Trois Ruisseaux", "organisation", "nom", required=True,
    ),
    Column(
        "lieu", "Nom du lieu",
        "Nom du lieu quand il diffère du nom de l'organisation (« Maison des associations "
        "des Trois Ruisseaux »). Vide : le lieu porte le nom de l'organisation.",
        "Maison des associations", "lieu", "nom",
    ),
    Column(
        "adresse", "Adresse", "Numéro et voie (sans le code postal ni la commune).",
        "12 rue de l'Exemple", "lieu", "rue",
    ),
    Column(
        "code_postal", "Code postal",
        "Code postal à 5 chiffres. Mettez la colonne au format Texte pour garder le zéro "
        "initial (01000) ; un zéro perdu est remis, avec un avertissement.",
        "38100", "lieu", "codePostal", pattern=r"^\d{5}$", text_format=True,
    ),
    Column(
        "commune", "Commune", "Nom de la commune.", "Grenoble", "lieu", "commune",
    ),
    Column(
        "code_insee", "Code INSEE",
        "Code officiel géographique de la commune (5 caractères, ce n'est pas le code "
        "postal). Facultatif.",
        "38185", "lieu", "codeInsee", pattern=r"^(\d{5}|2[AB]\d{3})$", text_format=True,
    ),
    Column(
        "latitude", "Latitude",
        "Latitude en degrés décimaux (WGS 84), avec une virgule ou un point. Sans "
        "coordonnées, le registre place le lieu au point de sa commune (position "
        "approximative).",
        "45,1772", "lieu", "latitude", type="number",
    ),
    Column(
        "longitude", "Longitude", "Longitude en degrés décimaux (WGS 84).",
        "5,7196", "lieu", "longitude", type="number",
    ),
    Column(
        "themes", "Thèmes",
        "Un ou plusieurs thèmes, séparés par des virgules : alimentation, agriculture, "
        "energie, reemploi-reparation… ou leur libellé (« Réemploi et réparation ») ou un "
        "synonyme (« circuits courts », « agriculture bio », « réparation »), sans "
        "souci de majuscules ni d'accents.",
        "alimentation, agriculture", "organisation", "themes",
    ),
    Column(
        "role", "Rôle",
        "Ce qu'est le lieu pour l'organisation : siege, boutique, point-de-distribution, "
        "permanence, atelier, bureau, marche, lieu-d-activite (ou leur libellé).",
        "point-de-distribution", "presence", "role",
    ),
    Column(
        "activites", "Activités",
        "Ce que l'organisation fait dans ce lieu ; plusieurs activités séparées par des "
        "points-virgules.",
        "Distribution des paniers de légumes", "presence", "activites",
    ),
    Column(
        "horaires", "Horaires de l'organisation dans ce lieu",
        "Les horaires de l'organisation ou de l'activité dans ce lieu (la distribution de "
        "l'AMAP), pas ceux du lieu : « mercredi 18h-19h30 », « du lundi au vendredi 9h-12h "
        "/ 14h-18h », « lun. et jeu. de 18h à 19h », ou la syntaxe OpenStreetMap "
        "(« We 18:00-19:30 »). Plusieurs règles séparées par des points-virgules.",
        "mercredi 18h-19h30", "presence", "horaires",
    ),
    Column(
        "horaires_lieu", "Horaires d'ouverture du lieu",
        "Les horaires d'ouverture du lieu lui-même, s'il en a (mêmes écritures que "
        "horaires).",
        "du lundi au samedi 9h-20h", "lieu", "horaires",
    ),
    Column(
        "telephone", "Téléphone",
        "Numéro de téléphone, écrit comme d'habitude (02 47 05 12 34) ; il est mis au "
        "format international.",
        "04 65 71 00 00", "organisation", "telephone", text_format=True,
    ),
    Column(
        "courriel", "Courriel", "Adresse électronique de contact.",
        "contact@mon-reseau.example.org", "organisation", "email", format="email",
    ),
    Column(
        "site_web", "Site web", "Adresse du site web (https://…).",
        "https://mon-reseau.example.org/amap", "organisation", "siteWeb", format="uri",
    ),
    Column(
        "description", "Description", "Quelques phrases sur l'organisation ou l'activité.",
        "Paniers de légumes bio d'une ferme voisine, chaque mercredi soir.",
        "organisation", "description",
    ),
    Column(
        "type_lieu", "Type de lieu",
        "tiers-lieu, boutique, ferme, local-associatif, marche, jardin, atelier, salle, "
        "bureau ou autre (ou leur libellé).",
        "local-associatif", "lieu", "typeLieu",
    ),
    Column(
        "accessible_pmr", "Accessible en fauteuil roulant", "oui ou non.",
        "oui", "lieu", "accessiblePMR", type="boolean",
    ),
    Column(
        "accessibilite", "Précisions sur l'accessibilité", "Texte libre.",
        "Rampe d'accès côté cour", "lieu", "accessibilite",
    ),
    Column(
        "osm", "OpenStreetMap",
        "Le lieu sur OpenStreetMap : l'adresse de sa page ou node/123456, way/123456.",
        "https://www.openstreetmap.org/node/123456789", "lieu", "memeQue",
    ),
    Column(
        "wikidata", "Wikidata", "Le lieu sur Wikidata : Q123456 ou l'adresse de sa page.",
        "", "lieu", "memeQue",
    ),
    Column(
        "identique_a", "Même lieu dans un autre réseau",
        "L'adresse web (IRI) de la fiche du même lieu publiée par un autre réseau.",
        "", "lieu", "identiqueA",
    ),
    Column(
        "sigle", "Sigle ou autre nom", "Sigle ou autre nom de l'organisation.",
        "", "organisation", "nomAlternatif",
    ),
    Column(
        "siret", "SIRET", "Numéro SIRET (14 chiffres).", "", "organisation", "siret",
        pattern=r"^\d{14}$", text_format=True,
    ),
    Column(
        "rna", "RNA", "Numéro RNA d'une association (W suivi de 9 caractères).",
        "", "organisation", "rna",
    ),
    Column(
        "date_maj", "Date de mise à jour",
        "Date de la dernière mise à jour de la ligne : 30/11/2026 ou 2026-11-30.",
        "30/11/2026", "ligne", "dateModification", type="date", text_format=True,
    ),
)  # fmt: skip
COLUMN_NAMES = tuple(c.name for c in COLUMNS)
BY_NAME = {c.name: c for c in COLUMNS}
REQUIRED = tuple(c.name for c in COLUMNS if c.required)

# The template's example rows (docs/modele-tableur/, /publier): an AMAP distributing in
# a Maison des associations that a repair café shares, and a farm with its own place.
EXAMPLE_ROWS: tuple[dict[str, str], ...] = (
    {
        "id": "amap-trois-ruisseaux",
        "id_lieu": "maison-des-associations",
        "nom": "AMAP des Trois Ruisseaux",
        "lieu": "Maison des associations des Trois Ruisseaux",
        "adresse": "12 rue de l'Exemple",
        "code_postal": "38100",
        "commune": "Grenoble",
        "code_insee": "38185",
        "latitude": "45,1772",
        "longitude": "5,7196",
        "themes": "alimentation, agriculture",
        "role": "point-de-distribution",
        "activites": "Distribution des paniers de légumes",
        "horaires": "mercredi 18h-19h30",
        "horaires_lieu": "du lundi au samedi 9h-20h",
        "telephone": "04 65 71 00 00",
        "courriel": "trois-ruisseaux@mon-reseau.example.org",
        "site_web": "https://mon-reseau.example.org/amap-des-trois-ruisseaux",
        "description": "Paniers de légumes bio d'une ferme voisine, chaque mercredi soir.",
        "type_lieu": "local-associatif",
        "accessible_pmr": "oui",
        "osm": "https://www.openstreetmap.org/node/123456789",
        "date_maj": "30/11/2026",
    },
    {
        "id": "repair-cafe-trois-ruisseaux",
        "id_lieu": "maison-des-associations",
        "nom": "Repair café des Trois Ruisseaux",
        "themes": "réemploi et réparation",
        "role": "atelier",
        "activites": "Réparation de petit électroménager; Réparation de vélos",
        "horaires": "samedi 14h-17h",
        "courriel": "repair@mon-reseau.example.org",
        "date_maj": "30/11/2026",
    },
    {
        "id": "ferme-des-coteaux",
        "nom": "Ferme des Coteaux",
        "adresse": "Chemin des Vignes",
        "code_postal": "38330",
        "commune": "Saint-Ismier",
        "latitude": "45,2435",
        "longitude": "5,8310",
        "themes": "agriculture bio, circuits courts",
        "role": "boutique",
        "activites": "Vente à la ferme",
        "horaires": "vendredi 16h-19h; samedi 9h-12h",
        "telephone": "04 76 52 00 00",
        "type_lieu": "ferme",
        "date_maj": "30/11/2026",
    },
)


@dataclass(frozen=True)
class StandardOptions:
    """Where the template's records live: the source's namespace and network."""

    namespace: str = PLACEHOLDER_NAMESPACE
    network: str | None = None  # the network's IRI (default: {namespace}reseau)
    network_name: str = PLACEHOLDER_NETWORK_NAME

    @property
    def network_iri(self) -> str:
        return self.network or f"{self.namespace}reseau"


def _segment(text: str) -> str:
    return quote(text.strip(), safe="-._~")


@dataclass
class _Reading:
    """The state of one adaptation: records, notes and where every value came from."""

    table: Table
    options: StandardOptions
    notes: list[Note] = field(default_factory=list)
    origins: Origins | None = None

    def note(
        self,
        row: TableRow | int | None,
        column: str | None,
        fr: str,
        en: str,
        *,
        value: str | None = None,
        severity: str = "Warning",
        rows: tuple[int, ...] = (),
    ) -> None:
        from harvester.adapters import Note

        number = row.number if isinstance(row, TableRow) else row
        where_fr = f"ligne {number}" if number else "tableau"
        where_en = f"row {number}" if number else "table"
        if column:
            index = self.table.index(column)
            letter = f" ({column_letter(index)})" if index is not None else ""
            where_fr += f", colonne {column}{letter}"
            where_en += f", column {column}{letter}"
        self.notes.append(
            Note(
                number,
                f"{where_fr} : {fr}",
                f"{where_en}: {en}",
                column=column,
                value=value,
                severity=severity,
                what_fr=fr,
                what_en=en,
                rows=rows or ((number,) if number else ()),
            )
        )

    def fixed(self, row: TableRow, column: str, result: cells.Fixed, raw: str) -> Any:
        if result.fr:
            self.note(row, column, result.fr, result.en or result.fr, value=raw,
                      severity=result.severity)  # fmt: skip
        return result.value


def _columns(table: Table, reading: _Reading) -> dict[str, int]:
    """Template column → index in the sheet; headers match whatever their case, accents
    and spaces (« Code postal » is code_postal)."""
    found: dict[str, int] = {}
    wanted = {vocabulary.key(name.replace("_", " ")): name for name in COLUMN_NAMES}
    ignored = []
    for index, header in enumerate(table.header):
        if not header:
            continue
        name = header if header in BY_NAME else wanted.get(vocabulary.key(header.replace("_", " ")))
        if name is None:
            ignored.append(header)
        elif name not in found:
            found[name] = index
            if name != header:
                table.columns[name] = index
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        read = " | ".join(h for h in table.header if h) or "—"
        hint_fr = hint_en = ""
        if table.kind == "csv" and len(table.header) == 1:
            hint_fr = " ; le séparateur n'est-il pas le bon ?"
            hint_en = "; is the delimiter right?"
        raise FeedError(
            f"colonne(s) obligatoire(s) absente(s) de la première ligne : {', '.join(missing)} "
            f"(colonnes lues : {read}){hint_fr}. Ce tableau suit-il le modèle de tableur LTC "
            "(docs/modele-tableur/) ? Sinon, décrivez ses colonnes dans une correspondance "
            "(docs/adaptateurs.md)",
            f"required column(s) missing from the first row: {', '.join(missing)} (columns "
            f"read: {read}){hint_en}. Does this table follow the LTC spreadsheet template "
            "(docs/modele-tableur/)? Otherwise describe its columns in a mapping "
            "(docs/adaptateurs.md)",
        )
    if ignored:
        shown = ", ".join(f"« {h} »" for h in ignored[:20])
        reading.note(
            table.header_row,
            None,
            f"colonne(s) hors du modèle, ignorée(s) : {shown}",
            f"column(s) outside the template, ignored: {shown}",
            severity="Info",
        )
    return found


def adapt_table(table: Table, options: StandardOptions) -> Adapted:
    """The JSON-LD feed of a table following the standard template, with its notes and
    where each record and value came from (``Adapted.origins``)."""
    from harvester.adapters import Adapted, Origins

    reading = _Reading(table, options, origins=Origins())
    columns = _columns(table, reading)
    if not table.rows:
        raise FeedError(
            "tableau sans ligne de données (seulement l'en-tête)",
            "table without data rows (only the header)",
        )
    builder = _Builder(reading, columns)
    for row in table.rows:
        builder.add(row)
    graph = builder.records()
    assert reading.origins is not None
    reading.origins.columns = dict(table.columns)
    document = {"@context": LTC_CONTEXT, "@graph": graph}
    return Adapted(document, reading.notes, origins=reading.origins, table=table)


@dataclass
class _Group:
    """The rows that describe one organisation or one place, merged."""

    iri: str
    key: str = ""  # the id (organisation) or id_lieu, else id (place) naming it
    rows: list[TableRow] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)  # LTC key → value
    sources: dict[str, tuple[int, str]] = field(default_factory=dict)  # key → (row, column)
    themes: list[str] = field(default_factory=list)
    dates: list[str] = field(default_factory=list)


class _Builder:
    def __init__(self, reading: _Reading, columns: dict[str, int]) -> None:
        self.reading = reading
        self.columns = columns
        self.ns = reading.options.namespace
        self.organisations: dict[str, _Group] = {}
        self.places: dict[str, _Group] = {}
        self.presences: list[tuple[TableRow, dict[str, Any], dict[str, tuple[int, str]]]] = []
        self.seen: dict[tuple[str, str], int] = {}

    def cell(self, row: TableRow, name: str) -> str:
        return row.get(self.columns.get(name)).strip()

    # -- one row -----------------------------------------------------------------------

    def add(self, row: TableRow) -> None:
        reading = self.reading
        ident = self.cell(row, "id")
        if not ident:
            reading.note(
                row, "id",
                "la colonne id est vide : la ligne est ignorée (donnez-lui un identifiant "
                "stable)",
                "the id column is empty: the row is skipped (give it a stable identifier)",
                severity="Violation",
            )  # fmt: skip
            return
        place_key = self.cell(row, "id_lieu")
        external = place_key.startswith(("http://", "https://"))
        key = place_key or ident
        if (ident, key) in self.seen:
            first = self.seen[(ident, key)]
            reading.note(
                row, "id",
                f"même id « {ident} » et même lieu que la ligne {first} : la ligne est "
                "ignorée (donnez un autre id, ou un autre id_lieu)",
                f"same id '{ident}' and same place as row {first}: the row is skipped",
                value=ident, severity="Violation",
            )  # fmt: skip
            return
        self.seen[(ident, key)] = row.number
        organisation = self.organisations.setdefault(
            ident, _Group(f"{self.ns}organisations/{_segment(ident)}", ident)
        )
        organisation.rows.append(row)
        themes = self.themes(row)
        self.merge(organisation, row, self.organisation_values(row), "organisation")
        organisation.themes += [t for t in themes if t not in organisation.themes]
        modified = self.date(row)
        if modified:
            organisation.dates.append(modified)
        if external:
            place_iri = place_key
            filled = [c.name for c in COLUMNS if c.record == "lieu" and c.name != "id_lieu"
                      and self.cell(row, c.name)]  # fmt: skip
            if filled:
                reading.note(
                    row, filled[0],
                    "le lieu est celui d'un autre réseau (id_lieu est une adresse web) : les "
                    f"colonnes du lieu ({', '.join(filled)}) sont ignorées",
                    "the place is another network's (id_lieu is a web address): the place "
                    f"columns ({', '.join(filled)}) are ignored",
                    severity="Info",
                )  # fmt: skip
        else:
            place = self.places.setdefault(key, _Group(f"{self.ns}lieux/{_segment(key)}", key))
            place.rows.append(row)
            self.merge(place, row, self.place_values(row), "lieu")
            place.themes += [t for t in themes if t not in place.themes]
            if modified:
                place.dates.append(modified)
            place_iri = place.iri
        suffix = _segment(ident) if not place_key else f"{_segment(ident)}/{_segment(key)}"
        presence: dict[str, Any] = {
            "id": f"{self.ns}presences/{suffix}",
            "type": "Presence",
            "organisation": organisation.iri,
            "lieu": place_iri,
        }
        sources: dict[str, tuple[int, str]] = {}
        roles = self.names(row, "role", "role")
        if roles:
            presence["role"] = roles
            sources["role"] = (row.number, "role")
        activities = cells.split_list(self.cell(row, "activites"), r"[;\n]")
        if activities:
            presence["activites"] = activities
            sources["activites"] = (row.number, "activites")
        self.hours(row, "horaires", presence, sources)
        if modified:
            presence["dateModification"] = modified
            sources["dateModification"] = (row.number, "date_maj")
        self.presences.append((row, presence, sources))

    def merge(self, group: _Group, row: TableRow, values: dict, record: str) -> None:
        """The group keeps each value from its first row that gives one; another row
        giving another value is told about."""
        for key, (value, column) in values.items():
            if value in (None, "", [], {}):
                continue
            if key not in group.values:
                group.values[key] = value
                group.sources[key] = (row.number, column)
            elif group.values[key] != value and group.sources[key][1] == column:
                first = group.sources[key][0]
                what = "l'organisation" if record == "organisation" else "le lieu"
                self.reading.note(
                    row, column,
                    f"{what} est déjà décrit à la ligne {first} avec une autre valeur : "
                    f"celle de la ligne {first} est gardée (mettez la même valeur, ou "
                    "laissez la cellule vide)",
                    f"the {record} is already described on row {first} with another value: "
                    f"row {first}'s is kept",
                    value=str(row.get(self.columns.get(column))), severity="Info",
                )  # fmt: skip

    # -- values --------------------------------------------------------------------------

    def themes(self, row: TableRow) -> list[str]:
        return self.names(row, "themes", "themes")

    def names(self, row: TableRow, column: str, vocab: str) -> list[str]:
        """Vocabulary values of a cell as short names; an unknown one is kept (made safe
        for an IRI) so that validation reports it, once per value in the table report."""
        from harvester.adapters import iri

        found: list[str] = []
        for value in cells.split_list(self.cell(row, column)):
            short = vocabulary.match(vocab, value)
            name = short or iri(value).replace(":", "%3A").replace("@", "%40")
            if name not in found:
                found.append(name)
        return found

    def date(self, row: TableRow) -> str | None:
        raw = self.cell(row, "date_maj")
        return str(cells.date(raw).value) if raw else None

    def text(self, row: TableRow, column: str) -> tuple[str, str]:
        return self.cell(row, column), column

    def organisation_values(self, row: TableRow) -> dict[str, tuple[Any, str]]:
        reading = self.reading
        values: dict[str, tuple[Any, str]] = {
            "nom": self.text(row, "nom"),
            "nomAlternatif": self.text(row, "sigle"),
            "description": self.text(row, "description"),
            "rna": (self.cell(row, "rna").replace(" ", "").upper(), "rna"),
        }
        if raw := self.cell(row, "telephone"):
            values["telephone"] = (reading.fixed(row, "telephone", cells.telephone(raw), raw),
                                   "telephone")  # fmt: skip
        if raw := self.cell(row, "courriel"):
            values["email"] = (cells.email(raw).value, "courriel")
        if raw := self.cell(row, "site_web"):
            values["siteWeb"] = (cells.web_address(raw).value, "site_web")
        if raw := self.cell(row, "siret"):
            values["siret"] = (cells.digits(raw).value, "siret")
        return values

    def place_values(self, row: TableRow) -> dict[str, tuple[Any, str]]:
        from harvester.adapters import number

        reading = self.reading
        values: dict[str, tuple[Any, str]] = {
            "lieu": self.text(row, "lieu"),
            "rue": self.text(row, "adresse"),
            "commune": self.text(row, "commune"),
            "accessibilite": self.text(row, "accessibilite"),
        }
        if raw := self.cell(row, "code_postal"):
            values["codePostal"] = (reading.fixed(row, "code_postal", cells.postcode(raw), raw),
                                    "code_postal")  # fmt: skip
        if raw := self.cell(row, "code_insee"):
            values["codeInsee"] = (reading.fixed(row, "code_insee", cells.insee_code(raw), raw),
                                   "code_insee")  # fmt: skip
        for name in ("latitude", "longitude"):
            if raw := self.cell(row, name):
                values[name] = (number(raw), name)
        if raw := self.cell(row, "accessible_pmr"):
            values["accessiblePMR"] = (
                reading.fixed(row, "accessible_pmr", cells.boolean(raw), raw),
                "accessible_pmr",
            )
        types = self.names(row, "type_lieu", "typeLieu")
        if types:
            values["typeLieu"] = (types[0] if len(types) == 1 else types, "type_lieu")
        links = []
        for column, read in (("osm", cells.openstreetmap), ("wikidata", cells.wikidata)):
            if raw := self.cell(row, column):
                link = reading.fixed(row, column, read(raw), raw)
                if link:
                    links.append(link)
                    values.setdefault("memeQue", ([], column))
        if links:
            values["memeQue"] = (links, values["memeQue"][1])
        same = [link for link in cells.split_list(self.cell(row, "identique_a"), r"[\s,;]+")]
        if same:
            values["identiqueA"] = (same, "identique_a")
        raw_hours = self.cell(row, "horaires_lieu")
        if raw_hours:
            hours: dict[str, Any] = {}
            self.hours(row, "horaires_lieu", hours, {})
            if "horaires" in hours:
                values["horaires"] = (hours["horaires"], "horaires_lieu")
            if HOURS_TEXT in hours:
                values[HOURS_TEXT] = (hours[HOURS_TEXT], "horaires_lieu")
        return values

    def hours(
        self, row: TableRow, column: str, record: dict, sources: dict[str, tuple[int, str]]
    ) -> None:
        """Hours understood become ``horaires``; a rule not understood is reported with
        its reason and the cell's text is kept on the record (``schema:openingHours``)."""
        raw = self.cell(row, column)
        if not raw:
            return
        parsed = parse_hours(raw)
        if parsed.entries:
            record["horaires"] = parsed.entries
            sources["horaires"] = (row.number, column)
        for problem in parsed.problems:
            self.reading.note(
                row, column,
                f"horaires non compris, gardés en texte : « {problem.text} » — "
                f"{problem.fr}",
                f"hours not understood, kept as text: '{problem.text}' — {problem.en}",
                value=problem.text,
            )  # fmt: skip
        if parsed.problems:
            record[HOURS_TEXT] = raw
            sources[HOURS_TEXT] = (row.number, column)

    # -- records -------------------------------------------------------------------------

    def records(self) -> list[dict[str, Any]]:
        reading = self.reading
        origins = reading.origins
        assert origins is not None
        options = reading.options
        network = {"id": options.network_iri, "type": "Reseau", "nom": options.network_name}
        dates = [d for group in self.organisations.values() for d in group.dates]
        if dates:
            network["dateModification"] = max(dates)  # the table's last update
        origins.kinds[network["id"]] = "reseau"
        graph: list[dict[str, Any]] = [network]
        for group in self.places.values():
            graph.append(self.place_record(group))
        for group in self.organisations.values():
            graph.append(self.organisation_record(group))
        for row, presence, sources in self.presences:
            graph.append(presence)
            self.remember(presence["id"], "presence", [row], sources)
        return graph

    def remember(
        self, iri: str, kind: str, rows: list[TableRow], sources: dict[str, tuple[int, str]]
    ) -> None:
        origins = self.reading.origins
        assert origins is not None
        origins.kinds[iri] = kind
        origins.rows[iri] = [row.number for row in rows]
        for key, where in sources.items():
            origins.cells[(iri, key)] = where

    def place_record(self, group: _Group) -> dict[str, Any]:
        values, sources = group.values, dict(group.sources)
        record: dict[str, Any] = {"id": group.iri, "type": "Lieu"}
        name = values.get("lieu")
        if name:
            sources["nom"] = sources.pop("lieu")
        else:
            owner = next((r for r in group.rows if self.cell(r, "id") == group.key), group.rows[0])
            name = self.cell(owner, "nom")
            sources["nom"] = (owner.number, "nom")
            if len({self.cell(r, "id") for r in group.rows}) > 1:
                numbers = ", ".join(str(r.number) for r in group.rows)
                self.reading.note(
                    group.rows[0], "lieu",
                    f"le lieu partagé par les lignes {numbers} n'a pas de nom : il prend "
                    f"celui de la ligne {owner.number} ; écrivez le nom du lieu dans la "
                    "colonne lieu",
                    f"the place shared by rows {numbers} has no name: it takes row "
                    f"{owner.number}'s; write the place's name in the lieu column",
                    rows=tuple(r.number for r in group.rows),
                )  # fmt: skip
        if name:
            record["nom"] = name
        address = {"type": "Adresse"}
        for key in ("rue", "codePostal", "commune", "codeInsee"):
            if values.get(key):
                address[key] = values[key]
        if len(address) > 1:
            address["pays"] = "FR"
            record["adresse"] = address
        lat, lon = values.get("latitude"), values.get("longitude")
        if lat is not None or lon is not None:
            geo: dict[str, Any] = {"type": "Coordonnees"}
            if lat is not None:
                geo["latitude"] = lat
            if lon is not None:
                geo["longitude"] = lon
            record["geo"] = geo
        elif values.get("codePostal") or values.get("commune"):
            self.reading.note(
                group.rows[0], "latitude",
                "pas de coordonnées : le registre placera le lieu au point de sa commune "
                "(position approximative) ; ajoutez latitude et longitude pour le situer "
                "précisément",
                "no coordinates: the registry will place it at its commune's point "
                "(approximate position); add latitude and longitude to place it precisely",
            )  # fmt: skip
        for key in ("horaires", HOURS_TEXT):
            if values.get(key):
                record[key] = values[key]
        if group.themes:
            record["themes"] = group.themes
            sources.setdefault("themes", (group.rows[0].number, "themes"))
        for key in ("typeLieu", "accessiblePMR", "accessibilite", "memeQue", "identiqueA"):
            if values.get(key) not in (None, "", []):
                record[key] = values[key]
        if group.dates:
            record["dateModification"] = max(group.dates)
            sources.setdefault("dateModification", (group.rows[0].number, "date_maj"))
        self.remember(group.iri, "lieu", group.rows, sources)
        return record

    def organisation_record(self, group: _Group) -> dict[str, Any]:
        values, sources = group.values, dict(group.sources)
        record: dict[str, Any] = {"id": group.iri, "type": "Organisation"}
        for key in ("nom", "nomAlternatif", "description"):
            if values.get(key):
                record[key] = values[key]
        record["reseau"] = self.reading.options.network_iri
        if group.themes:
            record["themes"] = group.themes
            sources.setdefault("themes", (group.rows[0].number, "themes"))
        for key in ("telephone", "email", "siteWeb", "siret", "rna"):
            if values.get(key):
                record[key] = values[key]
        if group.dates:
            record["dateModification"] = max(group.dates)
            sources.setdefault("dateModification", (group.rows[0].number, "date_maj"))
        self.remember(group.iri, "organisation", group.rows, sources)
        return record


# Which column a finding on a record's LTC key points to when no value gave it (a missing
# value): by record kind.
DEFAULT_COLUMNS: dict[tuple[str, str], str] = {
    ("lieu", "nom"): "lieu",
    ("lieu", "rue"): "adresse",
    ("lieu", "codePostal"): "code_postal",
    ("lieu", "commune"): "commune",
    ("lieu", "codeInsee"): "code_insee",
    ("lieu", "latitude"): "latitude",
    ("lieu", "longitude"): "longitude",
    ("lieu", "geo"): "latitude",
    ("lieu", "adresse"): "code_postal",
    ("lieu", "horaires"): "horaires_lieu",
    ("lieu", "themes"): "themes",
    ("lieu", "typeLieu"): "type_lieu",
    ("lieu", "memeQue"): "osm",
    ("lieu", "identiqueA"): "identique_a",
    ("lieu", "dateModification"): "date_maj",
    ("organisation", "nom"): "nom",
    ("organisation", "themes"): "themes",
    ("organisation", "telephone"): "telephone",
    ("organisation", "email"): "courriel",
    ("organisation", "siteWeb"): "site_web",
    ("organisation", "siret"): "siret",
    ("organisation", "rna"): "rna",
    ("organisation", "dateModification"): "date_maj",
    ("presence", "role"): "role",
    ("presence", "horaires"): "horaires",
    ("presence", "activites"): "activites",
    ("presence", "dateModification"): "date_maj",
}


def default_column(kind: str, key: str | None) -> str | None:
    if key is None:
        return None
    return DEFAULT_COLUMNS.get((kind, key))


def is_template_header(header: list[str]) -> bool:
    """Whether a table's first row looks like the standard template's (id and nom)."""
    names = {vocabulary.key(h.replace("_", " ")) for h in header if h}
    return all(vocabulary.key(n.replace("_", " ")) in names for n in REQUIRED)


def example_table() -> list[list[str]]:
    """The template's rows: the header, then the example rows."""
    return [list(COLUMN_NAMES)] + [[row.get(name, "") for name in COLUMN_NAMES]
                                   for row in EXAMPLE_ROWS]  # fmt: skip
