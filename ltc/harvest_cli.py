"""``ltc harvest``, ``ltc sources``, ``ltc takedown`` and ``ltc convert``."""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from core import takedown as takedown_list
from core.catalog import CatalogError, catalog_turtle, disabled_sources, load_catalog, set_disabled
from core.config import Settings
from core.datafolder import DataFolder
from core.harvest_files import SourceFiles
from core.store import StoreError
from harvester.adapters import adapt_with_notes, load_mapping, standard_mapping
from harvester.adapters.standard import PLACEHOLDER_NAMESPACE, PLACEHOLDER_NETWORK_NAME
from harvester.errors import FeedError
from harvester.harvest import HarvestError, Outcome, Progress
from ltc.cli_settings import command_settings
from ltc.pipeline import harvest, remove_source, take_down

STATUS_FR = {
    "loaded": "chargé",
    "unchanged": "inchangé",
    "failed": "ÉCHEC",
    "held": "RETENU",
    None: "jamais moissonné",
}


def log_to_file(settings: Settings) -> None:
    """Harvest logs as key=value lines, greppable, in the data folder."""
    path = DataFolder(settings.data_dir).harvest_log
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s level=%(levelname)s %(message)s"))
    logger = logging.getLogger("ltc")
    logger.setLevel(logging.INFO)
    logger.addHandler(handler)


class TerminalProgress(Progress):
    """One line per source, redrawn in place on a terminal; silent otherwise."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.source = ""
        self.size = 0
        self.records = ""

    def _draw(self) -> None:
        if self.live:
            size = f"{self.size / 1024:,.0f} Ko".replace(",", " ")
            click.echo(
                f"\r\x1b[K{self.source:<24} {size:>10} reçus  {self.records}", nl=False, err=True
            )

    def start(self, source) -> None:
        self.source, self.size, self.records = source.id, 0, ""
        self._draw()

    def fetched(self, size: int, total: int | None) -> None:
        self.size = size
        self._draw()

    def validated(self, done: int, total: int) -> None:
        self.records = f"{done}/{total} fiches validées"
        self._draw()

    def finish(self, outcome: Outcome) -> None:
        if self.live:
            click.echo("\r\x1b[K", nl=False, err=True)


def _summary(outcomes: list[Outcome]) -> None:
    header = (
        f"{'source':<24} {'statut':<10} {'acceptées':>9} {'rejetées':>8} {'avert.':>6} {'durée':>7}"
    )
    click.echo(header)
    click.echo("-" * len(header))
    for o in outcomes:
        click.echo(
            f"{o.source:<24} {STATUS_FR[o.status]:<10} {o.accepted:>9} {o.rejected:>8} "
            f"{o.warned:>6} {o.seconds:>6.1f}s"
        )
    for o in outcomes:
        if o.message:
            click.echo(f"{o.source} : {o.message}", err=True)


@click.command("harvest")
@click.argument("sources", nargs=-1, metavar="[SOURCE]...")
@click.option(
    "--accept-shrink",
    multiple=True,
    metavar="SOURCE",
    help="Apply this source's harvest even if it lost more than max_shrink of its records.",
)
def harvest_command(sources: tuple[str, ...], accept_shrink: tuple[str, ...]) -> None:
    """Harvest the catalog's sources (all, or the SOURCE ids given) into the store.

    Shows a progress line per source and a summary table; logs go to
    DATA_DIR/logs/harvest.log. Exit status 1 when a source failed (fetch or parse
    error) or was held by the shrink guard; rejected records, warnings and unchanged
    feeds are not failures.
    """
    settings = command_settings()
    log_to_file(settings)
    try:
        outcomes = harvest(
            settings,
            only=list(sources) or None,
            accept_shrink=set(accept_shrink),
            progress=TerminalProgress(),
        )
    except (HarvestError, CatalogError, StoreError) as error:
        raise click.ClickException(str(error)) from error
    _summary(outcomes)
    sys.exit(1 if any(o.failed for o in outcomes) else 0)


def _is_stale(last_success: str | None, settings: Settings) -> bool:
    if not last_success:
        return False
    moment = datetime.fromisoformat(last_success.replace("Z", "+00:00"))
    return datetime.now(UTC) - moment > timedelta(days=settings.stale_after_days)


def source_rows(settings: Settings) -> list[dict]:
    disabled = disabled_sources(settings.data_dir)
    rows = []
    for source in load_catalog(settings):
        state = SourceFiles(settings.data_dir, source.id).load_state()
        rows.append(
            {
                "id": source.id,
                "title": source.title,
                "url": source.url,
                "status": state.status,
                "last_attempt": state.last_attempt,
                "last_success": state.last_success,
                "accepted": state.accepted,
                "rejected": state.rejected,
                "warned": state.warned,
                "message": state.message,
                "stale": _is_stale(state.last_success, settings),
                "disabled": source.id in disabled,
            }
        )
    return rows


@click.group("sources", invoke_without_command=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "turtle"]),
    default="text",
    show_default=True,
    help="text for people, json, or turtle (the catalog as DCAT).",
)
@click.pass_context
def sources_command(ctx: click.Context, output_format: str) -> None:
    """List the catalog's sources with their last harvest status."""
    if ctx.invoked_subcommand:
        return
    settings = command_settings()
    try:
        if output_format == "turtle":
            click.echo(catalog_turtle(load_catalog(settings), settings.base_iri))
            return
        rows = source_rows(settings)
    except CatalogError as error:
        raise click.ClickException(str(error)) from error
    if output_format == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for row in rows:
        flags = " (désactivée)" if row["disabled"] else " (PÉRIMÉE)" if row["stale"] else ""
        click.echo(
            f"{row['id']:<24} {STATUS_FR[row['status']]:<16} {row['accepted']:>6} acceptées "
            f"{row['rejected']:>4} rejetées  dernier succès : {row['last_success'] or '—'}{flags}"
        )
        if row["message"]:
            click.echo(f"{'':<24} {row['message']}")


