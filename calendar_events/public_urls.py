"""URLs of the calendar's public pages (included by calendar_events/urls.py)."""

urlpatterns: list = []
