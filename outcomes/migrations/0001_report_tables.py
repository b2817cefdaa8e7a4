"""Reporting tables kept exact by triggers, on PostgreSQL (a no-op on other databases).

outcomes_meeting_tally    per meeting: group, local day, start, held, guests, and the
                          members marked, attended, confirmed "going" and no-shows
outcomes_attended_day     per attendance that counts (present or late at a scheduled
                          meeting): group, person, the meeting's local day and start
outcomes_group_attendee   per group and person who came: the first local day, every local
                          day (a multirange) and every start (a multirange) they came on

Writers to one meeting take turns on its tally row (and to one person's row of a group on
that row): each recount runs after the lock, as a new statement, so it sees every
write committed before it. A recount of the whole is outcomes_rebuild_report_tables(),
which `manage.py rebuild_report_tables` calls; this migration calls it once to fill the
tables from existing rows.

The status values below are those stored by sessions.models (ATTENDED, MeetingStatus,
RsvpResponse, RsvpStatus), written out so that this migration keeps its meaning.
"""

from django.db import migrations, models

TABLES = """
CREATE TABLE outcomes_meeting_tally (
    meeting_id bigint PRIMARY KEY,
    group_id bigint NOT NULL,
    day date NOT NULL,
    starts_at timestamptz NOT NULL,
    held boolean NOT NULL,
    guest_count integer NOT NULL,
    marks integer NOT NULL,
    attended integer NOT NULL,
    going integer NOT NULL,
    no_shows integer NOT NULL
);
-- Meetings on a range of local days: every group, or a few.
CREATE INDEX outcomes_meeting_tally_day_idx ON outcomes_meeting_tally (day);
CREATE INDEX outcomes_meeting_tally_group_idx ON outcomes_meeting_tally (group_id, day);

CREATE TABLE outcomes_attended_day (
    attendance_id bigint PRIMARY KEY,
    meeting_id bigint NOT NULL,
    group_id bigint NOT NULL,
    user_id bigint NOT NULL,
    day date NOT NULL,
    starts_at timestamptz NOT NULL
);
-- Attendances on a range of days (the last days before now, in outcomes.reports._PEOPLE).
CREATE INDEX outcomes_attended_day_day_idx
    ON outcomes_attended_day (day) INCLUDE (group_id, user_id, starts_at);
-- Different people per week or month: read in (week, person) order, so that each person
-- is counted once a week without a hash of them all.
CREATE INDEX outcomes_attended_day_week_idx
    ON outcomes_attended_day ((date_trunc('week', day::timestamp)::date), user_id)
    INCLUDE (day, starts_at, group_id);
CREATE INDEX outcomes_attended_day_month_idx
    ON outcomes_attended_day ((date_trunc('month', day::timestamp)::date), user_id)
    INCLUDE (day, starts_at, group_id);
-- How many (bucket, person) pairs there are, so that the planner sizes the counting right.
CREATE STATISTICS outcomes_attended_day_week_stats (ndistinct)
    ON (date_trunc('week', day::timestamp)::date), user_id FROM outcomes_attended_day;
CREATE STATISTICS outcomes_attended_day_month_stats (ndistinct)
    ON (date_trunc('month', day::timestamp)::date), user_id FROM outcomes_attended_day;
-- One person's attendances at one group, to recompute their outcomes_group_attendee row.
CREATE INDEX outcomes_attended_day_person_idx
    ON outcomes_attended_day (group_id, user_id) INCLUDE (day, starts_at);
-- A meeting moved, cancelled or deleted.
CREATE INDEX outcomes_attended_day_meeting_idx ON outcomes_attended_day (meeting_id);

CREATE TABLE outcomes_group_attendee (
    group_id bigint NOT NULL,
    user_id bigint NOT NULL,
    first_day date NOT NULL,
    days datemultirange NOT NULL,
    starts tstzmultirange NOT NULL,
    PRIMARY KEY (group_id, user_id)
);
"""

