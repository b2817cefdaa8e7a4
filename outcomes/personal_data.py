"""The outcomes app's section of a person's export and erasure (registered in apps.py).

Today the app holds only the report tables (outcomes.models), keyed by user id and
derived by PostgreSQL triggers from attendance marks: per group, the days a person was
counted as having come. They hold no text and no identity beyond the id.

* Export: per group, the first day and every day the reports count the person as having
  come, so they can see exactly what the figures hold about them (on PostgreSQL; the
  tables do not exist elsewhere, and the section is then empty).
* Erasure: nothing to do here. The attendance rows they derive from stay, pointing at
  the anonymised user row (see sessions.personal_data), so the rows here stay too and the
  reports' totals, retention cohorts and "new or returning" figures do not change; the
  id they hold then names nobody.

Outcome surveys, when they come, add their answers here.
"""

from collections import defaultdict

from groups.models import SupportGroup
from members import personal_data
from members.models import User
from outcomes.models import AttendedDay, GroupAttendee


def report_attendance_export(user: User) -> list[dict]:
    days = defaultdict(list)
    for group_id, day in (
        AttendedDay.objects.filter(user_id=user.pk)
        .order_by("day", "starts_at")
        .values_list("group_id", "day")
    ):
        days[group_id].append(day.isoformat())
    first_days = dict(
        GroupAttendee.objects.filter(user_id=user.pk).values_list("group_id", "first_day")
    )
    names = dict(
        SupportGroup.objects.filter(pk__in=days.keys() | first_days.keys()).values_list(
            "pk", "name"
        )
    )
    return [
        {
            "group": names.get(group_id, ""),
            "first_day_counted": first_days[group_id].isoformat()
            if group_id in first_days
            else None,
            "days_counted": days.get(group_id, []),
        }
        for group_id in sorted(days.keys() | first_days.keys(), key=lambda g: names.get(g, ""))
    ]


def report_attendance_erase(user: User) -> None:
    """Kept, derived from the kept anonymous attendance rows (see the module's docstring)."""


def register(app_label: str) -> None:
    personal_data.register(
        "attendance_counted_in_reports",
        app_label=app_label,
        export=report_attendance_export,
        erase=report_attendance_erase,
        models=[AttendedDay, GroupAttendee],
    )
