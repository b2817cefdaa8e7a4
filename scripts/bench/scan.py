"""Benchmark of the reminder scan: 100,000 members with four meetings a month each.

Seeds its own database (peersupport_scan_bench) with bulk SQL, then times the scan for
the busiest minute there can be: every member has a meeting tomorrow and everyone's
day-before reminder falls due at 18:00 in the same time zone. Prints the scan time,
rows created per second, the query count, and the time of a repeated (idempotent) scan.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/peersupport_scan_bench \\
        python scripts/bench/scan.py
"""

import os
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django  # noqa: E402

django.setup()

import bench_database  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from sessions.notifications import scan_reminders  # noqa: E402

MEMBERS = 100_000
GROUP_SIZE = 40
MEETINGS_PER_MONTH = 4
ZONE = ZoneInfo("Europe/Rome")


def recreate_database() -> None:
    bench_database.recreate(settings.DATABASES["default"]["NAME"])
    call_command("migrate", verbosity=0)


def seed(tomorrow_local: datetime) -> None:
    groups = MEMBERS // GROUP_SIZE
    first_meeting = tomorrow_local - timedelta(weeks=1)
    steps = [
        (
            """INSERT INTO members_user (password, is_superuser, email, display_name,
                   full_name, time_zone, language, is_staff, is_active, date_joined)
               SELECT '!', false, 'scan' || n || '@bench.example.org', 'Member ' || n, '',
                      'Europe/Rome', 'en', false, true, now()
               FROM generate_series(1, %(members)s) AS n""",
            {"members": MEMBERS},
        ),
        (
            """INSERT INTO groups_supportgroup (name, slug, summary, description, topic,
                   audience, format, language, city, region, country, time_zone, visibility,
                   join_policy, status, contact_email, video_link_policy, created_at,
                   updated_at)
               SELECT 'Scan group ' || n, 'scan-group-' || n, 'Benchmark group', '',
                      'diabetes', 'patients', 'online', 'en', '', '', 'IT', 'Europe/Rome',
                      'listed', 'open', 'active', '', 'around-meeting', now(), now()
               FROM generate_series(1, %(groups)s) AS n""",
            {"groups": groups},
        ),
        (
            """INSERT INTO groups_membership (group_id, user_id, role, status, request_message,
                   decision_reason, requested_at, joined_at, contact_shared, updated_at)
               SELECT g.id, u.id, 'member', 'active', '', '', now(), now(), false, now()
               FROM members_user u
               JOIN groups_supportgroup g
                 ON g.slug = 'scan-group-' || (((u.id - 1) / %(size)s) + 1)""",
            {"size": GROUP_SIZE},
        ),
        (
            """INSERT INTO meetings_meeting (group_id, uid, title, starts_at, ends_at,
                   time_zone, status, cancel_reason, is_exception, sequence, guest_count,
                   facilitator_note, format, venue_name, address, address_visibility,
                   step_free, access_notes, video_url, dial_in, online_notes, created_at,
                   updated_at)
               SELECT g.id, gen_random_uuid(), '', %(first)s + (w * interval '7 days'),
                      %(first)s + (w * interval '7 days') + interval '90 minutes',
                      'Europe/Rome', 'scheduled', '', false, 0, 0, '', 'online', '', '',
                      'members', false, '', 'https://video.example.org/bench', '', '',
                      now(), now()
               FROM groups_supportgroup g CROSS JOIN generate_series(0, %(count)s - 1) AS w""",
            {"first": first_meeting, "count": MEETINGS_PER_MONTH},
        ),
        (
            """INSERT INTO meetings_rsvp (meeting_id, user_id, response, status,
                   responded_at, updated_at)
               SELECT m.id, ms.user_id, 'going', 'confirmed', now(), now()
               FROM meetings_meeting m JOIN groups_membership ms ON ms.group_id = m.group_id""",
            {},
        ),
    ]
    with connection.cursor() as cursor:
        for sql, params in steps:
            cursor.execute(sql, params)
        cursor.execute("ANALYZE")


def main() -> None:
    now_local = datetime.now(ZONE)
    busy_minute = now_local.replace(hour=18, minute=0, second=0, microsecond=0)
    tomorrow_meeting = (busy_minute + timedelta(days=1)).replace(hour=19)
    started = time.perf_counter()
    recreate_database()
    seed(tomorrow_meeting)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM meetings_rsvp")
        rsvps = cursor.fetchone()[0]
    print(f"seeded {MEMBERS:,} members, {rsvps:,} RSVPs in {time.perf_counter() - started:.1f} s")

    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        created = scan_reminders(busy_minute)
        elapsed = time.perf_counter() - started
    print(
        f"busy-minute scan: {created:,} reminders created in {elapsed:.2f} s "
        f"({created / elapsed:,.0f} rows/s), {len(captured.captured_queries)} query"
    )
    started = time.perf_counter()
    again = scan_reminders(busy_minute)
    print(f"same minute again: {again} rows in {time.perf_counter() - started:.2f} s")
    started = time.perf_counter()
    quiet = scan_reminders(busy_minute + timedelta(minutes=10))
    print(f"ten minutes later: {quiet} rows in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
