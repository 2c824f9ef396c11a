"""Text under a document's title heading is not cited by the title again, whatever the title's length."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from index.records import Document, citation_label
from ingest.library import discover, load

MEMO = (
    "Residents must return to the Halcyon hostel by 23:00 on weekdays.\n\n"
    "Visitors are allowed until 21:00 in the common room.\n"
)


def load_text(folder: Path, text: str, sidecar: str | None = None) -> Document:
    path = folder / "memo.md"
    path.write_text(text, encoding="utf-8")
    if sidecar is not None:
        (folder / "memo.meta.toml").write_text(sidecar, encoding="utf-8")
    sources, failures = discover([path])
    assert failures == [] and len(sources) == 1
    return load(sources[0])


def citations(document: Document) -> list[str]:
    return [citation_label(p, document.info.title) for p in document.searchable()]


@pytest.mark.parametrize("title", ["Curfew Memo", "Memo", "Halcyon Hostel Curfew Memorandum"])
def test_text_under_the_title_heading_is_cited_by_its_position(tmp_path: Path, title: str) -> None:
    document = load_text(tmp_path, f"# {title}\n\n{MEMO}")
    assert document.info.title == title
    assert [(p.label, p.section) for p in document.searchable()] == [("para. 1", ()), ("para. 2", ())]
    assert citations(document) == [f"{title}, para. 1", f"{title}, para. 2"]


def test_a_sidecar_title_and_a_heading_under_the_title_give_the_same_citations(tmp_path: Path) -> None:
    titled = load_text(
        tmp_path, f"# Curfew Memo\n\n{MEMO}\n## Visitors\n\nPets stay outside.\n", 'title = "Curfew Memo"\n'
    )
    assert citations(titled) == ["Curfew Memo, para. 1", "Curfew Memo, para. 2", "Curfew Memo, Visitors, para. 1"]
    assert [p.section for p in titled.searchable()] == [(), (), ("Visitors",)]


def test_text_under_the_title_beside_numbered_paragraphs_is_not_taken_for_one(tmp_path: Path) -> None:
    """The document's own paragraph 1 is "para. 1": the unnumbered text above it is cited as text under no heading."""
    document = load_text(
        tmp_path,
        "# Curfew Memo\n\nThis memo sets the hostel's hours.\n\n"
        "1. Residents must return by 23:00 on weekdays.\n\n2. Visitors leave the common room by 21:00.\n",
    )
    assert citations(document) == ["Curfew Memo, Text, para. 1", "Curfew Memo, para. 1", "Curfew Memo, para. 2"]
    assert all(n == 1 for n in Counter(citations(document)).values())


def test_a_heading_that_only_begins_like_a_short_title_is_a_section(tmp_path: Path) -> None:
    document = load_text(tmp_path, f"## Memorandum on curfews\n\n{MEMO}", 'title = "Memo"\n')
    assert [p.label for p in document.searchable()] == [
        "Memorandum on curfews, para. 1",
        "Memorandum on curfews, para. 2",
    ]
    assert document.searchable()[0].section == ("Memorandum on curfews",)
