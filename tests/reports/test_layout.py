"""The PDF layout process: off the request workers, replaced when it dies or hangs."""

from __future__ import annotations

import gc
import os
import signal

import pytest

from app.errors import UnavailableError
from app.paths import TEMPLATES_DIR
from app.reports import layout

HTML = "<h1>Layout check</h1><p>Value per share $20.40</p>"


def _child_pid() -> int:
    return layout._get_pool().submit(os.getpid).result(timeout=60)


def _pdf() -> bytes:
    return layout.to_pdf(HTML, "a4", str(TEMPLATES_DIR))


def test_layout_runs_in_a_process_of_its_own() -> None:
    assert _pdf().startswith(b"%PDF-")
    child = _child_pid()
    assert child != os.getpid()
    assert _child_pid() == child  # one long-lived process, not one per report


def test_a_killed_layout_process_is_replaced() -> None:
    _pdf()
    child = _child_pid()
    os.kill(child, signal.SIGKILL)
    assert _pdf().startswith(b"%PDF-")
    assert _child_pid() != child


def test_a_layout_past_its_time_is_stopped_and_the_next_one_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _pdf()
    child = _child_pid()
    monkeypatch.setattr(layout, "TIMEOUT_S", 0.0001)
    with pytest.raises(UnavailableError, match="longer than"):
        _pdf()
    monkeypatch.undo()
    assert _pdf().startswith(b"%PDF-")
    assert _child_pid() != child


def _garbage_left() -> int:
    """Unreachable objects a full collection finds in the layout process, once the last
    report's own collection has finished."""
    pool = layout._get_pool()
    pool.submit(_join_collector).result(timeout=60)
    return pool.submit(gc.collect).result(timeout=60)


def _join_collector() -> None:
    if layout._collector is not None:
        layout._collector.join()


def test_each_report_s_objects_are_freed_after_it() -> None:
    """The old generation never runs during a layout; without the collection after each
    report, its few hundred thousand objects would pile up report after report."""
    report = "<table>" + "<tr><td>cell</td><td>$20.40</td></tr>" * 300 + "</table>"
    for _ in range(3):
        assert layout.to_pdf(report, "a4", str(TEMPLATES_DIR)).startswith(b"%PDF-")
    assert _garbage_left() < 1_000  # without it: about 50,000 from these three
