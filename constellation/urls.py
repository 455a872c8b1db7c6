from django.urls import path

from . import contact_views, desk_views, membership_views, views

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
    # Regular contact: check-ins, follow-ups, coverage, concerns (contact_views)
    path(
        "households/<int:pk>/check-ins/new/",
        contact_views.check_in_create,
        name="check_in_create",
    ),
    path("check-ins/<int:pk>/", contact_views.check_in_detail, name="check_in"),
    path(
        "follow-ups/<int:pk>/resolve/",
        contact_views.follow_up_resolve,
        name="follow_up_resolve",
    ),
    path(
        "constellations/<int:pk>/coverage/",
        contact_views.coverage_page,
        name="coverage",
    ),
    path(
        "constellations/<int:pk>/contact-settings/",
        contact_views.contact_settings,
        name="contact_settings",
    ),
    path(
        "households/<int:pk>/concerns/new/",
        contact_views.concern_create,
        name="concern_create",
    ),
    path("concerns/", contact_views.concern_list, name="concerns"),
    path("concerns/<int:pk>/", contact_views.concern_detail, name="concern"),
    path("concerns/<int:pk>/close/", contact_views.concern_close, name="concern_close"),
    # The liaison worker's desk (desk_views)
    path("desk/", desk_views.desk, name="desk"),
    path("desk/activity/", desk_views.activity, name="activity"),
    # Memberships, planning meetings, supervision (membership_views)
    path(
        "constellations/<int:pk>/planning-meetings/",
        membership_views.planning_meetings,
        name="planning_meetings",
    ),
    path(
        "constellations/<int:pk>/planning-meetings/new/",
        membership_views.planning_meeting_create,
        name="planning_meeting_create",
    ),
    path(
        "constellations/<int:pk>/history/",
        membership_views.constellation_history,
        name="history",
    ),
    path(
        "constellations/<int:pk>/supervision/",
        membership_views.supervision_notes,
        name="supervision",
    ),
    path(
        "carers/<int:pk>/supervision/new/",
        membership_views.supervision_note_create,
        name="supervision_create",
    ),
]
