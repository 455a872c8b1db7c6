"""How a measure's value reads on a page: whole numbers with separators, decimals to
one place, shares as percentages, and None as "not recorded" (issue 12)."""

from datetime import date

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma

register = template.Library()


@register.filter
def measure(value, kind: str) -> str:
    if value is None:
        return "not recorded"
    if kind == "percent":
        return f"{value * 100:.1f}%"
    if kind == "float":
        return f"{value:,.1f}"
    if kind == "int":
        return intcomma(value)
    if kind == "date" and isinstance(value, date):
        return f"{value:%-d %b %Y}"
    return str(value)


@register.filter
def change(value, kind: str) -> str:
    """A change from the previous period, signed ("+3", "−2.5 points")."""
    if value is None:
        return ""
    if kind == "percent":
        text = f"{abs(value) * 100:.1f} points"
    elif kind == "float":
        text = f"{abs(value):,.1f}"
    else:
        text = intcomma(abs(value))
    if value > 0:
        return f"+{text}"
    if value < 0:
        return f"\u2212{text}"
    return "no change"
