"""Input of the liaison worker's desk: the constellation chosen on the desk, and the
activity feed's filters and page cursor.

Every choice offered is limited to what the user oversees (``feed_choices``); any
other value (another service's household, an unknown kind, a date that is not one,
a damaged page link) is the field's own message, shown with a 400, never a 500."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from django import forms
from django.core.exceptions import ValidationError

from .clock import parse_day
from .forms import DateInput
from .inputs import ID_MAX, RecordChoiceField
from .models import ActivityKind, Child, Constellation, Household
from .selectors import FeedFilters, desk_constellations

CONSTELLATION_MESSAGE = "Choose one of the constellations you oversee."
HOUSEHOLD_MESSAGE = "Choose a household of the constellations you oversee."
CHILD_MESSAGE = "Choose a child of the constellations you oversee."
KIND_MESSAGE = "Choose what kind of activity to show from the list."
DATES_MESSAGE = "The first day must not be after the last."
CURSOR_MESSAGE = (
    "This link to a page of the activity is damaged: start again from the newest activity."
)

# ``<UTC moment to the microsecond>Z_<id>``: the last row of the page before, in a form
# that needs no escaping in a query string (no "+").
CURSOR = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?)Z_(\d{1,19})", re.ASCII)


def cursor_text(cursor: tuple[datetime, int]) -> str:
    """The query-string form of a keyset cursor (moment, id): ``2026-12-01T09:30:00.123456Z_42``."""
    moment, pk = cursor
    return f"{moment.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%f}Z_{pk}"


def parse_cursor(text: str) -> tuple[datetime, int]:
    """The (aware UTC moment, id) of a cursor written by ``cursor_text``; anything else
    (another shape, a date that does not exist, a year outside 2000-2100, an id that
    does not fit the database) is a ``ValidationError`` with ``CURSOR_MESSAGE``."""
    match = CURSOR.fullmatch(text.strip())
    if match is None:
        raise ValidationError(CURSOR_MESSAGE, code="invalid")
    try:
        moment = datetime.fromisoformat(match[1]).replace(tzinfo=UTC)
    except ValueError:
        raise ValidationError(CURSOR_MESSAGE, code="invalid") from None
    pk = int(match[2])
    if not 2000 <= moment.year <= 2100 or not 0 < pk <= ID_MAX:
        raise ValidationError(CURSOR_MESSAGE, code="invalid")
    return moment, pk


@dataclass(frozen=True)
class FeedChoices:
    """What a user may filter the feed by: the querysets the form offers and checks."""

    constellations: object
    households: object
    children: object


def feed_choices(user) -> FeedChoices:
    """The constellations of the user's desk (``desk_constellations``), the households
    and children the user oversees (``Household/Child.objects.managed_by``: a liaison
    worker's constellations, past members included; a manager's whole service)."""
    return FeedChoices(
        constellations=desk_constellations(user).order_by("name"),
        households=Household.objects.managed_by(user).order_by("name", "pk"),
        children=Child.objects.managed_by(user)
        .select_related("household")
        .order_by("preferred_name", "first_name", "pk"),
    )


class ChildChoiceField(RecordChoiceField):
    """Children by the name they are known by (never a surname in a list), with their
    household to tell two of the same name apart."""

    def label_from_instance(self, obj):
        return f"{obj.known_as} ({obj.household.name})" if obj.household_id else obj.known_as


def _text_date(label: str) -> forms.CharField:
    # A CharField, parsed by the one date parser: it refuses other digits than 0-9 and
    # years outside 2000-2100, whose ends of day would overflow.
    return forms.CharField(label=label, required=False, max_length=20, widget=DateInput())


class _Styled(forms.Form):
    def _style(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            css = "form-select" if isinstance(widget, forms.Select) else "form-control"
            widget.attrs["class"] = css


class DeskForm(_Styled):
    """The desk's one filter: one of the user's constellations, or all of them."""

    constellation = RecordChoiceField(
        required=False, queryset=Constellation.objects.none(), empty_label="All your constellations"
    )

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        field = self.fields["constellation"]
        field.queryset = desk_constellations(user).order_by("name")
        field.error_messages["invalid_choice"] = CONSTELLATION_MESSAGE
        self._style()

    @property
    def constellation_id(self) -> int | None:
        chosen = self.cleaned_data.get("constellation")
        return chosen.pk if chosen else None


class FeedFilterForm(_Styled):
    """The activity feed's filters (each optional) and the page cursor ``after``."""

    constellation = RecordChoiceField(
        required=False, queryset=Constellation.objects.none(), empty_label="All your constellations"
    )
    household = RecordChoiceField(
        required=False, queryset=Household.objects.none(), empty_label="Every household"
    )
    child = ChildChoiceField(
        required=False, queryset=Child.objects.none(), empty_label="Every child"
    )
    kind = forms.ChoiceField(
        label="What", required=False, choices=[("", "Everything"), *ActivityKind.choices]
    )
    since = _text_date("From")
    until = _text_date("To")
    after = forms.CharField(required=False, max_length=60, widget=forms.HiddenInput())

    def __init__(self, data=None, *, user, **kwargs):
        super().__init__(data, **kwargs)
        choices = feed_choices(user)
        for name, queryset, message in (
            ("constellation", choices.constellations, CONSTELLATION_MESSAGE),
            ("household", choices.households, HOUSEHOLD_MESSAGE),
            ("child", choices.children, CHILD_MESSAGE),
        ):
            self.fields[name].queryset = queryset
            self.fields[name].error_messages["invalid_choice"] = message
        self.fields["kind"].error_messages["invalid_choice"] = KIND_MESSAGE
        self._style()

    def _day(self, name: str):
        value = self.cleaned_data[name]
        if not value:
            return None
        try:
            return parse_day(value, field=name)
        except ValidationError as error:
            raise ValidationError(error.message_dict[name]) from None

    def clean_since(self):
        return self._day("since")

    def clean_until(self):
        return self._day("until")

    def clean_after(self):
        value = self.cleaned_data["after"]
        return parse_cursor(value) if value else None

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", DATES_MESSAGE)
        return cleaned

    def filters(self) -> FeedFilters:
        """The cleaned filters for ``selectors.activity_feed`` (call after is_valid)."""
        data = self.cleaned_data
        return FeedFilters(
            constellation=getattr(data.get("constellation"), "pk", None),
            household=getattr(data.get("household"), "pk", None),
            child=getattr(data.get("child"), "pk", None),
            kind=data.get("kind") or None,
            since=data.get("since"),
            until=data.get("until"),
        )

    def chosen(self) -> list[str]:
        """What the feed is narrowed to, in words, for the page's heading."""
        data = self.cleaned_data
        words = [str(data[n]) for n in ("constellation", "household") if data.get(n)]
        if data.get("child"):
            words.append(data["child"].known_as)
        if data.get("kind"):
            words.append(ActivityKind(data["kind"]).label.lower())
        if data.get("since"):
            words.append(f"from {data['since']:%-d %b %Y}")
        if data.get("until"):
            words.append(f"to {data['until']:%-d %b %Y}")
        return words
