from django.contrib import admin, messages

from people.admin import ReadOnlyAdmin

from . import services
from .models import CrisisAlert, EscalationStep, Notification, PushSubscription


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    """The outbox. Failed rows are listed with their error and can be sent again."""

    list_display = (
        "created_at",
        "kind",
        "channel",
        "to_name",
        "status",
        "attempts",
        "due_at",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "channel", "kind", "service")
    search_fields = ("to_name", "key", "last_error")
    date_hierarchy = "created_at"
    actions = ["retry_failed"]

    @admin.action(description="Send the failed ones again")
    def retry_failed(self, request, queryset):
        count = services.retry(queryset)
        self.message_user(
            request, f"{count} failed notification(s) queued again.", level=messages.SUCCESS
        )


class StepInline(admin.TabularInline):
    model = EscalationStep
    extra = 0
    can_delete = False
    readonly_fields = ("step", "due_at", "status", "ran_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CrisisAlert)
class CrisisAlertAdmin(ReadOnlyAdmin):
    list_display = ("request", "raised_at", "seen_by", "seen_at", "stopped_at", "stop_reason")
    inlines = [StepInline]


@admin.register(PushSubscription)
class PushSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ("user", "user_agent", "created_at", "last_sent_at")
