from django.urls import include, path

from . import views

app_name = "calendar_events"

urlpatterns = [
    path("", views.index, name="index"),
    path("", include("calendar_events.manage_urls")),
    path("", include("calendar_events.feed_urls")),
    path("", include("calendar_events.public_urls")),
]
