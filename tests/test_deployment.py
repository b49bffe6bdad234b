"""The deployment files of deploy/ (docs/deploiement.md): systemd units checked by
``systemd-analyze verify``, the nginx configuration loaded by Debian's nginx (``nginx -t``)
with only its addresses and paths replaced, the logrotate file checked by logrotate, the
backup script run for real, and the settings file read by the registry.

``render_nginx`` is also what tests/test_reverse_proxy.py runs nginx with."""

from __future__ import annotations

import getpass
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.config import CONFIG_FILE_VARIABLE, env_name, load_settings, setting_names

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
SYSTEMD = DEPLOY / "systemd"
NGINX = DEPLOY / "nginx"
SITE_HOST = "registre.example.org"  # the placeholder host name of the shipped files
LTC = str(Path(sys.executable).with_name("ltc"))
INSTALLED_LTC = "/opt/ltc/.venv/bin/ltc"  # where the units expect the checkout's venv


# -- nginx: the shipped files, with their addresses and paths replaced --------------------


def nginx_binary() -> str:
    """Debian's nginx; its absence fails the test: the test set-up installs it."""
    for candidate in ("/usr/sbin/nginx", shutil.which("nginx")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    pytest.fail(
        "Debian's nginx is not installed; the test set-up installs it (README, "
        "'Two commands', and .ci/run: apt-get install -y chromium nginx)"
    )


def ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class NginxSite:
    """The shipped configuration rendered under ``folder`` for a test."""

    folder: Path
    conf: Path  # the main file, for nginx -c
    https_port: int
    http_port: int
    tls: Path  # fullchain.pem and privkey.pem
    logs: Path
    cache: Path
    acme: Path  # the webroot of Let's Encrypt's challenges

    @property
    def certificate(self) -> Path:
        return self.tls / "fullchain.pem"


def _substitute(text: str, replacements: dict[str, str], name: str) -> str:
    for old, new in replacements.items():
        assert old in text, f"deploy/nginx/{name} no longer contains {old!r}: update the test"
        text = text.replace(old, new)
    return text


def _check_no_production_path(text: str, folder: Path, name: str) -> None:
    """Every address and path of the server was replaced (comments aside)."""
    for line in text.splitlines():
        line = line.split("#", 1)[0].replace(str(folder), "")
        for production in ("/var/", "/run/", "/etc/letsencrypt", "/etc/nginx/sites-"):
            assert production not in line, f"{name}: {production} left in {line.strip()!r}"
        assert not re.search(r"listen\s+(80|443)\b", line), f"{name}: {line.strip()!r}"
        assert "127.0.0.1:8000" not in line, f"{name}: {line.strip()!r}"


def make_certificate(folder: Path) -> None:
    """A self-signed certificate for the site's host name and 127.0.0.1, where certbot
    puts Let's Encrypt's (fullchain.pem, privkey.pem)."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed to make the test's certificate (Debian: openssl)"
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={SITE_HOST}",
            "-addext",
            f"subjectAltName=DNS:{SITE_HOST},IP:127.0.0.1",
            "-keyout",
            str(folder / "privkey.pem"),
            "-out",
            str(folder / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )


def render_nginx(folder: Path, upstream: str, https_port: int, http_port: int) -> NginxSite:
    """deploy/nginx/{nginx.conf,ltc.conf,ltc-http.conf} under ``folder``, as Debian's
    layout has them (sites-enabled/), with the server's addresses and paths replaced by
    local ones: listening ports on the loopback, ``upstream`` for ltc serve, and the pid
    file, logs, cache, temporary files, certificate and webroot in ``folder``. Nothing
    else changes (the workers run as the user running the test)."""
    layout = {
        name: folder / name
        for name in ("conf.d", "sites-enabled", "log", "cache", "lib", "tls", "acme")
    }
    for path in layout.values():
        path.mkdir(parents=True, exist_ok=True)
    logs = f"{layout['log']}/"
    second = "[::1]" if ipv6_loopback() else "127.0.0.3"  # where [::] was

    main = _substitute(
        (NGINX / "nginx.conf").read_text(encoding="utf-8"),
        {
            "user www-data;": f"user {getpass.getuser()};",
            "/run/nginx.pid": str(folder / "nginx.pid"),
            "/var/log/nginx/": logs,
            "/etc/nginx/conf.d/*.conf": f"{layout['conf.d']}/*.conf",
            "/etc/nginx/sites-enabled/*": f"{layout['sites-enabled']}/*",
        },
        "nginx.conf",
    )
    site = _substitute(
        (NGINX / "ltc.conf").read_text(encoding="utf-8"),
        {
            "server 127.0.0.1:8000;": f"server {upstream};",
            "listen 443 ssl": f"listen 127.0.0.1:{https_port} ssl",
            "listen [::]:443 ssl": f"listen {second}:{https_port} ssl",
            f"/etc/letsencrypt/live/{SITE_HOST}/": f"{layout['tls']}/",
            "/var/log/nginx/": logs,
            "/var/cache/nginx/ltc": str(layout["cache"]),
            "/var/lib/nginx/": f"{layout['lib']}/",
        },
        "ltc.conf",
    )
    plain = _substitute(
        (NGINX / "ltc-http.conf").read_text(encoding="utf-8"),
        {
            "listen 80;": f"listen 127.0.0.1:{http_port};",
            "listen [::]:80;": f"listen {second}:{http_port};",
            "/var/log/nginx/": logs,
            "/var/www/letsencrypt": str(layout["acme"]),
        },
        "ltc-http.conf",
    )
    for name, text in (("nginx.conf", main), ("ltc.conf", site), ("ltc-http.conf", plain)):
        _check_no_production_path(text, folder, name)
    conf = folder / "nginx.conf"
    conf.write_text(main, encoding="utf-8")
    (layout["sites-enabled"] / "ltc").write_text(site, encoding="utf-8")
    (layout["sites-enabled"] / "ltc-http").write_text(plain, encoding="utf-8")
    return NginxSite(
        folder=folder,
        conf=conf,
        https_port=https_port,
        http_port=http_port,
        tls=layout["tls"],
        logs=layout["log"],
        cache=layout["cache"],
        acme=layout["acme"],
    )


def nginx_command(nginx: str, site: NginxSite, *extra: str) -> list[str]:
    # -e: the error log nginx opens before reading its configuration
    return [nginx, "-c", str(site.conf), "-e", str(site.logs / "startup.log"), *extra]


def test_nginx_accepts_the_shipped_configuration(tmp_path):
    nginx = nginx_binary()
    site = render_nginx(tmp_path, f"127.0.0.1:{free_port()}", free_port(), free_port())
    make_certificate(site.tls)
    result = subprocess.run(nginx_command(nginx, site, "-t"), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr
    assert "[warn]" not in result.stderr and "[emerg]" not in result.stderr, result.stderr


def _directive(text: str, name: str, context: str | None = None) -> list[str]:
    """Values of ``name`` in ``text`` (in the block opened by ``context`` if given)."""
    if context is not None:
        start = text.index(context)
        text = text[start : text.index("}", start)]
    text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    return [value.strip() for value in re.findall(rf"(?m)^\s*{name}\s+([^;]+);", text)]


def test_nginx_limits_match_the_registry():
    """The upload limit of /valider is the registry's, the upstream is ltc serve's
    address, and nginx closes its idle connections to ltc serve before ltc serve does."""
    from registry.validator import FORM_OVERHEAD

    site = (NGINX / "ltc.conf").read_text(encoding="utf-8")
    defaults = load_settings(environ={})
    (valider,) = _directive(site, "client_max_body_size", "location = /valider {")
    assert valider.endswith("k")
    assert int(valider[:-1]) * 1024 == defaults.max_feed_bytes + FORM_OVERHEAD
    assert _directive(site, "client_max_body_size")[0] == "1m"  # server-wide
    assert defaults.sparql_max_body <= 1024 * 1024

    serve = (SYSTEMD / "ltc-serve.service").read_text(encoding="utf-8")
    assert f"ExecStart={INSTALLED_LTC} serve --host 127.0.0.1 --port 8000" in serve
    assert _directive(site, "server", "upstream ltc_registry {") == ["127.0.0.1:8000"]
    (upstream_idle,) = _directive(site, "keepalive_timeout", "upstream ltc_registry {")
    idle = getattr(defaults, "serve_idle_timeout", None)
    if idle is not None:
        assert int(upstream_idle.removesuffix("s")) < idle

    main = (NGINX / "nginx.conf").read_text(encoding="utf-8")
    (connections,) = _directive(main, "worker_connections")
    (descriptors,) = _directive(main, "worker_rlimit_nofile")
    assert int(connections) >= 4096 and int(descriptors) >= 2 * int(connections)
    for name, limit in (
        ("client_header_timeout", 15),
        ("client_body_timeout", 30),
        ("send_timeout", 30),
        ("keepalive_timeout", 30),
    ):
        (value,) = _directive(main, name)
        assert int(value.removesuffix("s")) <= limit, (name, value)


# -- systemd -------------------------------------------------------------------------------

UNITS = sorted(path.name for path in SYSTEMD.iterdir())
SERVICES = [name for name in UNITS if name.endswith(".service")]


def _unit_values(text: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for line in text.splitlines():
        if "=" in line and not line.lstrip().startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())
    return values


@pytest.fixture(scope="module")
def unit_folder(tmp_path_factory) -> Path:
    """The units with the checkout's ltc in place of /opt/ltc/.venv/bin/ltc (verify
    checks that the executables exist)."""
    folder = tmp_path_factory.mktemp("units")
    for name in UNITS:
        text = (SYSTEMD / name).read_text(encoding="utf-8")
        (folder / name).write_text(text.replace(INSTALLED_LTC, LTC), encoding="utf-8")
    return folder


@pytest.mark.parametrize("unit", UNITS)
def test_systemd_analyze_verifies_the_unit(unit, unit_folder):
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    result = subprocess.run(
        [analyze, "verify", "--man=no", str(unit_folder / unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # verify only warns about unknown keys or values: any message is a failure
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


def test_timers_start_their_services():
    for timer in (name for name in UNITS if name.endswith(".timer")):
        values = _unit_values((SYSTEMD / timer).read_text(encoding="utf-8"))
        (unit,) = values["Unit"]
        assert unit in SERVICES, (timer, unit)
        assert values["Persistent"] == ["true"]
        assert values["WantedBy"] == ["timers.target"]
    harvest = _unit_values((SYSTEMD / "ltc-harvest.timer").read_text(encoding="utf-8"))
    assert harvest["OnCalendar"] == ["hourly"]


@pytest.mark.parametrize("service", SERVICES)
def test_services_run_as_ltc_with_hardening(service):
    values = _unit_values((SYSTEMD / service).read_text(encoding="utf-8"))
    assert values["User"] == ["ltc"] and values["Group"] == ["ltc"]
    assert "/etc/ltc/ltc.env" in values["EnvironmentFile"]
    assert "ltc" in values["StateDirectory"][0].split()  # /var/lib/ltc, writable
    for key, value in (
        ("ProtectSystem", "strict"),
        ("NoNewPrivileges", "yes"),
        ("PrivateTmp", "yes"),
        ("ProtectHome", "yes"),
        ("CapabilityBoundingSet", ""),
    ):
        assert values.get(key) == [value], (service, key)
    (command,) = values["ExecStart"]
    if service in ("ltc-serve.service", "ltc-watch.service"):  # long-running
        assert values["Restart"] == ["on-failure"]
        assert values["Type"] == ["simple"]
    else:
        assert values["Type"] == ["oneshot"]
    assert command.startswith((INSTALLED_LTC, "/bin/sh /opt/ltc/deploy/")), command


# -- settings ------------------------------------------------------------------------------


def _env_file() -> tuple[dict[str, str], set[str]]:
    """(the variables set, every LTC_ name the file mentions, commented ones too)."""
    active: dict[str, str] = {}
    mentioned: set[str] = set()
    for line in (DEPLOY / "ltc.env").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^(#)?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if match:
            if match.group(2).startswith("LTC_"):
                mentioned.add(match.group(2))
            if not match.group(1):
                active[match.group(2)] = match.group(3)
    return active, mentioned


def test_settings_file_names_registry_settings():
    active, mentioned = _env_file()
    known = {env_name(name) for name in setting_names()} | {CONFIG_FILE_VARIABLE}
    assert mentioned <= known, f"not settings of the registry: {sorted(mentioned - known)}"
    for value in active.values():  # systemd's EnvironmentFile takes no quoting here
        assert value == value.strip() and not value.startswith(('"', "'")), value
    settings = load_settings(environ={k: v for k, v in active.items() if k.startswith("LTC_")})
    assert str(settings.data_dir) == "/var/lib/ltc"
    assert settings.trusted_proxies == "127.0.0.1/32"
    assert settings.harvest_every == 0


# -- logrotate -----------------------------------------------------------------------------


def test_logrotate_rotates_the_harvest_log(tmp_path):
    logrotate = shutil.which("logrotate") or (
        "/usr/sbin/logrotate" if os.access("/usr/sbin/logrotate", os.X_OK) else None
    )
    if logrotate is None:
        pytest.skip("logrotate is not installed (Debian package logrotate)")
    shipped = (DEPLOY / "logrotate" / "ltc").read_text(encoding="utf-8")
    debug = subprocess.run(
        [logrotate, "-d", "-s", str(tmp_path / "state"), str(DEPLOY / "logrotate" / "ltc")],
        capture_output=True,
        text=True,
    )
    assert debug.returncode == 0 and "error:" not in debug.stderr, debug.stderr
    # a real rotation, the log's path replaced by a temporary one
    log = tmp_path / "logs" / "harvest.log"
    log.parent.mkdir()
    log.write_text("source=amap-centre status=ok\n", encoding="utf-8")
    config = tmp_path / "ltc"
    assert "/var/lib/ltc/logs/harvest.log" in shipped
    config.write_text(shipped.replace("/var/lib/ltc/logs/harvest.log", str(log)), "utf-8")
    forced = subprocess.run(
        [logrotate, "-f", "-s", str(tmp_path / "state"), str(config)],
        capture_output=True,
        text=True,
    )
    assert forced.returncode == 0, forced.stderr
    assert (log.parent / "harvest.log.1").read_text(encoding="utf-8").startswith("source=")
    assert not log.exists()  # nocreate: the next harvest creates it


# -- backups -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def harvested(tmp_path_factory) -> Path:
    from ltc.pipeline import harvest

    data = tmp_path_factory.mktemp("backup-data")
    harvest(load_settings(overrides={"data_dir": data, "harvest_workers": 1}, environ={}))
    return data


def _backup(root: Path, data: Path, keep: str, ltc: str = LTC) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTC_")}
    env.update(BACKUP_ROOT=str(root), BACKUP_KEEP=keep, LTC_BIN=ltc, LTC_DATA_DIR=str(data))
    return subprocess.run(
        ["/bin/sh", str(DEPLOY / "ltc-backup.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_backup_keeps_the_newest(tmp_path, harvested):
    import time

    root = tmp_path / "backups"
    for _ in range(3):
        result = _backup(root, harvested, "2")
        assert result.returncode == 0, result.stdout + result.stderr
        time.sleep(1.1)  # the folders are named to the second
    kept = sorted(path.name for path in root.iterdir())
    assert len(kept) == 2 and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d{6}Z", n) for n in kept)
    # each one is a backup ltc restore takes
    restored = tmp_path / "restored"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LTC_")}
    env["LTC_DATA_DIR"] = str(restored)
    subprocess.run([LTC, "restore", str(root / kept[-1])], env=env, check=True, timeout=120)
    assert (restored / "CURRENT").is_file()

    # a failed backup leaves nothing behind and keeps the earlier ones
    failed = _backup(root, harvested, "2", ltc="/bin/false")
    assert failed.returncode == 1
    assert sorted(path.name for path in root.iterdir()) == kept
    assert _backup(root, harvested, "0").returncode == 2  # never "keep none"
    assert sorted(path.name for path in root.iterdir()) == kept
