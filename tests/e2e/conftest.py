"""End-to-end journeys in a real Chromium (Debian's package), driven by Playwright."""

import os
import shutil

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            if CHROMIUM is None:
                item.add_marker(
                    pytest.mark.skip(reason="Chromium is not installed (apt-get install chromium)")
                )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


# --- journeys: one role per browser context, on a phone and on a desktop --------------

DEVICES = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 900}},
}
# Where the journeys leave a full-page screenshot of their last page:
# E2E_SCREENSHOTS=<directory>, by default var/e2e-screenshots in the project (ignored by git).
SCREENSHOTS = os.environ.get(
    "E2E_SCREENSHOTS",
    os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "var", "e2e-screenshots"),
)


@pytest.fixture(params=list(DEVICES))
def screen(request):
    """The name of the screen a journey runs on: "phone" (390x844, touch) or "desktop".
    (Not ``device``: pytest-playwright's own fixture of that name sets up ``page``.)"""
    return request.param


@pytest.fixture
def journey(request, screen, browser, live_server):
    """A journey's browser: ``journey.log_in(email, password)`` opens a fresh context on
    the device's screen and signs in through the login page; ``journey.check(page)`` runs
    axe-core on the page; ``journey.finish(page)`` keeps its last page. Contexts are
    closed afterwards, so no page goes on polling the server while other tests run."""
    from tests.e2e.journey import Journey

    name = request.node.originalname.removeprefix("test_")
    trip = Journey(browser, live_server.url, screen, DEVICES[screen], name, SCREENSHOTS)
    yield trip
    trip.close()


@pytest.fixture
def people(nine_am, transactional_db, django_db_serialized_rollback):
    """The test world of tests/conftest.py (one service, two constellations, another
    service), the clock at 09:00 London today and ticking, built for a live server."""
    from tests.conftest import build_world

    return build_world()
