"""A throwaway PostgreSQL server on loopback for the backlog tests, started by the tests themselves.

`server()` runs `initdb` in a temporary directory (as the `postgres` user when the tests run as
root: initdb refuses root), starts `pg_ctl` on a free port bound to 127.0.0.1, and yields the
URL of the server's `postgres` database; the server is stopped and its directory removed
afterwards. Debian's `postgresql` package provides the binaries; `.ci/run` installs it and
sets LIGGING_TEST_POSTGRES=required, so in CI a missing server fails the tests instead of
skipping them. (bench/postgis.py starts one the same way, with PostGIS, for the benchmark.)
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _newest_bin() -> Path:
    """Return the bin directory of the newest PostgreSQL Debian installs (15 on Debian 12, 17 on Debian 13)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    return found[-1].parent if found else Path("/usr/lib/postgresql/15/bin")


BIN = _newest_bin()
REQUIRED = os.environ.get("LIGGING_TEST_POSTGRES") == "required"


def available() -> bool:
    """Tell whether the PostgreSQL server binaries are installed."""
    return (BIN / "initdb").exists() and (BIN / "pg_ctl").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextmanager
def server() -> Iterator[str]:
    """Start a throwaway server on loopback; yield the URL of its `postgres` database."""
    root = Path(tempfile.mkdtemp(prefix="ligging-backlog-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    try:
        subprocess.run(_as_postgres([str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
                       check=True, capture_output=True)
        options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_connections=60"
        subprocess.run(_as_postgres([str(BIN / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                                     str(root / "log"), "start"]), check=True, capture_output=True)
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([str(BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def database(url: str) -> Iterator[str]:
    """Create an empty database on the server; yield its URL; drop it afterwards."""
    import psycopg

    name = f"backlog_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
