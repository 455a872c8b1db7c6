"""The pages of regular contact: recording a check-in on a phone (three taps and a
sentence), the check-in and its follow-ups, resolving one, the coverage of a
constellation, its thresholds, and the coverage panel of the hub's home page; who
sees them (never a satellite carer, not even of their own household), bad input as
a 400 with a clear message, and query counts that do not grow with the households."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from constellation import services
from constellation.models import CheckIn, Concern, FollowUp
from tests import factories as f

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
# Wednesday 1 July 2026, 09:00 in London (summer time); the world is built then.
START = datetime(2026, 7, 1, 9, 0, tzinfo=LONDON)
HOME = reverse("home")
LONG = "x" * 5000


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def url(name, *args):
    return reverse(f"constellation:{name}", args=args)


def body(response) -> str:
    return response.content.decode()


def check_in(world, household=None, *, when=None, **kwargs):
    return services.record_check_in(
        household or world.satellite,
        by=kwargs.pop("by", world.hub_carer),
        occurred_at=when or timezone.now(),
        method=kwargs.pop("method", CheckIn.Method.VISIT),
        **kwargs,
    )


def with_follow_up(world, *, to=None, days=3, action="Ring the school about the trip"):
    return check_in(
        world,
        note="Busy week, all well",
        follow_ups=[
            services.FollowUpInput(
                action=action,
                due_on=timezone.localdate() + timedelta(days=days),
                assigned_to=to or world.hub_carer,
            )
        ],
    )


def quick(**changes):
    """Three taps and a sentence, at the time the page offers (now)."""
    data = {
        "method": "phone",
        "made": "made",
        "concern_level": "none",
        "note": "Mara had a good week at school",
        "on": "2026-07-01",
        "at": "09:00",
        "follow_up_due": "2026-07-08",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# --- recording a check-in --------------------------------------------------------------------


def test_the_check_in_page_offers_big_choices_and_now(clock, world, login):
    response = login(world.hub_carer).get(url("check_in_create", world.satellite.pk))
    assert response.status_code == 200
    html = body(response)
    assert "Check-in with The Ashfords" in html
    for label in ("Visit", "Phone call", "Video call", "Message", "At an event", "At the hub"):
        assert f">{label}</label>" in html
    assert 'class="btn-check' in html
    assert ">Contact made</label>" in html
    assert ">Only attempted</label>" in html
    form = response.context["form"]
    assert form["on"].value() == date(2026, 7, 1)
    assert form["at"].value() == "09:00"
    assert form["made"].value() == "made"
    assert form["concern_level"].value() == "none"
    # The follow-up goes to the hub carers or the liaison worker; the hub carer by default.
    assert set(form.fields["follow_up_to"].queryset) == {
        world.hub_carer,
        world.second_hub_carer,
        world.liaison,
    }
    assert form["follow_up_to"].value() == world.hub_carer.pk


def test_three_taps_and_a_sentence(clock, world, login):
    client = login(world.hub_carer)
    response = client.post(url("check_in_create", world.satellite.pk), quick())
    assert response.status_code == 302
    assert response["Location"] == url("household", world.satellite.pk)
    done = CheckIn.objects.get()
    assert (done.method, done.made, done.concern_level) == ("phone", True, "none")
    assert done.occurred_at == START
    assert done.note == "Mara had a good week at school"
    assert not FollowUp.objects.exists()  # no action written: no follow-up
    html = body(client.get(response["Location"]))
    assert "Check-in with The Ashfords recorded." in html
    assert "Mara had a good week at school" in html
    assert "Contact made today" in html


def test_a_check_in_with_a_follow_up_and_who_took_part(clock, world, login):
    response = login(world.liaison).post(
        url("check_in_create", world.satellite.pk),
        quick(
            method="visit",
            made="attempted",
            concern_level="medium",
            participants="Sam (carer)",
            on="2026-06-30",
            at="18:45",
            follow_up_action="Call again tomorrow",
            follow_up_due="2026-07-02",
            follow_up_to=str(world.hub_carer.pk),
        ),
    )
    assert response.status_code == 302
    done = CheckIn.objects.get()
    assert done.made is False
    assert done.occurred_at == datetime(2026, 6, 30, 18, 45, tzinfo=LONDON)
    assert done.participants == "Sam (carer)"
    assert done.recorded_by == world.liaison
    [item] = done.follow_ups.all()
    assert (item.action, item.due_on, item.assigned_to) == (
        "Call again tomorrow",
        date(2026, 7, 2),
        world.hub_carer,
    )


def test_a_high_concern_says_the_liaison_worker_is_alerted(clock, world, login):
    client = login(world.hub_carer)
    response = client.post(
        url("check_in_create", world.satellite.pk), quick(concern_level="high"), follow=True
    )
    assert "the liaison worker is alerted through a concern" in body(response)
    assert Concern.objects.get().source == Concern.Source.HIGH_CHECK_IN


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"method": None}, "method", "Choose how you were in touch."),
        ({"method": "pigeon"}, "method", "Choose how you were in touch from the list."),
        ({"made": "perhaps"}, "made", "Say whether contact was made or only attempted."),
        ({"concern_level": "extreme"}, "concern_level", "Choose a level of concern from the list."),
        ({"note": LONG}, "note", "at most 1000 characters"),
        ({"participants": LONG}, "participants", "at most 200 characters"),
        ({"at": "09:01"}, "at", "A check-in cannot be in the future."),
        ({"on": "2026-07-02", "at": "08:00"}, "at", "A check-in cannot be in the future."),
        ({"on": "2025-06-01"}, "on", "within a year: check the date"),
        ({"on": None}, "on", "Give the date of the contact."),
        ({"on": "not-a-date"}, "on", "Give a date, for example"),
        ({"on": "9999-12-31"}, "on", "between the years 2000 and 2100"),
        ({"on": "2026-02-30"}, "on", "Give a date, for example"),
        ({"at": None}, "at", "Give the time of the contact."),
        ({"at": "25:00"}, "at", "Give a time, for example 14:30."),
        ({"at": "٠٩:٠٠"}, "at", "Give a time, for example 14:30."),
        ({"at": "nine"}, "at", "Give a time, for example 14:30."),
        # The clocks went forward at 01:00 on 29 March 2026, back at 02:00 on 25 October 2025.
        ({"on": "2026-03-29", "at": "01:30"}, "at", "does not exist in London"),
        ({"on": "2025-10-26", "at": "01:30"}, "at", "happens twice in London"),
        ({"follow_up_action": LONG}, "follow_up_action", "at most 300 characters"),
        ({"follow_up_action": "Ring", "follow_up_due": ""}, "follow_up_due", "Give the date"),
        (
            {"follow_up_action": "Ring", "follow_up_due": "2026-06-30"},
            "follow_up_due",
            "cannot be due before today",
        ),
        ({"follow_up_action": "Ring"}, "follow_up_to", "Choose who does the follow-up."),
        (
            {"follow_up_action": "Ring", "follow_up_to": "9" * 30},
            "follow_up_to",
            "Give the follow-up to a hub carer or liaison worker",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(clock, world, login, change, field, message):
    response = login(world.hub_carer).post(
        url("check_in_create", world.satellite.pk), quick(**change)
    )
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert message in body(response)
    assert not CheckIn.objects.exists()


def test_without_a_follow_up_action_its_date_and_person_are_ignored(clock, world, login):
    response = login(world.hub_carer).post(
        url("check_in_create", world.satellite.pk),
        quick(follow_up_action="  ", follow_up_due="not-a-date", follow_up_to="9" * 30),
    )
    assert response.status_code == 302
    assert CheckIn.objects.count() == 1
    assert not FollowUp.objects.exists()


@pytest.mark.parametrize("who", ["satellite_carer", "manager", "other_constellation_carer"])
def test_a_follow_up_cannot_go_to_someone_who_cannot_act(clock, world, login, who):
    person = world.other_hub_carer if who == "other_constellation_carer" else getattr(world, who)
    response = login(world.hub_carer).post(
        url("check_in_create", world.satellite.pk),
        quick(follow_up_action="Ring", follow_up_to=str(person.pk)),
    )
    assert response.status_code == 400
    assert "Give the follow-up to a hub carer or liaison worker" in body(response)
    assert not CheckIn.objects.exists()


def test_who_records_a_check_in(clock, world, client, login):
    target = url("check_in_create", world.satellite.pk)
    response = client.get(target)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    for who, status in {
        "satellite_carer": 403,  # even with their own household
        "neighbour_carer": 403,
        "manager": 403,  # managers read; the hub and the liaison worker record
        "social_worker": 403,  # sees the household of their case
        "other_hub_carer": 404,
        "other_liaison": 404,
        "other_service_manager": 404,
    }.items():
        client = login(getattr(world, who))
        assert client.get(target).status_code == status, who
        assert client.post(target, quick()).status_code == status, who
    assert not CheckIn.objects.exists()
    # Not with the hub household, nor with a household that is not an active satellite.
    assert login(world.hub_carer).get(url("check_in_create", world.hub.pk)).status_code == 403
    proposed = f.satellite_in(world.constellation, active=False, name="The Newcombes")
    assert login(world.liaison).get(url("check_in_create", proposed.pk)).status_code == 403


def test_a_put_is_not_allowed(clock, world, login):
    assert login(world.hub_carer).put(url("check_in_create", world.satellite.pk)).status_code == 405


# --- the check-in and its follow-ups ----------------------------------------------------------


def test_the_check_in_page_shows_who_when_and_the_follow_ups(clock, world, login):
    done = with_follow_up(world, to=world.liaison)
    html = body(login(world.hub_carer).get(url("check_in", done.pk)))
    assert "Visit with The Ashfords" in html
    assert "Wednesday 1 July 2026, 09:00" in html
    assert str(world.hub_carer) in html
    assert "Busy week, all well" in html
    assert "Ring the school about the trip" in html
    assert "Due by Sat 4 Jul 2026" in html
    assert url("follow_up_resolve", done.follow_ups.get().pk) in html


def test_a_manager_reads_a_check_in_but_resolves_nothing(clock, world, login):
    done = with_follow_up(world)
    item = done.follow_ups.get()
    client = login(world.manager)
    html = body(client.get(url("check_in", done.pk)))
    assert "Ring the school about the trip" in html
    assert url("follow_up_resolve", item.pk) not in html
    assert client.post(url("follow_up_resolve", item.pk), {"resolution": "Done"}).status_code == 403


def test_nobody_outside_reads_a_check_in(clock, world, login):
    done = with_follow_up(world)
    for who in (
        "satellite_carer",
        "neighbour_carer",
        "other_hub_carer",
        "other_liaison",
        "other_service_manager",
        "social_worker",
    ):
        assert login(getattr(world, who)).get(url("check_in", done.pk)).status_code == 404, who
    assert login(world.hub_carer).get(url("check_in", 10**12)).status_code == 404


def test_resolving_a_follow_up_from_the_check_in_page(clock, world, login):
    done = with_follow_up(world)
    item = done.follow_ups.get()
    client = login(world.liaison)
    response = client.post(url("follow_up_resolve", item.pk), {"resolution": "School agreed"})
    assert response.status_code == 302
    assert response["Location"] == url("check_in", done.pk)
    item.refresh_from_db()
    assert (item.resolution, item.resolved_by) == ("School agreed", world.liaison)
    html = body(client.get(response["Location"]))
    assert "Follow-up resolved: Ring the school about the trip" in html
    assert "School agreed" in html
    assert url("follow_up_resolve", item.pk) not in html

    # Twice: the page says so, nothing changes.
    response = client.post(url("follow_up_resolve", item.pk), {"resolution": "Again"}, follow=True)
    assert "already resolved" in body(response)
    item.refresh_from_db()
    assert item.resolution == "School agreed"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Say how the follow-up was resolved."),
        ({"resolution": "   "}, "Say how the follow-up was resolved."),
        ({"resolution": LONG}, "at most 500 characters"),
    ],
)
def test_a_resolution_must_say_how(clock, world, login, data, message):
    item = with_follow_up(world).follow_ups.get()
    response = login(world.hub_carer).post(url("follow_up_resolve", item.pk), data)
    assert response.status_code == 400
    assert message in body(response)
    item.refresh_from_db()
    assert item.resolved_at is None


def test_who_resolves_a_follow_up(clock, world, login, client):
    item = with_follow_up(world).follow_ups.get()
    target = url("follow_up_resolve", item.pk)
    assert client.get(target).status_code in {302, 405}
    for who, status in {
        "satellite_carer": 404,
        "other_hub_carer": 404,
        "other_service_manager": 404,
        "manager": 403,
    }.items():
        response = login(getattr(world, who)).post(target, {"resolution": "Done"})
        assert response.status_code == status, who
    assert login(world.hub_carer).get(target).status_code == 405
    # The second hub carer, who was not given it, may resolve it too.
    assert login(world.second_hub_carer).post(target, {"resolution": "Done"}).status_code == 302


# --- coverage ---------------------------------------------------------------------------------


def test_the_coverage_page_shows_each_household_in_words(clock, world, login):
    check_in(world, world.satellite, when=START)
    with_follow_up(world, days=0)
    check_in(world, world.neighbour, when=START, made=False)
    clock.move_to(START + timedelta(days=12))
    client = login(world.hub_carer)
    html = body(client.get(url("coverage", world.constellation.pk)))
    assert "Due a check-in after 10 days, overdue after 14." in html
    assert "Never contacted: 12 days since joining" in html  # an attempt does not count
    assert "12 days since the last contact (Wed 1 Jul)" in html
    assert "Due a check-in</span>" in html
    assert "1 follow-up open" in html
    assert "1 overdue" in html
    assert "Overdue: was due Wed 1 Jul" in html
    assert html.count(">Record a check-in<") == 2
    assert url("contact_settings", world.constellation.pk) not in html

    clock.move_to(START + timedelta(days=15))
    html = body(client.get(url("coverage", world.constellation.pk)))
    assert html.count("Overdue</span>") == 2


def test_a_manager_reads_coverage_without_recording(clock, world, login):
    html = body(login(world.manager).get(url("coverage", world.constellation.pk)))
    assert "The Ashfords" in html
    assert "The Brookes" in html
    assert ">Record a check-in<" not in html
    assert url("contact_settings", world.constellation.pk) in html


def test_who_reads_coverage(clock, world, login):
    target = url("coverage", world.constellation.pk)
    for who, status in {
        "hub_carer": 200,
        "liaison": 200,
        "manager": 200,
        "satellite_carer": 403,
        "social_worker": 404,
        "other_hub_carer": 404,
        "other_service_manager": 404,
    }.items():
        assert login(getattr(world, who)).get(target).status_code == status, who


def _households(world, n):
    for i in range(n):
        household = f.satellite_in(world.constellation, name=f"Household {i:02}")
        f.carer_of(household)
        f.child_in(household, first_name=f"Kid{i}", preferred_name=f"K{i}")
        with_follow_up(world)
        check_in(
            world,
            household,
            follow_ups=[
                services.FollowUpInput(
                    action="Visit", due_on=timezone.localdate(), assigned_to=world.hub_carer
                )
            ],
        )


@pytest.mark.parametrize("extra", [0, 10])
def test_the_coverage_page_takes_the_same_queries_at_any_size(
    clock, world, login, django_assert_max_num_queries, extra
):
    _households(world, extra)
    client = login(world.liaison)
    # Session, user, the navigation (roles, unread count), the constellation and who
    # may read, record and manage it, the coverage (two), the open follow-ups.
    with django_assert_max_num_queries(15):
        response = client.get(url("coverage", world.constellation.pk))
    assert response.status_code == 200
    assert len(response.context["rows"]) == 2 + extra


# --- thresholds -------------------------------------------------------------------------------


def test_the_liaison_worker_sets_the_thresholds(clock, world, login):
    client = login(world.liaison)
    target = url("contact_settings", world.constellation.pk)
    form = client.get(target).context["form"]
    assert (form["amber_days"].value(), form["red_days"].value()) == (10, 14)
    response = client.post(target, {"amber_days": "5", "red_days": "8"})
    assert response.status_code == 302
    assert response["Location"] == url("coverage", world.constellation.pk)
    world.constellation.refresh_from_db()
    assert (world.constellation.contact_amber_days, world.constellation.contact_red_days) == (5, 8)
    html = body(client.get(response["Location"]))
    assert "amber after 5 days without contact, red after 8." in html
    assert "Due a check-in after 5 days, overdue after 8." in html


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amber_days": "8", "red_days": "8"}, "red_days", "Red must be more days than amber."),
        ({"amber_days": "9", "red_days": "5"}, "red_days", "Red must be more days than amber."),
        ({"amber_days": "0", "red_days": "5"}, "amber_days", "greater than or equal to 1"),
        ({"amber_days": "5", "red_days": "91"}, "red_days", "less than or equal to 90"),
        ({"amber_days": "٣", "red_days": "8"}, "amber_days", "Enter a whole number."),
        ({"amber_days": "ten", "red_days": "14"}, "amber_days", "Enter a whole number."),
        ({"red_days": "14"}, "amber_days", "This field is required."),
        ({"amber_days": "9" * 30, "red_days": "14"}, "amber_days", "less than or equal to"),
    ],
)
def test_thresholds_bad_input(clock, world, login, data, field, message):
    response = login(world.liaison).post(url("contact_settings", world.constellation.pk), data)
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert message in body(response)
    world.constellation.refresh_from_db()
    assert (world.constellation.contact_amber_days, world.constellation.contact_red_days) == (
        10,
        14,
    )


def test_who_sets_the_thresholds(clock, world, login):
    target = url("contact_settings", world.constellation.pk)
    for who, status in {
        "hub_carer": 403,
        "satellite_carer": 403,
        "manager": 200,
        "other_liaison": 404,
        "other_service_manager": 404,
    }.items():
        client = login(getattr(world, who))
        assert client.get(target).status_code == status, who
        if status != 200:
            assert client.post(target, {"amber_days": "3", "red_days": "4"}).status_code == status
    world.constellation.refresh_from_db()
    assert world.constellation.contact_amber_days == 10


# --- the hub's home page -------------------------------------------------------------------------


def test_the_hub_home_shows_how_long_since_each_household_was_contacted(clock, world, login):
    check_in(world, world.satellite, when=START)
    with_follow_up(world, days=0)
    clock.move_to(START + timedelta(days=15))
    html = body(login(world.hub_carer).get(HOME))
    panel = html[html.index('data-testid="contact-panel"') :]
    panel = panel[: panel.index("</section>")]
    assert "arrive with the regular-contact capability" not in html  # the placeholder went
    assert "Keeping in touch" in panel
    assert "2 households not contacted lately</strong>, 2 overdue." in panel
    assert "15 days since the last contact (Wed 1 Jul)" in panel
    assert "Never contacted: 15 days since joining" in panel
    assert panel.count("Overdue</span>") == 2  # words, not colour alone
    assert "1 follow-up open, <strong" in panel
    assert "1 overdue</strong>" in panel
    for household in (world.satellite, world.neighbour):
        assert url("check_in_create", household.pk) in panel
    assert url("coverage", world.constellation.pk) in panel
    assert url("concerns") in panel


def test_the_hub_home_when_everyone_is_in_touch(clock, world, login):
    check_in(world, world.satellite)
    check_in(world, world.neighbour)
    html = body(login(world.hub_carer).get(HOME))
    assert "Every household has been contacted lately." in html
    assert html.count("In touch</span>") == 2


def test_no_one_else_sees_the_coverage_panel(clock, world, login):
    check_in(world, world.satellite, note="Worried about money")
    for who in ("satellite_carer", "neighbour_carer"):
        html = body(login(getattr(world, who)).get(HOME))
        assert 'data-testid="contact-panel"' not in html, who
        assert "Worried about money" not in html, who


@pytest.mark.parametrize("extra", [0, 12])
def test_the_hub_home_stays_within_its_query_bound(
    clock, world, login, django_assert_max_num_queries, extra
):
    """The bound of tests/sleepovers/test_inbox_bounded.py (24): the coverage panel
    adds one query (its follow-up counts) and reads the households the page lists."""
    _households(world, extra)
    client = login(world.hub_carer)
    with django_assert_max_num_queries(24):
        response = client.get(HOME)
    assert len(response.context["coverage"]) == 2 + extra


# --- the household, child and constellation pages ----------------------------------------------


def test_the_household_page_shows_check_ins_and_concerns_to_the_hub(clock, world, login):
    with_follow_up(world)
    services.open_concern_by_hand(
        world.satellite, by=world.hub_carer, reasons=["needs_not_met"], children=[world.child]
    )
    for who in ("hub_carer", "liaison", "manager"):
        html = body(login(getattr(world, who)).get(url("household", world.satellite.pk)))
        assert 'data-testid="household-contact"' in html, who
        assert "Busy week, all well" in html, who
        assert "Follow-up: Ring the school about the trip" in html, who
        assert "The child&#x27;s needs are not being met" in html, who
        records = url("check_in_create", world.satellite.pk) in html
        assert records == (who != "manager"), who
        assert (url("concern_create", world.satellite.pk) in html) == (who != "manager"), who


def test_a_satellite_carer_never_sees_check_ins_or_concerns(clock, world, login):
    with_follow_up(world)
    check_in(world, world.neighbour, note="Neighbours struggling")
    concern = services.open_concern_by_hand(
        world.satellite,
        by=world.hub_carer,
        reasons=["cannot_cope"],
        description="Ashfords exhausted",
        children=[world.child],
    )
    for who in ("satellite_carer", "neighbour_carer"):
        client = login(getattr(world, who))
        for household in (world.satellite, world.neighbour):
            html = body(client.get(url("household", household.pk)))
            assert 'data-testid="household-contact"' not in html, (who, household)
            for secret in (
                "Busy week",
                "Neighbours struggling",
                "Ashfords exhausted",
                "Ring the school",
            ):
                assert secret not in html, (who, household, secret)
        child_page = body(client.get(url("child", world.child.pk)))
        assert 'data-testid="child-concerns"' not in child_page, who
        assert concern.get_absolute_url() not in child_page, who
        assert client.get(concern.get_absolute_url()).status_code == 404, who


def test_the_child_page_shows_open_concerns_to_the_hub(clock, world, login):
    concern = services.open_concern_by_hand(
        world.satellite,
        by=world.hub_carer,
        reasons=["child_wants_to_leave"],
        children=[world.child],
    )
    html = body(login(world.hub_carer).get(url("child", world.child.pk)))
    assert 'data-testid="child-concerns"' in html
    assert concern.get_absolute_url() in html
    services.close_concern(concern, by=world.liaison, note="Talked it through")
    html = body(login(world.hub_carer).get(url("child", world.child.pk)))
    assert 'data-testid="child-concerns"' not in html


def test_the_constellation_page_links_to_coverage_and_concerns(clock, world, login):
    for who, shown in {
        "hub_carer": True,
        "liaison": True,
        "manager": True,
        "satellite_carer": False,
    }.items():
        html = body(login(getattr(world, who)).get(url("detail", world.constellation.pk)))
        assert (url("coverage", world.constellation.pk) in html) == shown, who
