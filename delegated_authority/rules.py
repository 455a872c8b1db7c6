"""The rules engine: the only place that answers "may this person decide this for
this child, now?". The child page panel, the agreement editor's preview, the
approvals queue, the API and the sleepover acceptance all ask here.

It fails closed: no agreement, an agreement past its review date, a child no
longer placed in the constellation, a decision the agreement does not cover, or
a condition exceeded, each answers no, with the reason in plain words."""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from django.utils import timezone

from constellation.models import (
    Carer,
    Child,
    Constellation,
    HubCover,
    LiaisonAssignment,
)

from .models import Agreement, Clause, Decision, Holder

FOSTER_CARER = "foster_carer"
HUB_CARER = "hub_carer"


@dataclass(frozen=True)
class Answer:
    allowed: bool
    reason: str
    decision: Decision | None = None
    holder: str = ""
    clause: Clause | None = None
    agreement: Agreement | None = None
    ask: str = ""  # whom to ask, in words
    ask_user_id: int | None = None  # the account an approval goes to
    overdue: bool = False
    relation: str | None = None  # the asker's part: foster carer, hub carer, or none

    @property
    def holder_label(self) -> str:
        return Holder(self.holder).label if self.holder else ""


def _day(at: datetime | date | None) -> date:
    if at is None:
        return timezone.localdate()
    if isinstance(at, datetime):
        return timezone.localdate(at)
    return at


def constellation_of(child: Child) -> Constellation | None:
    """The constellation the child is placed in now, or None."""
    if child.status != Child.Status.PLACED or child.household_id is None:
        return None
    return Constellation.objects.of_household_now(child.household_id).first()


def relation_to(
    user, child: Child, constellation: Constellation, *, day: date | None = None
) -> str | None:
    """The user's part in caring for the child: the foster carer, a hub carer (also a
    carer of the household standing in for the hub on the day), or none."""
    households = set(
        Carer.objects.current().filter(user=user).values_list("household_id", flat=True)
    )
    if child.household_id in households:
        return FOSTER_CARER
    if constellation.hub_id in households:
        return HUB_CARER
    if (
        households
        and HubCover.objects.on(day or timezone.localdate())
        .filter(constellation=constellation, stand_in__in=households)
        .exists()
    ):
        return HUB_CARER
    return None


def liaison_of(constellation: Constellation | None) -> int | None:
    if constellation is None:
        return None
    return (
        LiaisonAssignment.objects.current()
        .filter(constellation=constellation)
        .order_by("started_on", "pk")
        .values_list("user_id", flat=True)
        .first()
    )


ASK_WORDS = {
    Holder.SOCIAL_WORKER: "the child's social worker",
    Holder.BIRTH_PARENTS: "the birth parent(s), through the child's social worker",
    Holder.LIAISON_WORKER: "the liaison worker",
    Holder.SATELLITE_CARER: "the child's foster carers",
    Holder.HUB_CARER: "the hub carers",
    Holder.BOTH: "the child's foster carers",
}


def whom_to_ask(holder: str, ctx: "Context") -> tuple[str, int | None]:
    """Whom an approval goes to: the social worker's account if there is one, else a
    liaison worker of the constellation (the liaison worker first for their own decisions)."""
    social_id = ctx.child.social_worker_id
    words = ASK_WORDS.get(holder, ASK_WORDS[Holder.SOCIAL_WORKER])
    if holder == Holder.LIAISON_WORKER:
        return words, ctx.liaison_id or social_id
    return words, social_id or ctx.liaison_id


@dataclass(frozen=True)
class Context:
    """What the answer depends on, read once (so a panel of every decision costs a
    fixed handful of queries)."""

    child: Child
    day: date
    constellation: Constellation | None
    relation: str | None
    agreement: Agreement | None
    clauses: dict[int, Clause]
    liaison_id: int | None


def context_for(user, child: Child, *, at: datetime | date | None = None) -> Context:
    constellation = constellation_of(child)
    relation = relation_to(user, child, constellation, day=_day(at)) if constellation else None
    return context_for_relation(child, relation, at=at, constellation=constellation)


def may_decide(
    user,
    child: Child,
    decision: Decision | str,
    *,
    at: datetime | date | None = None,
    nights: int | None = None,
) -> Answer:
    if isinstance(decision, str):
        found = Decision.objects.filter(code=decision, active=True).first()
        if found is None:
            return Answer(False, f"There is no decision called “{decision}”.")
        decision = found
    return answer(context_for(user, child, at=at), decision, nights=nights)


