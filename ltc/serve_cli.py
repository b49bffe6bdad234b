"""``ltc serve``: the registry's web application behind waitress (never Flask's debug
server), with structured access logs and, when ``harvest_every`` is set, the harvest on
a schedule."""

from __future__ import annotations

import logging
import sys
import threading
from typing import TYPE_CHECKING

import click

from core.config import Settings
from ltc.cli_settings import command_settings

if TYPE_CHECKING:
    from flask import Flask


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
def serve_command(host: str, port: int) -> None:
    """Serve the registry: public pages at /, API at /api, SPARQL at /sparql, /health.

    Access logs go to standard output as JSON lines, without the positions people
    search from. LTC_HARVEST_EVERY=minutes also harvests on a schedule.
    """
    run_server(command_settings(), host, port)


def _warm_up(app: Flask) -> None:
    """Build what the first requests would otherwise wait for: the SPARQL workers, the
    directory of the published generation and the gazetteer (nothing published yet is
    fine: the requests will say so)."""
    from gazetteer.lookup import default_gazetteer
    from registry.runtime import directory, query_pool

    with app.app_context():
        try:
            query_pool()
            directory()
        except Exception as error:
            logging.getLogger("ltc.serve").warning("warm-up: %s", error)
    default_gazetteer()


def _check_remote_store(settings: Settings) -> None:
    """A remote store may have lost writes (a server restarted without a checkpoint):
    where the harvester's data folder is, check it and write lost graphs back."""
    from core.datafolder import DataFolder
    from ltc.pipeline import check_store

    if settings.store_backend == "sparql" and DataFolder(settings.data_dir).store.is_dir():
        for graph in check_store(settings):
            click.echo(f"Magasin SPARQL : graphe rechargé (déclarations perdues) : <{graph}>")


def run_server(settings: Settings, host: str, port: int) -> None:
    """Serve until interrupted: waitress, access logs, the harvest schedule if set."""
    from ltc.schedule import HarvestSchedule
    from ltc.server import make_server
    from registry.access_log import AccessLog
    from registry.app import create_app

    app = create_app(settings)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("ltc.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    _check_remote_store(settings)
    threading.Thread(target=_warm_up, args=(app,), name="ltc-warm-up", daemon=True).start()
    if settings.harvest_every > 0:
        HarvestSchedule(settings).start()
        click.echo(f"Moissonnage au démarrage puis toutes les {settings.harvest_every:g} min.")
    server = make_server(AccessLog(app, settings.trusted_proxies), settings, host, port)
    click.echo(f"Registre LTC : http://{host}:{port}/ (données : {settings.data_dir})")
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
