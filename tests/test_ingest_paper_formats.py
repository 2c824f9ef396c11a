"""The IOM paper as Markdown, as Word and as a printed PDF gives the same document: the same 21 numbered
paragraphs, the same 8 footnotes (number, text and the paragraph that calls them), the same list items, and
the same first three answers to golden questions (the real model).

The Word file is written here the way Word writes one: the paragraphs' numbers are not in their text but
in numbering.xml, where the second section's list carries on the first's numbering across a heading (a
second w:num of the same w:abstractNum) and the later sections restart through w:startOverride (11, 17),
as Word does when a list is split or its value set; footnotes are in footnotes.xml (ids that are not the
numbers Word shows), called by w:footnoteReference runs. Also Word's numbering rules one by one: formats,
level texts, w:lvlRestart, and endnotes.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

import docx
import pytest
from docx.oxml import OxmlElement
from docx.oxml.ns import qn

from index.build import build_snapshot
from index.embedder import Embedder
from index.records import Document, Passage
from index.search import Searcher
from ingest.library import discover, load
from ingest.numbering import ListNumbering, format_number

from .conftest import PAPER, PAPER_SIDECAR
from .test_ingest_paper_pdf import print_paper

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
GOLDEN = Path(__file__).parent / "data" / "golden.jsonl"
QUESTIONS = 8  # the golden questions asked in every format: some answered by paragraphs, footnotes, list items


def numbering_xml(abstracts: dict[int, str], nums: Sequence[tuple[int, int, int | None]]) -> str:
    """numbering.xml: abstract lists (id -> their w:lvl elements) and instances (numId, abstractNumId, start)."""
    body = "".join(f'<w:abstractNum w:abstractNumId="{a}">{levels}</w:abstractNum>' for a, levels in abstracts.items())
    for num_id, abstract, start in nums:
        override = (
            f'<w:lvlOverride w:ilvl="0"><w:startOverride w:val="{start}"/></w:lvlOverride>' if start is not None else ""
        )
        body += f'<w:num w:numId="{num_id}"><w:abstractNumId w:val="{abstract}"/>{override}</w:num>'
    return f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:numbering xmlns:w="{W_NS}">{body}</w:numbering>'


def level(ilvl: int, fmt: str, text: str, start: int = 1, restart: int | None = None) -> str:
    again = f'<w:lvlRestart w:val="{restart}"/>' if restart is not None else ""
    return (
        f'<w:lvl w:ilvl="{ilvl}"><w:start w:val="{start}"/><w:numFmt w:val="{fmt}"/>{again}'
        f'<w:lvlText w:val="{text}"/></w:lvl>'
    )


def notes_xml(kind: str, notes: dict[str, str]) -> str:
    separators = (
        f'<w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:{kind}>'
        f'<w:{kind} w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p></w:{kind}>'
    )
    body = "".join(
        f'<w:{kind} w:id="{note_id}"><w:p><w:r><w:{kind}Ref/></w:r>'
        f'<w:r><w:t xml:space="preserve"> {escape(text)}</w:t></w:r></w:p></w:{kind}>'
        for note_id, text in notes.items()
    )
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    return f'{head}<w:{kind}s xmlns:w="{W_NS}">{separators}{body}</w:{kind}s>'


def package(word: docx.document.Document, path: Path, numbering: str, notes: dict[str, str]) -> Path:
    """Save `word` with our numbering part and footnotes/endnotes parts (name -> XML) in place of python-docx's."""
    saved = io.BytesIO()
    word.save(saved)
    with zipfile.ZipFile(saved) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            data = source.read(entry.filename)
            if entry.filename == "word/numbering.xml":
                data = numbering.encode()
            elif entry.filename == "word/_rels/document.xml.rels":
                extra = "".join(
                    f'<Relationship Id="rIdNotes{kind}" Type="{RELS}/{kind}" Target="{kind}.xml"/>' for kind in notes
                )
                data = data.replace(b"</Relationships>", extra.encode() + b"</Relationships>")
            elif entry.filename == "[Content_Types].xml":
                extra = "".join(
                    f'<Override PartName="/word/{kind}.xml" ContentType="application/vnd.openxmlformats-'
                    f'officedocument.wordprocessingml.{kind}+xml"/>'
                    for kind in notes
                )
                data = data.replace(b"</Types>", extra.encode() + b"</Types>")
            target.writestr(entry, data)
        for kind, xml in notes.items():
            target.writestr(f"word/{kind}.xml", xml)
    return path


def numbered(paragraph: docx.text.paragraph.Paragraph, num_id: int, ilvl: int = 0) -> None:
    properties = paragraph._p.get_or_add_pPr().get_or_add_numPr()
    properties.get_or_add_ilvl().val = ilvl
    properties.get_or_add_numId().val = num_id


