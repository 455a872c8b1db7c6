"""The rules that open a concern by themselves ("this placement may be at risk";
issue 11, item 3; DOMAIN.md workflow 5), each at its edges, driven through the
real services at chosen moments (time-machine, tick=False):

- three or more crisis requests from one household within 30 days (720 hours);
- a crisis request declined, expired unanswered, or passed to the liaison worker
  by the escalation;
- a temporary placement arranged after a disruption;
- a check-in at high concern.

Each concern alerts the constellation's liaison workers once, through the outbox
(``Notification`` rows of kind "concern"), never the person who opened it, and in
words that hold no child's surname (in kinship care the household is called after
it)."""

import contextlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from constellation import services as people
from constellation.models import CheckIn, Concern
from constellation.services import ActionRefused, close_concern, open_concern_by_hand
from constellation.services.contact import record_check_in
from notifications.models import Channel, Kind, Notification
from notifications.services import escalation
from people.models import StaffRole
from sleepovers import services as sleepovers
from tests import factories as f
from tests.conftest import build_world

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# Monday 5 April 2027, 09:00: the next 90 days hold no clock change.
T0 = datetime(2027, 4, 5, 9, 0, tzinfo=LONDON)
WINDOW = timedelta(hours=720)
SURNAME = "Quill"

Source = Concern.Source


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def kinship(world):
    """The Ashfords are the child's family: the household is called after her surname."""
    world.satellite.name = f"The {SURNAME}s"
    world.satellite.save(update_fields=["name"])
    return world


@pytest.fixture
def w(db, clock):
    return kinship(build_world())


@pytest.fixture
def second_liaison(w):
    user = f.staff(w.service, StaffRole.Role.LIAISON, email="liaison-b@test.example")
    people.assign_liaison(w.constellation, user, by=None)
    return user


def crisis(world, *, carer=None, child=None, hours: float = 3):
    now = timezone.now()
    return sleepovers.create_request(
        by=carer or world.satellite_carer,
        kind="crisis",
        children=[child or world.child],
        start=now,
        end=now + timedelta(hours=hours),
        crisis_reason="composure",
    )


def crises_at(world, clock, moments):
    requests = []
    for moment in moments:
        clock.move_to(moment)
        requests.append(crisis(world))
    return requests


def concerns(world, source=None):
    rows = Concern.objects.filter(household=world.satellite)
    return rows.filter(source=source) if source else rows


def alerts(concern):
    return Notification.objects.filter(kind=Kind.CONCERN, key=f"concern:{concern.pk}")


def assert_alerted_once(concern, *, to, words=()):
    """Every liaison worker in ``to`` has the alert once in the app (and once on each
    other channel they have); nobody else has it; its words name no child."""
    rows = list(alerts(concern))
    assert {r.recipient for r in rows} == set(to)
    pairs = [(r.recipient_id, r.channel) for r in rows]
    assert len(pairs) == len(set(pairs))
    for user in to:
        assert (user.pk, Channel.IN_APP) in pairs
    for row in rows:
        text = row.subject + " " + row.body
        for secret in (SURNAME, "Amara", "Penicillin", "quiet room"):
            assert secret not in text, text
        for word in words:
            assert word in text, text
        assert row.link == concern.get_absolute_url()


# --- three crisis requests within 30 days -------------------------------------------------


