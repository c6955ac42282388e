"""Load test (`make loadtest`): the app under gunicorn with 2 workers on PostgreSQL, driven by wrk.

Loopback only and bounded in time (about 8 minutes with the 5-minute soak; `--quick` or
LOADTEST_QUICK=1 for a smoke run of well under a minute). It creates its own database (dropped
and recreated each run), migrates, seeds, logs an analyst in, and runs one wrk scenario per
request kind, a weighted mix, then a soak that samples the workers' memory. Every response is
checked in wrk's Lua: a 2xx status and a marker of the real page in the body (a redirect to
the login page or a 403 counts as an error). One JSON line per scenario goes to stdout.
"""

from __future__ import annotations

import argparse
import collections
import html.parser
import http.cookiejar
import json
import os
import random
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import psycopg
from sqlalchemy.engine import make_url

from app.auth import service as accounts
from app.auth.models import Role
from app.db import make_engine, make_session_factory
from app.seed import REFERENCE_DEALS, SEED_DIR
from app.server import free_port, logged_in, prepare
from app.web.csrf import COOKIE, HEADER, SESSION_COOKIE

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/dbk_loadtest"
SLUG = REFERENCE_DEALS[0]
USER = "loadtest"
WORKERS = 2
WACC_FIELD = "target.cost_of_capital.wacc"
CALC_BODY = {
    "base_revenue": 1.0e9,
    "revenue_growth": [0.12, 0.10, 0.08, 0.06, 0.05],
    "ebit_margin": [0.18, 0.19, 0.20, 0.21, 0.22],
    "da_pct_revenue": 0.05,
    "capex_pct_revenue": 0.07,
    "tax_rate": 0.25,
    "nwc_pct_revenue": 0.1,
    "wacc": 0.09,
    "terminal": {"method": "gordon", "growth": 0.025},
    "net_debt": 2.0e8,
    "diluted_shares": 1.0e8,
}


@dataclass
class Scenario:
    """One kind of request: how wrk sends it, what proves the answer is the real one."""

    name: str
    path: str
    marker: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    connections: int = 8
    """Four per worker: enough to keep both busy; more only queue (p99 grows, req/s not)."""
    target: tuple[float, float] | None = None
    """The issue's target: at least this many requests/s at a p99 of at most this many ms
    (with 0 errors, the target of every scenario)."""


def ensure_wrk() -> str:
    """wrk from Debian, installed when missing (as scripts/test-services does for chromium)."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing wrk (Debian package)...", file=sys.stderr)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        subprocess.run(["apt-get", "update", "-qq"], check=False, **quiet)
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=False, env=env, **quiet)
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is needed: apt-get install -y wrk")
    return found


def fresh_database(url: str) -> None:
    """Drop and create the load test's own database (never any other)."""
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{parsed.database}"')


def api_token(url: str) -> str:
    engine = make_engine(url)
    with make_session_factory(engine)() as session, session.begin():
        token = accounts.create_token(session, accounts.get_user(session, USER), "loadtest").token
    engine.dispose()
    return token


