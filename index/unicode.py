"""Text that is not valid Unicode: found before it reaches the tokenizer, a file or a response.

Python strings may hold lone surrogates (U+D800 to U+DFFF): JSON's "\\ud800" escape and undecodable
bytes in file names (os.fsdecode's surrogateescape) produce them. They cannot be encoded as UTF-8,
so the tokenizer, the index files and every response would fail on them.
"""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def unicode_problem(text: str) -> str | None:
    """None when `text` is valid Unicode; else what is wrong, e.g. 'a lone surrogate \\ud800 at character 12'."""
    found = _SURROGATE.search(text)
    if found is None:
        return None
    return f"a lone surrogate \\u{ord(found.group()):04x} at character {found.start() + 1}"


def printable(text: str) -> str:
    """`text` with each lone surrogate written as its escape (\\ud800), so it can be encoded as UTF-8."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
