"""Supervision notes (issue 11, item 7): written by the liaison worker about the hub
carers and the satellite carers of the constellation, read only by its liaison
workers and the service's managers; never by a carer, in any page, the API, the
activity record or a notification."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from constellation import services
from constellation.models import Activity, Carer, SupervisionNote
from notifications.models import Notification
from tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 10)
SECRET = "Struggling with Mara's bedtimes; discussed stepping back from respite"


@pytest.fixture
def pinned():
    """11:00 London on 10 March 2027, the clock standing still."""
    moment = datetime(2027, 3, 10, 11, 0, tzinfo=ZoneInfo("Europe/London"))
    with time_machine.travel(moment, tick=False):
        yield TODAY


def url(name, *args):
    return reverse(f"constellation:{name}", args=args)


def body(response) -> str:
    return response.content.decode()


def carer_row(user) -> Carer:
    return Carer.objects.get(user=user)


def note_about(world, user, text=SECRET, on=TODAY) -> SupervisionNote:
    return services.write_supervision_note(
        carer_row(user), by=world.liaison, supervised_on=on, note=text
    )


CARERS = ("hub_carer", "second_hub_carer", "satellite_carer", "neighbour_carer")
OUTSIDERS = (
    "other_liaison",
    "other_hub_carer",
    "other_satellite_carer",
    "social_worker",
    "other_service_manager",
    "other_service_liaison",
    "other_service_hub_carer",
    "other_service_carer",
)


def statuses(client, target, world, expected: dict, method="get") -> None:
    for who, status in expected.items():
        client.force_login(getattr(world, who))
        response = getattr(client, method)(target)
        assert response.status_code == status, (who, response.status_code)
        assert SECRET not in body(response), who
    client.logout()


# --- who may read and write ------------------------------------------------------------------


def test_the_supervision_page_is_for_the_liaison_worker_and_managers(pinned, client, world):
    note_about(world, world.satellite_carer)
    target = url("supervision", world.constellation.pk)
    response = client.get(target)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    statuses(
        client,
        target,
        world,
        {
            **dict.fromkeys(CARERS, 403),
            **dict.fromkeys(OUTSIDERS, 404),
        },
    )
    for who in ("liaison", "manager"):
        client.force_login(getattr(world, who))
        response = client.get(target)
        assert response.status_code == 200
        assert SECRET.replace("'", "&#x27;") in body(response)


@pytest.mark.parametrize("about", ["hub_carer", "satellite_carer"])
def test_writing_a_note_is_for_the_liaison_worker_and_managers(pinned, client, world, about):
    target = url("supervision_create", carer_row(getattr(world, about)).pk)
    statuses(
        client,
        target,
        world,
        {
            **dict.fromkeys(CARERS, 403),
            **dict.fromkeys(OUTSIDERS, 404),
            # Mara's social worker sees the Ashfords' household, not the hub's.
            "social_worker": 403 if about == "satellite_carer" else 404,
            "liaison": 200,
            "manager": 200,
        },
    )
    statuses(client, target, world, dict.fromkeys(CARERS, 403), method="post")
    assert not SupervisionNote.objects.exists()


def test_no_note_for_a_carer_who_left(pinned, login, world):
    carer = carer_row(world.neighbour_carer)
    services.end_carer(carer, by=world.liaison, reason="Moved away")
    client = login(world.liaison)
    assert client.get(url("supervision_create", carer.pk)).status_code == 403
    response = client.post(
        url("supervision_create", carer.pk), {"supervised_on": "2027-03-10", "note": "Hello"}
    )
    assert response.status_code == 403
    assert not SupervisionNote.objects.exists()


def test_the_liaison_worker_of_a_constellation_a_household_left_writes_no_more_notes(
    pinned, client, world
):
    """The Brookes leave Riverside and join Hillside: Riverside's liaison worker may no
    longer write about their carer; Hillside's may, and the note is Hillside's."""
    services.end_membership(world.neighbour.memberships.get(), by=world.liaison, reason="Moved")
    carer = carer_row(world.neighbour_carer)
    target = url("supervision_create", carer.pk)
    client.force_login(world.liaison)
    assert client.get(target).status_code == 403
    membership = services.propose_membership(world.other_constellation, world.neighbour, by=None)
    services.activate_membership(membership, by=None)
    assert client.get(target).status_code == 403
    client.force_login(world.other_liaison)
    response = client.post(target, {"supervised_on": "2027-03-09", "note": "First visit"})
    assert response.status_code == 302
    assert response["Location"] == url("supervision", world.other_constellation.pk)
    assert SupervisionNote.objects.get().constellation == world.other_constellation


# --- writing and reading -----------------------------------------------------------------------


def test_a_note_is_written_and_listed_with_the_carers_supervised(pinned, login, world):
    client = login(world.liaison)
    page = client.get(url("supervision", world.constellation.pk))
    supervised = {c.user for c in page.context["carers"]}
    assert supervised == {
        world.hub_carer,
        world.second_hub_carer,
        world.satellite_carer,
        world.neighbour_carer,
    }
    for user in supervised:
        assert url("supervision_create", carer_row(user).pk) in body(page)

    target = url("supervision_create", carer_row(world.satellite_carer).pk)
    form = client.get(target)
    assert 'value="2027-03-10"' in body(form)
    assert "never by carers" in body(form)
    response = client.post(target, {"supervised_on": "2027-03-08", "note": f"  {SECRET}  "})
    assert response.status_code == 302
    assert response["Location"] == url("supervision", world.constellation.pk)
    note = SupervisionNote.objects.get()
    assert (note.carer.user, note.supervised_on, note.note, note.written_by) == (
        world.satellite_carer,
        date(2027, 3, 8),
        SECRET,
        world.liaison,
    )
    page = client.get(url("supervision", world.constellation.pk), follow=True)
    html = body(page)
    assert "8 Mar 2027" in html
    assert SECRET.replace("'", "&#x27;") in html
    row = next(c for c in page.context["carers"] if c.user == world.satellite_carer)
    assert (row.notes_count, row.last_supervised) == (1, date(2027, 3, 8))


def test_the_notes_of_one_carer(pinned, login, world):
    note_about(world, world.satellite_carer, "About the Ashfords' carer")
    note_about(world, world.hub_carer, "About the hub carer")
    client = login(world.manager)
    target = url("supervision", world.constellation.pk)
    carer = carer_row(world.hub_carer)
    response = client.get(f"{target}?carer={carer.pk}")
    assert [n.note for n in response.context["page"]] == ["About the hub carer"]
    assert response.context["chosen"].user == world.hub_carer
    for nonsense in ("abc", "9" * 40, "-1"):
        response = client.get(f"{target}?carer={nonsense}&page=zzz")
        assert response.status_code == 200
        assert len(response.context["page"]) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"supervised_on": "2027-03-11"}, "cannot be in the future"),
        ({"supervised_on": "9999-12-31"}, "cannot be in the future"),
        ({"supervised_on": "2021-01-01"}, "more than five years ago"),
        ({"supervised_on": "0001-01-01"}, "more than five years ago"),
        ({"supervised_on": ""}, "Give the date of the supervision"),
        ({"supervised_on": "10/03/27x"}, "Give a date"),
        ({"note": ""}, "Write the supervision note"),
        ({"note": " \n\t "}, "Write the supervision note"),
        ({"note": "x" * 5001}, "at most 5000 characters"),
    ],
)
def test_a_note_with_bad_input_is_refused_and_nothing_saved(pinned, login, world, data, message):
    posted = {"supervised_on": "2027-03-08", "note": "A good session", **data}
    response = login(world.liaison).post(
        url("supervision_create", carer_row(world.satellite_carer).pk), posted
    )
    assert response.status_code == 400
    assert message in body(response)
    assert not SupervisionNote.objects.exists()
    assert not Activity.objects.filter(verb="supervision.written").exists()


def test_the_supervision_page_reads_in_a_fixed_number_of_queries(
    pinned, login, world, django_assert_max_num_queries
):
    note_about(world, world.satellite_carer)
    client = login(world.liaison)
    target = url("supervision", world.constellation.pk)
    with django_assert_max_num_queries(25) as few:
        client.get(target)
    for i in range(12):
        household = f.satellite_in(world.constellation, name=f"Household {i:02}")
        user = f.carer_of(household)
        for days in range(3):
            note_about(world, user, f"Session {days}", on=TODAY - timedelta(days=days))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(target)
    assert len(response.context["carers"]) == 16
    assert response.context["page"].paginator.count == 37


# --- privacy: a note never reaches a carer -------------------------------------------------------


def _plain_pages():
    """Every GET page of the product that takes no argument (not the admin's, not
    allauth's), by name."""

    def walk(resolver, prefix="", namespace=""):
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                ns = ":".join(n for n in (namespace, pattern.namespace) if n)
                yield from walk(pattern, prefix + str(pattern.pattern), ns)
            elif isinstance(pattern, URLPattern) and pattern.name:
                route = prefix + str(pattern.pattern)
                if "<" in route or "(?P" in route or route.startswith(("admin/", "accounts/")):
                    continue
                yield f"{namespace}:{pattern.name}" if namespace else pattern.name

    return sorted(set(walk(get_resolver())))


def _pages_with_records(world) -> list[str]:
    """The pages about the constellation's records that a carer might open."""
    from constellation.models import Household

    pages = [url("detail", world.constellation.pk)]
    for household in Household.objects.filter(service=world.service):
        pages.append(url("household", household.pk))
    for child in (world.child, world.neighbour_child, world.hub_child):
        pages += [url("child", child.pk), url("child_history", child.pk)]
    for user in (world.hub_carer, world.satellite_carer, world.neighbour_carer):
        carer = carer_row(user).pk
        pages += [url("supervision_create", carer), url("carer_end", carer)]
    pages += [
        url("history", world.constellation.pk),
        url("supervision", world.constellation.pk),
        url("planning_meetings", world.constellation.pk),
        url("coverage", world.constellation.pk),
        f"{url('supervision', world.constellation.pk)}?carer={carer_row(world.satellite_carer).pk}",
    ]
    return pages


def _api_pages(world) -> list[str]:
    from constellation.models import Household

    pages = [
        reverse("api:constellation-detail", args=[world.constellation.pk]),
        *[
            reverse("api:household-detail", args=[h.pk])
            for h in Household.objects.filter(service=world.service)
        ],
        *[
            reverse("api:child-detail", args=[c.pk])
            for c in (world.child, world.neighbour_child, world.hub_child)
        ],
    ]
    pages += [reverse(name) for name in _plain_pages() if name.startswith("api")]
    return pages


def _secrets_in(text: str) -> bool:
    return any(
        s in text for s in (SECRET, SECRET.replace("'", "&#x27;"), SECRET.replace("'", "\\u0027"))
    )


@pytest.mark.parametrize("who", CARERS)
def test_a_note_never_appears_in_any_page_or_api_answer_a_carer_opens(pinned, client, world, who):
    note_about(world, world.satellite_carer)
    note_about(world, world.hub_carer)
    client.force_login(getattr(world, who))
    opened = 0
    targets = [reverse(name) for name in _plain_pages()] + _pages_with_records(world)
    for target in targets + _api_pages(world):
        response = client.get(target, HTTP_ACCEPT="text/html,application/json")
        assert response.status_code < 500, target
        if response.status_code == 200:
            opened += 1
        content = b"".join(response.streaming_content) if response.streaming else response.content
        assert not _secrets_in(content.decode(errors="replace")), (who, target)
    assert opened > 15, "the carer should open many pages: this test must not be vacuous"


def test_the_liaison_worker_reads_it_where_the_carers_do_not(pinned, login, world):
    """The control of the test above: the same walk finds the note for the liaison."""
    note_about(world, world.satellite_carer)
    client = login(world.liaison)
    found = [
        target for target in _pages_with_records(world) if _secrets_in(body(client.get(target)))
    ]
    assert found == [
        url("supervision", world.constellation.pk),
        f"{url('supervision', world.constellation.pk)}?carer={carer_row(world.satellite_carer).pk}",
    ]


def test_a_note_leaves_no_trace_in_the_activity_record_or_the_outbox(
    pinned, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        note = note_about(world, world.satellite_carer)
    activity = Activity.objects.get(verb="supervision.written")
    assert activity.target_id == note.pk
    assert SECRET not in activity.summary
    assert SECRET not in str(activity.payload)
    for who in CARERS:
        assert not Activity.objects.visible_to(getattr(world, who)).exists(), who
        assert not SupervisionNote.objects.visible_to(getattr(world, who)).exists(), who
    for notification in Notification.objects.all():
        fields = (notification.subject, notification.body, notification.link, notification.key)
        assert not any(SECRET in str(value) for value in fields)
