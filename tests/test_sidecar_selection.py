"""A sidecar keeps a bilingual treaty's English half and leaves out a section known to be wrong, and says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import IngestError
from ingest.library import discover, load

from .conftest import CORPUS

TREATY = """##Verdrag inzake iets

####Convention on Something

### Article  1

1.  Everyone has the right to leave any country, including his own, and to return to it freely.

2.  The right shall not be subject to any restrictions except those provided by law for public order.

### Artikel  1

1.  Een ieder heeft het recht elk land, met inbegrip van het zijne, te verlaten en ernaar terug te keren.

2.  Het recht kan aan geen andere beperkingen worden onderworpen dan die welke bij de wet zijn voorzien.

3.  Een persoon kan opnieuw worden voorgedragen.
"""

GUIDE = """# Guide

## Part 1

Migrants have the right to information about their rights in a language they understand.

## Part 2

This part was copied by mistake from another document and is not the real text of part two.

## Part 3

States cooperate to protect migrants in vulnerable situations along the whole migration route.
"""


def ingest_one(folder: Path, name: str, text: str, sidecar: str) -> tuple[list[str], dict[str, int]]:
    (folder / name).write_text(text, encoding="utf-8")
    (folder / name).with_suffix(".meta.toml").write_text(sidecar, encoding="utf-8")
    sources, failures = discover([folder / name])
    assert not failures
    document = load(sources[0])
    return [p.text for p in document.searchable()], document.set_aside()


def test_languages_keeps_the_english_half_and_counts_the_rest(tmp_path: Path) -> None:
    texts, set_aside = ingest_one(tmp_path, "treaty.md", TREATY, 'languages = ["en"]\n')
    assert any("right to leave any country" in t for t in texts)
    assert not any("Een ieder" in t or "beperkingen" in t for t in texts)
    # too short to tell its language alone: it is in the Dutch half, so it is Dutch
    assert not any("opnieuw" in t for t in texts)
    assert set_aside == {"language nl (the sidecar keeps en)": 3}


def test_exclude_drops_a_section_with_its_reason(tmp_path: Path) -> None:
    sidecar = 'exclude = [{ section = "Part 2", reason = "copied by mistake" }]\n'
    texts, set_aside = ingest_one(tmp_path, "guide.md", GUIDE, sidecar)
    assert len(texts) == 2 and not any("copied by mistake" in t for t in texts)
    assert set_aside == {"excluded section Part 2: copied by mistake": 1}


@pytest.mark.parametrize(
    ("sidecar", "message"),
    [
        ('exclude = [{ section = "Part 9", reason = "gone" }]\n', 'excludes section "Part 9", which the document'),
        ('exclude = [{ section = "Part 2" }]\n', "needs a section and a reason"),
        ("languages = 3\n", "must be a list of language codes"),
        ("aliases = [1, 2]\n", "must be a list of names"),
    ],
)
def test_a_wrong_sidecar_says_what_to_fix(tmp_path: Path, sidecar: str, message: str) -> None:
    with pytest.raises(IngestError, match=message):
        ingest_one(tmp_path, "guide.md", GUIDE, sidecar)


def test_the_default_library_sets_aside_the_gcm_copy_of_objective_2_and_the_dutch_halves() -> None:
    sources, failures = discover([CORPUS / "gcm-objectives.md", CORPUS / "crc.md"])
    assert not failures
    gcm, crc = (load(s) for s in sources)
    assert gcm.info.short_title == "GCM" and "Global Compact for Migration" in gcm.info.aliases
    labels = [p.label for p in gcm.searchable()]
    assert not any(label.startswith("Objective 20") for label in labels)
    assert any(label.startswith("Objective 19") for label in labels) and any(
        label.startswith("Objective 21") for label in labels
    )
    assert sum(n for reason, n in gcm.set_aside().items() if reason.startswith("excluded section Objective 20")) >= 10
    assert {p.language for p in crc.searchable()} == {"en"}
    assert sum(n for reason, n in crc.set_aside().items() if reason.startswith("language nl")) > 50
