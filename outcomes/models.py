"""Reporting tables derived from meetings, attendance and RSVPs, for the report queries.

PostgreSQL triggers are their only writer (see outcomes/migrations/0001_report_tables.py):
every insert, update and delete of a meeting, an attendance mark or an RSVP, through any
path (the sessions services, bulk inserts, cascades when an account is erased), updates
them in the same transaction. The models are unmanaged and read-only for Django;
`manage.py rebuild_report_tables` recounts them from their sources. On other databases the
tables do not exist, and the attendance and retention reports say they need PostgreSQL.

* MeetingTally: per meeting, its group, local day, start, whether it was held, its guests,
  and the counts the attendance report adds up.
* AttendedDay: one row per attendance that counts (present or late at a scheduled
  meeting), with the meeting's group, local day and start.
* GroupAttendee: per group and person who came, the first local day they came, and (not
  mapped here) every local day and every start they came on, as multiranges: whether
  someone came in a period, or in a retention window, is one range test on one row.
"""

from django.db import models


class MeetingTally(models.Model):
    meeting_id = models.BigIntegerField(primary_key=True)
    group_id = models.BigIntegerField()
    day = models.DateField()  # the meeting's day on its own time zone's clock
    starts_at = models.DateTimeField()
    held = models.BooleanField()  # scheduled, not cancelled
    guest_count = models.IntegerField()
    marks = models.IntegerField()  # members marked, any status
    attended = models.IntegerField()  # marked present or late
    going = models.IntegerField()  # confirmed "going" RSVPs
    no_shows = models.IntegerField()  # of those, not marked present or late

    class Meta:
        managed = False
        db_table = "outcomes_meeting_tally"

    def __str__(self) -> str:
        return f"tally of meeting {self.meeting_id}"


class AttendedDay(models.Model):
    attendance_id = models.BigIntegerField(primary_key=True)
    meeting_id = models.BigIntegerField()
    group_id = models.BigIntegerField()
    user_id = models.BigIntegerField()
    day = models.DateField()  # the meeting's day on its own time zone's clock
    starts_at = models.DateTimeField()

    class Meta:
        managed = False
        db_table = "outcomes_attended_day"

    def __str__(self) -> str:
        return f"attendance {self.attendance_id} on {self.day}"


class GroupAttendee(models.Model):
    pk = models.CompositePrimaryKey("group_id", "user_id")
    group_id = models.BigIntegerField()
    user_id = models.BigIntegerField()
    first_day = models.DateField()

    class Meta:
        managed = False
        db_table = "outcomes_group_attendee"

    def __str__(self) -> str:
        return f"{self.user_id} at group {self.group_id} since {self.first_day}"
