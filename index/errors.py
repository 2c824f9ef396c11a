"""Domain errors of the index. Each message says what to do next; the service maps them to HTTP codes."""

from __future__ import annotations


class SearchIndexError(Exception):
    """Base class of the index's errors."""


class IndexNotFound(SearchIndexError):
    """No generation has been built in the index directory yet."""


class IndexCorrupt(SearchIndexError):
    """A generation on disk is missing a file or fails its own checks."""


class IndexIncompatible(SearchIndexError):
    """A generation was built with another schema or model than the one asked for."""


class IndexLocked(SearchIndexError):
    """Another writer holds the index lock."""


class ModelNotFound(SearchIndexError):
    """The embedding model cannot be loaded offline."""


class UnknownDocument(SearchIndexError):
    """A filter names a document that is not in the index."""


class BadQuery(SearchIndexError):
    """A question the index cannot answer as asked (empty, too long, unknown filter)."""


class RerankerOff(BadQuery):
    """A question asks for the reranker where none is loaded (the service runs with PQA_RERANK=off)."""
