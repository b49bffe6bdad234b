"""Front-end packages served by the registry itself (``/vendor/<package>/<path>``), so the
public pages load no script from anyone else's server.

The packages are installed by ``npm ci`` into the ``assets_dir`` setting (``node_modules``);
only the allow-listed packages' ``dist/`` files are served. Templates link them through
``vendor_url``, which adds the installed version to the URL, so the files can be cached
for a year and a package upgrade is still seen at once.

The icons of themes and buttons come from the Tabler icon set (``@tabler/icons``, MIT):
the few the pages use (``ICONS``) are gathered into one SVG sprite of ``<symbol>``s,
``/vendor/icones.svg`` (``icons_url``), which pages and the map reference as
``<use href="…#i-bolt">``; they take the colour of the text (``currentColor``).
"""

from __future__ import annotations

import functools
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from flask import Blueprint, Response, abort, send_from_directory, url_for
from werkzeug.security import safe_join

from registry.map_view import OTHER_STYLE, THEME_STYLES
from registry.runtime import app_settings

blueprint = Blueprint("assets", __name__)

# package → the folder of it that is served; nothing else of node_modules is reachable
PACKAGES = {"leaflet": "dist", "leaflet.markercluster": "dist"}
SUFFIXES = (".js", ".css", ".png", ".svg", ".map")
ONE_YEAR = 365 * 24 * 3600


def _folder(package: str) -> Path | None:
    if package not in PACKAGES:
        return None
    folder = Path(app_settings().assets_dir) / package / PACKAGES[package]
    return folder.resolve() if folder.is_dir() else None


@functools.cache
def _version(package_json: Path) -> str:
    try:
        return str(json.loads(package_json.read_text(encoding="utf-8")).get("version", ""))
    except (OSError, ValueError):
        return ""


def vendor_url(package: str, path: str) -> str | None:
    """URL of a file of an installed package, or None when it is not installed (the page
    then works without it: the list needs no script)."""
    folder = _folder(package)
    if folder is None or safe_join(str(folder), path) is None:
        return None
    if not (folder / path).is_file():
        return None
    version = _version(folder.parent / "package.json")
    return url_for("assets.vendor", package=package, path=f"{PACKAGES[package]}/{path}", v=version)


@blueprint.get("/vendor/<package>/<path:path>")
def vendor(package: str, path: str) -> Response:
    """One file of an allow-listed package's ``dist/`` folder, cached for a year."""
    folder = _folder(package)
    prefix = PACKAGES.get(package, "") + "/"
    if folder is None or not path.startswith(prefix) or not path.endswith(SUFFIXES):
        abort(404)
    # send_from_directory joins safely: "..", absolute paths and backslashes give 404
    response = send_from_directory(folder, path.removeprefix(prefix), max_age=ONE_YEAR)
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response


# -- icons ----------------------------------------------------------------------------------

ICON_PACKAGE = "@tabler/icons"
# the icons the pages use besides the themes' (registry.map_view.THEME_STYLES)
UI_ICONS = (
    "search",
    "current-location",
    "adjustments-horizontal",
    "list",
    "map",
    "route",
    "phone",
    "mail",
    "world",
    "clock",
    "share",
    "x",
    "external-link",
    "map-pin",
    "users",
    "database",
    "star",
)
ICONS = tuple(
    dict.fromkeys([style.icon for style in THEME_STYLES.values()] + [OTHER_STYLE.icon, *UI_ICONS])
)
_SVG = "{http://www.w3.org/2000/svg}"
_KEPT = ("fill", "stroke", "stroke-width", "stroke-linecap", "stroke-linejoin")


def _icons_folder() -> Path | None:
    folder = Path(app_settings().assets_dir) / ICON_PACKAGE / "icons" / "outline"
    return folder if folder.is_dir() else None


@functools.cache
def _sprite(folder: Path) -> bytes:
    """The ``<symbol>`` of every icon of ``ICONS`` found in the package, in one SVG."""
    ET.register_namespace("", _SVG[1:-1])
    symbols = []
    for name in ICONS:
        try:
            root = ET.fromstring((folder / f"{name}.svg").read_text(encoding="utf-8"))
        except (OSError, ET.ParseError):
            continue
        paint = " ".join(f'{key}="{root.get(key)}"' for key in _KEPT if root.get(key))
        inner = "".join(
            ET.tostring(child, encoding="unicode")
            for child in root
            if child.get("d") != "M0 0h24v24H0z"  # the set's transparent frame
        )
        inner = re.sub(r'\sxmlns(:\w+)?="[^"]*"', "", inner)
        symbols.append(
            f'<symbol id="i-{name}" viewBox="{root.get("viewBox", "0 0 24 24")}">'
            f"<g {paint}>{inner}</g></symbol>"
        )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg">'
        "<!-- Tabler Icons (https://tabler.io/icons), MIT licence -->" + "".join(symbols) + "</svg>"
    ).encode("utf-8")


def icons_url() -> str | None:
    """URL of the icon sprite (None when the icon package is not installed: the pages
    then show the themes' colours and names without icons)."""
    folder = _icons_folder()
    if folder is None:
        return None
    version = _version(folder.parent.parent / "package.json")
    return url_for("assets.icons", v=version)


@blueprint.get("/vendor/icones.svg")
def icons() -> Response:
    """The icon sprite, cached for a year (its URL carries the package's version)."""
    folder = _icons_folder()
    if folder is None:
        abort(404)
    response = Response(_sprite(folder), mimetype="image/svg+xml")
    response.headers["Cache-Control"] = f"public, max-age={ONE_YEAR}, immutable"
    return response
