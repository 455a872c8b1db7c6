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
    path(
        "beds/away/<int:pk>/withdraw/",
        views.withdraw_unavailability,
        name="withdraw_unavailability",
    ),
    path("beds/changes/<int:pk>/withdraw/", views.withdraw_bed_change, name="withdraw_bed_change"),
    path("constellation/<int:pk>/", views.constellation_settings, name="constellation"),
    path("constellation/<int:pk>/limits/", views.update_limits, name="update_limits"),
    path("constellation/<int:pk>/exceptions/", views.grant_override, name="grant_override"),
    path("constellation/<int:pk>/cover/", views.arrange_cover, name="arrange_cover"),
    path("exceptions/<int:pk>/withdraw/", views.withdraw_override, name="withdraw_override"),
    path("cover/<int:pk>/end/", views.end_cover, name="end_cover"),
    path("temporary/", views.temporary, name="temporary"),
    path("hub/<int:pk>/inbox/live/", views.inbox_live, name="inbox_live"),
    path("hub/<int:pk>/home/live/", views.home_live, name="home_live"),
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
    path("<int:pk>/end-placement/", views.end_placement, name="end_placement"),
]
