"""Inline Markdown clean-up: what a reader sees, with footnote calls kept at their offsets; the blocks it makes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.articles import Numbering
from ingest.blocks import PassageBuilder
from ingest.inline import clean_inline, join_parts
from ingest.markdown import Paper, parse_markdown, split_blocks


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("see [the Compact](#) now", "see the Compact now"),
        ("a [click](javascript:alert(1)) b", "a click b"),
        ('[Plan \\(2024–2028\\)](https://x.org/a_(b) "title")', "Plan (2024–2028)"),
        ("**bold** and *italic* and ***both***", "bold and italic and both"),
        ("keep \\*stars\\* literal", "keep *stars* literal"),
        ("<script>alert(1)</script> stays text", "<script>alert(1)</script> stays text"),
        ("spaces   and\nnew lines", "spaces and new lines"),
        ("ligature ﬁnal", "ligature final"),
    ],
)
def test_markup_is_removed_and_text_kept(raw: str, text: str) -> None:
    assert clean_inline(raw)[0] == text


def test_footnote_calls_are_recorded_at_their_offsets() -> None:
    text, calls = clean_inline("One.<sup>1</sup> Two [link](#).<sup>2</sup>")
    assert text == "One. Two link."
    assert [(c.offset, c.number) for c in calls] == [(4, "1"), (14, "2")]
    joined, joined_calls = join_parts((text, calls), clean_inline("Three.<sup>3</sup>"))
    assert joined == "One. Two link. Three."
    assert [(c.offset, c.number) for c in joined_calls] == [(4, "1"), (14, "2"), (21, "3")]


@given(
    st.lists(
        st.one_of(
            st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="<>"), max_size=20),
            st.integers(1, 99).map(lambda n: f"<sup>{n}</sup>"),
            st.just("[a](#)"),
            st.just("**b**"),
        ),
        max_size=12,
    )
)
def test_clean_inline_never_leaves_sup_tags_and_offsets_stay_in_range(parts: list[str]) -> None:
    text, calls = clean_inline("".join(parts))
    assert "<sup>" not in text and "</sup>" not in text
    assert len(calls) == sum(p.startswith("<sup>") for p in parts)
    assert all(0 <= c.offset <= len(text) for c in calls)


@given(st.text(max_size=400))
def test_the_markdown_parser_accepts_any_text(text: str) -> None:
    passages = parse_markdown(text, "doc")
    anchors = [p.anchor for p in passages]
    assert len(anchors) == len(set(anchors))
    assert all(p.text.strip() == p.text for p in passages)


def test_both_passage_builders_read_the_same_markdown_blocks() -> None:
    """A numbered paragraph is one Block with its marker in its text; the paper's reader and the numbering
    both cite it from that block, its footnote call moved to match, and link the footnote to it."""
    blocks = split_blocks("## Scope\n\n7. States shall<sup>3</sup> act on it.\n\n<sup>3</sup> A note.")
    assert [(b.kind, b.text, b.number) for b in blocks[1:]] == [
        ("text", "7. States shall act on it.", "7"),
        ("footnote", "A note.", "3"),
    ]
    assert [(c.offset, c.number) for c in blocks[1].calls] == [(15, "3")]
    builders: list[PassageBuilder] = [Paper("doc", None), Numbering("doc")]
    for builder in builders:
        heading, paragraph, footnote = builder.feed(blocks)
        assert (heading.kind, paragraph.label, paragraph.text) == ("heading", "para. 7", "States shall act on it.")
        assert [(c.offset, c.number) for c in paragraph.footnote_calls] == [(12, "3")]
        assert (footnote.label, footnote.called_from, footnote.section) == ("footnote 3", "para-7", ("Scope",))
