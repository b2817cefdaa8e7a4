"""Create and seed the benchmark database with a large programme, in bulk SQL.

Run by scripts/bench/run with DATABASE_URL pointing at a database whose name ends in
"_bench". The database is dropped, recreated, migrated and filled with INSERT ... SELECT
over generate_series, then ANALYZEd. A marker row records the size and this file's
digest: when it matches and is less than a week old (meetings are placed around the
seeding day), the database is reused and only new migrations are applied.

    python scripts/bench/seed.py [--reseed]

Shape: 500 groups, 20,000 members in 1-3 groups each, one facilitator per group (with a
TOTP authenticator, as staff pages require), a weekly series per group with a year of
past and a year of upcoming meetings, RSVPs and attendance for past meetings (8-12
people going, a few declining) and RSVPs for upcoming ones (busier in the next 8 weeks).
Every fourth group caps its meetings at 10 places, so some RSVPs are on a waitlist.
"""

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

import django  # noqa: E402

django.setup()

import bench_database  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from groups.models import Audience, Format, GroupLanguage, Topic  # noqa: E402

GROUPS = 500
MEMBERS = 20_000
WEEKS_BACK = 52
WEEKS_AHEAD = 52
CAPPED_PLACES = 10  # meeting capacity in every fourth group
NEAR_WEEKS = 8  # upcoming meetings this close get as many RSVPs as past ones

MARKER = (
    f"groups={GROUPS} members={MEMBERS} weeks={WEEKS_BACK}+{WEEKS_AHEAD} "
    f"seed={hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]}"
)

FIRST_NAMES = [
    "Anna", "Marco", "Giulia", "Luca", "Sara", "Paolo", "Maria", "John", "Emma", "Noah",
    "Olivia", "Liam", "Sofia", "Ahmed", "Fatima", "Chen", "Priya", "Diego", "Elena", "Tom",
]  # fmt: skip
CITIES = ["Milano", "Roma", "Torino", "Napoli", "Bologna", "London", "New York", "Madrid"]
TIME_ZONES = ["Europe/Rome", "Europe/London", "America/New_York"]

