"""The schedule form (issue #18, part 3): an explicit "second Tuesday", fields the choices do
not need left out, a preview before saving, an error summary, and the series page after."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions import recurrence, schedule_words, services
from sessions.forms import ScheduleForm
from sessions.models import Meeting, MeetingFormat, MeetingSeries
from tests.factories import MembershipFactory, UserFactory
from tests.groups.conftest import ROLES
from tests.meetings import test_views
from tests.meetings.factories import TUESDAY
from tests.meetings.test_views import MEMBER_NAME, STAFF, login
from tests.query_budget import assert_flat

# The group, its people in every role and a meeting, as the meeting page tests have them.
scene = test_views.scene

NEW_YORK = "America/New_York"
VIDEO = "https://video.example.org/second-tuesday"


def group_today(group) -> date:
    return timezone.now().astimezone(ZoneInfo(group.time_zone)).date()


def next_weekday(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def second_tuesdays_from(day: date, count: int) -> list[date]:
    """The `count` second Tuesdays on or after `day`, worked out by hand."""
    found = []
    year, month = day.year, day.month
    while len(found) < count:
        second = next_weekday(date(year, month, 1), TUESDAY) + timedelta(days=7)
        if second >= day:
            found.append(second)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return found


def form_data(starts_on: date, **changes) -> dict:
    data = {
        "title": "Second Tuesdays",
        "frequency": "monthly-weekday",
        "starts_on": starts_on.isoformat(),
        "start_time": "19:00",
        "duration_minutes": "90",
        "interval": "1",
        "week_of_month": "2",
        "weekday": str(TUESDAY),
        "ends": "count",
        "count": "6",
        "format": MeetingFormat.ONLINE,
        "video_url": VIDEO,
        "address_visibility": "members",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def schedule_url(group) -> str:
    return reverse("meetings:schedule", args=[group.slug])


def preview_url(group) -> str:
    return reverse("meetings:preview", args=[group.slug])


def a_friday_ahead(group) -> date:
    return next_weekday(group_today(group) + timedelta(days=2), 4)


# ---------------------------------------------------------------- the weekday, explicitly


def test_monthly_on_a_weekday_falls_on_the_chosen_weekday_not_the_first_dates(scene):
    friday = a_friday_ahead(scene["group"])
    form = ScheduleForm(form_data(friday))
    assert form.is_valid(), form.errors
    plan = form.plan()
    rule = recurrence.rrule_text(plan.schedule)
    assert "BYDAY=2TU" in rule
    starts = recurrence.first_occurrences(
        rule=rule, starts_on=friday, start_time=time(19), time_zone="Europe/Rome", limit=6
    )
    days = [recurrence.wall_clock(start, "Europe/Rome").date() for start in starts]
    # The first meeting is the first second Tuesday on or after the first date.
    assert days == second_tuesdays_from(friday, 6)


def test_monthly_on_a_weekday_needs_the_week_and_the_day(scene):
    form = ScheduleForm(form_data(a_friday_ahead(scene["group"]), week_of_month="", weekday=""))
    assert not form.is_valid()
    assert form.errors["week_of_month"] == ["Choose the week of the month."]
    assert form.errors["weekday"] == ["Choose the day of the week."]


def test_a_weekly_series_still_falls_on_the_first_dates_weekday(scene):
    friday = a_friday_ahead(scene["group"])
    form = ScheduleForm(form_data(friday, frequency="weekly", weekday="", week_of_month=""))
    assert form.is_valid(), form.errors
    assert recurrence.rrule_text(form.plan().schedule) == "FREQ=WEEKLY;INTERVAL=1;BYDAY=FR;COUNT=6"


@pytest.mark.parametrize(
    "schedule",
    [
        recurrence.Schedule(frequency="once", starts_on=date(2027, 3, 5), start_time=time(19)),
        recurrence.Schedule(
            frequency="weekly", starts_on=date(2027, 3, 5), start_time=time(19), interval=2
        ),
        recurrence.Schedule(
            frequency="monthly-weekday",
            starts_on=date(2027, 3, 5),
            start_time=time(19),
            week_of_month=-1,
            weekday=TUESDAY,
            count=6,
        ),
        recurrence.Schedule(
            frequency="monthly-date",
            starts_on=date(2027, 3, 15),
            start_time=time(19),
            until=date(2027, 9, 1),
        ),
    ],
    ids=["once", "fortnightly", "last-tuesday", "monthly-date"],
)
def test_a_stored_rule_reads_back_as_the_schedule_it_was_made_from(schedule):
    rule = recurrence.rrule_text(schedule)
    read_back = recurrence.schedule_of(rule, schedule.starts_on, schedule.start_time)
    assert recurrence.rrule_text(read_back) == rule
    assert read_back.frequency == schedule.frequency


def test_the_schedule_reads_as_one_sentence():
    schedule = recurrence.Schedule(
        frequency="monthly-weekday",
        starts_on=date(2027, 3, 1),
        start_time=time(19),
        week_of_month=2,
        weekday=TUESDAY,
        count=6,
    )
    preview = schedule_words.preview(schedule, time_zone=NEW_YORK, duration_minutes=90)
    assert preview.sentence == (
        "Every second Tuesday of the month at 19:00 New York time, from 9 March 2027, 6 meetings."
    )
    assert len(preview.dates) == 5 and preview.more and preview.total == 6


# ---------------------------------------------------------------- fields the choices do not use


def test_an_online_meeting_ignores_the_venue_fields_and_stores_none_of_them(client, scene):
    login(client, scene, "facilitator")
    data = form_data(
        a_friday_ahead(scene["group"]),
        venue_name="Old hall",
        address="x" * 300,  # too long, but not used
        address_visibility="",
        access_notes="Side door",
    )
    response = client.post(schedule_url(scene["group"]), data)
    assert response.status_code == 302
    series = MeetingSeries.objects.get(title="Second Tuesdays")
    assert (series.venue_name, series.address, series.access_notes) == ("", "", "")
    assert not Meeting.objects.filter(series=series).exclude(address="").exists()


def test_an_in_person_meeting_ignores_a_broken_video_link(client, scene):
    login(client, scene, "facilitator")
    data = form_data(
        a_friday_ahead(scene["group"]),
        format=MeetingFormat.IN_PERSON,
        address="Via Roma 1",
        video_url="not a link",
    )
    response = client.post(schedule_url(scene["group"]), data)
    assert response.status_code == 302
    series = MeetingSeries.objects.get(title="Second Tuesdays")
    assert (series.address, series.video_url) == ("Via Roma 1", "")


def test_a_single_meeting_ignores_the_repeat_fields(scene):
    form = ScheduleForm(
        form_data(
            a_friday_ahead(scene["group"]),
            frequency="once",
            interval="",
            week_of_month="9",
            weekday="",
            ends="",
            count="many",
        )
    )
    assert form.is_valid(), form.errors
    assert recurrence.rrule_text(form.plan().schedule) == "FREQ=DAILY;COUNT=1"


def test_the_end_not_chosen_is_ignored(scene):
    form = ScheduleForm(form_data(a_friday_ahead(scene["group"]), ends="never", until="soon"))
    assert form.is_valid(), form.errors
    assert form.plan().schedule.count is None and form.plan().schedule.until is None


def test_an_in_person_meeting_still_needs_its_address(client, scene):
    login(client, scene, "facilitator")
    data = form_data(a_friday_ahead(scene["group"]), format=MeetingFormat.IN_PERSON)
    response = client.post(schedule_url(scene["group"]), data)
    assert response.status_code == 200
    assert "Give the venue or the address." in response.text
    assert not MeetingSeries.objects.filter(title="Second Tuesdays").exists()


# ---------------------------------------------------------------- the error summary


def test_errors_are_summed_up_at_the_top_with_a_link_to_each_field(client, scene):
    login(client, scene, "facilitator")
    response = client.post(
        schedule_url(scene["group"]),
        form_data(a_friday_ahead(scene["group"]), start_time="", video_url="", weekday=""),
    )
    assert response.status_code == 200
    text = response.text
    summary = re.search(r'<div class="form-errors" role="alert".*?</div>', text, re.S).group(0)
    assert "There is a problem" in summary
    assert 'tabindex="-1" autofocus' in summary
    for field_id in ("id_start_time", "id_weekday", "id_video_url"):
        assert f'href="#{field_id}"' in summary
        assert f'id="{field_id}"' in text
    assert text.index("There is a problem") < text.index('class="meeting-form"')


# ---------------------------------------------------------------- the preview


def test_preview_button_shows_the_dates_in_both_clocks_and_saves_nothing(client, scene):
    group = scene["group"]
    group.time_zone = NEW_YORK
    group.save()
    facilitator = scene["people"]["facilitator"]
    facilitator.time_zone = "Europe/Rome"
    facilitator.save()
    login(client, scene, "facilitator")
    friday = a_friday_ahead(group)
    response = client.post(schedule_url(group), {**form_data(friday), "preview": "1"})
    assert response.status_code == 200
    assert MeetingSeries.objects.filter(group=group).count() == 0
    text = response.text
    first = second_tuesdays_from(friday, 1)[0]
    assert f"Every second Tuesday of the month at 19:00 New York time, from {first.day} " in text
    assert "6 meetings." in text
    dates = re.search(r'<ol class="schedule-dates">(.*?)</ol>', text, re.S).group(1)
    assert dates.count("<li>") == 5
    # The group's clock first (the form's times are on it), the facilitator's beside it,
    # worked out for each date (New York and Rome change their clocks on different days).
    told = re.findall(r"<li>(.*?)</li>", dates, re.S)
    for one, day in zip(told, second_tuesdays_from(friday, 5), strict=True):
        start = datetime.combine(day, time(19, 0), tzinfo=ZoneInfo(NEW_YORK))
        in_rome = start.astimezone(ZoneInfo("Europe/Rome"))
        rome = f"{in_rome:%H:%M}–{in_rome + timedelta(minutes=90):%H:%M}"
        assert re.search(
            rf"19:00–20:30</span>(</time>)? New York time.*{rome}</span> your time", one
        ), (day, one)
    assert "Schedule these meetings" in text


def test_live_preview_tells_the_schedule_while_the_place_is_still_missing(client, scene):
    login(client, scene, "facilitator")
    response = client.post(
        preview_url(scene["group"]), form_data(a_friday_ahead(scene["group"]), video_url="")
    )
    assert response.status_code == 200
    assert "Every second Tuesday of the month" in response.text
    assert "<html" not in response.text


def test_live_preview_asks_for_what_is_missing(client, scene):
    login(client, scene, "facilitator")
    response = client.post(
        preview_url(scene["group"]), form_data(a_friday_ahead(scene["group"]), start_time="")
    )
    assert response.status_code == 200
    assert "No dates yet" in response.text


@pytest.mark.parametrize("role", ROLES)
def test_live_preview_is_for_the_groups_staff_and_coordinators(client, scene, role):
    login(client, scene, role)
    response = client.post(preview_url(scene["group"]), form_data(a_friday_ahead(scene["group"])))
    if role in STAFF:
        assert response.status_code == 200
        assert "Every second Tuesday of the month" in response.text
    else:
        assert response.status_code == (302 if role == "visitor" else 403)
        assert "Every second Tuesday" not in response.text
        assert MEMBER_NAME not in response.text


def test_live_preview_costs_the_same_for_a_small_and_a_large_group(client, scene):
    group = scene["group"]
    login(client, scene, "facilitator")

    def add_people_and_meetings(count):
        for _ in range(count):
            MembershipFactory(group=group, user=UserFactory())
        start = timezone.now() + timedelta(days=1)
        for offset in range(count):
            begins = start + timedelta(days=offset)
            Meeting.objects.create(
                group=group,
                starts_at=begins,
                ends_at=begins + timedelta(hours=1),
                time_zone=group.time_zone,
            )

    data = form_data(a_friday_ahead(group))
    assert_flat(
        small_setup=lambda: add_people_and_meetings(2),
        large_setup=lambda: add_people_and_meetings(40),
        request=lambda: client.post(preview_url(group), data),
        label="schedule preview",
    )


# ---------------------------------------------------------------- after saving


def test_saving_lands_on_the_new_series_with_its_meetings(client, scene):
    login(client, scene, "facilitator")
    friday = a_friday_ahead(scene["group"])
    response = client.post(schedule_url(scene["group"]), form_data(friday), follow=True)
    series = MeetingSeries.objects.get(title="Second Tuesdays")
    assert response.redirect_chain == [(reverse("meetings:series", args=[series.pk]), 302)]
    text = response.text
    assert "6 meetings scheduled." in text
    meetings = list(series.meetings.order_by("starts_at"))
    assert len(meetings) == 6
    zone = ZoneInfo(scene["group"].time_zone)
    assert [m.starts_at.astimezone(zone).date() for m in meetings] == second_tuesdays_from(
        friday, 6
    )
    for meeting in meetings:
        assert f'href="{meeting.get_absolute_url()}"' in text
    assert "Every second Tuesday of the month at 19:00" in text


def make_series(scene, count: int) -> MeetingSeries:
    group = scene["group"]
    plan = services.MeetingPlan(
        schedule=recurrence.Schedule(
            frequency="weekly",
            starts_on=group_today(group) + timedelta(days=1),
            start_time=time(18),
            count=count,
        ),
        duration_minutes=60,
        title=f"Weekly x{count}",
        place={"format": MeetingFormat.ONLINE, "video_url": VIDEO},
    )
    return services.series_create(group=group, plan=plan, actor=scene["people"]["facilitator"])


@pytest.mark.parametrize("role", ROLES)
def test_the_series_page_is_for_the_groups_staff_and_coordinators(client, scene, role):
    series = make_series(scene, 3)
    login(client, scene, role)
    response = client.get(reverse("meetings:series", args=[series.pk]))
    if role in STAFF:
        assert response.status_code == 200
        listed = re.search(r'<ol class="series-meetings">(.*?)</ol>', response.text, re.S)
        assert listed.group(1).count("<li>") == 3
    else:
        assert response.status_code == (302 if role == "visitor" else 403)
        assert "Weekly x3" not in response.text
        assert VIDEO not in response.text


def test_a_missing_series_is_not_found(client, scene):
    login(client, scene, "facilitator")
    assert client.get(reverse("meetings:series", args=[987654])).status_code == 404


def test_the_series_page_costs_the_same_for_few_and_many_meetings(client, scene):
    login(client, scene, "facilitator")
    made = {}
    url = lambda: reverse("meetings:series", args=[made["series"].pk])  # noqa: E731
    assert_flat(
        small_setup=lambda: made.update(series=make_series(scene, 2)),
        large_setup=lambda: made.update(series=make_series(scene, 25)),
        request=lambda: client.get(url()),
        label="series page",
    )
