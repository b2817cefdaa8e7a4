import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from groups.models import (
    Audience,
    CodeOfConduct,
    Format,
    JoinPolicy,
    Membership,
    MembershipStatus,
    Role,
    SupportGroup,
    Topic,
)
from members.models import User
from members.services import coordinator_grant

DEFAULT_PASSWORD = "correct-horse-battery-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.net")
    display_name = factory.Sequence(lambda n: f"Peer{n}")
    full_name = factory.Faker("name")
    time_zone = "Europe/Rome"
    language = "en"

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or DEFAULT_PASSWORD)
        if create:
            self.save(update_fields=["password"])

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class CoordinatorFactory(UserFactory):
    """Someone who coordinates the programme: allowed to act on any group, in none."""

    @factory.post_generation
    def coordinator(self, create, extracted, **kwargs):
        if create:
            coordinator_grant(user=self)


class SupportGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportGroup
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Support group {n}")
    slug = factory.Sequence(lambda n: f"support-group-{n}")
    summary = "A friendly group that meets to share experience and support."
    topic = Topic.DIABETES
    audience = Audience.PATIENTS
    format = Format.IN_PERSON
    language = "en"
    city = "Milano"
    country = "IT"
    time_zone = "Europe/Rome"
    join_policy = JoinPolicy.OPEN

    @factory.post_generation
    def conduct(self, create, extracted, **kwargs):
        if create:
            CodeOfConduct.objects.create(
                group=self, version=1, text=extracted or "Be kind. Keep confidences."
            )


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    group = factory.SubFactory(SupportGroupFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER
    status = MembershipStatus.ACTIVE
    joined_at = factory.LazyFunction(timezone.now)
    accepted_conduct = factory.LazyAttribute(lambda o: o.group.codes_of_conduct.first())
    accepted_conduct_at = factory.LazyFunction(timezone.now)
