from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "people"
    verbose_name = "People and accounts"

    def ready(self) -> None:
        from . import sessions, signals

        signals.connect()
        sessions.connect()
