"""URLs of the pages where the calendar is kept (included by calendar_events/urls.py)."""

from django.urls import path

from . import manage_views as views

urlpatterns = [
    path("events/new/", views.event_new, name="event_new"),
    path("events/<int:pk>/edit/", views.event_edit, name="event_edit"),
    path("events/<int:pk>/cancel/", views.event_cancel, name="event_cancel"),
    path("events/<int:pk>/<str:key>/move/", views.occurrence_move, name="occurrence_move"),
    path("events/<int:pk>/<str:key>/cancel/", views.occurrence_cancel, name="occurrence_cancel"),
    path("events/<int:pk>/<str:key>/from-here/", views.occurrence_from, name="occurrence_from"),
    path("kept-connected/", views.kept_connected, name="kept_connected"),
    path("kept-connected/new/", views.kept_connected_new, name="kept_connected_new"),
    path(
        "kept-connected/<int:pk>/withdraw/",
        views.kept_connected_withdraw,
        name="kept_connected_withdraw",
    ),
]
