"""The default library in corpus/: every file is a named public text with a sidecar and a line in SOURCES.md."""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

import pytest

from index.naming import Names
from index.records import Document, Passage, citation_label
from ingest.citations import cite
from ingest.library import discover, load

from .conftest import CORPUS, PAPER_ID

DOCUMENTS = sorted(
    p for p in CORPUS.iterdir() if p.is_file() and not p.name.endswith(".meta.toml") and p.name != "SOURCES.md"
)
SOURCES = (CORPUS / "SOURCES.md").read_text(encoding="utf-8")


def test_the_library_holds_the_paper_and_the_instruments_it_builds_on() -> None:
    sources, failures = discover([CORPUS])
    assert failures == []
    ids = {s.document_id for s in sources}
    assert {PAPER_ID, "udhr", "gcm", "refugee-convention", "kampala-convention"} <= ids
    assert len(ids) == len(DOCUMENTS) >= 10
    assert "SOURCES.md" not in {s.path.name for s in sources}  # the list of sources is not a document


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_each_document_has_its_metadata_and_its_source(path: Path) -> None:
    sidecar = path.with_name(path.stem + ".meta.toml")
    meta = tomllib.loads(sidecar.read_text(encoding="utf-8"))
    for key in ("id", "title", "year", "language", "publisher"):
        assert meta.get(key), f"{sidecar.name} has no {key}"
    if path.stem != PAPER_ID:
        assert meta.get("short_title") and meta.get("aliases") and meta.get("source_url"), sidecar.name
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    row = next((line for line in SOURCES.splitlines() if f"`{path.name}`" in line), None)
    assert row is not None, f"SOURCES.md does not list {path.name}"
    assert digest in row, f"SOURCES.md gives another sha256 for {path.name}: the copy is not the one listed"


def test_names_are_unique_across_the_library() -> None:
    seen: dict[str, str] = {}
    for path in DOCUMENTS:
        meta = tomllib.loads(path.with_name(path.stem + ".meta.toml").read_text(encoding="utf-8"))
        for name in [meta.get("short_title"), *meta.get("aliases", [])]:
            if name:
                key = name.casefold()
                assert key not in seen, f"{name!r} names both {seen[key]} and {meta['id']}"
                seen[key] = meta["id"]


@pytest.mark.parametrize("document_id", ["udhr", "kampala-convention", "eu-charter"])
def test_the_first_article_ends_the_preamble(document_id: str) -> None:
    sources, _ = discover([CORPUS])
    [document] = [load(s) for s in sources if s.document_id == document_id]
    articles = [p for p in document.searchable() if p.label.startswith("Article")]
    preamble = [p for p in document.searchable() if p.label.startswith("Preamble")]
    assert articles and preamble
    assert all(p.section[:1] == ("Preamble",) for p in preamble)
    inside = [(p.label, p.section) for p in articles if "Preamble" in p.section]
    assert inside == [], inside[:3]  # "Preamble > Article I: DEFINITIONS" was the section of Kampala's articles


def cited(document: Document) -> list[Passage]:
    """The passages cited as the document's text: those searched, and the lead-ins kept beside them."""
    return [p for p in document.passages if p.searchable or p.kind == "lead-in"]


@pytest.fixture(scope="module")
def library() -> dict[str, Document]:
    sources, failures = discover([CORPUS])
    assert failures == []
    return {s.document_id: load(s) for s in sources}


@pytest.mark.parametrize(
    ("document_id", "opening"),
    [
        ("crc", "The States Parties to the present Convention, Considering"),
        ("iccpr", "The States Parties to the present Covenant, Considering"),
        ("echr", "The Governments signatory hereto"),
        ("smuggling-protocol", "The States Parties to this Protocol"),
    ],
)
def test_a_preamble_under_the_title_is_cited_as_the_preamble(
    library: dict[str, Document], document_id: str, opening: str
) -> None:
    document = library[document_id]
    # the ECHR's "The Governments signatory hereto, ..." is a lead-in: not searched, cited as before
    first = next(p for p in cited(document) if opening in p.text)
    assert first.label == "Preamble, para. 1", first.label
    names = {document.info.title.casefold(), *(a.casefold() for a in document.info.aliases)}
    repeated = [p.label for p in document.searchable() if p.label.split(",")[0].casefold() in names]
    # the ECHR's three editorial notes under its title heading are not its preamble and keep their heading
    assert len(repeated) <= 3, repeated[:5]


