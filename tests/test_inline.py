"""Inline Markdown clean-up: what a reader sees, with footnote calls kept at their offsets; the blocks it makes."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.articles import Numbering
from ingest.blocks import PassageBuilder
from ingest.inline import clean_inline, join_parts, normalise
from ingest.library import discover, load
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
        ("_all_ transfers, __both__ and ___three___", "all transfers, both and three"),
        ("snake_case_word, file_name.txt and user_id_", "snake_case_word, file_name.txt and user_id_"),
        ("see http://x.org/_private_/a_b_c or www.x.org/_a_", "see http://x.org/_private_/a_b_c or www.x.org/_a_"),
        ("a `code 42` span, `` a ` b `` and ` padded `", "a code 42 span, a ` b and padded"),
        ("`*not emphasis*` and `<b>`", "*not emphasis* and <b>"),
        ("don`t and won`t", "don`t and won`t"),
        ('``Vessel" shall mean any craft', '``Vessel" shall mean any craft'),
        ('<span class="x">inline html</span> and <b>7781</b>', "inline html and 7781"),
        ("one<br/>two <!-- a note --> three", "one two three"),
        ("a < b, <5 years, x<y and <your name>", "a < b, <5 years, x<y and <your name>"),
        ("mail <me@x.org> or <https://x.org/a_b_>", "mail me@x.org or https://x.org/a_b_"),
        ("H<sub>2</sub>O and State<sup> 1) [Red] </sup>in", "H2O and State 1) [Red] in"),
        ("[`form` **A**](http://x/a_) *with `*` marks*", "form A with * marks"),
    ],
)
def test_markup_is_removed_and_text_kept(raw: str, text: str) -> None:
    assert clean_inline(raw)[0] == text


def test_a_markdown_files_markup_is_not_in_its_passages(tmp_path: Path) -> None:
    path = tmp_path / "markup.md"
    path.write_text(
        "# Transfer Rules\n\n"
        "1. The **Orinoco** rule says _all_ transfers need a [signed form](http://x) and `code 42` clearance.\n\n"
        '2. See <span class="x">inline html</span> and call <b>7781</b>; the form_id field is kept.<sup>1</sup>\n\n'
        "<sup>1</sup> Forms are at <https://x.org/forms/_current_>.\n",
        encoding="utf-8",
    )
    sources, failures = discover([path])
    assert failures == []
    document = load(sources[0])
    texts = {p.label: p.text for p in document.searchable()}
    assert texts == {
        "para. 1": "The Orinoco rule says all transfers need a signed form and code 42 clearance.",
        "para. 2": "See inline html and call 7781; the form_id field is kept.",
        "footnote 1": "Forms are at https://x.org/forms/_current_.",
    }
    [call] = next(p for p in document.searchable() if p.label == "para. 2").footnote_calls
    assert call.offset == len("See inline html and call 7781; the form_id field is kept.")


_MARKUP = set("*_`[]()<>\\!")


@given(st.text(max_size=200))
def test_text_without_markup_comes_back_as_it_is(text: str) -> None:
    """Whatever the characters (those the clean-up uses for its own bookkeeping included), text that holds no
    markup comes back normalised and nothing else."""
    plain = "".join(c for c in text if not _MARKUP & set(unicodedata.normalize("NFKC", c)))
    assert clean_inline(plain) == (normalise(plain).rstrip(), ())
    private = f"a\U000f0000b<sup>1</sup> `x\U000f0001` {plain}"
    assert clean_inline(private)[0] == normalise(f"a\U000f0000b x\U000f0001 {plain}")


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
