"""Every write to meetings, role by role: who may POST, and nothing written otherwise.

The GET matrices (test_views.py) prove who may open each page; these prove the same for
each form behind it (scheduling, editing and cancelling with each scope, attendance,
guests and note, unlocking, RSVPs), and that a refused POST leaves every table as it was.
The last part calls the services directly, as a view that forgot its gate would.
"""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import Visibility
from sessions import services
from sessions.errors import MeetingError
from sessions.models import Attendance, MeetingFormat, MeetingSeries, MeetingStatus, Rsvp
from tests.groups import conftest as groups_conftest
from tests.groups.conftest import PRIVATE_MARKERS
from tests.meetings.factories import (
    MeetingFactory,
    local_start,
    local_today,
    meeting_plan,
    meetings_of,
    series_for,
)
from tests.write_matrix import (
    ALLOWED,
    FORBIDDEN,
    GROUP_STAFF,
    LOGIN,
    NOT_FOUND,
    PASSWORD_ONLY,
    TURNED_AWAY,
    WRITE_ROLES,
    assert_refused,
    assert_service_refuses,
    assert_unchanged,
    build_crew,
    changes,
    people_without_the_role,
    service_cases,
    snapshot,
    table,
)

cast = groups_conftest.cast  # the cast of every role, as in the groups' tests

VIDEO_URL = "https://video.example.org/secret-room-4821"
ADDRESS = "Via Nascosta 7"
PLACE = {
    "format": MeetingFormat.HYBRID,
    "venue_name": "Community hall",
    "address": ADDRESS,
    "address_visibility": "members",
    "video_url": VIDEO_URL,
}
# A refused answer never carries the roster's names nor the members-only place.
MARKERS = [*PRIVATE_MARKERS, VIDEO_URL, ADDRESS]


@pytest.fixture
def crew(cast):
    return build_crew(cast)


@pytest.fixture
def scene(crew):
    """The crew, with six weekly meetings from tomorrow, one under way, one 20 days old."""
    series = series_for(
        crew.group,
        starts_on=local_today() + timedelta(days=1),
        count=6,
        title="Weekly circle",
        place=PLACE,
    )
    now = timezone.now()
    crew.series = series
    crew.upcoming = meetings_of(series)
    crew.under_way = MeetingFactory(group=crew.group, starts_at=now - timedelta(hours=1), **PLACE)
    crew.locked = MeetingFactory(group=crew.group, starts_at=now - timedelta(days=20), **PLACE)
    return crew


def place_data() -> dict:
    return {**PLACE, "step_free": "", "access_notes": "", "dial_in": "", "online_notes": ""}


# ---------------------------------------------------------------- scheduling


@pytest.mark.parametrize(("role", "outcome"), table(GROUP_STAFF))
def test_scheduling_meetings_is_for_the_groups_staff_and_writes_nothing_for_others(
    client, scene, role, outcome
):
    scene.sign_in(client, role)
    before = snapshot()
    response = client.post(
        reverse("meetings:schedule", args=[scene.group.slug]),
        {
            "title": "Monthly extra",
            "frequency": "weekly",
            "starts_on": (local_today() + timedelta(days=3)).isoformat(),
            "start_time": "18:00",
            "duration_minutes": "60",
            "interval": "1",
            "ends": "count",
            "count": "2",
            **place_data(),
        },
    )
    if outcome == ALLOWED:
        assert response.status_code == 302
        created = MeetingSeries.objects.get(group=scene.group, title="Monthly extra")
        assert created.meetings.count() == 2
    else:
        assert_refused(response, outcome, before, markers=MARKERS)


# ---------------------------------------------------------------- editing and cancelling

EDITED = 2  # the third of the six meetings, so that "following" and "all" differ
# scope: which of the six meetings the change reaches
REACHES = {
    services.Scope.THIS: {EDITED},
    services.Scope.FOLLOWING: {2, 3, 4, 5},
    services.Scope.ALL: {0, 1, 2, 3, 4, 5},
}


def six(scene) -> list:
    """The series' six meetings, oldest first, wherever a change has moved them."""
    pks = [meeting.pk for meeting in scene.upcoming]
    found = {meeting.pk: meeting for meeting in scene.group.meetings.filter(pk__in=pks)}
    return [found[pk] for pk in pks]


@pytest.mark.parametrize("scope", REACHES)
@pytest.mark.parametrize(("role", "outcome"), table(GROUP_STAFF))
def test_editing_a_meeting_is_for_the_groups_staff_and_writes_nothing_for_others(
    client, scene, role, outcome, scope
):
    meeting = scene.upcoming[EDITED]
    start = local_start(meeting)
    scene.sign_in(client, role)
    before = snapshot()
    response = client.post(
        reverse("meetings:edit", args=[meeting.pk]),
        {
            "scope": scope,
            "title": "Renamed circle",
            "starts_on": start.date().isoformat(),
            "start_time": start.strftime("%H:%M"),
            "duration_minutes": "90",
            "capacity": "",
            **place_data(),
        },
    )
    if outcome == ALLOWED:
        assert response.status_code == 302
        renamed = {i for i, each in enumerate(six(scene)) if each.title == "Renamed circle"}
        assert renamed == REACHES[scope]
    else:
        assert_refused(response, outcome, before, markers=MARKERS)


