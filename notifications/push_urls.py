"""Web push: the subscription endpoints (the service worker is served at /sw.js)."""

from django.urls import path

urlpatterns: list = []
