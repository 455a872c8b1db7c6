"""The rules engine: table-driven over every holder kind and every relation to the
child, and property-based over agreement versions and dates."""

from datetime import date, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from constellation import services as people_services
from constellation.services import ActionRefused
from delegated_authority import services
from delegated_authority.models import Decision, Holder
from delegated_authority.rules import may_decide, panel_for
from delegated_authority.services import ClauseInput

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 23)


def sign(
    world,
    holder,
    *,
    effective=TODAY - timedelta(days=10),
    review=TODAY + timedelta(days=90),
    code="haircuts",
    nights=None,
    by=None,
):
    decision = Decision.objects.get(code=code)
    return services.create_agreement(
        world.child,
        by=by or world.liaison,
        effective_from=effective,
        review_on=review,
        signed_off_role="liaison_worker",
        clauses=[ClauseInput(decision, holder, max_consecutive_nights=nights)],
    )


FOSTER = {Holder.SATELLITE_CARER, Holder.BOTH}
HUB = {Holder.HUB_CARER, Holder.BOTH}
RELATIONS = {
    "satellite_carer": FOSTER,  # the child's own foster carer
    "hub_carer": HUB,
    "second_hub_carer": HUB,
    "neighbour_carer": set(),  # another satellite of the same constellation
    "liaison": set(),
    "manager": set(),
    "social_worker": set(),
    "other_hub_carer": set(),  # another constellation
    "other_service_hub_carer": set(),  # another service
}


@pytest.mark.parametrize("holder", list(Holder))
@pytest.mark.parametrize("who", list(RELATIONS))
def test_every_holder_for_every_relation(world, holder, who):
    sign(world, holder)
    answer = may_decide(getattr(world, who), world.child, "haircuts", at=TODAY)
    assert answer.allowed is (holder in RELATIONS[who])
    assert answer.holder == holder
    assert answer.reason
    if not answer.allowed:
        assert answer.ask


def test_no_agreement_answers_no_and_names_whom_to_ask(world):
    answer = may_decide(world.satellite_carer, world.child, "haircuts", at=TODAY)
    assert not answer.allowed
    assert "no delegated authority agreement" in answer.reason
    # The child has a social worker account: the approval goes there.
    assert answer.ask_user_id == world.social_worker.pk


def test_without_a_social_worker_account_the_liaison_worker_is_asked(world):
    answer = may_decide(world.neighbour_carer, world.neighbour_child, "haircuts", at=TODAY)
    assert answer.ask_user_id == world.liaison.pk


def test_overdue_agreement_answers_no_in_red(world):
    sign(
        world, Holder.BOTH, effective=TODAY - timedelta(days=400), review=TODAY - timedelta(days=1)
    )
    answer = may_decide(world.satellite_carer, world.child, "haircuts", at=TODAY)
    assert not answer.allowed
    assert answer.overdue
    assert "due for review" in answer.reason


def test_a_decision_not_covered_answers_no(world):
    sign(world, Holder.BOTH, code="haircuts")
    answer = may_decide(world.satellite_carer, world.child, "school_trips", at=TODAY)
    assert not answer.allowed
    assert "does not cover" in answer.reason


def test_more_nights_than_allowed_answers_no(world):
    sign(world, Holder.BOTH, code="overnight_hub_planned", nights=2)
    ok = may_decide(world.hub_carer, world.child, "overnight_hub_planned", at=TODAY, nights=2)
    too_many = may_decide(world.hub_carer, world.child, "overnight_hub_planned", at=TODAY, nights=3)
    assert ok.allowed
    assert not too_many.allowed
    assert "at most 2 consecutive nights" in too_many.reason


def test_a_child_who_moved_on_cannot_be_decided_for(world):
    sign(world, Holder.BOTH)
    people_services.move_child(world.child, to=None, by=world.liaison, reason="Adopted")
    world.child.refresh_from_db()
    answer = may_decide(world.satellite_carer, world.child, "haircuts", at=TODAY)
    assert not answer.allowed
    assert "not placed in a constellation" in answer.reason


def test_a_household_that_left_the_constellation_cannot_decide(world):
    sign(world, Holder.BOTH)
    people_services.end_membership(
        world.satellite.memberships.get(), by=world.liaison, reason="Left"
    )
    answer = may_decide(world.satellite_carer, world.child, "haircuts", at=TODAY)
    assert not answer.allowed


