"""A Word file's own metadata: its core properties where the package has them, never python-docx's defaults."""

from __future__ import annotations

import re
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import docx

from index.records import Document, citation_label
from ingest.library import discover, load


def load_path(path: Path) -> Document:
    sources, failures = discover([path])
    assert failures == [] and len(sources) == 1
    return load(sources[0])


def write_sop(path: Path) -> docx.document.Document:
    """A short procedure with a Title paragraph; saved by the caller once its properties are set."""
    word = docx.Document()
    word.add_paragraph("Shelter Intake Standard Operating Procedures", style="Title")
    word.add_heading("Part A. Reception", level=1)
    word.add_paragraph("The intake officer must record each arrival in the Zorblat registry within 48 hours.")
    word.add_paragraph("Personal files are locked in a cabinet that only the shelter coordinator can open.")
    return word


def without_core_properties(path: Path) -> Path:
    """The package at `path` rewritten without docProps/core.xml, its relationship and its content type."""
    with zipfile.ZipFile(path) as package:
        parts = {name: package.read(name) for name in package.namelist() if name != "docProps/core.xml"}
    parts["_rels/.rels"] = re.sub(rb"<Relationship [^>]*core-properties[^>]*/>", b"", parts["_rels/.rels"])
    parts["[Content_Types].xml"] = re.sub(
        rb'<Override PartName="/docProps/core.xml"[^>]*/>', b"", parts["[Content_Types].xml"]
    )
    stripped = path.with_name(f"no-core-{path.name}")
    with zipfile.ZipFile(stripped, "w") as package:
        for name, data in parts.items():
            package.writestr(name, data)
    return stripped


def test_a_package_without_core_properties_is_titled_by_its_title_paragraph(tmp_path: Path) -> None:
    saved = tmp_path / "shelter-sop.docx"
    write_sop(saved).save(str(saved))
    path = without_core_properties(saved)
    with zipfile.ZipFile(path) as package:
        assert "docProps/core.xml" not in package.namelist()
    document = load_path(path)
    title = "Shelter Intake Standard Operating Procedures"
    assert (document.info.title, document.info.publisher, document.info.year) == (title, None, None)
    assert document.info.extra == {}
    first = next(p for p in document.searchable() if "Zorblat" in p.text)
    assert citation_label(first, document.info.title).startswith(f"{title}, ")


def test_python_docx_template_defaults_are_not_the_documents_author_or_date(tmp_path: Path) -> None:
    path = tmp_path / "returns.docx"
    word = write_sop(path)
    assert (word.core_properties.author, word.core_properties.created.year) == ("python-docx", 2013)
    word.save(str(path))
    info = load_path(path).info
    assert (info.title, info.publisher, info.year, info.date) == (
        "Shelter Intake Standard Operating Procedures",
        None,
        None,
        None,
    )
    assert "author" not in info.extra


def test_a_word_files_author_is_its_author_not_its_publisher(tmp_path: Path) -> None:
    """A Word file's author is whoever saved it, often a person: kept as its author, never called a publisher."""
    path = tmp_path / "memo.docx"
    word = write_sop(path)
    word.core_properties.title = "Shelter Intake Memo"
    word.core_properties.author = "Jane Doe"
    word.core_properties.created = datetime(2024, 5, 2, 9, 30, tzinfo=UTC)
    word.save(str(path))
    info = load_path(path).info
    assert (info.title, info.publisher, info.date, info.year) == ("Shelter Intake Memo", None, "2024-05-02", 2024)
    assert info.extra["author"] == "Jane Doe"
