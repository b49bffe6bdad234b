"""Who a request comes from: the connection's address, or, behind a reverse proxy the
operator trusts (setting ``trusted_proxies``), the address that proxy reports in
``X-Forwarded-For``. Rate limits and access logs count clients by this address; an
``X-Forwarded-For`` sent by anyone else is ignored (anyone can write that header)."""

from __future__ import annotations

import functools
import ipaddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def trusted_networks(setting: str) -> tuple[Network, ...]:
    """The networks of ``trusted_proxies`` (comma-separated CIDRs); invalid ones raise."""
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False)
        for part in setting.split(",")
        if part.strip()
    )


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(environ: dict, trusted: str) -> str:
    """The client's address for this request.

    From the connection's address, walk ``X-Forwarded-For`` from the right (each proxy
    appends the address it received the request from) while the hop is a trusted proxy;
    the first untrusted hop is the client."""
    address = environ.get("REMOTE_ADDR", "") or "unknown"
    networks = trusted_networks(trusted)
    if not networks or not _trusted(address, networks):
        return address
    hops = [hop.strip() for hop in environ.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    for hop in reversed([hop for hop in hops if hop]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return address  # a malformed header: keep the proxy's own address
        if not _trusted(hop, networks):
            return hop
        address = hop
    return address
