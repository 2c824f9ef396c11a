"""The document views as HTML over real HTTP (TestClient, real lifespan, real model and index).

Checks what a browser is given: every passage an element with its anchor, paragraph numbers,
footnote calls and back links that resolve, no inline script or style (the CSP forbids them),
and hostile document text escaped everywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.embedder import Embedder
from index.store import Store
from ingest.library import discover, load
from service.app import create_app
from service.reindex import ingest
from service.render import field_label
from service.settings import Settings

from .conftest import PAPER_ID

TITLE = "IOM's Approach to the Protection of Migrants and Displaced Persons"
VOID = {"meta", "link", "br", "img", "input", "hr", "wbr", "source", "col", "area", "base", "embed", "track"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    parent: Element | None
    children: list[Element] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    def ancestors(self) -> Iterator[Element]:
        node = self.parent
        while node is not None:
            yield node
            node = node.parent


class Tree(HTMLParser):
    """A small DOM: every element with its attributes and its whole text (descendants included)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#root", {}, None)
        self.elements: list[Element] = []
        self.current = self.root
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        self.elements.append(element)
        if tag not in VOID:
            self.current = element

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.text_parts.append(data)
        for ancestor in self.current.ancestors():
            ancestor.text_parts.append(data)

    def by_id(self, element_id: str) -> Element:
        found = [e for e in self.elements if e.attrs.get("id") == element_id]
        assert len(found) == 1, f"{len(found)} elements with id {element_id!r}"
        return found[0]

    def select(self, tag: str, cls: str | None = None) -> list[Element]:
        return [e for e in self.elements if e.tag == tag and (cls is None or cls in e.attrs.get("class", "").split())]


@pytest.fixture(scope="module")
def paper_client(paper_index: Path, embedder: Embedder) -> Iterator[TestClient]:
    settings = Settings(index_dir=paper_index, load_in_background=False)
    with TestClient(create_app(settings, embedder=embedder)) as client:
        yield client


