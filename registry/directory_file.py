"""The directory of one generation as one compact file, memory-mapped by every web process.

Built once per generation (by the harvest after it publishes, or by the first web process
that needs it, under ``cache/directory.lock``) and written atomically beside the snapshot
(``DataFolder.directory_file``). Every process maps the same file: the operating system
keeps one copy in its page cache for all of them, and a new process is ready as soon as
it has opened it and checked its header.

Layout: ``MAGIC``, then the length of a JSON header (format version, generation, every
section's offset, type and length, the SHA-256 of the body), the header, and the body:
numpy arrays and packed string tables (an offsets array and a UTF-8 blob), each aligned
on 8 bytes. A file that is truncated, of another version or generation, or whose body
does not match its checksum is refused (``DirectoryFileError``) and built again.

What a page shows is decoded on demand: a place's card (JSON in a string table) when it
is asked for, a name when a search reaches it.
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import hashlib
import json
import logging
import mmap
import re
import struct
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date
from datetime import time as clock
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from core.datafolder import DataFolder, replacing
from core.store.base import generation_number
from core.text import fold
from registry.directory_data import DirectoryData, NameIndex, Network, PlaceCard, SourceInfo
from registry.hours import Slot
from registry.spatial import Point, SpatialIndex, cell_keys

log = logging.getLogger(__name__)
D = TypeVar("D", bound=DirectoryData)

MAGIC = b"LTCDIR\x00\x01"
FORMAT_VERSION = 3
_LENGTH = struct.Struct("<Q")
_KINDS = ("place", "organisation", "network")


class DirectoryFileError(Exception):
    """The directory file cannot be used (missing, truncated, corrupt, another version)."""


# -- writing ----------------------------------------------------------------------------------


class _Writer:
    """Sections in order, each aligned on 8 bytes."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.sections: dict[str, list[Any]] = {}

    def array(self, name: str, values: np.ndarray) -> None:
        data = np.ascontiguousarray(values).tobytes()
        self.sections[name] = [self.size, values.dtype.str, len(values)]
        self._add(data)

    def strings(self, name: str, texts: list[str]) -> None:
        encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        self.array(name + ".offsets", offsets)
        self.array(name + ".blob", np.frombuffer(b"".join(encoded), dtype=np.uint8))

    def blob(self, name: str, data: bytes) -> None:
        self.sections[name] = [self.size, "bytes", len(data)]
        self._add(data)

    def _add(self, data: bytes) -> None:
        self.parts.append(data)
        padding = -len(data) % 8
        self.parts.append(b"\0" * padding)
        self.size += len(data) + padding


def _card_json(card: PlaceCard, themes: dict[str, int], networks: dict[str, int]) -> str:
    body: dict[str, Any] = {"n": card.name}
    for key, value in (("s", card.street), ("p", card.postcode), ("l", card.locality)):
        if value:
            body[key] = value
    body["g"] = list(card.graphs)
    if card.timezone != "Europe/Paris":
        body["z"] = card.timezone
    if card.hours:
        body["h"] = [
            [
                s.day,
                s.opens.isoformat(),
                s.closes.isoformat(),
                s.valid_from.isoformat() if s.valid_from else None,
                s.valid_through.isoformat() if s.valid_through else None,
            ]
            for s in card.hours
        ]
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def _csr(rows: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r) for r in rows], out=offsets[1:])
    values = np.array([v for r in rows for v in r], dtype=np.int32)
    return offsets, values


