"""Settings for a command: a bad value is a clear command-line error, not a traceback."""

from __future__ import annotations

import click

from ltc.config import ConfigError, Settings, load_settings


def command_settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as error:
        raise click.ClickException(str(error)) from error
