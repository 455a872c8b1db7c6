"""A large data set for the fostering manager's dashboard and its benchmark
(``bench/dashboards.py``): one fostering service, its manager, and at ``--scale 1``
50 constellations over ``--years`` (5) ending today, each with its hub, 6 to 10
satellite households joining, leaving and replaced, carers (some deregistered),
children placed and moving on (some placements ending in a disruption and a
temporary placement at the hub), liaison workers, sleepover requests of every kind
with their timelines, nights, crisis alerts and escalation steps, the calendar (a
monthly meeting as one series per constellation, one-off events, dates with
answers and attendance), check-ins, follow-ups, concerns and delegated authority
agreements (some in force, some due for review, some overdue).

    manage.py dashboard_dataset [--scale 1.0] [--seed 1] [--years 5] [--service-name ...]

``--scale`` multiplies the number of constellations (0.1: five), never the years.
Everything is written with ``bulk_create`` in one transaction: no service, no
signal, no history row and no activity record is written (the dashboard reads the
records themselves). The manager logs in as ``manager@bench.example`` (or
``manager.s<id>@bench.example`` when that address is taken by another service's
manager) with the password ``BENCH_PASSWORD``; every other account has an unusable
password. Refused when the service's name is already taken, and with DEBUG off
unless ``--force`` (it writes a login with a published password)."""

from __future__ import annotations

import heapq
import itertools
import math
import random
import time as clock
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from calendar_events.recurrence import placed, series, wall
from constellation.management.commands.seed_demo import AGREEMENT, SURNAMES
from constellation.models import MOVES_ON, MoveKind
from sleepovers.models import (
    HOLDING_BEDS,
    OVERNIGHT_KINDS,
    CrisisReason,
    Kind,
    Status,
    nights_between,
)

BATCH = 5000
BENCH_PASSWORD = "bench-dashboards"  # noqa: S105 - a throw-away benchmark login
MANAGER_EMAIL = "manager@bench.example"
DEFAULT_SERVICE = "Bench Fostering Service"
CONSTELLATIONS_AT_SCALE_1 = 50

# Requests a constellation's households ask per day, by kind (about 600 a year);
# temporary placements come from the disruptions of the placements' simulation.
DAILY_RATE = {
    Kind.PLANNED: 1.5,
    Kind.SHORT_BREAK: 0.35,
    Kind.TRANSPORT: 0.18,
    Kind.CRISIS: 0.22,
}
MAX_NIGHTS = 4  # each constellation's limit for a planned stay
# How a placement ends (weights); planned moves and disruptions go to another household.
MOVE_WEIGHTS = {
    MoveKind.PLANNED: 24,
    MoveKind.DISRUPTION: 20,
    MoveKind.PERMANENCE: 12,
    MoveKind.RETURN_HOME: 14,
    MoveKind.ADOPTION: 8,
    MoveKind.LEAVING_CARE: 22,
}
MOVE_REASONS = {
    MoveKind.PLANNED: "Planned move to a long-term match",
    MoveKind.DISRUPTION: "The placement ended unplanned",
    MoveKind.PERMANENCE: "Special guardianship order",
    MoveKind.RETURN_HOME: "Returned home to the birth family",
    MoveKind.ADOPTION: "Adopted",
    MoveKind.LEAVING_CARE: "Moved to supported lodgings",
}
CLAUSES = [*AGREEMENT, ("stay_hub_extended", "liaison_worker", "", None)]
ESCALATION_MINUTES = 10
DUTY_AFTER = 20  # minutes after the liaison step (notifications.services.escalation)

PLACES = [
    "Ashdale", "Brookfield", "Castlegate", "Dunmore", "Eastwick", "Fernhill", "Glenside",
    "Harbourne", "Ivybridge", "Juniper", "Kingsmead", "Larkrise", "Meadowbank", "Northgate",
    "Oakhurst", "Parkside", "Queensway", "Riverbend", "Stonebridge", "Thornbury", "Underhill",
    "Valley", "Westfield", "Yewtree",
]  # fmt: skip
FIRST_NAMES = [
    "Anna", "Ben", "Claire", "Dave", "Emma", "Farid", "Gemma", "Hassan", "Imogen", "Jon",
    "Kate", "Liam", "Maya", "Nadia", "Owen", "Priya", "Rhys", "Sophie", "Tariq", "Zoe",
]  # fmt: skip
CHILD_NAMES = [
    "Amelia", "Bradley", "Chloe", "Daniel", "Ellie", "Finley", "Grace", "Harvey", "Isla",
    "Jayden", "Kayla", "Leo", "Maisie", "Noah", "Olivia", "Peter", "Ruby", "Samuel", "Tia",
    "Zach", "Alfie", "Bethany", "Corey", "Demi", "Ethan", "Freya", "George", "Holly",
]  # fmt: skip
METHODS = ["phone", "phone", "phone", "visit", "visit", "video", "message", "event", "hub"]


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """London wall-clock time on ``day`` as an aware moment (a skipped hour reads as
    iCalendar reads it, like the calendar's)."""
    return placed(datetime.combine(day, time(hour, minute)))


@dataclass
class Stay:
    """One placement of one child in one household, from ``start`` until ``end``."""

    child: object
    household: object
    start: date
    end: date | None = None
    kind: str = ""
    reason: str = ""


@dataclass
class Home:
    """A satellite household's time as an active member of its constellation."""

    household: object
    joined: date
    left: date | None
    primary: object  # the primary carer's user
    capacity: int
    slots: list = field(default_factory=list)
    stays: list = field(default_factory=list)

    def active_on(self, day: date) -> bool:
        return self.joined <= day and (self.left is None or day < self.left)

    def children_on(self, day: date) -> list:
        return [s.child for s in self.stays if s.start <= day and (s.end is None or day < s.end)]


@dataclass
class Plan:
    """A constellation being built: its rows and the timeline of its households."""

    constellation: object
    start: date
    hub: object
    hub_users: list
    liaison: object
    homes: list = field(default_factory=list)
    temporary: list = field(default_factory=list)  # (child, home, start day, nights)
    disrupted: bool = False


class Command(BaseCommand):
    help = "Create a large fostering service for the manager's dashboard benchmark."

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="1.0: 50 constellations")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--years", type=int, default=5)
        parser.add_argument("--service-name", default=DEFAULT_SERVICE)
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (never in production).",
        )

    def handle(self, *args, scale=1.0, seed=1, years=5, service_name=DEFAULT_SERVICE, **options):
        from constellation.models import FosteringService

        if not settings.DEBUG and not options.get("force"):
            raise CommandError(
                "dashboard_dataset refuses to run with DEBUG off; use --force if you mean it."
            )
        if scale <= 0 or years < 1:
            raise CommandError("--scale must be above 0 and --years at least 1.")
        if FosteringService.objects.filter(name=service_name).exists():
            raise CommandError(
                f'A fostering service named "{service_name}" already exists in this database: '
                "drop the database or give another --service-name."
            )
        started = clock.perf_counter()
        builder = Builder(scale=scale, seed=seed, years=years, name=service_name)
        with transaction.atomic():
            builder.build()
        elapsed = clock.perf_counter() - started
        self.stdout.write(
            f"{service_name}: {len(builder.plans)} constellations over {years} years "
            f"to {builder.today}, built in {elapsed:.1f} s"
        )
        self.stdout.write(f"manager login: {builder.manager.email} / {BENCH_PASSWORD}")
        width = max(len(label) for label in builder.counts)
        for label, count in sorted(builder.counts.items()):
            self.stdout.write(f"  {label:<{width}} {count:>9}")
        self.stdout.write(f"  {'total':<{width}} {sum(builder.counts.values()):>9}")


