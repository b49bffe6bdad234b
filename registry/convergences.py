"""``/convergences``: the places where several networks already work together — the
candidates the registry derives (clusters with organisations of at least two networks,
most networks first) and the status the collective gives them, in French."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request

from core.iris import Iris
from core.resources import sparql_query
from registry.caching import cached
from registry.runtime import app_settings, directory, read_store
from registry.vocabularies import label

blueprint = Blueprint("convergences", __name__)
PER_PAGE = 50


@dataclass(frozen=True)
class Candidate:
    rank: int
    iri: str
    name: str
    locality: str
    place: str  # the record the place page opens
    networks: int
    organisations: int
    network_names: str
    status: str  # the collective's label ("candidat", "pilote", "labellisé") or ""


def candidates() -> list[Candidate]:
    """Every candidate of the published generation, by rank."""
    found = directory()
    derived = ox.NamedNode(Iris(app_settings().base_iri).derived_graph)
    rows = read_store().select(sparql_query("convergence-candidates"), {"derived": derived})
    every = []
    for row in rows:
        places = sorted(row["places"].value.split())
        cards = [found.cards[p] for p in places if p in found.cards]
        card = cards[0] if cards else None
        status = row.get("labelStatus")
        every.append(
            Candidate(
                rank=int(row["rank"].value),
                iri=row["cluster"].value,
                name=card.name if card else places[0],
                locality=card.locality if card else "",
                place=card.iri if card else places[0],
                networks=int(row["networks"].value),
                organisations=int(row["organisations"].value),
                network_names=" · ".join(  # sparql/convergence-candidates.rq says why
                    sorted(set(row["networkNames"].value.split("\x1f")) - {""})
                )
                if "networkNames" in row
                else "",
                status=label(status.value) if status is not None else "",
            )
        )
    return every


@blueprint.get("/convergences")
def convergences_page() -> Response:
    """The ranked list, paginated."""
    raw = request.args.get("page", "1")
    page = int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1

    def build() -> Response:
        every = candidates()
        pages = max(1, -(-len(every) // PER_PAGE))
        shown = every[(page - 1) * PER_PAGE : page * PER_PAGE]
        html = render_template(
            "convergences.html", candidates=shown, total=len(every), page=page, pages=pages
        )
        return Response(html, mimetype="text/html")

    return cached(build)
