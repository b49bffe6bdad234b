"""The sources catalog: which feeds the registry harvests, and what each source owns.

A TOML file (the bundled example federation by default, ``sources_file`` otherwise);
the registry publishes it as DCAT (``source_description``; ``ltc sources --format turtle``).
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


# dct:accrualPeriodicity of each harvest frequency (Dublin Core's frequency vocabulary).
ACCRUAL_PERIODICITY = {
    "hourly": FREQ + "continuous",
    "daily": FREQ + "daily",
    "weekly": FREQ + "weekly",
    "monthly": FREQ + "monthly",
}


def source_description(source: Source, iris: Iris) -> list[ox.Triple]:
    """A source as DCAT: the ``dcat:Dataset`` ``iris.source(id)`` (identifier, title,
    publisher, licence, contact point, accrual periodicity, the registry's named graph
    of it and its IRI namespaces) and its ``dcat:Distribution`` ``…#distribution``, with
    the feed's ``dcat:accessURL`` when the feed is on the web.

    The one description of a source: the metadata graph (harvester.provenance, which
    adds the last harvests), the catalog (``catalog_turtle``) and ``/void``
    (registry.dataset, which adds the registry's copy as a void:subset) all say this.
    """
    import pyoxigraph as ox

    node = ox.NamedNode(iris.source(source.id))
    distribution = ox.NamedNode(iris.source(source.id) + "#distribution")
    about: list[tuple[str, ox.NamedNode | ox.Literal]] = [
        (RDF_TYPE, ox.NamedNode(DCAT + "Dataset")),
        (DCT + "identifier", ox.Literal(source.id)),
        (DCT + "title", ox.Literal(source.title)),
        (DCT + "publisher", ox.NamedNode(source.network)),
        (DCT + "license", ox.NamedNode(source.license)),
        (DCAT + "contactPoint", ox.NamedNode(source.contact)),
        (DCT + "accrualPeriodicity", ox.NamedNode(ACCRUAL_PERIODICITY[source.frequency])),
        (LTC + "namedGraph", ox.NamedNode(iris.source_graph(source.id))),
        *((LTC + "namespace", ox.Literal(namespace)) for namespace in source.namespaces),
        (DCAT + "distribution", distribution),
    ]
    out = [ox.Triple(node, ox.NamedNode(p), o) for p, o in about]
    out.append(ox.Triple(distribution, ox.NamedNode(RDF_TYPE), ox.NamedNode(DCAT + "Distribution")))
    if source.is_remote:
        out.append(
            ox.Triple(distribution, ox.NamedNode(DCAT + "accessURL"), ox.NamedNode(source.url))
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
