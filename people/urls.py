from django.urls import path

from . import views

app_name = "people"

urlpatterns = [
    path("access-log/", views.access_log, name="access_log"),
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
]
