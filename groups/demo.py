"""Demo support groups across the programme's populations, formats and languages."""

from datetime import timedelta

from django.utils import timezone

from groups.models import (
    Audience,
    CodeOfConduct,
    Format,
    GroupStatus,
    JoinPolicy,
    Membership,
    MembershipStatus,
    Role,
    SupportGroup,
    Topic,
    Visibility,
)

DEFAULT_CODE_OF_CONDUCT = """\
1. What is said in the group stays in the group.
2. Speak from your own experience; listen without judging or fixing.
3. No medical advice: share what worked for you, and talk to your care team.
4. Be kind. No harassment, discrimination or selling.
5. If someone is at risk, tell a facilitator at once.
"""

DEMO_GROUPS = [
    {
        "slug": "diabete-tipo-2-milano",
        "name": "Diabete tipo 2: vivere bene",
        "summary": "Incontri mensili a Milano per chi vive con il diabete di tipo 2.",
        "topic": Topic.DIABETES,
        "audience": Audience.PATIENTS,
        "format": Format.IN_PERSON,
        "language": "it",
        "city": "Milano",
        "region": "Lombardia",
        "country": "IT",
        "time_zone": "Europe/Rome",
        "join_policy": JoinPolicy.OPEN,
        "facilitator": "facilitator",
        "members": range(0, 12),
    },
    {
        "slug": "breast-cancer-survivors-nyc",
        "name": "Breast cancer survivors circle",
        "summary": "A hybrid circle in Brooklyn for women after breast cancer treatment.",
        "topic": Topic.BREAST_CANCER,
        "audience": Audience.PATIENTS,
        "format": Format.HYBRID,
        "language": "en",
        "city": "New York",
        "region": "NY",
        "country": "US",
        "time_zone": "America/New_York",
        "join_policy": JoinPolicy.APPROVAL,
        "facilitator": "second_facilitator",
        "members": range(20, 30),
    },
    {
        "slug": "rare-disease-family-network",
        "name": "Rare disease family network",
        "summary": "Online evenings for parents and siblings of children with a rare disease.",
        "topic": Topic.RARE_DISEASE,
        "audience": Audience.CAREGIVERS,
        "format": Format.ONLINE,
        "language": "en",
        "city": "",
        "region": "",
        "country": "US",
        "time_zone": "America/New_York",
        "join_policy": JoinPolicy.INVITATION,
        "facilitator": "second_facilitator",
        "members": range(30, 36),
    },
    {
        "slug": "bipolare-roma",
        "name": "Gruppo di auto mutuo aiuto: disturbo bipolare",
        "summary": "Un gruppo tra pari a Roma per persone con disturbo bipolare.",
        "topic": Topic.SERIOUS_MENTAL_ILLNESS,
        "audience": Audience.PATIENTS,
        "format": Format.IN_PERSON,
        "language": "it",
        "city": "Roma",
        "region": "Lazio",
        "country": "IT",
        "time_zone": "Europe/Rome",
        "join_policy": JoinPolicy.APPROVAL,
        "facilitator": "facilitator",
        "members": range(12, 18),
    },
    {
        "slug": "caffe-alzheimer-bologna",
        "name": "Caffè Alzheimer: familiari che assistono",
        "summary": "Uno spazio accogliente per chi si prende cura di un familiare con demenza.",
        "topic": Topic.DEMENTIA,
        "audience": Audience.CAREGIVERS,
        "format": Format.IN_PERSON,
        "language": "it",
        "city": "Bologna",
        "region": "Emilia-Romagna",
        "country": "IT",
        "time_zone": "Europe/Rome",
        "join_policy": JoinPolicy.OPEN,
        "capacity": 12,
        "facilitator": "facilitator",
        "members": range(6, 18),
    },
    {
        # The caregiver group a newcomer can join and come to at once: open, with room,
        # meeting every week online (sessions/demo.py). The café above is full.
        "slug": "caregiver-demenza-online",
        "name": "Prendersi cura insieme: demenza",
        "summary": "Ogni settimana online, per familiari di persone con demenza o Alzheimer.",
        "topic": Topic.DEMENTIA,
        "audience": Audience.CAREGIVERS,
        "format": Format.ONLINE,
        "language": "it",
        "city": "",
        "region": "",
        "country": "IT",
        "time_zone": "Europe/Rome",
        "join_policy": JoinPolicy.OPEN,
        "capacity": 30,
        "facilitator": "facilitator",
        "members": range(0, 4),
    },
    {
        "slug": "long-covid-online",
        "name": "Long COVID online circle",
        "summary": "Fortnightly video meetings for people with long COVID and their families.",
        "topic": Topic.LONG_COVID,
        "audience": Audience.BOTH,
        "format": Format.ONLINE,
        "language": "en",
        "city": "",
        "region": "",
        "country": "US",
        "time_zone": "America/New_York",
        "join_policy": JoinPolicy.OPEN,
        "facilitator": "facilitator",
        "members": range(24, 40),
    },
    {
        "slug": "scompenso-cardiaco-torino",
        "name": "Cuore in cammino: scompenso cardiaco",
        "summary": "Camminate e chiacchiere per chi vive con lo scompenso cardiaco.",
        "topic": Topic.HEART_FAILURE,
        "audience": Audience.BOTH,
        "format": Format.HYBRID,
        "language": "it",
        "city": "Torino",
        "region": "Piemonte",
        "country": "IT",
        "time_zone": "Europe/Rome",
        "join_policy": JoinPolicy.OPEN,
        "status": GroupStatus.PAUSED,
        "facilitator": "facilitator",
        "members": range(0, 5),
    },
    {
        "slug": "copd-breathe-easy-unlisted",
        "name": "Breathe easy (COPD) - pilot",
        "summary": "A closed pilot group; shared by link only.",
        "topic": Topic.COPD,
        "audience": Audience.PATIENTS,
        "format": Format.IN_PERSON,
        "language": "en",
        "city": "Boston",
        "region": "MA",
        "country": "US",
        "time_zone": "America/New_York",
        "join_policy": JoinPolicy.APPROVAL,
        "visibility": Visibility.UNLISTED,
        "facilitator": "second_facilitator",
        "members": range(36, 40),
    },
]