def test_the_disability_conventions_lettered_preamble_paragraphs_are_cited_apart(library: dict[str, Document]) -> None:
    # "a) Recalling ..." starts in lower case but carries nothing on: its 25 paragraphs were one passage of 6,764
    # characters, "Preamble, para. 1", highlighted whole (now its opening alone, a lead-in: cited, not searched)
    preamble = [p for p in cited(library["crpd"]) if p.label.startswith("Preamble")]
    assert len(preamble) >= 26, [p.label for p in preamble]
    lettered = next(p for p in preamble if p.text.startswith("a) Recalling the principles"))
    assert len(lettered.text) < 600, len(lettered.text)
    assert len({p.label for p in preamble}) == len(preamble)
    # cited by the letters the Convention gives them, (a) to (y), not by their position ("para. 2" was "a)")
    letters = [p.label for p in preamble if re.match(r"[a-y]\) ", p.text)]
    assert letters == [f"Preamble, para. ({chr(ord('a') + i)})" for i in range(25)], letters
    assert preamble[0].label == "Preamble, para. 1" and preamble[0].kind == "lead-in", preamble[0]


def test_letters_cite_a_run_of_paragraphs_only_when_they_run_from_a_without_a_gap() -> None:
    def para(text: str, n: int) -> Passage:
        return Passage(document_id="doc", anchor=f"p{n}", kind="text", text=text, label="", section=("Preamble",))

    run = [
        para("The Parties,", 0),
        *(para(f"{c}) Recognizing item {c} of the run,", i) for i, c in enumerate("abc", 1)),
    ]
    assert [p.label for p in cite(run)] == ["Preamble, para. 1", *(f"Preamble, para. ({c})" for c in "abc")]
    gap = [para(f"{c}) Recognizing item {c} of the run,", i) for i, c in enumerate("abd")]
    assert [p.label for p in cite(gap)] == [f"Preamble, para. {n}" for n in (1, 2, 3)]
    two = [para(f"{c}) Recognizing item {c} of the run,", i) for i, c in enumerate("ab")]
    assert [p.label for p in cite(two)] == ["Preamble, para. 1", "Preamble, para. 2"]


def test_preamble_clauses_glued_at_a_comma_are_paragraphs_apart(library: dict[str, Document]) -> None:
    # the Dutch Treaty Series' CEDAW prints its preamble as one line, "... Convention,Noting that ... women,Noting
    # that ...": 4,400 characters cited "Preamble, para. 1"; each clause is its own paragraph, its words unchanged
    source = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", (CORPUS / "cedaw.md").read_text(encoding="utf-8"))
    source = source.replace("*", "")  # links and emphasis as the text reads
    # its opening and closing clauses are lead-ins: kept, cited, not searched
    preamble = [p for p in cited(library["cedaw"]) if p.label.startswith("Preamble")]
    assert len(preamble) >= 15, [p.label for p in preamble]
    assert len({p.label for p in preamble}) == len(preamble)
    charter = next(p for p in preamble if p.text.startswith("Noting that the Charter of the United Nations"))
    assert charter.label == "Preamble, para. 2", charter.label
    assert (preamble[-1].text, preamble[-1].kind) == ("Have agreed on the following:", "lead-in")
    for passage in preamble:
        assert passage.text[0].isupper() and not re.search(r"[a-z],[A-Z]", passage.text), passage.text[:80]
        assert passage.text in source, passage.text[:80]  # verbatim


def test_the_eu_charter_serves_its_english_text_only(library: dict[str, Document]) -> None:
    charter = library["eu-charter"]
    set_aside = dict(charter.info.set_aside)
    # the solemn proclamation in the Union's other languages: German, French ... by their words, and Danish,
    # Finnish, Swedish, Irish and a Greek that the PDF's font maps to Latin letters, by having no English ones
    assert set_aside.get("another language (the sidecar keeps en)", 0) >= 4, set_aside
    assert sum(n for reason, n in set_aside.items() if reason.startswith("language ")) >= 8, set_aside
    texts = [p.text for p in charter.searchable()]
    assert not any("Europa-Parlamentet" in t or "Parlement européen" in t or "Parlaimint" in t for t in texts)
    assert any(t.startswith("The European Parliament, the Council and the Commission solemnly proclaim") for t in texts)
    assert next(p for p in charter.searchable() if p.label == "Article 18").text.startswith("The right to asylum")


