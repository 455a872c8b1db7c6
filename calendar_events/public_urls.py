"""URLs of the calendar's public pages (included by calendar_events/urls.py): no
login; the signed link is the proof."""

from django.urls import path

from . import public_views

urlpatterns = [
    path("invitation/<str:token>/", public_views.invitation, name="invitation"),
]