FUNCTIONS = """
-- Recount the tallies of some meetings (their rows taken first, in id order).
CREATE FUNCTION outcomes_count_meetings(ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM 1 FROM outcomes_meeting_tally WHERE meeting_id = ANY(ids)
    ORDER BY meeting_id FOR UPDATE;

    INSERT INTO outcomes_meeting_tally (meeting_id, group_id, day, starts_at, held,
        guest_count, marks, attended, going, no_shows)
    SELECT m.id, m.group_id, timezone(m.time_zone, m.starts_at)::date, m.starts_at,
        m.status = 'scheduled', m.guest_count,
        (SELECT count(*) FROM meetings_attendance AS a WHERE a.meeting_id = m.id),
        (SELECT count(*) FROM meetings_attendance AS a
            WHERE a.meeting_id = m.id AND a.status IN ('present', 'late')),
        (SELECT count(*) FROM meetings_rsvp AS r
            WHERE r.meeting_id = m.id AND r.response = 'going' AND r.status = 'confirmed'),
        (SELECT count(*) FROM meetings_rsvp AS r
            WHERE r.meeting_id = m.id AND r.response = 'going' AND r.status = 'confirmed'
                AND NOT EXISTS (
                    SELECT 1 FROM meetings_attendance AS a
                    WHERE a.meeting_id = r.meeting_id AND a.user_id = r.user_id
                        AND a.status IN ('present', 'late')
                ))
    FROM meetings_meeting AS m
    WHERE m.id = ANY(ids)
    ORDER BY m.id
    ON CONFLICT (meeting_id) DO UPDATE SET group_id = EXCLUDED.group_id,
        day = EXCLUDED.day, starts_at = EXCLUDED.starts_at, held = EXCLUDED.held,
        guest_count = EXCLUDED.guest_count, marks = EXCLUDED.marks,
        attended = EXCLUDED.attended, going = EXCLUDED.going, no_shows = EXCLUDED.no_shows;

    DELETE FROM outcomes_meeting_tally AS t
    WHERE t.meeting_id = ANY(ids)
        AND NOT EXISTS (SELECT 1 FROM meetings_meeting AS m WHERE m.id = t.meeting_id);
END
$$;

-- The attended days of some attendance marks, or of every mark at some meetings.
CREATE FUNCTION outcomes_sync_attendance(attendance_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM outcomes_attended_day WHERE attendance_id = ANY(attendance_ids);
    INSERT INTO outcomes_attended_day
        (attendance_id, meeting_id, group_id, user_id, day, starts_at)
    SELECT a.id, a.meeting_id, m.group_id, a.user_id,
        timezone(m.time_zone, m.starts_at)::date, m.starts_at
    FROM meetings_attendance AS a
    JOIN meetings_meeting AS m ON m.id = a.meeting_id
    WHERE a.id = ANY(attendance_ids) AND a.status IN ('present', 'late')
        AND m.status = 'scheduled';
END
$$;

CREATE FUNCTION outcomes_sync_meetings(meeting_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM outcomes_attended_day WHERE meeting_id = ANY(meeting_ids);
    INSERT INTO outcomes_attended_day
        (attendance_id, meeting_id, group_id, user_id, day, starts_at)
    SELECT a.id, a.meeting_id, m.group_id, a.user_id,
        timezone(m.time_zone, m.starts_at)::date, m.starts_at
    FROM meetings_attendance AS a
    JOIN meetings_meeting AS m ON m.id = a.meeting_id
    WHERE a.meeting_id = ANY(meeting_ids) AND a.status IN ('present', 'late')
        AND m.status = 'scheduled';
END
$$;

-- Recompute some (group, person) rows of outcomes_group_attendee, after taking them.
CREATE FUNCTION outcomes_count_attendees(group_ids bigint[], user_ids bigint[])
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO outcomes_group_attendee (group_id, user_id, first_day, days, starts)
    SELECT DISTINCT p.g, p.u, date 'epoch', '{}'::datemultirange, '{}'::tstzmultirange
    FROM unnest(group_ids, user_ids) AS p (g, u)
    ORDER BY p.g, p.u
    ON CONFLICT (group_id, user_id) DO NOTHING;
    PERFORM 1 FROM outcomes_group_attendee AS f
    JOIN unnest(group_ids, user_ids) AS p (g, u) ON f.group_id = p.g AND f.user_id = p.u
    ORDER BY f.group_id, f.user_id FOR UPDATE OF f;

    UPDATE outcomes_group_attendee AS f
    SET first_day = c.first_day, days = c.days, starts = c.starts
    FROM (
        SELECT d.group_id, d.user_id, min(d.day) AS first_day,
            range_agg(daterange(d.day, d.day, '[]')) AS days,
            range_agg(tstzrange(d.starts_at, d.starts_at, '[]')) AS starts
        FROM (SELECT DISTINCT g, u FROM unnest(group_ids, user_ids) AS p (g, u)) AS p
        JOIN outcomes_attended_day AS d ON d.group_id = p.g AND d.user_id = p.u
        GROUP BY d.group_id, d.user_id
    ) AS c
    WHERE f.group_id = c.group_id AND f.user_id = c.user_id;

    DELETE FROM outcomes_group_attendee AS f
    USING unnest(group_ids, user_ids) AS p (g, u)
    WHERE f.group_id = p.g AND f.user_id = p.u
        AND NOT EXISTS (
            SELECT 1 FROM outcomes_attended_day AS d
            WHERE d.group_id = p.g AND d.user_id = p.u
        );
END
$$;

-- Trigger functions. Statement triggers read the rows a statement changed from its
-- transition tables, so a bulk insert recounts each meeting once.
CREATE FUNCTION outcomes_attendance_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    meeting_ids bigint[];
    attendance_ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT meeting_id), array_agg(id)
        INTO meeting_ids, attendance_ids FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT meeting_id), array_agg(id)
        INTO meeting_ids, attendance_ids FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT meeting_id), array_agg(DISTINCT id)
        INTO meeting_ids, attendance_ids
        FROM (
            SELECT id, meeting_id FROM old_rows
            UNION ALL
            SELECT id, meeting_id FROM new_rows
        ) AS changed;
    END IF;
    IF meeting_ids IS NOT NULL THEN
        PERFORM outcomes_count_meetings(meeting_ids);
        PERFORM outcomes_sync_attendance(attendance_ids);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION outcomes_rsvp_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    meeting_ids bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT meeting_id) INTO meeting_ids FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT meeting_id) INTO meeting_ids FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT meeting_id) INTO meeting_ids
        FROM (
            SELECT meeting_id FROM old_rows UNION ALL SELECT meeting_id FROM new_rows
        ) AS changed;
    END IF;
    IF meeting_ids IS NOT NULL THEN
        PERFORM outcomes_count_meetings(meeting_ids);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION outcomes_meetings_inserted() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    meeting_ids bigint[];
BEGIN
    SELECT array_agg(id) INTO meeting_ids FROM new_rows;
    IF meeting_ids IS NOT NULL THEN
        PERFORM outcomes_count_meetings(meeting_ids);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION outcomes_meeting_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM outcomes_count_meetings(ARRAY[NEW.id]);  -- takes the meeting's turn
    IF OLD.status IS DISTINCT FROM NEW.status OR OLD.starts_at IS DISTINCT FROM NEW.starts_at
        OR OLD.time_zone IS DISTINCT FROM NEW.time_zone
        OR OLD.group_id IS DISTINCT FROM NEW.group_id THEN
        PERFORM outcomes_sync_meetings(ARRAY[NEW.id]);
    END IF;
    RETURN NULL;
END
$$;

CREATE FUNCTION outcomes_meetings_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM outcomes_meeting_tally WHERE meeting_id IN (SELECT id FROM old_rows);
    DELETE FROM outcomes_attended_day WHERE meeting_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END
$$;

CREATE FUNCTION outcomes_attended_day_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    group_ids bigint[];
    user_ids bigint[];
BEGIN
    IF current_setting('outcomes.rebuilding', true) = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(group_id), array_agg(user_id) INTO group_ids, user_ids
        FROM (SELECT DISTINCT group_id, user_id FROM new_rows) AS pairs;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(group_id), array_agg(user_id) INTO group_ids, user_ids
        FROM (SELECT DISTINCT group_id, user_id FROM old_rows) AS pairs;
    ELSE
        SELECT array_agg(group_id), array_agg(user_id) INTO group_ids, user_ids
        FROM (
            SELECT group_id, user_id FROM old_rows
            UNION
            SELECT group_id, user_id FROM new_rows
        ) AS pairs;
    END IF;
    IF group_ids IS NOT NULL THEN
        PERFORM outcomes_count_attendees(group_ids, user_ids);
    END IF;
    RETURN NULL;
END
$$;

-- Everything again from the sources, with writers to them held off meanwhile.
CREATE FUNCTION outcomes_rebuild_report_tables() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE meetings_meeting, meetings_attendance, meetings_rsvp IN SHARE MODE;
    PERFORM set_config('outcomes.rebuilding', 'on', true);
    TRUNCATE outcomes_meeting_tally, outcomes_attended_day, outcomes_group_attendee;

    INSERT INTO outcomes_meeting_tally (meeting_id, group_id, day, starts_at, held,
        guest_count, marks, attended, going, no_shows)
    SELECT m.id, m.group_id, timezone(m.time_zone, m.starts_at)::date, m.starts_at,
        m.status = 'scheduled', m.guest_count, coalesce(a.marks, 0),
        coalesce(a.attended, 0), coalesce(r.going, 0), coalesce(r.no_shows, 0)
    FROM meetings_meeting AS m
    LEFT JOIN (
        SELECT meeting_id, count(*) AS marks,
            count(*) FILTER (WHERE status IN ('present', 'late')) AS attended
        FROM meetings_attendance
        GROUP BY meeting_id
    ) AS a ON a.meeting_id = m.id
    LEFT JOIN (
        SELECT r.meeting_id, count(*) AS going, count(*) FILTER (WHERE a.id IS NULL) AS no_shows
        FROM meetings_rsvp AS r
        LEFT JOIN meetings_attendance AS a ON a.meeting_id = r.meeting_id
            AND a.user_id = r.user_id AND a.status IN ('present', 'late')
        WHERE r.response = 'going' AND r.status = 'confirmed'
        GROUP BY r.meeting_id
    ) AS r ON r.meeting_id = m.id
    ORDER BY m.id;

    INSERT INTO outcomes_attended_day
        (attendance_id, meeting_id, group_id, user_id, day, starts_at)
    SELECT a.id, a.meeting_id, m.group_id, a.user_id,
        timezone(m.time_zone, m.starts_at)::date, m.starts_at
    FROM meetings_attendance AS a
    JOIN meetings_meeting AS m ON m.id = a.meeting_id
    WHERE a.status IN ('present', 'late') AND m.status = 'scheduled'
    ORDER BY m.starts_at, a.id;

    INSERT INTO outcomes_group_attendee (group_id, user_id, first_day, days, starts)
    SELECT group_id, user_id, min(day), range_agg(daterange(day, day, '[]')),
        range_agg(tstzrange(starts_at, starts_at, '[]'))
    FROM outcomes_attended_day
    GROUP BY group_id, user_id;

    PERFORM set_config('outcomes.rebuilding', '', true);
END
$$;
"""

