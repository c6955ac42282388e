"""kill -9 of a gunicorn worker in the middle of requests, writes among them.

The worker killed is one whose database transaction has written rows and not ended (found in
pg_stat_activity, mapped to the worker by its socket's port), frozen with SIGSTOP while its
backend waits on it, so only the kill can end that transaction; PostgreSQL is then asked how
it ended: aborted. The requests on the other worker succeed, gunicorn replaces
the dead one, and no partial write exists: every stored version is whole (its run, its audit
row, its hash), numbered without gaps on an unbroken parent chain, and the deal's current
version is the newest.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import signal
import threading
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from app.assumptions.models import AssumptionHead, AssumptionSet
from app.assumptions.service import content_hash
from app.audit.models import AuditEvent
from app.db import make_engine, make_session_factory
from app.deals.models import Deal
from app.server import logged_in
from app.valuation.models import ValuationRun
from tests.ops import harness as ops

pytestmark = pytest.mark.postgres
API = f"/api/v1/deals/{ops.SLUG}"


class Load:
    """Writer and reader threads; every outcome kept with when its request started."""

    def __init__(self, server: ops.Gunicorn, token: str, template: dict) -> None:
        self.server, self.template = server, template
        self.auth = {"Authorization": f"Bearer {token}"}
        self.outcomes: list[tuple[float, str, int | str]] = []  # (started, what, status)
        self.stop = threading.Event()
        self.ratios = itertools.count(1)
        self.lock = threading.Lock()

    def _record(self, started: float, what: str, status: int | str) -> None:
        with self.lock:
            self.outcomes.append((started, what, status))

    def _request(self, what: str, method: str, path: str, body=None, headers=None):
        started = time.monotonic()
        try:
            reply = ops.call(self.server.base, method, path, body, {**self.auth, **(headers or {})})
        except OSError as exc:  # the connection died with its worker
            self._record(started, what, type(exc).__name__)
            return None
        self._record(started, what, reply.status)
        return reply

    def writer(self) -> None:
        while not self.stop.is_set():
            doc = json.loads(json.dumps(self.template))
            doc["deal_terms"]["exchange_ratio"] = 0.12 + next(self.ratios) * 1e-4
            body, kind = ops.multipart("assumptions.json", json.dumps(doc).encode())
            preview = self._request(
                "preview", "POST", f"{API}/assumptions", body, {"Content-Type": kind}
            )
            if preview is None or preview.status != 200:
                continue
            confirm = json.dumps({"token": preview.json()["token"], "note": "load"}).encode()
            self._request(
                "confirm",
                "POST",
                f"{API}/assumptions/confirm",
                confirm,
                {"Content-Type": "application/json"},
            )

    def reader(self) -> None:
        while not self.stop.is_set():
            self._request("deal", "GET", API)
            self._request("versions", "GET", f"{API}/assumptions")

    def count(self, what: str, status: int, after: float = 0.0) -> int:
        with self.lock:
            return sum(1 for t, w, s in self.outcomes if w == what and s == status and t > after)


def _check_whole(database_url: str) -> tuple[int, int]:
    """Every invariant a half-done write would break; returns (versions, uploads audited)."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            deal = session.scalars(select(Deal).where(Deal.slug == ops.SLUG)).one()
            versions = session.scalars(
                select(AssumptionSet)
                .where(AssumptionSet.deal_id == deal.id)
                .order_by(AssumptionSet.version)
            ).all()
            runs = set(session.scalars(select(ValuationRun.assumption_set_id)))
            audits = session.scalars(
                select(AuditEvent).where(AuditEvent.action == "assumptions.upload")
            ).all()
            head = session.get(AssumptionHead, deal.id)
    finally:
        engine.dispose()
    assert [v.version for v in versions] == list(range(1, len(versions) + 1))  # no gaps
    for earlier, later in itertools.pairwise(versions):
        assert later.parent_id == earlier.id  # each save was based on the one before
    for v in versions:
        assert v.content_hash == content_hash(v.payload)  # the payload is whole
        assert v.id in runs  # stored with its valuation run
    uploaded = {a.version: a.details["content_hash"] for a in audits if a.deal_id == deal.id}
    assert uploaded == {v.version: v.content_hash for v in versions[1:]}  # one audit row each
    assert head is not None and head.assumption_set_id == versions[-1].id
    return len(versions), len(uploaded)


def _local_ports(pid: int) -> set[int]:
    """The local TCP ports of a process's sockets (from /proc: its fds, then the TCP tables)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            link = os.readlink(fd)
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if fields[9] in inodes:
                    ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


OPEN_WRITES = """
SELECT a.client_port,
       ((pg_snapshot_xmax(pg_current_snapshot())::text::bigint >> 32) << 32
        | a.backend_xid::text::bigint)::text,
       a.state
FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.backend_xid IS NOT NULL
  AND a.pid <> pg_backend_pid()
  AND EXISTS (SELECT FROM pg_locks l
              WHERE l.pid = a.pid AND l.granted AND l.mode = 'RowExclusiveLock'
                AND l.relation = 'assumption_sets'::regclass)
"""
"""Each app connection whose transaction has inserted a version and not yet ended: its port,
its xid8, and whether the backend runs a statement or waits for the app's next one."""