# Each step is one statement; %(name)s are parameters, so SQL uses mod() rather than %.
SEED_STEPS = [
    (
        "users",
        """
        INSERT INTO members_user (id, password, last_login, is_superuser, email, display_name,
            full_name, time_zone, language, is_staff, is_active, date_joined)
        SELECT n, '!bench-no-password', NULL, false,
            CASE WHEN n <= %(members)s THEN 'member' || n ELSE 'facilitator' || n - %(members)s
            END || '@bench.example.org',
            (%(first_names)s::text[])[1 + mod(n, 20)] || ' ' || chr(65 + mod(n / 20, 26)) || '.',
            '', (%(time_zones)s::text[])[1 + mod(n, 3)], 'en', false, true,
            %(now)s - interval '800 days' + mod(n, 300) * interval '1 day'
        FROM generate_series(1, %(members)s + %(groups)s) AS n
        """,
    ),
    (
        "email addresses",
        """
        INSERT INTO account_emailaddress (email, verified, "primary", user_id)
        SELECT email, true, true, id FROM members_user
        """,
    ),
    (
        "groups",
        """
        INSERT INTO groups_supportgroup (id, name, slug, summary, description, topic, audience,
            format, language, city, region, country, time_zone, visibility, join_policy,
            capacity, status, contact_email, created_at, updated_at, video_link_policy)
        SELECT g, 'Bench group ' || g || ' (' || (%(topics)s::text[])[1 + mod(g, 16)] || ')',
            'bench-group-' || g,
            'A peer support group of the benchmark programme, meeting every week.',
            repeat('We meet to share experience, practical tips and encouragement. ', 8),
            (%(topics)s::text[])[1 + mod(g, 16)],
            (%(audiences)s::text[])[1 + mod(g, 3)],
            (%(formats)s::text[])[1 + mod(g, 3)],
            (%(languages)s::text[])[1 + mod(g, 5)],
            (%(cities)s::text[])[1 + mod(g, 8)], '', 'IT',
            (%(time_zones)s::text[])[1 + mod(g, 3)],
            'listed', 'open', NULL, 'active', '',
            %(now)s - interval '900 days', %(now)s - interval '900 days', 'around-meeting'
        FROM generate_series(1, %(groups)s) AS g
        """,
    ),
    (
        "codes of conduct",
        """
        INSERT INTO groups_codeofconduct (id, version, text, created_at, created_by_id, group_id)
        SELECT id, 1, repeat('Be kind, keep what is shared here confidential. ', 10),
            created_at, %(members)s + id, id
        FROM groups_supportgroup
        """,
    ),
    (
        "memberships",
        # Member n joins group 1 + (7n + shift) mod 500 for one, two or three shifts.
        """
        INSERT INTO groups_membership (role, status, request_message, decision_reason,
            requested_at, waitlisted_at, joined_at, ended_at, accepted_conduct_at,
            contact_shared, updated_at, accepted_conduct_id, user_id, group_id)
        SELECT 'member', 'active', '', '', joined, NULL::timestamptz, joined,
            NULL::timestamptz, joined, mod(n, 4) = 0, joined, grp, n, grp
        FROM generate_series(1, %(members)s) AS n
        CROSS JOIN (VALUES (0, 0), (1, 137), (2, 311)) AS extra (i, shift)
        CROSS JOIN LATERAL (
            SELECT 1 + mod(n * 7 + shift, %(groups)s) AS grp,
                %(now)s - interval '700 days' + mod(n, 300) * interval '1 day' AS joined
        ) AS picked
        WHERE extra.i <= mod(n, 3)
        UNION ALL
        SELECT 'facilitator', 'active', '', '', g.created_at, NULL, g.created_at, NULL,
            g.created_at, true, g.created_at, g.id, %(members)s + g.id, g.id
        FROM groups_supportgroup AS g
        """,
    ),
    (
        "facilitators' authenticators",
        """
        INSERT INTO mfa_authenticator (type, data, user_id, created_at, last_used_at)
        SELECT 'totp', '{"secret": "bench-placeholder"}'::jsonb, user_id, requested_at, NULL
        FROM groups_membership WHERE role = 'facilitator'
        """,
    ),
    (
        "meeting series",
        """
        INSERT INTO meetings_meetingseries (id, format, venue_name, address, address_visibility,
            step_free, access_notes, video_url, dial_in, online_notes, title, rrule, starts_on,
            start_time, duration_minutes, time_zone, capacity, materialised_until, ended_at,
            created_at, updated_at, created_by_id, group_id, split_from_id)
        SELECT g.id, g.format,
            CASE WHEN g.format <> 'online' THEN 'Community centre ' || g.id ELSE '' END,
            CASE WHEN g.format <> 'online' THEN 'Via Roma ' || g.id || ', ' || g.city ELSE ''
            END,
            'members', mod(g.id, 2) = 0, '',
            CASE WHEN g.format <> 'in-person' THEN 'https://meet.example.org/bench-' || g.id
            ELSE '' END,
            '', '', 'Weekly meeting', 'FREQ=WEEKLY', first.starts::date, first.starts::time, 90,
            g.time_zone, CASE WHEN mod(g.id, 4) = 0 THEN %(capped)s END,
            %(now)s + %(weeks_ahead)s * interval '7 days', NULL,
            g.created_at, g.created_at, %(members)s + g.id, g.id, NULL
        FROM groups_supportgroup AS g
        CROSS JOIN LATERAL (
            SELECT date_trunc('day', %(now)s) + mod(g.id, 7) * interval '1 day'
                + (9 + mod(g.id, 10)) * interval '1 hour'
                - %(weeks_back)s * interval '7 days' AS starts
        ) AS first
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
        SELECT s.format, s.venue_name, s.address, s.address_visibility, s.step_free, '',
            s.video_url, '', '', starts, gen_random_uuid(), '', starts,
            starts + interval '90 minutes', s.time_zone, s.capacity,
            CASE WHEN mod(s.id * 31 + week, 50) = 0 THEN 'cancelled' ELSE 'scheduled' END,
            CASE WHEN mod(s.id * 31 + week, 50) = 0 THEN 'Venue unavailable' ELSE '' END,
            false, 0, CASE WHEN starts < %(now)s THEN mod(week, 3) ELSE 0 END, '', NULL,
            s.created_at, s.created_at, s.group_id, s.id
        FROM meetings_meetingseries AS s
        CROSS JOIN generate_series(0, %(weeks_back)s + %(weeks_ahead)s - 1) AS week
        CROSS JOIN LATERAL (
            SELECT (s.starts_on + s.start_time)::timestamp AT TIME ZONE 'UTC'
                + week * interval '7 days' AS starts
        ) AS occurrence
        ORDER BY s.id, week
        """,
    ),
    (
        "roster (temporary)",
        """
        CREATE TEMPORARY TABLE bench_roster AS
        SELECT group_id, user_id,
            row_number() OVER (PARTITION BY group_id ORDER BY user_id) - 1 AS rn,
            count(*) OVER (PARTITION BY group_id) AS size
        FROM groups_membership WHERE role = 'member' AND status = 'active'
        """,
    ),
    (
        "who answers each meeting (temporary)",
        # A window of the roster, rotated per meeting: `going` people say yes, then one
        # or two say no. Past and near meetings get 8-12 yeses, far ones 2-4.
        """
        CREATE TEMPORARY TABLE bench_answer AS
        SELECT m.id AS meeting_id, m.group_id, m.starts_at, m.ends_at, m.capacity, m.status,
            r.user_id, slot.n AS slot, k.going
        FROM meetings_meeting AS m
        CROSS JOIN LATERAL (
            SELECT CASE WHEN m.starts_at < %(now)s + %(near_weeks)s * interval '7 days'
                THEN 8 + mod(m.id, 5) ELSE 2 + mod(m.id, 3) END AS going
        ) AS k
        JOIN bench_roster AS r ON r.group_id = m.group_id
        CROSS JOIN LATERAL (SELECT mod(r.rn + r.size - mod(m.id * 7, r.size), r.size) AS n) AS slot
        WHERE slot.n < k.going + CASE WHEN k.going >= 8 THEN 2 ELSE 1 END
        """,
    ),
    (
        "RSVPs",
        """
        INSERT INTO meetings_rsvp (response, status, waitlisted_at, responded_at, updated_at,
            meeting_id, user_id)
        SELECT CASE WHEN slot < going THEN 'going' ELSE 'not-going' END,
            CASE WHEN slot >= going THEN 'declined'
                WHEN slot >= capacity THEN 'waitlisted' ELSE 'confirmed' END,
            CASE WHEN slot < going AND slot >= capacity
                THEN starts_at - interval '3 days' + slot * interval '1 minute' END,
            starts_at - interval '3 days' + slot * interval '1 minute',
            starts_at - interval '3 days' + slot * interval '1 minute',
            meeting_id, user_id
        FROM bench_answer
        ORDER BY meeting_id, slot
        """,
    ),
    (
        "attendance",
        # Confirmed people at past meetings: 70% present, 10% late, 10% excused, 10% absent
        # (no-shows); the first person who said no is marked excused.
        """
        INSERT INTO meetings_attendance (status, marked_at, marked_by_id, user_id, meeting_id)
        SELECT CASE WHEN slot >= going THEN 'excused'
                ELSE (ARRAY['absent', 'excused', 'late', 'present', 'present', 'present',
                    'present', 'present', 'present', 'present'])[1 + mod(user_id + meeting_id, 10)]
            END,
            ends_at, %(members)s + group_id, user_id, meeting_id
        FROM bench_answer
        WHERE ends_at < %(now)s AND status = 'scheduled'
            AND (slot < least(going, coalesce(capacity, going)) OR slot = going)
        ORDER BY meeting_id, slot
        """,
    ),
]

