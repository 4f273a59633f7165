"""axe-core in a Playwright page: the WCAG 2.2 A/AA violations of what is on screen.

axe.min.js comes from npm (package.json) and `make assets` copies it to
tests/support/vendor/, outside the served static folder: no page of the product can load
it. It is evaluated through the browser's driver (the DevTools protocol), which the
pages' strict Content-Security-Policy does not govern, so the CSP stays as served."""

from __future__ import annotations

from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def violations(page: Any) -> list[str]:
    """Each violation of the page as `rule: selector (help)`; [] when there are none."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;true")
    found = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => v.nodes.map(n => v.id + ': ' + n.target.join(' ') + ' ('"
        " + v.help + ')')).flat()",
        TAGS,
    )
    return [str(v) for v in found]
