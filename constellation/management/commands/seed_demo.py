"""Demo data: a fostering service with two constellations and a second service,
so that isolation can be tried. Idempotent: a service already seeded is left as it is."""

from datetime import date, datetime, time, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from constellation import services
from constellation.models import (
    Carer,
    Constellation,
    ConstellationMembership,
    FosteringService,
    Household,
)
from people.models import StaffRole, User

AGREEMENT = [
    # decision, holder, conditions, most consecutive nights
    ("overnight_hub_planned", "both", "", 3),
    ("stay_hub_short_notice", "hub_carer", "Tell the supervising social worker next day.", 2),
    ("transport_hub_carer", "both", "", None),
    ("overnight_friends", "satellite_carer", "Friends' parents known to the carers.", 1),
    ("medical_routine", "satellite_carer", "", None),
    ("medical_emergency", "both", "Inform the social worker at once.", None),
    ("school_trips", "satellite_carer", "Day trips only; residential trips: ask.", None),
    ("haircuts", "satellite_carer", "No major change of style.", None),
    ("holidays_uk", "satellite_carer", "", 7),
    ("holidays_abroad", "social_worker", "", None),
    ("phones_social_media", "satellite_carer", "Follow the household's online safety plan.", None),
    ("birth_family_contact", "social_worker", "As in the care plan.", None),
    ("piercings_tattoos", "birth_parents", "", None),
]

# Each demo constellation's liaison worker keeps its list of people kept connected.
LIAISON_OF = {
    "Riverside": "liaison@example.org",
    "Hillside": "liaison@example.org",
    "Seaside": "liaison-other@example.org",
}
KEPT_CONNECTED = {
    "Riverside": ("Jade", "jade@example.org"),
    "Hillside": ("Kieran", "kieran@example.org"),
    "Seaside": ("Shannon", "shannon@example.org"),
}

DEMO_LOGINS = [
    ("hub@example.org", "hub carer, Riverside (first constellation)"),
    ("hub2@example.org", "hub carer, Hillside (second constellation)"),
    ("satellite@example.org", "satellite carer, Riverside"),
    ("satellite2@example.org", "satellite carer, Hillside"),
    ("liaison@example.org", "liaison worker, Riverside and Hillside"),
    ("manager@example.org", "fostering manager, Northshire Fostering Service"),
    ("manager-other@example.org", "fostering manager, Southshire Fostering Service"),
]

SURNAMES = [
    "Ashford",
    "Brooke",
    "Carver",
    "Delaney",
    "Ellison",
    "Fairley",
    "Garrow",
    "Holt",
    "Ingram",
    "Jessop",
    "Kendall",
    "Lowther",
    "Marsh",
    "Norcott",
    "Oakes",
    "Pryce",
]
CHILDREN = [
    ("Amelia", "Mia"),
    ("Bradley", "Brad"),
    ("Chloe", ""),
    ("Daniel", "Dan"),
    ("Ellie", ""),
    ("Finley", "Finn"),
    ("Grace", "Gracie"),
    ("Harvey", ""),
    ("Isla", ""),
    ("Jayden", "Jay"),
    ("Kayla", ""),
    ("Leo", ""),
    ("Maisie", ""),
    ("Noah", ""),
    ("Olivia", "Liv"),
    ("Peter", "Pete"),
    ("Ruby", ""),
    ("Samuel", "Sam"),
    ("Tia", ""),
    ("Zach", ""),
    ("Alfie", ""),
    ("Bethany", "Beth"),
    ("Corey", ""),
]
NEEDS = [
    ("Needs a night light and the door left open.", "None known", ""),
    ("Settles with a story; anxious at bedtime.", "Peanuts (carries an EpiPen)", "EpiPen in bag"),
    (
        "Autistic: a visual timetable helps; warn of changes.",
        "None known",
        "Melatonin 2mg at 19:30",
    ),
    ("Loves football; can be unsettled after family time.", "Dairy", ""),
    ("Asthma: inhaler before sport.", "None known", "Salbutamol inhaler as needed"),
]