RESET_SEQUENCES = [
    "members_user",
    "groups_supportgroup",
    "groups_codeofconduct",
    "meetings_meetingseries",
]

COUNTS = [
    ("users", "SELECT count(*) FROM members_user"),
    ("groups", "SELECT count(*) FROM groups_supportgroup"),
    ("memberships", "SELECT count(*) FROM groups_membership"),
    ("meetings", "SELECT count(*) FROM meetings_meeting"),
    ("  past", "SELECT count(*) FROM meetings_meeting WHERE starts_at < now()"),
    ("  upcoming", "SELECT count(*) FROM meetings_meeting WHERE starts_at >= now()"),
    ("RSVPs", "SELECT count(*) FROM meetings_rsvp"),
    (
        "  to past meetings",
        "SELECT count(*) FROM meetings_rsvp JOIN meetings_meeting AS m ON m.id = meeting_id"
        " WHERE m.starts_at < now()",
    ),
    ("attendance marks", "SELECT count(*) FROM meetings_attendance"),
]


def _existing_marker(name: str) -> str | None:
    if not bench_database.database_exists(name):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_seed') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return None
        cursor.execute("SELECT marker FROM bench_seed WHERE seeded_at > now() - interval '7 days'")
        row = cursor.fetchone()
    connection.close()
    return row[0] if row else None


