"""The desk's activity feed: each filter narrows it, the services file their rows under
the household and children they concern, bad input is a 400 with a message, paging
follows a cursor in a constant number of queries, and nobody sees another
constellation's or service's rows. On PostgreSQL, the feed's query for a page reads
an index of the activity table, never the whole table."""

import re
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from calendar_events import services as calendar
from calendar_events.models import Event
from constellation import selectors
from constellation.desk_forms import (
    CHILD_MESSAGE,
    CONSTELLATION_MESSAGE,
    CURSOR_MESSAGE,
    DATES_MESSAGE,
    HOUSEHOLD_MESSAGE,
    KIND_MESSAGE,
    cursor_text,
    parse_cursor,
)
from constellation.models import Activity, ActivityKind, CheckIn, Concern, Household
from constellation.services import concerns, contact
from delegated_authority import services as authority
from delegated_authority.models import Decision
from sleepovers import services as sleepovers
from tests.sleepovers.helpers import allow_hub, stay

LONDON = ZoneInfo("Europe/London")
MONDAY = datetime(2027, 3, 8, 10, tzinfo=LONDON)
FEED = reverse("constellation:activity")


@pytest.fixture
def clock():
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def w(clock, world):
    return world


def feed(client, user, status=200, **params):
    client.force_login(user)
    response = client.get(FEED, params)
    assert response.status_code == status, response.content.decode()[-2000:]
    return response.content.decode()


def shown(html: str) -> list[int]:
    """The ids of the activity rows on the page, in order."""
    return [int(pk) for pk in re.findall(r'data-activity="(\d+)"', html)]


def rows_of(**lookups) -> set[int]:
    return set(Activity.objects.filter(**lookups).values_list("pk", flat=True))


def newest(n: int = 25, **lookups) -> list[int]:
    """The ids of the ``n`` newest rows matching ``lookups``, newest first."""
    rows = Activity.objects.filter(**lookups).order_by("-created_at", "-pk")
    return list(rows.values_list("pk", flat=True)[:n])


def ask_and_accept(w):
    """The Ashfords ask a stay for Mara; the hub accepts it."""
    allow_hub(w.child, by=w.liaison)
    start, end = stay(5)
    request = sleepovers.create_request(
        by=w.satellite_carer, kind="planned", children=[w.child], start=start, end=end
    )
    sleepovers.accept(request, by=w.hub_carer)
    return request


def request_rows(request) -> set[int]:
    return rows_of(target_type=ContentType.objects.get_for_model(request), target_id=request.pk)


# --- the services file their rows under whom they concern -----------------------------


def test_a_requests_rows_carry_its_household_and_children(w):
    request = ask_and_accept(w)
    rows = Activity.objects.filter(pk__in=request_rows(request)).prefetch_related("children")
    assert sorted(r.verb for r in rows) == ["sleepover.accepted", "sleepover.requested"]
    for row in rows:
        assert row.household_id == w.satellite.pk
        assert [c.pk for c in row.children.all()] == [w.child.pk]
        assert row.kind == ActivityKind.REQUEST
        assert "Quill" not in row.summary


def test_a_child_filter_finds_the_requests_and_answers_for_that_child(client, w):
    request = ask_and_accept(w)
    html = feed(client, w.liaison, child=w.child.pk)
    assert request_rows(request) <= set(shown(html))
    assert "asked by The Ashfords" in html
    # Bob's filter does not find Mara's request.
    html = feed(client, w.liaison, child=w.neighbour_child.pk)
    assert not request_rows(request) & set(shown(html))


def test_a_child_filter_finds_approvals_and_agreements_for_that_child(client, w):
    allow_hub(w.child, by=w.liaison)
    approval = authority.request_approval(
        w.child, Decision.objects.get(code="haircuts"), by=w.satellite_carer, details="A trim"
    )
    authority.decide_approval(approval, by=w.liaison, approve=False, note="Ask the parents first")
    html = feed(client, w.liaison, child=w.child.pk, kind=ActivityKind.APPROVAL)
    verbs = set(Activity.objects.filter(pk__in=shown(html)).values_list("verb", flat=True))
    assert verbs == {"agreement.signed", "approval.requested", "approval.refused"}
    assert "Quill" not in html


