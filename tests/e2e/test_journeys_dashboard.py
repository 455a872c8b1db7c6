"""A fostering manager's dashboard, in a real Chromium, on a phone and on a desktop:
the service's figures, a drill-down into one constellation, and a table exported as CSV
whose content is the table's."""

import csv
import io
from pathlib import Path

from sleepovers import services
from sleepovers.models import Kind
from tests.factories import PASSWORD
from tests.sleepovers.helpers import allow_hub, stay


def test_a_manager_drills_down_and_exports_csv(people, journey):
    # A stay that happened this month, so that the figures have something to count.
    allow_hub(people.child, by=people.liaison, nights=2)
    start, end = stay(1)
    booked = services.create_request(
        by=people.satellite_carer, kind=Kind.PLANNED, children=[people.child], start=start, end=end
    )
    services.accept(booked, by=people.hub_carer)

    manager = journey.log_in("manager@test.example", PASSWORD)
    assert "Northshire Fostering" in manager.locator("main").inner_text()
    journey.menu(manager, "Dashboard")
    assert manager.get_by_test_id("headline").is_visible()
    main = manager.locator("main").inner_text()
    assert "Riverside" in main
    assert "Hillside" in main
    assert "Southshire" not in manager.content()

    manager.locator("main table").get_by_role("link", name="Riverside").first.click()
    manager.wait_for_load_state()
    journey.check(manager, "Riverside's dashboard")
    assert "Riverside" in manager.locator("h1").inner_text()
    assert "Hillside" not in manager.locator("main table").first.inner_text()

    table = manager.locator("main section[data-testid^=table-]").first
    title = table.locator("h2").inner_text()
    with manager.expect_download() as download:
        table.get_by_role("link", name="CSV").click()
    content = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(content)))
    assert title == "Support care"
    header, *lines = rows
    # Riverside's figures only, as the drilled-down page shows them: the one stay booked.
    assert [line[0] for line in lines] == ["Riverside"]
    figures = dict(zip(header, lines[0], strict=True))
    assert figures["Requests"] == "1"
    assert figures["Stays: planned overnight stays"] == "1"
    assert figures["Nights provided"] == "1"
    assert figures["Acceptance rate (%)"] == "100.0"
    shown = table.locator("table").inner_text()
    assert "Nights provided" in shown or "Nights" in shown
    journey.finish(manager)
