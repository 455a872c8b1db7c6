"""The liaison worker's pages for a constellation (limits, exceptions to them, cover for
the hub), temporary placements at the hub, and the withdrawals on the hub's beds page:
what each person notices, every form's bad input (400, a clear message, nothing saved),
and a constellation page whose queries do not grow with its exceptions and covers."""

import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from constellation import services as people
from constellation.models import Activity, Child, HubCover, Placement
from sleepovers import services
from sleepovers.models import (
    BedChange,
    Kind,
    LimitOverride,
    Night,
    Request,
    SleepoverSettings,
    Status,
    Unavailability,
)
from tests import factories as f

from .helpers import allow_hub, evening, stay

pytestmark = pytest.mark.django_db


def url(name, *args):
    return reverse(f"sleepovers:{name}", args=args)


def body(response) -> str:
    return response.content.decode()


def day(n: int):
    """The date ``n`` days from today."""
    return timezone.localdate() + timedelta(days=n)


def local(moment) -> str:
    """A datetime as a datetime-local input sends it."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def shown(d) -> str:
    """A date as the pages show it ("D j M")."""
    return f"{d:%a} {d.day} {d:%b}"


def settings_page(world) -> str:
    return url("constellation", world.constellation.pk)


def booking(world, days: int, nights: int = 1) -> dict:
    start, end = stay(days, nights)
    return {
        "kind": "planned",
        "children": [world.child.pk],
        "start": local(start),
        "end": local(end),
    }


def ask_planned(world, *, days: int, nights: int = 1) -> Request:
    start, end = stay(days, nights)
    return services.create_request(
        by=world.satellite_carer, kind="planned", children=[world.child], start=start, end=end
    )


def book(client, world, days: int, nights: int = 1):
    """The satellite carer books on the booking page."""
    return client.post(url("new"), booking(world, days, nights))


@pytest.fixture
def allowed(world):
    """The children's agreements let the hub carers (and a stand-in's) accept stays."""
    for child in (world.child, world.neighbour_child):
        allow_hub(child, by=world.liaison)
    return world


@pytest.fixture
def stand_in(world):
    """A household of the constellation with one bed and a carer: the liaison worker
    can choose it as a stand-in for the hub."""
    household = f.satellite_in(world.constellation, name="The Fairweathers")
    people.update_household(household, by=None, beds=1)
    household.refresh_from_db()
    carer = f.carer_of(household, email="fairweather@test.example")
    return SimpleNamespace(household=household, carer=carer)


# --- the constellation page: who sees it ----------------------------------------------------


def test_the_liaison_worker_finds_the_page_from_the_requests_and_sees_the_limits(login, world):
    client = login(world.liaison)
    assert f'href="{settings_page(world)}"' in body(client.get(url("index")))
    html = body(client.get(settings_page(world)))
    assert "Limits, exceptions and cover: Riverside" in html
    assert "The hub: The Hub Home, usually 3 beds." in html
    assert "at most 3 nights in a row, no yearly allowance" in html
    assert "No exceptions now or coming." in html
    assert "No cover now or coming." in html
    # The other constellation's page is not theirs to open.
    other = url("constellation", world.other_constellation.pk)
    assert client.get(other).status_code == 404
    assert login(world.hub_carer).get(settings_page(world)).status_code == 403


# --- limits ----------------------------------------------------------------------------------


def test_the_liaison_worker_saves_new_limits_and_the_family_books_to_them(login, world):
    client = login(world.liaison)
    response = client.post(
        url("update_limits", world.constellation.pk),
        {"max_consecutive_nights": "5", "yearly_allowance_nights": "40"},
    )
    assert response.status_code == 302
    assert response["Location"] == settings_page(world)
    html = body(client.get(response["Location"]))
    assert "Planned stays are at most 5 nights in a row." in html
    assert "at most 5 nights in a row, 40 planned nights per child a year" in html
    assert 'id="limits-max_consecutive_nights"' in html
    assert 'value="5"' in html

    family = login(world.satellite_carer)
    html = body(family.get(url("new")))
    assert "A planned overnight stay is at most 5 nights in a row." in html
    assert "Each child has 40 planned nights at the hub a year." in html
    # Five nights may be booked now; six are refused naming the new limit.
    refused = book(family, world, days=10, nights=6)
    assert refused.status_code == 400
    assert "at most 5 consecutive nights" in body(refused)
    assert book(family, world, days=10, nights=5).status_code == 302
    assert len(Request.objects.get().nights) == 5


def test_an_empty_allowance_on_the_page_means_no_allowance(login, world):
    services.update_limits(
        world.constellation, by=world.liaison, max_consecutive_nights=3, yearly_allowance_nights=9
    )
    client = login(world.manager)
    client.post(
        url("update_limits", world.constellation.pk),
        {"max_consecutive_nights": "2", "yearly_allowance_nights": ""},
    )
    assert "at most 2 nights in a row, no yearly allowance" in body(
        client.get(settings_page(world))
    )
    html = body(login(world.satellite_carer).get(url("new")))
    assert "at most 2 nights in a row" in html
    assert "planned nights at the hub a year" not in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"max_consecutive_nights": "0"}, "greater than or equal to 1"),
        ({"max_consecutive_nights": "15"}, "less than or equal to 14"),
        ({"max_consecutive_nights": "three"}, "Enter a whole number"),
        ({"max_consecutive_nights": ""}, "This field is required"),
        ({"max_consecutive_nights": "3", "yearly_allowance_nights": "0"}, "greater than or equal"),
        ({"max_consecutive_nights": "3", "yearly_allowance_nights": "366"}, "less than or equal"),
        ({"max_consecutive_nights": "3", "yearly_allowance_nights": "lots"}, "Enter a whole"),
    ],
)
def test_bad_limits_are_a_400_with_the_reason_and_change_nothing(login, world, data, message):
    services.update_limits(
        world.constellation, by=world.liaison, max_consecutive_nights=4, yearly_allowance_nights=20
    )
    before = Activity.objects.count()
    response = login(world.liaison).post(url("update_limits", world.constellation.pk), data)
    assert response.status_code == 400
    html = body(response)
    assert message in html
    # The page still says what the limits are.
    assert "at most 4 nights in a row, 20 planned nights per child a year" in html
    limits = SleepoverSettings.objects.get(constellation=world.constellation)
    assert (limits.max_consecutive_nights, limits.yearly_allowance_nights) == (4, 20)
    assert Activity.objects.count() == before


def test_only_the_liaison_worker_or_a_manager_saves_the_limits(client, world):
    target = url("update_limits", world.constellation.pk)
    data = {"max_consecutive_nights": "9"}
    for who, status in {
        "hub_carer": 403,
        "satellite_carer": 403,
        "other_liaison": 404,
        "other_service_manager": 404,
    }.items():
        client.force_login(getattr(world, who))
        assert client.post(target, data).status_code == status, who
    assert services.settings_for(world.constellation).max_consecutive_nights == 3


# --- exceptions to the limits -----------------------------------------------------------------


def exception(world, **changes) -> dict:
    data = {
        "child": world.child.pk,
        "start": day(5).isoformat(),
        "end": day(9).isoformat(),
        "reason": "Mum's operation and recovery",
    }
    data.update(changes)
    return data


def test_an_exception_made_on_the_page_lets_the_family_book_beyond_the_limit(login, world):
    client = login(world.liaison)
    html = body(client.get(settings_page(world)))
    # The children of the constellation may be chosen, not those of another.
    assert f'<option value="{world.child.pk}">Mara</option>' in html
    assert "Danika" not in html
    response = client.post(url("grant_override", world.constellation.pk), exception(world))
    assert response.status_code == 302
    assert response["Location"] == settings_page(world)
    override = LimitOverride.objects.get()
    assert (override.child, override.granted_by) == (world.child, world.liaison)
    html = body(client.get(settings_page(world)))
    assert f"Mara may be booked beyond the limits from {day(5):%d %B} to {day(9):%d %B}." in html
    assert f"Mara: nights of {day(5):%a} {day(5).day}" in html
    assert escape("Mum's operation and recovery") in html
    assert f'action="{url("withdraw_override", override.pk)}"' in html

    # Five nights, beyond the limit of three: the request goes, with the reason.
    family = login(world.satellite_carer)
    response = book(family, world, days=5, nights=5)
    assert response.status_code == 302
    request = Request.objects.get()
    assert len(request.nights) == 5
    html = body(family.get(url("request", request.pk)))
    assert escape("Beyond the limits by the liaison worker's exception") in html
    assert escape("Mum's operation and recovery") in html
    # The hub carer reads the same reason on the request page.
    html = body(login(world.hub_carer).get(url("request", request.pk)))
    assert escape("Mum's operation and recovery") in html


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda w: {"reason": ""}, "Say why"),
        (lambda w: {"reason": "   "}, "Say why"),
        (lambda w: {"start": day(9).isoformat(), "end": day(5).isoformat()}, "must not be before"),
        (lambda w: {"start": day(-2).isoformat()}, "cannot start in the past"),
        (
            lambda w: {"child": w.other_constellation_child.pk},
            "Choose a child of this constellation",
        ),
        (lambda w: {"child": w.other_service_child.pk}, "Choose a child of this constellation"),
        (lambda w: {"child": "abc"}, "Choose a child of this constellation"),
        (lambda w: {"start": "not-a-date"}, "Enter a valid date"),
    ],
)
def test_a_bad_exception_is_a_400_with_a_clear_message_and_nothing_saved(
    login, world, change, message
):
    before = Activity.objects.count()
    response = login(world.liaison).post(
        url("grant_override", world.constellation.pk), exception(world, **change(world))
    )
    assert response.status_code == 400
    assert message in body(response)
    assert not LimitOverride.objects.exists()
    assert Activity.objects.count() == before


def test_a_withdrawn_exception_leaves_the_page_and_the_limit_applies_again(login, world):
    override = services.grant_override(
        world.constellation,
        by=world.liaison,
        child=world.child,
        start=day(5),
        end=day(9),
        reason="Respite while Dad is in hospital",
    )
    client = login(world.liaison)
    assert "Respite while Dad is in hospital" in body(client.get(settings_page(world)))
    response = client.post(url("withdraw_override", override.pk))
    assert response["Location"] == settings_page(world)
    html = body(client.get(settings_page(world)))
    assert "Exception withdrawn: new requests keep to the limits." in html
    assert "Respite while Dad is in hospital" not in html
    assert "No exceptions now or coming." in html
    override.refresh_from_db()
    assert override.withdrawn_by == world.liaison

    response = book(login(world.satellite_carer), world, days=5, nights=5)
    assert response.status_code == 400
    assert "A planned stay is at most 3 consecutive nights in this constellation" in body(response)
    assert not Request.objects.exists()


def test_withdrawing_an_exception_is_for_the_liaison_worker_or_a_manager(client, world):
    override = services.grant_override(
        world.constellation,
        by=world.liaison,
        child=world.child,
        start=day(5),
        end=day(9),
        reason="Respite",
    )
    target = url("withdraw_override", override.pk)
    for who, status in {
        "hub_carer": 403,
        "other_liaison": 404,
        "other_service_manager": 404,
    }.items():
        client.force_login(getattr(world, who))
        assert client.post(target).status_code == status, who
    override.refresh_from_db()
    assert override.withdrawn_at is None


# --- cover for the hub -----------------------------------------------------------------------


def cover_form(household, first: int, last: int, note: str = "Hub family at a wedding") -> dict:
    return {
        "stand_in": household.pk,
        "start": day(first).isoformat(),
        "end": day(last).isoformat(),
        "note": note,
    }


def arrange(client, world, household, first: int, last: int, **kw):
    return client.post(
        url("arrange_cover", world.constellation.pk), cover_form(household, first, last, **kw)
    )


def test_the_liaison_worker_arranges_cover_and_the_families_see_who_covers(login, world, stand_in):
    client = login(world.liaison)
    html = body(client.get(settings_page(world)))
    # Only households of their constellation with beds, never the hub itself.
    assert f'<option value="{stand_in.household.pk}">The Fairweathers (1 bed)</option>' in html
    assert "The Hub Home (3 beds)" not in html
    assert "Seaside Hub" not in html
    assert "The Brookes (0 beds)" not in html

    response = arrange(client, world, stand_in.household, 0, 6)
    assert response.status_code == 302
    assert response["Location"] == settings_page(world)
    cover = HubCover.objects.get()
    assert (cover.stand_in, cover.arranged_by) == (stand_in.household, world.liaison)
    html = body(client.get(settings_page(world)))
    assert (
        f"The Fairweathers covers for the hub from {day(0):%d %B} to {day(6):%d %B}; "
        "the families see it." in html
    )
    assert "<strong>The Fairweathers</strong> (1 bed)" in html
    assert 'text-bg-info">now</span>' in html
    assert "Hub family at a wedding" in html
    assert f'action="{url("end_cover", cover.pk)}"' in html

    family = login(world.satellite_carer)
    named = f"<strong>The Fairweathers</strong> covers for the hub from {shown(day(0))}"
    assert named in body(family.get(url("availability")))
    assert named in body(family.get(url("new")))
    home = body(family.get(reverse("home")))
    assert f"The Fairweathers covers for the hub until {shown(day(6))}: call them" in home
    crisis = body(family.get(url("crisis")))
    assert (
        f"The Fairweathers covers for the hub until {shown(day(6))}: your request goes to them."
        in crisis
    )


def test_a_request_in_the_cover_goes_to_the_stand_in_who_sees_and_accepts_it(
    login, allowed, stand_in
):
    arrange(login(allowed.liaison), allowed, stand_in.household, 1, 4)
    family = login(allowed.satellite_carer)
    response = book(family, allowed, days=2)
    assert response.status_code == 302
    request = Request.objects.get()
    assert request.hub == stand_in.household
    assert "Sent to The Fairweathers, covering for the hub" in body(
        family.get(response["Location"])
    )

    carer = login(stand_in.carer)
    for page in (url("index"), reverse("home")):
        html = body(carer.get(page))
        assert "Covering for the hub" in html, page
        assert f"For Riverside from {shown(day(1))} to {shown(day(4))}" in html, page
        assert url("request", request.pk) in html, page
        assert f'action="{url("accept", request.pk)}"' in html, page
    # The hub's own inbox does not have it: the stand-in answers.
    assert url("request", request.pk) not in body(login(allowed.hub_carer).get(url("index")))

    carer = login(stand_in.carer)
    response = carer.post(url("accept", request.pk), {"next": url("index")})
    assert response["Location"] == url("index")
    request.refresh_from_db()
    assert request.status == Status.ACCEPTED
    assert list(Night.objects.filter(request=request).values_list("hub", flat=True)) == [
        stand_in.household.pk
    ]
    assert "Accepted. The Ashfords can see it now." in body(carer.get(url("index")))
    assert "Booked." in body(login(allowed.satellite_carer).get(url("request", request.pk)))

    # The accepted stay waits on the stand-in's pages, where the arrival is recorded.
    carer = login(stand_in.carer)
    for page in (url("index"), reverse("home")):
        html = body(carer.get(page))
        assert "Coming to you, or with you now" in html, page
        assert f'action="{url("arrived", request.pk)}"' in html, page
    # Their own nights: the child booked at their home, and their beds page.
    nights = f"{url('nights')}?hub={stand_in.household.pk}&month={day(2):%Y-%m}"
    html = body(carer.get(nights))
    assert f"{url('nights')}?hub={stand_in.household.pk}" in body(carer.get(reverse("home")))
    assert allowed.child.known_as in html
    assert carer.get(f"{url('beds')}?hub={stand_in.household.pk}").status_code == 200
    # Nobody of another service finds the stand-in's nights.
    outsider = login(allowed.other_service_manager)
    assert outsider.get(nights).status_code == 404
    carer = login(stand_in.carer)
    with time_machine.travel(request.start):
        carer.post(url("arrived", request.pk), {"next": reverse("home")})
        request.refresh_from_db()
        assert request.status == Status.ARRIVED
        assert f'action="{url("collected", request.pk)}"' in body(carer.get(reverse("home")))


def test_ending_the_cover_on_the_page_sends_requests_to_the_hub_again(login, world, stand_in):
    client = login(world.liaison)
    arrange(client, world, stand_in.household, 3, 5)
    cover = HubCover.objects.get()
    html = body(client.get(settings_page(world)))
    assert ">Withdraw</button>" in html
    response = client.post(url("end_cover", cover.pk))
    assert response["Location"] == settings_page(world)
    html = body(client.get(settings_page(world)))
    assert "Cover withdrawn." in html
    assert "No cover now or coming." in html
    cover.refresh_from_db()
    assert cover.withdrawn_by == world.liaison

    family = login(world.satellite_carer)
    assert "The Fairweathers" not in body(family.get(url("new")))
    assert book(family, world, days=4).status_code == 302
    assert Request.objects.get().hub == world.hub


def test_a_cover_in_progress_ends_on_the_page_and_the_crisis_page_names_the_hub_again(
    login, world, stand_in
):
    cover = HubCover.objects.create(
        constellation=world.constellation,
        stand_in=stand_in.household,
        start=day(-2),
        end=day(3),
        arranged_by=world.liaison,
    )
    family = login(world.satellite_carer)
    assert "The Fairweathers covers for the hub until" in body(family.get(url("crisis")))
    client = login(world.liaison)
    assert ">End now</button>" in body(client.get(settings_page(world)))
    html = body(client.post(url("end_cover", cover.pk), follow=True))
    assert "the hub answers again" in html
    assert "No cover now or coming." in html
    family = login(world.satellite_carer)
    assert "The Fairweathers" not in body(family.get(url("crisis")))
    # Ended twice: refused, with the reason.
    html = body(login(world.liaison).post(url("end_cover", cover.pk), follow=True))
    assert "This cover is over already." in html


def _overlapping(world, stand_in):
    services.arrange_cover(
        world.constellation,
        by=world.liaison,
        stand_in=stand_in.household,
        start=day(2),
        end=day(4),
    )
    return cover_form(stand_in.household, 3, 6)


BAD_COVERS = [
    (
        "a household of another service",
        lambda w, s: cover_form(w.other_service_constellation.hub, 2, 4),
        "Choose a household from the list.",
    ),
    (
        "a household without beds",
        lambda w, s: cover_form(w.neighbour, 2, 4),
        "Choose a household from the list.",
    ),
    ("the hub itself", lambda w, s: cover_form(w.hub, 2, 4), "Choose a household from the list."),
    (
        "a household the liaison worker does not oversee",
        lambda w, s: cover_form(w.other_constellation.hub, 2, 4),
        "Choose a household from the list.",
    ),
    ("overlapping", _overlapping, "The Fairweathers already covers from"),
    (
        "end before start",
        lambda w, s: cover_form(s.household, 4, 2),
        "The last day must not be before the first.",
    ),
    ("past start", lambda w, s: cover_form(s.household, -3, 2), "Cover cannot start in the past."),
    (
        "not a date",
        lambda w, s: {**cover_form(s.household, 2, 4), "end": "next week"},
        "Enter a valid date.",
    ),
    (
        "note too long",
        lambda w, s: cover_form(s.household, 2, 4, note="x" * 201),
        "at most 200 characters",
    ),
]


@pytest.mark.parametrize(("case", "data", "message"), BAD_COVERS)
def test_a_bad_cover_is_a_400_with_a_clear_message_and_nothing_saved(
    login, world, stand_in, case, data, message
):
    posted = data(world, stand_in)
    before = (HubCover.objects.count(), Activity.objects.count())
    response = login(world.liaison).post(url("arrange_cover", world.constellation.pk), posted)
    assert response.status_code == 400, case
    assert message in body(response), case
    assert (HubCover.objects.count(), Activity.objects.count()) == before, case


# --- temporary placements ----------------------------------------------------------------


def placement(world, **changes) -> dict:
    data = {
        "child": world.child.pk,
        "start": local(evening(1)),
        "expected_end": day(8).isoformat(),
        "notes": "Her placement ended suddenly; she knows the hub family.",
    }
    data.update(changes)
    return data


def test_the_temporary_placement_page_offers_only_the_children_of_their_constellations(
    login, world
):
    client = login(world.liaison)
    assert f'href="{url("temporary")}"' in body(client.get(url("index")))
    html = body(client.get(url("temporary")))
    assert f'<option value="{world.child.pk}">Mara</option>' in html
    assert f'<option value="{world.neighbour_child.pk}">Bob</option>' in html
    # Not the hub's own foster child, nor a child of another constellation or service.
    for name in ("Cee", "Danika", "Elias"):
        assert f">{name}</option>" not in html, name
    html = body(login(world.other_liaison).get(url("temporary")))
    assert f'<option value="{world.other_constellation_child.pk}">Danika</option>' in html
    assert "Mara" not in html


def test_carers_cannot_arrange_a_temporary_placement(client, world):
    for who in ("hub_carer", "satellite_carer"):
        client.force_login(getattr(world, who))
        assert client.get(url("temporary")).status_code == 403, who
        assert client.post(url("temporary"), placement(world)).status_code == 403, who
    assert not Request.objects.exists()


def test_the_liaison_worker_arranges_a_temporary_placement(login, world):
    client = login(world.liaison)
    response = client.post(url("temporary"), placement(world))
    request = Request.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("request", request.pk)
    assert (request.kind, request.status, request.hub) == (
        Kind.TEMPORARY,
        Status.REQUESTED,
        world.hub,
    )
    assert list(request.children.all()) == [world.child]
    html = body(client.get(response["Location"]))
    assert "Arranged and agreed. The hub carer accepts it against the beds." in html
    assert "Arranged and agreed by the liaison worker" in html
    # The hub carer finds it in the inbox, to accept.
    html = body(login(world.hub_carer).get(url("index")))
    assert f'action="{url("accept", request.pk)}"' in html


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda w: {"expected_end": day(-1).isoformat()},
            "The expected end must be after the start",
        ),
        (lambda w: {"child": "999999"}, "Choose a child placed in one of your constellations."),
        (
            lambda w: {"child": w.other_constellation_child.pk},
            "Choose a child placed in one of your constellations.",
        ),
        (
            lambda w: {"child": w.hub_child.pk},
            "Choose a child placed in one of your constellations.",
        ),
        (lambda w: {"child": ""}, "Choose a child placed in one of your constellations."),
        (lambda w: {"start": "tomorrow"}, "Enter a date and time"),
        (lambda w: {"expected_end": "soon"}, "Enter a date, for example"),
    ],
)
def test_a_bad_temporary_placement_is_a_400_with_a_clear_message_and_nothing_saved(
    login, world, change, message
):
    before = Activity.objects.count()
    response = login(world.liaison).post(url("temporary"), placement(world, **change(world)))
    assert response.status_code == 400
    assert message in body(response)
    assert not Request.objects.exists()
    assert Activity.objects.count() == before


@pytest.fixture
def arrived(login, world):
    """A temporary placement arranged on the page, accepted and arrived on the hub
    carer's pages."""
    login(world.liaison).post(url("temporary"), placement(world, start=local(timezone.now())))
    request = Request.objects.get()
    hub = login(world.hub_carer)
    hub.post(url("accept", request.pk))
    request.refresh_from_db()
    assert request.status == Status.ACCEPTED
    hub.post(url("arrived", request.pk))
    request.refresh_from_db()
    assert request.status == Status.ARRIVED
    return request


