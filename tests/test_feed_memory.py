"""A feed within the size limits cannot take the harvester's memory: feeds whose shape
multiplies memory (tiny statements, JSON made of empty arrays) are refused while they are
read, with a reason, and real feeds still load; the peak of each process reading them is
the kernel's own high-water mark (``VmHWM``), read while it runs, not an estimate.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.config import child_environment, load_settings

REPO = Path(__file__).resolve().parent.parent
LIMIT_MIB = 1024  # the default max_feed_memory
SLACK_MIB = 150  # the interpreter and its libraries, before any feed


def _tree(root: int) -> list[int]:
    """``root`` and every process descending from it, from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, ppid in parents.items() if ppid in frontier]
        found += frontier
    return found


def _high_water(pid: int) -> int:
    """The process's peak resident memory so far, in KiB (VmHWM: since its exec, so not
    inherited from the test process that forked it)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def peak_of(command: list[str], env: dict[str, str]) -> tuple[int, str, int]:
    """Exit status, standard error and the peak resident memory (MiB) of the largest of a
    command's processes (it and its workers), read from /proc while they run."""
    peak = 0
    with subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as process:
        reader = threading.Thread(target=lambda: errors.append(process.stderr.read()))
        errors: list[str] = []
        reader.start()
        while process.poll() is None:
            for pid in _tree(process.pid):
                peak = max(peak, _high_water(pid))
            time.sleep(0.02)
        reader.join()
    return process.returncode, "".join(errors), peak // 1024


def write_dense_turtle(path: Path, size: int) -> None:
    """``size`` bytes of the tiniest statements (``:N :p :o .``)."""
    with open(path, "w", encoding="ascii") as out:
        out.write("@prefix : <https://net.example.org/> .\n")
        written, n = 0, 0
        while written < size:
            block = "".join(f":{i} :p :o .\n" for i in range(n, n + 10_000))
            out.write(block)
            written, n = written + len(block), n + 10_000


@pytest.fixture
def environment(tmp_path):
    settings = load_settings(overrides={"data_dir": str(tmp_path / "data")}, environ={})
    return child_environment(settings)


LTC = str(Path(sys.executable).with_name("ltc"))
SIZE = 63 * 1024 * 1024  # within the default max_feed_bytes (64 MiB)


def test_a_dense_feed_at_the_size_limit_is_refused_within_the_budget(tmp_path, environment):
    feed = tmp_path / "dense.ttl"
    write_dense_turtle(feed, SIZE)
    status, errors, peak = peak_of([LTC, "validate", str(feed)], environment)
    assert status == 2, errors
    assert "flux trop lourd" in errors and "max_feed_memory" in errors
    assert peak < LIMIT_MIB + SLACK_MIB, f"peak {peak} MiB"


def test_a_json_document_that_would_swell_once_loaded_is_refused_first(tmp_path, environment):
    feed = tmp_path / "lists.jsonld"
    feed.write_bytes(b"[" + b",".join([b"[]"] * (SIZE // 3)) + b"]")
    status, errors, peak = peak_of([LTC, "validate", str(feed)], environment)
    assert status == 2, errors
    assert "flux trop lourd" in errors and "lecture du JSON" in errors
    assert peak < LIMIT_MIB + SLACK_MIB, f"peak {peak} MiB"


def test_a_harvest_refuses_the_dense_source_keeps_the_others_and_stays_in_budget(
    tmp_path, environment
):
    dense = tmp_path / "dense.ttl"
    write_dense_turtle(dense, SIZE)
    catalog = tmp_path / "sources.toml"
    examples = (REPO / "examples" / "sources.toml").read_text(encoding="utf-8")
    collectif = next(b for b in examples.split("[[source]]") if 'id = "ltc-collectif"' in b)
    collectif = collectif.replace(
        'url = "feeds/', f'url = "{(REPO / "examples").as_posix()}/feeds/'
    )
    catalog.write_text(
        "[[source]]"
        + collectif
        + f"""
[[source]]
id = "dense"
title = "Flux dense"
network = "https://net.example.org/reseau"
url = "{dense.as_posix()}"
syntax = "turtle"
namespaces = ["https://net.example.org/"]
license = "https://creativecommons.org/licenses/by/4.0/"
contact = "mailto:test@net.example.org"
frequency = "daily"
""",
        encoding="utf-8",
    )
    environment["LTC_SOURCES_FILE"] = str(catalog)
    status, errors, peak = peak_of([LTC, "harvest"], environment)
    assert status == 1, errors  # one source failed
    assert "dense : flux trop lourd" in errors
    assert peak < LIMIT_MIB + SLACK_MIB, f"peak {peak} MiB"
    listed = subprocess.run(
        [LTC, "sources", "--format", "json"], env=environment, capture_output=True, text=True
    )
    assert '"status": "loaded"' in listed.stdout  # ltc-collectif loaded all the same


def test_a_feed_of_the_national_benchmark_still_loads(tmp_path, environment):
    subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "national_federation.py"),
            str(tmp_path / "national"),
            "--places",
            "8400",  # one feed of the 100 000-place benchmark's size (12 feeds)
            "--feeds",
            "1",
        ],
        check=True,
        capture_output=True,
    )
    feed = next((tmp_path / "national").glob("reseau-00.*"))
    status, errors, peak = peak_of([LTC, "validate", "--format", "json", str(feed)], environment)
    assert status in (0, 1), errors  # read and validated: some records are meant to fail
    assert peak < LIMIT_MIB + SLACK_MIB, f"peak {peak} MiB"
