"""A per-client token bucket, in memory, one per web process."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimited(Exception):
    """The client spent its allowance; ``retry_after`` is in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"rate limit reached, retry after {retry_after} s")
        self.retry_after = retry_after


class TokenBuckets:
    """``per_minute`` requests per client, refilled continuously, bursts up to
    ``per_minute``. Idle buckets are forgotten so the table stays small."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(max(1, per_minute))
        self.refill = self.capacity / 60.0  # tokens per second
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
