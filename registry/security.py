"""Security headers for every answer: a Content-Security-Policy without inline scripts,
no MIME sniffing, a discreet Referrer-Policy, and framing by this site only — except the
embeddable widget, which member networks put in an iframe on their own websites.

Harvested text is escaped by the templates; this policy is the second line: even if some
markup slipped through, the browser would run no inline script and load no foreign one.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Response

from registry.runtime import app_settings

CSP_HEADER = "Content-Security-Policy"


def tile_origin(tile_url: str) -> str:
    """The origin the map loads tiles from, as a CSP source ("" when the tiles are ours).

    A ``{s}`` subdomain placeholder becomes a ``*.`` wildcard: Leaflet picks a subdomain
    per tile.
    """
    parts = urlsplit(tile_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""  # a relative URL: tiles served by the registry itself ('self')
    host = parts.netloc.rsplit("@", 1)[-1]
    host = host.replace("{s}.", "*.").replace("{s}", "*")
    return f"{parts.scheme}://{host}"


def content_security_policy(frame_ancestors: str = "'self'") -> str:
    """The policy: our own scripts, styles and data only; images also from the tile host."""
    tiles = tile_origin(app_settings().tile_url)
    images = " ".join(filter(None, ("'self'", "data:", tiles)))
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            f"frame-ancestors {frame_ancestors}",
        )
    )


def allow_framing(response: Response) -> Response:
    """Let any website put this answer in an iframe (the widget only)."""
    response.headers[CSP_HEADER] = content_security_policy(frame_ancestors="*")
    response.headers.pop("X-Frame-Options", None)
    return response


def security_headers(response: Response) -> Response:
    """Add the security headers to an answer (``app.after_request``); a policy a view
    already set (the widget's) is kept."""
    if CSP_HEADER not in response.headers:
        response.headers[CSP_HEADER] = content_security_policy()
        # older browsers ignore frame-ancestors
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    return response
