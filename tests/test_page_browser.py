"""The search page and the document view in a real browser: Debian's Chromium driven by Playwright.

One browser for the module, a fresh context (cookies, clipboard, viewport) per test. The servers are
real: `pqa serve` over the paper (the session's `live_server`), another over a hostile document, and
an in-process uvicorn with no index yet for the not-ready state.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, quote, urlparse

import httpx
import pytest
import uvicorn

from index.embedder import Embedder
from index.store import Store
from service.app import create_app
from service.reindex import ingest
from service.settings import Settings

from .conftest import PAPER_ID, ROOT, LiveServer, free_port

CHROMIUM = "/usr/bin/chromium"
if shutil.which(CHROMIUM) is None:
    pytest.skip(
        f"BROWSER TESTS SKIPPED: {CHROMIUM} is missing; install it with `apt-get install -y chromium` (as root)",
        allow_module_level=True,
    )
sync_api = pytest.importorskip("playwright.sync_api", reason="the dev extra installs playwright: pip install -e .[dev]")
Browser, Page, expect = sync_api.Browser, sync_api.Page, sync_api.expect

pytestmark = pytest.mark.browser

QUESTION = "How does IOM define protection?"
TITLE = "IOM's Approach to the Protection of Migrants and Displaced Persons"
PARA_7 = f"{TITLE}, para. 7, p. 2"
OUTPUT = ROOT / "test-output"


@dataclass
class Tab:
    """A page with what it must never do recorded: dialogs (alert()) and uncaught script errors."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield launched
        launched.close()


def open_tab(browser: Browser, width: int = 1280, height: int = 900, clipboard: bool = False) -> Tab:
    context = browser.new_context(viewport={"width": width, "height": height})
    if clipboard:
        context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(20_000)
    tab = Tab(page)
    page.on("dialog", lambda dialog: (tab.dialogs.append(dialog.message), dialog.dismiss()))
    page.on("pageerror", lambda error: tab.errors.append(str(error)))
    return tab


@pytest.fixture
def tab(browser: Browser) -> Iterator[Tab]:
    opened = open_tab(browser)
    yield opened
    assert opened.errors == [], f"script errors on the page: {opened.errors}"
    opened.page.context.close()


def search_url(base: str, q: str, **params: str) -> str:
    extra = "".join(f"&{k}={quote(v)}" for k, v in params.items())
    return f"{base}/?q={quote(q)}{extra}"


def first_result(page: Page) -> sync_api.Locator:
    return page.locator("#results > li").first


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


# -- the journey: question, citation, URL, reload, Back, document -----------------------------


