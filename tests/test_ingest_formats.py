"""HTML (the UDHR), Markdown with objectives (the GCM) or articles in two languages (the UN treaties), Word."""

from __future__ import annotations

import re
from pathlib import Path

import docx
import pytest

from index.records import Document
from ingest.errors import IngestError
from ingest.library import discover, load

from .conftest import SHARED_DATA, needs_shared_data
from .ingest_support import passage

pytestmark = needs_shared_data

TREATIES = SHARED_DATA / "un-treaties-statengeneraal" / "verdrag"
REFUGEE_TREATY = TREATIES / "vluchtelingenverdrag" / "BWBV0001002" / "README.md"


def load_path(path: Path) -> Document:
    sources, failures = discover([path])
    assert failures == [] and len(sources) == 1
    return load(sources[0])


@pytest.fixture(scope="module")
def udhr() -> Document:
    return load_path(SHARED_DATA / "udhr" / "eng.html")


def test_udhr_has_a_preamble_and_30_articles(udhr: Document) -> None:
    info = udhr.info
    assert (info.title, info.format, info.language) == ("Universal Declaration of Human Rights", "html", "en")
    preamble = [p for p in udhr.passages if p.section == ("Preamble",) and p.kind != "heading"]
    assert len(preamble) == 10 and preamble[0].text.startswith("Whereas recognition of the inherent dignity")
    # "Now, therefore," and "The General Assembly" have no sentence of their own: kept, not searched
    assert [p.text for p in preamble if p.kind == "fragment"] == ["Now, therefore,", "The General Assembly"]
    searched = [p for p in preamble if p.searchable]
    assert [p.label for p in searched] == [f"Preamble, para. {n}" for n in range(1, 9)]
    assert searched[-1].text.startswith("Proclaims this Universal Declaration of Human Rights")
    headings = [p.text for p in udhr.passages if p.kind == "heading" and p.text.startswith("Article ")]
    assert headings == [f"Article {n}" for n in range(1, 31)]


def test_udhr_numbered_list_items_are_the_articles_paragraphs(udhr: Document) -> None:
    assert passage(udhr, "Article 14(1)").text.startswith("Everyone has the right to seek and to enjoy in other")
    assert [p.paragraph for p in udhr.passages if p.label.startswith("Article 13") and p.kind != "heading"] == [
        "13(1)",
        "13(2)",
    ]
    assert passage(udhr, "Article 1").text.startswith("All human beings are born free and equal")
    assert passage(udhr, "Article 1").kind == "article"


@pytest.mark.parametrize("name", ["gcms_long.md", "gcms_short.md"])
def test_gcm_has_23_objectives_and_190_actions(name: str) -> None:
    gcm = load_path(SHARED_DATA / "gcm-objectives-iomeval" / name)
    actions = [p for p in gcm.passages if re.fullmatch(r"Objective \d+\([a-z]\)", p.label)]
    assert len(actions) == 190
    objectives = sorted({int(p.label.split()[1].split("(")[0]) for p in actions})
    assert objectives == list(range(1, 24))
    first = passage(gcm, "Objective 1(a)")
    assert first.text.startswith("Elaborate and implement a comprehensive strategy")
    assert first.section == (
        "Objective 1: Collect and utilize accurate and disaggregated data as a basis for evidence-based policies",
    )
    assert (first.paragraph, first.anchor, first.kind) == ("1(a)", "objective-1-a", "paragraph")
    assert passage(gcm, "Objective 23(a)").paragraph == "23(a)"


@pytest.fixture(scope="module")
def refugee_treaty() -> Document:
    return load_path(REFUGEE_TREATY)


def test_the_treatys_english_and_dutch_halves_are_tagged_by_language(refugee_treaty: Document) -> None:
    english = passage(refugee_treaty, "Article 33(1)")
    dutch = passage(refugee_treaty, "Artikel 33(1)")
    assert english.text.startswith("No Contracting State shall expel or return")
    assert dutch.text.startswith("Geen der Verdragsluitende Staten zal")
    assert (english.language, dutch.language) == ("en", "nl")
    assert (english.anchor, dutch.anchor) == ("article-33-1", "artikel-33-1")
    assert refugee_treaty.info.id == "bwbv0001002"  # README.md takes its folder's name
    assert refugee_treaty.info.extra["languages"] == "en, nl"