@pytest.mark.parametrize(
    ("gaps", "opens"),
    [
        pytest.param([timedelta(days=15), timedelta(days=15) - timedelta(seconds=1)], True),
        pytest.param([timedelta(hours=1), timedelta(hours=1)], True, id="three in two hours"),
        pytest.param([timedelta(days=15), timedelta(days=15)], False, id="exactly 720 hours"),
        pytest.param([timedelta(days=15), timedelta(days=16)], False, id="over 31 days"),
    ],
)
def test_three_crisis_requests_within_30_days_open_one_concern(w, clock, gaps, opens):
    moments = [T0, T0 + gaps[0], T0 + gaps[0] + gaps[1]]
    requests = crises_at(w, clock, moments[:2])
    assert not concerns(w).exists()  # two do not
    requests += crises_at(w, clock, moments[2:])
    rows = concerns(w, Source.REPEATED_CRISES)
    assert rows.count() == (1 if opens else 0)
    if opens:
        concern = rows.get()
        assert concern.status == Concern.Status.OPEN
        assert concern.constellation == w.constellation
        assert concern.opened_by is None
        assert list(concern.children.all()) == [w.child]
        assert concern.description == "3 crisis requests in 30 days."
        assert_alerted_once(concern, to=[w.liaison], words=["Riverside", "crisis"])


def test_two_crisis_requests_do_not_open_one(w, clock):
    crises_at(w, clock, [T0, T0 + timedelta(minutes=1)])
    assert not Concern.objects.exists()
    assert not Notification.objects.filter(kind=Kind.CONCERN).exists()


def test_the_30_days_are_720_hours_whatever_the_clocks_do(db):
    # Noon on 10 March to noon on 9 April 2027 is 30 London days, but 719 hours:
    # the clocks went forward on 28 March.
    with time_machine.travel(datetime(2027, 3, 10, 12, tzinfo=LONDON), tick=False) as clock:
        world = kinship(build_world())
        crises_at(
            world,
            clock,
            [
                datetime(2027, 3, 10, 12, tzinfo=LONDON),
                datetime(2027, 3, 20, 12, tzinfo=LONDON),
                datetime(2027, 4, 9, 12, tzinfo=LONDON),
            ],
        )
        assert concerns(world, Source.REPEATED_CRISES).count() == 1


def test_crisis_requests_of_another_household_do_not_count(w, clock):
    crises_at(w, clock, [T0, T0 + timedelta(days=1)])
    clock.move_to(T0 + timedelta(days=2))
    crisis(w, carer=w.neighbour_carer, child=w.neighbour_child)
    assert not Concern.objects.filter(source=Source.REPEATED_CRISES).exists()


def test_a_fourth_while_the_concern_is_open_adds_nothing(w, clock):
    crises_at(w, clock, [T0 + timedelta(days=d) for d in (0, 1, 2)])
    concern = concerns(w).get()
    sent = alerts(concern).count()
    crises_at(w, clock, [T0 + timedelta(days=3), T0 + timedelta(days=4)])
    assert concerns(w).count() == 1
    assert Notification.objects.filter(kind=Kind.CONCERN).count() == sent


def test_after_closing_three_new_requests_open_a_new_concern(w, clock):
    crises_at(w, clock, [T0 + timedelta(days=d) for d in (0, 1, 2)])
    first = concerns(w).get()
    clock.move_to(T0 + timedelta(days=3))
    close_concern(first, by=w.liaison, note="Met the Ashfords; extra respite agreed.")
    # The liaison worker acted on those three: the next one alone opens nothing...
    crises_at(w, clock, [T0 + timedelta(days=4), T0 + timedelta(days=5)])
    assert concerns(w).count() == 1
    # ...three raised since the closing do.
    crises_at(w, clock, [T0 + timedelta(days=6)])
    assert concerns(w).count() == 2
    second = concerns(w).get(status=Concern.Status.OPEN)
    assert second.pk != first.pk
    assert_alerted_once(second, to=[w.liaison])


def test_after_closing_the_window_still_counts_30_days(w, clock):
    crises_at(w, clock, [T0 + timedelta(days=d) for d in (0, 1, 2)])
    clock.move_to(T0 + timedelta(days=3))
    close_concern(concerns(w).get(), by=w.liaison, note="Respite agreed.")
    crises_at(w, clock, [T0 + timedelta(days=d) for d in (4, 20, 34)])
    assert concerns(w).count() == 1  # 30 days from day 4 end before day 34