def test_the_liaison_worker_records_the_move_that_ends_a_temporary_placement(login, world, arrived):
    client = login(world.liaison)
    html = body(client.get(url("request", arrived.pk)))
    assert "End the temporary placement" in html
    assert f'action="{url("end_placement", arrived.pk)}"' in html
    # The constellation's households come first.
    assert html.index(">The Brookes</option>") < html.index(">The Hub Home</option>")
    response = client.post(
        url("end_placement", arrived.pk),
        {"to": world.neighbour.pk, "reason": "A long-term placement with the Brookes"},
    )
    assert response["Location"] == url("request", arrived.pk)
    child = Child.objects.get(pk=world.child.pk)
    assert child.household == world.neighbour
    now = Placement.objects.get(child=child, ended_on__isnull=True)
    assert (now.household, now.started_on) == (world.neighbour, day(0))
    before = Placement.objects.get(child=child, household=world.satellite)
    assert (before.ended_on, before.reason_for_move) == (
        day(0),
        "A long-term placement with the Brookes",
    )
    arrived.refresh_from_db()
    assert arrived.status == Status.COLLECTED
    html = body(client.get(url("request", arrived.pk)))
    assert "The move is recorded in the placement history." in html
    assert "Moved: A long-term placement with the Brookes" in html
    assert "End the temporary placement" not in html