def test_an_event_answer_is_filed_under_the_household_that_answered(client, w):
    start = timezone.now() + timedelta(days=3)
    event = calendar.create_event(
        constellation=w.constellation,
        by=w.hub_carer,
        kind=Event.Kind.SOCIAL,
        title="Spring picnic",
        start=start,
        end=start + timedelta(hours=2),
    )
    calendar.answer(
        event,
        event.start,
        by=w.satellite_carer,
        answer="yes",
        adults=1,
        children=[w.child],
        household=w.satellite,
    )
    answered = rows_of(verb="event.answered")
    assert answered
    assert answered <= set(shown(feed(client, w.liaison, household=w.satellite.pk)))
    assert answered <= set(shown(feed(client, w.liaison, child=w.child.pk)))
    assert not answered & set(shown(feed(client, w.liaison, household=w.neighbour.pk)))
    with time_machine.travel(start + timedelta(hours=3), tick=False):
        calendar.record_attendance(
            event,
            event.start,
            by=w.hub_carer,
            came=[calendar.Came(household=w.satellite, adults=1, children=(w.child,))],
        )
    came = rows_of(verb="event.attendance")
    assert came <= set(shown(feed(client, w.liaison, household=w.satellite.pk)))
    assert came <= set(shown(feed(client, w.liaison, child=w.child.pk)))


def test_the_hubs_changes_are_filed_under_the_hub(client, w):
    today = timezone.localdate()
    sleepovers.add_unavailability(
        w.hub,
        by=w.hub_carer,
        start=today + timedelta(days=20),
        end=today + timedelta(days=21),
        note="A family wedding",
    )
    sleepovers.change_beds(
        w.hub,
        by=w.hub_carer,
        start=today + timedelta(days=30),
        end=today + timedelta(days=30),
        beds=2,
    )
    html = feed(client, w.liaison, household=w.hub.pk)
    verbs = set(Activity.objects.filter(pk__in=shown(html)).values_list("verb", flat=True))
    assert {"hub.unavailable", "hub.beds_changed"} <= verbs


# --- each filter narrows ------------------------------------------------------------------


def some_of_everything(w, clock):
    """Rows in both constellations of the service, over three days."""
    ask_and_accept(w)
    clock.move_to(MONDAY + timedelta(days=1))
    concerns.open_concern_by_hand(
        w.neighbour,
        by=w.hub_carer,
        reasons=[Concern.Reason.OTHER],
        description="Struggling with bedtimes",
    )
    clock.move_to(MONDAY + timedelta(days=2))
    contact.record_check_in(
        w.satellite, by=w.hub_carer, occurred_at=timezone.now(), method=CheckIn.Method.VISIT
    )
    cedars = Household.objects.get(name="The Cedars")
    contact.record_check_in(
        cedars, by=w.other_hub_carer, occurred_at=timezone.now(), method=CheckIn.Method.PHONE
    )


def test_the_constellation_filter(client, w, clock):
    some_of_everything(w, clock)
    riverside = shown(feed(client, w.manager, constellation=w.constellation.pk))
    hillside = set(shown(feed(client, w.manager, constellation=w.other_constellation.pk)))
    assert riverside == newest(constellation=w.constellation)
    riverside = set(riverside)
    assert hillside == rows_of(constellation=w.other_constellation)
    assert hillside
    assert riverside
    assert not riverside & hillside


def test_the_household_filter(client, w, clock):
    some_of_everything(w, clock)
    ashfords = set(shown(feed(client, w.liaison, household=w.satellite.pk)))
    assert ashfords == rows_of(household=w.satellite)
    brookes = set(shown(feed(client, w.liaison, household=w.neighbour.pk)))
    assert brookes == rows_of(household=w.neighbour)
    assert brookes
    assert not ashfords & brookes


