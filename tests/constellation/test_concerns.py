"""Concerns opened by hand and closed by the liaison worker, at the service level and
on the close page: the reasons a placement stability meeting would name, a note of
what was done before a concern closes, the meeting's date, and the liaison worker
alerted through the outbox at once, with no child's surname in the words."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from constellation import services
from constellation.models import Activity, Concern
from constellation.services import ActionRefused
from notifications.models import Channel, Kind, Notification

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
START = datetime(2026, 7, 1, 9, 0, tzinfo=LONDON)
TODAY = date(2026, 7, 1)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def by_hand(world, reasons=(Concern.Reason.CANNOT_COPE,), **kwargs):
    return services.open_concern_by_hand(
        world.satellite,
        by=kwargs.pop("by", world.hub_carer),
        reasons=list(reasons),
        description=kwargs.pop("description", "The carers are exhausted"),
        children=kwargs.pop("children", [world.child]),
        **kwargs,
    )


# --- opening by hand -------------------------------------------------------------------------


def test_a_concern_opened_by_hand_keeps_its_reasons_and_children(clock, world):
    concern = by_hand(
        world,
        reasons=[Concern.Reason.MISSING_EPISODES, Concern.Reason.CANNOT_COPE],
        description="  Mara ran off twice this week  ",
    )
    assert concern.source == Concern.Source.BY_HAND
    assert concern.reasons == ["cannot_cope", "missing_episodes"]
    assert concern.reason_labels == [
        "The carer says they cannot cope",
        "Repeated missing episodes",
    ]
    assert concern.description == "Mara ran off twice this week"
    assert list(concern.children.all()) == [world.child]
    assert (concern.opened_by, concern.opened_at) == (world.hub_carer, START)
    activity = Activity.objects.get(verb="concern.opened")
    assert list(activity.children.all()) == [world.child]


def test_two_concerns_by_hand_may_be_open_at_once(clock, world):
    by_hand(world)
    by_hand(world, reasons=[Concern.Reason.ALLEGATION])
    assert Concern.objects.open().filter(household=world.satellite).count() == 2


@pytest.mark.parametrize(
    ("reasons", "description", "children", "message"),
    [
        ([], "x", "child", "at least one reason"),
        (["cannot_cope", "bored"], "x", "child", "reasons from the list"),
        (["other"], "  ", "child", "Describe the concern"),
        (["cannot_cope"], "x" * 1001, "child", "at most 1000 characters"),
        (["cannot_cope"], "x", "neighbour_child", "placed in this household"),
        (["cannot_cope"], "x", "other_service_child", "placed in this household"),
    ],
)
def test_reasons_by_hand_are_validated(clock, world, reasons, description, children, message):
    with pytest.raises(ActionRefused, match=message):
        by_hand(
            world,
            reasons=reasons,
            description=description,
            children=[getattr(world, children)],
        )
    assert not Concern.objects.exists()
    assert not Notification.objects.filter(kind=Kind.CONCERN).exists()


def test_something_else_with_a_description_is_accepted(clock, world):
    concern = by_hand(world, reasons=["other"], description="A neighbour's complaint", children=[])
    assert concern.reason_labels == ["Something else (in the description)"]


# --- the alert ----------------------------------------------------------------------------------


def test_the_liaison_worker_is_alerted_at_once_without_the_childs_surname(clock, world):
    concern = by_hand(world, description="Amara Quill says she wants to leave")
    alerts = Notification.objects.filter(kind=Kind.CONCERN)
    assert set(alerts.values_list("recipient", flat=True)) == {world.liaison.pk}
    in_app = alerts.get(channel=Channel.IN_APP)
    assert in_app.due_at == START  # written with the concern, not later
    assert in_app.link == concern.get_absolute_url()
    assert in_app.subject == "A placement may be at risk"
    for alert in alerts:
        # The household by its carers' first names: its name may be a child's surname.
        assert f"{world.satellite_carer.first_name}'s household" in alert.body
        assert "The Ashfords" not in alert.body
        assert world.child.last_name not in alert.body
        assert world.child.last_name not in alert.subject
        assert "wants to leave" not in alert.body  # the description stays in the app


def test_the_liaison_worker_who_opens_a_concern_is_not_alerted_of_it(clock, world):
    by_hand(world, by=world.liaison)
    assert not Notification.objects.filter(kind=Kind.CONCERN, recipient=world.liaison).exists()


def test_only_the_constellations_liaison_workers_are_alerted(clock, world):
    by_hand(world)
    recipients = set(
        Notification.objects.filter(kind=Kind.CONCERN).values_list("recipient", flat=True)
    )
    assert world.other_liaison.pk not in recipients
    assert world.other_service_liaison.pk not in recipients
    assert world.satellite_carer.pk not in recipients


# --- closing ------------------------------------------------------------------------------------


@pytest.mark.parametrize("note", ["", "   \n "])
def test_a_concern_cannot_be_closed_without_a_note(clock, world, note):
    concern = by_hand(world)
    with pytest.raises(ActionRefused, match="Record what was done"):
        services.close_concern(concern, by=world.liaison, note=note)
    concern.refresh_from_db()
    assert concern.status == Concern.Status.OPEN
    assert concern.closed_at is None


def test_closing_records_what_was_done_and_the_stability_meeting(clock, world):
    concern = by_hand(world)
    meeting = TODAY + timedelta(days=5)
    services.close_concern(
        concern,
        by=world.liaison,
        note="  Respite agreed; carers supported by the hub weekly  ",
        stability_meeting_on=meeting,
    )
    concern.refresh_from_db()
    assert concern.status == Concern.Status.CLOSED
    assert concern.action_note == "Respite agreed; carers supported by the hub weekly"
    assert concern.stability_meeting_on == meeting
    assert (concern.closed_by, concern.closed_at) == (world.liaison, START)
    activity = Activity.objects.get(verb="concern.closed")
    assert activity.summary == (
        "Concern about The Ashfords closed after a placement stability meeting"
    )
    # Its history says who closed it.
    assert concern.history.first().history_user == world.liaison

    with pytest.raises(ActionRefused, match="already closed"):
        services.close_concern(concern, by=world.manager, note="Again")


@pytest.mark.parametrize(
    ("days", "accepted"), [(-366, True), (-367, False), (366, True), (367, False)]
)
def test_the_stability_meeting_is_within_a_year_of_today(clock, world, days, accepted):
    concern = by_hand(world)
    on = TODAY + timedelta(days=days)
    if accepted:
        services.close_concern(concern, by=world.liaison, note="Met", stability_meeting_on=on)
        concern.refresh_from_db()
        assert concern.stability_meeting_on == on
    else:
        with pytest.raises(ActionRefused, match="within a year"):
            services.close_concern(concern, by=world.liaison, note="Met", stability_meeting_on=on)
        concern.refresh_from_db()
        assert concern.status == Concern.Status.OPEN


def test_a_closed_rule_concern_lets_the_rule_open_a_new_one(clock, world):
    first = services.record_check_in(
        world.satellite,
        by=world.hub_carer,
        occurred_at=START,
        method="visit",
        concern_level="high",
    )
    concern = Concern.objects.get()
    assert concern.trigger_id == first.pk
    services.close_concern(concern, by=world.liaison, note="Visited with the hub")
    services.record_check_in(
        world.satellite,
        by=world.hub_carer,
        occurred_at=START,
        method="phone",
        concern_level="high",
    )
    assert Concern.objects.open().count() == 1
    assert Concern.objects.count() == 2


# --- the close page -----------------------------------------------------------------------------


def close_url(concern):
    return reverse("constellation:concern_close", args=[concern.pk])


@pytest.mark.parametrize("note", ["", "    "])
def test_the_close_page_refuses_without_a_note(clock, world, login, note):
    concern = by_hand(world)
    response = login(world.liaison).post(
        close_url(concern), {"note": note, "stability_meeting_on": "2026-07-03"}
    )
    assert response.status_code == 400
    assert "Record what was done before closing the concern." in response.content.decode()
    concern.refresh_from_db()
    assert concern.status == Concern.Status.OPEN


@pytest.mark.parametrize(
    ("date_typed", "message"),
    [
        ("2026-13-01", "Give a date, for example"),
        ("not a date", "Give a date, for example"),
        ("1800-01-01", "between the years 2000 and 2100"),
        ("２０２６-07-03", "Give a date, for example"),
        ("2024-01-01", "within a year of today"),
    ],
)
def test_the_close_page_refuses_a_bad_meeting_date(clock, world, login, date_typed, message):
    concern = by_hand(world)
    response = login(world.liaison).post(
        close_url(concern), {"note": "Met the carers", "stability_meeting_on": date_typed}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    concern.refresh_from_db()
    assert concern.status == Concern.Status.OPEN


def test_the_close_page_closes_with_the_meeting_date(clock, world, login):
    concern = by_hand(world)
    client = login(world.liaison)
    response = client.post(
        close_url(concern), {"note": "Met the carers", "stability_meeting_on": "2026-07-03"}
    )
    assert response.status_code == 302
    assert response["Location"] == concern.get_absolute_url()
    concern.refresh_from_db()
    assert (concern.status, concern.stability_meeting_on) == ("closed", date(2026, 7, 3))
    html = client.get(concern.get_absolute_url()).content.decode()
    assert "The concern about The Ashfords is closed." in html
    assert "Met the carers" in html
    assert "Placement stability meeting: Friday 3 July 2026" in html