def test_the_end_placement_form_shows_only_to_the_liaison_worker_once_arrived(
    login, world, arrived
):
    assert "End the temporary placement" not in body(
        login(world.hub_carer).get(url("request", arrived.pk))
    )
    assert "End the temporary placement" in body(
        login(world.manager).get(url("request", arrived.pk))
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda w: {"reason": ""}, "Say why"),
        (lambda w: {"reason": "  "}, "Say why"),
        (
            lambda w: {"to": w.other_service_constellation.hub.pk},
            "Choose a household from the list.",
        ),
        (lambda w: {"to": "999999"}, "Choose a household from the list."),
        (lambda w: {"reason": "x" * 201}, "at most 200 characters"),
    ],
)
def test_a_bad_move_is_a_400_and_nothing_changes(login, world, arrived, change, message):
    data = {"to": world.neighbour.pk, "reason": "A new placement", **change(world)}
    placements = Placement.objects.count()
    response = login(world.liaison).post(url("end_placement", arrived.pk), data)
    assert response.status_code == 400
    html = body(response)
    assert message in html
    assert "End the temporary placement" in html
    assert Child.objects.get(pk=world.child.pk).household == world.satellite
    assert Placement.objects.count() == placements
    arrived.refresh_from_db()
    assert arrived.status == Status.ARRIVED