def test_the_kind_filter(client, w, clock):
    some_of_everything(w, clock)
    html = feed(client, w.liaison, kind=ActivityKind.CHECK_IN)
    assert set(shown(html)) == rows_of(kind=ActivityKind.CHECK_IN, constellation=w.constellation)
    assert "Check-ins" in html
    html = feed(client, w.liaison, kind=ActivityKind.CONCERN)
    assert set(shown(html)) == rows_of(kind=ActivityKind.CONCERN, constellation=w.constellation)
    assert len(shown(html)) == 1


def test_the_date_filters_take_whole_london_days(client, w, clock):
    some_of_everything(w, clock)
    day_two = (MONDAY + timedelta(days=1)).date()
    html = feed(client, w.liaison, since=day_two.isoformat(), until=day_two.isoformat())
    assert set(shown(html)) == set(
        Activity.objects.filter(
            constellation=w.constellation, created_at__date=day_two
        ).values_list("pk", flat=True)
    )
    assert len(shown(html)) == 1  # the concern opened that day
    later = set(shown(feed(client, w.liaison, since=day_two.isoformat())))
    earlier = set(shown(feed(client, w.liaison, until=MONDAY.date().isoformat())))
    assert later
    assert earlier
    assert not later & earlier
    assert later | earlier == rows_of(constellation=w.constellation)


def test_a_row_just_before_midnight_in_summer_belongs_to_its_london_day(client, w, clock):
    # 23:30 in London on 1 July is 22:30 UTC: still 1 July for the filter.
    clock.move_to(datetime(2027, 7, 1, 23, 30, tzinfo=LONDON))
    contact.record_check_in(
        w.satellite, by=w.hub_carer, occurred_at=timezone.now(), method=CheckIn.Method.MESSAGE
    )
    row = Activity.objects.get(verb="check_in.recorded")
    assert shown(feed(client, w.liaison, since="2027-07-01", until="2027-07-01")) == [row.pk]
    assert shown(feed(client, w.liaison, since="2027-07-02")) == []


# --- who sees what --------------------------------------------------------------------------


def test_another_constellations_liaison_worker_sees_none_of_riverside(client, w, clock):
    some_of_everything(w, clock)
    html = feed(client, w.other_liaison)
    assert set(shown(html)) == rows_of(constellation=w.other_constellation)
    assert "The Ashfords" not in html
    assert "Riverside" not in html
    # Nor by naming Riverside, its household or its child.
    for params, message in (
        ({"constellation": w.constellation.pk}, CONSTELLATION_MESSAGE),
        ({"household": w.satellite.pk}, HOUSEHOLD_MESSAGE),
        ({"child": w.child.pk}, CHILD_MESSAGE),
    ):
        html = feed(client, w.other_liaison, status=400, **params)
        assert message in html
        assert shown(html) == []


def test_another_service_sees_nothing_of_this_one(client, w, clock):
    some_of_everything(w, clock)
    for who in ("other_service_manager", "other_service_liaison"):
        html = feed(client, getattr(w, who))
        assert set(shown(html)) <= rows_of(service=w.other_service)
        for name in ("Riverside", "Hillside", "The Ashfords", "The Cedars", "Mara"):
            assert name not in html, (who, name)
        html = feed(client, getattr(w, who), status=400, household=w.satellite.pk)
        assert HOUSEHOLD_MESSAGE in html


def test_carers_are_refused_the_feed(client, w):
    for who in ("hub_carer", "satellite_carer", "other_hub_carer"):
        client.force_login(getattr(w, who))
        assert client.get(FEED).status_code == 403


