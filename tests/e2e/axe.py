"""Accessibility check of a page open in Playwright, with axe-core (WCAG 2.2 A and AA).

``assert_accessible(page, context="...")`` runs axe-core on the page as it stands (after
any clicks or typing the journey did) and fails, naming each rule, its impact, the
elements' CSS selectors and axe's help text, when a serious or critical violation is
found. Minor and moderate findings are returned, not failed on, so a journey can print or
assert them if it wants.

axe-core comes from node_modules (package.json pins its version; ``make assets`` installs
it). The site's Content-Security-Policy forbids injected inline ``<script>`` tags, so the
library is evaluated through the DevTools protocol with ``page.evaluate``, which the CSP
does not govern; nothing is added to the page's markup.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"

# The WCAG 2.0, 2.1 and 2.2 success criteria at levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
FAILING_IMPACTS = frozenset({"serious", "critical"})


@cache
def _axe_source() -> str:
    if not AXE_JS.exists():
        raise FileNotFoundError(f"{AXE_JS} is missing: run `make assets` (npm ci) first")
    return AXE_JS.read_text(encoding="utf-8")


def run_axe(page, *, tags=WCAG_TAGS, exclude=()) -> list[dict]:
    """Run axe-core on ``page`` and return its violations (axe's own dictionaries).

    ``tags`` picks the rules (default: WCAG 2.0/2.1/2.2 A and AA); ``exclude`` is a list of
    CSS selectors axe should leave out (e.g. a third-party widget). Injects axe once per
    document; raises Playwright's error if the page cannot run script.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # The source is an expression statement; evaluating it defines window.axe.
        page.evaluate(_axe_source() + "\n;undefined")
    options = {"runOnly": {"type": "tag", "values": list(tags)}, "resultTypes": ["violations"]}
    context = {"exclude": [[selector] for selector in exclude]} if exclude else None
    return page.evaluate(
        """async ([context, options]) => {
            const results = await window.axe.run(context || document, options);
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({
                    target: n.target, impact: n.impact, summary: n.failureSummary,
                    html: n.html.slice(0, 200),
                })),
            }));
        }""",
        [context, options],
    )


def format_violations(violations: list[dict]) -> str:
    """One readable block per violation: rule id, impact, help, then each element."""
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} ({violation['impact']}): {violation['help']} "
            f"[{violation['helpUrl']}]"
        )
        for node in violation["nodes"][:10]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    {target}")
            lines.append(f"      {node['html']}")
            if node.get("summary"):
                summary = node["summary"].replace("\n", " ")[:300]
                lines.append(f"      {summary}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    ... and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


def assert_accessible(page, *, context: str = "", exclude=()) -> list[dict]:
    """Fail when axe-core finds a serious or critical WCAG 2.2 A/AA violation on ``page``.

    ``context`` names the page in the failure message (e.g. "hub carer, phone, inbox").
    Returns the minor and moderate violations, which do not fail. Raises AssertionError
    listing each failing rule's id, impact, help and target selectors.
    """
    violations = run_axe(page, exclude=exclude)
    failing = [v for v in violations if v["impact"] in FAILING_IMPACTS]
    if failing:
        where = context or page.url
        raise AssertionError(
            f"Accessibility violations on {where} ({page.url}):\n{format_violations(failing)}"
        )
    return [v for v in violations if v["impact"] not in FAILING_IMPACTS]
