"""``ltc convergence review`` and ``ltc convergence candidates``: what people decide and read.

Both recompute convergence from the store's current (published) content with the
repository's curation file, so what they show is what the next harvest will derive.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from convergence.curation import CurationError, load_curation
from convergence.derive import compute
from convergence.match import ACCEPT_SCORE
from convergence.model import Cluster, Link, Result
from core.iris import Iris
from core.store import StoreError, open_store
from ltc.cli_settings import command_settings

KIND_FR = {"confirmed": "confirmation", "declared": "lien déclaré", "inferred": "lien déduit"}
STATUS_FR = {"candidat": "candidat", "pilote": "pilote", "labellise": "labellisé"}


def _load(curation_file: Path | None) -> Result:
    settings = command_settings()
    try:
        curation = load_curation(curation_file or settings.curation_file or None)
        with open_store(settings, writer=False) as store:
            return compute(
                store, curation, settings.convergence_max_km, iris=Iris(settings.base_iri)
            )
    except (StoreError, CurationError) as error:
        raise click.ClickException(str(error)) from error


_CURATION_OPTION = click.option(
    "--curation",
    "curation_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Fichier de curation à appliquer (par défaut LTC_CURATION_FILE, sinon "
    "convergence/curation.toml) : "
    "pour essayer des décisions avant de les enregistrer.",
)


def _networks_of(result: Result, cluster: Cluster) -> set[str]:
    return set(cluster.networks) | set(cluster.place_networks)


def _network_label(result: Result, network: str) -> str:
    return result.network_names.get(network, network)


def review_items(result: Result) -> list[dict]:
    """What the collective should decide, most useful first: links that were refused
    (conflicts), then uncertain links — those that would bring the most networks
    together first, then those closest to the acceptance threshold."""
    items = []
    for conflict in result.conflicts:
        items.append(_item(result, conflict.link, "conflit", conflict.reason))
    uncertain = []
    for link in result.uncertain:
        item = _item(result, link, "incertain", "")
        uncertain.append(item)
    uncertain.sort(key=lambda i: (-i["reseaux_gagnes"], abs(i["score"] - ACCEPT_SCORE), i["a"]))
    return items + uncertain


def _item(result: Result, link: Link, kind: str, reason: str) -> dict:
    left = result.cluster_of.get(link.a)
    right = result.cluster_of.get(link.b)
    left_networks = _networks_of(result, left) if left else set()
    right_networks = _networks_of(result, right) if right else set()
    together = left_networks | right_networks
    gained = len(together) - max(len(left_networks), len(right_networks))

    def place(iri: str) -> dict:
        facts = result.places.get(iri)
        return {
            "iri": iri,
            "nom": facts.name if facts else "",
            "commune": facts.locality if facts else "",
            "reseaux": sorted(_network_label(result, n) for n in facts.networks) if facts else [],
        }

    return {
        "type": kind,
        "a": link.a,
        "b": link.b,
        "score": link.score,
        "lien": link.kind,
        "indices": list(link.evidence),
        "raison": reason,
        "reseaux_reunis": len(together),
        "reseaux_gagnes": gained,
        "lieu_a": place(link.a),
        "lieu_b": place(link.b),
    }


def candidate_rows(result: Result) -> list[dict]:
    """Candidate Lieux de Convergence in rank order, as plain data."""
    rows = []
    for rank, cluster in enumerate(result.candidates, 1):
        first = result.places[cluster.places[0]]
        rows.append(
            {
                "rang": rank,
                "id": cluster.id,
                "nom": first.name,
                "commune": first.locality,
                "reseaux": len(cluster.networks),
                "organisations": len(cluster.organisations),
                "noms_reseaux": [_network_label(result, n) for n in cluster.networks],
                "lieux": list(cluster.places),
                "label": sorted(
                    {
                        STATUS_FR.get(short, short)
                        for short in (label.status.rsplit("/", 1)[-1] for label in cluster.labels)
                    }
                ),
            }
        )
    return rows


_FORMAT_OPTION = click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text pour les personnes, json pour les programmes.",
)


@click.group("convergence")
def convergence_group() -> None:
    """Lieux de Convergence : identité des lieux entre réseaux et lieux candidats."""


@convergence_group.command("review")
@_CURATION_OPTION
@click.option("--limit", type=int, default=30, show_default=True, help="Nombre de liens listés.")
@_FORMAT_OPTION
def review_command(limit: int, output_format: str, curation_file: Path | None) -> None:
    """Liste les liens d'identité à trancher, les plus utiles d'abord.

    En tête, les liens refusés (conflit avec un rejet, distance trop grande) ; puis
    les liens incertains, d'abord ceux qui réuniraient le plus de réseaux, puis ceux
    dont le score est le plus proche du seuil. Pour trancher, ajoutez une entrée
    [[confirme]] ou [[rejete]] dans convergence/curation.toml.
    """
    items = review_items(_load(curation_file))
    shown = items[:limit] if limit > 0 else items
    if output_format == "json":
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
        return
    if not items:
        click.echo("Aucun lien à trancher.")
        return
    click.echo(
        f"{len(items)} lien(s) à trancher, les plus utiles d'abord ({len(shown)} listés) :\n"
    )
    for number, item in enumerate(shown, 1):
        what = (
            f"CONFLIT ({KIND_FR[item['lien']]}) : {item['raison']}"
            if item["type"] == "conflit"
            else f"score {item['score']:.2f} (seuil {ACCEPT_SCORE:.2f})"
        )
        click.echo(
            f"{number}. {what} · réunirait {item['reseaux_reunis']} réseau(x) "
            f"(+{item['reseaux_gagnes']})"
        )
        for key in ("lieu_a", "lieu_b"):
            place = item[key]
            click.echo(
                f"   {place['nom'] or '(sans nom)'} — {place['commune'] or '?'} "
                f"[{', '.join(place['reseaux'])}]"
            )
            click.echo(f"     {place['iri']}")
        if item["indices"]:
            click.echo(f"   indices : {', '.join(item['indices'])}")
        click.echo("")
    click.echo(
        "Pour trancher : ajoutez à convergence/curation.toml une entrée [[confirme]] ou "
        '[[rejete]] avec a = "…", b = "…" et une note.'
    )


@convergence_group.command("candidates")
@_CURATION_OPTION
@click.option("--limit", type=int, default=0, help="Nombre de lieux listés (0 : tous).")
@_FORMAT_OPTION
def candidates_command(limit: int, output_format: str, curation_file: Path | None) -> None:
    """Liste les lieux candidats : lieux où sont présentes des organisations d'au moins
    deux réseaux, classés par nombre de réseaux puis d'organisations."""
    rows = candidate_rows(_load(curation_file))
    if limit > 0:
        rows = rows[:limit]
    if output_format == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("Aucun lieu candidat : aucun lieu ne réunit encore deux réseaux.")
        return
    header = f"{'rang':>4}  {'réseaux':>7}  {'organis.':>8}  {'label':<10}  lieu"
    click.echo(header)
    click.echo("-" * 78)
    for row in rows:
        click.echo(
            f"{row['rang']:>4}  {row['reseaux']:>7}  {row['organisations']:>8}  "
            f"{', '.join(row['label']) or '—':<10}  {row['nom']} ({row['commune'] or '?'})"
        )
        click.echo(f"{'':>36}{' · '.join(row['noms_reseaux'])}")
