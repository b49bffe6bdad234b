"""No visitor can stall the public site: against a real ``ltc serve`` (waitress), a
crowd of slow or idle connections, or SPARQL clients running queries that only the
timeout ends, leave a fresh visitor's ``/health`` and ``/?q=Tours`` answering quickly.

The attackers run in a process of their own (so this process only measures); every probe
opens a new connection, as a new visitor does.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import textwrap
import time
from dataclasses import fields

import requests

from core.config import Settings
from running_registry import start_registry, stop_registry

# Connections that hold the server: ``slow`` send a request line a byte every 5 s and
# never finish it; ``idle`` send one request, read the answer and stay open. Closed ones
# are opened again, so the pressure holds for the whole time.
CROWD = textwrap.dedent(
    """
    import resource, selectors, socket, sys, time
    host, port, slow, idle, seconds = sys.argv[1], int(sys.argv[2]), *map(int, sys.argv[3:6])
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    line = b"GET /?q=Tours HTTP/1.1\\r\\nHost: x\\r\\n"
    def connect(kind):
        sock = socket.create_connection((host, port), timeout=5)
        sock.setblocking(False)
        if kind == "idle":
            sock.sendall(b"GET /health HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
        return [sock, kind, 0]
    conns = [connect("slow") for _ in range(slow)] + [connect("idle") for _ in range(idle)]
    print("ready", flush=True)
    end = time.monotonic() + seconds
    reopened = 0
    while time.monotonic() < end:
        for c in conns:
            sock, kind, sent = c
            try:
                if kind == "slow" and sent < len(line):
                    sock.send(line[sent:sent + 1]); c[2] += 1
                else:
                    data = sock.recv(65536)
                    if data == b"":
                        raise ConnectionError
            except BlockingIOError:
                pass
            except OSError:
                sock.close(); c[:] = connect(kind); reopened += 1
        time.sleep(5)
    print("reopened", reopened, flush=True)
    """
)

# Clients that each send, again and again, a query only the timeout ends.
SPARQL_CLIENTS = textwrap.dedent(
    """
    import sys, threading, time, requests
    url, clients, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    end = time.monotonic() + seconds
    statuses = []
    def run():
        session = requests.Session()
        while time.monotonic() < end:
            try:
                statuses.append(session.get(url, params={"query": query}, timeout=30).status_code)
            except requests.RequestException:
                statuses.append(0)
    threads = [threading.Thread(target=run) for _ in range(clients)]
    print("ready", flush=True)
    for t in threads: t.start()
    for t in threads: t.join()
    print("statuses", sorted(set(statuses)), len(statuses), flush=True)
    """
)


def probe(url: str, seconds: float, every: float = 0.25) -> dict[str, list[float]]:
    """Latencies of a fresh visitor's two requests, each on a new connection."""
    timings: dict[str, list[float]] = {"/health": [], "/?q=Tours": []}
    end = time.monotonic() + seconds
    while not timings["/health"] or time.monotonic() < end:
        for path, seen in timings.items():
            started = time.monotonic()
            answer = requests.get(url + path, timeout=30, headers={"Connection": "close"})
            seen.append(time.monotonic() - started)
            assert answer.status_code == 200, (path, answer.status_code)
        time.sleep(every)
    return timings


def started_process(script: str, *args: object) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", script, *map(str, args)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "ready"
    return process


def finished(process: subprocess.Popen, seconds: float) -> str:
    """What the process printed once it ended (killed after ``seconds``)."""
    try:
        output, _ = process.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output or ""


def with_settings(settings: Settings, **changes: object) -> Settings:
    return Settings(**{**{f.name: getattr(settings, f.name) for f in fields(Settings)}, **changes})


def test_hundreds_of_slow_and_idle_connections_leave_the_site_answering(example_registry, tmp_path):
    server = start_registry(example_registry.settings, tmp_path / "serve.log")
    probe(server.url, 0)  # warmed up: its first search is not what is measured
    host, port = server.url.removeprefix("http://").split(":")
    crowd = started_process(CROWD, host, port, 300, 300, 40)
    try:
        timings = probe(server.url, 38)
        report = finished(crowd, 30)
    finally:
        stop_registry(server)
    for path, seen in timings.items():
        assert max(seen) < 1.0, f"{path}: slowest {max(seen):.2f} s of {len(seen)}"
    assert "reopened" in report  # the slow senders were cut by the header deadline


def test_sparql_clients_running_until_the_timeout_do_not_stall_the_public_pages(
    example_registry, tmp_path
):
    settings = with_settings(example_registry.settings, sparql_timeout=5, sparql_rate_limit=100_000)
    server = start_registry(settings, tmp_path / "serve.log")
    probe(server.url, 0)  # warmed up: its first search is not what is measured
    clients = started_process(SPARQL_CLIENTS, server.sparql, 8, 20)
    try:
        time.sleep(2)  # the queries are running
        timings = probe(server.url, 15)
        report = finished(clients, 40)
    finally:
        stop_registry(server)
    for path, seen in timings.items():
        p95 = statistics.quantiles(seen, n=20)[-1]
        assert p95 < 0.5, f"{path}: p95 {p95:.2f} s over {len(seen)} probes"
    assert "503" in report  # the workers were saturated: the extra queries were refused
    log = (tmp_path / "serve.log").read_text()
    assert '"queued_ms"' in log  # the access log tells waiting from working


def test_queue_warnings_become_one_line_a_minute():
    import logging

    from ltc.server import QueueSummary

    now = [0.0]
    summary = QueueSummary(every=60, clock=lambda: now[0])
    logger = logging.getLogger("test.waitress.queue")
    passed: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            passed.append(record.getMessage())

    logger.addFilter(summary)
    logger.addHandler(Keep())
    logger.propagate = False
    for depth in (1, 3, 2, 1):
        now[0] += 10
        logger.warning("Task queue depth is %d", depth)
    assert passed == []  # nothing yet: the minute is not over
    now[0] = 61
    logger.warning("Task queue depth is %d", 1)
    assert passed == ["requests that waited for a thread in the last 61 s: 5 (deepest queue 3)"]
    logger.warning("something else")
    assert passed[-1] == "something else"  # other warnings go through as they are


def test_a_slow_sender_is_cut_at_the_header_deadline(example_registry, tmp_path):
    import socket

    settings = with_settings(example_registry.settings, serve_header_timeout=2)
    server = start_registry(settings, tmp_path / "serve.log")
    host, port = server.url.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            started = time.monotonic()
            closed_after = None
            for byte in b"GET /?q=Tours HTTP/1.1\r\nHost: x\r\n":
                try:
                    sock.sendall(bytes([byte]))
                    sock.settimeout(0.5)
                    if sock.recv(1) == b"":
                        closed_after = time.monotonic() - started
                        break
                except TimeoutError:
                    continue
                except OSError:
                    closed_after = time.monotonic() - started
                    break
    finally:
        stop_registry(server)
    assert closed_after is not None and 2 <= closed_after < 5, closed_after