def encode(
    generation: str,
    cards: Mapping[str, PlaceCard],
    names: NameIndex,
    networks: Mapping[str, Network],
    sources: Mapping[str, SourceInfo],
    clusters: Mapping[str, tuple[str, ...]],
) -> bytes:
    """The file's bytes for one generation's directory."""
    iris = sorted(cards)
    number = {iri: n for n, iri in enumerate(iris)}
    ordered = [cards[iri] for iri in iris]
    theme_list = sorted({t for c in ordered for t in c.themes})
    network_list = sorted({w for c in ordered for w in c.networks} | set(networks))
    theme_ids = {t: n for n, t in enumerate(theme_list)}
    network_ids = {w: n for n, w in enumerate(network_list)}
    out = _Writer()
    out.strings("card.iri", iris)
    out.strings("card.body", [_card_json(c, theme_ids, network_ids) for c in ordered])
    lat = np.array([c.lat for c in ordered], dtype=np.float64)
    lon = np.array([c.lon for c in ordered], dtype=np.float64)
    out.array("card.lat", lat)
    out.array("card.lon", lon)
    out.array("card.approximate", np.array([c.approximate for c in ordered], dtype=np.uint8))
    for name, rows in (
        ("card.themes", [[theme_ids[t] for t in c.themes] for c in ordered]),
        ("card.networks", [[network_ids[w] for w in c.networks] for c in ordered]),
    ):
        offsets, values = _csr(rows)
        out.array(name + ".offsets", offsets)
        out.array(name + ".values", values)
    # a search answers one record per physical place, and sorts by name without a card
    group_of: dict[tuple[str, ...], int] = {}
    for members in clusters.values():
        group_of.setdefault(tuple(members), len(group_of))
    cluster_key = [
        group_of[tuple(clusters[iri])] if iri in clusters else len(group_of) + n
        for n, iri in enumerate(iris)
    ]
    out.array("card.cluster", np.array(cluster_key, dtype=np.int64))
    # the record standing for its physical place on the map: the first of its cluster's
    # records that has a card
    head = []
    for iri in iris:
        members = [m for m in clusters.get(iri, (iri,)) if m in number] or [iri]
        head.append(number[members[0]])
    out.array("card.head", np.array(head, dtype=np.int32))
    out.strings("card.name", [c.name for c in ordered])
    by_name = sorted(range(len(ordered)), key=lambda n: (ordered[n].name.casefold(), iris[n]))
    rank = np.empty(len(ordered), dtype=np.int32)
    rank[by_name] = np.arange(len(ordered), dtype=np.int32)
    out.array("card.name_rank", rank)
    keys = cell_keys(lat, lon)
    approximate = np.array([c.approximate for c in ordered], dtype=bool)
    for name, wanted in (("precise", ~approximate), ("approximate", approximate)):
        members = np.flatnonzero(wanted)
        members = members[np.argsort(keys[members], kind="stable")]
        out.array(name + ".cards", members.astype(np.int32))
        out.array(name + ".keys", keys[members])
    # names: the labels in their order, the sorted distinct folded words and their postings
    labels = names.labels
    out.strings("label.text", [label for label, _, _ in labels])
    out.array("label.kind", np.array([_KINDS.index(k) for _, k, _ in labels], dtype=np.uint8))
    out.array("label.card", np.array([number[p] for _, _, p in labels], dtype=np.int32))
    postings = names.postings
    words = sorted(postings, key=lambda w: w.encode("utf-8", "surrogatepass"))
    out.strings("word.text", words)
    offsets, values = _csr([postings[w] for w in words])
    out.array("word.postings.offsets", offsets)
    out.array("word.postings.values", values)
    # clusters: every clustered place (sorted) → its cluster's members
    groups: dict[tuple[str, ...], int] = {}
    for members in clusters.values():
        groups.setdefault(tuple(members), len(groups))
    keyed = sorted(clusters, key=lambda i: i.encode("utf-8", "surrogatepass"))
    out.strings("cluster.key", keyed)
    out.array("cluster.of", np.array([groups[tuple(clusters[k])] for k in keyed], dtype=np.int32))
    member_lists = list(groups)
    flat = [m for group in member_lists for m in group]
    out.strings("cluster.member", flat)
    bounds = np.zeros(len(member_lists) + 1, dtype=np.int64)
    np.cumsum([len(g) for g in member_lists], out=bounds[1:])
    out.array("cluster.bounds", bounds)
    meta = {
        "themes": theme_list,
        "network_list": network_list,
        "networks": [[n.iri, n.name, n.url, n.graph] for n in networks.values()],
        "sources": [
            [s.id, s.iri, s.graph, s.title, s.network, s.license, s.last_success]
            for s in sources.values()
        ],
    }
    out.blob("meta", json.dumps(meta, ensure_ascii=False).encode())
    body = b"".join(out.parts)
    header = json.dumps(
        {
            "version": FORMAT_VERSION,
            "generation": generation,
            "body_size": len(body),
            "sha256": hashlib.sha256(body).hexdigest(),
            "sections": out.sections,
        }
    ).encode()
    header += b" " * (-(len(MAGIC) + _LENGTH.size + len(header)) % 8)
    return MAGIC + _LENGTH.pack(len(header)) + header + body


# -- reading ----------------------------------------------------------------------------------


