from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self) -> None:
        from delegated_authority import signals as da
        from sleepovers import signals as sleepovers

        from .services import events

        sleepovers.request_changed.connect(events.on_request_changed, dispatch_uid="notify-request")
        sleepovers.cover_changed.connect(events.on_cover_changed, dispatch_uid="notify-cover")
        sleepovers.override_changed.connect(
            events.on_override_changed, dispatch_uid="notify-override"
        )
        da.approval_requested.connect(events.on_approval_requested, dispatch_uid="notify-approval")
        da.approval_decided.connect(events.on_approval_decided, dispatch_uid="notify-decided")
        da.review_due.connect(events.on_review_due, dispatch_uid="notify-review")
