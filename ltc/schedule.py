"""The harvest on a schedule inside ``ltc serve`` (setting ``harvest_every``), and the
sources networks ping (``core.ping``): every ``ping_poll_seconds``, between scheduled
rounds, in ``ltc serve`` with a schedule or in ``ltc watch`` without one.

Each round runs ``ltc harvest`` as a child process, so a crash or the memory of a big
harvest never touches the web process. Several serve processes may share a data folder:
a round first takes ``data_dir/harvest.lock`` without waiting, and skips when another
process holds it, so exactly one of them harvests at a time (on one host; with a remote
store on several hosts, enable the schedule on one of them). Readers never see a
half-loaded source: the harvest publishes a new generation only when it is done, and
each serve process notices it on its next request.

A ping's request is taken (``<id>.taken``) just before its harvest starts and dropped
when it ends, so pings arriving meanwhile wait for one more harvest after it; a round
that cannot start (another process holds the store's writer) gives its requests back.
"""

from __future__ import annotations

import fcntl
import logging
import subprocess
import sys
import threading
import time

from core.config import Settings, child_environment
from core.datafolder import DataFolder
from core.ping import finish_requests, give_back_requests, take_requests, waiting_requests

log = logging.getLogger("ltc.scheduler")
HARVEST_COMMAND = [sys.executable, "-c", "from ltc.cli import main; main()", "harvest"]


def harvest_once(settings: Settings, only: list[str] | None = None) -> int | None:
    """One round (every source, or ``only`` these): the harvest's exit status, or None
    when another process was harvesting (the lock was held)."""
    folder = DataFolder(settings.data_dir)
    folder.root.mkdir(parents=True, exist_ok=True)
    with open(folder.harvest_lock, "a+b") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("scheduled harvest skipped: another process is harvesting")
            return None
        log.info("harvest: starting %s", " ".join(only) if only else "every source")
        done = subprocess.run(
            [*HARVEST_COMMAND, *(only or [])],
            env=child_environment(settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if done.returncode:
            tail = done.stderr.decode("utf-8", "replace")[-2000:]
            log.error("scheduled harvest failed (exit %d): %s", done.returncode, tail)
        else:
            log.info("harvest: done")
        return done.returncode


def _writer_busy(settings: Settings) -> bool:
    """Whether another process holds the store's writer (a cron ``ltc harvest``…)."""
    folder = DataFolder(settings.data_dir)
    try:
        with open(folder.store_lock, "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def harvest_pinged(settings: Settings) -> list[str]:
    """Harvest the sources pinged since the last look (none: nothing runs); the sources
    harvested. Requests that could not start wait for the next look."""
    if not waiting_requests(settings.data_dir) and not _taken_left(settings):
        return []
    if _writer_busy(settings):
        return []
    sources = take_requests(settings.data_dir)
    if not sources:
        return []
    status = harvest_once(settings, only=sources)
    if status is None or (status and _writer_busy(settings)):
        give_back_requests(settings.data_dir, sources)
        return []
    finish_requests(settings.data_dir, sources)
    return sources


def _taken_left(settings: Settings) -> bool:
    folder = DataFolder(settings.data_dir)
    return folder.pings.is_dir() and any(folder.pings.glob("*.taken"))


def watch(settings: Settings, stop: threading.Event) -> None:
    """``ltc watch``: harvest pinged sources until ``stop`` is set."""
    while not stop.is_set():
        try:
            harvest_pinged(settings)
        except Exception:  # the watch outlives one bad round
            log.exception("pinged harvest could not run")
        stop.wait(settings.ping_poll_seconds)


class HarvestSchedule:
    """A daemon thread running ``harvest_once`` at start, then every ``harvest_every``
    minutes, and the pinged sources' harvests every ``ping_poll_seconds`` in between."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.interval = settings.harvest_every * 60
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="ltc-harvest", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while True:
            try:
                harvest_once(self.settings)
            except Exception:  # the schedule outlives one bad round
                log.exception("scheduled harvest could not run")
            next_round = time.monotonic() + self.interval
            while (left := next_round - time.monotonic()) > 0:
                if self._stop.wait(min(left, self.settings.ping_poll_seconds)):
                    return
                try:
                    harvest_pinged(self.settings)
                except Exception:
                    log.exception("pinged harvest could not run")
            if self._stop.is_set():
                return
