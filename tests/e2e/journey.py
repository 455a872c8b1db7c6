"""What every journey does in the browser: sign a person in on the journey's screen,
move through the menu as they would (folded away on a phone), check each page with
axe-core, and keep a full-page screenshot of the last page."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

# Serious or critical accessibility findings fail the journey at its end (after its
# screenshot), all pages listed at once. E2E_AXE=report only writes them beside the
# screenshot; E2E_AXE=off skips axe-core (about a second a page) for a quick run.
AXE_MODE = os.environ.get("E2E_AXE", "fail")


class Journey:
    def __init__(self, browser, base, device, options, name, screenshots):
        self.browser = browser
        self.base = base
        self.device = device
        self.options = options
        self.name = name
        self.screenshots = Path(screenshots).resolve()
        self.contexts = []
        self.findings: list[str] = []
        self.checked = 0
        self.seen = set()
        self.axe_seconds = 0.0

    @property
    def phone(self) -> bool:
        return self.device == "phone"

    def new_page(self):
        """A fresh browser context (no cookies) on the journey's screen."""
        self.contexts.append(self.browser.new_context(**self.options))
        return self.contexts[-1].new_page()

    def log_in(self, email, password, *, page=None):
        """Sign in through the login page; returns the page on the person's home page."""
        page = page or self.new_page()
        page.goto(f"{self.base}/accounts/login/")
        self.check(page, "login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(f"{self.base}/")
        self.check(page, f"home of {email}")
        return page

    def menu(self, page, name, *, exact=True):
        """Follow a link of the main menu, opening the menu first on a phone."""
        toggle = page.get_by_role("button", name="Show or hide the menu")
        if toggle.is_visible():
            toggle.click()
        page.locator("nav.navbar").get_by_role("link", name=name, exact=exact).click()
        page.wait_for_load_state()
        self.check(page, name)

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def check(self, page, where: str = "") -> None:
        """Run axe-core (tests/e2e/axe.py) on the page as it stands and keep what fails."""
        if AXE_MODE == "off":
            return
        try:
            from tests.e2e.axe import assert_accessible
        except ImportError:
            return
        # A page already checked in this journey (the login page, for each person) once.
        key = (re.sub(r"\d+", "N", page.url.split("?")[0]), where)
        if key in self.seen:
            return
        self.seen.add(key)
        self.checked += 1
        began = time.monotonic()
        try:
            assert_accessible(page, context=f"{self.name}, {self.device}, {where}")
        except AssertionError as failure:
            self.findings.append(str(failure))
        finally:
            self.axe_seconds += time.monotonic() - began

    def finish(self, page) -> Path:
        """Keep a full-page screenshot of the last page, write the accessibility findings
        beside it, and fail when there were serious or critical ones."""
        self.check(page, "last page")
        self.screenshots.mkdir(parents=True, exist_ok=True)
        path = self.screenshots / f"{self.name}-{self.device}.png"
        page.screenshot(path=str(path), full_page=True)
        report = self.screenshots / f"{self.name}-{self.device}.axe.txt"
        if self.findings:
            report.write_text("\n\n".join(self.findings) + "\n", encoding="utf-8")
        elif report.exists():
            report.unlink()
        if self.findings and AXE_MODE == "fail":
            rules = sorted(set(re.findall(r"^- ([\w-]+) \(", "\n".join(self.findings), re.M)))
            raise AssertionError(
                f"{len(self.findings)} page(s) with serious accessibility violations "
                f"({', '.join(rules)}); see {report}:\n\n" + "\n\n".join(self.findings)
            )
        return path

    def close(self):
        if self.checked:
            print(f"axe-core: {self.checked} pages in {self.axe_seconds:.1f} s")
        for context in self.contexts:
            context.close()
