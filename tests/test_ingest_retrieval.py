"""The real model over real documents: the refoulement question finds Article 33(1) of the 1951 Convention.

Embedding the whole protection-law folder takes about eight minutes on two shared cores, so this
test indexes a chosen subset: the 1951 Convention, the EU Charter (Article 19: removal to a risk
of death or torture) and the Kampala Convention (both near misses for the question), the UDHR
and the GCM objectives. `pqa ingest` over the full folders is measured in bench/ingestion.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.embedder import Embedder
from index.search import Searcher
from index.snapshot import Snapshot
from index.store import Store
from service.reindex import ingest

from .conftest import SHARED_DATA, needs_shared_data
from .ingest_support import CHARTER, CONVENTION, KAMPALA

pytestmark = [needs_shared_data, pytest.mark.slow]
QUESTION = "Can a state send a refugee back to a country where their life would be threatened?"
CONVENTION_ID = "1951-refugee-convention-1967-protocol-unhcr-mandate"


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Path:
    folder = tmp_path_factory.mktemp("library-index")
    paths = [CONVENTION, CHARTER, KAMPALA, SHARED_DATA / "udhr", SHARED_DATA / "gcm-objectives-iomeval"]
    report = ingest(paths, Store(folder), lambda: embedder)
    assert report.failures == [] and report.documents == 6
    return folder


def test_the_refoulement_question_finds_article_33_1_first_or_in_the_top_three(
    library: Path, embedder: Embedder
) -> None:
    hits = Searcher(Snapshot.load(Store(library).current()), embedder).search(QUESTION, k=3)
    cited = [(h.passage.document_id, h.passage.label) for h in hits]
    assert (CONVENTION_ID, "Article 33(1)") in cited, cited
    article = next(h.passage for h in hits if h.passage.label == "Article 33(1)")
    assert (article.page, article.page_label, article.paragraph, article.kind) == (32, "30", "33(1)", "article")


def test_the_api_cites_article_33_1_with_its_physical_and_printed_page(library: Path) -> None:
    from service.app import create_app
    from service.settings import Settings

    app = create_app(Settings(index_dir=library, load_in_background=False))
    with TestClient(app) as client:
        response = client.get(
            "/api/search", params={"q": QUESTION, "k": 3, "document": CONVENTION_ID, "kind": "article"}
        )
        assert response.status_code == 200, response.text
        passages = response.json()["passages"]
    assert {p["citation"]["kind"] for p in passages} == {"article"}
    article = next(p for p in passages if p["citation"]["label"] == "Article 33(1)")
    assert (article["citation"]["page"], article["citation"]["page_label"]) == (32, "30")
    assert article["citation_text"].endswith("Article 33(1), p. 30 (PDF p. 32)")
