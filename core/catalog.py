"""The sources catalog: which feeds the registry harvests, and what each source owns.

A TOML file (the bundled example federation by default, ``sources_file`` otherwise);
the registry publishes it as DCAT (``source_description``; ``ltc sources --format turtle``).

A source may be a spreadsheet following the standard template (``adapter = "tableur"``,
``docs/modele-tableur/``): a CSV, XLSX or ODS file, or the URL of an online spreadsheet's
export, harvested on schedule like any feed. It needs no mapping file: its mapping is
made from the entry itself (the network, its name, the first namespace, ``sheet``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

from core import resources
from core.config import Settings
from core.datafolder import DataFolder, write_atomically
from core.iris import Iris
from core.vocab import DCAT, DCT, FREQ, LTC, RDF_TYPE

if TYPE_CHECKING:
    import pyoxigraph as ox

FREQUENCIES = ("hourly", "daily", "weekly", "monthly")
KINDS = ("feed", "sparql")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_REQUIRED = ("id", "title", "network", "url", "namespaces", "license", "contact", "frequency")
_OPTIONAL = ("kind", "syntax", "adapter", "mapping", "query", "sheet")
ADAPTERS = ("gogocarto", "csv", "tableur")
STANDARD_ADAPTER = "tableur"  # the standard spreadsheet: no mapping file needed
STANDARD_MAPPING = "(modèle de tableur)"  # the mapping name of such a source


class CatalogError(ValueError):
    """The catalog cannot be used as it is; the message names the source and the key."""


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    network: str
    url: str
    namespaces: tuple[str, ...]
    license: str
    contact: str
    frequency: str
    kind: str = "feed"
    syntax: str | None = None
    adapter: str | None = None
    mapping: str | None = None
    query: str | None = None
    sheet: str | None = None  # a standard-template workbook: the sheet to read
    folder: Traversable | Path | None = field(default=None, compare=False, repr=False)

    @property
    def is_remote(self) -> bool:
        return self.url.startswith(("http://", "https://"))

    def local_file(self, relative: str | None = None) -> Traversable | Path:
        """A file the operator named in the catalog (the feed itself, or ``relative``, such
        as the mapping), beside the catalog. Never reached from a URL or a redirect."""
        name = relative or self.url
        if name == STANDARD_MAPPING and self.adapter == STANDARD_ADAPTER:
            return _Generated(standard_mapping_toml(self))
        if self.folder is None:
            raise FileNotFoundError(name)
        node = self.folder
        for part in Path(name).parts:
            node = node / part
        return node

    def owns(self, iri: str) -> bool:
        return iri.startswith(self.namespaces)


@dataclass(frozen=True)
class _Generated:
    """A file made from the catalog entry (the mapping of a standard spreadsheet)."""

    data: bytes

    def read_bytes(self) -> bytes:
        return self.data


def _toml_string(text: str) -> str:
    import json

    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def standard_mapping_toml(source: Source) -> bytes:
    """The mapping of a standard-template source (``docs/adaptateurs.md``): its network
    and name, and its first namespace, under which the rows' IRIs are minted."""
    lines = [
        f"adapter = {_toml_string(STANDARD_ADAPTER)}",
        "[network]",
        f"id = {_toml_string(source.network)}",
        f"nom = {_toml_string(source.title)}",
        "[tableur]",
        f"namespace = {_toml_string(source.namespaces[0])}",
    ]
    if source.sheet:
        lines.append(f"sheet = {_toml_string(source.sheet)}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _check(entry: dict, position: int) -> None:
    label = entry.get("id", f"n° {position}")
    unknown = set(entry) - set(_REQUIRED) - set(_OPTIONAL)
    if unknown:
        raise CatalogError(f"source {label}: unknown key(s) {', '.join(sorted(unknown))}")
    missing = [key for key in _REQUIRED if not entry.get(key)]
    if missing:
        raise CatalogError(f"source {label}: missing key(s) {', '.join(missing)}")
    if not _ID.match(entry["id"]):
        raise CatalogError(f"source {label}: id must be lowercase letters, digits and -")
    if entry["frequency"] not in FREQUENCIES:
        raise CatalogError(f"source {label}: frequency must be one of {', '.join(FREQUENCIES)}")
    if entry.get("kind", "feed") not in KINDS:
        raise CatalogError(f"source {label}: kind must be feed or sparql")
    if entry.get("kind") == "sparql" and not entry.get("query"):
        raise CatalogError(f"source {label}: a sparql source needs a CONSTRUCT `query`")
    adapter = entry.get("adapter")
    if adapter and adapter not in ADAPTERS:
        raise CatalogError(f"source {label}: adapter must be one of {', '.join(ADAPTERS)}")
    if adapter and adapter != STANDARD_ADAPTER and not entry.get("mapping"):
        raise CatalogError(f"source {label}: an adapter needs a `mapping` file")
    if entry.get("sheet") is not None and (
        adapter != STANDARD_ADAPTER or not isinstance(entry["sheet"], str) or not entry["sheet"]
    ):
        raise CatalogError(
            f"source {label}: `sheet` names the sheet of a standard spreadsheet "
            '(adapter = "tableur")'
        )
    namespaces = entry["namespaces"]
    if not isinstance(namespaces, list) or not all(
        isinstance(n, str) and n.startswith(("http://", "https://")) for n in namespaces
    ):
        raise CatalogError(f"source {label}: namespaces must be a list of http(s) IRI prefixes")


def parse_catalog(text: str, folder: Traversable | Path | None = None) -> list[Source]:
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"sources catalog is not valid TOML: {error}") from error
    entries = table.get("source", [])
    sources: list[Source] = []
    for position, entry in enumerate(entries, 1):
        _check(entry, position)
        values = {**entry, "namespaces": tuple(entry["namespaces"])}
        if values.get("adapter") == STANDARD_ADAPTER and not values.get("mapping"):
            values["mapping"] = STANDARD_MAPPING
        sources.append(Source(**values, folder=folder))
    ids = [s.id for s in sources]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CatalogError(f"sources catalog: duplicate id(s) {', '.join(duplicates)}")
    return sources


