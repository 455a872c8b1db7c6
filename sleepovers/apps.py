from django.apps import AppConfig


class SleepoversConfig(AppConfig):
    name = "sleepovers"

    def ready(self) -> None:
        from delegated_authority.signals import approval_decided, approval_deciding

        from . import services

        def _proceed(sender, approval, **kwargs):
            services.on_approval_decided(approval)

        def _lock(sender, subject_type, subject_id, **kwargs):
            services.lock_for_approval(subject_type, subject_id)

        approval_deciding.connect(_lock, dispatch_uid="sleepovers.approval_deciding")
        approval_decided.connect(_proceed, dispatch_uid="sleepovers.approval_decided")
