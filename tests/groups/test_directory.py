import pytest
from django.urls import reverse

from groups.models import Format, GroupStatus, Topic, Visibility
from tests.factories import SupportGroupFactory


@pytest.fixture
def groups(db):
    return {
        "diabetes": SupportGroupFactory(name="Sweet Talk", topic=Topic.DIABETES, city="Milano"),
        "online": SupportGroupFactory(
            name="Long COVID circle", topic=Topic.LONG_COVID, format=Format.ONLINE, city=""
        ),
        "italian": SupportGroupFactory(
            name="Caffè Alzheimer", topic=Topic.DEMENTIA, language="it", city="Bologna"
        ),
        "unlisted": SupportGroupFactory(name="Hidden Harbour", visibility=Visibility.UNLISTED),
        "closed": SupportGroupFactory(name="Closed Cove", status=GroupStatus.CLOSED),
    }


def names(response) -> set[str]:
    return {group.name for group in response.context["page"].object_list}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, {"Sweet Talk", "Long COVID circle", "Caffè Alzheimer"}),
        ({"topic": "diabetes"}, {"Sweet Talk"}),
        ({"format": "online"}, {"Long COVID circle"}),
        ({"language": "it"}, {"Caffè Alzheimer"}),
        ({"area": "bologna"}, {"Caffè Alzheimer"}),
        ({"q": "covid"}, {"Long COVID circle"}),
        ({"q": "friendly group"}, {"Sweet Talk", "Long COVID circle", "Caffè Alzheimer"}),
        ({"topic": "diabetes", "format": "online"}, set()),
    ],
)
def test_directory_filters_combine_and_never_show_unlisted_or_closed(
    client, groups, query, expected
):
    response = client.get(reverse("groups:directory"), query)
    assert names(response) == expected


def test_unknown_filter_values_are_ignored_not_an_error(client, groups):
    response = client.get(reverse("groups:directory"), {"topic": "astrology", "format": "online"})
    assert response.status_code == 200
    assert names(response) == {"Long COVID circle"}


def test_empty_result_explains_what_to_try(client, groups):
    response = client.get(reverse("groups:directory"), {"q": "nothing like this"})
    assert "No groups match these filters" in response.text
    assert "0 groups found" in response.text


def test_pages_keep_the_filters_in_their_links(client, db):
    for number in range(25):
        SupportGroupFactory(name=f"Circle {number:02d}", topic=Topic.COPD)
    response = client.get(reverse("groups:directory"), {"topic": "copd"})
    assert "?topic=copd&amp;page=2" in response.text
    second = client.get(reverse("groups:directory"), {"topic": "copd", "page": 2})
    assert len(second.context["page"].object_list) == 5


def test_unlisted_group_opens_by_direct_link_and_closed_group_says_so(client, groups):
    assert client.get(groups["unlisted"].get_absolute_url()).status_code == 200
    response = client.get(groups["closed"].get_absolute_url())
    assert "This group has closed" in response.text
