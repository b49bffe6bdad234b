"""``ltc backup`` and ``ltc restore``: thin click commands over ``ltc.backup``."""

from __future__ import annotations

from pathlib import Path

import click

from core.store import StoreError
from ltc.backup import BackupError, backup, restore
from ltc.cli_settings import command_settings


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--nquads",
    is_flag=True,
    help="Store the data as gzipped N-Quads (portable between backends) instead of a copy "
    "of the embedded store's snapshot. Always the case with the remote store.",
)
def backup_command(dest: Path, nquads: bool) -> None:
    """Back the registry up into DEST (a new or empty folder).

    Copies the published generation of the store and every source's state, history,
    reports and the takedown list. Restore with `ltc restore DEST`.
    """
    settings = command_settings()
    try:
        backup(settings, dest, nquads=nquads, progress=click.echo)
    except (BackupError, StoreError, OSError) as error:
        raise click.ClickException(str(error)) from error


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
def restore_command(src: Path) -> None:
    """Restore the backup SRC into the configured data folder, which must be empty.

    The store is rebuilt and published: `ltc serve` serves it at once, and the next
    `ltc harvest` carries on from the restored state.
    """
    settings = command_settings()
    try:
        restore(settings, src, progress=click.echo)
    except (BackupError, StoreError, OSError) as error:
        raise click.ClickException(str(error)) from error