def test_the_treaty_has_46_articles_in_english(refugee_treaty: Document) -> None:
    headings = [p.text for p in refugee_treaty.passages if p.kind == "heading"]
    english = [h for h in headings if re.fullmatch(r"Article\s+\d+", h)]
    assert len(english) == 46
    searchable = [p for p in refugee_treaty.passages if p.kind != "heading"]
    assert all(p.language in ("en", "nl") for p in searchable)


def test_all_eleven_treaties_ingest_with_article_numbering() -> None:
    sources, failures = discover([TREATIES])
    assert failures == [] and len(sources) == 11
    for source in sources:
        document = load(source)
        assert sum(1 for p in document.passages if p.kind == "article") >= 20, source.path


def test_word_documents_use_heading_styles_and_word_numbering(tmp_path: Path) -> None:
    word = docx.Document()
    word.core_properties.title = "Guidance on Protection"
    word.core_properties.author = "Protection Unit"
    word.add_heading("Article 1", level=2)
    word.add_paragraph("Definitions", style="Heading 3")
    word.add_paragraph("For the purposes of this guidance:")
    word.add_paragraph("a protected person is anyone in need of protection;", style="List Number")
    word.add_paragraph("a State is a party to the instrument.", style="List Number")
    word.add_heading("Article 2", level=2)
    word.add_paragraph("Everyone has the right to seek asylum.")
    table = word.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Form 1"
    table.rows[0].cells[1].text = "Application for asylum"
    path = tmp_path / "guidance.docx"
    word.save(str(path))
    document = load_path(path)
    assert (document.info.title, document.info.publisher, document.info.format) == (
        "Guidance on Protection",
        None,
        "docx",
    )
    assert document.info.extra["author"] == "Protection Unit"  # a person or an office, not a publisher
    assert passage(document, "Article 1(1)").text == "a protected person is anyone in need of protection;"
    assert passage(document, "Article 1(2)").text == "a State is a party to the instrument."
    assert passage(document, "Article 1").text == "For the purposes of this guidance:"
    assert passage(document, "Article 1(1)").section == ("Article 1: Definitions",)
    article_2 = passage(document, "Article 2")
    assert article_2.text == "Everyone has the right to seek asylum. Form 1 | Application for asylum"


def test_a_broken_docx_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    sources, _ = discover([path])
    with pytest.raises(IngestError, match=r"^(not a Word \.docx package|python-docx cannot read it)"):
        load(sources[0])


def test_plain_html_pages_keep_headings_paragraphs_and_lists(tmp_path: Path) -> None:
    path = tmp_path / "note.html"
    path.write_text(
        "<html lang='en'><head><title>Field note</title><script>var x = 1;</script></head><body>"
        "<h1>Field note</h1><h2>Findings</h2><p>Returns were <b>voluntary</b> in most cases.</p>"
        "<ul><li>Shelter was adequate.</li><li>Food was short.</li></ul></body></html>"
    )
    document = load_path(path)
    texts = [(p.kind, p.label, p.text) for p in document.passages]
    assert ("text", "Findings, para. 1", "Returns were voluntary in most cases.") in texts
    assert ("text", "Findings, para. 3", "Food was short.") in texts
    assert document.info.title == "Field note" and not any("var x" in p.text for p in document.passages)


def test_a_sidecar_overrides_what_the_pdf_says_about_itself(tmp_path: Path) -> None:
    from .ingest_support import paragraph_lines, write_pdf

    write_pdf(tmp_path / "policy.pdf", [paragraph_lines("Every person has the right to seek asylum. " * 4, 72, 760)])
    (tmp_path / "policy.meta.toml").write_text(
        'id = "unhcr-policy-2019"\ntitle = "Policy on Age, Gender and Diversity"\nbody = "UNHCR"\n'
        'status = "superseded"\ndate = "2019-03-01"\nsource_url = "https://www.unhcr.org/"\n'
    )
    info = load_path(tmp_path / "policy.pdf").info
    assert (info.id, info.title, info.body, info.status, info.year) == (
        "unhcr-policy-2019",
        "Policy on Age, Gender and Diversity",
        "UNHCR",
        "superseded",
        2019,
    )
    assert (info.format, info.pages, info.language) == ("pdf", 1, "en")
