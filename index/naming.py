"""Which documents a question names: "What does the GCM say about detention?" names the Global Compact.

A document is named when one of its names (title, short title, aliases: DocumentInfo.names) occurs in
the question as whole words in order, case and punctuation aside, with at most one other word between
two of them ("the 1967 Refugee Protocol" names the "1967 Protocol"). Names of fewer than three letters are ignored
(too easily part of other words' abbreviations). The search prefers a named document's passages; it does
not filter, since a question can name one document and be answered by another.

A question can also name an instrument that the library does not hold ("What does the Cartagena Declaration
say ...?"): `instrument_names` finds such names, and the searcher keeps those that name no document and
that the library's text never writes (Searcher.unfamiliar), evidence that the answer is not in the corpus.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .lexical import STOPWORDS, term_set
from .records import DocumentInfo
from .wordlists import load_word_list

_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
MIN_NAME = 3


def normalise(text: str) -> str:
    """Lower-case words separated by single spaces, with a space at each end (for whole-word matching)."""
    words = _NON_WORD.sub(" ", text.replace("’", "'").replace("'s ", " ").casefold()).split()
    return " " + " ".join(words) + " "


class Names:
    """The names of a snapshot's documents, normalised once, and the documents each one names."""

    def __init__(self, documents: Mapping[str, DocumentInfo]) -> None:
        table: dict[str, set[str]] = {}
        for info in documents.values():
            for name in _names(info):
                table.setdefault(normalise(name), set()).add(info.id)
        # longest first: "european convention on human rights" before "european convention"
        self._table = [(_pattern(name), ids) for name, ids in sorted(table.items(), key=lambda item: -len(item[0]))]
        # each document's names as one set of stemmed terms (acronyms expanded both ways: "IDPs" is "internally
        # displaced persons")
        self._terms_of = {info.id: frozenset().union(*(term_set(n) for n in info.names)) for info in documents.values()}

    def terms(self, document_id: str) -> frozenset[str]:
        """The stemmed terms of a document's names (title, short title, aliases)."""
        return self._terms_of.get(document_id, frozenset())

    def named_in(self, question: str) -> frozenset[str]:
        """Ids of the documents the question names."""
        return self.find(question)[0]

    def resembles(self, phrase: str) -> bool:
        """Whether `phrase` names a document, or every word of it is a word of one document's names ("the
        Children's Convention" and the Convention on the Rights of the Child, "the African Union Convention on
        IDPs" and the Kampala Convention's title)."""
        if self.named_in(phrase):
            return True
        terms = term_set(phrase)
        return bool(terms) and any(terms <= names for names in self._terms_of.values())

    def find(self, question: str) -> tuple[frozenset[str], str]:
        """Ids of the documents the question names, and the question's words without those names.

        The rest is what the lexical index should match: "What does the ECHR say about family life?"
        looks for family life in the ECHR, not for the other documents that cite the ECHR.
        """
        text = normalise(question)
        for phrase in instrument_names(question):
            if self._foreign(phrase):  # "the OAU Refugee Convention" is not the (1951) "Refugee Convention"
                text = text.replace(normalise(phrase), " ")
        return self._names_in(text)

    def held_in(self, phrase: str) -> tuple[frozenset[str], str]:
        """The documents whose names `phrase` holds, and its words without those names nor the joining words at
        their ends, read as they stand (`find` sets aside a phrase that reads as another instrument's name; this
        is for reading that name): "Optional Protocol to the ICCPR" holds the ICCPR's name, and "optional
        protocol" is left."""
        found, rest = self._names_in(normalise(phrase))
        words = rest.split()
        while words and words[0] in _EDGE_WORDS:
            words.pop(0)
        while words and words[-1] in _EDGE_WORDS:
            words.pop()
        return found, " ".join(words)

    def _names_in(self, text: str) -> tuple[frozenset[str], str]:
        found: set[str] = set()
        for pattern, ids in self._table:
            if pattern.search(text):
                found |= ids
                text = pattern.sub(" ", text)  # a longer name's words do not name another document too
        return frozenset(found), " ".join(text.split())

    def _foreign(self, phrase: str) -> bool:
        """Whether an instrument's name in a question holds a document's name but is another instrument's: a
        particular word of it ("OAU") is no word of the names of the documents it holds ("UN", "Geneva" and
        "1951" in "the UN / Geneva / 1951 Refugee Convention" are conventional or the Convention's own)."""
        text = normalise(phrase)
        held = [ids for pattern, ids in self._table if pattern.search(text)]
        if not held:
            return False
        own = frozenset().union(*(self._terms_of[d] for ids in held for d in ids))
        return any(not term_set(word) <= own for word in particulars(phrase))


def _pattern(name: str) -> re.Pattern[str]:
    """A name's words in order, with at most one other word between two of them ("1967 Refugee Protocol" is
    the "1967 Protocol"; "the Refugee Convention's" is the "Refugee Convention")."""
    words = [_number_free(w) for w in name.split()]
    return re.compile(" " + "".join(w + " (?:\\w+ )?" for w in words[:-1]) + words[-1] + " ")


