from django.urls import path

from . import views

app_name = "sleepovers"

urlpatterns = [
    path("", views.index, name="index"),
]
