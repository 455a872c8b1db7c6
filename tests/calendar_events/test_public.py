"""The answer page of someone kept connected: no account, a signed link that opens
one date of one social get-together for one person, and nothing else."""

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import signing

from calendar_events import services, tokens
from calendar_events.models import Event, Rsvp
from calendar_events.services import Invitation, london_start

LONDON = ZoneInfo("Europe/London")
PICNIC_DAY = date(2027, 1, 15)


@pytest.fixture
def clock():
    with time_machine.travel(datetime(2027, 1, 5, 10, tzinfo=LONDON), tick=False) as traveller:
        yield traveller


@pytest.fixture
def picnic(world, clock):
    w = world
    w.jordan = services.keep_connected(
        constellation=w.constellation,
        by=w.liaison,
        name="Jordan",
        email="jordan@example.org",
        relationship="young_person",
        consent="Jordan agreed by phone on 2 January 2027",
        ends_on=date(2027, 12, 31),
    )
    w.sam = services.keep_connected(
        constellation=w.constellation,
        by=w.liaison,
        name="Sam Former",
        email="sam@example.org",
        relationship="former_carer",
        consent="Sam agreed by email on 2 January 2027",
        ends_on=date(2027, 12, 31),
    )
    w.event = services.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind=Event.Kind.SOCIAL,
        title="Summer picnic",
        place="Riverside Park",
        description="Bring a blanket. Mara's birthday cake!",
        start=london_start(PICNIC_DAY, 14),
        end=london_start(PICNIC_DAY, 17),
        capacity=6,
        invitation=Invitation(contacts=(w.jordan, w.sam)),
    )
    # Others have answered: none of it may show on Jordan's page.
    services.answer(
        w.event,
        w.event.start,
        by=w.satellite_carer,
        answer="yes",
        adults=1,
        children=[w.child],
        household=w.satellite,
    )
    services.answer(w.event, w.event.start, by=None, answer="maybe", adults=1, contact=w.sam)
    w.url = tokens.link(contact=w.jordan, event=w.event, original_start=w.event.start)
    return w


def test_the_page_shows_the_date_and_nothing_else_of_the_constellation(client, picnic):
    w = picnic
    response = client.get(w.url)
    assert response.status_code == 200
    # Random tokens (CSRF) left out, so that a chance "Sam" in them cannot fail the test.
    body = re.sub(r'(value|content)="[A-Za-z0-9]{32,}"', "", response.content.decode())
    assert "Summer picnic" in body
    assert "Friday 15 January 2027, 14:00 to 17:00" in body
    assert "Riverside Park" in body
    for secret in (
        "The Ashfords",
        "The Brookes",
        "The Hub Home",
        "Riverside<",  # the constellation's name
        "Mara",
        "Amara",
        "Quill",
        "Bob",
        "Sam",
        "sam@example.org",
        "blanket",
        w.satellite_carer.email,
        w.child.allergies,
    ):
        assert secret not in body, secret
    assert "no-cache" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"


def test_answering_yes_records_the_person_and_shows_their_answer(client, picnic):
    w = picnic
    response = client.post(w.url, {"answer": "yes", "people": "2"})
    assert response.status_code == 302
    rsvp = Rsvp.objects.get(contact=w.jordan)
    assert (rsvp.answer, rsvp.people, rsvp.answered_by) == ("yes", 2, None)
    page = client.get(w.url).content.decode()
    assert "Thank you: your answer is saved." in page
    assert "You said yes, for 2." in page
    client.post(w.url, {"answer": "no", "people": ""})
    assert Rsvp.objects.get(contact=w.jordan).answer == "no"


