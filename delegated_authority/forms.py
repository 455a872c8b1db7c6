from datetime import date, timedelta

from crispy_forms.helper import FormHelper
from django import forms
from django.utils import timezone

from constellation.clock import EARLIEST_YEAR, LATEST_YEAR
from constellation.inputs import RecordChoiceField, WholeNumberField

from .models import Agreement, Decision, Holder

# The one window of years every date typed in the project keeps to.
EARLIEST = date(EARLIEST_YEAR, 1, 1)
LATEST = date(LATEST_YEAR, 12, 31)
NOT_COVERED = ""


class AgreementForm(forms.Form):
    """A new version of a child's agreement: the dates, who signed it off, and for
    every decision of the catalogue who holds it (or nobody: not covered)."""

    effective_from = forms.DateField(
        label="Takes effect on", widget=forms.DateInput(attrs={"type": "date"})
    )
    review_on = forms.DateField(label="Review by", widget=forms.DateInput(attrs={"type": "date"}))
    signed_off_role = forms.ChoiceField(
        label="Signed off by", choices=Agreement.SignedOffBy.choices
    )
    notes = forms.CharField(
        required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, decisions, previous=None, **kwargs):
        self.decisions = list(decisions)
        initial = kwargs.pop("initial", {}) or {}
        today = timezone.localdate()
        initial.setdefault("effective_from", today)
        initial.setdefault("review_on", today + timedelta(days=182))
        if previous is not None:
            for clause in previous.clauses.all():
                code = clause.decision.code
                initial[f"holder_{code}"] = clause.holder
                initial[f"conditions_{code}"] = clause.conditions
                initial[f"nights_{code}"] = clause.max_consecutive_nights
        super().__init__(*args, initial=initial, **kwargs)
        for decision in self.decisions:
            self.fields[f"holder_{decision.code}"] = forms.ChoiceField(
                label=decision.label,
                required=False,
                choices=[(NOT_COVERED, "Not covered: ask the social worker"), *Holder.choices],
            )
            self.fields[f"conditions_{decision.code}"] = forms.CharField(
                label="Conditions", required=False, max_length=500
            )
            if decision.counts_nights:
                self.fields[f"nights_{decision.code}"] = WholeNumberField(
                    label="Most consecutive nights", required=False, min_value=1, max_value=365
                )
        self.helper = FormHelper()
        self.helper.form_tag = False

    def rows(self):
        """One row per decision, for the template."""
        for decision in self.decisions:
            yield {
                "decision": decision,
                "holder": self[f"holder_{decision.code}"],
                "conditions": self[f"conditions_{decision.code}"],
                "nights": self[f"nights_{decision.code}"] if decision.counts_nights else None,
            }

    def clean_effective_from(self):
        value = self.cleaned_data["effective_from"]
        if not EARLIEST <= value <= LATEST:
            raise forms.ValidationError("Give a date between 2000 and 2100.")
        return value

    def clean_review_on(self):
        value = self.cleaned_data["review_on"]
        if not EARLIEST <= value <= LATEST:
            raise forms.ValidationError("Give a date between 2000 and 2100.")
        return value

    def clean(self):
        cleaned = super().clean()
        start, review = cleaned.get("effective_from"), cleaned.get("review_on")
        if start and review and review < start:
            self.add_error(
                "review_on", "The review date cannot be before the agreement takes effect."
            )
        known = {d.code for d in self.decisions}
        unknown = sorted(
            key.removeprefix("holder_")
            for key in self.data
            if key.startswith("holder_") and key.removeprefix("holder_") not in known
        )
        if unknown:
            raise forms.ValidationError(f"Unknown decision code: {', '.join(unknown)[:200]}.")
        covered = 0
        for decision in self.decisions:
            holder = cleaned.get(f"holder_{decision.code}")
            if not holder:
                if cleaned.get(f"nights_{decision.code}") is not None:
                    self.add_error(
                        f"nights_{decision.code}", "Choose who holds this decision first."
                    )
                continue
            covered += 1
            if not decision.allows_holder(holder):
                allowed = ", ".join(Holder(h).label.lower() for h in decision.allowed_holders)
                self.add_error(
                    f"holder_{decision.code}",
                    f"{Holder(holder).label} cannot hold this decision (only {allowed}).",
                )
        if not covered and not self.errors:
            raise forms.ValidationError("Say who holds at least one decision.")
        return cleaned

    def clause_inputs(self):
        from .services import ClauseInput

        items = []
        for decision in self.decisions:
            holder = self.cleaned_data.get(f"holder_{decision.code}")
            if holder:
                items.append(
                    ClauseInput(
                        decision=decision,
                        holder=holder,
                        conditions=self.cleaned_data.get(f"conditions_{decision.code}", ""),
                        max_consecutive_nights=self.cleaned_data.get(f"nights_{decision.code}"),
                    )
                )
        return items


class AskApprovalForm(forms.Form):
    decision = RecordChoiceField(
        queryset=Decision.objects.filter(active=True),
        to_field_name="code",
        error_messages={"invalid_choice": "Unknown decision."},
    )
    details = forms.CharField(
        label="What is asked", max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    nights = WholeNumberField(required=False, min_value=1, max_value=365)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


class AnswerForm(forms.Form):
    note = forms.CharField(
        label="Note for the carer",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RefuseForm(forms.Form):
    note = forms.CharField(
        label="Why it is refused", max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
