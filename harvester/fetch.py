"""Fetch a feed from the internet without letting it reach anything else.

Every connection is checked on the address actually connected to (so DNS tricks and
redirects cannot reach loopback, private, link-local or metadata addresses unless the
configuration allows them); only http and https; bounded time, size and redirects;
the body is counted after decompression.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from core import __version__
from core.catalog import Source
from core.config import Settings
from harvester.errors import FeedError

USER_AGENT = f"LTC-Registry/{__version__} (moissonneur du registre LTC; +https://w3id.org/ltc/)"
ACCEPT = (
    "text/turtle, application/ld+json;q=0.95, application/n-triples;q=0.9, "
    "application/rdf+xml;q=0.9, application/trig;q=0.8, application/n-quads;q=0.8, */*;q=0.1"
)
MAX_REDIRECTS = 5


@dataclass(frozen=True)
class FetchPolicy:
    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    deadline: float = 120.0
    max_bytes: int = 64 * 1024 * 1024
    allowed_networks: tuple[str, ...] = ()  # e.g. ("127.0.0.1/32",) in tests

    def address_allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%")[0])
        if any(ip in ipaddress.ip_network(n, strict=False) for n in self.allowed_networks):
            return True
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
            ip = ip.ipv4_mapped
        return ip.is_global and not ip.is_multicast


@dataclass
class FetchResult:
    url: str
    status: int
    content: bytes
    content_type: str | None
    etag: str | None = None
    last_modified: str | None = None
    redirects: list[str] = field(default_factory=list)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def policy_from(settings: Settings) -> FetchPolicy:
    return FetchPolicy(
        connect_timeout=settings.fetch_connect_timeout,
        read_timeout=settings.fetch_read_timeout,
        deadline=settings.fetch_deadline,
        max_bytes=settings.max_feed_bytes,
        allowed_networks=tuple(n for n in settings.fetch_allow_networks.split(",") if n.strip()),
    )


def _refused(address: str) -> FeedError:
    return FeedError(
        f"adresse interdite : {address} (réseau local, privé ou réservé)",
        f"forbidden address: {address} (loopback, private or reserved network)",
    )


class _Deadline:
    """One wall-clock limit for a whole fetch, from the first connection to the last byte.

    Timeouts on each read do not bound a server that sends one header line, or one
    byte, just before each read would time out; so when the deadline passes, a timer
    shuts the fetch's sockets down, which ends whatever read is waiting."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _guarded(connection_class: type, policy: FetchPolicy, deadline: _Deadline) -> type:
    class Guarded(connection_class):  # type: ignore[misc, valid-type]
        def _new_conn(self):  # type: ignore[no-untyped-def]
            sock = super()._new_conn()
            address = sock.getpeername()[0]
            if not policy.address_allowed(address):
                sock.close()
                raise _refused(address)
            deadline.watch(sock)
            return sock

    return Guarded


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, policy: FetchPolicy, deadline: _Deadline):
        self.policy = policy
        self.deadline = deadline
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().init_poolmanager(*args, **kwargs)
        policy, deadline = self.policy, self.deadline

        class HttpPool(HTTPConnectionPool):
            ConnectionCls = _guarded(HTTPConnectionPool.ConnectionCls, policy, deadline)

        class HttpsPool(HTTPSConnectionPool):
            ConnectionCls = _guarded(HTTPSConnectionPool.ConnectionCls, policy, deadline)

        self.poolmanager.pool_classes_by_scheme = {"http": HttpPool, "https": HttpsPool}
        self.poolmanager.key_fn_by_scheme = dict(self.poolmanager.key_fn_by_scheme)


def _session(policy: FetchPolicy, deadline: _Deadline) -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # no proxy, no .netrc from the environment
    adapter = _GuardedAdapter(policy, deadline)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers.update({"User-Agent": USER_AGENT, "Accept": ACCEPT})
    return session