IDLE = "idle in transaction"  # the backend waits for the app's next statement


def _open_writes(monitor: psycopg.Connection) -> dict[int, tuple[str, str]]:
    return {port: (xid, state) for port, xid, state in monitor.execute(OPEN_WRITES)}


def _worker_mid_write(
    monitor: psycopg.Connection, workers: set[int]
) -> tuple[int, int, str] | None:
    """A worker whose write transaction waits on it: its pid, its connection's port, the xid8."""
    waiting = {p: xid for p, (xid, state) in _open_writes(monitor).items() if state == IDLE}
    for pid in workers:
        with contextlib.suppress(OSError):
            for port in _local_ports(pid) & waiting.keys():
                return pid, port, waiting[port]
    return None


def _stopped(pid: int) -> bool:
    """The process is frozen by SIGSTOP (state T in /proc/PID/stat)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2] == "T"


def _kill_mid_write(server: ops.Gunicorn, monitor: psycopg.Connection) -> tuple[int, float, str]:
    """kill -9 a worker whose transaction has written rows: which, when, how it ended.

    Seen from outside, a write can end by itself between being seen and the kill landing (a
    commit, or a 409's rollback, which PostgreSQL also reports as aborted). So the worker is
    frozen first; if its transaction is then still open and its backend waits idle for the
    app's next statement, nothing but the kill can end it. Otherwise it is let go, and another
    moment is tried."""
    caught: list[tuple[int, str, float]] = []  # (victim, xid8, killed at)

    def kill_if_frozen_mid_write() -> bool:
        hit = _worker_mid_write(monitor, server.workers())
        if hit is None:
            return False
        victim, port, xid = hit
        frozen_mid_write = False
        os.kill(victim, signal.SIGSTOP)
        try:
            ops.wait_until(functools.partial(_stopped, victim), 5, "the worker to freeze", 0.001)
            frozen_mid_write = _open_writes(monitor).get(port) == (xid, IDLE)
        finally:  # never leave a worker frozen
            os.kill(victim, signal.SIGKILL if frozen_mid_write else signal.SIGCONT)
        if frozen_mid_write:
            caught.append((victim, xid, time.monotonic()))
        return frozen_mid_write

    ops.wait_until(kill_if_frozen_mid_write, 20, "a worker frozen mid-write", every=0.005)
    ((victim, xid, killed_at),) = caught
    ended: list[str] = []

    def settled() -> bool:
        ended[:] = [monitor.execute("SELECT pg_xact_status(%s::xid8)", (xid,)).fetchone()[0]]
        return ended[0] != "in progress"

    ops.wait_until(settled, 10, "the killed worker's transaction to end")
    ops.wait_until(
        lambda: victim not in server.workers() and len(server.workers()) == 2,
        20,
        "gunicorn to replace the killed worker",
    )
    return victim, killed_at, ended[0]


def test_killing_a_worker_mid_write_loses_nothing_and_others_succeed(tmp_path: Path) -> None:
    with ops.scratch_database("kill") as url, ops.gunicorn(url, tmp_path, workers=2) as server:
        opener, _ = logged_in(server.base, "analyst")
        template = json.loads(
            opener.open(f"{server.base}/deals/{ops.SLUG}/assumptions.json").read()
        )
        load = Load(server, ops.api_token(url), template)
        threads = [threading.Thread(target=load.writer) for _ in range(3)]
        threads += [threading.Thread(target=load.reader) for _ in range(2)]
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        original = server.workers()
        for thread in threads:
            thread.start()
        try:
            with psycopg.connect(dsn, autocommit=True) as monitor:
                ops.wait_until(lambda: load.count("confirm", 201) >= 2, 30, "saved versions")
                victim, killed_at, ended = _kill_mid_write(server, monitor)
            ops.wait_until(
                lambda: (
                    load.count("confirm", 201, after=killed_at + 0.5) >= 3
                    and load.count("deal", 200, after=killed_at + 0.5) >= 5
                ),
                30,
                "writes and reads after the kill",
            )
        finally:
            load.stop.set()
            for thread in threads:
                thread.join(timeout=30)
        workers, replacements = server.workers(), server.workers() - original
        versions, audited = _check_whole(url)
        log = server.log_text()

    assert ended == "aborted"  # the kill cut a write in half; the database rolled it back
    # Only requests in flight on the killed worker may have failed; everything sent after the
    # kill got a real answer (a conflict between two writers is an answer).
    after = [(w, s) for t, w, s in load.outcomes if t > killed_at + 0.05]
    assert after and all(s in (200, 201, 409) for _, s in after), after
    assert all(s in (200, 201, 409) or isinstance(s, str) for _, _, s in load.outcomes)
    assert any(w == "confirm" and isinstance(s, str) for _, w, s in load.outcomes)
    assert len(workers) == 2 and victim not in workers and replacements
    assert all(f"Booting worker with pid: {pid}" in log for pid in replacements)
    # Every 201 is a stored version; a confirm cut off with its worker may have landed or not,
    # but never in part (checked above), and nothing else wrote.
    saved = load.count("confirm", 201)
    cut_off = sum(1 for _, w, s in load.outcomes if w == "confirm" and isinstance(s, str))
    assert saved <= versions - 1 == audited <= saved + cut_off
