"""A hostile upload cannot run script on our origin: an HTML file whose <script> tries to
read the API key, change the page and its title, is uploaded through the page, opened with
the page's own "Åbn originalen" link and straight by its URL, and must not have run. The
pages' own scripts still run under the Content-Security-Policy, without a violation."""

from __future__ import annotations

import re

import pytest

from tests.web.test_browser import API_KEY, browser, server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow

HOSTILE = """<!DOCTYPE html>
<html lang="da"><head><meta charset="utf-8"><title>Ondsindet notat om takster</title></head>
<body>
<h1>Ondsindet notat om takster</h1>
<p>Notatet handler om taksterne for botilbud på det specialiserede socialområde i 2025 og
om rammeaftalen mellem kommunerne i regionen. Kommunerne følger belægningen hvert kvartal.</p>
<script>
  const stolen = JSON.stringify({...sessionStorage}) + JSON.stringify({...localStorage});
  localStorage.setItem("ran", stolen || "yes");
  document.title = "PWNED";
  try { window.opener && (window.opener.document.title = "PWNED"); } catch (e) {}
  document.body.insertAdjacentHTML("beforeend", "<p id='pwned'>PWNED</p>");
  fetch("/search?q=pwned-" + encodeURIComponent(stolen));
</script>
</body></html>
"""


@pytest.fixture
def context(browser):  # noqa: F811 (the fixture imported above)
    context = browser.new_context(locale="da-DK", accept_downloads=True)
    yield context
    context.close()


def test_an_uploaded_script_never_runs_on_our_origin(server, context, tmp_path):  # noqa: F811
    violations: list[str] = []
    context.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page = context.new_page()
    hostile = tmp_path / "ondsindet.html"
    hostile.write_text(HOSTILE, encoding="utf-8")

    page.goto(server + "/dokumenter")
    page.get_by_label("API-nøgle").fill(API_KEY)
    page.get_by_label(re.compile("^Filer")).set_input_files(str(hostile))
    page.get_by_role("button", name="Upload").click()
    page.wait_for_selector("text=Færdig", timeout=300_000)
    assert "færdig" in page.locator("#upload-status").inner_text()
    # The list is refreshed in place, and the key is still only in its field.
    page.get_by_role("link", name="Ondsindet notat om takster").click()
    page.wait_for_selector(".pagetext")
    title = page.title()
    storage = page.evaluate("JSON.stringify({...sessionStorage, ...localStorage})")
    assert API_KEY not in storage

    # The page's own link: a new tab without an opener, and the HTML comes as a download.
    link = page.get_by_role("link", name=re.compile("Åbn originalen"))
    assert link.get_attribute("target") == "_blank" and link.get_attribute("rel") == "noopener"
    with page.expect_download(timeout=30_000) as download, context.expect_page() as tab:
        link.click()
    assert download.value.suggested_filename == "ondsindet.html"
    opened = tab.value
    # Straight to the file's URL too: still a download, never a page.
    href = link.get_attribute("href")
    direct = context.new_page()
    with direct.expect_download(timeout=30_000):
        try:
            direct.goto(server + href)
        except Exception as err:  # Playwright: "Download is starting"
            assert "Download is starting" in str(err)

    page.wait_for_timeout(1000)  # time for a script that did run to show it
    assert page.title() == title != "PWNED"
    assert page.locator("#pwned").count() == 0
    for other in (opened, direct):
        if not other.is_closed():
            assert other.title() != "PWNED" and other.locator("#pwned").count() == 0
    assert page.evaluate("localStorage.getItem('ran')") is None, "the upload's script ran"
    assert not violations, violations  # our own pages need no exception from the policy


def test_a_pdf_original_still_opens_in_the_browser(server, context):  # noqa: F811
    """The sandbox policy does not stop the browser's PDF viewer."""
    page = context.new_page()
    docs = page.request.get(server + "/documents").json()["documents"]
    kora = next(d["id"] for d in docs if "kora-2013" in d["source"])
    page.goto(server + f"/dokument/{kora}?side=3")
    with context.expect_page() as tab:
        page.get_by_role("link", name=re.compile("Åbn originalen")).click()
    viewer = tab.value
    downloads: list = []
    viewer.on("download", lambda d: downloads.append(d))
    viewer.wait_for_load_state("commit")
    viewer.wait_for_timeout(1500)
    assert viewer.url.endswith(f"/documents/{kora}/file#page=3") and not downloads
