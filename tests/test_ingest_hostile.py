"""Bad input: each hostile file is one line in the report with its reason, the rest is ingested, nothing hangs.

The files are made here: PDFs with pypdf (which can write, compress and encrypt), text with bad bytes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, NumberObject, StreamObject

from index.records import Document
from index.store import Store
from ingest import library
from ingest.errors import IngestError
from ingest.library import Source, discover, load, load_all
from ingest.sandbox import Limits
from service.reindex import ingest

from .conftest import ROOT, FakeEmbedder, needs_shared_data
from .ingest_support import CONVENTION, paragraph_lines, write_pdf

TEXT = (
    "States shall not expel or return a refugee in any manner whatsoever to the frontiers of territories where "
    "his life or freedom would be threatened. This page was written by the test to be ordinary text."
)


def good_pdf(path: Path) -> Path:
    return write_pdf(path, [paragraph_lines(TEXT, 72, 760)])


def load_one(path: Path, limits: Limits | None = None) -> Document:
    sources, failures = discover([path])
    assert failures == [] and len(sources) == 1
    return load(sources[0], limits)


def reason(path: Path, limits: Limits | None = None) -> str:
    with pytest.raises(IngestError) as caught:
        load_one(path, limits)
    message = str(caught.value)
    assert "\n" not in message  # one line in the report
    return message


def bomb(path: Path, megabytes: int) -> Path:
    """A one-page PDF whose content stream is a few hundred KB compressed and `megabytes` MB inflated."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    stream = StreamObject()
    stream._data = zlib.compress(b"0 0 m 1 1 l S\n" * (megabytes * 1024 * 1024 // 14), 9)
    stream[NameObject("/Filter")] = NameObject("/FlateDecode")
    page[NameObject("/Contents")] = writer._add_object(stream)
    writer.write(str(path))
    return path


def image_only(path: Path) -> Path:
    """A scan-like PDF: each page paints one grey image and has no text."""
    writer = PdfWriter()
    for _ in range(2):
        page = writer.add_blank_page(width=595, height=842)
        image = StreamObject()
        image._data = zlib.compress(bytes(range(256)) * 48)
        image.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Image"),
                NameObject("/Width"): NumberObject(64),
                NameObject("/Height"): NumberObject(64),
                NameObject("/ColorSpace"): NameObject("/DeviceRGB"),
                NameObject("/BitsPerComponent"): NumberObject(8),
                NameObject("/Filter"): NameObject("/FlateDecode"),
            }
        )
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(image)})}
        )
        content = DecodedStreamObject()
        content.set_data(b"q 595 0 0 842 0 0 cm /Im0 Do Q")
        page[NameObject("/Contents")] = writer._add_object(content)
    writer.write(str(path))
    return path


def encrypted(path: Path, user_password: str) -> Path:
    writer = PdfWriter(clone_from=good_pdf(path.with_name("plain-" + path.name)))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
    writer.write(str(path))
    path.with_name("plain-" + path.name).unlink()
    return path


def many_pages(path: Path, count: int) -> Path:
    writer = PdfWriter()
    for _ in range(count):
        writer.add_blank_page(width=595, height=842)
    writer.write(str(path))
    return path


def test_zero_byte_file(tmp_path: Path) -> None:
    (tmp_path / "empty.pdf").write_bytes(b"")
    assert reason(tmp_path / "empty.pdf") == "the file is empty"


