"""Every page a person works on, in Chromium at desktop and phone width: 0 axe-core
WCAG 2.2 A/AA violations, no horizontal scrolling at 390 px, reachable by keyboard, and
forms that refuse bad input with the error summary while keeping what was typed.

CASEREVIEW_SCREENSHOTS=1 writes docs/screenshots/<page>-<width>.png."""

from __future__ import annotations

import os
from typing import Any

from tests.e2e.test_web_dashboard import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SHOTS,
    Api,
    _chromium_or_skip,
    _seed,
    live_server,
)
from tests.support.axe import violations
from tests.support.web import PASSWORD

__all__ = ["live_server"]  # the fixture, used by name
WIDTHS = (1366, 390)


def _look(page: Any, name: str) -> None:
    """axe finds nothing, nothing scrolls sideways; a screenshot when asked."""
    assert violations(page) == [], (name, page.url)
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width, (name, width)
    if os.environ.get("CASEREVIEW_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)


def test_the_pages_are_accessible_and_work_by_keyboard(live_server: tuple[str, Api]) -> None:
    _chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    base, api = live_server
    new_case = _seed(api)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(base + "/session")
            _look(page, "signin")
            # Keyboard only: the skip link, then the username and password, then Enter.
            page.keyboard.press("Tab")
            page.keyboard.press("Tab")
            page.keyboard.press("Tab")
            for _ in range(12):  # past the header's links to the first field
                if page.evaluate("document.activeElement.id") == "username":
                    break
                page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.id") == "username"
            page.keyboard.type("sam.patel")
            page.keyboard.press("Tab")
            page.keyboard.type("not the password at all")
            page.keyboard.press("Enter")
            expect(page.locator(".govuk-error-summary")).to_be_visible()
            expect(page.locator("#username")).to_have_value("sam.patel")  # kept
            expect(page.locator("#password")).to_have_value("")  # never sent back
            _look(page, "signin-error")
            page.locator("#password").fill(PASSWORD)
            page.keyboard.press("Enter")
            expect(page.get_by_role("heading", name="What needs attention")).to_be_visible()

            form = f"/cases/{new_case}/do/notification"
            pages = {
                "home": "/",
                "cases": "/cases",
                "case": f"/cases/{new_case}",
                "command-form": form,
                "incident": "/incidents/new",
                "change-password": "/account/password",
                "rulebooks": "/rulebooks",
            }
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                for name, path in pages.items():
                    page.goto(base + path)
                    expect(page.locator("h1")).to_have_count(1)
                    _look(page, name)

            # A form refuses an impossible date, says so at the top and keeps the answers.
            page.set_viewport_size({"width": 1366, "height": 900})
            page.goto(base + form)
            page.locator("input[name='notification_date-day']").fill("31")
            page.locator("input[name='notification_date-month']").fill("2")
            page.locator("input[name='notification_date-year']").fill("2025")
            page.locator("input[name='notification_reference']").fill("SIN-TYPED-1")
            page.locator("input[name='notification_reference']").press("Enter")
            summary = page.locator(".govuk-error-summary")
            expect(summary).to_be_visible()
            expect(page.locator("input[name='notification_reference']")).to_have_value(
                "SIN-TYPED-1"
            )
            expect(page.locator("input[name='notification_date-day']")).to_have_value("31")
            _look(page, "command-form-error")
            summary.locator("a").first.press("Enter")  # the summary's link reaches the field
            focused = page.evaluate("document.activeElement.name || document.activeElement.id")
            assert focused.startswith("notification_date"), focused
        finally:
            browser.close()
