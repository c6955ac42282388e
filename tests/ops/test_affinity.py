"""With WORKER_CPU_AFFINITY (gunicorn.conf.py; off by default) workers keep to CPUs of their
own, a worker that replaces a dead one takes the CPU it left, and the PDF layout process may
run anywhere."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import psutil
import pytest

from tests.ops import harness as ops

pytestmark = pytest.mark.postgres


def _placement(server: ops.Gunicorn) -> dict[int, set[int]]:
    return {pid: os.sched_getaffinity(pid) for pid in server.workers()}


def _layout_processes(worker: int) -> list[int]:
    """The worker's spawned layout process (not multiprocessing's resource tracker)."""
    return [
        child.pid
        for child in psutil.Process(worker).children()
        if any("spawn_main" in part for part in child.cmdline())
    ]


def test_each_worker_keeps_to_its_own_cpu_and_a_replacement_takes_the_freed_one(
    tmp_path: Path,
) -> None:
    cpus = sorted(os.sched_getaffinity(0))
    environ = {"WORKER_CPU_AFFINITY": "true"}
    with (
        ops.scratch_database("affinity") as url,
        ops.gunicorn(url, tmp_path, environ=environ) as server,
    ):
        placement = _placement(server)
        assert all(len(mask) == 1 for mask in placement.values())
        used = sorted(cpu for mask in placement.values() for cpu in mask)
        assert used == (cpus[:2] if len(cpus) >= 2 else cpus * 2)

        # A worker's PDF layout process may run anywhere: beside its worker it would take
        # turns with that worker's requests.
        pdf = ops.call(
            server.base,
            "GET",
            f"/deals/{ops.SLUG}/report.pdf",
            headers=ops.login_headers(server.base),
            timeout=60,
        )
        assert pdf.status == 200 and pdf.body.startswith(b"%PDF-")
        layouts = [pid for worker in placement for pid in _layout_processes(worker)]
        assert len(layouts) == 1
        assert os.sched_getaffinity(layouts[0]) == set(cpus)

        victim, (freed,) = next(iter(placement.items()))
        os.kill(victim, signal.SIGKILL)
        ops.wait_until(lambda: len(server.workers() - {victim}) == 2, 30, "a replacement worker")
        after = _placement(server)
        assert sorted(cpu for mask in after.values() for cpu in mask) == used
        (newcomer,) = set(after) - set(placement)
        assert after[newcomer] == {freed} or len(cpus) == 1
        assert ops.call(server.base, "GET", "/healthz").status == 200


def test_by_default_placement_is_left_to_the_scheduler(tmp_path: Path) -> None:
    with ops.scratch_database("affinity") as url, ops.gunicorn(url, tmp_path) as server:
        everywhere = os.sched_getaffinity(0)
        assert all(mask == everywhere for mask in _placement(server).values())