class _Strings:
    """A packed string table: item ``i`` is decoded when asked for."""

    def __init__(self, offsets: np.ndarray, blob: memoryview) -> None:
        self._offsets = offsets
        self._blob = blob

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def raw(self, i: int) -> bytes:
        return bytes(self._blob[int(self._offsets[i]) : int(self._offsets[i + 1])])

    def __getitem__(self, i: int) -> str:
        return self.raw(i).decode("utf-8", "surrogatepass")

    def find(self, text: str) -> int:
        """The row of ``text`` in a sorted table, -1 when absent."""
        wanted = text.encode("utf-8", "surrogatepass")
        at = bisect.bisect_left(_RawView(self), wanted)
        return at if at < len(self) and self.raw(at) == wanted else -1


class _RawView:
    """The table's items as bytes, for ``bisect``."""

    def __init__(self, table: _Strings) -> None:
        self.table = table

    def __len__(self) -> int:
        return len(self.table)

    def __getitem__(self, i: int) -> bytes:
        return self.table.raw(i)


class _Cards(Mapping[str, PlaceCard]):
    """The cards of the mapped file, by place IRI (sorted), each decoded on demand."""

    def __init__(self, mapped: _Mapped) -> None:
        self._m = mapped
        self.card_at = lru_cache(maxsize=2048)(self._decode)

    def number(self, iri: str) -> int:
        return self._m.iris.find(iri) if isinstance(iri, str) else -1

    def __getitem__(self, iri: str) -> PlaceCard:
        n = self.number(iri)
        if n < 0:
            raise KeyError(iri)
        return self.card_at(n)

    def __contains__(self, iri: object) -> bool:
        return isinstance(iri, str) and self.number(iri) >= 0

    def __iter__(self) -> Iterator[str]:
        iris = self._m.iris
        return (iris[i] for i in range(len(iris)))

    def __len__(self) -> int:
        return len(self._m.iris)

    def _decode(self, n: int) -> PlaceCard:
        m = self._m
        body = json.loads(m.bodies.raw(n))
        return PlaceCard(
            iri=m.iris[n],
            name=body["n"],
            lat=float(m.lat[n]),
            lon=float(m.lon[n]),
            street=body.get("s", ""),
            postcode=body.get("p", ""),
            locality=body.get("l", ""),
            themes=m.themes_of(n),
            networks=m.networks_of(n),
            graphs=tuple(body["g"]),
            timezone=body.get("z", "Europe/Paris"),
            hours=tuple(_slot(*s) for s in body.get("h", ())),
            approximate=bool(m.approximate[n]),
        )


def _slot(day: int, opens: str, closes: str, since: str | None, until: str | None) -> Slot:
    return Slot(
        day,
        clock.fromisoformat(opens),
        clock.fromisoformat(closes),
        date.fromisoformat(since) if since else None,
        date.fromisoformat(until) if until else None,
    )


class _Clusters(Mapping[str, tuple[str, ...]]):
    """Each clustered place → every record of its cluster (itself included)."""

    def __init__(self, mapped: _Mapped) -> None:
        self._m = mapped

    def __getitem__(self, iri: str) -> tuple[str, ...]:
        m = self._m
        n = m.cluster_keys.find(iri) if isinstance(iri, str) else -1
        if n < 0:
            raise KeyError(iri)
        group = int(m.cluster_of[n])
        start, stop = int(m.cluster_bounds[group]), int(m.cluster_bounds[group + 1])
        return tuple(m.cluster_members[i] for i in range(start, stop))

    def __contains__(self, iri: object) -> bool:
        return isinstance(iri, str) and self._m.cluster_keys.find(iri) >= 0

    def __iter__(self) -> Iterator[str]:
        keys = self._m.cluster_keys
        return (keys[i] for i in range(len(keys)))

    def __len__(self) -> int:
        return len(self._m.cluster_keys)


