"""axe-core checks for pages driven by Playwright.

axe is evaluated through the DevTools protocol, so the page's Content-Security-Policy
(no inline script) stays in force while it runs.
"""

import itertools
import os
import re
from functools import cache
from pathlib import Path

import axe_playwright_python
from playwright.sync_api import Page

# Set BROWSER_SCREENSHOTS=/some/folder to keep a full-page screenshot of every checked page.
SCREENSHOTS = os.environ.get("BROWSER_SCREENSHOTS")
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice")


@cache
def axe_source() -> str:
    return (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()


class PageAudit:
    """What one browser tab loaded and which of those documents axe has checked."""

    def __init__(self, page: Page) -> None:
        self._page = page
        self.visited: list[str] = []
        self.audited = 0
        self.errors: list[str] = []
        page.on("framenavigated", self._navigated)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))
        page.on("console", self._console)
        page.on("response", self._response)

    def _navigated(self, frame) -> None:
        if frame == self._page.main_frame:
            self.visited.append(frame.url)

    def _console(self, message) -> None:
        # Failed loads are reported by _response, which knows a page from a stylesheet.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console error on {self._page.url}: {message.text}")

    def _response(self, response) -> None:
        request = response.request
        if response.status >= 400 and request.resource_type != "document":
            self.errors.append(f"{request.resource_type} {request.url} answered {response.status}")

    def unaudited(self) -> list[str]:
        return self.visited[self.audited :]


_audits: dict[Page, PageAudit] = {}


def track(page: Page) -> PageAudit:
    """Watch a tab: the `page` fixture does this; call it for any extra tab a test opens."""
    audit = _audits[page] = PageAudit(page)
    return audit


def untrack(page: Page) -> None:
    _audits.pop(page, None)


def audit_of(page: Page) -> PageAudit | None:
    return _audits.get(page)


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']}\n"
            f"  {violation['helpUrl']}"
        )
        for node in violation["nodes"]:
            target = " ".join(
                " > ".join(part) if isinstance(part, list) else part for part in node["target"]
            )
            lines.append(f"    at {target}: {node['html'][:200]}")
            if node.get("failureSummary"):
                summary = node["failureSummary"].replace("\n", "\n      ")
                lines.append(f"      {summary}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Run axe-core on the page as it is now and fail listing every violation."""
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    results = page.evaluate(
        "options => window.axe.run(document, options)",
        {"runOnly": {"type": "tag", "values": list(AXE_TAGS)}, "resultTypes": ["violations"]},
    )
    audit = _audits.get(page)
    if audit is not None:
        audit.audited = len(audit.visited)
    if SCREENSHOTS:
        _screenshot(page)
    violations = results["violations"]
    assert not violations, (
        f"{len(violations)} accessibility violation(s) on {page.url} "
        f"at {page.viewport_size['width']}px:\n{format_violations(violations)}"
    )


_shot_numbers = itertools.count(1)


def _screenshot(page: Page) -> None:
    path = page.url.split("//", 1)[-1].partition("/")[2].lower()
    slug = re.sub(r"[^a-z0-9]+", "-", path).strip("-")[:40] or "home"
    name = f"{next(_shot_numbers):03d}-{page.viewport_size['width']}-{slug}.png"
    folder = Path(SCREENSHOTS)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / name, full_page=True)
