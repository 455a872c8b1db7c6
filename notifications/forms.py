from django import forms

from .models import Kind
from .preferences import CHOOSABLE, DEFAULTS, Channel, Choices

CHANNEL_LABELS = {
    Channel.PUSH: "Push",
    Channel.SMS: "Text",
    Channel.EMAIL: "Email",
}


class PreferencesForm(forms.Form):
    """Channels per kind (a checkbox per channel), quiet hours and the phone number
    for text messages. The in-app notification is always kept."""

    phone = forms.CharField(
        label="Phone number for text messages",
        required=False,
        max_length=30,
        help_text="Leave empty for no text messages.",
    )
    quiet_from = forms.TimeField(
        label="Quiet from",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time", "class": "form-control"}, format="%H:%M"),
    )
    quiet_until = forms.TimeField(
        label="Quiet until",
        required=False,
        widget=forms.TimeInput(attrs={"type": "time", "class": "form-control"}, format="%H:%M"),
        help_text="Crisis alerts and escalations still come during quiet hours.",
    )

    def __init__(self, *args, choices: Choices | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in DEFAULTS:
            self.fields[f"kind_{kind}"] = forms.MultipleChoiceField(
                label=Kind(kind).label,
                required=False,
                choices=[(c, CHANNEL_LABELS[c]) for c in CHOOSABLE],
                widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
                initial=list(choices.channels.get(kind, ())) if choices else list(DEFAULTS[kind]),
            )

    def kind_fields(self):
        return [self[f"kind_{kind}"] for kind in DEFAULTS]

    def channels(self) -> dict[str, list[str]]:
        return {kind: list(self.cleaned_data.get(f"kind_{kind}") or []) for kind in DEFAULTS}