class Builder:
    def __init__(self, *, scale: float, seed: int, years: int, name: str):
        self.rng = random.Random(seed)
        self.name = name
        self.years = years
        self.count = max(1, round(CONSTELLATIONS_AT_SCALE_1 * scale))
        self.now = timezone.now()
        self.today = timezone.localdate(self.now)
        self.first_day = self.today - timedelta(days=round(365.25 * years))
        self.counts: Counter = Counter()
        self.plan_concerns: dict = {}  # constellation → (concerns, the open one per rule)
        self.plans: list[Plan] = []
        self.user_seq = itertools.count(1)
        self.child_seq = itertools.count(0)

    # --- writing ----------------------------------------------------------------------

    def save(self, model, rows, label: str | None = None) -> list:
        if rows:
            model.objects.bulk_create(rows, batch_size=BATCH)
            self.counts[label or model._meta.label] += len(rows)
        return rows

    def through(self, field, pairs, label: str) -> None:
        """Rows of a many-to-many table from (owner id, other id) pairs."""
        model = field.remote_field.through
        owner = field.m2m_field_name() + "_id"
        other = field.m2m_reverse_field_name() + "_id"
        rows = [model(**{owner: a, other: b}) for a, b in pairs]
        self.save(model, rows, label)

    def new_users(self, names: list[tuple[str, str]], kind: str) -> list:
        from people.models import User

        service = self.service.pk
        users = []
        for first, last in names:
            n = next(self.user_seq)
            users.append(
                User(
                    email=f"{kind}{n}.s{service}@bench.example",
                    first_name=first,
                    last_name=last,
                    password=make_password(None),
                    date_joined=self.now,
                )
            )
        return self.save(User, users, "people.User")

    # --- random helpers ---------------------------------------------------------------

    def poisson(self, lam: float) -> int:
        threshold, k, p = math.exp(-lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= threshold:
                return k
            k += 1

    def days(self, low: int, high: int) -> timedelta:
        return timedelta(days=self.rng.randint(low, high))

    def minutes(self, low: float, high: float) -> timedelta:
        return timedelta(minutes=self.rng.uniform(low, high))

    def moment_on(self, day: date, first_hour: int = 8, last_hour: int = 21) -> datetime:
        return at(day, self.rng.randint(first_hour, last_hour - 1), self.rng.randrange(0, 60, 5))

    def capped(self, moment: datetime) -> datetime:
        return min(moment, self.now)

    # --- the whole -------------------------------------------------------------------

    def build(self) -> None:
        self.staff()
        self.structure()
        self.placements()
        self.agreements()
        for plan in self.plans:
            self.requests(plan)
            self.calendar(plan)
            self.contact(plan)
        self.permissions()
        self.activity()

    def staff(self) -> None:
        from constellation.models import FosteringService
        from people.models import StaffRole, User

        self.service = FosteringService.objects.create(
            name=self.name,
            out_of_hours_phone="0300 555 0100",
            out_of_hours_name="Out-of-hours duty team",
            out_of_hours_email="duty@bench.example",
            created_at=at(self.first_day, 9),
        )
        self.counts["constellation.FosteringService"] += 1
        email = MANAGER_EMAIL
        if User.objects.filter(email=email).exists():
            email = f"manager.s{self.service.pk}@bench.example"
        manager = User(email=email, first_name="Morgan", last_name="Manager")
        manager.set_password(BENCH_PASSWORD)
        manager.save()
        self.counts["people.User"] += 1
        self.manager = manager
        liaisons = math.ceil(self.count / 2.5) + (1 if self.count >= 4 else 0)
        self.liaisons = self.new_users(
            [(self.rng.choice(FIRST_NAMES), "Liaison") for _ in range(liaisons)], "liaison"
        )
        self.social_workers = self.new_users(
            [(self.rng.choice(FIRST_NAMES), "Social") for _ in range(max(2, self.count // 2))],
            "social",
        )
        began = self.first_day - timedelta(days=30)
        roles = [StaffRole(user=manager, service=self.service, role="manager", started_on=began)]
        roles += [
            StaffRole(user=u, service=self.service, role="liaison", started_on=began)
            for u in self.liaisons
        ]
        roles += [
            StaffRole(user=u, service=self.service, role="social_worker", started_on=began)
            for u in self.social_workers
        ]
        self.save(StaffRole, roles)

    # --- constellations, households, memberships, carers -------------------------------

    def member_timeline(self, start: date) -> list[dict]:
        """The satellite memberships of one constellation: 6 to 10 places, each held by
        a household until it leaves and another joins; a few proposals withdrawn; now
        and then one proposed today."""
        rng, rows = self.rng, []
        for _ in range(rng.randint(6, 10)):
            joined = start + self.days(0, 20)
            while joined <= self.today:
                proposed = joined - self.days(14, 45)
                left = joined + timedelta(days=int(rng.expovariate(1 / (365 * 6))) + 150)
                if left > self.today:
                    rows.append({"status": "active", "proposed": proposed, "joined": joined})
                    break
                rows.append(
                    {
                        "status": "left",
                        "proposed": proposed,
                        "joined": joined,
                        "ended": left,
                        "deregistered": rng.random() < 0.3,
                    }
                )
                if rng.random() < 0.2:
                    gone = left + self.days(5, 30)
                    if gone < self.today:
                        rows.append({"status": "withdrawn", "proposed": left, "ended": gone})
                joined = left + self.days(30, 120)
        if rng.random() < 0.3:
            rows.append({"status": "proposed", "proposed": self.today - self.days(1, 40)})
        return rows

    def structure(self) -> None:
        from constellation.models import (
            Carer,
            Constellation,
            ConstellationMembership,
            Household,
            LiaisonAssignment,
            PlanningMeeting,
        )
        from sleepovers.models import SleepoverSettings, Unavailability

        rng = self.rng
        span = (self.today - self.first_day).days
        early = math.ceil(self.count * 0.5)
        drafts = []
        for i in range(self.count):
            start = self.first_day + (
                self.days(0, 30) if i < early else self.days(0, int(span * 0.4))
            )
            name = PLACES[i % len(PLACES)] + (
                f" {i // len(PLACES) + 1}" if i >= len(PLACES) else ""
            )
            hub = Household(
                service=self.service,
                name=f"{name} Hub Home",
                kind="hub",
                address=f"{i + 1} Mockingbird Lane",
                postcode=f"BE{i % 90 + 1} 1HB",
                phone="07700 900001",
                beds=rng.choice([5, 6, 6, 7]),
                created_at=at(start - timedelta(days=40), 10),
            )
            drafts.append((name, start, hub, self.member_timeline(start)))
        # A few households of the service outside any constellation, where children
        # who move out of a constellation go.
        self.elsewhere = [
            Household(
                service=self.service,
                name=f"The {rng.choice(SURNAMES)}s (mainstream)",
                created_at=at(self.first_day, 10),
            )
            for _ in range(max(2, self.count))
        ]
        satellites = []
        for _name, _start, _hub, timeline in drafts:
            for row in timeline:
                row["household"] = Household(
                    service=self.service,
                    name=f"The {rng.choice(SURNAMES)}s",
                    address=f"{rng.randint(1, 200)} Orchard Road",
                    postcode=f"BE{rng.randint(1, 90)} {rng.randint(1, 9)}AB",
                    phone="07700 900100",
                    created_at=at(row["proposed"], 11),
                )
                satellites.append(row["household"])
        self.save(Household, [d[2] for d in drafts] + satellites + self.elsewhere)

        constellations = [
            Constellation(
                service=self.service,
                name=name,
                area=f"{name} and around",
                hub=hub,
                created_at=at(start - timedelta(days=45), 9),
            )
            for name, start, hub, _ in drafts
        ]
        self.save(Constellation, constellations)
        self.save(
            SleepoverSettings,
            [
                SleepoverSettings(
                    constellation=c,
                    max_consecutive_nights=MAX_NIGHTS,
                    crisis_escalation_minutes=ESCALATION_MINUTES,
                )
                for c in constellations
            ],
        )

        # Liaison workers: one for two or three constellations; a quarter of the
        # constellations had another before.
        assignments = []
        for i, c in enumerate(constellations):
            start = drafts[i][1]
            current = self.liaisons[min(i * 2 // 5, len(self.liaisons) - 1)]
            since = start - timedelta(days=30)
            if rng.random() < 0.25 and len(self.liaisons) > 1:
                before = rng.choice([u for u in self.liaisons if u.pk != current.pk])
                since = start + timedelta(days=(self.today - start).days // 2)
                assignments.append(
                    LiaisonAssignment(
                        constellation=c,
                        user=before,
                        started_on=start - timedelta(days=30),
                        ended_on=since,
                    )
                )
            assignments.append(LiaisonAssignment(constellation=c, user=current, started_on=since))
            self.plans.append(
                Plan(constellation=c, start=start, hub=drafts[i][2], hub_users=[], liaison=current)
            )
        self.save(LiaisonAssignment, assignments)

        meetings = [
            PlanningMeeting(
                constellation=p.constellation,
                held_on=p.start - timedelta(days=50),
                attendees="Liaison worker, hub carers, fostering team manager",
                decisions="Propose the households living near the hub.",
                recorded_by=p.liaison,
                recorded_at=at(p.start - timedelta(days=50), 17),
            )
            for p in self.plans
        ]
        self.save(PlanningMeeting, meetings)

        # Carers: two at most hubs, one or two in each satellite household.
        names, owners = [], []
        for plan in self.plans:
            last = rng.choice(SURNAMES)
            for role in ["primary", "second"] if rng.random() < 0.9 else ["primary"]:
                names.append((rng.choice(FIRST_NAMES), last))
                owners.append((plan.hub, role, plan.start - timedelta(days=40), None, False))
        for _n, _s, _h, timeline in drafts:
            for row in timeline:
                household = row["household"]
                last = household.name[4:-1]
                ended = row.get("ended") if row["status"] == "left" else None
                leaving = row.get("deregistered", False)
                for role in ["primary", "second"] if rng.random() < 0.5 else ["primary"]:
                    names.append((rng.choice(FIRST_NAMES), last))
                    # A household that left because its carers were deregistered ends
                    # their approval; now and then a second carer leaves on their own.
                    if leaving:
                        end = (ended, True)
                    elif role == "second" and rng.random() < 0.06:
                        end = (row["proposed"] + self.days(100, 900), rng.random() < 0.5)
                        end = end if end[0] < self.today else (None, False)
                    else:
                        end = (None, False)
                    owners.append((household, role, row["proposed"], *end))
        for household in self.elsewhere:
            names.append((rng.choice(FIRST_NAMES), household.name[4:-14]))
            owners.append((household, "primary", self.first_day, None, False))
        users = self.new_users(names, "carer")
        carers = []
        for user, (household, role, since, ended, deregistered) in zip(users, owners, strict=True):
            carers.append(
                Carer(
                    household=household,
                    user=user,
                    role=role,
                    started_on=since,
                    ended_on=ended,
                    end_reason=(
                        "Approval as a foster carer ended (de-registration)"
                        if deregistered
                        else "Left the household"
                        if ended
                        else ""
                    ),
                    deregistered=deregistered,
                )
            )
        # Every constellation has lost a carer to de-registration at least once.
        by_household = defaultdict(list)
        for carer in carers:
            by_household[id(carer.household)].append(carer)
        for _name, _start, _hub, timeline in drafts:
            mine = [c for row in timeline for c in by_household[id(row["household"])]]
            if any(c.deregistered for c in mine):
                continue
            seconds = [
                c
                for c in mine
                if c.role == "second"
                and c.ended_on is None
                and c.started_on < self.today - timedelta(days=30)
            ]
            if seconds:
                carer = rng.choice(seconds)
                carer.ended_on = carer.started_on + self.days(
                    14, (self.today - carer.started_on).days - 1
                )
                carer.deregistered = True
                carer.end_reason = "Approval as a foster carer ended (de-registration)"
        self.save(Carer, carers)
        self.primary, self.hub_users_of = {}, defaultdict(list)
        for carer in carers:
            if carer.role == "primary":
                self.primary[carer.household.pk] = carer.user
            if carer.household.kind == "hub":
                self.hub_users_of[carer.household.pk].append(carer.user)
        self.carers = carers

        memberships, unavailable = [], []
        for (_n, _s, _h, timeline), plan, meeting in zip(drafts, self.plans, meetings, strict=True):
            plan.hub_users = self.hub_users_of[plan.hub.pk]
            for row in timeline:
                status = row["status"]
                memberships.append(
                    ConstellationMembership(
                        constellation=plan.constellation,
                        household=row["household"],
                        status=status,
                        proposed_on=row["proposed"],
                        joined_on=row.get("joined"),
                        ended_on=row.get("ended"),
                        reason={
                            "left": "The carers were de-registered"
                            if row.get("deregistered")
                            else "Moved out of the area",
                            "withdrawn": "Decided not to join after all",
                        }.get(status, "Lives near the hub."),
                        planning_meeting=meeting if row["proposed"] <= plan.start else None,
                    )
                )
                if "joined" in row:
                    plan.homes.append(
                        Home(
                            household=row["household"],
                            joined=row["joined"],
                            left=row.get("ended"),
                            primary=self.primary[row["household"].pk],
                            capacity=rng.choice([1, 2, 2, 3, 3]),
                        )
                    )
            # The hub is away a week or two a year (holidays, its own family).
            year_start = plan.start
            while year_start < self.today:
                for _ in range(rng.randint(1, 2)):
                    first = year_start + self.days(20, 340)
                    unavailable.append(
                        Unavailability(
                            hub=plan.hub,
                            start=first,
                            end=first + self.days(2, 9),
                            note="Family holiday",
                            created_by=plan.hub_users[0],
                            created_at=at(first - timedelta(days=40), 20),
                        )
                    )
                year_start += timedelta(days=365)
        self.save(ConstellationMembership, memberships)
        self.save(Unavailability, unavailable)
        self.away = defaultdict(set)
        for row in unavailable:
            days = (row.end - row.start).days + 1
            self.away[row.hub.pk].update(row.start + timedelta(days=n) for n in range(days))

    # --- children and placements ------------------------------------------------------

    def new_child(self, household, placed_on: date):
        from constellation.models import Child

        n = next(self.child_seq)
        first = CHILD_NAMES[n % len(CHILD_NAMES)]
        born = placed_on - timedelta(days=self.rng.randint(365, 16 * 365))
        social = self.rng.choice(self.social_workers) if self.rng.random() < 0.3 else None
        return Child(
            service=self.service,
            first_name=first,
            last_name=household.name[4:-1] if household.name.startswith("The ") else "Smith",
            preferred_name=first[:3] if n % 5 == 0 else "",
            date_of_birth=born,
            household=household,
            social_worker=social,
            needs="Settles with a story; likes the night light on." if n % 3 == 0 else "",
            allergies="Peanuts" if n % 11 == 0 else "",
            created_at=at(placed_on, 12),
        )

    def placements(self) -> None:
        """Every constellation's children over the years, in order of date: each place
        in a household is filled, ends (moved on, planned move, disruption) and is
        filled again; a child moving goes to an empty place of another household of
        the constellation, or to a household outside it. A disruption usually means a
        temporary placement at the hub first (the child's placement ends, with the
        move, when it does); the first end in each constellation is one, so that
        every data set has some."""
        from constellation.models import Child, FormerHouseholdAccess, Placement

        rng = self.rng
        self.children: list = []
        self.stays: list[Stay] = []
        grants = []
        kinds, weights = list(MOVE_WEIGHTS), list(MOVE_WEIGHTS.values())
        seq = itertools.count()
        access_days = timedelta(days=settings.FORMER_CARER_ACCESS_DAYS)
        for plan in self.plans:
            events: list = []

            def push(day, what, data, events=events):
                if day <= self.today:
                    heapq.heappush(events, (day, next(seq), what, data))

            def place(home, slot, child, since, day, push=push):
                stay = Stay(child=child, household=home.household, start=since)
                home.slots[slot] = stay
                home.stays.append(stay)
                self.stays.append(stay)
                child.household, child.status = home.household, Child.Status.PLACED
                lasts = timedelta(days=60 + int(rng.expovariate(1 / 900)))
                push(max(day + self.days(20, 60), since + lasts), "end", (home, stay))

            def leave(home, stay, day, kind, push=push):
                stay.end, stay.kind, stay.reason = day, kind, MOVE_REASONS[kind]
                ends_on = day + access_days
                grants.append(
                    FormerHouseholdAccess(
                        child=stay.child,
                        household=home.household,
                        moved_on=day,
                        ends_on=ends_on,
                        ended_at=at(ends_on + timedelta(days=1), 2)
                        if ends_on < self.today
                        else None,
                    )
                )
                home.slots = [None if s is stay else s for s in home.slots]
                push(day + self.days(20, 120), "refill", home)

            def move(home, stay, day, kind, plan=plan):
                leave(home, stay, day, kind)
                free = [
                    (other, n)
                    for other in plan.homes
                    if other is not home and other.active_on(day)
                    for n, s in enumerate(other.slots)
                    if s is None
                ]
                if free:
                    other, n = rng.choice(free)
                    place(other, n, stay.child, day, day)
                else:
                    elsewhere = Stay(
                        child=stay.child, household=rng.choice(self.elsewhere), start=day
                    )
                    self.stays.append(elsewhere)
                    stay.child.household = elsewhere.household

            for home in plan.homes:
                home.slots = [None] * home.capacity
                for n in range(home.capacity):
                    push(home.joined, "initial", (home, n))
            while events:
                day, _, what, data = heapq.heappop(events)
                if what == "initial":
                    home, n = data
                    since = day - self.days(30, 1500)
                    self.children.append(self.new_child(home.household, since))
                    place(home, n, self.children[-1], since, day)
                elif what == "refill":
                    home = data
                    if home.active_on(day) and None in home.slots:
                        self.children.append(self.new_child(home.household, day))
                        place(home, home.slots.index(None), self.children[-1], day, day)
                elif what == "end":
                    home, stay = data
                    if stay not in home.slots or not home.active_on(day):
                        continue  # the household left the constellation: it stays open
                    # The first end of each constellation is a disruption.
                    kind = rng.choices(kinds, weights)[0] if plan.disrupted else MoveKind.DISRUPTION
                    if kind in MOVES_ON:
                        leave(home, stay, day, kind)
                        stay.child.household, stay.child.status = None, Child.Status.MOVED_ON
                        stay.child.kept_connected = rng.random() < 0.1
                    elif kind == MoveKind.DISRUPTION and (not plan.disrupted or rng.random() < 0.7):
                        # To the hub first; the move is recorded when the stay ends.
                        plan.disrupted = True
                        nights = rng.randint(7, 42)
                        plan.temporary.append((stay.child, home, day, nights))
                        push(day + timedelta(days=nights), "move", (home, stay))
                    else:
                        move(home, stay, day, kind)
                elif what == "move":
                    home, stay = data
                    move(home, stay, day, MoveKind.DISRUPTION)
        self.save(Child, self.children)
        rows = [
            Placement(
                child=s.child,
                household=s.household,
                started_on=s.start,
                ended_on=s.end,
                reason_for_move=s.reason,
                move_kind=s.kind,
            )
            for s in self.stays
        ]
        self.save(Placement, rows)
        self.save(FormerHouseholdAccess, grants)

    # --- delegated authority ------------------------------------------------------------

    def agreements(self) -> None:
        """Each child's agreement from their first placement, renewed at (or a little
        after) each review; the latest version of a child still placed is in force,
        due for review within a month, or overdue."""
        from delegated_authority.models import Agreement, Clause, Decision

        rng = self.rng
        decisions = {d.code: d for d in Decision.objects.all()}
        clauses = [c for c in CLAUSES if c[0] in decisions]
        first_stay, last_day = {}, {}
        for stay in self.stays:
            key = id(stay.child)
            if key not in first_stay or stay.start < first_stay[key]:
                first_stay[key] = stay.start
        liaison_of = {}
        for plan in self.plans:
            for home in plan.homes:
                liaison_of[home.household.pk] = plan.liaison
        rows = []
        for child in self.children:
            if child.status == "moved_on":
                ends = [s.end for s in self.stays if s.child is child and s.end]
                last_day[id(child)] = max(ends) if ends else self.today
            eff = max(first_stay[id(child)], self.first_day - timedelta(days=200))
            horizon = last_day.get(id(child), self.today)
            version = 1
            while eff <= horizon:
                review = eff + timedelta(days=rng.choice([180, 365]))
                by = (
                    child.social_worker
                    if child.social_worker and rng.random() < 0.6
                    else liaison_of.get(child.household_id) or self.liaisons[0]
                )
                rows.append(
                    Agreement(
                        child=child,
                        version=version,
                        effective_from=eff,
                        review_on=review,
                        signed_off_by=by,
                        signed_off_role="social_worker"
                        if by is child.social_worker
                        else "liaison_worker",
                        created_at=at(eff, 14),
                    )
                )
                if rng.random() < 0.04:
                    break  # never reviewed: overdue (or the child moved on)
                eff = review + self.days(-25, 20)
                version += 1
        self.save(Agreement, rows)
        self.save(
            Clause,
            [
                Clause(
                    agreement=agreement,
                    decision=decisions[code],
                    holder=holder,
                    conditions=conditions,
                    max_consecutive_nights=nights,
                )
                for agreement in rows
                for code, holder, conditions, nights in clauses
            ],
        )

    # --- sleepovers ------------------------------------------------------------------

    def requests(self, plan: Plan) -> None:
        """About 750 requests a year from 8 households, answered in the order they were
        asked against the hub's beds: a stay that does not fit is declined, as the hub
        would, and a child already booked is not asked for again."""
        from constellation.models import Concern
        from notifications.models import CrisisAlert, EscalationStep
        from sleepovers.models import Night, Request, Transition

        rng = self.rng
        hub = plan.hub
        answerer = plan.hub_users[0]
        specs = []
        day = plan.start
        while day <= self.today:
            homes = [h for h in plan.homes if h.active_on(day)]
            for kind, rate in DAILY_RATE.items():
                for _ in range(self.poisson(rate * len(homes) / 8) if homes else 0):
                    home = rng.choice(homes)
                    placed_now = home.children_on(day)
                    if not placed_now:
                        continue
                    size = min(len(placed_now), rng.choices([1, 2, 3], [45, 35, 20])[0])
                    spec = self.shape(kind, day)
                    if spec is None:
                        continue
                    spec.update(home=home, children=rng.sample(placed_now, size))
                    specs.append(spec)
            day += timedelta(days=1)
        for child, home, first, nights in plan.temporary:
            start = at(first, 16)
            specs.append(
                {
                    "kind": Kind.TEMPORARY,
                    "home": home,
                    "children": [child],
                    "created": start - timedelta(hours=3),
                    "start": start,
                    "end": at(first + timedelta(days=nights), 12),
                    "by": plan.liaison,
                }
            )
        # Temporary placements first: the liaison worker's arrangement takes the beds
        # whatever was booked; the others are answered in the order they were asked.
        specs.sort(key=lambda s: (s["kind"] != Kind.TEMPORARY, s["created"]))

        booked: Counter = Counter()
        guests: set = set()
        beds = hub.beds
        away = self.away[hub.pk]
        rows, outcomes = [], []
        for spec in specs:
            nights = nights_between(spec["start"], spec["end"])
            overnight = spec["kind"] in OVERNIGHT_KINDS and nights
            if overnight and spec["kind"] != Kind.TEMPORARY:
                # A family does not ask for a child already booked at the hub then.
                spec["children"] = [
                    c for c in spec["children"] if not any((n, c.pk) in guests for n in nights)
                ]
                if not spec["children"]:
                    continue
            fate = self.fate(spec, nights)
            if overnight and fate["status"] in HOLDING_BEDS:
                children = spec["children"]
                full = any(booked[n] + len(children) > beds for n in nights)
                why = ""
                if spec["kind"] == Kind.TEMPORARY:
                    spec["over_beds"] = full  # the liaison worker's emergency arrangement
                elif spec["kind"] == Kind.PLANNED and any(n in away for n in nights):
                    why = "The hub is not available then"
                elif full:
                    why = "No bed free on those nights"
                if why:
                    fate = self.declined(spec, why)
                else:
                    for n in nights:
                        booked[n] += len(children)
                        guests.update((n, c.pk) for c in children)
                    fate["nights"] = nights
            requester = spec.get("by") or spec["home"].primary
            rows.append(
                Request(
                    constellation=plan.constellation,
                    hub=hub,
                    household=spec["home"].household,
                    requested_by=requester,
                    kind=spec["kind"],
                    start=spec["start"],
                    end=spec["end"],
                    notes="We would be grateful for a night." if rng.random() < 0.2 else "",
                    crisis_reason=spec.get("reason", ""),
                    status=fate["status"],
                    decline_reason=fate.get("decline", ""),
                    cancel_reason=fate.get("cancel", ""),
                    offered_start=spec["start"] if fate.get("offered") else None,
                    offered_end=spec["end"] if fate.get("offered") else None,
                    emergency_over_beds=spec.get("over_beds", False),
                    created_at=spec["created"],
                )
            )
            outcomes.append((spec, fate, requester))
        self.save(Request, rows)
        pairs, timeline, nights_rows = [], [], []
        alerts, steps, concerns = [], [], []
        open_concern: dict = {}
        crisis_times = defaultdict(list)
        for request, (spec, fate, requester) in zip(rows, outcomes, strict=True):
            for child in spec["children"]:
                pairs.append((request.pk, child.pk))
            for before, after, moment, who, note in fate["moves"]:
                timeline.append(
                    Transition(
                        request=request,
                        from_status=before,
                        to_status=after,
                        by=requester if who == "requester" else answerer if who == "hub" else None,
                        at=moment,
                        note=note,
                    )
                )
            for n in fate.get("nights", ()):
                for child in spec["children"]:
                    nights_rows.append(Night(hub=hub, date=n, request=request, child=child))
            household = spec["home"].household
            if spec["kind"] == Kind.CRISIS:
                alert, alert_steps, escalated = self.alert(request, fate)
                alerts.append(alert)
                steps.extend(alert_steps)
                times = crisis_times[household.pk]
                times.append(request.created_at)
                if escalated or fate["status"] == Status.DECLINED:
                    self.concern(
                        concerns,
                        open_concern,
                        plan,
                        household,
                        Concern.Source.CRISIS_NOT_MET,
                        request.created_at + timedelta(minutes=ESCALATION_MINUTES),
                        spec["children"],
                    )
                recent = [t for t in times if request.created_at - t <= timedelta(days=30)]
                if len(recent) >= 3:
                    self.concern(
                        concerns,
                        open_concern,
                        plan,
                        household,
                        Concern.Source.REPEATED_CRISES,
                        request.created_at,
                        spec["children"],
                    )
            elif spec["kind"] == Kind.TEMPORARY:
                self.concern(
                    concerns,
                    open_concern,
                    plan,
                    household,
                    Concern.Source.DISRUPTION,
                    spec["created"],
                    spec["children"],
                )
        self.through(Request.children.field, pairs, "sleepovers.Request_children")
        self.save(Transition, timeline)
        self.save(Night, nights_rows)
        self.save(CrisisAlert, alerts)
        self.save(EscalationStep, steps)
        self.plan_concerns[plan.constellation.pk] = (concerns, open_concern)

    def shape(self, kind: str, day: date) -> dict | None:
        """When a request of ``kind`` asked on ``day`` is for, and when it was asked."""
        rng = self.rng
        if kind == Kind.CRISIS:
            hour = rng.choices(range(24), [1] * 7 + [2] * 8 + [4] * 6 + [2] * 3)[0]
            created = at(day, hour, rng.randrange(0, 60))
            if created > self.now:
                return None
            reason = rng.choice(CrisisReason.values)
            start = created + self.minutes(5, 45)
            if reason in (CrisisReason.OVERNIGHT, CrisisReason.CARER_HEALTH) and rng.random() < 0.8:
                local = timezone.localtime(start)
                morning = local.date() + timedelta(days=0 if local.hour < 7 else 1)
                end = at(morning, rng.randint(9, 11))
            else:
                end = start + timedelta(hours=rng.randint(2, 6))
            return {"kind": kind, "created": created, "start": start, "end": end, "reason": reason}
        created = self.moment_on(day, 7, 22)
        if created > self.now:
            return None
        if kind == Kind.PLANNED:
            first = day + self.days(2, 30)
            start = at(first, rng.choice([17, 17, 18]), rng.choice([0, 30]))
            nights = rng.choices(range(1, MAX_NIGHTS + 1), [15, 35, 30, 20])[0]
            end = at(first + timedelta(days=nights), rng.randint(10, 16))
        elif kind == Kind.SHORT_BREAK:
            first = day + self.days(1, 14)
            hour = 10 if first.weekday() >= 5 else rng.choice([15, 16])
            start = at(first, hour, rng.choice([0, 30]))
            end = start + timedelta(hours=rng.randint(2, 3))
        else:
            first = day + self.days(1, 10)
            start = at(first, rng.randint(8, 16), rng.choice([0, 15, 30, 45]))
            end = start + timedelta(minutes=rng.choice([60, 90, 120]))
        return {"kind": kind, "created": created, "start": start, "end": end}

    def declined(self, spec: dict, why: str) -> dict:
        answered = spec["answered"]
        return {
            "status": Status.DECLINED,
            "decline": why,
            "moves": [
                ("", Status.REQUESTED, spec["created"], "requester", ""),
                (Status.REQUESTED, Status.DECLINED, answered, "hub", why),
            ],
            "stop": answered,
            "stop_reason": "answered",
        }

    def fate(self, spec: dict, nights: list[date]) -> dict:
        """The request's lifecycle up to now: its status, its timeline rows (from, to,
        when, who, note) and when a crisis alert stopped."""
        rng, now = self.rng, self.now
        created, start, end = spec["created"], spec["start"], spec["end"]
        kind = spec["kind"]
        moves = [("", Status.REQUESTED, created, "requester", "")]
        if kind == Kind.TEMPORARY:
            answered = created + self.minutes(20, 150)
            roll = 0.0
        elif kind == Kind.CRISIS:
            band = rng.random()
            delay = (1, 9.5) if band < 0.75 else (10.5, 29) if band < 0.93 else (31, 90)
            answered = created + self.minutes(*delay)
            roll = rng.random()
        else:
            hours = min(rng.lognormvariate(1.0, 1.2), 48.0)
            answered = min(created + timedelta(hours=hours), start - timedelta(minutes=30))
            answered = max(answered, created + timedelta(minutes=3))
            roll = rng.random()
        spec["answered"] = answered
        seen = None
        if (
            kind == Kind.CRISIS
            and answered - created > timedelta(minutes=3)
            and rng.random() < 0.25
        ):
            seen = created + self.minutes(1, min(9, (answered - created).total_seconds() / 60))
        result = {"moves": moves, "seen": seen}

        def waiting():
            result.update(status=Status.REQUESTED, stop=None)
            if seen and seen <= now:
                result.update(stop=seen, stop_reason="seen")
            return result

        crisis = kind == Kind.CRISIS
        accept, decline, offer, cancel = (
            (0.82, 0.10, 0.0, 0.05) if crisis else (0.74, 0.08, 0.05, 0.06)
        )
        if kind == Kind.TEMPORARY:
            accept = 1.0
        if roll >= accept + decline + offer + cancel:  # nobody answered in time
            expired = start if not crisis else created + self.minutes(60, 180)
            if expired > now:
                return waiting()
            moves.append(
                (
                    Status.REQUESTED,
                    Status.EXPIRED,
                    expired,
                    None,
                    "Its time passed without an answer",
                )
            )
            result.update(
                status=Status.EXPIRED,
                stop=seen or expired,
                stop_reason="seen" if seen else "expired",
            )
            return result
        if roll >= accept + decline + offer:  # the requester cancelled before an answer
            cancelled = created + (answered - created) * rng.uniform(0.2, 0.9)
            if cancelled > now:
                return waiting()
            moves.append(
                (Status.REQUESTED, Status.CANCELLED, cancelled, "requester", "No longer needed")
            )
            result.update(
                status=Status.CANCELLED,
                cancel="No longer needed",
                stop=seen or cancelled,
                stop_reason="seen" if seen else "cancelled",
            )
            return result
        if answered > now:
            return waiting()
        result.update(stop=seen or answered, stop_reason="seen" if seen else "answered")
        if roll >= accept and roll < accept + decline:
            why = "Not this time: the hub is full" if not crisis else "We cannot help tonight"
            moves.append((Status.REQUESTED, Status.DECLINED, answered, "hub", why))
            result.update(status=Status.DECLINED, decline=why)
            return result
        accepted_at = answered
        if roll >= accept:  # another time offered, then taken or refused
            moves.append(
                (
                    Status.REQUESTED,
                    Status.OFFERED,
                    answered,
                    "hub",
                    "Could you come the weekend after?",
                )
            )
            result["offered"] = True
            taken = answered + self.minutes(30, 1200)
            if taken >= start and start <= now:
                note = "Its time passed without an answer"
                moves.append((Status.OFFERED, Status.EXPIRED, start, None, note))
                result.update(status=Status.EXPIRED)
                return result
            if taken > now or taken >= start:
                result.update(status=Status.OFFERED)
                return result
            if rng.random() < 0.3:
                moves.append(
                    (
                        Status.OFFERED,
                        Status.CANCELLED,
                        taken,
                        "requester",
                        "That time does not suit us",
                    )
                )
                result.update(status=Status.CANCELLED, cancel="That time does not suit us")
                return result
            moves.append((Status.OFFERED, Status.ACCEPTED, taken, "requester", ""))
            accepted_at = taken
        else:
            moves.append((Status.REQUESTED, Status.ACCEPTED, answered, "hub", ""))
        if kind != Kind.TEMPORARY and kind != Kind.CRISIS and rng.random() < 0.05:
            dropped = accepted_at + (start - accepted_at) * rng.uniform(0.1, 0.9)
            if dropped <= now:
                moves.append(
                    (Status.ACCEPTED, Status.CANCELLED, dropped, "requester", "Plans changed")
                )
                result.update(status=Status.CANCELLED, cancel="Plans changed")
                return result
        if start > now:
            result.update(status=Status.ACCEPTED)
            return result
        if kind != Kind.TEMPORARY and rng.random() < 0.015:
            moves.append(
                (
                    Status.ACCEPTED,
                    Status.DID_NOT_ARRIVE,
                    self.capped(start + timedelta(hours=1)),
                    "hub",
                    "",
                )
            )
            result.update(status=Status.DID_NOT_ARRIVE)
            return result
        arrived = max(start + self.minutes(-10, 25), accepted_at + timedelta(minutes=1))
        if arrived > now:
            result.update(status=Status.ACCEPTED)
            return result
        moves.append((Status.ACCEPTED, Status.ARRIVED, arrived, "hub", ""))
        collected = max(end + self.minutes(-20, 20), arrived + timedelta(minutes=5))
        if collected > now:
            result.update(status=Status.ARRIVED)
            return result
        note = "Moved on to a new placement" if kind == Kind.TEMPORARY else ""
        moves.append((Status.ARRIVED, Status.COLLECTED, collected, "hub", note))
        result.update(status=Status.COLLECTED)
        return result

    def alert(self, request, fate: dict):
        """A crisis request's alert and its three steps, as the sweep leaves them: the
        hub at once, the liaison worker after 10 minutes unanswered, the duty contact
        20 minutes later; steps after the answer (or "seen") are not needed."""
        from notifications.models import CrisisAlert, EscalationStep

        raised = request.created_at
        stop = fate.get("stop")
        seen = fate.get("seen") if fate.get("stop_reason") == "seen" else None
        alert = CrisisAlert(
            request=request,
            raised_at=raised,
            stopped_at=stop,
            stop_reason=fate.get("stop_reason", "") if stop else "",
            seen_by=self.hub_users_of[request.hub_id][0] if seen else None,
            seen_at=seen,
        )
        steps, escalated = [], False
        liaison_due = raised + timedelta(minutes=ESCALATION_MINUTES)
        for step, due in (
            (EscalationStep.Step.HUB, raised),
            (EscalationStep.Step.LIAISON, liaison_due),
            (EscalationStep.Step.DUTY, liaison_due + timedelta(minutes=DUTY_AFTER)),
        ):
            if step == EscalationStep.Step.HUB or (
                due <= self.now and (stop is None or stop > due)
            ):
                status, ran = EscalationStep.Status.DONE, due
                escalated = escalated or step == EscalationStep.Step.LIAISON
            elif stop is not None and stop <= due:
                status, ran = EscalationStep.Status.STOPPED, None
            else:
                status, ran = EscalationStep.Status.WAITING, None
            steps.append(
                EscalationStep(alert=alert, step=step, due_at=due, status=status, ran_at=ran)
            )
        return alert, steps, escalated

    def concern(self, rows, open_concern, plan, household, source, opened, children) -> None:
        """A concern opened by a rule at ``opened``, unless one of the same rule is
        still open for the household then; most are closed weeks later."""
        from constellation.models import Concern

        if opened > self.now:
            return
        key = (household.pk, source)
        previous = open_concern.get(key)
        if previous is not None and (previous.closed_at is None or previous.closed_at > opened):
            return
        closed = opened + timedelta(days=self.rng.uniform(3, 60))
        closed = closed if closed <= self.now else None
        concern = Concern(
            constellation=plan.constellation,
            household=household,
            source=source,
            reasons=[self.rng.choice(["cannot_cope", "needs_not_met", "other"])],
            description="Opened by the rule.",
            status=Concern.Status.CLOSED if closed else Concern.Status.OPEN,
            opened_at=opened,
            opened_by=plan.hub_users[0] if source == Concern.Source.BY_HAND else None,
            closed_at=closed,
            closed_by=plan.liaison if closed else None,
            action_note="Spoke with the carers; support plan agreed." if closed else "",
        )
        concern._children = children
        rows.append(concern)
        if source != Concern.Source.BY_HAND:
            open_concern[key] = concern

    # --- the calendar -------------------------------------------------------------------

    def calendar(self, plan: Plan) -> None:
        """The monthly meeting (one series from the constellation's start, no end), and
        socials, activities, training and community events; every past date has a row
        with the households' answers, and most have who came."""
        from calendar_events.models import Attendance, Event, Occurrence, Rsvp

        rng = self.rng
        organiser = plan.hub_users[0]
        place = f"{plan.hub.name}, {plan.hub.address}"
        weekday = rng.choice(["1TU", "2WE", "1TH", "3MO"])
        rule = f"FREQ=MONTHLY;BYDAY={weekday}"
        local = datetime.combine(plan.start, time(19))
        first = series(rule, local, None).after(local, inc=True)
        meeting = Event(
            constellation=plan.constellation,
            kind=Event.Kind.MEETING,
            title="Constellation meeting",
            place=place,
            organiser=organiser,
            start=placed(first),
            end=placed(first + timedelta(hours=2)),
            rule=rule,
            created_at=at(plan.start - timedelta(days=10), 20),
        )
        events = [meeting]
        singles = []
        horizon = self.today + timedelta(days=60)
        for kind, title, every, hour, hours in (
            (Event.Kind.SOCIAL, "Get-together at the hub", 42, 14, 3),
            (Event.Kind.ACTIVITY, "Children's activity day", 30, 10, 4),
            (Event.Kind.TRAINING, "Training and support session", 91, 10, 2),
            (Event.Kind.COMMUNITY, "School summer fair", 120, 12, 3),
            (Event.Kind.CONTACT, "Family time at the hub", 60, 16, 2),
        ):
            day = plan.start + self.days(3, every)
            while day <= horizon:
                start = at(day, hour)
                singles.append(
                    Event(
                        constellation=plan.constellation,
                        kind=kind,
                        title=title,
                        place=place,
                        organiser=organiser,
                        start=start,
                        end=start + timedelta(hours=hours),
                        capacity=30 if kind == Event.Kind.SOCIAL else None,
                        invite_everyone=kind != Event.Kind.CONTACT,
                        created_at=start - timedelta(days=rng.randint(10, 40)),
                    )
                )
                day += self.days(every - every // 4, every + every // 4)
        events += singles
        self.save(Event, events)
        contact_invites = []
        for event in singles:
            if event.kind == Event.Kind.CONTACT:
                homes = [
                    h for h in plan.homes if h.active_on(timezone.localtime(event.start).date())
                ]
                if homes:
                    contact_invites.append((event.pk, rng.choice(homes).household.pk))
        self.through(
            Event.invited_households.field,
            contact_invites,
            "calendar_events.Event_invited_households",
        )

        # The dates said something of: every past one, and the next month's.
        dates = [
            (meeting, placed(local))
            for local in series(rule, first, None).between(
                first, wall(self.now) + timedelta(days=31), inc=True
            )
        ]
        dates += [
            (e, e.start)
            for e in singles
            if e.start <= self.now + timedelta(days=31) and e.kind != Event.Kind.CONTACT
        ]
        occurrences = []
        for event, original in dates:
            past = original + timedelta(hours=3) < self.now
            cancelled = rng.random() < 0.03
            moved = not cancelled and bool(event.rule) and rng.random() < 0.03
            recorded = past and not cancelled and rng.random() < 0.9
            occurrences.append(
                Occurrence(
                    event=event,
                    original_start=original,
                    start=original + timedelta(days=1) if moved else None,
                    end=original + timedelta(days=1, hours=2) if moved else None,
                    cancelled=cancelled,
                    changed_at=original - timedelta(days=3) if moved or cancelled else None,
                    changed_by=organiser if moved or cancelled else None,
                    attendance_recorded_at=self.capped(original + timedelta(days=1, hours=2))
                    if recorded
                    else None,
                    attendance_recorded_by=organiser if recorded else None,
                )
            )
        self.save(Occurrence, occurrences)
        rsvps, rsvp_children, attended, attended_children = [], [], [], []
        for occurrence in occurrences:
            if occurrence.cancelled:
                continue
            day = timezone.localtime(occurrence.original_start).date()
            places = occurrence.event.capacity  # a yes beyond it waits for a place
            for home in plan.homes:
                if not home.active_on(day):
                    continue
                children = home.children_on(day)
                answer = None
                if rng.random() < 0.8:
                    answer = rng.choices(["yes", "no", "maybe"], [65, 25, 10])[0]
                    coming = (
                        rng.sample(children, rng.randint(0, len(children)))
                        if answer != "no"
                        else []
                    )
                    adults = rng.randint(1, 2) if answer != "no" else 0
                    rsvp = Rsvp(
                        occurrence=occurrence,
                        household=home.household,
                        answer=answer,
                        adults=adults,
                        people=adults + len(coming),
                        answered_at=self.capped(
                            occurrence.original_start - timedelta(hours=rng.randint(4, 240))
                        ),
                        answered_by=home.primary,
                    )
                    if answer == "yes" and places is not None:
                        if rsvp.people > places:
                            rsvp.waiting_since = rsvp.answered_at
                        else:
                            places -= rsvp.people
                    rsvps.append(rsvp)
                    rsvp_children.append((rsvp, coming))
                if occurrence.attendance_recorded_at is None:
                    continue
                came = rng.random() < (
                    0.88 if answer == "yes" else 0.3 if answer == "maybe" else 0.05
                )
                if came:
                    kids = rng.sample(children, rng.randint(0, len(children)))
                    adults = rng.randint(1, 2)
                    row = Attendance(
                        occurrence=occurrence,
                        household=home.household,
                        adults=adults,
                        people=adults + len(kids),
                    )
                    attended.append(row)
                    attended_children.append((row, kids))
        self.save(Rsvp, rsvps)
        self.save(Attendance, attended)
        self.through(
            Rsvp.children.field,
            [(r.pk, c.pk) for r, kids in rsvp_children for c in kids],
            "calendar_events.Rsvp_children",
        )
        self.through(
            Attendance.children.field,
            [(a.pk, c.pk) for a, kids in attended_children for c in kids],
            "calendar_events.Attendance_children",
        )

    # --- regular contact ---------------------------------------------------------------

    def contact(self, plan: Plan) -> None:
        """A check-in with each member household every 4 to 20 days (most made, a few
        only attempted), follow-ups now and then, and the concerns: those the request
        rules opened, one per check-in at high concern, and a few by hand."""
        from constellation.models import CheckIn, Concern, FollowUp

        rng = self.rng
        hub_carer = plan.hub_users[0]
        concerns, open_concern = self.plan_concerns.pop(plan.constellation.pk)
        check_ins, follow_ups = [], []
        for home in plan.homes:
            day = home.joined + self.days(1, 10)
            last = min(home.left or self.today, self.today)
            while day <= last:
                moment = self.moment_on(day, 9, 20)
                if moment > self.now:
                    break
                by = plan.liaison if rng.random() < 0.15 else hub_carer
                made = rng.random() < 0.92
                level = (
                    rng.choices(["none", "low", "medium", "high"], [70, 20, 8, 2])[0]
                    if made
                    else "none"
                )
                check_in = CheckIn(
                    constellation=plan.constellation,
                    household=home.household,
                    occurred_at=moment,
                    method=rng.choice(METHODS),
                    made=made,
                    participants="Both carers" if rng.random() < 0.3 else "Main carer",
                    note="All settled."
                    if level == "none"
                    else "A harder week; we talked it through.",
                    concern_level=level,
                    recorded_by=by,
                    recorded_at=self.capped(moment + timedelta(hours=rng.uniform(0.2, 30))),
                )
                check_ins.append(check_in)
                if made and level in ("medium", "high") and rng.random() < 0.6:
                    due = day + self.days(7, 21)
                    resolved = at(due, 15) if due < self.today and rng.random() < 0.9 else None
                    follow_ups.append(
                        FollowUp(
                            check_in=check_in,
                            action="Offer a planned sleepover",
                            due_on=due,
                            assigned_to=hub_carer,
                            resolved_at=resolved,
                            resolved_by=hub_carer if resolved else None,
                            resolution="Booked for the weekend." if resolved else "",
                        )
                    )
                if level == "high":
                    self.concern(
                        concerns,
                        open_concern,
                        plan,
                        home.household,
                        Concern.Source.HIGH_CHECK_IN,
                        moment,
                        home.children_on(day),
                    )
                elif rng.random() < 0.004:
                    self.concern(
                        concerns,
                        open_concern,
                        plan,
                        home.household,
                        Concern.Source.BY_HAND,
                        moment,
                        home.children_on(day),
                    )
                day += self.days(4, 20)
        self.save(CheckIn, check_ins)
        self.save(FollowUp, follow_ups)
        self.save(Concern, concerns)
        self.through(
            Concern.children.field,
            [(c.pk, child.pk) for c in concerns for child in c._children],
            "constellation.Concern_children",
        )

    # --- who may see what ------------------------------------------------------------

    def permissions(self) -> None:
        """The constellations' object permissions as ``access.sync_constellation_permissions``
        would leave them today: members see, hub carers and liaison workers read the
        children's records, liaison workers manage."""
        from django.contrib.auth.models import Permission

        from constellation.access import FULL_RECORDS, MANAGE, VIEW
        from constellation.models import ConstellationUserObjectPermission

        perms = {
            p.codename: p
            for p in Permission.objects.filter(
                content_type__app_label="constellation", codename__in=[VIEW, FULL_RECORDS, MANAGE]
            )
        }
        current = {c.user.pk for c in self.carers if c.ended_on is None}
        rows = []
        for plan in self.plans:
            hub = {u.pk for u in plan.hub_users} & current
            members = {
                c.user.pk
                for home in plan.homes
                if home.left is None
                for c in self.carers_of(home.household)
                if c.ended_on is None
            }
            liaison = {plan.liaison.pk}
            for code, users in (
                (VIEW, hub | members | liaison),
                (FULL_RECORDS, hub | liaison),
                (MANAGE, liaison),
            ):
                rows += [
                    ConstellationUserObjectPermission(
                        user_id=u, permission=perms[code], content_object=plan.constellation
                    )
                    for u in sorted(users)
                ]
        self.save(ConstellationUserObjectPermission, rows)

    def activity(self) -> None:
        """The activity record the services would have written: a row for each step of
        each request's timeline (made, answered, arrived, ...), at its moment. One
        INSERT ... SELECT in the database (the rows are many and need no Python)."""
        from django.contrib.contenttypes.models import ContentType
        from django.db import connection

        from sleepovers.models import Request

        target_type = ContentType.objects.get_for_model(Request).pk
        with connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO constellation_activity (service_id, constellation_id,
                    household_id, actor_id, verb, kind, target_type_id, target_id, summary,
                    payload, created_at)
                SELECT c.service_id, r.constellation_id, r.household_id, t.by_id,
                    'sleepover.' || t.to_status, 'request', %s, r.id,
                    'A request: ' || t.to_status, '{}', t.at
                FROM sleepovers_transition t
                JOIN sleepovers_request r ON r.id = t.request_id
                JOIN constellation_constellation c ON c.id = r.constellation_id
                WHERE c.service_id = %s""",
                [target_type, self.service.pk],
            )
            self.counts["constellation.Activity"] += cursor.rowcount

    def carers_of(self, household):
        if not hasattr(self, "_carers_by_household"):
            self._carers_by_household = defaultdict(list)
            for carer in self.carers:
                self._carers_by_household[carer.household.pk].append(carer)
        return self._carers_by_household[household.pk]