def write_runs(paragraph: docx.text.paragraph.Paragraph, passage: Passage, kind: str, ids: dict[str, str]) -> None:
    """The passage's text with a footnote (or endnote) reference run wherever it calls one."""
    position = 0
    for call in passage.footnote_calls:
        paragraph.add_run(passage.text[position : call.offset])
        reference = OxmlElement(f"w:{kind}Reference")
        reference.set(qn("w:id"), ids[call.number])
        paragraph.add_run()._r.append(reference)
        position = call.offset
    paragraph.add_run(passage.text[position:])


def heading_level(heading: Passage, after: Sequence[Passage]) -> int:
    """The heading's depth in the section path of the text under it, as the Markdown's # count gave it."""
    under = next((p for p in after if p.kind != "heading"), None)
    if under is not None and heading.text in under.section:
        return under.section.index(heading.text) + 1
    return len(heading.section) or 1


def write_paper(paper: Document, path: Path) -> Path:
    """The paper as Word writes it: list numbering in numbering.xml, footnotes in footnotes.xml."""
    word = docx.Document()
    sections = list(dict.fromkeys(p.section[0] for p in paper.passages if p.kind == "paragraph"))
    num_of = {section: index + 1 for index, section in enumerate(sections)}  # numIds 1..4, one per section
    ids = {p.paragraph or "": str(40 + 3 * int(p.paragraph or 0)) for p in paper.passages if p.kind == "footnote"}
    passages = list(paper.passages)
    for i, p in enumerate(passages):
        if p.kind == "heading":
            word.add_paragraph(p.text, style=f"Heading {heading_level(p, passages[i + 1 :])}")
        elif p.kind in ("paragraph", "list-item"):
            paragraph = word.add_paragraph()
            numbered(paragraph, num_of[p.section[0]] if p.kind == "paragraph" else 9)
            write_runs(paragraph, p, "footnote", ids)
    first = {
        s: min(int(p.paragraph or 0) for p in paper.passages if p.kind == "paragraph" and p.section[0] == s)
        for s in sections
    }
    abstracts = {
        10: level(0, "decimal", "%1.") + level(1, "lowerLetter", "(%2)"),
        11: level(0, "decimal", "%1."),
        12: level(0, "decimal", "%1."),
        90: level(0, "bullet", "\u2022"),
    }
    nums = [
        (1, 10, None),  # Introduction: 1-4
        (2, 10, None),  # a second instance of the same list carries on across the heading: 5-10
        (3, 11, first[sections[2]]),  # a new list that starts at 11 through w:startOverride
        (4, 12, first[sections[3]]),  # and another at 17
        (9, 90, None),
    ]
    notes = {p.paragraph or "": p.text for p in paper.passages if p.kind == "footnote"}
    return package(
        word,
        path,
        numbering_xml(abstracts, nums),
        {"footnotes": notes_xml("footnote", {ids[n]: t for n, t in notes.items()})},
    )


def load_as(path: Path) -> Document:
    shutil.copy(PAPER_SIDECAR, path.with_name(path.stem + ".meta.toml"))  # the same title and id in every format
    sources, failures = discover([path])
    assert failures == [] and len(sources) == 1
    return load(sources[0])


@pytest.fixture(scope="module")
def formats(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Document]:
    folder = tmp_path_factory.mktemp("formats")
    markdown = load_as(Path(shutil.copy(PAPER, folder / "paper.md")))
    word = load_as(write_paper(markdown, folder / "paper.docx"))
    pdf = load_as(print_paper(markdown, folder / "printed.pdf"))
    return {"markdown": markdown, "word": word, "pdf": pdf}


def units(document: Document, kind: str) -> list[tuple[str, str]]:
    return [(p.label, p.text) for p in document.passages if p.kind == kind]


def notes(document: Document) -> set[tuple[str, str, str]]:
    by_anchor = {p.anchor: p for p in document.passages}
    return {
        (p.label, p.text, by_anchor[p.called_from].label if p.called_from else "")
        for p in document.passages
        if p.kind == "footnote"
    }


def test_the_same_numbered_paragraphs_in_every_format(formats: dict[str, Document]) -> None:
    expected = units(formats["markdown"], "paragraph")
    assert [label for label, _ in expected] == [f"para. {n}" for n in range(1, 22)]
    assert units(formats["word"], "paragraph") == expected
    assert units(formats["pdf"], "paragraph") == expected


def test_the_same_footnotes_with_the_same_callers_in_every_format(formats: dict[str, Document]) -> None:
    expected = notes(formats["markdown"])
    assert len(expected) == 8 and all(caller.startswith("para. ") for _, _, caller in expected)
    assert notes(formats["word"]) == expected
    assert notes(formats["pdf"]) == expected
    calls = {p.label: [c.number for c in p.footnote_calls] for p in formats["markdown"].passages if p.footnote_calls}
    assert {
        p.label: [c.number for c in p.footnote_calls] for p in formats["word"].passages if p.footnote_calls
    } == calls