class MappedNames:
    """The name index of the mapped file (``NameIndex.search``'s contract): a query
    matches a name when each of its words starts one of the name's words."""

    def __init__(self, mapped: _Mapped) -> None:
        self._m = mapped

    def _starting(self, prefix: str) -> set[int]:
        m = self._m
        wanted = prefix.encode("utf-8", "surrogatepass")
        found: set[int] = set()
        view = _RawView(m.words)
        start = bisect.bisect_left(view, wanted)
        for i in range(start, len(view)):
            if not view[i].startswith(wanted):
                break
            a, b = int(m.postings_offsets[i]), int(m.postings_offsets[i + 1])
            found.update(m.postings[a:b].tolist())
        return found

    def label(self, n: int) -> tuple[str, str, str]:
        m = self._m
        return m.labels[n], _KINDS[int(m.label_kind[n])], m.iris[int(m.label_card[n])]

    def _matching(self, text: str) -> set[int]:
        words = fold(text).split()
        if not words:
            return set()
        numbers: set[int] | None = None
        for word in sorted(words, key=len, reverse=True):  # longest first: fewest hits
            hits = self._starting(word)
            numbers = hits if numbers is None else numbers & hits
            if not numbers:
                return set()
        return numbers or set()

    def card_numbers(self, text: str) -> np.ndarray:
        """The card numbers of the places some name matching ``text`` leads to."""
        numbers = self._matching(text)
        return np.unique(self._m.label_card[sorted(numbers)]).astype(np.int64)

    def search(self, text: str, limit: int = 50) -> list[tuple[str, str, str]]:
        """(label, kind, place) of the names matching ``text``, shortest names first."""
        numbers = self._matching(text)
        matches = sorted((self.label(n) for n in numbers), key=lambda m: (len(m[0]), m))
        return matches[:limit]


