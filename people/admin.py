from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .audit import record
from .models import AuditEntry, ChildRecordAccess, Invitation, StaffRole, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_active", "is_superuser"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "phone")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()
    list_filter = ["is_active", "is_superuser"]


@admin.register(StaffRole)
class StaffRoleAdmin(admin.ModelAdmin):
    list_display = ["user", "role", "service", "started_on", "ended_on"]
    list_filter = ["role", "service"]
    autocomplete_fields = ["user"]

    def save_model(self, request, obj, form, change):
        """Roles are granted and ended here: each is an audit entry naming who did it."""
        was_open = change and StaffRole.objects.filter(pk=obj.pk, ended_on__isnull=True).exists()
        super().save_model(request, obj, form, change)
        if not change:
            action = AuditEntry.Action.ROLE_GRANTED
        elif was_open and obj.ended_on is not None:
            action = AuditEntry.Action.ROLE_ENDED
        else:
            return
        record(
            action,
            actor=request.user,
            service=obj.service_id,
            subject=obj.user,
            target=obj,
            request=request,
            detail=obj.get_role_display(),
        )


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that only the product's own actions may write."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    list_display = ["user", "invited_by", "created_at", "expires_at", "accepted_at", "revoked_at"]
    exclude = ["token_hash"]


@admin.register(ChildRecordAccess)
class ChildRecordAccessAdmin(ReadOnlyAdmin):
    list_display = ["at", "user", "child_id", "channel"]
    list_filter = ["channel"]


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["at", "action", "actor", "subject", "target_label", "service", "ip_address"]
    list_filter = ["action", "service"]
    search_fields = ["target_label", "actor__email", "subject__email"]
    date_hierarchy = "at"
    list_select_related = ["actor", "subject", "service"]
