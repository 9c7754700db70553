"""A view's state in a real browser, changed the way a person changes it.

Each sequence (switch the model, open a copied address, go Back) must end where a fresh load
of the address in the bar ends: same heading, same URL, and the components drawing the same
data, as their root elements say (``data-model``, ``data-method``, ``data-points``,
``data-fingerprint``). AppTest cannot see a component that keeps drawing old data; chromium can.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser_support import RunTracker, full_page_screenshot, screenshot_dir
from tests.test_browser import REPO, RUN_TIMEOUT_MS, browser, dashboard  # noqa: F401
from tests.test_browser_canvas import close, heading, open_tab

pytestmark = pytest.mark.browser

Z10 = "mnist-z10-h400-e12-b128-lr0.001-s0"  # folder names: what the components' data attributes say
Z5 = "mnist-z5-h400-e12-b128-lr0.001-s0"
LABEL = {Z10: "MNIST · MLP, z = 10", Z5: "MNIST · MLP, z = 5"}  # what the model picker and the address say

# What every component on the page says it draws: one {class, model, method, points, fingerprint, drawn} per view.
DRAWN_JS = """() => [...document.querySelectorAll('*')].filter((e) => e.shadowRoot)
  .flatMap((host) => [...host.shadowRoot.querySelectorAll('[data-view][data-model]')])
  .filter((root) => root.getBoundingClientRect().width > 0)
  .map((root) => ({view: root.className, model: root.dataset.model, method: root.dataset.method ?? '',
                   points: root.dataset.points ?? '', fingerprint: root.dataset.fingerprint ?? '',
                   drawn: root.dataset.drawn ?? ''}))"""
# True once every component on the page (none on some pages) has drawn what it was last given, for ``model``.
ALL_DRAWN_JS = f"""([model, some]) => {{
  const views = ({DRAWN_JS})();
  const ours = some ? views.some((v) => v.model.split(',').includes(model)) : views.length === 0;
  return ours && views.every((v) => v.drawn !== '');
}}"""
# What the page shows besides the components: its images (Streamlit's media URLs name their bytes) and its text.
PAGE_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  return {images: [...main.querySelectorAll('img')].map((i) => new URL(i.src).pathname),
          text: main.innerText};
}"""
# Pages that show the chosen model, by URL path: what our components draw there ("none"; "model": the chosen
# model only; "family": every model compared beside it, so a switch within the family keeps them).
MODEL_PAGES = {"training": "none", "generate": "none", "reconstruct": "none", "latent-map": "model",
               "explorer": "model", "traversals": "none", "arithmetic": "none", "your-digit": "model",
               "compare": "family"}


def settled_view(tracker: RunTracker, model: str, components: bool = True) -> dict:
    """Wait until the page is quiet and its components (if it has any) draw ``model``; then say what it shows."""
    page = tracker.page
    tracker.wait_quiet(1000, RUN_TIMEOUT_MS)
    try:
        page.wait_for_function(ALL_DRAWN_JS, arg=[model, components], timeout=RUN_TIMEOUT_MS)
    except Exception as error:  # say what the page draws instead of a bare timeout
        raise AssertionError(f"the components never drew {model}: {page.evaluate(DRAWN_JS)}") from error
    views = sorted(page.evaluate(DRAWN_JS), key=lambda v: (v["view"], v["model"], v["method"]))
    return {"heading": heading(page), "query": parse_qs(urlparse(page.url).query), "path": urlparse(page.url).path,
            "views": [{k: v for k, v in view.items() if k != "drawn"} for view in views], **page.evaluate(PAGE_JS)}


def pick_model(tracker: RunTracker, latent_dim: int) -> None:
    """Choose the MNIST MLP with beta 1 at ``latent_dim`` in the sidebar, as a person does."""
    page = tracker.page
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Model").click()
    options = page.get_by_role("option").filter(has_text=re.compile(rf"(^|[ ,·]) ?z = {latent_dim}$"))
    runs = tracker.finished
    options.first.click()
    tracker.wait_after(runs, RUN_TIMEOUT_MS)


@pytest.mark.parametrize("path", list(MODEL_PAGES))
def test_a_model_switch_shows_what_a_fresh_load_of_the_new_address_shows(browser, dashboard, path):  # noqa: F811
    first = open_tab(browser, f"{dashboard.url}/{path}?model={quote(LABEL[Z10])}")
    try:
        drawn = MODEL_PAGES[path] != "none"  # a component of ours draws the model here
        before = settled_view(first, Z10, drawn)
        pick_model(first, 5)
        switched = settled_view(first, Z5, drawn)
        full_page_screenshot(first.page, screenshot_dir(REPO) / f"switched-{path}.png")
        address = first.page.url
    finally:
        close(first)
    assert switched["query"]["model"] == [LABEL[Z5]]
    if MODEL_PAGES[path] != "family":  # Compare shows the whole family either way
        assert switched["text"] != before["text"]
        assert switched["views"] != before["views"] or MODEL_PAGES[path] == "none"
    fresh = open_tab(browser, address)
    try:
        assert settled_view(fresh, Z5, drawn) == switched
    finally:
        close(fresh)


