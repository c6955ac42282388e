"""Production serving: `make serve-prod` (and the Docker image) run gunicorn with this file.

Gunicorn supervises uvicorn worker processes: a worker that dies is replaced, SIGTERM drains
in-flight requests before exiting (graceful shutdown), and each worker builds its own
database pool in the app's lifespan. Everything is set from the environment.
"""

import mmap
import os
from typing import Any

from app.web.connections import SLOT_FIELDS, WorkerLoad, share_load

bind = f"{os.environ.get('HOST', '0.0.0.0')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
"""Worker processes: about one per core (the engine's NumPy work is CPU-bound)."""
worker_class = "uvicorn_worker.UvicornWorker"
wsgi_app = "app.main:create_app()"
timeout = int(os.environ.get("WORKER_TIMEOUT", "60"))
"""A worker silent this long (a stuck request) is killed and replaced."""
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "30"))
"""On shutdown, in-flight requests get this long to finish."""
keepalive = 5
max_requests = int(os.environ.get("MAX_REQUESTS", "0"))
max_requests_jitter = int(os.environ.get("MAX_REQUESTS_JITTER", "0"))
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
"""Proxies whose X-Forwarded-For/-Proto are trusted (the load balancer's addresses)."""
accesslog = None  # the app logs one JSON line per request itself
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET", "")
"""gunicornc's socket. Off unless a path is given: gunicorn's default path is one per user,
so two servers on a machine (a second checkout, a load test) would fight over it."""
control_socket_disable = not control_socket
if not control_socket:
    del control_socket  # gunicorn validates the setting even when the socket is off

worker_cpu_affinity = os.environ.get("WORKER_CPU_AFFINITY", "false").lower() in ("1", "true", "yes")
"""Each worker keeps to one CPU (of those this process may use), the least taken by its live
siblings. Off by default. Pinned, the interactive pages cost about 10% less CPU (a worker the
scheduler moves between cores finds its caches cold), but PDFs laid out while every core is
busy starved: in a 5-minute soak they took up to 42 s and 7 passed wrk's 30 s timeout."""


LOAD_SLOTS = 64
"""Up to this many workers share their load (app/web/connections.py); any more only
reconnect clients by chance."""
_load = mmap.mmap(-1, 8 * SLOT_FIELDS * LOAD_SLOTS)  # anonymous, shared: forks inherit it
WorkerLoad.free_all(memoryview(_load))


def pre_fork(server: Any, worker: Any) -> None:
    """In the master: choose the new worker's load slot and CPU while the live workers'
    choices are known."""
    held = {getattr(w, "slot", None) for w in server.WORKERS.values()}
    worker.slot = min(set(range(LOAD_SLOTS)) - held, default=None)
    if worker_cpu_affinity and hasattr(os, "sched_getaffinity"):
        taken = [getattr(w, "cpu", None) for w in server.WORKERS.values()]
        worker.cpu = min(sorted(os.sched_getaffinity(0)), key=taken.count)


def post_fork(server: Any, worker: Any) -> None:
    """In the new worker, before it builds the app: publish its load; keep to its CPU."""
    if worker.slot is not None:
        share_load(memoryview(_load), worker.slot)
    if getattr(worker, "cpu", None) is not None:
        os.sched_setaffinity(0, {worker.cpu})


def child_exit(server: Any, worker: Any) -> None:
    """In the master: a worker that is gone (even by kill -9) no longer counts as a sibling."""
    if getattr(worker, "slot", None) is not None:
        WorkerLoad.free(memoryview(_load), worker.slot)