TRIGGERS = """
CREATE TRIGGER outcomes_attendance_inserted AFTER INSERT ON meetings_attendance
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outcomes_attendance_changed();
CREATE TRIGGER outcomes_attendance_updated AFTER UPDATE ON meetings_attendance
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outcomes_attendance_changed();
CREATE TRIGGER outcomes_attendance_deleted AFTER DELETE ON meetings_attendance
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outcomes_attendance_changed();

CREATE TRIGGER outcomes_rsvp_inserted AFTER INSERT ON meetings_rsvp
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outcomes_rsvp_changed();
CREATE TRIGGER outcomes_rsvp_updated AFTER UPDATE ON meetings_rsvp
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outcomes_rsvp_changed();
CREATE TRIGGER outcomes_rsvp_deleted AFTER DELETE ON meetings_rsvp
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outcomes_rsvp_changed();

CREATE TRIGGER outcomes_meetings_inserted AFTER INSERT ON meetings_meeting
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outcomes_meetings_inserted();
-- A row trigger, so that the many updates that change none of these cost a comparison.
CREATE TRIGGER outcomes_meeting_changed AFTER UPDATE ON meetings_meeting
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.starts_at IS DISTINCT FROM NEW.starts_at
        OR OLD.time_zone IS DISTINCT FROM NEW.time_zone
        OR OLD.group_id IS DISTINCT FROM NEW.group_id
        OR OLD.guest_count IS DISTINCT FROM NEW.guest_count)
    EXECUTE FUNCTION outcomes_meeting_changed();
CREATE TRIGGER outcomes_meetings_deleted AFTER DELETE ON meetings_meeting
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outcomes_meetings_deleted();

CREATE TRIGGER outcomes_attended_day_inserted AFTER INSERT ON outcomes_attended_day
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outcomes_attended_day_changed();
CREATE TRIGGER outcomes_attended_day_updated AFTER UPDATE ON outcomes_attended_day
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outcomes_attended_day_changed();
CREATE TRIGGER outcomes_attended_day_deleted AFTER DELETE ON outcomes_attended_day
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outcomes_attended_day_changed();
"""

