"""The HTTP server of ``ltc serve``: waitress, made to hold hundreds of slow or idle
connections without stalling.

waitress reads requests in one event loop and gives a thread only to a request it has
received whole, so a slow or idle connection costs a socket, not a thread. What it
lacks is added here:

- ``poll()`` instead of ``select()`` (limited to 1 024 descriptors) and a connection
  limit as a setting (``serve_connection_limit``), with the process's descriptor limit
  raised to match;
- a deadline for a request's line and headers (``serve_header_timeout``) and for the
  whole request (``serve_request_timeout``): a client dripping a byte every few seconds
  no longer keeps its connection for ever (waitress only closes connections *idle* for
  ``channel_timeout``, set from ``serve_idle_timeout``);
- the moment a request was received whole, in the WSGI environment
  (``ltc.received``, ``time.monotonic()``), so that the access log tells the time a
  request waited for a thread apart from the time it took;
- waitress's "Task queue depth" warning, logged once per queued request, summed up
  instead: one line a minute with the number of requests that waited and the deepest
  queue seen.
"""

from __future__ import annotations

import logging
import resource
import threading
import time
from collections.abc import Callable
from typing import Any

from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher, WSGITask

from core.config import Settings
from registry.access_log import RECEIVED_KEY

MAINTENANCE_SECONDS = 1  # how often connections are checked against the timeouts
log = logging.getLogger("ltc.serve")


class _Parser(HTTPRequestParser):
    """Notes when the request started arriving and when it was complete."""

    started = 0.0
    received_at = 0.0

    def received(self, data: bytes) -> int:
        if not self.started:
            self.started = time.monotonic()
        consumed = super().received(data)
        if self.completed and not self.received_at:
            self.received_at = time.monotonic()
        return consumed


class _Task(WSGITask):
    def get_environment(self) -> dict[str, Any]:
        environ = super().get_environment()
        environ[RECEIVED_KEY] = getattr(self.request, "received_at", 0.0) or time.monotonic()
        return environ


class _Channel(HTTPChannel):
    parser_class = _Parser
    task_class = _Task


class _Server(TcpWSGIServer):
    channel_class = _Channel
    header_timeout = 10.0
    request_timeout = 120.0

    def maintenance(self, now: float) -> None:
        """waitress closes idle connections; this also closes those whose request is
        arriving too slowly (its line and headers, or the whole of it)."""
        super().maintenance(now)
        moment = time.monotonic()
        for channel in list(self.active_channels.values()):
            request = channel.request
            if request is None or request.completed or not getattr(request, "started", 0):
                continue
            limit = self.request_timeout if request.headers_finished else self.header_timeout
            if moment - request.started > limit:
                channel.will_close = True


class QueueSummary(logging.Filter):
    """Turns waitress's "Task queue depth is N" warnings (one per queued request) into
    one line a minute: how many requests waited for a thread, and the deepest queue."""

    def __init__(self, every: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.every = every
        self.clock = clock
        self.waited = 0
        self.deepest = 0
        self.since = clock()
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.getMessage().startswith("Task queue depth"):
            return True
        depth = record.args[0] if record.args else 0
        with self._lock:
            self.waited += 1
            self.deepest = max(self.deepest, int(depth))
            if self.clock() - self.since < self.every:
                return False
            record.msg = "requests that waited for a thread in the last %d s: %d (deepest queue %d)"
            record.args = (round(self.clock() - self.since), self.waited, self.deepest)
            self.waited, self.deepest, self.since = 0, 0, self.clock()
        return True


def raise_descriptor_limit(wanted: int) -> int:
    """Raise this process's open-file limit towards ``wanted`` (never past the hard
    limit); returns the limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return soft


def make_server(
    app: Callable, settings: Settings, host: str, port: int, *, sock: Any = None
) -> _Server:
    """A waitress server for ``app`` on ``host:port`` with the registry's settings; on
    ``sock`` (a listening socket shared by several processes, ``ltc.prefork``) when
    given."""
    limit = raise_descriptor_limit(settings.serve_connection_limit + 256)
    connections = max(16, min(settings.serve_connection_limit, limit - 256))
    if connections < settings.serve_connection_limit:
        log.warning(
            "open-file limit %d: at most %d connections instead of serve_connection_limit %d",
            limit,
            connections,
            settings.serve_connection_limit,
        )
    adjustments = Adjustments(
        host=host,
        port=port,
        threads=settings.serve_threads,
        connection_limit=connections,
        channel_timeout=settings.serve_idle_timeout,
        cleanup_interval=MAINTENANCE_SECONDS,
        asyncore_use_poll=True,
        backlog=2048,
        # X-Forwarded-For is read by the registry itself, from `trusted_proxies` only
        # (registry/clients.py): waitress must pass it on instead of removing it
        clear_untrusted_proxy_headers=False,
        max_request_body_size=max(settings.sparql_max_body, settings.max_feed_bytes) + (1 << 20),
        ident="ltc-registry",
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adjustments.threads)
    queue_logger = logging.getLogger("waitress.queue")
    if not any(isinstance(f, QueueSummary) for f in queue_logger.filters):
        queue_logger.addFilter(QueueSummary())
    (sockinfo,) = adjustments.listen[:1] or [None]
    server = _Server(
        app,
        {},
        True,
        sock,
        dispatcher=dispatcher,
        adj=adjustments,
        sockinfo=sockinfo,
        bind_socket=sock is None,
    )
    server.header_timeout = float(settings.serve_header_timeout)
    server.request_timeout = float(settings.serve_request_timeout)
    return server