# --- the property: a concern exists iff three fall within a 720-hour window ------------------


class _Rollback(Exception):
    pass


@contextlib.contextmanager
def rolled_back():
    with contextlib.suppress(_Rollback), transaction.atomic():
        yield
        raise _Rollback


def three_within_a_window(hours: list[int]) -> bool:
    """Some three requests fall within the 720 hours ending at one of them (the
    window excludes its start)."""
    return any(sum(1 for s in hours if t - 720 < s <= t) >= 3 for t in hours)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(hours=st.lists(st.integers(min_value=0, max_value=90 * 24), max_size=6).map(sorted))
@example(hours=[0, 0, 0])
@example(hours=[0, 360, 719])
@example(hours=[0, 360, 720])
@example(hours=[0, 719, 1438])
@example(hours=[0, 700, 1000, 1410])
@example(hours=[0, 1, 721, 722, 1442, 2159])
def test_a_concern_exists_iff_three_requests_fall_within_720_hours(w, clock, hours):
    with rolled_back():
        crises_at(w, clock, [T0 + timedelta(hours=h) for h in hours])
        opened = concerns(w, Source.REPEATED_CRISES).count()
        assert opened == (1 if three_within_a_window(hours) else 0)
        assert not concerns(w).exclude(source=Source.REPEATED_CRISES).exists()


# --- a crisis request the hub did not meet --------------------------------------------------


def test_a_declined_crisis_request_opens_one(w, clock):
    request = crisis(w)
    clock.move_to(T0 + timedelta(minutes=3))
    sleepovers.decline(request, by=w.hub_carer, reason="Both beds are taken tonight")
    concern = concerns(w).get()
    assert concern.source == Source.CRISIS_NOT_MET
    assert concern.trigger_id == request.pk
    assert concern.description == "The hub declined a crisis request."
    assert list(concern.children.all()) == [w.child]
    assert_alerted_once(concern, to=[w.liaison], words=["Riverside"])


def test_a_declined_planned_request_opens_nothing(w, clock):
    start = datetime(2027, 4, 9, 17, tzinfo=LONDON)
    request = sleepovers.create_request(
        by=w.satellite_carer,
        kind="planned",
        children=[w.child],
        start=start,
        end=start + timedelta(hours=17),
    )
    sleepovers.decline(request, by=w.hub_carer, reason="Away that weekend")
    assert not Concern.objects.exists()


def test_a_crisis_request_that_expired_unanswered_opens_one(w, clock):
    request = crisis(w, hours=3)
    clock.move_to(T0 + timedelta(hours=2, minutes=59))
    assert sleepovers.expire_overdue() == 0
    clock.move_to(T0 + timedelta(hours=3))
    assert sleepovers.expire_overdue() == 1
    concern = concerns(w).get()
    assert concern.source == Source.CRISIS_NOT_MET
    assert concern.trigger_id == request.pk
    assert concern.description == "A crisis request expired without an answer."
    assert_alerted_once(concern, to=[w.liaison])


def test_the_escalation_to_the_liaison_worker_opens_one(w, clock):
    request = crisis(w)
    clock.move_to(T0 + timedelta(minutes=9, seconds=59))
    escalation.run_due_steps()
    assert not Concern.objects.exists()
    clock.move_to(T0 + timedelta(minutes=10))
    assert escalation.run_due_steps() == 1
    concern = concerns(w).get()
    assert concern.source == Source.CRISIS_NOT_MET
    assert concern.trigger_id == request.pk
    assert "passed to the liaison worker" in concern.description
    assert_alerted_once(concern, to=[w.liaison])
    # The sweep runs again, the duty step later, and the request then expires: still
    # one concern for one request, even after the liaison worker closed it.
    escalation.run_due_steps()
    clock.move_to(T0 + timedelta(minutes=30))
    escalation.run_due_steps()
    close_concern(concern, by=w.liaison, note="Called the Ashfords; the hub was at A&E.")
    clock.move_to(T0 + timedelta(hours=3))
    sleepovers.expire_overdue()
    assert concerns(w).count() == 1
    assert Notification.objects.filter(kind=Kind.CONCERN).count() == alerts(concern).count()


