"""Admin pages. An administrator sets up services and constellations here; the
records that carry access (households, carers, memberships, children) change only
through the product's services, so here they are read-only, with their history."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from people.admin import ReadOnlyAdmin

from . import services
from .models import (
    Activity,
    Carer,
    CheckIn,
    Child,
    Concern,
    Constellation,
    ConstellationMembership,
    FollowUp,
    FormerHouseholdAccess,
    FosteringService,
    Household,
    LiaisonAssignment,
    Placement,
    PlanningMeeting,
)


@admin.register(FosteringService)
class FosteringServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "out_of_hours_phone", "created_at"]
    search_fields = ["name"]


@admin.register(Constellation)
class ConstellationAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "area", "hub"]
    list_filter = ["service"]
    fields = ["service", "name", "area"]

    def get_readonly_fields(self, request, obj=None):
        return ["service"] if obj else []

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            created = services.create_constellation(
                service=obj.service, name=obj.name, area=obj.area, by=request.user
            )
            obj.pk = created.pk


@admin.register(LiaisonAssignment)
class LiaisonAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "constellation", "started_on", "ended_on"]
    fields = ["constellation", "user"]
    autocomplete_fields = ["user"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        assignment = services.assign_liaison(obj.constellation, obj.user, by=request.user)
        obj.pk = assignment.pk


class HistoryReadOnly(SimpleHistoryAdmin, ReadOnlyAdmin):
    pass


@admin.register(Household)
class HouseholdAdmin(HistoryReadOnly):
    list_display = ["name", "kind", "service", "postcode", "beds"]
    list_filter = ["kind", "service"]
    search_fields = ["name", "postcode"]


@admin.register(Child)
class ChildAdmin(HistoryReadOnly):
    list_display = ["id", "known_as", "status", "household", "service"]
    list_filter = ["status", "service"]


@admin.register(ConstellationMembership)
class MembershipAdmin(HistoryReadOnly):
    list_display = ["household", "constellation", "status", "proposed_on", "joined_on", "ended_on"]
    list_filter = ["status", "constellation"]


@admin.register(Carer)
class CarerAdmin(ReadOnlyAdmin):
    list_display = ["user", "household", "role", "started_on", "ended_on"]


@admin.register(Placement)
class PlacementAdmin(ReadOnlyAdmin):
    list_display = ["child_id", "household", "started_on", "ended_on", "reason_for_move"]


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "kind", "verb", "summary", "actor", "constellation"]
    list_filter = ["kind", "service"]


# Regular contact: read-only here; recorded and closed through the product's pages.
# Supervision notes are not in the admin at all: only liaison workers and managers
# read them, in the product.


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ["occurred_at", "household", "method", "made", "concern_level"]
    list_filter = ["method", "made", "concern_level"]


@admin.register(FollowUp)
class FollowUpAdmin(ReadOnlyAdmin):
    list_display = ["action", "due_on", "assigned_to", "resolved_at"]


@admin.register(Concern)
class ConcernAdmin(HistoryReadOnly):
    list_display = ["opened_at", "household", "source", "status", "closed_at"]
    list_filter = ["status", "source"]


@admin.register(PlanningMeeting)
class PlanningMeetingAdmin(ReadOnlyAdmin):
    list_display = ["held_on", "constellation", "attendees"]


@admin.register(FormerHouseholdAccess)
class FormerHouseholdAccessAdmin(ReadOnlyAdmin):
    list_display = ["child_id", "household", "moved_on", "ends_on", "ended_at"]