@pytest.fixture(scope="module")
def paper_tree(paper_client: TestClient) -> Tree:
    response = paper_client.get(f"/documents/{PAPER_ID}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return Tree(response.text)


def assert_csp_clean(tree: Tree) -> None:
    """No inline script, no inline style, no event handler attribute: what the CSP would block anyway."""
    scripts = tree.select("script")
    assert scripts, "the page loads its script from /static"
    assert all(s.attrs.get("src", "").startswith("/static/") and not s.text.strip() for s in scripts)
    assert not tree.select("style")
    for element in tree.elements:
        assert "style" not in element.attrs, element
        assert not [a for a in element.attrs if a.startswith("on")], element


def test_every_numbered_paragraph_has_its_anchor_and_margin_number(paper_tree: Tree) -> None:
    for n in range(1, 22):
        passage = paper_tree.by_id(f"para-{n}")
        assert "passage" in passage.attrs["class"].split()
        numbers = [c for c in passage.children if "num" in c.attrs.get("class", "").split()]
        assert len(numbers) == 1 and numbers[0].text == str(n)
        assert numbers[0].attrs["href"] == f"#para-{n}"
        assert numbers[0].attrs["aria-label"] == f"para. {n}"
        assert passage.attrs["data-cite"].startswith(
            "IOM's Approach to the Protection of Migrants and Displaced Persons"
        )
    assert paper_tree.by_id("para-7").attrs["data-cite"].endswith("para. 7, p. 2")


def test_ids_are_unique(paper_tree: Tree) -> None:
    ids = [e.attrs["id"] for e in paper_tree.elements if "id" in e.attrs]
    assert len(ids) == len(set(ids))


def test_footnote_calls_and_back_links_resolve_both_ways(paper_tree: Tree) -> None:
    calls = [a for a in paper_tree.select("a") if a.parent is not None and a.parent.tag == "sup"]
    assert sorted(a.text for a in calls) == [str(n) for n in range(1, 9)]
    for call in calls:
        footnote = paper_tree.by_id(call.attrs["href"].removeprefix("#"))
        assert "footnote" in footnote.attrs["class"].split()
        assert footnote.children[0].text == call.text  # the footnote's own number in the margin
        backs = [a for a in footnote.children if "back" in a.attrs.get("class", "").split()]
        assert len(backs) == 1, f"footnote {call.text} has no back link"
        caller = paper_tree.by_id(backs[0].attrs["href"].removeprefix("#"))
        assert call in list(_descendants(caller)), f"footnote {call.text} goes back to a passage that does not call it"
        caller_label = caller.children[0].attrs["aria-label"]
        assert backs[0].text == f"↩ back to {caller_label}"
    in_para_6 = [a.attrs["href"] for a in _descendants(paper_tree.by_id("para-6")) if a in calls]
    assert in_para_6 == ["#fn-4", "#fn-5"]  # paragraph 6 is whole across the page break, with both its calls


def _descendants(element: Element) -> Iterator[Element]:
    for child in element.children:
        yield child
        yield from _descendants(child)


def test_document_page_structure_and_csp(paper_client: TestClient, paper_tree: Tree) -> None:
    [h1] = paper_tree.select("h1")
    assert h1.text == "IOM's Approach to the Protection of Migrants and Displaced Persons"
    assert [e.tag for e in paper_tree.elements if e.tag in ("header", "main", "nav")] == ["header", "nav", "main"]
    assert [e.text for e in paper_tree.select("p", "page-mark")] == ["Page 2", "Page 3"]
    assert paper_tree.by_id("introduction").tag == "h2"
    assert len(paper_tree.select("li", "list-item")) == 6
    assert_csp_clean(paper_tree)
    csp = paper_client.get(f"/documents/{PAPER_ID}").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_documents_list_links_every_document(paper_client: TestClient) -> None:
    tree = Tree(paper_client.get("/documents").text)
    links = [a for a in tree.select("a") if a.parent is not None and a.parent.tag == "li"]
    assert [(a.attrs["href"], a.text) for a in links] == [
        (f"/documents/{PAPER_ID}", "IOM's Approach to the Protection of Migrants and Displaced Persons")
    ]
    assert "35 passages" in tree.select("ul", "doclist")[0].text
    assert_csp_clean(tree)


def test_unknown_document_is_an_escaped_404_page(paper_client: TestClient) -> None:
    response = paper_client.get("/documents/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "<img" not in response.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text
    assert any(a.attrs.get("href") == "/documents" for a in Tree(response.text).select("a"))


def test_search_page_is_static_and_csp_clean(paper_client: TestClient) -> None:
    response = paper_client.get("/")
    tree = Tree(response.text)
    assert_csp_clean(tree)
    field_ = tree.by_id("q")
    assert [lab.attrs["for"] for lab in tree.select("label") if lab.text == "Your question"] == ["q"]
    assert "autofocus" in field_.attrs
    assert tree.select("form")[0].attrs["role"] == "search"
    for asset in ("/static/app.js", "/static/style.css", "/static/document.js"):
        fetched = paper_client.get(asset)
        assert fetched.status_code == 200 and fetched.text.strip(), asset
    assert "innerHTML" not in paper_client.get("/static/app.js").text
    assert "innerHTML" not in paper_client.get("/static/document.js").text


@pytest.fixture(scope="module")
def hostile_client(hostile_index: Path, embedder: Embedder) -> Iterator[TestClient]:
    settings = Settings(index_dir=hostile_index, load_in_background=False)
    with TestClient(create_app(settings, embedder=embedder)) as client:
        yield client


def test_hostile_document_is_escaped_in_the_view(hostile_client: TestClient) -> None:
    html = hostile_client.get("/documents/hostile").text
    tree = Tree(html)
    assert_csp_clean(tree)
    assert not tree.select("img") and not tree.select("b")
    assert [s.attrs["src"] for s in tree.select("script")] == ["/static/document.js"]
    assert not re.search(r"<(script|img|svg onmouseover)[ >]", html.split("</head>", 1)[1])
    assert not [a for a in tree.select("a") if "javascript" in a.attrs.get("href", "").lower()]
    assert "<script>alert(1)</script>" in tree.by_id("para-1").text  # shown as text, verbatim
    assert "<img src=x onerror=alert(1)>" in tree.by_id("para-2").text
    assert '</textarea><svg onmouseover="alert(4)">' in tree.by_id("para-3").text
    assert "<script>alert(3)</script>" in tree.by_id("fn-1").text
    [h1] = tree.select("h1")
    assert h1.text == "Hostile \"quoted\" <script>alert('title')</script> <img src=x onerror=alert(5)> guidance"
    assert tree.by_id("para-1").attrs["data-cite"].startswith('Hostile "quoted" <script>')  # attribute escaped, intact
    assert "javascript:alert(7)" in tree.select("span", "source-url")[0].text
    assert "<b onclick=alert(6)>Body</b>" in tree.select("p", "doc-meta")[0].text
    title = tree.select("title")[0].text
    assert title.startswith("Hostile") and "<script>" in title


def test_hostile_document_is_escaped_in_the_list(hostile_client: TestClient) -> None:
    tree = Tree(hostile_client.get("/documents").text)
    assert not tree.select("img") and not tree.select("b")
    [link] = [a for a in tree.select("a") if a.attrs.get("href") == "/documents/hostile"]
    assert "<script>alert('title')</script>" in link.text


GUIDE = """## Part 1

States protect migrants in vulnerable situations along the whole migration route, whatever their status.

---

## Part 2

This part was copied by mistake from another document and is not the real text of part two.
"""
GUIDE_SIDECAR = """title = "Guide to Describing Every Field"
body = "Standing Committee on Testing"
session = "Thirty-fifth session"
symbol = "S/35/TEST"
year = 2024
date = "2024-10-01"
language = "en"
publisher = "The Testing Office"
status = "current"
source_url = "https://example.org/guide"
short_title = "Field Guide"
aliases = ["Guide to Fields", "The Describing Guide"]
edition = "Second edition"
exclude = [{ section = "Part 2", reason = "copied by mistake" }]
"""


def test_every_document_field_reaches_the_api_and_the_document_page(tmp_path: Path, embedder: Embedder) -> None:
    """DocumentInfo (index/records.py) declares a document's metadata once: each field, set here, is in the
    API's document JSON (sha256 as `version`, source relative to the corpus) and in the document page."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "guide.md").write_text(GUIDE, encoding="utf-8")
    (corpus / "guide.meta.toml").write_text(GUIDE_SIDECAR, encoding="utf-8")
    info = load(discover([corpus])[0][0]).info
    unset = [spec.name for spec in fields(info) if getattr(info, spec.name) in (None, "", (), {})]
    assert unset == [], "give every DocumentInfo field a value in GUIDE_SIDECAR"
    ingest([corpus], Store(tmp_path / "index"), lambda: embedder)
    settings = Settings(index_dir=tmp_path / "index", corpus=[corpus], load_in_background=False)
    with TestClient(create_app(settings, embedder=embedder)) as client:
        (listed,) = client.get("/api/documents").json()["documents"]
        page = client.get(f"/documents/{info.id}").text
    expected = json.loads(json.dumps(asdict(info)))  # tuples as JSON arrays
    expected["version"] = expected.pop("sha256")
    expected["source"] = "guide.md"
    expected["set_aside"] = dict(info.set_aside)
    assert {name: listed.get(name) for name in expected} == expected
    tree = Tree(page)
    shown = dict(zip((e.text for e in tree.select("dt")), (e.text for e in tree.select("dd")), strict=True))
    assert tree.by_id("doc-title").text == info.title
    for spec in fields(info):
        value = "guide.md" if spec.name == "source" else getattr(info, spec.name)
        if spec.name == "title":
            continue
        if isinstance(value, dict):
            assert {field_label(key): text for key, text in value.items()}.items() <= shown.items()
        elif isinstance(value, tuple):
            parts = [str(item[0] if isinstance(item, tuple) else item) for item in value]
            assert all(part in shown[field_label(spec.name)] for part in parts), spec.name
        else:
            assert shown[field_label(spec.name)] == str(value), spec.name
    assert str(tmp_path) not in page, "the page shows the file relative to its corpus, never the server's path"
