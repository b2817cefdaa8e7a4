"""Demo people for a first look; every account shares one published password."""

from allauth.account.models import EmailAddress

from members.consent import CURRENT_VERSIONS
from members.models import ConsentKind, ConsentRecord, User
from members.services import coordinator_grant

DEMO_PASSWORD = "demo-pass-2026"

DEMO_MEMBER_NAMES = [
    "Anna",
    "Marco",
    "Giulia",
    "Luca",
    "Sara",
    "Paolo",
    "Elena",
    "Davide",
    "Chiara",
    "Matteo",
    "Francesca",
    "Simone",
    "Laura",
    "Andrea",
    "Martina",
    "Stefano",
    "Alessia",
    "Roberto",
    "Valentina",
    "Giorgio",
    "Maria",
    "James",
    "Linda",
    "Robert",
    "Patricia",
    "Michael",
    "Jennifer",
    "David",
    "Susan",
    "Daniel",
    "Karen",
    "Thomas",
    "Nancy",
    "Kevin",
    "Lisa",
    "Brian",
    "Betty",
    "Jason",
    "Sandra",
    "Eric",
]


def _person(email: str, display_name: str, *, time_zone: str, language: str) -> User:
    user, created = User.objects.get_or_create(
        email=email,
        defaults={"display_name": display_name, "time_zone": time_zone, "language": language},
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    for kind in (ConsentKind.TERMS, ConsentKind.EMAIL_CONTACT):
        ConsentRecord.objects.get_or_create(
            user=user, kind=kind, version=CURRENT_VERSIONS[kind], defaults={"given": True}
        )
    return user


def seed_people() -> dict[str, object]:
    member = _person("member@example.org", "Sam", time_zone="Europe/Rome", language="en")
    facilitator = _person(
        "facilitator@example.org", "Franca", time_zone="Europe/Rome", language="en"
    )
    coordinator = _person("coordinator@example.org", "Cora", time_zone="Europe/Rome", language="en")
    coordinator_grant(user=coordinator)
    second_facilitator = _person(
        "facilitator.ny@example.org", "Dana", time_zone="America/New_York", language="en"
    )
    others = []
    for number, name in enumerate(DEMO_MEMBER_NAMES, start=1):
        italian = number <= 20
        others.append(
            _person(
                f"demo-member-{number:02d}@example.org",
                name,
                time_zone="Europe/Rome" if italian else "America/New_York",
                language="it" if italian else "en",
            )
        )
    everyone = [member, facilitator, coordinator, second_facilitator, *others]
    return {
        "by_id": {person.pk: person for person in everyone},
        "member": member,
        "facilitator": facilitator,
        "second_facilitator": second_facilitator,
        "coordinator": coordinator,
        "others": others,
    }