@sources_command.command("remove")
@click.argument("source")
def sources_remove(source: str) -> None:
    """Remove a source's data from the store and stop harvesting it (see `enable`)."""
    settings = command_settings()
    if source not in {s.id for s in load_catalog(settings)}:
        raise click.ClickException(f"unknown source: {source}")
    try:
        remove_source(settings, source)
    except StoreError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{source} : données retirées ; source désactivée (`ltc sources enable {source}`)")


@sources_command.command("enable")
@click.argument("source")
def sources_enable(source: str) -> None:
    """Harvest a removed source again from the next harvest on."""
    settings = command_settings()
    set_disabled(settings.data_dir, source, False)
    click.echo(f"{source} : source réactivée")


@click.group("takedown")
def takedown_command() -> None:
    """The operator's takedown list: records suppressed even if their feed publishes them."""


@takedown_command.command("add")
@click.argument("iri")
@click.option("--reason", required=True, help="Why the record is suppressed (kept in the list).")
def takedown_add(iri: str, reason: str) -> None:
    """Suppress the record IRI now and in every later harvest."""
    settings = command_settings()
    try:
        takedown_list.add(settings.data_dir, iri, reason)
        sources = take_down(settings, iri)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    except StoreError as error:
        raise click.ClickException(str(error)) from error
    where = ", ".join(sources) if sources else "aucune source ne la publie actuellement"
    click.echo(f"{iri} : fiche retirée ({where})")


@takedown_command.command("list")
def takedown_show() -> None:
    """Print the takedown list."""
    for entry in takedown_list.load(command_settings().data_dir).values():
        click.echo(f"{entry.date}  {entry.iri}  {entry.reason}")


@takedown_command.command("remove")
@click.argument("iri")
def takedown_remove(iri: str) -> None:
    """Take IRI off the list; it comes back with its source's next harvest."""
    if not takedown_list.remove(command_settings().data_dir, iri):
        raise click.ClickException(f"not in the takedown list: {iri}")
    click.echo(f"{iri} : retirée de la liste ; elle reviendra au prochain moissonnage")


@click.command("convert")
@click.argument("feed", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--mapping",
    default=None,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The source's mapping file (TOML, see docs/adaptateurs.md); without it, FEED is a "
    "spreadsheet following the standard template (docs/modele-tableur/).",
)
@click.option(
    "--namespace",
    default=None,
    help="Standard spreadsheet: the namespace its IRIs are minted under (default: the "
    "placeholder https://mon-reseau.example.org/).",
)
@click.option("--network-name", default=None, help="Standard spreadsheet: the network's name.")
@click.option("--sheet", default=None, help="XLSX or ODS: the sheet to read (default: the first).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the JSON-LD feed (default: standard output).",
)
def convert_command(
    feed: Path,
    mapping: Path | None,
    namespace: str | None,
    network_name: str | None,
    sheet: str | None,
    output: Path | None,
) -> None:
    """Turn a spreadsheet (CSV, XLSX, ODS) or a GoGoCarto export into a JSON-LD feed.

    The result is what the harvester loads for such a source, so a network can publish
    linked data straight from its spreadsheet. What had to be changed or left out is
    told on standard error, row by row.
    """
    try:
        if mapping is not None:
            rules = load_mapping(mapping.read_bytes())
            if sheet:
                rules = replace(rules, sheet=sheet)
        else:
            rules = standard_mapping(
                namespace or PLACEHOLDER_NAMESPACE,
                network_name=network_name or PLACEHOLDER_NETWORK_NAME,
                sheet=sheet,
            )
        adapted = adapt_with_notes(feed.read_bytes(), rules.adapter, rules)
    except FeedError as error:
        click.echo(f"{feed} : {error.message('fr')}", err=True)
        sys.exit(2)
    text = json.dumps(adapted.document, ensure_ascii=False, indent=2) + "\n"
    for note in adapted.notes:
        click.echo(f"{feed} : {note.message('fr')}", err=True)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)
