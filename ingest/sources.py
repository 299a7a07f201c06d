"""Find what to ingest: files (folders recursively) and JSONL records of ``{id, title, text, metadata}``.

Document ids are stable: a record's ``id``; a file's path relative to the folder given (or its name
when a file is given directly); or what the caller passes with ``--doc-id`` / ``doc_id``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core.errors import InvalidInputError
from core.metadata import Metadata, check_metadata
from ingest.document import Source

_DOC_ID_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,512}$")


def check_doc_id(doc_id: str) -> str:
    if not _DOC_ID_RE.fullmatch(doc_id) or doc_id.strip() != doc_id:
        raise InvalidInputError(
            f"doc_id must be 1-512 printable characters without surrounding spaces, got {doc_id!r}"
        )
    return doc_id


@dataclass(frozen=True)
class BadSource:
    """An item that failed before it could become a source (unreadable file, bad JSONL line)."""

    name: str
    error: str


def discover(paths: list[Path], *, doc_id: str | None = None) -> Iterator[Source | BadSource]:
    files = [(p, p.parent) for p in paths if not p.is_dir()]
    for folder in (p for p in paths if p.is_dir()):
        files += [(f, folder) for f in sorted(folder.rglob("*")) if f.is_file() and not _hidden(f, folder)]
    if doc_id is not None and len(files) != 1:
        raise InvalidInputError(f"--doc-id names one document, but {len(files)} files were given")
    for path, root in files:
        if not path.exists():
            yield BadSource(str(path), "no such file")
        elif path.suffix.lower() == ".jsonl":
            try:
                data = path.read_bytes()
            except OSError as exc:
                yield BadSource(str(path), f"cannot read file ({exc.strerror})")
                continue
            yield from read_jsonl(data, str(path))
        else:
            yield _file_source(path, root, doc_id)


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _file_source(path: Path, root: Path, doc_id: str | None) -> Source | BadSource:
    try:
        data = path.read_bytes()
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError as exc:
        return BadSource(str(path), f"cannot read file ({exc.strerror})")
    try:
        checked_id = check_doc_id(doc_id or path.relative_to(root).as_posix())
    except InvalidInputError as exc:
        return BadSource(str(path), exc.detail)
    return Source(
        name=str(path),
        doc_id=checked_id,
        title=path.stem,
        source_uri=path.resolve().as_uri(),
        data=data,
        filename=path.name,
        source_updated_at=modified,
    )


def upload_source(filename: str, data: bytes, doc_id: str | None = None) -> Source:
    name = Path(filename).name or "upload"
    return Source(
        name=name,
        doc_id=check_doc_id(doc_id or name),
        title=Path(name).stem,
        source_uri=f"upload:{name}",
        data=data,
        filename=name,
    )


def read_jsonl(data: bytes, origin: str) -> Iterator[Source | BadSource]:
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        name = f"{origin}#{number}"
        try:
            yield record_source(json.loads(line), origin=origin, name=name)
        except json.JSONDecodeError as exc:
            yield BadSource(name, f"invalid JSON at column {exc.colno}")
        except InvalidInputError as exc:
            yield BadSource(name, exc.detail)


def record_source(record: Any, *, origin: str, name: str) -> Source:
    if not isinstance(record, dict):
        raise InvalidInputError("a record must be a JSON object with id, title, text, metadata")
    raw_id = record.get("id", record.get("_id"))
    if raw_id is None or str(raw_id) == "":
        raise InvalidInputError("record has no id")
    text = record.get("text")
    if not isinstance(text, str):
        raise InvalidInputError("record text must be a string")
    metadata = record.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InvalidInputError("record metadata must be an object")
    return Source(
        name=name,
        doc_id=check_doc_id(str(raw_id)),
        title=str(record.get("title") or ""),
        source_uri=str(metadata.get("source_uri") or metadata.get("url") or f"{origin}#{raw_id}"),
        text=text,
        source_updated_at=_parse_time(metadata.get("updated_at")),
        metadata=check_metadata(metadata),
    )


def with_metadata(items: list[Source | BadSource], metadata: Metadata) -> list[Source | BadSource]:
    """Give every source the job's metadata; a record's own values win where both name a key."""
    if not metadata:
        return items
    tagged: list[Source | BadSource] = []
    for item in items:
        if isinstance(item, BadSource):
            tagged.append(item)
            continue
        try:
            tagged.append(replace(item, metadata=check_metadata({**metadata, **item.metadata})))
        except InvalidInputError as exc:
            tagged.append(BadSource(item.name, exc.detail))
    return tagged


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"metadata.updated_at must be ISO 8601, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
