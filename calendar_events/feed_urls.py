"""URLs of the calendar's feed pages (included by calendar_events/urls.py)."""

from django.urls import path

from . import feed_views

urlpatterns: list = [
    path("events/<int:pk>/event.ics", feed_views.event_ics, name="event_ics"),
    path("feed/<str:token>.ics", feed_views.feed, name="feed"),
    path("subscribe/", feed_views.subscribe, name="subscribe"),
    path("subscribe/renew/", feed_views.subscribe_renew, name="subscribe_renew"),
    path("subscribe/revoke/", feed_views.subscribe_revoke, name="subscribe_revoke"),
]
