"""``ltc serve --workers N``: N web processes answering on one listening socket.

The parent opens the socket, loads the application (its modules and the offline
gazetteer, shared by the children until one writes them) and forks N workers; each runs
its own waitress server on the inherited socket, and the kernel hands every new
connection to one of them. Nothing else runs in the parent: it restarts a worker that
dies (after a pause if it dies young, so a broken configuration does not spin) and, on
SIGTERM or SIGINT, passes SIGTERM to the workers and waits for them.

Why not gunicorn: waitress is already the server (slow-client timeouts, connection
limits, access log and queue summary of ``ltc.server``), gunicorn's sync workers hold a
process per connection and its threaded workers lack those timeouts; a fork and a shared
socket keep one server for one or many processes, with no new dependency.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable

log = logging.getLogger("ltc.serve")
YOUNG_SECONDS = 5.0  # a worker dying sooner than this is restarted after a pause
PAUSE_SECONDS = 1.0


def listening_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """The socket every worker accepts connections on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


class Supervisor:
    """Forks ``count`` workers running ``work(slot)`` and keeps them running."""

    def __init__(self, count: int, work: Callable[[int], None]) -> None:
        self.count = count
        self.work = work
        self.children: dict[int, tuple[int, float]] = {}  # pid → (slot, started)
        self.stopping = False
        self.restarts = 0

    def _spawn(self, slot: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
                # SIGTERM ends the server's loop, so that its query workers are closed
                signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
                self.work(slot)
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else 0
            except BaseException:
                log.exception("web worker %d failed", slot)
                code = 1
            finally:
                logging.shutdown()
                os._exit(code)
        self.children[pid] = (slot, time.monotonic())
        log.info("web worker %d started: pid %d", slot, pid)

    def _stop(self, signum: int, frame: object) -> None:
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def run(self) -> None:
        """Serve until SIGTERM or SIGINT, then wait for every worker to end."""
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        for slot in range(self.count):
            self._spawn(slot)
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            slot, started = self.children.pop(pid, (-1, 0.0))
            if self.stopping or slot < 0:
                continue
            log.warning(
                "web worker %d (pid %d) ended (status %d): restarting it",
                slot,
                pid,
                os.waitstatus_to_exitcode(status),
            )
            if time.monotonic() - started < YOUNG_SECONDS:
                time.sleep(PAUSE_SECONDS)
            if not self.stopping:
                self.restarts += 1
                self._spawn(slot)