def test_unknown_decision_code_answers_no(world):
    answer = may_decide(world.satellite_carer, world.child, "bungee", at=TODAY)
    assert not answer.allowed
    assert "no decision called" in answer.reason


def test_the_panel_answers_every_decision_in_a_fixed_number_of_queries(
    world, django_assert_max_num_queries
):
    sign(world, Holder.BOTH)
    with django_assert_max_num_queries(8):
        answers = panel_for(world.hub_carer, world.child, at=TODAY)
    assert len(answers) == Decision.objects.filter(active=True).count()
    assert [a.allowed for a in answers].count(True) == 1


# --- properties ------------------------------------------------------------------------

version = st.tuples(
    st.integers(min_value=-200, max_value=60),  # effective from, days from TODAY
    st.integers(min_value=0, max_value=400),  # review after, days
    st.sampled_from(list(Holder)),
)


class _Rollback(Exception):
    pass


def _in_a_rolled_back_transaction(fn):
    try:
        with transaction.atomic():
            fn()
            raise _Rollback
    except _Rollback:
        pass


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(versions=st.lists(version, min_size=1, max_size=4), on=st.integers(-220, 120))
def test_the_newest_version_in_force_wins_and_expired_ones_never_authorise(world, versions, on):
    day = TODAY + timedelta(days=on)

    def run():
        signed = []
        floor = None
        for offset, review_after, holder in versions:
            effective = TODAY + timedelta(days=offset)
            if floor is not None and effective < floor:
                effective = floor  # versions take effect in order
            floor = effective
            signed.append((effective, effective + timedelta(days=review_after), holder))
            sign(
                world, holder, effective=effective, review=effective + timedelta(days=review_after)
            )
        in_force = [v for v in signed if v[0] <= day]
        answer = may_decide(world.satellite_carer, world.child, "haircuts", at=day)
        if not in_force:
            assert not answer.allowed
            return
        effective, review, holder = in_force[-1]  # the newest version in force
        if review < day:
            assert not answer.allowed  # past its review date
        else:
            assert answer.allowed is (holder in FOSTER)
            assert answer.holder == holder

    _in_a_rolled_back_transaction(run)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    holder=st.sampled_from(list(Holder)),
    who=st.sampled_from(
        [
            "neighbour_carer",
            "other_hub_carer",
            "other_satellite_carer",
            "other_service_hub_carer",
            "liaison",
            "manager",
        ]
    ),
    nights=st.one_of(st.none(), st.integers(0, 30)),
)
def test_nobody_outside_the_childs_carers_is_ever_authorised(world, holder, who, nights):
    def run():
        sign(world, holder, code="overnight_hub_planned")
        answer = may_decide(
            getattr(world, who), world.child, "overnight_hub_planned", at=TODAY, nights=nights
        )
        assert not answer.allowed

    _in_a_rolled_back_transaction(run)


# --- agreements ----------------------------------------------------------------------


def test_versions_are_numbered_and_kept(world):
    first = sign(world, Holder.SOCIAL_WORKER, effective=TODAY - timedelta(days=100))
    second = sign(world, Holder.BOTH, effective=TODAY - timedelta(days=5))
    assert (first.version, second.version) == (1, 2)
    assert world.child.agreements.count() == 2
    assert may_decide(world.satellite_carer, world.child, "haircuts", at=TODAY).agreement == second
    before = TODAY - timedelta(days=20)
    assert may_decide(world.satellite_carer, world.child, "haircuts", at=before).agreement == first


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"effective": TODAY, "review": TODAY - timedelta(days=1)}, "review date cannot be before"),
        ({"code": "piercings_tattoos", "holder": Holder.BOTH}, "cannot hold"),
        ({"code": "haircuts", "nights": 2}, "no nights to limit"),
    ],
)
def test_bad_agreements_are_refused_with_a_reason(world, kwargs, message):
    holder = kwargs.pop("holder", Holder.BOTH)
    with pytest.raises(ActionRefused, match=message):
        sign(world, holder, **kwargs)
    assert not world.child.agreements.exists()


def test_a_version_cannot_take_effect_before_the_previous_one(world):
    sign(world, Holder.BOTH, effective=TODAY)
    with pytest.raises(ActionRefused, match="before version 1"):
        sign(world, Holder.BOTH, effective=TODAY - timedelta(days=1))
