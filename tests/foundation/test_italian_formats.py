"""Italian that reads right: dates in lower case, real plurals, time zones in words.

"domenica 14 marzo 2027" (Django's Italian catalogue says "Domenica 14 Marzo"; ours,
config/formats/it, says it as a sentence does), "1 posto occupato su 8", "ora di Roma".
Every date here is fixed: these are facts about words, not about today.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import formats, timezone, translation

from sessions.models import Rsvp
from sessions.templatetags.meeting_time import day_in_words, zone_label
from tests.auth import log_in
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.meetings.factories import MeetingFactory

SUNDAY = date(2027, 3, 14)
EVENING = datetime(2027, 3, 14, 19, 0, tzinfo=ZoneInfo("Europe/Rome"))


@pytest.mark.parametrize(
    ("language", "format_name", "value", "expected"),
    [
        ("it", "DATE_FORMAT", SUNDAY, "14 marzo 2027"),
        ("it", "DATE_FORMAT", date(2027, 5, 3), "3 maggio 2027"),  # no leading zero
        ("it", "DATETIME_FORMAT", EVENING, "domenica 14 marzo 2027, 19:00"),
        ("it", "MONTH_DAY_FORMAT", SUNDAY, "14 marzo"),
        ("it", "YEAR_MONTH_FORMAT", SUNDAY, "marzo 2027"),
        ("it", "SHORT_DATE_FORMAT", SUNDAY, "14/03/2027"),
        ("en", "DATE_FORMAT", SUNDAY, "14 March 2027"),
        ("en", "DATETIME_FORMAT", EVENING, "14 March 2027, 19:00"),
    ],
)
def test_the_date_formats_templates_use(language, format_name, value, expected):
    with translation.override(language):
        assert formats.date_format(value, format_name) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2027, 3, 15), "lunedì 15 marzo 2027"),
        (date(2027, 6, 1), "martedì 1 giugno 2027"),
        (date(2027, 9, 1), "mercoledì 1 settembre 2027"),
        (date(2027, 12, 30), "giovedì 30 dicembre 2027"),
        (date(2028, 1, 7), "venerdì 7 gennaio 2028"),
        (date(2028, 2, 26), "sabato 26 febbraio 2028"),
        (SUNDAY, "domenica 14 marzo 2027"),
    ],
)
def test_every_italian_day_and_month_name_is_in_lower_case(day, expected):
    with translation.override("it"):
        assert formats.date_format(day, "l j F Y") == expected
        assert day_in_words(day, with_year=True) == expected


def test_the_date_filter_in_a_template_reads_as_a_sentence():
    template = Template('{% load i18n %}{{ when|date:"DATETIME_FORMAT" }}')
    with translation.override("it"), timezone.override(ZoneInfo("Europe/Rome")):
        assert template.render(Context({"when": EVENING})) == "domenica 14 marzo 2027, 19:00"


@pytest.mark.parametrize(
    ("language", "zone", "expected"),
    [
        ("en", "Europe/Rome", "Rome time"),
        ("it", "Europe/Rome", "ora di Roma"),
        ("en", "America/New_York", "New York time"),
        ("it", "America/New_York", "ora di New York"),
        ("it", "America/Argentina/Buenos_Aires", "ora di Buenos Aires"),
        ("it", "UTC", "UTC"),
    ],
)
def test_time_zones_are_told_by_their_place(language, zone, expected):
    with translation.override(language):
        assert zone_label(zone) == expected


PLACES = Template(
    "{% load i18n %}{% blocktranslate count taken=taken with total=total trimmed %}"
    "{{ taken }} of {{ total }} places taken{% plural %}"
    "{{ taken }} of {{ total }} places taken{% endblocktranslate %}"
)


@pytest.mark.parametrize(
    ("language", "taken", "expected"),
    [
        ("it", 1, "1 posto occupato su 8"),
        ("it", 3, "3 posti occupati su 8"),
        ("it", 0, "0 posti occupati su 8"),
        ("en", 1, "1 of 8 places taken"),
        ("en", 3, "3 of 8 places taken"),
    ],
)
def test_places_taken_has_real_plural_forms(language, taken, expected):
    with translation.override(language):
        assert PLACES.render(Context({"taken": taken, "total": 8})) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("going", "expected"), [(1, "1 posto occupato su 8"), (3, "3 posti occupati su 8")]
)
def test_the_group_page_counts_places_taken_in_italian(client, going, expected):
    group = SupportGroupFactory(language="it")
    reader = UserFactory(language="it")
    MembershipFactory(group=group, user=reader)
    meeting = MeetingFactory(group=group, capacity=8)
    for person in UserFactory.create_batch(going):
        MembershipFactory(group=group, user=person)
        Rsvp.objects.create(meeting=meeting, user=person, response="going", status="confirmed")
    log_in(client, reader)

    response = client.get(reverse("groups:detail", args=[group.slug]))

    assert expected in response.content.decode()
