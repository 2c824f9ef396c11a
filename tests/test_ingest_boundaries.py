"""What ingestion never does: read outside the corpus through a sidecar, parse any format outside the sandbox's
limits, or let a file name or text that is not valid Unicode reach the index. Each is one line in the report."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from index.store import Store
from ingest.library import SIDECAR_SUFFIX, discover
from ingest.sandbox import Limits
from service.reindex import ingest

from .conftest import FakeEmbedder
from .ingest_support import paragraph_lines, write_pdf

PARAGRAPH = (
    "States shall not expel or return a refugee in any manner whatsoever to the frontiers of territories "
    "where his life or freedom would be threatened."
)
# A ToUnicode map that sends the byte of "A" to a lone surrogate, which pypdf passes through.
BROKEN_CMAP = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CMapName /Broken def
1 begincodespacerange
<00> <FF>
endcodespacerange
1 beginbfchar
<41> <D800>
endbfchar
endcmap
CMapName currentdict /CMap defineresource pop
end
end
"""


def corpus_with_good_file(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.md").write_text(f"# Good\n\n1. {PARAGRAPH}\n", encoding="utf-8")
    return corpus


def run(corpus: Path, tmp_path: Path, limits: Limits | None = None) -> tuple[list[str], dict[str, str]]:
    """Ingest `corpus`; the documents added and each failure's reason by file name."""
    report = ingest([corpus], Store(tmp_path / "index"), FakeEmbedder, limits=limits)
    return report.added, {Path(f.path).name: f.reason for f in report.failures}


def test_a_sidecar_linked_outside_the_corpus_is_refused_and_never_read(tmp_path: Path) -> None:
    corpus = corpus_with_good_file(tmp_path)
    outside = tmp_path / "outside.toml"
    outside.write_text('title = "Secret title from outside the corpus"\n', encoding="utf-8")
    (corpus / "side.md").write_text(f"# Side\n\n1. {PARAGRAPH}\n", encoding="utf-8")
    (corpus / f"side{SIDECAR_SUFFIX}").symlink_to(outside)
    sources, failures = discover([corpus])
    assert [s.path.name for s in sources] == ["good.md"]
    (refused,) = failures
    assert Path(refused.path).name == "side.md"
    assert refused.reason == (
        f"its metadata file side.meta.toml is a symbolic link to {outside}, outside {corpus.resolve()}; "
        "copy the file in instead"
    )
    added, reasons = run(corpus, tmp_path)
    assert added == ["good"] and set(reasons) == {"side.md"}
    written = b"".join(p.read_bytes() for p in (tmp_path / "index").rglob("*") if p.is_file())
    assert b"good" in written and b"Secret" not in written


def test_a_sidecar_linked_inside_the_corpus_is_read(tmp_path: Path) -> None:
    corpus = corpus_with_good_file(tmp_path)
    (corpus / "shared.toml").write_text('title = "A shared title"\n', encoding="utf-8")
    (corpus / f"good{SIDECAR_SUFFIX}").symlink_to(corpus / "shared.toml")
    sources, failures = discover([corpus])
    assert failures == [] and sources[0].metadata == {"title": "A shared title"}


def test_a_sidecar_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    corpus = corpus_with_good_file(tmp_path)
    (corpus / f"good{SIDECAR_SUFFIX}").write_text('title = "x"\n' + "# padding\n" * 120_000, encoding="utf-8")
    sources, failures = discover([corpus])
    assert sources == []
    assert [f.reason for f in failures] == [
        "its metadata file good.meta.toml is over the limit of 1024 KB for a metadata file; "
        "keep only the metadata keys (see the README)"
    ]


def test_a_file_name_that_is_not_utf8_is_one_line_in_the_report(tmp_path: Path) -> None:
    corpus = corpus_with_good_file(tmp_path)
    bad = os.path.join(os.fsencode(corpus), b"bad\xff.md")
    with open(bad, "wb") as handle:
        handle.write(f"# Bad name\n\n1. {PARAGRAPH}\n".encode())
    added, reasons = run(corpus, tmp_path)
    assert added == ["good"]
    assert reasons == {
        "bad\\xff.md": "its name is not valid UTF-8 (the bytes shown as \\xNN); rename it and ingest again"
    }


def test_document_text_that_is_not_valid_unicode_is_refused_before_the_index(tmp_path: Path) -> None:
    corpus = corpus_with_good_file(tmp_path)
    write_pdf(corpus / "broken.pdf", [paragraph_lines(f"A refugee: {PARAGRAPH}", 72, 760)], to_unicode=BROKEN_CMAP)
    write_pdf(corpus / "fine.pdf", [paragraph_lines(PARAGRAPH, 72, 760)])
    added, reasons = run(corpus, tmp_path)
    assert sorted(added) == ["fine", "good"]
    assert list(reasons) == ["broken.pdf"]
    assert reasons["broken.pdf"].startswith("its text is not valid Unicode (a lone surrogate \\ud800 at character")


def slow_markdown(path: Path) -> Path:
    path.write_text("".join(f"{n}. {PARAGRAPH}\n\n" for n in range(1, 60_001)), encoding="utf-8")
    return path


def slow_html(path: Path) -> Path:
    articles = "".join(f"<h2>Article {n}</h2><p>{PARAGRAPH}</p>" for n in range(1, 40_001))
    path.write_text(f"<html><body>{articles}</body></html>", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "make"), [("slow.md", slow_markdown), ("slow.txt", slow_markdown), ("slow.html", slow_html)]
)
def test_every_format_is_parsed_in_the_worker_under_the_time_limit(
    tmp_path: Path, name: str, make: Callable[[Path], Path]
) -> None:
    """Several seconds of parsing against a 1 s limit: stopped and named, whatever the format; the rest goes on."""
    corpus = corpus_with_good_file(tmp_path)
    make(corpus / name)
    added, reasons = run(corpus, tmp_path, Limits(seconds=1))
    assert added == ["good"]
    assert reasons == {
        name: "parsing took longer than the time limit of 1 s per file; "
        "split the file or raise the limit (pqa ingest --timeout)"
    }
