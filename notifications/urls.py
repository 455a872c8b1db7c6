from django.urls import include, path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.centre, name="centre"),
    path("<int:pk>/open/", views.open_notification, name="open"),
    path("read/", views.mark_all_read, name="read_all"),
    path("unread/", views.unread_badge, name="unread"),
    path("preferences/", views.preferences, name="preferences"),
    path("crisis/<int:pk>/seen/", views.crisis_seen, name="crisis_seen"),
    path("push/", include("notifications.push_urls")),
]
