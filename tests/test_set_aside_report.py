"""What is set aside as noise is reported per document: by `pqa ingest` (text and --json), in the generation's
manifest and by GET /api/documents. Plumbing only, so the fake model embeds."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.store import Store
from service.app import create_app
from service.reindex import ingest
from service.settings import Settings
from service.terminal import _print_report

from .conftest import FakeEmbedder

TREATY = """\
## Convention on Fair Testing

### Article 1

Everyone has the right to be tested fairly and in public.

### Article 2

1. States Parties shall test every applicant within a reasonable time.

2. States Parties shall report the results to the Secretary-General.

### Article 3

States Parties shall ensure that:

(a) No applicant is tested in secret;

(b) Every applicant sees the results of the test.

### Final clauses

IN WITNESS WHEREOF the undersigned, being duly authorized, have signed this Convention.

Norway Sweden Denmark Finland Iceland

### Form 1

Name of applicant: ................................

Date of birth (dd/mm/yyyy)

### Annex

| State | Date of signature |

THE YEAR OF
"""
EXPECTED = {"signature": 2, "form": 2, "table": 1, "fragment": 1, "lead-in": 1}  # Article 3's "... ensure that:"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    corpus = tmp_path_factory.mktemp("treaty")
    (corpus / "fair-testing.md").write_text(TREATY, encoding="utf-8")
    folder = tmp_path_factory.mktemp("index")
    report = ingest([corpus], Store(folder), FakeEmbedder)
    assert report.generation is not None and not report.failures
    return folder, report


def test_the_report_counts_what_was_set_aside_by_kind(
    index: tuple[Path, object], capsys: pytest.CaptureFixture[str]
) -> None:
    _, report = index
    assert report.set_aside == {"fair-testing": EXPECTED}  # type: ignore[attr-defined]
    assert report.to_dict()["set_aside"] == {"fair-testing": EXPECTED}  # type: ignore[attr-defined]
    _print_report(report)
    line = "set aside in fair-testing (kept for the document view, not searched): "
    assert line + "form 2, fragment 1, lead-in 1, signature 2, table 1" in capsys.readouterr().out


def test_the_manifest_and_the_api_carry_the_counts(index: tuple[Path, object]) -> None:
    folder, _ = index
    entry = Store(folder).current().manifest.documents["fair-testing"]
    assert entry.set_aside == EXPECTED
    assert entry.passages == 5  # Article 1, Article 2(1), Article 2(2), Article 3(a), Article 3(b)
    app = create_app(Settings(index_dir=folder, load_in_background=False), embedder=FakeEmbedder())  # type: ignore[arg-type]
    with TestClient(app) as client:
        (document,) = client.get("/api/documents").json()["documents"]
    assert document["set_aside"] == EXPECTED and document["passages"] == 5
