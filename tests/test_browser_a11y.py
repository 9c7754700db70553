"""axe-core on every page of the running app, in Debian's chromium: no critical or serious violation.

`streamlit run dashboard/app.py` serves the shipped checkpoints; each page is opened in a fresh tab,
left to draw (its components included), and axe-core (npm `axe-core`, pinned in tests/js/package.json,
installed by `npm ci --prefix tests/js`) is injected and run on the whole document, shadow roots
of our components included. Each page's findings are printed (`pytest -s`), all impacts, so that a
moderate finding is seen before it becomes a serious one.

Streamlit's own sidebar list markup is not ours: it is left out by rule and selector, see UPSTREAM.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.browser_support import RENDERED_JS, RunTracker
from tests.conftest import missing_prerequisite
from tests.test_browser import REPO, RUN_TIMEOUT_MS, VIEWPORT, browser, dashboard  # noqa: F401

pytestmark = pytest.mark.browser

AXE = REPO / "tests" / "js" / "node_modules" / "axe-core" / "axe.min.js"
PAGES = ["/", "/training", "/train", "/generate", "/reconstruct", "/latent-map", "/explorer", "/traversals",
         "/arithmetic", "/your-digit", "/compare"]
BLOCKING = {"critical", "serious"}

# (axe rule, CSS selector of the elements it may flag) that are Streamlit's own markup, not ours, and
# nothing else. Streamlit 1.67's sidebar navigation, with page sections, puts each section's header and
# its page links (<li>) in a wrapper <div> inside the <ul data-testid="stSidebarNavItems">: axe's
# `listitem` flags every link (an <li> whose parent is not a list) and `list` flags the <ul> (a child
# that is not an <li>). We neither write nor style that markup.
UPSTREAM = [("listitem", '[data-testid="stSidebarNavItems"] li'), ("list", 'ul[data-testid="stSidebarNavItems"]')]

# True once every shown view of our components (its root: .vae-canvas or .vae-live) has drawn what it was
# last given (none: true); a view in a closed expander or another tab has no width and draws when opened.
COMPONENTS_DRAWN_JS = """() => [...document.querySelectorAll('*')].filter((e) => e.shadowRoot)
  .flatMap((host) => [...host.shadowRoot.querySelectorAll('.vae-canvas[data-model], .vae-live[data-model]')])
  .filter((root) => root.getBoundingClientRect().width > 0)
  .every((root) => (root.dataset.drawn ?? '') !== '')"""

# axe on the whole document -> {findings: [{rule, impact, help, target, html, upstream}] one per flagged node,
# unsure: how many texts' contrast axe could not decide (text over an image, say), for the printed summary}.
RUN_AXE_JS = """async (upstream) => {
  const results = await axe.run(document, {elementRef: true});
  const unsure = results.incomplete.filter((v) => v.id === 'color-contrast').flatMap((v) => v.nodes).length;
  const findings = results.violations.flatMap((v) => v.nodes.map((n) => ({
    rule: v.id, impact: n.impact ?? v.impact, help: v.help, target: JSON.stringify(n.target),
    html: n.html.slice(0, 200),
    upstream: upstream.some(([rule, selector]) => rule === v.id && n.element?.matches(selector) === true),
  })));
  return {findings, unsure};
}"""


@pytest.fixture(scope="module")
def axe_script():
    if not AXE.exists():
        missing_prerequisite(f"{AXE} not found: run `npm ci --prefix tests/js` "
                             "(axe-core, pinned in tests/js/package-lock.json)")
    return AXE


def findings_on(browser, url: str, axe_script) -> dict:  # noqa: F811
    """Open ``url`` in a fresh tab, wait until it and its components have drawn, run axe-core there."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        tab = context.new_page()
        tracker = RunTracker(tab)
        tab.goto(url)
        tracker.wait_after(0, RUN_TIMEOUT_MS)
        tracker.wait_quiet(1000, RUN_TIMEOUT_MS)  # a component's first report reruns the page
        tab.wait_for_function(COMPONENTS_DRAWN_JS, timeout=RUN_TIMEOUT_MS)
        # The whole page in the viewport: axe cannot tell the background of text scrolled out of view, and
        # reports its contrast as "incomplete" rather than as a violation. Streamlit scrolls inside stMain.
        height = tab.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        tab.set_viewport_size({"width": VIEWPORT["width"], "height": min(max(height, VIEWPORT["height"]), 8000)})
        tab.wait_for_function(RENDERED_JS, timeout=RUN_TIMEOUT_MS)
        tab.wait_for_function(COMPONENTS_DRAWN_JS, timeout=RUN_TIMEOUT_MS)
        tab.add_script_tag(path=str(axe_script))
        return tab.evaluate(RUN_AXE_JS, [list(pair) for pair in UPSTREAM])
    finally:
        context.close()


def summary(findings: list[dict], unsure: int) -> str:
    counts = Counter((f["impact"], f["rule"], f["upstream"]) for f in findings)
    found = ", ".join(f"{impact} {rule} x{n}" + (" (upstream, left out)" if upstream else "")
                      for (impact, rule, upstream), n in sorted(counts.items())) or "nothing"
    return f"{found}; colour contrast undecided x{unsure}"


@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_critical_or_serious_violation_in_our_markup(axe_script, browser, dashboard, path):  # noqa: F811
    result = findings_on(browser, dashboard.url + path, axe_script)
    findings = result["findings"]
    print(f"\naxe-core on {path}: {summary(findings, result['unsure'])}")
    for finding in (f for f in findings if not f["upstream"]):
        print(f"  {finding['impact']} {finding['rule']}: {finding['html'][:160]}")
    ours = [f for f in findings if f["impact"] in BLOCKING and not f["upstream"]]
    assert not ours, f"axe-core on {path}: {len(ours)} critical or serious nodes in our markup:\n" + "\n".join(
        f"  {f['impact']} {f['rule']} ({f['help']}): {f['target']} {f['html']}" for f in ours)
