import re

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import override_settings

from groups.models import SupportGroup
from members.models import User


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"members", "groups", "meetings", "account", "auth"}
    }


@pytest.mark.django_db
def test_seed_demo_twice_leaves_the_same_row_counts():
    call_command("seed_demo", stdout=None)
    first = row_counts()
    call_command("seed_demo")
    assert row_counts() == first
    assert first["groups.SupportGroup"] >= 6


@pytest.mark.django_db
def test_seed_demo_creates_the_published_demo_logins():
    call_command("seed_demo")
    for email in ("member@example.org", "facilitator@example.org", "coordinator@example.org"):
        person = User.objects.get(email=email)
        assert person.check_password("demo-pass-2026")
        assert person.emailaddress_set.get(email=email).verified
    assert User.objects.get(email="coordinator@example.org").is_coordinator
    assert not User.objects.get(email="facilitator@example.org").is_coordinator
    assert set(SupportGroup.objects.values_list("format", flat=True)) == {
        "in-person",
        "online",
        "hybrid",
    }
    assert {"en", "it"} <= set(SupportGroup.objects.values_list("language", flat=True))


@pytest.mark.django_db
@override_settings(DEMO_DATA_ALLOWED=False)
def test_seed_demo_refuses_where_demo_data_is_not_allowed():
    with pytest.raises(
        CommandError, match=re.escape("Demo data is refused with these settings (production?).")
    ):
        call_command("seed_demo")
    assert not User.objects.exists()
