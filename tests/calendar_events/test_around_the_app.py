"""The calendar where families and the hub meet it outside its own pages: the
satellite carer's home page, the hub's availability (events that take its beds),
and the links from a date's page to changing it, its .ics and the phone feed. The
clock is pinned: Monday 4 January 2027, 10:00 London."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from calendar_events import services
from calendar_events.models import Event
from calendar_events.recurrence import key_of
from calendar_events.services import london_start

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2027, 1, 4, 10, tzinfo=LONDON)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def _event(world, *, title, day, hour=19, **fields) -> Event:
    start = london_start(day, hour)
    values = {
        "constellation": world.constellation,
        "by": world.hub_carer,
        "kind": Event.Kind.SOCIAL,
        "title": title,
        "start": start,
        "end": start + timedelta(hours=2),
    }
    values.update(fields)
    return services.create_event(**values)


def test_the_satellite_home_lists_the_coming_dates_and_the_households_answer(clock, world, login):
    picnic = _event(world, title="Picnic in the park", day=date(2027, 1, 9), hour=12)
    _event(world, title="Quiz night", day=date(2027, 1, 15))
    _event(world, title="Far away", day=date(2027, 3, 1))
    services.answer(
        picnic,
        picnic.start,
        by=world.satellite_carer,
        household=world.satellite,
        answer="yes",
        adults=1,
        children=[world.child],
    )
    html = login(world.satellite_carer).get(reverse("home")).content.decode()
    assert "Picnic in the park" in html
    assert "Saturday 9 January, 12:00" in html
    assert "You said yes" in html
    assert "Quiz night" in html
    assert "You have not answered yet" in html
    assert "Far away" not in html  # beyond three weeks
    assert "later release" not in html.split('id="events"')[1].split("</section>")[0]


def test_a_contact_session_never_shows_on_another_households_home(clock, world, login):
    _event(
        world,
        title="Contact with birth family",
        day=date(2027, 1, 7),
        kind=Event.Kind.CONTACT,
        invitation=services.Invitation(everyone=False, households=(world.satellite,)),
    )
    mine = login(world.satellite_carer).get(reverse("home")).content.decode()
    assert "Contact with birth family" in mine
    theirs = login(world.neighbour_carer).get(reverse("home")).content.decode()
    assert "Contact with birth family" not in theirs


def test_events_taking_the_hubs_beds_show_on_the_availability_page(clock, world, login):
    _event(world, title="Residential weekend", day=date(2027, 1, 16), affects_beds=True)
    _event(world, title="Coffee morning", day=date(2027, 1, 12), hour=10)
    cancelled = _event(world, title="Sleepover party", day=date(2027, 1, 20), affects_beds=True)
    services.cancel_event(cancelled, by=world.hub_carer)
    html = login(world.satellite_carer).get(reverse("sleepovers:availability")).content.decode()
    assert (
        "Events that take the hub&#x27;s beds" in html or "Events that take the hub's beds" in html
    )
    section = html.split('id="hub-events-heading"')[1]
    assert "Residential weekend" in section
    assert "Coffee morning" not in section
    assert "Sleepover party" not in section


def test_the_hub_carer_finds_how_to_change_a_date_and_a_family_does_not(clock, world, login):
    series = _event(
        world,
        title="Constellation meeting",
        day=date(2027, 1, 5),
        kind=Event.Kind.MEETING,
        rule="FREQ=MONTHLY;BYDAY=1TU",
    )
    url = reverse("calendar_events:date", args=[series.pk, key_of(series.start)])
    hub = login(world.hub_carer).get(url).content.decode()
    for path in (
        reverse("calendar_events:occurrence_move", args=[series.pk, key_of(series.start)]),
        reverse("calendar_events:occurrence_cancel", args=[series.pk, key_of(series.start)]),
        reverse("calendar_events:occurrence_from", args=[series.pk, key_of(series.start)]),
        reverse("calendar_events:event_edit", args=[series.pk]),
        reverse("calendar_events:event_ics", args=[series.pk]),
    ):
        assert path in hub
    family = login(world.satellite_carer).get(url).content.decode()
    assert reverse("calendar_events:event_edit", args=[series.pk]) not in family
    assert reverse("calendar_events:event_ics", args=[series.pk]) in family


def test_the_month_offers_a_new_event_to_who_keeps_the_calendar_only(clock, world, login):
    month = reverse("calendar_events:index")
    new = reverse("calendar_events:event_new")
    subscribe = reverse("calendar_events:subscribe")
    hub = login(world.hub_carer).get(month).content.decode()
    assert new in hub
    assert subscribe in hub
    liaison = login(world.liaison).get(month).content.decode()
    assert new in liaison
    assert reverse("calendar_events:kept_connected") in liaison
    family = login(world.satellite_carer).get(month).content.decode()
    assert new not in family
    assert subscribe in family
    assert reverse("calendar_events:kept_connected") not in family


# --- odd input found by trying to break it ------------------------------------------


@pytest.mark.parametrize("adults", ["٣", "３", "99999999999999999999999", "1e3", "-1"])
def test_an_answer_with_odd_numbers_is_a_400_and_saves_nothing(clock, world, login, adults):
    picnic = _event(world, title="Picnic", day=date(2027, 1, 9), hour=12)
    url = reverse("calendar_events:answer", args=[picnic.pk, key_of(picnic.start)])
    response = login(world.satellite_carer).post(url, {"answer": "yes", "adults": adults})
    assert response.status_code == 400
    assert not picnic.occurrences.filter(rsvps__isnull=False).exists()


@pytest.mark.parametrize("child", ["99999999999999999999999", "٣", "1;DROP"])
def test_an_answer_naming_an_impossible_child_is_a_400(clock, world, login, child):
    picnic = _event(world, title="Picnic", day=date(2027, 1, 9), hour=12)
    url = reverse("calendar_events:answer", args=[picnic.pk, key_of(picnic.start)])
    response = login(world.satellite_carer).post(
        url, {"answer": "yes", "adults": "1", "children": [child]}
    )
    assert response.status_code == 400
    assert "Choose children of your own household" in response.content.decode()


def test_a_start_with_seconds_is_refused_so_every_date_stays_reachable(clock, world):
    from django.core.exceptions import ValidationError

    start = london_start(date(2027, 1, 9), 19) + timedelta(microseconds=123456)
    with pytest.raises(ValidationError) as refused:
        services.create_event(
            constellation=world.constellation,
            by=world.hub_carer,
            kind=Event.Kind.SOCIAL,
            title="Quiz",
            start=start,
            end=start + timedelta(hours=2),
        )
    assert "to the minute" in str(refused.value.message_dict["start"])


def test_a_rule_that_never_meets_is_refused_quickly(clock, world):
    import time

    from django.core.exceptions import ValidationError

    start = london_start(date(2027, 1, 9), 19)
    began = time.process_time()
    with pytest.raises(ValidationError) as refused:
        services.create_event(
            constellation=world.constellation,
            by=world.hub_carer,
            kind=Event.Kind.SOCIAL,
            title="Never",
            start=start,
            end=start + timedelta(hours=2),
            rule="FREQ=MONTHLY;BYMONTHDAY=9,-23;BYDAY=SA;BYSETPOS=2",
        )
    assert "no date" in str(refused.value.message_dict["rule"])
    # Work, not a timer: dateutil walked eight thousand years before (2 s of CPU).
    assert time.process_time() - began < 1.0


def test_a_social_event_with_people_kept_connected_does_not_become_a_meeting(clock, world):
    from django.core.exceptions import ValidationError

    person = services.keep_connected(
        constellation=world.constellation,
        by=world.liaison,
        name="Jay",
        email="jay@example.org",
        relationship="young_person",
        consent="Jay agreed by phone",
        ends_on=date(2027, 12, 31),
    )
    social = _event(
        world,
        title="Picnic",
        day=date(2027, 1, 9),
        invitation=services.Invitation(contacts=(person,)),
    )
    with pytest.raises(ValidationError) as refused:
        services.update_event(social, by=world.hub_carer, kind=Event.Kind.MEETING)
    assert "kind" in refused.value.message_dict
    social.refresh_from_db()
    assert social.kind == Event.Kind.SOCIAL


def test_the_months_far_off_are_not_found(clock, world, login):
    client = login(world.satellite_carer)
    assert client.get(reverse("calendar_events:month", args=[2100, 12])).status_code == 404
    assert client.get(reverse("calendar_events:month", args=[2036, 12])).status_code == 200


def test_a_choice_of_records_by_code_still_takes_its_code(db):
    from django.core.exceptions import ValidationError

    from constellation.inputs import RecordChoiceField
    from delegated_authority.models import Decision

    field = RecordChoiceField(queryset=Decision.objects.all(), to_field_name="code")
    assert field.clean("haircuts").code == "haircuts"
    with pytest.raises(ValidationError) as refused:
        field.clean("no_such_code")
    assert refused.value.code == "invalid_choice"