@pytest.mark.parametrize("document_id", ["crc", "gcm", "cedaw", "smuggling-protocol"])
def test_a_markdown_text_without_page_breaks_has_no_pages(library: dict[str, Document], document_id: str) -> None:
    document = library[document_id]
    assert {p.page for p in document.passages} == {None}
    assert not any(citation_label(p, document.info.title).endswith("p. 1") for p in document.searchable())


def test_the_papers_markdown_keeps_its_pages(library: dict[str, Document]) -> None:
    paper = library[PAPER_ID]
    para7 = next(p for p in paper.searchable() if p.label == "para. 7")
    assert para7.page == 2 and citation_label(para7, paper.info.title).endswith("para. 7, p. 2")


def test_lettered_items_without_a_space_after_the_bracket_are_items(library: dict[str, Document]) -> None:
    # the Smuggling Protocol's Article 3 writes "b)``Illegal entry" ...": items b) and c) were read into a)
    protocol = library["smuggling-protocol"]
    items = {p.label: p.text for p in protocol.searchable() if p.label.startswith("Article 3(")}
    assert items["Article 3(b)"].startswith("``Illegal entry") and "Illegal entry" not in items["Article 3(a)"]
    assert "Fraudulent travel or identity document" in items["Article 3(c)"]


def test_the_kenyan_regulations_are_named_as_people_say_it(library: dict[str, Document]) -> None:
    names = Names({d.id: d.info for d in library.values()})
    kenya = frozenset({"kenya-refugees-general-regulations-2024"})
    assert names.named_in("What do the Kenyan refugee regulations say about movement passes?") == kenya
    assert names.named_in("What do Kenya's refugee regulations say about movement passes?") == kenya
    assert names.named_in("What do Kenyan refugees say about movement passes?") == frozenset()  # not the name


@pytest.mark.parametrize(
    "document_id", ["crc", "cedaw", "crpd", "trafficking-protocol", "statelessness-convention-1954"]
)
def test_the_dutch_and_english_title_lines_are_not_a_section(library: dict[str, Document], document_id: str) -> None:
    # the Dutch Treaty Series opens with the Dutch title, then the English one: "Verdrag inzake de rechten van
    # personen met een handicap > Convention on the rights of persons with disabilities" was every preamble
    # paragraph's section path (shown, embedded and matched), the outside tester found
    document = library[document_id]
    title = document.info.title.casefold()[:30]
    paths = [p.section for p in document.passages]
    assert not [s for s in paths if s and ("verdrag" in s[0].casefold() or s[0].casefold().startswith(title))]
    # the title lines themselves stay in the document, as headings, for its page
    headings = [p.text for p in document.passages[:3] if p.kind == "heading"]
    assert document_id == "crpd" or any("Verdrag" in h or "Protocol inzake" in h for h in headings), headings
    # a preamble's opening may be a lead-in (CEDAW's, CRPD's "The States Parties to the present Convention,"):
    # kept and cited as before, not searched
    preamble = next(p for p in cited(document) if p.label.startswith("Preamble"))
    assert preamble.label == "Preamble, para. 1" and preamble.section == ()


@pytest.mark.parametrize(
    ("label", "text", "note"),
    [
        (
            "regulation 28(1)",
            "The asylum seekers identification document issued by the Commissioner under these Regulations shall be "
            "issued free of charge and without discrimination.",
            "Asylum seeker identification document",
        ),
        (
            "regulation 32(1)",
            "A refugee seeking relocation according to section 31 of the Act shall apply in Form 10 as set out in the "
            "Schedule to the settlement officer.",
            "Relocation order",
        ),
    ],
)
def test_a_margin_note_beside_only_a_line_or_two_is_the_regulations_title_not_its_text(
    library: dict[str, Document], label: str, text: str, note: str
) -> None:
    # a page where one regulation's marginal title (smaller type, right of the body) stands beside its first lines
    # has too few such lines for a column gutter: the note's words were read into the body ("issued by the Asylum
    # seeker Commissioner ... free of charge identification document. and without discrimination.")
    passage = next(p for p in library["kenya-refugees-general-regulations-2024"].searchable() if p.label == label)
    assert passage.text == text
    assert passage.section[-1] == f"{label.split('(', maxsplit=1)[0]}: {note}"
