"""Structured access logs: one JSON line per request on the ``ltc.access`` logger.

People's searches say where they are: the parameters that carry a position or a place
name (``lat``, ``lon``, ``bbox``, ``q``, ``commune``…) are never written, only their
names; nor are the values of parameters a careless client may put a secret in
(``token``, ``secret``…), nor anything of a ping's query string (its secret belongs in
the ``Authorization`` header: ``registry.ping``); client addresses are cut to their
network (IPv4 /24, IPv6 /48). ``ms`` is the
time the application took, ``queued_ms`` the time the request waited for a thread
before (from ``ltc.received`` in the WSGI environment, set by ``ltc serve``).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from registry.clients import client_address

log = logging.getLogger("ltc.access")
RECEIVED_KEY = "ltc.received"  # WSGI environ: time.monotonic() when the request was whole
PRIVATE_PARAMETERS = frozenset({"lat", "lon", "bbox", "q", "commune", "latitude", "longitude"})
# parameters a careless client may put a secret in: their values are never written
SECRET_PARAMETERS = frozenset(
    {"token", "secret", "key", "access_token", "api_key", "apikey", "password", "signature"}
)
# routes whose query string is never written at all (a ping's secret belongs in a header)
SECRET_ROUTES = re.compile(r"^/sources/[^/]+/ping/?$")

StartResponse = Callable[..., Any]


def anonymised_address(address: str) -> str:
    """The client's network, not the client: 203.0.113.0/24, 2001:db8::/48."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def safe_query(query_string: str) -> dict[str, str]:
    """The query parameters worth logging; location-bearing values are replaced."""
    kept: dict[str, str] = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        key = name[:40]
        private = key.lower() in PRIVATE_PARAMETERS or key.lower() in SECRET_PARAMETERS
        kept[key] = "…" if private else value[:200]
    return kept


def _logged_query(environ: dict) -> dict[str, str]:
    if SECRET_ROUTES.match(environ.get("PATH_INFO", "")):
        return {}
    return safe_query(environ.get("QUERY_STRING", ""))


class AccessLog:
    """WSGI middleware writing one JSON line per answered request."""

    def __init__(
        self, app: Callable[[dict, StartResponse], Iterable[bytes]], trusted_proxies: str = ""
    ) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies  # whose X-Forwarded-For names the client

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        # set by ``ltc serve``'s server when the request had arrived whole
        received = environ.get(RECEIVED_KEY) or started
        status: list[str] = ["000"]

        def recording_start(code: str, headers: list, *args: Any) -> Any:
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, *args)

        body = self.app(environ, recording_start)
        sent = 0
        try:
            for chunk in body:
                sent += len(chunk)
                yield chunk
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
            log.info(
                json.dumps(
                    {
                        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        "client": anonymised_address(client_address(environ, self.trusted_proxies)),
                        "method": environ.get("REQUEST_METHOD", ""),
                        "path": environ.get("PATH_INFO", ""),
                        "query": _logged_query(environ),
                        "status": int(status[0]) if status[0].isdigit() else 0,
                        "bytes": sent,
                        "ms": round((time.monotonic() - started) * 1000, 1),
                        "queued_ms": round(max(0.0, started - received) * 1000, 1),
                    },
                    ensure_ascii=False,
                )
            )
