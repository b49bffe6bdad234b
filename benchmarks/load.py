"""HTTP load generation for the service benchmark: sequential keep-alive requests (latency)
and N concurrent keep-alive connections (throughput).

Throughput uses ``wrk`` (Debian package ``wrk``) with a small Lua script that picks a
random path of a list for every request; without wrk, a Python fallback runs one process
per connection (it costs far more CPU than wrk, which matters on a 2-core machine shared
with the servers under test). Latency runs in this process, one request at a time, on one
keep-alive connection.
"""

from __future__ import annotations

import http.client
import itertools
import json
import math
import multiprocessing
import random
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile of ``values`` (``share`` in 0..1); NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


@dataclass
class Sample:
    """One answered request: HTTP status, body size and client-side time."""

    status: int
    size: int
    ms: float


class Client:
    """One keep-alive HTTP/1.1 connection, reopened when the server closes it."""

    def __init__(self, host: str, port: int, headers: dict[str, str], timeout: float = 300.0):
        self.host, self.port, self.headers, self.timeout = host, port, headers, timeout
        self._connection: http.client.HTTPConnection | None = None

    def get(self, path: str) -> tuple[int, bytes, float]:
        """GET ``path``; returns (status, body, milliseconds)."""
        for attempt in range(2):
            if self._connection is None:
                self._connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout
                )
            started = time.perf_counter()
            try:
                self._connection.request("GET", path, headers=self.headers)
                response = self._connection.getresponse()
                body = response.read()
            except (http.client.HTTPException, ConnectionError):
                self.close()
                if attempt:
                    raise
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if response.will_close:
                self.close()
            return response.status, body, elapsed
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close the connection (the next request opens a new one)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def sequential(
    host: str,
    port: int,
    paths: Iterable[str],
    headers: dict[str, str],
    max_seconds: float | None = None,
    min_requests: int = 1,
) -> list[Sample]:
    """GET every path in turn on one keep-alive connection; stop early after
    ``max_seconds`` (but not before ``min_requests`` answers)."""
    client = Client(host, port, headers)
    samples: list[Sample] = []
    deadline = None if max_seconds is None else time.perf_counter() + max_seconds
    try:
        for path in paths:
            status, body, ms = client.get(path)
            samples.append(Sample(status, len(body), ms))
            if deadline and len(samples) >= min_requests and time.perf_counter() > deadline:
                break
    finally:
        client.close()
    return samples


@dataclass
class Throughput:
    """What a load run measured (client side)."""

    tool: str
    seconds: float
    requests: int
    requests_per_s: float  # 2xx/3xx answers per second
    bad_status: int = 0  # answers other than 2xx/3xx
    socket_errors: int = 0
    latency_ms: dict[str, float] = field(default_factory=dict)  # "50%", "99%"…

    @property
    def clean(self) -> bool:
        """True when every request got a 2xx/3xx answer."""
        return self.bad_status == 0 and self.socket_errors == 0 and self.requests > 0


def have_wrk() -> bool:
    """True when the ``wrk`` load generator is on the PATH."""
    return shutil.which("wrk") is not None


def _lua_script(paths: list[str], headers: dict[str, str]) -> str:
    lines = ["local paths = {"]
    lines += [f"  {json.dumps(path)}," for path in paths]  # percent-encoded: plain ASCII
    lines.append("}")
    for name, value in headers.items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    lines += [
        "local counter = 0",
        "function setup(thread)",
        "  counter = counter + 1",
        "  thread:set('seed', counter * 7919)",
        "end",
        "function init(args)",
        "  math.randomseed(seed or 1)",
        "end",
        "function request()",
        "  return wrk.format('GET', paths[math.random(1, #paths)])",
        "end",
    ]
    return "\n".join(lines) + "\n"


def _wrk_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)([a-z]+)", text).groups()  # type: ignore[union-attr]
    return float(number) * UNITS[unit]


