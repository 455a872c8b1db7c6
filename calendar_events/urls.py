from django.urls import path

from . import views

app_name = "calendar_events"

urlpatterns = [
    path("", views.index, name="index"),
]
