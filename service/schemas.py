"""The HTTP contract: request and response models (the page, the tests and outside checks rely on these names)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool

from index.records import KINDS, SEARCHABLE_KINDS, DocumentInfo, Passage, citation_label
from index.search import Hit


def _json_integer(value: object) -> object:
    """JSON Schema's integer: 3 and 3.0, but not "3" or true (which pydantic's lax mode would turn into 3 and 1)."""
    if isinstance(value, bool | str):
        raise ValueError(f"must be a JSON integer such as 3, not {type(value).__name__} {value!r}")
    return value


JsonInteger = Annotated[int, BeforeValidator(_json_integer)]

# What QuestionLimits.check (service/answer.py) accepts, for the OpenAPI document: 1 to 1,000 characters with a
# letter or digit. The letter-or-digit rule is a `not` (JSON Schema reads `\p{L}` as a letter): Swagger UI checks
# `pattern` with a JavaScript RegExp without the `u` flag, which would read `\p{L}` as "p", "{", "L", "}".
QUESTION_SCHEMA: dict[str, Any] = {
    "minLength": 1,
    "maxLength": 1000,
    "pattern": r"\S",
    "not": {"pattern": r"^[^\p{L}\p{N}]*$"},
}


# The kinds a `kind` filter may name: those that are searched (index/records.py), in KINDS' order. The others are
# kept for the document view only (set aside: contents, forms, tables ...; headings, whose words are searched with
# the passages under them), so a filter on one could only ever find nothing.
SEARCHED_KINDS: tuple[str, ...] = tuple(k for k in KINDS if k in SEARCHABLE_KINDS)
KIND_HELP = f"Only passages of these kinds: {', '.join(SEARCHED_KINDS)} (the kinds that are searched)."

RERANK_HELP = (
    "true: re-score the first stage's best passages with the reranker (about 80 ms more; 409 where the service runs "
    "without one, PQA_RERANK=off); false: the first stage's order; unset: the service's setting (PQA_RERANK)."
)


class AskRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"question": "How does IOM define protection?", "k": 3}]},
    )

    question: str = Field(
        description="The question, in plain words (1 to 1,000 characters, with a letter or digit).",
        json_schema_extra=QUESTION_SCHEMA,
    )
    k: JsonInteger | None = Field(
        None,
        description="How many passages to return, a JSON integer (1 to 50; default 5).",
        json_schema_extra={"minimum": 1, "maximum": 50},
    )
    document: list[str] | None = Field(None, description="Only these document ids.")
    kind: list[str] | None = Field(
        None, description=KIND_HELP, json_schema_extra={"items": {"enum": list(SEARCHED_KINDS)}}
    )
    rerank: StrictBool | None = Field(None, description=RERANK_HELP)


class Highlight(BaseModel):
    start: int = Field(description="0-based offset into `text` where the answering sentence starts.")
    end: int = Field(description="0-based offset one past its last character.")


class Citation(BaseModel):
    document_id: str
    document_title: str
    label: str = Field(description='What a person writes in a citation: "para. 7", "footnote 6".')
    paragraph: str | None = Field(description='The document\'s own number for the unit ("7", "33(1)"), if any.')
    kind: str = Field(description="paragraph, footnote, article, list-item, heading or text.")
    section: str | None = Field(description='Section path, "Introduction > Background".')
    page: int | None = Field(description="1-based page where the passage starts (the PDF viewer's page number).")
    page_label: str | None = Field(None, description='The page number printed on that page ("30"), when it has one.')
    url: str = Field(description="Opens the document view at the passage.")


class Explain(BaseModel):
    dense_score: float = Field(description="Cosine similarity of the passage's best window to the question.")
    lexical_score: float = Field(description="BM25 score (0 when no word matched).")
    dense_rank: int | None
    lexical_rank: int | None
    document_named: bool = Field(
        False,
        description="The question names this passage's document (title, short title or alias), so it was preferred.",
    )
    definition: bool = Field(
        False,
        description="The question asks what a term means and this passage states a definition, so it was preferred.",
    )
    cross_score: float | None = Field(
        None,
        description="The reranker's score of the question read with this passage (index/reranker.py); null where "
        "it did not re-score the passage.",
    )
    first_stage_rank: int | None = Field(
        None, description="The passage's rank before the reranker; null where the reranker did not run."
    )


class LeadIn(BaseModel):
    text: str = Field(description="The lead-in's words, verbatim: what the item continues.")
    label: str = Field(description='Its citation label ("Article 37", "regulation 16").')
    id: str = Field(description="Its passage id.")


class PassageOut(BaseModel):
    rank: int = Field(description="1-based rank.")
    score: float
    text: str = Field(description="The whole passage as a reader sees it (verbatim).")
    highlight: Highlight | None
    citation: Citation
    id: str = Field(description="Stable passage id: document id and anchor.")
    citation_text: str = Field(description="A full citation to copy: title, label and page.")
    explain: Explain
    lead_in: LeadIn | None = Field(
        None,
        description='For an item that continues a lead-in ("Article 37(a)" after "States Parties shall ensure '
        'that:"), that lead-in, verbatim from the same document; null otherwise.',
    )


class IndexInfo(BaseModel):
    generation: str
    passages: int


class SearchResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "query": "How does IOM define protection?",
                    "passages": [
                        {
                            "rank": 1,
                            "score": 0.71,
                            "text": "The IOM definition of protection is based on the 1999 definition ...",
                            "highlight": {"start": 0, "end": 140},
                            "citation": {
                                "document_id": "iom-approach-to-protection",
                                "document_title": "IOM's Approach to the Protection of Migrants and Displaced Persons",
                                "label": "para. 7",
                                "paragraph": "7",
                                "kind": "paragraph",
                                "section": "Protection and rights throughout the history of IOM",
                                "page": 2,
                                "url": "/documents/iom-approach-to-protection#para-7",
                            },
                        }
                    ],
                    "took_ms": 9.2,
                    "index": {"generation": "g20261128T090000000000-1a2b3c", "passages": 35},
                    "not_in_corpus": False,
                    "confidence": 0.93,
                    "doubts": [],
                    "reranked": False,
                }
            ]
        }
    )

    query: str
    passages: list[PassageOut]
    took_ms: float
    index: IndexInfo
    not_in_corpus: bool = Field(
        description="True when the top passage probably does not answer: nothing in the corpus seems to. "
        "The closest passages are still returned."
    )
    confidence: float = Field(
        ge=0.0, le=1.0, description="Calibrated probability that the top passage answers the question."
    )
    doubts: list[str] = Field(
        default_factory=list,
        description="What speaks against an answer in the corpus, in words: a unit it cites that the documents "
        "lack, an instrument it names that the corpus does not hold, particular words (places, years, bodies) that "
        "the first passage and its document never write. They lower the confidence.",
    )
    reranked: bool = Field(
        False,
        description="True when the reranker re-scored the first stage's best passages (their explain has "
        "cross_score); false where it did not run: off, not asked for, or a question for a cited unit alone.",
    )


class ErrorBody(BaseModel):
    code: str = Field(description="Machine-readable: invalid_query, not_found, index_not_found, not_ready...")
    message: str = Field(description="What is wrong and what to do.")


class ErrorResponse(BaseModel):
    error: ErrorBody


class SearchProcesses(BaseModel):
    configured: int = Field(description="Search processes the settings ask for (PQA_SEARCH_PROCESSES).")
    ready: int = Field(description="Those answering now.")
    threads: int = Field(description="Cores one question may use in each.")


class Readiness(BaseModel):
    """GET /readyz: the same fields whether ready (200) or not (503)."""

    status: str = Field(description="starting, loading, ready (200), no_index or failed.")
    generation: str | None = Field(description="The index generation served; null before one is loaded.")
    passages: int = Field(description="Its searchable passages (0 before one is loaded).")
    runtime: str | None = Field(description="The embedding runtime that runs; null while the model loads.")
    runtime_reason: str | None = Field(description="Why that runtime was chosen.")
    reranker: str | None = Field(description="The reranker, its runtime, top and weight; null where none runs.")
    reranker_reason: str | None = Field(description="Why none runs: off by the settings, or it failed to load.")
    rerank: str = Field(description="Which questions the reranker re-scores: on (all), ask (those that ask), off.")
    message: str | None = Field(
        description="Why the service is not ready (with no index: the command that builds one), or why it serves an "
        "older generation; null otherwise."
    )
    search_processes: SearchProcesses | None = Field(
        description="The search processes (service/pool.py); null where questions are answered in this process."
    )


def passage_url(passage: Passage) -> str:
    return f"/documents/{passage.document_id}#{passage.anchor}"


def citation_of(passage: Passage, document: DocumentInfo) -> Citation:
    return Citation(
        document_id=passage.document_id,
        document_title=document.title,
        label=passage.label,
        paragraph=passage.paragraph,
        kind=passage.kind,
        section=passage.section_path,
        page=passage.page,
        page_label=passage.page_label,
        url=passage_url(passage),
    )


def passage_out(hit: Hit) -> PassageOut:
    return PassageOut(
        rank=hit.rank,
        score=hit.score,
        text=hit.passage.text,
        highlight=Highlight(start=hit.highlight[0], end=hit.highlight[1]) if hit.highlight else None,
        citation=citation_of(hit.passage, hit.document),
        id=hit.passage.id,
        citation_text=citation_label(hit.passage, hit.document.title),
        explain=Explain(
            dense_score=hit.dense_score,
            lexical_score=hit.lexical_score,
            dense_rank=hit.dense_rank,
            lexical_rank=hit.lexical_rank,
            document_named=hit.named,
            definition=hit.definition,
            cross_score=hit.cross_score,
            first_stage_rank=hit.first_stage_rank,
        ),
        lead_in=LeadIn(text=hit.lead_in.text, label=hit.lead_in.label, id=hit.lead_in.id) if hit.lead_in else None,
    )
