from django.contrib import admin

from .models import CalendarFeed, Event, KeptConnected, Occurrence


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "kind", "constellation", "start", "rule", "status"]
    list_filter = ["kind", "status"]
    search_fields = ["title"]
    raw_id_fields = ["constellation", "organiser", "follows", "cancelled_by"]
    filter_horizontal = ["invited_households", "invited_contacts"]


@admin.register(Occurrence)
class OccurrenceAdmin(admin.ModelAdmin):
    list_display = ["event", "original_start", "start", "cancelled", "attendance_recorded_at"]
    raw_id_fields = ["event", "changed_by", "attendance_recorded_by"]


@admin.register(KeptConnected)
class KeptConnectedAdmin(admin.ModelAdmin):
    list_display = ["name", "constellation", "relationship", "ends_on", "withdrawn_at"]
    raw_id_fields = ["constellation", "child", "added_by", "withdrawn_by"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at", "revoked_at", "last_fetched_at"]
    raw_id_fields = ["user"]
    exclude = ["token"]