def may_decide_for_nights(
    user, child: Child, decision: Decision, nights: list[date]
) -> tuple[Answer, date | None]:
    """May ``user`` decide ``decision`` for a stay of these ``nights`` (consecutive
    dates), every night checked against what is in force that night: the agreement's
    version, its review date, a cover making the user a hub carer. Returns the first
    night's answer when every night is allowed, else the first refusal and its night.

    Asks only on the nights where something can change (the first night, a new
    version's first day, the day after a review date, a cover's first and last
    day), so a long stay costs a handful of queries, not one set per night.
    Rule: DOMAIN.md, "a decision is never taken that the child's delegated
    authority does not allow"."""
    if not nights:
        return may_decide(user, child, decision), None
    first, last = nights[0], nights[-1]
    points = {first}
    versions = Agreement.objects.filter(child=child, effective_from__lte=last)
    for effective, review in versions.values_list("effective_from", "review_on"):
        points.add(effective)
        points.add(review + timedelta(days=1))
    for start, end in HubCover.objects.overlapping(first, last).values_list("start", "end"):
        points.update({start, end, end + timedelta(days=1)})
    stay = set(nights)
    checked = sorted(p for p in points if p in stay)
    first_answer = None
    for day in checked:
        verdict = may_decide(user, child, decision, at=day, nights=len(nights))
        first_answer = first_answer or verdict
        if not verdict.allowed:
            return verdict, day
    return first_answer, None


def answer(ctx: Context, decision: Decision, *, nights: int | None = None) -> Answer:
    return replace(_answer(ctx, decision, nights=nights), relation=ctx.relation)


def _answer(ctx: Context, decision: Decision, *, nights: int | None = None) -> Answer:
    child, constellation, agreement = ctx.child, ctx.constellation, ctx.agreement
    if constellation is None:
        return Answer(
            False,
            f"{child.known_as} is not placed in a constellation now, so nobody here may decide.",
            decision=decision,
        )
    if agreement is None:
        ask, ask_id = whom_to_ask(Holder.SOCIAL_WORKER, ctx)
        return Answer(
            False,
            f"{child.known_as} has no delegated authority agreement in force: ask {ask}.",
            decision=decision,
            holder=Holder.SOCIAL_WORKER,
            ask=ask,
            ask_user_id=ask_id,
        )
    overdue = agreement.review_on < ctx.day
    clause = ctx.clauses.get(decision.pk)
    if clause is None:
        ask, ask_id = whom_to_ask(Holder.SOCIAL_WORKER, ctx)
        return Answer(
            False,
            f"The agreement does not cover “{decision.label}”: ask {ask}.",
            decision=decision,
            holder=Holder.SOCIAL_WORKER,
            agreement=agreement,
            ask=ask,
            ask_user_id=ask_id,
            overdue=overdue,
        )
    ask, ask_id = whom_to_ask(clause.holder, ctx)
    common = {
        "decision": decision,
        "holder": clause.holder,
        "clause": clause,
        "agreement": agreement,
        "ask": ask,
        "ask_user_id": ask_id,
        "overdue": overdue,
    }
    if overdue:
        return Answer(
            False,
            f"The agreement was due for review on {agreement.review_on:%d %B %Y} and has not "
            f"been reviewed: ask {ask}.",
            **common,
        )
    if ctx.relation is None:
        return Answer(
            False,
            f"Only {child.known_as}'s carers in the constellation take day-to-day decisions; "
            f"this one is held by {Holder(clause.holder).label.lower()}.",
            **common,
        )
    holds = clause.holder == Holder.BOTH or (
        (ctx.relation == FOSTER_CARER and clause.holder == Holder.SATELLITE_CARER)
        or (ctx.relation == HUB_CARER and clause.holder == Holder.HUB_CARER)
    )
    if not holds:
        return Answer(
            False,
            f"“{decision.label}” is held by {Holder(clause.holder).label.lower()}: ask {ask}.",
            **common,
        )
    limit = clause.max_consecutive_nights
    if limit is not None and nights is not None and nights > limit:
        return Answer(
            False,
            f"The agreement allows at most {limit} consecutive night{'s' if limit != 1 else ''}; "
            f"this is {nights}: ask {ask}.",
            **common,
        )
    conditions = f" Conditions: {clause.conditions}" if clause.conditions else ""
    return Answer(
        True,
        f"Yes: the agreement lets {Holder(clause.holder).label.lower()} decide.{conditions}",
        **common,
    )


def panel_for(user, child: Child, *, at: datetime | date | None = None) -> list[Answer]:
    """Every active decision of the catalogue, answered for this user: the "What may
    I decide?" panel reads this."""
    ctx = context_for(user, child, at=at)
    return [answer(ctx, d) for d in Decision.objects.filter(active=True)]


def context_for_relation(
    child: Child,
    relation: str | None,
    *,
    at: datetime | date | None = None,
    constellation: Constellation | None | bool = False,
) -> Context:
    """The context as the child's foster carer or a hub carer would see it: the
    agreement editor previews its answers with this, through the same ``answer``."""
    day = _day(at)
    if constellation is False:  # not looked up by the caller
        constellation = constellation_of(child)
    agreement = None
    clauses: dict[int, Clause] = {}
    if constellation is not None:
        agreement = (
            Agreement.objects.filter(child=child, effective_from__lte=day)
            .order_by("-effective_from", "-version")
            .first()
        )
        if agreement is not None:
            clauses = {c.decision_id: c for c in agreement.clauses.all()}
    return Context(
        child,
        day,
        constellation,
        relation if constellation else None,
        agreement,
        clauses,
        liaison_of(constellation),
    )
