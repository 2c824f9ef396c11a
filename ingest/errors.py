"""Domain errors of ingestion. Messages say what is wrong with the file and what to do."""

from __future__ import annotations


class IngestError(Exception):
    """A file cannot be turned into a document; the batch reports it and goes on."""
