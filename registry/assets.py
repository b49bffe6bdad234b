"""Front-end packages served by the registry itself (``/vendor/<package>/<path>``), so the
public pages load no script from anyone else's server.

The packages are installed by ``npm ci`` into the ``assets_dir`` setting (``node_modules``);
only the allow-listed packages' ``dist/`` files are served. Templates link them through
``vendor_url``, which adds the installed version to the URL, so the files can be cached
for a year and a package upgrade is still seen at once.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from flask import Blueprint, Response, abort, send_from_directory, url_for
from werkzeug.security import safe_join

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
