"""Past meetings and the register in the browser (issue #18, parts 1 and 4).

The fixed path, "taking attendance for 18 people who all came", counted in taps from the
group's page:

- before: no page linked to a meeting once it had started, so the facilitator typed the
  meeting's address, tapped "Take attendance", then tapped "Present" once per person:
  19 taps and a typed URL (20 with the "Save attendance" button without scripts).
- now: "Take attendance" in the group's recent meetings, then "Mark everyone who said
  they were going as present": 2 taps (3 when someone did not come: "Mark the rest
  absent"). The email after the meeting links straight to the register: 1 tap from it.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from groups.models import Role
from sessions import services
from sessions.models import Attendance, Meeting, MeetingStatus, Rsvp, RsvpStatus
from tests.browser import accessibility
from tests.browser.accessibility import assert_accessible
from tests.browser.test_meeting_journeys import no_script, sign_in_tab  # noqa: F401
from tests.factories import MembershipFactory, SupportGroupFactory, UserFactory
from tests.groups.conftest import enable_mfa
from tests.meetings.factories import MeetingFactory

pytestmark = pytest.mark.browser

NAMES = [
    "Abebe", "Beatrice", "Chen", "Dario", "Elif", "Gianni", "Hana", "Ines", "Jonas",
    "Kofi", "Lucia", "Marco", "Nadia", "Omar", "Paola", "Quentin", "Rosa",
]  # fmt: skip


class Evening:
    """Harbour Lights met an hour ago: the facilitator and 17 members all said going."""

    def __init__(self, *, everyone_going: bool = True):
        self.group = SupportGroupFactory(name="Harbour Lights", slug="harbour-lights")
        self.facilitator = UserFactory(display_name="Fiona")
        MembershipFactory(group=self.group, user=self.facilitator, role=Role.FACILITATOR)
        enable_mfa(self.facilitator)
        self.people = [self.facilitator]
        for name in NAMES:
            person = UserFactory(display_name=name)
            MembershipFactory(group=self.group, user=person)
            self.people.append(person)
        self.meeting = MeetingFactory(
            group=self.group,
            title="Harbour Lights evening",
            starts_at=timezone.now() - timedelta(hours=2, minutes=30),
        )
        going = self.people if everyone_going else self.people[:-1]
        Rsvp.objects.bulk_create(
            Rsvp(meeting=self.meeting, user=person, response="going", status=RsvpStatus.CONFIRMED)
            for person in going
        )

    def marks(self) -> dict:
        return dict(
            Attendance.objects.filter(meeting=self.meeting).values_list(
                "user__display_name", "status"
            )
        )


def test_facilitator_takes_attendance_for_eighteen_who_all_came(page, sign_in):
    evening = Evening()
    sign_in(evening.facilitator)
    main = page.get_by_role("main")
    taps = 0

    page.goto("/groups/harbour-lights/")
    recent = main.get_by_role("region", name="Recent meetings")
    expect(recent).to_contain_text("Register not taken: 18 people said they were going")
    assert_accessible(page)
    recent.get_by_role("link", name="Take attendance").click()
    taps += 1

    expect(main.get_by_role("heading", level=1)).to_have_text("Attendance")
    counter = main.locator("#attendance-count")
    expect(counter).to_have_text("0 of 18 members marked")
    expect(main.get_by_role("button", name="Save attendance")).to_have_count(0)
    expect(main.get_by_role("button", name="Mark the rest absent")).to_have_count(0)
    assert_accessible(page)
    loads = len(accessibility.audit_of(page).visited)

    main.get_by_role(
        "button", name="Mark everyone who said they were going as present (18)"
    ).click()
    taps += 1

    expect(counter).to_have_text("18 of 18 members marked")
    expect(main.get_by_role("status")).to_have_text("18 people marked present.")
    undo = main.get_by_role("button", name="Undo")
    expect(undo).to_be_focused()
    assert len(accessibility.audit_of(page).visited) == loads, "the tap reloaded the page"
    assert evening.marks() == {person.display_name: "present" for person in evening.people}
    assert_accessible(page)
    assert taps == 2

    # The counter stays in view at the end of the list.
    main.get_by_role("group", name="Rosa").scroll_into_view_if_needed()
    box = counter.bounding_box()
    assert 0 <= box["y"] < page.viewport_size["height"], f"the counter scrolled away: {box}"

    # Undo puts the register back as it was, then the marks go on again.
    undo.click()
    expect(counter).to_have_text("0 of 18 members marked")
    expect(main.get_by_role("status")).to_have_text("Undone: 18 marks put back as they were.")
    assert evening.marks() == {}
    assert_accessible(page)
    main.get_by_role(
        "button", name="Mark everyone who said they were going as present (18)"
    ).click()
    expect(counter).to_have_text("18 of 18 members marked")

    page.get_by_role("link", name="Harbour Lights evening").click()
    expect(main).to_contain_text("18 came")
    staff = main.get_by_role("region", name="For facilitators")
    expect(staff).to_contain_text("Register: 18 present, 0 late, 0 excused, 0 absent.")
    expect(staff).to_contain_text("18 people said they were going")
    expect(main.get_by_role("region", name="Your answer")).to_have_count(0)
    assert_accessible(page)


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_one_who_did_not_come_takes_a_third_tap(page, sign_in):
    evening = Evening(everyone_going=False)
    sign_in(evening.facilitator)
    main = page.get_by_role("main")

    page.goto(f"/meetings/{evening.meeting.pk}/attendance/")
    assert_accessible(page)
    main.get_by_role(
        "button", name="Mark everyone who said they were going as present (17)"
    ).click()
    rest = main.get_by_role("button", name="Mark the rest absent (1)")
    expect(rest).to_be_visible()
    rest.click()

    expect(main.locator("#attendance-count")).to_have_text("18 of 18 members marked")
    expect(main.get_by_role("status")).to_have_text("1 person marked absent.")
    assert evening.marks()["Rosa"] == "absent"
    assert_accessible(page)


def test_the_register_works_without_javascript(no_script, live_server):  # noqa: F811
    evening = Evening(everyone_going=False)
    tab = no_script.page
    sign_in_tab(tab, evening.facilitator, live_server)
    main = tab.get_by_role("main")

    tab.goto(f"/meetings/{evening.meeting.pk}/attendance/")
    expect(main.get_by_role("button", name="Save the marks you chose")).to_be_visible()
    no_script.check()
    with tab.expect_navigation():
        main.get_by_role(
            "button", name="Mark everyone who said they were going as present (17)"
        ).click()
    expect(main).to_contain_text("17 people marked present.")
    expect(main).to_contain_text("17 of 18 members marked")
    no_script.check()
    with tab.expect_navigation():
        main.get_by_role("button", name="Mark the rest absent (1)").click()
    expect(main).to_contain_text("18 of 18 members marked")
    no_script.check()
    with tab.expect_navigation():
        main.get_by_role("button", name="Undo").click()
    expect(main).to_contain_text("Undone: 1 mark put back as it was.")
    expect(main).to_contain_text("17 of 18 members marked")
    no_script.check()
    assert "Rosa" not in evening.marks()


def test_facilitator_reinstates_a_cancelled_meeting(page, sign_in):
    evening = Evening()
    upcoming = MeetingFactory(group=evening.group, title="Next week", capacity=20)
    Rsvp.objects.create(
        meeting=upcoming, user=evening.people[1], response="going", status=RsvpStatus.CONFIRMED
    )
    services.meeting_cancel(meeting_id=upcoming.pk, actor=evening.facilitator, reason="Rain")
    sign_in(evening.facilitator)
    main = page.get_by_role("main")

    page.goto(f"/meetings/{upcoming.pk}/")
    expect(main).to_contain_text("This meeting is cancelled.")
    expect(main).not_to_contain_text("Places")
    expect(main.get_by_role("link", name="Take attendance")).to_have_count(0)
    assert_accessible(page)
    main.get_by_role("button", name="Reinstate this meeting").click()

    expect(page.get_by_role("status").first).to_contain_text("The meeting is back on.")
    expect(main).not_to_contain_text("This meeting is cancelled.")
    expect(main).to_contain_text("1 place taken of 20")
    assert_accessible(page)
    assert Meeting.objects.get(pk=upcoming.pk).status == MeetingStatus.SCHEDULED


@pytest.mark.parametrize("viewport", ["phone"], indirect=True)
def test_member_finds_last_weeks_meeting_and_reads_they_went(page, sign_in):
    evening = Evening()
    member = evening.people[1]
    Attendance.objects.create(meeting=evening.meeting, user=member, status="present")
    sign_in(member)
    main = page.get_by_role("main")

    page.goto("/groups/harbour-lights/")
    recent = main.get_by_role("region", name="Recent meetings")
    expect(recent).to_contain_text("You went")
    expect(recent.get_by_role("link", name="Take attendance")).to_have_count(0)
    assert_accessible(page)
    recent.get_by_role("link").first.click()

    expect(main).to_contain_text("You went.")
    expect(main).to_contain_text("1 came")
    expect(main.get_by_role("region", name="For facilitators")).to_have_count(0)
    assert_accessible(page)