def test_a_hub_carer_cannot_end_a_temporary_placement(login, world, arrived):
    response = login(world.hub_carer).post(
        url("end_placement", arrived.pk), {"to": world.neighbour.pk, "reason": "Moving on"}
    )
    assert response.status_code == 403
    assert Child.objects.get(pk=world.child.pk).household == world.satellite
    arrived.refresh_from_db()
    assert arrived.status == Status.ARRIVED


def test_a_temporary_placement_over_a_night_the_child_is_booked_is_answered(login, allowed):
    planned = ask_planned(allowed, days=3)
    services.accept(planned, by=allowed.hub_carer)
    # The placement ends suddenly before the planned stay: the child comes to the hub.
    login(allowed.liaison).post(url("temporary"), placement(allowed))
    temporary = Request.objects.get(kind=Kind.TEMPORARY)
    client = login(allowed.hub_carer)
    response = client.post(url("accept", temporary.pk))
    assert response.status_code == 302
    assert "already has a bed on the night of" in body(client.get(response["Location"]))
    temporary.refresh_from_db()
    assert temporary.status == Status.REQUESTED


def test_the_same_child_cannot_be_booked_twice_for_a_night(login, allowed):
    planned = ask_planned(allowed, days=3)
    services.accept(planned, by=allowed.hub_carer)
    with pytest.raises(ValidationError, match="already has a bed on the night of"):
        ask_planned(allowed, days=3)


