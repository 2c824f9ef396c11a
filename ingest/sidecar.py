"""A document's sidecar, `NAME.meta.toml`: where it may be, how much of it is read, and the types of its values.

A sidecar is refused (its document with it, one line in the report) when it is a symbolic link leading out of
the folder being ingested, over SIDECAR_MAX_BYTES, not a plain file, not valid TOML, or when a key has a value
of the wrong type (`year = "abc"`, `id = 5`): a value dropped or turned into something else without a word
would change the document's id, its citation or its filters behind the back of whoever wrote it.
"""

from __future__ import annotations

import datetime
import json
import os
import stat
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

from .errors import IngestError

SIDECAR_SUFFIX = ".meta.toml"
SIDECAR_MAX_BYTES = 1024 * 1024
# The keys whose value is text, and one example each (what the README's sidecar shows).
_TEXT = {
    "id": '"iom-approach-to-protection"',
    "title": '"The Global Compact for Migration"',
    "body": '"Standing Committee on Programmes and Finance"',
    "session": '"Thirty-fifth session"',
    "symbol": '"S/35/4"',
    "language": '"en"',
    "publisher": '"International Organization for Migration (IOM)"',
    "status": '"in force"',
    "source_url": '"https://..."',
    "url": '"https://..."',
    "short_title": '"GCM"',
    "note": '"Objectives 1-23 only"',
}
# Checked where they are used (ingest/selection.py, ingest/metadata.py), with their own messages.
_CHECKED_LATER = frozenset({"aliases", "languages", "exclude"})


def sidecar_for(path: Path, root: Path | None = None) -> Path | None:
    """The sidecar of `path`, if it has one; IngestError when it breaks the rules above.

    `root` is the folder being ingested (default: the file's own folder).
    """
    root = (root or path.parent).resolve()
    for candidate in (path.with_name(path.stem + SIDECAR_SUFFIX), path.with_name(path.name + SIDECAR_SUFFIX)):
        if candidate.is_symlink():
            target = candidate.resolve()
            if not target.is_relative_to(root):
                raise IngestError(
                    f"its metadata file {candidate.name} is a symbolic link to {target}, outside {root}; "
                    "copy the file in instead"
                )
        if candidate.exists():
            return candidate
    return None


def read_sidecar(path: Path, root: Path | None = None) -> tuple[dict[str, Any], bytes]:
    """The sidecar's metadata and its bytes (empty when there is none); IngestError naming any value of the wrong
    type."""
    sidecar = sidecar_for(path, root)
    if sidecar is None:
        return {}, b""
    data = _read_small(sidecar)
    try:
        metadata = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise IngestError(
            f"its metadata file {sidecar.name} is not valid TOML ({exc}); fix it and ingest again"
        ) from exc
    if wrong := [problem for key, value in metadata.items() if (problem := _wrong_type(key, value))]:
        raise IngestError(
            f"its metadata file {sidecar.name} gives {'; '.join(wrong)}; fix it and ingest again "
            "(the README's Adding documents shows every key)"
        )
    return metadata, data


def _wrong_type(key: str, value: Any) -> str | None:
    """What is wrong with `key = value`, with what is expected: None when its type is right."""
    shown = f"{key} = {_toml(value)}"
    if key in _CHECKED_LATER:
        return None
    if key in _TEXT:
        if not isinstance(value, str):
            return f"{shown}, which is not text: write it in quotes, e.g. {key} = {_TEXT[key]}"
        if key == "id" and not _spells_an_id(value):
            return f"{shown}, which gives no id: use letters or digits, e.g. {key} = {_TEXT[key]}"
        return None
    if key == "year":
        whole = isinstance(value, int) and not isinstance(value, bool)
        if not (whole or (isinstance(value, str) and value.strip().isdigit())):
            return f"{shown}, which is not a year: give a whole number, e.g. year = 2024"
        return None
    if key == "date":
        if not isinstance(value, str | datetime.date):
            return f'{shown}, which is not a date: e.g. date = "2024-10-01"'
        return None
    if isinstance(value, list | dict):  # any other key goes to the document's `extra`, which holds single values
        return f"{shown}, a {'list' if isinstance(value, list) else 'table'}: a key of your own takes one value "
        "(text, a number or a date)"
    return None


def _spells_an_id(value: str) -> bool:
    """Whether `value` has a letter or digit an id can be made of (ingest/inline.py's slug keeps ASCII ones)."""
    return any(c.isascii() and c.isalnum() for c in unicodedata.normalize("NFKD", value))


def _toml(value: Any, limit: int = 60) -> str:
    """`value` as TOML writes it, cut to `limit` characters ("abc" in quotes, true, [1, 2])."""
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list):
        text = f"[{', '.join(_toml(v, limit) for v in value)}]"
    elif isinstance(value, dict):
        text = "{ " + ", ".join(f"{k} = {_toml(v, limit)}" for k, v in value.items()) + " }"
    elif isinstance(value, datetime.date | datetime.time):
        text = value.isoformat()
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _read_small(sidecar: Path) -> bytes:
    """The bytes of a plain file of at most SIDECAR_MAX_BYTES, read through one descriptor (no swap in between)."""
    descriptor = os.open(sidecar.resolve(), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise IngestError(f"its metadata file {sidecar.name} is not a plain file; replace it with a TOML file")
        data = handle.read(SIDECAR_MAX_BYTES + 1)
    if len(data) > SIDECAR_MAX_BYTES:
        raise IngestError(
            f"its metadata file {sidecar.name} is over the limit of {SIDECAR_MAX_BYTES // 1024} KB for a "
            "metadata file; keep only the metadata keys (see the README)"
        )
    return data
