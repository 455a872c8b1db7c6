"""The audit page's filters. Bad input (an unknown action, a date that is not one, a
range that ends before it starts) is a 400 with the field's message."""

from django import forms
from django.core.exceptions import ValidationError

from constellation.clock import parse_day

from .models import AuditEntry
from .selectors import AuditFilters


def _day(form: forms.Form, field: str):
    text = (form.cleaned_data.get(field) or "").strip()
    if not text:
        return None
    try:
        return parse_day(text, field=field)
    except ValidationError as refused:
        raise forms.ValidationError(refused.message_dict[field]) from None


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        required=False,
        choices=[("", "Any action"), *AuditEntry.Action.choices],
        error_messages={
            "invalid_choice": "There is no action “%(value)s”; choose one from the list."
        },
    )
    actor = forms.CharField(required=False, max_length=100, label="Who (name or email)", strip=True)
    since = forms.CharField(
        required=False,
        max_length=10,
        label="From (date)",
        widget=forms.DateInput(attrs={"type": "date", "placeholder": "YYYY-MM-DD"}),
    )
    until = forms.CharField(
        required=False,
        max_length=10,
        label="To (date)",
        widget=forms.DateInput(attrs={"type": "date", "placeholder": "YYYY-MM-DD"}),
    )
    q = forms.CharField(required=False, max_length=100, label="About (record or detail)")

    def clean_since(self):
        return _day(self, "since")

    def clean_until(self):
        return _day(self, "until")

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", "The end date cannot be before the start date.")
        return data

    @property
    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            action=data.get("action") or "",
            actor=data.get("actor") or "",
            since=data.get("since"),
            until=data.get("until"),
            text=(data.get("q") or "").strip(),
        )
