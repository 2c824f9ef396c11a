"""Metadata from the file when there is no sidecar: titles, languages and ids, on made-up files and real ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.records import Document
from ingest.library import discover, load

from .conftest import SHARED_DATA, needs_shared_data
from .ingest_support import CHARTER, KAMPALA, KENYA, real

TREATIES = SHARED_DATA / "un-treaties-statengeneraal" / "verdrag"


def load_path(path: Path) -> Document:
    sources, failures = discover([path])
    assert failures == [] and len(sources) == 1
    return load(sources[0])


def test_a_bilingual_file_takes_the_title_in_the_language_its_text_starts_in(tmp_path: Path) -> None:
    path = tmp_path / "treaty.md"
    path.write_text(
        "##Verdrag inzake de rechten van het testen\n\n####Convention on the Right to be Tested\n\n"
        "### Article 1\n\nEveryone has the right to be tested in a fair and public way by the State.\n\n"
        "### Article 2\n\nThe State shall publish the results of every test within a month of the test.\n\n"
        "### Artikel 1\n\nEen ieder heeft het recht op een eerlijke en openbare test door de Staat.\n\n"
        "### Artikel 2\n\nDe Staat maakt de uitslag van elke test binnen een maand na de test bekend.\n",
        encoding="utf-8",
    )
    info = load_path(path).info
    assert (info.title, info.language, info.extra["languages"]) == (
        "Convention on the Right to be Tested",
        "en",
        "en, nl",
    )


TITLED = [
    (  # a unit's heading is not a title: the file's name is the last resort
        "compact_objectives.md",
        "# Objective 1\n## Title: Collect data\n## Associated actions\n- a. Collect and use data on migration.\n"
        "# Objective 2\n## Title: Minimize drivers\n## Associated actions\n- a. Invest in programmes for people.\n",
        "Compact objectives",
    ),
    (  # a law is titled by the name it gives itself
        "rules.md",
        "# Legal Notice No. 7\n\n### Article 1\n\nThese Rules may be cited as the Testing (General) Rules, 2025.\n\n"
        "### Article 2\n\nEvery tester shall keep a register of the tests carried out under these Rules.\n",
        "The Testing (General) Rules, 2025",
    ),
    (  # a title in capitals comes out in title case, its acronyms kept
        "charter.html",
        "<html lang='en'><body><h1>CHARTER OF THE RIGHTS OF IOM STAFF</h1><h2>Article 1</h2>"
        "<p>The rights of the staff of IOM are protected by this charter in every office.</p>"
        "<h2>Article 2</h2><p>Every member of the staff has the right to a fair hearing.</p></body></html>",
        "Charter of the Rights of IOM Staff",
    ),
]


@pytest.mark.parametrize(("name", "text", "title"), TITLED, ids=[t[0] for t in TITLED])
def test_titles_from_the_file(tmp_path: Path, name: str, text: str, title: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert load_path(path).info.title == title


@pytest.mark.parametrize("name", ["eng.html", "fr.html", "en-gb.html"])
def test_a_file_named_by_a_language_code_takes_its_id_from_its_title(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text(
        "<html><head><title>English</title></head><body><h1>Declaration on Testing</h1>"
        "<p>Everyone has the right to a fair test.</p></body></html>",
        encoding="utf-8",
    )
    (source,), _ = discover([tmp_path / name])
    assert source.document_id == "declaration-on-testing"


def test_url_escapes_in_a_file_name_are_undone(tmp_path: Path) -> None:
    (tmp_path / "Final%20Evaluation%20Report.md").write_text("# Findings\n\nThe project met its aims.\n")
    (source,), _ = discover([tmp_path])
    assert source.document_id == "final-evaluation-report"


@needs_shared_data
@pytest.mark.slow
def test_the_real_documents_titles_without_sidecars() -> None:
    assert real(KENYA).info.title == "The Refugees (General) Regulations, 2024"
    assert real(CHARTER).info.title == "Charter of Fundamental Rights of the European Union"
    assert real(KAMPALA).info.title == "Kampala Convention"
    gcm = load_path(SHARED_DATA / "gcm-objectives-iomeval" / "gcms_long.md")
    assert gcm.info.title == "Gcms long"  # the file names no title; "Objective 1" is a unit
    udhr = load_path(SHARED_DATA / "udhr" / "eng.html")
    assert (udhr.info.id, udhr.info.title) == (
        "universal-declaration-of-human-rights",
        "Universal Declaration of Human Rights",
    )
    crc = load_path(
        TREATIES / "convention" / "on" / "the" / "rights" / "of" / "the" / "child" / "BWBV0002508" / "README.md"
    )
    assert (crc.info.title, crc.info.language) == ("Convention on the Rights of the Child", "en")
    trafficking = next((TREATIES / "protocol" / "to").rglob("README.md"))
    assert load_path(trafficking).info.title.startswith("Protocol to Prevent, Suppress and Punish")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('year = "abc"', 'year = "abc", which is not a year: give a whole number, e.g. year = 2024'),
        ("id = 5", 'id = 5, which is not text: write it in quotes, e.g. id = "iom-approach-to-protection"'),
        ('id = "!!"', 'id = "!!", which gives no id: use letters or digits'),
        ('id = ""', 'id = "", which gives no id: use letters or digits'),
        ("symbol = 35", "symbol = 35, which is not text: write it in quotes"),
        ("date = 2024", 'date = 2024, which is not a date: e.g. date = "2024-10-01"'),
        ('topics = ["asylum", "detention"]', 'topics = ["asylum", "detention"], a list: a key of your own takes one'),
    ],
)
def test_a_sidecar_value_of_the_wrong_type_fails_its_document_naming_key_and_value(
    tmp_path: Path, line: str, problem: str
) -> None:
    (tmp_path / "memo.md").write_text("# Memo\n\n1. The hotline answers within two days.\n", encoding="utf-8")
    (tmp_path / "memo.meta.toml").write_text(f'title = "The memo"\n{line}\n', encoding="utf-8")
    sources, failures = discover([tmp_path])
    assert sources == []
    (failure,) = failures
    assert failure.path == str(tmp_path / "memo.md")
    assert failure.reason.startswith(f"its metadata file memo.meta.toml gives {problem}")
    assert failure.reason.endswith("; fix it and ingest again (the README's Adding documents shows every key)")


def test_sidecar_values_of_the_right_type_are_all_kept(tmp_path: Path) -> None:
    (tmp_path / "memo.md").write_text("# Memo\n\n1. The hotline answers within two days.\n", encoding="utf-8")
    (tmp_path / "memo.meta.toml").write_text(
        'id = "memo-2024"\nyear = "2024"\ndate = 2024-10-01\nadopted = 2024-09-30\nreviewed = true\nrevision = 3\n',
        encoding="utf-8",
    )
    document = load_path(tmp_path / "memo.md")
    assert document.info.id == "memo-2024" and document.info.year == 2024 and document.info.date == "2024-10-01"
    assert document.info.extra == {"adopted": "2024-09-30", "reviewed": "True", "revision": "3"}
