"""A throwaway PostgreSQL server for the test suite (Debian's postgresql package).

The server runs from a temporary folder on an ephemeral loopback port and is removed at the
end. As root, it runs as the ``postgres`` system user (PostgreSQL refuses to run as root).
Set ANEF_TEST_POSTGRES_URL to use an existing server instead.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from tests.support import free_port


def _bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    if not candidates:
        raise RuntimeError(
            "PostgreSQL is not installed (Debian package 'postgresql'); run `make test`, which installs it"
        )
    return Path(candidates[-1])


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@contextlib.contextmanager
def throwaway_postgres(_unused: Path) -> Iterator[str]:
    existing = os.environ.get("ANEF_TEST_POSTGRES_URL")
    if existing:
        yield existing
        return
    bindir = _bindir()
    folder = Path(tempfile.mkdtemp(prefix="anef-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    port = free_port()
    subprocess.run(
        _as_server_user([str(bindir / "initdb"), "-D", str(data), "-U", "anef", "--auth=trust", "-E", "UTF8"]),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    subprocess.run(
        _as_server_user(
            [str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-w", "-l", str(folder / "log"), "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://anef@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]), capture_output=True
        )
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server_url: str) -> str:
    """Create an empty database on the server and return its URL."""
    url = make_url(server_url)
    name = f"anef_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database or "postgres", autocommit=True
    ) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)