# --- bad input: a 400 with a message, never a 500 -----------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kind": "gossip"}, KIND_MESSAGE),
        ({"kind": "request'--"}, KIND_MESSAGE),
        ({"household": "abc"}, HOUSEHOLD_MESSAGE),
        ({"household": "-3"}, HOUSEHOLD_MESSAGE),
        ({"household": "9" * 40}, HOUSEHOLD_MESSAGE),
        ({"child": "1.5"}, CHILD_MESSAGE),
        ({"constellation": "٣"}, CONSTELLATION_MESSAGE),
        ({"since": "yesterday"}, "Give a date, for example 2026-03-14."),
        ({"since": "2027-02-30"}, "Give a date, for example 2026-03-14."),
        ({"until": "08/03/2027"}, "Give a date, for example 2026-03-14."),
        ({"until": "٢٠٢٧-٠٣-٠٨"}, "Give a date, for example 2026-03-14."),
        ({"since": "0001-01-01"}, "Give a date between the years 2000 and 2100."),
        ({"until": "9999-12-31"}, "Give a date between the years 2000 and 2100."),
        ({"since": "2027-03-09", "until": "2027-03-08"}, DATES_MESSAGE),
        ({"after": "garbage"}, CURSOR_MESSAGE),
        ({"after": "2027-03-08T10:00:00Z"}, CURSOR_MESSAGE),
        ({"after": "2027-13-08T10:00:00Z_5"}, CURSOR_MESSAGE),
        ({"after": "2027-03-08T10:00:00+00:00_5"}, CURSOR_MESSAGE),
        ({"after": "9999-03-08T10:00:00Z_5"}, CURSOR_MESSAGE),
        ({"after": "2027-03-08T10:00:00Z_0"}, CURSOR_MESSAGE),
        ({"after": "2027-03-08T10:00:00Z_" + "9" * 19}, CURSOR_MESSAGE),
        ({"after": "2027-03-08T10:00:00Z_-1"}, CURSOR_MESSAGE),
    ],
)
def test_bad_input_is_refused_with_a_message(client, w, params, message):
    html = feed(client, w.liaison, status=400, **params)
    assert message in html
    assert "Nothing is shown until the filters are put right." in html


def test_a_household_of_another_service_is_refused(client, w):
    dunes = Household.objects.get(name="The Dunes")
    html = feed(client, w.manager, status=400, household=dunes.pk)
    assert HOUSEHOLD_MESSAGE in html


def test_the_cursor_reads_back_what_it_wrote():
    moment = datetime(2027, 3, 28, 0, 59, 59, 123456, tzinfo=UTC)
    text = cursor_text((moment, 42))
    assert text == "2027-03-28T00:59:59.123456Z_42"
    assert parse_cursor(text) == (moment, 42)
    london = moment.astimezone(LONDON)
    assert parse_cursor(cursor_text((london, 7))) == (moment, 7)


# --- paging: a cursor, a constant number of queries ----------------------------------------


def many_rows(w, n: int, *, start: datetime | None = None) -> None:
    """``n`` activity rows of Riverside, one a minute back from ``start``; every fifth
    at the same moment as the one before (ties are broken by id)."""
    start = start or timezone.now()
    target = ContentType.objects.get_for_model(Household)
    households = [w.satellite, w.neighbour, w.hub]
    rows, moment = [], start
    for i in range(n):
        if i % 5:
            moment -= timedelta(minutes=1)
        household = households[i % 3]
        rows.append(
            Activity(
                service=w.service,
                constellation=w.constellation,
                household=household,
                actor=w.hub_carer,
                verb="check_in.recorded",
                kind=ActivityKind.CHECK_IN,
                target_type=target,
                target_id=household.pk,
                summary=f"Row {i}",
                created_at=moment,
            )
        )
    Activity.objects.bulk_create(rows, batch_size=500)


def next_link(html: str) -> str | None:
    found = re.search(r'href="\?([^"]*)" rel="next"', html)
    return found and found[1].replace("&amp;", "&")


