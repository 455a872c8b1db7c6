from django.urls import path

from . import views

app_name = "sleepovers"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.new, name="new"),
    path("crisis/", views.crisis, name="crisis"),
    path("nights/", views.nights, name="nights"),
    path("availability/", views.availability, name="availability"),
    path("beds/", views.beds, name="beds"),
    path("beds/<int:pk>/change/", views.change_beds, name="change_beds"),
    path("beds/<int:pk>/unavailable/", views.add_unavailability, name="add_unavailability"),
    path("<int:pk>/", views.request_detail, name="request"),
    path("<int:pk>/status/", views.request_status, name="status"),
    path("<int:pk>/accept/", views.accept, name="accept"),
    path("<int:pk>/decline/", views.decline, name="decline"),
    path("<int:pk>/offer/", views.offer, name="offer"),
    path("<int:pk>/take-offer/", views.take_offer, name="take_offer"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("<int:pk>/arrived/", views.arrived, name="arrived"),
    path("<int:pk>/collected/", views.collected, name="collected"),
    path("<int:pk>/did-not-arrive/", views.did_not_arrive, name="did_not_arrive"),
]
