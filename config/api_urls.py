from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from calendar_events import api as calendar_api
from constellation import api as constellation_api
from constellation import contact_api
from delegated_authority import api as delegated_authority_api
from notifications import api as notifications_api
from people import api as people_api
from sleepovers import api as sleepovers_api

app_name = "api"

# Path converters (<int:pk>) so that the schema says the ids are integers.
router = SimpleRouter(use_regex_path=False)
router.register("constellations", constellation_api.ConstellationViewSet, basename="constellation")
router.register("households", constellation_api.HouseholdViewSet, basename="household")
router.register("children", constellation_api.ChildViewSet, basename="child")
router.register("sleepovers", sleepovers_api.SleepoverRequestViewSet, basename="sleepover")
router.register("hub-covers", sleepovers_api.HubCoverViewSet, basename="hub-cover")
router.register("limit-overrides", sleepovers_api.LimitOverrideViewSet, basename="limit-override")
router.register(
    "hub-unavailability", sleepovers_api.HubUnavailabilityViewSet, basename="hub-unavailability"
)
router.register("notifications", notifications_api.NotificationViewSet, basename="notification")
router.register("events", calendar_api.EventViewSet, basename="event")
router.register("check-ins", contact_api.CheckInViewSet, basename="check-in")
router.register("concerns", contact_api.ConcernViewSet, basename="concern")

# One date of a series, named by its key (20270105T190000Z), changed on its own.
event_dates = [
    path(
        f"events/<int:pk>/dates/<str:key>/{verb}/",
        calendar_api.EventDateViewSet.as_view({"post": method}),
        name=f"event-date-{verb}",
    )
    for verb, method in (("move", "move"), ("cancel", "cancel"), ("from-here", "from_here"))
]

urlpatterns = [
    path("me/", people_api.MeView.as_view(), name="me"),
    path(
        "delegated-authority/check/",
        delegated_authority_api.CheckView.as_view(),
        name="delegated-authority-check",
    ),
    path("hubs/<int:pk>/nights/", sleepovers_api.HubNightsView.as_view(), name="hub-nights"),
    path(
        "notifications/preferences/",
        notifications_api.PreferencesView.as_view(),
        name="notification-preferences",
    ),
    path(
        "notifications/push-subscriptions/",
        notifications_api.PushSubscriptionsView.as_view(),
        name="push-subscriptions",
    ),
    path("activity/", contact_api.ActivityView.as_view(), name="activity"),
    path("coverage/", contact_api.CoverageView.as_view(), name="coverage"),
    *event_dates,
    *router.urls,
    # Last: whatever names no endpoint is a JSON 404 (a path with a line break too).
    re_path(r"^(?P<rest>[\s\S]*)$", people_api.NotFoundView.as_view(), name="not-found"),
]
