"""URLs of the calendar's manage pages (included by calendar_events/urls.py)."""

urlpatterns: list = []
