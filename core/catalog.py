"""The sources catalog: which feeds the registry harvests, and what each source owns.

A TOML file (the bundled example federation by default, ``sources_file`` otherwise);
the registry publishes it as DCAT (``ltc sources --format turtle``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib.resources.abc import Traversable
from pathlib import Path

from core import resources
from core.config import Settings
from core.datafolder import DataFolder, write_atomically

FREQUENCIES = ("hourly", "daily", "weekly", "monthly")
KINDS = ("feed", "sparql")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
_REQUIRED = ("id", "title", "network", "url", "namespaces", "license", "contact", "frequency")
_OPTIONAL = ("kind", "syntax", "adapter", "mapping", "query")


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
    folder: Traversable | Path | None = field(default=None, compare=False, repr=False)

    @property
    def is_remote(self) -> bool:
        return self.url.startswith(("http://", "https://"))

    def local_file(self, relative: str | None = None) -> Traversable | Path:
        """A file the operator named in the catalog (the feed itself, or ``relative``, such
        as the mapping), beside the catalog. Never reached from a URL or a redirect."""
        name = relative or self.url
        if self.folder is None:
            raise FileNotFoundError(name)
        node = self.folder
        for part in Path(name).parts:
            node = node / part
        return node

    def owns(self, iri: str) -> bool:
        return iri.startswith(self.namespaces)


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
    if entry.get("adapter") and not entry.get("mapping"):
        raise CatalogError(f"source {label}: an adapter needs a `mapping` file")
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


def catalog_turtle(sources: list[Source], base_iri: str) -> str:
    """The catalog as DCAT (a dcat:Catalog of one dcat:Dataset per source), in Turtle."""
    from rdflib import Graph, Literal, Namespace, URIRef
    from rdflib.namespace import DCAT, DCTERMS, RDF

    from core.iris import Iris
    from core.vocab import LTC

    iris = Iris(base_iri)
    ltc = Namespace(LTC)
    frequency = Namespace("http://purl.org/cld/freq/")
    graph = Graph()
    graph.bind("dcat", DCAT)
    graph.bind("dct", DCTERMS)
    graph.bind("ltc", ltc)
    catalog = URIRef(iris.base + "catalog")
    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, Literal("Registre LTC — sources", lang="fr")))
    graph.add((catalog, DCTERMS.title, Literal("LTC Registry — sources", lang="en")))
    for source in sources:
        node = URIRef(iris.source(source.id))
        distribution = URIRef(iris.source(source.id) + "#distribution")
        graph.add((catalog, DCAT.dataset, node))
        graph.add((node, RDF.type, DCAT.Dataset))
        graph.add((node, DCTERMS.identifier, Literal(source.id)))
        graph.add((node, DCTERMS.title, Literal(source.title)))
        graph.add((node, DCTERMS.publisher, URIRef(source.network)))
        graph.add((node, DCTERMS.license, URIRef(source.license)))
        graph.add((node, DCAT.contactPoint, URIRef(source.contact)))
        period = "continuous" if source.frequency == "hourly" else source.frequency
        graph.add((node, DCTERMS.accrualPeriodicity, frequency[period]))
        graph.add((node, ltc.namedGraph, URIRef(iris.source_graph(source.id))))
        for namespace in source.namespaces:
            graph.add((node, ltc.namespace, Literal(namespace)))
        graph.add((node, DCAT.distribution, distribution))
        graph.add((distribution, RDF.type, DCAT.Distribution))
        if source.is_remote:
            graph.add((distribution, DCAT.accessURL, URIRef(source.url)))
    return graph.serialize(format="turtle")