def run_wrk(
    base_url: str,
    paths: list[str],
    headers: dict[str, str],
    seconds: float,
    connections: int,
    threads: int,
    timeout: float = 30.0,
) -> Throughput:
    """``wrk`` with ``connections`` keep-alive connections for ``seconds``, each request
    a random path of ``paths`` (relative to ``base_url``)."""
    with tempfile.TemporaryDirectory(prefix="ltc-wrk-") as tmp:
        script = Path(tmp) / "paths.lua"
        script.write_text(_lua_script(paths, headers), encoding="ascii")
        command = [
            "wrk",
            f"-t{max(1, min(threads, connections))}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            f"--timeout={max(1, round(timeout))}s",
            "--latency",
            "-s",
            str(script),
            base_url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120)
    out = done.stdout
    if done.returncode != 0 or "Requests/sec" not in out:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or out}")
    total = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    assert total is not None
    result = Throughput(
        tool="wrk",
        seconds=_wrk_ms(total.group(2) + total.group(3)) / 1000,
        requests=int(total.group(1)),
        requests_per_s=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
    )
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result.bad_status = int(bad.group(1)) if bad else 0
    if result.bad_status:  # count only the answers that answered
        result.requests_per_s = (result.requests - result.bad_status) / result.seconds
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result.socket_errors = sum(int(n) for n in errors.groups()) if errors else 0
    for share, value in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)\s*$", out, re.M):
        result.latency_ms[f"{share}%"] = _wrk_ms(value)
    return result


def _python_worker(
    host: str, port: int, paths: list[str], headers: dict[str, str], seconds: float, seed: int
) -> tuple[int, int, list[float]]:
    rng = random.Random(seed)
    client = Client(host, port, headers, timeout=60.0)
    deadline = time.perf_counter() + seconds
    ok = bad = 0
    latencies: list[float] = []
    try:
        while time.perf_counter() < deadline:
            try:
                status, _, ms = client.get(rng.choice(paths))
            except (OSError, http.client.HTTPException):
                bad += 1
                continue
            latencies.append(ms)
            if 200 <= status < 400:
                ok += 1
            else:
                bad += 1
    finally:
        client.close()
    return ok, bad, latencies


def run_python(
    host: str,
    port: int,
    paths: list[str],
    headers: dict[str, str],
    seconds: float,
    connections: int,
) -> Throughput:
    """The fallback without wrk: one process per keep-alive connection."""
    context = multiprocessing.get_context("spawn")
    started = time.perf_counter()
    with context.Pool(connections) as pool:
        outcomes = pool.starmap(
            _python_worker,
            [(host, port, paths, headers, seconds, n) for n in range(connections)],
        )
    elapsed = time.perf_counter() - started
    ok = sum(o[0] for o in outcomes)
    latencies = [ms for o in outcomes for ms in o[2]]
    return Throughput(
        tool="python",
        seconds=elapsed,
        requests=ok + sum(o[1] for o in outcomes),
        requests_per_s=ok / seconds,
        bad_status=sum(o[1] for o in outcomes),
        latency_ms={f"{p}%": percentile(latencies, p / 100) for p in (50, 90, 99)},
    )


def throughput(
    host: str,
    port: int,
    paths: list[str],
    headers: dict[str, str],
    seconds: float,
    connections: int,
    threads: int = 2,
    timeout: float = 30.0,
) -> Throughput:
    """Requests per second with ``connections`` concurrent keep-alive connections."""
    if have_wrk():
        return run_wrk(
            f"http://{host}:{port}", paths, headers, seconds, connections, threads, timeout
        )
    return run_python(host, port, paths, headers, seconds, connections)


def slow_throughput(
    host: str, port: int, paths: list[str], headers: dict[str, str], seconds: float
) -> Throughput:
    """For a server taking seconds per answer: requests one after the other for about
    ``seconds`` (at least one); throughput = answers / elapsed time. A server that runs one
    query at a time (as a single-process asyncio server running blocking queries does)
    has the same throughput with more connections."""
    started = time.perf_counter()
    samples = sequential(host, port, itertools.cycle(paths), headers, max_seconds=seconds)
    elapsed = time.perf_counter() - started
    good = [s for s in samples if 200 <= s.status < 400]
    return Throughput(
        tool="sequential",
        seconds=elapsed,
        requests=len(samples),
        requests_per_s=len(good) / elapsed,
        bad_status=len(samples) - len(good),
        latency_ms={"50%": percentile([s.ms for s in samples], 0.5)},
    )
