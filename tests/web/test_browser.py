"""The web page in real headless Chromium (Debian's), driven by Playwright, against a real
server on the corpus index: search in Danish, see a cited highlighted result, filter, open
the result at its page, upload a file and find it."""

from __future__ import annotations

import os
import re

import pytest

from tests.conftest import ARTIFACTS, FIXTURES, free_port, start_server

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
API_KEY = "browser-test-key"


@pytest.fixture(scope="module")
def server(corpus_index, tmp_path_factory):
    """``ops-search serve`` on a copy of the corpus index, as a user would start it."""
    import shutil

    data = tmp_path_factory.mktemp("web") / "data"
    shutil.copytree(corpus_index.data_dir, data)
    port = free_port()
    env = {**os.environ, "OPS_DATA_DIR": str(data), "OPS_CACHE_DIR": str(corpus_index.cache_dir),
           "OPS_API_KEYS": API_KEY}  # fmt: skip
    proc = start_server(env, port)
    url = f"http://127.0.0.1:{port}"
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: the README's set-up installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )  # fmt: skip
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="da-DK", viewport={"width": 1100, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def test_search_in_danish_shows_cited_highlighted_results(server, page):
    page.goto(server + "/")
    page.get_by_label("Søg i dokumenter om offentlig-privat samspil").fill(
        "Hvad står forkortelsen KORA for?"
    )
    page.keyboard.press("Enter")  # the keyboard is enough
    page.wait_for_selector("ol.hits li.hit")
    first = page.locator("li.hit").first
    assert re.search(r"s\. \d+", first.locator(".cite").inner_text())
    assert page.locator("li.hit mark").count() > 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "results.png"), full_page=True)


def test_filter_by_document_type(server, page):
    page.goto(server + "/?q=samarbejde")
    page.get_by_label(re.compile(r"^\s*Rapport")).check()
    page.get_by_role("button", name="Anvend filtre").click()
    page.wait_for_selector("li.hit")
    badges = page.locator("li.hit .badges .badge").all_inner_texts()
    assert "Rapport" in badges and "Artikel" not in badges and "Aftale" not in badges


def test_result_opens_the_document_at_the_cited_page(server, page):
    page.goto(server + "/?q=" + "Det Nationale Institut for Kommuners og Regioners Analyse")
    first = page.locator("li.hit").first
    cited = re.search(r"s\. (\d+)(?:–(\d+))?", first.locator(".cite").inner_text())
    assert cited
    start, end = cited.group(1), cited.group(2) or cited.group(1)
    first.locator("h2 a").click()
    page.wait_for_selector("#passage")
    pages = f"Side {start}" + (f"–{end}" if end != start else "") + " af 13"
    assert pages in page.locator(".pager").inner_text()
    passage = page.locator("#passage").inner_text()
    assert "Det Nationale Institut for Kommuners og Regioners Analyse og Forskning" in " ".join(
        passage.split()
    )
    # document.js gives the passage focus once it has run, which may be after #passage exists.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'passage'")
    original = page.get_by_role("link", name=re.compile("Åbn originalen"))
    assert original.get_attribute("href").endswith(f"#page={start}")


def test_a_question_typed_without_danish_letters_says_what_was_searched(server, page):
    page.goto(server + "/?q=" + "Hvad staar forkortelsen KORA for?")
    page.wait_for_selector("li.hit")
    assert "«Hvad står forkortelsen KORA for?»" in page.locator(".searched-for").inner_text()


def test_an_english_question_says_which_danish_words_were_searched_too(server, page):
    page.goto(server + "/?q=" + "What did the municipalities decide about the prices?")
    page.wait_for_selector("li.hit")
    gloss = page.locator(".gloss")
    assert "Også søgt på dansk" in gloss.inner_text() and "priser" in gloss.inner_text()
    assert gloss.get_attribute("lang") == "da"


def test_empty_result_suggests_what_to_try(server, page):
    page.goto(server + "/?q=zzqxv&mode=sparse")
    assert "Ingen resultater" in page.locator(".empty").inner_text()


def test_upload_a_file_and_find_it(server, page):
    page.goto(server + "/dokumenter")
    page.get_by_label("API-nøgle").fill(API_KEY)
    page.get_by_label(re.compile("^Filer")).set_input_files(str(FIXTURES / "minutes.txt"))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("text=Færdig", timeout=300_000)
    page.goto(server + "/?q=Mødedato 14. marts 2024 KKR Sjælland")
    page.wait_for_selector("li.hit")
    assert "minutes" in page.locator("li.hit").first.inner_text() or "Referat" in (
        page.locator("li.hit").first.inner_text()
    )


def test_page_is_usable_on_a_phone(server, browser):
    context = browser.new_context(viewport={"width": 375, "height": 740})
    page = context.new_page()
    page.goto(server + "/?q=takster")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
    page.screenshot(path=str(ARTIFACTS / "results-phone.png"), full_page=False)
    context.close()