class _Mapped:
    """The sections of one file, as numpy arrays over its bytes (mapped or in memory)."""

    def __init__(self, buffer: Any, generation: str | None = None, *, check: bool = True) -> None:
        view = memoryview(buffer)
        if len(view) < len(MAGIC) + _LENGTH.size or bytes(view[: len(MAGIC)]) != MAGIC:
            raise DirectoryFileError("not a directory file (or one of another format)")
        (length,) = _LENGTH.unpack_from(view, len(MAGIC))
        start = len(MAGIC) + _LENGTH.size
        try:
            header = json.loads(bytes(view[start : start + length]))
        except ValueError as error:
            raise DirectoryFileError(f"unreadable header: {error}") from error
        if header.get("version") != FORMAT_VERSION:
            raise DirectoryFileError(f"format version {header.get('version')!r}")
        if generation is not None and header.get("generation") != generation:
            raise DirectoryFileError(f"generation {header.get('generation')!r}, not {generation}")
        body = view[start + length :]
        if len(body) != header.get("body_size"):
            raise DirectoryFileError(f"truncated: {len(body)} bytes of {header.get('body_size')}")
        if check and hashlib.sha256(body).hexdigest() != header.get("sha256"):
            raise DirectoryFileError("its checksum does not match its content")
        self.generation: str = header["generation"]
        sections = header["sections"]

        def array(name: str) -> np.ndarray:
            offset, dtype, count = sections[name]
            return np.frombuffer(body, dtype=np.dtype(dtype), count=count, offset=offset)

        def strings(name: str) -> _Strings:
            return _Strings(array(name + ".offsets"), array(name + ".blob").data)

        self.iris = strings("card.iri")
        self.bodies = strings("card.body")
        self.lat, self.lon = array("card.lat"), array("card.lon")
        self.approximate = array("card.approximate")
        self.theme_offsets, self.theme_values = (
            array("card.themes.offsets"),
            array("card.themes.values"),
        )
        self.network_offsets, self.network_values = (
            array("card.networks.offsets"),
            array("card.networks.values"),
        )
        self.card_cluster = array("card.cluster")
        self.card_head = array("card.head")
        self.names = strings("card.name")
        self.name_rank = array("card.name_rank")
        self.index_cards = {k: array(k + ".cards") for k in ("precise", "approximate")}
        self.index_keys = {k: array(k + ".keys") for k in ("precise", "approximate")}
        self.labels = strings("label.text")
        self.label_kind, self.label_card = array("label.kind"), array("label.card")
        self.words = strings("word.text")
        self.postings_offsets = array("word.postings.offsets")
        self.postings = array("word.postings.values")
        self.cluster_keys = strings("cluster.key")
        self.cluster_of = array("cluster.of")
        self.cluster_members = strings("cluster.member")
        self.cluster_bounds = array("cluster.bounds")
        offset, _, size = sections["meta"]
        self.meta = json.loads(bytes(body[offset : offset + size]))
        self.theme_list: list[str] = self.meta["themes"]
        self.network_list: list[str] = self.meta["network_list"]
        self.theme_ids = {t: n for n, t in enumerate(self.theme_list)}
        self.network_ids = {w: n for n, w in enumerate(self.network_list)}
        self.indexes = {k: self.spatial_index(k) for k in ("precise", "approximate")}

    # -- searches by card number: no Python object per place ---------------------------------

    def _having(
        self, cards: np.ndarray, themes: Iterable[str] | None, networks: Iterable[str] | None
    ) -> np.ndarray:
        """Which of ``cards`` have any of ``themes`` and any of ``networks`` (None: any)."""
        keep = np.ones(len(cards), dtype=bool)
        for wanted, ids, offsets, values in (
            (themes, self.theme_ids, self.theme_offsets, self.theme_values),
            (networks, self.network_ids, self.network_offsets, self.network_values),
        ):
            if wanted is None:
                continue
            numbers = {ids[w] for w in wanted if w in ids}
            starts, stops = offsets[cards].tolist(), offsets[cards + 1].tolist()
            for i, (a, b) in enumerate(zip(starts, stops, strict=True)):
                if keep[i] and numbers.isdisjoint(values[a:b].tolist()):
                    keep[i] = False
        return keep

    def near_cards(
        self,
        lat: float,
        lon: float,
        radius_km: float,
        themes: Iterable[str] | None = None,
        networks: Iterable[str] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Card numbers within the radius and their distances, nearest first (a tie:
        precise positions first, then by IRI), as ``SpatialIndex.near`` orders them."""
        found, distances, flags = [], [], []
        for flag, kind in enumerate(("precise", "approximate")):
            rows, km = self.indexes[kind].near_rows(lat, lon, radius_km)
            found.append(self.index_cards[kind][rows].astype(np.int64))
            distances.append(km)
            flags.append(np.full(len(rows), flag, dtype=np.int8))
        cards, km, flag = np.concatenate(found), np.concatenate(distances), np.concatenate(flags)
        keep = self._having(cards, themes, networks)
        cards, km, flag = cards[keep], km[keep], flag[keep]
        order = np.lexsort((cards, flag, km))
        return cards[order], km[order]

    def within_cards(
        self,
        box: tuple[float, float, float, float],
        themes: Iterable[str] | None = None,
        networks: Iterable[str] | None = None,
    ) -> np.ndarray:
        """Card numbers inside a box, precise positions first, each kind nearest to the
        box's centre first (``SpatialIndex.within`` of each index, one after the other)."""
        found = []
        for kind in ("precise", "approximate"):
            rows, km = self.indexes[kind].within_rows(*box)
            cards = self.index_cards[kind][rows].astype(np.int64)
            keep = self._having(cards, themes, networks)
            cards, km = cards[keep], km[keep]
            found.append(cards[np.lexsort((cards, km))])
        return np.concatenate(found)

    def cards_by_name(
        self, themes: Iterable[str] | None = None, networks: Iterable[str] | None = None
    ) -> np.ndarray:
        """Every card number, by name (case-insensitive) then IRI."""
        cards = np.argsort(self.name_rank).astype(np.int64)
        return cards[self._having(cards, themes, networks)]

    def one_per_cluster(self, cards: np.ndarray) -> np.ndarray:
        """The first of each physical place's records, in the given order."""
        _, first = np.unique(self.card_cluster[cards], return_index=True)
        return cards[np.sort(first)]

    def themes_of(self, n: int) -> tuple[str, ...]:
        a, b = int(self.theme_offsets[n]), int(self.theme_offsets[n + 1])
        return tuple(self.theme_list[i] for i in self.theme_values[a:b].tolist())

    def networks_of(self, n: int) -> tuple[str, ...]:
        a, b = int(self.network_offsets[n]), int(self.network_offsets[n + 1])
        return tuple(self.network_list[i] for i in self.network_values[a:b].tolist())

    def point(self, n: int) -> Point:
        return Point(
            self.iris[n],
            float(self.lat[n]),
            float(self.lon[n]),
            frozenset(self.themes_of(n)),
            frozenset(self.networks_of(n)),
        )

    def spatial_index(self, kind: str) -> SpatialIndex:
        cards = self.index_cards[kind]
        lat, lon = self.lat[cards], self.lon[cards]

        def point_at(row: int) -> Point:
            return self.point(int(cards[row]))

        return SpatialIndex.from_arrays(lat, lon, self.index_keys[kind], point_at, self.generation)


def directory_from_buffer(
    buffer: Any, generation: str | None = None, kind: type[D] = DirectoryData
) -> D:
    """The directory over a file's bytes (an ``mmap`` or ``bytes``), as a ``kind``;
    DirectoryFileError when they are not a whole, sound file of ``generation``."""
    m = _Mapped(buffer, generation)
    return kind(
        generation=m.generation,
        index=m.indexes["precise"],
        cards=_Cards(m),
        names=MappedNames(m),
        networks={row[0]: Network(*row) for row in m.meta["networks"]},
        sources={row[2]: SourceInfo(*row) for row in m.meta["sources"]},
        clusters=_Clusters(m),
        approximate_index=m.indexes["approximate"],
        table=m,
    )


def open_file(path: Path, generation: str, kind: type[D] = DirectoryData) -> D:
    """Map ``path`` and read it as ``generation``'s directory (DirectoryFileError)."""
    try:
        with open(path, "rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError) as error:  # ValueError: an empty file
        raise DirectoryFileError(f"cannot map {path.name}: {error}") from error
    return directory_from_buffer(mapped, generation, kind)


# -- one file per generation, shared -----------------------------------------------------------

_SAFE = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def file_name(generation: str) -> str:
    """The generation as a file name (a remote store's generation may be any text)."""
    if _SAFE.fullmatch(generation) and not generation.startswith("."):
        return generation
    return "h-" + hashlib.sha256(generation.encode()).hexdigest()[:32]


def prune(folder: DataFolder, keep: Path) -> None:
    """Remove the files of generations whose snapshot is gone (embedded store), or all
    but the two newest (remote store: no snapshots here). A process still serving an
    older generation keeps its mapping: the file's pages live until it lets go."""
    files = sorted(folder.directory_files(), key=lambda p: generation_number(_generation_of(p)))
    snapshots = folder.snapshots
    if snapshots.is_dir() and any(snapshots.iterdir()):
        kept = {p.name for p in snapshots.iterdir()}
        old = [p for p in files if _generation_of(p) not in kept]
    else:
        old = files[:-2]
    for path in old:
        if path != keep:
            path.unlink(missing_ok=True)


def _generation_of(path: Path) -> str:
    return path.name.removeprefix("directory-").removesuffix(".bin")


@contextlib.contextmanager
def locked(folder: DataFolder) -> Iterator[None]:
    """The folder's directory lock: whoever writes a directory file holds it, and a web
    process that finds no sound file waits for it before building one itself."""
    lock_path = folder.directory_lock
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def stamped(data: bytes, generation: str) -> bytes:
    """A file's bytes with another generation in its header (the harvest builds the file
    before it publishes, when the generation's name is not known yet)."""
    start = len(MAGIC) + _LENGTH.size
    (length,) = _LENGTH.unpack_from(data, len(MAGIC))
    header = json.loads(data[start : start + length])
    header["generation"] = generation
    encoded = json.dumps(header).encode()
    encoded += b" " * (-(start + len(encoded)) % 8)
    return MAGIC + _LENGTH.pack(len(encoded)) + encoded + data[start + length :]


def write_file(folder: DataFolder, generation: str, data: bytes) -> Path:
    """Write ``generation``'s file (``data`` stamped with it) atomically, then remove the
    files of generations no longer kept; the caller holds ``locked(folder)``."""
    path = folder.directory_file(file_name(generation))
    with replacing(path) as out:
        out.write(stamped(data, generation))
    prune(folder, keep=path)
    return path


def load_or_build(
    folder: DataFolder,
    generation: str,
    build: Callable[[], bytes],
    kind: type[D] = DirectoryData,
) -> D:
    """The mapped directory of ``generation``: opened from its file, or, when the file is
    missing or unsound, built by ``build()`` (→ the file's bytes) under the folder's
    lock — one process builds, the others wait for it and then map its file."""
    path = folder.directory_file(file_name(generation))
    with contextlib.suppress(DirectoryFileError):
        return open_file(path, generation, kind)
    with locked(folder):
        try:
            return open_file(path, generation, kind)
        except DirectoryFileError as error:
            if path.exists():
                log.warning("directory file %s unusable (%s): building it again", path, error)
        started = time.perf_counter()
        data = build()
        with replacing(path) as out:
            out.write(data)
        prune(folder, keep=path)
        log.info("directory file %s written in %.2f s", path.name, time.perf_counter() - started)
        return open_file(path, generation, kind)
