"""WeasyPrint layout in a process of its own, one per app process, started at first use.

Laying out the report is seconds of pure Python: in a request worker it held the GIL for all
of them, stalling every other request of that process, and left WeasyPrint's and Pango's
caches and a fragmented heap behind in a process meant to serve pages. In its own process the
layout can also run with a garbage collector tuned for one big short-lived object graph, and
the process is replaced after a number of reports, so whatever it keeps is bounded.

This module is what the child imports: nothing here may pull in the web app or the database.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from app.errors import UnavailableError
from app.paths import STATIC_DIR

STYLESHEET = STATIC_DIR / "css" / "report.css"
PAPERS = {"a4": "A4", "letter": "letter"}
REPORTS_PER_PROCESS = 50
"""The layout process is replaced after this many reports (bounds what its caches keep)."""
TIMEOUT_S = 120.0
MISSING = (
    "PDF export needs Pango and fonts from the operating system "
    "(see scripts/system-packages); everything else works without them."
)

_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def to_pdf(html: str, paper: str, base_url: str) -> bytes:
    """Lay out report HTML as PDF bytes in the layout process; the caller's thread just waits."""
    try:
        return _submit(html, paper, base_url)
    except BrokenProcessPool:
        pass  # the layout process died (killed, out of memory): once more, in a fresh one
    try:
        return _submit(html, paper, base_url)
    except BrokenProcessPool:
        raise UnavailableError("The PDF layout process stopped; try again.") from None


def _submit(html: str, paper: str, base_url: str) -> bytes:
    pool = _get_pool()
    try:
        return pool.submit(_layout, html, paper, base_url).result(timeout=TIMEOUT_S)
    except BrokenProcessPool:
        _discard(pool)
        raise
    except TimeoutError:
        _discard(pool)
        raise UnavailableError(
            f"The PDF layout took longer than {TIMEOUT_S:g} s and was stopped."
        ) from None


def shutdown() -> None:
    """Stop the layout process (the app's shutdown calls this)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _get_pool() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            # spawn, not fork: the app process has threads, and a forked copy of their locks
            # (the database pool's, the logger's) could deadlock the child.
            _pool = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start,
                max_tasks_per_child=REPORTS_PER_PROCESS,
            )
        return _pool


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    # The executor has no public way to stop a running task (3.14 adds terminate_workers).
    for process in list(getattr(pool, "_processes", {}).values()):
        process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


# What follows runs in the layout process.

_sheets: dict[str, list[object]] = {}
_fonts: object = None


def _start() -> None:
    """Load WeasyPrint and the stylesheet once, warm Pango, then set the collector aside.

    A layout builds a few hundred thousand linked objects and drops them all at the end. With
    the start-up objects frozen and a large first-generation threshold, the collector stops
    rescanning them a thousand times per report (it cost about a sixth of the layout); one
    full collection after each report (see _layout) frees them.

    It may run on any CPU: the worker that started it may keep to one (WORKER_CPU_AFFINITY),
    and a layout on the worker's own core would take turns with its requests. Every CPU is
    asked for; the kernel keeps the ones this process may use (a container's cpuset).
    """
    global _fonts
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, range(os.cpu_count() or 1))
    try:
        from weasyprint import CSS, HTML
        from weasyprint.text.fonts import FontConfiguration
    except OSError:
        return  # reported per request by _layout
    _fonts = FontConfiguration()
    base = CSS(filename=str(STYLESHEET), font_config=_fonts)
    for key, size in PAPERS.items():
        _sheets[key] = [base, CSS(string=f"@page {{ size: {size}; }}", font_config=_fonts)]
    HTML(string="<p>warm-up 0123456789</p>").write_pdf(
        stylesheets=_sheets["a4"], font_config=_fonts
    )
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 1000)


_collector: threading.Thread | None = None


def _layout(html: str, paper: str, base_url: str) -> bytes:
    """One report. Its objects outlive the young generations' collections, and the old one
    is set never to run during a layout: a full collection frees them once it is done."""
    global _collector
    if _fonts is None:
        raise UnavailableError(MISSING)
    from weasyprint import HTML

    if _collector is not None:
        _collector.join()  # the last report's garbage is gone before this one starts
    document = HTML(string=html, base_url=base_url)
    pdf = document.write_pdf(stylesheets=_sheets[paper], font_config=_fonts)
    del document
    # Collected beside sending the bytes back, not before: the caller does not wait for it.
    _collector = threading.Thread(target=gc.collect, name="layout-gc", daemon=True)
    _collector.start()
    return pdf