def test_a_placement_that_has_not_arrived_cannot_end_yet(login, world):
    login(world.liaison).post(url("temporary"), placement(world))
    request = Request.objects.get()
    client = login(world.liaison)
    assert "End the temporary placement" not in body(client.get(url("request", request.pk)))
    response = client.post(
        url("end_placement", request.pk), {"to": world.neighbour.pk, "reason": "Moving on"}
    )
    assert "The child has not arrived at the hub." in body(client.get(response["Location"]))
    assert Child.objects.get(pk=world.child.pk).household == world.satellite


# --- withdrawals on the beds page --------------------------------------------------------------


def beds_shown(html: str, d) -> str:
    """What the beds page's "next two weeks" shows for the night ``d``: booked/beds."""
    match = re.search(
        rf'{d:%a} {d.day}</span>\s*<span class="d-block fw-semibold">([^<]+)</span>', html
    )
    assert match, d
    return match[1]


def beds_page(hub) -> str:
    return f"{url('beds')}?hub={hub.pk}"


def test_a_withdrawn_period_away_is_bookable_again(login, world):
    period = services.add_unavailability(
        world.hub, by=world.hub_carer, start=day(5), end=day(6), note="Our summer holiday"
    )
    family = login(world.satellite_carer)
    assert "Our summer holiday" in body(family.get(url("availability")))
    refused = book(family, world, days=5)
    assert refused.status_code == 400
    assert "Our summer holiday" in body(refused)

    client = login(world.hub_carer)
    assert f'action="{url("withdraw_unavailability", period.pk)}"' in body(client.get(url("beds")))
    response = client.post(url("withdraw_unavailability", period.pk))
    assert response["Location"] == beds_page(world.hub)
    html = body(client.get(response["Location"]))
    assert f"The hub is available again from {day(5):%d %B} to {day(6):%d %B}." in html
    assert "Our summer holiday" not in html
    assert beds_shown(html, day(5)) == "0/3"

    family = login(world.satellite_carer)
    assert "Our summer holiday" not in body(family.get(url("availability")))
    assert book(family, world, days=5).status_code == 302
    # Withdrawn twice: refused, with the reason.
    html = body(login(world.liaison).post(url("withdraw_unavailability", period.pk), follow=True))
    assert "This was withdrawn already." in html


