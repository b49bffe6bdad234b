"""The harvest on a schedule inside ``ltc serve`` (setting ``harvest_every``).

Each round runs ``ltc harvest`` as a child process, so a crash or the memory of a big
harvest never touches the web process. Several serve processes may share a data folder:
a round first takes ``data_dir/harvest.lock`` without waiting, and skips when another
process holds it, so exactly one of them harvests at a time (on one host; with a remote
store on several hosts, enable the schedule on one of them). Readers never see a
half-loaded source: the harvest publishes a new generation only when it is done, and
each serve process notices it on its next request.
"""

from __future__ import annotations

import fcntl
import logging
import subprocess
import sys
import threading

from core.config import Settings, child_environment
from core.datafolder import DataFolder

log = logging.getLogger("ltc.scheduler")
HARVEST_COMMAND = [sys.executable, "-c", "from ltc.cli import main; main()", "harvest"]


def harvest_once(settings: Settings) -> int | None:
    """One scheduled round: the harvest's exit status, or None when another process was
    harvesting (the lock was held)."""
    folder = DataFolder(settings.data_dir)
    folder.root.mkdir(parents=True, exist_ok=True)
    with open(folder.harvest_lock, "a+b") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("scheduled harvest skipped: another process is harvesting")
            return None
        log.info("scheduled harvest: starting")
        done = subprocess.run(
            HARVEST_COMMAND,
            env=child_environment(settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if done.returncode:
            tail = done.stderr.decode("utf-8", "replace")[-2000:]
            log.error("scheduled harvest failed (exit %d): %s", done.returncode, tail)
        else:
            log.info("scheduled harvest: done")
        return done.returncode


class HarvestSchedule:
    """A daemon thread running ``harvest_once`` at start, then every ``harvest_every``
    minutes."""

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
            if self._stop.wait(self.interval):
                return