class Server:
    """gunicorn (the production config) with WEB_CONCURRENCY workers on a free loopback port."""

    def __init__(self, url: str, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = os.environ | {
            "DATABASE_URL": url,
            "WEB_CONCURRENCY": str(WORKERS),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "SECRET_KEY": secrets.token_urlsafe(32),
        }
        self.log_path = log
        self.log = log.open("wb")
        gunicorn = Path(sys.executable).parent / "gunicorn"
        self.process = subprocess.Popen(
            [str(gunicorn), "-c", "gunicorn.conf.py"],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while not self._ready():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                sys.exit(f"the server did not become ready; see {log}")
            time.sleep(0.2)
        while len(self.workers()) < WORKERS:
            time.sleep(0.1)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.base + "/readyz", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def log_mark(self) -> int:
        """Where the request log ends now (server_latency reads the lines after it)."""
        return self.log_path.stat().st_size

    def server_latency(self, mark: int) -> dict[str, Any]:
        """Percentiles of the app's own request timings (the JSON log) logged since `mark`.

        wrk corrects its latencies for coordinated omission: a response slower than the mean
        interval between requests on a connection adds samples for the requests that
        connection would have sent meanwhile. In the mix, a few PDFs of several seconds
        therefore fill wrk's upper percentiles; the server's own figures show the rest.
        """
        with self.log_path.open("rb") as log:
            log.seek(mark)
            lines = log.read().splitlines()
        times, workers = [], collections.Counter()
        for line in lines:
            try:
                entry = json.loads(line)
                times.append(float(entry["duration_ms"]))
            except (ValueError, KeyError, TypeError):
                continue
            workers[entry.get("worker")] += 1
        if len(times) < 2:
            return {}
        cuts = statistics.quantiles(times, n=100)
        return {
            "server_p50_ms": round(cuts[49], 1),
            "server_p99_ms": round(cuts[98], 1),
            # How evenly the connections spread: one worker doing it all halves throughput.
            "requests_per_worker": sorted(workers.values(), reverse=True),
        }

    def workers(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()

    def settle(self, idle: float = 0.05, limit: float = 30.0) -> None:
        """Wait until the app uses under `idle` of a core: wrk stops sending when a run
        ends, but a PDF it asked for goes on being laid out, and would take a core from the
        next scenario's first seconds."""
        deadline = time.monotonic() + limit
        before = CpuMeter.total(self.processes())
        while time.monotonic() < deadline:
            time.sleep(0.5)
            after = CpuMeter.total(self.processes())
            if after - before < idle * 0.5:
                return
            before = after

    def processes(self) -> list[psutil.Process]:
        """The workers and the processes they start (PDF layout): all the app's CPU and memory."""
        return psutil.Process(self.process.pid).children(recursive=True)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


class EditorForm(html.parser.HTMLParser):
    """The assumption editor's fields as the browser posts them (the form `#editor`)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self._inside = found.get("id") == "editor"
        elif tag == "input" and self._inside and found.get("name"):
            self.fields[str(found["name"])] = found.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._inside = False


def cookies(opener: urllib.request.OpenerDirector) -> http.cookiejar.CookieJar:
    """The cookie jar of an opener made by `app.server.logged_in`."""
    return next(
        h.cookiejar for h in opener.handlers if isinstance(h, urllib.request.HTTPCookieProcessor)
    )


def multipart(filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = "dealbook" + secrets.token_hex(8)
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/json\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def scenarios(base: str, url: str) -> tuple[list[Scenario], dict[str, str]]:
    """The six request kinds, logged in as an analyst on the seeded deal's team, and the
    recompute form (sent with a different WACC each time, so no two previews are alike)."""
    opener, csrf = logged_in(base, USER)
    jar = {c.name: c.value for c in cookies(opener)}
    cookie = f"{SESSION_COOKIE}={jar[SESSION_COOKIE]}; {COOKIE}={jar.get(COOKIE, '')}"
    page = opener.open(f"{base}/deals/{SLUG}").read().decode()
    parser = EditorForm()
    parser.feed(page)
    form = parser.fields
    if WACC_FIELD not in form:
        sys.exit(f"the deal page has no editor field {WACC_FIELD}: not logged in as an analyst?")
    bearer = {"Authorization": f"Bearer {api_token(url)}"}
    seed = json.loads((SEED_DIR / f"{SLUG}.assumptions.json").read_text())
    seed["target"]["cost_of_capital"]["wacc"] = 0.105  # an upload that changes something
    upload, upload_type = multipart("assumptions.json", json.dumps(seed).encode())
    page_headers = {"Cookie": cookie}
    post_headers = page_headers | {
        HEADER: csrf,
        "HX-Request": "true",
        "Origin": base,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    found = [
        Scenario("deal_list", "/", 'id="deal-results"', headers=page_headers),
        Scenario(
            "deal_page",
            f"/deals/{SLUG}",
            'id="editor"',
            headers=page_headers,
            target=(300, 100),
        ),
        Scenario(
            "recompute",
            f"/deals/{SLUG}/preview",
            "editor-status unsaved",
            method="POST",
            headers=post_headers,
            body=urllib.parse.urlencode(
                {k: v for k, v in form.items() if k != WACC_FIELD}
            ).encode(),
            connections=8,
            target=(100, 150),
        ),
        Scenario(
            "calculator_api",
            "/api/v1/calc/dcf",
            '"value_per_share"',
            method="POST",
            headers=bearer | {"Content-Type": "application/json"},
            body=json.dumps(CALC_BODY).encode(),
        ),
        Scenario(
            "upload_preview_api",
            f"/api/v1/deals/{SLUG}/assumptions",
            '"after"',
            method="POST",
            headers=bearer | {"Content-Type": upload_type},
            body=upload,
            connections=8,
        ),
        Scenario(
            "pdf_report", f"/deals/{SLUG}/report.pdf", "%PDF-", headers=page_headers, connections=2
        ),
    ]
    return found, form


LUA = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

function init(args)
  bad_status, bad_body, counter = 0, 0, 0
  for _, k in ipairs(kinds) do
    k.body = k.body_file and slurp(k.body_file) or nil
    if not k.wacc then k.raw = wrk.format(k.method, k.path, k.headers, k.body) end
  end
end

function request()
  counter = counter + 1
  local k = kinds[order[(counter - 1) % #order + 1]]
  if k.wacc then  -- a new WACC every time: each preview values different inputs
    local wacc = string.format("%.5f", 0.09 + (counter % 2000) * 0.00001)
    return wrk.format(k.method, k.path, k.headers, k.body .. "&" .. k.wacc .. "=" .. wacc)
  end
  return k.raw
end

function response(status, headers, body)
  if status < 200 or status > 299 then
    bad_status = bad_status + 1
    return
  end
  for _, k in ipairs(kinds) do
    if string.find(body, k.marker, 1, true) then return end
  end
  bad_body = bad_body + 1
end

function done(summary, latency, requests)
  local status, body = 0, 0
  for _, t in ipairs(threads) do
    status = status + t:get("bad_status")
    body = body + t:get("bad_body")
  end
  local e = summary.errors
  io.write(string.format(
    'LOADTEST {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, ' ..
    '"p99_us": %d, "max_us": %d, "socket_errors": %d, "timeouts": %d, "non_2xx": %d, ' ..
    '"wrong_body": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect + e.read + e.write + e.timeout, e.timeout,
    status, body))
end
"""


def lua_string(text: str) -> str:
    """A Lua string literal of any text (every byte outside plain ASCII as a decimal escape)."""
    safe = (
        chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else f"\\{b:03d}" for b in text.encode()
    )
    return '"' + "".join(safe) + '"'


def lua_script(mix: list[tuple[Scenario, int]], host: str, folder: Path) -> Path:
    """The wrk script of a weighted mix (one scenario: weight 1): the request kinds, and a
    shuffled sequence of them in proportion to their weights."""
    kinds = []
    for i, (scenario, _) in enumerate(mix):
        headers = scenario.headers | {"Host": host}
        entries = [
            f"method = {lua_string(scenario.method)}",
            f"path = {lua_string(scenario.path)}",
            f"marker = {lua_string(scenario.marker)}",
            "headers = {"
            + ", ".join(f"[{lua_string(k)}] = {lua_string(v)}" for k, v in headers.items())
            + "}",
        ]
        if scenario.body is not None:
            body_file = folder / f"body-{scenario.name}-{i}"
            body_file.write_bytes(scenario.body)
            entries.append(f"body_file = {lua_string(str(body_file))}")
        if scenario.name == "recompute":
            entries.append(f"wacc = {lua_string(WACC_FIELD)}")
        kinds.append("{" + ", ".join(entries) + "}")
    order = [i + 1 for i, (_, weight) in enumerate(mix) for _ in range(weight)]
    random.Random(8).shuffle(order)
    path = folder / f"{'-'.join(s.name for s, _ in mix)[:80]}.lua"
    path.write_text(
        "kinds = {\n  " + ",\n  ".join(kinds) + "\n}\n"
        f"order = {{{', '.join(map(str, order))}}}\n" + LUA
    )
    return path


class CpuMeter:
    """CPU seconds used while a scenario ran: the app's workers, our database's backends,
    wrk (a reaped child), and the whole machine (the rest is other people's work)."""

    def __init__(self, server: Server, url: str) -> None:
        self.server = server
        self.database = make_url(url).database
        self.admin = make_url(url).set(drivername="postgresql", database="postgres")

    def _backends(self) -> list[psutil.Process]:
        dsn = self.admin.render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self.database,)
            ).fetchall()
        return [psutil.Process(pid) for (pid,) in rows if psutil.pid_exists(pid)]

    @staticmethod
    def total(processes: list[psutil.Process]) -> float:
        return sum(CpuMeter._cpu(processes).values())

    @staticmethod
    def _cpu(processes: list[psutil.Process]) -> dict[int, float]:
        out = {}
        for p in processes:
            try:
                times = p.cpu_times()
            except psutil.Error:
                continue
            out[p.pid] = times.user + times.system
        return out

    def sample(self) -> dict[str, Any]:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        machine = psutil.cpu_times()
        return {
            "app": self._cpu(self.server.processes()),
            "db": self._cpu(self._backends()),
            "wrk": children.ru_utime + children.ru_stime,
            "busy": machine.user + machine.system + machine.nice + machine.irq + machine.softirq,
            "wall": time.monotonic(),
        }

    @staticmethod
    def delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, float]:
        def used(kind: str) -> float:
            return sum(v - before[kind].get(pid, 0.0) for pid, v in after[kind].items())

        wall = after["wall"] - before["wall"]
        app, db, wrk = used("app"), used("db"), after["wrk"] - before["wrk"]
        busy = after["busy"] - before["busy"]
        return {
            "app": app,
            "db": db,
            "wrk": wrk,
            "others": max(0.0, busy - app - db - wrk),
            "wall": wall,
        }