@pytest.mark.parametrize("scope", REACHES)
@pytest.mark.parametrize(("role", "outcome"), table(GROUP_STAFF))
def test_cancelling_meetings_is_for_the_groups_staff_and_writes_nothing_for_others(
    client, scene, role, outcome, scope
):
    meeting = scene.upcoming[EDITED]
    scene.sign_in(client, role)
    before = snapshot()
    response = client.post(
        reverse("meetings:cancel", args=[meeting.pk]), {"scope": scope, "reason": "Flooded"}
    )
    if outcome == ALLOWED:
        assert response.status_code == 302
        cancelled = {
            i for i, each in enumerate(six(scene)) if each.status == MeetingStatus.CANCELLED
        }
        assert cancelled == REACHES[scope]
    else:
        assert_refused(response, outcome, before, markers=MARKERS)


# ---------------------------------------------------------------- attendance


@pytest.mark.parametrize("htmx", [False, True], ids=["whole-form", "one-tap-htmx"])
@pytest.mark.parametrize(("role", "outcome"), table(GROUP_STAFF))
def test_marking_attendance_is_for_the_groups_staff_and_writes_nothing_for_others(
    client, scene, role, outcome, htmx
):
    member = scene.people["member"]
    scene.sign_in(client, role)
    before = snapshot()
    response = client.post(
        reverse("meetings:attendance", args=[scene.under_way.pk]),
        {f"status-{member.pk}": "present", f"initial-{member.pk}": ""},
        headers={"HX-Request": "true"} if htmx else {},
    )
    if outcome == ALLOWED:
        assert response.status_code == (200 if htmx else 302)
        if htmx:
            assert "Saved: Quillon-Member, Present" in response.text
        marked = Attendance.objects.get(meeting=scene.under_way, user=member)
        assert (marked.status, marked.marked_by) == ("present", scene.person(role))
    else:
        assert_refused(response, outcome, before, markers=MARKERS)


@pytest.mark.parametrize(("role", "outcome"), table(GROUP_STAFF))
def test_guests_and_note_are_for_the_groups_staff_and_write_nothing_for_others(
    client, scene, role, outcome
):
    scene.sign_in(client, role)
    before = snapshot()
    response = client.post(
        reverse("meetings:attendance_details", args=[scene.under_way.pk]),
        {"guest_count": "3", "facilitator_note": "Two newcomers"},
    )
    if outcome == ALLOWED:
        assert response.status_code == 302
        scene.under_way.refresh_from_db()
        assert (scene.under_way.guest_count, scene.under_way.facilitator_note) == (
            3,
            "Two newcomers",
        )
    else:
        assert_refused(response, outcome, before, markers=MARKERS)


# The page is a staff page (second factor first); the unlock itself is for coordinators.
UNLOCK = {
    **GROUP_STAFF,
    "facilitator": FORBIDDEN,
    "co_facilitator": FORBIDDEN,
}


@pytest.mark.parametrize(("role", "outcome"), table(UNLOCK))
def test_unlocking_attendance_is_for_coordinators_and_writes_nothing_for_others(
    client, scene, role, outcome
):
    scene.sign_in(client, role)
    before = snapshot()
    response = client.post(reverse("meetings:attendance_unlock", args=[scene.locked.pk]))
    if outcome == ALLOWED:
        assert response.status_code == 302
        scene.locked.refresh_from_db()
        assert scene.locked.attendance_unlocked_until > timezone.now()
    else:
        assert_refused(response, outcome, before, markers=MARKERS)


# ---------------------------------------------------------------- RSVPs

# Members of the group answer (staff are members too); anyone else who can see the
# meeting is told only members can answer. RSVPs are not a staff write: no second factor.
RSVP_LISTED = {
    "visitor": LOGIN,
    "outsider": TURNED_AWAY,
    "pending": TURNED_AWAY,
    "member": ALLOWED,
    "peer_moderator": ALLOWED,
    "other_facilitator": TURNED_AWAY,
    "deactivated_co_facilitator": LOGIN,
    "facilitator" + PASSWORD_ONLY: ALLOWED,
    "coordinator" + PASSWORD_ONLY: TURNED_AWAY,
    "facilitator": ALLOWED,
    "co_facilitator": ALLOWED,
    "coordinator": TURNED_AWAY,  # may see the group, but is not in it
}
assert set(RSVP_LISTED) == set(WRITE_ROLES)
# An unlisted group's meetings do not exist for people outside it.
RSVP_UNLISTED = {
    **RSVP_LISTED,
    "outsider": NOT_FOUND,
    "pending": NOT_FOUND,
    "other_facilitator": NOT_FOUND,
}
RSVP_CASES = [
    pytest.param(visibility, role, outcome, id=f"{visibility}-{role}-{outcome}")
    for visibility, matrix in (
        (Visibility.LISTED, RSVP_LISTED),
        (Visibility.UNLISTED, RSVP_UNLISTED),
    )
    for role, outcome in matrix.items()
]


