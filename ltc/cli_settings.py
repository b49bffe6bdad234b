"""Settings for a command: a bad value is a clear command-line error, not a traceback."""

from __future__ import annotations

import click

from core.config import ConfigError, Settings, load_settings
from core.migration import upgrade


def command_settings() -> Settings:
    """The settings; a data folder made by an earlier release is migrated first
    (``core.migration``)."""
    try:
        settings = load_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
    try:
        upgrade(settings.data_dir, progress=lambda line: click.echo(line, err=True))
    except OSError as error:
        raise click.ClickException(f"cannot update the data folder: {error}") from error
    return settings
