"""Quality and speed of place identity matching on a large synthetic federation.

Generates a federation of N place records (default 100 000) whose truth is known:
physical places, most described once, some by two or three networks (or twice by one
network), with the noise real feeds have — names written differently (generic word
added or dropped, commune appended, capitals, accents lost, typos, abbreviations),
addresses formatted differently or missing, coordinates missing or pins moved up to
~250 m — and near neighbours that are *different* places (two shops in one street
80–200 m apart, some with half their name in common, some with the same name).

Prints the precision and recall of the pairs the registry puts in one cluster
(inferred links only: the generated feeds declare nothing) and the time to recompute
every link and cluster, side by side with the targets of issue 6.

    python benchmarks/convergence_quality.py [--places 100000] [--seed 6] [--store]

``--store`` also times the whole derivation as the harvester runs it: the places (with
one organisation and presence each) are loaded into a temporary embedded store, one
graph per network, and ``derive_graph`` reads them back with SPARQL, computes and
serialises the derived graph.
"""

from __future__ import annotations

import argparse
import math
import random
import resource
import sys
import time
from itertools import accumulate, combinations
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from convergence.cluster import DEFAULT_MAX_CLUSTER_KM
from convergence.curation import Curation
from convergence.derive import compute_from
from convergence.model import PlaceFacts

TARGET_PRECISION = 0.95
TARGET_RECALL = 0.90
TARGET_SECONDS = 30.0


def _word_list(text: str) -> list[str]:
    return text.split()


KINDS = [
    "Épicerie",
    "Boutique",
    "Atelier",
    "Café",
    "Ferme",
    "Jardin",
    "Maison",
    "Salle",
    "Librairie",
    "Recyclerie",
    "Repair Café",
    "AMAP",
    "Tiers-lieu",
    "Garage solidaire",
    "Ressourcerie",
    "Fournil",
    "Cantine",
    "Halle",
]
NOUNS = _word_list(
    "Filature Possibles Communs Moulin Bocal Ruche Grange Fabrique Cordée Hangar Usine "
    "Forge Source Colline Prairie Chênaie Écluse Passerelle Lanterne Boussole Marmite "
    "Fourmilière Tisserands Semeurs Glaneurs Potagers Vergers Abeilles Lavoir Tilleul "
    "Pressoir Estuaire Rivage Clairière Bruyère Garrigue Ardoise Chouette Hirondelle "
    "Loutre Renouée Roseraie Fontaine Cabane Roulotte Arbre Racines Graines Sillons "
    "Terrasse Chaudron Fenouil Cerisier Noisetier Marronnier Olivier Pommeraie Houblon "
    "Vignes Coquelicot Lierre Myosotis Fougère Mésange Castor Hérisson Luciole Papillon "
    "Tournesol Escargot Ricochet Carrefour Comptoir Établi Navette Rucher Quai Phare "
    "Balise Cairn Belvédère Escale Relais Grenier Cellier Fruitier Potager Cour Patio "
    "Préau Alambic Chantier Atelier Établissement Tremplin Brindille Copeau Étincelle "
    "Ficelle Bobine"
)
ADJECTIVES = _word_list(
    "Solidaire Vert Vive Libre Partagé Nouveau Vieux Petit Grand Joyeux Paysan Citoyen "
    "Équitable Commun Rural Urbain Durable Sauvage Doux Clair Ouvert Voisin Buissonnier "
    "Fertile Lumineux Curieux Tranquille Généreux Bleu Rouge"
)
PEOPLE = _word_list(
    "Jean-Jaurès Victor-Hugo Louise-Michel Simone-Veil Jean-Moulin Pasteur Gambetta "
    "Condorcet Voltaire Jules-Ferry Marie-Curie Rosa-Parks Olympe-de-Gouges George-Sand "
    "Saint-Jacques Saint-Martin Sainte-Anne Saint-Pierre Général-de-Gaulle Maréchal-Foch "
    "République Liberté Paix Gare Église Mairie Marché Moulins Tanneurs Remparts Poterne "
    "Vieux-Pont Croix-Blanche Petit-Bois Four-Banal Chartreux Mariniers Écoles Tilleuls "
    "Lilas Acacias Peupliers Vignes Prés Champs Fontaines Jardins Carrières Forges"
)
STREET_TYPES = ["rue", "avenue", "boulevard", "place", "chemin", "impasse", "allée", "quai"]
ABBREVIATED = {"rue": "r.", "avenue": "av.", "boulevard": "bd", "chemin": "ch.", "place": "pl."}


