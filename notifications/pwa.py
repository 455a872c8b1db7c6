"""The installable app: its web app manifest (name, colours, icons) and the icons'
files. The icons are drawn by ``manage.py app_icons`` into static/icons/."""

from __future__ import annotations

from django.templatetags.static import static
from django.urls import reverse

NAME = "Mockingbird"
SHORT_NAME = "Mockingbird"
DESCRIPTION = "Sleepovers, crisis support and the calendar of a Mockingbird constellation."
# Bootstrap's primary blue (the navigation bar) and the page's white background.
THEME_COLOUR = "#0d6efd"
BACKGROUND_COLOUR = "#ffffff"

# (file in static/icons/, size in pixels, purpose). The Apple touch icon is linked
# from the page's <head>, not the manifest: iOS reads only the link.
ICONS = (
    ("icon-192.png", 192, "any"),
    ("icon-512.png", 512, "any"),
    ("icon-maskable-512.png", 512, "maskable"),
)
APPLE_TOUCH_ICON = ("apple-touch-icon.png", 180, "apple")


def icon_path(name: str) -> str:
    """The static path of an icon file (``icons/<name>``)."""
    return f"icons/{name}"


def manifest() -> dict:
    """The web app manifest, as a dict for JSON: a standalone app opening on the home
    page, its scope the whole site, with the icons at their (hashed, in production)
    static URLs."""
    return {
        "name": NAME,
        "short_name": SHORT_NAME,
        "description": DESCRIPTION,
        "id": "/",
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "lang": "en-GB",
        "dir": "ltr",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {
                "src": static(icon_path(name)),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": purpose,
            }
            for name, size, purpose in ICONS
        ],
    }
