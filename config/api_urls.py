from django.urls import path

from people import api as people_api

app_name = "api"

urlpatterns = [
    path("me/", people_api.MeView.as_view(), name="me"),
]
