"""Time the coordinator reports on a programme with a million attendance marks.

    .venv/bin/python scripts/bench/reports.py [DATABASE_URL] [--reseed] [--runs N]

DATABASE_URL defaults to postgres://postgres@127.0.0.1:5432/peersupport_reports_bench; the
database's name must end in "_bench". It is created, migrated and seeded in bulk SQL
(INSERT ... SELECT over generate_series) when missing, when its seed is older than a week
or with --reseed; otherwise it is reused. Then every report page and export is rendered
in this process as a signed-in coordinator with two-factor authentication (the view, its
queries, the template or the spreadsheet; no HTTP and no middleware), once to warm up and
N times (5) measured, and the median server time and database time are printed.

Shape: 1,000 groups in three time zones, 30,000 members in one to three groups each
(joined over the past two years), a facilitator per group, a weekly meeting per group for
104 weeks back and 4 ahead (1 in 50 cancelled, up to 3 walk-in guests), and 1,000,000
attendance marks at past meetings (about ten a meeting: 70% present, 10% late, 10% absent,
10% excused) with an RSVP for most of them. The rows go in with triggers off; the
reports' tables (outcomes.models) are then counted from them in one statement each.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

PROJECT_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_DIR))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/peersupport_reports_bench"

GROUPS = 1_000
MEMBERS = 30_000
WEEKS_BACK = 104
WEEKS_AHEAD = 4
ATTENDANCE = 1_000_000
TIME_ZONES = ["Europe/Rome", "Europe/London", "America/New_York"]
CITIES = ["Milano", "Roma", "Torino", "Napoli", "Bologna", "London", "New York", "Madrid"]
MARKER = f"groups={GROUPS} members={MEMBERS} attendance={ATTENDANCE} v2"

# One statement each; %(name)s are parameters.
SEED_STEPS = [
    (
        "people",
        """
        INSERT INTO members_user (id, password, last_login, is_superuser, email, display_name,
            full_name, time_zone, language, is_staff, is_active, date_joined)
        SELECT n, '!bench', NULL, false, 'person' || n || '@reports-bench.example.org',
            'Person ' || n, '', (%(time_zones)s::text[])[1 + mod(n, 3)], 'en', false, true,
            %(now)s - interval '800 days'
        FROM generate_series(1, %(members)s + %(groups)s + 1) AS n
        """,
    ),
    (
        "groups",
        """
        INSERT INTO groups_supportgroup (id, name, slug, summary, description, topic, audience,
            format, language, city, region, country, time_zone, visibility, join_policy,
            capacity, status, contact_email, created_at, updated_at, video_link_policy)
        SELECT g, 'Report bench group ' || g, 'report-bench-' || g,
            'A group of the reports benchmark.', '',
            (%(topics)s::text[])[1 + mod(g, %(topic_count)s)], 'both',
            (%(formats)s::text[])[1 + mod(g, 3)], 'en',
            (%(cities)s::text[])[1 + mod(g, 8)], '', 'IT',
            (%(time_zones)s::text[])[1 + mod(g, 3)], 'listed', 'open', NULL,
            CASE WHEN mod(g, 40) = 0 THEN 'paused' ELSE 'active' END, '',
            %(now)s - interval '900 days', %(now)s - interval '900 days', 'around-meeting'
        FROM generate_series(1, %(groups)s) AS g
        """,
    ),
    (
        "memberships",
        # Member n joins group 1 + (7n + shift) mod groups, one to three times.
        """
        INSERT INTO groups_membership (role, status, request_message, decision_reason,
            requested_at, waitlisted_at, joined_at, ended_at, accepted_conduct_at,
            contact_shared, updated_at, accepted_conduct_id, user_id, group_id)
        SELECT 'member', CASE WHEN mod(n, 9) = 0 THEN 'left' ELSE 'active' END, '', '',
            joined, NULL::timestamptz, joined, NULL::timestamptz, NULL::timestamptz, false,
            joined, NULL::bigint, n, grp
        FROM generate_series(1, %(members)s) AS n
        CROSS JOIN (VALUES (0, 0), (1, 337), (2, 711)) AS extra (i, shift)
        CROSS JOIN LATERAL (
            SELECT 1 + mod(n * 7 + shift, %(groups)s) AS grp,
                %(now)s - mod(n * 13 + shift, 728) * interval '1 day' AS joined
        ) AS picked
        WHERE extra.i <= mod(n, 3)
        UNION ALL
        SELECT 'facilitator', 'active', '', '', g.created_at, NULL, g.created_at, NULL, NULL,
            true, g.created_at, NULL, %(members)s + g.id, g.id
        FROM groups_supportgroup AS g
        UNION ALL
        SELECT 'member', 'pending', '', '', %(now)s - mod(n, 20) * interval '1 day', NULL,
            NULL, NULL, NULL, false, %(now)s, NULL, n, 1 + mod(n * 7 + 500, %(groups)s)
        FROM generate_series(1, %(members)s, 15) AS n
        """,
    ),
    (
        "meetings",
        """
        INSERT INTO meetings_meeting (format, venue_name, address, address_visibility,
            step_free, access_notes, video_url, dial_in, online_notes, original_start, uid,
            title, starts_at, ends_at, time_zone, capacity, status, cancel_reason,
            is_exception, sequence, guest_count, facilitator_note, attendance_unlocked_until,
            created_at, updated_at, group_id, series_id)
        SELECT g.format, '', '', 'members', false, '', '', '', '', NULL, gen_random_uuid(), '',
            starts, starts + interval '90 minutes', g.time_zone, NULL,
            CASE WHEN mod(g.id * 31 + week, 50) = 0 THEN 'cancelled' ELSE 'scheduled' END, '',
            false, 0, CASE WHEN starts < %(now)s THEN mod(g.id + week + 1000, 4) ELSE 0 END,
            '', NULL,
            g.created_at, g.created_at, g.id, NULL
        FROM groups_supportgroup AS g
        CROSS JOIN generate_series(-%(weeks_back)s, %(weeks_ahead)s - 1) AS week
        CROSS JOIN LATERAL (
            SELECT date_trunc('day', %(now)s) + mod(g.id, 7) * interval '1 day'
                + (9 + mod(g.id, 10)) * interval '1 hour' + week * interval '7 days' AS starts
        ) AS occurrence
        ORDER BY g.id, week
        """,
    ),
    (
        "roster (temporary)",
        """
        CREATE TEMPORARY TABLE bench_roster AS
        SELECT group_id, user_id,
            row_number() OVER (PARTITION BY group_id ORDER BY user_id) - 1 AS rn,
            count(*) OVER (PARTITION BY group_id) AS size
        FROM groups_membership WHERE role = 'member' AND joined_at IS NOT NULL
        """,
    ),
    (
        "attendance",
        # A rotating window of ten of the roster at every past meeting.
        """
        INSERT INTO meetings_attendance (status, marked_at, marked_by_id, user_id, meeting_id)
        SELECT (ARRAY['present', 'present', 'present', 'present', 'present', 'present',
                'present', 'late', 'absent', 'excused'])[1 + mod(r.user_id + m.id, 10)],
            m.ends_at, NULL, r.user_id, m.id
        FROM meetings_meeting AS m
        JOIN bench_roster AS r ON r.group_id = m.group_id
            AND mod(r.rn + r.size - mod(m.id * 7, r.size), r.size) < 10
        WHERE m.status = 'scheduled' AND m.ends_at < %(now)s
        ORDER BY m.id, r.user_id
        LIMIT %(attendance)s
        """,
    ),
    (
        "RSVPs",
        # Most of those marked had said they were going; a few who came had not answered.
        """
        INSERT INTO meetings_rsvp (response, status, waitlisted_at, responded_at, updated_at,
            meeting_id, user_id)
        SELECT 'going', 'confirmed', NULL, a.marked_at - interval '2 days',
            a.marked_at - interval '2 days', a.meeting_id, a.user_id
        FROM meetings_attendance AS a
        WHERE mod(a.user_id + a.meeting_id, 7) <> 0
        """,
    ),
    (
        "coordinator",
        """
        INSERT INTO auth_group (name) VALUES ('Reports bench coordinators');
        INSERT INTO auth_group_permissions (group_id, permission_id)
        SELECT g.id, p.id FROM auth_group AS g, auth_permission AS p
        WHERE g.name = 'Reports bench coordinators' AND p.codename = 'coordinate_programme';
        INSERT INTO members_user_groups (user_id, group_id)
        SELECT %(members)s + %(groups)s + 1, id FROM auth_group
        WHERE name = 'Reports bench coordinators';
        INSERT INTO mfa_authenticator (type, data, user_id, created_at, last_used_at)
        VALUES ('totp', '{"secret": "bench-placeholder"}', %(members)s + %(groups)s + 1,
            %(now)s, NULL)
        """,
    ),
]

RESET_SEQUENCES = ["members_user", "groups_supportgroup"]


def _setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    os.environ.setdefault("SECRET_KEY", "reports-bench-only")
    import django

    django.setup()


def _current(name: str) -> bool:
    import bench_database
    from django.db import connection

    if not bench_database.database_exists(name):
        return False

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('reports_bench_seed') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return False
        cursor.execute(
            "SELECT marker FROM reports_bench_seed WHERE seeded_at > now() - interval '7 days'"
        )
        row = cursor.fetchone()
    return bool(row) and row[0] == MARKER


def _seed() -> None:
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from groups.models import Format, Topic

    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    call_command("createcachetable", verbosity=0)
    print(f"  {'migrate':<24} {'':>12} {time.monotonic() - started:7.1f} s", flush=True)
    params = {
        "now": timezone.now().replace(minute=0, second=0, microsecond=0),
        "members": MEMBERS,
        "groups": GROUPS,
        "weeks_back": WEEKS_BACK,
        "weeks_ahead": WEEKS_AHEAD,
        "attendance": ATTENDANCE,
        "time_zones": TIME_ZONES,
        "cities": CITIES,
        "topics": list(Topic.values),
        "topic_count": len(Topic.values),
        "formats": list(Format.values),
    }
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET session_replication_role = replica")
        for label, sql in SEED_STEPS:
            started = time.monotonic()
            cursor.execute(sql, params)
            rows = f"{cursor.rowcount:>10,}" if cursor.rowcount >= 0 else ""
            print(f"  {label:<24} {rows:>12} {time.monotonic() - started:7.1f} s", flush=True)
        for table in RESET_SEQUENCES:  # names from the constant above
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"  # noqa: S608
            )
        cursor.execute("SET session_replication_role = DEFAULT")
        # The rows above went in with triggers off (replica role): the reports' tables are
        # counted once, in bulk, from them, then vacuumed for index-only scans.
        started = time.monotonic()
        cursor.execute("SELECT outcomes_rebuild_report_tables()")
        print(f"  {'report tables':<24} {'':>12} {time.monotonic() - started:7.1f} s", flush=True)
        started = time.monotonic()
        cursor.execute("VACUUM ANALYZE")
        print(f"  {'VACUUM ANALYZE':<24} {'':>12} {time.monotonic() - started:7.1f} s", flush=True)
        cursor.execute("CREATE TABLE reports_bench_seed (marker text, seeded_at timestamptz)")
        cursor.execute("INSERT INTO reports_bench_seed VALUES (%s, now())", [MARKER])


def _measure(runs: int) -> None:
    from dateutil.relativedelta import relativedelta
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.db import connection
    from django.test import RequestFactory, override_settings
    from django.urls import reverse
    from django.utils import timezone, translation

    from members.models import User
    from outcomes import views

    coordinator = User.objects.get(email__startswith=f"person{MEMBERS + GROUPS + 1}@")
    factory = RequestFactory()
    one_group = "1"
    cases = [
        ("programme overview", views.overview, "reports:overview", None, {}),
        ("  CSV", views.overview, "reports:overview_export", "csv", {}),
        ("  XLSX", views.overview, "reports:overview_export", "xlsx", {}),
        ("attendance, past 6 months", views.attendance, "reports:attendance", None, {}),
        ("  CSV", views.attendance, "reports:attendance_export", "csv", {}),
        ("  XLSX", views.attendance, "reports:attendance_export", "xlsx", {}),
        (
            "attendance, 2 years by month",
            views.attendance,
            "reports:attendance",
            None,
            {"period": "custom", "by": "month", "start": "_2y", "end": "_today"},
        ),
        (
            "attendance, one group + meetings",
            views.attendance,
            "reports:attendance",
            None,
            {"period": "past-12-months", "group": one_group},
        ),
        ("retention, past 12 months", views.retention, "reports:retention", None, {}),
        ("  CSV", views.retention, "reports:retention_export", "csv", {}),
        ("  XLSX", views.retention, "reports:retention_export", "xlsx", {}),
        (
            "retention, 2 years",
            views.retention,
            "reports:retention",
            None,
            {"period": "custom", "start": "_2y", "end": "_today"},
        ),
    ]
    today = timezone.localdate()
    two_years_ago = today - relativedelta(years=2) + timedelta(days=1)
    dates = {"_today": today.isoformat(), "_2y": two_years_ago.isoformat()}

    def run(view, path, fmt, query):
        request = factory.get(path, query)
        request.user = coordinator
        request.session = {}
        request._messages = FallbackStorage(request)
        database = [0.0]

        def timed(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                database[0] += time.perf_counter() - started

        started = time.perf_counter()
        with connection.execute_wrapper(timed):
            response = view(request, **({"fmt": fmt} if fmt else {}))
            if hasattr(response, "render"):
                response.render()
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (path, response.status_code)
        return elapsed, database[0], len(response.content)

    print(f"== Server time, median of {runs} runs after a warm-up (coordinator, all groups)")
    print(f"  {'report':<34} {'total':>9} {'database':>9} {'size':>10}")
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with (
        override_settings(STORAGES=storages, ALLOWED_HOSTS=["testserver"]),
        translation.override("en"),
        timezone.override("Europe/Rome"),
    ):
        for label, view, name, fmt, query in cases:
            query = {key: dates.get(value, value) for key, value in query.items()}
            path = reverse(name, kwargs={"fmt": fmt} if fmt else None)
            run(view, path, fmt, query)
            samples = [run(view, path, fmt, query) for _ in range(runs)]
            total = statistics.median(sample[0] for sample in samples)
            database = statistics.median(sample[1] for sample in samples)
            size = samples[0][2]
            print(
                f"  {label:<34} {total * 1000:7.0f} ms {database * 1000:7.0f} ms {size:>8,} B",
                flush=True,
            )


def _counts() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for label, table in (
            ("groups", "groups_supportgroup"),
            ("memberships", "groups_membership"),
            ("meetings", "meetings_meeting"),
            ("RSVPs", "meetings_rsvp"),
            ("attendance marks", "meetings_attendance"),
        ):
            cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - constant names
            print(f"  {label:<24} {cursor.fetchone()[0]:>12,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url", nargs="?", default=DEFAULT_URL)
    parser.add_argument("--reseed", action="store_true", help="drop and seed even if current")
    parser.add_argument("--runs", type=int, default=5, help="measured runs per report")
    args = parser.parse_args()
    name = urlsplit(args.database_url).path.lstrip("/")
    if not name.endswith("_bench"):
        sys.exit(f"Refusing to seed {name!r}: the benchmark database's name must end in _bench.")
    _setup(args.database_url)
    import bench_database

    if args.reseed or not _current(name):
        print(f"== Creating and seeding {name} ({MARKER})")
        started = time.monotonic()
        bench_database.recreate(name)
        _seed()
        print(f"== Seeded in {time.monotonic() - started:.0f} s")
    else:
        print(f"== Reusing {name} ({MARKER})")
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)
    _counts()
    _measure(args.runs)


if __name__ == "__main__":
    main()
