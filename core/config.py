"""One place for every setting: defaults, then a TOML file, then ``LTC_…`` variables.

Each setting is declared once in ``SETTINGS`` with its type and a sentence of help;
``ltc config`` prints them and the README documents them (a test checks it).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(
        default=Path("ltc-data"),
        metadata={"help": "Folder of the registry's store, caches and reports."},
    )
    sources_file: str = field(
        default="",
        metadata={"help": "The sources catalog (TOML). Empty: the bundled example federation."},
    )
    base_iri: str = field(
        default="https://w3id.org/ltc/",
        metadata={"help": "Public base of the IRIs the registry mints (graphs, harvests…)."},
    )
    max_shrink: float = field(
        default=0.5,
        metadata={
            "help": "Share of a source's accepted records that may disappear in one harvest "
            "before the harvest is held (ltc harvest --accept-shrink applies it)."
        },
    )
    stale_after_days: int = field(
        default=30,
        metadata={"help": "Days without a successful harvest after which a source is stale."},
    )
    harvest_workers: int = field(
        default=2,
        metadata={
            "help": "Processes that fetch, parse and validate feeds side by side while the "
            "harvest's single writer loads them (1: everything in one process)."
        },
    )
    store_backend: str = field(
        default="embedded",
        metadata={
            "help": "embedded (an on-disk pyoxigraph store in the data folder) or sparql "
            "(any SPARQL 1.1 server, through the three URLs below)."
        },
    )
    store_query_url: str = field(
        default="", metadata={"help": "SPARQL 1.1 Query endpoint of the remote store."}
    )
    store_update_url: str = field(
        default="", metadata={"help": "SPARQL 1.1 Update endpoint of the remote store."}
    )
    store_graph_store_url: str = field(
        default="",
        metadata={"help": "SPARQL 1.1 Graph Store HTTP Protocol endpoint of the remote store."},
    )
    store_user: str = field(
        default="",
        metadata={
            "help": "User name sent to the remote store's three URLs (empty: no credentials)."
        },
    )
    store_password: str = field(
        default="",
        repr=False,
        metadata={
            "help": "Password of store_user; never logged nor printed (prefer the variable "
            "to the config file).",
            "secret": True,
        },
    )
    store_auth: str = field(
        default="basic",
        metadata={
            "help": "How the credentials are sent: basic (HTTP Basic, over HTTPS only) or "
            "digest (HTTP Digest, e.g. Virtuoso's /sparql-auth)."
        },
    )
    snapshots_kept: int = field(
        default=3,
        metadata={"help": "Read-only snapshots of the embedded store kept for the web tier."},
    )
    snapshots_min_age: float = field(
        default=600.0,
        metadata={
            "help": "Seconds a replaced snapshot is kept at least, whatever snapshots_kept "
            "says: a web process still serving it has that long to switch (frequent pings)."
        },
    )
    max_feed_bytes: int = field(
        default=64 * 1024 * 1024,
        metadata={"help": "Largest feed accepted, in bytes after decompression."},
    )
    max_json_depth: int = field(
        default=64,
        metadata={"help": "Deepest nesting of arrays and objects accepted in a JSON feed."},
    )
    fetch_connect_timeout: float = field(
        default=10.0, metadata={"help": "Seconds to wait for a feed server to accept a connection."}
    )
    fetch_read_timeout: float = field(
        default=30.0, metadata={"help": "Seconds to wait for each piece of a feed's answer."}
    )
    fetch_deadline: float = field(
        default=120.0, metadata={"help": "Seconds one feed download may take in all."}
    )
    fetch_allow_networks: str = field(
        default="",
        metadata={
            "help": "Comma-separated networks (CIDR) the fetcher may reach although they are "
            "loopback or private, e.g. 127.0.0.1/32 for tests. Empty: public addresses only."
        },
    )
    max_triples: int = field(
        default=5_000_000,
        metadata={"help": "Most statements accepted from one feed."},
    )
    max_feed_memory: int = field(
        default=1024,
        metadata={
            "help": "Most memory (MiB) reading one feed may take in the process that reads "
            "it; a feed predicted to need more is refused while it is read (0: no limit)."
        },
    )
    sparql_timeout: float = field(
        default=10.0,
        metadata={"help": "Seconds a public SPARQL query may run before it is stopped (503)."},
    )
    sparql_max_rows: int = field(
        default=10_000,
        metadata={"help": "Most rows (or triples) a public SPARQL answer holds; more are cut."},
    )
    sparql_max_depth: int = field(
        default=64,
        metadata={"help": "Deepest nesting of { ( [ accepted in a public SPARQL query."},
    )
    sparql_max_body: int = field(
        default=64 * 1024,
        metadata={"help": "Largest SPARQL request body or query text, in bytes (413 beyond)."},
    )
    sparql_rate_limit: int = field(
        default=120,
        metadata={"help": "SPARQL requests per minute allowed to one client address (429 beyond)."},
    )
    sparql_workers: int = field(
        default=2,
        metadata={
            "help": "Worker processes that run public SPARQL queries; with `ltc serve "
            "--workers N`, shared out among the N web processes (at least one each)."
        },
    )
    sparql_queue: int = field(
        default=2,
        metadata={
            "help": "SPARQL requests of each web process that may wait for a busy query "
            "worker; beyond, 503 at once (the public pages keep their threads)."
        },
    )
    sparql_per_client: int = field(
        default=2,
        metadata={"help": "SPARQL requests one client address may have in progress (429 beyond)."},
    )
    validator_rate_limit: int = field(
        default=20,
        metadata={"help": "/valider submissions per minute allowed to one client address."},
    )
    export_rate_limit: int = field(
        default=60,
        metadata={
            "help": "Exports (GeoJSON, CSV, the dump) per minute allowed to one client address."
        },
    )
    search_rate_limit: int = field(
        default=1200,
        metadata={
            "help": "Public searches and API requests per minute allowed to one client address "
            "(generous: a classroom shares one address)."
        },
    )
    trusted_proxies: str = field(
        default="",
        metadata={
            "help": "Comma-separated networks (CIDR) of the reverse proxies whose "
            "X-Forwarded-For gives the client's address. Empty: the connection's address."
        },
    )
    serve_threads: int = field(
        default=8,
        metadata={"help": "Threads of each `ltc serve` process that answer requests."},
    )
    serve_workers: int = field(
        default=1,
        metadata={
            "help": "Web processes of `ltc serve` sharing its socket (--workers); above 1, "
            "a parent process forks them and restarts any that dies."
        },
    )
    serve_connection_limit: int = field(
        default=4000,
        metadata={
            "help": "Open connections one `ltc serve` process holds at most (idle and slow "
            "ones cost a socket, not a thread); beyond, new ones wait in the listen queue."
        },
    )
    serve_idle_timeout: int = field(
        default=30,
        metadata={"help": "Seconds an idle keep-alive connection is kept open."},
    )
    serve_header_timeout: int = field(
        default=10,
        metadata={
            "help": "Seconds a client may take to send a request's line and headers "
            "(a slow sender is disconnected)."
        },
    )
    serve_request_timeout: int = field(
        default=120,
        metadata={"help": "Seconds a client may take to send a whole request, body included."},
    )
    harvest_every: float = field(
        default=0.0,
        metadata={
            "help": "Minutes between the harvests `ltc serve` runs itself, the first at start "
            "(0: none; use cron and `ltc harvest`). Several serve processes: one at a time."
        },
    )
    ping_poll_seconds: float = field(
        default=2.0,
        metadata={
            "help": "Seconds between two looks at the pings' harvest requests, by `ltc serve` "
            "with harvest_every and by `ltc watch`."
        },
    )
    ping_rate_limit: int = field(
        default=60,
        metadata={"help": "Pings per hour accepted from one source (429 beyond)."},
    )
    changes_keep_days: float = field(
        default=30.0,
        metadata={
            "help": "Days the change feed (/api/changes) keeps a generation's changes; an "
            "older since is answered 410 with a pointer to the dump."
        },
    )
    changes_rate_limit: int = field(
        default=120,
        metadata={"help": "/api/changes requests per minute allowed to one client address."},
    )
    curation_file: str = field(
        default="",
        metadata={
            "help": "The collective's identity decisions (TOML). Empty: the repository's "
            "convergence/curation.toml."
        },
    )
    convergence_max_km: float = field(
        default=0.3,
        metadata={"help": "Farthest apart two records of one physical place may be, in km."},
    )
    assets_dir: Path = field(
        default=Path("node_modules"),
        metadata={
            "help": "Folder of the front-end packages installed by `npm ci` (Leaflet…), "
            "served under /vendor/."
        },
    )
    tile_url: str = field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        metadata={"help": "Map tile URL template the public pages' map loads in the browser."},
    )
    tile_attribution: str = field(
        default="© les contributeurs d'OpenStreetMap",
        metadata={"help": "Credit shown on the map for its tiles."},
    )


ENV_PREFIX = "LTC_"
CONFIG_FILE_VARIABLE = "LTC_CONFIG"


def setting_names() -> list[str]:
    return [f.name for f in fields(Settings)]


def env_name(setting: str) -> str:
    return ENV_PREFIX + setting.upper()


def child_environment(settings: Settings, environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for an ``ltc`` child process that must see exactly ``settings``:
    the parent's variables (``os.environ`` by default) without its ``LTC_…`` ones, plus
    one ``LTC_…`` variable per setting."""
    base = os.environ if environ is None else environ
    env = {name: value for name, value in base.items() if not name.startswith(ENV_PREFIX)}
    env.update({env_name(f.name): str(getattr(settings, f.name)) for f in fields(Settings)})
    return env