def test_a_withdrawn_bed_change_gives_the_nights_their_usual_beds(login, world):
    change = services.change_beds(
        world.hub, by=world.hub_carer, start=day(5), end=day(5), beds=1, note="Decorating"
    )
    client = login(world.hub_carer)
    html = body(client.get(url("beds")))
    assert beds_shown(html, day(5)) == "0/1"
    assert "Decorating" in html
    response = client.post(url("withdraw_bed_change", change.pk))
    assert response["Location"] == beds_page(world.hub)
    html = body(client.get(response["Location"]))
    assert f"The change of {day(5):%d %B} to {day(5):%d %B} is withdrawn." in html
    assert "Decorating" not in html
    assert beds_shown(html, day(5)) == "0/3"


def test_a_bed_change_in_use_cannot_be_withdrawn_and_stays(login, allowed):
    people.update_household(allowed.hub, by=None, beds=1)
    allowed.hub.refresh_from_db()
    change = services.change_beds(
        allowed.hub, by=allowed.hub_carer, start=day(5), end=day(5), beds=2, note="Camp bed"
    )
    for carer, child in (
        (allowed.satellite_carer, allowed.child),
        (allowed.neighbour_carer, allowed.neighbour_child),
    ):
        start, end = stay(5)
        request = services.create_request(
            by=carer, kind="planned", children=[child], start=start, end=end
        )
        services.accept(request, by=allowed.hub_carer)
    client = login(allowed.hub_carer)
    html = body(client.post(url("withdraw_bed_change", change.pk), follow=True))
    assert f"2 children are booked on the night of {day(5):%A %d %B}" in html
    assert "more than the 1 beds without this change" in html
    assert "Camp bed" in html
    assert beds_shown(html, day(5)) == "2/2"
    change.refresh_from_db()
    assert (change.withdrawn_at, change.withdrawn_by) == (None, None)