def test_a_copied_explorer_address_brings_back_the_plane_axes(browser, dashboard):  # noqa: F811
    first = open_tab(browser, f"{dashboard.url}/explorer?model={quote(LABEL[Z10])}")
    page = first.page
    try:
        settled_view(first, Z10)
        main = page.get_by_test_id("stMain")
        main.get_by_test_id("stSelectbox").filter(has_text="Plane: horizontal dimension").click()
        chosen = page.get_by_role("option").nth(4)
        name = chosen.inner_text()
        runs = first.finished
        chosen.click()
        first.wait_after(runs, RUN_TIMEOUT_MS)
        shown = settled_view(first, Z10)
        address = page.url
    finally:
        close(first)
    assert parse_qs(urlparse(address).query)["plane_x"] == [name]
    second = open_tab(browser, address)
    try:
        box = second.page.get_by_test_id("stMain").get_by_role("combobox", name="Plane: horizontal dimension")
        expect(box).to_have_value(name, timeout=RUN_TIMEOUT_MS)
        assert settled_view(second, Z10) == shown
    finally:
        close(second)


def visit(tracker: RunTracker, title: str) -> None:
    """Click a page in the sidebar's navigation and wait for it to draw."""
    runs = tracker.finished
    tracker.page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    tracker.wait_after(runs, RUN_TIMEOUT_MS)
    tracker.wait_quiet(1000, RUN_TIMEOUT_MS)


def test_back_and_forward_move_between_the_pages_seen(browser, dashboard):  # noqa: F811
    tracker = open_tab(browser, f"{dashboard.url}/?model={quote(LABEL[Z10])}")
    page = tracker.page
    try:
        tracker.wait_quiet(1000, RUN_TIMEOUT_MS)
        start = page.evaluate("history.length")
        visit(tracker, "Latent map")
        visit(tracker, "Latent explorer")  # its sliders report their values: the address needs none of them
        visit(tracker, "Traversals")
        assert page.evaluate("history.length") == start + 3  # one entry per page visit
        expected = [("/explorer", "Latent explorer"), ("/latent-map", "Latent map of"), ("/", "VAE Latent Explorer")]
        for path, title in expected:
            page.go_back()
            expect(page.get_by_test_id("stMain").locator("h1").first).to_contain_text(title, timeout=RUN_TIMEOUT_MS)
            assert urlparse(page.url).path == path
        page.go_forward()
        expect(page.get_by_test_id("stMain").locator("h1").first).to_contain_text("Latent map of",
                                                                                    timeout=RUN_TIMEOUT_MS)
    finally:
        close(tracker)


def test_two_tabs_keep_their_own_model(browser, dashboard):  # noqa: F811
    left = open_tab(browser, f"{dashboard.url}/latent-map?model={quote(LABEL[Z10])}")
    right = open_tab(browser, f"{dashboard.url}/latent-map?model={quote(LABEL[Z5])}")
    try:
        right_view = settled_view(right, Z5)
        settled_view(left, Z10)
        pick_model(left, 2)
        settled_view(left, "mnist-z2-h400-e12-b128-lr0.001-s0")
        right.page.reload()
        assert settled_view(right, Z5) == right_view
    finally:
        close(left)
        close(right)


def test_a_link_naming_the_model_by_its_folder_keeps_the_model_in_the_address(browser, dashboard):  # noqa: F811
    """An older link names the model by its folder; the page opens that model and the address then names it by
    its label (as the picker writes it), so a link copied from the bar still opens the same model."""
    tracker = open_tab(browser, f"{dashboard.url}/latent-map?model={Z10}&map=t-SNE")
    try:
        shown = settled_view(tracker, Z10)
        address = tracker.page.url
    finally:
        close(tracker)
    assert shown["query"].get("model") == [LABEL[Z10]], address
    assert shown["query"].get("map") == ["t-SNE"], address  # the rest of the address stays
    fresh = open_tab(browser, address)
    try:
        assert settled_view(fresh, Z10) == shown
    finally:
        close(fresh)


def test_a_link_to_the_explorer_opened_in_a_new_tab_shows_the_same_model(browser, dashboard):  # noqa: F811
    """The map's "Open in the Latent explorer" is a link: its address names the model, so a new tab (a middle
    click, or the copied link) opens the explorer on the model the map showed, at the clicked digit."""
    tracker = open_tab(browser, f"{dashboard.url}/latent-map?model={quote(LABEL[Z10])}&select=row%3A42")
    try:
        settled_view(tracker, Z10)
        href = tracker.page.get_by_role("link", name="Open in the Latent explorer").get_attribute("href")
    finally:
        close(tracker)
    assert parse_qs(urlparse(href).query) == {"model": [LABEL[Z10]], "start": ["Test digit"], "digit": ["42"]}
    second = open_tab(browser, f"{dashboard.url}/{href.lstrip('/')}")
    try:
        shown = settled_view(second, Z10)
        assert shown["path"] == "/explorer" and shown["heading"].endswith("z = 10")
        expect(second.page.get_by_role("radio", name="Test digit")).to_be_checked()
        expect(second.page.get_by_label(re.compile(r"^Test digit \(0 to 9999\)"))).to_have_value("42")
    finally:
        close(second)
