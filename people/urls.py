from django.urls import path

from . import audit_views, views

app_name = "people"

urlpatterns = [
    path("access-log/", views.access_log, name="access_log"),
    path("audit/", audit_views.audit_trail, name="audit"),
    path("audit/export.csv", audit_views.audit_trail_csv, name="audit_csv"),
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
]