def test_only_the_hubs_people_withdraw_its_periods_and_bed_changes(client, world):
    period = services.add_unavailability(
        world.hub, by=world.hub_carer, start=day(5), end=day(6), note="Holiday"
    )
    change = services.change_beds(world.hub, by=world.hub_carer, start=day(5), end=day(5), beds=1)
    expected = {
        "satellite_carer": 403,
        "other_hub_carer": 404,
        "other_liaison": 404,
        "other_service_manager": 404,
    }
    for target in (
        url("withdraw_unavailability", period.pk),
        url("withdraw_bed_change", change.pk),
    ):
        for who, status in expected.items():
            client.force_login(getattr(world, who))
            assert client.post(target).status_code == status, (target, who)
    assert Unavailability.objects.in_force().count() == 1
    assert BedChange.objects.in_force().count() == 1


# --- the constellation page's queries do not grow with its exceptions and covers -------------


def grow(world, n: int) -> None:
    """``n`` exceptions for the satellite's child and ``n`` covers by the other
    constellation's hub, one day each, one after the other."""
    stand_in = world.other_constellation.hub
    for i in range(n):
        services.grant_override(
            world.constellation,
            by=world.liaison,
            child=world.child,
            start=day(i + 1),
            end=day(i + 1),
            reason=f"Exception number {i}",
        )
        services.arrange_cover(
            world.constellation,
            by=world.manager,
            stand_in=stand_in,
            start=day(i + 1),
            end=day(i + 1),
        )


MAX_QUERIES = 16


@pytest.mark.parametrize("size", [1, 10])
@pytest.mark.parametrize("who", ["liaison", "manager"])
def test_the_constellation_page_stays_within_a_fixed_number_of_queries(
    login, world, django_assert_max_num_queries, size, who
):
    grow(world, size)
    client = login(getattr(world, who))
    with django_assert_max_num_queries(MAX_QUERIES):
        response = client.get(settings_page(world))
    assert response.status_code == 200
    html = body(response)
    assert html.count("Exception number") == size
    assert html.count("<strong>Hillside Hub</strong>") == size


def test_the_constellation_pages_queries_do_not_grow_with_exceptions_and_covers(login, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        client = login(world.liaison)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(settings_page(world)).status_code == 200
        return len(queries)

    grow(world, 1)
    count()  # the first visit writes the constellation's default limits
    small = count()
    HubCover.objects.all().delete()
    LimitOverride.objects.all().delete()
    grow(world, 10)
    assert count() == small
