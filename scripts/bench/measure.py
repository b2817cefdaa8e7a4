"""Measure the benchmark pages against a running gunicorn and print a summary table.

    python scripts/bench/measure.py http://127.0.0.1:PORT GUNICORN_PID

Run by scripts/bench/run with the same environment as gunicorn (production settings,
the bench database, the same SECRET_KEY), so the sessions made here are valid there.

For each page, first in this process with Django's test Client: the SQL queries of one
warm request (CaptureQueriesContext, which records queries whatever DEBUG says), their
total time, each one's EXPLAIN ANALYZE, and the median time of a single request. Then
over HTTP with wrk: requests per second and latency percentiles (50/95/99), and the CPU
time the gunicorn workers and their PostgreSQL backends spent per request (read from
/proc, so it holds even when other work shares the machine). A page that misses the
target gets the plans of its slowest queries printed for investigation.

Tunable with BENCH_DURATION (seconds per page, 15), BENCH_CONNECTIONS (16),
BENCH_THREADS (2) and BENCH_OUT_DIR (where wrk's own reports are kept).
"""

import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import time
import timeit
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from groups.models import Membership, MembershipStatus, Role  # noqa: E402
from members.models import User  # noqa: E402
from sessions.models import Meeting, MeetingStatus  # noqa: E402

