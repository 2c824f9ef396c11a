"""The HTTP contract of /api/documents: a document as the service lists it, built from index/records.py's
DocumentInfo so that a field added there appears here without a second declaration."""

from __future__ import annotations

from dataclasses import MISSING, fields
from typing import Any, get_type_hints

from pydantic import BaseModel, Field, create_model

from index.records import DocumentInfo

from .schemas import IndexInfo

# DocumentInfo's fields that DocumentOut gives in the service's own form (declared on it below).
_SERVICE_FORM = frozenset({"sha256", "source", "set_aside"})


def _info_fields() -> dict[str, Any]:
    """DocumentInfo's fields (the one declaration of a document's metadata) as pydantic field definitions."""
    hints = get_type_hints(DocumentInfo)
    found: dict[str, Any] = {}
    for spec in fields(DocumentInfo):
        if spec.name in _SERVICE_FORM:
            continue
        if spec.default_factory is not MISSING:
            default: Any = Field(default_factory=spec.default_factory)
        else:
            default = ... if spec.default is MISSING else spec.default
        found[spec.name] = (hints[spec.name], default)
    return found


_DocumentInfoOut = create_model("DocumentInfoOut", **_info_fields())


class DocumentOut(_DocumentInfoOut):
    """A document as /api/documents lists it: every DocumentInfo field (index/records.py), its version, source and
    set-aside passages in the service's form, and what the index adds. Built from `asdict(info)` plus those."""

    version: str = Field(description="sha256 of the source (and its metadata file).")
    source: str = Field(description="The file's path relative to the corpus folder it was found in.")
    set_aside: dict[str, int] = Field(
        default_factory=dict,
        description="Passages kept for the document view but not searched, by kind (contents, front-matter, form, "
        "signature, table, fragment, lead-in) or by the reason the sidecar gives.",
        examples=[{"front-matter": 4, "signature": 3, "fragment": 5}],
    )
    passages: int
    indexed_at: str | None
    url: str


class DocumentsResponse(BaseModel):
    documents: list[DocumentOut]
    index: IndexInfo
