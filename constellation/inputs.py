"""Form fields for numbers and chosen records typed on the pages, shared by every
app's forms: whole numbers in ASCII digits only (Django's own fields take "٣" or
"３" for 3, which a carer never meant), and record ids that must fit the database's
integers (a 23-digit id was a 500 on SQLite). Both refuse with the field's own
message, as a 400 on the page."""

from django import forms
from django.core.exceptions import ValidationError

ID_MAX = 2**63 - 1


def _plain_whole_number(value) -> bool:
    text = str(value).strip()
    if text.startswith(("-", "+")):
        text = text[1:]
    return text.isascii() and text.isdigit()


class WholeNumberField(forms.IntegerField):
    """An ``IntegerField`` that takes ASCII digits only (an optional sign, then 0-9)."""

    def to_python(self, value):
        if (
            value not in self.empty_values
            and not isinstance(value, int)
            and not _plain_whole_number(value)
        ):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


def _check_ids(field, values) -> None:
    if field.to_field_name:
        return  # chosen by another field (a code): the queryset's lookup decides
    for value in values:
        text = str(value).strip()
        if not (text.isascii() and text.isdigit()) or int(text) > ID_MAX:
            raise ValidationError(
                field.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )


class RecordChoiceField(forms.ModelChoiceField):
    """A ``ModelChoiceField`` whose submitted id must be a plain positive integer that
    fits the database; anything else is the field's "invalid choice" message."""

    def to_python(self, value):
        if value not in self.empty_values and not isinstance(value, self.queryset.model):
            _check_ids(self, [value])
        return super().to_python(value)


class RecordsChoiceField(forms.ModelMultipleChoiceField):
    """A ``ModelMultipleChoiceField`` whose submitted ids must each be a plain positive
    integer that fits the database."""

    def _check_values(self, value):
        try:
            values = frozenset(value)
        except TypeError:
            raise ValidationError(
                self.error_messages["invalid_list"], code="invalid_list"
            ) from None
        _check_ids(self, [v for v in values if not isinstance(v, self.queryset.model)])
        return super()._check_values(value)
