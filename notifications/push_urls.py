"""Web push: the subscription endpoints (the service worker is served at /sw.js,
by ``push_views.service_worker``, from the project's URLs)."""

from django.urls import path

from . import push_views

urlpatterns = [
    path("subscribe/", push_views.subscribe, name="push_subscribe"),
    path("unsubscribe/", push_views.unsubscribe, name="push_unsubscribe"),
]
