"""Reports what the proofs ran: schemathesis example counts, by database and operation."""

from __future__ import annotations

import sys

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    module = sys.modules.get("tests.proofs.test_schemathesis")
    runs = getattr(module, "RUNS", None)
    if not runs:
        return
    write = terminalreporter.write_line
    write("")
    write(f"schemathesis: {sum(runs.values())} examples on {len(runs)} (database, operation) runs")
    for database in sorted({key[0] for key in runs}):
        mine = {key: n for key, n in runs.items() if key[0] == database}
        operations = {key[2] for key in mine}
        write(f"  {database}: {len(operations)} operations, {sum(mine.values())} examples")
        for operation in sorted(operations):
            counts = ", ".join(
                f"{variant} {mine[(database, variant, operation)]}"
                for variant in ("generated", "pinned")
                if (database, variant, operation) in mine
            )
            write(f"    {operation:<48} {counts}")
    statuses = ", ".join(f"{code}: {n}" for code, n in sorted(module.STATUSES.items()))
    write(f"  responses by status: {statuses}")
