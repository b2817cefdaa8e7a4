"""Changing and cancelling meetings: one, this and following, or the whole series.

The past is never rewritten, members keep their answers when a meeting moves, and every
change members must hear about leaves a MeetingChange row and a higher SEQUENCE.
"""

from datetime import date, time, timedelta
from itertools import pairwise

import pytest
from django.utils import timezone

from sessions import services
from sessions.errors import MeetingError
from sessions.models import (
    Meeting,
    MeetingChange,
    MeetingChangeKind,
    MeetingFormat,
    MeetingSeries,
    MeetingStatus,
    Rsvp,
    RsvpStatus,
)
from sessions.recurrence import WEEKDAY_CODES, Frequency
from sessions.services import Scope
from tests.meetings.factories import (
    THURSDAY,
    TUESDAY,
    WEDNESDAY,
    MeetingFactory,
    local_start,
    local_today,
    meeting_plan,
    meetings_of,
    member_of,
    series_for,
    weekday_on_or_after,
    weekday_on_or_before,
)

pytestmark = pytest.mark.django_db

IN_PERSON = {"format": MeetingFormat.IN_PERSON}
ONLINE = {"format": MeetingFormat.ONLINE, "video_url": "https://video.example.org/room-7"}


def update(meeting, *, actor, scope=Scope.THIS, starts_on=None, **changes):
    """Submit the edit form for `meeting`; unchanged fields keep the meeting's values."""
    local = local_start(meeting)
    values = {
        "starts_on": starts_on or local.date(),
        "start_time": local.time(),
        "duration_minutes": int((meeting.ends_at - meeting.starts_at).total_seconds() // 60),
        "title": meeting.title,
        "capacity": meeting.capacity,
        "place": IN_PERSON,
        **changes,
    }
    return services.meeting_update(meeting_id=meeting.pk, actor=actor, scope=scope, **values)


def snapshot(meeting) -> tuple:
    meeting.refresh_from_db()
    return (
        meeting.series_id,
        meeting.original_start,
        meeting.starts_at,
        meeting.ends_at,
        meeting.sequence,
        meeting.status,
        meeting.is_exception,
        meeting.format,
    )


def everything() -> tuple:
    """All rows a schedule change could write, to show that nothing was written."""
    return (
        list(MeetingSeries.objects.order_by("id").values_list("id", "rrule", "ended_at")),
        list(
            Meeting.objects.order_by("id").values_list(
                "id", "series_id", "starts_at", "sequence", "status", "capacity"
            )
        ),
        MeetingChange.objects.count(),
        list(Rsvp.objects.order_by("id").values_list("id", "meeting_id", "status")),
    )


def changes_of(meeting, kind=None) -> list[MeetingChange]:
    found = MeetingChange.objects.filter(meeting=meeting)
    if kind:
        found = found.filter(kind=kind)
    return list(found)


def going(meeting, person) -> Rsvp:
    return services.meeting_rsvp(meeting_id=meeting.pk, member=person, going=True)


@pytest.fixture
def next_tuesday():
    return weekday_on_or_after(local_today() + timedelta(days=1), TUESDAY)


@pytest.fixture
def weekly(group, facilitator, next_tuesday):
    """Tuesdays at 19:00 from the next Tuesday after today, with no end."""
    return series_for(group, actor=facilitator, starts_on=next_tuesday)


@pytest.fixture
def since_weeks_ago(group, facilitator):
    """Weekly at 19:00 since three or four weeks ago: some meetings already happened.

    The weekday is three days after today's, so no meeting is going on right now.
    """
    weekday = (local_today() + timedelta(days=3)).weekday()
    starts_on = weekday_on_or_before(local_today() - timedelta(days=21), weekday)
    series = series_for(group, actor=facilitator, starts_on=starts_on)
    meetings = meetings_of(series)
    now = timezone.now()
    past = [m for m in meetings if m.ends_at <= now]
    future = [m for m in meetings if m.starts_at > now]
    assert len(past) >= 3
    assert len(future) >= 10
    return series, past, future


# --- One meeting ------------------------------------------------------------------------


def test_editing_one_meeting_moves_it_alone_and_records_the_change(weekly, facilitator, member):
    meetings = meetings_of(weekly)
    edited, others = meetings[1], meetings[:1] + meetings[2:6]
    rsvp = going(edited, member)
    others_before = [snapshot(m) for m in others]
    old_start, old_local = edited.starts_at, local_start(edited)

    result = update(
        edited,
        actor=facilitator,
        starts_on=old_local.date() + timedelta(days=1),
        start_time=time(18, 0),
        duration_minutes=60,
    )

    edited.refresh_from_db()
    assert result.pk == edited.pk
    assert local_start(edited).date() == old_local.date() + timedelta(days=1)
    assert local_start(edited).time() == time(18, 0)
    assert edited.ends_at - edited.starts_at == timedelta(minutes=60)
    assert edited.sequence == 1
    assert edited.is_exception is True
    assert edited.series_id == weekly.pk
    assert edited.original_start == old_start  # still stands for the same occurrence
    (change,) = changes_of(edited)
    assert change.kind == MeetingChangeKind.CHANGED
    assert change.changed_by == facilitator
    assert change.details["starts_at"] == [old_start.isoformat(), edited.starts_at.isoformat()]
    assert set(change.details) == {"starts_at", "ends_at"}
    assert Rsvp.objects.get(pk=rsvp.pk).status == RsvpStatus.CONFIRMED
    assert Rsvp.objects.get(pk=rsvp.pk).meeting_id == edited.pk
    assert [snapshot(m) for m in others] == others_before
    assert MeetingChange.objects.exclude(meeting=edited).count() == 0


def test_an_edited_meeting_is_not_recreated_at_its_old_time(weekly, facilitator):
    meetings = meetings_of(weekly)
    update(meetings[1], actor=facilitator, start_time=time(20, 0))
    MeetingSeries.objects.filter(pk=weekly.pk).update(materialised_until=None)

    services.series_materialise(series_id=weekly.pk)

    assert len(meetings_of(weekly)) == len(meetings)


def test_saving_an_unchanged_meeting_tells_nobody(weekly, facilitator):
    meeting = meetings_of(weekly)[0]

    update(meeting, actor=facilitator)

    meeting.refresh_from_db()
    assert meeting.sequence == 0
    assert changes_of(meeting) == []


def test_changing_the_place_of_one_meeting_is_a_change_members_hear_about(weekly, facilitator):
    meeting = meetings_of(weekly)[0]

    update(meeting, actor=facilitator, place=ONLINE)

    meeting.refresh_from_db()
    assert meeting.format == MeetingFormat.ONLINE
    assert meeting.video_url == ONLINE["video_url"]
    assert meeting.sequence == 1
    (change,) = changes_of(meeting)
    assert change.details["format"] == [MeetingFormat.IN_PERSON, MeetingFormat.ONLINE]


# --- This and following -----------------------------------------------------------------


def test_this_and_following_moves_later_meetings_and_leaves_earlier_ones_alone(
    group, since_weeks_ago, facilitator, member
):
    series, past, future = since_weeks_ago
    next_day = (series.starts_on.weekday() + 1) % 7
    earlier, anchor, later = future[:2], future[2], future[3:]
    other = member_of(group)
    answers = {
        "earlier": going(earlier[0], member),
        "anchor": going(anchor, member),
        "later": going(later[0], member),
        "later-other": going(later[1], other),
    }
    untouched = {m.pk: snapshot(m) for m in past + earlier}
    old_local = {m.pk: local_start(m) for m in [anchor, *later]}
    old_sequence = {m.pk: m.sequence for m in [anchor, *later]}

    result = update(
        anchor,
        actor=facilitator,
        scope=Scope.FOLLOWING,
        starts_on=old_local[anchor.pk].date() + timedelta(days=1),  # to the next weekday
        start_time=time(18, 30),
        duration_minutes=60,
        title="Wednesday circle",
        place=ONLINE,
    )

    # Earlier meetings, past and future, are exactly as they were.
    assert {pk: snapshot(Meeting.objects.get(pk=pk)) for pk in untouched} == untouched
    assert MeetingChange.objects.filter(meeting_id__in=untouched).count() == 0
    # The old series ends just before the anchor; a new one takes over from it.
    series.refresh_from_db()
    new_series = MeetingSeries.objects.get(split_from=series)
    assert series.ended_at is not None
    assert "UNTIL=" in series.rrule
    assert new_series.starts_on == old_local[anchor.pk].date() + timedelta(days=1)
    assert new_series.start_time == time(18, 30)
    assert f"BYDAY={WEEKDAY_CODES[next_day]}" in new_series.rrule
    # The anchor and later meetings moved, keeping their identity and their answers.
    moved = [Meeting.objects.get(pk=m.pk) for m in [anchor, *later]]
    assert result.pk == anchor.pk
    for meeting in moved:
        local = local_start(meeting)
        assert meeting.series_id == new_series.pk
        assert meeting.status == MeetingStatus.SCHEDULED
        assert local.date() == old_local[meeting.pk].date() + timedelta(days=1)
        assert local.weekday() == next_day
        assert local.time() == time(18, 30)
        assert meeting.ends_at - meeting.starts_at == timedelta(minutes=60)
        assert meeting.title == "Wednesday circle"
        assert meeting.format == MeetingFormat.ONLINE
        assert meeting.sequence == old_sequence[meeting.pk] + 1
        assert meeting.original_start == meeting.starts_at
        assert meeting.is_exception is False
        assert len(changes_of(meeting, MeetingChangeKind.CHANGED)) == 1
    for rsvp in answers.values():
        assert Rsvp.objects.get(pk=rsvp.pk).meeting_id == rsvp.meeting_id
        assert Rsvp.objects.get(pk=rsvp.pk).status == RsvpStatus.CONFIRMED
    # Nothing was left over, so nothing was cancelled; no old date remains from the anchor on.
    assert not Meeting.objects.filter(status=MeetingStatus.CANCELLED).exists()
    assert not Meeting.objects.filter(series=series, starts_at__gte=anchor.starts_at).exists()
    # The new series carries on weekly on the new day up to the horizon, one row per date.
    new_meetings = meetings_of(new_series)
    days = [local_start(m).date() for m in new_meetings]
    assert {b - a for a, b in pairwise(days)} == {timedelta(weeks=1)}
    assert new_meetings[-1].starts_at < new_series.materialised_until
    assert services.series_materialise(series_id=series.pk) == 0


def test_this_and_following_cancels_meetings_the_new_schedule_no_longer_has(
    group, facilitator, member, next_tuesday
):
    last = next_tuesday + timedelta(weeks=3)
    series = series_for(group, actor=facilitator, starts_on=next_tuesday, until=last)
    first, second, third, fourth = meetings_of(series)
    rsvp = going(fourth, member)

    update(
        second,
        actor=facilitator,
        scope=Scope.FOLLOWING,
        starts_on=local_start(second).date() + timedelta(days=1),
    )

    for meeting in (first, second, third, fourth):
        meeting.refresh_from_db()
    assert first.status == MeetingStatus.SCHEDULED
    assert local_start(second).weekday() == WEDNESDAY
    assert local_start(third).weekday() == WEDNESDAY
    # The last Wednesday would fall after the chosen last date: that meeting is cancelled.
    assert fourth.status == MeetingStatus.CANCELLED
    assert fourth.sequence == 1
    assert local_start(fourth).date() == last
    (change,) = changes_of(fourth)
    assert change.kind == MeetingChangeKind.CANCELLED
    assert change.changed_by == facilitator
    assert Rsvp.objects.filter(pk=rsvp.pk).exists()
    assert Meeting.objects.filter(group=group, status=MeetingStatus.SCHEDULED).count() == 3


def test_this_and_following_moves_even_meetings_already_made_beyond_the_horizon(
    weekly, facilitator
):
    """Rows made further ahead (a week's extra horizon here) still move, none is cancelled."""
    services.series_materialise(series_id=weekly.pk, now=timezone.now() + timedelta(days=14))
    meetings = meetings_of(weekly)
    assert meetings[-1].starts_at > timezone.now() + services.HORIZON

    update(
        meetings[0],
        actor=facilitator,
        scope=Scope.FOLLOWING,
        starts_on=local_start(meetings[0]).date() + timedelta(days=1),
    )

    assert not Meeting.objects.filter(status=MeetingStatus.CANCELLED).exists()
    moved = [Meeting.objects.get(pk=m.pk) for m in meetings]
    assert {local_start(m).weekday() for m in moved} == {WEDNESDAY}
    assert Meeting.objects.filter(group=weekly.group).count() == len(meetings)


def test_this_and_following_keeps_the_number_of_meetings_of_a_counted_series(group, facilitator):
    """Six meetings stay six: the part after the split holds what was left of the count."""
    starts_on = weekday_on_or_before(local_today() - timedelta(days=8), TUESDAY)
    series = series_for(group, actor=facilitator, starts_on=starts_on, count=6)
    meetings = meetings_of(series)
    assert len(meetings) == 6
    anchor = meetings[3]

    update(anchor, actor=facilitator, scope=Scope.FOLLOWING, start_time=time(20, 0))

    new_series = MeetingSeries.objects.get(split_from=series)
    assert len(meetings_of(new_series)) == 3
    assert Meeting.objects.filter(group=group).count() == 6
    services.series_materialise(series_id=new_series.pk, now=timezone.now() + timedelta(days=400))
    assert Meeting.objects.filter(group=group).count() == 6
    assert not Meeting.objects.filter(status=MeetingStatus.CANCELLED).exists()


def _last_weekday_of(year: int, month: int, weekday: int) -> date:
    last_day = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return weekday_on_or_before(last_day, weekday)


def _month_after(day: date, months: int = 1) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 + months
    return index // 12, index % 12 + 1


def _is_last_of_its_kind(day: date) -> bool:
    return (day + timedelta(weeks=1)).month != day.month


def test_a_new_time_keeps_a_last_thursday_series_on_the_last_thursday(group, facilitator):
    """Also in months where the last Thursday is the 5th, not the 4th."""
    starts_on = _last_weekday_of(*_month_after(local_today()), THURSDAY)
    series = series_for(
        group,
        actor=facilitator,
        frequency=Frequency.MONTHLY_WEEKDAY,
        starts_on=starts_on,
        week_of_month=-1,
    )
    meetings = meetings_of(series)

    update(meetings[1], actor=facilitator, scope=Scope.FOLLOWING, start_time=time(18, 0))

    days = [local_start(Meeting.objects.get(pk=m.pk)).date() for m in meetings]
    assert all(_is_last_of_its_kind(day) for day in days)
    assert any(day.day > 28 for day in days[1:])  # a month with five Thursdays was reached
    assert not Meeting.objects.filter(status=MeetingStatus.CANCELLED).exists()


def test_a_second_tuesday_series_moved_to_a_wednesday_stays_monthly(group, facilitator):
    starts_on = weekday_on_or_after(date(*_month_after(local_today()), 8), TUESDAY)
    series = series_for(
        group, actor=facilitator, frequency=Frequency.MONTHLY_WEEKDAY, starts_on=starts_on
    )
    meetings = meetings_of(series)
    before = [local_start(m).date() for m in meetings]
    new_first = weekday_on_or_after(before[0].replace(day=8), WEDNESDAY)  # 2nd Wednesday

    update(meetings[0], actor=facilitator, scope=Scope.ALL, starts_on=new_first)

    after = [local_start(Meeting.objects.get(pk=m.pk)).date() for m in meetings]
    assert [(day.year, day.month) for day in after] == [(day.year, day.month) for day in before]
    assert all(day.weekday() == WEDNESDAY and 8 <= day.day <= 14 for day in after)
    assert not Meeting.objects.filter(status=MeetingStatus.CANCELLED).exists()


def _month_length(day: date) -> int:
    return (date(*_month_after(day), 1) - timedelta(days=1)).day


@pytest.mark.parametrize(
    ("from_day", "to_day"), [(31, 15), (15, 31)], ids=["31st-to-15th", "15th-to-31st"]
)
def test_a_monthly_date_series_moved_to_another_date_keeps_the_new_date(
    group, facilitator, from_day, to_day
):
    """The new date holds from the edited meeting on; a 31st is the last day of short months."""
    first_month = date(*_month_after(local_today()), 1)
    while _month_length(first_month) < from_day:
        first_month = date(*_month_after(first_month), 1)
    series = series_for(
        group,
        actor=facilitator,
        frequency=Frequency.MONTHLY_DATE,
        starts_on=first_month.replace(day=from_day),
    )
    meetings = meetings_of(series)
    # Edit a meeting in a month of 31 days, so that "the 31st" is unambiguous.
    edited = next(
        index
        for index, meeting in enumerate(meetings)
        if index > 0 and _month_length(local_start(meeting).date()) == 31
    )

    update(
        meetings[edited],
        actor=facilitator,
        scope=Scope.FOLLOWING,
        starts_on=local_start(meetings[edited]).date().replace(day=to_day),
    )

    before = [local_start(m).date() for m in meetings]
    after = [local_start(Meeting.objects.get(pk=m.pk)).date() for m in meetings]
    # Every meeting stays in its month, on the day the facilitator chose for it.
    assert after == [
        day.replace(day=min(from_day if index < edited else to_day, _month_length(day)))
        for index, day in enumerate(before)
    ]
    assert not Meeting.objects.filter(status=MeetingStatus.CANCELLED).exists()


def test_this_and_following_leaves_an_already_cancelled_meeting_cancelled(weekly, facilitator):
    meetings = meetings_of(weekly)
    services.meeting_cancel(meeting_id=meetings[2].pk, actor=facilitator, reason="Holiday")

    update(meetings[1], actor=facilitator, scope=Scope.FOLLOWING, start_time=time(20, 0))

    cancelled = Meeting.objects.get(pk=meetings[2].pk)
    assert cancelled.status == MeetingStatus.CANCELLED
    assert len(changes_of(cancelled, MeetingChangeKind.CANCELLED)) == 1
    new_series = MeetingSeries.objects.get(split_from=weekly)
    dates = [local_start(m).date() for m in meetings_of(new_series)]
    assert local_start(cancelled).date() not in dates  # not quietly brought back


def test_a_full_meeting_that_moves_keeps_its_waitlist(group, facilitator, next_tuesday):
    series = series_for(group, actor=facilitator, starts_on=next_tuesday, capacity=1)
    meeting = meetings_of(series)[0]
    first, second = member_of(group), member_of(group)
    going(meeting, first)
    waiting = going(meeting, second)
    assert waiting.status == RsvpStatus.WAITLISTED

    update(meeting, actor=facilitator, scope=Scope.FOLLOWING, start_time=time(18, 0))

    waiting.refresh_from_db()
    assert waiting.status == RsvpStatus.WAITLISTED
    assert waiting.meeting_id == meeting.pk


# --- The whole series -------------------------------------------------------------------


def test_all_moves_every_future_meeting_and_leaves_the_past_alone(
    since_weeks_ago, facilitator, member
):
    series, past, future = since_weeks_ago
    untouched = {m.pk: snapshot(m) for m in past}
    rsvp = going(future[0], member)
    old_local = {m.pk: local_start(m) for m in future}

    update(future[3], actor=facilitator, scope=Scope.ALL, start_time=time(20, 15))

    assert {pk: snapshot(Meeting.objects.get(pk=pk)) for pk in untouched} == untouched
    new_series = MeetingSeries.objects.get(split_from=series)
    for meeting in future:
        meeting.refresh_from_db()
        assert meeting.series_id == new_series.pk
        assert local_start(meeting).date() == old_local[meeting.pk].date()
        assert local_start(meeting).time() == time(20, 15)
        assert meeting.sequence == 1
    assert Rsvp.objects.get(pk=rsvp.pk).meeting_id == future[0].pk
    assert not Meeting.objects.filter(status=MeetingStatus.CANCELLED).exists()


def test_all_with_a_new_day_moves_the_next_meeting_by_as_many_days(since_weeks_ago, facilitator):
    series, past, future = since_weeks_ago
    old_local = {m.pk: local_start(m).date() for m in future}

    update(
        future[2],
        actor=facilitator,
        scope=Scope.ALL,
        starts_on=old_local[future[2].pk] + timedelta(days=2),
    )

    for meeting in future:
        meeting.refresh_from_db()
        assert local_start(meeting).date() == old_local[meeting.pk] + timedelta(days=2)
    assert {local_start(m).weekday() for m in past} == {series.starts_on.weekday()}


def test_moving_a_one_off_meeting_with_any_scope_adds_no_meetings(group, facilitator):
    series = series_for(
        group,
        actor=facilitator,
        frequency=Frequency.ONCE,
        starts_on=local_today() + timedelta(days=5),
    )
    (meeting,) = meetings_of(series)

    update(
        meeting,
        actor=facilitator,
        scope=Scope.ALL,
        starts_on=local_today() + timedelta(days=6),
        start_time=time(17, 0),
    )

    (moved,) = Meeting.objects.filter(group=group)
    assert moved.pk == meeting.pk
    assert local_start(moved).date() == local_today() + timedelta(days=6)
    assert local_start(moved).time() == time(17, 0)


# --- Cancelling -------------------------------------------------------------------------


def test_cancelling_one_meeting_tells_members_and_keeps_the_rest(weekly, facilitator, member):
    meetings = meetings_of(weekly)
    rsvp = going(meetings[1], member)
    others_before = [snapshot(m) for m in meetings if m.pk != meetings[1].pk]

    cancelled = services.meeting_cancel(
        meeting_id=meetings[1].pk, actor=facilitator, reason="The hall is closed"
    )

    meeting = Meeting.objects.get(pk=meetings[1].pk)
    assert [m.pk for m in cancelled] == [meeting.pk]
    assert meeting.status == MeetingStatus.CANCELLED
    assert meeting.cancel_reason == "The hall is closed"
    assert meeting.sequence == 1
    (change,) = changes_of(meeting)
    assert change.kind == MeetingChangeKind.CANCELLED
    assert change.details == {"reason": "The hall is closed"}
    assert Rsvp.objects.filter(pk=rsvp.pk).exists()  # kept, for the record
    assert [snapshot(m) for m in meetings if m.pk != meeting.pk] == others_before
    with pytest.raises(MeetingError, match="This meeting is already cancelled"):
        services.meeting_cancel(meeting_id=meeting.pk, actor=facilitator)
    assert len(changes_of(meeting)) == 1


def test_cancelling_this_and_following_ends_the_series_there(since_weeks_ago, facilitator):
    series, past, future = since_weeks_ago
    untouched = {m.pk: snapshot(m) for m in past + future[:2]}

    cancelled = services.meeting_cancel(
        meeting_id=future[2].pk, actor=facilitator, reason="Group closing", scope=Scope.FOLLOWING
    )

    assert {m.pk for m in cancelled} == {m.pk for m in future[2:]}
    assert {pk: snapshot(Meeting.objects.get(pk=pk)) for pk in untouched} == untouched
    for meeting in future[2:]:
        meeting.refresh_from_db()
        assert meeting.status == MeetingStatus.CANCELLED
        assert meeting.sequence == 1
        assert len(changes_of(meeting, MeetingChangeKind.CANCELLED)) == 1
    series.refresh_from_db()
    assert series.ended_at is not None
    total = Meeting.objects.filter(series=series).count()
    services.series_materialise(series_id=series.pk, now=timezone.now() + timedelta(days=90))
    assert Meeting.objects.filter(series=series).count() == total


def test_cancelling_all_cancels_every_future_meeting_and_no_past_one(since_weeks_ago, facilitator):
    _series, past, future = since_weeks_ago
    untouched = {m.pk: snapshot(m) for m in past}

    services.meeting_cancel(meeting_id=future[4].pk, actor=facilitator, scope=Scope.ALL)

    assert {pk: snapshot(Meeting.objects.get(pk=pk)) for pk in untouched} == untouched
    statuses = set(
        Meeting.objects.filter(pk__in=[m.pk for m in future]).values_list("status", flat=True)
    )
    assert statuses == {MeetingStatus.CANCELLED}
    assert MeetingChange.objects.filter(kind=MeetingChangeKind.CANCELLED).count() == len(future)


# --- The past and cancelled meetings are read-only --------------------------------------


@pytest.mark.parametrize("scope", [Scope.THIS, Scope.FOLLOWING, Scope.ALL])
def test_a_past_meeting_cannot_be_changed(since_weeks_ago, facilitator, scope):
    _series, past, _future = since_weeks_ago
    before = everything()

    with pytest.raises(MeetingError, match="Past meetings can't be changed"):
        update(past[-1], actor=facilitator, scope=scope, start_time=time(21, 0))

    assert everything() == before


@pytest.mark.parametrize("scope", [Scope.THIS, Scope.FOLLOWING, Scope.ALL])
def test_a_past_meeting_cannot_be_cancelled(since_weeks_ago, facilitator, scope):
    _series, past, _future = since_weeks_ago
    before = everything()

    with pytest.raises(MeetingError, match="Past meetings can't be cancelled"):
        services.meeting_cancel(meeting_id=past[-1].pk, actor=facilitator, scope=scope)

    assert everything() == before


def test_a_single_meeting_from_last_week_cannot_be_changed(group, facilitator):
    meeting = MeetingFactory(group=group, starts_at=timezone.now() - timedelta(days=7))
    before = everything()

    with pytest.raises(MeetingError, match="Past meetings can't be changed"):
        update(meeting, actor=facilitator, start_time=time(10, 0))
    with pytest.raises(MeetingError, match="Past meetings can't be cancelled"):
        services.meeting_cancel(meeting_id=meeting.pk, actor=facilitator)

    assert everything() == before


def test_a_cancelled_meeting_cannot_be_edited(weekly, facilitator):
    meeting = meetings_of(weekly)[0]
    services.meeting_cancel(meeting_id=meeting.pk, actor=facilitator)
    before = everything()

    with pytest.raises(MeetingError, match="This meeting is cancelled"):
        update(meeting, actor=facilitator, start_time=time(10, 0))

    assert everything() == before


def test_an_unknown_meeting_is_a_domain_error(facilitator):
    with pytest.raises(MeetingError, match="That meeting does not exist"):
        services.meeting_cancel(meeting_id=987654, actor=facilitator)


# --- Bad input --------------------------------------------------------------------------


def _in_days(days: int) -> date:
    return local_today() + timedelta(days=days)


@pytest.mark.parametrize(
    ("plan", "error"),
    [
        pytest.param(
            {"starts_on": _in_days(7), "duration_minutes": 0},
            "A meeting must end after it starts",
            id="duration-0",
        ),
        pytest.param(
            {"starts_on": _in_days(7), "duration_minutes": -30},
            "A meeting must end after it starts",
            id="duration-negative",
        ),
        pytest.param(
            {"starts_on": _in_days(7), "until": _in_days(6)},
            "The last date is before the first meeting",
            id="until-before-start",
        ),
        pytest.param(
            {"starts_on": _in_days(7), "count": 0},
            "The number of meetings must be at least 1",
            id="count-0",
        ),
        pytest.param(
            {"starts_on": _in_days(7), "count": -2},
            "The number of meetings must be at least 1",
            id="count-negative",
        ),
        pytest.param(
            {
                # A 2nd Tuesday, asking for the 1st Tuesday, ending before the next one.
                "frequency": Frequency.MONTHLY_WEEKDAY,
                "starts_on": date(2030, 1, 8),
                "week_of_month": 1,
                "until": date(2030, 1, 31),
            },
            "These settings give no meeting at all",
            id="rule-without-any-meeting",
        ),
        pytest.param(
            {"frequency": Frequency.ONCE, "starts_on": _in_days(300)},
            "These settings give no meeting in the next six months",
            id="nothing-in-the-next-six-months",
        ),
    ],
)
def test_a_schedule_that_makes_no_sense_is_refused_and_nothing_is_saved(
    group, facilitator, plan, error
):
    with pytest.raises(MeetingError, match=error):
        services.series_create(group=group, plan=meeting_plan(**plan), actor=facilitator)

    assert not MeetingSeries.objects.exists()
    assert not Meeting.objects.exists()


@pytest.mark.parametrize("scope", [Scope.THIS, Scope.FOLLOWING, Scope.ALL])
def test_a_meeting_of_no_length_is_refused(weekly, facilitator, scope):
    before = everything()

    with pytest.raises(MeetingError, match="A meeting must end after it starts"):
        update(meetings_of(weekly)[0], actor=facilitator, scope=scope, duration_minutes=0)

    assert everything() == before


def _fill(meeting, group, confirmed: int) -> None:
    for _ in range(confirmed):
        going(meeting, member_of(group))


@pytest.mark.parametrize(
    ("scope", "edited"),
    [(Scope.THIS, 2), (Scope.FOLLOWING, 1), (Scope.ALL, 3)],
    ids=["this", "following", "all"],
)
def test_places_below_those_already_confirmed_are_refused_and_nothing_changes(
    group, weekly, facilitator, scope, edited
):
    """The third meeting has three people coming; the series edits reach it after moving
    the meetings before it, and all of that is rolled back."""
    meetings = meetings_of(weekly)
    _fill(meetings[2], group, confirmed=3)
    before = everything()

    with pytest.raises(
        MeetingError, match="3 people are already confirmed; the places can't go below that"
    ):
        update(meetings[edited], actor=facilitator, scope=scope, capacity=2, start_time=time(18, 0))

    assert everything() == before


def test_setting_places_below_those_confirmed_is_refused(group, weekly, facilitator):
    meeting = meetings_of(weekly)[0]
    _fill(meeting, group, confirmed=3)
    before = everything()

    with pytest.raises(
        MeetingError, match="3 people are already confirmed; the places can't go below that"
    ):
        services.meeting_capacity_set(meeting_id=meeting.pk, capacity=2, actor=facilitator)

    assert everything() == before
    services.meeting_capacity_set(meeting_id=meeting.pk, capacity=3, actor=facilitator)
    assert Meeting.objects.get(pk=meeting.pk).capacity == 3


@pytest.mark.django_db
def test_a_future_meeting_cannot_be_moved_into_the_past():
    from sessions.models import Meeting as MeetingModel
    from tests.factories import CoordinatorFactory, SupportGroupFactory

    group = SupportGroupFactory()
    start = timezone.now() + timedelta(days=2)
    meeting = MeetingModel.objects.create(
        group=group,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        time_zone=group.time_zone,
        format="online",
        video_url="https://video.example.org/x",
    )
    yesterday = timezone.localdate() - timedelta(days=1)
    with pytest.raises(MeetingError, match="into the past"):
        services.meeting_update(
            meeting_id=meeting.pk,
            actor=CoordinatorFactory(),
            starts_on=yesterday,
            start_time=time(19, 0),
            duration_minutes=60,
            title="",
            capacity=None,
            place={},
        )
    meeting.refresh_from_db()
    assert meeting.starts_at == start
