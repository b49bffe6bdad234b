"""``ltc serve``: the registry's web application behind waitress (never Flask's debug server)."""

from __future__ import annotations

import click

from ltc.cli_settings import command_settings

SERVER_THREADS = 8


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to listen on.")
def serve_command(host: str, port: int) -> None:
    """Serve the registry (SPARQL endpoint at /sparql, /health) with waitress."""
    import waitress

    from registry.app import create_app

    settings = command_settings()
    app = create_app(settings)
    click.echo(f"Registre LTC : http://{host}:{port}/sparql (données : {settings.data_dir})")
    waitress.serve(
        app,
        host=host,
        port=port,
        threads=SERVER_THREADS,
        max_request_body_size=max(settings.sparql_max_body, 1024 * 1024) * 4,
        ident="ltc-registry",
    )