def _number_free(word: str) -> str:
    """A name's word in either number: "refugees" matches "refugee" ("Kenya's refugee regulations" names the
    Kenya Refugees Regulations) and "regulation" "regulations"; a short word or a number stays as it is."""
    if len(word) < 4 or not word.isalpha():
        return re.escape(word)
    stem = word[:-1] if word.endswith("s") and not word.endswith("ss") else word
    return re.escape(stem) + "s?"


def _names(info: DocumentInfo) -> Iterable[str]:
    for name in info.names:
        if sum(c.isalnum() for c in name) >= MIN_NAME:
            yield name


_KEYWORD = (
    r"(?:Convention|Covenant|Protocol|Declaration|Directive|Regulations?|Principles|Compact|Charter|Act|Statement|"
    r"Court|Treaty|Agreement|Guidelines|Plan|Fund|Forum|Pact|Opinion)"
)
_JOINS = ("of", "on", "the", "for", "and", "to", "against", "relating", "in", "by", "with")
_JOIN = rf"(?:{'|'.join(_JOINS)})"
# what is left of a name's join once the name is taken out ("s": of a possessive, "the ICCPR's Optional Protocol")
_EDGE_WORDS = frozenset((*_JOINS, "s"))
_CAPITAL = r"(?:[A-Z][\w’'-]*|\d{4}|\d+/\d+(?:/\w+)?)"
_INSTRUMENT = re.compile(
    rf"\b{_CAPITAL}(?:\s+(?:{_JOIN}\s+)*{_CAPITAL})*\s+{_KEYWORD}\b(?:\s+(?:{_JOIN}\s+)+{_CAPITAL}(?:\s+{_CAPITAL})*)?"
    rf"|\b{_KEYWORD}\s+(?:{_JOIN}\s+)+{_CAPITAL}(?:\s+(?:{_JOIN}\s+)*{_CAPITAL})*"
    r"|\b[A-Z][\w-]+(?: and Others)? v\. [A-Z][\w ]+"
)


# What the regular expression takes in before a name: a part of the instrument with its join ("Preamble of the
# Universal Declaration of Human Rights", "Schedule to the 1951 Convention"), or a question's capitalised first
# word ("Under Regulation (EU) 2024/1347", "Does the UK Illegal Migration Act"), or a quoted heading before the
# name ("'Continuity of Residence' in the 1951 Refugee Convention")
_PART_OF = re.compile(
    r"(?:(?:Preamble|Schedule|Annex|Appendix|Chapter|Part|Section|Recital|Objective|Paragraph|Title|Article|"
    rf"Final Act)\s+(?:{_JOIN}\s+)+|(?:Under|In|According|Does|Do|Did|Is|Are|Can|May|Must|What|How|Which|Who|When|"
    rf"Why)\s+(?:{_JOIN}\s+)*)"
)
_QUOTED = re.compile(rf".*['’”]\s+(?:{_JOIN}\s+)*")


def instrument_names(question: str) -> list[str]:
    """The phrases of a question that read as the name of an instrument, a body or a case: capitalised words
    around "Convention", "Directive", "Court", "Fund" ... ("the EU Return Directive", "the Cartagena
    Declaration", "Soering v. United Kingdom"), without a part, a quoted heading or the question's first word
    written before the name ("the Preamble of the Universal Declaration of Human Rights" names the Universal
    Declaration; "Under Regulation (EU) 2024/1347" names no instrument by its name)."""
    found = []
    for match in _INSTRUMENT.finditer(question):
        name = _QUOTED.sub("", match.group(0), count=1)
        while head := _PART_OF.match(name):
            name = name[head.end() :]
        if _INSTRUMENT.fullmatch(name):
            found.append(name)
    return found


_ROMAN = re.compile(r"[IVXLC]+")  # "Dublin III", "Article IV": a number, not a name
_WORD = re.compile(r"[^\W\d_][\w'’.-]*|\d{2,}", re.UNICODE)


def particulars(question: str) -> tuple[str, ...]:
    """The words of a question that name something particular: capitalised words ("Germany", "Kakuma",
    "Frontex"), acronyms ("IDMC") and numbers of two digits or more ("2023"), less stop words and the words
    that protection texts capitalise by convention ("Article", "Member States"). A library that answers the
    question writes them near the answer; one that does not ("How many asylum applications were lodged in
    Germany in 2023?") rarely does (Searcher.strangers)."""
    conventional = load_word_list("conventional.txt")
    found = []
    for match in _WORD.finditer(question):
        for part in match.group(0).strip(".'’-").split("-"):  # "Haiti-Dominican", "non-EU"
            word = re.sub(r"['’]s$", "", part).strip(".'’")  # "Norway's"
            lowered = word.casefold()
            if len(word) < 2 or lowered in STOPWORDS or lowered in conventional or _ROMAN.fullmatch(word):
                continue
            if word.isdigit() or word[0].isupper() or sum(c.isupper() for c in word) >= 2:
                found.append(word)
    return tuple(found)
