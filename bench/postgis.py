"""The peer rules as SQL on PostGIS, on a throwaway server started on loopback.

`server()` installs Debian's `postgresql-15-postgis-3` when PostGIS is missing (apt-get;
needs root), runs `initdb` in a temporary directory, starts `pg_ctl` on a free port
bound to 127.0.0.1 and creates the extension; the server is stopped and its directory
removed afterwards. `postgis_findings` loads the lines of a `bench.peers.Columns` with
COPY, then runs the three peer rules as SQL. The server is tuned as a fair rival would
tune it: JIT off (it costs more than it saves on queries this short), the table vacuumed
and analysed after loading, the queries run once to warm caches and plans and then timed
as the best of `REPEATS` runs. Loading (COPY, geometry, index, VACUUM ANALYZE) is timed
apart, so both "queries only" and "load + queries" can be compared.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.peers import CLEARANCE, COVER, TOLERANCE, Columns, Key, measured

BIN = Path("/usr/lib/postgresql/15/bin")
REPEATS = 3
EXTENSION = Path("/usr/share/postgresql/15/extension/postgis.control")

COVER_SQL = f"SELECT sec, id, z - r FROM lines WHERE z - r < {COVER - TOLERANCE}"
CLEARANCE_SQL = f"""
SELECT a.sec, a.id, b.id, ST_Distance(a.geom, b.geom) - a.r - b.r
FROM lines a JOIN lines b ON a.sec = b.sec AND a.k < b.k
WHERE NOT (a.rack = b.rack AND a.rack >= 0)
  AND ST_DWithin(a.geom, b.geom, a.r + b.r + {CLEARANCE})
  AND ST_Distance(a.geom, b.geom) - a.r - b.r < {CLEARANCE - TOLERANCE}"""
ORDER_SQL = f"""
SELECT a.sec, a.id, b.id
FROM lines a JOIN lines b ON a.sec = b.sec
WHERE a.net = 'datatransport' AND b.net = 'water'
  AND NOT (a.rack = b.rack AND a.rack >= 0)
  AND a.z + a.r > b.z - b.r + {TOLERANCE}"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    """Run a server command as the postgres user when we are root (initdb refuses root)."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def ensure_postgis() -> None:
    """Install PostgreSQL 15 with PostGIS 3 from Debian when it is not there."""
    if (BIN / "pg_ctl").exists() and EXTENSION.exists():
        return
    subprocess.run(["apt-get", "install", "-y", "postgresql-15-postgis-3"], check=True, capture_output=True)


@contextmanager
def server() -> Iterator[str]:
    """Start a throwaway PostGIS server on loopback; yield its connection string."""
    ensure_postgis()
    root = Path(tempfile.mkdtemp(prefix="ligging-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    port = _free_port()
    try:
        subprocess.run(_as_postgres([str(BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]),
                       check=True, capture_output=True)
        options = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c max_parallel_workers_per_gather=2 "
                   "-c jit=off -c shared_buffers=256MB -c work_mem=64MB")
        subprocess.run(_as_postgres([str(BIN / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l",
                                     str(root / "log"), "start"]), check=True, capture_output=True)
        yield f"host=127.0.0.1 port={port} user=postgres dbname=postgres"
    finally:
        subprocess.run(_as_postgres([str(BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def postgis_findings(c: Columns) -> tuple[set[Key], dict[str, float]]:
    """Load the lines into PostGIS and evaluate the peer rules; return findings and timings."""
    try:
        import psycopg
    except ImportError:
        raise SystemExit("the PostGIS peer needs psycopg: pip install -e '.[bench]'") from None

    if not bool(c.round.all()):
        raise ValueError("the PostGIS peer handles round lines only")
    with server() as dsn, psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
        conn.execute("CREATE UNLOGGED TABLE lines (k int, sec int, id text, net text, rack int, "
                     "x float8, z float8, r float8, geom geometry(Point))")
        t = time.perf_counter()
        with conn.cursor().copy("COPY lines (k, sec, id, net, rack, x, z, r) FROM STDIN") as copy:
            for k in range(len(c.ids)):
                copy.write_row((k, int(c.section[k]), str(c.ids[k]), str(c.network[k]), int(c.rack[k]),
                                float(c.x[k]), float(c.z[k]), float(c.hw[k])))
        conn.execute("UPDATE lines SET geom = ST_MakePoint(x, z)")
        conn.execute("CREATE INDEX ON lines (sec)")
        conn.execute("VACUUM ANALYZE lines")
        load = time.perf_counter() - t
        out: set[Key] = set()
        query = float("inf")
        for _ in range(REPEATS + 1):  # the first run warms caches and plans and is not counted
            t = time.perf_counter()
            found: set[Key] = set()
            for sec, ident, value in conn.execute(COVER_SQL).fetchall():
                found.add((sec, "PEER-COV", (ident,), measured(value)))
            for sec, a, b, value in conn.execute(CLEARANCE_SQL).fetchall():
                found.add((sec, "PEER-CLR", tuple(sorted((a, b))), measured(value)))
            for sec, a, b in conn.execute(ORDER_SQL).fetchall():
                found.add((sec, "PEER-ORDER", tuple(sorted((a, b))), None))
            elapsed = time.perf_counter() - t
            if out:
                query = min(query, elapsed)
            out = found
    return out, {"load": load, "query": query}
