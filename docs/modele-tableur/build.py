"""Write the standard spreadsheet's files into this folder: ``schema.json`` (its Table
Schema) and the ready-to-fill templates ``modele-lieux.csv``, ``.xlsx`` and ``.ods``.

They are made by ``harvester.adapters.template_files`` from the template's one
description (``harvester/adapters/standard.py``), exactly as the registry serves them at
``/publier``; ``tests/test_spreadsheets.py`` checks that the committed files are up to
date. Run from the repository, with the project installed::

    python docs/modele-tableur/build.py
"""

from __future__ import annotations

from pathlib import Path

from harvester.adapters.template_files import TEMPLATE_FILES, template_file

HERE = Path(__file__).resolve().parent


def main() -> None:
    for name in TEMPLATE_FILES:
        data, _ = template_file(name)
        (HERE / name).write_bytes(data)
        print(f"{name}: {len(data)} octets")


if __name__ == "__main__":
    main()
