"""The HTML routes while the service loads or has no index: a page a person can read, not the API's JSON.

The document views answer 503 with an HTML page (the same security headers as every page, the message as text,
Retry-After kept) that reloads itself; the API routes keep their JSON. And the site's icon is served.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from index.embedder import Embedder
from service.app import create_app
from service.engine import Engine
from service.settings import Settings

from .conftest import PAPER_ID
from .test_document_view import Tree, assert_csp_clean

PAGES = ("/documents", f"/documents/{PAPER_ID}")


def assert_html_503(response: httpx.Response, retry_after: str) -> Tree:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["retry-after"] == retry_after
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    tree = Tree(response.text)
    assert_csp_clean(tree)
    return tree


def alert_of(tree: Tree) -> str:
    [alert] = [p for p in tree.select("p") if p.attrs.get("role") == "alert"]
    return alert.text


def refresh_of(tree: Tree) -> int:
    [meta] = [m for m in tree.select("meta") if m.attrs.get("http-equiv") == "refresh"]
    return int(meta.attrs["content"])


def test_no_index_the_document_views_are_a_page_that_says_so(tmp_path: Path, embedder: Embedder) -> None:
    index_dir = tmp_path / "<img src=x onerror=alert(1)>"  # the message quotes the folder: it must stay text
    settings = Settings(index_dir=index_dir, load_in_background=False)
    with TestClient(create_app(settings, embedder=embedder)) as client:
        for path in PAGES:
            response = client.get(path)
            tree = assert_html_503(response, "5")
            assert "<img" not in response.text
            [h1] = tree.select("h1")
            assert h1.text == "No index yet"
            message = client.get("/api/documents").json()["error"]["message"]
            assert alert_of(tree) == f"The service is not ready yet: {message}."
            assert "pqa ingest corpus/ --index" in alert_of(tree)
            assert refresh_of(tree) >= 5
        api = client.get("/api/documents")  # the API keeps its JSON
        assert api.status_code == 503 and api.json()["error"]["code"] == "index_not_found"
        assert client.get("/").status_code == 200  # the search page is static: it says what is happening itself


@pytest.fixture
def held_model(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The model's load waits until the event is set: the service stays in its loading state meanwhile."""
    release = threading.Event()
    load = Engine._load_model

    def held(self: Engine) -> None:
        release.wait(30)
        load(self)

    monkeypatch.setattr(Engine, "_load_model", held)
    yield release
    release.set()


def test_while_loading_the_document_views_reload_themselves(
    paper_index: Path, embedder: Embedder, held_model: threading.Event
) -> None:
    with TestClient(create_app(Settings(index_dir=paper_index), embedder=embedder)) as client:
        for path in PAGES:
            tree = assert_html_503(client.get(path), "2")
            assert [h.text for h in tree.select("h1")] == ["The service is starting"]
            assert refresh_of(tree) == 3
            assert re.search(r"loading; try again in a few seconds\.$", alert_of(tree))
        api = client.get("/api/documents")
        assert api.status_code == 503 and api.json()["error"]["code"] == "not_ready"
        assert api.headers["content-type"] == "application/json"
        home = client.get("/")
        assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
        held_model.set()
        for _ in range(600):
            if client.get("/readyz").status_code == 200:
                break
            threading.Event().wait(0.05)
        view = client.get(f"/documents/{PAPER_ID}")
        assert view.status_code == 200 and 'id="para-7"' in view.text
        assert not [m for m in Tree(view.text).select("meta") if m.attrs.get("http-equiv") == "refresh"]


def test_the_site_icon_is_served_and_declared(paper_index: Path, embedder: Embedder) -> None:
    settings = Settings(index_dir=paper_index, load_in_background=False)
    with TestClient(create_app(settings, embedder=embedder)) as client:
        for path in ("/favicon.ico", "/favicon.svg"):
            icon = client.get(path)
            assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
            assert icon.text.startswith("<svg") and "<script" not in icon.text
        for page in ("/", "/documents", f"/documents/{PAPER_ID}", "/documents/missing"):
            links = [e for e in Tree(client.get(page).text).select("link") if e.attrs.get("rel") == "icon"]
            assert [e.attrs["href"] for e in links] == ["/favicon.svg"], page
