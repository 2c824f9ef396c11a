"""What kind of answer a question asks for, and which passages give that kind.

One intent for now, the commonest in legal reading: a definition. "How does the Smuggling Protocol define
'smuggling of migrants'?" wants Article 3, "Use of terms", whose text says "'Smuggling of migrants' shall
mean ..."; neither the word "define" nor its stem occurs there, and every other passage of the protocol holds
the words "smuggling of migrants", so neither BM25 nor the model tells the definition from the rest. A
passage states a definition when its heading says so ("Definitions", "Use of terms", "Definition of the term
'refugee'") or its opening uses the drafting forms of one ("shall mean", "means", "for the purposes of this
Convention", "the term"). The searcher adds Fusion.definition_boost to such passages when the question asks
for a definition, and says so in `explain`.
"""

from __future__ import annotations

import re

from .context import heading_parts
from .records import DocumentInfo, Passage

_ASKS = re.compile(
    r"\b(defin(e|es|ed|ing|ition|itions)|what is meant by|meaning of|what does .{1,60} mean|what counts as)\b"
    # "Who is a refugee?", "Who is a migrant under the GCM?"; not "Who is a refugee entitled to work?"
    r"|\bwho (is|counts as|qualifies as) an? (\w+[ -]){0,2}\w+\s*(\?|$|\b(under|in|according to|for the "
    r"purposes? of|within the meaning of)\b)",
    re.IGNORECASE,
)
_DRAFTING = re.compile(
    # "means" as a verb, not "a means of", "by means of", "within their means", "available means"
    r"\b(shall mean|(?<!\ba )(?<!\bby )(?<!\bthe )(?<!\btheir )(?<!\bits )(?<!\bother )(?<!\ball )(?<!\bany )"
    r"(?<!\bavailable )(?<!\bappropriate )(?<!\bnecessary )(?<!\bwithin )means\b|"
    # "the term 'refugee' shall apply to"; not "a single definition of the term 'refugee' in Article 1", which
    # speaks of a definition that is elsewhere
    r"(?<!definition of )(?<!definitions of )the terms? [\"“‘'`]|"
    r"for the purposes? of (this|the present)|is defined as|shall be deemed|refers? to)",
    re.IGNORECASE,
)
_HEADING = re.compile(r"\b(definitions?|use of terms|meaning of|interpretation)\b", re.IGNORECASE)
OPENING = 400  # characters of a passage's text where a definition's drafting form is looked for


def asks_for_definition(question: str) -> bool:
    """True when the question asks what a term means ("How does the CRC define a child?", "Who is a refugee?")."""
    return _ASKS.search(question) is not None


def states_definition(passage: Passage, document: DocumentInfo | None) -> bool:
    """True when the passage defines a term: by its heading or by a definition's drafting form in its opening."""
    if _HEADING.search(" ".join(heading_parts(passage, document))):
        return True
    return _DRAFTING.search(passage.text[:OPENING]) is not None
