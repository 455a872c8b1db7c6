"""The pages carers and staff use pass axe-core's WCAG 2.2 A and AA rules (no serious or
critical finding) on a phone (390x844) and on a desktop; a form with mistakes shows a
summary at the top, in view, linking to each field; a keyboard reaches a form's button
with a visible focus ring; buttons, menu items and form controls are at least 44x44 CSS
pixels on a phone."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from calendar_events import recurrence
from calendar_events import services as calendar
from calendar_events.models import Event
from constellation.models import CheckIn, Concern
from constellation.services import concerns, contact
from people import services as people
from sleepovers import services as sleepovers
from sleepovers.models import Kind
from tests import factories as f
from tests.conftest import build_world
from tests.e2e.axe import assert_accessible
from tests.sleepovers.helpers import allow_hub, stay

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}
DESKTOP = {"viewport": {"width": 1280, "height": 900}}
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}
MIN_TARGET = 44  # CSS pixels: WCAG 2.5.8 asks 24; a tired thumb at night needs more.


@pytest.fixture
def site(transactional_db, django_db_serialized_rollback, settings):
    """A fostering service with a constellation, a child the hub may look after, a
    planned request and a crisis from the satellite family, a check-in at high concern
    (which opens a concern), an event next week, and an administrator."""
    settings.MFA_REQUIRED_FOR_STAFF = False
    world = build_world()
    allow_hub(world.child, by=world.liaison)
    start, end = stay(5, 1)
    planned = sleepovers.create_request(
        by=world.satellite_carer,
        kind=Kind.PLANNED,
        children=[world.child],
        start=start,
        end=end,
        notes="Mara likes her own pillow.",
    )
    now = timezone.now()
    crisis = sleepovers.create_request(
        by=world.satellite_carer,
        kind=Kind.CRISIS,
        children=[world.child],
        start=now,
        end=now + timedelta(hours=4),
        crisis_reason="drop_off",
    )
    contact.record_check_in(
        world.satellite,
        by=world.hub_carer,
        occurred_at=now - timedelta(hours=1),
        method=CheckIn.Method.PHONE,
        note="Hard week at school.",
        concern_level=CheckIn.Level.HIGH,
    )
    check_in = CheckIn.objects.latest("pk")
    concern = Concern.objects.filter(household=world.satellite).first() or (
        concerns.open_concern_by_hand(
            world.satellite,
            by=world.hub_carer,
            reasons=[Concern.Reason.CANNOT_COPE],
        )
    )
    event_start = calendar.london_start(timezone.localdate() + timedelta(days=7), 12)
    event = calendar.create_event(
        constellation=world.constellation,
        by=world.hub_carer,
        kind=Event.Kind.SOCIAL,
        title="Picnic in Riverside Park",
        place="Riverside Park, by the bandstand",
        start=event_start,
        end=event_start + timedelta(hours=3),
        capacity=30,
    )
    invited = f.carer_of(world.satellite, role="second", email="new-carer@test.example")
    invitation_token = people.invite(invited, by=world.liaison)
    admin = f.UserFactory(email="admin@test.example", is_staff=True, is_superuser=True)

    world.planned, world.crisis, world.check_in, world.concern = planned, crisis, check_in, concern
    world.event, world.event_key = event, recurrence.key_of(event.start)
    world.invitation_token, world.admin = invitation_token, admin
    return world


def calendar_pages(world):
    today = timezone.localdate()
    event_day = timezone.localtime(world.event.start).date()
    return [
        ("calendar month", f"/calendar/{today.year}/{today.month}/"),
        ("calendar week", f"/calendar/week/{event_day.isoformat()}/"),
        ("calendar day", f"/calendar/day/{event_day.isoformat()}/"),
        ("event date", f"/calendar/events/{world.event.pk}/{world.event_key}/"),
    ]


def account_pages(everything=False):
    """The notification centre; with ``everything``, the account's own pages too (the
    same templates for every role: checked for a carer and for staff)."""
    pages = [("notifications", "/notifications/")]
    if everything:
        pages += [
            ("how I am told", "/notifications/preferences/"),
            ("password change", "/accounts/password/change/"),
            ("two-factor authentication", "/accounts/2fa/"),
            ("authenticator app set-up", "/accounts/2fa/totp/activate/"),
        ]
    return pages


# On a desktop, the pages whose layout changes most with the width (the menu bar, the
# calendar grid, tables, two-column forms); on a phone, every page.
DESKTOP_PAGES = {
    "home",
    "inbox",
    "my requests",
    "booking form",
    "crisis form",
    "crisis request page",
    "calendar month",
    "calendar week",
    "event date",
    "desk",
    "dashboard",
    "constellation",
    "household",
    "child edit",
    "check-in form",
    "concerns",
    "access log",
    "notifications",
}


def pages_of(role, world):
    """(user, [(name, path)]) of the pages ``role`` uses."""
    w = world
    household, child = w.satellite, w.child
    if role == "hub carer":
        return w.hub_carer, [
            ("home", "/"),
            ("inbox", "/sleepovers/"),
            ("crisis request page", f"/sleepovers/{w.crisis.pk}/"),
            ("planned request page", f"/sleepovers/{w.planned.pk}/"),
            ("beds", "/sleepovers/beds/"),
            ("nights", "/sleepovers/nights/"),
            ("constellation", f"/constellations/{w.constellation.pk}/"),
            ("household", f"/households/{household.pk}/"),
            ("check-in form", f"/households/{household.pk}/check-ins/new/"),
            ("check-in", f"/check-ins/{w.check_in.pk}/"),
            ("concern form", f"/households/{household.pk}/concerns/new/"),
            ("concerns", "/concerns/"),
            ("concern", f"/concerns/{w.concern.pk}/"),
            *calendar_pages(w),
            ("event form", "/calendar/events/new/"),
            ("approvals", "/delegated-authority/approvals/"),
            *account_pages(),
        ]
    if role == "satellite carer":
        return w.satellite_carer, [
            ("home", "/"),
            ("my requests", "/sleepovers/"),
            ("booking form", "/sleepovers/new/"),
            ("crisis form", "/sleepovers/crisis/"),
            ("planned request page", f"/sleepovers/{w.planned.pk}/"),
            ("crisis request page", f"/sleepovers/{w.crisis.pk}/"),
            ("free beds", "/sleepovers/availability/"),
            ("household", f"/households/{household.pk}/"),
            ("child", f"/children/{child.pk}/"),
            *calendar_pages(w),
            *account_pages(everything=True),
        ]
    if role == "liaison worker":
        return w.liaison, [
            ("home", "/"),
            ("desk", "/desk/"),
            ("activity", "/desk/activity/"),
            ("constellations", "/constellations/"),
            ("constellation", f"/constellations/{w.constellation.pk}/"),
            ("household", f"/households/{household.pk}/"),
            ("household edit", f"/households/{household.pk}/edit/"),
            ("add a carer", f"/households/{household.pk}/carers/new/"),
            ("child", f"/children/{child.pk}/"),
            ("child edit", f"/children/{child.pk}/edit/"),
            ("agreements", f"/children/{child.pk}/agreements/"),
            ("agreement form", f"/children/{child.pk}/agreements/new/"),
            ("check-in form", f"/households/{household.pk}/check-ins/new/"),
            ("concerns", "/concerns/"),
            ("concern", f"/concerns/{w.concern.pk}/"),
            ("sleepovers", "/sleepovers/"),
            ("request page", f"/sleepovers/{w.crisis.pk}/"),
            ("temporary placement form", "/sleepovers/temporary/"),
            ("sleepover settings", f"/sleepovers/constellation/{w.constellation.pk}/"),
            ("coverage", f"/constellations/{w.constellation.pk}/coverage/"),
            ("planning meetings", f"/constellations/{w.constellation.pk}/planning-meetings/"),
            (
                "planning meeting form",
                f"/constellations/{w.constellation.pk}/planning-meetings/new/",
            ),
            ("contact settings", f"/constellations/{w.constellation.pk}/contact-settings/"),
            ("supervision form", f"/carers/{w.hub.carers.first().pk}/supervision/new/"),
            ("people kept connected", "/calendar/kept-connected/"),
            ("add someone kept connected", "/calendar/kept-connected/new/"),
            ("dashboard", f"/dashboards/constellations/{w.constellation.pk}/"),
            *calendar_pages(w),
            ("reviews", "/delegated-authority/reviews/"),
            *account_pages(),
        ]
    if role == "fostering manager":
        return w.manager, [
            ("home", "/"),
            ("dashboard", "/dashboards/"),
            ("constellations", "/constellations/"),
            ("constellation", f"/constellations/{w.constellation.pk}/"),
            ("new household", f"/constellations/{w.constellation.pk}/households/new/"),
            ("household", f"/households/{household.pk}/"),
            ("new child", f"/households/{household.pk}/children/new/"),
            ("child", f"/children/{child.pk}/"),
            ("concerns", "/concerns/"),
            ("access log", "/access-log/"),
            ("reviews", "/delegated-authority/reviews/"),
            ("calendar month", calendar_pages(w)[0][1]),
            *account_pages(),
        ]
    if role == "administrator":
        return w.admin, [
            ("home", "/"),
            ("sleepovers", "/sleepovers/"),
            *account_pages(everything=True),
        ]
    raise ValueError(role)


ROLES = ["hub carer", "satellite carer", "liaison worker", "fostering manager", "administrator"]


def signed_in_context(browser, base, user, viewport):
    """A browser context already signed in as ``user`` (Django's session cookie)."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(**VIEWPORTS[viewport], base_url=base)
    cookie = client.cookies[django_settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": base}])
    return context


def visit(page, path):
    response = page.goto(path)
    assert response is not None, path
    assert response.status < 400, (path, response.status)
    return response


@pytest.mark.parametrize("role", ROLES)
def test_each_roles_pages_pass_axe_on_a_phone_and_a_desktop(site, live_server, browser, role):
    user, pages = pages_of(role, site)
    failures, titles = [], {}
    for viewport in VIEWPORTS:
        context = signed_in_context(browser, live_server.url, user, viewport)
        page = context.new_page()
        for name, path in pages:
            if viewport == "desktop" and name not in DESKTOP_PAGES:
                continue
            visit(page, path)
            try:
                assert_accessible(page, context=f"{role}, {viewport}, {name}")
            except AssertionError as error:
                failures.append(str(error))
            title = page.title()
            assert title.strip(), f"{name} has no title"
            titles.setdefault(title, []).append(name)
            assert page.locator("main").count() == 1, f"{name}: one <main>"
            assert page.get_attribute("html", "lang") == "en-GB"
        context.close()
    assert not failures, "\n\n".join(failures)
    # Each page says which page it is in the browser tab and to a screen reader.
    repeated = {t: names for t, names in titles.items() if len(set(names)) > 1}
    assert not repeated, f"Pages share a title: {repeated}"


def test_pages_before_signing_in_pass_axe(site, live_server, browser):
    failures = []
    pages = [
        ("sign in", "/accounts/login/"),
        ("password reset", "/accounts/password/reset/"),
        ("invitation", f"/invitations/{site.invitation_token}/"),
    ]
    for viewport in VIEWPORTS:
        context = browser.new_context(**VIEWPORTS[viewport], base_url=live_server.url)
        page = context.new_page()
        for name, path in pages:
            visit(page, path)
            try:
                assert_accessible(page, context=f"anonymous, {viewport}, {name}")
            except AssertionError as error:
                failures.append(str(error))
        context.close()
    assert not failures, "\n\n".join(failures)


def assert_error_summary(page, *, expect_mistakes, expect_fields):
    """The summary is at the top, in view without scrolling, focused, and each of its
    links leads to a field that is marked invalid and described by its message."""
    summary = page.get_by_test_id("error-summary")
    assert summary.is_visible()
    assert "There is a problem" in summary.inner_text(), summary.inner_text()
    assert summary.locator("li").count() >= expect_mistakes, summary.inner_text()
    box = summary.bounding_box()
    viewport = page.viewport_size
    assert box["y"] >= 0, box
    assert box["y"] + 40 <= viewport["height"], box
    focused = page.evaluate(
        "document.activeElement.closest('[data-testid=error-summary]') !== null"
    )
    assert focused, "the summary takes the focus, so a screen reader reads it first"
    links = summary.locator("a[href^='#']")
    assert links.count() >= expect_fields
    for i in range(links.count()):
        target = links.nth(i).get_attribute("href")[1:]
        field = page.locator(f"[id='{target}']")
        assert field.count() == 1, f"the summary links to #{target}, which is on the page"
        control = page.locator(
            f"[id='{target}']:is(input,select,textarea), [id='{target}'] :is(input,select,textarea)"
        ).first
        if control.count():
            assert control.get_attribute("aria-invalid") == "true", target
            # A group of tick boxes or round choices is described on its fieldset.
            described = (
                control.get_attribute("aria-describedby")
                or control.evaluate(
                    "el => el.closest('fieldset')?.getAttribute('aria-describedby') || ''"
                )
            ).split()
            messages = [page.locator(f"[id='{d}']").inner_text() for d in described]
            assert any(m.strip() for m in messages), f"{target} is described by its message"


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
def test_a_booking_with_mistakes_shows_the_summary_at_the_top(site, live_server, browser, viewport):
    context = signed_in_context(browser, live_server.url, site.satellite_carer, viewport)
    page = context.new_page()
    visit(page, "/sleepovers/new/")
    # Sent without a child and without a start, from a browser that does not check the
    # fields first: the server's answer is tested.
    page.evaluate("document.querySelectorAll('form').forEach(f => { f.noValidate = true; })")
    for box in page.locator("input[name=children]").all():
        box.set_checked(False)
    page.locator("input[name=start]").fill("")
    page.get_by_role("button", name="Send the request").click()
    page.wait_for_load_state()
    assert_error_summary(page, expect_mistakes=2, expect_fields=2)
    assert_accessible(page, context=f"booking form with errors, {viewport}")
    # The link takes the user to the field.
    page.get_by_test_id("error-summary").locator("a").first.click()
    assert page.evaluate("document.activeElement.tagName") in {"INPUT", "SELECT", "TEXTAREA"}
    context.close()


def test_sign_in_with_a_wrong_password_shows_the_summary(site, live_server, browser):
    context = browser.new_context(**PHONE, base_url=live_server.url)
    page = context.new_page()
    visit(page, "/accounts/login/")
    page.get_by_label("Email").fill(site.hub_carer.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    summary = page.get_by_test_id("error-summary")
    assert summary.is_visible()
    assert "There is a problem" in summary.inner_text()
    assert_accessible(page, context="sign in with errors")
    context.close()


def test_a_check_in_with_mistakes_shows_the_summary(site, live_server, browser):
    context = signed_in_context(browser, live_server.url, site.hub_carer, "phone")
    page = context.new_page()
    visit(page, f"/households/{site.satellite.pk}/check-ins/new/")
    # As a browser that does not check the fields first: the server's answer is tested.
    page.evaluate("document.querySelectorAll('form').forEach(f => { f.noValidate = true; })")
    page.locator("main form[method=post] [type=submit]").last.click()
    page.wait_for_load_state()
    assert_error_summary(page, expect_mistakes=1, expect_fields=1)
    assert_accessible(page, context="check-in form with errors")
    context.close()


def test_the_keyboard_reaches_the_crisis_button_with_a_visible_focus(site, live_server, browser):
    context = signed_in_context(browser, live_server.url, site.satellite_carer, "phone")
    page = context.new_page()
    visit(page, "/sleepovers/crisis/")
    # The first Tab shows the skip link; following it lands in the main content.
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.inner_text().strip() == "Skip to main content"
    assert skip.is_visible()
    page.keyboard.press("Enter")
    submit = page.get_by_role("button", name="Ask the hub for help now")
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type === 'submit'"):
            break
    else:
        pytest.fail("Tab never reached the crisis button")
    assert submit.evaluate("el => el === document.activeElement")
    ring = submit.evaluate(
        """el => { const s = getComputedStyle(el);
                   return {outline: s.outlineStyle, width: parseFloat(s.outlineWidth),
                           shadow: s.boxShadow}; }"""
    )
    assert (ring["outline"] != "none" and ring["width"] >= 2) or ring["shadow"] != "none", ring
    context.close()


# Buttons, links styled as buttons, menu items and form controls: inline links inside
# sentences are excepted (WCAG 2.5.8's "inline" exception).
TARGETS = """
  button, .btn, .nav-link, .dropdown-item, .navbar-toggler, .page-link,
  input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea,
  .form-check
"""


def small_targets(page):
    return page.evaluate(
        """([selector, min]) => {
            const small = [];
            for (const el of document.querySelectorAll(selector)) {
                if (!el.checkVisibility || !el.checkVisibility()) continue;
                const r = el.getBoundingClientRect();
                if (r.width === 0 && r.height === 0) continue;
                if (r.width < min - 0.5 || r.height < min - 0.5) {
                    small.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`
                        + ` "${(el.innerText || el.value || el.name || '').trim().slice(0, 30)}"`
                        + ` ${Math.round(r.width)}x${Math.round(r.height)}`);
                }
            }
            return small;
        }""",
        [TARGETS, MIN_TARGET],
    )


def test_touch_targets_on_a_phone_are_at_least_44px(site, live_server, browser):
    problems = []
    journeys = [
        (
            site.satellite_carer,
            ["/", "/sleepovers/new/", "/sleepovers/crisis/", f"/sleepovers/{site.planned.pk}/"],
        ),
        (site.hub_carer, ["/", "/sleepovers/", f"/sleepovers/{site.crisis.pk}/"]),
        (site.liaison, [f"/households/{site.satellite.pk}/check-ins/new/"]),
    ]
    for user, paths in journeys:
        context = signed_in_context(browser, live_server.url, user, "phone")
        page = context.new_page()
        for path in paths:
            visit(page, path)
            # The menu, opened, as a thumb would use it.
            page.get_by_role("button", name="Show or hide the menu").click()
            page.locator("#main-nav.show").wait_for()
            problems += [f"{path}: {s}" for s in small_targets(page)]
        context.close()
    assert not problems, "Touch targets under 44x44 px:\n" + "\n".join(problems)


def test_the_hub_carer_can_use_the_menu_on_a_phone_by_its_name(site, live_server, browser):
    """The folded menu button has a name, says whether it is open, and opens a
    navigation landmark."""
    context = signed_in_context(browser, live_server.url, site.hub_carer, "phone")
    page = context.new_page()
    visit(page, "/")
    toggle = page.get_by_role("button", name="Show or hide the menu")
    assert toggle.get_attribute("aria-expanded") == "false"
    toggle.click()
    page.locator("#main-nav.show").wait_for()
    assert toggle.get_attribute("aria-expanded") == "true"
    assert page.get_by_role("navigation", name="Main").get_by_role("link", name="Sleepovers")
    assert_accessible(page, context="hub carer, phone, menu open")
    context.close()
