"""Demo meetings: every kind of schedule, RSVPs, a waitlist and months of attendance."""

import random
from datetime import time, timedelta

from django.utils import timezone

from groups.models import Membership, MembershipStatus, SupportGroup
from members.models import NotificationPreferences
from sessions import recurrence, services
from sessions.models import (
    Attendance,
    AttendanceStatus,
    Meeting,
    MeetingFormat,
    MeetingSeries,
    MeetingStatus,
    Rsvp,
    RsvpResponse,
    RsvpStatus,
)

WEEKS_OF_HISTORY = 20

# slug, title, frequency, start time, minutes, interval, week of month, format, capacity
DEMO_SERIES = [
    (
        "diabete-tipo-2-milano",
        "Incontro mensile",
        recurrence.Frequency.MONTHLY_WEEKDAY,
        time(18, 30),
        90,
        1,
        2,
        MeetingFormat.IN_PERSON,
        None,
    ),
    (
        "breast-cancer-survivors-nyc",
        "Survivors circle",
        recurrence.Frequency.WEEKLY,
        time(19, 0),
        90,
        1,
        None,
        MeetingFormat.HYBRID,
        None,
    ),
    (
        "rare-disease-family-network",
        "Family evening",
        recurrence.Frequency.MONTHLY_WEEKDAY,
        time(20, 0),
        75,
        1,
        -1,
        MeetingFormat.ONLINE,
        None,
    ),
    (
        "bipolare-roma",
        "Gruppo del giovedì",
        recurrence.Frequency.WEEKLY,
        time(17, 30),
        90,
        1,
        None,
        MeetingFormat.IN_PERSON,
        None,
    ),
    (
        "caffe-alzheimer-bologna",
        "Caffè Alzheimer",
        recurrence.Frequency.MONTHLY_DATE,
        time(15, 0),
        120,
        1,
        None,
        MeetingFormat.IN_PERSON,
        8,
    ),
    (
        "caregiver-demenza-online",
        "Serata dei familiari",
        recurrence.Frequency.WEEKLY,
        time(20, 30),
        75,
        1,
        None,
        MeetingFormat.ONLINE,
        12,
    ),
    (
        "long-covid-online",
        "Long COVID check-in",
        recurrence.Frequency.WEEKLY,
        time(12, 0),
        60,
        2,
        None,
        MeetingFormat.ONLINE,
        10,
    ),
]

PLACES = {
    MeetingFormat.IN_PERSON: {
        "venue_name": "Casa delle Associazioni",
        "address": "Via Esempio 12",
        "address_visibility": "members",
        "step_free": True,
        "access_notes": "Ingresso laterale con rampa; parcheggio in cortile.",
    },
    MeetingFormat.ONLINE: {
        "video_url": "https://video.example.org/peer-support-demo",
        "online_notes": "Camera optional. Join five minutes early to test your sound.",
    },
    MeetingFormat.HYBRID: {
        "venue_name": "Brooklyn Community Room",
        "address": "100 Example Street, Brooklyn, NY",
        "address_visibility": "public",
        "step_free": True,
        "video_url": "https://video.example.org/survivors-circle",
    },
}


def _series(group: SupportGroup, spec, start_date, actor) -> MeetingSeries:
    _slug, title, frequency, start_time, minutes, interval, week, meeting_format, capacity = spec
    existing = MeetingSeries.objects.filter(group=group, title=title).first()
    if existing is not None:
        services.series_materialise(series_id=existing.pk)
        return existing
    place = {"format": meeting_format, **PLACES[meeting_format]}
    return services.series_create(
        group=group,
        plan=services.MeetingPlan(
            schedule=recurrence.Schedule(
                frequency=frequency,
                starts_on=start_date,
                start_time=start_time,
                interval=interval,
                week_of_month=week,
            ),
            duration_minutes=minutes,
            title=title,
            capacity=capacity,
            place=place,
        ),
        actor=actor,
    )


def _history(meeting: Meeting, members: list, rng: random.Random) -> None:
    """Past RSVPs and attendance with realistic shapes: most come, some don't."""
    rsvps, marks = [], []
    for user_id in members:
        roll = rng.random()
        if roll < 0.15:
            continue  # never answered and never came
        going = roll < 0.8
        rsvps.append(
            Rsvp(
                meeting=meeting,
                user_id=user_id,
                response=RsvpResponse.GOING if going else RsvpResponse.NOT_GOING,
                status=RsvpStatus.CONFIRMED if going else RsvpStatus.DECLINED,
            )
        )
        if going:
            status = rng.choices(
                [
                    AttendanceStatus.PRESENT,
                    AttendanceStatus.LATE,
                    AttendanceStatus.ABSENT,
                    AttendanceStatus.EXCUSED,
                ],
                weights=[70, 10, 12, 8],
            )[0]
            marks.append(Attendance(meeting=meeting, user_id=user_id, status=status))
    Rsvp.objects.bulk_create(rsvps, ignore_conflicts=True)
    Attendance.objects.bulk_create(marks, ignore_conflicts=True)
    if not meeting.guest_count and rng.random() < 0.3:
        Meeting.objects.filter(pk=meeting.pk).update(guest_count=rng.randint(1, 3))


SOON_TITLE = "Drop-in check-in"


def _meeting_starting_soon(people: dict, now) -> None:
    """A meeting an hour away, so a newcomer sees a reminder reach the console."""
    group = SupportGroup.objects.get(slug="long-covid-online")
    if Meeting.objects.filter(
        group=group, title=SOON_TITLE, starts_at__gt=now, starts_at__lt=now + timedelta(hours=2)
    ).exists():
        return
    start = now.replace(second=0, microsecond=0) + timedelta(minutes=62)
    meeting = Meeting.objects.create(
        group=group,
        title=SOON_TITLE,
        starts_at=start,
        ends_at=start + timedelta(minutes=45),
        time_zone=group.time_zone,
        format=MeetingFormat.ONLINE,
        **PLACES[MeetingFormat.ONLINE],
    )
    member = people["member"]
    NotificationPreferences.objects.update_or_create(
        user=member, defaults={"reminder_hour_before": True}
    )
    services.meeting_rsvp(meeting_id=meeting.pk, member=member, going=True)


def seed_meetings(people: dict) -> None:
    rng = random.Random(2026)  # noqa: S311 - demo data, the same every time
    now = timezone.now()
    _meeting_starting_soon(people, now)
    start_date = (now - timedelta(weeks=WEEKS_OF_HISTORY)).date()
    for spec in DEMO_SERIES:
        group = SupportGroup.objects.get(slug=spec[0])
        facilitator = (
            Membership.objects.filter(group=group, role="facilitator")
            .select_related("user")
            .first()
        )
        series = _series(group, spec, start_date, facilitator.user if facilitator else None)
        members = list(
            Membership.objects.filter(group=group, status=MembershipStatus.ACTIVE).values_list(
                "user_id", flat=True
            )
        )
        past = Meeting.objects.filter(
            series=series, ends_at__lt=now, status=MeetingStatus.SCHEDULED
        )
        for meeting in past:
            if not meeting.attendance.exists():
                _history(meeting, members, rng)
        upcoming = list(
            Meeting.objects.filter(series=series, starts_at__gt=now).order_by("starts_at")[:3]
        )
        for meeting in upcoming:
            for user_id in members[: (meeting.capacity or 6) + 2]:
                if not Rsvp.objects.filter(meeting=meeting, user_id=user_id).exists():
                    services.meeting_rsvp(
                        meeting_id=meeting.pk, member=people["by_id"][user_id], going=True
                    )
