"""What a sidecar keeps out of the index: passages in other languages, and sections it excludes with a reason.

`languages = ["en"]` keeps the passages in those languages (a bilingual treaty's English half), and sets aside
those in a language the detector cannot name (ingest/language.py, `unlike`);
`exclude = [{ section = "Objective 20", reason = "..." }]` drops every passage under that heading, for a
source file known to be wrong there. Both are reported as set aside, with their counts; the file
itself is never edited.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from index.records import Passage

from .errors import IngestError
from .inline import title_key
from .language import title_language, unlike


def _languages(metadata: dict[str, Any]) -> frozenset[str] | None:
    value = metadata.get("languages")
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise IngestError('its sidecar\'s "languages" must be a list of language codes, e.g. languages = ["en"]')
    return frozenset(v.strip().lower() for v in value)


def _exclusions(metadata: dict[str, Any]) -> list[tuple[str, str]]:
    value = metadata.get("exclude") or []
    rules = []
    for rule in value if isinstance(value, list) else [value]:
        if not isinstance(rule, dict) or not isinstance(rule.get("section"), str) or not rule.get("reason"):
            raise IngestError(
                'each "exclude" entry of its sidecar needs a section and a reason, '
                'e.g. exclude = [{ section = "Objective 20", reason = "a copy of Objective 2" }]'
            )
        rules.append((rule["section"].strip(), str(rule["reason"]).strip()))
    return rules


def _under(passage: Passage, section: str) -> bool:
    wanted = section.casefold()
    heads = [part.split(":", 1)[0].strip().casefold() for part in passage.section]
    full = [part.strip().casefold() for part in passage.section]
    return wanted in heads or wanted in full or (passage.kind == "heading" and passage.text.casefold() == wanted)


def select(passages: Sequence[Passage], metadata: dict[str, Any]) -> tuple[list[Passage], list[tuple[str, int]]]:
    """The passages the sidecar keeps, and (reason, count) for those it sets aside."""
    languages = _languages(metadata)
    exclusions = _exclusions(metadata)
    kept: list[Passage] = []
    dropped: dict[str, int] = {}
    pending: list[Passage] = []  # headings wait for the first text under them: they go where it goes
    for passage in passages:
        reason = next((f"excluded section {s}: {why}" for s, why in exclusions if _under(passage, s)), None)
        if reason is None and languages is not None:
            kept_languages = ", ".join(sorted(languages))
            if passage.language and passage.language not in languages:
                reason = f"language {passage.language} (the sidecar keeps {kept_languages})"
            elif not passage.language and passage.kind != "heading" and unlike(passage.text, languages):
                reason = f"another language (the sidecar keeps {kept_languages})"
        if passage.kind == "heading" and reason is None:
            pending.append(passage)
            continue
        if reason is None:
            kept.extend(pending)
            kept.append(passage)
        elif passage.kind != "heading":
            dropped[reason] = dropped.get(reason, 0) + 1
        pending = [] if reason is not None or passage.kind != "heading" else pending
    kept.extend(pending)
    for section, _ in exclusions:
        if not any(r.startswith(f"excluded section {section}:") for r in dropped):
            raise IngestError(
                f'its sidecar excludes section "{section}", which the document does not have; fix the sidecar'
            )
    return kept, sorted(dropped.items())


def languages_of(metadata: dict[str, Any]) -> list[str]:
    """The languages the sidecar keeps (`languages`), or none."""
    return sorted(_languages(metadata) or ())


def top_headings(passages: Sequence[Passage]) -> list[str]:
    """The headings above a document's first passage of text: those before it, and the path it is under."""
    lines: list[str] = []
    for passage in passages:
        if passage.kind != "heading":
            lines += passage.section
            break
        lines.append(passage.text)
    return lines


def is_title_line(line: str, names: Iterable[str]) -> bool:
    """Whether a heading is one of the document's names, or, for a name of 12 characters or more, begins with it
    ("... supplementing the United Nations Convention ..."): a short name ("Memo") must be the whole heading."""
    key = title_key(line)
    return any(key == name or (len(name) >= 12 and key.startswith(name)) for name in map(title_key, names) if name)


def strip_title_headings(passages: Sequence[Passage], title: str, languages: Sequence[str]) -> list[Passage]:
    """The passages with the document's own title lines taken off the front of their section paths.

    The treaties of the Dutch Treaty Series open with the Dutch title and then the English one, as headings
    above everything ("Verdrag inzake de rechten van het kind > Convention on the Rights of the Child >
    Preamble"): neither is a section. A heading at the top (before the first passage of text) is a title line
    when it is the document's title (`is_title_line`), or, where the sidecar keeps only some `languages`, is
    in another language. The heading passages stay where they are for the document view; only the paths of
    what follows change."""
    wanted = set(languages)
    top: set[str] = set()
    for line in top_headings(passages):
        language = title_language(line)
        if is_title_line(line, [title]) or (wanted and language is not None and language not in wanted):
            top.add(line.strip())
    if not top:
        return list(passages)
    out = []
    for passage in passages:
        section = passage.section
        while section and section[0].strip() in top:
            section = section[1:]
        out.append(passage if section == passage.section else replace(passage, section=section))
    return out
