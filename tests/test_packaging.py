"""The wheel ships every Python package of the repository."""

from __future__ import annotations

import tomllib

from conftest import ROOT


def test_every_python_package_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in ROOT.glob("*/**/__init__.py")
        if init.parent.relative_to(ROOT).parts[0] in ("ltc", "harvester", "registry")
    }
    assert found <= listed, f"packages missing from pyproject.toml: {sorted(found - listed)}"
