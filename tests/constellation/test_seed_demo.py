import pytest
from django.core.management import CommandError, call_command

from constellation.models import Child, Constellation, FosteringService, Household
from people.models import User

pytestmark = pytest.mark.django_db

LOGINS = [
    "hub@example.org",
    "hub2@example.org",
    "satellite@example.org",
    "satellite2@example.org",
    "liaison@example.org",
    "manager@example.org",
    "manager-other@example.org",
]


def test_seed_refuses_when_debug_is_off(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("seed_demo")
    assert not FosteringService.objects.exists()


def test_seed_builds_two_services_and_is_idempotent():
    call_command("seed_demo", force=True)
    call_command("seed_demo", force=True)
    assert FosteringService.objects.count() == 2
    north = FosteringService.objects.get(name="Northshire Fostering Service")
    assert Constellation.objects.filter(service=north).count() == 2
    for constellation in Constellation.objects.filter(service=north):
        assert constellation.hub is not None
        assert constellation.memberships.filter(status="active").count() == 8
    assert 18 <= Child.objects.filter(service=north).count() <= 22
    assert Household.objects.filter(service__name="Southshire Fostering Service").count() >= 2
    for email in LOGINS:
        user = User.objects.get(email=email)
        assert user.check_password("mockingbird-demo")


def test_demo_isolation_between_services():
    call_command("seed_demo", force=True)
    other = User.objects.get(email="manager-other@example.org")
    assert {c.name for c in Constellation.objects.visible_to(other)} == {"Seaside"}
    assert not Child.objects.visible_to(other).filter(service__name__startswith="North").exists()
    satellite2 = User.objects.get(email="satellite2@example.org")
    assert {c.name for c in Constellation.objects.visible_to(satellite2)} == {"Hillside"}


def test_demo_children_have_agreements_some_overdue_some_missing():
    from django.utils import timezone

    from delegated_authority.models import Agreement

    call_command("seed_demo", force=True)
    children = Child.objects.count()
    with_agreement = Agreement.objects.values("child").distinct().count()
    assert children * 0.6 <= with_agreement < children
    assert Agreement.objects.filter(review_on__lt=timezone.localdate()).exists()
