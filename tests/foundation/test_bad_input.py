"""What people type that the forms must refuse: the page says what is wrong beside the
field, keeps what was typed, and writes nothing.

Each case posts a form that is right except for one field, then reads the page back as a
screen reader would: the control named after the field is marked invalid, the error text
is tied to it (aria-describedby) or shown in the form's error list at the top, and the
control still holds the value that was sent.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.forms import SupportGroupForm
from groups.models import Membership, Role, SupportGroup
from members.models import NotificationPreferences
from sessions.models import AttendanceChange, Meeting, MeetingStatus
from tests import forms
from tests.auth import log_in
from tests.factories import CoordinatorFactory, MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.meetings.factories import MeetingFactory

pytestmark = pytest.mark.django_db


# --- Reading a form back ------------------------------------------------------------------

VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


@dataclass
class Node:
    tag: str
    attrs: dict
    children: list = field(default_factory=list)

    def text(self) -> str:
        parts = [child if isinstance(child, str) else child.text() for child in self.children]
        return " ".join(" ".join(parts).split())

    def walk(self):
        yield self
        for child in self.children:
            if isinstance(child, Node):
                yield from child.walk()


class _Tree(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = Node("#document", {})
        self._open = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {key: value or "" for key, value in attrs})
        self._open[-1].children.append(node)
        if tag not in VOID:
            self._open.append(node)

    def handle_endtag(self, tag):
        for index in range(len(self._open) - 1, 0, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                return

    def handle_data(self, data):
        self._open[-1].children.append(data)


def parse(body: str) -> Node:
    tree = _Tree()
    tree.feed(body)
    return tree.root


@dataclass
class Feedback:
    value: str | None  # what the control holds now
    invalid: bool  # aria-invalid="true" on the control
    described: str  # the texts its aria-describedby points to
    form_errors: str  # the form's own error list at the top of the page


def feedback(response, name: str) -> Feedback:
    """How the re-drawn page presents the field called `name`."""
    assert response.status_code == 200, response.status_code
    document = parse(response.content.decode())
    nodes = list(document.walk())
    by_id = {node.attrs["id"]: node for node in nodes if "id" in node.attrs}
    controls = [
        node
        for node in nodes
        if node.tag in ("input", "textarea", "select") and node.attrs.get("name") == name
    ]
    assert controls, f"no control named {name!r}"
    control = controls[0]
    if control.tag == "textarea":
        value = "".join(child for child in control.children if isinstance(child, str))
        value = value.removeprefix("\n")  # Django writes a newline after <textarea>
    elif control.tag == "select":
        chosen = [
            node for node in control.walk() if node.tag == "option" and "selected" in node.attrs
        ]
        value = chosen[0].attrs.get("value") if chosen else None
    else:
        value = control.attrs.get("value")
    described = " ".join(
        by_id[ident].text()
        for ident in control.attrs.get("aria-describedby", "").split()
        if ident in by_id
    )
    form_errors = " ".join(
        node.text() for node in nodes if "form-errors" in node.attrs.get("class", "").split()
    )
    return Feedback(
        value=value,
        invalid=control.attrs.get("aria-invalid") == "true",
        described=described,
        form_errors=form_errors,
    )


def assert_refused(response, name: str, *, typed: str, message: str) -> None:
    """The field is marked invalid, its error is tied to it, what was typed is kept."""
    shown = feedback(response, name)
    assert shown.invalid, f"{name} is not marked invalid"
    assert message in shown.described, f"{message!r} not tied to {name}: {shown.described!r}"
    assert shown.value == typed, f"{name} holds {shown.value!r}, not what was typed"


# --- Groups -------------------------------------------------------------------------------

LONG_NAME = "N" * 121


@pytest.fixture
def coordinator_signed_in(client):
    coordinator = CoordinatorFactory(display_name="Coordinator Cora")
    enable_mfa(coordinator)
    log_in(client, coordinator)
    return coordinator


@pytest.fixture
def new_group_form():
    facilitator = UserFactory(email="fiona@example.net")
    return forms.new_group(facilitator.email)


def test_the_good_group_form_used_below_creates_a_group(
    client, coordinator_signed_in, new_group_form
):
    response = client.post(reverse("groups:create"), new_group_form)

    assert response.status_code == 302
    assert SupportGroup.objects.filter(slug="parkinsons-torino").exists()


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        # /groups/new/ is the create page and /groups/invitation/<token>/ an invitation.
        ("new", "That web address is reserved; choose another."),
        ("invitation", "That web address is reserved; choose another."),
        ("New", "That web address is reserved; choose another."),
        ("taken-already", "Another group already uses that web address."),
        ("Taken-Already", "Another group already uses that web address."),
        ("s" * 81, "Ensure this value has at most 80 characters (it has 81)."),
        ("not a slug!", "Enter a valid “slug”"),
    ],
)
def test_group_create_refuses_a_web_address_that_cannot_be_the_groups(
    client, coordinator_signed_in, new_group_form, slug, message
):
    SupportGroupFactory(slug="taken-already")
    before = SupportGroup.objects.count()

    response = client.post(reverse("groups:create"), {**new_group_form, "slug": slug})

    assert_refused(response, "slug", typed=slug, message=message)
    assert feedback(response, "name").value == "Parkinson's Torino"  # the rest is kept too
    assert SupportGroup.objects.count() == before


@pytest.mark.parametrize(
    ("name", "typed", "message"),
    [
        ("name", LONG_NAME, "Ensure this value has at most 120 characters (it has 121)."),
        ("summary", "S" * 281, "Ensure this value has at most 280 characters (it has 281)."),
        ("city", "C" * 81, "Ensure this value has at most 80 characters (it has 81)."),
        ("country", "ITA", "Ensure this value has at most 2 characters (it has 3)."),
        ("capacity", "0", "Ensure this value is greater than or equal to 1."),
        ("capacity", "many", "Enter a whole number."),
        ("facilitator_email", "nobody@example.net", "Nobody with that email address has"),
    ],
)
def test_group_create_refuses_over_long_and_impossible_values(
    client, coordinator_signed_in, new_group_form, name, typed, message
):
    response = client.post(reverse("groups:create"), {**new_group_form, name: typed})

    assert_refused(response, name, typed=typed, message=message)
    assert not SupportGroup.objects.filter(slug="parkinsons-torino").exists()
    assert not Membership.objects.filter(group__slug="parkinsons-torino").exists()


@pytest.fixture
def group_and_facilitator(client):
    group = SupportGroupFactory(name="Harbour Lights", slug="harbour-lights", capacity=12)
    facilitator = UserFactory(display_name="Facilitator Fiona")
    MembershipFactory(group=group, user=facilitator, role=Role.FACILITATOR)
    enable_mfa(facilitator)
    log_in(client, facilitator)
    return group


def edit_form(group, **changes) -> dict:
    values = {name: getattr(group, name) for name in SupportGroupForm.Meta.fields}
    return {key: "" if value is None else value for key, value in {**values, **changes}.items()}


@pytest.mark.parametrize(
    ("name", "typed", "message"),
    [
        ("name", LONG_NAME, "Ensure this value has at most 120 characters (it has 121)."),
        ("summary", "S" * 281, "Ensure this value has at most 280 characters (it has 281)."),
        ("capacity", "-3", "Ensure this value is greater than or equal to 1."),
        ("contact_email", "not-an-address", "Enter a valid email address."),
        ("time_zone", "Mars/Olympus_Mons", "time zone"),
    ],
)
def test_group_edit_refuses_over_long_and_impossible_values(
    client, group_and_facilitator, name, typed, message
):
    group = group_and_facilitator
    saved = SupportGroup.objects.values().get(pk=group.pk)

    response = client.post(
        reverse("groups:edit", args=[group.slug]),
        edit_form(group, **{name: typed, "city": "Savona"}),
    )

    assert_refused(response, name, typed=typed, message=message)
    assert feedback(response, "city").value == "Savona"
    assert SupportGroup.objects.values().get(pk=group.pk) == saved


def test_a_refused_group_edit_still_names_the_group_as_saved(client, group_and_facilitator):
    group = group_and_facilitator

    response = client.post(
        reverse("groups:edit", args=[group.slug]),
        edit_form(group, name="Harbour Lights Renamed", capacity="0"),
    )

    assert feedback(response, "name").value == "Harbour Lights Renamed"  # kept in the form
    body = response.content.decode()
    # ... but the page's title and way back name the group as it is, not as typed.
    assert "Edit Harbour Lights Renamed" not in body
    assert "Manage Harbour Lights Renamed" not in body
    assert "Manage Harbour Lights" in body
    assert SupportGroup.objects.get(pk=group.pk).name == "Harbour Lights"


# --- Meetings -----------------------------------------------------------------------------


@pytest.fixture
def meeting(group_and_facilitator):
    """A one-off meeting a week from now."""
    return MeetingFactory(
        group=group_and_facilitator, starts_at=timezone.now() + timedelta(days=7), title="Walk"
    )


def meeting_form(meeting, **changes) -> dict:
    start = meeting.starts_at.astimezone(ZoneInfo(meeting.time_zone))
    return {
        "title": meeting.title,
        "starts_on": start.date().isoformat(),
        "start_time": start.strftime("%H:%M"),
        "duration_minutes": "90",
        "capacity": "",
        "format": "in-person",
        "venue_name": "Library",
        "address": "Via Roma 1",
        "address_visibility": "members",
        "access_notes": "",
        "video_url": "",
        "dial_in": "",
        "online_notes": "",
        **changes,
    }


def saved(meeting) -> dict:
    return Meeting.objects.values().get(pk=meeting.pk)


def test_the_good_meeting_form_used_below_saves(client, meeting):
    response = client.post(
        reverse("meetings:edit", args=[meeting.pk]), meeting_form(meeting, title="Long walk")
    )

    assert response.status_code == 302
    assert saved(meeting)["title"] == "Long walk"


@pytest.mark.parametrize(
    ("name", "typed", "message"),
    [
        ("starts_on", "2027-02-30", "Enter a valid date."),
        ("starts_on", "31/31/2027", "Enter a valid date."),
        ("starts_on", "10000-01-01", "Enter a valid date."),
        ("start_time", "25:61", "Enter a valid time."),
        ("duration_minutes", "0", "Ensure this value is greater than or equal to 5."),
        ("duration_minutes", "1441", "Ensure this value is less than or equal to 1440."),
        ("capacity", "-2", "Ensure this value is greater than or equal to 1."),
        ("title", "T" * 121, "Ensure this value has at most 120 characters (it has 121)."),
        ("address", "A" * 256, "Ensure this value has at most 255 characters (it has 256)."),
        ("access_notes", "N" * 501, "Ensure this value has at most 500 characters (it has 501)."),
    ],
)
def test_meeting_edit_refuses_impossible_dates_and_over_long_fields(
    client, meeting, name, typed, message
):
    before = saved(meeting)

    response = client.post(
        reverse("meetings:edit", args=[meeting.pk]),
        meeting_form(meeting, **{name: typed, "venue_name": "Town hall"}),
    )

    assert_refused(response, name, typed=typed, message=message)
    assert feedback(response, "venue_name").value == "Town hall"
    assert saved(meeting) == before


def test_meeting_edit_refuses_a_date_in_the_past_and_keeps_it(client, meeting):
    before = saved(meeting)
    yesterday = (timezone.localdate() - timedelta(days=2)).isoformat()

    response = client.post(
        reverse("meetings:edit", args=[meeting.pk]), meeting_form(meeting, starts_on=yesterday)
    )

    shown = feedback(response, "starts_on")
    assert "A meeting can't be moved into the past." in shown.form_errors
    assert shown.value == yesterday
    assert saved(meeting) == before


def test_meeting_cancel_refuses_an_over_long_reason_and_keeps_it(client, meeting):
    reason = "Flooded again, sorry." * 15  # 315 characters
    before = saved(meeting)

    response = client.post(reverse("meetings:cancel", args=[meeting.pk]), {"reason": reason})

    assert_refused(
        response,
        "reason",
        typed=reason,
        message=f"Ensure this value has at most 300 characters (it has {len(reason)}).",
    )
    assert saved(meeting) == before
    assert saved(meeting)["status"] == MeetingStatus.SCHEDULED


# --- Attendance details -------------------------------------------------------------------


@pytest.fixture
def meeting_under_way(group_and_facilitator):
    """Began an hour ago: its register and details are open."""
    return MeetingFactory(
        group=group_and_facilitator,
        starts_at=timezone.now() - timedelta(hours=1),
        guest_count=2,
        facilitator_note="Quiet evening",
    )


def details(meeting) -> tuple:
    meeting.refresh_from_db()
    changes = AttendanceChange.objects.filter(meeting=meeting).count()
    return meeting.guest_count, meeting.facilitator_note, changes


def test_good_attendance_details_are_saved(client, meeting_under_way):
    response = client.post(
        reverse("meetings:attendance_details", args=[meeting_under_way.pk]),
        {"guest_count": "3", "facilitator_note": "Two newcomers"},
    )

    assert response.status_code == 302
    assert details(meeting_under_way)[:2] == (3, "Two newcomers")


@pytest.mark.parametrize(
    ("name", "typed", "message"),
    [
        ("guest_count", "lots", "Enter a whole number."),
        ("guest_count", "2.5", "Enter a whole number."),
        ("guest_count", "-1", "Ensure this value is greater than or equal to 0."),
        ("guest_count", "1001", "Ensure this value is less than or equal to 1000."),
        (
            "guest_count",
            "99999999999999999999999",
            "Ensure this value is less than or equal to 1000.",
        ),
        (
            "facilitator_note",
            "n" * 1001,
            "Ensure this value has at most 1000 characters (it has 1001).",
        ),
    ],
)
def test_attendance_details_refuse_bad_guests_and_long_notes_and_keep_them(
    client, meeting_under_way, name, typed, message
):
    before = details(meeting_under_way)
    form = {"guest_count": "4", "facilitator_note": "Someone new came", name: typed}

    response = client.post(
        reverse("meetings:attendance_details", args=[meeting_under_way.pk]), form
    )

    assert_refused(response, name, typed=typed, message=message)
    other = "facilitator_note" if name == "guest_count" else "guest_count"
    assert feedback(response, other).value == form[other]
    assert details(meeting_under_way) == before


# --- Notification preferences -------------------------------------------------------------


@pytest.mark.parametrize("hour", ["3", "23", "24", "-1", "noon", "18.5"])
def test_notification_preferences_refuse_an_hour_out_of_range(client, hour):
    person = UserFactory()
    log_in(client, person)

    response = client.post(
        reverse("members:notifications"),
        {
            "reminder_day_before": "on",
            "reminder_day_before_hour": hour,
            "reminder_hour_before": "on",
            "attach_calendar": "",
            "meeting_changed": "on",
        },
    )

    shown = feedback(response, "reminder_day_before_hour")
    assert shown.invalid
    assert f"Select a valid choice. {hour} is not one of the available choices." in (
        shown.described
    )
    # A list of hours can't hold one that isn't on it: no hour is picked for the person,
    # and the other choices are as they were ticked.
    assert shown.value is None
    page = parse(response.content.decode())
    ticked = {
        node.attrs["name"]
        for node in page.walk()
        if node.tag == "input" and node.attrs.get("type") == "checkbox" and "checked" in node.attrs
    }
    assert ticked == {"reminder_day_before", "reminder_hour_before", "meeting_changed"}
    assert not NotificationPreferences.objects.filter(user=person).exists()
