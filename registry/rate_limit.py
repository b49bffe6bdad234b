"""Limits per client, in memory, one set per web process: token buckets (requests per
minute) and in-flight counters (requests in progress at once)."""

from __future__ import annotations

import contextlib
import math
import threading
import time
from collections.abc import Callable, Iterator


class RateLimited(Exception):
    """The client spent its allowance; ``retry_after`` is in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limit reached, retry after {retry_after} s")
        self.retry_after = retry_after


class TokenBuckets:
    """``per_minute`` requests per client, refilled continuously, in bursts of up to
    ``burst`` minutes' worth (1 by default). Idle buckets are forgotten so the table
    stays small."""

    def __init__(
        self, per_minute: int, clock: Callable[[], float] = time.monotonic, burst: float = 1.0
    ) -> None:
        self.refill = max(1, per_minute) / 60.0  # tokens per second
        self.capacity = float(max(1, per_minute) * max(burst, 1 / max(1, per_minute)))
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, time)

    def take(self, client: str) -> None:
        """Spend one token of ``client`` or raise ``RateLimited``."""
        now = self._clock()
        with self._lock:
            if len(self._buckets) > 10_000:
                self._forget_full(now)
            tokens, then = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - then) * self.refill)
            if tokens < 1.0:
                self._buckets[client] = (tokens, now)
                raise RateLimited(max(1, math.ceil((1.0 - tokens) / self.refill)))
            self._buckets[client] = (tokens - 1.0, now)

    def _forget_full(self, now: float) -> None:
        full_after = self.capacity / self.refill
        self._buckets = {
            client: (tokens, then)
            for client, (tokens, then) in self._buckets.items()
            if now - then < full_after
        }


class Busy(Exception):
    """Every slot is taken; ``retry_after`` is in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"busy, retry after {retry_after} s")
        self.retry_after = retry_after


class InFlight:
    """Requests of one kind in progress at once: at most ``total`` in the process and
    ``per_client`` for one client. Beyond, the request is refused at once (``Busy``,
    or ``RateLimited`` for the client over its share) instead of waiting for a thread
    that the public pages need."""

    def __init__(self, total: int, per_client: int, retry_after: int = 2) -> None:
        self.total = max(1, total)
        self.per_client = max(1, per_client)
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._running = 0
        self._by_client: dict[str, int] = {}

    @contextlib.contextmanager
    def hold(self, client: str) -> Iterator[None]:
        with self._lock:
            if self._by_client.get(client, 0) >= self.per_client:
                raise RateLimited(self.retry_after)
            if self._running >= self.total:
                raise Busy(self.retry_after)
            self._running += 1
            self._by_client[client] = self._by_client.get(client, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                left = self._by_client[client] - 1
                if left:
                    self._by_client[client] = left
                else:
                    del self._by_client[client]
