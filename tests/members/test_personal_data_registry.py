"""Every app of the project answers for the personal data it holds.

Each project app (every installed app whose code lives in this repository, including
any added later) registers at least one section with members.personal_data, and every
model of a project app that links to a person (a relation to the user model, or a bare
user id column as in the report tables) is declared by a section of its own app, or
listed below with the reason it needs none. A new model holding people's data then fails
here until someone decides what its export and its erasure are.
"""

import sys
import sysconfig
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured

from members import personal_data

# Models that link to a person but need no section, and why.
LINKED_WITHOUT_A_SECTION = {
    "groups.CodeOfConduct": (
        "created_by only says which member of staff wrote a version of the group's rules; "
        "after erasure it points at the anonymised user row, and the text is the group's."
    ),
}


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def project_app_labels() -> set[str]:
    """Installed apps whose code is in the project folder, not in the virtualenv."""
    root = Path(settings.BASE_DIR).resolve()
    installed_elsewhere = {
        Path(folder).resolve()
        for folder in (
            sys.prefix,
            sys.base_prefix,
            sysconfig.get_paths()["purelib"],
            sysconfig.get_paths()["platlib"],
        )
    }
    return {
        config.label
        for config in apps.get_app_configs()
        if _inside(Path(config.path).resolve(), root)
        and not any(_inside(Path(config.path).resolve(), other) for other in installed_elsewhere)
    }


def apps_without_a_section(sections) -> list[str]:
    registered = {section.app_label for section in sections}
    return sorted(project_app_labels() - registered)


def person_links(model) -> list[str]:
    """The model's fields that point at a person."""
    user_model = get_user_model()
    links = []
    for field in model._meta.get_fields():
        if field.auto_created and not field.concrete:
            continue  # the other side of someone else's relation
        column = getattr(field, "column", None) or ""
        bare_user_id = column == "user_id" or column.endswith("_user_id")
        if (field.is_relation and field.related_model is user_model) or bare_user_id:
            links.append(field.name)
    return links


def models_linked_to_people() -> dict[str, list[str]]:
    return {
        model._meta.label: links
        for label in project_app_labels()
        for model in apps.get_app_config(label).get_models()
        if (links := person_links(model))
    }


def models_no_section_answers_for(sections) -> list[str]:
    """Linked models that no section *of the model's own app* declares, nor the list above."""
    declared = {
        model._meta.label
        for section in sections
        for model in section.models
        if model._meta.app_label == section.app_label
    }
    return sorted(set(models_linked_to_people()) - declared - set(LINKED_WITHOUT_A_SECTION))


# --- The project as it is -------------------------------------------------------------


def test_the_project_apps_are_found_by_where_their_code_lives():
    labels = project_app_labels()

    assert {"members", "groups", "meetings", "outcomes"} <= labels
    assert not labels & {"admin", "auth", "sessions", "account", "mfa"}  # Django's, allauth's


def test_every_project_app_registers_a_personal_data_section():
    assert apps_without_a_section(personal_data.sections()) == []


def test_every_model_linked_to_a_person_is_declared_by_its_apps_section():
    assert models_no_section_answers_for(personal_data.sections()) == []


def test_the_list_of_models_without_a_section_holds_only_linked_models():
    linked = models_linked_to_people()
    for label in LINKED_WITHOUT_A_SECTION:
        assert label in linked, f"{label} no longer links to a person: drop it from the list"


def test_the_links_the_checks_see_include_relations_and_bare_user_ids():
    linked = models_linked_to_people()

    assert linked["meetings.Attendance"] == ["user", "marked_by"]
    assert linked["members.AuditEvent"] == ["actor", "subject"]
    assert linked["outcomes.AttendedDay"] == ["user_id"]  # no foreign key: a trigger fills it
    assert "groups.SupportGroup" not in linked


def test_section_names_are_unique_and_say_which_app_registered_them():
    sections = personal_data.sections()

    assert len({section.name for section in sections}) == len(sections)
    by_name = {section.name: section.app_label for section in sections}
    assert by_name["group_memberships"] == "groups"
    assert by_name["meeting_rsvps"] == "meetings"
    assert by_name["email_notifications"] == "members"
    assert by_name["attendance_counted_in_reports"] == "outcomes"


# --- The checks catch what is missing -------------------------------------------------


def test_an_app_that_registers_nothing_is_caught():
    without_outcomes = [s for s in personal_data.sections() if s.app_label != "outcomes"]

    assert apps_without_a_section(without_outcomes) == ["outcomes"]


def test_a_linked_model_that_no_section_declares_is_caught():
    without_feed = [s for s in personal_data.sections() if s.name != "calendar_feed"]

    assert models_no_section_answers_for(without_feed) == ["meetings.CalendarFeedToken"]


def test_a_model_declared_only_by_another_apps_section_is_caught():
    from sessions.models import Rsvp

    moved = []
    for section in personal_data.sections():
        models = tuple(m for m in section.models if m is not Rsvp)
        if section.app_label == "members":
            models += (Rsvp,)
        moved.append(
            personal_data.PersonalDataSection(
                name=section.name,
                app_label=section.app_label,
                export=section.export,
                erase=section.erase,
                models=models,
            )
        )

    assert models_no_section_answers_for(moved) == ["meetings.Rsvp"]


# --- The registry -----------------------------------------------------------------------


@pytest.fixture
def scratch_registry(monkeypatch):
    """Registrations made in a test vanish after it."""
    monkeypatch.setattr(personal_data, "_sections", dict(personal_data._sections))


def test_a_section_name_taken_by_another_app_is_refused(scratch_registry):
    with pytest.raises(ImproperlyConfigured, match="already registered by 'groups'"):
        personal_data.register(
            "group_memberships", app_label="outcomes", export=lambda u: None, erase=lambda u: None
        )


def test_registering_again_from_the_same_app_replaces_the_section(scratch_registry):
    count = len(personal_data.sections())

    personal_data.register(
        "calendar_feed", app_label="meetings", export=lambda u: "new", erase=lambda u: None
    )

    assert len(personal_data.sections()) == count
    assert {s.name: s for s in personal_data.sections()}["calendar_feed"].export(None) == "new"


def test_a_section_must_name_an_installed_app(scratch_registry):
    with pytest.raises(LookupError, match="No installed app with label 'no-such-app'"):
        personal_data.register(
            "anything", app_label="no-such-app", export=lambda u: None, erase=lambda u: None
        )


# --- Scrubbing a person out of other people's text ----------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sam came late", "[erased] came late"),
        ("SAM came; sam left", "[erased] came; [erased] left"),
        ("Samantha came", "Samantha came"),  # another person
        ("ask Sam Smith-Jones.", "ask [erased]."),  # the full name, as one mention
        ("to <sam@example.org>: refused", "to <[erased]>: refused"),
        ("to xsam@example.org", "to xsam@example.org"),  # another address
        ("", ""),
    ],
)
def test_scrub_replaces_whole_word_mentions_in_any_case(text, expected):
    terms = sorted(["Sam", "Sam Smith-Jones", "sam@example.org"], key=len, reverse=True)

    assert personal_data.scrub(text, terms) == expected
