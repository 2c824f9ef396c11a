"""The real protection-law PDFs: units in their own numbering, pages and printed labels, cleaning rules.

The labels, pages and opening words below were checked by eye against the PDFs (pypdf's layout
text and the printed page numbers in their headers and footers).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from index.records import Document, citation_label

from .conftest import needs_shared_data
from .ingest_support import CHARTER, CONVENTION, DUBLIN, KAMPALA, KENYA, passage, real

pytestmark = [needs_shared_data, pytest.mark.slow]

# (file, label, physical page, printed page label, opening words)
CHECKED = [
    (CONVENTION, "Article 1A", 16, "14", "For the purposes of the present Convention, the term “refugee”"),
    (CONVENTION, "Article 2", 18, "16", "Every refugee has duties to the country in which he finds himself"),
    (CONVENTION, "Article 12(1)", 22, "20", "The personal status of a refugee shall be governed"),
    (CONVENTION, "Article 31(1)", 31, "29", "The Contracting States shall not impose penalties"),
    (CONVENTION, "Article 33(1)", 32, "30", "No Contracting State shall expel or return (“refouler”) a refugee"),
    (CONVENTION, "Article 33(2)", 32, "30", "The benefit of the present provision may not"),
    (CONVENTION, "Article 34", 32, "30", "The Contracting States shall as far as possible facilitate"),
    (CONVENTION, "Article 35(2)", 33, "31", "In order to enable the Office of the High Commissioner"),
    (CONVENTION, "Protocol, Article I(2)", 48, "46", "For the purpose of the present Protocol, the term “refugee”"),
    (CONVENTION, "Protocol, Article VII(1)", 51, "49", "At the time of accession, any State may make reservations"),
    (CHARTER, "Article 2(1)", 9, "9", "Everyone has the right to life."),
    (CHARTER, "Article 18", 12, "12", "The right to asylum shall be guaranteed"),
    (CHARTER, "Article 19(2)", 12, "12", "No one may be removed, expelled or extradited to a State"),
    (CHARTER, "Article 47", 20, "20", "Everyone whose rights and freedoms guaranteed by the law of the Union"),
    (KAMPALA, "Article I(a)", 6, "6", "“African Charter” means the African Charter"),
    (KAMPALA, "Article II(a)", 8, "8", "Promote and strengthen regional and national measures"),
    (KAMPALA, "Article IV(4)", 12, "12", "All persons have a right to be protected against arbitrary displacement"),
    (DUBLIN, "recital 1", 1, "31", "A number of substantive changes are to be made"),
    (DUBLIN, "recital 12", 2, "32", "Directive 2013/32/EU of the European Parliament"),
    (DUBLIN, "Article 2(g)", 6, "36", "‘family members’ means, insofar as the family already existed"),
    (DUBLIN, "Article 3(1)", 7, "37", "Member States shall examine any application for international protection"),
    (DUBLIN, "Article 17(1)", 11, "41", "By way of derogation from Article 3(1), each Member State may decide"),
    (KENYA, "regulation 20(1)", 10, "264", "An asylum application may be rejected by the Commissioner"),
    (KENYA, "regulation 22(1)", 11, "265", "The Commissioner shall establish guidelines"),
    (KENYA, "regulation 51(1)", 20, "274", "In these Regulations, “revoked Regulations” means"),
]


@pytest.mark.parametrize(
    ("path", "label", "page", "printed", "opening"), CHECKED, ids=[c[1] + "@" + c[0].stem[:12] for c in CHECKED]
)
def test_checked_passages_have_their_label_page_and_printed_page(
    path: Path, label: str, page: int, printed: str, opening: str
) -> None:
    found = passage(real(path), label)
    assert found.page == page
    assert found.page_label == printed
    assert found.text.startswith(opening)


def test_article_33_is_cited_with_its_paragraph_physical_and_printed_page() -> None:
    document = real(CONVENTION)
    article = passage(document, "Article 33(1)")
    assert (article.kind, article.paragraph, article.anchor) == ("article", "33(1)", "article-33-1")
    assert article.section[-1] == "Article 33: Prohibition of expulsion or return (“refoulement”)"
    assert article.text.endswith("membership of a particular social group or political opinion.")
    assert citation_label(article, document.info.title).endswith("Article 33(1), p. 30 (PDF p. 32)")


def _units(document: Document, word: str = "Article") -> list[str]:
    pattern = re.compile(rf"^{word} ([0-9]+|[IVXLC]+)\b")
    return list(
        dict.fromkeys(m.group(1) for p in document.passages if p.kind == "heading" if (m := pattern.match(p.text)))
    )


def test_the_convention_has_46_articles_and_the_protocol_11() -> None:
    units = _units(real(CONVENTION))
    assert [u for u in units if u.isdigit()] == [str(n) for n in range(1, 47)]
    assert [u for u in units if not u.isdigit()] == ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI"]


def test_article_counts_of_the_charter_kampala_and_dublin() -> None:
    assert _units(real(CHARTER)) == [str(n) for n in range(1, 55)]
    assert _units(real(KAMPALA)) == [
        "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII",
        "XIII", "XIV", "XV", "XVI", "XVII", "XVIII", "XIX", "XX", "XXI", "XXII", "XXIII",
    ]  # fmt: skip
    assert _units(real(DUBLIN)) == [str(n) for n in range(1, 50)]


def test_kenya_regulations_are_numbered_regulation_and_subregulation_with_their_marginal_titles() -> None:
    document = real(KENYA)
    regulations = [p for p in document.passages if p.label.startswith("regulation ")]
    numbers = list(dict.fromkeys(int(re.match(r"regulation (\d+)", p.label).group(1)) for p in regulations))  # type: ignore[union-attr]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 50
    exclusion = [p for p in regulations if p.label.startswith("regulation 20(")]
    assert [p.paragraph for p in exclusion] == [f"20({n})" for n in range(1, 8)]
    assert exclusion[0].section[-1] == "regulation 20: Exclusion"
    # every regulation is an article, but for the three whose opening clause only leads into its items ("A
    # cessation assessment shall include—"): kept and cited, not searched (their items read them in context)
    assert all(p.kind in ("article", "lead-in") for p in regulations)
    lead_ins = [p.label for p in regulations if p.kind == "lead-in"]
    assert lead_ins == ["regulation 16", "regulation 35", "regulation 41"], lead_ins


def test_dublin_two_columns_are_read_column_by_column() -> None:
    document = real(DUBLIN)
    recitals = [int(p.paragraph or 0) for p in document.passages if p.label.startswith("recital ")]
    assert recitals == list(range(1, len(recitals) + 1)) and len(recitals) >= 40
    # Article 2(g) runs from the foot of the left column to the top of the right one
    family = passage(document, "Article 2(g)")
    assert "where the beneficiary is present;" in family.text
    assert passage(document, "Article 2(h)").text.startswith("‘relative’ means")


def test_running_headers_and_footers_are_dropped_but_page_numbers_become_labels() -> None:
    convention = real(CONVENTION)
    dublin = real(DUBLIN)
    texts = [p.text for p in convention.passages] + [p.text for p in dublin.passages]
    assert not any("c o n v e n t i o n" in t or "conventionandprotocol" in t.lower() for t in texts)
    assert not any("Official Journal of the European Union L 180" in t for t in texts)
    assert passage(dublin, "Article 3(1)").page_label == "37"  # from the PDF's /PageLabels


def test_footnotes_are_separated_and_linked_to_the_paragraph_that_calls_them() -> None:
    convention = real(CONVENTION)
    notes = [p for p in convention.passages if p.kind == "footnote" and p.page == 4]
    assert [p.paragraph for p in notes] == ["1", "2", "3"]
    assert notes[0].text.startswith("United Nations General Assembly resolution 429(V)")
    caller = next(p for p in convention.passages if p.anchor == notes[0].called_from)
    assert caller.text.startswith("Grounded in Article 14 of the Universal Declaration")
    assert [c.number for c in caller.footnote_calls] == ["1", "2", "3"]
    assert "(1)" not in caller.text and caller.text[caller.footnote_calls[0].offset - 1] == "."
    dublin = real(DUBLIN)
    opinion = next(
        p for p in dublin.passages if p.text.startswith("Having regard to the opinion of the European Economic")
    )
    assert opinion.text.endswith("Social Committee,") and [c.number for c in opinion.footnote_calls] == ["1"]


def test_cleaning_rules_on_the_conventions_real_pages() -> None:
    document = real(CONVENTION)
    texts = {p.anchor: p.text for p in document.passages}
    everything = " ".join(texts.values())
    # hyphenation at line ends: "relat-" / "ing" on page 5, while real hyphens stay
    assert "instruments relating to refugees" in everything and "relat- ing" not in everything
    assert "non-refoulement" in everything and "well-founded fear" in everything
    # small caps: the title under Article 33 reads "prohiBition" in pypdf's raw text
    assert "Prohibition of expulsion" in passage(document, "Article 33(1)").section[-1]
    assert "prohiBition" not in everything and "ConTraCTing" not in everything
    # drop caps: pypdf's plain text gives "N o Contracting"; the passage starts with the joined word
    assert passage(document, "Article 33(1)").text.startswith("No Contracting State")
    assert not any(re.match(r"[B-HJ-Z] [a-z]", p.text) for p in document.passages)
    # letter-spaced cover ("p r o t o c o l") joined
    cover = " ".join(p.text for p in document.passages if p.page == 1 and p.kind == "heading")
    assert "convention and protocol" in cover and "p r o t o c o l" not in cover


def test_kampala_pages_rotated_by_180_degrees_are_read() -> None:
    document = real(KAMPALA)
    assert document.info.pages == 29
    assert passage(document, "Article I(a)").page == 6  # page 6 has /Rotate 180


def test_pdf_metadata_fills_the_document_info_without_a_sidecar() -> None:
    info = real(DUBLIN).info
    assert info.title.startswith("Regulation (EU) No 604/2013 of the European Parliament")
    assert info.symbol == "(EU) No 604/2013"
    assert (info.date, info.year, info.language, info.format, info.pages) == ("2013-06-26", 2013, "en", "pdf", 29)
    assert real(CONVENTION).info.title == "The 1951 Convention and 1967 Protocol relating to the Status of Refugees"