TARGET_RPS = 150
TARGET_P95_MS = 100
DURATION = int(os.environ.get("BENCH_DURATION", "15"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
WARMUP_SECONDS = 3
TIMEOUT_SECONDS = 10
SINGLE_REQUESTS = 15  # timed one after the other in this process
OUT_DIR = Path(os.environ.get("BENCH_OUT_DIR", PROJECT_DIR / "var" / "bench"))
LUA_SCRIPT = Path(__file__).with_name("percentiles.lua")


@dataclass
class Page:
    name: str
    path: str
    viewer: User
    cookie: str = ""
    queries: int = 0
    sql_ms: float = 0.0
    single_ms: float = 0.0
    plans: list[tuple[float, str]] = field(default_factory=list)  # (ms, SQL), slowest first
    wrk: dict[str, float] = field(default_factory=dict)
    app_cpu_ms: float = 0.0  # gunicorn workers' CPU time per request
    reference: bool = False  # measured to show the framework's floor, not held to the target
    db_cpu_ms: float = 0.0  # their PostgreSQL backends' CPU time per request

    @property
    def cpu_bound_rps(self) -> float:
        """Requests per second this machine's cores could serve if nothing else ran."""
        return os.cpu_count() * 1000 / (self.app_cpu_ms + self.db_cpu_ms)

    @property
    def meets_target(self) -> bool:
        return (
            self.wrk["rps"] >= TARGET_RPS
            and self.wrk["p95"] < TARGET_P95_MS
            and self.wrk["non2xx"] == 0
            and self.wrk["socket_errors"] == 0
        )


def pick_pages() -> list[Page]:
    """A member in three groups; their first group, its next and last meetings, its facilitator."""
    active = Q(memberships__status=MembershipStatus.ACTIVE, memberships__role=Role.MEMBER)
    member = (
        User.objects.annotate(group_count=Count("memberships", filter=active))
        .filter(group_count=3)
        .order_by("pk")
        .first()
    )
    if member is None:
        sys.exit("No member in three groups: is the bench database seeded?")
    group = (
        Membership.objects.filter(user=member, status=MembershipStatus.ACTIVE)
        .select_related("group")
        .order_by("group_id")
        .first()
        .group
    )
    facilitator = Membership.objects.get(
        group=group, role=Role.FACILITATOR, status=MembershipStatus.ACTIVE
    ).user
    now = timezone.now()
    meetings = Meeting.objects.filter(group=group, status=MeetingStatus.SCHEDULED)
    coming = meetings.filter(starts_at__gt=now).order_by("starts_at")
    upcoming = coming.filter(rsvps__user=member).first() or coming.first()  # one they answered
    last_held = meetings.filter(ends_at__lt=now).order_by("-starts_at").first()
    return [
        Page("group page", reverse("groups:detail", args=[group.slug]), member),
        Page("meeting page", reverse("meetings:detail", args=[upcoming.pk]), member),
        Page("my meetings", reverse("meetings:mine"), member),
        Page("attendance", reverse("meetings:attendance", args=[last_held.pk]), facilitator),
        # Fixed text in the base layout, signed in: what every page costs before its own work.
        Page("privacy (ref)", reverse("privacy"), member, reference=True),
    ]


def session_cookie(user: User) -> str:
    """Log in as the production login would (cached_db session) and return the session id."""
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def check_over_http(base_url: str, page: Page) -> None:
    """The page must answer 200 to the signed-in viewer, not a redirect or a login form."""
    address = urlsplit(base_url)
    conn = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    conn.request("GET", page.path, headers={"Cookie": cookie_header(page)})
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()
    if response.status != 200 or reverse("account_logout") not in body:
        sys.exit(
            f"{page.name} {page.path} answered {response.status} "
            f"{response.getheader('Location') or ''} to {page.viewer.email}, not a signed-in page."
        )


def cookie_header(page: Page) -> str:
    return f"{settings.SESSION_COOKIE_NAME}={page.cookie}"


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def server_cpu(gunicorn_pid: int) -> tuple[dict[int, float], dict[int, float]]:
    """CPU seconds so far of each gunicorn worker and of each PostgreSQL backend serving
    the bench database (workers reconnect when CONN_MAX_AGE runs out, so pids change)."""
    workers = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError):
            continue
        if parent == gunicorn_pid:
            workers.append(int(stat.parent.name))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        backends = [row[0] for row in cursor.fetchall()]
    return {pid: cpu_seconds(pid) for pid in workers}, {pid: cpu_seconds(pid) for pid in backends}


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent in between by the processes alive at the end (new ones in full)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def explain_ms(sql: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
    return plan["Planning Time"] + plan["Execution Time"]


def explain_text(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


def measure_in_process(host: str, page: Page) -> None:
    client = Client(HTTP_HOST=host)
    client.cookies[settings.SESSION_COOKIE_NAME] = page.cookie
    client.get(page.path)  # warm: session cache, translations, template loaders
    with CaptureQueriesContext(connection) as captured:
        response = client.get(page.path)
    if response.status_code != 200:
        sys.exit(f"{page.name} answered {response.status_code} in process.")
    page.queries = len(captured)
    page.sql_ms = sum(float(query["time"]) for query in captured.captured_queries) * 1000
    selects = [q["sql"] for q in captured.captured_queries if q["sql"].startswith("SELECT")]
    page.plans = sorted(((explain_ms(sql), sql) for sql in selects), reverse=True)
    timings = []
    for _ in range(SINGLE_REQUESTS):
        started = time.perf_counter()
        client.get(page.path)
        timings.append((time.perf_counter() - started) * 1000)
    page.single_ms = statistics.median(timings)


def run_wrk(
    url: str, page: Page, seconds: int, connections: int, threads: int
) -> tuple[str, dict[str, float]]:
    """wrk's own report, and the figures of the line percentiles.lua prints."""
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        f"--timeout={TIMEOUT_SECONDS}s",  # slow answers count in the percentiles, not as errors
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        "-H",
        f"Cookie: {cookie_header(page)}",
        url,
    ]
    # A fixed argument list, no shell: the URL and cookie are this script's own.
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout  # noqa: S603
    match = re.search(r"^BENCH (.*)$", output, re.MULTILINE)
    if match is None:
        sys.exit(f"wrk printed no summary for {url}:\n{output}")
    return output, {key: float(value) for key, value in re.findall(r"(\w+)=([\d.]+)", match[1])}


def print_table(pages: list[Page]) -> None:
    header = (
        f"{'page':<13} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'queries':>7} "
        f"{'SQL ms':>6} {'1 req ms':>8} {'app CPU':>7} {'DB CPU':>6} {'ceiling':>7}  target"
    )
    print(header)
    print("-" * len(header))
    for page in pages:
        print(
            f"{page.name:<13} {page.wrk['rps']:>6.1f} {page.wrk['p50']:>7.1f} "
            f"{page.wrk['p95']:>7.1f} {page.wrk['p99']:>7.1f} {page.queries:>7} "
            f"{page.sql_ms:>6.1f} {page.single_ms:>8.1f} {page.app_cpu_ms:>7.1f} "
            f"{page.db_cpu_ms:>6.1f} {page.cpu_bound_rps:>7.0f}  "
            f"{'-' if page.reference else 'met' if page.meets_target else 'MISSED'}"
        )
    print(
        f"""
target: >= {TARGET_RPS} req/s and p95 < {TARGET_P95_MS} ms with no errors, under wrk -t{THREADS} \
-c{CONNECTIONS} -d{DURATION}s.
queries, SQL ms: one warm request (CaptureQueriesContext); 1 req ms: median of \
{SINGLE_REQUESTS} requests one at a time, in process.
app CPU, DB CPU: ms of CPU per request in the gunicorn workers and their PostgreSQL \
backends during the wrk run; ceiling: req/s that {os.cpu_count()} idle cores could serve \
at that cost (wrk's own CPU not counted).
With {CONNECTIONS} connections always waiting on an answer, mean latency is about \
{CONNECTIONS} / req/s (Little's law): p95 < {TARGET_P95_MS} ms at -c{CONNECTIONS} needs \
well over {CONNECTIONS * 1000 // TARGET_P95_MS} req/s.
privacy (ref): a page of fixed text in the base layout, signed in (session, user, roles,
navigation): the floor under every page, shown for reference and held to no target.
This machine's Python speed: {python_speed()}."""
    )


def python_speed() -> str:
    """A fixed piece of pure Python, to compare figures taken on different machines."""
    timer = timeit.Timer("sum(range(1000))")
    loops, _ = timer.autorange()
    best = min(timer.repeat(repeat=5, number=loops)) / loops
    return f"sum(range(1000)) takes {best * 1e6:.1f} µs"


def load() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> None:
    base_url = sys.argv[1].rstrip("/")
    gunicorn_pid = int(sys.argv[2])
    host = urlsplit(base_url).hostname
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    pages = pick_pages()
    cookies = {user.pk: session_cookie(user) for user in {page.viewer for page in pages}}
    print(f"== Session cookie {settings.SESSION_COOKIE_NAME!r} ({settings.SESSION_ENGINE})")
    for page in pages:
        page.cookie = cookies[page.viewer.pk]
        print(f"  {page.name:<14} {page.path:<36} as {page.viewer.email}")

    print("\n== Queries per page (one warm request, in process) and the slowest of them")
    for page in pages:
        check_over_http(base_url, page)
        measure_in_process(host, page)
        slowest_ms, slowest_sql = page.plans[0]
        print(
            f"  {page.name:<14} {page.queries:>3} queries, {page.sql_ms:6.1f} ms SQL; "
            f"slowest {slowest_ms:6.2f} ms (EXPLAIN ANALYZE): {slowest_sql[:90]}..."
        )

    print(
        f"\n== wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s per page "
        f"(after a {WARMUP_SECONDS}s warm-up); before: {load()}"
    )
    for page in pages:
        url = base_url + page.path
        run_wrk(url, page, WARMUP_SECONDS, CONNECTIONS, THREADS)
        app_before, db_before = server_cpu(gunicorn_pid)
        output, page.wrk = run_wrk(url, page, DURATION, CONNECTIONS, THREADS)
        app_after, db_after = server_cpu(gunicorn_pid)
        requests = max(page.wrk["requests"], 1)
        page.app_cpu_ms = cpu_used(app_before, app_after) * 1000 / requests
        page.db_cpu_ms = cpu_used(db_before, db_after) * 1000 / requests
        report = OUT_DIR / f"wrk-{page.name.replace(' ', '-')}.txt"
        report.write_text(output)
        print(
            f"  {page.name:<14} {page.wrk['rps']:7.1f} req/s  p50 {page.wrk['p50']:6.1f} ms  "
            f"p95 {page.wrk['p95']:6.1f} ms  p99 {page.wrk['p99']:6.1f} ms  "
            f"({page.wrk['requests']:.0f} requests, {page.wrk['non2xx']:.0f} non-2xx/3xx, "
            f"{page.wrk['socket_errors']:.0f} socket errors); CPU per request: "
            f"app {page.app_cpu_ms:.1f} ms, DB {page.db_cpu_ms:.1f} ms; {load()}",
            flush=True,
        )

    missed = [page for page in pages if not page.reference and not page.meets_target]
    for page in missed:
        print(f"\n== {page.name} missed the target: its slowest queries, EXPLAIN ANALYZE")
        for ms, sql in page.plans[:2]:
            print(f"\n-- {ms:.2f} ms\n{sql}\n{explain_text(sql)}")

    print("\n== Summary")
    print_table(pages)


if __name__ == "__main__":
    main()
