"""Draw the app's icons for phones' home screens (static/icons/): the hub (a large
circle) with six satellite households around it, white on the app's blue. Drawn
here, so the product carries no third-party artwork; run again after a change of
colour or mark and commit the files."""

import math
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from PIL import Image, ImageDraw

from notifications.pwa import APPLE_TOUCH_ICON, ICONS, THEME_COLOUR

MARK_COLOUR = "#ffffff"
SATELLITES = 6
# Drawn large and scaled down, for smooth edges.
OVERSAMPLE = 4


def draw(size: int, purpose: str) -> Image.Image:
    """One icon of ``size`` pixels square. A maskable icon fills the square and keeps
    its mark inside the central safe circle (40% of the size in radius) that every
    launcher's mask leaves visible; the others have rounded corners, except the
    Apple one, which must be opaque (iOS rounds it itself)."""
    big = size * OVERSAMPLE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    if purpose == "any":
        pen.rounded_rectangle((0, 0, big - 1, big - 1), radius=big // 5, fill=THEME_COLOUR)
    else:
        pen.rectangle((0, 0, big, big), fill=THEME_COLOUR)
    # The mark's reach from the centre, as a share of the size.
    reach = 0.30 if purpose == "maskable" else 0.38
    centre = big / 2
    hub = big * reach * 0.36
    satellite = big * reach * 0.17
    orbit = big * reach - satellite
    pen.ellipse((centre - hub, centre - hub, centre + hub, centre + hub), fill=MARK_COLOUR)
    for i in range(SATELLITES):
        angle = -math.pi / 2 + i * 2 * math.pi / SATELLITES
        x = centre + orbit * math.cos(angle)
        y = centre + orbit * math.sin(angle)
        pen.ellipse((x - satellite, y - satellite, x + satellite, y + satellite), fill=MARK_COLOUR)
    image = image.resize((size, size), Image.Resampling.LANCZOS)
    if purpose == "apple":
        image = image.convert("RGB")
    return image


class Command(BaseCommand):
    help = "Draw the app's home-screen icons into static/icons/."

    def handle(self, *args, **options):
        folder = Path(settings.BASE_DIR) / "static" / "icons"
        folder.mkdir(parents=True, exist_ok=True)
        for name, size, purpose in (*ICONS, APPLE_TOUCH_ICON):
            draw(size, purpose).save(folder / name, optimize=True)
            self.stdout.write(f"{name}: {size}x{size} ({purpose})")