def _seed() -> None:
    params = {
        "now": timezone.now().replace(minute=0, second=0, microsecond=0),
        "members": MEMBERS,
        "groups": GROUPS,
        "weeks_back": WEEKS_BACK,
        "weeks_ahead": WEEKS_AHEAD,
        "near_weeks": NEAR_WEEKS,
        "capped": CAPPED_PLACES,
        "first_names": FIRST_NAMES,
        "time_zones": TIME_ZONES,
        "cities": CITIES,
        "topics": [value for value, _ in Topic.choices],
        "audiences": [value for value, _ in Audience.choices],
        "formats": [value for value, _ in Format.choices],
        "languages": [value for value, _ in GroupLanguage.choices],
    }
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        # The rows are consistent by construction: skip the per-row foreign key triggers.
        cursor.execute("SET session_replication_role = replica")
        for label, sql in SEED_STEPS:
            started = time.monotonic()
            cursor.execute(sql, params)
            rows = f"{cursor.rowcount:>9,} rows" if cursor.rowcount >= 0 else ""
            print(f"  {label:<38} {rows} {time.monotonic() - started:6.1f} s", flush=True)
        for table in RESET_SEQUENCES:  # names from the constant above, not from input
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"  # noqa: S608
            )
        started = time.monotonic()
        cursor.execute("SET session_replication_role = DEFAULT")
        cursor.execute("ANALYZE")
        print(f"  {'ANALYZE':<38} {'':>14} {time.monotonic() - started:6.1f} s", flush=True)


def _print_counts() -> None:
    with connection.cursor() as cursor:
        for label, sql in COUNTS:
            cursor.execute(sql)
            print(f"  {label:<22} {cursor.fetchone()[0]:>10,}")
        cursor.execute(
            "SELECT round(avg(n), 1), min(n), max(n) FROM (SELECT count(*) AS n"
            " FROM meetings_attendance GROUP BY meeting_id) AS per_meeting"
        )
        average, low, high = cursor.fetchone()
        print(f"  {'attendance per past meeting':<22} avg {average} (min {low}, max {high})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reseed", action="store_true", help="drop and seed even if current")
    args = parser.parse_args()

    name = settings.DATABASES["default"]["NAME"]
    if not name.endswith("_bench"):
        sys.exit(f"Refusing to seed {name!r}: the benchmark database's name must end in _bench.")

    if not args.reseed and _existing_marker(name) == MARKER:
        print(f"== Reusing database {name} ({MARKER}); applying any new migrations")
        call_command("migrate", interactive=False, verbosity=0)
    else:
        print(f"== Creating database {name} ({MARKER})")
        started = time.monotonic()
        bench_database.recreate(name)
        call_command("migrate", interactive=False, verbosity=0)
        print(f"  {'migrate':<38} {'':>14} {time.monotonic() - started:6.1f} s", flush=True)
        seed_started = time.monotonic()
        with connection.cursor() as cursor:
            _seed()
            cursor.execute("CREATE TABLE bench_seed (marker text NOT NULL, seeded_at timestamptz)")
            cursor.execute("INSERT INTO bench_seed VALUES (%s, now())", [MARKER])
        print(f"== Seeded in {time.monotonic() - seed_started:.1f} s (bulk SQL and ANALYZE)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT seeded_at FROM bench_seed")
        print(f"== Row counts (seeded at {cursor.fetchone()[0]:%Y-%m-%d %H:%M} UTC)")
    _print_counts()


if __name__ == "__main__":
    main()
