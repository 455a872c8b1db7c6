from django.apps import AppConfig


class ConstellationConfig(AppConfig):
    name = "constellation"
    verbose_name = "Constellations"

    def ready(self) -> None:
        # Concerns opened by what happens to crisis requests (issue 11).
        from sleepovers.signals import request_changed

        from .services.concerns import on_request_changed

        request_changed.connect(on_request_changed, dispatch_uid="constellation.concerns")