def _check_url(url: str, policy: FetchPolicy) -> None:
    """Refuse other schemes, and hosts that resolve to a forbidden address, before any
    packet is sent; the connection guard checks again the address actually reached."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FeedError(
            f"adresse refusée : {url} (seules les adresses http et https sont acceptées)",
            f"refused address: {url} (only http and https addresses are accepted)",
        )
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError, ValueError) as error:
        raise FeedError(
            f"nom d'hôte inconnu : {parts.hostname}", f"unknown host name: {parts.hostname}"
        ) from error
    for info in infos:
        address = info[4][0]
        if not policy.address_allowed(address):
            raise _refused(address)


Progress = Callable[[int, int | None], None]


def _read_body(
    response: requests.Response, policy: FetchPolicy, started: float, progress: Progress | None
) -> bytes:
    """The decompressed body, read as it arrives so that a drip-fed answer meets the deadline."""
    chunks, size = [], 0
    total = response.headers.get("Content-Length")
    expected = int(total) if total and total.isdigit() else None
    raw = response.raw
    while chunk := raw.read1(65536, decode_content=True):
        size += len(chunk)
        if progress:
            progress(size, expected)
        if size > policy.max_bytes:
            raise FeedError(
                f"flux trop gros (plus de {policy.max_bytes} octets une fois décompressé)",
                f"feed too large (more than {policy.max_bytes} bytes once decompressed)",
            )
        if time.monotonic() - started > policy.deadline:
            raise _deadline(policy)
        chunks.append(chunk)
    return b"".join(chunks)


def _deadline(policy: FetchPolicy) -> FeedError:
    return FeedError(
        f"délai dépassé : le flux n'a pas été reçu en {policy.deadline:g} s",
        f"deadline exceeded: the feed was not received within {policy.deadline:g} s",
    )


def fetch(
    url: str,
    policy: FetchPolicy,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    progress: Progress | None = None,
) -> FetchResult:
    """GET ``url`` under ``policy``; conditional when validators are given. Raises FeedError.

    ``policy.deadline`` bounds the whole fetch (connections, redirects, headers, body)."""
    with _Deadline(policy.deadline) as deadline:
        try:
            result = _fetch(url, policy, deadline, etag, last_modified, progress)
        except FeedError as error:
            if deadline.expired:  # whatever the cut-off read looked like
                raise _deadline(policy) from error
            raise
        if deadline.expired:  # a body cut by the deadline can look complete
            raise _deadline(policy)
        return result


def _fetch(
    url: str,
    policy: FetchPolicy,
    deadline: _Deadline,
    etag: str | None,
    last_modified: str | None,
    progress: Progress | None,
) -> FetchResult:
    started = time.monotonic()
    headers = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    redirects: list[str] = []
    with _session(policy, deadline) as session:
        while True:
            _check_url(url, policy)
            try:
                response = session.get(
                    url,
                    headers=headers,
                    stream=True,
                    allow_redirects=False,
                    timeout=(policy.connect_timeout, policy.read_timeout),
                )
            except FeedError:
                raise
            except requests.exceptions.ConnectionError as error:
                inner = _cause(error)
                if isinstance(inner, FeedError):
                    raise inner from error
                if "timed out" in str(error).lower():
                    raise _timeout(url, policy) from error
                raise FeedError(
                    f"serveur injoignable : {urlsplit(url).hostname}",
                    f"server unreachable: {urlsplit(url).hostname}",
                ) from error
            except requests.exceptions.Timeout as error:
                raise _timeout(url, policy) from error
            except requests.exceptions.RequestException as error:
                raise FeedError(
                    f"échec de la requête : {type(error).__name__}",
                    f"request failed: {type(error).__name__}",
                ) from error
            with response:
                if response.is_redirect:
                    if len(redirects) >= MAX_REDIRECTS:
                        raise FeedError(
                            f"trop de redirections (plus de {MAX_REDIRECTS})",
                            f"too many redirects (more than {MAX_REDIRECTS})",
                        )
                    redirects.append(url)
                    url = urljoin(url, response.headers.get("Location", ""))
                    continue
                if response.status_code == 304:
                    return FetchResult(url, 304, b"", None, etag, last_modified, redirects)
                if response.status_code >= 400:
                    raise FeedError(
                        f"le serveur a répondu {response.status_code} {response.reason}",
                        f"the server answered {response.status_code} {response.reason}",
                    )
                try:
                    content = _read_body(response, policy, started, progress)
                except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as e:
                    if "timed out" in str(e).lower():
                        raise _timeout(url, policy) from e
                    raise FeedError(
                        f"réponse interrompue ou illisible : {type(e).__name__}",
                        f"response interrupted or unreadable: {type(e).__name__}",
                    ) from e
                return FetchResult(
                    url,
                    response.status_code,
                    content,
                    response.headers.get("Content-Type"),
                    response.headers.get("ETag"),
                    response.headers.get("Last-Modified"),
                    redirects,
                )


def _timeout(url: str, policy: FetchPolicy) -> FeedError:
    return FeedError(
        f"délai dépassé en joignant {urlsplit(url).hostname} "
        f"(connexion {policy.connect_timeout:g} s, lecture {policy.read_timeout:g} s)",
        f"timed out reaching {urlsplit(url).hostname} "
        f"(connect {policy.connect_timeout:g} s, read {policy.read_timeout:g} s)",
    )


def _cause(error: BaseException) -> BaseException | None:
    """The FeedError raised by the connection guard, buried under urllib3's wrappers."""
    seen = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, FeedError):
            return current
        for arg in getattr(current, "args", ()):
            if isinstance(arg, BaseException):
                found = _cause(arg)
                if found:
                    return found
        current = current.__cause__ or current.__context__ or getattr(current, "reason", None)
    return None


def fetch_for_validation(url: str, settings: Settings) -> tuple[bytes, str | None]:
    result = fetch(url, policy_from(settings))
    return result.content, result.content_type


def read_local(source: Source, relative: str | None = None) -> bytes:
    """The bytes of a file the operator named in the catalog (the feed, or ``relative``
    such as its mapping): only the catalog's own paths are read, never a URL's."""
    name = relative or source.url
    try:
        return source.local_file(relative).read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        if isinstance(error, FileNotFoundError) and not error.strerror:
            raise FeedError(f"fichier introuvable : {name}", f"file not found: {name}") from error
        raise FeedError(
            f"impossible de lire {name} : {reason}", f"cannot read {name}: {reason}"
        ) from error
