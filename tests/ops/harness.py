"""Machinery for the fault tests: the app served as in production (gunicorn, uvicorn
workers) on real PostgreSQL, in processes these tests start, watch and always clean up.

Databases are scratch ones on the shared server (`dbk_faults_<pid>_<name>`, dropped after)
or a throwaway cluster made with initdb in a temporary folder; the machine's own server is
never stopped. Without PostgreSQL, initdb or gunicorn the tests skip, except under CI=true,
where that is a failure (as for the suite's PostgreSQL leg).
"""

from __future__ import annotations

import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.auth import service as accounts
from app.db import make_engine, make_session_factory
from app.server import DEMO_PASSWORD, prepare
from tests.conftest import DEFAULT_PG, IN_CI

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).with_name("gunicorn")
SECRET = "fault-tests-secret-" + "x" * 32
SLUG = "coreweave-core-scientific"


def unavailable(reason: str) -> None:
    """Skip, or fail under CI=true, when a tool or server these tests need is missing."""
    if IN_CI:
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], timeout: float, what: str, every: float = 0.1) -> None:
    """Poll `check` until it holds; fail after `timeout` seconds naming `what`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


# --- HTTP ---------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> object:
        return json.loads(self.body)


def call(
    base: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 15,
) -> Reply:
    """One request on a fresh connection; any status is a Reply, a dropped connection raises."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Reply(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )
    finally:
        conn.close()


def multipart(filename: str, content: bytes, extra: dict[str, str] | None = None):
    """A multipart/form-data body with one file field `file` (and text fields)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in (extra or {}).items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"'
        "\r\nContent-Type: application/json\r\n\r\n".encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def api_token(database_url: str, username: str = "analyst") -> str:
    """A bearer token for a demo user, made straight in the database."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session, session.begin():
            user = accounts.get_user(session, username)
            return accounts.create_token(session, user, "fault tests").token
    finally:
        engine.dispose()


# --- PostgreSQL -----------------------------------------------------------------------------


def _shared_server() -> tuple[str, str]:
    """A libpq DSN for the shared server's maintenance database, and a SQLAlchemy URL base."""
    url = make_url(os.environ.get("TEST_DATABASE_URL", DEFAULT_PG))
    admin = url.set(drivername="postgresql", database="postgres")
    return admin.render_as_string(hide_password=False), url.render_as_string(hide_password=False)


@contextmanager
def scratch_database(name: str) -> Iterator[str]:
    """A new database `dbk_faults_<pid>_<name>` on the shared server, dropped afterwards."""
    dsn, base = _shared_server()
    database = f"dbk_faults_{os.getpid()}_{name}"
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{database}"')
    except psycopg.OperationalError as exc:
        unavailable(f"PostgreSQL at {make_url(base).render_as_string()} is unreachable: {exc}")
    try:
        yield make_url(base).set(database=database).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _pg_bin(tool: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{tool}"))
    if not found:
        unavailable(f"{tool} is not installed (/usr/lib/postgresql/*/bin)")
    return found[-1]


def _as_postgres(*args: str) -> list[str]:
    """Run as the `postgres` OS user (PostgreSQL refuses root), if we are root."""
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            unavailable("runuser is missing (needed to run PostgreSQL as root)")
        return ["runuser", "-u", "postgres", "--", *args]
    return list(args)


@dataclass
class Cluster:
    """A throwaway PostgreSQL cluster of our own, on a free loopback port."""

    folder: Path
    port: int = field(default_factory=free_port)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, database: str = "dealbook") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres(_pg_bin("pg_ctl"), "-D", str(self.data), *args),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-l", str(self.folder / "server.log"), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """initdb in a temporary folder, started; stopped and deleted afterwards, whatever happens."""
    initdb = _pg_bin("initdb")
    folder = Path(tempfile.mkdtemp(prefix="dbk-faults-pg-"))
    try:
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        cluster = Cluster(folder)
        subprocess.run(
            _as_postgres(initdb, "-D", str(cluster.data), "-U", "postgres", "-A", "trust"),
            check=True,
            capture_output=True,
            timeout=120,
        )
        try:
            cluster.start()
            with psycopg.connect(
                f"host=127.0.0.1 port={cluster.port} user=postgres dbname=postgres",
                autocommit=True,
            ) as conn:
                conn.execute("CREATE DATABASE dealbook")
            yield cluster
        finally:
            if cluster.running():
                cluster.stop("immediate")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- gunicorn -------------------------------------------------------------------------------


@dataclass
class Gunicorn:
    """The app under gunicorn, as `make serve-prod` runs it."""

    base: str
    process: subprocess.Popen[bytes]
    log: Path

    def workers(self) -> set[int]:
        """The master's live worker processes."""
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except FileNotFoundError:
            return set()
        return {int(c) for c in children}

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def log_lines(self) -> list[dict]:
        """The JSON lines the app logged (gunicorn's own lines are plain text)."""
        lines = []
        for line in self.log_text().splitlines():
            if line.startswith("{"):
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    continue
        return lines


@contextmanager
def gunicorn(
    database_url: str, folder: Path, workers: int = 2, environ: dict[str, str] | None = None
) -> Iterator[Gunicorn]:
    """Serve `database_url` (migrated and seeded here) with gunicorn on a free loopback port;
    stop it (SIGTERM, then SIGKILL of its process group) afterwards, whatever happens.
    `environ` adds settings (or replaces the ones set here)."""
    if not GUNICORN.exists():
        unavailable(f"gunicorn is not installed at {GUNICORN}")
    prepare(database_url)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": SECRET,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
        "GRACEFUL_TIMEOUT": "3",
        "FAST_PASSWORD_HASHING": "true",
        "DB_POOL_TIMEOUT": "3",
        "PYTHONUNBUFFERED": "1",  # log lines reach the file as they are written
        **(environ or {}),
    }
    log = folder / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            # No control socket: by default every gunicorn on the machine shares one path.
            [str(GUNICORN), "-c", "gunicorn.conf.py", "--no-control-socket"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Gunicorn(f"http://127.0.0.1:{port}", process, log)
    try:

        def up() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"gunicorn exited:\n{server.log_text()[-3000:]}")
            try:
                return call(server.base, "GET", "/readyz", timeout=2).status == 200
            except OSError:
                return False

        wait_until(up, 30, "gunicorn to serve /readyz")
        wait_until(lambda: len(server.workers()) == workers, 15, f"{workers} workers")
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)


def login_headers(base: str, username: str = "analyst") -> dict[str, str]:
    """Cookie and CSRF headers of a page session (logged in through the login form)."""
    from app.server import logged_in

    opener, csrf = logged_in(base, username, DEMO_PASSWORD)
    jar = next(h for h in opener.handlers if hasattr(h, "cookiejar")).cookiejar
    cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
    return {"Cookie": cookie, "X-CSRF-Token": csrf, "Origin": base}
