from django.utils import timezone

from .models import Heartbeat


def record_heartbeat(name: str = "worker") -> None:
    Heartbeat.objects.update_or_create(name=name, defaults={"at": timezone.now()})


def last_heartbeat(name: str = "worker"):
    beat = Heartbeat.objects.filter(name=name).first()
    return beat.at if beat else None
