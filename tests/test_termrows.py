"""TermRows gives the learned ranker's heading and body shares as arrays: the same numbers as intersecting sets."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from index.termrows import TermRows

WORDS = st.sampled_from(["refuge", "asylum", "child", "detent", "return", "famili", "state", "articl"])
ROW = st.tuples(st.frozensets(WORDS, max_size=5), st.frozensets(WORDS, max_size=8))


def by_sets(rows: list[tuple[frozenset[str], frozenset[str]]], picked: list[int], terms: set[str]) -> np.ndarray:
    heading = np.zeros(len(picked), dtype=np.float32)
    body = np.zeros(len(picked), dtype=np.float32)
    for i, row in enumerate(picked):
        heading[i] = len(terms & rows[row][0]) / len(terms)
        body[i] = len(terms & rows[row][1]) / len(terms)
    return np.stack([heading, body])


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(ROW, min_size=1, max_size=30), data=st.data())
def test_shares_are_the_set_intersections(
    rows: list[tuple[frozenset[str], frozenset[str]]], data: st.DataObject
) -> None:
    picked = sorted(data.draw(st.sets(st.integers(0, len(rows) - 1))))
    terms = data.draw(st.sets(WORDS | st.just("unknown"), min_size=1, max_size=4))
    table = TermRows(rows)
    heading, body = table.shares(np.asarray(picked, dtype=np.int64), terms)
    assert heading.dtype == body.dtype == np.float32
    assert np.array_equal(np.stack([heading, body]), by_sets(rows, picked, terms))


def test_no_terms_and_no_rows_give_zeros() -> None:
    table = TermRows([(frozenset({"a"}), frozenset({"b"})), (frozenset(), frozenset())])
    heading, body = table.shares(np.asarray([0, 1], dtype=np.int64), set())
    assert not heading.any() and not body.any() and len(heading) == 2
    heading, body = table.shares(np.asarray([1], dtype=np.int64), {"a"})  # a row that writes nothing
    assert heading.tolist() == [0.0] and body.tolist() == [0.0]
    heading, body = table.shares(np.zeros(0, dtype=np.int64), {"a"})
    assert len(heading) == len(body) == 0
