from django.contrib import admin

from people.admin import ReadOnlyAdmin

from .models import Agreement, Approval, Clause, Decision


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    """The catalogue is data: an administrator adds decisions or retires them
    (``active``); a decision in use is never deleted."""

    list_display = ["label", "code", "counts_nights", "position", "active"]
    list_editable = ["position", "active"]
    search_fields = ["label", "code"]

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return ["code"] if obj else []


class ClauseInline(admin.TabularInline):
    model = Clause
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Agreement)
class AgreementAdmin(ReadOnlyAdmin):
    list_display = ["child_id", "version", "effective_from", "review_on", "signed_off_by"]
    inlines = [ClauseInline]


@admin.register(Approval)
class ApprovalAdmin(ReadOnlyAdmin):
    list_display = ["requested_at", "child_id", "decision", "status", "assigned_to", "decided_by"]
    list_filter = ["status"]