def test_paging_walks_every_row_once_newest_first(client, w):
    many_rows(w, 60)
    client.force_login(w.liaison)
    seen, query, pages = [], "", 0
    while True:
        response = client.get(f"{FEED}?{query}")
        assert response.status_code == 200
        html = response.content.decode()
        seen += shown(html)
        pages += 1
        query = next_link(html)
        if not query:
            break
        if pages > 1:
            assert "Newest" in html
    expected = list(
        Activity.objects.filter(constellation=w.constellation)
        .order_by("-created_at", "-pk")
        .values_list("pk", flat=True)
    )
    assert seen == expected
    assert pages == 3  # 25 + 25 + 10


def test_paging_keeps_the_filters(client, w):
    many_rows(w, 80)
    html = feed(client, w.liaison, household=w.satellite.pk)
    query = parse_qs(next_link(html))
    assert query["household"] == [str(w.satellite.pk)]
    assert "after" in query
    client.force_login(w.liaison)
    second = client.get(FEED, {k: v[0] for k, v in query.items()}).content.decode()
    assert set(shown(second)) <= rows_of(household=w.satellite)
    assert not set(shown(second)) & set(shown(html))


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


def test_a_page_deep_in_the_feed_costs_the_queries_of_the_first(client, w):
    many_rows(w, 330)
    client.force_login(w.liaison)
    first_url = f"{FEED}?household={w.satellite.pk}"
    deep = (
        Activity.objects.filter(constellation=w.constellation)
        .order_by("-created_at", "-pk")
        .values_list("created_at", "pk")[300]
    )
    deep_url = f"{FEED}?household={w.satellite.pk}&after={cursor_text(deep)}"
    client.get(first_url)  # the session and content types, read once
    first = queries_for(client, first_url)
    assert queries_for(client, deep_url) == first
    # The same without filters.
    assert queries_for(client, f"{FEED}?after={cursor_text(deep)}") == queries_for(client, FEED)


def test_the_feed_page_is_in_a_bounded_number_of_queries(client, w, django_assert_max_num_queries):
    many_rows(w, 30)
    client.force_login(w.liaison)
    client.get(FEED)
    with django_assert_max_num_queries(15):
        client.get(FEED, {"household": w.satellite.pk, "kind": "check_in", "child": w.child.pk})


# --- on PostgreSQL: 100,000 rows, read through the indexes ----------------------------------


def _page_plan(user, filters, after) -> str:
    """The PostgreSQL plan of the query ``page_after`` runs for one page of the feed:
    the very SQL it sent, caught on its way, then explained."""
    with CaptureQueriesContext(connection) as captured:
        selectors.page_after(selectors.activity_feed(user, filters), after=after)
    (sql,) = [q["sql"] for q in captured.captured_queries if "constellation_activity" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}")
        return "\n".join(row[0] for row in cursor.fetchall())


# A constellation's year: mostly requests, stays and events; concerns and placement
# changes are rare (per 100 rows).
KIND_MIX = {
    ActivityKind.REQUEST: 40,
    ActivityKind.STAY: 20,
    ActivityKind.EVENT: 14,
    ActivityKind.CHECK_IN: 15,
    ActivityKind.APPROVAL: 5,
    ActivityKind.MEMBERSHIP: 3,
    ActivityKind.CONCERN: 2,
    ActivityKind.PLACEMENT: 1,
}


