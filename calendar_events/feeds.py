"""The calendar as iCalendar (RFC 5545, with RFC 7986's feed properties), built with
the ``icalendar`` library: one event's ``.ics`` download, and each user's private
subscription feed that phone calendars fetch.

What phone calendars get wrong, and how the calendar avoids it:

- every calendar carries a ``VTIMEZONE`` for Europe/London (Outlook needs it), and
  timed dates are written at London wall-clock time with ``TZID=Europe/London``, so
  19:00 stays 19:00 across the clock changes;
- a series is one master ``VEVENT`` with its ``RRULE`` (``UNTIL`` in UTC at the end
  of the London day ``repeat_until``, or a date for an all-day series); each date
  moved or cancelled is an override ``VEVENT`` with the same ``UID`` and a
  ``RECURRENCE-ID`` at the original start's London time;
- a cancelled event or date stays in the feed with ``STATUS:CANCELLED`` and a raised
  ``SEQUENCE`` (the event's, plus the date's own), so that clients drop it;
- all-day entries end on the day after their last (``DTEND`` is exclusive);
- ``UID`` is stable (the event's uuid at the site's domain); ``REFRESH-INTERVAL``
  and ``X-PUBLISHED-TTL`` ask for a refresh every hour (Google ignores them and
  refreshes every 8 to 24 hours, so same-day changes also go out as messages).

Children are named by ``known_as`` only: a feed never carries a surname or a
health note (their fields are not even read)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import Prefetch, Q
from django.http import Http404
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from icalendar import Calendar, Timezone, vDuration, vRecur
from icalendar import Event as VEvent

from constellation.clock import LONDON
from constellation.models import Carer, Child, Constellation, HubCover
from sleepovers.models import HOLDING_BEDS, Kind, Request, Unavailability

from .models import CalendarFeed, Event, Occurrence
from .recurrence import placed, slot_of, wall
from .selectors import constellations_of

TZID = "Europe/London"
PRODID = "-//Mockingbird constellations//Constellation calendar//EN"
REFRESH = timedelta(hours=1)
# What a feed holds: about three months back and a year ahead (a series that still
# meets in that span is there with its rule, however far it runs).
FEED_PAST = timedelta(days=90)
FEED_AHEAD = timedelta(days=365)
# The span the VTIMEZONE's transitions are written for, beyond the calendar's dates.
TZ_YEARS_AHEAD = 30
# What a feed's secret looks like (``secrets.token_urlsafe``, at most the field's 64).
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")

# How a stay at the hub is called in a feed (never a household's name: often a surname).
STAY_WORDS = {
    Kind.PLANNED: "Sleepover at the hub",
    Kind.SHORT_BREAK: "Short break at the hub",
    Kind.TRANSPORT: "Transport with the hub",
    Kind.CRISIS: "At the hub",
    Kind.TEMPORARY: "Staying at the hub",
}


def site_domain() -> str:
    """The host of ``SITE_URL``, the right-hand side of every ``UID``."""
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def event_uid(event: Event) -> str:
    """The stable ``UID`` of an event and all its dates: ``<uuid>@<site domain>``. A
    series changed "from this date on" continues as another event, with its own."""
    return f"{event.uid}@{site_domain()}"


def feed_path(feed: CalendarFeed) -> str:
    return reverse("calendar_events:feed", kwargs={"token": feed.token})


def feed_addresses(feed: CalendarFeed) -> dict[str, str]:
    """The addresses a phone subscribes to: ``https`` (``SITE_URL``'s scheme) and the
    same as ``webcal://``, which phones open straight in their calendar app."""
    parts = urlsplit(settings.SITE_URL)
    path = feed_path(feed)
    return {
        "https": f"{parts.scheme}://{parts.netloc}{path}",
        "webcal": f"webcal://{parts.netloc}{path}",
    }


# --- the calendar -------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _when(moment: datetime, all_day: bool) -> date | datetime:
    """A moment as iCalendar writes it: a London date for an all-day entry, else the
    London wall-clock time (``TZID=Europe/London``)."""
    if all_day:
        return wall(moment).date()
    return moment.astimezone(LONDON)


def new_calendar(name: str, *, first: date, uid: str | None = None) -> Calendar:
    """An empty calendar called ``name``: its VTIMEZONE for Europe/London (written
    from ``first``, the earliest day it will hold, to 30 years ahead), the refresh
    hints and the names clients show."""
    calendar = Calendar.new(prodid=PRODID, name=name, uid=uid)
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("X-WR-TIMEZONE", TZID)
    calendar.add("REFRESH-INTERVAL", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("X-PUBLISHED-TTL", vDuration(REFRESH))
    today = timezone.localdate()
    calendar.add_component(
        Timezone.from_tzid(
            TZID,
            first_date=min(first, today) - timedelta(days=366),
            last_date=date(today.year + TZ_YEARS_AHEAD, 1, 1),
        )
    )
    return calendar


def _event_url(event: Event) -> str | None:
    try:
        return settings.SITE_URL + event.get_absolute_url()
    except NoReverseMatch:
        return None


def _vevent(event: Event, *, start, end, sequence: int, cancelled: bool, stamp: datetime):
    vevent = VEvent.new(
        uid=event_uid(event),
        summary=event.title,
        start=_when(start, event.all_day),
        end=_when(end, event.all_day),
        location=event.place or None,
        description=event.description or None,
        categories=[event.get_kind_display()],
        sequence=sequence,
        status="CANCELLED" if cancelled else "CONFIRMED",
        stamp=_utc(stamp),
        last_modified=_utc(stamp),
        url=_event_url(event),
    )
    if event.private:
        vevent.add("CLASS", "PRIVATE")
    return vevent


def _rule(event: Event) -> vRecur:
    """The stored rule with its end: ``UNTIL`` the end of the London day
    ``repeat_until`` in UTC for a timed series (as ``recurrence.series`` reads it), the
    date itself for an all-day one (the value type of ``DTSTART``)."""
    rule = vRecur.from_ical(event.rule)
    if event.repeat_until is not None:
        if event.all_day:
            rule["UNTIL"] = [event.repeat_until]
        else:
            rule["UNTIL"] = [_utc(placed(datetime.combine(event.repeat_until, time(23, 59, 59))))]
    return rule


def event_components(event: Event, rows) -> list[VEvent]:
    """The VEVENTs of ``event``: the event (the master of a series, with its RRULE)
    and, for a series, one override per date in ``rows`` that was moved or cancelled
    (rows of dates the rule no longer gives are left out, as the pages leave them).
    Pure: reads nothing from the database."""
    master = _vevent(
        event,
        start=event.start,
        end=event.end,
        sequence=event.sequence,
        cancelled=event.cancelled,
        stamp=event.updated_at,
    )
    if not event.rule:
        return [master]
    master.add("RRULE", _rule(event))
    found = [master]
    for row in sorted(rows, key=lambda r: r.original_start):
        if not (row.moved or row.cancelled):
            continue
        slot = slot_of(event, row.original_start, row)
        if slot is None:
            continue
        override = _vevent(
            event,
            start=slot.start,
            end=slot.end,
            sequence=event.sequence + row.sequence,
            cancelled=slot.cancelled,
            stamp=max(event.updated_at, row.changed_at or event.updated_at),
        )
        override.add("RECURRENCE-ID", _when(row.original_start, event.all_day))
        found.append(override)
    return found


def _changed_rows():
    """The rows a feed writes as overrides: dates moved or cancelled."""
    return Occurrence.objects.filter(Q(cancelled=True) | Q(start__isnull=False))


def event_calendar(event: Event) -> Calendar:
    """One event (its series and the dates moved or cancelled) as a calendar of its
    own, for the ``.ics`` download: one query for its rows."""
    rows = list(_changed_rows().filter(event=event))
    calendar = new_calendar(event.title, first=wall(event.start).date())
    for component in event_components(event, rows):
        calendar.add_component(component)
    return calendar


# --- a user's feed ------------------------------------------------------------------


@dataclass
class FeedContents:
    """What one user's feed holds (read in a fixed number of queries)."""

    constellations: list[Constellation]
    events: list[Event]
    stays: list[Request]
    away: list[Unavailability]
    covers: list[HubCover]
    stand_in_names: dict[int, list[str]] = field(default_factory=dict)


def feed_contents(user, *, now: datetime | None = None) -> FeedContents:
    """What ``user``'s feed holds at ``now`` (aware; now by default):

    - the events they may see (``Event.objects.visible_to``) of the constellations
      whose calendar they read, with any date from 90 days back to a year ahead (a
      series with its rule), and the rows of their dates moved or cancelled;
    - their own household's stays at the hub (accepted, in progress or done), and
      for a hub carer the stays at their hub, over the same span, with the
      children's ``known_as`` names only (surnames and health fields not loaded);
    - the hub's periods away and covers by a stand-in over that span.

    At most eight queries, whatever the number of events, dates, answers and stays."""
    now = now or timezone.now()
    past, ahead = now - FEED_PAST, now + FEED_AHEAD
    first_day, last_day = wall(past).date(), wall(ahead).date()
    constellations = list(constellations_of(user))
    events = list(
        Event.objects.visible_to(user)
        .filter(constellation__in=constellations)
        .dated_between(past, ahead)
        .select_related("constellation")
        .prefetch_related(Prefetch("occurrences", queryset=_changed_rows(), to_attr="changed"))
        .order_by("start", "pk")
    )
    own = Carer.objects.current().filter(user=user).values("household_id")
    stays = list(
        Request.objects.visible_to(user)
        .filter(Q(household__in=own) | Q(hub__in=own))
        .filter(status__in=HOLDING_BEDS, start__lt=ahead, end__gt=past)
        .prefetch_related(
            Prefetch(
                "children",
                queryset=Child.objects.only("pk", "first_name", "preferred_name").order_by(
                    "preferred_name", "first_name"
                ),
            )
        )
        .order_by("start", "pk")
    )
    hubs = [c.hub_id for c in constellations if c.hub_id]
    away = list(
        Unavailability.objects.filter(hub_id__in=hubs)
        .covering(first_day, last_day)
        .order_by("start", "pk")
    )
    covers = list(
        HubCover.objects.overlapping(first_day, last_day)
        .filter(constellation__in=constellations)
        .order_by("start", "pk")
    )
    names: dict[int, list[str]] = {}
    if covers:
        for carer in (
            Carer.objects.current()
            .filter(household_id__in={c.stand_in_id for c in covers})
            .select_related("user")
            .order_by("role", "pk")
        ):
            first_name = carer.user.first_name.strip()
            if first_name:
                names.setdefault(carer.household_id, []).append(first_name)
    return FeedContents(constellations, events, stays, away, covers, names)


def _and(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _stay_component(stay: Request, *, domain: str) -> VEvent:
    names = _and([child.known_as for child in stay.children.all()])
    words = STAY_WORDS.get(stay.kind, "At the hub")
    return VEvent.new(
        uid=f"stay-{stay.pk}@{domain}",
        summary=f"{words}: {names}" if names else words,
        start=stay.start.astimezone(LONDON),
        end=stay.end.astimezone(LONDON),
        status="CONFIRMED",
        stamp=_utc(stay.created_at),
    )


def _day_component(uid: str, summary: str, first: date, last: date, note: str, stamp: datetime):
    """An all-day entry over the London days ``first``..``last`` (``DTEND`` exclusive)."""
    return VEvent.new(
        uid=uid,
        summary=summary,
        start=first,
        end=last + timedelta(days=1),
        description=note or None,
        transparency="TRANSPARENT",
        stamp=_utc(stamp),
    )


def feed_calendar(user, *, now: datetime | None = None) -> Calendar:
    """``user``'s subscription feed (see ``feed_contents`` for what it holds)."""
    contents = feed_contents(user, now=now)
    domain = site_domain()
    several = len(contents.constellations) > 1
    by_hub = {c.hub_id: c for c in contents.constellations}
    by_pk = {c.pk: c for c in contents.constellations}

    def hub_words(constellation: Constellation | None, words: str) -> str:
        return f"{constellation.name}: {words}" if several and constellation else words

    name = (
        f"{contents.constellations[0].name} calendar"
        if len(contents.constellations) == 1
        else "Constellation calendar"
    )
    earliest = [wall(e.start).date() for e in contents.events]
    earliest += [wall(s.start).date() for s in contents.stays]
    calendar = new_calendar(
        name,
        first=min(earliest, default=timezone.localdate()),
        uid=f"feed-{user.pk}@{domain}",
    )
    for event in contents.events:
        for component in event_components(event, event.changed):
            calendar.add_component(component)
    for stay in contents.stays:
        calendar.add_component(_stay_component(stay, domain=domain))
    for period in contents.away:
        calendar.add_component(
            _day_component(
                f"hub-away-{period.pk}@{domain}",
                hub_words(by_hub.get(period.hub_id), "Hub not available"),
                period.start,
                period.end,
                period.note,
                period.created_at,
            )
        )
    for cover in contents.covers:
        who = _and(contents.stand_in_names.get(cover.stand_in_id, []))
        calendar.add_component(
            _day_component(
                f"hub-cover-{cover.pk}@{domain}",
                hub_words(
                    by_pk.get(cover.constellation_id),
                    f"Hub covered by {who}" if who else "Hub covered by a stand-in home",
                ),
                cover.start,
                cover.end,
                cover.note,
                cover.arranged_at,
            )
        )
    return calendar


def open_feed(token: str) -> CalendarFeed:
    """The live feed whose secret is ``token`` (its user active), marked as fetched
    now; ``Http404`` for an unknown or revoked token: the same answer for both, so
    that a revoked address tells nothing."""
    if not TOKEN.fullmatch(token or ""):
        # Not one the app makes (and a NUL byte PostgreSQL would refuse): no lookup.
        raise Http404("No such calendar.")
    feed = CalendarFeed.objects.live().select_related("user").filter(token=token).first()
    if feed is None:
        raise Http404("No such calendar.")
    feed.last_fetched_at = timezone.now()
    CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=feed.last_fetched_at)
    return feed


__all__ = [
    "FeedContents",
    "event_calendar",
    "event_components",
    "event_uid",
    "feed_addresses",
    "feed_calendar",
    "feed_contents",
    "new_calendar",
    "open_feed",
    "site_domain",
]
