"""``ltc sources token`` (the networks' ping secrets) and ``ltc watch`` (harvest the
sources they ping, for a deployment without ``harvest_every``). Guide: docs/ping.md."""

from __future__ import annotations

import signal
import threading

import click

from core.catalog import CatalogError, load_catalog
from core.ping import create_token, list_tokens, revoke_tokens
from ltc.cli_settings import command_settings
from ltc.harvest_cli import log_to_file, sources_command
from ltc.schedule import watch


@sources_command.command("token")
@click.argument("source")
@click.option("--list", "show", is_flag=True, help="List the source's secrets (ids and dates).")
@click.option(
    "--revoke",
    metavar="ID",
    default=None,
    help="Revoke the secret with this id (see --list), or `all` of the source's.",
)
def sources_token(source: str, show: bool, revoke: str | None) -> None:
    """Make a secret with which SOURCE's network pings the registry
    (POST /sources/SOURCE/ping, header `Authorization: Bearer SECRET`).

    The secret is printed once; only its salted hash is kept (DATA_DIR/ping-tokens.json).
    A source may have several (one per script or webhook); --revoke ID or all."""
    settings = command_settings()
    try:
        known = {s.id for s in load_catalog(settings)}
    except CatalogError as error:
        raise click.ClickException(str(error)) from error
    if source not in known:
        raise click.ClickException(f"unknown source: {source}")
    if show:
        for token in list_tokens(settings.data_dir, source):
            click.echo(f"{token.id}  créé le {token.created}")
        return
    if revoke:
        count = revoke_tokens(settings.data_dir, source, revoke)
        if not count:
            raise click.ClickException(f"no secret {revoke} for {source}")
        click.echo(f"{source} : {count} secret(s) révoqué(s)")
        return
    secret = create_token(settings.data_dir, source)
    click.echo(secret)
    click.echo(
        f"Secret de signalement de {source}, affiché cette fois seulement : remettez-le au "
        f"réseau (POST /sources/{source}/ping, en-tête « Authorization: Bearer … »).",
        err=True,
    )


@click.command("watch")
def watch_command() -> None:
    """Harvest the sources networks ping (POST /sources/ID/ping), within
    ping_poll_seconds of each ping, until stopped (SIGTERM or Ctrl-C).

    For deployments without harvest_every (which makes `ltc serve` do it): run exactly
    one, beside cron's or systemd's `ltc harvest` (deploy/systemd/ltc-watch.service).
    Logs go to DATA_DIR/logs/harvest.log."""
    settings = command_settings()
    log_to_file(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"En attente de signalements (toutes les {settings.ping_poll_seconds:g} s)…")
    try:
        watch(settings, stop)
    except KeyboardInterrupt:
        stop.set()