BACKFILL = """
SELECT outcomes_rebuild_report_tables();
ANALYZE outcomes_meeting_tally, outcomes_attended_day, outcomes_group_attendee;
"""

DROP = """
DROP TRIGGER IF EXISTS outcomes_attendance_inserted ON meetings_attendance;
DROP TRIGGER IF EXISTS outcomes_attendance_updated ON meetings_attendance;
DROP TRIGGER IF EXISTS outcomes_attendance_deleted ON meetings_attendance;
DROP TRIGGER IF EXISTS outcomes_rsvp_inserted ON meetings_rsvp;
DROP TRIGGER IF EXISTS outcomes_rsvp_updated ON meetings_rsvp;
DROP TRIGGER IF EXISTS outcomes_rsvp_deleted ON meetings_rsvp;
DROP TRIGGER IF EXISTS outcomes_meetings_inserted ON meetings_meeting;
DROP TRIGGER IF EXISTS outcomes_meeting_changed ON meetings_meeting;
DROP TRIGGER IF EXISTS outcomes_meetings_deleted ON meetings_meeting;
DROP TABLE IF EXISTS outcomes_meeting_tally, outcomes_attended_day, outcomes_group_attendee;
DROP FUNCTION IF EXISTS outcomes_rebuild_report_tables(), outcomes_attended_day_changed(),
    outcomes_meetings_deleted(), outcomes_meeting_changed(), outcomes_meetings_inserted(),
    outcomes_rsvp_changed(), outcomes_attendance_changed(),
    outcomes_count_attendees(bigint[], bigint[]), outcomes_sync_meetings(bigint[]),
    outcomes_sync_attendance(bigint[]), outcomes_count_meetings(bigint[]);
"""