@pytest.mark.parametrize(("visibility", "role", "outcome"), RSVP_CASES)
def test_answering_a_meeting_is_for_members_and_writes_nothing_for_others(
    client, scene, visibility, role, outcome
):
    scene.group.visibility = visibility
    scene.group.save(update_fields=["visibility"])
    meeting = scene.upcoming[0]
    person = scene.sign_in(client, role)
    before = snapshot()
    response = client.post(reverse("meetings:rsvp", args=[meeting.pk]), {"going": "yes"})
    if outcome == ALLOWED:
        assert response.status_code == 302
        assert Rsvp.objects.get(meeting=meeting, user=person).response == "going"
    else:
        assert_refused(response, outcome, before, markers=MARKERS)
        if outcome == TURNED_AWAY:
            assert response["Location"] == meeting.get_absolute_url()


# ---------------------------------------------------------------- services, gate or not


def _update(scene, actor):
    meeting = scene.upcoming[EDITED]
    start = local_start(meeting)
    return services.meeting_update(
        meeting_id=meeting.pk,
        actor=actor,
        starts_on=start.date(),
        start_time=start.time(),
        duration_minutes=90,
        title="Taken over",
        capacity=None,
        place=PLACE,
        scope=services.Scope.ALL,
    )


# name: (action, call(scene, actor), coordinators only)
MEETING_SERVICES = {
    "series_create": (
        "group.manage",
        lambda scene, actor: services.series_create(
            group=scene.group,
            plan=meeting_plan(starts_on=local_today() + timedelta(days=2), count=2),
            actor=actor,
        ),
        False,
    ),
    "meeting_update": ("meeting.manage", _update, False),
    "meeting_cancel": (
        "meeting.manage",
        lambda scene, actor: services.meeting_cancel(
            meeting_id=scene.upcoming[EDITED].pk, actor=actor, scope=services.Scope.ALL
        ),
        False,
    ),
    "meeting_capacity_set": (
        "meeting.manage",
        lambda scene, actor: services.meeting_capacity_set(
            meeting_id=scene.upcoming[0].pk, capacity=1, actor=actor
        ),
        False,
    ),
    "attendance_mark": (
        "meeting.manage",
        lambda scene, actor: services.attendance_mark(
            meeting_id=scene.under_way.pk,
            user_id=scene.people["member"].pk,
            status="present",
            actor=actor,
        ),
        False,
    ),
    "attendance_details_set": (
        "meeting.manage",
        lambda scene, actor: services.attendance_details_set(
            meeting_id=scene.under_way.pk, guest_count=9, note="Mine", actor=actor
        ),
        False,
    ),
    "attendance_unlock": (
        "meeting.attendance_unlock",
        lambda scene, actor: services.attendance_unlock(meeting_id=scene.locked.pk, actor=actor),
        True,
    ),
}

SERVICE_CASES = service_cases(MEETING_SERVICES)


@pytest.mark.parametrize(("service", "actor"), SERVICE_CASES)
def test_meeting_services_refuse_actors_without_the_role_and_write_nothing(scene, service, actor):
    assert_service_refuses(scene, MEETING_SERVICES, service, actor)


@pytest.mark.parametrize(
    ("service", "role"),
    [
        ("series_create", "co_facilitator"),
        ("meeting_update", "facilitator"),
        ("meeting_cancel", "coordinator"),
        ("meeting_capacity_set", "co_facilitator"),
        ("attendance_mark", "facilitator"),
        ("attendance_details_set", "co_facilitator"),
        ("attendance_unlock", "coordinator"),
    ],
)
def test_meeting_services_write_for_actors_with_the_role(scene, service, role):
    """The control for the refusals above: the same calls succeed for the right people."""
    _action, call, _coordinators_only = MEETING_SERVICES[service]
    before = snapshot()
    call(scene, scene.people[role])
    assert changes(before, snapshot())


@pytest.mark.parametrize(
    "actor", ["outsider", "pending", "other_facilitator", "former_facilitator", "coordinator"]
)
def test_rsvp_service_refuses_people_outside_the_group_and_writes_nothing(scene, actor):
    """RSVPs are checked by membership, not by a permission rule: a MeetingError."""
    actors = {**people_without_the_role(scene), "coordinator": scene.people["coordinator"]}
    before = snapshot()
    with pytest.raises(MeetingError, match="Only members of the group can answer"):
        services.meeting_rsvp(meeting_id=scene.upcoming[0].pk, member=actors[actor], going=True)
    assert_unchanged(before)
