from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command

from constellation.models import Child, Constellation, FosteringService, Household
from people.models import User

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")

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


# --- the demo calendar ---------------------------------------------------------------


@pytest.fixture
def seeded_calendar():
    """Seeded on Monday 4 January 2027 at 09:00 London, twice (idempotent)."""
    import time_machine

    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=LONDON), tick=False):
        call_command("seed_demo", force=True)
        call_command("seed_demo", force=True)
        yield


def test_each_demo_constellation_has_its_calendar_once(seeded_calendar):
    from calendar_events.models import Event

    for constellation in Constellation.objects.all():
        kinds = sorted(
            Event.objects.filter(constellation=constellation).values_list("kind", flat=True)
        )
        assert kinds == sorted(
            ["meeting", "social", "social", "activity", "activity", "training", "contact"]
        ), constellation.name


def test_the_monthly_meeting_is_on_the_first_tuesday_at_seven_without_end(seeded_calendar):
    from calendar_events.models import Event
    from calendar_events.recurrence import original_starts
    from calendar_events.services import london_start

    meetings = Event.objects.filter(kind="meeting")
    assert meetings.count() == 3
    for meeting in meetings:
        assert (meeting.rule, meeting.repeat_until) == ("FREQ=MONTHLY;BYDAY=1TU", None)
        assert meeting.start == london_start(date(2027, 1, 5), 19)
        dates = original_starts(meeting, meeting.start, london_start(date(2027, 12, 31), 0))
        assert [d.astimezone(LONDON).strftime("%d %b %H:%M") for d in dates][2:5] == [
            "02 Mar 19:00",
            "06 Apr 19:00",  # after the clocks went forward
            "04 May 19:00",
        ]


def test_the_get_together_has_room_answers_and_a_person_kept_connected(seeded_calendar):
    from calendar_events.models import Event, Rsvp

    for social in Event.objects.filter(kind="social", rule__startswith="FREQ"):
        assert social.capacity == 30
        [person] = social.invited_contacts.all()
        assert person.constellation == social.constellation
        answers = Rsvp.objects.filter(occurrence__event=social)
        assert answers.filter(contact=person, answer="yes").exists()
        assert answers.filter(household__isnull=False, answer="yes").exists()
        assert answers.filter(answer="no").exists() or social.constellation.name == "Seaside"


def test_the_contact_session_shows_only_to_its_household(seeded_calendar):
    from calendar_events.models import Event

    riverside = Constellation.objects.get(name="Riverside")
    contact = Event.objects.get(constellation=riverside, kind="contact")
    [family] = contact.invited_households.all()
    assert not contact.invite_everyone
    for user in family.carers.values_list("user", flat=True):
        assert Event.objects.visible_to(User.objects.get(pk=user)).filter(pk=contact.pk).exists()
    # The satellite carer of the demo logins is of another household.
    satellite = User.objects.get(email="satellite@example.org")
    assert not Event.objects.visible_to(satellite).filter(pk=contact.pk).exists()
    assert Event.objects.visible_to(satellite).filter(constellation=riverside).count() == 6
    assert contact.title.startswith("Family time")
    assert not any(c.last_name in contact.title for c in Child.objects.filter(household=family))


def test_one_past_event_was_recorded_and_one_is_still_to_record(seeded_calendar):
    from calendar_events.models import Event, Occurrence

    for constellation in Constellation.objects.all():
        picnic = Event.objects.get(constellation=constellation, title="Picnic in the park")
        [row] = Occurrence.objects.filter(event=picnic)
        assert row.attendance_recorded_at is not None
        assert row.attendance.filter(household=constellation.hub).exists()
        assert sum(line.people for line in row.attendance.all()) >= 4
        pottery = Event.objects.get(constellation=constellation, title="Pottery afternoon")
        assert not Occurrence.objects.filter(
            event=pottery, attendance_recorded_at__isnull=False
        ).exists()