def _on_postgresql(*statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("meetings", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="MeetingTally",
            fields=[
                ("meeting_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("group_id", models.BigIntegerField()),
                ("day", models.DateField()),
                ("starts_at", models.DateTimeField()),
                ("held", models.BooleanField()),
                ("guest_count", models.IntegerField()),
                ("marks", models.IntegerField()),
                ("attended", models.IntegerField()),
                ("going", models.IntegerField()),
                ("no_shows", models.IntegerField()),
            ],
            options={"db_table": "outcomes_meeting_tally", "managed": False},
        ),
        migrations.CreateModel(
            name="AttendedDay",
            fields=[
                ("attendance_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("meeting_id", models.BigIntegerField()),
                ("group_id", models.BigIntegerField()),
                ("user_id", models.BigIntegerField()),
                ("day", models.DateField()),
                ("starts_at", models.DateTimeField()),
            ],
            options={"db_table": "outcomes_attended_day", "managed": False},
        ),
        migrations.CreateModel(
            name="GroupAttendee",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "group_id", "user_id", blank=True, editable=False, serialize=False
                    ),
                ),
                ("group_id", models.BigIntegerField()),
                ("user_id", models.BigIntegerField()),
                ("first_day", models.DateField()),
            ],
            options={"db_table": "outcomes_group_attendee", "managed": False},
        ),
        migrations.RunPython(
            _on_postgresql(TABLES, FUNCTIONS, TRIGGERS, BACKFILL),
            _on_postgresql(DROP),
        ),
    ]
