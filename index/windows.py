"""Split a passage into overlapping windows that fit the model, so nothing is silently cut.

A passage of at most `max_tokens` word pieces is one window (the whole text). A longer one becomes
several windows of `max_tokens` pieces that overlap by `overlap` pieces, each starting at a word.
The passage is still one passage: the index scores it by its best window.
"""

from __future__ import annotations

from collections.abc import Callable


def window_spans(
    text: str,
    token_spans: Callable[[str], list[tuple[int, int]]],
    max_tokens: int,
    overlap: int = 48,
) -> list[tuple[int, int]]:
    """Character spans (start, end) of the windows covering `text`, in order."""
    if max_tokens < 8:
        raise ValueError(f"max_tokens must be at least 8, got {max_tokens}")
    overlap = max(0, min(overlap, max_tokens // 2))
    spans = token_spans(text)
    if len(spans) <= max_tokens:
        return [(0, len(text))]
    word_starts = [i for i, (start, _) in enumerate(spans) if i == 0 or start > spans[i - 1][1] or start == 0]
    windows: list[tuple[int, int]] = []
    first = 0
    while True:
        last = min(first + max_tokens, len(spans)) - 1
        if last < len(spans) - 1:
            # end on a whole word: drop trailing pieces of a word that continues past the window
            cut = _last_word_start_at_or_before(word_starts, last + 1)
            if cut > first:
                last = cut - 1
        windows.append((spans[first][0], spans[last][1]))
        if last >= len(spans) - 1:
            return windows
        target = max(first + 1, last + 1 - overlap)
        first = min(_first_word_start_at_or_after(word_starts, target, fallback=target), last + 1)


def _last_word_start_at_or_before(word_starts: list[int], index: int) -> int:
    best = 0
    for start in word_starts:
        if start > index:
            break
        best = start
    return best


def _first_word_start_at_or_after(word_starts: list[int], index: int, fallback: int) -> int:
    for start in word_starts:
        if start >= index:
            return start
    return fallback
