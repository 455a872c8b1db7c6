"""Response headers that keep personal data out of shared and browser caches."""

from django.conf import settings
from django.utils.cache import patch_cache_control


class NoStoreMiddleware:
    """Every response of the application itself (pages, fragments, the API, feeds,
    exports) may hold personal data, so none is stored by the browser or any cache
    between: ``Cache-Control: no-store, private``. Static files (served before this
    by whitenoise), responses a view marks ``public`` (the service worker, the
    manifest) and the offline page (``private, no-cache``, marked ``kept_offline``:
    the service worker keeps it on the phone) are left as they are."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith(self.static_prefix):
            return response
        if "public" in response.get("Cache-Control", ""):
            return response
        if getattr(response, "kept_offline", False):
            return response
        patch_cache_control(response, no_store=True, private=True)
        return response
