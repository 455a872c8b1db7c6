from django.urls import path

from . import views

app_name = "constellation"

urlpatterns = [
    path("constellations/", views.constellation_list, name="list"),
    path("constellations/<int:pk>/", views.constellation_detail, name="detail"),
    path(
        "constellations/<int:pk>/households/new/",
        views.household_create,
        name="household_create",
    ),
    path(
        "constellations/<int:pk>/memberships/new/",
        views.membership_propose,
        name="membership_propose",
    ),
    path("households/<int:pk>/", views.household_detail, name="household"),
    path("households/<int:pk>/edit/", views.household_edit, name="household_edit"),
    path("households/<int:pk>/carers/new/", views.carer_add, name="carer_add"),
    path("households/<int:pk>/children/new/", views.child_create, name="child_create"),
    path("carers/<int:pk>/end/", views.carer_end, name="carer_end"),
    path("carers/<int:pk>/invite/", views.carer_invite, name="carer_invite"),
    path("memberships/<int:pk>/activate/", views.membership_activate, name="membership_activate"),
    path("memberships/<int:pk>/withdraw/", views.membership_withdraw, name="membership_withdraw"),
    path("memberships/<int:pk>/leave/", views.membership_leave, name="membership_leave"),
    path("children/<int:pk>/", views.child_detail, name="child"),
    path("children/<int:pk>/edit/", views.child_edit, name="child_edit"),
    path("children/<int:pk>/move/", views.child_move, name="child_move"),
    path("children/<int:pk>/history/", views.child_history, name="child_history"),
]
