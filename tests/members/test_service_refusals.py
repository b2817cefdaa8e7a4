"""The members services refuse what the forms never send, and write nothing."""

import pytest

from members.services import user_language_set, user_profile_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_unsupported_language_is_refused_and_the_old_one_kept():
    person = UserFactory(language="it")
    with pytest.raises(ValueError, match="Unsupported language 'xx'"):
        user_language_set(user=person, language="xx")
    person.refresh_from_db()
    assert person.language == "it"


def test_an_unknown_time_zone_is_refused_and_the_profile_kept():
    person = UserFactory(display_name="Quiet Heron", time_zone="Europe/Rome")
    with pytest.raises(ValueError, match="Unknown time zone 'Mars/Olympus'"):
        user_profile_update(
            user=person,
            display_name="Someone Else",
            full_name="",
            time_zone="Mars/Olympus",
            language="en",
        )
    person.refresh_from_db()
    assert (person.display_name, person.time_zone) == ("Quiet Heron", "Europe/Rome")