def test_a_crisis_answered_in_time_opens_nothing(w, clock):
    request = crisis(w)
    clock.move_to(T0 + timedelta(minutes=4))
    sleepovers.accept(request, by=w.hub_carer, emergency=True)
    clock.move_to(T0 + timedelta(minutes=40))
    escalation.run_due_steps()
    assert not Concern.objects.exists()


# --- a temporary placement after a disruption ---------------------------------------------


def test_a_temporary_placement_opens_one_about_the_household_the_child_leaves(
    w, clock, second_liaison
):
    today = timezone.localdate()
    request = sleepovers.arrange_temporary_placement(
        w.child, by=w.liaison, start=today, expected_end=today + timedelta(days=14)
    )
    concern = concerns(w).get()
    assert concern.source == Source.DISRUPTION
    assert concern.household == w.satellite
    assert concern.trigger_id == request.pk
    assert concern.opened_by == w.liaison
    assert list(concern.children.all()) == [w.child]
    # The liaison worker who arranged it knows; the other one is alerted.
    assert_alerted_once(concern, to=[second_liaison])


# --- a check-in at high concern -------------------------------------------------------------


@pytest.mark.parametrize("level", [CheckIn.Level.NONE, CheckIn.Level.LOW, CheckIn.Level.MEDIUM])
def test_a_check_in_below_high_opens_nothing(w, clock, level):
    record_check_in(
        w.satellite, by=w.hub_carer, occurred_at=T0, method="visit", concern_level=level
    )
    assert not Concern.objects.exists()


def test_a_check_in_at_high_concern_opens_one(w, clock, second_liaison):
    check_in = record_check_in(
        w.satellite,
        by=w.hub_carer,
        occurred_at=T0 - timedelta(hours=1),
        method="visit",
        note="Everyone exhausted; talk of ending the placement.",
        concern_level=CheckIn.Level.HIGH,
    )
    concern = concerns(w).get()
    assert concern.source == Source.HIGH_CHECK_IN
    assert concern.trigger_id == check_in.pk
    assert concern.opened_by == w.hub_carer
    assert_alerted_once(concern, to=[w.liaison, second_liaison])
    # The note stays in the app.
    assert not alerts(concern).filter(body__contains="exhausted").exists()
    # A second high check-in while it is open adds nothing.
    record_check_in(
        w.satellite, by=w.hub_carer, occurred_at=T0, method="phone", concern_level="high"
    )
    assert concerns(w).count() == 1


def test_a_liaison_worker_s_own_high_check_in_alerts_the_others_only(w, clock, second_liaison):
    record_check_in(w.satellite, by=w.liaison, occurred_at=T0, method="visit", concern_level="high")
    assert_alerted_once(concerns(w).get(), to=[second_liaison])


def test_a_concern_opened_by_hand_is_not_sent_back_to_its_author(w, clock, second_liaison):
    concern = open_concern_by_hand(
        w.satellite, by=second_liaison, reasons=[Concern.Reason.CANNOT_COPE]
    )
    assert_alerted_once(concern, to=[w.liaison])
    with pytest.raises(ActionRefused):
        open_concern_by_hand(w.satellite, by=w.liaison, reasons=[])


def test_the_alert_names_the_household_by_its_carers_first_names(w, clock):
    w.satellite_carer.first_name = "Robin"
    w.satellite_carer.save(update_fields=["first_name"])
    crises_at(w, clock, [T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)])
    concern = concerns(w).get()
    row = alerts(concern).get(recipient=w.liaison, channel=Channel.IN_APP)
    assert "Robin's household in Riverside" in row.body
    assert SURNAME not in row.body
