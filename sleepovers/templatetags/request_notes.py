"""How a page says that free text about a request was withheld from the viewer
(``sleepovers.access.may_read_request_notes`` decides when)."""

from django import template
from django.utils.html import format_html

from sleepovers.access import NOTE_WITHHELD

register = template.Library()


@register.simple_tag
def note_withheld():
    """The withheld line, in the words ``access.NOTE_WITHHELD`` gives every page."""
    return format_html(
        '<span class="note-withheld fst-italic" data-testid="note-withheld">{}</span>',
        NOTE_WITHHELD,
    )
