"""What a person is in the product, worked out once per request.

The navigation and the home page read this; what a person may *see* is decided
by the ``visible_to`` querysets, never here."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Roles:
    is_admin: bool = False
    # Django's admin opens to any active user with ``is_staff``, superuser or not.
    has_admin_site: bool = False
    managed_service_ids: frozenset[int] = field(default_factory=frozenset)
    liaison_constellation_ids: frozenset[int] = field(default_factory=frozenset)
    hub_constellation_ids: frozenset[int] = field(default_factory=frozenset)
    satellite_constellation_ids: frozenset[int] = field(default_factory=frozenset)
    household_id: int | None = None
    is_social_worker: bool = False
    service_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_manager(self) -> bool:
        return bool(self.managed_service_ids)

    @property
    def is_liaison(self) -> bool:
        return bool(self.liaison_constellation_ids)

    @property
    def is_hub_carer(self) -> bool:
        return bool(self.hub_constellation_ids)

    @property
    def is_satellite_carer(self) -> bool:
        return bool(self.satellite_constellation_ids)

    @property
    def is_staff_worker(self) -> bool:
        """Liaison workers and fostering managers."""
        return self.is_manager or self.is_liaison

    @property
    def needs_second_factor(self) -> bool:
        """Liaison workers, fostering managers and administrators (superusers and
        anyone the administration site opens to): the people who must enrol a second
        factor when ``MFA_REQUIRED_FOR_STAFF`` is on, since each reads children's
        records across a constellation or a whole fostering service."""
        return self.is_staff_worker or self.is_admin or self.has_admin_site

    @property
    def can_manage(self) -> bool:
        return self.is_admin or self.is_manager or self.is_liaison

    @property
    def keys(self) -> list[str]:
        """The roles held, as short keys (the API's ``roles`` list)."""
        return [key for key, held in self._held().items() if held]

    def _held(self) -> dict[str, bool]:
        return {
            "manager": self.is_manager,
            "liaison": self.is_liaison,
            "hub": self.is_hub_carer,
            "satellite": self.is_satellite_carer,
            "social_worker": self.is_social_worker,
            "admin": self.is_admin,
        }

    @property
    def primary(self) -> str:
        """The role whose home page the person lands on (the first held, in this order)."""
        return next(iter(self.keys), "none")

    @property
    def labels(self) -> list[str]:
        return [ROLE_LABELS[key] for key in self.keys]


ROLE_LABELS = {
    "manager": "Fostering manager",
    "liaison": "Liaison worker",
    "hub": "Hub carer",
    "satellite": "Satellite carer",
    "social_worker": "Social worker",
    "admin": "Administrator",
}


def roles_for(user) -> Roles:
    if not getattr(user, "is_authenticated", False):
        return Roles()
    cached = getattr(user, "_mockingbird_roles", None)
    if cached is not None:
        return cached

    from constellation.models import Carer, Constellation
    from people.models import StaffRole

    staff = list(StaffRole.objects.active().filter(user=user).values_list("role", "service_id"))
    managed = frozenset(s for r, s in staff if r == StaffRole.Role.MANAGER)
    liaison = frozenset(
        Constellation.objects.filter(
            liaison_assignments__user=user, liaison_assignments__ended_on__isnull=True
        ).values_list("pk", flat=True)
    )
    carer = Carer.objects.current().filter(user=user).select_related("household").first()
    hub_ids: frozenset[int] = frozenset()
    satellite_ids: frozenset[int] = frozenset()
    household_id = None
    service_ids = {s for _, s in staff}
    if carer is not None:
        household_id = carer.household_id
        service_ids.add(carer.household.service_id)
        now_in = list(
            Constellation.objects.of_household_now(household_id).values_list("pk", "hub_id")
        )
        hub_ids = frozenset(pk for pk, hub_id in now_in if hub_id == household_id)
        satellite_ids = frozenset(pk for pk, hub_id in now_in if hub_id != household_id)
    roles = Roles(
        is_admin=user.is_superuser,
        has_admin_site=user.is_active and user.is_staff,
        managed_service_ids=managed,
        liaison_constellation_ids=liaison,
        hub_constellation_ids=hub_ids,
        satellite_constellation_ids=satellite_ids,
        household_id=household_id,
        is_social_worker=any(r == StaffRole.Role.SOCIAL_WORKER for r, _ in staff),
        service_ids=frozenset(service_ids),
    )
    user._mockingbird_roles = roles
    return roles


def forget_roles(user) -> None:
    if hasattr(user, "_mockingbird_roles"):
        del user._mockingbird_roles
