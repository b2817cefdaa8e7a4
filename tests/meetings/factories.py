"""Meetings for tests.

Series go through the real service (`series_create`), so their meetings are exactly
what a facilitator would get; `MeetingFactory` makes a single row directly, for the
past or for odd cases a form would never produce.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import factory
from django.utils import timezone

from members.services import coordinator_grant
from sessions import services
from sessions.models import Meeting, MeetingFormat, MeetingSeries
from sessions.recurrence import Frequency, Schedule
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory

ROME = "Europe/Rome"
NEW_YORK = "America/New_York"
MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)


def local_today(zone: str = ROME) -> date:
    return timezone.now().astimezone(ZoneInfo(zone)).date()


def weekday_on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def weekday_on_or_before(day: date, weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def meeting_plan(
    *,
    starts_on: date,
    frequency: str = Frequency.WEEKLY,
    start_time: time = time(19, 0),
    duration_minutes: int = 90,
    capacity: int | None = None,
    title: str = "",
    place: dict | None = None,
    **schedule,
) -> services.MeetingPlan:
    """A plan as the form would hand it over; `schedule` takes interval, until, count..."""
    return services.MeetingPlan(
        schedule=Schedule(
            frequency=frequency, starts_on=starts_on, start_time=start_time, **schedule
        ),
        duration_minutes=duration_minutes,
        title=title,
        capacity=capacity,
        place=place if place is not None else {"format": MeetingFormat.IN_PERSON},
    )


def series_for(group, *, actor=None, **plan) -> MeetingSeries:
    """Schedule a series for `group` through the service; `plan` as for meeting_plan.

    Without an actor, a coordinator schedules it: someone allowed to, who is not in the
    group, so rosters and counts hold only the people the test puts there.
    """
    if actor is None:
        actor = UserFactory()
        coordinator_grant(user=actor)
    return services.series_create(group=group, plan=meeting_plan(**plan), actor=actor)


def meetings_of(series: MeetingSeries) -> list[Meeting]:
    return list(Meeting.objects.filter(series=series).order_by("starts_at", "id"))


def local_start(meeting: Meeting) -> datetime:
    """The meeting's start on the wall clock of its time zone (aware)."""
    return meeting.starts_at.astimezone(ZoneInfo(meeting.time_zone))


def member_of(group, **kwargs):
    """A person with an active membership of `group` (or the status given)."""
    return MembershipFactory(group=group, **kwargs).user


class MeetingFactory(factory.django.DjangoModelFactory):
    """A single meeting row, not part of any series; a week from now by default."""

    class Meta:
        model = Meeting

    group = factory.SubFactory(SupportGroupFactory)
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(minutes=90))
    time_zone = factory.LazyAttribute(lambda o: o.group.time_zone)
    format = MeetingFormat.IN_PERSON


# A members-only video link and address: tests check they reach only the right people.
VIDEO_URL = "https://video.example.org/secret-room-4821"
ADDRESS = "Via Nascosta 7"


def hybrid_meeting(group, *, starts_in=timedelta(minutes=30), **extra) -> Meeting:
    """A hybrid meeting of `group` starting `starts_in` from now, with the private link
    and address above (override any field with `extra`)."""
    start = timezone.now() + starts_in
    values = {
        "format": MeetingFormat.HYBRID,
        "venue_name": "Community hall",
        "address": ADDRESS,
        "address_visibility": "members",
        "video_url": VIDEO_URL,
        "time_zone": group.time_zone,
        **extra,
    }
    return Meeting.objects.create(
        group=group, starts_at=start, ends_at=start + timedelta(minutes=90), **values
    )


def cast_around(group, *, member_name: str | None = None, other_group=None) -> dict:
    """One person per role the role tests walk through (tests.groups.conftest.ROLES) for
    `group`: a visitor (None), an outsider, its facilitator, member, peer moderator and
    pending applicant, another group's facilitator and a coordinator, staff with MFA."""
    from groups.models import MembershipStatus, Role
    from tests.groups.conftest import enable_mfa

    member_user = UserFactory(display_name=member_name) if member_name else UserFactory()
    people = {"visitor": None, "outsider": UserFactory()}
    people["facilitator"] = MembershipFactory(group=group, role=Role.FACILITATOR).user
    people["member"] = MembershipFactory(group=group, user=member_user).user
    people["peer_moderator"] = MembershipFactory(group=group, role=Role.PEER_MODERATOR).user
    people["pending"] = MembershipFactory(
        group=group, status=MembershipStatus.PENDING, joined_at=None
    ).user
    other_group = other_group or SupportGroupFactory(name="Other Shore")
    people["other_facilitator"] = MembershipFactory(group=other_group, role=Role.FACILITATOR).user
    people["coordinator"] = UserFactory()
    coordinator_grant(user=people["coordinator"])
    for role in ("facilitator", "other_facilitator", "coordinator"):
        enable_mfa(people[role])
    return people