def test_truncated_pdf(tmp_path: Path) -> None:
    data = good_pdf(tmp_path / "whole.pdf").read_bytes()
    (tmp_path / "cut.pdf").write_bytes(data[: len(data) // 2])
    assert "not a readable PDF" in reason(tmp_path / "cut.pdf")
    assert "check that the file is complete" in reason(tmp_path / "cut.pdf")


def test_corrupt_pdf(tmp_path: Path) -> None:
    (tmp_path / "noise.pdf").write_bytes(b"%PDF-1.7\n" + bytes((i * 7919) % 251 for i in range(20000)))
    message = reason(tmp_path / "noise.pdf")
    assert message.startswith(("not a readable PDF", "pypdf cannot read it", "no text layer"))


def test_encrypted_with_an_empty_user_password_is_opened_and_ingested(tmp_path: Path) -> None:
    path = encrypted(tmp_path / "owner-only.pdf", user_password="")
    assert PdfReader(path).is_encrypted
    document = load_one(path)
    assert any("expel or return a refugee" in p.text for p in document.passages)


def test_encrypted_with_a_password_is_reported_with_what_to_do(tmp_path: Path) -> None:
    message = reason(encrypted(tmp_path / "locked.pdf", user_password="s3cret"))
    assert message.startswith("it is encrypted with a password; decrypt it")


def test_pages_that_are_only_images_have_no_text_layer(tmp_path: Path) -> None:
    assert reason(image_only(tmp_path / "scan.pdf")).startswith(
        "no text layer (a scan or images only); OCR is not supported"
    )


def test_decompression_bomb_stops_at_pypdfs_limit(tmp_path: Path) -> None:
    message = reason(bomb(tmp_path / "bomb.pdf", 100))
    assert "expands past pypdf's safety limit (a decompression bomb?)" in message


def test_memory_limit_is_enforced_and_named(tmp_path: Path) -> None:
    limits = Limits(memory_mb=150)
    assert load_one(good_pdf(tmp_path / "small.pdf"), limits).passages  # the limit leaves room for real work
    message = reason(bomb(tmp_path / "big.pdf", 60), limits)
    assert message.startswith("parsing needed more than the memory limit of 150 MB per file")


def test_two_thousand_pages_is_over_the_page_limit(tmp_path: Path) -> None:
    message = reason(many_pages(tmp_path / "long.pdf", 2000))
    assert message == (
        "it has 2,000 pages, more than the limit of 1,000 pages per file; "
        "split it or raise the limit (pqa ingest --max-pages)"
    )


@needs_shared_data
def test_a_parse_over_the_time_limit_is_stopped_and_named() -> None:
    sources, _ = discover([CONVENTION])
    with pytest.raises(IngestError, match=r"^parsing took longer than the time limit of 1 s per file"):
        load(sources[0], Limits(seconds=1))


def test_file_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.txt"
    path.write_bytes(b"word " * (1024 * 1024 // 5 + 10))
    assert reason(path, Limits(max_mb=1)).startswith("it is 1 MB, over the size limit of 1 MB per file")


def test_wrong_extensions_say_what_the_file_is(tmp_path: Path) -> None:
    pdf_as_text = tmp_path / "report.txt"
    pdf_as_text.write_bytes(good_pdf(tmp_path / "x.pdf").read_bytes())
    assert reason(pdf_as_text) == "it is a PDF named .txt; rename it to .pdf and ingest again"
    html_as_pdf = tmp_path / "page.pdf"
    html_as_pdf.write_text("<html><body>Not a PDF</body></html>")
    assert reason(html_as_pdf).startswith("not a PDF (it starts with b'<html><body>'")


def test_non_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Réfugiés et apatrides".encode("latin-1"))
    assert reason(path) == "not UTF-8 text (byte 1 is 0xe9); save it as UTF-8 and ingest again"


def test_a_symlink_out_of_the_corpus_is_refused(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    outside = tmp_path / "secret.md"
    outside.write_text("# Secret\n\nNot part of the corpus.\n")
    (corpus / "inside.md").write_text("# Inside\n\nA document of the corpus.\n")
    (corpus / "link.md").symlink_to(outside)
    sources, failures = discover([corpus])
    assert [s.path.name for s in sources] == ["inside.md"]
    assert [(Path(f.path).name, f.reason) for f in failures] == [
        ("link.md", f"a symbolic link to {outside}, outside {corpus}; copy the file in instead")
    ]


def hostile_folder(folder: Path) -> dict[str, Callable[[str], bool]]:
    """A folder of good and bad files; returns, for each bad file name, a check of its reason."""
    folder.mkdir()
    good_pdf(folder / "good.pdf")
    (folder / "good.md").write_text("# Note\n\n1. A numbered paragraph about protection.\n")
    (folder / "empty.pdf").write_bytes(b"")
    data = good_pdf(folder / "whole.tmp").read_bytes()
    (folder / "whole.tmp").unlink()
    (folder / "cut.pdf").write_bytes(data[: len(data) // 2])
    encrypted(folder / "locked.pdf", user_password="s3cret")
    image_only(folder / "scan.pdf")
    bomb(folder / "bomb.pdf", 100)
    many_pages(folder / "long.pdf", 2000)
    (folder / "latin1.txt").write_bytes("Réfugiés".encode("latin-1"))
    (folder / "page.pdf").write_text("<html>not a pdf</html>")
    (folder / "escape.md").symlink_to(ROOT / "README.md")
    return {
        "empty.pdf": lambda r: r == "the file is empty",
        "cut.pdf": lambda r: r.startswith("not a readable PDF"),
        "locked.pdf": lambda r: r.startswith("it is encrypted with a password"),
        "scan.pdf": lambda r: r.startswith("no text layer"),
        "bomb.pdf": lambda r: "decompression bomb" in r,
        "long.pdf": lambda r: "more than the limit of 1,000 pages" in r,
        "latin1.txt": lambda r: r.startswith("not UTF-8 text"),
        "page.pdf": lambda r: r.startswith("not a PDF"),
        "escape.md": lambda r: r.startswith("a symbolic link to"),
    }


def test_a_batch_reports_each_bad_file_once_and_ingests_the_rest(tmp_path: Path) -> None:
    checks = hostile_folder(tmp_path / "batch")
    stages: list[tuple[str, int, int]] = []
    report = ingest([tmp_path / "batch"], Store(tmp_path / "index"), FakeEmbedder, progress=lambda *a: stages.append(a))
    assert len(report.added) == 2 and "good" in report.added
    reasons = {Path(f.path).name: f.reason for f in report.failures}
    assert sorted(reasons) == sorted(checks)
    for name, check in checks.items():
        assert check(reasons[name]), (name, reasons[name])
    assert ("documents", 0, 10) in stages and ("documents", 10, 10) in stages
    assert ("good.pdf", 1, 1) in stages  # a PDF's pages


def test_load_all_goes_on_after_a_failure(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"")
    good_pdf(tmp_path / "b.pdf")
    sources, _ = discover([tmp_path])
    documents, failures = load_all(sources)
    assert [d.id for d in documents] == ["b"] and [Path(f.path).name for f in failures] == ["a.pdf"]


def mixed_folder(folder: Path) -> list[Source]:
    """Good and broken files of several formats (the quick ones of hostile_folder), discovered."""
    folder.mkdir()
    data = good_pdf(folder / "paper.pdf").read_bytes()
    (folder / "note.md").write_text("# Note\n\n1. A numbered paragraph about protection.\n")
    (folder / "second.md").write_text("# Other\n\n1. Another numbered paragraph, on asylum.\n")
    (folder / "empty.pdf").write_bytes(b"")
    (folder / "cut.pdf").write_bytes(data[: len(data) // 2])
    image_only(folder / "scan.pdf")
    (folder / "latin1.txt").write_bytes("Réfugiés".encode("latin-1"))
    sources, failures = discover([folder])
    assert failures == [] and len(sources) == 7
    return sources


def test_parsing_in_parallel_gives_what_parsing_one_at_a_time_gives_in_the_same_order(tmp_path: Path) -> None:
    sources = mixed_folder(tmp_path / "mixed")
    stages: list[tuple[str, int, int]] = []
    one_at_a_time = load_all(sources, workers=1)
    in_parallel = load_all(sources, lambda *a: stages.append(a), workers=4)
    assert in_parallel == one_at_a_time
    documents, failures = in_parallel
    good = {"paper.pdf", "note.md", "second.md"}
    assert [d.id for d in documents] == [s.document_id for s in sources if s.path.name in good]
    assert sorted(Path(f.path).name for f in failures) == ["cut.pdf", "empty.pdf", "latin1.txt", "scan.pdf"]
    counted = [done for stage, done, _ in stages if stage == "documents"]
    assert counted == list(range(len(sources) + 1))  # one step per file, in order, whatever finished first


def test_files_are_parsed_at_once_up_to_the_workers_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(4):
        (tmp_path / f"note{i}.md").write_text(f"# Note {i}\n\n1. Paragraph {i} about protection.\n")
    sources, _ = discover([tmp_path])
    real_load = library.load
    running, most = 0, 0
    lock = threading.Lock()

    def slow(source: Source, limits: Limits | None = None, progress: object = None) -> Document:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.3)
        with lock:
            running -= 1
        return real_load(source, limits)

    monkeypatch.setattr(library, "load", slow)
    for workers, expected in ((1, 1), (2, 2), (8, 4)):
        most = 0
        documents, failures = library.load_all(sources, workers=workers)
        assert most == expected, (workers, most)
        assert failures == [] and [d.id for d in documents] == [s.document_id for s in sources]
    assert library.parse_workers() >= 1


@pytest.mark.slow
def test_pqa_ingest_exits_1_prints_one_line_per_failure_and_shows_progress(tmp_path: Path) -> None:
    checks = hostile_folder(tmp_path / "batch")
    result = subprocess.run(
        [sys.executable, "-m", "service.cli", "ingest", str(tmp_path / "batch"), "--index", str(tmp_path / "index")],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED ")]
    assert len(failed) == len(checks)
    assert "documents: 2 (2 added" in result.stdout
    assert "documents: 0/" in result.stderr and "documents: 10/10" in result.stderr
