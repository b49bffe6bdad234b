"""Pings: a network asks for its source to be harvested now (``POST /sources/<id>/ping``).

Secrets (``ping-tokens.json``): ``ltc sources token SOURCE`` makes one, shown once as
``ltc1.<id>.<secret>``; only a salted PBKDF2-SHA256 hash of the secret is kept, under
its id, so a ping is checked against one hash. A source may hold several (one per
script or webhook), each revocable.

Requests (``pings/``): whichever web process receives a ping writes it in the data
folder, where the one harvesting process (``ltc serve`` with a schedule, or ``ltc
watch``) takes it. Per source: ``<id>.request`` is a harvest waiting (further pings
coalesce into it), ``<id>.taken`` a harvest under way (a ping then waits in a new
``.request``: one more harvest after it), ``<id>.recent`` the times of its last pings
(the per-source rate limit). Every change happens under ``pings.lock`` (flock) and
every file is replaced atomically: nothing is lost when processes on one host, or
hosts sharing the folder, ping at once; a ``.taken`` left by a crash is taken again.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from core.datafolder import DataFolder, write_atomically

TOKEN_PREFIX = "ltc1"
ITERATIONS = 20_000  # the secret is 256 random bits: the hash guards a leaked file, no more
SOURCE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
WINDOW = 3600.0  # the rate limit counts the pings of the last hour


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@contextlib.contextmanager
def _locked(folder: DataFolder) -> Iterator[None]:
    folder.root.mkdir(parents=True, exist_ok=True)
    with open(folder.pings_lock, "a+b") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        yield


def _hash(secret: str, salt: bytes) -> str:
    return hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8"), salt, ITERATIONS).hex()


# -- secrets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenInfo:
    id: str
    source: str
    created: str


def _load_tokens(folder: DataFolder) -> list[dict]:
    try:
        document = json.loads(folder.ping_tokens.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    tokens = document.get("tokens") if isinstance(document, dict) else None
    return [t for t in tokens or [] if isinstance(t, dict)]


def _save_tokens(folder: DataFolder, tokens: list[dict]) -> None:
    data = json.dumps({"format": "ltc-ping-tokens/1", "tokens": tokens}, indent=1)
    write_atomically(folder.ping_tokens, data.encode("utf-8"))
    folder.ping_tokens.chmod(0o600)


def create_token(data_dir: Path | str, source: str) -> str:
    """A new secret for ``source``; the only time it is seen in clear."""
    folder = DataFolder(data_dir)
    token_id, secret = secrets.token_hex(4), secrets.token_urlsafe(32)
    salt = secrets.token_bytes(16)
    with _locked(folder):
        tokens = _load_tokens(folder)
        tokens.append(
            {
                "id": token_id,
                "source": source,
                "salt": salt.hex(),
                "hash": _hash(secret, salt),
                "created": _now_iso(),
            }
        )
        _save_tokens(folder, tokens)
    return f"{TOKEN_PREFIX}.{token_id}.{secret}"


def list_tokens(data_dir: Path | str, source: str | None = None) -> list[TokenInfo]:
    return [
        TokenInfo(t["id"], t["source"], t.get("created", ""))
        for t in _load_tokens(DataFolder(data_dir))
        if source is None or t.get("source") == source
    ]


def revoke_tokens(data_dir: Path | str, source: str, token_id: str = "all") -> int:
    """Revoke one of the source's secrets (by id) or all of them; how many were."""
    folder = DataFolder(data_dir)
    with _locked(folder):
        tokens = _load_tokens(folder)
        kept = [
            t
            for t in tokens
            if t.get("source") != source or (token_id != "all" and t.get("id") != token_id)
        ]
        if len(kept) != len(tokens):
            _save_tokens(folder, kept)
    return len(tokens) - len(kept)


def check_token(data_dir: Path | str, source: str, token: str) -> bool:
    """Whether ``token`` is a valid secret of ``source`` (constant-time comparison)."""
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return False
    _prefix, token_id, secret = parts
    for entry in _load_tokens(DataFolder(data_dir)):
        if entry.get("id") == token_id and entry.get("source") == source:
            try:
                salt = bytes.fromhex(entry["salt"])
            except (KeyError, ValueError):
                return False
            return hmac.compare_digest(_hash(secret, salt), str(entry.get("hash", "")))
    return False


# -- harvest requests ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PingResult:
    accepted: bool  # False: too many pings from this source (retry_after seconds)
    coalesced: bool  # a harvest of the source was already waiting: this ping joined it
    running: bool  # a harvest of the source is under way: one more follows it
    position: int  # the request's place among the sources waiting (1: next)
    retry_after: int = 0


def _file(folder: DataFolder, source: str, suffix: str) -> Path:
    return folder.pings / f"{source}.{suffix}"


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def record_ping(
    data_dir: Path | str, source: str, per_hour: int, now: float | None = None
) -> PingResult:
    """Record a harvest request for ``source`` (coalesced with one already waiting), or
    refuse it when the source sent ``per_hour`` pings in the last hour."""
    folder = DataFolder(data_dir)
    moment = time.time() if now is None else now
    with _locked(folder):
        recent_file = _file(folder, source, "recent")
        recent = [t for t in _read_json(recent_file).get("times", []) if moment - t < WINDOW]
        if len(recent) >= per_hour:
            wait = int(WINDOW - (moment - min(recent))) + 1
            return PingResult(False, False, False, 0, max(1, wait))
        recent.append(moment)
        write_atomically(recent_file, json.dumps({"times": recent}).encode())
        request_file = _file(folder, source, "request")
        request = _read_json(request_file)
        coalesced = bool(request)
        stamp = _now_iso()
        request = {
            "source": source,
            "first": request.get("first", stamp),
            "last": stamp,
            "pings": int(request.get("pings", 0)) + 1,
        }
        write_atomically(request_file, json.dumps(request).encode())
        waiting = sorted(
            (_read_json(path).get("first", ""), path.stem)
            for path in folder.pings.glob("*.request")
        )
        position = next(i for i, (_, name) in enumerate(waiting, 1) if name == source)
        running = _file(folder, source, "taken").exists()
    return PingResult(True, coalesced, running, position)


def take_requests(data_dir: Path | str) -> list[str]:
    """The sources to harvest now: every waiting request becomes taken (``finish_requests``
    once harvested); taken ones a crash left behind are included."""
    folder = DataFolder(data_dir)
    if not folder.pings.is_dir():
        return []
    with _locked(folder):
        for request in sorted(folder.pings.glob("*.request")):
            taken = request.with_suffix(".taken")
            if taken.exists():
                request.unlink()  # already taken by a harvest that did not finish
            else:
                request.rename(taken)
        return sorted(path.stem for path in folder.pings.glob("*.taken"))


def finish_requests(data_dir: Path | str, sources: list[str]) -> None:
    folder = DataFolder(data_dir)
    with _locked(folder):
        for source in sources:
            _file(folder, source, "taken").unlink(missing_ok=True)


def give_back_requests(data_dir: Path | str, sources: list[str]) -> None:
    """Taken requests whose harvest could not start wait again."""
    folder = DataFolder(data_dir)
    with _locked(folder):
        for source in sources:
            taken, request = _file(folder, source, "taken"), _file(folder, source, "request")
            if taken.exists() and not request.exists():
                taken.rename(request)
            else:
                taken.unlink(missing_ok=True)


def waiting_requests(data_dir: Path | str) -> list[str]:
    folder = DataFolder(data_dir)
    if not folder.pings.is_dir():
        return []
    return sorted(path.stem for path in folder.pings.glob("*.request"))
