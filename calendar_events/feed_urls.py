"""URLs of the calendar's feed pages (included by calendar_events/urls.py)."""

urlpatterns: list = []
