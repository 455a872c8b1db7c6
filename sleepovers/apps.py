from django.apps import AppConfig


class SleepoversConfig(AppConfig):
    name = "sleepovers"

    def ready(self) -> None:
        from delegated_authority.signals import approval_decided

        from . import services

        def _proceed(sender, approval, **kwargs):
            services.on_approval_decided(approval)

        approval_decided.connect(_proceed, dispatch_uid="sleepovers.approval_decided")