def test_over_the_places_left_waits_and_says_so(client, picnic):
    w = picnic
    client.post(w.url, {"answer": "yes", "people": "6"})
    assert Rsvp.objects.get(contact=w.jordan).waiting
    assert "you are on the waiting list" in client.get(w.url).content.decode()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"answer": "yes", "people": "0"}, "at least one"),
        ({"answer": "yes", "people": ""}, "at least one"),
        ({"answer": "yes", "people": "500"}, "At most 20 people"),
        ({"answer": "yes", "people": "-1"}, "from 0 to 20"),
        ({"answer": "yes", "people": "lots"}, "as a number from 0 to 20"),
        ({"answer": "yes", "people": "²"}, "as a number from 0 to 20"),
        ({"answer": "perhaps", "people": "1"}, "yes, no or maybe"),
        ({"people": "1"}, "yes, no or maybe"),
        ({"answer": "yes", "people": "7"}, "room for 6 people in all"),
    ],
)
def test_bad_answers_are_refused_with_a_message(client, picnic, data, message):
    w = picnic
    response = client.post(w.url, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Rsvp.objects.filter(contact=w.jordan).exists()


def test_after_answers_close_the_page_opens_but_refuses_a_change(client, picnic, clock):
    w = picnic
    clock.move_to(datetime(2027, 1, 15, 15, tzinfo=LONDON))
    assert client.get(w.url).status_code == 200
    response = client.post(w.url, {"answer": "yes", "people": "1"})
    assert response.status_code == 409
    assert "Answers closed at 14:00 on 15 January" in response.content.decode()


def test_the_link_ends_a_day_after_the_start(client, picnic, clock):
    w = picnic
    clock.move_to(datetime(2027, 1, 16, 13, 59, tzinfo=LONDON))
    assert client.get(w.url).status_code == 200
    clock.move_to(datetime(2027, 1, 16, 14, 1, tzinfo=LONDON))
    response = client.get(w.url)
    assert response.status_code == 410
    assert "This invitation has ended" in response.content.decode()
    assert client.post(w.url, {"answer": "yes", "people": "1"}).status_code == 410


def test_a_date_moved_later_keeps_its_link(client, picnic, clock):
    w = picnic
    later = PICNIC_DAY + timedelta(days=3)
    services.update_event(
        w.event, by=w.hub_carer, start=london_start(later, 14), end=london_start(later, 17)
    )
    # A single event's date follows its start: the invitation sent for it now.
    url = tokens.link(contact=w.jordan, event=w.event, original_start=london_start(later, 14))
    clock.move_to(datetime(2027, 1, 18, 14, tzinfo=LONDON))
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("how", ["withdrawn", "ended", "cancelled", "uninvited"])
def test_an_invitation_that_ended_answers_410(client, picnic, clock, how):
    w = picnic
    if how == "withdrawn":
        services.stop_keeping_connected(w.jordan, by=w.liaison)
    elif how == "ended":
        w.jordan.ends_on = date(2027, 1, 6)
        w.jordan.save(update_fields=["ends_on"])
        clock.move_to(datetime(2027, 1, 7, 9, tzinfo=LONDON))
    elif how == "cancelled":
        services.cancel_event(w.event, by=w.hub_carer)
    else:
        services.update_event(w.event, by=w.hub_carer, invitation=Invitation(contacts=(w.sam,)))
    response = client.get(w.url)
    assert response.status_code == 410
    assert "Summer picnic" not in response.content.decode()
    assert client.post(w.url, {"answer": "yes", "people": "1"}).status_code == 410
    assert not Rsvp.objects.filter(contact=w.jordan).exists()


def test_a_cancelled_date_of_a_series_ends_its_link_only(client, picnic):
    w = picnic
    series = services.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind=Event.Kind.SOCIAL,
        title="Games night",
        start=london_start(date(2027, 1, 8), 18),
        end=london_start(date(2027, 1, 8), 20),
        rule="FREQ=WEEKLY",
        invitation=Invitation(contacts=(w.jordan,)),
    )
    first = tokens.link(contact=w.jordan, event=series, original_start=series.start)
    second_start = london_start(date(2027, 1, 15), 18)
    second = tokens.link(contact=w.jordan, event=series, original_start=second_start)
    services.cancel_occurrence(series, series.start, by=w.hub_carer)
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def _tamper(url: str, change) -> str:
    token = url.split("/")[-2]
    return f"/calendar/invitation/{change(token)}/"


def test_a_tampered_or_forged_link_is_a_404(client, picnic):
    w = picnic
    assert client.get(w.url).status_code == 200
    payload, stamp, signature = w.url.split("/")[-2].split(":")
    forged_for_sam = signing.dumps([w.sam.pk, w.event.pk, "20270115T140000Z"], salt="another")
    for url in (
        _tamper(w.url, lambda t: t[:-1] + ("A" if t[-1] != "A" else "B")),
        _tamper(w.url, lambda t: t.replace(payload, payload[::-1])),
        _tamper(w.url, lambda t: f"{payload}:{stamp}zz:{signature}"),
        f"/calendar/invitation/{forged_for_sam}/",
        f"/calendar/invitation/{signing.dumps([w.sam.pk, w.event.pk, 'x'], salt=tokens.SALT)}/",
        f"/calendar/invitation/{signing.dumps({'c': w.sam.pk}, salt=tokens.SALT)}/",
        "/calendar/invitation/not-a-real-token/",
        "/calendar/invitation/%00/",
    ):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"answer": "yes", "people": "1"}).status_code == 404, url
    assert not Rsvp.objects.filter(contact=w.jordan).exists()


def test_a_link_made_for_another_constellations_event_is_a_404(client, picnic):
    w = picnic
    other = services.create_event(
        constellation=w.other_constellation,
        by=w.other_hub_carer,
        kind=Event.Kind.SOCIAL,
        title="Hillside barbecue",
        start=london_start(PICNIC_DAY, 12),
        end=london_start(PICNIC_DAY, 15),
    )
    url = tokens.link(contact=w.jordan, event=other, original_start=other.start)
    assert client.get(url).status_code == 404


def test_a_signed_in_user_sees_the_same_page(client, picnic):
    w = picnic
    client.force_login(w.other_service_manager)
    assert client.get(w.url).status_code == 200
    assert client.get("/calendar/invitation/not-a-real-token/").status_code == 404