def _name(rng: random.Random) -> str:
    """A place name such as « Épicerie La Marmite Solidaire »."""
    noun = rng.choice(NOUNS)
    article = rng.choice(["Le", "La", "Les", "L'", "", "du", "des"])
    core = f"{article} {noun}".strip().replace("L' ", "L'")
    if rng.random() < 0.5:
        core += " " + rng.choice(ADJECTIVES)
    if rng.random() < 0.3:
        core += " " + rng.choice(NOUNS)
    return f"{rng.choice(KINDS)} {core}" if rng.random() < 0.6 else core


def _typo(word: str, rng: random.Random) -> str:
    if len(word) < 5:
        return word
    i = rng.randrange(1, len(word) - 1)
    choice = rng.random()
    if choice < 0.4:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if choice < 0.7:
        return word[:i] + word[i + 1 :]
    return word[:i] + rng.choice("aeioursnt") + word[i + 1 :]


def _strip_accents(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _name_variant(name: str, town: str, rng: random.Random) -> str:
    """How another network writes the same name."""
    words = name.split()
    if words[0] in {k.split()[0] for k in KINDS} and len(words) > 2 and rng.random() < 0.4:
        words = words[1:] if words[0] != "Repair" else words[2:]
    elif rng.random() < 0.2:
        words = [rng.choice(["Tiers-lieu", "Association", "Collectif", "Boutique"]), *words]
    text = " ".join(words)
    roll = rng.random()
    if roll < 0.15:
        text = f"{text} ({town})"
    elif roll < 0.25:
        text = f"{text} - {town}"
    if rng.random() < 0.25:
        parts = text.split()
        k = rng.randrange(len(parts))
        parts[k] = _typo(parts[k], rng)
        text = " ".join(parts)
    if rng.random() < 0.1:
        text = text.upper()
    if rng.random() < 0.2:
        text = _strip_accents(text)
    if rng.random() < 0.2:
        text = text.replace("Saint-", "St-").replace("Sainte-", "Ste-")
    return text


def _street_variant(street: str, rng: random.Random) -> str:
    number, kind, rest = street.split(" ", 2)
    if rng.random() < 0.3:
        kind = ABBREVIATED.get(kind, kind)
    sep = ", " if rng.random() < 0.3 else " "
    text = f"{number}{sep}{kind} {rest}"
    if rng.random() < 0.1:
        text = text.upper()
    if rng.random() < 0.1:
        text = _strip_accents(text)
    return text


def _offset(lat: float, lon: float, metres: float, rng: random.Random) -> tuple[float, float]:
    angle = rng.uniform(0, 2 * math.pi)
    dlat = metres * math.sin(angle) / 111_320
    dlon = metres * math.cos(angle) / (111_320 * math.cos(math.radians(lat)))
    return lat + dlat, lon + dlon


def _pin_noise(rng: random.Random) -> float:
    """Metres between two networks' pins of one place."""
    roll = rng.random()
    if roll < 0.80:
        return rng.uniform(0, 30)
    if roll < 0.95:
        return rng.uniform(30, 120)
    return rng.uniform(120, 250)


def generate(total: int, seed: int) -> tuple[dict[str, PlaceFacts], dict[str, int]]:
    """``total`` place records and, for each, the physical place it describes."""
    rng = random.Random(seed)
    networks = [f"https://reseau-{i:02d}.example.org/reseau" for i in range(30)]
    towns = []
    for t in range(max(20, total // 40)):
        weight = 1 / (t + 1) ** 0.8  # a few cities, many villages
        lat, lon = rng.uniform(43.0, 50.5), rng.uniform(-1.5, 7.0)
        streets = [
            f"{rng.choice(STREET_TYPES)} {rng.choice(['de la', 'du', 'des', ''])} {p}".replace(
                "  ", " "
            )
            for p in rng.sample(PEOPLE, 25)
        ]
        towns.append((f"Commune{t}", f"{10000 + t * 7 % 89999:05d}", lat, lon, weight, streets))
    cumulative = list(accumulate(town[4] for town in towns))
    records: dict[str, PlaceFacts] = {}
    truth: dict[str, int] = {}
    entity = 0

    def add(entity_id: int, network: str, name: str, lat, lon, street, town) -> None:
        iri = f"{network.removesuffix('reseau')}lieux/{len(records)}"
        missing_coords = rng.random() < 0.04
        missing_street = rng.random() < 0.08
        records[iri] = PlaceFacts(
            iri=iri,
            graph=network,
            source=network,
            networks=frozenset({network}),
            name=name,
            lat=None if missing_coords else lat,
            lon=None if missing_coords else lon,
            street="" if missing_street else street,
            postcode=town[1],
            locality=town[0],
        )
        truth[iri] = entity_id

    while len(records) < total:
        town = rng.choices(towns, cum_weights=cumulative)[0]
        spread = 300 + 3000 * town[4]
        lat, lon = _offset(town[2], town[3], abs(rng.gauss(0, spread)), rng)
        street_name = rng.choice(town[5])
        number = rng.randint(1, 150)
        name = _name(rng)
        copies = rng.choices([1, 2, 3], [0.84, 0.13, 0.03])[0]
        chosen = rng.sample(networks, copies)
        if copies == 2 and rng.random() < 0.08:
            chosen = [chosen[0], chosen[0]]  # a duplicate inside one network's feed
        for k, network in enumerate(chosen):
            if k == 0:
                add(entity, network, name, lat, lon, f"{number} {street_name}", town)
            else:
                plat, plon = _offset(lat, lon, _pin_noise(rng), rng)
                add(
                    entity,
                    network,
                    _name_variant(name, town[0], rng),
                    plat,
                    plon,
                    _street_variant(f"{number} {street_name}", rng),
                    town,
                )
        entity += 1
        if rng.random() < 0.15 and len(records) < total:
            # a different place in the same street, 80-200 m away; sometimes with half
            # of its name in common (« Le Bocal à Projets » / « Le Bocal Équitable »),
            # sometimes with the very same name (two sites of one association)
            nlat, nlon = _offset(lat, lon, rng.uniform(80, 200), rng)
            other = _name(rng)
            roll = rng.random()
            if roll < 0.3:
                other = f"{name.split()[0]} {rng.choice(NOUNS)} {rng.choice(ADJECTIVES)}"
            elif roll < 0.4:
                other = name  # a namesake: the same name, another number of the street
            other_number = number + rng.choice([-1, 1]) * rng.randint(4, 40)
            add(
                entity,
                rng.choice(networks),
                other,
                nlat,
                nlon,
                f"{max(1, other_number)} {street_name}",
                town,
            )
            entity += 1
    return records, truth


def _ntriples(places: dict[str, PlaceFacts]) -> dict[str, list[str]]:
    """The generated places as N-Triples lines, by network."""
    schema = "https://schema.org/"
    ltc = "https://w3id.org/ltc/ns#"
    kind = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
    double = "<http://www.w3.org/2001/XMLSchema#double>"
    by_network: dict[str, list[str]] = {}
    for iri, place in places.items():
        [network] = place.networks
        name = place.name.replace("\\", "\\\\").replace('"', '\\"')
        lines = by_network.setdefault(network, [])
        org = iri.replace("/lieux/", "/organisations/")
        lines += [
            f"<{iri}> {kind} <{schema}Place> .",
            f'<{iri}> <{schema}name> "{name}" .',
            f"<{iri}> <{schema}address> <{iri}#adresse> .",
            f'<{iri}#adresse> <{schema}postalCode> "{place.postcode}" .',
            f'<{iri}#adresse> <{schema}addressLocality> "{place.locality}" .',
            f"<{org}> {kind} <{schema}Organization> .",
            f"<{org}> <{schema}memberOf> <{network}> .",
            f"<{iri}#presence> {kind} <{ltc}Presence> .",
            f"<{iri}#presence> <{ltc}organisation> <{org}> .",
            f"<{iri}#presence> <{ltc}place> <{iri}> .",
        ]
        if place.street:
            street = place.street.replace('"', '\\"')
            lines.append(f'<{iri}#adresse> <{schema}streetAddress> "{street}" .')
        if place.lat is not None:
            lines += [
                f"<{iri}> <{schema}geo> <{iri}#geo> .",
                f'<{iri}#geo> <{schema}latitude> "{place.lat:.6f}"^^{double} .',
                f'<{iri}#geo> <{schema}longitude> "{place.lon:.6f}"^^{double} .',
            ]
    return by_network


def store_seconds(places: dict[str, PlaceFacts]) -> tuple[int, float, float, float]:
    """(triples, load seconds, seconds to derive reading the store, seconds to derive
    reading the harvester's files as ``derive_graph`` does) on a temporary data folder."""
    import tempfile

    from convergence.accepted import read_accepted
    from convergence.derive import compute, derived_ntriples, result_from_facts
    from core.config import load_settings
    from core.harvest_files import SourceFiles
    from core.iris import Iris
    from core.store import open_store

    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(overrides={"data_dir": folder}, environ={})
        iris = Iris(settings.base_iri)
        triples = 0
        started = time.perf_counter()
        with open_store(settings, writer=True) as store:
            meta = []
            publishers = {}
            for number, (network, lines) in enumerate(sorted(_ntriples(places).items())):
                source = f"reseau-{number:02d}"
                graph = iris.source_graph(source)
                data = "\n".join(lines).encode("utf-8") + b"\n"
                store.replace_graph(graph, data)
                SourceFiles(settings.data_dir, source).save_accepted(data)
                publishers[source] = network
                triples += len(lines)
                meta += [
                    f"<{iris.source(source)}> <https://w3id.org/ltc/ns#namedGraph> <{graph}> .",
                    f"<{iris.source(source)}> <http://purl.org/dc/terms/publisher> <{network}> .",
                ]
            store.replace_graph(iris.meta_graph, "\n".join(meta).encode("utf-8") + b"\n")
            store.publish()
        loaded = time.perf_counter() - started
        with open_store(settings, writer=False) as store:
            started = time.perf_counter()
            derived_ntriples(compute(store, Curation(), iris=iris), iris)
            through_store = time.perf_counter() - started
        started = time.perf_counter()
        facts = read_accepted(settings, iris, publishers)
        derived_ntriples(result_from_facts(facts, Curation(), DEFAULT_MAX_CLUSTER_KM), iris)
        through_files = time.perf_counter() - started
    return triples, loaded, through_store, through_files


def pairs_by(groups: dict[object, list[str]]) -> set[tuple[str, str]]:
    found = set()
    for members in groups.values():
        found.update(combinations(sorted(members), 2))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--places", type=int, default=100_000, help="place records (100000)")
    parser.add_argument("--seed", type=int, default=6, help="random seed (6)")
    parser.add_argument(
        "--store", action="store_true", help="also time derive_graph over an embedded store"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    places, truth = generate(args.places, args.seed)
    generated = time.perf_counter() - started
    entities: dict[int, list[str]] = {}
    for iri, entity in truth.items():
        entities.setdefault(entity, []).append(iri)
    true_pairs = pairs_by(entities)

    started, cpu = time.perf_counter(), time.process_time()
    result = compute_from(places)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu

    found_pairs = pairs_by({c.id: list(c.places) for c in result.clusters})
    right = len(found_pairs & true_pairs)
    precision = right / len(found_pairs) if found_pairs else 1.0
    recall = right / len(true_pairs) if true_pairs else 1.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(
        f"{len(places)} lieux, {len(entities)} lieux physiques, {len(true_pairs)} paires "
        f"vraies ; générés en {generated:.1f} s ; mémoire max {peak:.0f} Mo"
    )
    print(
        f"liens déduits : {sum(1 for link in result.applied if link.kind == 'inferred')} "
        f"appliqués, {len(result.uncertain)} incertains (à revoir)"
    )
    print()
    print(f"{'mesure':<34}{'obtenu':>12}{'cible':>12}  ")
    rows = [
        (
            "précision (paires réunies)",
            f"{precision:.4f}",
            f"≥ {TARGET_PRECISION}",
            precision >= TARGET_PRECISION,
        ),
        ("rappel (paires réunies)", f"{recall:.4f}", f"≥ {TARGET_RECALL}", recall >= TARGET_RECALL),
        (
            f"recalcul complet ({len(places)} lieux)",
            f"{seconds:.1f} s",
            f"≤ {TARGET_SECONDS:.0f} s",
            seconds <= TARGET_SECONDS,
        ),
        (
            "  dont temps CPU (machine partagée)",
            f"{cpu:.1f} s",
            f"≤ {TARGET_SECONDS:.0f} s",
            cpu <= TARGET_SECONDS,
        ),
    ]
    for label, value, target, ok in rows:
        print(f"{label:<34}{value:>12}{target:>12}  {'OK' if ok else 'MANQUÉ'}")
    if args.store:
        triples, loaded, through_store, through_files = store_seconds(places)
        print(
            f"{'graphe dérivé, lu dans le magasin':<34}{through_store:>10.1f} s{'≤ 30 s':>12}  "
            f"(lecture SPARQL + calcul + N-Triples ; {triples} triplets chargés en {loaded:.0f} s)"
        )
        print(
            f"{'graphe dérivé, lu dans les fichiers':<34}{through_files:>10.1f} s{'≤ 30 s':>12}  "
            "(accepted.nt des sources, comme derive_graph après un moissonnage)"
        )


if __name__ == "__main__":
    main()