def _convert(name: str, raw: Any) -> Any:
    kind = {f.name: f.type for f in fields(Settings)}[name]
    try:
        if kind in ("int", int):
            return int(raw)
        if kind in ("float", float):
            return float(raw)
        if kind in ("Path", Path):
            return Path(raw)
        if kind in ("bool", bool):
            return raw if isinstance(raw, bool) else str(raw).lower() in ("1", "true", "yes", "oui")
        return str(raw)
    except ValueError as error:
        raise ConfigError(f"setting {name}: {raw!r} is not a valid {kind}") from error


class ConfigError(ValueError):
    """A setting has a value of the wrong kind, or the config file is unreadable."""


def load_settings(
    overrides: dict[str, Any] | None = None, environ: dict[str, str] | None = None
) -> Settings:
    """Defaults, then the TOML file named by LTC_CONFIG, then LTC_… variables, then overrides."""
    environ = dict(os.environ) if environ is None else environ
    values: dict[str, Any] = {}
    config_file = environ.get(CONFIG_FILE_VARIABLE)
    if config_file:
        try:
            table = tomllib.loads(Path(config_file).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise ConfigError(f"cannot read {config_file}: {error}") from error
        for key, raw in table.items():
            if key not in setting_names():
                raise ConfigError(f"{config_file}: unknown setting {key!r}")
            values[key] = _convert(key, raw)
    for name in setting_names():
        if env_name(name) in environ:
            values[name] = _convert(name, environ[env_name(name)])
    for key, raw in (overrides or {}).items():
        values[key] = _convert(key, raw)
    # The data folder is resolved once, here, against the working directory: a relative
    # data_dir must not be resolved later against a library's own folder (Flask's
    # send_file takes relative paths from the application's package).
    values["data_dir"] = Path(values.get("data_dir", Settings.data_dir)).absolute()
    return Settings(**values)
