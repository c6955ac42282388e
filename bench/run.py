"""Engine benchmarks: one JSON line per benchmark (`make bench`).

Timings are medians over repeats on whatever machine runs them; targets live in
docs/benchmarks.md, not in the unit tests.
"""

from __future__ import annotations

import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.parse
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from app.engine import DCFInputs, Distribution, dcf, dcf_grid, monte_carlo_dcf
from app.engine.dcf import BLOCK, PER_YEAR
from app.engine.scenarios import draw_block
from app.server import logged_in, seeded_server
from app.web.csrf import HEADER

N = 1_000_000
YEARS = 10
LOOP_SAMPLE = 20_000
MC_BLOCK = monte_carlo_dcf.__kwdefaults__["block_size"]


def _times(fn: Callable[[], object], repeats: int) -> list[float]:
    fn()  # warm up
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def _line(name: str, times: list[float], **extra: object) -> None:
    print(
        json.dumps(
            {
                "name": name,
                "median_s": round(statistics.median(times), 6),
                "min_s": round(min(times), 6),
                "max_s": round(max(times), 6),
                "repeats": len(times),
                **extra,
            }
        ),
        flush=True,
    )


def _scalar_dcf(base: float, growth, margin, wacc: float) -> tuple[float, ...]:
    """The same valuation as `dcf`, one scenario at a time in plain Python (the baseline).

    It produces the same outputs as the vectorised call: EV, equity, value per share, TV and
    its present value, TV's share of EV, the implied exit multiple and implied growth.
    """
    tax, da_pct, capex_pct, nwc_pct, g, debt, shares = 0.25, 0.04, 0.05, 0.10, 0.02, 2.0e8, 1.0e8
    revenue, disc, pv = base, 1.0, 0.0
    fcff = ebitda = 0.0
    for t in range(YEARS):
        previous = revenue
        revenue = previous * (1.0 + growth[t])
        ebit = revenue * margin[t]
        da = revenue * da_pct
        fcff = ebit * (1.0 - tax) + da - revenue * capex_pct - nwc_pct * (revenue - previous)
        ebitda = ebit + da
        disc /= 1.0 + wacc
        pv += fcff * disc
    tv = fcff * (1.0 + g) / (wacc - g)
    pv_tv = tv * disc
    ev = pv + pv_tv
    equity = ev - debt
    implied_growth = (tv * wacc - fcff) / (tv + fcff)
    return ev, equity, equity / shares, tv, pv_tv, pv_tv / ev, tv / ebitda, implied_growth


def _inputs(rng: np.random.Generator, n: int) -> DCFInputs:
    return DCFInputs(
        base_revenue=1.0e9,
        revenue_growth=rng.normal(0.08, 0.03, (n, YEARS)),
        ebit_margin=rng.normal(0.20, 0.03, (n, YEARS)),
        da_pct_revenue=0.04,
        capex_pct_revenue=0.05,
        nwc_pct_revenue=0.10,
        tax_rate=0.25,
        wacc=rng.uniform(0.07, 0.12, n),
        diluted_shares=1.0e8,
        terminal_growth=0.02,
        debt=2.0e8,
    )


def bench_dcf() -> None:
    inputs = _inputs(np.random.default_rng(1), N)
    one_thread = _times(lambda: dcf(inputs, per_year=False), repeats=7)
    times = _times(lambda: dcf(inputs, per_year=False, threads=2), repeats=15)
    growth, margin, wacc = inputs.revenue_growth, inputs.ebit_margin, inputs.wacc
    rows = [(growth[i].tolist(), margin[i].tolist(), float(wacc[i])) for i in range(LOOP_SAMPLE)]
    start = time.perf_counter()
    loop = [_scalar_dcf(1.0e9, g, m, w) for g, m, w in rows]
    loop_s = (time.perf_counter() - start) * N / LOOP_SAMPLE
    vectorised = dcf(inputs, per_year=False).value_per_share[:LOOP_SAMPLE]
    scalar = [row[2] for row in loop]
    np.testing.assert_allclose(vectorised, scalar, rtol=1e-9)  # the baseline does the same work
    floor = _times(lambda: _move_only(inputs, threads=2), repeats=15)
    _line(
        "dcf_1e6_scenarios",
        times,
        ratio=round(loop_s / statistics.median(times), 1),
        baseline=f"scalar python loop, extrapolated from {LOOP_SAMPLE}",
        baseline_s=round(loop_s, 3),
        dtype="float64",
        threads=2,
        one_thread_median_s=round(statistics.median(one_thread), 6),
        memory_floor_s=round(statistics.median(floor), 6),
    )


def _move_only(inputs: DCFInputs, threads: int) -> None:
    """Only the memory traffic of `dcf`: read each scenario input once, write the 8 results.

    The least any implementation can take on the machine running the bench (reported as
    `memory_floor_s`); on a machine whose memory is slow it can be most of the DCF's time.
    """
    read = [np.asarray(x) for x in (inputs.revenue_growth, inputs.ebit_margin, inputs.wacc)]
    results = [np.empty(N) for _ in range(8)]  # fresh, as dcf's results are

    def block(lo: int) -> None:
        for x in read:
            x[lo : lo + BLOCK].max()
        for y in results:
            y[lo : lo + BLOCK] = 0.0

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(block, range(0, N, BLOCK)))


