"""axe-core in the page: WCAG 2.1 A and AA rules, and what fails a test (impact serious or
critical). The script is bundled in ``tests/browser/axe/`` (no CDN, no npm at test time)."""

from pathlib import Path

AXE_SOURCE = (Path(__file__).parent / "axe" / "axe.min.js").read_text()
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


def axe_violations(page) -> list[str]:
    """The serious and critical WCAG 2.1 AA violations on the page as it is now, one line
    each: rule, impact, what it asks, and the elements at fault."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE + "\n;undefined")
    # Colours in the middle of a transition (a button just pressed or focused) are neither
    # the before nor the after: let every running transition finish first.
    page.evaluate(
        """async () => await Promise.all(
            document.getAnimations().map((animation) => animation.finished.catch(() => null)))"""
    )
    result = page.evaluate(
        """async (tags) => await window.axe.run(document, {
            runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]})""",
        WCAG_21_AA,
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def sideways_scroll(page) -> int:
    """How many CSS pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate(
        "() => Math.max(0, document.documentElement.scrollWidth - window.innerWidth)"
    )
