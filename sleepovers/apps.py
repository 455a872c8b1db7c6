from django.apps import AppConfig


class SleepoversConfig(AppConfig):
    name = "sleepovers"
