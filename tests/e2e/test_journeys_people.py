"""People journeys in a real Chromium, each on a phone and on a desktop: a liaison
worker adds a household, a carer (who accepts the invitation in their own browser and
sets a password) and a child; a person with an authenticator signs in with a second
factor."""

import re
from datetime import date

from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.core import mail

from constellation.models import Carer, Child, Household
from people.models import StaffRole, User
from tests import factories as f
from tests.factories import PASSWORD

NEW_PASSWORD = "a-long-new-password-for-Jo"  # noqa: S105 - typed by the new carer


def test_a_liaison_worker_adds_a_household_a_carer_and_a_child(people, journey):
    liaison = journey.log_in("liaison@test.example", PASSWORD)
    journey.menu(liaison, "Constellations")
    liaison.get_by_role("link", name="Riverside").first.click()
    liaison.wait_for_load_state()
    journey.check(liaison, "the constellation")
    liaison.get_by_role("link", name="Add household").click()
    liaison.wait_for_load_state()
    journey.check(liaison, "add a household")
    liaison.get_by_label("Name").fill("The Carvers")
    liaison.get_by_label("Address").fill("12 Orchard Road")
    liaison.get_by_label("Postcode").fill("NS1 4AB")
    liaison.get_by_label("Phone", exact=True).fill("07700 900123")
    liaison.get_by_label("Satellite household").check()
    liaison.get_by_label("Why it is proposed").fill("Lives five minutes from the hub")
    liaison.get_by_role("button", name="Add household").click()
    liaison.wait_for_load_state()
    journey.check(liaison, "the new household")
    assert "The Carvers was added to Riverside" in liaison.locator("main").inner_text()
    household = Household.objects.get(name="The Carvers")

    liaison.get_by_role("link", name="Add carer").click()
    liaison.wait_for_load_state()
    journey.check(liaison, "add a carer")
    liaison.get_by_label("Email").fill("jo.carver@test.example")
    liaison.get_by_label("First name").fill("Jo")
    liaison.get_by_label("Last name").fill("Carver")
    liaison.get_by_role("button", name="Add carer and send invitation").click()
    liaison.wait_for_load_state()
    journey.check(liaison, "the household with its carer")
    assert "an invitation went to jo.carver@test.example" in liaison.locator("main").inner_text()
    assert Carer.objects.filter(household=household, user__email="jo.carver@test.example").exists()

    liaison.get_by_role("link", name="Add child").click()
    liaison.wait_for_load_state()
    journey.check(liaison, "add a child")
    liaison.get_by_label("First name").fill("Kai")
    liaison.get_by_label("Last name").fill("Marlow")
    liaison.get_by_label("Date of birth").fill(date(2016, 5, 4).isoformat())
    liaison.get_by_role("button", name="Add child").click()
    liaison.wait_for_load_state()
    journey.check(liaison, "the household with its child")
    assert "Kai" in liaison.locator("main").inner_text()
    assert Child.objects.filter(household=household, first_name="Kai").exists()

    # The invitation, opened in the new carer's own browser.
    [invitation] = [m for m in mail.outbox if m.to == ["jo.carver@test.example"]]
    link = re.search(r"https?://\S+/invitations/\S+/", invitation.body).group(0)
    jo = journey.new_page()
    jo.goto(link)
    journey.check(jo, "the invitation")
    assert "jo.carver@test.example" in jo.locator("main").inner_text()
    jo.get_by_label("Choose a password").fill(NEW_PASSWORD)
    jo.get_by_label("Type it again").fill(NEW_PASSWORD)
    jo.get_by_role("button").filter(has_text=re.compile("password", re.I)).last.click()
    jo.wait_for_load_state()
    journey.check(jo, "after setting the password")
    if "/accounts/login/" in jo.url:
        journey.log_in("jo.carver@test.example", NEW_PASSWORD, page=jo)
    jo.goto(journey.url("/"))
    journey.check(jo, "Jo's home")
    # The household is proposed: it joins the constellation once the membership starts.
    assert "Welcome, Jo" in jo.locator("main").inner_text()
    assert "not part of a constellation yet" in jo.locator("main").inner_text()
    jo.get_by_role("link", name="Your household's details").click()
    jo.wait_for_load_state()
    journey.check(jo, "Jo's household")
    assert "The Carvers" in jo.locator("main").inner_text()
    assert "Kai" in jo.locator("main").inner_text()
    assert User.objects.get(email="jo.carver@test.example").check_password(NEW_PASSWORD)
    journey.finish(jo)


def current_code(secret: str) -> str:
    counters = list(yield_hotp_counters_from_time())  # the periods either side, if tolerated
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def test_a_person_with_an_authenticator_signs_in_with_a_code(people, journey):
    manager = f.staff(people.service, StaffRole.Role.MANAGER, email="totp@test.example")
    secret = generate_totp_secret()
    TOTP.activate(manager, secret)

    page = journey.new_page()
    page.goto(journey.url("/"))
    assert "/accounts/login/" in page.url
    journey.check(page, "login")
    page.get_by_label("Email").fill(manager.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/accounts/2fa/authenticate/")
    journey.check(page, "the code page")
    # No way in yet: the home page sends back to the login.
    assert "Northshire" not in page.locator("main").inner_text()
    page.get_by_label("Code").fill("000000" if current_code(secret) != "000000" else "111111")
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_load_state()
    assert "/accounts/2fa/authenticate/" in page.url
    assert "code" in page.locator("main").inner_text().lower()
    page.get_by_label("Code").fill(current_code(secret))
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url(journey.url("/"))
    journey.check(page, "home after the second factor")
    assert "Northshire Fostering" in page.locator("main").inner_text()
    journey.finish(page)
