from django.urls import path

from . import dashboard_views as views

app_name = "dashboards"

urlpatterns = [
    path("", views.service, name="service"),
    path("constellations/<int:pk>/", views.constellation, name="constellation"),
    path(
        "constellations/<int:pk>/<int:year>/<int:month>/",
        views.constellation,
        name="constellation_month",
    ),
    path("export/<slug:table>/", views.export, name="export"),
    path("evaluation-return/", views.evaluation_return, name="evaluation_return"),
]
