"""The account-free answer page of someone kept connected (issue 10, part 5).

Not behind a login: the signed link of the invitation email is the proof
(``tokens.invitation_of``). The page shows only that date's title, time and place
and the person's own answer, nothing else of the constellation (no households, no
children, no other answers). A link that does not verify is a 404; one whose
invitation is over is a plain 410 "this invitation has ended"."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from constellation.inputs import WholeNumberField
from constellation.services import ActionRefused

from . import services, tokens
from .models import Answer

MAX_PEOPLE = services.MAX_ADULTS


class AnswerForm(forms.Form):
    """Yes, no or maybe, and how many people are coming (0 to 20; at least 1 on a yes)."""

    answer = forms.ChoiceField(
        choices=Answer.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Say whether you are coming: yes, no or maybe.",
            "invalid_choice": "Say whether you are coming: yes, no or maybe.",
        },
    )
    people = WholeNumberField(
        min_value=0,
        max_value=MAX_PEOPLE,
        required=False,
        label="How many people, you included",
        error_messages={
            "invalid": f"Give how many people are coming as a number from 0 to {MAX_PEOPLE}.",
            "min_value": f"Give how many people are coming, from 0 to {MAX_PEOPLE}.",
            "max_value": f"At most {MAX_PEOPLE} people: call the hub carer for a bigger group.",
        },
    )

    def clean(self):
        data = super().clean()
        if data.get("answer") == Answer.YES and not data.get("people"):
            self.add_error("people", "Say how many people are coming: at least one.")
        return data


def _ended(request):
    return render(request, "calendar_events/public_ended.html", status=410)


def _page(request, invited, form, *, status=200, refused=""):
    response = render(
        request,
        "calendar_events/public_invitation.html",
        {"invited": invited, "slot": invited.slot, "form": form, "refused": refused},
        status=status,
    )
    # The address holds the person's key: keep it out of search engines and caches.
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request, token):
    """GET: the date and the person's answer. POST: save the answer
    (``services.answer`` as the person kept connected; people are counted as
    adults), then back to the page. Bad input is a 400 naming the field; a refusal
    (answers closed, the date full in all) a 409 with its reason."""
    try:
        invited = tokens.invitation_of(token)
    except tokens.InvitationEnded:
        return _ended(request)
    if request.method != "POST":
        rsvp = invited.rsvp
        initial = {"answer": rsvp.answer, "people": rsvp.people} if rsvp else {"people": 1}
        return _page(request, invited, AnswerForm(initial=initial))
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _page(request, invited, form, status=400)
    try:
        services.answer(
            invited.event,
            invited.slot.original_start,
            by=None,
            answer=form.cleaned_data["answer"],
            adults=form.cleaned_data.get("people") or 0,
            contact=invited.contact,
        )
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            target = "people" if field in ("adults", "children") else field
            form.add_error(target if target in form.fields else None, problems)
        return _page(request, invited, form, status=400)
    except ActionRefused as refused:
        return _page(request, invited, form, status=409, refused=str(refused))
    messages.success(request, "Thank you: your answer is saved.")
    return redirect(request.path)