DRAWS = {
    "revenue_growth": Distribution("normal", sd=0.03),
    "ebit_margin": Distribution("normal", sd=0.03),
    "wacc": Distribution("triangular", low=-0.02, mode=0.0, high=0.02),
}
BASE = DCFInputs(
    base_revenue=1.0e9,
    revenue_growth=[0.08] * YEARS,
    ebit_margin=[0.20] * YEARS,
    da_pct_revenue=0.04,
    capex_pct_revenue=0.05,
    nwc_pct_revenue=0.10,
    tax_rate=0.25,
    wacc=0.09,
    diluted_shares=1.0e8,
    terminal_growth=0.02,
)


def bench_monte_carlo() -> None:
    def one(threads: int):
        return monte_carlo_dcf(BASE, DRAWS, N, seed=42, offer_price=30.0, threads=threads)

    times = _times(lambda: one(2), repeats=7)
    one_thread = _times(lambda: one(1), repeats=3)
    draws = _times(lambda: _draws_only(threads=2), repeats=7)
    identical = one(1) == one(2)
    tracemalloc.start()
    one(2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    _line(
        "monte_carlo_1e6",
        times,
        threads=2,
        one_thread_median_s=round(statistics.median(one_thread), 6),
        draws="float32 SFC64, growth and margin per scenario-year, WACC per scenario",
        draws_median_s=round(statistics.median(draws), 6),
        identical_across_threads=identical,
        peak_mb_growth=round(peak / 1e6, 1),
    )


def _draws_only(threads: int) -> None:
    """Only the random draws of `monte_carlo_dcf`, block by block on the same streams.

    NumPy's ziggurat is most of a Monte Carlo's time; `draws_median_s` says how much on the
    machine running the bench.
    """
    blocks = -(-N // MC_BLOCK)
    seeds = np.random.SeedSequence(42).spawn(blocks)

    def block(i: int) -> None:
        rng = np.random.Generator(np.random.SFC64(seeds[i]))
        size = min(MC_BLOCK, N - i * MC_BLOCK)
        draw_block(DRAWS, rng, YEARS, size, frozenset(PER_YEAR), np.float32)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(block, range(blocks)))


def bench_grid() -> None:
    wacc = np.linspace(0.07, 0.12, 101)
    growth = np.linspace(0.0, 0.03, 101)
    times = _times(lambda: dcf_grid(BASE, wacc=wacc, terminal_growth=growth), repeats=200)
    _line("grid_101x101", times, axes="wacc x terminal_growth", years=YEARS)


def _latencies(fn: Callable[[], None], repeats: int) -> dict[str, float]:
    fn()  # warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    cuts = statistics.quantiles(times, n=20)
    return {
        "p50_s": round(statistics.median(times), 4),
        "p95_s": round(cuts[18], 4),
        "min_s": round(min(times), 4),
        "max_s": round(max(times), 4),
        "repeats": repeats,
    }


def bench_pages(repeats: int = 60) -> None:
    """The seeded deal page, and a live editor recompute, timed against a running server."""
    slug = "/deals/coreweave-core-scientific"
    with tempfile.TemporaryDirectory() as tmp, seeded_server(f"sqlite:///{tmp}/bench.db") as base:
        opener, token = logged_in(base, "analyst")
        page = opener.open(base + slug).read().decode()
        form = dict(re.findall(r'<input[^>]*? name="([^"]+)" value="([^"]*)"', page))
        waccs = iter([0.10, 0.11] * repeats * 2)

        def get_page() -> None:
            with opener.open(base + slug) as response:
                assert response.status == 200
                response.read()

        def recompute() -> None:
            body = form | {"target.cost_of_capital.wacc": str(next(waccs))}
            request = urllib.request.Request(
                base + slug + "/preview",
                data=urllib.parse.urlencode(body).encode(),
                headers={HEADER: token, "HX-Request": "true", "Origin": base},
            )
            with opener.open(request) as response:
                assert response.status == 200
                response.read()

        print(json.dumps({"name": "page_deal", **_latencies(get_page, repeats)}), flush=True)
        print(
            json.dumps(
                {
                    "name": "recompute",
                    **_latencies(recompute, repeats),
                    "monte_carlo_paths": 10_000,
                    "swaps": "every section (no digests posted: the worst case), status, errors",
                }
            ),
            flush=True,
        )


def _page_count(body: bytes) -> int | None:
    """Pages of a PDF by Poppler's pdfinfo (page objects sit in compressed object streams)."""
    try:
        info = subprocess.run(["pdfinfo", "-"], input=body, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    found = re.search(rb"^Pages:\s+(\d+)", info.stdout, flags=re.MULTILINE)
    return int(found.group(1)) if found else None


def bench_pdf(repeats: int = 5) -> None:
    """The seeded deal's report laid out end to end (Jinja, WeasyPrint, PDF bytes)."""
    from app.db import make_engine, make_session_factory
    from app.migrate import upgrade
    from app.reports import pdf
    from app.reports.service import report_source
    from app.seed import seed

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        engine = make_engine(url)
        with make_session_factory(engine)() as session, session.begin():
            seed(session)
            source = report_source(session, "coreweave-core-scientific", viewer=None)
            body = pdf.render(source)
            times = _times(lambda: pdf.render(source), repeats)
        engine.dispose()
    pages = _page_count(body)
    _line("pdf_report", times, pages=pages, bytes=len(body), paper="A4")


BENCHES = {
    "dcf": bench_dcf,
    "monte_carlo": bench_monte_carlo,
    "grid": bench_grid,
    "pages": bench_pages,
    "pdf": bench_pdf,
}


def main() -> None:
    """All benchmarks, or the ones named on the command line (dcf, monte_carlo, grid, ...)."""
    for name in sys.argv[1:] or BENCHES:
        BENCHES[name]()


if __name__ == "__main__":
    main()
