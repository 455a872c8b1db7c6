from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from constellation import views as constellation_views
from notifications import push_views, pwa_views

from .health import healthz

# The administration site signs people in through the product's own login, so its
# door has the same rate limits and second factor; its own password form is never shown.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", constellation_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    # The service worker of web push: at the root, so its scope is the whole site.
    path("sw.js", push_views.service_worker, name="service_worker"),
    # The installable app: its manifest, and the page the service worker shows offline.
    path("manifest.webmanifest", pwa_views.manifest, name="manifest"),
    path("offline/", pwa_views.offline, name="offline"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("", include("constellation.urls")),
    path("", include("people.urls")),
    path("", include("delegated_authority.urls")),
    path("sleepovers/", include("sleepovers.urls")),
    path("calendar/", include("calendar_events.urls")),
    path("dashboards/", include("constellation.dashboard_urls")),
    path("notifications/", include("notifications.urls")),
    path("api/v1/", include("config.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
