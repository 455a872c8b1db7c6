"""The installable app: its manifest, and the offline page that the service worker
(``static/notifications/sw.js``) keeps on the phone and shows when a page cannot
load for lack of network."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from . import pwa, selectors

MANIFEST_TYPE = "application/manifest+json"


@require_safe
def manifest(request):
    """The web app manifest at /manifest.webmanifest (the same for everyone)."""
    response = HttpResponse(json.dumps(pwa.manifest(), indent=2), content_type=MANIFEST_TYPE)
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_safe
def offline(request):
    """The offline page at /offline/: 999, and for a signed-in person the numbers of
    their hub(s) and their service's out-of-hours duty team
    (``selectors.numbers_to_call``); a generic page with 999 for anyone else.

    ``private``: a shared cache never keeps one person's page for another; ``no-cache``:
    the browser checks again each time, while the service worker may store it.
    ``X-Offline-For`` names whom the page is for (the user's id, empty for anonymous),
    so the service worker drops a page kept for someone else."""
    user = request.user
    response = render(
        request,
        "notifications/offline.html",
        {
            "numbers": selectors.numbers_to_call(user),
            "saved_at": timezone.localtime(),
            "theme_colour": pwa.THEME_COLOUR,
        },
    )
    response["Cache-Control"] = "private, no-cache"
    response.kept_offline = True  # not made no-store by config.security.NoStoreMiddleware
    response["X-Offline-For"] = str(user.pk) if user.is_authenticated else ""
    response["X-Robots-Tag"] = "noindex"
    return response