def test_the_same_list_items_in_every_format(formats: dict[str, Document]) -> None:
    expected = units(formats["markdown"], "list-item")
    assert [label for label, _ in expected] == [f"Recommendations for Member States, item {n}" for n in range(1, 7)]
    assert units(formats["word"], "list-item") == expected
    assert units(formats["pdf"], "list-item") == expected


def test_the_same_first_three_answers_in_every_format(formats: dict[str, Document], embedder: Embedder) -> None:
    """The same passages answer in every format. The formats list their passages in different orders (Word's
    notes come at the end), so the model embeds them in different batches; in bf16 that moves a cosine by
    ~1e-4, which may swap two passages whose scores tie to that precision. Such a swap is tolerated, and
    only such a swap."""
    golden = [json.loads(line) for line in GOLDEN.read_text().splitlines() if line.strip()]
    asked = golden[:: max(1, len(golden) // QUESTIONS)][:QUESTIONS]
    searchers = {name: Searcher(build_snapshot([d], embedder)[0], embedder) for name, d in formats.items()}
    expected_labels = {p.anchor: p.label for p in formats["markdown"].passages}
    for item in asked:
        answers = {
            name: [(h.passage.kind, h.passage.label, h.passage.text, h.score) for h in s.search(item["question"], k=4)]
            for name, s in searchers.items()
        }
        for name in ("word", "pdf"):
            for theirs, ours in zip(answers[name][:3], answers["markdown"][:3], strict=True):
                tied = abs(theirs[3] - ours[3]) < 2e-3 and theirs[:3] in [a[:3] for a in answers["markdown"]]
                assert theirs[:3] == ours[:3] or tied, (name, item["question"], theirs[:2], ours[:2])
        assert expected_labels[item["expect"]] in [a[1] for a in answers["markdown"][:3]], item["question"]


# Word's numbering rules, one by one -------------------------------------------------------------------------


def test_number_formats() -> None:
    assert [format_number(n, "lowerLetter") for n in (1, 26, 27)] == ["a", "z", "aa"]
    assert [format_number(n, "upperRoman") for n in (4, 9, 14, 40)] == ["IV", "IX", "XIV", "XL"]
    assert [format_number(n, "lowerRoman") for n in (1, 3)] == ["i", "iii"]
    assert format_number(7, "upperLetter") == "G" and format_number(7, "decimal") == "7"


def test_level_texts_overrides_and_restarts() -> None:
    xml = numbering_xml(
        {
            1: level(0, "decimal", "%1.")
            + level(1, "lowerLetter", "(%2)")
            + level(2, "lowerRoman", "%1.%2.%3", restart=0),
            2: level(0, "upperLetter", "%1)", start=3),
        },
        [(1, 1, None), (2, 1, 5), (3, 2, None)],
    )
    lists = ListNumbering(xml.encode())
    shown = [
        lists.marker("1", 0),  # 1.
        lists.marker("1", 1),  # (a)
        lists.marker("1", 2),  # 1.a.i
        lists.marker("1", 1),  # (b): deeper levels restart ...
        lists.marker("1", 2),  # 1.b.ii: ... except one that never restarts (w:lvlRestart 0)
        lists.marker("1", 0),  # 2.: (a) restarts below it
        lists.marker("1", 1),  # (a)
        lists.marker("2", 0),  # 5.: a second instance restarts at its w:startOverride
        lists.marker("2", 0),  # 6.
        lists.marker("1", 0),  # 7.: both instances share the abstract list's counter
        lists.marker("3", 0),  # C): w:start 3, upper-case letters, its own level text
    ]
    assert shown == ["1.", "(a)", "1.a.i", "(b)", "1.b.ii", "2.", "(a)", "5.", "6.", "7.", "C)"]
    assert lists.marker("9", 0) is None  # an undefined list: the reader falls back to Word's default look


def test_endnotes_are_numbered_in_roman_and_linked_to_their_caller(tmp_path: Path) -> None:
    word = docx.Document()
    word.add_paragraph("Findings", style="Heading 1")
    paragraph = word.add_paragraph("The survey reached every camp in the region.")
    numbered(paragraph, 1)
    reference = OxmlElement("w:endnoteReference")
    reference.set(qn("w:id"), "7")
    paragraph.add_run()._r.append(reference)
    path = package(
        word,
        tmp_path / "report.docx",
        numbering_xml({1: level(0, "decimal", "%1.", start=4)}, [(1, 1, None)]),
        {"endnotes": notes_xml("endnote", {"7": "Survey of 2023, table 4."})},
    )
    document = load(discover([path])[0][0])
    paragraph_4 = next(p for p in document.passages if p.kind == "paragraph")
    endnote = next(p for p in document.passages if p.kind == "footnote")
    assert (paragraph_4.label, paragraph_4.text) == ("para. 4", "The survey reached every camp in the region.")
    assert [(c.offset, c.number) for c in paragraph_4.footnote_calls] == [(len(paragraph_4.text), "i")]
    assert (endnote.label, endnote.text, endnote.called_from) == (
        "endnote i",
        "Survey of 2023, table 4.",
        paragraph_4.anchor,
    )