def _user(email: str, first: str, last: str) -> User:
    user, _ = User.objects.get_or_create(
        email=email, defaults={"first_name": first, "last_name": last}
    )
    user.set_password(settings.DEMO_PASSWORD)
    user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def _carer(household: Household, email: str, first: str, last: str, role: str) -> User:
    user = _user(email, first, last)
    services.add_carer(
        household,
        by=None,
        email=email,
        first_name=first,
        last_name=last,
        role=role,
        send_invitation=False,
    )
    return user


class Command(BaseCommand):
    help = "Create the demo fostering services, constellations, households, children and logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Run even though DEBUG is off (never in production).",
        )

    def handle(self, *args, force: bool = False, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo refuses to run with DEBUG off; use --force if you mean it."
            )
        self.child_index = 0
        with transaction.atomic():
            self.northshire()
            self.southshire()
            for constellation in Constellation.objects.filter(name__in=LIAISON_OF).filter(
                service__name__in=["Northshire Fostering Service", "Southshire Fostering Service"]
            ):
                self.calendar(constellation)
        self.stdout.write(
            self.style.SUCCESS("Demo data ready. Logins (password: mockingbird-demo):")
        )
        for email, what in DEMO_LOGINS:
            self.stdout.write(f"  {email:<28} {what}")

    # --- the two services -----------------------------------------------------

    def northshire(self) -> None:
        if FosteringService.objects.filter(name="Northshire Fostering Service").exists():
            self.stdout.write("Northshire Fostering Service already seeded.")
            return
        service = FosteringService.objects.create(
            name="Northshire Fostering Service",
            out_of_hours_phone="0300 555 0100",
            out_of_hours_name="Northshire out-of-hours duty team",
            out_of_hours_email="duty@northshire.example.org",
        )
        manager = _user("manager@example.org", "Priya", "Natarajan")
        StaffRole.objects.create(user=manager, service=service, role=StaffRole.Role.MANAGER)
        liaison = _user("liaison@example.org", "Tom", "Whitaker")
        StaffRole.objects.create(user=liaison, service=service, role=StaffRole.Role.LIAISON)
        social = _user("socialworker@example.org", "Grace", "Adeyemi")
        StaffRole.objects.create(user=social, service=service, role=StaffRole.Role.SOCIAL_WORKER)

        made = []
        for index, (name, area, hub_email, sat_email) in enumerate(
            [
                ("Riverside", "Riverside and Old Town", "hub@example.org", "satellite@example.org"),
                (
                    "Hillside",
                    "Hillside and Moorfield",
                    "hub2@example.org",
                    "satellite2@example.org",
                ),
            ]
        ):
            constellation = services.create_constellation(
                service=service, name=name, area=area, by=None
            )
            services.assign_liaison(constellation, liaison, by=None)
            self.fill(constellation, index, hub_email, sat_email, social, satellites=8, by=liaison)
            made.append(constellation)
        self.cover(*made, by=liaison)
        self.contact(made[0], by=liaison)

    def cover(self, riverside: Constellation, hillside: Constellation, *, by: User) -> None:
        """Riverside's hub carers are at a training weekend in three weeks: the hub is
        not available, and Hillside's hub covers for it."""
        from sleepovers import services as sleepovers

        hub = Household.objects.get(pk=riverside.hub_id)
        start = timezone.localdate() + timedelta(days=21)
        end = start + timedelta(days=2)
        hub_carer = hub.carers.filter(ended_on__isnull=True).first().user
        sleepovers.add_unavailability(
            hub, by=hub_carer, start=start, end=end, note="Training weekend"
        )
        sleepovers.arrange_cover(
            riverside,
            by=by,
            stand_in=Household.objects.get(pk=hillside.hub_id),
            start=start,
            end=end,
            note="Hillside's hub answers while Riverside's carers are at their training.",
        )

    def contact(self, constellation: Constellation, *, by: User) -> None:
        """Riverside's regular contact: check-ins a few days, 12 and 16 days ago (so the
        coverage panel shows households in touch, amber and red), an attempt that does
        not count, a follow-up, a concern opened by the hub carer, the shared planning
        meeting that proposed the households, and a supervision note."""
        from constellation.services import contact, planning
        from constellation.services.concerns import open_concern_by_hand

        now = timezone.now()
        hub = Household.objects.get(pk=constellation.hub_id)
        hub_carer = hub.carers.filter(ended_on__isnull=True).first().user
        satellites = list(
            Household.objects.filter(
                memberships__constellation=constellation, memberships__status="active"
            ).order_by("name")
        )
        for n, household in enumerate(satellites[:6]):
            days = [2, 4, 6, 9, 12, 16][n]
            contact.record_check_in(
                household,
                by=hub_carer,
                occurred_at=now - timedelta(days=days, hours=2),
                method=["phone", "visit", "hub", "message", "phone", "video"][n],
                participants="Both carers" if n % 2 else "Main carer",
                note="All settled; school run is going better."
                if n != 3
                else "Tired after a difficult week; asked about a sleepover.",
                concern_level="low" if n == 3 else "none",
                follow_ups=[
                    contact.FollowUpInput(
                        action="Offer a planned sleepover next weekend",
                        due_on=timezone.localdate() + timedelta(days=1),
                        assigned_to=hub_carer,
                    )
                ]
                if n == 3
                else [],
            )
        contact.record_check_in(
            satellites[5],
            by=hub_carer,
            occurred_at=now - timedelta(days=1),
            method="phone",
            made=False,
            note="No answer; left a voicemail.",
        )
        open_concern_by_hand(
            satellites[4],
            by=hub_carer,
            reasons=["cannot_cope"],
            description="The carer said at the meeting that evenings are hard to manage.",
        )
        planning.record_planning_meeting(
            constellation,
            by=by,
            held_on=timezone.localdate() - timedelta(days=60),
            attendees="Liaison worker, hub carers, fostering team manager",
            decisions="Propose eight households living within ten minutes of the hub.",
        )
        primary = hub.carers.filter(ended_on__isnull=True).first()
        planning.write_supervision_note(
            primary,
            by=by,
            supervised_on=timezone.localdate() - timedelta(days=7),
            note="Monthly supervision: workload manageable; training weekend booked.",
        )

    def southshire(self) -> None:
        if FosteringService.objects.filter(name="Southshire Fostering Service").exists():
            self.stdout.write("Southshire Fostering Service already seeded.")
            return
        service = FosteringService.objects.create(
            name="Southshire Fostering Service",
            out_of_hours_phone="0300 555 0900",
            out_of_hours_name="Southshire out-of-hours duty team",
            out_of_hours_email="duty@southshire.example.org",
        )
        manager = _user("manager-other@example.org", "Helen", "Okafor")
        StaffRole.objects.create(user=manager, service=service, role=StaffRole.Role.MANAGER)
        liaison = _user("liaison-other@example.org", "Marcus", "Bell")
        StaffRole.objects.create(user=liaison, service=service, role=StaffRole.Role.LIAISON)
        constellation = services.create_constellation(
            service=service, name="Seaside", area="Harbour and Dunes", by=None
        )
        services.assign_liaison(constellation, liaison, by=None)
        self.fill(
            constellation,
            2,
            "hub-other@example.org",
            "satellite-other@example.org",
            None,
            satellites=2,
            by=liaison,
        )

    def fill(
        self,
        constellation: Constellation,
        index: int,
        hub_email: str,
        sat_email: str,
        social: User | None,
        *,
        satellites: int,
        by: User,
    ) -> None:
        hub = services.create_household(
            constellation=constellation,
            kind=Household.Kind.HUB,
            by=by,
            name=f"{constellation.name} Hub Home",
            address=f"{index + 1} Mockingbird Lane",
            postcode=f"NS{index + 1} 1HB",
            phone=f"07700 90{index}001",
            second_phone=f"07700 90{index}002",
            beds=3,
        )
        hub_carers = [
            _carer(
                hub,
                hub_email,
                "Sarah" if index != 1 else "Dev",
                "Hubbard" if index != 1 else "Patel",
                Carer.Role.PRIMARY,
            ),
            _carer(
                hub,
                f"hub-partner{index or ''}@example.org",
                "Chris",
                "Hubbard" if index != 1 else "Patel",
                Carer.Role.SECOND,
            ),
        ]
        # Crisis alerts reach them by text message (the console backend in the demo).
        for n, user in enumerate(hub_carers):
            User.objects.filter(pk=user.pk).update(phone=f"07700 90{index}{n}11")
        for n in range(satellites):
            surname = SURNAMES[(index * 8 + n) % len(SURNAMES)]
            household = services.create_household(
                constellation=constellation,
                kind=Household.Kind.SATELLITE,
                by=by,
                name=f"The {surname}s",
                address=f"{n + 10} Orchard Road",
                postcode=f"NS{index + 1} {n + 2}AB",
                phone=f"07700 9{index}{n:02d}10",
                reason="Lives within ten minutes of the hub.",
            )
            membership = household.memberships.get()
            services.activate_membership(membership, by=by)
            email = sat_email if n == 0 else f"{constellation.name.lower()}-{n + 1}@example.org"
            _carer(
                household,
                email,
                ["Anna", "Ben", "Claire", "Dave"][n % 4],
                surname,
                Carer.Role.PRIMARY,
            )
            # About 20 children across the two constellations: one or two per household.
            for _ in range(1 if n % 3 else 2):
                if index < 2 and self.child_index >= 20:
                    break
                self.child(household, social if self.child_index % 4 == 0 else None, by=by)

    def child(self, household: Household, social: User | None, *, by: User) -> None:
        first, preferred = CHILDREN[self.child_index % len(CHILDREN)]
        needs, allergies, medication = NEEDS[self.child_index % len(NEEDS)]
        born = date(
            2009 + self.child_index % 9, 1 + self.child_index % 12, 1 + self.child_index % 27
        )
        child = services.create_child(
            household=household,
            by=None,
            first_name=first,
            last_name=household.name[4:-1],
            preferred_name=preferred,
            date_of_birth=born,
            needs=needs,
            allergies=allergies,
            medication_notes=medication,
            emergency_contacts="Social work duty line 0300 555 0199",
            social_worker=social,
        )
        # Most children have a delegated authority agreement; a few have none yet,
        # and one in seven is overdue for review, as in real life.
        if self.child_index % 5 != 4:
            self.agreement(child, by=by, overdue=self.child_index % 7 == 6)
        self.child_index += 1

    def agreement(self, child, *, by: User, overdue: bool) -> None:
        from delegated_authority.models import Decision
        from delegated_authority.services import ClauseInput, create_agreement

        today = timezone.localdate()
        start = today - timedelta(days=400 if overdue else 60)
        decisions = {d.code: d for d in Decision.objects.all()}
        clauses = [
            ClauseInput(decisions[code], holder, conditions, nights)
            for code, holder, conditions, nights in AGREEMENT
        ]
        create_agreement(
            child,
            by=by,
            effective_from=start,
            review_on=start + timedelta(days=365 if overdue else 180),
            signed_off_role="liaison_worker",
            clauses=clauses,
        )

    # --- the calendar ---------------------------------------------------------------

    def calendar(self, constellation: Constellation) -> None:
        """A month or two of a constellation's calendar, as a hub carer keeps it: the
        monthly meeting (first Tuesday, 19:00, no end), a monthly get-together with
        room for 30, a children's activity, a training session, a contact session for
        one household, answers, a past event with who came and one still to record,
        and a young person kept connected invited to the get-together. Seeded once:
        a constellation with events already is left as it is."""
        from calendar_events import access as calendar_access
        from calendar_events import services as calendar
        from calendar_events.models import Event, KeptConnected

        if Event.objects.filter(constellation=constellation).exists():
            return
        hub = Household.objects.get(pk=constellation.hub_id)
        by = hub.carers.filter(ended_on__isnull=True, role=Carer.Role.PRIMARY).first().user
        liaison = User.objects.get(email=LIAISON_OF[constellation.name])
        satellites = list(
            Household.objects.filter(
                memberships__constellation=constellation,
                memberships__status=ConstellationMembership.Status.ACTIVE,
            ).order_by("pk")
        )
        today = timezone.localdate()
        place = f"{hub.name}, {hub.address}"

        def event(title, kind, start, hours, **fields):
            return calendar.create_event(
                constellation=constellation,
                by=by,
                kind=kind,
                title=title,
                start=start,
                end=start + timedelta(hours=hours),
                **fields,
            )

        name, email = KEPT_CONNECTED[constellation.name]
        jade = calendar.keep_connected(
            constellation=constellation,
            by=liaison,
            name=name,
            email=email,
            relationship=KeptConnected.Relationship.YOUNG_PERSON,
            consent=f"{name} asked to stay in touch on moving on to a flat of their own; "
            "their personal adviser agreed (recorded by the liaison worker).",
            ends_on=today + timedelta(days=365),
        )
        meeting = event(
            "Constellation meeting",
            Event.Kind.MEETING,
            _next_date("FREQ=MONTHLY;BYDAY=1TU", 19),
            1.5,
            place=place,
            description="News from the hub, the month ahead, and a cuppa. Children welcome "
            "in the playroom.",
            rule="FREQ=MONTHLY;BYDAY=1TU",
        )
        social = event(
            "Saturday get-together",
            Event.Kind.SOCIAL,
            _next_date("FREQ=MONTHLY;BYDAY=3SA", 14),
            2.5,
            place="Riverside Community Centre" if constellation.name == "Riverside" else place,
            description="Games, a shared lunch and time to catch up. Bring a dish.",
            rule="FREQ=MONTHLY;BYDAY=3SA",
            capacity=30,
            rsvp_closes_minutes=24 * 60,
            invitation=calendar.Invitation(contacts=(jade,)),
        )
        climbing = event(
            "Climbing wall for the children",
            Event.Kind.ACTIVITY,
            calendar.london_start(today + timedelta(days=10), 10),
            2,
            place="Northshire Leisure Centre",
            capacity=12,
        )
        event(
            "Training: understanding trauma and attachment",
            Event.Kind.TRAINING,
            calendar.london_start(today + timedelta(days=17), 10),
            3,
            place=place,
            description="Led by the service's therapeutic practitioner. Lunch provided.",
        )
        if len(satellites) > 1:
            family = satellites[1]
            child = calendar_access.children_of(family).first()
            event(
                f"Family time{f' for {child.known_as}' if child else ''}",
                Event.Kind.CONTACT,
                calendar.london_start(today + timedelta(days=5), 16),
                1,
                place=f"{hub.name} (the family room)",
                description="Supervised contact with birth family, hosted at the hub.",
                invitation=calendar.Invitation(everyone=False, households=(family,)),
            )

        # Answers: the get-together fills up, the meeting and the climbing wall too.
        answers = ["yes", "yes", "maybe", "no", "yes"]
        for household, said in zip(satellites, answers, strict=False):
            children = list(calendar_access.children_of(household))
            carer = household.carers.filter(ended_on__isnull=True).first().user
            for what, adults in ((social, 2), (meeting, 1), (climbing, 1)):
                if what is climbing and (said != "yes" or not children):
                    continue
                calendar.answer(
                    what,
                    _answerable(what),
                    by=carer,
                    answer=said,
                    adults=adults,
                    children=children if said == "yes" else [],
                    household=household,
                )
        calendar.answer(social, _answerable(social), by=None, answer="yes", adults=1, contact=jade)

        # Last month: a picnic with who came recorded, and a pottery afternoon not yet.
        picnic = event(
            "Picnic in the park",
            Event.Kind.SOCIAL,
            calendar.london_start(today - timedelta(days=12), 12),
            3,
            place="Castle Park, by the bandstand",
        )
        calendar.record_attendance(
            picnic,
            picnic.start,
            by=by,
            came=[
                calendar.Came(household=hub, adults=2),
                *[
                    calendar.Came(
                        household=household,
                        adults=1 + n % 2,
                        children=tuple(calendar_access.children_of(household)),
                    )
                    for n, household in enumerate(satellites[:4])
                ],
            ],
        )
        event(
            "Pottery afternoon",
            Event.Kind.ACTIVITY,
            calendar.london_start(today - timedelta(days=9), 14),
            2,
            place="Old Town Arts Centre",
        )


def _answerable(event) -> datetime:
    """The first date of ``event`` whose answers close more than an hour from now."""
    from calendar_events.recurrence import original_starts
    from calendar_events.services import closes_at

    now = timezone.now()
    return next(
        start
        for start in original_starts(event, now, now + timedelta(days=100))
        if closes_at(event, start) > now + timedelta(hours=1)
    )


def _next_date(rule: str, hour: int) -> datetime:
    """The next date (from now) a monthly rule gives at ``hour``:00 London time: the
    first date of a series the seed starts."""
    from dateutil.rrule import rrulestr

    from calendar_events.recurrence import placed, wall

    now = wall(timezone.now())
    month_start = datetime.combine(now.date().replace(day=1), time(hour))
    return placed(rrulestr(rule, dtstart=month_start).after(now))