def load_catalog(settings: Settings) -> list[Source]:
    """The sources of the configured catalog (the example federation by default)."""
    if settings.sources_file:
        path = Path(settings.sources_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise CatalogError(f"cannot read the sources catalog {path}: {error}") from error
        return parse_catalog(text, path.parent)
    return parse_catalog(
        resources.read_text("examples", "sources.toml"), resources.folder("examples")
    )


def disabled_sources(data_dir: Path) -> set[str]:
    """Sources ``ltc sources remove`` took out of the harvest (until ``enable``)."""
    try:
        text = DataFolder(data_dir).disabled_sources.read_text(encoding="utf-8")
    except OSError:
        return set()
    return {line.strip() for line in text.splitlines() if line.strip()}


def set_disabled(data_dir: Path, source: str, disabled: bool) -> None:
    current = disabled_sources(data_dir)
    current = current | {source} if disabled else current - {source}
    text = "".join(f"{s}\n" for s in sorted(current))
    write_atomically(DataFolder(data_dir).disabled_sources, text.encode())


# dct:accrualPeriodicity of each harvest frequency (Dublin Core's frequency vocabulary).
ACCRUAL_PERIODICITY = {
    "hourly": FREQ + "continuous",
    "daily": FREQ + "daily",
    "weekly": FREQ + "weekly",
    "monthly": FREQ + "monthly",
}


VCARD = "http://www.w3.org/2006/vcard/ns#"
_IANA = "https://www.iana.org/assignments/media-types/"
# the feed's media type (dcat:mediaType), by syntax or adapter
MEDIA_TYPES = {
    "turtle": "text/turtle",
    "trig": "application/trig",
    "n-triples": "application/n-triples",
    "n-quads": "application/n-quads",
    "rdf-xml": "application/rdf+xml",
    "json-ld": "application/ld+json",
    "gogocarto": "application/json",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
_EXTENSIONS = {
    ".ttl": "turtle",
    ".trig": "trig",
    ".nt": "n-triples",
    ".nq": "n-quads",
    ".rdf": "rdf-xml",
    ".jsonld": "json-ld",
    ".csv": "csv",
    ".xlsx": "xlsx",
    ".ods": "ods",
}
_FREQUENCY_WORDS = {
    "hourly": ("toutes les heures", "every hour"),
    "daily": ("chaque jour", "daily"),
    "weekly": ("chaque semaine", "weekly"),
    "monthly": ("chaque mois", "monthly"),
}


def feed_media_type(source: Source) -> str | None:
    """The feed's media type, from its syntax, adapter or file extension."""
    if source.kind == "sparql":
        return "text/turtle"  # the registry asks its CONSTRUCT query for Turtle
    extension = _EXTENSIONS.get(Path(source.url.split("?")[0]).suffix.lower())
    if source.adapter in ("csv", STANDARD_ADAPTER):  # a spreadsheet: its file says which
        return MEDIA_TYPES.get(extension or "csv")
    key = source.adapter or source.syntax or extension
    return MEDIA_TYPES.get(key or "")


def source_description(source: Source, iris: Iris) -> list[ox.Triple]:
    """A source as DCAT, with what DCAT-AP asks of a dataset: the ``dcat:Dataset``
    ``iris.source(id)`` (identifier, title, description, publisher — a ``foaf:Agent`` —,
    licence, contact point — a ``vcard:Kind`` ``…#contact`` with the address —, accrual
    periodicity, the registry's named graph of it and its IRI namespaces) and its
    ``dcat:Distribution`` ``…#distribution`` (title, licence, media type, and its
    ``dcat:accessURL``: the feed when it is on the web, otherwise the registry's SPARQL
    endpoint, where its graph is queried).

    The one description of a source: the metadata graph (harvester.provenance, which
    adds the last harvests), the catalog (``catalog_turtle``) and ``/void``
    (registry.dataset, which adds the registry's copy as a void:subset) all say this.
    """
    import pyoxigraph as ox

    node = ox.NamedNode(iris.source(source.id))
    distribution = ox.NamedNode(iris.source(source.id) + "#distribution")
    contact = ox.NamedNode(iris.source(source.id) + "#contact")
    every_fr, every_en = _FREQUENCY_WORDS[source.frequency]
    description_fr = (
        f"Les lieux, organisations et présences publiés par « {source.title} » en données "
        f"liées, moissonnés {every_fr} par le registre des Lieux de Convergence de la "
        "Transition et validés fiche par fiche."
    )
    description_en = (
        f"The places, organisations and presences published by “{source.title}” as linked "
        f"data, harvested {every_en} by the registry of the Lieux de Convergence de la "
        "Transition and validated record by record."
    )
    about: list[tuple[str, ox.NamedNode | ox.Literal]] = [
        (RDF_TYPE, ox.NamedNode(DCAT + "Dataset")),
        (DCT + "identifier", ox.Literal(source.id)),
        (DCT + "title", ox.Literal(source.title)),
        (DCT + "description", ox.Literal(description_fr, language="fr")),
        (DCT + "description", ox.Literal(description_en, language="en")),
        (DCT + "publisher", ox.NamedNode(source.network)),
        (DCT + "license", ox.NamedNode(source.license)),
        (DCAT + "contactPoint", contact),
        (DCT + "accrualPeriodicity", ox.NamedNode(ACCRUAL_PERIODICITY[source.frequency])),
        (LTC + "namedGraph", ox.NamedNode(iris.source_graph(source.id))),
        *((LTC + "namespace", ox.Literal(namespace)) for namespace in source.namespaces),
        (DCAT + "distribution", distribution),
    ]
    out = [ox.Triple(node, ox.NamedNode(p), o) for p, o in about]
    address = VCARD + "hasEmail" if source.contact.startswith("mailto:") else VCARD + "hasURL"
    out += [
        ox.Triple(contact, ox.NamedNode(RDF_TYPE), ox.NamedNode(VCARD + "Kind")),
        ox.Triple(contact, ox.NamedNode(VCARD + "fn"), ox.Literal(f"{source.title} — données")),
        ox.Triple(contact, ox.NamedNode(address), ox.NamedNode(source.contact)),
    ]
    access = source.url if source.is_remote else iris.base + "sparql"
    out += [
        ox.Triple(distribution, ox.NamedNode(RDF_TYPE), ox.NamedNode(DCAT + "Distribution")),
        ox.Triple(distribution, ox.NamedNode(DCT + "title"), ox.Literal(f"{source.title} — flux")),
        ox.Triple(distribution, ox.NamedNode(DCT + "license"), ox.NamedNode(source.license)),
        ox.Triple(distribution, ox.NamedNode(DCAT + "accessURL"), ox.NamedNode(access)),
    ]
    media_type = feed_media_type(source) if source.is_remote else None
    if media_type:
        out.append(
            ox.Triple(
                distribution, ox.NamedNode(DCAT + "mediaType"), ox.NamedNode(_IANA + media_type)
            )
        )
    return out


def catalog_turtle(sources: list[Source], base_iri: str) -> str:
    """The catalog as DCAT (a dcat:Catalog of one dcat:Dataset per source, each described
    by ``source_description``), in Turtle."""
    import pyoxigraph as ox
    from rdflib import Graph, Literal, Namespace, URIRef
    from rdflib.namespace import DCTERMS, RDF

    iris = Iris(base_iri)
    dcat = Namespace(DCAT)
    graph = Graph()
    graph.bind("dcat", dcat)
    graph.bind("dct", DCTERMS)
    graph.bind("ltc", Namespace(LTC))
    catalog = URIRef(iris.base + "catalog")
    graph.add((catalog, RDF.type, dcat.Catalog))
    graph.add((catalog, DCTERMS.title, Literal("Registre LTC — sources", lang="fr")))
    graph.add((catalog, DCTERMS.title, Literal("LTC Registry — sources", lang="en")))
    triples: list[ox.Triple] = []
    for source in sources:
        graph.add((catalog, dcat.dataset, URIRef(iris.source(source.id))))
        triples += source_description(source, iris)
    if triples:
        graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    return graph.serialize(format="turtle")
