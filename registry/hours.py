"""Opening hours: is a place open at a moment, in its own time zone, and when does it open
next. Hours come from ``schema:OpeningHoursSpecification`` (day, opens, closes, optional
validity dates); a slot whose closing time is not after its opening time runs past
midnight (a bar's 18:00–01:00)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SCHEMA_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
FRENCH_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
DAY_INDEX = {f"https://schema.org/{name}": index for index, name in enumerate(SCHEMA_DAYS)}


@dataclass(frozen=True, slots=True)
class Slot:
    """One opening slot: a weekday (0 = Monday), opening and closing times, validity."""

    day: int
    opens: time
    closes: time
    valid_from: date | None = None
    valid_through: date | None = None

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or day >= self.valid_from) and (
            self.valid_through is None or day <= self.valid_through
        )

    @property
    def overnight(self) -> bool:
        return self.closes <= self.opens

    def label(self) -> str:
        """French, as a page shows it: "mardi 14 h 00 – 18 h 00"."""
        return f"{FRENCH_DAYS[self.day]} {french_time(self.opens)} – {french_time(self.closes)}"


def french_time(moment: time) -> str:
    return f"{moment.hour} h {moment.minute:02d}"


def parse_slot(
    day_iri: str,
    opens: str,
    closes: str,
    valid_from: str | None = None,
    valid_through: str | None = None,
) -> Slot | None:
    """A slot from the literals of the store, or None when one of them is unusable."""
    day = DAY_INDEX.get(day_iri)
    try:
        start, end = time.fromisoformat(opens[:8]), time.fromisoformat(closes[:8])
        first = date.fromisoformat(valid_from[:10]) if valid_from else None
        last = date.fromisoformat(valid_through[:10]) if valid_through else None
    except ValueError:
        return None
    if day is None:
        return None
    return Slot(day, start, end, first, last)


def is_open(slots: Iterable[Slot], moment: datetime, timezone: str) -> bool:
    """Whether any slot covers ``moment`` (an aware datetime) in the place's time zone."""
    local = moment.astimezone(ZoneInfo(timezone))
    today, now = local.date(), local.time().replace(tzinfo=None)
    yesterday = today - timedelta(days=1)
    for slot in slots:
        if slot.day == today.weekday() and slot.valid_on(today):
            if slot.overnight and now >= slot.opens:
                return True
            if slot.opens <= now < slot.closes:
                return True
        yesterday_slot = slot.day == yesterday.weekday() and slot.valid_on(yesterday)
        if slot.overnight and yesterday_slot and now < slot.closes:
            return True
    return False


def next_opening(slots: Iterable[Slot], moment: datetime, timezone: str) -> datetime | None:
    """The next time a slot opens after ``moment``, in the place's time zone, within a
    week (plus validity dates); None when the place has no upcoming slot."""
    zone = ZoneInfo(timezone)
    local = moment.astimezone(zone)
    slots = list(slots)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        starts = sorted(
            datetime.combine(day, slot.opens, zone)
            for slot in slots
            if slot.day == day.weekday() and slot.valid_on(day)
        )
        for start in starts:
            if start > local:
                return start
    return None


def describe_next(start: datetime, moment: datetime) -> str:
    """French words for a next opening: "aujourd'hui à 14 h 00", "demain à 9 h 00",
    "jeudi à 10 h 00"."""
    days = (start.date() - moment.astimezone(start.tzinfo).date()).days
    when = {0: "aujourd'hui", 1: "demain"}.get(days, FRENCH_DAYS[start.weekday()])
    return f"{when} à {french_time(start.time())}"
