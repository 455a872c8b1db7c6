"""The installable app: the manifest and its icons, the head of every page, and the
offline page kept on the phone, with each person's numbers to call and never
another constellation's or service's, nor a child's record."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone
from PIL import Image, ImageChops

from notifications import pwa
from notifications.selectors import numbers_to_call
from sleepovers import services as sleepovers

HUB_PHONE = "01632 960101"
HUB_SECOND_PHONE = "01632 960102"
HUB_CARER_MOBILE = "07700 900111"
SECOND_HUB_CARER_MOBILE = "07700 900112"
OTHER_HUB_PHONE = "01632 960201"
OTHER_HUB_CARER_MOBILE = "07700 900211"
SOUTH_HUB_PHONE = "01632 960301"
DUTY_PHONE = "0300 555 0101"
SOUTH_DUTY_PHONE = "0300 555 0909"
SATELLITE_PHONE = "01632 960401"


def tel(number: str) -> str:
    return f'href="tel:{number.replace(" ", "")}"'


@pytest.fixture
def phones(nine_am, world):
    """Every household, carer and service its own number, to tell them apart."""
    w = world
    for household, phone in (
        (w.hub, HUB_PHONE),
        (w.other_constellation.hub, OTHER_HUB_PHONE),
        (w.other_service_constellation.hub, SOUTH_HUB_PHONE),
        (w.satellite, SATELLITE_PHONE),
        (w.neighbour, "01632 960402"),
    ):
        household.phone = phone
        household.save(update_fields=["phone"])
    w.hub.second_phone = HUB_SECOND_PHONE
    w.hub.save(update_fields=["second_phone"])
    for user, name, phone in (
        (w.hub_carer, "Helen", HUB_CARER_MOBILE),
        (w.second_hub_carer, "Harry", SECOND_HUB_CARER_MOBILE),
        (w.other_hub_carer, "Hana", OTHER_HUB_CARER_MOBILE),
    ):
        user.first_name, user.phone = name, phone
        user.save(update_fields=["first_name", "phone"])
    w.service.out_of_hours_phone = DUTY_PHONE
    w.service.out_of_hours_name = "Emergency duty team"
    w.service.save(update_fields=["out_of_hours_phone", "out_of_hours_name"])
    w.other_service.out_of_hours_phone = SOUTH_DUTY_PHONE
    w.other_service.save(update_fields=["out_of_hours_phone"])
    return w


def offline_page(client, user=None) -> str:
    if user is not None:
        client.force_login(user)
    response = client.get(reverse("offline"))
    assert response.status_code == 200
    return response.content.decode()


def children_of(w) -> list[str]:
    names = []
    for child in (
        w.child,
        w.neighbour_child,
        w.hub_child,
        w.other_constellation_child,
        w.other_service_child,
    ):
        names += [child.first_name, child.last_name, child.preferred_name]
    return names


# --- the manifest -----------------------------------------------------------------


def static_file(url: str) -> Path:
    assert url.startswith(settings.STATIC_URL), url
    found = finders.find(url.removeprefix(settings.STATIC_URL))
    assert found, f"{url} is not a static file"
    return Path(found)


def test_the_manifest_is_json_of_an_app_standing_alone(client, db):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] == "Mockingbird"
    assert manifest["short_name"] == "Mockingbird"
    assert manifest["start_url"] == "/"
    assert manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert manifest["theme_color"] == "#0d6efd"
    assert manifest["background_color"] == "#ffffff"


def test_the_theme_colour_is_the_blue_of_the_navigation_bar():
    # The navigation bar is Bootstrap's bg-primary; the app's CSS keeps its blue.
    bootstrap = Path(finders.find("vendor/bootstrap/css/bootstrap.min.css")).read_text()
    assert f"--bs-primary:{pwa.THEME_COLOUR}" in bootstrap
    assert "--bs-primary:" not in Path(finders.find("css/app.css")).read_text()


def test_the_manifest_names_icons_of_192_and_512_and_a_maskable_512_as_drawn(client, db):
    icons = json.loads(client.get("/manifest.webmanifest").content)["icons"]
    assert {(i["sizes"], i["purpose"]) for i in icons} == {
        ("192x192", "any"),
        ("512x512", "any"),
        ("512x512", "maskable"),
    }
    for icon in icons:
        assert icon["type"] == "image/png"
        with Image.open(static_file(icon["src"])) as image:
            assert image.format == "PNG"
            assert f"{image.width}x{image.height}" == icon["sizes"]


def test_the_maskable_icon_fills_its_square_and_keeps_its_mark_in_the_safe_circle():
    with Image.open(finders.find("icons/icon-maskable-512.png")) as image:
        rgb = image.convert("RGBA")
    size = rgb.width
    blue = tuple(int(pwa.THEME_COLOUR[i : i + 2], 16) for i in (1, 3, 5)) + (255,)
    # Outside the central circle of radius 40% (what every launcher's mask keeps): blue.
    for x in range(0, size, 8):
        for y in range(0, size, 8):
            if (x - size / 2) ** 2 + (y - size / 2) ** 2 > (0.4 * size) ** 2:
                assert rgb.getpixel((x, y)) == blue, (x, y)
    assert rgb.getpixel((size // 2, size // 2)) == (255, 255, 255, 255)


def test_the_apple_touch_icon_is_180_and_opaque():
    with Image.open(finders.find("icons/apple-touch-icon.png")) as image:
        assert image.format == "PNG"
        assert image.size == (180, 180)
        assert image.mode == "RGB"


def test_the_icons_kept_are_the_ones_the_command_draws():
    from notifications.management.commands.app_icons import draw

    for name, size, purpose in (*pwa.ICONS, pwa.APPLE_TOUCH_ICON):
        with Image.open(finders.find(pwa.icon_path(name))) as kept:
            drawn = draw(size, purpose)
            assert kept.mode == drawn.mode, name
            assert ImageChops.difference(kept, drawn).getbbox() is None, name


def test_the_manifest_answers_get_only(client, db):
    response = client.post("/manifest.webmanifest", {"name": "x"})
    assert response.status_code == 405


# --- every page's head --------------------------------------------------------------


def test_every_page_links_the_manifest_the_icon_and_the_theme_colour(client, world):
    for user in (None, world.satellite_carer):
        if user:
            client.force_login(user)
        page = client.get(reverse("account_login") if user is None else reverse("home"))
        head = page.content.decode().split("</head>")[0]
        assert '<link rel="manifest" href="/manifest.webmanifest">' in head
        assert '<meta name="theme-color" content="#0d6efd">' in head
        icon = re.search(r'<link rel="apple-touch-icon" href="([^"]+)">', head).group(1)
        assert static_file(icon).name == "apple-touch-icon.png"
        assert 'src="/static/notifications/offline.js"' in head


def test_the_page_tells_the_service_worker_whom_it_is_for(client, world):
    marker = re.compile(r'<meta name="offline-page" content="/offline/" data-for="(\d*)"')
    anonymous = client.get(reverse("account_login")).content.decode()
    assert marker.search(anonymous).group(1) == ""
    client.force_login(world.satellite_carer)
    signed_in = client.get(reverse("home")).content.decode()
    assert marker.search(signed_in).group(1) == str(world.satellite_carer.pk)
    assert 'data-logout="/accounts/logout/"' in signed_in


# --- the offline page -------------------------------------------------------------------


def test_anyone_gets_the_generic_page_with_999(client, phones):
    page = offline_page(client)
    assert "You are offline" in page
    assert 'href="tel:999"' in page
    for number in (HUB_PHONE, OTHER_HUB_PHONE, SOUTH_HUB_PHONE, DUTY_PHONE, SOUTH_DUTY_PHONE):
        assert tel(number) not in page
    assert phones.constellation.name not in page


def test_a_satellite_carer_sees_their_hubs_numbers_and_the_out_of_hours_team(client, phones):
    w = phones
    page = offline_page(client, w.satellite_carer)
    for number in (HUB_PHONE, HUB_SECOND_PHONE, HUB_CARER_MOBILE, SECOND_HUB_CARER_MOBILE):
        assert tel(number) in page
    assert "Helen:" in page
    assert "Harry:" in page
    assert tel(DUTY_PHONE) in page
    assert "Emergency duty team" in page
    assert 'href="tel:999"' in page
    for number in (OTHER_HUB_PHONE, OTHER_HUB_CARER_MOBILE, SOUTH_HUB_PHONE, SOUTH_DUTY_PHONE):
        assert tel(number) not in page
    assert w.other_constellation.name not in page


def test_a_hub_carer_sees_their_hub_and_the_out_of_hours_team(client, phones):
    page = offline_page(client, phones.hub_carer)
    assert tel(SECOND_HUB_CARER_MOBILE) in page
    assert tel(DUTY_PHONE) in page
    assert tel(OTHER_HUB_PHONE) not in page
    assert tel(SOUTH_DUTY_PHONE) not in page


def test_a_liaison_worker_sees_the_hubs_they_are_assigned_to(client, phones):
    page = offline_page(client, phones.liaison)
    assert tel(HUB_PHONE) in page
    assert tel(DUTY_PHONE) in page
    assert tel(OTHER_HUB_PHONE) not in page
    page = offline_page(client, phones.other_liaison)
    assert tel(OTHER_HUB_PHONE) in page
    assert tel(HUB_PHONE) not in page


def test_a_manager_sees_every_hub_of_their_service_and_none_of_another(client, phones):
    page = offline_page(client, phones.manager)
    assert tel(HUB_PHONE) in page
    assert tel(OTHER_HUB_PHONE) in page
    assert tel(DUTY_PHONE) in page
    assert tel(SOUTH_HUB_PHONE) not in page
    assert tel(SOUTH_DUTY_PHONE) not in page


def test_another_constellations_carer_never_sees_this_hub(client, phones):
    page = offline_page(client, phones.other_satellite_carer)
    assert tel(OTHER_HUB_PHONE) in page
    assert tel(OTHER_HUB_CARER_MOBILE) in page
    assert tel(DUTY_PHONE) in page  # the same service
    for number in (HUB_PHONE, HUB_SECOND_PHONE, HUB_CARER_MOBILE, SECOND_HUB_CARER_MOBILE):
        assert tel(number) not in page


def test_another_services_people_see_their_own_numbers_only(client, phones):
    for user in (phones.other_service_carer, phones.other_service_manager):
        page = offline_page(client, user)
        assert tel(SOUTH_HUB_PHONE) in page
        assert tel(SOUTH_DUTY_PHONE) in page
        for number in (HUB_PHONE, OTHER_HUB_PHONE, HUB_CARER_MOBILE, DUTY_PHONE):
            assert tel(number) not in page
        assert phones.service.name not in page


def test_a_social_worker_sees_the_out_of_hours_team_and_no_hub(client, phones):
    page = offline_page(client, phones.social_worker)
    assert tel(DUTY_PHONE) in page
    assert tel(HUB_PHONE) not in page


def test_the_page_never_holds_a_childs_record(client, phones):
    for user in (phones.satellite_carer, phones.hub_carer, phones.liaison, phones.manager):
        page = offline_page(client, user)
        for name in children_of(phones):
            assert not re.search(rf"\b{re.escape(name)}\b", page), (user.email, name)
        assert tel(SATELLITE_PHONE) not in page  # nor the households the hub looks after


def test_a_stand_in_covering_the_hub_today_is_shown_first(client, phones):
    w = phones
    today = timezone.localdate()
    sleepovers.arrange_cover(
        w.constellation,
        by=w.manager,
        stand_in=w.other_constellation.hub,
        start=today,
        end=today + timedelta(days=2),
        note="Hub carers at a wedding",
    )
    page = offline_page(client, w.satellite_carer)
    assert f"{w.other_constellation.hub.name} covers for the hub until" in page
    assert page.index(tel(OTHER_HUB_PHONE)) < page.index(tel(HUB_PHONE))
    assert "wedding" not in page


def test_a_household_that_left_its_constellation_has_no_hub_to_call(client, phones):
    from constellation import services as people

    w = phones
    people.end_membership(w.satellite.memberships.get(), by=w.liaison, reason="Moved away")
    page = offline_page(client, w.satellite_carer)
    assert tel(HUB_PHONE) not in page
    assert tel(DUTY_PHONE) in page  # still a carer of the service


def test_the_page_is_private_and_may_be_kept_by_the_service_worker(client, phones):
    response = client.get(reverse("offline"))
    assert response["Cache-Control"] == "private, no-cache"
    assert response["X-Offline-For"] == ""
    client.force_login(phones.satellite_carer)
    response = client.get(reverse("offline"))
    assert response["Cache-Control"] == "private, no-cache"
    assert "no-store" not in response["Cache-Control"]
    assert response["X-Offline-For"] == str(phones.satellite_carer.pk)


def test_the_page_answers_get_only(client, phones):
    client.force_login(phones.satellite_carer)
    response = client.post(reverse("offline"), {"who": "x"})
    assert response.status_code == 405


def test_staff_still_to_enrol_a_second_factor_get_their_numbers(client, phones, settings):
    settings.MFA_REQUIRED_FOR_STAFF = True
    page = offline_page(client, phones.liaison)
    assert tel(HUB_PHONE) in page


def test_a_manager_of_many_constellations_costs_a_few_queries(
    client, phones, django_assert_max_num_queries
):
    from tests import factories as f

    for n in range(8):
        constellation = f.ConstellationFactory(service=phones.service, name=f"Valley {n}")
        f.carer_of(f.hub_for(constellation, name=f"Valley Hub {n}"), email=f"v{n}@test.example")
    client.force_login(phones.manager)
    with django_assert_max_num_queries(14):
        page = client.get(reverse("offline")).content.decode()
    assert page.count('data-testid="offline-hub"') == 10
    with django_assert_max_num_queries(6):
        assert len(numbers_to_call(phones.manager).hubs) == 10
