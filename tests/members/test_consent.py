import pytest
from django.urls import reverse

from members.models import ConsentKind, ConsentRecord
from members.selectors import consent_state
from tests.auth import log_in


@pytest.mark.django_db
def test_consent_given_and_withdrawn_is_kept_as_history(client, user):
    log_in(client, user)
    client.post(reverse("members:privacy"), {"email_contact": "on", "research_use": "on"})
    client.post(reverse("members:privacy"), {"email_contact": "on"})
    history = list(
        ConsentRecord.objects.filter(user=user, kind=ConsentKind.RESEARCH_USE)
        .order_by("recorded_at", "id")
        .values_list("given", flat=True)
    )
    assert history == [True, False]
    assert consent_state(user=user) == {
        ConsentKind.EMAIL_CONTACT: True,
        ConsentKind.RESEARCH_USE: False,
    }
    page = client.get(reverse("members:privacy"))
    assert page.text.count("Withdrawn") == 1


@pytest.mark.django_db
def test_saving_unchanged_choices_records_nothing_new(client, user):
    log_in(client, user)
    client.post(reverse("members:privacy"), {"email_contact": "on"})
    before = ConsentRecord.objects.count()
    response = client.post(reverse("members:privacy"), {"email_contact": "on"}, follow=True)
    assert ConsentRecord.objects.count() == before
    assert "Nothing has changed" in response.text


@pytest.mark.django_db
def test_signup_records_terms_and_the_optional_choices(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "new.person@example.net",
            "display_name": "Newcomer",
            "time_zone": "Europe/Rome",
            "language": "en",
            "accept_terms": "on",
            "research_use": "on",
            "password1": "a-long-enough-pass-42",
            "password2": "a-long-enough-pass-42",
        },
    )
    assert response.status_code == 302
    records = {r.kind: (r.given, r.version) for r in ConsentRecord.objects.all()}
    assert records == {
        ConsentKind.TERMS: (True, "2026-11"),
        ConsentKind.EMAIL_CONTACT: (False, "2026-11"),
        ConsentKind.RESEARCH_USE: (True, "2026-11"),
    }


@pytest.mark.django_db
def test_signup_without_accepting_the_terms_creates_no_account(client):
    from members.models import User

    client.post(
        reverse("account_signup"),
        {
            "email": "new.person@example.net",
            "display_name": "Newcomer",
            "time_zone": "Europe/Rome",
            "language": "en",
            "password1": "a-long-enough-pass-42",
            "password2": "a-long-enough-pass-42",
        },
    )
    assert not User.objects.filter(email="new.person@example.net").exists()