def _membership(group, user, *, role, conduct, status=MembershipStatus.ACTIVE, **extra) -> None:
    # Joining dates spread over the months of demo history, so retention has cohorts.
    now = timezone.now() - timedelta(days=(user.pk * 11 + group.pk * 5) % 150)
    Membership.objects.get_or_create(
        group=group,
        user=user,
        defaults={
            "role": role,
            "status": status,
            "joined_at": now if status == MembershipStatus.ACTIVE else None,
            "waitlisted_at": now if status == MembershipStatus.WAITLISTED else None,
            "accepted_conduct": conduct,
            "accepted_conduct_at": now,
            **extra,
        },
    )


def _seed_roles_and_requests(by_slug: dict, people: dict) -> None:
    """Every role and every membership state, so each screen has something to show."""
    others = people["others"]
    diabetes = by_slug["diabete-tipo-2-milano"]
    conduct = diabetes.codes_of_conduct.first()
    Membership.objects.filter(group=diabetes, user=others[1]).update(role=Role.PEER_MODERATOR)
    Membership.objects.filter(group=diabetes, user=others[2]).update(role=Role.CO_FACILITATOR)

    breast = by_slug["breast-cancer-survivors-nyc"]
    for index, message in (
        (30, "I finished radiotherapy in May and would love to meet others."),
        (31, ""),
    ):
        _membership(
            breast,
            others[index],
            role=Role.MEMBER,
            conduct=breast.codes_of_conduct.first(),
            status=MembershipStatus.PENDING,
            request_message=message,
        )
    bipolar = by_slug["bipolare-roma"]
    _membership(
        bipolar,
        people["member"],
        role=Role.MEMBER,
        conduct=bipolar.codes_of_conduct.first(),
        status=MembershipStatus.PENDING,
        request_message="Vorrei partecipare, grazie.",
    )
    _membership(
        bipolar,
        others[19],
        role=Role.MEMBER,
        conduct=bipolar.codes_of_conduct.first(),
        status=MembershipStatus.PENDING,
    )
    cafe = by_slug["caffe-alzheimer-bologna"]
    for index in (18, 19):
        _membership(
            cafe,
            others[index],
            role=Role.MEMBER,
            conduct=cafe.codes_of_conduct.first(),
            status=MembershipStatus.WAITLISTED,
        )
    _membership(
        diabetes,
        others[19],
        role=Role.MEMBER,
        conduct=conduct,
        status=MembershipStatus.DECLINED,
        decision_reason="Questo gruppo è per chi vive a Milano: prova il gruppo online.",
    )


def seed_groups(people: dict) -> list[SupportGroup]:
    groups = []
    for spec in DEMO_GROUPS:
        spec = dict(spec)
        facilitator = people[spec.pop("facilitator")]
        member_indexes = spec.pop("members")
        group, _ = SupportGroup.objects.update_or_create(
            slug=spec.pop("slug"),
            defaults={
                "description": spec["summary"],
                "contact_email": "groups@example.org",
                **spec,
            },
        )
        conduct, _ = CodeOfConduct.objects.get_or_create(
            group=group, version=1, defaults={"text": DEFAULT_CODE_OF_CONDUCT}
        )
        _membership(group, facilitator, role=Role.FACILITATOR, conduct=conduct)
        for index in member_indexes:
            _membership(group, people["others"][index], role=Role.MEMBER, conduct=conduct)
        groups.append(group)
    by_slug = {group.slug: group for group in groups}
    _seed_roles_and_requests(by_slug, people)
    for slug in ("diabete-tipo-2-milano", "long-covid-online"):
        group = by_slug[slug]
        _membership(
            group, people["member"], role=Role.MEMBER, conduct=group.codes_of_conduct.first()
        )
    return groups
