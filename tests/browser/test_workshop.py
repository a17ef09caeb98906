"""``lossbook workshop`` in the browser: the index, a lesson page, offline, large figures.

The real command runs (it builds the pages and starts Voilà on 127.0.0.1). Every request
the pages make is recorded, and any request to another host is aborted, as it would fail
in a room without internet: the test asserts there were none.
"""
from __future__ import annotations

import pytest

from labharness import artifact_path, course_server, explorer_responds, wait_canvas_drawn

pytestmark = pytest.mark.browser

LESSON = "02_mse"
FACTORY = "mse_line_fit"


@pytest.fixture(scope="module")
def workshop(chromium):
    with course_server("workshop") as server:
        yield server


@pytest.fixture
def offline_page(page, workshop):
    """A tab whose requests are recorded; requests leaving 127.0.0.1 are aborted."""
    local = workshop.url + "/"
    page.requests = []
    page.external = []

    def route(route):
        url = route.request.url
        if url.startswith(local) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            page.external.append(url)
            route.abort()

    page.route("**/*", route)
    page.on("request", lambda request: page.requests.append(request.url))
    return page


def test_index_lists_every_lesson_offline(offline_page, workshop, request):
    from lossbook import explorers

    page = offline_page
    page.goto(f"{workshop.url}/voila/render/index.ipynb", wait_until="domcontentloaded")
    page.locator("#rendered_cells h1").first.wait_for(state="visible", timeout=180_000)
    hrefs = page.locator("#rendered_cells a").evaluate_all("els => els.map(e => e.getAttribute('href'))")
    lessons = [lesson for _module, lesson in explorers.FACTORIES.values()]
    assert [h for h in hrefs if h.endswith(".ipynb")] == [f"{lesson}.ipynb" for lesson in lessons]
    page.screenshot(path=str(artifact_path(request.node.name, "index.png")))
    assert page.external == [], f"the index page requested other hosts: {page.external}"
    assert page.requests and all(u.startswith(workshop.url) or u.startswith("data:")
                                 for u in page.requests)


def test_lesson_page_shows_a_large_explorer_without_code(offline_page, workshop, request):
    from lossbook import explorers
    from lossbook.workshop import PROJECTOR_DPI

    page = offline_page
    page.goto(f"{workshop.url}/voila/render/index.ipynb", wait_until="domcontentloaded")
    link = page.locator(f"#rendered_cells a[href='{LESSON}.ipynb']")
    link.wait_for(state="visible", timeout=180_000)
    link.click()  # the index's link is how the instructor gets there
    page.wait_for_url(f"**/voila/render/{LESSON}.ipynb", timeout=60_000)
    explorer = page.locator(".lossbook-explorer").first
    explorer.wait_for(state="attached", timeout=180_000)
    assert page.locator("#rendered_cells h1").first.inner_text().startswith("02 ·")
    # No code: Voilà strips every input; only outputs and Markdown are on the page.
    assert page.locator(".jp-CodeCell .jp-InputArea, .jp-InputArea-editor, .cm-editor, pre code").count() == 0
    text = page.locator("#rendered_cells").inner_text()
    assert "explorers." not in text and "EXPLORER_DPI" not in text
    assert "Error displaying widget" not in text and "Traceback" not in text

    canvas = explorer.locator("canvas").first
    explorer.scroll_into_view_if_needed()
    before = wait_canvas_drawn(canvas)
    # Large figures: drawn at the projector resolution, not the lessons' 80 dpi.
    width_inches = getattr(explorers, FACTORY)().figure.get_figwidth()
    assert abs(before["width"] - round(width_inches * PROJECTOR_DPI)) <= 2, before

    explorer_responds(explorer, request.node.name)
    page.screenshot(path=str(artifact_path(request.node.name, "lesson.png")), full_page=True)
    assert page.external == [], f"the lesson page requested other hosts: {page.external}"