def run_wrk(
    wrk: str, script: Path, base: str, connections: int, seconds: float, threads: int
) -> dict[str, Any]:
    command = [
        wrk,
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(script),
        base,
    ]
    out = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in out.stdout.splitlines() if line.startswith("LOADTEST ")]
    if not lines:
        sys.exit(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    return json.loads(lines[-1].removeprefix("LOADTEST "))


def report(
    name: str,
    figures: dict[str, Any],
    cpu: dict[str, float],
    connections: int,
    target: tuple[float, float] | None,
    **extra: Any,
) -> dict[str, Any]:
    """Print one scenario's JSON line: the issue's figures first, then where the CPU went."""
    requests = figures["requests"]
    duration = figures["duration_us"] / 1e6
    errors = figures["socket_errors"] + figures["non_2xx"] + figures["wrong_body"]
    line: dict[str, Any] = {
        "scenario": name,
        "requests_per_s": round(requests / duration, 1),
        "p50_ms": round(figures["p50_us"] / 1000, 1),
        "p95_ms": round(figures["p95_us"] / 1000, 1),
        "p99_ms": round(figures["p99_us"] / 1000, 1),
        "errors": errors,
        "connections": connections,
        "duration_s": round(duration, 1),
    }
    if target is not None:
        rate, p99 = target
        line["target"] = f">= {rate:g} req/s at p99 <= {p99:g} ms, 0 errors"
        line["met"] = line["requests_per_s"] >= rate and line["p99_ms"] <= p99 and errors == 0
    per_request = max(requests, 1)
    line |= {
        **extra,
        "requests": requests,
        "max_ms": round(figures["max_us"] / 1000, 1),
        "non_2xx": figures["non_2xx"],
        "wrong_body": figures["wrong_body"],
        "socket_errors": figures["socket_errors"],
        "app_cpu_ms_per_request": round(cpu["app"] * 1000 / per_request, 2),
        "db_cpu_ms_per_request": round(cpu["db"] * 1000 / per_request, 2),
        "wrk_cpu_cores": round(cpu["wrk"] / cpu["wall"], 2),
        "other_cpu_cores": round(cpu["others"] / cpu["wall"], 2),
    }
    print(json.dumps(line), flush=True)
    return line


MIX = {
    "deal_page": 400,
    "deal_list": 200,
    "recompute": 200,
    "calculator_api": 120,
    "upload_preview_api": 79,
    "pdf_report": 1,
}
"""The mixed workload, per 1,000 requests: mostly reading and editing, a PDF now and then."""
MIXED_CONNECTIONS = 16
"""The mix and the soak press harder than one scenario: eight requests per worker."""


def spot_check(base: str, scenario: Scenario) -> None:
    """One request of the kind before its run: the real answer, not a login page or a 403."""
    body = scenario.body
    if scenario.name == "recompute":
        body = (body or b"") + f"&{WACC_FIELD}=0.095".encode()
    request = urllib.request.Request(
        base + scenario.path, data=body, headers=scenario.headers, method=scenario.method
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, text = response.status, response.read()
            final = response.url
    except urllib.error.HTTPError as exc:
        status, text, final = exc.code, exc.read(), base + scenario.path
    if status != 200 or scenario.marker.encode() not in text or final != base + scenario.path:
        sys.exit(f"{scenario.name}: {status} from {final}, not the real answer:\n{text[:500]!r}")


def rss(server: Server) -> list[int]:
    out = []
    for worker in server.processes():
        try:
            out.append(worker.memory_info().rss)
        except psutil.Error:
            continue
    return out


def soak(
    wrk: str,
    script: Path,
    server: Server,
    meter: CpuMeter,
    seconds: float,
    connections: int,
    threads: int,
) -> None:
    """The mix for `seconds`, sampling the workers' resident memory every few seconds.

    Growth compares the median of the last three samples with that of the first three taken
    after a warm-up tenth of the run (the earlier scenarios have already loaded and cached
    everything a worker keeps), so one sample taken mid-PDF does not decide it.
    """
    pids = sorted(p.pid for p in server.workers())
    result: dict[str, Any] = {}
    before, mark = meter.sample(), server.log_mark()
    runner = threading.Thread(
        target=lambda: result.update(
            run_wrk(wrk, script, server.base, connections, seconds, threads)
        )
    )
    started = time.monotonic()
    runner.start()
    samples: list[tuple[float, int]] = []
    every = max(1.0, seconds / 60)
    while runner.is_alive():
        samples.append((time.monotonic() - started, sum(rss(server))))
        runner.join(timeout=every)
    after = meter.sample()
    warm = [mb for t, mb in samples if t >= seconds / 10] or [mb for _, mb in samples]
    first, last = statistics.median(warm[:3]), statistics.median(warm[-3:])
    growth = (last - first) / first * 100
    report(
        "soak",
        result,
        CpuMeter.delta(before, after),
        connections,
        None,
        memory_target="growth < 5%",
        memory_met=growth < 5,
        rss_start_mb=round(first / 2**20, 1),
        rss_end_mb=round(last / 2**20, 1),
        rss_peak_mb=round(max(mb for _, mb in samples) / 2**20, 1),
        rss_growth_pct=round(growth, 2),
        workers_restarted=sorted(p.pid for p in server.workers()) != pids,
        mix=MIX,
        **server.server_latency(mark),
    )


def main(argv: list[str] | None = None) -> int:
    """Every scenario, the mix and the soak, or a short smoke run (--quick)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        default=bool(os.environ.get("LOADTEST_QUICK")),
        help="a smoke run: 3 s per scenario, a 15 s soak",
    )
    parser.add_argument("--duration", type=float, help="seconds per scenario (default 20)")
    parser.add_argument("--soak", type=float, help="seconds of soak (default 300)")
    parser.add_argument("--only", help="comma-separated scenarios (and 'mixed', 'soak')")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    args = parser.parse_args(argv)
    seconds = args.duration or (3 if args.quick else 20)
    soak_seconds = args.soak if args.soak is not None else (15 if args.quick else 300)
    warm_up = 1 if args.quick else 3
    wanted = set(args.only.split(",")) if args.only else None

    wrk = ensure_wrk()
    url = os.environ.get("LOADTEST_DATABASE_URL", DEFAULT_URL)
    fresh_database(url)
    prepare(url, {USER: Role.ANALYST})
    folder = ROOT / "var" / "loadtest"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"server log: {folder / 'server.log'}", file=sys.stderr)
    server = Server(url, folder / "server.log")
    try:
        kinds, _ = scenarios(server.base, url)
        host = f"127.0.0.1:{server.port}"
        meter = CpuMeter(server, url)
        by_name = {s.name: s for s in kinds}
        for scenario in kinds:
            spot_check(server.base, scenario)
        mix = lua_script([(by_name[n], w) for n, w in MIX.items()], host, folder)
        # Both workers fill their caches (rendered sections, editor forms) before anything
        # is timed; each scenario then gets its own warm-up as well.
        run_wrk(wrk, mix, server.base, MIXED_CONNECTIONS, warm_up * 2, args.threads)
        lines = []
        for scenario in kinds:
            if wanted is not None and scenario.name not in wanted:
                continue
            script = lua_script([(scenario, 1)], host, folder)
            server.settle()
            if scenario.name != "pdf_report":  # a PDF takes seconds: a warm-up's would overlap
                run_wrk(wrk, script, server.base, scenario.connections, warm_up, args.threads)
            before, mark = meter.sample(), server.log_mark()
            figures = run_wrk(wrk, script, server.base, scenario.connections, seconds, args.threads)
            lines.append(
                report(
                    scenario.name,
                    figures,
                    CpuMeter.delta(before, meter.sample()),
                    scenario.connections,
                    scenario.target,
                    **server.server_latency(mark),
                )
            )
        if wanted is None or "mixed" in wanted:
            server.settle()
            before, mark = meter.sample(), server.log_mark()
            figures = run_wrk(wrk, mix, server.base, MIXED_CONNECTIONS, seconds * 1.5, args.threads)
            cpu = CpuMeter.delta(before, meter.sample())
            latency = server.server_latency(mark)
            lines.append(report("mixed", figures, cpu, MIXED_CONNECTIONS, None, mix=MIX, **latency))
        if wanted is None or "soak" in wanted:
            server.settle()
            soak(wrk, mix, server, meter, soak_seconds, MIXED_CONNECTIONS, args.threads)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
