from datetime import date

from django.urls import include, path, register_converter

from . import views

app_name = "calendar_events"


class DayConverter:
    """A London day in a URL, ``2027-01-05``; an impossible date is no match (404)."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> date:
        return date.fromisoformat(value)

    def to_url(self, value: date) -> str:
        return value.isoformat()


class KeyConverter:
    """A date's key (``recurrence.key_of``), ``20270105T190000Z``: only that shape, so
    that other pages under ``events/<pk>/`` are never taken for a date."""

    regex = r"\d{8}T\d{6}Z"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(DayConverter, "calendar_day")
register_converter(KeyConverter, "calendar_key")

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:year>/<int:month>/", views.month, name="month"),
    path("<int:year>/<int:month>/print/", views.month_print, name="print"),
    path("<int:year>/<int:month>/print.pdf", views.month_pdf, name="print_pdf"),
    path("week/<calendar_day:day>/", views.week, name="week"),
    path("day/<calendar_day:day>/", views.day, name="day"),
    path("events/<int:pk>/", views.event, name="event"),
    path("events/<int:pk>/<calendar_key:key>/", views.date_detail, name="date"),
    path("events/<int:pk>/<calendar_key:key>/answer/", views.answer, name="answer"),
    path("events/<int:pk>/<calendar_key:key>/attendance/", views.attendance, name="attendance"),
    path("", include("calendar_events.manage_urls")),
    path("", include("calendar_events.feed_urls")),
    path("", include("calendar_events.public_urls")),
]
