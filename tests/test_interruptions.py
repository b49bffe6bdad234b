"""A run killed (SIGKILL) at any stage of a publication is repaired by the next
``ltc harvest``, without anyone's help: it publishes the same statements in every graph
as a run that was never interrupted.

Each case runs the real pipeline in a child process that kills itself at one point: half
way through loading a source's graph, its report graph or the derived graph (the part
already loaded stays in the store, as after a real kill), just before the metadata
update, or between the snapshot and the generation stamp. Embedded store: the only
backend whose writes are not each one transaction.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from core.config import child_environment, load_settings
from core.iris import Iris
from core.store import open_store
from ltc.pipeline import harvest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SOURCES = ("energie-citoyenne", "tiers-lieux")  # two networks that meet at places

# The child: settings from its environment; ``stage`` names where it kills itself.
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    import pyoxigraph as ox
    from core.config import load_settings
    from core.datafolder import DataFolder
    from core.store.embedded import EmbeddedStore
    from ltc import pipeline

    stage, action = sys.argv[1], sys.argv[2]
    settings = load_settings()

    def die():
        os.kill(os.getpid(), signal.SIGKILL)

    def half_then_die(store, graph, ntriples):
        # what a kill during a bulk load leaves: the graph marked, half of it loaded
        node = ox.NamedNode(graph)
        store._write_incomplete(store.incomplete_graphs() | {graph})
        lines = ntriples.splitlines(keepends=True)
        store._db.bulk_load(b"".join(lines[: len(lines) // 2]), ox.RdfFormat.N_TRIPLES,
                            to_graph=node)
        store._db.flush()
        die()

    original_replace = EmbeddedStore.replace_graph
    def replace_graph(self, graph, ntriples, previous=None):
        if stage in graph and ntriples:
            half_then_die(self, graph, ntriples)
        return original_replace(self, graph, ntriples, previous)
    EmbeddedStore.replace_graph = replace_graph

    original_update = EmbeddedStore.update
    def update(self, text):
        if stage == "graph/meta" and "graph/meta" in text:
            die()
        return original_update(self, text)
    EmbeddedStore.update = update

    original_current = DataFolder.write_current
    def write_current(self, generation):
        if stage == "CURRENT":
            (self.root / ".CURRENT.tmp").write_text(generation[:5])  # half a stamp
            die()
        return original_current(self, generation)
    DataFolder.write_current = write_current

    if action == "harvest":
        pipeline.harvest(settings)
    else:
        pipeline.derive(settings, force=True)
    sys.exit(3)  # the stage was never reached
    """
)


def make_settings(folder: Path):
    catalog = (EXAMPLES / "sources.toml").read_text(encoding="utf-8")
    blocks = [b for b in catalog.split("[[source]]") if re.search(r'id = "([^"]+)"', b)]
    chosen = [b for b in blocks if re.search(r'id = "([^"]+)"', b).group(1) in SOURCES]
    text = "".join(
        "[[source]]" + b.replace('url = "feeds/', f'url = "{EXAMPLES.as_posix()}/feeds/')
        for b in chosen
    )
    folder.mkdir(parents=True)
    (folder / "sources.toml").write_text(text, encoding="utf-8")
    return load_settings(
        overrides={
            "data_dir": str(folder / "data"),
            "sources_file": str(folder / "sources.toml"),
            "harvest_workers": 1,
        },
        environ={},
    )


def published(settings) -> dict[str, set[str]]:
    """Every graph the readers see, as sets of N-Triples lines; the metadata graph keeps
    only what does not depend on when and how often harvests ran."""
    graphs = {}
    with open_store(settings, writer=False) as reader:
        for graph in reader.named_graphs():
            lines = set(reader.graph_ntriples(graph).decode().splitlines())
            if graph == Iris(settings.base_iri).meta_graph:
                lines = {
                    line
                    for line in lines
                    if "/harvest/" not in line and "lastSuccessfulHarvest" not in line
                }
            graphs[graph] = lines
    return graphs


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """What an uninterrupted harvest publishes."""
    settings = make_settings(tmp_path_factory.mktemp("reference") / "registry")
    outcomes = harvest(settings)
    assert all(o.status == "loaded" for o in outcomes)
    return published(settings)


def run_child(settings, stage: str, action: str = "harvest") -> int:
    script = Path(settings.data_dir).parent / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), stage, action],
        env=child_environment(settings),
        capture_output=True,
        timeout=300,
    )
    return done.returncode


STAGES = {
    "a source's graph": "graph/source/tiers-lieux",
    "a report graph": "graph/report/tiers-lieux",
    "the derived graph": "graph/derived",
    "the metadata graph": "graph/meta",
    "the generation stamp": "CURRENT",
}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_a_harvest_killed_at_any_stage_is_repaired_by_the_next(tmp_path, reference, stage):
    settings = make_settings(tmp_path / "registry")
    assert run_child(settings, STAGES[stage]) == -9, "the child was not killed at its stage"
    outcomes = harvest(settings)
    assert not any(o.failed for o in outcomes), outcomes
    assert published(settings) == reference


def test_a_recomputation_of_the_derived_graph_killed_midway_is_repaired(tmp_path, reference):
    """Killed while the derived graph is written, with nothing else changed since it was
    last computed: the next harvest computes it again instead of leaving it half-done."""
    settings = make_settings(tmp_path / "registry")
    harvest(settings)
    assert run_child(settings, "graph/derived", action="derive") == -9
    with open_store(settings, writer=True) as writer:
        assert Iris(settings.base_iri).derived_graph in writer.incomplete_graphs()
    outcomes = harvest(settings)
    assert all(o.status == "unchanged" for o in outcomes)
    assert published(settings) == reference


def test_what_a_killed_run_published_stays_whole_for_readers(tmp_path, reference):
    """Killed half way through the derived graph, after the sources were published: the
    readers see the sources' new data and no half graph."""
    settings = make_settings(tmp_path / "registry")
    assert run_child(settings, "graph/derived") == -9
    seen = published(settings)
    derived = Iris(settings.base_iri).derived_graph
    assert derived not in seen  # the half-loaded graph was never published
    for source in SOURCES:
        graph = Iris(settings.base_iri).source_graph(source)
        assert seen[graph] == reference[graph]
