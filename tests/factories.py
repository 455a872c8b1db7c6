"""Factories for tests. Relationships that grant access (carers, memberships,
liaison assignments) are made through the services, as the product makes them,
so that object permissions are granted exactly as in real use."""

from datetime import date

import factory
from allauth.account.models import EmailAddress

from constellation import services
from constellation.models import Carer, Child, Constellation, FosteringService, Household
from people.models import StaffRole, User

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FosteringService

    name = factory.Sequence(lambda n: f"Fostering service {n}")
    out_of_hours_phone = "0300 555 0100"


class ConstellationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Constellation

    service = factory.SubFactory(ServiceFactory)
    name = factory.Sequence(lambda n: f"Constellation {n}")
    area = "Northside"


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    service = factory.SubFactory(ServiceFactory)
    name = factory.Sequence(lambda n: f"Household {n}")
    kind = Household.Kind.SATELLITE
    address = "1 Example Street, Exampletown"
    postcode = "EX1 1AA"
    phone = "07700 900000"


class ChildFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Child

    service = factory.SelfAttribute("household.service")
    household = factory.SubFactory(HouseholdFactory)
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    preferred_name = factory.LazyAttribute(lambda o: o.first_name[:3])
    date_of_birth = date(2015, 5, 17)
    needs = "Likes a night light."
    allergies = "Peanuts"
    medication_notes = "Inhaler at bedtime"
    emergency_contacts = "Social work duty line 0300 555 0199"


def staff(service: FosteringService, role: str, **user_fields) -> User:
    user = UserFactory(**user_fields)
    StaffRole.objects.create(user=user, service=service, role=role)
    return user


def carer_of(household: Household, *, role: str = Carer.Role.PRIMARY, **user_fields) -> User:
    user = UserFactory(**user_fields)
    services.add_carer(
        household,
        by=None,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
        role=role,
        send_invitation=False,
    )
    return user


def hub_for(constellation: Constellation, *, beds: int = 3, **fields) -> Household:
    household = HouseholdFactory(
        service=constellation.service, kind=Household.Kind.HUB, beds=beds, **fields
    )
    services.set_hub(constellation, household, by=None)
    return household


def satellite_in(constellation: Constellation, *, active: bool = True, **fields) -> Household:
    household = HouseholdFactory(service=constellation.service, **fields)
    membership = services.propose_membership(constellation, household, by=None)
    if active:
        services.activate_membership(membership, by=None)
    return household


def child_in(household: Household, **fields) -> Child:
    return services.create_child(
        household=household,
        by=None,
        first_name=fields.pop("first_name", "Jordan"),
        last_name=fields.pop("last_name", "Testchild"),
        preferred_name=fields.pop("preferred_name", "Jo"),
        date_of_birth=fields.pop("date_of_birth", date(2014, 3, 2)),
        needs=fields.pop("needs", "Needs a quiet room to settle"),
        allergies=fields.pop("allergies", "Penicillin"),
        medication_notes=fields.pop("medication_notes", "Melatonin 2mg at bedtime"),
        emergency_contacts=fields.pop("emergency_contacts", "Duty social worker 0300 555 0199"),
        **fields,
    )


def notification_for(user: User, *, service: FosteringService | None = None, **fields):
    """An in-app notification in ``user``'s centre (unread unless ``read_at`` is
    given), as the outbox writes it."""
    from django.utils.crypto import get_random_string

    from notifications.models import Channel, Kind, Notification

    key = get_random_string(12)
    return Notification.objects.create(
        service=service or FosteringService.objects.first() or ServiceFactory(),
        recipient=user,
        to_name=user.get_full_name(),
        destination=f"user:{user.pk}",
        channel=fields.pop("channel", Channel.IN_APP),
        kind=fields.pop("kind", Kind.REQUEST),
        subject=fields.pop("subject", f"New request {key}"),
        body=fields.pop("body", "A new planned request: open the app to answer."),
        link=fields.pop("link", "/sleepovers/"),
        key=f"test:{key}",
        status=fields.pop("status", Notification.Status.SENT),
        **fields,
    )
