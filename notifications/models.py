from django.db import models
from django.utils import timezone


class Heartbeat(models.Model):
    """The last time a background process showed it was alive (the worker, via beat)."""

    name = models.CharField(max_length=40, primary_key=True)
    at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.name} at {self.at:%Y-%m-%d %H:%M:%S}"
