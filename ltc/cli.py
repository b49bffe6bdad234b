"""The ``ltc`` command: thin click commands over plain functions."""

from __future__ import annotations

import json
import sys
from dataclasses import fields
from pathlib import Path

import click

from core.config import Settings, env_name
from harvester.checking import (
    DEFAULT_ENGINE,
    ENGINE_NAMES,
    PLACEHOLDER_NAMESPACE,
    FeedError,
    check_feed,
    dumps_json,
    fetch_feed,
    syntax_names,
    turtle,
)
from ltc import __version__
from ltc import demo as example_federation
from ltc.backup_cli import backup_command, restore_command
from ltc.cli_settings import command_settings
from ltc.convergence_cli import convergence_group
from ltc.harvest_cli import (
    TerminalProgress,
    convert_command,
    harvest_command,
    log_to_file,
    sources_command,
    takedown_command,
)
from ltc.ping_cli import watch_command
from ltc.serve_cli import run_server, serve_command

EXIT_OK, EXIT_REJECTED, EXIT_UNREADABLE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ltc")
def main() -> None:
    """Registre des Lieux de Convergence de la Transition (LTC).

    Validate member networks' feeds against the shared data model, and (soon) harvest
    them into the registry's store and serve them.
    """


def _read_input(target: str) -> tuple[bytes, str | None]:
    """The bytes of a file (or '-' for standard input) and the Content-Type if any."""
    if target.startswith(("http://", "https://")):
        return fetch_feed(target, command_settings())
    if target == "-":
        return sys.stdin.buffer.read(), None
    path = Path(target)
    try:
        size = path.stat().st_size
        limit = command_settings().max_feed_bytes
        if size > limit:
            raise FeedError(
                f"fichier trop gros ({size} octets, {limit} au plus)",
                f"file too large ({size} bytes, at most {limit})",
            )
        return path.read_bytes(), None
    except (OSError, ValueError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise FeedError(
            f"impossible de lire {target} : {reason}", f"cannot read {target}: {reason}"
        ) from error


@main.command()
@click.argument("feeds", nargs=-1, required=True, metavar="FILE_OR_URL...")
@click.option(
    "--lang",
    type=click.Choice(["fr", "en"]),
    default="fr",
    show_default=True,
    help="Language of the messages.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "turtle"]),
    default="text",
    show_default=True,
    help="text for people; json, or turtle (the sh:ValidationReport), for programs.",
)
@click.option(
    "--syntax",
    type=click.Choice(syntax_names()),
    default=None,
    help="Syntax of the feeds (default: from the extension or the content).",
)
@click.option(
    "--engine",
    type=click.Choice(ENGINE_NAMES),
    default=DEFAULT_ENGINE,
    show_default=True,
    help="sparql: the shapes compiled to SPARQL (fast); pyshacl: the reference SHACL engine.",
)
@click.option(
    "--source",
    default=None,
    help="Source id that scopes the IRIs minted for blank nodes (default: from the file name).",
)
@click.option(
    "--mapping",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="A mapping file (TOML, docs/adaptateurs.md) for a spreadsheet that does not follow "
    "the standard template, or a GoGoCarto export.",
)
@click.option("--sheet", default=None, help="XLSX or ODS: the sheet to read (default: the first).")
@click.option(
    "--namespace",
    default=None,
    help="Standard spreadsheet: the namespace its IRIs are minted under (default: the "
    f"placeholder {PLACEHOLDER_NAMESPACE}).",
)
def validate(
    feeds: tuple[str, ...],
    lang: str,
    output_format: str,
    syntax: str | None,
    engine: str,
    source: str | None,
    mapping: Path | None,
    sheet: str | None,
    namespace: str | None,
) -> None:
    """Validate feeds against the LTC shapes, without any store.

    Applies the harvester's parsing and normalisation, then reports each record's
    problems. A spreadsheet (.csv, .xlsx, .ods) following the standard template
    (docs/modele-tableur/) is read as the harvester reads it, and its report names rows
    and columns; another layout needs --mapping. Exit status: 0 nothing would be
    rejected, 1 records (or rows) would be rejected, 2 a feed cannot be read or parsed,
    or cannot be validated (« validation impossible »: the SHACL engine failed on it)
    (the highest over all feeds).
    """
    settings = command_settings()
    mapping_text = mapping.read_bytes() if mapping is not None else None
    status = EXIT_OK
    checks, reports, errors = [], [], []
    for target in feeds:
        try:
            data, content_type = _read_input(target)
            check = check_feed(
                data,
                feed=target,
                source=source,
                settings=settings,
                filename="" if target == "-" else target,
                content_type=content_type,
                syntax=syntax,
                engine=engine,
                mapping=mapping_text,
                sheet=sheet,
                namespace=namespace,
            )
        except FeedError as error:  # EngineError too: validation impossible, status 2
            status = max(status, EXIT_UNREADABLE)
            errors.append({"feed": target, "error": error.message(lang)})
            if output_format == "text":
                click.echo(f"{target} : {error.message(lang)}", err=True)
            continue
        if check.rejected:
            status = max(status, EXIT_REJECTED)
        checks.append(check)
        if output_format == "text":
            click.echo(check.text(lang))
        reports.append(check.json(lang))
    if output_format == "json":
        click.echo(dumps_json(reports, errors, status))
    elif output_format == "turtle":
        click.echo(turtle(checks))
    sys.exit(status)


@main.command()
@click.option(
    "--serve",
    is_flag=True,
    help="Then serve the registry (as `ltc serve`) when every outcome matches.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="With --serve: address.")
@click.option("--port", default=8000, show_default=True, type=int, help="With --serve: port.")
def demo(serve: bool, host: str, port: int) -> None:
    """Harvest the bundled example federation into the store and check the outcome.

    Every example feed is harvested (data folder: LTC_DATA_DIR, ./ltc-data by default)
    and its rejected records are compared with examples/expected.json. Exit status 0
    when every outcome matches; with --serve, the registry is then served until Ctrl-C.
    """
    settings = command_settings()
    if settings.sources_file:
        raise click.ClickException(
            "ltc demo uses the bundled example federation: unset LTC_SOURCES_FILE"
        )
    log_to_file(settings)
    outcomes = example_federation.run(settings, TerminalProgress())
    for outcome in outcomes:
        mark = "ok " if outcome.matches else "ÉCART"
        click.echo(
            f"{mark}  {outcome.source:<24} {outcome.accepted:>5} acceptées  "
            f"{outcome.rejected:>3} rejetées (attendu {outcome.expected_rejected})"
        )
        for line in outcome.differences:
            click.echo(f"       {line}")
    click.echo(f"Registre chargé dans {settings.data_dir}")
    matches = all(o.matches for o in outcomes)
    if serve and matches:
        run_server(settings, host, port)
    sys.exit(EXIT_OK if matches else EXIT_REJECTED)


@main.command("config")
def show_config() -> None:
    """Print every setting with its value and its LTC_… variable."""
    settings = command_settings()
    for f in fields(Settings):
        value = str(getattr(settings, f.name))
        if f.metadata.get("secret") and value:
            value = "(hidden)"  # a password is never printed
        click.echo(f"{f.name} = {json.dumps(value)}")
        click.echo(f"    {env_name(f.name)} — {f.metadata['help']}")


for _command in (
    harvest_command,
    sources_command,
    takedown_command,
    convert_command,
    serve_command,
    watch_command,
    backup_command,
    restore_command,
    convergence_group,
):
    main.add_command(_command)
