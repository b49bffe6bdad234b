"""A memory budget for reading one feed, whatever its shape.

The size limits (``max_feed_bytes``, ``max_triples``) do not bound memory: 63 MiB of
tiny statements (``:N :p :o .``) made one process grow by 3 GB, because every stage
after the parser holds Python objects per statement and per distinct subject. So the
process's own growth (resident memory, read from ``/proc``) is measured while the feed
is parsed and at the start of each stage that multiplies it, and the peak it is heading
for is predicted from what has been measured so far: a feed predicted to need more than
``max_feed_memory`` is refused with a clear reason before the process gets there.

The factors are the ratio of the peak to what is held at each point, measured on the
benchmark's national feeds (records of ~30 statements: validation dominates, ~4.5 times
what parsing holds) and on dense feeds of tiny statements (splitting into records
dominates, ~2.3 times); the larger is taken.
"""

from __future__ import annotations

import os

from harvester.errors import FeedError

# peak ÷ memory held, at each checkpoint (see the module's docstring)
WHILE_PARSING = 4.8
AFTER_NORMALISING = 3.4
AFTER_SPLITTING = 2.6
AFTER_VALIDATING = 1.2
_PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024


def json_document_bytes(data: bytes) -> int:
    """What ``json.loads(data)`` will hold, estimated before it runs: about 100 bytes
    per array or object and 60 per other value, plus the text (counted from the bytes,
    quoted text included: an over-estimate only for text full of brackets and commas).
    63 MiB of ``[[],[],…]`` takes 1.8 GB once loaded."""
    containers = data.count(b"[") + data.count(b"{")
    values = data.count(b",") + data.count(b":")
    return containers * 100 + values * 60 + len(data)


def resident_bytes() -> int:
    """This process's resident memory now (Linux ``/proc/self/statm``)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):
        return 0  # no /proc: the budget cannot be measured, nothing is refused


class MemoryBudget:
    """How much one feed may make this process grow, measured from its creation."""

    def __init__(self, limit_bytes: int) -> None:
        self.limit = limit_bytes
        self.start = resident_bytes()
        self.peak_predicted = 0

    def grown(self) -> int:
        return max(0, resident_bytes() - self.start)

    def check(
        self, factor: float, statements: int, stage_fr: str, stage_en: str, ahead: int = 0
    ) -> None:
        """Refuse the feed when the memory held now times ``factor`` (the growth still
        to come), plus ``ahead`` bytes about to be taken, is over the budget."""
        if self.limit <= 0:
            return
        predicted = int(self.grown() * factor) + ahead
        self.peak_predicted = max(self.peak_predicted, predicted)
        if predicted > self.limit:
            raise FeedError(
                f"flux trop lourd à traiter : après {statements} déclarations ({stage_fr}), "
                f"il demanderait environ {predicted // MIB} Mio de mémoire, plus que les "
                f"{self.limit // MIB} Mio permis (réglage max_feed_memory) ; découpez-le en "
                "plusieurs flux",
                f"feed too heavy to process: after {statements} statements ({stage_en}), it "
                f"would need about {predicted // MIB} MiB of memory, more than the "
                f"{self.limit // MIB} MiB allowed (setting max_feed_memory); split it into "
                "several feeds",
            )
