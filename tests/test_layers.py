"""The code keeps to its layers: the import contracts of pyproject.toml hold.

The contracts live under [tool.importlinter] in pyproject.toml and are checked by
import-linter's `lint-imports`. The first test runs it on the repository as CI does; the
others copy the packages aside, plant one forbidden import in the copy and check that
`lint-imports` refuses it and names the contract it breaks, so a contract that could never
fail (a misspelt module, an ignore that is too wide) does not go unnoticed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "ltc", "harvester", "convergence", "registry", "gazetteer")


def _lint_imports() -> str:
    found = Path(sys.executable).with_name("lint-imports")
    assert found.exists(), f"{found} is missing: pip install '.[test]' installs import-linter"
    return str(found)


def _contract_names() -> dict[str, str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c["name"] for c in config["tool"]["importlinter"]["contracts"]}


def _flat(text: str) -> str:
    """The output with its line wrapping undone, so long contract names can be found."""
    return " ".join(text.split())


def _run(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    done = subprocess.run(
        [_lint_imports(), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def _run_on_copy(copy: Path) -> tuple[int, str]:
    """`lint-imports` on the copy: its folder comes first on the path, and its
    pyproject.toml is the configuration, so the copy is analysed, not the installed
    packages."""
    env = {**os.environ, "PYTHONPATH": str(copy), "COLUMNS": "200"}
    return _run(copy, "--no-cache", "--no-logo", env=env)


def test_repository_keeps_every_import_contract():
    status, output = _run(ROOT)
    assert status == 0, output
    assert "0 broken" in output, output


@pytest.fixture(scope="module")
def pristine_copy(tmp_path_factory) -> Path:
    copy = tmp_path_factory.mktemp("pristine")
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, copy / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy2(ROOT / "pyproject.toml", copy / "pyproject.toml")
    return copy


def test_copy_of_the_packages_keeps_every_contract_before_anything_is_planted(pristine_copy):
    status, output = _run_on_copy(pristine_copy)
    assert status == 0, output


# (module in which the import is planted, planted code, broken contract id,
#  what the report must show of the planted import)
PLANTED = {
    "harvester importing the registry": (
        "harvester/harvest.py",
        "import registry.app",
        "layers",
        "harvester.harvest -> registry.app (l.{line})",
    ),
    "registry module other than the validator importing the harvester": (
        "registry/api.py",
        "import harvester.harvest",
        "registry-uses-harvester-checking-only",
        "registry.api -> harvester.harvest (l.{line})",
    ),
    "registry validator importing more of the harvester than harvester.checking": (
        "registry/validator.py",
        "import harvester.harvest",
        "registry-uses-harvester-checking-only",
        "registry.validator -> harvester.harvest (l.{line})",
    ),
    "core importing the commands layer": (
        "core/catalog.py",
        "import ltc.pipeline",
        "layers",
        "core.catalog -> ltc.pipeline (l.{line})",
    ),
    "gazetteer importing core": (
        "gazetteer/lookup.py",
        "import core.text",
        "gazetteer-standalone",
        "gazetteer.lookup -> core.text (l.{line})",
    ),
    "core importing the gazetteer": (
        "core/text.py",
        "import gazetteer.lookup",
        "core-without-gazetteer",
        "core.text -> gazetteer.lookup (l.{line})",
    ),
    "registry blueprint importing registry.app (a cycle)": (
        "registry/public.py",
        "def _planted():\n    import registry.app",
        "registry-acyclic",
        ".public -> .app",
    ),
}


@pytest.mark.parametrize(
    ("module", "planted", "contract", "evidence"), PLANTED.values(), ids=list(PLANTED)
)
def test_planted_forbidden_import_breaks_the_contract_that_forbids_it(
    pristine_copy, tmp_path, module, planted, contract, evidence
):
    names = _contract_names()
    assert contract in names, f"no contract with id {contract!r} in pyproject.toml"

    copy = tmp_path / "copy"
    shutil.copytree(pristine_copy, copy)
    target = copy / module
    source = target.read_text(encoding="utf-8")
    assert planted not in source, f"{module} already contains {planted!r}"
    if not source.endswith("\n"):
        source += "\n"
    line = source.count("\n") + 1 + planted.count("\n")  # the planted `import` line
    target.write_text(source + planted + "\n", encoding="utf-8")

    status, output = _run_on_copy(copy)

    assert status != 0, output
    flat = _flat(output)
    assert f"{names[contract]} BROKEN" in flat, output
    # The import exists only in the copy: finding it proves the copy was analysed.
    assert evidence.format(line=line) in flat, output