def _lots_of_activity(w, n: int = 100_000) -> None:
    """``n`` rows over 2 constellations and their 59 households, one every 5 minutes
    (about a year), in time order as the services write them. One INSERT ... SELECT
    over ``generate_series``: bulk_create of the same rows took 21 s on the 2-core
    machine, this takes 5."""
    target = ContentType.objects.get_for_model(Household)
    extra = {
        c.pk: Household.objects.bulk_create(
            Household(service=w.service, name=f"{c.name} {i}") for i in range(28)
        )
        for c in (w.constellation, w.other_constellation)
    }
    riverside = [w.satellite.pk, w.neighbour.pk, *(h.pk for h in extra[w.constellation.pk])]
    hillside = [
        Household.objects.get(name="The Cedars").pk,
        *(h.pk for h in extra[w.other_constellation.pk]),
    ]
    kinds = [kind for kind, share in KIND_MIX.items() for _ in range(share)]
    oldest = timezone.now() - timedelta(minutes=5 * n)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO constellation_activity (service_id, constellation_id, household_id,
                actor_id, verb, kind, target_type_id, target_id, summary, payload, created_at)
            SELECT %(service)s,
                   CASE WHEN i %% 2 = 0 THEN %(riverside_id)s ELSE %(hillside_id)s END,
                   h, %(actor)s, 'check_in.recorded',
                   (%(kinds)s::text[])[1 + (i / 2 * 37) %% cardinality(%(kinds)s::text[])],
                   %(target)s, h, 'Row ' || i, '{}',
                   %(oldest)s::timestamptz + i * interval '5 minutes'
            FROM generate_series(0, %(n)s - 1) AS i,
                 LATERAL (SELECT CASE WHEN i %% 2 = 0
                     THEN (%(riverside)s::bigint[])[1 + (i / 2 * 7) %% %(r)s]
                     ELSE (%(hillside)s::bigint[])[1 + (i / 2 * 7) %% %(h)s] END AS h) AS place
            """,
            {
                "service": w.service.pk,
                "riverside_id": w.constellation.pk,
                "hillside_id": w.other_constellation.pk,
                "actor": w.hub_carer.pk,
                "kinds": kinds,
                "target": target.pk,
                "oldest": oldest,
                "n": n,
                "riverside": riverside,
                "hillside": hillside,
                "r": len(riverside),
                "h": len(hillside),
            },
        )


@pytest.mark.postgres
def test_the_feed_reads_100000_rows_through_its_indexes(requires_postgres, client, w):
    started = time.monotonic()
    _lots_of_activity(w)
    written = time.monotonic() - started
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE constellation_activity")
        cursor.execute("ANALYZE constellation_activity_children")
    assert Activity.objects.count() >= 100_000
    deep = (
        Activity.objects.filter(constellation=w.constellation)
        .order_by("-created_at", "-pk")
        .values_list("created_at", "pk")[40_000]
    )
    plans = {}
    for name, filters in (
        ("constellation", selectors.FeedFilters(constellation=w.constellation.pk)),
        (
            "constellation and kind",
            selectors.FeedFilters(constellation=w.constellation.pk, kind=ActivityKind.CONCERN),
        ),
        ("household", selectors.FeedFilters(household=w.satellite.pk)),
    ):
        for after in (None, deep):
            plan = _page_plan(w.liaison, filters, after)
            plans[(name, after is not None)] = plan
            assert not re.search(r"Seq Scan on constellation_activity(?!_)", plan), (name, plan)
            # An index scan of the table, or a bitmap scan of one of its indexes (the
            # planner's choice when few rows match, such as one kind).
            assert re.search(
                r"Index (Only )?Scan( Backward)? using \w+ on constellation_activity\b"
                r"|Bitmap Index Scan on (activity_\w+|constellation_activity_\w+)",
                plan,
            ), (name, plan)
            if after is not None:
                # The cursor is where the index scan starts, not a filter on every row.
                assert re.search(r"Index Cond: \(.*created_at <= ", plan), (name, plan)
    print(
        "\n\n".join(
            f"-- {name}{' (deep)' if deep_ else ''}\n{plan}"
            for (name, deep_), plan in plans.items()
        )
    )

    # The same number of queries for the first page and one 40,000 rows down.
    client.force_login(w.liaison)
    url = f"{FEED}?constellation={w.constellation.pk}"
    client.get(url)
    first = queries_for(client, url)
    assert queries_for(client, f"{url}&after={cursor_text(deep)}") == first
    html = client.get(f"{url}&after={cursor_text(deep)}").content.decode()
    assert len(shown(html)) == 25
    print(
        f"\n100,000 rows written in {written:.1f} s; written, explained and paged in "
        f"{time.monotonic() - started:.1f} s"
    )