def test_question_and_enter_show_para_7_first(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(live_server.url + "/")
    expect(page.locator("#q")).to_be_focused()
    page.keyboard.type(QUESTION)
    page.keyboard.press("Enter")
    first = first_result(page)
    expect(first.locator(".cite")).to_have_text(PARA_7)
    assert int(first.locator(".cite").evaluate("e => getComputedStyle(e).fontWeight")) >= 700
    assert query_of(page)["q"] == [QUESTION]

    api = httpx.get(f"{live_server.url}/api/search", params={"q": QUESTION}).json()
    top = api["passages"][0]
    assert first.locator("blockquote").inner_text() == top["text"]
    start, end = top["highlight"]["start"], top["highlight"]["end"]
    expect(first.locator("mark")).to_have_text(top["text"][start:end])
    expect(first.locator(".section")).to_have_text("Section: Protection and rights throughout the history of IOM")
    link = first.get_by_role("link", name="Open para. 7 in the document")
    assert link.get_attribute("href") == f"/documents/{PAPER_ID}#para-7"
    expect(page.locator("#results > li")).to_have_count(len(api["passages"]))
    expect(page.locator("#status")).to_have_text(re.compile(r"^5 passages in \d+ ms\.$"))

    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / "results-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000


def test_query_in_url_survives_reload_and_back(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(search_url(live_server.url, QUESTION))
    expect(first_result(page).locator(".cite")).to_have_text(PARA_7)
    page.reload()
    expect(first_result(page).locator(".cite")).to_have_text(PARA_7)
    expect(page.locator("#q")).to_have_value(QUESTION)

    page.locator("#q").fill("What should Member States do?")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q=What\+should\+Member"))
    expect(first_result(page).locator(".cite")).not_to_have_text(PARA_7)
    page.go_back()
    assert query_of(page)["q"] == [QUESTION]
    expect(page.locator("#q")).to_have_value(QUESTION)
    expect(first_result(page).locator(".cite")).to_have_text(PARA_7)
    page.go_forward()
    expect(page.locator("#q")).to_have_value("What should Member States do?")


def test_keyboard_only_from_result_to_marked_paragraph(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(search_url(live_server.url, QUESTION))
    link = first_result(page).get_by_role("link", name="Open para. 7 in the document")
    expect(link).to_be_visible()
    page.locator("#q").focus()
    for _ in range(12):  # Tab from the box, through the form, to the first result's link
        page.keyboard.press("Tab")
        if link.evaluate("e => e === document.activeElement"):
            break
    expect(link).to_be_focused()
    assert link.evaluate("e => getComputedStyle(e).outlineStyle") != "none", "keyboard focus is not visible"
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/documents/{PAPER_ID}#para-7")
    para = page.locator("#para-7")
    expect(para).to_have_class(re.compile(r"\bis-target\b"))
    assert para.evaluate("e => e.matches(':target')")
    expect(para).to_be_in_viewport()
    assert para.evaluate("e => getComputedStyle(e).backgroundColor") != page.locator("#para-8").evaluate(
        "e => getComputedStyle(e).backgroundColor"
    ), "the cited paragraph is not visibly marked"
    expect(para.locator(".num")).to_have_text("7")


def test_footnote_call_goes_to_its_footnote_and_back(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(f"{live_server.url}/documents/{PAPER_ID}#para-6")
    expect(page.locator("#para-6")).to_have_class(re.compile(r"\bis-target\b"))
    page.locator("#para-6 sup.call a", has_text="4").click()
    expect(page).to_have_url(re.compile(r"#fn-4$"))
    footnote = page.locator("#fn-4")
    expect(footnote).to_have_class(re.compile(r"\bis-target\b"))
    expect(footnote).to_be_in_viewport()
    expect(page.locator("#para-6")).not_to_have_class(re.compile(r"\bis-target\b"))
    back = footnote.get_by_role("link", name="↩ back to para. 6")
    back.focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#para-6$"))
    expect(page.locator("#para-6")).to_have_class(re.compile(r"\bis-target\b"))
    expect(page.locator("#para-6")).to_be_in_viewport()
    expect(footnote).not_to_have_class(re.compile(r"\bis-target\b"))


def test_documents_list_opens_the_document(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(f"{live_server.url}/documents")
    page.get_by_role("link", name=TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator("article .passage.paragraph")).to_have_count(21)


# -- the search box, the filters and the states -----------------------------------------------


def test_slash_focuses_the_search_box(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(search_url(live_server.url, QUESTION))
    expect(first_result(page)).to_be_visible()
    page.locator("h1").click()
    expect(page.locator("#q")).not_to_be_focused()
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    expect(page.locator("#q")).to_have_value(QUESTION)  # the "/" focused the box; it was not typed into it


def test_copy_citation_puts_it_on_the_clipboard(browser: Browser, live_server: LiveServer) -> None:
    tab = open_tab(browser, clipboard=True)
    page = tab.page
    try:
        page.goto(search_url(live_server.url, QUESTION))
        first_result(page).get_by_role("button", name="Copy citation").click()
        expect(first_result(page).get_by_role("button", name="Copied")).to_be_visible()
        assert page.evaluate("navigator.clipboard.readText()") == PARA_7
        expect(page.locator("#status")).to_have_text(f"Copied: {PARA_7}")
        assert tab.errors == []
    finally:
        page.context.close()


REFUSING_CLIPBOARD = """
Object.defineProperty(navigator, "clipboard", {value: {writeText: () => Promise.reject(new Error("denied"))}});
document.addEventListener("copy", () => { window.__copied = String(window.getSelection()); });
"""


def test_copy_citation_falls_back_when_the_clipboard_api_refuses(browser: Browser, live_server: LiveServer) -> None:
    tab = open_tab(browser)
    page = tab.page
    try:
        page.add_init_script(REFUSING_CLIPBOARD)
        page.goto(search_url(live_server.url, QUESTION))
        first_result(page).get_by_role("button", name="Copy citation").click()
        expect(first_result(page).get_by_role("button", name="Copied")).to_be_visible()
        assert page.evaluate("window.__copied") == PARA_7  # copied from a selection of the citation
        assert page.locator("textarea").count() == 0  # the helper selection is gone again
        assert tab.errors == []
    finally:
        page.context.close()


def test_loading_state_while_the_search_runs(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(live_server.url + "/")
    held: list[sync_api.Route] = []

    def hold(route: sync_api.Route) -> None:  # keep the request pending until the loading state has been seen
        held.append(route)

    page.route("**/api/search?*", hold)
    page.locator("#q").fill(QUESTION)
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("Searching…")
    expect(page.locator("#results")).to_have_attribute("aria-busy", "true")
    assert len(held) == 1
    held[0].continue_()
    expect(first_result(page).locator(".cite")).to_have_text(PARA_7)
    expect(page.locator("#results")).not_to_have_attribute("aria-busy", "true")


def test_api_error_message_is_shown(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(live_server.url + "/")
    page.locator("#q").fill("x" * 1001)
    page.keyboard.press("Enter")
    api = httpx.get(f"{live_server.url}/api/search", params={"q": "x" * 1001})
    assert api.status_code == 422
    expect(page.locator("#error")).to_have_text(f"The search failed: {api.json()['error']['message']}")
    expect(page.locator("#error")).to_contain_text("the limit is 1000")
    expect(page.locator("#results > li")).to_have_count(0)


def test_filters_by_kind_and_document_and_no_results(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(search_url(live_server.url, "protection", kind="article"))
    expect(page.locator("#status")).to_have_text(re.compile(r"^No passages found in \d+ ms\. .*remove the filters"))
    expect(page.locator("#results > li")).to_have_count(0)
    expect(page.locator("#kind")).to_have_value("article")

    page.locator("#kind").select_option("footnote")
    expect(page).to_have_url(re.compile(r"kind=footnote"))
    cites = page.locator("#results .cite")
    expect(cites.first).to_be_visible()
    assert all(re.search(r", footnote \d+, p\. \d$", text) for text in cites.all_inner_texts())

    page.locator("#document").select_option(label=TITLE)
    expect(page).to_have_url(re.compile(rf"document={PAPER_ID}"))
    expect(page.locator("#results > li")).to_have_count(5)


@pytest.fixture(scope="module")
def rerank_server(paper_index: Path) -> Iterator[LiveServer]:
    """`pqa serve` over the paper with the reranker loaded for the questions that ask for it."""
    server = LiveServer(paper_index, env={"PQA_RERANK": "ask"})
    try:
        server.wait_ready(timeout=300)  # the first start on a machine merges and converts the reranker
        yield server
    finally:
        server.stop()


def test_the_order_choice_is_offered_where_a_reranker_is_loaded(
    tab: Tab, live_server: LiveServer, rerank_server: LiveServer
) -> None:
    page = tab.page
    page.goto(search_url(live_server.url, QUESTION))
    expect(page.locator("#status")).to_have_text(re.compile(r"^5 passages in \d+ ms\.$"))
    expect(page.locator("#rerank-filter")).to_be_hidden()  # no reranker loaded: nothing to choose
    page.goto(search_url(live_server.url, QUESTION, rerank="true"))  # a link made on a service that had one
    expect(page.locator("#status")).to_have_text(re.compile(r"^5 passages in \d+ ms\.$"))  # answered in this order
    expect(page.locator("#error")).to_be_hidden()
    expect(first_result(page).locator(".cite")).to_have_text(PARA_7)

    page.goto(search_url(rerank_server.url, QUESTION))
    expect(page.locator("#status")).to_have_text(re.compile(r"^5 passages in \d+ ms\.$"))
    expect(page.locator("#rerank-filter")).to_be_visible()
    page.locator("#rerank").select_option("true")
    expect(page).to_have_url(re.compile(r"rerank=true"))
    expect(page.locator("#status")).to_have_text(re.compile(r"^5 passages in \d+ ms, re-read by the reranker\.$"))
    expect(page.locator("#results > li")).to_have_count(5)
    page.reload()  # the choice lives in the URL
    expect(page.locator("#rerank")).to_have_value("true")
    expect(page.locator("#status")).to_have_text(re.compile(r"re-read by the reranker\.$"))
    page.locator("#rerank").select_option("false")
    expect(page.locator("#status")).to_have_text(re.compile(r"^5 passages in \d+ ms\.$"))
    page.goto(search_url(rerank_server.url, QUESTION, rerank="maybe"))  # not a choice: the service's default
    expect(page.locator("#rerank")).to_have_value("")
    expect(page.locator("#rerank option")).to_have_count(3)
    expect(page.locator("#status")).to_have_text(re.compile(r"^5 passages in \d+ ms\.$"))


def test_not_in_corpus_notice_follows_the_flag(tab: Tab, live_server: LiveServer) -> None:
    """The real response with `not_in_corpus` set (the flag is another part's work): the notice follows it."""
    page = tab.page
    flag = {"value": True}

    def with_flag(route: sync_api.Route) -> None:
        response = route.fetch()
        body = response.json()
        body["not_in_corpus"] = flag["value"]
        route.fulfill(response=response, json=body)

    page.route("**/api/search?*", with_flag)
    page.goto(search_url(live_server.url, "What is the capital of Mongolia?"))
    expect(page.locator("#notice")).to_be_visible()
    expect(page.locator("#notice")).to_contain_text("Probably not in the corpus")
    expect(page.locator("#results > li")).to_have_count(5)  # the closest passages are still shown
    flag["value"] = False
    page.locator("#q").fill(QUESTION)
    page.keyboard.press("Enter")
    expect(first_result(page).locator(".cite")).to_have_text(PARA_7)
    expect(page.locator("#notice")).to_be_hidden()


def test_the_notice_says_what_speaks_against_an_answer_as_text(tab: Tab, live_server: LiveServer) -> None:
    """The real doubts of the service (words of the question the passages never write), then a hostile one:
    the question's words come back in them, so they are text, never HTML."""
    page = tab.page
    page.goto(search_url(live_server.url, "How many asylum applications were lodged in Germany in 2023?"))
    expect(page.locator("#notice")).to_be_visible()
    expect(page.locator("#notice-why")).to_contain_text("Germany")
    hostile = '<img src=x onerror="document.title=1">'

    def with_doubt(route: sync_api.Route) -> None:
        response = route.fetch()
        route.fulfill(response=response, json=response.json() | {"not_in_corpus": True, "doubts": [hostile]})

    page.route("**/api/search?*", with_doubt)
    page.locator("#q").fill("What does the Cartagena Declaration say?")
    page.keyboard.press("Enter")
    expect(page.locator("#notice-why")).to_have_text(f"Against it: {hostile}.")
    assert page.locator("#notice img").count() == 0


def test_phone_width_has_no_horizontal_scroll(browser: Browser, live_server: LiveServer) -> None:
    tab = open_tab(browser, width=375, height=740)
    page = tab.page
    try:
        for url in (search_url(live_server.url, QUESTION), f"{live_server.url}/documents/{PAPER_ID}#para-7"):
            page.goto(url)
            page.locator("#results > li, #para-7").first.wait_for()
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{url} scrolls sideways by {overflow} px at 375 px"
        assert tab.errors == []
    finally:
        page.context.close()


# -- security and accessibility -----------------------------------------------------------------


def test_csp_header_forbids_inline_scripts(tab: Tab, live_server: LiveServer) -> None:
    for path in ("/", f"/documents/{PAPER_ID}", "/documents"):
        csp = httpx.get(live_server.url + path).headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "style-src 'self'" in csp, path
    page = tab.page
    page.goto(live_server.url + "/")
    ran = page.evaluate(
        """() => { const s = document.createElement('script'); s.textContent = 'window.__inline = 1';
                   document.body.append(s); return window.__inline === 1; }"""
    )
    assert ran is False, "an inline script ran: the Content-Security-Policy did not stop it"


CONTRAST = """() => {
  const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = ([r, g, b]) => 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  const background = (e) => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
                               if (c.length === 3 || c[3] > 0) return c.slice(0, 3); } return [255, 255, 255]; };
  const worst = [];
  for (const e of document.querySelectorAll('body *')) {
    const own = Array.from(e.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !e.getClientRects().length || e.closest('.sr, [hidden]')) continue;
    const a = lum(rgb(getComputedStyle(e).color)), b = lum(background(e));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) worst.push(e.tagName + '.' + e.className + ' ' + ratio.toFixed(2));
  }
  return worst;
}"""


def test_landmarks_labels_and_contrast(tab: Tab, live_server: LiveServer) -> None:
    page = tab.page
    page.goto(search_url(live_server.url, QUESTION))
    expect(first_result(page)).to_be_visible()
    for role in ("banner", "main", "search", "contentinfo", "navigation"):
        expect(page.get_by_role(role)).to_have_count(1)
    expect(page.get_by_label("Your question")).to_have_id("q")
    for name, select_id in (("Document", "document"), ("Kind of passage", "kind"), ("Passages", "k")):
        expect(page.get_by_label(name, exact=True)).to_have_id(select_id)
    page.locator("#q").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Search")).to_be_focused()
    assert page.get_by_role("button", name="Search").evaluate("e => getComputedStyle(e).outlineStyle") != "none"
    assert page.evaluate(CONTRAST) == []
    page.goto(f"{live_server.url}/documents/{PAPER_ID}#para-7")
    expect(page.locator("#para-7")).to_have_class(re.compile(r"\bis-target\b"))
    assert page.evaluate(CONTRAST) == []


# -- not ready, then ready ----------------------------------------------------------------------


class ThreadServer:
    """The real app under uvicorn in a thread (shares the session's model), for states a test must steer."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self.url = f"http://127.0.0.1:{free_port()}"
        port = int(self.url.rsplit(":", 1)[1])
        config = uvicorn.Config(create_app(settings, embedder=embedder), host="127.0.0.1", port=port, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def test_not_ready_state_then_results_once_an_index_appears(tab: Tab, tmp_path: Path, embedder: Embedder) -> None:
    index_dir = tmp_path / "index"
    settings = Settings(index_dir=index_dir, reload_interval=0.2)
    with ThreadServer(settings, embedder) as server:
        page = tab.page
        page.goto(search_url(server.url, "Who must not be returned?"))
        ready = page.locator("#ready")
        # the API's own message, the command that builds this server's index, and every sentence ends
        expect(ready).to_have_text(
            f"The service is not ready yet: no index in {index_dir}; run: pqa ingest corpus/ --index {index_dir}. "
            "This page retries by itself."
        )
        expect(page.locator("#results > li")).to_have_count(0)

        corpus = tmp_path / "corpus"
        corpus.mkdir()
        (corpus / "returns.md").write_text(
            "## Returns\n\n1. No one may be returned to a country where their life would be threatened.\n\n"
            "2. Every person has the right to seek asylum.\n",
            encoding="utf-8",
        )
        assert ingest([corpus], Store(index_dir), lambda: embedder).generation is not None
        expect(ready).to_be_hidden()
        expect(first_result(page).locator(".cite")).to_have_text(
            "Returns, para. 1"
        )  # a Markdown file without page breaks has no pages


# -- untrusted document text --------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_server(hostile_index: Path) -> Iterator[LiveServer]:
    server = LiveServer(hostile_index)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def assert_inert(tab: Tab) -> None:
    page = tab.page
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(300)  # time for an onerror handler to fire, were an <img> ever created
    assert page.locator("img").count() == 0
    assert page.locator("b").count() == 0
    assert page.locator("[onmouseover], [onerror], [onclick]").count() == 0
    assert page.locator("a[href^='javascript' i]").count() == 0
    assert page.evaluate("document.querySelectorAll('script:not([src])').length") == 0
    assert tab.dialogs == [], f"a script ran: {tab.dialogs}"


def test_hostile_document_is_inert_on_the_results_page(tab: Tab, hostile_server: LiveServer) -> None:
    page = tab.page
    page.goto(search_url(hostile_server.url, "refugees returned to danger image link", k="10"))
    expect(page.locator("#results > li")).to_have_count(4)
    results = page.locator("#results")
    expect(results.get_by_text("<script>alert(1)</script>", exact=False).first).to_be_visible()
    expect(results.get_by_text("<img src=x onerror=alert(1)>", exact=False).first).to_be_visible()
    expect(results.get_by_text('</textarea><svg onmouseover="alert(4)">', exact=False).first).to_be_visible()
    expect(results.locator(".cite").first).to_contain_text("<script>alert('title')</script>")
    expect(page.locator("#document option").nth(1)).to_have_text(
        "Hostile \"quoted\" <script>alert('title')</script> <img src=x onerror=alert(5)> guidance"
    )
    for link in results.locator("a").all():
        assert (link.get_attribute("href") or "").startswith("/documents/hostile#")
    results.locator(".result").first.hover()  # would fire an onmouseover, were one ever made an attribute
    assert_inert(tab)


def test_hostile_document_is_inert_in_the_document_view(tab: Tab, hostile_server: LiveServer) -> None:
    page = tab.page
    page.goto(f"{hostile_server.url}/documents/hostile#para-2")
    expect(page.locator("#para-2")).to_have_class(re.compile(r"\bis-target\b"))
    expect(page.locator("h1")).to_have_text(
        "Hostile \"quoted\" <script>alert('title')</script> <img src=x onerror=alert(5)> guidance"
    )
    expect(page.locator("#para-1")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("#para-2")).to_contain_text("<img src=x onerror=alert(1)>")
    expect(page.locator("#fn-1")).to_contain_text("<script>alert(3)</script>")
    expect(page.locator(".source-url")).to_have_text("javascript:alert(7)")
    page.locator("#para-3").hover()
    assert_inert(tab)
    page.goto(f"{hostile_server.url}/documents")
    expect(page.locator(".doclist a")).to_contain_text("<script>alert('title')</script>")
    assert_inert(tab)


def test_pages_log_no_console_error(browser: Browser, live_server: LiveServer) -> None:
    """No page load logs an error: not a failed request (the site's icon included), not a script error.

    A browser of its own: Chromium asks for a site's icon once per browser, and may have asked another test's."""
    fresh = browser.browser_type.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
    tab = open_tab(fresh)
    page = tab.page
    logged: list[str] = []
    page.on("console", lambda message: logged.append(message.text) if message.type == "error" else None)
    try:
        for url in (
            live_server.url + "/",
            search_url(live_server.url, QUESTION),
            f"{live_server.url}/documents",
            f"{live_server.url}/documents/{PAPER_ID}#para-7",
        ):
            page.goto(url)
            page.wait_for_load_state("networkidle")
        expect(page.locator("#para-7")).to_have_class(re.compile(r"\bis-target\b"))
        page.wait_for_timeout(500)  # the icon is asked for after the page's own requests
        assert logged == [], f"console errors: {logged}"
        assert tab.errors == []
    finally:
        fresh.close()


@pytest.fixture(scope="module")
def library_server(library_index: Path) -> Iterator[LiveServer]:
    """`pqa serve` over the whole default library (corpus/)."""
    server = LiveServer(library_index)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_an_item_shows_the_lead_in_it_continues_as_text(tab: Tab, library_server: LiveServer) -> None:
    page = tab.page
    document = "kenya-refugees-general-regulations-2024"
    question = "accelerated refugee status procedure for an asylum seeker in confinement"
    page.goto(search_url(library_server.url, question, document=document))
    item = page.locator("#results > li").filter(has=page.locator(".cite", has_text="regulation 16(b)"))
    expect(item).to_have_count(1)
    lead = item.locator(".lead-in")
    expect(lead).to_have_text("regulation 16: A Commissioner may accelerate the procedures, for refugee status—")
    expect(item.locator("blockquote.passage")).to_have_text("if the asylum seeker is in confinement;")
    # text nodes and the one label span the page made, nothing parsed from the document
    assert lead.evaluate("node => Array.from(node.children).map(c => c.tagName).join()") == "SPAN"
    # a result that continues nothing shows none
    page.goto(search_url(library_server.url, "What does Article 33 of the 1951 Convention say?", k="1"))
    expect(page.locator("#results > li")).to_have_count(1)
    expect(page.locator("#results .lead-in")).to_have_count(0)
    assert_inert(tab)


# -- the document view of a long document ---------------------------------------------------------

# For each margin number with text: taller than one line (wrapped), off the page's left edge, or over the first
# character of the passage's text on the same line.
MISPLACED_NUMBERS = """() => {
  const found = [];
  let checked = 0;
  for (const num of document.querySelectorAll(".document .num")) {
    const label = num.textContent.trim();
    if (!label) continue;
    checked += 1;
    const box = num.getBoundingClientRect();
    const line = parseFloat(getComputedStyle(num).lineHeight);
    if (box.height > 1.5 * line) found.push(`${label}: ${box.height} px tall, a line is ${line} px`);
    if (box.left < 0) found.push(`${label}: starts ${box.left} px left of the page`);
    let node = num.nextSibling;
    while (node && !(node.nodeType === Node.TEXT_NODE && node.textContent.trim())) node = node.nextSibling;
    if (!node) continue;
    const at = node.textContent.search(/\\S/);
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + 1);
    const first = range.getClientRects()[0];
    const sameLine = first && first.top < box.bottom - 1 && first.bottom > box.top + 1;
    if (sameLine && first.left < box.right - 0.5) found.push(`${label}: covers the text`);
  }
  return { checked, found };
}"""


@pytest.mark.parametrize("width", [1280, 375])
def test_margin_numbers_stay_on_one_line_beside_the_text(
    browser: Browser, library_server: LiveServer, width: int
) -> None:
    """ "33(1)", "XXIII(3)": a long number is one line, on the page, and does not cover the passage's text."""
    tab = open_tab(browser, width=width, height=800)
    page = tab.page
    try:
        for document, longest in (
            ("kenya-refugees-general-regulations-2024", "33(1)"),
            ("kampala-convention", "XXIII(3)"),
        ):
            page.goto(f"{library_server.url}/documents/{document}")
            expect(page.locator(".document .num", has_text=longest).first).to_be_visible()
            result = page.evaluate(MISPLACED_NUMBERS)
            assert result["checked"] > 100, result
            assert result["found"] == [], f"{document} at {width} px: {result['found'][:10]}"
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{document} scrolls sideways by {overflow} px at {width} px"
        assert tab.errors == []
    finally:
        page.context.close()


def test_the_cited_passage_is_centred_after_the_browsers_own_jump(tab: Tab, library_server: LiveServer) -> None:
    """The browser jumps to the #fragment after the page's script ran; the passage must end up centred anyway,
    with what comes before it (its article's heading) in view, not at the window's top edge."""
    page = tab.page
    page.set_viewport_size({"width": 1280, "height": 700})
    page.goto(f"{library_server.url}/documents/kenya-refugees-general-regulations-2024#reg-33-1")
    target = page.locator("#reg-33-1")
    expect(target).to_have_class(re.compile(r"\bis-target\b"))
    page.evaluate("() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")
    page.wait_for_timeout(300)  # whatever the browser would still do to the scroll position after the load
    top, bottom, height = target.evaluate(
        "e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom, window.innerHeight]; }"
    )
    assert page.evaluate("window.scrollY") > 1000, "the passage is not in the middle of a long document"
    assert top >= 40, f"the cited passage's top is {top} px from the window's top"
    assert bottom <= height and abs((top + bottom) / 2 - height / 2) < height / 4, (top, bottom, height)
