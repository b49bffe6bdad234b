"""``ltc serve``: the registry's web application behind waitress (never Flask's debug
server), with structured access logs and, when ``harvest_every`` is set, the harvest on
a schedule."""

from __future__ import annotations

import dataclasses
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
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=None,
    help="Web processes sharing the socket (default: setting serve_workers, 1). Above 1, "
    "waitress runs in each of N forked processes; the parent restarts any that dies.",
)
def serve_command(host: str, port: int, workers: int | None) -> None:
    """Serve the registry: public pages at /, API at /api, SPARQL at /sparql, /health.

    Access logs go to standard output as JSON lines, without the positions people
    search from. LTC_HARVEST_EVERY=minutes also harvests on a schedule (in one
    process only). Every process maps the same directory file of the published
    generation (data_dir/cache/directory-<generation>.bin).
    """
    settings = command_settings()
    count = workers if workers is not None else settings.serve_workers
    if count < 1:
        raise click.BadParameter("serve_workers must be at least 1", param_hint="--workers")
    run_server(settings, host, port, workers=count)


def _warm_up(app: Flask) -> None:
    """Open what the first requests would otherwise wait for: the directory of the
    published generation (its file mapped, built first if missing), the SPARQL query
    workers (a federating engine's first burst would otherwise wait for them to start,
    and find its share of queries taken: 429) and the gazetteer (nothing published yet
    is fine: the requests will say so)."""
    from gazetteer.lookup import default_gazetteer
    from registry.runtime import directory, query_pool

    with app.app_context():
        try:
            directory()
            query_pool()
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


def run_server(settings: Settings, host: str, port: int, *, workers: int = 1) -> None:
    """Serve until interrupted: waitress in this process (``workers=1``) or in
    ``workers`` forked processes on one socket, access logs, the harvest schedule if set
    (in one process only)."""
    from ltc.schedule import HarvestSchedule
    from registry.app import create_app

    if workers > 1:  # the query processes are shared out among the web processes
        settings = dataclasses.replace(
            settings, sparql_workers=max(1, settings.sparql_workers // workers)
        )
    app = create_app(settings)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access = logging.getLogger("ltc.access")
    access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    _check_remote_store(settings)
    if workers == 1:
        if settings.harvest_every > 0:
            HarvestSchedule(settings).start()
            click.echo(f"Moissonnage au démarrage puis toutes les {settings.harvest_every:g} min.")
        click.echo(f"Registre LTC : http://{host}:{port}/ (données : {settings.data_dir})")
        _serve(app, settings, host, port, None, warm_up=True)
        return
    _serve_forked(app, settings, host, port, workers)


def _serve(
    app: Flask, settings: Settings, host: str, port: int, sock: object, *, warm_up: bool
) -> None:
    """One waitress server (on ``sock`` when given: the parent's listening socket)."""
    from ltc.server import make_server
    from registry.access_log import AccessLog

    if warm_up:
        threading.Thread(target=_warm_up, args=(app,), name="ltc-warm-up", daemon=True).start()
    server = make_server(AccessLog(app, settings.trusted_proxies), settings, host, port, sock=sock)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()


def _serve_forked(app: Flask, settings: Settings, host: str, port: int, workers: int) -> None:
    """``workers`` processes forked from this one, each serving on the shared socket."""
    import gc

    from gazetteer.lookup import default_gazetteer
    from ltc.prefork import Supervisor, listening_socket
    from ltc.schedule import HarvestSchedule

    sock = listening_socket(host, port)
    default_gazetteer()  # loaded once here, its pages shared by every worker
    gc.freeze()  # what the parent made is never written by a collection in a worker

    def work(slot: int) -> None:
        if slot == 0 and settings.harvest_every > 0:  # one process harvests, and restarts
            HarvestSchedule(settings).start()
        _serve(app, settings, host, port, sock, warm_up=True)

    click.echo(
        f"Registre LTC : http://{host}:{port}/ ({workers} processus web ; "
        f"données : {settings.data_dir})"
    )
    if settings.harvest_every > 0:
        click.echo(f"Moissonnage au démarrage puis toutes les {settings.harvest_every:g} min.")
    try:
        Supervisor(workers, work).run()
    finally:
        sock.close()
